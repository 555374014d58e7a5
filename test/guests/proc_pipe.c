/* Pipes and readiness, with results exactly as Linux gives them: pipe and
 * pipe2 (O_CLOEXEC, O_NONBLOCK, O_DIRECT packets, EINVAL, EFAULT), ESPIPE,
 * EAGAIN on an empty or full non-blocking pipe, the 64 KiB default capacity
 * and partial writes, F_GETPIPE_SZ/F_SETPIPE_SZ (rounding, EBUSY, EBADF),
 * FIONREAD, atomic PIPE_BUF writes from two writers, end of file once every
 * writer has closed, EPIPE with SIGPIPE (default: the writer dies; ignored,
 * blocked or caught: EPIPE, and the siginfo of SIGPIPE), and poll, ppoll,
 * select and pselect6 over pipes: readiness, POLLHUP, POLLERR, POLLNVAL,
 * timeouts (and the remaining time written back), a wakeup by another
 * process, and the signal mask of ppoll and pselect6. Prints "ok NAME" per
 * check, then "all ok"; on the first failure prints "FAIL: NAME: details"
 * and exits 1.
 *
 * It closes fds 3 to 1023 first (whatever it inherited), so the fd numbers it
 * checks are the same wherever it runs. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

#define BLOCK 4096 /* PIPE_BUF */
#define BLOCKS_EACH 32

static volatile int caught;

static void count(int sig, siginfo_t *si, void *uc)
{
	caught++;
}

static void close_pipe(int fds[2])
{
	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
}

static long unread(int fd)
{
	int n = -1;
	expect_eq(S3(SYS_ioctl, fd, FIONREAD, &n), 0, "FIONREAD");
	return n;
}

/* Writes BLOCK-byte blocks to the non-blocking fd until EAGAIN; returns the bytes written. */
static long fill(int fd)
{
	static char block[BLOCK];
	long total = 0, r;
	while ((r = S3(SYS_write, fd, block, BLOCK)) > 0)
		total += r;
	expect_err(r, EAGAIN, "the write that finds the pipe full");
	return total;
}

/* poll of one fd for events with timeout; returns revents, fails unless poll returns want. */
static int poll_one(int fd, int events, int timeout, long want)
{
	struct pollfd p = {.fd = fd, .events = (short)events, .revents = 0x7fff};
	expect_eq(S3(SYS_poll, &p, 1, timeout), want, "poll");
	return p.revents;
}

