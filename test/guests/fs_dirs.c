/* Directories and names through raw system calls, with exact results and
 * errnos as Linux gives them on ext4 and tmpfs: mkdir, mkdirat, rmdir, unlink,
 * unlinkat, rename, renameat, renameat2, link, linkat, getdents64, chdir,
 * fchdir, getcwd and umask. Prints "ok NAME" per check (and one line listing a
 * directory's sorted entries), then "all ok"; on the first failure prints
 * "FAIL: NAME: details" and exits 1.
 *
 * Everything is written under a fresh directory /tmp/tvisor-fs-PID-dirs,
 * removed at the end (its rmdir is the last check). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"
#include "fs.h"

#define X_RENAME_NOREPLACE 1
#define X_RENAME_EXCHANGE 2

/* Expect the file at path to hold exactly text. */
static void expect_file(const char *path, const char *text)
{
	char got[256];
	long fd = open_ok(path, O_RDONLY, 0);
	long n = S3(SYS_read, fd, got, sizeof got);
	close_ok(fd);
	CHECK(n == (long)strlen(text) && memcmp(got, text, n) == 0, "%s holds \"%.*s\", not \"%s\"", path,
	      n < 0 ? 0 : (int)n, got, text);
}

static void expect_missing(const char *path)
{
	struct stat st;
	expect_err(S2(SYS_lstat, path, &st), ENOENT, path);
}

