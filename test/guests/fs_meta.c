/* File metadata through raw system calls, with exact results and errnos as
 * Linux gives them on ext4 and tmpfs: stat, lstat, fstat, newfstatat, statx,
 * statfs, fstatfs; access, faccessat, faccessat2; chmod, fchmod, fchmodat;
 * chown, fchown, lchown, fchownat (to the caller's own uid and gid only);
 * utimensat and futimesat. Prints "ok NAME" per check, then "all ok"; on the
 * first failure prints "FAIL: NAME: details" and exits 1.
 *
 * Nothing that differs between filesystems or runs (inode numbers, block
 * counts, the filesystem type, the current time) is printed or compared with a
 * fixed value. Everything is written under a fresh directory
 * /tmp/tvisor-fs-PID-meta, removed at the end (its rmdir is the last check). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "fs.h"

#define X_STATX_TYPE 0x1U
#define X_STATX_MODE 0x2U
#define X_STATX_NLINK 0x4U
#define X_STATX_UID 0x8U
#define X_STATX_GID 0x10U
#define X_STATX_MTIME 0x40U
#define X_STATX_SIZE 0x200U
#define X_STATX_BASIC_STATS 0x7ffU
#define X_STATX__RESERVED 0x80000000U
#define X_AT_STATX_FORCE_SYNC 0x2000
#define X_AT_STATX_DONT_SYNC 0x4000

/* The kernel's struct statx, up to the fields read here (256 bytes in all). */
struct statx_ts {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};
struct kstatx {
	uint32_t stx_mask;
	uint32_t stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink;
	uint32_t stx_uid;
	uint32_t stx_gid;
	uint16_t stx_mode;
	uint16_t spare0;
	uint64_t stx_ino;
	uint64_t stx_size;
	uint64_t stx_blocks;
	uint64_t stx_attributes_mask;
	struct statx_ts stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint8_t rest[256 - 128];
};

static void expect_ts(struct timespec got, long sec, long nsec, const char *what)
{
	if (got.tv_sec != sec || got.tv_nsec != nsec)
		fail("%s: expected %ld.%09ld, got %ld.%09ld", what, sec, nsec, (long)got.tv_sec, (long)got.tv_nsec);
}

