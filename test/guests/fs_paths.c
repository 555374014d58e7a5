/* Path resolution through raw system calls, with exact results and errnos as
 * Linux gives them on ext4 and tmpfs: symlink, symlinkat, readlink, readlinkat;
 * symlink loops and the 40-follow limit (ELOOP), O_NOFOLLOW; ENAMETOOLONG for
 * a long component and a long path; trailing slashes; "." and ".." (also at /
 * and through a symlink); paths relative to the cwd and to a dirfd; openat2
 * with RESOLVE_BENEATH, RESOLVE_IN_ROOT and RESOLVE_NO_SYMLINKS. Prints
 * "ok NAME" per check, then "all ok"; on the first failure prints
 * "FAIL: NAME: details" and exits 1.
 *
 * Everything is written under a fresh directory /tmp/tvisor-fs-PID-paths,
 * removed at the end (its rmdir is the last check). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"
#include "fs.h"

#define X_RESOLVE_NO_SYMLINKS 0x04
#define X_RESOLVE_BENEATH 0x08
#define X_RESOLVE_IN_ROOT 0x10
#define X_E2BIG 7

/* The kernel's struct open_how (openat2), with room for a larger size. */
struct open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
	uint64_t extra;
};

/* Expect the open file fd to hold exactly text; closes fd. */
static void expect_fd_text(long fd, const char *text, const char *what)
{
	char got[256];
	if (fd < 0)
		fail("%s: open = %ld (%s)", what, fd, errname(fd));
	long n = S3(SYS_read, fd, got, sizeof got);
	close_ok(fd);
	CHECK(n == (long)strlen(text) && memcmp(got, text, n) == 0, "%s: read \"%.*s\", not \"%s\"", what,
	      n < 0 ? 0 : (int)n, got, text);
}

/* Expect paths a and b to name the same inode. */
static void expect_same(const char *a, const char *b)
{
	struct stat sa, sb;
	long r = S2(SYS_stat, a, &sa);
	if (r != 0)
		fail("stat(%s) = %ld (%s)", a, r, errname(r));
	r = S2(SYS_stat, b, &sb);
	if (r != 0)
		fail("stat(%s) = %ld (%s)", b, r, errname(r));
	CHECK(sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino, "%s and %s are different inodes", a, b);
}

static long openat2(long dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
	struct open_how how = { flags, mode, resolve, 0 };
	return S4(SYS_openat2, dirfd, path, &how, 24);
}

