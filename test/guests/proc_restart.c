/* Interrupted and restarted system calls, with results exactly as Linux gives
 * them: a caught signal during a blocking pipe read, pipe write and wait4,
 * with SA_RESTART (the call continues and returns its result) and without
 * (EINTR, or the count already written); calls that are never restarted
 * (nanosleep and clock_nanosleep with the remaining time, poll, select,
 * pause, sigtimedwait); stop and continue, and ignored signals, which
 * interrupt nothing; and SIGCHLD with SA_NOCLDWAIT or SIG_IGN, which reap
 * children so that wait gives ECHILD. Prints "ok NAME" per check, then
 * "all ok"; on the first failure prints "FAIL: NAME: details" and exits 1.
 *
 * The signal is sent once the receiver sleeps in the call (state S in
 * /proc/PID/stat), and a handler reports through a pipe, so the outcome
 * never depends on scheduling. */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

static volatile int caught;
static int notify_fd = -1;

/* Counts the signal and, when notify_fd is set, writes 'h' to it. */
static void note(int sig, siginfo_t *si, void *uc)
{
	caught++;
	if (notify_fd >= 0)
		put(notify_fd, 'h');
}

/* Arms ITIMER_REAL for one SIGALRM in ms milliseconds. */
static void alarm_in_ms(long ms)
{
	struct itimerval it = {{0, 0}, {ms / 1000, ms % 1000 * 1000}};
	expect_eq(S3(SYS_setitimer, ITIMER_REAL, &it, 0), 0, "setitimer");
}

/* A child that reads 4 bytes from the pipe data with SIGUSR1 caught by note
 * (with flags), notifying through notify; it exits 0 if the read returned
 * want_read (4 bytes "data", or -EINTR) and the handler ran once. */
static pid_t reader(const int data[2], int notify, int flags, long want_read)
{
	pid_t pid = fork_ok();
	if (pid == 0) {
		char buf[8] = "";
		S1(SYS_close, data[1]);
		notify_fd = notify;
		on(SIGUSR1, note, flags);
		long r = S3(SYS_read, data[0], buf, 4);
		expect_eq(r, want_read, "read");
		CHECK(r != 4 || memcmp(buf, "data", 4) == 0, "the data");
		expect_eq(caught, 1, "the handler ran once");
		child_exit(0);
	}
	return pid;
}

static void close_pipe(int fds[2])
{
	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
}

