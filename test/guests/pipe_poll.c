/* Pipes and readiness in one process, through raw system calls, with the
 * exact results and errnos Linux gives: pipe and pipe2 (O_CLOEXEC,
 * O_NONBLOCK, O_DIRECT packets, EINVAL, EFAULT without a leaked fd), reads
 * and writes, EAGAIN on an empty or full pipe (a pipe is full when its 16
 * page slots are taken, however little is in them), end of file, EPIPE with
 * SIGPIPE ignored or blocked, F_GETPIPE_SZ/F_SETPIPE_SZ, FIONREAD, fstat,
 * /proc/self/fd links, descriptions shared by dup, sendfile into a pipe, and
 * poll, ppoll, select and pselect6 on pipes (readiness, timeouts and the
 * time left written back, POLLNVAL, EBADF, EINVAL, signal masks).
 * Prints "ok NAME" per check, then "all ok"; on the first failure prints
 * "FAIL: NAME: details" and exits 1.
 *
 * With an argument it does one thing that ends the process instead:
 *   sigpipe       writes to a pipe without readers, SIGPIPE at its default
 *                 action: killed by SIGPIPE after "writing".
 *   ppoll-mask    blocks SIGUSR1, raises it, then ppoll's mask lets it
 *                 through: killed by SIGUSR1 after "polling".
 *   pselect-mask  the same with pselect6.
 *   block-read    prints "blocking", then reads an empty pipe whose writer
 *                 is open: it waits until a signal comes.
 *   poll-forever  prints "polling", then polls that pipe with no timeout.
 *   select-long   prints "selecting", then selects it with a 1 h timeout.
 *   past-max      prints what F_SETPIPE_SZ past pipe-max-size gives: EPERM
 *                 without CAP_SYS_RESOURCE (in the sandbox), else 2097152.
 *
 * It closes fds 3 and up first, so the fd numbers are the same wherever it
 * runs. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

#define X_FIONREAD 0x541b
#define X_F_SETPIPE_SZ 1031
#define X_F_GETPIPE_SZ 1032
#define PAGE 4096

static char buf[1 << 17];

/* make_pipe: pipe2 with flags into p, or fail. */
static void make_pipe(int p[2], int flags)
{
	expect_eq(S2(SYS_pipe2, p, flags), 0, "pipe2");
}

static void close_pipe(int p[2])
{
	S1(SYS_close, p[0]);
	S1(SYS_close, p[1]);
}

/* revents polls one fd for events with timeout 0 and returns its revents,
 * checking poll's count against them. */
static int revents(int fd, int events)
{
	struct pollfd p = { .fd = fd, .events = (short)events, .revents = 0x7fff };
	long r = S3(SYS_poll, &p, 1, 0);
	if (r != (p.revents != 0))
		fail("poll(fd %d, events 0x%x) = %ld with revents 0x%x", fd, events, r, p.revents);
	return p.revents;
}

static void expect_revents(int fd, int events, int want, const char *what)
{
	int got = revents(fd, events);
	if (got != want)
		fail("%s: revents 0x%x, expected 0x%x", what, got, want);
}

static int fionread(int fd)
{
	int n = -1;
	expect_eq(S3(SYS_ioctl, fd, X_FIONREAD, &n), 0, "FIONREAD");
	return n;
}

/* fill writes chunks of `chunk` bytes to the non-blocking fd until EAGAIN
 * and returns the total. */
static long fill(int fd, long chunk)
{
	long total = 0;
	for (;;) {
		long r = S3(SYS_write, fd, buf, chunk);
		if (r == -EAGAIN)
			return total;
		if (r <= 0)
			fail("write(%ld) while filling: %ld (%s)", chunk, r, errname(r));
		total += r;
	}
}

static void set_sigaction(int sig, unsigned long handler)
{
	struct ksigaction sa = { .handler = handler };
	expect_eq(S4(SYS_rt_sigaction, sig, &sa, NULL, 8), 0, "rt_sigaction");
}

static uint64_t sigmask_now(void)
{
	uint64_t m = 0;
	expect_eq(S4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8), 0, "rt_sigprocmask(query)");
	return m;
}

static void set_sigmask(uint64_t m)
{
	expect_eq(S4(SYS_rt_sigprocmask, SIG_SETMASK, &m, NULL, 8), 0, "rt_sigprocmask(SIG_SETMASK)");
}

static uint64_t sigpending_now(void)
{
	uint64_t m = 0;
	expect_eq(S2(SYS_rt_sigpending, &m, 8), 0, "rt_sigpending");
	return m;
}

#define BIT(sig) (1ULL << ((sig) - 1))