/* A directory entry's name and its type as one letter. */
struct entry {
	char name[32];
	char type;
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

int main(void)
{
	char buf[4096];
	long fd, dirfd;
	struct stat st;

	current = "setup";
	make_base("dirs");
	ok();

	current = "mkdir";
	expect_eq(lstat_ok(base).st_nlink, 2, "nlink of a new directory");
	expect_eq(S2(SYS_mkdir, at("d"), 0777), 0, "mkdir d");
	st = lstat_ok(at("d"));
	expect_eq(st.st_mode, S_IFDIR | 0755, "mode of d (0777 & ~022)");
	expect_eq(lstat_ok(base).st_nlink, 3, "nlink of the parent after mkdir");
	expect_err(S2(SYS_mkdir, at("d"), 0755), EEXIST, "mkdir an existing directory");
	write_file(at("f"), "f");
	expect_err(S2(SYS_mkdir, at("f"), 0755), EEXIST, "mkdir over a file");
	expect_err(S2(SYS_mkdir, at("missing/x"), 0755), ENOENT, "mkdir in a missing directory");
	expect_err(S2(SYS_mkdir, at("f/x"), 0755), ENOTDIR, "mkdir under a file");
	expect_err(S2(SYS_mkdir, "", 0755), ENOENT, "mkdir(\"\")");
	expect_eq(S2(SYS_mkdir, at("e/"), 0755), 0, "mkdir with a trailing slash");
	expect_eq(S2(SYS_mkdir, at("d/sub"), 0700), 0, "mkdir d/sub");
	expect_eq(lstat_ok(at("d/sub")).st_mode, S_IFDIR | 0700, "mode of d/sub");
	ok();

	current = "mkdirat";
	dirfd = open_ok(base, O_RDONLY | O_DIRECTORY, 0);
	expect_eq(S3(SYS_mkdirat, dirfd, "g", 0750), 0, "mkdirat(dirfd, \"g\")");
	expect_eq(lstat_ok(at("g")).st_mode, S_IFDIR | 0750, "mode of g");
	expect_err(S3(SYS_mkdirat, dirfd, "g", 0750), EEXIST, "mkdirat an existing directory");
	fd = open_ok(at("f"), O_RDONLY, 0);
	expect_err(S3(SYS_mkdirat, fd, "x", 0750), ENOTDIR, "mkdirat with a file as dirfd");
	close_ok(fd);
	expect_err(S3(SYS_mkdirat, 99, "x", 0750), EBADF, "mkdirat with a closed dirfd");
	expect_eq(S3(SYS_mkdirat, AT_FDCWD, at("h"), 0755), 0, "mkdirat(AT_FDCWD, absolute)");
	ok();

	current = "rmdir";
	expect_err(S1(SYS_rmdir, at("d")), ENOTEMPTY, "rmdir a non-empty directory");
	expect_err(S1(SYS_rmdir, at("f")), ENOTDIR, "rmdir a file");
	expect_err(S1(SYS_rmdir, at("missing")), ENOENT, "rmdir a missing directory");
	expect_err(S1(SYS_rmdir, at("d/sub/.")), EINVAL, "rmdir d/sub/.");
	expect_err(S1(SYS_rmdir, at("d/sub/..")), ENOTEMPTY, "rmdir d/sub/..");
	expect_err(S1(SYS_rmdir, "/"), EBUSY, "rmdir /");
	expect_eq(S1(SYS_rmdir, at("d/sub")), 0, "rmdir d/sub");
	expect_missing(at("d/sub"));
	expect_eq(S1(SYS_rmdir, at("h/")), 0, "rmdir with a trailing slash");
	expect_eq(lstat_ok(base).st_nlink, 5, "nlink of base with d, e, g");
	ok();

	current = "unlink unlinkat";
	expect_err(S1(SYS_unlink, at("d")), EISDIR, "unlink a directory");
	expect_err(S1(SYS_unlink, at("missing")), ENOENT, "unlink a missing file");
	expect_err(S1(SYS_unlink, at("f/")), ENOTDIR, "unlink a file with a trailing slash");
	write_file(at("d/x"), "x");
	expect_eq(S1(SYS_unlink, at("d/x")), 0, "unlink d/x");
	expect_missing(at("d/x"));
	write_file(at("u"), "u");
	expect_err(S3(SYS_unlinkat, dirfd, "u", AT_REMOVEDIR), ENOTDIR, "unlinkat(AT_REMOVEDIR) a file");
	expect_err(S3(SYS_unlinkat, dirfd, "g", 0), EISDIR, "unlinkat a directory");
	expect_err(S3(SYS_unlinkat, dirfd, "u", 1), EINVAL, "unlinkat flags 1");
	expect_eq(S3(SYS_unlinkat, dirfd, "u", 0), 0, "unlinkat(dirfd, \"u\")");
	expect_eq(S3(SYS_unlinkat, dirfd, "g", AT_REMOVEDIR), 0, "unlinkat(dirfd, \"g\", AT_REMOVEDIR)");
	expect_missing(at("u"));
	expect_missing(at("g"));
	expect_err(S3(SYS_unlinkat, 99, "u", 0), EBADF, "unlinkat with a closed dirfd");
	ok();

	current = "rename";
	write_file(at("a"), "A");
	expect_eq(S2(SYS_rename, at("a"), at("b")), 0, "rename a b");
	expect_missing(at("a"));
	expect_file(at("b"), "A");
	write_file(at("c"), "C");
	expect_eq(S2(SYS_rename, at("c"), at("b")), 0, "rename over a file");
	expect_missing(at("c"));
	expect_file(at("b"), "C");
	expect_eq(S2(SYS_rename, at("b"), at("b")), 0, "rename to itself");
	expect_file(at("b"), "C");
	expect_eq(S2(SYS_link, at("b"), at("b2")), 0, "link b b2");
	/* Two links to one inode: rename does nothing and both names stay. */
	expect_eq(S2(SYS_rename, at("b"), at("b2")), 0, "rename between links of one file");
	expect_file(at("b"), "C");
	expect_file(at("b2"), "C");
	expect_eq(S1(SYS_unlink, at("b2")), 0, "unlink b2");
	expect_err(S2(SYS_rename, at("b"), at("d")), EISDIR, "rename a file over a directory");
	expect_err(S2(SYS_rename, at("d"), at("b")), ENOTDIR, "rename a directory over a file");
	expect_err(S2(SYS_rename, at("missing"), at("z")), ENOENT, "rename a missing file");
	expect_err(S2(SYS_rename, at("b"), at("missing/z")), ENOENT, "rename into a missing directory");
	expect_err(S2(SYS_rename, at("d"), at("d/inside")), EINVAL, "rename a directory into itself");
	expect_err(S2(SYS_rename, at("d/."), at("z")), EBUSY, "rename d/.");
	expect_err(S2(SYS_rename, at("b/"), at("z")), ENOTDIR, "rename a file with a trailing slash");
	write_file(at("e/x"), "x");
	expect_err(S2(SYS_rename, at("d"), at("e")), ENOTEMPTY, "rename over a non-empty directory");
	expect_eq(S2(SYS_rename, at("e"), at("d")), 0, "rename over an empty directory");
	expect_missing(at("e"));
	expect_file(at("d/x"), "x");
	expect_eq(S2(SYS_rename, at("d/"), at("e/")), 0, "rename a directory with trailing slashes");
	expect_file(at("e/x"), "x");
	ok();

	current = "renameat";
	expect_eq(S4(SYS_renameat, dirfd, "b", dirfd, "e/b"), 0, "renameat(dirfd, \"b\", dirfd, \"e/b\")");
	fd = open_ok(at("e"), O_RDONLY | O_DIRECTORY, 0);
	expect_eq(S4(SYS_renameat, fd, "b", dirfd, "b"), 0, "renameat back with another dirfd");
	expect_eq(S4(SYS_renameat, fd, "x", AT_FDCWD, at("x")), 0, "renameat to AT_FDCWD, absolute");
	close_ok(fd);
	expect_file(at("b"), "C");
	expect_file(at("x"), "x");
	expect_err(S4(SYS_renameat, 99, "b", dirfd, "z"), EBADF, "renameat with a closed dirfd");
	ok();

	current = "renameat2";
	expect_err(S5(SYS_renameat2, dirfd, "b", dirfd, "x", X_RENAME_NOREPLACE), EEXIST, "RENAME_NOREPLACE over a file");
	expect_eq(S5(SYS_renameat2, dirfd, "b", dirfd, "y", X_RENAME_NOREPLACE), 0, "RENAME_NOREPLACE to a new name");
	expect_file(at("y"), "C");
	expect_eq(S5(SYS_renameat2, dirfd, "y", dirfd, "x", X_RENAME_EXCHANGE), 0, "RENAME_EXCHANGE two files");
	expect_file(at("y"), "x");
	expect_file(at("x"), "C");
	write_file(at("e/inner"), "i");
	expect_eq(S5(SYS_renameat2, dirfd, "x", dirfd, "e", X_RENAME_EXCHANGE), 0, "RENAME_EXCHANGE a file and a directory");
	expect_file(at("x/inner"), "i");
	expect_file(at("e"), "C");
	expect_err(S5(SYS_renameat2, dirfd, "y", dirfd, "missing", X_RENAME_EXCHANGE), ENOENT, "RENAME_EXCHANGE with a missing file");
	expect_err(S5(SYS_renameat2, dirfd, "y", dirfd, "e", X_RENAME_EXCHANGE | X_RENAME_NOREPLACE), EINVAL,
		   "RENAME_EXCHANGE|RENAME_NOREPLACE");
	expect_err(S5(SYS_renameat2, dirfd, "y", dirfd, "e", 0x10), EINVAL, "renameat2 flags 0x10");
	expect_eq(S5(SYS_renameat2, dirfd, "e", dirfd, "b", 0), 0, "renameat2 without flags");
	expect_eq(S1(SYS_unlink, at("y")), 0, "unlink y");
	expect_eq(S1(SYS_unlink, at("x/inner")), 0, "unlink x/inner");
	expect_eq(S1(SYS_rmdir, at("x")), 0, "rmdir x");
	ok();

	current = "link linkat";
	expect_eq(S2(SYS_link, at("b"), at("l")), 0, "link b l");
	st = lstat_ok(at("b"));
	expect_eq(st.st_nlink, 2, "nlink of b after link");
	{
		struct stat st2 = lstat_ok(at("l"));
		CHECK(st2.st_ino == st.st_ino && st2.st_dev == st.st_dev, "b and l are different inodes");
	}
	write_file(at("l"), "L");
	expect_file(at("b"), "L");
	expect_err(S2(SYS_link, at("b"), at("l")), EEXIST, "link to an existing name");
	expect_err(S2(SYS_link, at("missing"), at("z")), ENOENT, "link a missing file");
	expect_err(S2(SYS_link, base, at("z")), EPERM, "link a directory");
	expect_err(S2(SYS_link, at("b"), at("missing/z")), ENOENT, "link into a missing directory");
	expect_eq(S1(SYS_unlink, at("b")), 0, "unlink b");
	expect_eq(lstat_ok(at("l")).st_nlink, 1, "nlink of l after unlinking b");
	expect_eq(S5(SYS_linkat, dirfd, "l", dirfd, "m", 0), 0, "linkat(dirfd, \"l\", dirfd, \"m\")");
	expect_eq(lstat_ok(at("m")).st_nlink, 2, "nlink of m");
	expect_eq(S2(SYS_symlink, "l", at("s")), 0, "symlink l s");
	expect_eq(S5(SYS_linkat, dirfd, "s", dirfd, "s2", 0), 0, "linkat of a symlink");
	CHECK(S_ISLNK(lstat_ok(at("s2")).st_mode), "linkat without AT_SYMLINK_FOLLOW did not link the symlink");
	expect_eq(lstat_ok(at("s")).st_nlink, 2, "nlink of the symlink");
	expect_eq(S5(SYS_linkat, dirfd, "s", dirfd, "t", AT_SYMLINK_FOLLOW), 0, "linkat(AT_SYMLINK_FOLLOW)");
	CHECK(S_ISREG(lstat_ok(at("t")).st_mode), "linkat with AT_SYMLINK_FOLLOW did not link the target");
	expect_eq(lstat_ok(at("l")).st_nlink, 3, "nlink of l after linkat(AT_SYMLINK_FOLLOW)");
	expect_err(S5(SYS_linkat, dirfd, "l", dirfd, "z", 1), EINVAL, "linkat flags 1");
	expect_err(S5(SYS_linkat, 99, "l", dirfd, "z", 0), EBADF, "linkat with a closed dirfd");
	const char *gone[] = { "l", "m", "s", "s2", "t" };
	for (unsigned i = 0; i < sizeof gone / sizeof gone[0]; i++)
		expect_eq(S1(SYS_unlink, at(gone[i])), 0, gone[i]);
	ok();

	current = "getdents64";
	expect_eq(S2(SYS_mkdir, at("ls"), 0755), 0, "mkdir ls");
	write_file(at("ls/b"), "");
	write_file(at("ls/a"), "");
	expect_eq(S2(SYS_mkdir, at("ls/c"), 0755), 0, "mkdir ls/c");
	expect_eq(S2(SYS_symlink, "a", at("ls/d")), 0, "symlink ls/d");
	fd = open_ok(at("ls"), O_RDONLY | O_DIRECTORY, 0);
	{
		struct entry ents[16];
		int n = 0;
		long r;
		while ((r = S3(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
			for (long off = 0; off < r;) {
				struct dirent64_head *d = (void *)(buf + off);
				CHECK(n < 16 && strlen(d->d_name) < sizeof ents[0].name, "unexpected entry %s", d->d_name);
				strcpy(ents[n].name, d->d_name);
				ents[n++].type = d->d_type == X_DT_DIR   ? 'd'
						 : d->d_type == X_DT_REG ? 'f'
						 : d->d_type == X_DT_LNK ? 'l'
									 : '?';
				off += d->d_reclen;
			}
		}
		expect_eq(r, 0, "getdents64 at the end");
		qsort(ents, n, sizeof ents[0], cmp_entry);
		out("ls:");
		for (int i = 0; i < n; i++)
			out(" %s:%c", ents[i].name, ents[i].type);
		out("\n");
	}
	expect_eq(S3(SYS_lseek, fd, 0, SEEK_SET), 0, "rewind the directory");
	expect_err(S3(SYS_getdents64, fd, buf, 8), EINVAL, "getdents64 with an 8-byte buffer");
	close_ok(fd);
	fd = open_ok(at("ls/a"), O_RDONLY, 0);
	expect_err(S3(SYS_getdents64, fd, buf, sizeof buf), ENOTDIR, "getdents64 on a file");
	close_ok(fd);
	expect_err(S3(SYS_getdents64, 99, buf, sizeof buf), EBADF, "getdents64(99)");
	ok();

	current = "getdents64 in small reads";
	expect_eq(S2(SYS_mkdir, at("many"), 0755), 0, "mkdir many");
	for (int i = 0; i < 200; i++) {
		char name[32];
		snprintf(name, sizeof name, "many/file-%03d", i);
		write_file(at(name), "");
	}
	fd = open_ok(at("many"), O_RDONLY | O_DIRECTORY, 0);
	for (int pass = 0; pass < 2; pass++) {
		unsigned char seen[200] = { 0 };
		int dots = 0, calls = 0;
		long r;
		/* 200 bytes hold a few entries: the listing takes many calls. */
		while ((r = S3(SYS_getdents64, fd, buf, 200)) > 0) {
			calls++;
			for (long off = 0; off < r;) {
				struct dirent64_head *d = (void *)(buf + off);
				int i;
				if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
					dots++;
				else if (sscanf(d->d_name, "file-%d", &i) == 1 && i >= 0 && i < 200 && !seen[i])
					seen[i] = 1;
				else
					fail("unexpected or repeated entry %s", d->d_name);
				off += d->d_reclen;
			}
		}
		expect_eq(r, 0, "getdents64 at the end");
		expect_eq(dots, 2, "\".\" and \"..\" entries");
		CHECK(calls > 10, "only %d calls", calls);
		CHECK(memchr(seen, 0, sizeof seen) == NULL, "an entry is missing");
		expect_eq(S3(SYS_lseek, fd, 0, SEEK_SET), 0, "rewind the directory");
	}
	close_ok(fd);
	for (int i = 0; i < 200; i++) {
		char name[32];
		snprintf(name, sizeof name, "many/file-%03d", i);
		expect_eq(S1(SYS_unlink, at(name)), 0, "unlink many/file-N");
	}
	expect_eq(S1(SYS_rmdir, at("many")), 0, "rmdir many");
	ok();

	current = "chdir fchdir getcwd";
	{
		long n = strlen(base);
		expect_eq(S1(SYS_chdir, base), 0, "chdir base");
		expect_eq(S2(SYS_getcwd, buf, sizeof buf), n + 1, "getcwd");
		CHECK(strcmp(buf, base) == 0, "getcwd is %s", buf);
		expect_err(S2(SYS_getcwd, buf, n), ERANGE, "getcwd with no room for the NUL");
		expect_err(S2(SYS_getcwd, buf, 0), ERANGE, "getcwd with size 0");
		expect_eq(S2(SYS_getcwd, buf, n + 1), n + 1, "getcwd with exactly enough room");
		expect_eq(S1(SYS_chdir, "ls/c"), 0, "chdir ls/c");
		expect_eq(S2(SYS_getcwd, buf, sizeof buf), n + 6, "getcwd in ls/c");
		CHECK(strcmp(buf, at("ls/c")) == 0, "getcwd is %s", buf);
		write_file("rel", "rel");
		expect_file(at("ls/c/rel"), "rel");
		expect_eq(S1(SYS_chdir, "../.."), 0, "chdir ../..");
		expect_eq(S2(SYS_getcwd, buf, sizeof buf), n + 1, "getcwd after ../..");
		CHECK(strcmp(buf, base) == 0, "getcwd is %s", buf);
		expect_file("ls/c/rel", "rel");
		fd = open_ok("ls", O_RDONLY | O_DIRECTORY, 0);
		expect_eq(S1(SYS_fchdir, fd), 0, "fchdir ls");
		close_ok(fd);
		expect_eq(S2(SYS_getcwd, buf, sizeof buf), n + 4, "getcwd after fchdir");
		CHECK(strcmp(buf, at("ls")) == 0, "getcwd is %s", buf);
		expect_err(S1(SYS_chdir, "a"), ENOTDIR, "chdir to a file");
		expect_err(S1(SYS_chdir, "missing"), ENOENT, "chdir to a missing directory");
		expect_err(S1(SYS_chdir, ""), ENOENT, "chdir(\"\")");
		fd = open_ok("a", O_RDONLY, 0);
		expect_err(S1(SYS_fchdir, fd), ENOTDIR, "fchdir to a file");
		close_ok(fd);
		expect_err(S1(SYS_fchdir, 99), EBADF, "fchdir(99)");
		/* The cwd removed: getcwd fails with ENOENT, "." still works. */
		expect_eq(S1(SYS_chdir, "c"), 0, "chdir c");
		expect_eq(S1(SYS_unlink, at("ls/c/rel")), 0, "unlink ls/c/rel");
		expect_eq(S1(SYS_rmdir, at("ls/c")), 0, "rmdir the cwd");
		expect_err(S2(SYS_getcwd, buf, sizeof buf), ENOENT, "getcwd in a removed directory");
		expect_eq(S2(SYS_stat, ".", &st), 0, "stat . in a removed directory");
		expect_eq(st.st_nlink, 0, "nlink of a removed directory");
		expect_err(S3(SYS_open, "new", O_RDWR | O_CREAT, 0644), ENOENT, "create in a removed directory");
		expect_eq(S1(SYS_chdir, "/"), 0, "chdir /");
		expect_eq(S2(SYS_getcwd, buf, sizeof buf), 2, "getcwd at /");
		CHECK(strcmp(buf, "/") == 0, "getcwd is %s", buf);
	}
	ok();

	current = "umask";
	expect_eq(S1(SYS_umask, 077), 022, "umask 077");
	write_file(at("m1"), "");
	expect_eq(lstat_ok(at("m1")).st_mode, S_IFREG | 0600, "mode of a 0644 file under umask 077");
	expect_eq(S2(SYS_mkdir, at("m2"), 0777), 0, "mkdir m2");
	expect_eq(lstat_ok(at("m2")).st_mode, S_IFDIR | 0700, "mode of a 0777 directory under umask 077");
	expect_eq(S1(SYS_umask, 0), 077, "umask 0");
	fd = open_ok(at("m3"), O_RDWR | O_CREAT, 0666);
	close_ok(fd);
	expect_eq(lstat_ok(at("m3")).st_mode, S_IFREG | 0666, "mode of a 0666 file under umask 0");
	expect_eq(S1(SYS_umask, 01777), 0, "umask 01777");
	expect_eq(S1(SYS_umask, 022), 0777, "umask keeps only 0777");
	expect_eq(S1(SYS_unlink, at("m1")), 0, "unlink m1");
	expect_eq(S1(SYS_rmdir, at("m2")), 0, "rmdir m2");
	expect_eq(S1(SYS_unlink, at("m3")), 0, "unlink m3");
	ok();

	current = "cleanup";
	close_ok(dirfd);
	const char *files[] = { "f", "ls/a", "ls/b", "ls/d" };
	for (unsigned i = 0; i < sizeof files / sizeof files[0]; i++)
		expect_eq(S1(SYS_unlink, at(files[i])), 0, files[i]);
	expect_eq(S1(SYS_rmdir, at("ls")), 0, "rmdir ls");
	remove_base();
	ok();

	out("all ok\n");
	return 0;
}
