/* Shared mappings of files, through raw system calls, with the exact
 * results and errnos Linux gives: a memfd mapped MAP_SHARED is the file
 * (writes through the mapping are what read(2) returns and the other way
 * round, in a second mapping and in a child after fork); a file of
 * /dev/shm and one of /tmp keep what a mapping wrote after it is gone;
 * a private mapping's writes stay its own; a page past the end of the
 * file is SIGBUS; truncating and growing again reads zeros; the access
 * checks (EACCES for a shared writable mapping of a file open read-only,
 * and for mprotect making one writable; EPERM under F_SEAL_WRITE, and
 * EBUSY for F_SEAL_WRITE while a mapping that may write exists); and
 * msync and mincore. With a directory argument (a writable mount in the
 * sandbox), a file there mapped shared keeps what the mapping wrote, and
 * DIR/kept is left holding two lines written only through mappings (one
 * by a child), read back before any msync. Prints "ok NAME" per check,
 * then "all ok"; on the first failure prints "FAIL: NAME: details" and
 * exits 1. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"
#include "desc.h"

#define PAGE 4096L

static char buf[2 * 4096];

static char *map(long len, int prot, int flags, int fd, long off)
{
	return (char *)S6(SYS_mmap, 0, len, prot, flags, fd, off);
}

static char *map_ok(long len, int prot, int flags, int fd, long off, const char *what)
{
	char *p = map(len, prot, flags, fd, off);
	if ((long)p < 0 && (long)p > -4096)
		fail("%s: mmap = %s", what, errname((long)p));
	return p;
}

static void expect_read(int fd, long off, const char *want, const char *what)
{
	long n = (long)strlen(want);
	memset(buf, 0, sizeof buf);
	expect_eq(S4(SYS_pread64, fd, buf, n, off), n, what);
	CHECK(memcmp(buf, want, n) == 0, "%s: read \"%.*s\", expected \"%s\"", what, (int)n, buf, want);
}

static void check_memfd(void)
{
	current = "a memfd mapped shared";
	int fd = (int)S2(SYS_memfd_create, "shared", MFD_ALLOW_SEALING);
	expect_eq(fd, 3, "memfd_create");
	expect_eq(S2(SYS_ftruncate, fd, 2 * PAGE), 0, "ftruncate");
	char *a = map_ok(2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, "the first mapping");
	memcpy(a, "through the mapping", 19);
	expect_read(fd, 0, "through the mapping", "read after a write to the mapping");
	expect_eq(S4(SYS_pwrite64, fd, "by pwrite", 9, PAGE + 7), 9, "pwrite");
	CHECK(memcmp(a + PAGE + 7, "by pwrite", 9) == 0, "the mapping does not see pwrite's bytes");
	/* A second mapping, of the second page only, is the same memory. */
	char *b = map_ok(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE, "the second mapping");
	CHECK(memcmp(b + 7, "by pwrite", 9) == 0, "the second mapping does not see the file");
	b[0] = 'B';
	CHECK(a[PAGE] == 'B', "the first mapping does not see the second's write");
	/* A child's writes are the parent's. */
	pid_t pid = fork_ok();
	if (pid == 0) {
		memcpy(a + 100, "from the child", 14);
		child_exit(0);
	}
	expect_exited(pid, 0, "the child");
	CHECK(memcmp(a + 100, "from the child", 14) == 0, "the parent does not see the child's write");
	/* A private mapping starts as the file and keeps its writes. */
	char *c = map_ok(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0, "a private mapping");
	CHECK(memcmp(c, "through the mapping", 19) == 0, "the private mapping is not the file");
	c[0] = 'X';
	CHECK(a[0] == 't', "a private write reached the shared mapping");
	expect_read(fd, 0, "through", "read after a private write");
	/* /proc/self/maps shows the mapping as shared, with its offset. */
	expect_eq(S2(SYS_munmap, c, PAGE), 0, "munmap the private mapping");
	expect_eq(S2(SYS_munmap, b, PAGE), 0, "munmap the second mapping");
	expect_eq(S2(SYS_munmap, a, 2 * PAGE), 0, "munmap the first mapping");
	expect_read(fd, 100, "from the child", "read after every mapping is gone");
	S1(SYS_close, fd);
	ok();
}

/* map_after_close maps a memfd, closes it and uses the mapping: the memory lives as long as the mapping. */
static void check_after_close(void)
{
	current = "a mapping outlives its file's descriptor";
	int fd = (int)S2(SYS_memfd_create, "closed", 0);
	expect_eq(S2(SYS_ftruncate, fd, PAGE), 0, "ftruncate");
	char *a = map_ok(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, "mmap");
	S1(SYS_close, fd);
	memcpy(a, "still here", 10);
	CHECK(memcmp(a, "still here", 10) == 0, "the mapping lost a write");
	expect_eq(S2(SYS_munmap, a, PAGE), 0, "munmap");
	ok();
}