static void check_pipe2_flags(void)
{
	current = "pipe2 flags";
	int p[2];
	expect_eq(S1(SYS_pipe, p), 0, "pipe");
	CHECK(p[0] == 3 && p[1] == 4, "pipe gave fds %d, %d, expected 3, 4", p[0], p[1]);
	expect_eq(S2(SYS_fcntl, p[0], F_GETFD), 0, "F_GETFD(read end of pipe())");
	expect_eq(S2(SYS_fcntl, p[0], F_GETFL), O_RDONLY, "F_GETFL(read end)");
	expect_eq(S2(SYS_fcntl, p[1], F_GETFL), O_WRONLY, "F_GETFL(write end)");
	close_pipe(p);
	make_pipe(p, O_CLOEXEC | O_NONBLOCK);
	expect_eq(S2(SYS_fcntl, p[0], F_GETFD), FD_CLOEXEC, "F_GETFD(read end, O_CLOEXEC)");
	expect_eq(S2(SYS_fcntl, p[1], F_GETFD), FD_CLOEXEC, "F_GETFD(write end, O_CLOEXEC)");
	expect_eq(S2(SYS_fcntl, p[0], F_GETFL), O_RDONLY | O_NONBLOCK, "F_GETFL(read end, O_NONBLOCK)");
	expect_eq(S2(SYS_fcntl, p[1], F_GETFL), O_WRONLY | O_NONBLOCK, "F_GETFL(write end, O_NONBLOCK)");
	close_pipe(p);
	/* Only the write end takes O_DIRECT. */
	make_pipe(p, O_DIRECT);
	expect_eq(S2(SYS_fcntl, p[0], F_GETFL), O_RDONLY, "F_GETFL(read end, O_DIRECT)");
	expect_eq(S2(SYS_fcntl, p[1], F_GETFL), O_WRONLY | O_DIRECT, "F_GETFL(write end, O_DIRECT)");
	close_pipe(p);
	expect_err(S2(SYS_pipe2, p, O_APPEND), EINVAL, "pipe2(O_APPEND)");
	/* A bad pointer leaves no fd behind: the next fd is still 3. */
	expect_err(S2(SYS_pipe2, (void *)8, 0), EFAULT, "pipe2(bad pointer)");
	expect_err(S1(SYS_pipe, (void *)8), EFAULT, "pipe(bad pointer)");
	expect_eq(S1(SYS_dup, 0), 3, "dup(0) after the failed pipes");
	S1(SYS_close, 3);
	ok();
}

static void check_read_write(void)
{
	current = "read and write";
	int p[2];
	make_pipe(p, 0);
	expect_eq(S3(SYS_write, p[1], "hello", 5), 5, "write(5)");
	expect_eq(fionread(p[0]), 5, "FIONREAD on the read end");
	expect_eq(fionread(p[1]), 5, "FIONREAD on the write end");
	expect_err(S3(SYS_ioctl, p[0], X_FIONREAD, (void *)8), EFAULT, "FIONREAD(bad pointer)");
	expect_eq(S3(SYS_read, p[0], buf, 0), 0, "read(0 bytes)");
	expect_eq(S3(SYS_read, p[0], buf, 2), 2, "read(2)");
	CHECK(memcmp(buf, "he", 2) == 0, "read(2) gave \"%.2s\"", buf);
	expect_eq(S3(SYS_read, p[0], buf, 100), 3, "read(100) of what is left");
	CHECK(memcmp(buf, "llo", 3) == 0, "read gave \"%.3s\"", buf);
	expect_err(S3(SYS_read, p[1], buf, 1), EBADF, "read on the write end");
	expect_err(S3(SYS_write, p[0], "x", 1), EBADF, "write on the read end");
	expect_err(S3(SYS_lseek, p[0], 0, SEEK_CUR), ESPIPE, "lseek");
	expect_err(S4(SYS_pread64, p[0], buf, 1, 0), ESPIPE, "pread64");
	/* Writes of several buffers are one write; reads scatter. */
	struct iovec out[2] = { { "abc", 3 }, { "defg", 4 } };
	expect_eq(S3(SYS_writev, p[1], out, 2), 7, "writev");
	char a[2], b[8];
	struct iovec in[2] = { { a, 2 }, { b, 8 } };
	expect_eq(S3(SYS_readv, p[0], in, 2), 7, "readv");
	CHECK(memcmp(a, "ab", 2) == 0 && memcmp(b, "cdefg", 5) == 0, "readv gave \"%.2s\" \"%.5s\"", a, b);
	close_pipe(p);
	ok();
}