int main(void)
{
	int data[2], notify[2];
	pid_t pid;
	long r;
	sigset_t empty;

	sigemptyset(&empty);

	current = "SA_RESTART restarts a pipe read";
	pipe_ok(data, 0);
	pipe_ok(notify, 0);
	pid = reader(data, notify[1], SA_RESTART, 4);
	wait_sleeping(pid);
	expect_eq(S2(SYS_kill, pid, SIGUSR1), 0, "kill");
	expect_eq(get(notify[0]), 'h', "the handler ran");
	wait_sleeping(pid);
	expect_eq(S3(SYS_write, data[1], "data", 4), 4, "write");
	expect_exited(pid, 0, "the reader");
	ok();

	current = "without SA_RESTART a pipe read fails with EINTR";
	pid = reader(data, notify[1], 0, -EINTR);
	wait_sleeping(pid);
	expect_eq(S2(SYS_kill, pid, SIGUSR1), 0, "kill");
	expect_exited(pid, 0, "the reader");
	expect_eq(get(notify[0]), 'h', "the handler ran");
	close_pipe(data);
	ok();

	current = "a signal during a pipe write";
	for (int restart = 0; restart < 2; restart++) {
		/* 100000 bytes into an empty 64 KiB pipe: the signal comes once 65536 are in. */
		pipe_ok(data, 0);
		pid = fork_ok();
		if (pid == 0) {
			static char big[100000];
			on(SIGUSR1, note, restart ? SA_RESTART : 0);
			expect_eq(S3(SYS_write, data[1], big, sizeof big), 65536, "write returns the count so far");
			expect_eq(caught, 1, "the handler ran");
			child_exit(0);
		}
		wait_sleeping(pid);
		expect_eq(S2(SYS_kill, pid, SIGUSR1), 0, "kill");
		expect_exited(pid, 0, restart ? "the writer, with SA_RESTART" : "the writer, without SA_RESTART");
		close_pipe(data);
	}
	for (int restart = 0; restart < 2; restart++) {
		/* One byte into a full pipe. */
		pipe_ok(data, O_NONBLOCK);
		{
			static char page[4096];
			while (S3(SYS_write, data[1], page, sizeof page) > 0)
				;
		}
		expect_eq(S3(SYS_fcntl, data[1], F_SETFL, 0), 0, "make the write end blocking");
		pid = fork_ok();
		if (pid == 0) {
			notify_fd = notify[1];
			on(SIGUSR1, note, restart ? SA_RESTART : 0);
			expect_eq(S3(SYS_write, data[1], "x", 1), restart ? 1 : -EINTR, "a write of 1 byte");
			child_exit(0);
		}
		wait_sleeping(pid);
		expect_eq(S2(SYS_kill, pid, SIGUSR1), 0, "kill");
		expect_eq(get(notify[0]), 'h', "the handler ran");
		if (restart) {
			static char page[4096];
			wait_sleeping(pid);
			expect_eq(S3(SYS_read, data[0], page, sizeof page), sizeof page, "make room");
		}
		expect_exited(pid, 0, restart ? "the writer, with SA_RESTART" : "the writer, without SA_RESTART");
		close_pipe(data);
	}
	ok();

	current = "a signal during wait4";
	for (int restart = 0; restart < 2; restart++) {
		int status = -1;
		pipe_ok(data, 0);
		on(SIGUSR1, note, restart ? SA_RESTART : 0);
		pid = fork_ok();
		if (pid == 0) {
			S1(SYS_close, data[1]);
			wait_sleeping(getppid());
			S2(SYS_kill, getppid(), SIGUSR1);
			get(data[0]);
			child_exit(5);
		}
		caught = 0;
		notify_fd = data[1];
		r = S4(SYS_wait4, pid, &status, 0, 0);
		notify_fd = -1;
		expect_eq(caught, 1, "the handler ran");
		if (restart) {
			expect_eq(r, pid, "wait4 with SA_RESTART returns the child");
			expect_eq(status, 5 << 8, "the child's status");
		} else {
			expect_err(r, EINTR, "wait4 without SA_RESTART");
			expect_exited(pid, 5, "wait4 again");
		}
		close_pipe(data);
	}
	set_disposition(SIGUSR1, SIG_DFL, 0);
	ok();

	current = "nanosleep fails with EINTR and the time left";
	on(SIGALRM, note, SA_RESTART);
	{
		struct timespec req = {1, 0}, rem = {-1, -1};
		caught = 0;
		alarm_in_ms(20);
		expect_err(S2(SYS_nanosleep, &req, &rem), EINTR, "nanosleep 1 s");
		expect_eq(caught, 1, "the handler ran");
		CHECK(rem.tv_sec == 0 && rem.tv_nsec > 500000000, "remaining %ld.%09ld", (long)rem.tv_sec, rem.tv_nsec);
		rem.tv_sec = -1;
		alarm_in_ms(20);
		expect_err(S4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, &rem), EINTR, "clock_nanosleep 1 s");
		CHECK(rem.tv_sec == 0 && rem.tv_nsec > 500000000, "remaining %ld.%09ld", (long)rem.tv_sec, rem.tv_nsec);
		struct timespec until;
		S2(SYS_clock_gettime, CLOCK_MONOTONIC, &until);
		until.tv_sec += 1;
		rem.tv_sec = -1;
		rem.tv_nsec = -1;
		alarm_in_ms(20);
		expect_err(S4(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &until, &rem), EINTR,
			   "clock_nanosleep TIMER_ABSTIME");
		CHECK(rem.tv_sec == -1 && rem.tv_nsec == -1, "TIMER_ABSTIME leaves rem untouched");
		expect_eq(caught, 3, "the handler ran three times");
		req.tv_nsec = 1000000000;
		expect_err(S2(SYS_nanosleep, &req, 0), EINVAL, "tv_nsec 1000000000");
	}
	ok();

	current = "calls SA_RESTART does not restart";
	pipe_ok(data, 0);
	{
		struct pollfd p = {.fd = data[0], .events = POLLIN};
		fd_set r_set;
		struct timespec second = {1, 0};
		sigset_t usr2;
		caught = 0;
		alarm_in_ms(20);
		expect_err(S3(SYS_poll, &p, 1, -1), EINTR, "poll with no timeout");
		alarm_in_ms(20);
		expect_err(S3(SYS_poll, &p, 1, 1000), EINTR, "poll with a timeout");
		FD_ZERO(&r_set);
		FD_SET(data[0], &r_set);
		alarm_in_ms(20);
		expect_err(S5(SYS_select, data[0] + 1, &r_set, 0, 0, 0), EINTR, "select");
		alarm_in_ms(20);
		expect_err(S0(SYS_pause), EINTR, "pause");
		sigemptyset(&usr2);
		sigaddset(&usr2, SIGUSR2);
		mask_one(SIG_BLOCK, SIGUSR2);
		alarm_in_ms(20);
		expect_err(S4(SYS_rt_sigtimedwait, &usr2, 0, &second, 8), EINTR, "sigtimedwait for another signal");
		mask_one(SIG_UNBLOCK, SIGUSR2);
		expect_eq(caught, 5, "the handler ran five times");
	}
	close_pipe(data);
	set_disposition(SIGALRM, SIG_DFL, 0);
	ok();

	current = "stop and continue interrupt nothing";
	/* The child sleeps 60 ms, then says so and reads: each is stopped and
	 * continued while the child waits in it. */
	pipe_ok(data, 0);
	pid = fork_ok();
	if (pid == 0) {
		char buf[8];
		struct timespec req = {0, 60000000};
		S1(SYS_close, data[1]);
		expect_eq(S2(SYS_nanosleep, &req, 0), 0, "nanosleep across a stop");
		put(notify[1], 'n');
		expect_eq(S3(SYS_read, data[0], buf, 4), 4, "read across a stop");
		child_exit(0);
	}
	for (int i = 0; i < 2; i++) {
		int status;
		if (i == 1)
			expect_eq(get(notify[0]), 'n', "the nanosleep is over");
		wait_sleeping(pid);
		expect_eq(S2(SYS_kill, pid, SIGSTOP), 0, "SIGSTOP");
		expect_eq(S4(SYS_wait4, pid, &status, WUNTRACED, 0), pid, "wait4 WUNTRACED");
		expect_eq(status, 0x137f, "stopped by SIGSTOP");
		expect_eq(S2(SYS_kill, pid, SIGCONT), 0, "SIGCONT");
	}
	expect_eq(S3(SYS_write, data[1], "data", 4), 4, "write");
	expect_exited(pid, 0, "the child");
	close_pipe(data);
	ok();

	current = "ignored signals interrupt nothing";
	pipe_ok(data, 0);
	pid = fork_ok();
	if (pid == 0) {
		char buf[8];
		S1(SYS_close, data[1]);
		set_disposition(SIGUSR1, SIG_IGN, 0);
		expect_eq(S3(SYS_read, data[0], buf, 4), 4, "read");
		child_exit(0);
	}
	wait_sleeping(pid);
	expect_eq(S2(SYS_kill, pid, SIGUSR1), 0, "SIGUSR1, ignored");
	expect_eq(S2(SYS_kill, pid, SIGURG), 0, "SIGURG, ignored by default");
	expect_eq(S2(SYS_kill, pid, SIGCHLD), 0, "SIGCHLD, ignored by default");
	expect_eq(S2(SYS_kill, pid, SIGWINCH), 0, "SIGWINCH, ignored by default");
	expect_eq(S2(SYS_kill, pid, SIGCONT), 0, "SIGCONT to a running process");
	expect_eq(S3(SYS_write, data[1], "data", 4), 4, "write");
	expect_exited(pid, 0, "the child");
	close_pipe(data);
	ok();

	current = "SA_NOCLDWAIT";
	set_disposition(SIGCHLD, SIG_DFL, SA_NOCLDWAIT);
	pid = fork_ok();
	if (pid == 0) {
		sleep_ms(20);
		child_exit(3);
	}
	expect_err(S4(SYS_wait4, -1, 0, 0, 0), ECHILD, "wait4 waits, then finds no child");
	expect_err(S2(SYS_kill, pid, 0), ESRCH, "the child was reaped");
	{
		siginfo_t si;
		sigset_t chld;
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		on(SIGCHLD, note, SA_NOCLDWAIT);
		mask_one(SIG_BLOCK, SIGCHLD);
		pid = fork_ok();
		if (pid == 0)
			child_exit(4);
		memset(&si, 0, sizeof si);
		expect_eq(S4(SYS_rt_sigtimedwait, &chld, &si, 0, 8), SIGCHLD, "SIGCHLD is still sent");
		CHECK(si.si_code == CLD_EXITED && si.si_pid == pid && si.si_status == 4, "code %d status %d", si.si_code,
		      si.si_status);
		expect_err(S4(SYS_wait4, -1, 0, 0, 0), ECHILD, "no child to wait for");
		mask_one(SIG_UNBLOCK, SIGCHLD);
	}
	set_disposition(SIGCHLD, SIG_DFL, 0);
	ok();

	current = "SIG_IGN SIGCHLD reaps children";
	{
		siginfo_t si;
		pid_t zombie = fork_ok();
		if (zombie == 0)
			child_exit(6);
		expect_eq(S5(SYS_waitid, P_PID, zombie, &si, WEXITED | WNOWAIT, 0), 0, "a zombie");
		set_disposition(SIGCHLD, SIG_IGN, 0);
		pid = fork_ok();
		if (pid == 0) {
			sleep_ms(20);
			child_exit(3);
		}
		expect_eq(S4(SYS_wait4, pid, 0, 0, 0), -ECHILD, "wait4 waits, then finds the child gone");
		expect_err(S2(SYS_kill, pid, 0), ESRCH, "the child was reaped");
		expect_exited(zombie, 6, "a zombie from before SIG_IGN stays");
		set_disposition(SIGCHLD, SIG_DFL, 0);
		pid = fork_ok();
		if (pid == 0)
			child_exit(7);
		expect_exited(pid, 7, "SIG_DFL again: children are waited for");
	}
	ok();

	close_pipe(notify);
	out("all ok\n");
	return 0;
}
