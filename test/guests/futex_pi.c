/* The priority-inheritance futex locks (FUTEX_LOCK_PI, FUTEX_LOCK_PI2,
 * FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI) between processes, on a word of
 * shared memory, with the exact results and word values Linux gives: the
 * word holds the owner's tid; the owner locking again is EDEADLK; another
 * process's trylock is EAGAIN (and sets FUTEX_WAITERS); a lock that waits sets FUTEX_WAITERS and
 * is handed the lock by the owner's unlock (the word then holds the new
 * owner with FUTEX_WAITERS); a timeout already past is ETIMEDOUT; an
 * unlock by a non-owner is EPERM; FUTEX_OWNER_DIED with no owner is taken
 * over and kept; an owner that no process is is ESRCH. The side that
 * unlocks for a waiter first waits until the waiter sleeps. Prints
 * "ok NAME" per check, then "all ok". */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

/* linux/futex.h's values (musl's headers have no linux/). */
enum {
	FUTEX_LOCK_PI = 6, FUTEX_UNLOCK_PI = 7, FUTEX_TRYLOCK_PI = 8, FUTEX_LOCK_PI2 = 13,
	FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256,
};
#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u

static long fx(volatile uint32_t *addr, int op, const struct timespec *ts)
{
	return S6(SYS_futex, addr, op, 0, ts, 0, 0);
}

int main(void)
{
	volatile uint32_t *shared = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(shared != MAP_FAILED, "mmap");
	volatile uint32_t *lock = shared;
	uint32_t me = (uint32_t)S0(SYS_gettid);

	current = "trylock and lock by the owner";
	expect_eq(fx(lock, FUTEX_TRYLOCK_PI, 0), 0, "TRYLOCK_PI of a free word");
	expect_eq(*lock, me, "the word after TRYLOCK_PI");
	expect_err(fx(lock, FUTEX_LOCK_PI, 0), EDEADLK, "LOCK_PI by the owner");
	expect_err(fx(lock, FUTEX_TRYLOCK_PI, 0), EDEADLK, "TRYLOCK_PI by the owner");
	expect_eq(fx(lock, FUTEX_UNLOCK_PI, 0), 0, "UNLOCK_PI without waiters");
	expect_eq(*lock, 0, "the word after UNLOCK_PI");
	expect_err(fx(lock, FUTEX_UNLOCK_PI, 0), EPERM, "UNLOCK_PI of a free word");
	expect_eq(fx(lock, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0), 0, "LOCK_PI, private");
	expect_eq(*lock, me, "the word after LOCK_PI");
	ok();

	current = "another process";
	pid_t pid = fork_ok();
	if (pid == 0) {
		uint32_t child = (uint32_t)S0(SYS_gettid);
		/* A trylock that fails sets FUTEX_WAITERS all the same. */
		if (fx(lock, FUTEX_TRYLOCK_PI, 0) != -EAGAIN) child_exit(10);
		if (*lock != (me | FUTEX_WAITERS)) child_exit(18);
		if (fx(lock, FUTEX_UNLOCK_PI, 0) != -EPERM) child_exit(11);
		struct timespec past;
		clock_gettime(CLOCK_REALTIME, &past);
		past.tv_sec -= 1;
		if (fx(lock, FUTEX_LOCK_PI, &past) != -ETIMEDOUT) child_exit(12);
		if (*lock != (me | FUTEX_WAITERS)) child_exit(13);
		/* Now wait for the parent's unlock, which hands the lock over. */
		if (fx(lock, FUTEX_LOCK_PI, 0) != 0) child_exit(14);
		if (*lock != (child | FUTEX_WAITERS)) child_exit(15);
		if (fx(lock, FUTEX_UNLOCK_PI, 0) != 0) child_exit(16);
		if (*lock != 0) child_exit(17);
		child_exit(0);
	}
	wait_sleeping(pid);
	expect_eq(*lock, me | FUTEX_WAITERS, "the word while the child waits");
	expect_eq(fx(lock, FUTEX_UNLOCK_PI, 0), 0, "UNLOCK_PI with a waiter");
	expect_exited(pid, 0, "the child that took the lock");
	expect_eq(*lock, 0, "the word after the child's unlock");
	ok();

	current = "owner died and no owner";
	*lock = FUTEX_OWNER_DIED;
	expect_eq(fx(lock, FUTEX_LOCK_PI, 0), 0, "LOCK_PI of a word whose owner died");
	expect_eq(*lock, me | FUTEX_OWNER_DIED, "the word keeps FUTEX_OWNER_DIED");
	expect_eq(fx(lock, FUTEX_UNLOCK_PI, 0), 0, "UNLOCK_PI");
	expect_eq(*lock, 0, "the word after UNLOCK_PI");
	*lock = 0x3ffffff0;
	expect_err(fx(lock, FUTEX_TRYLOCK_PI, 0), ESRCH, "TRYLOCK_PI of a word owned by no process");
	expect_eq(*lock, 0x3ffffff0 | FUTEX_WAITERS, "the word after ESRCH");
	*lock = 0x3ffffff0;
	expect_err(fx(lock, FUTEX_LOCK_PI, 0), ESRCH, "LOCK_PI of a word owned by no process");
	expect_eq(*lock, 0x3ffffff0 | FUTEX_WAITERS, "the word after ESRCH");
	ok();

	current = "errors and clocks";
	*lock = 0;
	expect_err(fx((volatile uint32_t *)((char *)lock + 1), FUTEX_LOCK_PI, 0), EINVAL, "a misaligned word");
	expect_err(fx(lock, FUTEX_LOCK_PI | FUTEX_CLOCK_REALTIME, 0), ENOSYS, "LOCK_PI with FUTEX_CLOCK_REALTIME");
	expect_eq(fx(lock, FUTEX_LOCK_PI2 | FUTEX_CLOCK_REALTIME, 0), 0, "LOCK_PI2 with FUTEX_CLOCK_REALTIME");
	expect_eq(fx(lock, FUTEX_UNLOCK_PI, 0), 0, "UNLOCK_PI");
	expect_err(fx((volatile uint32_t *)8, FUTEX_LOCK_PI, 0), EFAULT, "an unmapped word");
	ok();

	out("all ok\n");
	return 0;
}
