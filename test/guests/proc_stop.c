/* Job control signals, with results exactly as Linux gives them: SIGSTOP and
 * SIGCONT seen through wait4 WUNTRACED/WCONTINUED (status words 0x137f and
 * 0xffff, each reported once) and waitid WSTOPPED/WCONTINUED (CLD_STOPPED,
 * CLD_CONTINUED, WNOWAIT); SIGTSTP, SIGTTIN and SIGTTOU stop by default,
 * except in an orphaned process group, where they are discarded and only
 * SIGSTOP stops; a stop signal discards a pending SIGCONT and SIGCONT a
 * pending stop signal; the SIGCHLD a stop and a continue send, and
 * SA_NOCLDSTOP; signals to a stopped process wait for SIGCONT, even fatal
 * ones such as SIGTERM, except SIGKILL; a SIGCONT handler. Prints
 * "ok NAME" per check, then "all ok"; on the first failure prints
 * "FAIL: NAME: details" and exits 1.
 *
 * Every child that stops itself first moves to a process group of its own
 * (or a session of its own, for the orphaned group), so the result never
 * depends on the group this program was started in. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

static int notify_fd = -1;

/* Writes the signal's number to notify_fd. */
static void note(int sig, siginfo_t *si, void *uc)
{
	put(notify_fd, (char)sig);
}

static void expect_stopped(pid_t pid, int sig, const char *what)
{
	int status = -1;
	expect_eq(S4(SYS_wait4, pid, &status, WUNTRACED, 0), pid, what);
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != sig || status != (sig << 8 | 0x7f))
		fail("%s: expected stopped by %d, got status 0x%x", what, sig, status);
}

static void expect_continued(pid_t pid, const char *what)
{
	int status = -1;
	expect_eq(S4(SYS_wait4, pid, &status, WCONTINUED, 0), pid, what);
	if (!WIFCONTINUED(status) || status != 0xffff)
		fail("%s: expected continued, got status 0x%x", what, status);
}

static void expect_nothing_new(pid_t pid, const char *what)
{
	int status;
	expect_eq(S4(SYS_wait4, pid, &status, WUNTRACED | WCONTINUED | WNOHANG, 0), 0, what);
}

static void expect_child_info(const siginfo_t *si, pid_t pid, int code, int status, const char *what)
{
	if (si->si_signo != SIGCHLD || si->si_code != code || si->si_pid != pid || si->si_status != status ||
	    si->si_uid != getuid())
		fail("%s: signo %d code %d status %d", what, si->si_signo, si->si_code, si->si_status);
}

