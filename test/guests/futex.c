/* futex(2) between processes, with exact results: a word of shared memory
 * (MAP_SHARED) is the same futex in every process that maps it, a private
 * futex (FUTEX_PRIVATE_FLAG) belongs to its own address space only; WAIT
 * (EAGAIN on a changed value, ETIMEDOUT, EINTR from a signal without
 * SA_RESTART), WAKE, the BITSET forms, CMP_REQUEUE and WAKE_OP; EINVAL for
 * a bitset of 0 and a misaligned word, EFAULT for an unmapped shared one.
 * A side that wakes another first waits until it has someone to wake (it
 * retries the wake until it returns 1), so no step depends on timing.
 * Prints "ok NAME" per check, then "all ok". */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

/* linux/futex.h's values (musl's headers have no linux/). */
enum {
	FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5,
	FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10, FUTEX_PRIVATE_FLAG = 128,
	FUTEX_WAIT_PRIVATE = FUTEX_WAIT | FUTEX_PRIVATE_FLAG, FUTEX_WAKE_PRIVATE = FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
	FUTEX_OP_SET = 0, FUTEX_OP_ADD = 1, FUTEX_OP_OR = 2, FUTEX_OP_OPARG_SHIFT = 8,
	FUTEX_OP_CMP_EQ = 0, FUTEX_OP_CMP_GT = 4,
};
#define FUTEX_OP(op, oparg, cmp, cmparg) \
	(((op & 0xf) << 28) | ((cmp & 0xf) << 24) | ((oparg & 0xfff) << 12) | (cmparg & 0xfff))

static long fx(volatile uint32_t *addr, int op, uint32_t val, const void *ts_or_val2, volatile uint32_t *addr2, uint32_t val3)
{
	return S6(SYS_futex, addr, op, val, ts_or_val2, addr2, val3);
}

/* wake_one retries op (a wake of one) until it woke someone, so the waiter was waiting. */
static void wake_one(volatile uint32_t *addr, int op, volatile uint32_t *addr2, uint32_t val3)
{
	for (;;) {
		long r = fx(addr, op, 1, (void *)1, addr2, val3);
		if (r == 1) return;
		CHECK(r == 0, "wake: %ld (%s)", r, errname(r));
		sleep_ms(1);
	}
}

static volatile int got_signal;
static void on_usr1(int sig) { (void)sig; got_signal = 1; }

