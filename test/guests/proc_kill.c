/* Who receives a signal, with results exactly as Linux gives them: kill of a
 * pid, of 0 (the caller's process group), of -PGID and of -1 (every process
 * the caller may signal but itself and init), and their errors (EINVAL,
 * ESRCH, EPERM across users); tgkill and tkill to another process and their
 * errors; sigqueue to a child and rt_sigqueueinfo's EPERM for a si_code of
 * the kernel's. Prints "ok NAME" per check, then "all ok"; on the first
 * failure prints "FAIL: NAME: details" and exits 1.
 *
 * Natively it must run as root: kill(-1) is sent only from a child that first
 * takes a user id of its own (1000000 + its pid, so two runs never share
 * one), which can signal nothing but that child's own children. The group
 * kills are sent to groups the program made, never to its own. */
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

int main(void)
{
	pid_t self = getpid(), pid, pid2, gone;
	int fds[2];
	siginfo_t si;
	sigset_t set;
	struct timespec zero = {0, 0};

	current = "kill errors";
	gone = fork_ok();
	if (gone == 0)
		child_exit(0);
	expect_exited(gone, 0, "a child to be gone");
	expect_eq(S2(SYS_kill, self, 0), 0, "signal 0 to itself");
	expect_err(S2(SYS_kill, self, 65), EINVAL, "signal 65");
	expect_err(S2(SYS_kill, self, -1), EINVAL, "signal -1");
	expect_err(S2(SYS_kill, gone, 0), ESRCH, "a reaped pid");
	expect_err(S2(SYS_kill, -gone, 0), ESRCH, "a group that does not exist");
	expect_err(S2(SYS_kill, INT_MIN, 0), ESRCH, "INT_MIN");
	ok();

	current = "kill(0) signals the caller's group";
	mask_one(SIG_BLOCK, SIGUSR1);
	pid = fork_ok();
	if (pid == 0) {
		/* A new group with this child and a grandchild, then kill(0). */
		int pipe_fds[2];
		expect_eq(S2(SYS_setpgid, 0, 0), 0, "setpgid(0, 0)");
		mask_one(SIG_UNBLOCK, SIGUSR1);
		pipe_ok(pipe_fds, 0);
		pid_t grandchild = waiting_child(pipe_fds, 0);
		mask_one(SIG_BLOCK, SIGUSR1);
		expect_eq(S2(SYS_kill, 0, SIGUSR1), 0, "kill(0, SIGUSR1)");
		CHECK(is_pending(SIGUSR1), "the sender is in its group");
		expect_killed(grandchild, SIGUSR1, "the grandchild in the group");
		child_exit(0);
	}
	expect_exited(pid, 0, "the child's checks");
	CHECK(!is_pending(SIGUSR1), "the parent, in another group, got nothing");
	ok();

	current = "kill(-pgid)";
	pipe_ok(fds, 0);
	pid = waiting_child(fds, 0);
	pid2 = waiting_child(fds, 0);
	gone = waiting_child(fds, 7);
	expect_eq(S2(SYS_setpgid, pid, pid), 0, "setpgid(first, first)");
	expect_eq(S2(SYS_setpgid, pid2, pid), 0, "setpgid(second, first)");
	expect_eq(S2(SYS_kill, -pid, SIGTERM), 0, "kill(-pgid, SIGTERM)");
	expect_killed(pid, SIGTERM, "the group leader");
	expect_killed(pid2, SIGTERM, "the other member");
	CHECK(!is_pending(SIGUSR1), "the parent got nothing");
	put(fds[1], 'x');
	expect_exited(gone, 7, "a child outside the group");
	expect_err(S2(SYS_kill, -pid, 0), ESRCH, "the group is gone");
	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
	mask_one(SIG_UNBLOCK, SIGUSR1);
	ok();

	current = "kill(-1)";
	pid = fork_ok();
	if (pid == 0) {
		/* Only a fresh user id makes kill(-1) safe natively: never send it
		 * unless setresuid worked. */
		int pipe_fds[2];
		uid_t uid = 1000000 + (uid_t)getpid();
		long r = S3(SYS_setresuid, uid, uid, uid);
		if (r != 0)
			fail("setresuid = %ld (%s): natively this program must run as root", r, errname(r));
		expect_eq(getuid(), uid, "getuid");
		expect_eq(geteuid(), uid, "geteuid");
		pipe_ok(pipe_fds, 0);
		pid_t a = waiting_child(pipe_fds, 0);
		pid_t b = waiting_child(pipe_fds, 0);
		expect_err(S2(SYS_kill, getppid(), 0), EPERM, "another user's process");
		expect_err(S2(SYS_kill, getppid(), SIGUSR1), EPERM, "another user's process");
		expect_eq(S2(SYS_kill, -1, SIGUSR1), 0, "kill(-1, SIGUSR1)");
		expect_killed(a, SIGUSR1, "the first child");
		expect_killed(b, SIGUSR1, "the second child");
		child_exit(0);
	}
	expect_exited(pid, 0, "the sender, which kill(-1) does not signal");
	ok();

	current = "tgkill and tkill";
	pipe_ok(fds, 0);
	pid = waiting_child(fds, 0);
	expect_eq(S3(SYS_tgkill, self, S0(SYS_gettid), 0), 0, "signal 0 to itself");
	expect_err(S3(SYS_tgkill, self, pid, 0), ESRCH, "a tid outside the thread group");
	expect_err(S3(SYS_tgkill, 0, pid, SIGTERM), EINVAL, "tgid 0");
	expect_err(S3(SYS_tgkill, pid, 0, SIGTERM), EINVAL, "tid 0");
	expect_err(S3(SYS_tgkill, pid, pid, 65), EINVAL, "signal 65");
	expect_err(S3(SYS_tgkill, gone, gone, 0), ESRCH, "a reaped pid");
	expect_err(S2(SYS_tkill, -1, SIGTERM), EINVAL, "tkill(-1)");
	expect_err(S2(SYS_tkill, gone, 0), ESRCH, "tkill of a reaped pid");
	expect_eq(S3(SYS_tgkill, pid, pid, SIGTERM), 0, "tgkill to a child");
	expect_killed(pid, SIGTERM, "the child");
	pid = waiting_child(fds, 0);
	expect_eq(S2(SYS_tkill, pid, SIGTERM), 0, "tkill to a child");
	expect_killed(pid, SIGTERM, "the child");
	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
	ok();

	current = "sigqueue to a child";
	mask_one(SIG_BLOCK, SIGRTMIN);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	pid = fork_ok();
	if (pid == 0) {
		struct timespec limit = {5, 0}; /* so it never outlives a parent that failed */
		memset(&si, 0, sizeof si);
		expect_eq(S4(SYS_rt_sigtimedwait, &set, &si, &limit, 8), SIGRTMIN, "SIGRTMIN");
		CHECK(si.si_code == SI_QUEUE && si.si_pid == getppid() && si.si_uid == getuid() &&
			      si.si_value.sival_int == 99,
		      "code %d value %d", si.si_code, si.si_value.sival_int);
		memset(&si, 0, sizeof si);
		expect_eq(S4(SYS_rt_sigtimedwait, &set, &si, &limit, 8), SIGRTMIN, "SIGRTMIN");
		CHECK(si.si_code == SI_QUEUE && si.si_pid == 4242 && si.si_value.sival_int == 98,
		      "rt_sigqueueinfo's siginfo as given: code %d value %d", si.si_code, si.si_value.sival_int);
		expect_err(S4(SYS_rt_sigtimedwait, &set, &si, &zero, 8), EAGAIN, "nothing else");
		child_exit(0);
	}
	expect_eq(sigqueue(pid, SIGRTMIN, (union sigval){.sival_int = 99}), 0, "sigqueue");
	memset(&si, 0, sizeof si);
	si.si_signo = SIGRTMIN;
	si.si_code = SI_USER;
	si.si_pid = 4242;
	si.si_value.sival_int = 97;
	expect_err(S3(SYS_rt_sigqueueinfo, pid, SIGRTMIN, &si), EPERM, "si_code SI_USER to another process");
	si.si_code = SI_TKILL;
	expect_err(S3(SYS_rt_sigqueueinfo, pid, SIGRTMIN, &si), EPERM, "si_code SI_TKILL to another process");
	si.si_code = SI_KERNEL;
	expect_err(S3(SYS_rt_sigqueueinfo, pid, SIGRTMIN, &si), EPERM, "si_code SI_KERNEL to another process");
	si.si_code = SI_QUEUE;
	si.si_value.sival_int = 98;
	expect_eq(S3(SYS_rt_sigqueueinfo, pid, SIGRTMIN, &si), 0, "si_code SI_QUEUE to another process");
	expect_exited(pid, 0, "the child's checks");
	mask_one(SIG_UNBLOCK, SIGRTMIN);
	ok();

	out("all ok\n");
	return 0;
}