int main(void)
{
	int fds[2], fds2[2];
	char buf[256];
	pid_t pid, pid2;
	long t0, r;

	current = "setup";
	for (int i = 3; i < 1024; i++)
		S1(SYS_close, i);
	ok();

	current = "pipe2";
	expect_eq(S2(SYS_pipe2, fds, 0), 0, "pipe2");
	CHECK(fds[0] == 3 && fds[1] == 4, "fds %d %d", fds[0], fds[1]);
	expect_eq(S2(SYS_fcntl, 3, F_GETFL), O_RDONLY, "F_GETFL of the read end");
	expect_eq(S2(SYS_fcntl, 4, F_GETFL), O_WRONLY, "F_GETFL of the write end");
	expect_eq(S2(SYS_fcntl, 3, F_GETFD), 0, "F_GETFD");
	expect_eq(S3(SYS_write, 4, "hello", 5), 5, "write");
	expect_eq(unread(3), 5, "FIONREAD");
	expect_eq(S3(SYS_read, 3, buf, sizeof buf), 5, "read returns what is there");
	CHECK(memcmp(buf, "hello", 5) == 0, "the bytes");
	expect_eq(S3(SYS_write, 4, buf, 0), 0, "write of 0 bytes");
	expect_eq(S3(SYS_read, 3, buf, 0), 0, "read of 0 bytes");
	expect_err(S3(SYS_read, 4, buf, 1), EBADF, "read of the write end");
	expect_err(S3(SYS_write, 3, "x", 1), EBADF, "write to the read end");
	expect_err(S3(SYS_lseek, 3, 0, SEEK_CUR), ESPIPE, "lseek");
	expect_err(S4(SYS_pread64, 3, buf, 1, 0), ESPIPE, "pread64");
	close_pipe(fds);
	expect_eq(S1(SYS_pipe, fds), 0, "pipe");
	CHECK(fds[0] == 3 && fds[1] == 4, "fds %d %d", fds[0], fds[1]);
	close_pipe(fds);
	expect_err(S2(SYS_pipe2, fds, O_APPEND), EINVAL, "pipe2 O_APPEND");
	expect_err(S2(SYS_pipe2, 8, 0), EFAULT, "pipe2 to a bad address");
	ok();

	current = "pipe2 O_CLOEXEC O_NONBLOCK";
	pipe_ok(fds, O_CLOEXEC);
	expect_eq(S2(SYS_fcntl, fds[0], F_GETFD), FD_CLOEXEC, "read end close-on-exec");
	expect_eq(S2(SYS_fcntl, fds[1], F_GETFD), FD_CLOEXEC, "write end close-on-exec");
	close_pipe(fds);
	pipe_ok(fds, O_NONBLOCK);
	expect_eq(S2(SYS_fcntl, fds[0], F_GETFL), O_RDONLY | O_NONBLOCK, "F_GETFL of the read end");
	expect_eq(S2(SYS_fcntl, fds[1], F_GETFL), O_WRONLY | O_NONBLOCK, "F_GETFL of the write end");
	expect_eq(S2(SYS_fcntl, fds[0], F_GETFD), 0, "not close-on-exec");
	expect_err(S3(SYS_read, fds[0], buf, 1), EAGAIN, "read of an empty pipe");
	close_pipe(fds);
	pipe_ok(fds, 0);
	expect_eq(S3(SYS_fcntl, fds[0], F_SETFL, O_NONBLOCK), 0, "F_SETFL O_NONBLOCK");
	expect_err(S3(SYS_read, fds[0], buf, 1), EAGAIN, "read after F_SETFL O_NONBLOCK");
	close_pipe(fds);
	ok();

	current = "a full pipe";
	pipe_ok(fds, O_NONBLOCK);
	expect_eq(S2(SYS_fcntl, fds[0], F_GETPIPE_SZ), 65536, "F_GETPIPE_SZ of the read end");
	expect_eq(S2(SYS_fcntl, fds[1], F_GETPIPE_SZ), 65536, "F_GETPIPE_SZ of the write end");
	expect_eq(fill(fds[1]), 65536, "bytes a new pipe holds");
	expect_eq(unread(fds[0]), 65536, "FIONREAD");
	expect_err(S3(SYS_write, fds[1], "x", 1), EAGAIN, "one more byte");
	{
		static char big[3 * BLOCK];
		expect_eq(S3(SYS_read, fds[0], big, BLOCK), BLOCK, "read a page");
		expect_eq(S3(SYS_write, fds[1], big, sizeof big), BLOCK, "a big write when one page is free is partial");
		expect_err(S3(SYS_write, fds[1], big, sizeof big), EAGAIN, "a big write to a full pipe");
	}
	close_pipe(fds);
	ok();

	current = "F_SETPIPE_SZ";
	pipe_ok(fds, O_NONBLOCK);
	expect_eq(S3(SYS_fcntl, fds[1], F_SETPIPE_SZ, 10000), 16384, "10000 rounds up to 4 pages");
	expect_eq(S2(SYS_fcntl, fds[0], F_GETPIPE_SZ), 16384, "F_GETPIPE_SZ");
	expect_eq(fill(fds[1]), 16384, "bytes the pipe holds");
	expect_err(S3(SYS_fcntl, fds[1], F_SETPIPE_SZ, 4096), EBUSY, "shrink below what it holds");
	expect_eq(S2(SYS_fcntl, fds[0], F_GETPIPE_SZ), 16384, "unchanged");
	close_pipe(fds);
	pipe_ok(fds, 0);
	expect_eq(S3(SYS_fcntl, fds[0], F_SETPIPE_SZ, 1), 4096, "1 rounds up to a page");
	expect_eq(S3(SYS_fcntl, fds[0], F_SETPIPE_SZ, 0), 4096, "0 gives a page");
	expect_eq(S3(SYS_fcntl, fds[0], F_SETPIPE_SZ, 65537), 131072, "65537 rounds up to 32 pages");
	expect_eq(S3(SYS_fcntl, fds[0], F_SETPIPE_SZ, 1048576), 1048576, "1 MiB, the default pipe-max-size");
	close_pipe(fds);
	{
		long fd = S3(SYS_open, "/dev/null", O_RDONLY, 0);
		expect_err(S2(SYS_fcntl, fd, F_GETPIPE_SZ), EBADF, "F_GETPIPE_SZ of /dev/null");
		expect_err(S3(SYS_fcntl, fd, F_SETPIPE_SZ, 4096), EBADF, "F_SETPIPE_SZ of /dev/null");
		S1(SYS_close, fd);
	}
	ok();

	current = "O_DIRECT packets";
	pipe_ok(fds, O_DIRECT | O_NONBLOCK);
	expect_eq(S2(SYS_fcntl, fds[0], F_GETFL), O_RDONLY | O_NONBLOCK, "F_GETFL does not show O_DIRECT");
	expect_eq(S3(SYS_write, fds[1], "abc", 3), 3, "write a packet");
	expect_eq(S3(SYS_write, fds[1], "defgh", 5), 5, "write a packet");
	expect_eq(S3(SYS_read, fds[0], buf, sizeof buf), 3, "a read returns one packet");
	expect_eq(S3(SYS_read, fds[0], buf, 2), 2, "a short read");
	CHECK(memcmp(buf, "de", 2) == 0, "the start of the packet");
	expect_err(S3(SYS_read, fds[0], buf, sizeof buf), EAGAIN, "the rest of the packet was discarded");
	close_pipe(fds);
	ok();

	current = "PIPE_BUF writes are atomic";
	/* Two children each write BLOCKS_EACH blocks of PIPE_BUF bytes of their
	 * own letter; every block read back must be one letter only. */
	pipe_ok(fds, 0);
	pipe_ok(fds2, 0);
	for (int w = 0; w < 2; w++) {
		pid_t p = fork_ok();
		if (p == 0) {
			static char block[BLOCK];
			memset(block, w ? 'B' : 'A', BLOCK);
			S1(SYS_close, fds[0]);
			S1(SYS_close, fds2[1]);
			get(fds2[0]);
			for (int i = 0; i < BLOCKS_EACH; i++)
				expect_eq(S3(SYS_write, fds[1], block, BLOCK), BLOCK, "write a block");
			child_exit(0);
		}
		if (w == 0)
			pid = p;
		else
			pid2 = p;
	}
	S1(SYS_close, fds[1]);
	put(fds2[1], 'g');
	put(fds2[1], 'g');
	{
		static char block[BLOCK];
		int letters[2] = {0, 0};
		for (;;) {
			long got = 0;
			while (got < BLOCK && (r = S3(SYS_read, fds[0], block + got, BLOCK - got)) > 0)
				got += r;
			if (got == 0)
				break;
			expect_eq(got, BLOCK, "a whole block before end of file");
			for (int i = 1; i < BLOCK; i++)
				CHECK(block[i] == block[0], "a block mixes %c and %c", block[0], block[i]);
			CHECK(block[0] == 'A' || block[0] == 'B', "letter %d", block[0]);
			letters[block[0] - 'A']++;
		}
		CHECK(letters[0] == BLOCKS_EACH && letters[1] == BLOCKS_EACH, "blocks %d A, %d B", letters[0],
		      letters[1]);
	}
	expect_exited(pid, 0, "writer A");
	expect_exited(pid2, 0, "writer B");
	S1(SYS_close, fds[0]);
	close_pipe(fds2);
	ok();

	current = "end of file";
	pipe_ok(fds, 0);
	expect_eq(S1(SYS_dup, fds[1]), 5, "dup the write end");
	pid = fork_ok();
	if (pid == 0) {
		S1(SYS_close, fds[0]);
		expect_eq(S3(SYS_write, fds[1], "abc", 3), 3, "write");
		child_exit(0);
	}
	S1(SYS_close, fds[1]);
	expect_exited(pid, 0, "the writer");
	expect_eq(S3(SYS_read, fds[0], buf, sizeof buf), 3, "read what the child wrote");
	expect_eq(S3(SYS_fcntl, fds[0], F_SETFL, O_NONBLOCK), 0, "F_SETFL O_NONBLOCK");
	expect_err(S3(SYS_read, fds[0], buf, sizeof buf), EAGAIN, "a writer (fd 5) is left");
	S1(SYS_close, 5);
	expect_eq(S3(SYS_read, fds[0], buf, sizeof buf), 0, "end of file once every writer closed");
	expect_eq(S3(SYS_read, fds[0], buf, sizeof buf), 0, "and again");
	S1(SYS_close, fds[0]);
	ok();

	current = "EPIPE and SIGPIPE";
	pipe_ok(fds, 0);
	S1(SYS_close, fds[0]);
	pid = fork_ok();
	if (pid == 0) {
		S3(SYS_write, fds[1], "x", 1);
		child_exit(99);
	}
	expect_killed(pid, SIGPIPE, "a writer with SIGPIPE's default action");
	expect_eq(S3(SYS_write, fds[1], "", 0), 0, "a write of 0 bytes raises nothing");
	set_disposition(SIGPIPE, SIG_IGN, 0);
	expect_err(S3(SYS_write, fds[1], "x", 1), EPIPE, "SIGPIPE ignored");
	set_disposition(SIGPIPE, SIG_DFL, 0);
	mask_one(SIG_BLOCK, SIGPIPE);
	expect_err(S3(SYS_write, fds[1], "x", 1), EPIPE, "SIGPIPE blocked");
	CHECK(is_pending(SIGPIPE), "SIGPIPE is pending");
	{
		siginfo_t si;
		sigset_t set;
		struct timespec zero = {0, 0};
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		memset(&si, 0xff, sizeof si);
		expect_eq(S4(SYS_rt_sigtimedwait, &set, &si, &zero, 8), SIGPIPE, "take SIGPIPE");
		CHECK(si.si_signo == SIGPIPE && si.si_code == SI_USER && si.si_pid == getpid() &&
			      si.si_uid == getuid() && si.si_errno == 0,
		      "siginfo signo %d code %d own pid %d", si.si_signo, si.si_code, si.si_pid == getpid());
	}
	mask_one(SIG_UNBLOCK, SIGPIPE);
	on(SIGPIPE, count, 0);
	caught = 0;
	expect_err(S3(SYS_write, fds[1], "x", 1), EPIPE, "SIGPIPE caught");
	expect_eq(caught, 1, "the handler ran once, before write returned");
	expect_eq(S3(SYS_fcntl, fds[1], F_SETFL, O_NONBLOCK), 0, "F_SETFL O_NONBLOCK");
	expect_err(S3(SYS_write, fds[1], "x", 1), EPIPE, "non-blocking");
	expect_eq(caught, 2, "the handler ran again");
	set_disposition(SIGPIPE, SIG_DFL, 0);
	S1(SYS_close, fds[1]);
	ok();

	current = "poll";
	pipe_ok(fds, 0);
	{
		struct pollfd p[4] = {
			{.fd = fds[0], .events = POLLIN},
			{.fd = fds[1], .events = POLLOUT},
			{.fd = fds[1], .events = POLLIN},
			{.fd = -1, .events = POLLIN, .revents = 0x40},
		};
		expect_eq(S3(SYS_poll, p, 4, 0), 1, "only the write end is ready");
		CHECK(p[0].revents == 0 && p[1].revents == POLLOUT && p[2].revents == 0 && p[3].revents == 0,
		      "revents %x %x %x %x", p[0].revents, p[1].revents, p[2].revents, p[3].revents);
	}
	t0 = now_ns();
	expect_eq(poll_one(fds[0], POLLIN, 20, 0), 0, "an empty pipe, 20 ms");
	CHECK(now_ns() - t0 >= 19000000, "poll returned before its timeout");
	expect_eq(S3(SYS_write, fds[1], "x", 1), 1, "write");
	expect_eq(poll_one(fds[0], POLLIN | POLLRDNORM, 0, 1), POLLIN | POLLRDNORM, "readable");
	expect_eq(poll_one(fds[0], POLLOUT, 0, 0), 0, "the read end is never writable");
	S1(SYS_close, fds[1]);
	expect_eq(poll_one(fds[0], POLLIN, 0, 1), POLLIN | POLLHUP, "data and no writer");
	expect_eq(S3(SYS_read, fds[0], buf, 1), 1, "read");
	expect_eq(poll_one(fds[0], POLLIN, 0, 1), POLLHUP, "empty and no writer");
	expect_eq(poll_one(fds[0], 0, 0, 1), POLLHUP, "POLLHUP needs no request");
	S1(SYS_close, fds[0]);
	pipe_ok(fds, O_NONBLOCK);
	fill(fds[1]);
	expect_eq(poll_one(fds[1], POLLOUT, 0, 0), 0, "a full pipe is not writable");
	S1(SYS_close, fds[0]);
	expect_eq(poll_one(fds[1], POLLOUT, 0, 1), POLLERR, "full and no reader");
	S1(SYS_close, fds[1]);
	pipe_ok(fds, 0);
	S1(SYS_close, fds[0]);
	expect_eq(poll_one(fds[1], POLLOUT, 0, 1), POLLOUT | POLLERR, "empty and no reader");
	S1(SYS_close, fds[1]);
	expect_eq(poll_one(fds[1], POLLIN, 0, 1), POLLNVAL, "a closed fd");
	expect_err(S3(SYS_poll, 0, 0x40000001, 0), EINVAL, "nfds above RLIMIT_NOFILE");
	expect_err(S3(SYS_poll, 8, 1, 0), EFAULT, "a bad array");
	ok();

	current = "poll woken by another process";
	pipe_ok(fds, 0);
	pid = fork_ok();
	if (pid == 0) {
		sleep_ms(20);
		put(fds[1], 'x');
		child_exit(0);
	}
	expect_eq(poll_one(fds[0], POLLIN, -1, 1), POLLIN, "poll with no timeout");
	expect_exited(pid, 0, "the writer");
	close_pipe(fds);
	ok();

	current = "ppoll";
	pipe_ok(fds, 0);
	{
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		struct timespec ts = {0, 20000000};
		sigset_t empty;
		t0 = now_ns();
		expect_eq(S5(SYS_ppoll, &p, 1, &ts, 0, 8), 0, "an empty pipe, 20 ms");
		CHECK(now_ns() - t0 >= 19000000, "ppoll returned before its timeout");
		CHECK(ts.tv_sec == 0 && ts.tv_nsec == 0, "the remaining time is written back: %ld.%09ld", (long)ts.tv_sec,
		      ts.tv_nsec);
		ts.tv_nsec = -1;
		expect_err(S5(SYS_ppoll, &p, 1, &ts, 0, 8), EINVAL, "a negative timeout");
		expect_err(S5(SYS_ppoll, &p, 1, 0, &empty, 4), EINVAL, "sigsetsize 4");
		on(SIGUSR1, count, 0);
		mask_one(SIG_BLOCK, SIGUSR1);
		S2(SYS_kill, getpid(), SIGUSR1);
		caught = 0;
		sigemptyset(&empty);
		expect_err(S5(SYS_ppoll, &p, 1, 0, &empty, 8), EINTR, "a pending signal the mask unblocks");
		expect_eq(caught, 1, "the handler ran");
		CHECK(is_blocked(SIGUSR1), "the old mask is back");
		S3(SYS_write, fds[1], "x", 1);
		S2(SYS_kill, getpid(), SIGUSR1);
		expect_eq(S5(SYS_ppoll, &p, 1, 0, 0, 8), 1, "no mask: the blocked signal waits");
		expect_eq(caught, 1, "the handler did not run");
		CHECK(is_pending(SIGUSR1), "SIGUSR1 is pending");
		mask_one(SIG_UNBLOCK, SIGUSR1);
		expect_eq(caught, 2, "the handler ran once unblocked");
		set_disposition(SIGUSR1, SIG_DFL, 0);
	}
	close_pipe(fds);
	ok();

	current = "select";
	pipe_ok(fds, 0);
	{
		fd_set r, w, e;
		struct timeval tv = {0, 20000};
		FD_ZERO(&r);
		FD_SET(fds[0], &r);
		t0 = now_ns();
		expect_eq(S5(SYS_select, fds[0] + 1, &r, 0, 0, &tv), 0, "an empty pipe, 20 ms");
		CHECK(now_ns() - t0 >= 19000000, "select returned before its timeout");
		CHECK(!FD_ISSET(fds[0], &r), "the set is cleared");
		CHECK(tv.tv_sec == 0 && tv.tv_usec == 0, "the remaining time is written back: %ld.%06ld", (long)tv.tv_sec,
		      (long)tv.tv_usec);
		FD_ZERO(&r);
		FD_ZERO(&w);
		FD_ZERO(&e);
		FD_SET(fds[0], &r);
		FD_SET(fds[1], &w);
		FD_SET(fds[0], &e);
		FD_SET(fds[1], &e);
		expect_eq(S5(SYS_select, fds[1] + 1, &r, &w, &e, 0), 1, "the write end is writable");
		CHECK(!FD_ISSET(fds[0], &r) && FD_ISSET(fds[1], &w) && !FD_ISSET(fds[0], &e) && !FD_ISSET(fds[1], &e),
		      "the sets");
		S3(SYS_write, fds[1], "x", 1);
		FD_ZERO(&r);
		FD_ZERO(&w);
		FD_SET(fds[0], &r);
		FD_SET(fds[1], &w);
		tv.tv_sec = 1;
		tv.tv_usec = 0;
		expect_eq(S5(SYS_select, fds[1] + 1, &r, &w, 0, &tv), 2, "both ends are ready");
		CHECK(FD_ISSET(fds[0], &r) && FD_ISSET(fds[1], &w), "the sets");
		CHECK(tv.tv_sec == 0 && tv.tv_usec > 900000, "most of the second remains: %ld.%06ld", (long)tv.tv_sec,
		      (long)tv.tv_usec);
		expect_err(S5(SYS_select, -1, 0, 0, 0, 0), EINVAL, "nfds -1");
		FD_ZERO(&r);
		FD_SET(fds[1] + 1, &r);
		expect_err(S5(SYS_select, fds[1] + 2, &r, 0, 0, 0), EBADF, "a closed fd in the set");
		tv.tv_sec = -1;
		tv.tv_usec = 0;
		FD_ZERO(&r);
		FD_SET(fds[0], &r);
		expect_err(S5(SYS_select, fds[0] + 1, &r, 0, 0, &tv), EINVAL, "a negative timeout");
		tv.tv_sec = 0;
		tv.tv_usec = 1500000;
		expect_eq(S5(SYS_select, fds[0] + 1, &r, 0, 0, &tv), 1, "tv_usec 1500000 is carried into seconds");
		CHECK(tv.tv_sec == 1 && tv.tv_usec > 400000, "remaining %ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
		S1(SYS_close, fds[1]);
		S3(SYS_read, fds[0], buf, 1);
		FD_ZERO(&r);
		FD_SET(fds[0], &r);
		expect_eq(S5(SYS_select, fds[0] + 1, &r, 0, 0, 0), 1, "end of file is readable");
		S1(SYS_close, fds[0]);
	}
	ok();

	current = "pselect6";
	pipe_ok(fds, 0);
	{
		fd_set r;
		struct timespec ts = {0, 20000000};
		sigset_t empty;
		struct {
			sigset_t *set;
			size_t size;
		} mask = {&empty, 8};
		FD_ZERO(&r);
		FD_SET(fds[0], &r);
		t0 = now_ns();
		expect_eq(S6(SYS_pselect6, fds[0] + 1, &r, 0, 0, &ts, 0), 0, "an empty pipe, 20 ms");
		CHECK(now_ns() - t0 >= 19000000, "pselect6 returned before its timeout");
		CHECK(ts.tv_sec == 0 && ts.tv_nsec == 0, "the remaining time is written back");
		on(SIGUSR1, count, 0);
		mask_one(SIG_BLOCK, SIGUSR1);
		S2(SYS_kill, getpid(), SIGUSR1);
		caught = 0;
		sigemptyset(&empty);
		FD_ZERO(&r);
		FD_SET(fds[0], &r);
		expect_err(S6(SYS_pselect6, fds[0] + 1, &r, 0, 0, 0, &mask), EINTR, "a pending signal the mask unblocks");
		expect_eq(caught, 1, "the handler ran");
		CHECK(is_blocked(SIGUSR1), "the old mask is back");
		mask.size = 4;
		expect_err(S6(SYS_pselect6, fds[0] + 1, &r, 0, 0, 0, &mask), EINVAL, "sigsetsize 4");
		mask_one(SIG_UNBLOCK, SIGUSR1);
		set_disposition(SIGUSR1, SIG_DFL, 0);
	}
	close_pipe(fds);
	ok();

	out("all ok\n");
	return 0;
}