static void check_named(const char *path, const char *what)
{
	current = what;
	int fd = (int)S4(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL, 0600);
	expect_eq(fd, 3, "open");
	expect_eq(S2(SYS_ftruncate, fd, PAGE), 0, "ftruncate");
	char *a = map_ok(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, "mmap");
	memcpy(a + 10, "kept", 4);
	expect_eq(S2(SYS_munmap, a, PAGE), 0, "munmap");
	S1(SYS_close, fd);
	fd = (int)S4(SYS_openat, AT_FDCWD, path, O_RDONLY, 0);
	expect_eq(fd, 3, "open again");
	expect_read(fd, 10, "kept", "read after reopening");
	struct stat st;
	expect_eq(S2(SYS_fstat, fd, &st), 0, "fstat");
	expect_eq(st.st_size, PAGE, "st_size");
	S1(SYS_close, fd);
	expect_eq(S1(SYS_unlink, path), 0, "unlink");
	ok();
}

static sigjmp_buf bus_jump;

static void on_bus(int sig)
{
	(void)sig;
	siglongjmp(bus_jump, 1);
}

static void check_size(void)
{
	current = "the end of the file";
	int fd = (int)S2(SYS_memfd_create, "size", 0);
	expect_eq(S2(SYS_ftruncate, fd, PAGE + 100), 0, "ftruncate");
	volatile char *a = map_ok(3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, "mmap");
	/* The rest of the last page is there, and not part of the file. */
	a[PAGE + 200] = 'z';
	expect_eq(S4(SYS_pread64, fd, buf, 10, PAGE + 200), 0, "read past the end");
	/* A page wholly past the end is SIGBUS. */
	on(SIGBUS, (sigaction_fn)on_bus, 0);
	int bus = 0;
	if (sigsetjmp(bus_jump, 1) == 0)
		a[2 * PAGE] = 1;
	else
		bus = 1;
	CHECK(bus, "a write past the end of the file was not SIGBUS");
	/* Shrinking drops what lay past the new end; growing again reads zeros. */
	a[50] = 'k';
	expect_eq(S2(SYS_ftruncate, fd, 40), 0, "shrink");
	expect_eq(S2(SYS_ftruncate, fd, PAGE), 0, "grow");
	memset(buf, 1, 64);
	expect_eq(S4(SYS_pread64, fd, buf, 64, 0), 64, "read after growing");
	CHECK(buf[50] == 0 && buf[39] == 0, "growing again reads %d at 50, expected 0", buf[50]);
	CHECK(a[50] == 0, "the mapping reads %d at 50, expected 0", a[50]);
	expect_eq(S2(SYS_munmap, a, 3 * PAGE), 0, "munmap");
	S1(SYS_close, fd);
	ok();
}

