/* eventfd(2) and eventfd2(2) through raw system calls, with the exact
 * results and errnos Linux gives: the flags (EFD_NONBLOCK, EFD_CLOEXEC,
 * EFD_SEMAPHORE, EINVAL), 8-byte reads and writes (EINVAL for a shorter
 * read buffer or a write of another size; a longer read buffer reads one
 * value), the counter's limit (EAGAIN, EINVAL
 * for 2^64-1), semaphore mode, poll readiness, fstat, lseek and
 * /proc/self/fd, EFAULT, and a blocking read that a forked child's write
 * ends. Prints "ok NAME" per check, then "all ok"; on the first failure
 * prints "FAIL: NAME: details" and exits 1. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"
#include "desc.h"

#define MAX_COUNT 0xfffffffffffffffeULL

static void check_flags(void)
{
	current = "flags";
	long fd = S1(SYS_eventfd, 7);
	expect_eq(fd, 3, "eventfd(7)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDWR, "F_GETFL(eventfd)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), 0, "F_GETFD(eventfd)");
	expect_eq(read_u64(fd, "read the initial value"), 7, "initial value");
	S1(SYS_close, fd);
	fd = S2(SYS_eventfd2, 0, EFD_NONBLOCK | EFD_CLOEXEC);
	expect_eq(fd, 3, "eventfd2(EFD_NONBLOCK|EFD_CLOEXEC)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDWR | O_NONBLOCK, "F_GETFL(EFD_NONBLOCK)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "F_GETFD(EFD_CLOEXEC)");
	S1(SYS_close, fd);
	expect_err(S2(SYS_eventfd2, 0, O_APPEND), EINVAL, "eventfd2(O_APPEND)");
	expect_err(S2(SYS_eventfd2, 0, 0x10), EINVAL, "eventfd2(0x10)");
	ok();
}

static void check_read_write(void)
{
	current = "read and write";
	int fd = (int)S2(SYS_eventfd2, 0, EFD_NONBLOCK);
	uint64_t v = 0;
	expect_err(S3(SYS_read, fd, &v, 8), EAGAIN, "read at 0");
	write_u64(fd, 5, "write 5");
	write_u64(fd, 6, "write 6");
	expect_err(S3(SYS_read, fd, &v, 7), EINVAL, "read(7 bytes)");
	expect_err(S3(SYS_write, fd, &v, 4), EINVAL, "write(4 bytes)");
	/* A longer buffer reads one value; a write must be 8 bytes. */
	uint64_t pair[2] = { 100, 200 };
	expect_err(S3(SYS_write, fd, pair, 16), EINVAL, "write(16 bytes)");
	expect_err(S3(SYS_write, fd, pair, 9), EINVAL, "write(9 bytes)");
	write_u64(fd, 100, "write 100");
	memset(pair, 0xff, sizeof pair);
	expect_eq(S3(SYS_read, fd, pair, 16), 8, "read(16 bytes)");
	expect_eq((long)pair[0], 111, "the sum read");
	expect_eq((long)pair[1], -1, "the second word, untouched");
	expect_err(S3(SYS_read, fd, &v, 8), EAGAIN, "read after the counter was taken");
	write_u64(fd, 1, "write 1");
	expect_err(S3(SYS_read, fd, (void *)8, 8), EFAULT, "read into a bad buffer");
	expect_err(S3(SYS_write, fd, (void *)8, 8), EFAULT, "write from a bad buffer");
	/* Linux loses the value a read could not copy out; the Sentry checks
	 * the buffer first and keeps it. Either way, take what is left. */
	S3(SYS_read, fd, &v, 8);
	write_u64(fd, 1, "write 1 again");
	struct iovec iov = { &v, 8 };
	expect_eq(S3(SYS_readv, fd, &iov, 1), 8, "readv");
	expect_eq((long)v, 1, "value read by readv");
	v = 9;
	expect_eq(S3(SYS_writev, fd, &iov, 1), 8, "writev");
	expect_eq(read_u64(fd, "read after writev"), 9, "value written by writev");
	S1(SYS_close, fd);
	ok();
}