static void check_eagain(void)
{
	current = "EAGAIN and full pipes";
	int p[2];
	make_pipe(p, O_NONBLOCK);
	expect_err(S3(SYS_read, p[0], buf, 10), EAGAIN, "read of an empty pipe");
	expect_eq(fill(p[1], PAGE), 65536, "bytes written in pages before EAGAIN");
	expect_err(S3(SYS_write, p[1], buf, 1), EAGAIN, "write(1) to a full pipe");
	expect_eq(fionread(p[0]), 65536, "FIONREAD of a full pipe");
	/* Reading a byte frees no slot; reading the rest of the page does. */
	expect_eq(S3(SYS_read, p[0], buf, 1), 1, "read(1)");
	expect_err(S3(SYS_write, p[1], buf, 1), EAGAIN, "write(1) with the first page not read through");
	expect_eq(S3(SYS_read, p[0], buf, PAGE - 1), PAGE - 1, "read of the first page's rest");
	expect_eq(S3(SYS_write, p[1], buf, PAGE), PAGE, "write of a page into the free slot");
	close_pipe(p);

	/* Small writes share pages: 40 writes of 100 bytes fill one. */
	make_pipe(p, O_NONBLOCK);
	expect_eq(fill(p[1], 100), 64000, "bytes written 100 at a time before EAGAIN");
	expect_eq(S3(SYS_write, p[1], buf, 50), 50, "write(50) into the last page's room");
	expect_err(S3(SYS_write, p[1], buf, 5000), EAGAIN, "write(5000) to the full pipe");
	expect_eq(fionread(p[0]), 64050, "FIONREAD");
	close_pipe(p);

	/* A large write to a non-blocking pipe writes what fits. */
	make_pipe(p, O_NONBLOCK);
	expect_eq(S3(SYS_fcntl, p[1], X_F_SETPIPE_SZ, PAGE), PAGE, "F_SETPIPE_SZ(4096)");
	expect_eq(S3(SYS_write, p[1], buf, 10000), PAGE, "write(10000) to a one-page pipe");
	close_pipe(p);
	ok();
}

static void check_packets(void)
{
	current = "packet mode";
	int p[2];
	make_pipe(p, O_DIRECT | O_NONBLOCK);
	expect_eq(S3(SYS_write, p[1], "abc", 3), 3, "write(3)");
	expect_eq(S3(SYS_write, p[1], "defgh", 5), 5, "write(5)");
	expect_eq(S3(SYS_read, p[0], buf, 100), 3, "read of the first packet");
	expect_eq(S3(SYS_read, p[0], buf, 100), 5, "read of the second packet");
	expect_eq(S3(SYS_write, p[1], "0123456789", 10), 10, "write(10)");
	expect_eq(S3(SYS_read, p[0], buf, 4), 4, "read(4) of a 10-byte packet");
	CHECK(memcmp(buf, "0123", 4) == 0, "read gave \"%.4s\"", buf);
	expect_err(S3(SYS_read, p[0], buf, 100), EAGAIN, "read after: the packet's rest is gone");
	/* F_SETFL turns packet mode off and on. */
	expect_eq(S3(SYS_fcntl, p[1], F_SETFL, O_NONBLOCK), 0, "F_SETFL without O_DIRECT");
	expect_eq(S3(SYS_write, p[1], "ab", 2), 2, "write(2)");
	expect_eq(S3(SYS_write, p[1], "cd", 2), 2, "write(2)");
	expect_eq(S3(SYS_read, p[0], buf, 100), 4, "read of two merged writes");
	close_pipe(p);
	ok();
}

static void check_eof(void)
{
	current = "end of file";
	int p[2];
	make_pipe(p, 0);
	expect_eq(S3(SYS_write, p[1], "xy", 2), 2, "write(2)");
	S1(SYS_close, p[1]);
	expect_eq(S3(SYS_read, p[0], buf, 10), 2, "read of what was left");
	expect_eq(S3(SYS_read, p[0], buf, 10), 0, "read at end of file");
	expect_eq(S3(SYS_read, p[0], buf, 10), 0, "read at end of file, again");
	S1(SYS_close, p[0]);
	ok();
}

static void check_epipe(void)
{
	current = "EPIPE";
	int p[2];
	make_pipe(p, 0);
	S1(SYS_close, p[0]);
	set_sigaction(SIGPIPE, (unsigned long)SIG_IGN);
	expect_eq(S3(SYS_write, p[1], buf, 0), 0, "write(0) without readers");
	expect_err(S3(SYS_write, p[1], "x", 1), EPIPE, "write without readers, SIGPIPE ignored");
	CHECK(!(sigpending_now() & BIT(SIGPIPE)), "SIGPIPE pending though ignored");
	/* Blocked at its default action, SIGPIPE stays pending. */
	set_sigaction(SIGPIPE, (unsigned long)SIG_DFL);
	uint64_t own = sigmask_now();
	set_sigmask(own | BIT(SIGPIPE));
	expect_err(S3(SYS_write, p[1], "x", 1), EPIPE, "write without readers, SIGPIPE blocked");
	CHECK(sigpending_now() & BIT(SIGPIPE), "SIGPIPE not pending after EPIPE");
	/* Ignoring it discards it. */
	set_sigaction(SIGPIPE, (unsigned long)SIG_IGN);
	CHECK(!(sigpending_now() & BIT(SIGPIPE)), "SIGPIPE still pending once ignored");
	set_sigmask(own);
	set_sigaction(SIGPIPE, (unsigned long)SIG_DFL);
	S1(SYS_close, p[1]);
	ok();
}

