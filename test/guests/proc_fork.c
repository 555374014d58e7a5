/* fork and the wait family, with results exactly as Linux gives them: fork's
 * two returns, a copied address space and a shared file offset; the status
 * words of wait4 for exit codes and for deaths by signal; WNOHANG, ECHILD,
 * waiting for any child and by process group; zombies, which keep their pid
 * until reaped; waitid with WEXITED, WNOHANG, WNOWAIT, P_PID, P_PGID and
 * P_ALL and the siginfo it fills; the rusage wait4 returns; and orphans,
 * which are reparented to this program. Prints "ok NAME" per check, then
 * "all ok"; on the first failure prints "FAIL: NAME: details" and exits 1.
 *
 * The program makes itself a child subreaper first, so an orphan is
 * reparented to it natively, just as in a sandbox where it is PID 1. Stopped
 * and continued children are proc_stop.c's. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

static int copied = 1;
static int *volatile null_pointer;

/* Uses at least ms milliseconds of CPU time (CLOCK_PROCESS_CPUTIME_ID). */
static void spin_ms(long ms)
{
	struct timespec ts;
	do
		S2(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts);
	while (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 < ms);
}

static pid_t exiting_child(int code)
{
	pid_t pid = fork_ok();
	if (pid == 0)
		child_exit(code);
	return pid;
}

static void zero_siginfo(siginfo_t *si)
{
	memset(si, 0, sizeof *si);
}

static void expect_child_info(const siginfo_t *si, pid_t pid, int code, int status, const char *what)
{
	if (si->si_signo != SIGCHLD || si->si_code != code || si->si_pid != pid || si->si_status != status ||
	    si->si_uid != getuid() || si->si_errno != 0)
		fail("%s: got signo %d code %d pid ok %d status %d uid ok %d errno %d", what, si->si_signo,
		     si->si_code, si->si_pid == pid, si->si_status, si->si_uid == getuid(), si->si_errno);
}