static void check_limit(void)
{
	current = "the counter's limit";
	int fd = (int)S2(SYS_eventfd2, 0, EFD_NONBLOCK);
	uint64_t v = ~0ULL;
	expect_err(S3(SYS_write, fd, &v, 8), EINVAL, "write 2^64-1");
	write_u64(fd, MAX_COUNT - 1, "write 2^64-3");
	write_u64(fd, 1, "write up to 2^64-2");
	v = 1;
	expect_err(S3(SYS_write, fd, &v, 8), EAGAIN, "write 1 more");
	write_u64(fd, 0, "write 0 at the limit");
	expect_revents(fd, POLLIN | POLLOUT, POLLIN, "poll at the limit");
	expect_eq((long)read_u64(fd, "read at the limit"), (long)MAX_COUNT, "value at the limit");
	S1(SYS_close, fd);
	ok();
}

static void check_semaphore(void)
{
	current = "semaphore mode";
	int fd = (int)S2(SYS_eventfd2, 3, EFD_SEMAPHORE | EFD_NONBLOCK);
	for (int i = 0; i < 3; i++)
		expect_eq(read_u64(fd, "read in semaphore mode"), 1, "each read takes 1");
	uint64_t v;
	expect_err(S3(SYS_read, fd, &v, 8), EAGAIN, "read at 0 in semaphore mode");
	S1(SYS_close, fd);
	ok();
}

static void check_poll(void)
{
	current = "poll";
	int fd = (int)S2(SYS_eventfd2, 0, 0);
	/* eventfd_poll reports POLLIN and POLLOUT, never POLLRDNORM or POLLWRNORM. */
	expect_revents(fd, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, POLLOUT, "poll at 0");
	expect_revents(fd, POLLIN, 0, "poll for POLLIN at 0");
	write_u64(fd, 2, "write 2");
	expect_revents(fd, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, POLLIN | POLLOUT, "poll at 2");
	S1(SYS_close, fd);
	ok();
}

static void check_file(void)
{
	current = "fstat, lseek and /proc/self/fd";
	int fd = (int)S2(SYS_eventfd2, 0, 0);
	struct stat st;
	expect_eq(S2(SYS_fstat, fd, &st), 0, "fstat");
	expect_eq(st.st_mode, 0600, "st_mode");
	expect_eq(st.st_size, 0, "st_size");
	expect_eq(S3(SYS_lseek, fd, 100, SEEK_SET), 0, "lseek");
	expect_link(fd, "anon_inode:[eventfd]");
	expect_err(S4(SYS_pread64, fd, st.st_size, 8, 0), ESPIPE, "pread64");
	S1(SYS_close, fd);
	ok();
}

static void check_blocking(void)
{
	current = "a blocking read";
	int fd = (int)S2(SYS_eventfd2, 0, 0);
	pid_t pid = fork_ok();
	if (pid == 0) {
		wait_sleeping(getppid());
		uint64_t v = 42;
		child_exit(S3(SYS_write, fd, &v, 8) == 8 ? 0 : 1);
	}
	expect_eq((long)read_u64(fd, "read that waits for the child"), 42, "value the child wrote");
	expect_exited(pid, 0, "the writing child");
	/* A write waits while the counter is full, until a read takes it. */
	write_u64(fd, MAX_COUNT, "fill the counter");
	pid = fork_ok();
	if (pid == 0) {
		wait_sleeping(getppid());
		uint64_t v;
		child_exit(S3(SYS_read, fd, &v, 8) == 8 && v == MAX_COUNT ? 0 : 1);
	}
	write_u64(fd, 3, "write that waits for the child's read");
	expect_exited(pid, 0, "the reading child");
	expect_eq((long)read_u64(fd, "read after the waiting write"), 3, "value of the waiting write");
	S1(SYS_close, fd);
	ok();
}

int main(void)
{
	start();
	check_flags();
	check_read_write();
	check_limit();
	check_semaphore();
	check_poll();
	check_file();
	check_blocking();
	out("all ok\n");
	return 0;
}
