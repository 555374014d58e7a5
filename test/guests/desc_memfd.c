/* memfd_create(2) through raw system calls, with the exact results and
 * errnos Linux gives: the flags and the name's limits, the file
 * (/proc/self/fd, fstat, F_GETFL), reads, writes, lseek, pread and pwrite,
 * ftruncate both ways, a second open through /proc/self/fd, and the seals
 * (F_ADD_SEALS, F_GET_SEALS): F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE,
 * F_SEAL_FUTURE_WRITE and F_SEAL_SEAL refusing what they seal, and a memfd
 * without MFD_ALLOW_SEALING sealed from the start. Prints "ok NAME" per
 * check, then "all ok"; on the first failure prints "FAIL: NAME: details"
 * and exits 1. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"
#include "desc.h"

/* Newer than musl's headers. */
#define X_MFD_NOEXEC_SEAL 8
#define X_MFD_EXEC 0x10
#define X_F_SEAL_EXEC 0x20

static char buf[8192];

static long create(const char *name, unsigned flags)
{
	return S2(SYS_memfd_create, name, flags);
}

static long size_of(int fd)
{
	struct stat st;
	expect_eq(S2(SYS_fstat, fd, &st), 0, "fstat");
	return st.st_size;
}

static void check_create(void)
{
	current = "memfd_create";
	long fd = create("test", 0);
	expect_eq(fd, 3, "memfd_create(\"test\", 0)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), 0, "F_GETFD");
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDWR | O_LARGEFILE, "F_GETFL");
	expect_link((int)fd, "/memfd:test (deleted)");
	struct stat st;
	expect_eq(S2(SYS_fstat, fd, &st), 0, "fstat");
	expect_eq(st.st_mode, S_IFREG | 0777, "st_mode");
	expect_eq(st.st_nlink, 0, "st_nlink");
	expect_eq(st.st_size, 0, "st_size");
	S1(SYS_close, fd);
	fd = create("", MFD_CLOEXEC);
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "F_GETFD(MFD_CLOEXEC)");
	expect_link((int)fd, "/memfd: (deleted)");
	S1(SYS_close, fd);
	memset(buf, 'n', 249);
	buf[249] = 0;
	fd = create(buf, 0);
	expect_eq(fd, 3, "a name of 249 bytes");
	S1(SYS_close, fd);
	buf[249] = 'n';
	buf[250] = 0;
	expect_err(create(buf, 0), EINVAL, "a name of 250 bytes");
	expect_err(create((const char *)8, 0), EFAULT, "a bad name");
	expect_err(create("x", 0x100), EINVAL, "flags 0x100");
	expect_err(create("x", X_MFD_EXEC | X_MFD_NOEXEC_SEAL), EINVAL, "MFD_EXEC with MFD_NOEXEC_SEAL");
	ok();
}

static void check_io(void)
{
	current = "reads and writes";
	int fd = (int)create("io", 0);
	expect_eq(S3(SYS_write, fd, "hello, world", 12), 12, "write");
	expect_eq(size_of(fd), 12, "size after the write");
	expect_eq(S3(SYS_lseek, fd, 0, SEEK_CUR), 12, "offset after the write");
	expect_eq(S3(SYS_read, fd, buf, 10), 0, "read at the end");
	expect_eq(S3(SYS_lseek, fd, 7, SEEK_SET), 7, "lseek(7)");
	expect_eq(S3(SYS_read, fd, buf, 100), 5, "read from 7");
	CHECK(memcmp(buf, "world", 5) == 0, "read gave \"%.5s\"", buf);
	expect_eq(S4(SYS_pwrite64, fd, "W", 1, 7), 1, "pwrite64");
	expect_eq(S4(SYS_pread64, fd, buf, 5, 7), 5, "pread64");
	CHECK(memcmp(buf, "World", 5) == 0, "pread64 gave \"%.5s\"", buf);
	expect_eq(S2(SYS_ftruncate, fd, 8192), 0, "ftruncate(8192)");
	expect_eq(S4(SYS_pread64, fd, buf, sizeof buf, 0), 8192, "pread64 after growing");
	CHECK(memcmp(buf, "hello, World", 12) == 0 && buf[12] == 0 && buf[8191] == 0, "grown contents");
	expect_eq(S2(SYS_ftruncate, fd, 5), 0, "ftruncate(5)");
	expect_eq(size_of(fd), 5, "size after shrinking");
	/* A second open through /proc/self/fd is a description of its own on the same file. */
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	long fd2 = S3(SYS_open, path, O_RDWR, 0);
	expect_eq(fd2, fd + 1, "open of /proc/self/fd/N");
	expect_eq(S3(SYS_lseek, fd2, 0, SEEK_CUR), 0, "the new description's offset");
	expect_eq(S3(SYS_read, fd2, buf, 100), 5, "read through the new description");
	CHECK(memcmp(buf, "hello", 5) == 0, "read gave \"%.5s\"", buf);
	S1(SYS_close, fd2);
	S1(SYS_close, fd);
	ok();
}