int main(void)
{
	long fd, dirfd;
	long uid = S0(SYS_getuid), gid = S0(SYS_getgid);
	struct stat st, st2;

	current = "setup";
	make_base("meta");
	fd = open_ok(at("f"), O_WRONLY | O_CREAT | O_EXCL, 0640);
	expect_eq(S3(SYS_write, fd, "hello", 5), 5, "write f");
	close_ok(fd);
	expect_eq(S2(SYS_symlink, "f", at("s")), 0, "symlink f s");
	expect_eq(S2(SYS_symlink, "missing", at("dang")), 0, "symlink missing dang");
	dirfd = open_ok(base, O_RDONLY | O_DIRECTORY, 0);
	ok();

	current = "stat lstat fstat";
	expect_eq(S2(SYS_stat, at("f"), &st), 0, "stat f");
	expect_eq(st.st_mode, S_IFREG | 0640, "st_mode");
	expect_eq(st.st_size, 5, "st_size");
	expect_eq(st.st_nlink, 1, "st_nlink");
	expect_eq(st.st_uid, uid, "st_uid");
	expect_eq(st.st_gid, gid, "st_gid");
	expect_eq(st.st_rdev, 0, "st_rdev");
	expect_eq(S2(SYS_stat, at("s"), &st2), 0, "stat s");
	CHECK(st2.st_ino == st.st_ino && st2.st_dev == st.st_dev && st2.st_mode == st.st_mode, "stat s is not f");
	st2 = lstat_ok(at("s"));
	expect_eq(st2.st_mode, S_IFLNK | 0777, "lstat s: st_mode");
	expect_eq(st2.st_size, 1, "lstat s: st_size");
	CHECK(st2.st_ino != st.st_ino, "lstat s has f's inode");
	expect_eq(lstat_ok(at("f")).st_ino, st.st_ino, "lstat of a file is its stat");
	expect_eq(S2(SYS_stat, base, &st2), 0, "stat base");
	expect_eq(st2.st_mode, S_IFDIR | 0700, "mode of base");
	fd = open_ok(at("f"), O_RDONLY, 0);
	expect_eq(S2(SYS_fstat, fd, &st2), 0, "fstat f");
	CHECK(st2.st_ino == st.st_ino && st2.st_size == 5 && st2.st_mode == (S_IFREG | 0640), "fstat f differs from stat f");
	close_ok(fd);
	expect_err(S2(SYS_stat, at("missing"), &st2), ENOENT, "stat a missing file");
	expect_err(S2(SYS_stat, at("dang"), &st2), ENOENT, "stat a dangling symlink");
	expect_err(S2(SYS_stat, at("f/x"), &st2), ENOTDIR, "stat under a file");
	expect_err(S2(SYS_fstat, 99, &st2), EBADF, "fstat(99)");
	ok();

	current = "newfstatat";
	expect_eq(S4(SYS_newfstatat, dirfd, "f", &st2, 0), 0, "newfstatat(dirfd, \"f\")");
	expect_eq(st2.st_ino, st.st_ino, "the same inode as stat");
	expect_eq(S4(SYS_newfstatat, dirfd, "s", &st2, 0), 0, "newfstatat(dirfd, \"s\")");
	expect_eq(st2.st_mode, S_IFREG | 0640, "newfstatat follows s");
	expect_eq(S4(SYS_newfstatat, dirfd, "s", &st2, AT_SYMLINK_NOFOLLOW), 0, "newfstatat(AT_SYMLINK_NOFOLLOW)");
	expect_eq(st2.st_mode, S_IFLNK | 0777, "newfstatat(AT_SYMLINK_NOFOLLOW) mode");
	expect_eq(S4(SYS_newfstatat, dirfd, "", &st2, AT_EMPTY_PATH), 0, "newfstatat(dirfd, \"\", AT_EMPTY_PATH)");
	expect_eq(st2.st_mode, S_IFDIR | 0700, "the dirfd's mode");
	fd = open_ok(at("f"), O_RDONLY, 0);
	expect_eq(S4(SYS_newfstatat, fd, "", &st2, AT_EMPTY_PATH), 0, "newfstatat(file fd, \"\", AT_EMPTY_PATH)");
	expect_eq(st2.st_ino, st.st_ino, "the file fd's inode");
	expect_err(S4(SYS_newfstatat, fd, "x", &st2, 0), ENOTDIR, "newfstatat with a file as dirfd");
	close_ok(fd);
	expect_err(S4(SYS_newfstatat, dirfd, "", &st2, 0), ENOENT, "newfstatat \"\" without AT_EMPTY_PATH");
	expect_err(S4(SYS_newfstatat, dirfd, "f", &st2, 1), EINVAL, "newfstatat flags 1");
	expect_err(S4(SYS_newfstatat, 99, "f", &st2, 0), EBADF, "newfstatat with a closed dirfd");
	expect_eq(S4(SYS_newfstatat, 99, at("f"), &st2, 0), 0, "newfstatat with a closed dirfd and an absolute path");
	ok();

	current = "statx";
	{
		struct kstatx sx;
		const uint32_t want = X_STATX_TYPE | X_STATX_MODE | X_STATX_NLINK | X_STATX_UID | X_STATX_GID |
				      X_STATX_MTIME | X_STATX_SIZE;
		memset(&sx, 0xff, sizeof sx);
		expect_eq(S5(SYS_statx, dirfd, "f", 0, X_STATX_BASIC_STATS, &sx), 0, "statx(dirfd, \"f\")");
		CHECK((sx.stx_mask & want) == want, "stx_mask 0x%x lacks 0x%x", sx.stx_mask, want);
		expect_eq(sx.stx_mode, S_IFREG | 0640, "stx_mode");
		expect_eq(sx.stx_size, 5, "stx_size");
		expect_eq(sx.stx_nlink, 1, "stx_nlink");
		expect_eq(sx.stx_uid, uid, "stx_uid");
		expect_eq(sx.stx_gid, gid, "stx_gid");
		expect_eq(sx.stx_ino, st.st_ino, "stx_ino");
		CHECK(sx.stx_mtime.tv_sec == st.st_mtim.tv_sec && sx.stx_mtime.tv_nsec == st.st_mtim.tv_nsec,
		      "stx_mtime differs from st_mtim");
		expect_eq(S5(SYS_statx, dirfd, "s", AT_SYMLINK_NOFOLLOW, X_STATX_BASIC_STATS, &sx), 0,
			  "statx(AT_SYMLINK_NOFOLLOW)");
		expect_eq(sx.stx_mode, S_IFLNK | 0777, "stx_mode of the symlink");
		expect_eq(sx.stx_size, 1, "stx_size of the symlink");
		expect_eq(S5(SYS_statx, AT_FDCWD, at("s"), 0, X_STATX_SIZE, &sx), 0, "statx(AT_FDCWD, s)");
		CHECK(sx.stx_mask & X_STATX_SIZE, "STATX_SIZE not in stx_mask 0x%x", sx.stx_mask);
		expect_eq(sx.stx_size, 5, "stx_size through the symlink");
		expect_eq(S5(SYS_statx, dirfd, "", AT_EMPTY_PATH, X_STATX_BASIC_STATS, &sx), 0, "statx(AT_EMPTY_PATH)");
		expect_eq(sx.stx_mode, S_IFDIR | 0700, "stx_mode of the dirfd");
		expect_err(S5(SYS_statx, dirfd, "missing", 0, X_STATX_BASIC_STATS, &sx), ENOENT, "statx a missing file");
		expect_err(S5(SYS_statx, dirfd, "f", 0, X_STATX__RESERVED, &sx), EINVAL, "statx mask STATX__RESERVED");
		expect_err(S5(SYS_statx, dirfd, "f", X_AT_STATX_FORCE_SYNC | X_AT_STATX_DONT_SYNC, X_STATX_BASIC_STATS, &sx),
			   EINVAL, "statx FORCE_SYNC|DONT_SYNC");
		expect_err(S5(SYS_statx, dirfd, "f", 1, X_STATX_BASIC_STATS, &sx), EINVAL, "statx flags 1");
		expect_err(S5(SYS_statx, 99, "f", 0, X_STATX_BASIC_STATS, &sx), EBADF, "statx with a closed dirfd");
	}
	ok();

	current = "statfs fstatfs";
	{
		struct statfs a, b;
		expect_eq(S2(SYS_statfs, "/tmp", &a), 0, "statfs /tmp");
		expect_eq(a.f_namelen, 255, "f_namelen of /tmp");
		CHECK(a.f_bsize > 0, "f_bsize %lu", (unsigned long)a.f_bsize);
		expect_eq(S2(SYS_statfs, at("f"), &a), 0, "statfs f");
		expect_eq(S2(SYS_fstatfs, dirfd, &b), 0, "fstatfs base");
		CHECK(a.f_type == b.f_type && a.f_namelen == b.f_namelen && a.f_bsize == b.f_bsize,
		      "statfs of f and fstatfs of its directory differ");
		expect_err(S2(SYS_statfs, at("missing"), &a), ENOENT, "statfs a missing file");
		expect_err(S2(SYS_fstatfs, 99, &a), EBADF, "fstatfs(99)");
	}
	ok();

	current = "access faccessat faccessat2";
	expect_eq(S2(SYS_access, at("f"), F_OK), 0, "access(f, F_OK)");
	expect_eq(S2(SYS_access, at("f"), R_OK | W_OK), 0, "access(f, R_OK|W_OK)");
	/* Without any execute bit even root may not execute. */
	expect_err(S2(SYS_access, at("f"), X_OK), EACCES, "access(f, X_OK) with mode 0640");
	expect_eq(S2(SYS_access, base, R_OK | W_OK | X_OK), 0, "access(base, R_OK|W_OK|X_OK)");
	expect_err(S2(SYS_access, at("missing"), F_OK), ENOENT, "access a missing file");
	expect_err(S2(SYS_access, at("dang"), F_OK), ENOENT, "access a dangling symlink");
	expect_err(S2(SYS_access, at("f/"), F_OK), ENOTDIR, "access f/");
	expect_err(S2(SYS_access, at("f"), 8), EINVAL, "access mode 8");
	expect_eq(S3(SYS_faccessat, dirfd, "f", R_OK), 0, "faccessat(dirfd, \"f\", R_OK)");
	expect_err(S3(SYS_faccessat, dirfd, "missing", F_OK), ENOENT, "faccessat a missing file");
	expect_err(S3(SYS_faccessat, 99, "f", F_OK), EBADF, "faccessat with a closed dirfd");
	expect_eq(S4(SYS_faccessat2, dirfd, "s", R_OK | W_OK, 0), 0, "faccessat2(dirfd, \"s\")");
	expect_err(S4(SYS_faccessat2, dirfd, "dang", F_OK, 0), ENOENT, "faccessat2 a dangling symlink");
	expect_eq(S4(SYS_faccessat2, dirfd, "dang", F_OK, AT_SYMLINK_NOFOLLOW), 0, "faccessat2(AT_SYMLINK_NOFOLLOW)");
	expect_eq(S4(SYS_faccessat2, dirfd, "f", R_OK, AT_EACCESS), 0, "faccessat2(AT_EACCESS)");
	expect_eq(S4(SYS_faccessat2, dirfd, "", R_OK, AT_EMPTY_PATH), 0, "faccessat2(AT_EMPTY_PATH)");
	expect_err(S4(SYS_faccessat2, dirfd, "", R_OK, 0), ENOENT, "faccessat2 \"\" without AT_EMPTY_PATH");
	expect_err(S4(SYS_faccessat2, dirfd, "f", R_OK, 1), EINVAL, "faccessat2 flags 1");
	ok();

	current = "chmod fchmod fchmodat";
	expect_eq(S2(SYS_chmod, at("f"), 0600), 0, "chmod 0600");
	expect_eq(lstat_ok(at("f")).st_mode, S_IFREG | 0600, "mode after chmod 0600");
	expect_eq(S2(SYS_chmod, at("f"), 0), 0, "chmod 0");
	expect_eq(lstat_ok(at("f")).st_mode, S_IFREG, "mode after chmod 0");
	/* Bits above 07777 are ignored. */
	expect_eq(S2(SYS_chmod, at("f"), 0170755), 0, "chmod 0170755");
	expect_eq(lstat_ok(at("f")).st_mode, S_IFREG | 0755, "mode after chmod 0170755");
	expect_eq(S2(SYS_chmod, at("s"), 0604), 0, "chmod through a symlink");
	expect_eq(lstat_ok(at("f")).st_mode, S_IFREG | 0604, "mode of the target");
	expect_eq(lstat_ok(at("s")).st_mode, S_IFLNK | 0777, "mode of the symlink itself");
	fd = open_ok(at("f"), O_RDONLY, 0);
	expect_eq(S2(SYS_fchmod, fd, 0640), 0, "fchmod 0640 on a read-only fd");
	expect_eq(lstat_ok(at("f")).st_mode, S_IFREG | 0640, "mode after fchmod");
	close_ok(fd);
	expect_eq(S3(SYS_fchmodat, dirfd, "f", 0751), 0, "fchmodat(dirfd, \"f\", 0751)");
	expect_eq(lstat_ok(at("f")).st_mode, S_IFREG | 0751, "mode after fchmodat");
	expect_eq(S2(SYS_mkdir, at("d"), 0700), 0, "mkdir d");
	expect_eq(S2(SYS_chmod, at("d"), 01777), 0, "chmod a directory 01777");
	expect_eq(lstat_ok(at("d")).st_mode, S_IFDIR | 01777, "mode of d");
	expect_eq(S1(SYS_rmdir, at("d")), 0, "rmdir d");
	expect_err(S2(SYS_chmod, at("missing"), 0600), ENOENT, "chmod a missing file");
	expect_err(S2(SYS_chmod, at("dang"), 0600), ENOENT, "chmod a dangling symlink");
	expect_err(S2(SYS_fchmod, 99, 0600), EBADF, "fchmod(99)");
	expect_err(S3(SYS_fchmodat, 99, "f", 0600), EBADF, "fchmodat with a closed dirfd");
	expect_eq(S2(SYS_chmod, at("f"), 0640), 0, "chmod back to 0640");
	ok();

	current = "chown fchown lchown fchownat";
	expect_eq(S3(SYS_chown, at("f"), -1, -1), 0, "chown(f, -1, -1)");
	expect_eq(S3(SYS_chown, at("f"), uid, gid), 0, "chown(f, uid, gid)");
	expect_eq(S3(SYS_chown, at("f"), uid, -1), 0, "chown(f, uid, -1)");
	st2 = lstat_ok(at("f"));
	CHECK(st2.st_uid == uid && st2.st_gid == gid, "owner %d:%d after chown", st2.st_uid, st2.st_gid);
	expect_eq(st2.st_mode, S_IFREG | 0640, "mode after chown");
	fd = open_ok(at("f"), O_RDONLY, 0);
	expect_eq(S3(SYS_fchown, fd, uid, gid), 0, "fchown");
	close_ok(fd);
	expect_eq(S3(SYS_lchown, at("s"), uid, gid), 0, "lchown a symlink");
	expect_eq(S3(SYS_lchown, at("dang"), -1, -1), 0, "lchown a dangling symlink");
	expect_err(S3(SYS_chown, at("dang"), -1, -1), ENOENT, "chown a dangling symlink");
	expect_eq(S5(SYS_fchownat, dirfd, "s", uid, gid, AT_SYMLINK_NOFOLLOW), 0, "fchownat(AT_SYMLINK_NOFOLLOW)");
	expect_eq(S5(SYS_fchownat, dirfd, "", uid, gid, AT_EMPTY_PATH), 0, "fchownat(AT_EMPTY_PATH)");
	expect_err(S5(SYS_fchownat, dirfd, "f", uid, gid, 1), EINVAL, "fchownat flags 1");
	expect_err(S3(SYS_chown, at("missing"), uid, gid), ENOENT, "chown a missing file");
	expect_err(S3(SYS_fchown, 99, uid, gid), EBADF, "fchown(99)");
	/* chown of a regular file clears set-user-ID and (with group execute) set-group-ID. */
	expect_eq(S2(SYS_chmod, at("f"), 06755), 0, "chmod 06755");
	expect_eq(lstat_ok(at("f")).st_mode, S_IFREG | 06755, "mode after chmod 06755");
	expect_eq(S3(SYS_chown, at("f"), uid, gid), 0, "chown a set-user-ID file");
	expect_eq(lstat_ok(at("f")).st_mode, S_IFREG | 0755, "mode after chown");
	expect_eq(S2(SYS_chmod, at("f"), 0640), 0, "chmod back to 0640");
	ok();

	current = "utimensat";
	{
		struct timespec t[2] = { { 1000000000, 123456789 }, { 1234567890, 5 } };
		expect_eq(S4(SYS_utimensat, AT_FDCWD, at("f"), t, 0), 0, "utimensat(f)");
		st2 = lstat_ok(at("f"));
		expect_ts(st2.st_atim, 1000000000, 123456789, "atime");
		expect_ts(st2.st_mtim, 1234567890, 5, "mtime");
		t[0].tv_nsec = UTIME_OMIT;
		t[1].tv_sec = 1500000000;
		t[1].tv_nsec = 0;
		expect_eq(S4(SYS_utimensat, dirfd, "f", t, 0), 0, "utimensat(dirfd, \"f\") with UTIME_OMIT");
		st2 = lstat_ok(at("f"));
		expect_ts(st2.st_atim, 1000000000, 123456789, "atime after UTIME_OMIT");
		expect_ts(st2.st_mtim, 1500000000, 0, "mtime after UTIME_OMIT");
		/* Through a symlink, then on the symlink itself. */
		t[0] = (struct timespec){ 1600000000, 1 };
		t[1] = (struct timespec){ 1600000000, 2 };
		expect_eq(S4(SYS_utimensat, AT_FDCWD, at("s"), t, 0), 0, "utimensat(s)");
		expect_ts(lstat_ok(at("f")).st_mtim, 1600000000, 2, "mtime of the target");
		t[1] = (struct timespec){ 1700000000, 3 };
		expect_eq(S4(SYS_utimensat, AT_FDCWD, at("s"), t, AT_SYMLINK_NOFOLLOW), 0, "utimensat(s, AT_SYMLINK_NOFOLLOW)");
		expect_ts(lstat_ok(at("s")).st_mtim, 1700000000, 3, "mtime of the symlink");
		expect_ts(lstat_ok(at("f")).st_mtim, 1600000000, 2, "mtime of the target unchanged");
		/* A NULL path with an fd is futimens. */
		fd = open_ok(at("f"), O_RDWR, 0);
		t[0] = (struct timespec){ 1111111111, 0 };
		t[1] = (struct timespec){ 1222222222, 999999999 };
		expect_eq(S4(SYS_utimensat, fd, NULL, t, 0), 0, "utimensat(fd, NULL)");
		expect_ts(lstat_ok(at("f")).st_mtim, 1222222222, 999999999, "mtime after utimensat(fd, NULL)");
		/* Writing moves mtime to now. */
		expect_eq(S3(SYS_write, fd, "!", 1), 1, "write f");
		CHECK(lstat_ok(at("f")).st_mtim.tv_sec > 1222222222, "a write did not update mtime");
		close_ok(fd);
		/* NULL times: both to now (the filesystem's clock may lag by a tick). */
		struct timespec before, after;
		S2(SYS_clock_gettime, CLOCK_REALTIME, &before);
		expect_eq(S4(SYS_utimensat, AT_FDCWD, at("f"), NULL, 0), 0, "utimensat(f, NULL)");
		S2(SYS_clock_gettime, CLOCK_REALTIME, &after);
		st2 = lstat_ok(at("f"));
		CHECK(st2.st_mtim.tv_sec >= before.tv_sec - 1 && st2.st_mtim.tv_sec <= after.tv_sec + 1,
		      "mtime %ld is not now (%ld..%ld)", (long)st2.st_mtim.tv_sec, (long)before.tv_sec, (long)after.tv_sec);
		CHECK(st2.st_atim.tv_sec == st2.st_mtim.tv_sec && st2.st_atim.tv_nsec == st2.st_mtim.tv_nsec,
		      "atime and mtime differ after utimensat(NULL)");
		t[0] = (struct timespec){ 0, 1000000000 };
		expect_err(S4(SYS_utimensat, AT_FDCWD, at("f"), t, 0), EINVAL, "tv_nsec 1e9");
		t[0] = (struct timespec){ 0, -1 };
		expect_err(S4(SYS_utimensat, AT_FDCWD, at("f"), t, 0), EINVAL, "tv_nsec -1");
		t[0] = (struct timespec){ 0, 0 };
		expect_err(S4(SYS_utimensat, AT_FDCWD, at("missing"), t, 0), ENOENT, "utimensat a missing file");
		expect_err(S4(SYS_utimensat, AT_FDCWD, at("f"), t, 1), EINVAL, "utimensat flags 1");
		expect_err(S4(SYS_utimensat, 99, NULL, t, 0), EBADF, "utimensat(99, NULL)");
	}
	ok();

	current = "futimesat";
	{
		struct timeval tv[2] = { { 1100000000, 250000 }, { 1300000000, 999999 } };
		expect_eq(S3(SYS_futimesat, dirfd, "f", tv), 0, "futimesat(dirfd, \"f\")");
		st2 = lstat_ok(at("f"));
		expect_ts(st2.st_atim, 1100000000, 250000000, "atime");
		expect_ts(st2.st_mtim, 1300000000, 999999000, "mtime");
		expect_eq(S3(SYS_futimesat, AT_FDCWD, at("f"), tv), 0, "futimesat(AT_FDCWD, absolute)");
		tv[1].tv_usec = 1000000;
		expect_err(S3(SYS_futimesat, dirfd, "f", tv), EINVAL, "tv_usec 1e6");
		tv[1].tv_usec = 0;
		expect_err(S3(SYS_futimesat, dirfd, "missing", tv), ENOENT, "futimesat a missing file");
		expect_err(S3(SYS_futimesat, 99, "f", tv), EBADF, "futimesat with a closed dirfd");
	}
	ok();

	current = "cleanup";
	close_ok(dirfd);
	expect_eq(S1(SYS_unlink, at("s")), 0, "unlink s");
	expect_eq(S1(SYS_unlink, at("dang")), 0, "unlink dang");
	expect_eq(S1(SYS_unlink, at("f")), 0, "unlink f");
	remove_base();
	ok();

	out("all ok\n");
	return 0;
}