static void check_access(void)
{
	current = "access";
	int fd = (int)S2(SYS_memfd_create, "access", MFD_ALLOW_SEALING);
	expect_eq(S2(SYS_ftruncate, fd, PAGE), 0, "ftruncate");
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int ro = (int)S4(SYS_openat, AT_FDCWD, path, O_RDONLY, 0);
	expect_eq(ro, 4, "open read-only through /proc/self/fd");
	expect_err((long)map(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES, "a shared writable mapping of a read-only file");
	char *r = map_ok(PAGE, PROT_READ, MAP_SHARED, ro, 0, "a shared read-only mapping");
	expect_err(S3(SYS_mprotect, r, PAGE, PROT_READ | PROT_WRITE), EACCES, "mprotect making it writable");
	expect_eq(S2(SYS_munmap, r, PAGE), 0, "munmap");
	char *p = map_ok(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0, "a private writable mapping of a read-only file");
	p[0] = 1;
	expect_eq(S2(SYS_munmap, p, PAGE), 0, "munmap");
	S1(SYS_close, ro);
	/* F_SEAL_WRITE waits for the shared mappings that may write: one
	 * that only reads, of a file open for writing, counts too. */
	char *w = map_ok(PAGE, PROT_READ, MAP_SHARED, fd, 0, "a shared read-only mapping of a writable file");
	expect_err(S3(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY, "F_SEAL_WRITE while it is mapped");
	expect_eq(S2(SYS_munmap, w, PAGE), 0, "munmap");
	expect_eq(S3(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE), 0, "F_SEAL_WRITE");
	expect_err((long)map(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM, "a shared writable mapping under F_SEAL_WRITE");
	r = map_ok(PAGE, PROT_READ, MAP_SHARED, fd, 0, "a shared read-only mapping under F_SEAL_WRITE");
	expect_eq(S2(SYS_munmap, r, PAGE), 0, "munmap");
	S1(SYS_close, fd);
	ok();
}

static void check_msync_mincore(void)
{
	current = "msync and mincore";
	int fd = (int)S2(SYS_memfd_create, "sync", 0);
	expect_eq(S2(SYS_ftruncate, fd, 2 * PAGE), 0, "ftruncate");
	char *a = map_ok(2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, "mmap");
	a[0] = 1;
	a[PAGE] = 2;
	expect_eq(S3(SYS_msync, a, 2 * PAGE, MS_SYNC), 0, "msync(MS_SYNC)");
	expect_eq(S3(SYS_msync, a, PAGE, MS_ASYNC | MS_INVALIDATE), 0, "msync(MS_ASYNC | MS_INVALIDATE)");
	expect_eq(S3(SYS_msync, a, 0, MS_SYNC), 0, "msync of no bytes");
	expect_err(S3(SYS_msync, a, PAGE, MS_SYNC | MS_ASYNC), EINVAL, "msync(MS_SYNC | MS_ASYNC)");
	expect_err(S3(SYS_msync, a + 1, PAGE, MS_SYNC), EINVAL, "msync of an unaligned address");
	expect_err(S3(SYS_msync, a, PAGE, 8), EINVAL, "msync with an unknown flag");
	unsigned char vec[2] = { 9, 9 };
	expect_eq(S3(SYS_mincore, a, 2 * PAGE, vec), 0, "mincore");
	CHECK(vec[0] == 1 && vec[1] == 1, "mincore: %d %d, expected 1 1", vec[0], vec[1]);
	expect_err(S3(SYS_mincore, a + 1, PAGE, vec), EINVAL, "mincore of an unaligned address");
	expect_err(S3(SYS_mincore, a, PAGE, 1), EFAULT, "mincore into a bad vector");
	expect_eq(S2(SYS_munmap, a, 2 * PAGE), 0, "munmap");
	/* The range is gone now. */
	expect_err(S3(SYS_msync, a, PAGE, MS_SYNC), ENOMEM, "msync of an unmapped range");
	expect_err(S3(SYS_mincore, a, PAGE, vec), ENOMEM, "mincore of an unmapped range");
	S1(SYS_close, fd);
	ok();
}

/* check_kept leaves DIR/kept holding two lines, written only through
 * shared mappings, one by a child: the test reads it afterwards. */
static void check_kept(const char *dir)
{
	current = "a file left written through mappings";
	char path[256];
	snprintf(path, sizeof path, "%s/kept", dir);
	int fd = (int)S4(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	expect_eq(fd, 3, "open");
	const char *one = "written through a mapping\n", *two = "and by a child\n";
	long n1 = (long)strlen(one), n2 = (long)strlen(two);
	expect_eq(S2(SYS_ftruncate, fd, n1 + n2), 0, "ftruncate");
	char *a = map_ok(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, "mmap");
	memcpy(a, one, n1);
	pid_t pid = fork_ok();
	if (pid == 0) {
		memcpy(a + n1, two, n2);
		child_exit(0);
	}
	expect_exited(pid, 0, "the child");
	/* A read through the descriptor sees both, before any msync. */
	memset(buf, 0, sizeof buf);
	expect_eq(S4(SYS_pread64, fd, buf, n1 + n2, 0), n1 + n2, "pread");
	CHECK(memcmp(buf, one, n1) == 0 && memcmp(buf + n1, two, n2) == 0, "pread read \"%.*s\"", (int)(n1 + n2), buf);
	expect_eq(S2(SYS_munmap, a, PAGE), 0, "munmap");
	S1(SYS_close, fd);
	ok();
}

int main(int argc, char **argv)
{
	start();
	check_memfd();
	check_after_close();
	char path[64];
	snprintf(path, sizeof path, "/dev/shm/tvisor-mmap-%ld", S0(SYS_getpid));
	check_named(path, "a file of /dev/shm");
	snprintf(path, sizeof path, "/tmp/tvisor-mmap-%ld", S0(SYS_getpid));
	check_named(path, "a file of /tmp");
	check_size();
	check_access();
	check_msync_mincore();
	if (argc > 1) {
		/* DIR: a directory on the host (a writable mount in the sandbox). */
		snprintf(path, sizeof path, "%s/tvisor-mmap-%ld", argv[1], S0(SYS_getpid));
		check_named(path, "a file of a host directory");
		check_kept(argv[1]);
	}
	out("all ok\n");
	return 0;
}
