/* Helpers shared by the filesystem guests (fs_basic.c, fs_dirs.c, fs_paths.c,
 * fs_meta.c, fs_fd.c, fs_dev.c): base, the fresh directory a guest writes
 * under, with make_base() and remove_base() to create and remove it and at()
 * to name a file in it; open_ok, close_ok, lstat_ok and write_file, system
 * calls that must succeed (else fail()); and the kernel's struct
 * linux_dirent64 head with the d_type values the guests compare.
 *
 * Only static inline functions, macros, types and the base buffer: it is
 * included, never built as a guest of its own (scripts/build-guests.sh builds
 * *.c and rebuilds every guest when this file changes). Include it after
 * guest.h, whose helpers it uses. */
#ifndef FS_H
#define FS_H

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#define X_DT_DIR 4
#define X_DT_REG 8
#define X_DT_LNK 10

/* The kernel's struct linux_dirent64, without its name. */
struct dirent64_head {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

static char base[64];

/* Sets umask 022 and makes base, /tmp/tvisor-fs-PID-NAME, mode 0700. */
static inline void make_base(const char *name)
{
	S1(SYS_umask, 022);
	snprintf(base, sizeof base, "/tmp/tvisor-fs-%ld-%s", S0(SYS_getpid), name);
	expect_eq(S2(SYS_mkdir, base, 0700), 0, "mkdir base");
}

/* Removes base, which must be empty by now. */
static inline void remove_base(void)
{
	expect_eq(S1(SYS_rmdir, base), 0, "rmdir base");
}

/* The path of name under base, in one of 8 rotating buffers. */
static inline const char *at(const char *name)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ & 7];
	snprintf(b, sizeof bufs[0], "%s/%s", base, name);
	return b;
}

static inline long open_ok(const char *path, int flags, int mode)
{
	long fd = S3(SYS_open, path, flags, mode);
	if (fd < 0)
		fail("open(%s, 0%o) = %ld (%s)", path, flags, fd, errname(fd));
	return fd;
}

static inline void close_ok(long fd)
{
	expect_eq(S1(SYS_close, fd), 0, "close");
}

static inline struct stat lstat_ok(const char *path)
{
	struct stat st;
	long r = S2(SYS_lstat, path, &st);
	if (r != 0)
		fail("lstat(%s) = %ld (%s)", path, r, errname(r));
	return st;
}

/* Creates or truncates the file at path, mode 0644, to hold exactly text. */
static inline void write_file(const char *path, const char *text)
{
	long fd = open_ok(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	expect_eq(S3(SYS_write, fd, text, strlen(text)), strlen(text), "write the file's text");
	close_ok(fd);
}

#endif
