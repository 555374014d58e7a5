/* Helpers shared by the process guests (proc_fork.c, proc_exec.c,
 * proc_vfork.c, proc_pipe.c, proc_signal.c, proc_kill.c, proc_restart.c,
 * proc_stop.c, proc_misc.c): fork_ok, child_exit and waiting_child; the wait
 * helpers (wait_status, expect_exited, expect_killed), which fail() unless a
 * child ends exactly as expected; is_sleeping and wait_sleeping, whether and
 * until a task is blocked in the kernel; read_text, the start of a file;
 * pipe_ok, and put and get, one byte through a pipe;
 * on(), set_disposition() and disposition_of() for signal actions, and
 * mask_one(), is_blocked() and is_pending() for the blocked and pending sets;
 * sleep_ms and now_ns; and scratch, the fresh directory a guest writes
 * under, with make_scratch(), in_scratch() and remove_scratch().
 *
 * A child reports through its exit status (0 when all its checks passed) and
 * prints nothing unless a check fails, so the output never depends on how
 * the parent and its children are scheduled.
 *
 * Only static inline functions, macros, types and the scratch buffer: it is
 * included, never built as a guest of its own (scripts/build-guests.sh builds
 * *.c and rebuilds every guest when this file changes). Include it after
 * guest.h, whose helpers it uses. */
#ifndef PROC_H
#define PROC_H

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef void (*sigaction_fn)(int, siginfo_t *, void *);

static inline long now_ns(void)
{
	struct timespec ts;
	S2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Sleeps ms milliseconds, whatever signals arrive meanwhile. */
static inline void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, ms % 1000 * 1000000};
	while (S2(SYS_nanosleep, &ts, &ts) == -EINTR)
		;
}

static inline pid_t fork_ok(void)
{
	pid_t pid = fork();
	if (pid < 0)
		fail("fork: errno %d", errno);
	return pid;
}

/* Ends the calling child at once, with no atexit handlers and no stdio flush. */
__attribute__((noreturn)) static inline void child_exit(int code)
{
	S1(SYS_exit_group, code);
	__builtin_unreachable();
}

/* A child that closes its copy of the write end fds[1], blocks reading
 * fds[0] until the parent writes a byte or every writer is gone (so it never
 * outlives a parent that failed), then exits with code. Signals keep the
 * actions they had. */
static inline pid_t waiting_child(const int fds[2], int code)
{
	pid_t pid = fork_ok();
	if (pid == 0) {
		char c;
		S1(SYS_close, fds[1]);
		while (S3(SYS_read, fds[0], &c, 1) == -EINTR)
			;
		child_exit(code);
	}
	return pid;
}

/* The status of child pid, reaped with a blocking wait4. */
static inline int wait_status(pid_t pid)
{
	int status = -1;
	long r = S4(SYS_wait4, pid, &status, 0, 0);
	if (r != pid)
		fail("wait4 = %ld (%s), expected the child", r, errname(r));
	return status;
}

static inline void expect_exited(pid_t pid, int code, const char *what)
{
	int status = wait_status(pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != code)
		fail("%s: expected exit %d, got status 0x%x", what, code, status);
}

/* Expects child pid to be killed by sig, and no core dumped. */
static inline void expect_killed(pid_t pid, int sig, const char *what)
{
	int status = wait_status(pid);
	if (status != sig)
		fail("%s: expected killed by signal %d, got status 0x%x", what, sig, status);
}

/* Reads the start of the file at path (one read of up to size - 1 bytes)
 * into buf as a string; fails unless it reads something. */
static inline void read_text(const char *path, char *buf, size_t size)
{
	long fd = S3(SYS_open, path, O_RDONLY, 0);
	if (fd < 0)
		fail("open %s = %ld (%s)", path, fd, errname(fd));
	long n = S3(SYS_read, fd, buf, size - 1);
	S1(SYS_close, fd);
	if (n <= 0)
		fail("read %s = %ld (%s)", path, n, errname(n));
	buf[n] = 0;
}