static void check_pipe_size(void)
{
	current = "F_GETPIPE_SZ and F_SETPIPE_SZ";
	int p[2];
	make_pipe(p, O_NONBLOCK);
	expect_eq(S2(SYS_fcntl, p[0], X_F_GETPIPE_SZ), 65536, "F_GETPIPE_SZ of a new pipe");
	expect_eq(S3(SYS_fcntl, p[1], X_F_SETPIPE_SZ, 0), PAGE, "F_SETPIPE_SZ(0)");
	expect_eq(S3(SYS_fcntl, p[1], X_F_SETPIPE_SZ, 5000), 8192, "F_SETPIPE_SZ(5000)");
	expect_eq(S2(SYS_fcntl, p[0], X_F_GETPIPE_SZ), 8192, "F_GETPIPE_SZ on the other end");
	expect_eq(S3(SYS_fcntl, p[1], X_F_SETPIPE_SZ, 1 << 20), 1 << 20, "F_SETPIPE_SZ(pipe-max-size)");
	expect_err(S3(SYS_fcntl, p[1], X_F_SETPIPE_SZ, (1UL << 31) + 1), EINVAL, "F_SETPIPE_SZ(2^31 + 1)");
	/* The argument is an unsigned int: the high half is dropped. */
	expect_eq(S3(SYS_fcntl, p[1], X_F_SETPIPE_SZ, (1UL << 32) | 16384), 16384, "F_SETPIPE_SZ(2^32 + 16384)");
	/* Three pages in use do not fit in two slots. */
	expect_eq(S3(SYS_write, p[1], buf, 2 * PAGE + 1), 2 * PAGE + 1, "write of two pages and a byte");
	expect_err(S3(SYS_fcntl, p[1], X_F_SETPIPE_SZ, 2 * PAGE), EBUSY, "F_SETPIPE_SZ below the content");
	expect_eq(S3(SYS_fcntl, p[1], X_F_SETPIPE_SZ, 3 * PAGE), 4 * PAGE, "F_SETPIPE_SZ(3 pages)");
	expect_eq(fill(p[1], PAGE), PAGE, "room left in four slots");
	close_pipe(p);
	int dir = (int)S2(SYS_open, "/", O_RDONLY | O_DIRECTORY);
	CHECK(dir >= 0, "open(/) = %d", dir);
	expect_err(S2(SYS_fcntl, dir, X_F_GETPIPE_SZ), EBADF, "F_GETPIPE_SZ of a directory");
	expect_err(S3(SYS_fcntl, dir, X_F_SETPIPE_SZ, PAGE), EBADF, "F_SETPIPE_SZ of a directory");
	S1(SYS_close, dir);
	int max = (int)S2(SYS_open, "/proc/sys/fs/pipe-max-size", O_RDONLY);
	CHECK(max >= 0, "open(/proc/sys/fs/pipe-max-size) = %d (%s)", max, errname(max));
	long n = S3(SYS_read, max, buf, 100);
	CHECK(n == 8 && memcmp(buf, "1048576\n", 8) == 0, "pipe-max-size reads \"%.*s\"", (int)(n > 0 ? n : 0), buf);
	S1(SYS_close, max);
	ok();
}

static void check_fstat_and_proc(void)
{
	current = "fstat and /proc/self/fd";
	int p[2], q[2];
	make_pipe(p, 0);
	make_pipe(q, 0);
	expect_eq(S3(SYS_write, p[1], "abc", 3), 3, "write(3)");
	struct stat r, w, other;
	expect_eq(S2(SYS_fstat, p[0], &r), 0, "fstat(read end)");
	expect_eq(S2(SYS_fstat, p[1], &w), 0, "fstat(write end)");
	expect_eq(S2(SYS_fstat, q[0], &other), 0, "fstat(another pipe)");
	CHECK(r.st_mode == (S_IFIFO | 0600), "st_mode 0%o", r.st_mode);
	CHECK(r.st_size == 0, "st_size %ld with 3 bytes in the pipe", (long)r.st_size);
	CHECK(r.st_nlink == 1 && r.st_blksize == PAGE && r.st_blocks == 0, "st_nlink %ld st_blksize %ld st_blocks %ld",
	      (long)r.st_nlink, (long)r.st_blksize, (long)r.st_blocks);
	CHECK(r.st_ino == w.st_ino && r.st_dev == w.st_dev, "the two ends are not one inode");
	CHECK(r.st_ino != other.st_ino, "two pipes share inode %lu", (unsigned long)r.st_ino);
	char path[64], link[64], want[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
	long n = S3(SYS_readlink, path, link, sizeof link - 1);
	CHECK(n > 0, "readlink(%s) = %ld (%s)", path, n, errname(n));
	link[n] = 0;
	snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)r.st_ino);
	CHECK(strcmp(link, want) == 0, "readlink(%s) = \"%s\", expected \"%s\"", path, link, want);
	close_pipe(p);
	close_pipe(q);
	ok();
}