int main(void)
{
	int fds[2], notify[2];
	pid_t pid;
	siginfo_t si;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pipe_ok(notify, 0);

	current = "wait4 WUNTRACED and WCONTINUED";
	pipe_ok(fds, 0);
	pid = waiting_child(fds, 0);
	expect_eq(S2(SYS_kill, pid, SIGSTOP), 0, "SIGSTOP");
	expect_stopped(pid, SIGSTOP, "wait4 WUNTRACED");
	expect_nothing_new(pid, "a stop is reported once");
	expect_eq(S2(SYS_kill, pid, SIGSTOP), 0, "SIGSTOP again");
	expect_nothing_new(pid, "stopping a stopped child reports nothing");
	expect_eq(S4(SYS_wait4, pid, 0, WNOHANG, 0), 0, "wait4 without WUNTRACED ignores a stop");
	expect_eq(S2(SYS_kill, pid, SIGCONT), 0, "SIGCONT");
	expect_continued(pid, "wait4 WCONTINUED");
	expect_nothing_new(pid, "a continue is reported once");
	put(fds[1], 'x');
	expect_exited(pid, 0, "the child");
	ok();

	current = "waitid WSTOPPED and WCONTINUED";
	pid = waiting_child(fds, 0);
	expect_eq(S2(SYS_kill, pid, SIGSTOP), 0, "SIGSTOP");
	for (int i = 0; i < 2; i++) {
		memset(&si, 0, sizeof si);
		expect_eq(S5(SYS_waitid, P_PID, pid, &si, WSTOPPED | WNOWAIT, 0), 0, "waitid WSTOPPED | WNOWAIT");
		expect_child_info(&si, pid, CLD_STOPPED, SIGSTOP, "WNOWAIT leaves the stop to report");
	}
	memset(&si, 0, sizeof si);
	expect_eq(S5(SYS_waitid, P_PID, pid, &si, WSTOPPED, 0), 0, "waitid WSTOPPED");
	expect_child_info(&si, pid, CLD_STOPPED, SIGSTOP, "stopped");
	memset(&si, 0xff, sizeof si);
	expect_eq(S5(SYS_waitid, P_PID, pid, &si, WSTOPPED | WEXITED | WNOHANG, 0), 0, "reported once");
	expect_eq(si.si_pid, 0, "si_pid");
	expect_eq(S2(SYS_kill, pid, SIGCONT), 0, "SIGCONT");
	memset(&si, 0, sizeof si);
	expect_eq(S5(SYS_waitid, P_PID, pid, &si, WCONTINUED, 0), 0, "waitid WCONTINUED");
	expect_child_info(&si, pid, CLD_CONTINUED, SIGCONT, "continued");
	put(fds[1], 'x');
	memset(&si, 0, sizeof si);
	expect_eq(S5(SYS_waitid, P_PID, pid, &si, WEXITED, 0), 0, "waitid WEXITED");
	expect_child_info(&si, pid, CLD_EXITED, 0, "exited");
	ok();

	current = "SIGTSTP SIGTTIN SIGTTOU stop by default";
	{
		static const int stops[] = {SIGTSTP, SIGTTIN, SIGTTOU};
		for (int i = 0; i < 3; i++) {
			pid = fork_ok();
			if (pid == 0) {
				expect_eq(S2(SYS_setpgid, 0, 0), 0, "setpgid(0, 0)");
				S2(SYS_kill, getpid(), stops[i]);
				child_exit(0);
			}
			expect_stopped(pid, stops[i], "the child stopped itself");
			expect_eq(S2(SYS_kill, pid, SIGCONT), 0, "SIGCONT");
			expect_exited(pid, 0, "the continued child");
		}
	}
	ok();

	current = "an orphaned process group ignores SIGTSTP";
	pid = fork_ok();
	if (pid == 0) {
		/* A new session: the child's group has no parent in the session. */
		expect_eq(S0(SYS_setsid), getpid(), "setsid");
		S2(SYS_kill, getpid(), SIGTSTP);
		S2(SYS_kill, getpid(), SIGTTIN);
		S2(SYS_kill, getpid(), SIGTTOU);
		put(notify[1], 'o');
		S2(SYS_kill, getpid(), SIGSTOP);
		child_exit(0);
	}
	expect_stopped(pid, SIGSTOP, "only SIGSTOP stopped it");
	expect_eq(get(notify[0]), 'o', "it ran past the three");
	expect_eq(S2(SYS_kill, pid, SIGCONT), 0, "SIGCONT");
	expect_exited(pid, 0, "the continued child");
	ok();

	current = "stop and continue signals cancel each other";
	pid = fork_ok();
	if (pid == 0) {
		mask_one(SIG_BLOCK, SIGTSTP);
		mask_one(SIG_BLOCK, SIGTTOU);
		mask_one(SIG_BLOCK, SIGCONT);
		S2(SYS_kill, getpid(), SIGTSTP);
		CHECK(is_pending(SIGTSTP), "SIGTSTP is pending");
		S2(SYS_kill, getpid(), SIGCONT);
		CHECK(!is_pending(SIGTSTP), "SIGCONT discarded the pending SIGTSTP");
		CHECK(is_pending(SIGCONT), "SIGCONT is pending");
		S2(SYS_kill, getpid(), SIGTTOU);
		CHECK(!is_pending(SIGCONT), "SIGTTOU discarded the pending SIGCONT");
		CHECK(is_pending(SIGTTOU), "SIGTTOU is pending");
		child_exit(0);
	}
	expect_exited(pid, 0, "the child's checks");
	ok();

	current = "SIGCHLD for stop and continue";
	/* wait4 may report a stop or a continue before the SIGCHLD for it is
	 * sent (the child sends CLD_CONTINUED itself once it runs again), so
	 * each SIGCHLD is waited for; with SA_NOCLDSTOP, the next SIGCHLD
	 * must be the exit's, as SIGCHLD does not queue. */
	mask_one(SIG_BLOCK, SIGCHLD);
	pid = waiting_child(fds, 0);
	expect_eq(S2(SYS_kill, pid, SIGSTOP), 0, "SIGSTOP");
	memset(&si, 0, sizeof si);
	expect_eq(S4(SYS_rt_sigtimedwait, &chld, &si, 0, 8), SIGCHLD, "SIGCHLD for the stop");
	expect_child_info(&si, pid, CLD_STOPPED, SIGSTOP, "its siginfo");
	expect_stopped(pid, SIGSTOP, "stopped");
	expect_eq(S2(SYS_kill, pid, SIGCONT), 0, "SIGCONT");
	memset(&si, 0, sizeof si);
	expect_eq(S4(SYS_rt_sigtimedwait, &chld, &si, 0, 8), SIGCHLD, "SIGCHLD for the continue");
	expect_child_info(&si, pid, CLD_CONTINUED, SIGCONT, "its siginfo");
	expect_continued(pid, "continued");
	set_disposition(SIGCHLD, SIG_DFL, SA_NOCLDSTOP);
	expect_eq(S2(SYS_kill, pid, SIGSTOP), 0, "SIGSTOP");
	expect_stopped(pid, SIGSTOP, "stopped");
	expect_eq(S2(SYS_kill, pid, SIGCONT), 0, "SIGCONT");
	expect_continued(pid, "continued");
	put(fds[1], 'x');
	memset(&si, 0, sizeof si);
	expect_eq(S4(SYS_rt_sigtimedwait, &chld, &si, 0, 8), SIGCHLD, "SIGCHLD");
	expect_child_info(&si, pid, CLD_EXITED, 0, "SA_NOCLDSTOP: the first SIGCHLD is the exit's");
	expect_exited(pid, 0, "the child");
	set_disposition(SIGCHLD, SIG_DFL, 0);
	mask_one(SIG_UNBLOCK, SIGCHLD);
	ok();

	current = "a stopped child runs its handlers after SIGCONT";
	pid = fork_ok();
	if (pid == 0) {
		char c;
		S1(SYS_close, fds[1]);
		notify_fd = notify[1];
		on(SIGUSR1, note, SA_RESTART);
		S3(SYS_read, fds[0], &c, 1);
		child_exit(0);
	}
	wait_sleeping(pid);
	expect_eq(S2(SYS_kill, pid, SIGSTOP), 0, "SIGSTOP");
	expect_stopped(pid, SIGSTOP, "stopped");
	expect_eq(S2(SYS_kill, pid, SIGUSR1), 0, "SIGUSR1");
	sleep_ms(20);
	expect_eq(S3(SYS_fcntl, notify[0], F_SETFL, O_NONBLOCK), 0, "F_SETFL O_NONBLOCK");
	{
		char c;
		expect_err(S3(SYS_read, notify[0], &c, 1), EAGAIN, "no handler ran while stopped");
	}
	expect_eq(S3(SYS_fcntl, notify[0], F_SETFL, 0), 0, "F_SETFL 0");
	expect_eq(S2(SYS_kill, pid, SIGCONT), 0, "SIGCONT");
	expect_eq(get(notify[0]), SIGUSR1, "the handler ran once continued");
	put(fds[1], 'x');
	expect_exited(pid, 0, "the child");
	ok();

	current = "a SIGCONT handler";
	pid = fork_ok();
	if (pid == 0) {
		char c;
		S1(SYS_close, fds[1]);
		notify_fd = notify[1];
		on(SIGCONT, note, 0);
		long r = S3(SYS_read, fds[0], &c, 1);
		child_exit(r == -EINTR ? 0 : 1);
	}
	wait_sleeping(pid);
	expect_eq(S2(SYS_kill, pid, SIGSTOP), 0, "SIGSTOP");
	expect_stopped(pid, SIGSTOP, "stopped");
	expect_eq(S2(SYS_kill, pid, SIGCONT), 0, "SIGCONT");
	expect_eq(get(notify[0]), SIGCONT, "the handler ran");
	expect_exited(pid, 0, "its read failed with EINTR");
	ok();

	current = "SIGKILL ends a stopped child, SIGTERM waits";
	pid = waiting_child(fds, 0);
	expect_eq(S2(SYS_kill, pid, SIGSTOP), 0, "SIGSTOP");
	expect_stopped(pid, SIGSTOP, "stopped");
	expect_eq(S2(SYS_kill, pid, SIGKILL), 0, "SIGKILL");
	expect_killed(pid, SIGKILL, "SIGKILL");
	pid = waiting_child(fds, 0);
	expect_eq(S2(SYS_kill, pid, SIGSTOP), 0, "SIGSTOP");
	expect_stopped(pid, SIGSTOP, "stopped");
	expect_eq(S2(SYS_kill, pid, SIGTERM), 0, "SIGTERM");
	sleep_ms(20);
	expect_nothing_new(pid, "SIGTERM waits while the child is stopped");
	expect_eq(S2(SYS_kill, pid, SIGCONT), 0, "SIGCONT");
	expect_killed(pid, SIGTERM, "SIGTERM once continued");
	ok();

	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
	S1(SYS_close, notify[0]);
	S1(SYS_close, notify[1]);
	out("all ok\n");
	return 0;
}
