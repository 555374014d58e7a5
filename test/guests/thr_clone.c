/* thr_clone: threads made with raw clone(2), as libc's pthread_create makes
 * them: Linux's EINVAL rules for the flags; gettid and getpid in a thread;
 * what CLONE_FS, CLONE_SIGHAND and CLONE_FILES share; a thread's exit with
 * CLONE_CHILD_CLEARTID (the word cleared, a futex waiter woken) while the
 * process lives on; exit_group from a thread ending every thread; a leader
 * that exits first, leaving the process to its other thread (the process's
 * status is the leader's); tgkill to one thread, whose handler runs there;
 * kill() to a process whose main thread blocks the signal, taken by the
 * thread that does not; wait4 finding no thread as a child. Each check
 * prints "ok NAME"; the last line is "all ok". */
#define _GNU_SOURCE
#include "guest.h"
#include "proc.h"
#ifndef FUTEX_WAIT
#define FUTEX_WAIT 0
#endif
#include <sched.h>
#include <stdatomic.h>
#include <sys/stat.h>

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | \
		      CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)
#define STACK_SIZE (64 * 1024)

static char stacks[4][STACK_SIZE] __attribute__((aligned(16)));

/* spawn starts fn(arg) on a thread of its own (stack i) with flags, by raw clone; it returns the tid. */
static long spawn(int i, long flags, void (*fn)(long), long arg, volatile int *tidword)
{
	long *sp = (long *)(stacks[i] + STACK_SIZE);
	*--sp = arg;
	*--sp = (long)fn;
	long r;
	register long r10 __asm__("r10") = (long)tidword;
	register long r8 __asm__("r8") = 0;
	__asm__ volatile(
		"syscall\n\t"
		"test %%rax, %%rax\n\t"
		"jnz 1f\n\t"
		"pop %%rax\n\t"  /* fn */
		"pop %%rdi\n\t"  /* arg */
		"call *%%rax\n\t"
		"mov $60, %%eax\n\t"
		"xor %%edi, %%edi\n\t"
		"syscall\n\t"
		"1:"
		: "=a"(r)
		: "0"(SYS_clone), "D"(flags), "S"(sp), "d"(tidword), "r"(r10), "r"(r8)
		: "rcx", "r11", "memory");
	return r;
}

/* join waits until a thread's CLONE_CHILD_CLEARTID word is 0. */
static void join(volatile int *tidword)
{
	for (;;) {
		int v = *tidword;
		if (v == 0)
			return;
		S4(SYS_futex, tidword, FUTEX_WAIT, v, 0);
	}
}

/* gone waits until thread tid has left /proc/self/task: its CLEARTID wake
 * (join) comes before Linux has reaped it, and until then tgkill still
 * finds it. */
static void gone(long tid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%ld", tid);
	while (S2(SYS_access, path, F_OK) == 0)
		sleep_ms(1);
}

static volatile int tidword;
static volatile long seen_tid, seen_pid, seen_ppid;
static atomic_int step;

static void report_ids(long unused)
{
	(void)unused;
	seen_tid = S0(SYS_gettid);
	seen_pid = S0(SYS_getpid);
	seen_ppid = S0(SYS_getppid);
	S2(SYS_umask, 077, 0);
	S1(SYS_exit, 7); /* this thread alone */
}

static void set_umask(long mask)
{
	S1(SYS_umask, mask);
}

static void on_usr1_record(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)uc;
	seen_tid = S0(SYS_gettid);
	seen_pid = si->si_pid;
}

static void install_handler(long unused)
{
	(void)unused;
	on(SIGUSR1, on_usr1_record, 0);
}

static volatile long thread_tid;
static void wait_for_usr1(long unused)
{
	(void)unused;
	thread_tid = S0(SYS_gettid);
	atomic_store(&step, 1);
	/* Sleeps until a signal's handler has run. */
	sigset_t none;
	sigemptyset(&none);
	S2(SYS_rt_sigsuspend, &none, 8);
	atomic_store(&step, 2);
}

static void spin_forever(long unused)
{
	(void)unused;
	atomic_store(&step, 1);
	for (;;)
		__asm__ volatile("pause");
}

static void exit_group_5(long unused)
{
	(void)unused;
	while (atomic_load(&step) != 1)
		;
	S1(SYS_exit_group, 5);
}

static void outlive_leader(long leader)
{
	/* Waits until the leader has ended (a zombie), then ends the process
	 * with exit_group: with a plain exit, whether the parent sees the
	 * leader's status or this thread's varies between runs natively. */
	char path[64], buf[256];
	for (;;) {
		snprintf(path, sizeof path, "/proc/%ld/stat", leader);
		read_text(path, buf, sizeof buf);
		char *p = strrchr(buf, ')');
		if (p && p[2] == 'Z')
			break;
		sleep_ms(1);
	}
	S1(SYS_exit_group, 9);
}