int main(void)
{
	volatile uint32_t *shared = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(shared != MAP_FAILED, "mmap");
	volatile uint32_t *a = shared, *b = shared + 1, *c = shared + 2, *stop = shared + 3;
	struct timespec ms20 = {0, 20 * 1000 * 1000};

	current = "errors";
	expect_err(fx(a, FUTEX_WAIT, 1, 0, 0, 0), EAGAIN, "a changed value");
	expect_err(fx(a, FUTEX_WAIT_PRIVATE, 1, 0, 0, 0), EAGAIN, "a changed value, private");
	expect_err(fx(a, FUTEX_WAIT, 0, &ms20, 0, 0), ETIMEDOUT, "a timeout");
	expect_err(fx(a, FUTEX_WAIT_BITSET, 0, 0, 0, 0), EINVAL, "a bitset of 0");
	expect_err(fx(a, FUTEX_WAKE_BITSET, 1, 0, 0, 0), EINVAL, "a wake bitset of 0");
	expect_err(fx((volatile uint32_t *)((char *)a + 1), FUTEX_WAKE, 1, 0, 0, 0), EINVAL, "a misaligned word");
	expect_err(fx((volatile uint32_t *)8, FUTEX_WAKE, 1, 0, 0, 0), EFAULT, "an unmapped shared word");
	expect_eq(fx(a, FUTEX_WAKE, 5, 0, 0, 0), 0, "a wake with no one waiting");
	expect_err(fx(a, FUTEX_CMP_REQUEUE, 0, (void *)1, b, 7), EAGAIN, "CMP_REQUEUE of a changed value");
	expect_err(fx(a, 99, 0, 0, 0, 0), ENOSYS, "an unknown operation");
	ok();

	current = "a wake reaches a waiter in another process through shared memory";
	pid_t pid = fork_ok();
	if (pid == 0) {
		wake_one(a, FUTEX_WAKE, 0, 0);
		child_exit(0);
	}
	expect_eq(fx(a, FUTEX_WAIT, 0, 0, 0, 0), 0, "the wait");
	expect_exited(pid, 0, "the waker");
	ok();

	current = "private futexes of two processes never meet";
	*stop = 0;
	pid = fork_ok();
	if (pid == 0) {
		while (!*stop) {
			long r = fx(a, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
			if (r != 0) child_exit(1);
			sleep_ms(1);
		}
		child_exit(0);
	}
	struct timespec ms100 = {0, 100 * 1000 * 1000};
	expect_err(fx(a, FUTEX_WAIT_PRIVATE, 0, &ms100, 0, 0), ETIMEDOUT, "the private wait");
	*stop = 1;
	expect_exited(pid, 0, "the child, whose private wakes woke no one");
	ok();

	current = "bitsets";
	pid = fork_ok();
	if (pid == 0) {
		long r = fx(b, FUTEX_WAIT_BITSET, 0, 0, 0, 0x1);
		child_exit(r == 0 ? 0 : 1);
	}
	/* Wait until the child waits: a wake for its bit that finds it ends the step, so first prove the other bit does not. */
	for (;;) {
		expect_eq(fx(b, FUTEX_WAKE_BITSET, 1, 0, 0, 0x2), 0, "a wake for another bit");
		long r = fx(b, FUTEX_WAKE_BITSET, 1, 0, 0, 0x1);
		if (r == 1) break;
		expect_eq(r, 0, "a wake for its bit");
		sleep_ms(1);
	}
	expect_exited(pid, 0, "the waiter");
	ok();

	current = "CMP_REQUEUE moves waiters to another futex";
	pid_t w1 = fork_ok();
	if (w1 == 0) child_exit(fx(a, FUTEX_WAIT, 0, 0, 0, 0) == 0 ? 0 : 1);
	pid_t w2 = fork_ok();
	if (w2 == 0) child_exit(fx(a, FUTEX_WAIT, 0, 0, 0, 0) == 0 ? 0 : 1);
	int moved = 0;
	while (moved < 2) {
		long r = fx(a, FUTEX_CMP_REQUEUE, 0, (void *)1, b, 0);
		CHECK(r == 0 || r == 1, "requeue: %ld (%s)", r, errname(r));
		moved += (int)r;
		if (r == 0) sleep_ms(1);
	}
	expect_eq(fx(a, FUTEX_WAKE, 2, 0, 0, 0), 0, "a wake of the first futex");
	expect_eq(fx(b, FUTEX_WAKE, 2, 0, 0, 0), 2, "a wake of the second");
	expect_exited(w1, 0, "the first waiter");
	expect_exited(w2, 0, "the second waiter");
	ok();

	current = "WAKE_OP changes a word and wakes by comparison";
	*c = 5;
	expect_eq(fx(a, FUTEX_WAKE_OP, 1, (void *)1, c, FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_EQ, 4)), 0, "no one to wake");
	expect_eq(*c, 8, "5 + 3");
	expect_eq(fx(a, FUTEX_WAKE_OP, 1, (void *)1, c, FUTEX_OP(FUTEX_OP_OR, 1, FUTEX_OP_CMP_GT, 0) | (FUTEX_OP_OPARG_SHIFT << 28)), 0, "OR 1 << 1");
	expect_eq(*c, 10, "8 | 2");
	*c = 0;
	pid = fork_ok();
	if (pid == 0) child_exit(fx(c, FUTEX_WAIT, 0, 0, 0, 0) == 0 ? 0 : 1);
	wake_one(a, FUTEX_WAKE_OP, c, FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_EQ, 0));
	expect_exited(pid, 0, "the waiter on the second word");
	expect_err(fx(a, FUTEX_WAKE_OP, 1, (void *)1, c, 7u << 28), ENOSYS, "an unknown operation");
	ok();

	current = "a signal ends a wait with EINTR";
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, 0);
	*stop = 0;
	pid_t self = getpid();
	pid = fork_ok();
	if (pid == 0) {
		while (!*stop) {
			kill(self, SIGUSR1);
			sleep_ms(5);
		}
		child_exit(0);
	}
	for (;;) {
		long r = fx(a, FUTEX_WAIT, 0, 0, 0, 0);
		if (r == -EINTR) break;
		/* The signal came before the wait began: the handler ran, wait again. */
		CHECK(r == 0 || r == -EAGAIN, "the wait: %ld (%s)", r, errname(r));
	}
	*stop = 1;
	CHECK(got_signal, "the handler ran");
	expect_exited(pid, 0, "the signaller");
	ok();

	out("all ok\n");
	return 0;
}