int main(void)
{
	int status, fds[2], fds2[2];
	pid_t pid, pid2, self = getpid();
	siginfo_t si;
	struct rusage ru;

	current = "setup";
	expect_eq(S2(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1), 0, "PR_SET_CHILD_SUBREAPER");
	ok();

	current = "fork returns twice";
	pid = fork_ok();
	if (pid == 0)
		child_exit(getppid() == self && getpid() != self ? 0 : 1);
	CHECK(pid > 0 && pid != self, "fork returned %d in the parent", pid);
	expect_exited(pid, 0, "child saw fork return 0 and its parent's pid");
	ok();

	current = "fork copies memory";
	pid = fork_ok();
	if (pid == 0) {
		copied = 2;
		child_exit(copied);
	}
	expect_exited(pid, 2, "child's write");
	expect_eq(copied, 1, "the parent's copy is unchanged");
	ok();

	current = "fork shares file offsets";
	{
		long fd = S3(SYS_open, "/proc/self/exe", O_RDONLY, 0);
		CHECK(fd >= 0, "open /proc/self/exe = %ld (%s)", fd, errname(fd));
		pid = fork_ok();
		if (pid == 0)
			child_exit(S3(SYS_lseek, fd, 100, SEEK_SET) == 100 ? 0 : 1);
		expect_exited(pid, 0, "lseek in the child");
		expect_eq(S3(SYS_lseek, fd, 0, SEEK_CUR), 100, "the parent's offset after the child's lseek");
		S1(SYS_close, fd);
	}
	ok();

	current = "exit statuses";
	pid = exiting_child(0);
	expect_eq(wait_status(pid), 0, "exit 0 status word");
	pid = exiting_child(7);
	expect_eq(wait_status(pid), 0x700, "exit 7 status word");
	pid = exiting_child(255);
	expect_eq(wait_status(pid), 0xff00, "exit 255 status word");
	pid = exiting_child(256 + 3);
	expect_eq(wait_status(pid), 0x300, "exit 259 keeps the low 8 bits");
	pid = fork_ok();
	if (pid == 0) {
		S1(SYS_exit, 4);
		child_exit(99);
	}
	expect_eq(wait_status(pid), 0x400, "exit (not exit_group) of the only thread");
	ok();

	current = "killed by signal";
	pid = fork_ok();
	if (pid == 0) {
		S2(SYS_kill, getpid(), SIGKILL);
		child_exit(99);
	}
	status = wait_status(pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && status == SIGKILL, "SIGKILL: status 0x%x", status);
	pid = fork_ok();
	if (pid == 0) {
		S2(SYS_kill, getpid(), SIGTERM);
		child_exit(99);
	}
	expect_killed(pid, SIGTERM, "SIGTERM to itself");
	pid = fork_ok();
	if (pid == 0) {
		/* No core dump, so the status has no core flag (0x80) to depend on. */
		S2(SYS_prctl, PR_SET_DUMPABLE, 0);
		*null_pointer = 1;
		child_exit(99);
	}
	expect_killed(pid, SIGSEGV, "a store through a null pointer");
	pid = fork_ok();
	if (pid == 0) {
		S2(SYS_prctl, PR_SET_DUMPABLE, 0);
		abort();
	}
	expect_killed(pid, SIGABRT, "abort()");
	pipe_ok(fds, 0);
	pid = waiting_child(fds, 0);
	expect_eq(S2(SYS_kill, pid, SIGKILL), 0, "kill the child");
	expect_killed(pid, SIGKILL, "SIGKILL from the parent");
	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
	ok();

	current = "wait4 WNOHANG";
	pipe_ok(fds, 0);
	pid = waiting_child(fds, 5);
	status = -1;
	expect_eq(S4(SYS_wait4, pid, &status, WNOHANG, 0), 0, "wait4 WNOHANG of a running child");
	expect_eq(status, -1, "status untouched");
	put(fds[1], 'x');
	expect_exited(pid, 5, "the released child");
	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
	ok();

	current = "wait4 ECHILD";
	expect_err(S4(SYS_wait4, -1, &status, 0, 0), ECHILD, "wait4(-1) with no children");
	expect_err(S4(SYS_wait4, -1, &status, WNOHANG, 0), ECHILD, "wait4(-1, WNOHANG) with no children");
	expect_err(S4(SYS_wait4, self, &status, 0, 0), ECHILD, "wait4 of itself");
	pid = exiting_child(0);
	expect_exited(pid, 0, "a child");
	expect_err(S4(SYS_wait4, pid, &status, 0, 0), ECHILD, "wait4 of a child already reaped");
	expect_err(S4(SYS_wait4, -1, &status, 0x1000, 0), EINVAL, "wait4 with an unknown option");
	ok();

	current = "wait4 any child";
	pid = exiting_child(11);
	pid2 = exiting_child(12);
	{
		int seen = 0;
		for (int i = 0; i < 2; i++) {
			long r = S4(SYS_wait4, -1, &status, 0, 0);
			CHECK(r == pid || r == pid2, "wait4(-1) = %ld (%s)", r, errname(r));
			CHECK(WIFEXITED(status) && WEXITSTATUS(status) == (r == pid ? 11 : 12), "status 0x%x", status);
			seen |= r == pid ? 1 : 2;
		}
		expect_eq(seen, 3, "both children reaped");
	}
	expect_err(S4(SYS_wait4, -1, &status, 0, 0), ECHILD, "no children left");
	ok();

	current = "wait4 by process group";
	pipe_ok(fds, 0);
	pid = waiting_child(fds, 21);
	expect_eq(S2(SYS_setpgid, pid, pid), 0, "setpgid(child, child)");
	expect_err(S4(SYS_wait4, 0, &status, WNOHANG, 0), ECHILD,
		   "wait4(0) when the only child is in another group");
	expect_eq(S4(SYS_wait4, -pid, &status, WNOHANG, 0), 0, "wait4(-pgid, WNOHANG) of a running child");
	pid2 = exiting_child(22);
	expect_eq(S4(SYS_wait4, 0, &status, 0, 0), pid2, "wait4(0) reaps the child in our group");
	expect_eq(status, 22 << 8, "its status");
	put(fds[1], 'x');
	expect_eq(S4(SYS_wait4, -pid, &status, 0, 0), pid, "wait4(-pgid) reaps the child in that group");
	expect_eq(status, 21 << 8, "its status");
	expect_err(S4(SYS_wait4, -pid, &status, 0, 0), ECHILD, "wait4(-pgid) with the group gone");
	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
	ok();

	current = "zombies";
	pid = exiting_child(3);
	zero_siginfo(&si);
	expect_eq(S5(SYS_waitid, P_PID, pid, &si, WEXITED | WNOWAIT, 0), 0, "waitid WNOWAIT until it exits");
	expect_eq(S2(SYS_kill, pid, 0), 0, "kill(zombie, 0)");
	expect_eq(S2(SYS_kill, pid, SIGKILL), 0, "kill(zombie, SIGKILL)");
	expect_eq(S1(SYS_getpgid, pid), S1(SYS_getpgid, 0), "getpgid of a zombie");
	expect_exited(pid, 3, "the zombie's status, unchanged by SIGKILL");
	expect_err(S2(SYS_kill, pid, 0), ESRCH, "kill(reaped, 0)");
	ok();

	current = "waitid WEXITED";
	pid = exiting_child(42);
	memset(&si, 0xff, sizeof si);
	expect_eq(S5(SYS_waitid, P_PID, pid, &si, WEXITED, 0), 0, "waitid P_PID");
	expect_child_info(&si, pid, CLD_EXITED, 42, "exited child");
	expect_err(S4(SYS_wait4, pid, &status, WNOHANG, 0), ECHILD, "waitid reaped it");
	pipe_ok(fds, 0);
	pid = waiting_child(fds, 0);
	expect_eq(S2(SYS_kill, pid, SIGTERM), 0, "kill SIGTERM");
	zero_siginfo(&si);
	expect_eq(S5(SYS_waitid, P_PID, pid, &si, WEXITED, 0), 0, "waitid of a killed child");
	expect_child_info(&si, pid, CLD_KILLED, SIGTERM, "killed child");
	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
	ok();

	current = "waitid WNOHANG";
	pipe_ok(fds, 0);
	pid = waiting_child(fds, 6);
	memset(&si, 0xff, sizeof si);
	expect_eq(S5(SYS_waitid, P_PID, pid, &si, WEXITED | WNOHANG, 0), 0, "waitid WNOHANG of a running child");
	CHECK(si.si_signo == 0 && si.si_pid == 0 && si.si_code == 0 && si.si_status == 0,
	      "Linux zeroes the siginfo: signo %d pid %d code %d status %d", si.si_signo, si.si_pid, si.si_code,
	      si.si_status);
	put(fds[1], 'x');
	zero_siginfo(&si);
	expect_eq(S5(SYS_waitid, P_ALL, 0, &si, WEXITED, 0), 0, "waitid P_ALL");
	expect_child_info(&si, pid, CLD_EXITED, 6, "P_ALL");
	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
	ok();

	current = "waitid WNOWAIT";
	pid = exiting_child(9);
	for (int i = 0; i < 2; i++) {
		zero_siginfo(&si);
		expect_eq(S5(SYS_waitid, P_PID, pid, &si, WEXITED | WNOWAIT, 0), 0, "waitid WNOWAIT");
		expect_child_info(&si, pid, CLD_EXITED, 9, "WNOWAIT leaves it waitable");
	}
	expect_exited(pid, 9, "wait4 after WNOWAIT");
	ok();

	current = "waitid P_PGID";
	pipe_ok(fds, 0);
	pid = waiting_child(fds, 13);
	expect_eq(S2(SYS_setpgid, pid, pid), 0, "setpgid(child, child)");
	pid2 = exiting_child(14);
	zero_siginfo(&si);
	expect_eq(S5(SYS_waitid, P_PGID, 0, &si, WEXITED, 0), 0, "waitid(P_PGID, 0) is our own group");
	expect_child_info(&si, pid2, CLD_EXITED, 14, "the child in our group");
	put(fds[1], 'x');
	zero_siginfo(&si);
	expect_eq(S5(SYS_waitid, P_PGID, pid, &si, WEXITED, 0), 0, "waitid(P_PGID, pgid)");
	expect_child_info(&si, pid, CLD_EXITED, 13, "the child in the other group");
	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
	ok();

	current = "waitid errors";
	expect_err(S5(SYS_waitid, P_ALL, 0, &si, 0, 0), EINVAL, "no WEXITED, WSTOPPED or WCONTINUED");
	expect_err(S5(SYS_waitid, 7, 0, &si, WEXITED, 0), EINVAL, "unknown idtype");
	expect_err(S5(SYS_waitid, P_ALL, 0, &si, WEXITED | 0x1000, 0), EINVAL, "unknown option");
	expect_err(S5(SYS_waitid, P_ALL, 0, &si, WEXITED, 0), ECHILD, "no children");
	expect_err(S5(SYS_waitid, P_PID, self, &si, WEXITED, 0), ECHILD, "P_PID of itself");
	ok();

	current = "rusage";
	pid = fork_ok();
	if (pid == 0) {
		spin_ms(30);
		child_exit(0);
	}
	memset(&ru, 0xff, sizeof ru);
	expect_eq(S4(SYS_wait4, pid, &status, 0, &ru), pid, "wait4 with rusage");
	expect_eq(status, 0, "status");
	{
		long us = ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1000000 +
			  ru.ru_stime.tv_usec;
		CHECK(us >= 20000 && us < 2000000, "user + system time of a child that spun 30 ms: %ld us", us);
		CHECK(ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000 && ru.ru_stime.tv_usec >= 0 &&
			      ru.ru_stime.tv_usec < 1000000,
		      "tv_usec out of range");
	}
	ok();

	current = "orphans are reparented";
	/* The child forks a grandchild, sends its pid up and exits; once the child
	 * is reaped, the grandchild is ours: it checks getppid() and we reap it. */
	pipe_ok(fds, 0);
	pipe_ok(fds2, 0);
	pid = fork_ok();
	if (pid == 0) {
		pid_t grandchild = fork_ok();
		if (grandchild == 0) {
			S1(SYS_close, fds2[1]);
			get(fds2[0]);
			child_exit(getppid() == self ? 31 : 32);
		}
		expect_eq(S3(SYS_write, fds[1], &grandchild, sizeof grandchild), sizeof grandchild, "send pid");
		child_exit(0);
	}
	expect_eq(S3(SYS_read, fds[0], &pid2, sizeof pid2), sizeof pid2, "read the grandchild's pid");
	expect_exited(pid, 0, "the child");
	put(fds2[1], 'x');
	expect_exited(pid2, 31, "the grandchild, now ours, whose getppid() is us");
	expect_err(S4(SYS_wait4, -1, &status, WNOHANG, 0), ECHILD, "no children left");
	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
	S1(SYS_close, fds2[0]);
	S1(SYS_close, fds2[1]);
	ok();

	out("all ok\n");
	return 0;
}
