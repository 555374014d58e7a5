/* File descriptors of regular files through raw system calls, with exact
 * results and errnos as Linux gives them: O_CLOEXEC, O_NONBLOCK, O_APPEND and
 * O_PATH; fcntl F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD/F_SETFD, F_GETFL/F_SETFL,
 * F_GETLK/F_SETLK/F_SETLKW (one process) and the open-file-description locks
 * F_OFD_GETLK/F_OFD_SETLK (two opens of one file conflict); close_range.
 * Prints "ok NAME" per check, then "all ok"; on the first failure prints
 * "FAIL: NAME: details" and exits 1.
 *
 * It closes fds 3 to 1023 first (whatever it inherited), so the fd numbers it
 * checks are the same wherever it runs. Everything is written under a fresh
 * directory /tmp/tvisor-fs-PID-fd, removed at the end (its rmdir is the last
 * check). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"
#include "fs.h"

#define X_O_LARGEFILE 0100000 /* set by the kernel on every open of a 64-bit process */
#define X_F_OFD_GETLK 36
#define X_F_OFD_SETLK 37
#define X_CLOSE_RANGE_UNSHARE 2
#define X_CLOSE_RANGE_CLOEXEC 4
#define X_TCGETS 0x5401

static void expect_closed(long fd, const char *what)
{
	expect_err(S2(SYS_fcntl, fd, F_GETFD), EBADF, what);
}

/* fcntl(fd, cmd, &lock) for a lock of type over [start, start + len). */
static long lock(long fd, int cmd, short type, long start, long len, struct flock *fl)
{
	memset(fl, 0, sizeof *fl);
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
	fl->l_start = start;
	fl->l_len = len;
	return S3(SYS_fcntl, fd, cmd, fl);
}