static void check_shared_ends(void)
{
	current = "ends shared by dup";
	int p[2];
	make_pipe(p, 0);
	int w2 = (int)S1(SYS_dup, p[1]);
	CHECK(w2 >= 0, "dup = %d", w2);
	S1(SYS_close, p[1]);
	expect_revents(p[0], POLLIN, 0, "a write end is still open through the dup");
	/* dup2 over the last write end closes it. */
	expect_eq(S2(SYS_dup2, p[0], w2), w2, "dup2(read end, last write end)");
	expect_revents(p[0], POLLIN, POLLHUP, "after the last write end went");
	expect_eq(S3(SYS_read, p[0], buf, 10), 0, "read: end of file");
	S1(SYS_close, w2);
	S1(SYS_close, p[0]);
	ok();
}

static void check_sendfile(void)
{
	current = "sendfile";
	int p[2];
	make_pipe(p, 0);
	int exe = (int)S2(SYS_open, "/proc/self/exe", O_RDONLY);
	CHECK(exe >= 0, "open(/proc/self/exe) = %d", exe);
	/* Into a pipe: as much as fits, and the file offset moves by that. */
	expect_eq(S3(SYS_fcntl, p[1], X_F_SETPIPE_SZ, PAGE), PAGE, "F_SETPIPE_SZ(4096)");
	expect_eq(S4(SYS_sendfile, p[1], exe, NULL, 100000), PAGE, "sendfile(pipe, exe, 100000)");
	expect_eq(S3(SYS_lseek, exe, 0, SEEK_CUR), PAGE, "the file offset after");
	expect_eq(fionread(p[0]), PAGE, "FIONREAD after");
	/* Out of a pipe: no. */
	int devnull = (int)S2(SYS_open, "/dev/null", O_WRONLY);
	expect_err(S4(SYS_sendfile, devnull, p[0], NULL, 10), EINVAL, "sendfile(/dev/null, pipe)");
	S1(SYS_close, devnull);
	S1(SYS_close, exe);
	close_pipe(p);
	ok();
}

static void check_poll(void)
{
	current = "poll";
	int p[2];
	make_pipe(p, O_NONBLOCK);
	expect_revents(p[0], POLLIN | POLLOUT, 0, "empty pipe, read end");
	expect_revents(p[1], POLLIN | POLLOUT, POLLOUT, "empty pipe, write end");
	expect_revents(p[1], POLLOUT | POLLWRNORM, POLLOUT | POLLWRNORM, "write end, POLLWRNORM");
	expect_eq(S3(SYS_write, p[1], "abc", 3), 3, "write(3)");
	expect_revents(p[0], POLLIN | POLLRDNORM, POLLIN | POLLRDNORM, "read end with data");
	fill(p[1], PAGE);
	expect_revents(p[1], POLLOUT, 0, "full pipe, write end");
	struct pollfd set[4] = {
		{ .fd = p[0], .events = POLLIN },
		{ .fd = p[1], .events = POLLOUT },
		{ .fd = 99, .events = POLLIN },
		{ .fd = -1, .events = POLLIN, .revents = 0x7fff },
	};
	expect_eq(S3(SYS_poll, set, 4, 0), 2, "poll(readable, full, closed fd, -1)");
	CHECK(set[0].revents == POLLIN && set[1].revents == 0 && set[2].revents == POLLNVAL && set[3].revents == 0,
	      "revents 0x%x 0x%x 0x%x 0x%x", set[0].revents, set[1].revents, set[2].revents, set[3].revents);
	S1(SYS_close, p[1]);
	expect_revents(p[0], POLLIN, POLLIN | POLLHUP, "writer gone, data left");
	expect_revents(p[0], 0, POLLHUP, "writer gone, no events asked");
	while (S3(SYS_read, p[0], buf, sizeof buf) > 0)
		;
	expect_revents(p[0], POLLIN, POLLHUP, "writer gone, drained");
	S1(SYS_close, p[0]);

	make_pipe(p, 0);
	S1(SYS_close, p[0]);
	expect_revents(p[1], POLLOUT, POLLOUT | POLLERR, "reader gone, write end");
	S1(SYS_close, p[1]);

	make_pipe(p, 0);
	int64_t t0 = mono_ns();
	struct pollfd one = { .fd = p[0], .events = POLLIN };
	expect_eq(S3(SYS_poll, &one, 1, 20), 0, "poll of an empty pipe, 20 ms");
	int64_t dt = mono_ns() - t0;
	CHECK(dt >= 20000000, "poll with a 20 ms timeout returned after %lld ns", (long long)dt);
	expect_err(S3(SYS_poll, &one, 1UL << 30, 0), EINVAL, "poll(nfds 2^30)");
	expect_err(S3(SYS_poll, (void *)8, 1, 0), EFAULT, "poll(bad pointer)");
	close_pipe(p);
	ok();
}

