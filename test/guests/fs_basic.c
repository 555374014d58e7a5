/* Regular files through raw system calls, with exact results and errnos as
 * Linux gives them on ext4 and tmpfs: open, openat, creat and close with their
 * flags; read, write and the positioned and vectored variants; lseek (with
 * SEEK_DATA and SEEK_HOLE); truncate, ftruncate, fallocate, fsync, fdatasync,
 * sync; sendfile and copy_file_range; an unlinked file that is still open.
 * Prints "ok NAME" per check, then "all ok"; on the first failure prints
 * "FAIL: NAME: details" and exits 1.
 *
 * Everything is written under a fresh directory /tmp/tvisor-fs-PID-basic,
 * removed at the end (its rmdir is the last check). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "guest.h"
#include "fs.h"

#define X_FALLOC_FL_KEEP_SIZE 1

static long size_of(long fd)
{
	struct stat st;
	expect_eq(S2(SYS_fstat, fd, &st), 0, "fstat");
	return st.st_size;
}

static long offset_of(long fd)
{
	return S3(SYS_lseek, fd, 0, SEEK_CUR);
}

/* Expect the whole file (read with pread64) to be exactly want[0..n). */
static void expect_content(long fd, const char *want, long n)
{
	char got[8192];
	expect_eq(size_of(fd), n, "file size");
	expect_eq(S4(SYS_pread64, fd, got, sizeof got, 0), n, "pread64 of the whole file");
	CHECK(memcmp(got, want, n) == 0, "content differs: got \"%.*s\"", (int)n, got);
}