static void check_seals(void)
{
	current = "seals";
	int fd = (int)create("sealed", MFD_ALLOW_SEALING);
	expect_eq(S2(SYS_fcntl, fd, F_GET_SEALS), 0, "F_GET_SEALS of a new memfd");
	expect_eq(S3(SYS_write, fd, buf, 4096), 4096, "write a page");
	expect_err(S3(SYS_fcntl, fd, F_ADD_SEALS, 0x100), EINVAL, "F_ADD_SEALS(0x100)");
	expect_eq(S3(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_SHRINK), 0, "F_ADD_SEALS(F_SEAL_SHRINK)");
	expect_err(S2(SYS_ftruncate, fd, 100), EPERM, "shrink under F_SEAL_SHRINK");
	expect_eq(S2(SYS_ftruncate, fd, 8192), 0, "grow under F_SEAL_SHRINK");
	expect_eq(S3(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_GROW), 0, "F_ADD_SEALS(F_SEAL_GROW)");
	expect_eq(S2(SYS_fcntl, fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW, "F_GET_SEALS");
	expect_err(S2(SYS_ftruncate, fd, 8193), EPERM, "grow under F_SEAL_GROW");
	expect_eq(S2(SYS_ftruncate, fd, 8192), 0, "ftruncate to the same size");
	expect_err(S4(SYS_pwrite64, fd, "x", 1, 8192), EPERM, "a write past the end under F_SEAL_GROW");
	expect_eq(S4(SYS_pwrite64, fd, "x", 1, 8191), 1, "a write inside under F_SEAL_GROW");
	expect_eq(S3(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE), 0, "F_ADD_SEALS(F_SEAL_WRITE)");
	expect_err(S4(SYS_pwrite64, fd, "x", 1, 0), EPERM, "pwrite64 under F_SEAL_WRITE");
	expect_err(S3(SYS_write, fd, "x", 1), EPERM, "write under F_SEAL_WRITE");
	expect_eq(S4(SYS_pread64, fd, buf, 1, 8191), 1, "a read under F_SEAL_WRITE");
	CHECK(buf[0] == 'x', "read gave %d", buf[0]);
	expect_eq(S3(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_SEAL), 0, "F_ADD_SEALS(F_SEAL_SEAL)");
	expect_err(S3(SYS_fcntl, fd, F_ADD_SEALS, X_F_SEAL_EXEC), EPERM, "F_ADD_SEALS after F_SEAL_SEAL");
	expect_eq(S2(SYS_fcntl, fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL, "F_GET_SEALS at the end");
	S1(SYS_close, fd);
	fd = (int)create("future", MFD_ALLOW_SEALING);
	expect_eq(S3(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), 0, "F_ADD_SEALS(F_SEAL_FUTURE_WRITE)");
	expect_err(S3(SYS_write, fd, "x", 1), EPERM, "write under F_SEAL_FUTURE_WRITE");
	S1(SYS_close, fd);
	/* Without MFD_ALLOW_SEALING, F_SEAL_SEAL is there from the start. */
	fd = (int)create("unsealable", 0);
	expect_eq(S2(SYS_fcntl, fd, F_GET_SEALS), F_SEAL_SEAL, "F_GET_SEALS without MFD_ALLOW_SEALING");
	expect_err(S3(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM, "F_ADD_SEALS without MFD_ALLOW_SEALING");
	S1(SYS_close, fd);
	fd = (int)create("noexec", X_MFD_NOEXEC_SEAL);
	struct stat st;
	expect_eq(S2(SYS_fstat, fd, &st), 0, "fstat");
	expect_eq(st.st_mode, S_IFREG | 0666, "st_mode with MFD_NOEXEC_SEAL");
	expect_eq(S2(SYS_fcntl, fd, F_GET_SEALS), X_F_SEAL_EXEC, "F_GET_SEALS with MFD_NOEXEC_SEAL");
	S1(SYS_close, fd);
	/* Seals belong to memfds: a pipe has none. */
	int p[2];
	expect_eq(S2(SYS_pipe2, p, 0), 0, "pipe2");
	expect_err(S2(SYS_fcntl, p[0], F_GET_SEALS), EINVAL, "F_GET_SEALS on a pipe");
	expect_err(S3(SYS_fcntl, p[0], F_ADD_SEALS, F_SEAL_SEAL), EPERM, "F_ADD_SEALS on a pipe's read end");
	expect_err(S3(SYS_fcntl, p[1], F_ADD_SEALS, F_SEAL_SEAL), EINVAL, "F_ADD_SEALS on a pipe's write end");
	S1(SYS_close, p[0]);
	S1(SYS_close, p[1]);
	ok();
}

int main(void)
{
	start();
	check_create();
	check_io();
	check_seals();
	out("all ok\n");
	return 0;
}