static void check_ppoll(void)
{
	current = "ppoll";
	int p[2];
	make_pipe(p, 0);
	struct pollfd w = { .fd = p[1], .events = POLLOUT };
	/* Ready at once: the time left is written back. */
	struct timespec ts = { 5, 0 };
	expect_eq(S5(SYS_ppoll, &w, 1, &ts, NULL, 8), 1, "ppoll(writable, 5 s)");
	CHECK(ts.tv_sec == 4 && ts.tv_nsec > 0, "time left %ld.%09ld s", (long)ts.tv_sec, ts.tv_nsec);
	struct pollfd r = { .fd = p[0], .events = POLLIN };
	ts = (struct timespec){ 0, 20000000 };
	int64_t t0 = mono_ns();
	expect_eq(S5(SYS_ppoll, &r, 1, &ts, NULL, 8), 0, "ppoll(empty, 20 ms)");
	int64_t dt = mono_ns() - t0;
	CHECK(dt >= 20000000, "ppoll with a 20 ms timeout returned after %lld ns", (long long)dt);
	CHECK(ts.tv_sec == 0 && ts.tv_nsec == 0, "time left %ld.%09ld s after the timeout", (long)ts.tv_sec, ts.tv_nsec);
	ts = (struct timespec){ 0, 0 };
	expect_eq(S5(SYS_ppoll, &r, 1, &ts, NULL, 8), 0, "ppoll(empty, 0)");
	struct timespec bad = { 0, 1000000000 };
	expect_err(S5(SYS_ppoll, &r, 1, &bad, NULL, 8), EINVAL, "ppoll(tv_nsec 1e9)");
	bad = (struct timespec){ -1, 0 };
	expect_err(S5(SYS_ppoll, &r, 1, &bad, NULL, 8), EINVAL, "ppoll(tv_sec -1)");
	uint64_t mask = 0;
	expect_err(S5(SYS_ppoll, &r, 1, &ts, &mask, 4), EINVAL, "ppoll(sigsetsize 4)");
	expect_err(S5(SYS_ppoll, &r, 1, &ts, (void *)8, 8), EFAULT, "ppoll(bad mask pointer)");
	/* A pending signal the call's mask keeps blocked does not interrupt it;
	 * the task's own mask comes back after. */
	uint64_t own = sigmask_now();
	set_sigmask(own | BIT(SIGUSR1));
	expect_eq(S2(SYS_kill, S0(SYS_getpid), SIGUSR1), 0, "kill(self, SIGUSR1)");
	mask = BIT(SIGUSR1) | BIT(SIGUSR2);
	expect_eq(S5(SYS_ppoll, &r, 1, &ts, &mask, 8), 0, "ppoll(empty, 0, mask blocking SIGUSR1)");
	CHECK(sigmask_now() == (own | BIT(SIGUSR1)), "mask after ppoll 0x%llx", (unsigned long long)sigmask_now());
	CHECK(sigpending_now() & BIT(SIGUSR1), "SIGUSR1 no longer pending");
	/* Ignoring the signal discards it. */
	set_sigaction(SIGUSR1, (unsigned long)SIG_IGN);
	set_sigaction(SIGUSR1, (unsigned long)SIG_DFL);
	set_sigmask(own);
	close_pipe(p);
	ok();
}

static void fd_set_only(fd_set *s, int fd)
{
	FD_ZERO(s);
	FD_SET(fd, s);
}