int main(void)
{
	char buf[256];
	long fd, fd2, fd3;
	struct stat st;
	struct flock fl;

	current = "setup";
	for (int i = 3; i < 1024; i++)
		S1(SYS_close, i);
	make_base("fd");
	fd = open_ok(at("f"), O_WRONLY | O_CREAT | O_EXCL, 0644);
	expect_eq(S3(SYS_write, fd, "0123456789", 10), 10, "write f");
	close_ok(fd);
	ok();

	current = "lowest free fd";
	fd = open_ok(at("f"), O_RDONLY, 0);
	expect_eq(fd, 3, "the first open");
	fd2 = open_ok(at("f"), O_RDONLY, 0);
	expect_eq(fd2, 4, "the second open");
	close_ok(fd);
	expect_eq(open_ok(at("f"), O_RDONLY, 0), 3, "an open after closing fd 3");
	close_ok(3);
	close_ok(4);
	ok();

	current = "O_CLOEXEC";
	fd = open_ok(at("f"), O_RDONLY | O_CLOEXEC, 0);
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "F_GETFD of an O_CLOEXEC fd");
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDONLY | X_O_LARGEFILE, "O_CLOEXEC is not a status flag");
	fd2 = open_ok(at("f"), O_RDONLY, 0);
	expect_eq(S2(SYS_fcntl, fd2, F_GETFD), 0, "F_GETFD of a plain fd");
	close_ok(fd2);
	/* dup clears FD_CLOEXEC. */
	fd2 = S1(SYS_dup, fd);
	expect_eq(S2(SYS_fcntl, fd2, F_GETFD), 0, "F_GETFD of a dup");
	close_ok(fd2);
	close_ok(fd);
	ok();

	current = "F_GETFL";
	fd = open_ok(at("f"), O_RDONLY, 0);
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDONLY | X_O_LARGEFILE, "O_RDONLY");
	close_ok(fd);
	fd = open_ok(at("f"), O_WRONLY | O_APPEND, 0);
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_WRONLY | O_APPEND | X_O_LARGEFILE, "O_WRONLY|O_APPEND");
	close_ok(fd);
	fd = open_ok(at("f"), O_RDWR | O_NONBLOCK, 0);
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDWR | O_NONBLOCK | X_O_LARGEFILE, "O_RDWR|O_NONBLOCK");
	close_ok(fd);
	/* Open-time-only flags are not kept. */
	fd = open_ok(at("f"), O_RDWR | O_CREAT | O_NOFOLLOW, 0644);
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDWR | O_NOFOLLOW | X_O_LARGEFILE, "O_RDWR|O_CREAT|O_NOFOLLOW");
	close_ok(fd);
	fd = open_ok(base, O_RDONLY | O_DIRECTORY, 0);
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDONLY | O_DIRECTORY | X_O_LARGEFILE, "O_DIRECTORY");
	close_ok(fd);
	ok();

	current = "F_SETFL";
	fd = open_ok(at("f"), O_RDWR, 0);
	fd2 = S1(SYS_dup, fd);
	expect_eq(S3(SYS_fcntl, fd, F_SETFL, O_APPEND | O_NONBLOCK), 0, "F_SETFL O_APPEND|O_NONBLOCK");
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDWR | O_APPEND | O_NONBLOCK | X_O_LARGEFILE, "F_GETFL after F_SETFL");
	expect_eq(S2(SYS_fcntl, fd2, F_GETFL), O_RDWR | O_APPEND | O_NONBLOCK | X_O_LARGEFILE, "F_GETFL of the dup");
	expect_eq(S3(SYS_write, fd, "a", 1), 1, "write with O_APPEND set by F_SETFL");
	expect_eq(S3(SYS_lseek, fd, 0, SEEK_CUR), 11, "offset after the append");
	/* The access mode and open-time flags cannot be changed. */
	expect_eq(S3(SYS_fcntl, fd, F_SETFL, O_WRONLY | O_TRUNC | O_CREAT), 0, "F_SETFL O_WRONLY|O_TRUNC|O_CREAT");
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDWR | X_O_LARGEFILE, "F_GETFL after F_SETFL 0 changeable flags");
	expect_eq(S4(SYS_pread64, fd, buf, sizeof buf, 0), 11, "still readable, not truncated");
	expect_eq(S2(SYS_ftruncate, fd, 10), 0, "truncate back to 10");
	close_ok(fd2);
	close_ok(fd);
	ok();

	current = "F_GETFD F_SETFD";
	fd = open_ok(at("f"), O_RDONLY, 0);
	fd2 = S1(SYS_dup, fd);
	expect_eq(S3(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC), 0, "F_SETFD FD_CLOEXEC");
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "F_GETFD after F_SETFD");
	expect_eq(S2(SYS_fcntl, fd2, F_GETFD), 0, "the dup's FD_CLOEXEC is its own");
	expect_eq(S3(SYS_fcntl, fd, F_SETFD, 0), 0, "F_SETFD 0");
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), 0, "F_GETFD after F_SETFD 0");
	expect_eq(S3(SYS_fcntl, fd, F_SETFD, 0xff), 0, "F_SETFD 0xff");
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "F_GETFD keeps only FD_CLOEXEC");
	close_ok(fd2);
	close_ok(fd);
	expect_err(S2(SYS_fcntl, 99, F_GETFD), EBADF, "F_GETFD(99)");
	ok();

	current = "F_DUPFD F_DUPFD_CLOEXEC";
	fd = open_ok(at("f"), O_RDONLY | O_CLOEXEC, 0);
	expect_eq(S3(SYS_fcntl, fd, F_DUPFD, 10), 10, "F_DUPFD 10");
	expect_eq(S2(SYS_fcntl, 10, F_GETFD), 0, "F_DUPFD clears FD_CLOEXEC");
	expect_eq(S3(SYS_fcntl, fd, F_DUPFD, 10), 11, "F_DUPFD 10 again");
	expect_eq(S3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 10), 12, "F_DUPFD_CLOEXEC 10");
	expect_eq(S2(SYS_fcntl, 12, F_GETFD), FD_CLOEXEC, "F_DUPFD_CLOEXEC sets FD_CLOEXEC");
	close_ok(11);
	expect_eq(S3(SYS_fcntl, fd, F_DUPFD, 10), 11, "F_DUPFD 10 fills the gap");
	expect_eq(S3(SYS_fcntl, fd, F_DUPFD, 0), 4, "F_DUPFD 0");
	/* A dup shares the offset. */
	expect_eq(S3(SYS_lseek, 12, 7, SEEK_SET), 7, "seek the dup");
	expect_eq(S3(SYS_read, fd, buf, 3), 3, "read the original");
	CHECK(memcmp(buf, "789", 3) == 0, "read \"%.3s\"", buf);
	expect_err(S3(SYS_fcntl, fd, F_DUPFD, -1), EINVAL, "F_DUPFD -1");
	expect_err(S3(SYS_fcntl, fd, F_DUPFD, 0x7fffffff), EINVAL, "F_DUPFD past RLIMIT_NOFILE");
	expect_err(S3(SYS_fcntl, 99, F_DUPFD, 0), EBADF, "F_DUPFD(99)");
	expect_err(S3(SYS_fcntl, fd, 9999, 0), EINVAL, "fcntl command 9999");
	for (int i = 10; i <= 12; i++)
		close_ok(i);
	close_ok(4);
	close_ok(fd);
	ok();

	current = "F_SETLK F_GETLK";
	fd = open_ok(at("f"), O_RDWR, 0);
	expect_eq(lock(fd, F_SETLK, F_WRLCK, 0, 10, &fl), 0, "write-lock 0..10");
	/* The owner's own locks never conflict: F_GETLK reports F_UNLCK. */
	expect_eq(lock(fd, F_GETLK, F_WRLCK, 0, 10, &fl), 0, "F_GETLK F_WRLCK 0..10");
	expect_eq(fl.l_type, F_UNLCK, "l_type");
	expect_eq(fl.l_start, 0, "l_start left as given");
	expect_eq(fl.l_len, 10, "l_len left as given");
	expect_eq(lock(fd, F_SETLK, F_RDLCK, 2, 3, &fl), 0, "read-lock 2..5 inside the write lock");
	expect_eq(lock(fd, F_SETLKW, F_WRLCK, 0, 0, &fl), 0, "F_SETLKW write-lock to EOF and beyond");
	expect_eq(lock(fd, F_SETLK, F_UNLCK, 0, 0, &fl), 0, "unlock everything");
	expect_eq(lock(fd, F_SETLK, F_UNLCK, 0, 0, &fl), 0, "unlock again");
	expect_err(lock(fd, F_SETLK, 5, 0, 1, &fl), EINVAL, "l_type 5");
	expect_err(lock(fd, F_GETLK, F_UNLCK, 0, 1, &fl), EINVAL, "F_GETLK F_UNLCK");
	expect_err(lock(fd, F_SETLK, F_WRLCK, -1, 1, &fl), EINVAL, "l_start -1");
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = 7;
	expect_err(S3(SYS_fcntl, fd, F_SETLK, &fl), EINVAL, "l_whence 7");
	close_ok(fd);
	fd = open_ok(at("f"), O_RDONLY, 0);
	expect_err(lock(fd, F_SETLK, F_WRLCK, 0, 1, &fl), EBADF, "write-lock a read-only fd");
	expect_eq(lock(fd, F_SETLK, F_RDLCK, 0, 1, &fl), 0, "read-lock a read-only fd");
	close_ok(fd);
	fd = open_ok(at("f"), O_WRONLY, 0);
	expect_err(lock(fd, F_SETLK, F_RDLCK, 0, 1, &fl), EBADF, "read-lock a write-only fd");
	close_ok(fd);
	expect_err(lock(99, F_SETLK, F_RDLCK, 0, 1, &fl), EBADF, "F_SETLK(99)");
	ok();

	current = "F_OFD_SETLK F_OFD_GETLK";
	fd = open_ok(at("f"), O_RDWR, 0);
	fd2 = open_ok(at("f"), O_RDWR, 0);
	expect_eq(lock(fd, X_F_OFD_SETLK, F_WRLCK, 0, 4, &fl), 0, "OFD write-lock 0..4 on the first open");
	expect_eq(lock(fd, X_F_OFD_GETLK, F_WRLCK, 0, 4, &fl), 0, "OFD test on the same open");
	expect_eq(fl.l_type, F_UNLCK, "l_type on the same open");
	/* Another open file description conflicts, even in the same process. */
	expect_eq(lock(fd2, X_F_OFD_GETLK, F_RDLCK, 2, 10, &fl), 0, "OFD test on the second open");
	expect_eq(fl.l_type, F_WRLCK, "l_type of the conflict");
	expect_eq(fl.l_start, 0, "l_start of the conflict");
	expect_eq(fl.l_len, 4, "l_len of the conflict");
	expect_eq(fl.l_pid, -1, "l_pid of an OFD lock");
	expect_err(lock(fd2, X_F_OFD_SETLK, F_RDLCK, 3, 1, &fl), EAGAIN, "OFD read-lock over it");
	expect_eq(lock(fd2, X_F_OFD_SETLK, F_RDLCK, 4, 1, &fl), 0, "OFD read-lock next to it");
	/* A process's classic lock conflicts with an OFD lock too. */
	expect_err(lock(fd2, F_SETLK, F_WRLCK, 0, 1, &fl), EAGAIN, "classic write-lock over an OFD lock");
	/* A dup shares the open file description and its locks. */
	fd3 = S1(SYS_dup, fd);
	expect_eq(lock(fd3, X_F_OFD_GETLK, F_WRLCK, 0, 4, &fl), 0, "OFD test on a dup");
	expect_eq(fl.l_type, F_UNLCK, "l_type on a dup");
	close_ok(fd3);
	expect_err(lock(fd, X_F_OFD_SETLK, F_WRLCK, 4, 1, &fl), EAGAIN, "OFD write-lock over the other read lock");
	/* Closing the first open releases its lock. */
	close_ok(fd);
	expect_eq(lock(fd2, X_F_OFD_GETLK, F_WRLCK, 0, 4, &fl), 0, "OFD test after the close");
	expect_eq(fl.l_type, F_UNLCK, "l_type after the close");
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_RDLCK;
	fl.l_pid = 1;
	expect_err(S3(SYS_fcntl, fd2, X_F_OFD_SETLK, &fl), EINVAL, "OFD lock with l_pid 1");
	close_ok(fd2);
	ok();

	current = "O_PATH";
	fd = open_ok(at("f"), O_PATH, 0);
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_PATH, "F_GETFL of an O_PATH fd");
	expect_err(S3(SYS_read, fd, buf, 1), EBADF, "read");
	expect_err(S3(SYS_write, fd, "x", 1), EBADF, "write");
	expect_err(S4(SYS_pread64, fd, buf, 1, 0), EBADF, "pread64");
	expect_err(S3(SYS_lseek, fd, 0, SEEK_SET), EBADF, "lseek");
	expect_err(S2(SYS_ftruncate, fd, 0), EBADF, "ftruncate");
	expect_err(S2(SYS_fchmod, fd, 0600), EBADF, "fchmod");
	expect_err(S3(SYS_fchown, fd, -1, -1), EBADF, "fchown");
	expect_err(S1(SYS_fsync, fd), EBADF, "fsync");
	expect_err(S3(SYS_ioctl, fd, X_TCGETS, buf), EBADF, "ioctl");
	expect_eq(S2(SYS_fstat, fd, &st), 0, "fstat");
	expect_eq(st.st_size, 10, "st_size through O_PATH");
	expect_eq(S4(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH), 0, "newfstatat(AT_EMPTY_PATH)");
	{
		struct statfs sf;
		expect_eq(S2(SYS_fstatfs, fd, &sf), 0, "fstatfs");
	}
	fd2 = S1(SYS_dup, fd);
	CHECK(fd2 >= 0, "dup = %ld (%s)", fd2, errname(fd2));
	expect_eq(S2(SYS_fcntl, fd2, F_GETFL), O_PATH, "F_GETFL of the dup");
	close_ok(fd2);
	close_ok(fd);
	/* A directory opened O_PATH works as a dirfd and for fchdir, not for getdents64. */
	fd = open_ok(base, O_PATH | O_DIRECTORY, 0);
	fd2 = S4(SYS_openat, fd, "f", O_RDONLY, 0);
	CHECK(fd2 >= 0, "openat(O_PATH dirfd, \"f\") = %ld (%s)", fd2, errname(fd2));
	expect_eq(S3(SYS_read, fd2, buf, 3), 3, "read the file opened through an O_PATH dirfd");
	close_ok(fd2);
	expect_err(S3(SYS_getdents64, fd, buf, sizeof buf), EBADF, "getdents64");
	expect_eq(S1(SYS_fchdir, fd), 0, "fchdir");
	expect_eq(S2(SYS_getcwd, buf, sizeof buf), strlen(base) + 1, "getcwd after fchdir");
	CHECK(strcmp(buf, base) == 0, "getcwd is %s", buf);
	expect_eq(S1(SYS_chdir, "/"), 0, "chdir /");
	close_ok(fd);
	ok();

	current = "close_range";
	fd = open_ok(at("f"), O_RDONLY, 0);
	for (int i = 40; i <= 44; i++)
		expect_eq(S2(SYS_dup2, fd, i), i, "dup2 to 40..44");
	expect_eq(S3(SYS_close_range, 41, 43, 0), 0, "close_range 41..43");
	expect_eq(S2(SYS_fcntl, 40, F_GETFD), 0, "fd 40 is open");
	expect_closed(41, "fd 41 is closed");
	expect_closed(42, "fd 42 is closed");
	expect_closed(43, "fd 43 is closed");
	expect_eq(S2(SYS_fcntl, 44, F_GETFD), 0, "fd 44 is open");
	expect_eq(S3(SYS_close_range, 40, 44, X_CLOSE_RANGE_CLOEXEC), 0, "close_range 40..44 CLOSE_RANGE_CLOEXEC");
	expect_eq(S2(SYS_fcntl, 40, F_GETFD), FD_CLOEXEC, "fd 40 is close-on-exec");
	expect_eq(S2(SYS_fcntl, 44, F_GETFD), FD_CLOEXEC, "fd 44 is close-on-exec");
	expect_closed(41, "fd 41 is still closed");
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), 0, "fd below the range is untouched");
	expect_err(S3(SYS_close_range, 44, 40, 0), EINVAL, "close_range 44..40");
	expect_err(S3(SYS_close_range, 40, 44, 0x20), EINVAL, "close_range flags 0x20");
	expect_eq(S3(SYS_close_range, 100, 200, 0), 0, "close_range of closed fds");
	expect_eq(S3(SYS_close_range, 44, 44, X_CLOSE_RANGE_UNSHARE), 0, "close_range 44 CLOSE_RANGE_UNSHARE");
	expect_closed(44, "fd 44 is closed");
	expect_eq(S3(SYS_close_range, 40, ~0U, 0), 0, "close_range 40..~0U");
	expect_closed(40, "fd 40 is closed");
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), 0, "fd below the range is still open");
	close_ok(fd);
	ok();

	current = "cleanup";
	expect_eq(S1(SYS_unlink, at("f")), 0, "unlink f");
	remove_base();
	ok();

	out("all ok\n");
	return 0;
}