int main(void)
{
	char buf[8192];
	long fd, dirfd, r;
	struct stat st;

	current = "setup";
	make_base("paths");
	write_file(at("file"), "file");
	expect_eq(S2(SYS_mkdir, at("sub"), 0755), 0, "mkdir sub");
	write_file(at("sub/inner"), "inner");
	dirfd = open_ok(base, O_RDONLY | O_DIRECTORY, 0);
	ok();

	current = "symlink";
	expect_eq(S2(SYS_symlink, "file", at("s")), 0, "symlink file s");
	expect_eq(S2(SYS_lstat, at("s"), &st), 0, "lstat s");
	expect_eq(st.st_mode, S_IFLNK | 0777, "mode of a symlink");
	expect_eq(st.st_size, 4, "size of a symlink");
	expect_eq(S2(SYS_stat, at("s"), &st), 0, "stat s");
	expect_eq(st.st_mode, S_IFREG | 0644, "mode of the target");
	expect_fd_text(S3(SYS_open, at("s"), O_RDONLY, 0), "file", "open s");
	expect_err(S2(SYS_symlink, "x", at("s")), EEXIST, "symlink over a symlink");
	expect_err(S2(SYS_symlink, "x", at("file")), EEXIST, "symlink over a file");
	expect_err(S2(SYS_symlink, "", at("empty")), ENOENT, "symlink to \"\"");
	expect_err(S2(SYS_symlink, "x", at("missing/x")), ENOENT, "symlink in a missing directory");
	expect_eq(S3(SYS_symlinkat, "../file", dirfd, "sub/rel"), 0, "symlinkat(dirfd, \"sub/rel\")");
	expect_fd_text(S3(SYS_open, at("sub/rel"), O_RDONLY, 0), "file", "a relative target from sub");
	expect_eq(S3(SYS_symlinkat, at("file"), AT_FDCWD, at("abs")), 0, "symlinkat(AT_FDCWD) absolute");
	expect_fd_text(S3(SYS_open, at("abs"), O_RDONLY, 0), "file", "an absolute target");
	expect_err(S3(SYS_symlinkat, "x", 99, "y"), EBADF, "symlinkat with a closed dirfd");
	ok();

	current = "dangling symlink";
	expect_eq(S2(SYS_symlink, "created", at("dang")), 0, "symlink created dang");
	expect_err(S2(SYS_stat, at("dang"), &st), ENOENT, "stat a dangling symlink");
	expect_eq(S2(SYS_lstat, at("dang"), &st), 0, "lstat a dangling symlink");
	expect_err(S3(SYS_open, at("dang"), O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST, "O_CREAT|O_EXCL on a dangling symlink");
	/* O_CREAT without O_EXCL follows it and creates the target. */
	fd = open_ok(at("dang"), O_WRONLY | O_CREAT, 0644);
	expect_eq(S3(SYS_write, fd, "made", 4), 4, "write through dang");
	close_ok(fd);
	expect_fd_text(S3(SYS_open, at("created"), O_RDONLY, 0), "made", "the created target");
	expect_eq(S1(SYS_unlink, at("created")), 0, "unlink created");
	expect_eq(S1(SYS_unlink, at("dang")), 0, "unlink dang");
	ok();

	current = "readlink readlinkat";
	expect_eq(S3(SYS_readlink, at("s"), buf, sizeof buf), 4, "readlink s");
	CHECK(memcmp(buf, "file", 4) == 0, "readlink s gave \"%.4s\"", buf);
	memset(buf, '#', 8);
	expect_eq(S3(SYS_readlink, at("sub/rel"), buf, 3), 3, "readlink into 3 bytes");
	CHECK(memcmp(buf, "../#", 4) == 0, "readlink into 3 bytes gave \"%.4s\"", buf);
	expect_err(S3(SYS_readlink, at("s"), buf, 0), EINVAL, "readlink into 0 bytes");
	expect_err(S3(SYS_readlink, at("file"), buf, sizeof buf), EINVAL, "readlink a file");
	expect_err(S3(SYS_readlink, at("sub"), buf, sizeof buf), EINVAL, "readlink a directory");
	expect_err(S3(SYS_readlink, at("missing"), buf, sizeof buf), ENOENT, "readlink a missing file");
	expect_eq(S4(SYS_readlinkat, dirfd, "abs", buf, sizeof buf), strlen(at("file")), "readlinkat(dirfd, \"abs\")");
	CHECK(memcmp(buf, at("file"), strlen(at("file"))) == 0, "readlinkat abs gave \"%.*s\"", (int)strlen(at("file")), buf);
	expect_err(S4(SYS_readlinkat, dirfd, "file", buf, sizeof buf), EINVAL, "readlinkat a file");
	expect_err(S4(SYS_readlinkat, 99, "s", buf, sizeof buf), EBADF, "readlinkat with a closed dirfd");
	/* An O_PATH|O_NOFOLLOW fd of the link itself, with an empty path. */
	fd = open_ok(at("s"), O_PATH | O_NOFOLLOW, 0);
	expect_eq(S2(SYS_fstat, fd, &st), 0, "fstat the link's O_PATH fd");
	CHECK(S_ISLNK(st.st_mode), "the O_PATH|O_NOFOLLOW fd is not a symlink (mode 0%o)", st.st_mode);
	expect_eq(S4(SYS_readlinkat, fd, "", buf, sizeof buf), 4, "readlinkat(link fd, \"\")");
	CHECK(memcmp(buf, "file", 4) == 0, "readlinkat(link fd, \"\") gave \"%.4s\"", buf);
	close_ok(fd);
	expect_err(S4(SYS_readlinkat, dirfd, "", buf, sizeof buf), ENOENT, "readlinkat(dir fd, \"\")");
	ok();

	current = "symlink loops";
	expect_eq(S2(SYS_symlink, "loop-b", at("loop-a")), 0, "symlink loop-a");
	expect_eq(S2(SYS_symlink, "loop-a", at("loop-b")), 0, "symlink loop-b");
	expect_eq(S2(SYS_symlink, "self", at("self")), 0, "symlink self");
	expect_err(S3(SYS_open, at("loop-a"), O_RDONLY, 0), ELOOP, "open a two-link loop");
	expect_err(S2(SYS_stat, at("loop-a"), &st), ELOOP, "stat a two-link loop");
	expect_eq(S2(SYS_lstat, at("loop-a"), &st), 0, "lstat a two-link loop");
	expect_err(S3(SYS_open, at("self"), O_RDONLY, 0), ELOOP, "open a self loop");
	expect_err(S2(SYS_stat, at("self/x"), &st), ELOOP, "stat through a self loop");
	expect_err(S3(SYS_open, at("self"), O_WRONLY | O_CREAT, 0644), ELOOP, "O_CREAT on a self loop");
	expect_err(S1(SYS_chdir, at("loop-b")), ELOOP, "chdir to a loop");
	ok();

	current = "40 symlink follows";
	/* chain-0 -> chain-1 -> ... -> chain-40 -> file: chain-K takes 41-K follows. */
	for (int i = 0; i <= 40; i++) {
		char name[32], target[32];
		snprintf(name, sizeof name, "chain-%d", i);
		if (i == 40)
			snprintf(target, sizeof target, "file");
		else
			snprintf(target, sizeof target, "chain-%d", i + 1);
		expect_eq(S2(SYS_symlink, target, at(name)), 0, "symlink chain-N");
	}
	expect_fd_text(S3(SYS_open, at("chain-1"), O_RDONLY, 0), "file", "open through 40 symlinks");
	expect_err(S3(SYS_open, at("chain-0"), O_RDONLY, 0), ELOOP, "open through 41 symlinks");
	expect_eq(S2(SYS_stat, at("chain-1"), &st), 0, "stat through 40 symlinks");
	expect_err(S2(SYS_stat, at("chain-0"), &st), ELOOP, "stat through 41 symlinks");
	expect_eq(S2(SYS_lstat, at("chain-0"), &st), 0, "lstat chain-0");
	for (int i = 0; i <= 40; i++) {
		char name[32];
		snprintf(name, sizeof name, "chain-%d", i);
		expect_eq(S1(SYS_unlink, at(name)), 0, "unlink chain-N");
	}
	ok();

	current = "O_NOFOLLOW";
	expect_eq(S2(SYS_symlink, "sub", at("ld")), 0, "symlink sub ld");
	expect_err(S3(SYS_open, at("s"), O_RDONLY | O_NOFOLLOW, 0), ELOOP, "O_NOFOLLOW on a symlink");
	expect_err(S3(SYS_open, at("ld"), O_RDONLY | O_NOFOLLOW, 0), ELOOP, "O_NOFOLLOW on a symlink to a directory");
	/* With O_DIRECTORY too, the link is "not a directory" before it is a link. */
	expect_err(S3(SYS_open, at("ld"), O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0), ENOTDIR, "O_DIRECTORY|O_NOFOLLOW on a symlink");
	/* Only the last component is not followed. */
	expect_fd_text(S3(SYS_open, at("ld/inner"), O_RDONLY | O_NOFOLLOW, 0), "inner", "O_NOFOLLOW through a symlinked directory");
	expect_fd_text(S3(SYS_open, at("file"), O_RDONLY | O_NOFOLLOW, 0), "file", "O_NOFOLLOW on a file");
	ok();

	current = "ENAMETOOLONG";
	{
		char name[300];
		memset(name, 'n', 256);
		name[256] = 0;
		expect_err(S2(SYS_stat, at(name), &st), ENAMETOOLONG, "stat a 256-byte component");
		expect_err(S3(SYS_open, at(name), O_RDWR | O_CREAT, 0644), ENAMETOOLONG, "create a 256-byte component");
		expect_err(S2(SYS_mkdir, at(name), 0755), ENAMETOOLONG, "mkdir a 256-byte component");
		name[255] = 0;
		expect_err(S2(SYS_stat, at(name), &st), ENOENT, "stat a missing 255-byte component");
		fd = open_ok(at(name), O_RDWR | O_CREAT | O_EXCL, 0644);
		close_ok(fd);
		expect_eq(S2(SYS_stat, at(name), &st), 0, "stat a 255-byte name");
		expect_eq(S1(SYS_unlink, at(name)), 0, "unlink a 255-byte name");
	}
	{
		/* base, then slashes, then "file": 4095 bytes is the longest path (PATH_MAX 4096 with its NUL). */
		static char path[4200];
		long n = strlen(base);
		memcpy(path, base, n);
		memset(path + n, '/', 4095 - n - 4);
		memcpy(path + 4095 - 4, "file", 5);
		expect_eq(strlen(path), 4095, "path length");
		expect_eq(S2(SYS_stat, path, &st), 0, "stat a 4095-byte path");
		memset(path + n, '/', 4096 - n - 4);
		memcpy(path + 4096 - 4, "file", 5);
		expect_err(S2(SYS_stat, path, &st), ENAMETOOLONG, "stat a 4096-byte path");
		expect_err(S3(SYS_open, path, O_RDONLY, 0), ENAMETOOLONG, "open a 4096-byte path");
		/* The same limits for a symlink's target. */
		memset(path, 'x', 4096);
		path[4096] = 0;
		expect_err(S2(SYS_symlink, path, at("long")), ENAMETOOLONG, "symlink to a 4096-byte target");
		path[4095] = 0;
		expect_eq(S2(SYS_symlink, path, at("long")), 0, "symlink to a 4095-byte target");
		expect_eq(S3(SYS_readlink, at("long"), buf, sizeof buf), 4095, "readlink a 4095-byte target");
		CHECK(memcmp(buf, path, 4095) == 0, "readlink gave another target");
		expect_eq(S1(SYS_unlink, at("long")), 0, "unlink long");
	}
	ok();

	current = "trailing slash";
	expect_err(S2(SYS_stat, at("file/"), &st), ENOTDIR, "stat file/");
	expect_err(S2(SYS_lstat, at("file/"), &st), ENOTDIR, "lstat file/");
	expect_err(S2(SYS_stat, at("file/."), &st), ENOTDIR, "stat file/.");
	expect_err(S2(SYS_stat, at("file/.."), &st), ENOTDIR, "stat file/..");
	expect_err(S2(SYS_stat, at("s/"), &st), ENOTDIR, "stat s/ (a symlink to a file)");
	expect_eq(S2(SYS_stat, at("sub/"), &st), 0, "stat sub/");
	expect_eq(S2(SYS_lstat, at("ld"), &st), 0, "lstat ld");
	CHECK(S_ISLNK(st.st_mode), "lstat ld is not a symlink");
	/* A trailing slash follows the symlink even for lstat. */
	expect_eq(S2(SYS_lstat, at("ld/"), &st), 0, "lstat ld/");
	CHECK(S_ISDIR(st.st_mode), "lstat ld/ is not a directory");
	ok();

	current = "dot and dotdot";
	expect_same("/..", "/");
	expect_same("/../../..", "/");
	expect_same("/../tmp", "/tmp");
	expect_same("/tmp/..", "/");
	expect_same(at("sub/../file"), at("file"));
	expect_same(at("./sub/./inner"), at("sub/inner"));
	expect_same(at("sub//inner"), at("sub/inner"));
	expect_same(at("sub/.."), base);
	/* ".." after a symlink goes to the parent of the target, not back. */
	expect_eq(S2(SYS_mkdir, at("sub/deep"), 0755), 0, "mkdir sub/deep");
	expect_eq(S2(SYS_symlink, "sub/deep", at("ldeep")), 0, "symlink sub/deep ldeep");
	expect_same(at("ldeep/.."), at("sub"));
	expect_eq(S1(SYS_chdir, "/"), 0, "chdir /");
	expect_eq(S1(SYS_chdir, ".."), 0, "chdir .. at /");
	expect_eq(S2(SYS_getcwd, buf, sizeof buf), 2, "getcwd after .. at /");
	CHECK(strcmp(buf, "/") == 0, "getcwd is %s", buf);
	expect_err(S2(SYS_stat, "", &st), ENOENT, "stat(\"\")");
	ok();

	current = "relative to the cwd";
	expect_eq(S1(SYS_chdir, at("sub")), 0, "chdir sub");
	expect_fd_text(S3(SYS_open, "inner", O_RDONLY, 0), "inner", "open inner");
	expect_fd_text(S3(SYS_open, "../file", O_RDONLY, 0), "file", "open ../file");
	expect_fd_text(S3(SYS_open, "./rel", O_RDONLY, 0), "file", "open ./rel (a relative symlink)");
	expect_fd_text(S4(SYS_openat, AT_FDCWD, "inner", O_RDONLY, 0), "inner", "openat(AT_FDCWD, \"inner\")");
	write_file("made-here", "here");
	expect_fd_text(S3(SYS_open, at("sub/made-here"), O_RDONLY, 0), "here", "the file made in the cwd");
	expect_eq(S1(SYS_unlink, "made-here"), 0, "unlink made-here");
	expect_same(".", at("sub"));
	expect_same("..", base);
	expect_same("deep/../..", base);
	expect_eq(S1(SYS_chdir, "/"), 0, "chdir /");
	ok();

	current = "relative to a dirfd";
	{
		long sub = S4(SYS_openat, dirfd, "sub", O_RDONLY | O_DIRECTORY, 0);
		CHECK(sub >= 0, "openat(dirfd, \"sub\") = %ld (%s)", sub, errname(sub));
		expect_fd_text(S4(SYS_openat, sub, "inner", O_RDONLY, 0), "inner", "openat(sub, \"inner\")");
		expect_fd_text(S4(SYS_openat, sub, "../file", O_RDONLY, 0), "file", "openat(sub, \"../file\")");
		expect_fd_text(S4(SYS_openat, sub, "rel", O_RDONLY, 0), "file", "openat(sub, \"rel\")");
		close_ok(sub);
		long path = S4(SYS_openat, dirfd, "ld", O_PATH | O_DIRECTORY, 0);
		CHECK(path >= 0, "openat(dirfd, \"ld\", O_PATH) = %ld (%s)", path, errname(path));
		expect_fd_text(S4(SYS_openat, path, "inner", O_RDONLY, 0), "inner", "openat(an O_PATH dirfd, \"inner\")");
		close_ok(path);
	}
	ok();

	current = "openat2";
	expect_fd_text(openat2(dirfd, "file", O_RDONLY, 0, 0), "file", "openat2 without resolve flags");
	{
		struct open_how how = { O_RDONLY, 0, 0, 0 };
		expect_err(S4(SYS_openat2, dirfd, "file", &how, 23), EINVAL, "openat2 size 23");
		expect_err(S4(SYS_openat2, dirfd, "file", &how, 0), EINVAL, "openat2 size 0");
		expect_fd_text(S4(SYS_openat2, dirfd, "file", &how, 32), "file", "openat2 size 32 with a zero tail");
		how.extra = 1;
		expect_err(S4(SYS_openat2, dirfd, "file", &how, 32), X_E2BIG, "openat2 size 32 with a non-zero tail");
	}
	expect_err(openat2(dirfd, "file", O_RDONLY, 0644, 0), EINVAL, "openat2 mode without O_CREAT");
	expect_err(openat2(dirfd, "file", O_RDONLY, 0, 0x80), EINVAL, "openat2 unknown resolve bit");
	expect_err(openat2(dirfd, "file", O_RDONLY, 0, X_RESOLVE_BENEATH | X_RESOLVE_IN_ROOT), EINVAL,
		   "openat2 RESOLVE_BENEATH|RESOLVE_IN_ROOT");
	fd = openat2(dirfd, "new2", O_RDWR | O_CREAT | O_EXCL, 0600, X_RESOLVE_BENEATH);
	CHECK(fd >= 0, "openat2 O_CREAT = %ld (%s)", fd, errname(fd));
	close_ok(fd);
	expect_eq(S2(SYS_stat, at("new2"), &st), 0, "stat new2");
	expect_eq(st.st_mode, S_IFREG | 0600, "mode of new2");
	expect_eq(S1(SYS_unlink, at("new2")), 0, "unlink new2");
	ok();

	current = "openat2 RESOLVE_BENEATH";
	expect_fd_text(openat2(dirfd, "sub/../file", O_RDONLY, 0, X_RESOLVE_BENEATH), "file", "sub/../file");
	expect_fd_text(openat2(dirfd, "sub/rel", O_RDONLY, 0, X_RESOLVE_BENEATH), "file", "sub/rel (stays beneath)");
	expect_fd_text(openat2(dirfd, "ld/inner", O_RDONLY, 0, X_RESOLVE_BENEATH), "inner", "ld/inner");
	expect_err(openat2(dirfd, "../x", O_RDONLY, 0, X_RESOLVE_BENEATH), EXDEV, "../x");
	expect_err(openat2(dirfd, "sub/../..", O_RDONLY, 0, X_RESOLVE_BENEATH), EXDEV, "sub/../..");
	expect_err(openat2(dirfd, at("file"), O_RDONLY, 0, X_RESOLVE_BENEATH), EXDEV, "an absolute path");
	expect_err(openat2(dirfd, "abs", O_RDONLY, 0, X_RESOLVE_BENEATH), EXDEV, "a symlink to an absolute path");
	{
		long sub = openat2(dirfd, "sub", O_RDONLY | O_DIRECTORY, 0, X_RESOLVE_BENEATH);
		CHECK(sub >= 0, "openat2 sub = %ld (%s)", sub, errname(sub));
		expect_err(openat2(sub, "rel", O_RDONLY, 0, X_RESOLVE_BENEATH), EXDEV, "a symlink out of the dirfd");
		expect_err(openat2(sub, "..", O_RDONLY, 0, X_RESOLVE_BENEATH), EXDEV, "..");
		close_ok(sub);
	}
	ok();

	current = "openat2 RESOLVE_IN_ROOT";
	expect_eq(S2(SYS_symlink, "/file", at("rootabs")), 0, "symlink /file rootabs");
	expect_fd_text(openat2(dirfd, "../file", O_RDONLY, 0, X_RESOLVE_IN_ROOT), "file", "../file stays in the root");
	expect_fd_text(openat2(dirfd, "../../sub/../../file", O_RDONLY, 0, X_RESOLVE_IN_ROOT), "file", "../../sub/../../file");
	expect_fd_text(openat2(dirfd, "/file", O_RDONLY, 0, X_RESOLVE_IN_ROOT), "file", "/file is under the root");
	expect_fd_text(openat2(dirfd, "rootabs", O_RDONLY, 0, X_RESOLVE_IN_ROOT), "file", "a symlink to /file");
	expect_err(S3(SYS_open, at("rootabs"), O_RDONLY, 0), ENOENT, "the same symlink outside openat2");
	/* abs points to BASE/file, which under the root is BASE/BASE/file. */
	expect_err(openat2(dirfd, "abs", O_RDONLY, 0, X_RESOLVE_IN_ROOT), ENOENT, "a symlink to the full path");
	{
		long sub = openat2(dirfd, "sub", O_RDONLY | O_DIRECTORY, 0, X_RESOLVE_IN_ROOT);
		CHECK(sub >= 0, "openat2 sub = %ld (%s)", sub, errname(sub));
		expect_fd_text(openat2(sub, "inner", O_RDONLY, 0, X_RESOLVE_IN_ROOT), "inner", "inner in sub");
		expect_err(openat2(sub, "rel", O_RDONLY, 0, X_RESOLVE_IN_ROOT), ENOENT, "sub/rel is /file in sub");
		expect_err(openat2(sub, "../file", O_RDONLY, 0, X_RESOLVE_IN_ROOT), ENOENT, "../file from sub");
		close_ok(sub);
	}
	expect_eq(S1(SYS_unlink, at("rootabs")), 0, "unlink rootabs");
	ok();

	current = "openat2 RESOLVE_NO_SYMLINKS";
	expect_fd_text(openat2(dirfd, "sub/inner", O_RDONLY, 0, X_RESOLVE_NO_SYMLINKS), "inner", "sub/inner");
	expect_err(openat2(dirfd, "s", O_RDONLY, 0, X_RESOLVE_NO_SYMLINKS), ELOOP, "a symlink");
	expect_err(openat2(dirfd, "ld/inner", O_RDONLY, 0, X_RESOLVE_NO_SYMLINKS), ELOOP, "through a symlink");
	r = openat2(dirfd, "s", O_PATH | O_NOFOLLOW, 0, X_RESOLVE_NO_SYMLINKS);
	CHECK(r >= 0, "O_PATH|O_NOFOLLOW of a symlink = %ld (%s)", r, errname(r));
	close_ok(r);
	ok();

	current = "cleanup";
	close_ok(dirfd);
	const char *links[] = { "s", "abs", "sub/rel", "loop-a", "loop-b", "self", "ld", "ldeep", "sub/inner", "file" };
	for (unsigned i = 0; i < sizeof links / sizeof links[0]; i++)
		expect_eq(S1(SYS_unlink, at(links[i])), 0, links[i]);
	expect_eq(S1(SYS_rmdir, at("sub/deep")), 0, "rmdir sub/deep");
	expect_eq(S1(SYS_rmdir, at("sub")), 0, "rmdir sub");
	remove_base();
	ok();

	out("all ok\n");
	return 0;
}