static void check_select(void)
{
	current = "select";
	int p[2];
	make_pipe(p, O_NONBLOCK);
	fd_set rd, wr, ex;
	struct timeval tv = { 0, 0 };
	fd_set_only(&rd, p[0]);
	fd_set_only(&wr, p[1]);
	FD_ZERO(&ex);
	FD_SET(p[0], &ex);
	FD_SET(p[1], &ex);
	expect_eq(S5(SYS_select, p[1] + 1, &rd, &wr, &ex, &tv), 1, "select(empty pipe)");
	CHECK(!FD_ISSET(p[0], &rd) && FD_ISSET(p[1], &wr) && !FD_ISSET(p[0], &ex) && !FD_ISSET(p[1], &ex),
	      "sets after: read %d write %d", FD_ISSET(p[0], &rd), FD_ISSET(p[1], &wr));
	expect_eq(S3(SYS_write, p[1], "a", 1), 1, "write(1)");
	fd_set_only(&rd, p[0]);
	fd_set_only(&wr, p[1]);
	/* Ready at once: the time left is written back; 2.5e6 µs are 2.5 s. */
	tv = (struct timeval){ 0, 2500000 };
	expect_eq(S5(SYS_select, p[1] + 1, &rd, &wr, NULL, &tv), 2, "select(readable and writable, 2.5 s)");
	CHECK(FD_ISSET(p[0], &rd) && FD_ISSET(p[1], &wr), "sets after: read %d write %d", FD_ISSET(p[0], &rd), FD_ISSET(p[1], &wr));
	CHECK(tv.tv_sec == 2 && tv.tv_usec >= 400000, "time left %ld.%06ld s", (long)tv.tv_sec, (long)tv.tv_usec);
	/* Bits at or past nfds are not looked at: those in the words that
	 * cover nfds come back cleared, the words after are left alone. */
	fd_set_only(&rd, p[0]);
	FD_SET(p[1] + 5, &rd);
	FD_SET(100, &rd);
	tv = (struct timeval){ 0, 0 };
	expect_eq(S5(SYS_select, p[1] + 1, &rd, NULL, NULL, &tv), 1, "select(nfds below set bits)");
	CHECK(FD_ISSET(p[0], &rd) && !FD_ISSET(p[1] + 5, &rd) && FD_ISSET(100, &rd), "read set after: fd %d %d, fd %d %d, fd 100 %d",
	      p[0], FD_ISSET(p[0], &rd), p[1] + 5, FD_ISSET(p[1] + 5, &rd), FD_ISSET(100, &rd));
	/* A closed fd in a set: EBADF. */
	fd_set_only(&rd, 20);
	expect_err(S5(SYS_select, 21, &rd, NULL, NULL, &tv), EBADF, "select(closed fd)");
	expect_err(S5(SYS_select, -1, NULL, NULL, NULL, &tv), EINVAL, "select(nfds -1)");
	tv = (struct timeval){ 0, -1 };
	expect_err(S5(SYS_select, 0, NULL, NULL, NULL, &tv), EINVAL, "select(tv_usec -1)");
	tv = (struct timeval){ -1, 0 };
	expect_err(S5(SYS_select, 0, NULL, NULL, NULL, &tv), EINVAL, "select(tv_sec -1)");
	expect_err(S5(SYS_select, p[1] + 1, (void *)8, NULL, NULL, NULL), EFAULT, "select(bad set)");
	/* A write end without readers is writable, and readable too (POLLERR). */
	S3(SYS_read, p[0], buf, 10);
	S1(SYS_close, p[0]);
	fd_set_only(&rd, p[1]);
	fd_set_only(&wr, p[1]);
	tv = (struct timeval){ 0, 0 };
	expect_eq(S5(SYS_select, p[1] + 1, &rd, &wr, NULL, &tv), 2, "select(write end without readers)");
	S1(SYS_close, p[1]);
	/* A read end with the writer gone is readable. */
	make_pipe(p, 0);
	S1(SYS_close, p[1]);
	fd_set_only(&rd, p[0]);
	expect_eq(S5(SYS_select, p[0] + 1, &rd, NULL, NULL, &tv), 1, "select(read end, writer gone)");
	S1(SYS_close, p[0]);
	/* Nothing ready: 20 ms pass and no time is left. */
	make_pipe(p, 0);
	fd_set_only(&rd, p[0]);
	tv = (struct timeval){ 0, 20000 };
	int64_t t0 = mono_ns();
	expect_eq(S5(SYS_select, p[0] + 1, &rd, NULL, NULL, &tv), 0, "select(empty pipe, 20 ms)");
	int64_t dt = mono_ns() - t0;
	CHECK(dt >= 20000000, "select with a 20 ms timeout returned after %lld ns", (long long)dt);
	CHECK(!FD_ISSET(p[0], &rd), "read set not cleared after the timeout");
	CHECK(tv.tv_sec == 0 && tv.tv_usec == 0, "time left %ld.%06ld s after the timeout", (long)tv.tv_sec, (long)tv.tv_usec);
	close_pipe(p);
	ok();
}

struct sigset_argpack {
	const uint64_t *mask;
	size_t size;
};