int main(void)
{
	long self = S0(SYS_getpid);

	current = "flags";
	expect_err(S5(SYS_clone, CLONE_VM | CLONE_THREAD, 0, 0, 0, 0), EINVAL, "CLONE_THREAD without CLONE_SIGHAND");
	expect_err(S5(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0), EINVAL, "CLONE_SIGHAND without CLONE_VM");
	ok();

	current = "ids";
	long tid = spawn(0, THREAD_FLAGS, report_ids, 0, &tidword);
	CHECK(tid > 0, "clone: %s", errname(tid));
	join(&tidword);
	CHECK(seen_tid == tid && seen_tid != self, "gettid %ld, clone returned %ld, pid %ld", seen_tid, tid, self);
	CHECK(seen_pid == self, "getpid in the thread %ld, not %ld", seen_pid, self);
	CHECK(seen_ppid == S0(SYS_getppid), "getppid in the thread %ld", seen_ppid);
	ok();

	current = "clone_fs";
	long old = S1(SYS_umask, 022);
	CHECK(old == 077, "the thread's umask did not reach the process: %lo", old);
	tidword = 1;
	spawn(0, THREAD_FLAGS & ~CLONE_FS, set_umask, 0177, &tidword);
	join(&tidword);
	CHECK(S1(SYS_umask, 022) == 022, "a thread without CLONE_FS changed the process's umask");
	ok();

	current = "clone_sighand";
	tidword = 1;
	spawn(0, THREAD_FLAGS, install_handler, 0, &tidword);
	join(&tidword);
	struct sigaction sa;
	sigaction(SIGUSR1, NULL, &sa);
	CHECK(sa.sa_sigaction == on_usr1_record, "the thread's handler is not the process's");
	ok();

	current = "no_child";
	expect_err(S4(SYS_wait4, -1, 0, WNOHANG | __WALL, 0), ECHILD, "wait4 for threads");
	ok();

	current = "tgkill";
	atomic_store(&step, 0);
	tidword = 1;
	tid = spawn(0, THREAD_FLAGS, wait_for_usr1, 0, &tidword);
	while (atomic_load(&step) != 1)
		;
	seen_tid = 0;
	expect_eq(S3(SYS_tgkill, self, tid, SIGUSR1), 0, "tgkill");
	join(&tidword);
	CHECK(seen_tid == tid, "the handler ran on %ld, not the thread %ld", seen_tid, tid);
	expect_err(S3(SYS_tgkill, self + 100000, tid, 0), ESRCH, "tgkill with another tgid");
	gone(tid);
	expect_err(S3(SYS_tgkill, self, tid, 0), ESRCH, "tgkill of an ended thread");
	ok();

	current = "kill_blocked_main";
	mask_one(SIG_BLOCK, SIGUSR1);
	atomic_store(&step, 0);
	tidword = 1;
	tid = spawn(0, THREAD_FLAGS, wait_for_usr1, 0, &tidword);
	while (atomic_load(&step) != 1)
		;
	seen_tid = 0;
	/* The thread unblocks it in rt_sigsuspend (its mask is the main thread's, copied). */
	expect_eq(S2(SYS_kill, self, SIGUSR1), 0, "kill");
	join(&tidword);
	CHECK(seen_tid == tid, "the process's signal ran on %ld, not the thread %ld that does not block it", seen_tid, tid);
	CHECK(seen_pid == self, "si_pid %ld", seen_pid);
	CHECK(!is_pending(SIGUSR1), "SIGUSR1 still pending");
	mask_one(SIG_UNBLOCK, SIGUSR1);
	ok();

	current = "exit_group_from_thread";
	pid_t child = fork_ok();
	if (child == 0) {
		atomic_store(&step, 0);
		spawn(0, THREAD_FLAGS, spin_forever, 0, &tidword);
		spawn(1, THREAD_FLAGS, exit_group_5, 0, &tidword);
		for (;;)
			__asm__ volatile("pause");
	}
	expect_exited(child, 5, "a process whose thread called exit_group(5)");
	ok();

	current = "leader_exits_first";
	child = fork_ok();
	if (child == 0) {
		spawn(0, THREAD_FLAGS, outlive_leader, S0(SYS_getpid), &tidword);
		S1(SYS_exit, 3); /* the leader alone */
	}
	expect_exited(child, 9, "a process whose leader exited with 3, then its thread called exit_group(9)");
	ok();

	current = "fatal_signal_ends_all";
	child = fork_ok();
	if (child == 0) {
		atomic_store(&step, 0);
		tid = spawn(0, THREAD_FLAGS, spin_forever, 0, &tidword);
		while (atomic_load(&step) != 1)
			;
		S3(SYS_tgkill, S0(SYS_getpid), tid, SIGTERM);
		for (;;)
			__asm__ volatile("pause");
	}
	expect_killed(child, SIGTERM, "a process whose thread took SIGTERM");
	ok();

	out("all ok\n");
	return 0;
}