int main(void)
{
	char buf[8192];
	long fd, fd2, dirfd;

	current = "setup";
	make_base("basic");
	ok();

	current = "open";
	expect_err(S3(SYS_open, at("missing"), O_RDONLY, 0), ENOENT, "open a missing file");
	fd = open_ok(at("f"), O_RDWR | O_CREAT | O_EXCL, 0644);
	expect_err(S3(SYS_open, at("f"), O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST, "O_CREAT|O_EXCL on a file");
	expect_err(S3(SYS_open, base, O_WRONLY, 0), EISDIR, "open a directory O_WRONLY");
	expect_err(S3(SYS_open, base, O_RDWR, 0), EISDIR, "open a directory O_RDWR");
	expect_err(S3(SYS_open, at("f"), O_RDONLY | O_DIRECTORY, 0), ENOTDIR, "O_DIRECTORY on a file");
	expect_err(S3(SYS_open, at("missing/x"), O_RDWR | O_CREAT, 0644), ENOENT, "O_CREAT in a missing dir");
	expect_err(S3(SYS_open, at("f/x"), O_RDONLY, 0), ENOTDIR, "a file as a directory");
	expect_err(S3(SYS_open, at("f/x"), O_RDWR | O_CREAT, 0644), ENOTDIR, "O_CREAT under a file");
	expect_err(S3(SYS_open, at("f/"), O_RDONLY, 0), ENOTDIR, "a file with a trailing slash");
	expect_err(S3(SYS_open, at("new/"), O_RDWR | O_CREAT, 0644), EISDIR, "O_CREAT with a trailing slash");
	expect_err(S3(SYS_open, "", O_RDONLY, 0), ENOENT, "open(\"\")");
	/* The lowest free descriptor is reused. */
	close_ok(fd);
	fd2 = open_ok(at("f"), O_RDONLY, 0);
	expect_eq(fd2, fd, "reopened fd number");
	close_ok(fd2);
	dirfd = open_ok(base, O_RDONLY | O_DIRECTORY, 0);
	expect_err(S3(SYS_read, dirfd, buf, 1), EISDIR, "read a directory");
	close_ok(dirfd);
	ok();

	current = "openat";
	dirfd = open_ok(base, O_RDONLY | O_DIRECTORY, 0);
	fd = S4(SYS_openat, dirfd, "f", O_RDONLY, 0);
	CHECK(fd >= 0, "openat(dirfd, \"f\") = %ld (%s)", fd, errname(fd));
	expect_err(S4(SYS_openat, fd, "x", O_RDONLY, 0), ENOTDIR, "openat with a file as dirfd");
	expect_err(S4(SYS_openat, 99, "f", O_RDONLY, 0), EBADF, "openat with a closed dirfd");
	expect_err(S4(SYS_openat, dirfd, "", O_RDONLY, 0), ENOENT, "openat(dirfd, \"\")");
	close_ok(fd);
	/* An absolute path ignores dirfd, even a closed one. */
	fd = S4(SYS_openat, 99, at("f"), O_RDONLY, 0);
	CHECK(fd >= 0, "openat(99, absolute) = %ld (%s)", fd, errname(fd));
	close_ok(fd);
	fd = S4(SYS_openat, AT_FDCWD, at("f"), O_RDONLY, 0);
	CHECK(fd >= 0, "openat(AT_FDCWD, absolute) = %ld (%s)", fd, errname(fd));
	close_ok(fd);
	fd = S4(SYS_openat, dirfd, "g", O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0, "openat(dirfd, \"g\", O_CREAT) = %ld (%s)", fd, errname(fd));
	close_ok(fd);
	expect_eq(S1(SYS_unlink, at("g")), 0, "unlink g");
	close_ok(dirfd);
	ok();

	current = "creat";
	fd = S2(SYS_creat, at("c"), 0600);
	CHECK(fd >= 0, "creat = %ld (%s)", fd, errname(fd));
	expect_eq(S2(SYS_fcntl, fd, F_GETFL) & O_ACCMODE, O_WRONLY, "creat's access mode");
	expect_eq(S3(SYS_write, fd, "abc", 3), 3, "write");
	expect_err(S3(SYS_read, fd, buf, 1), EBADF, "read a write-only fd");
	close_ok(fd);
	/* creat on an existing file truncates it. */
	fd = S2(SYS_creat, at("c"), 0600);
	CHECK(fd >= 0, "creat again = %ld (%s)", fd, errname(fd));
	expect_eq(size_of(fd), 0, "size after the second creat");
	close_ok(fd);
	expect_eq(S1(SYS_unlink, at("c")), 0, "unlink c");
	ok();

	current = "close";
	fd = open_ok(at("f"), O_RDONLY, 0);
	close_ok(fd);
	expect_err(S1(SYS_close, fd), EBADF, "close twice");
	expect_err(S1(SYS_close, -1), EBADF, "close(-1)");
	expect_err(S3(SYS_read, fd, buf, 1), EBADF, "read a closed fd");
	ok();

	current = "read write";
	fd = open_ok(at("f"), O_RDWR, 0);
	expect_eq(S3(SYS_write, fd, "hello, world\n", 13), 13, "write 13 bytes");
	expect_eq(offset_of(fd), 13, "offset after the write");
	expect_eq(S3(SYS_read, fd, buf, sizeof buf), 0, "read at EOF");
	expect_eq(S3(SYS_write, fd, "x", 0), 0, "write 0 bytes");
	expect_eq(S3(SYS_lseek, fd, 0, SEEK_SET), 0, "rewind");
	expect_eq(S3(SYS_read, fd, buf, 5), 5, "read 5");
	CHECK(memcmp(buf, "hello", 5) == 0, "read \"%.5s\"", buf);
	expect_eq(S3(SYS_read, fd, buf, sizeof buf), 8, "read the rest");
	CHECK(memcmp(buf, ", world\n", 8) == 0, "read \"%.8s\"", buf);
	expect_eq(S3(SYS_lseek, fd, 7, SEEK_SET), 7, "seek to 7");
	expect_eq(S3(SYS_write, fd, "WORLD", 5), 5, "overwrite");
	expect_content(fd, "hello, WORLD\n", 13);
	close_ok(fd);
	fd = open_ok(at("f"), O_RDONLY, 0);
	expect_err(S3(SYS_write, fd, "x", 1), EBADF, "write a read-only fd");
	close_ok(fd);
	fd = open_ok(at("f"), O_WRONLY, 0);
	expect_err(S3(SYS_read, fd, buf, 1), EBADF, "read a write-only fd");
	close_ok(fd);
	ok();

	current = "two opens have their own offsets";
	fd = open_ok(at("f"), O_RDONLY, 0);
	fd2 = open_ok(at("f"), O_RDONLY, 0);
	expect_eq(S3(SYS_read, fd, buf, 6), 6, "read 6 on the first");
	expect_eq(offset_of(fd2), 0, "offset of the second");
	expect_eq(S3(SYS_read, fd2, buf, 2), 2, "read 2 on the second");
	CHECK(memcmp(buf, "he", 2) == 0, "second read \"%.2s\"", buf);
	close_ok(fd2);
	/* A dup shares the offset. */
	fd2 = S1(SYS_dup, fd);
	CHECK(fd2 >= 0, "dup = %ld", fd2);
	expect_eq(offset_of(fd2), 6, "offset of the dup");
	expect_eq(S3(SYS_lseek, fd2, 1, SEEK_SET), 1, "seek the dup");
	expect_eq(offset_of(fd), 1, "offset of the original after seeking the dup");
	close_ok(fd2);
	close_ok(fd);
	ok();

	current = "O_TRUNC";
	fd = open_ok(at("f"), O_RDWR | O_TRUNC, 0);
	expect_eq(size_of(fd), 0, "size after O_RDWR|O_TRUNC");
	close_ok(fd);
	write_file(at("f"), "abc");
	/* Linux truncates even with O_RDONLY (POSIX leaves it undefined). */
	fd = open_ok(at("f"), O_RDONLY | O_TRUNC, 0);
	expect_eq(size_of(fd), 0, "size after O_RDONLY|O_TRUNC");
	close_ok(fd);
	ok();

	current = "O_APPEND";
	write_file(at("f"), "abc");
	fd = open_ok(at("f"), O_RDWR | O_APPEND, 0);
	expect_eq(offset_of(fd), 0, "offset after open");
	expect_eq(S3(SYS_write, fd, "de", 2), 2, "append");
	expect_eq(offset_of(fd), 5, "offset after the append");
	expect_eq(S3(SYS_lseek, fd, 1, SEEK_SET), 1, "seek to 1");
	expect_eq(S3(SYS_write, fd, "f", 1), 1, "append after a seek");
	expect_eq(offset_of(fd), 6, "offset after appending from 1");
	/* Linux's pwrite on an O_APPEND fd appends, ignoring the offset (pwrite(2) BUGS). */
	expect_eq(S4(SYS_pwrite64, fd, "g", 1, 0), 1, "pwrite64 at 0");
	expect_eq(offset_of(fd), 6, "offset after pwrite64");
	expect_content(fd, "abcdefg", 7);
	close_ok(fd);
	ok();

	current = "pread64 pwrite64";
	write_file(at("f"), "0123456789");
	fd = open_ok(at("f"), O_RDWR, 0);
	expect_eq(S3(SYS_lseek, fd, 3, SEEK_SET), 3, "seek to 3");
	expect_eq(S4(SYS_pwrite64, fd, "AB", 2, 5), 2, "pwrite64 at 5");
	expect_eq(S4(SYS_pread64, fd, buf, 4, 4), 4, "pread64 at 4");
	CHECK(memcmp(buf, "4AB7", 4) == 0, "pread64 read \"%.4s\"", buf);
	expect_eq(S4(SYS_pread64, fd, buf, 100, 8), 2, "pread64 across EOF");
	expect_eq(S4(SYS_pread64, fd, buf, 100, 10), 0, "pread64 at EOF");
	expect_eq(S4(SYS_pread64, fd, buf, 100, 1000), 0, "pread64 past EOF");
	expect_eq(offset_of(fd), 3, "offset unchanged");
	expect_err(S4(SYS_pread64, fd, buf, 1, -1), EINVAL, "pread64 at -1");
	expect_err(S4(SYS_pwrite64, fd, "x", 1, -1), EINVAL, "pwrite64 at -1");
	/* Writing past EOF fills the gap with zeros. */
	expect_eq(S4(SYS_pwrite64, fd, "Z", 1, 14), 1, "pwrite64 past EOF");
	expect_content(fd, "01234AB789\0\0\0\0Z", 15);
	close_ok(fd);
	ok();

	current = "readv writev";
	fd = open_ok(at("f"), O_RDWR | O_TRUNC, 0);
	{
		struct iovec w[3] = { { "ab", 2 }, { "", 0 }, { "cdef", 4 } };
		expect_eq(S3(SYS_writev, fd, w, 3), 6, "writev");
		expect_eq(offset_of(fd), 6, "offset after writev");
		char a[2], b[10];
		struct iovec r[2] = { { a, sizeof a }, { b, sizeof b } };
		expect_eq(S3(SYS_lseek, fd, 1, SEEK_SET), 1, "seek to 1");
		expect_eq(S3(SYS_readv, fd, r, 2), 5, "readv");
		CHECK(memcmp(a, "bc", 2) == 0 && memcmp(b, "def", 3) == 0, "readv read \"%.2s\" \"%.3s\"", a, b);
		expect_eq(S3(SYS_readv, fd, r, 2), 0, "readv at EOF");
		expect_err(S3(SYS_writev, fd, w, -1), EINVAL, "writev iovcnt -1");
	}
	ok();

	current = "preadv pwritev";
	{
		struct iovec w[2] = { { "XY", 2 }, { "Z", 1 } };
		expect_eq(S3(SYS_lseek, fd, 0, SEEK_SET), 0, "rewind");
		expect_eq(S5(SYS_pwritev, fd, w, 2, 4, 0), 3, "pwritev at 4");
		expect_eq(offset_of(fd), 0, "offset after pwritev");
		char a[3], b[4];
		struct iovec r[2] = { { a, sizeof a }, { b, sizeof b } };
		expect_eq(S5(SYS_preadv, fd, r, 2, 1, 0), 6, "preadv at 1");
		CHECK(memcmp(a, "bcd", 3) == 0 && memcmp(b, "XYZ", 3) == 0, "preadv read \"%.3s\" \"%.3s\"", a, b);
		expect_eq(offset_of(fd), 0, "offset after preadv");
		expect_err(S5(SYS_preadv, fd, r, 2, -1, -1), EINVAL, "preadv at -1");
		expect_content(fd, "abcdXYZ", 7);
	}
	close_ok(fd);
	ok();

	current = "lseek";
	fd = open_ok(at("f"), O_RDWR, 0);
	expect_eq(S3(SYS_lseek, fd, 5, SEEK_SET), 5, "SEEK_SET 5");
	expect_eq(S3(SYS_lseek, fd, -2, SEEK_CUR), 3, "SEEK_CUR -2");
	expect_eq(S3(SYS_lseek, fd, 0, SEEK_END), 7, "SEEK_END 0");
	expect_eq(S3(SYS_lseek, fd, -1, SEEK_END), 6, "SEEK_END -1");
	expect_err(S3(SYS_lseek, fd, -1, SEEK_SET), EINVAL, "SEEK_SET -1");
	expect_err(S3(SYS_lseek, fd, -7, SEEK_CUR), EINVAL, "SEEK_CUR before 0");
	expect_err(S3(SYS_lseek, fd, -8, SEEK_END), EINVAL, "SEEK_END before 0");
	expect_err(S3(SYS_lseek, fd, 0, 5), EINVAL, "whence 5");
	expect_eq(offset_of(fd), 6, "offset unchanged by the failures");
	expect_eq(S3(SYS_lseek, fd, 100, SEEK_SET), 100, "seek past EOF");
	expect_eq(S3(SYS_read, fd, buf, 1), 0, "read past EOF");
	expect_eq(size_of(fd), 7, "seeking does not grow the file");
	close_ok(fd);
	ok();

	current = "SEEK_DATA SEEK_HOLE";
	write_file(at("h"), "hello world");
	fd = open_ok(at("h"), O_RDONLY, 0);
	expect_eq(S3(SYS_lseek, fd, 0, SEEK_DATA), 0, "SEEK_DATA 0");
	expect_eq(S3(SYS_lseek, fd, 0, SEEK_HOLE), 11, "SEEK_HOLE 0");
	expect_eq(S3(SYS_lseek, fd, 4, SEEK_DATA), 4, "SEEK_DATA 4");
	expect_eq(S3(SYS_lseek, fd, 4, SEEK_HOLE), 11, "SEEK_HOLE 4");
	expect_eq(offset_of(fd), 11, "offset after SEEK_HOLE");
	expect_err(S3(SYS_lseek, fd, 11, SEEK_DATA), ENXIO, "SEEK_DATA at the size");
	expect_err(S3(SYS_lseek, fd, 11, SEEK_HOLE), ENXIO, "SEEK_HOLE at the size");
	expect_err(S3(SYS_lseek, fd, 50, SEEK_DATA), ENXIO, "SEEK_DATA past the size");
	expect_err(S3(SYS_lseek, fd, -1, SEEK_DATA), ENXIO, "SEEK_DATA -1");
	close_ok(fd);
	expect_eq(S1(SYS_unlink, at("h")), 0, "unlink h");
	fd = open_ok(at("empty"), O_RDWR | O_CREAT | O_EXCL, 0644);
	expect_err(S3(SYS_lseek, fd, 0, SEEK_DATA), ENXIO, "SEEK_DATA on an empty file");
	expect_err(S3(SYS_lseek, fd, 0, SEEK_HOLE), ENXIO, "SEEK_HOLE on an empty file");
	close_ok(fd);
	expect_eq(S1(SYS_unlink, at("empty")), 0, "unlink empty");
	ok();

	current = "truncate ftruncate";
	write_file(at("f"), "hello world");
	expect_eq(S2(SYS_truncate, at("f"), 16), 0, "truncate to 16");
	fd = open_ok(at("f"), O_RDWR, 0);
	expect_content(fd, "hello world\0\0\0\0\0", 16);
	expect_eq(S2(SYS_truncate, at("f"), 5), 0, "truncate to 5");
	expect_content(fd, "hello", 5);
	expect_eq(S3(SYS_lseek, fd, 3, SEEK_SET), 3, "seek to 3");
	expect_eq(S2(SYS_ftruncate, fd, 8), 0, "ftruncate to 8");
	expect_eq(offset_of(fd), 3, "offset unchanged by ftruncate");
	expect_content(fd, "hello\0\0\0", 8);
	expect_eq(S2(SYS_ftruncate, fd, 2), 0, "ftruncate to 2");
	expect_content(fd, "he", 2);
	expect_eq(S2(SYS_ftruncate, fd, 0), 0, "ftruncate to 0");
	expect_eq(size_of(fd), 0, "size after ftruncate to 0");
	expect_err(S2(SYS_ftruncate, fd, -1), EINVAL, "ftruncate to -1");
	expect_err(S2(SYS_ftruncate, 99, 0), EBADF, "ftruncate(99)");
	close_ok(fd);
	fd = open_ok(at("f"), O_RDONLY, 0);
	expect_err(S2(SYS_ftruncate, fd, 0), EINVAL, "ftruncate a read-only fd");
	close_ok(fd);
	expect_err(S2(SYS_truncate, at("f"), -1), EINVAL, "truncate to -1");
	expect_err(S2(SYS_truncate, base, 0), EISDIR, "truncate a directory");
	expect_err(S2(SYS_truncate, at("missing"), 0), ENOENT, "truncate a missing file");
	expect_err(S2(SYS_truncate, at("f/"), 0), ENOTDIR, "truncate a file with a trailing slash");
	ok();

	current = "fallocate";
	write_file(at("f"), "abcdefgh");
	fd = open_ok(at("f"), O_RDWR, 0);
	expect_eq(S4(SYS_fallocate, fd, 0, 0, 4096), 0, "fallocate 0..4096");
	expect_eq(size_of(fd), 4096, "size after fallocate");
	{
		static char want[4096] = "abcdefgh";
		expect_content(fd, want, 4096);
	}
	expect_eq(S4(SYS_fallocate, fd, X_FALLOC_FL_KEEP_SIZE, 0, 8192), 0, "fallocate KEEP_SIZE 0..8192");
	expect_eq(size_of(fd), 4096, "size after fallocate KEEP_SIZE");
	expect_eq(S4(SYS_fallocate, fd, 0, 0, 100), 0, "fallocate inside the file");
	expect_eq(size_of(fd), 4096, "size after fallocate inside the file");
	expect_err(S4(SYS_fallocate, fd, 0, 0, 0), EINVAL, "fallocate length 0");
	expect_err(S4(SYS_fallocate, fd, 0, -1, 10), EINVAL, "fallocate offset -1");
	expect_err(S4(SYS_fallocate, 99, 0, 0, 10), EBADF, "fallocate(99)");
	close_ok(fd);
	fd = open_ok(at("f"), O_RDONLY, 0);
	expect_err(S4(SYS_fallocate, fd, 0, 0, 10), EBADF, "fallocate a read-only fd");
	close_ok(fd);
	ok();

	current = "fsync fdatasync sync";
	fd = open_ok(at("f"), O_RDWR, 0);
	expect_eq(S1(SYS_fsync, fd), 0, "fsync");
	expect_eq(S1(SYS_fdatasync, fd), 0, "fdatasync");
	close_ok(fd);
	fd = open_ok(at("f"), O_RDONLY, 0);
	expect_eq(S1(SYS_fsync, fd), 0, "fsync a read-only fd");
	close_ok(fd);
	dirfd = open_ok(base, O_RDONLY | O_DIRECTORY, 0);
	expect_eq(S1(SYS_fsync, dirfd), 0, "fsync a directory");
	close_ok(dirfd);
	expect_err(S1(SYS_fsync, 99), EBADF, "fsync(99)");
	expect_err(S1(SYS_fdatasync, 99), EBADF, "fdatasync(99)");
	expect_eq(S0(SYS_sync), 0, "sync");
	ok();

	current = "sendfile";
	write_file(at("s"), "0123456789");
	fd = open_ok(at("s"), O_RDONLY, 0);
	fd2 = open_ok(at("d"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	expect_eq(S4(SYS_sendfile, fd2, fd, NULL, 4), 4, "sendfile 4 from the offset");
	expect_eq(offset_of(fd), 4, "source offset after sendfile");
	expect_eq(offset_of(fd2), 4, "destination offset after sendfile");
	{
		long off = 6;
		expect_eq(S4(SYS_sendfile, fd2, fd, &off, 100), 4, "sendfile 100 from 6");
		expect_eq(off, 10, "offset after sendfile from 6");
		expect_eq(offset_of(fd), 4, "source offset unchanged");
		expect_eq(S4(SYS_sendfile, fd2, fd, &off, 100), 0, "sendfile at EOF");
		off = -1;
		expect_err(S4(SYS_sendfile, fd2, fd, &off, 1), EINVAL, "sendfile from -1");
	}
	expect_content(fd2, "01236789", 8);
	expect_err(S4(SYS_sendfile, fd, fd2, NULL, 1), EBADF, "sendfile to a read-only fd");
	expect_err(S4(SYS_sendfile, fd2, 99, NULL, 1), EBADF, "sendfile from fd 99");
	close_ok(fd2);
	fd2 = open_ok(at("d"), O_WRONLY | O_APPEND, 0);
	expect_err(S4(SYS_sendfile, fd2, fd, NULL, 1), EINVAL, "sendfile to an O_APPEND fd");
	close_ok(fd2);
	close_ok(fd);
	ok();

	current = "copy_file_range";
	fd = open_ok(at("s"), O_RDONLY, 0);
	fd2 = open_ok(at("d"), O_RDWR | O_TRUNC, 0);
	{
		long oi = 2, oo = 0;
		expect_eq(S6(SYS_copy_file_range, fd, &oi, fd2, &oo, 3, 0), 3, "copy 3 from 2 to 0");
		expect_eq(oi, 5, "input offset");
		expect_eq(oo, 3, "output offset");
		expect_eq(offset_of(fd), 0, "source fd offset unchanged");
		expect_eq(offset_of(fd2), 0, "destination fd offset unchanged");
		expect_eq(S3(SYS_lseek, fd, 8, SEEK_SET), 8, "seek the source to 8");
		expect_eq(S3(SYS_lseek, fd2, 3, SEEK_SET), 3, "seek the destination to 3");
		expect_eq(S6(SYS_copy_file_range, fd, NULL, fd2, NULL, 10, 0), 2, "copy to the source's EOF");
		expect_eq(offset_of(fd), 10, "source fd offset advanced");
		expect_eq(offset_of(fd2), 5, "destination fd offset advanced");
		expect_eq(S6(SYS_copy_file_range, fd, NULL, fd2, NULL, 10, 0), 0, "copy at EOF");
		expect_content(fd2, "23489", 5);
		oi = 0;
		expect_err(S6(SYS_copy_file_range, fd, &oi, fd2, NULL, 1, 1), EINVAL, "flags 1");
		oi = 0, oo = 1;
		expect_err(S6(SYS_copy_file_range, fd2, &oi, fd2, &oo, 2, 0), EINVAL, "overlapping ranges");
		expect_err(S6(SYS_copy_file_range, fd2, NULL, fd, NULL, 1, 0), EBADF, "to a read-only fd");
	}
	close_ok(fd2);
	fd2 = open_ok(at("d"), O_WRONLY | O_APPEND, 0);
	expect_err(S6(SYS_copy_file_range, fd, NULL, fd2, NULL, 1, 0), EBADF, "to an O_APPEND fd");
	close_ok(fd2);
	close_ok(fd);
	expect_eq(S1(SYS_unlink, at("s")), 0, "unlink s");
	expect_eq(S1(SYS_unlink, at("d")), 0, "unlink d");
	ok();

	current = "unlinked while open";
	write_file(at("f"), "still here");
	fd = open_ok(at("f"), O_RDWR, 0);
	expect_eq(S1(SYS_unlink, at("f")), 0, "unlink f");
	{
		struct stat st;
		expect_err(S2(SYS_stat, at("f"), &st), ENOENT, "stat after unlink");
		expect_eq(S2(SYS_fstat, fd, &st), 0, "fstat after unlink");
		expect_eq(st.st_nlink, 0, "st_nlink after unlink");
	}
	expect_eq(S4(SYS_pwrite64, fd, "!", 1, 10), 1, "write after unlink");
	expect_content(fd, "still here!", 11);
	close_ok(fd);
	fd = open_ok(at("f"), O_RDWR | O_CREAT | O_EXCL, 0644);
	expect_eq(size_of(fd), 0, "a new file under the old name");
	close_ok(fd);
	expect_eq(S1(SYS_unlink, at("f")), 0, "unlink the new f");
	ok();

	current = "cleanup";
	remove_base();
	ok();

	out("all ok\n");
	return 0;
}