static void check_pselect6(void)
{
	current = "pselect6";
	int p[2];
	make_pipe(p, 0);
	fd_set wr;
	fd_set_only(&wr, p[1]);
	struct timespec ts = { 3, 0 };
	expect_eq(S6(SYS_pselect6, p[1] + 1, NULL, &wr, NULL, &ts, NULL), 1, "pselect6(writable, 3 s)");
	CHECK(ts.tv_sec == 2 && ts.tv_nsec > 0, "time left %ld.%09ld s", (long)ts.tv_sec, ts.tv_nsec);
	fd_set rd;
	fd_set_only(&rd, p[0]);
	ts = (struct timespec){ 0, 20000000 };
	int64_t t0 = mono_ns();
	expect_eq(S6(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &ts, NULL), 0, "pselect6(empty, 20 ms)");
	int64_t dt = mono_ns() - t0;
	CHECK(dt >= 20000000, "pselect6 with a 20 ms timeout returned after %lld ns", (long long)dt);
	CHECK(ts.tv_sec == 0 && ts.tv_nsec == 0, "time left %ld.%09ld s after the timeout", (long)ts.tv_sec, ts.tv_nsec);
	uint64_t mask = 0;
	struct sigset_argpack pack = { &mask, 4 };
	ts = (struct timespec){ 0, 0 };
	fd_set_only(&rd, p[0]);
	expect_err(S6(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &ts, &pack), EINVAL, "pselect6(sigsetsize 4)");
	expect_err(S6(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &ts, (void *)8), EFAULT, "pselect6(bad argpack)");
	pack = (struct sigset_argpack){ NULL, 4 };
	expect_eq(S6(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &ts, &pack), 0, "pselect6(no mask, any size)");
	pack = (struct sigset_argpack){ &mask, 8 };
	uint64_t own = sigmask_now();
	mask = BIT(SIGUSR2);
	expect_eq(S6(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &ts, &pack), 0, "pselect6(empty, 0, a mask)");
	CHECK(sigmask_now() == own, "mask after pselect6 0x%llx", (unsigned long long)sigmask_now());
	ts = (struct timespec){ 0, 1000000000 };
	expect_err(S6(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &ts, NULL), EINVAL, "pselect6(tv_nsec 1e9)");
	close_pipe(p);
	ok();
}

/* die_of_sigpipe writes to a pipe without readers, SIGPIPE at its default action. */
static void die_of_sigpipe(void)
{
	int p[2];
	make_pipe(p, 0);
	S1(SYS_close, p[0]);
	out("writing\n");
	long r = S3(SYS_write, p[1], "x", 1);
	out("FAIL: still alive after write = %ld (%s)\n", r, errname(r));
}

/* die_in_wait_with_mask makes SIGUSR1 pending and blocked, then waits
 * (ppoll or pselect6) with a mask that lets it through. */
static void die_in_wait_with_mask(int use_pselect)
{
	int p[2];
	make_pipe(p, 0);
	uint64_t own = sigmask_now();
	set_sigmask(own | BIT(SIGUSR1));
	expect_eq(S2(SYS_kill, S0(SYS_getpid), SIGUSR1), 0, "kill(self, SIGUSR1)");
	uint64_t mask = 0;
	struct timespec ts = { 1, 0 };
	out("polling\n");
	long r;
	if (use_pselect) {
		fd_set rd;
		fd_set_only(&rd, p[0]);
		struct sigset_argpack pack = { &mask, 8 };
		r = S6(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &ts, &pack);
	} else {
		struct pollfd one = { .fd = p[0], .events = POLLIN };
		r = S5(SYS_ppoll, &one, 1, &ts, &mask, 8);
	}
	out("FAIL: still alive after the wait = %ld (%s)\n", r, errname(r));
}

int main(int argc, char **argv)
{
	S3(SYS_close_range, 3, ~0U, 0);
	if (argc > 1) {
		int p[2];
		if (strcmp(argv[1], "sigpipe") == 0) {
			die_of_sigpipe();
		} else if (strcmp(argv[1], "ppoll-mask") == 0) {
			die_in_wait_with_mask(0);
		} else if (strcmp(argv[1], "pselect-mask") == 0) {
			die_in_wait_with_mask(1);
		} else if (strcmp(argv[1], "block-read") == 0) {
			make_pipe(p, 0);
			out("blocking\n");
			long r = S3(SYS_read, p[0], buf, 1);
			out("read returned %ld (%s)\n", r, errname(r));
		} else if (strcmp(argv[1], "poll-forever") == 0) {
			make_pipe(p, 0);
			struct pollfd one = { .fd = p[0], .events = POLLIN };
			out("polling\n");
			long r = S3(SYS_poll, &one, 1, -1);
			out("poll returned %ld (%s)\n", r, errname(r));
		} else if (strcmp(argv[1], "select-long") == 0) {
			make_pipe(p, 0);
			fd_set rd;
			fd_set_only(&rd, p[0]);
			struct timeval tv = { 3600, 0 };
			out("selecting\n");
			long r = S5(SYS_select, p[0] + 1, &rd, NULL, NULL, &tv);
			out("select returned %ld (%s)\n", r, errname(r));
		} else if (strcmp(argv[1], "past-max") == 0) {
			make_pipe(p, 0);
			long r = S3(SYS_fcntl, p[1], X_F_SETPIPE_SZ, (1 << 20) + 1);
			out("F_SETPIPE_SZ(1048577) = %ld (%s)\n", r, errname(r));
		} else {
			out("unknown mode %s\n", argv[1]);
		}
		return 1;
	}
	check_pipe2_flags();
	check_read_write();
	check_eagain();
	check_packets();
	check_eof();
	check_epipe();
	check_pipe_size();
	check_fstat_and_proc();
	check_shared_ends();
	check_sendfile();
	check_poll();
	check_ppoll();
	check_select();
	check_pselect6();
	out("all ok\n");
	return 0;
}