/* True when task pid sleeps interruptibly (state S in /proc/PID/stat), that
 * is when it is blocked in a system call that waits. */
static inline int is_sleeping(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	read_text(path, buf, sizeof buf);
	char *paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] == 'S';
}

/* Waits until task pid sleeps interruptibly (is_sleeping); fails after
 * about 2 s. */
static inline void wait_sleeping(pid_t pid)
{
	for (int tries = 0; tries < 2000; tries++) {
		if (is_sleeping(pid))
			return;
		sleep_ms(1);
	}
	fail("task %d never blocked", pid);
}

static inline void pipe_ok(int fds[2], int flags)
{
	long r = S2(SYS_pipe2, fds, flags);
	if (r != 0)
		fail("pipe2 = %ld (%s)", r, errname(r));
}

/* Writes the byte c to fd. */
static inline void put(int fd, char c)
{
	expect_eq(S3(SYS_write, fd, &c, 1), 1, "write one byte");
}

/* Reads one byte from fd, restarting after signals; fails at end of file. */
static inline char get(int fd)
{
	char c;
	long r;
	while ((r = S3(SYS_read, fd, &c, 1)) == -EINTR)
		;
	expect_eq(r, 1, "read one byte");
	return c;
}

/* Sets the action of sig to the SA_SIGINFO handler fn, with flags added and
 * an empty sa_mask. */
static inline void on(int sig, sigaction_fn fn, int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	if (sigaction(sig, &sa, 0) != 0)
		fail("sigaction(%d): errno %d", sig, errno);
}

/* Sets the action of sig to SIG_DFL or SIG_IGN, with flags. */
static inline void set_disposition(int sig, void (*disposition)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = disposition;
	sa.sa_flags = flags;
	if (sigaction(sig, &sa, 0) != 0)
		fail("sigaction(%d): errno %d", sig, errno);
}

/* The handler (or SIG_DFL, SIG_IGN) that sig has now. */
static inline void (*disposition_of(int sig))(int)
{
	struct sigaction sa;
	if (sigaction(sig, 0, &sa) != 0)
		fail("sigaction(%d) query: errno %d", sig, errno);
	return sa.sa_handler;
}

/* Changes the blocked set by how (SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK) with
 * the one signal sig, or with no signal when sig is 0. */
static inline void mask_one(int how, int sig)
{
	sigset_t set;
	sigemptyset(&set);
	if (sig)
		sigaddset(&set, sig);
	if (sigprocmask(how, &set, 0) != 0)
		fail("sigprocmask: errno %d", errno);
}

static inline int is_blocked(int sig)
{
	sigset_t set;
	sigprocmask(SIG_BLOCK, 0, &set);
	return sigismember(&set, sig);
}

static inline int is_pending(int sig)
{
	sigset_t set;
	sigpending(&set);
	return sigismember(&set, sig);
}

static char scratch[64];

/* Sets umask 022 and makes scratch, /tmp/tvisor-proc-PID-NAME, mode 0700. */
static inline void make_scratch(const char *name)
{
	S1(SYS_umask, 022);
	snprintf(scratch, sizeof scratch, "/tmp/tvisor-proc-%ld-%s", S0(SYS_getpid), name);
	expect_eq(S2(SYS_mkdir, scratch, 0700), 0, "mkdir scratch");
}

/* Removes scratch, which must be empty by now. */
static inline void remove_scratch(void)
{
	expect_eq(S1(SYS_rmdir, scratch), 0, "rmdir scratch");
}

/* The path of name under scratch, in one of 8 rotating buffers. */
static inline const char *in_scratch(const char *name)
{
	static char bufs[8][256];
	static int next;
	char *b = bufs[next++ & 7];
	snprintf(b, sizeof bufs[0], "%s/%s", scratch, name);
	return b;
}

#endif
