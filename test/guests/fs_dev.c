/* Host files and devices that look the same natively and in the sandbox (which
 * shows the host's / read-only): /etc/os-release (its first line is printed),
 * /bin/busybox (stat's size equals the bytes read), the root directory's
 * entries, /dev/null, /dev/zero, /dev/full, /dev/urandom and the /proc/self/exe
 * symlink. Writes nothing to any file. Prints "ok NAME" per check, then
 * "all ok"; on the first failure prints "FAIL: NAME: details" and exits 1. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"
#include "fs.h"

/* Expect path to be the character device major:minor, mode 0666. */
static void expect_chardev(const char *path, unsigned major, unsigned minor)
{
	struct stat st;
	expect_eq(S2(SYS_stat, path, &st), 0, path);
	CHECK(S_ISCHR(st.st_mode) && (st.st_mode & 07777) == 0666, "%s: mode 0%o", path, st.st_mode);
	unsigned got_major = (st.st_rdev >> 8) & 0xfff, got_minor = (st.st_rdev & 0xff) | ((st.st_rdev >> 12) & 0xfff00);
	CHECK(got_major == major && got_minor == minor, "%s: rdev %u:%u, expected %u:%u", path, got_major, got_minor,
	      major, minor);
}

static int all_bytes(const unsigned char *p, long n, unsigned char v)
{
	for (long i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

int main(void)
{
	static unsigned char buf[65536];
	long fd, n, r;
	struct stat st;

	current = "/etc/os-release";
	fd = open_ok("/etc/os-release", O_RDONLY, 0);
	n = 0;
	while ((r = S3(SYS_read, fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	expect_eq(r, 0, "read to EOF");
	expect_eq(S2(SYS_fstat, fd, &st), 0, "fstat");
	expect_eq(st.st_size, n, "st_size equals the bytes read");
	close_ok(fd);
	buf[n] = 0;
	{
		char *nl = strchr((char *)buf, '\n');
		CHECK(nl != NULL, "no newline in /etc/os-release");
		*nl = 0;
		out("os-release: %s\n", buf);
	}
	ok();

	current = "/bin/busybox";
	expect_eq(S2(SYS_stat, "/bin/busybox", &st), 0, "stat /bin/busybox");
	CHECK(S_ISREG(st.st_mode) && (st.st_mode & 0111), "/bin/busybox: mode 0%o", st.st_mode);
	fd = open_ok("/bin/busybox", O_RDONLY, 0);
	n = 0;
	while ((r = S3(SYS_read, fd, buf, sizeof buf)) > 0) {
		if (n == 0)
			CHECK(r >= 4 && memcmp(buf, "\177ELF", 4) == 0, "/bin/busybox is not ELF");
		n += r;
	}
	expect_eq(r, 0, "read to EOF");
	expect_eq(n, st.st_size, "the bytes read equal st_size");
	expect_eq(S3(SYS_lseek, fd, 0, SEEK_END), st.st_size, "SEEK_END");
	expect_eq(S4(SYS_pread64, fd, buf, 4, 0), 4, "pread64 at 0");
	CHECK(memcmp(buf, "\177ELF", 4) == 0, "pread64 at 0 is not the ELF magic");
	expect_err(S3(SYS_write, fd, "x", 1), EBADF, "write a read-only fd");
	close_ok(fd);
	ok();

	current = "root directory";
	fd = open_ok("/", O_RDONLY | O_DIRECTORY, 0);
	{
		const char *want[] = { ".", "..", "bin", "dev", "etc", "proc", "tmp", "usr" };
		int found[8] = { 0 };
		while ((r = S3(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
			for (long off = 0; off < r;) {
				struct dirent64_head *d = (void *)(buf + off);
				for (int i = 0; i < 8; i++)
					if (strcmp(d->d_name, want[i]) == 0) {
						found[i]++;
						if (i < 2)
							expect_eq(d->d_type, X_DT_DIR, d->d_name);
					}
				off += d->d_reclen;
			}
		}
		expect_eq(r, 0, "getdents64 at the end");
		for (int i = 0; i < 8; i++)
			CHECK(found[i] == 1, "/ lists %s %d times", want[i], found[i]);
	}
	close_ok(fd);
	ok();

	current = "/dev/null";
	expect_chardev("/dev/null", 1, 3);
	fd = open_ok("/dev/null", O_RDWR, 0);
	expect_eq(S3(SYS_read, fd, buf, sizeof buf), 0, "read");
	expect_eq(S3(SYS_write, fd, "hello", 5), 5, "write");
	expect_eq(S4(SYS_pread64, fd, buf, 10, 100), 0, "pread64");
	expect_eq(S3(SYS_lseek, fd, 100, SEEK_SET), 0, "lseek stays at 0");
	close_ok(fd);
	fd = open_ok("/dev/null", O_WRONLY, 0);
	expect_err(S3(SYS_read, fd, buf, 1), EBADF, "read a write-only fd");
	close_ok(fd);
	expect_err(S3(SYS_open, "/dev/null", O_RDONLY | O_DIRECTORY, 0), ENOTDIR, "O_DIRECTORY");
	expect_err(S3(SYS_open, "/dev/null/x", O_RDONLY, 0), ENOTDIR, "/dev/null/x");
	ok();

	current = "/dev/zero";
	expect_chardev("/dev/zero", 1, 5);
	fd = open_ok("/dev/zero", O_RDWR, 0);
	memset(buf, 0xff, 4096);
	expect_eq(S3(SYS_read, fd, buf, 4096), 4096, "read 4096");
	CHECK(all_bytes(buf, 4096, 0), "read non-zero bytes");
	expect_eq(S3(SYS_write, fd, "hello", 5), 5, "write");
	close_ok(fd);
	ok();

	current = "/dev/full";
	expect_chardev("/dev/full", 1, 7);
	fd = open_ok("/dev/full", O_RDWR, 0);
	expect_err(S3(SYS_write, fd, "hello", 5), ENOSPC, "write");
	memset(buf, 0xff, 100);
	expect_eq(S3(SYS_read, fd, buf, 100), 100, "read 100");
	CHECK(all_bytes(buf, 100, 0), "read non-zero bytes");
	close_ok(fd);
	ok();

	current = "/dev/urandom";
	expect_chardev("/dev/urandom", 1, 9);
	fd = open_ok("/dev/urandom", O_RDONLY, 0);
	memset(buf, 0, 32);
	expect_eq(S3(SYS_read, fd, buf, 16), 16, "read 16");
	expect_eq(S3(SYS_read, fd, buf + 16, 16), 16, "read 16 more");
	/* Two 16-byte reads are equal with probability 2^-128. */
	CHECK(memcmp(buf, buf + 16, 16) != 0, "two reads gave the same bytes");
	close_ok(fd);
	ok();

	current = "/proc/self/exe";
	expect_eq(S2(SYS_lstat, "/proc/self/exe", &st), 0, "lstat");
	CHECK(S_ISLNK(st.st_mode), "/proc/self/exe is not a symlink (mode 0%o)", st.st_mode);
	n = S3(SYS_readlink, "/proc/self/exe", buf, sizeof buf - 1);
	CHECK(n > 1 && buf[0] == '/', "readlink = %ld (%s)", n, errname(n));
	buf[n] = 0;
	{
		struct stat target;
		expect_eq(S2(SYS_stat, (char *)buf, &target), 0, "stat the link's target");
		expect_eq(S2(SYS_stat, "/proc/self/exe", &st), 0, "stat /proc/self/exe");
		CHECK(S_ISREG(st.st_mode) && st.st_size == target.st_size && st.st_ino == target.st_ino,
		      "/proc/self/exe is not its target");
	}
	ok();

	out("all ok\n");
	return 0;
}
