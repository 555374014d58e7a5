/* inotify(7) through raw system calls, with the exact results and errnos
 * Linux gives: inotify_init1's flags, inotify_add_watch's checks and its
 * watch descriptors (one per inode, masks replaced, added to, or refused
 * with IN_MASK_CREATE), inotify_rm_watch and the IN_IGNORED event it
 * queues, reads (EAGAIN, EINVAL for a short buffer, whole events), poll,
 * FIONREAD and /proc/self/fd. The watches are on a file and a directory
 * nothing else touches, so no other event can come. Prints "ok NAME" per
 * check, then "all ok"; on the first failure prints "FAIL: NAME: details"
 * and exits 1. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"
#include "desc.h"

static void check_init(void)
{
	current = "inotify_init1";
	long fd = S1(SYS_inotify_init1, 0);
	expect_eq(fd, 3, "inotify_init1(0)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDONLY, "F_GETFL");
	expect_link((int)fd, "anon_inode:inotify");
	S1(SYS_close, fd);
	fd = S1(SYS_inotify_init1, IN_NONBLOCK | IN_CLOEXEC);
	expect_eq(fd, 3, "inotify_init1(IN_NONBLOCK | IN_CLOEXEC)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "F_GETFD");
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDONLY | O_NONBLOCK, "F_GETFL");
	S1(SYS_close, fd);
	expect_err(S1(SYS_inotify_init1, 1), EINVAL, "inotify_init1 with an unknown flag");
	fd = S0(SYS_inotify_init);
	expect_eq(fd, 3, "inotify_init");
	S1(SYS_close, fd);
	ok();
}

static void check_watches(void)
{
	current = "watches";
	make_scratch("inotify");
	const char *file = in_scratch("file");
	long f = S3(SYS_open, file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	expect_eq(f, 3, "create the file");
	S1(SYS_close, f);
	int fd = (int)S1(SYS_inotify_init1, IN_NONBLOCK);
	expect_eq(fd, 3, "inotify_init1");
	expect_eq(S3(SYS_inotify_add_watch, fd, file, IN_ATTRIB), 1, "the first watch");
	expect_eq(S3(SYS_inotify_add_watch, fd, file, IN_DELETE_SELF), 1, "the same file again");
	expect_eq(S3(SYS_inotify_add_watch, fd, file, IN_ATTRIB | IN_MASK_ADD), 1, "IN_MASK_ADD");
	expect_err(S3(SYS_inotify_add_watch, fd, file, IN_ATTRIB | IN_MASK_CREATE), EEXIST, "IN_MASK_CREATE on a watched file");
	expect_eq(S3(SYS_inotify_add_watch, fd, scratch, IN_DELETE_SELF | IN_ONLYDIR), 2, "a directory with IN_ONLYDIR");
	expect_err(S3(SYS_inotify_add_watch, fd, file, IN_ATTRIB | IN_ONLYDIR), ENOTDIR, "IN_ONLYDIR on a file");
	expect_err(S3(SYS_inotify_add_watch, fd, in_scratch("missing"), IN_ATTRIB), ENOENT, "a missing file");
	expect_err(S3(SYS_inotify_add_watch, fd, file, 0), EINVAL, "no events");
	expect_err(S3(SYS_inotify_add_watch, fd, file, IN_ATTRIB | IN_MASK_ADD | IN_MASK_CREATE), EINVAL,
		   "IN_MASK_ADD with IN_MASK_CREATE");
	expect_err(S3(SYS_inotify_add_watch, 99, file, IN_ATTRIB), EBADF, "a closed fd");
	int p[2];
	pipe_ok(p, 0);
	expect_err(S3(SYS_inotify_add_watch, p[0], file, IN_ATTRIB), EINVAL, "a pipe");
	expect_err(S2(SYS_inotify_rm_watch, p[0], 1), EINVAL, "inotify_rm_watch on a pipe");
	S1(SYS_close, p[0]);
	S1(SYS_close, p[1]);
	ok();

	current = "events";
	char buf[64];
	expect_err(S3(SYS_read, fd, buf, sizeof buf), EAGAIN, "a read with nothing queued");
	expect_revents(fd, POLLIN | POLLOUT, 0, "poll with nothing queued");
	int n = -1;
	expect_eq(S3(SYS_ioctl, fd, X_FIONREAD, &n), 0, "FIONREAD");
	expect_eq(n, 0, "FIONREAD with nothing queued");
	expect_err(S2(SYS_inotify_rm_watch, fd, 7), EINVAL, "inotify_rm_watch of no watch");
	expect_eq(S2(SYS_inotify_rm_watch, fd, 1), 0, "inotify_rm_watch of the file's watch");
	expect_err(S2(SYS_inotify_rm_watch, fd, 1), EINVAL, "inotify_rm_watch of it again");
	expect_revents(fd, POLLIN | POLLOUT, POLLIN, "poll after inotify_rm_watch");
	expect_eq(S3(SYS_ioctl, fd, X_FIONREAD, &n), 0, "FIONREAD");
	expect_eq(n, 16, "FIONREAD with IN_IGNORED queued");
	expect_err(S3(SYS_read, fd, buf, 8), EINVAL, "a read shorter than the event");
	expect_eq(S2(SYS_inotify_rm_watch, fd, 2), 0, "inotify_rm_watch of the directory's watch");
	expect_eq(S3(SYS_read, fd, buf, 20), 16, "a read with room for one event");
	struct inotify_event *e = (struct inotify_event *)buf;
	CHECK(e->wd == 1 && e->mask == IN_IGNORED && e->cookie == 0 && e->len == 0, "event wd %d mask %#x cookie %u len %u", e->wd,
	      e->mask, e->cookie, e->len);
	expect_eq(S3(SYS_read, fd, buf, sizeof buf), 16, "the second event");
	CHECK(e->wd == 2 && e->mask == IN_IGNORED, "event wd %d mask %#x", e->wd, e->mask);
	expect_err(S3(SYS_read, fd, buf, sizeof buf), EAGAIN, "a read after both");
	/* A new watch takes a new descriptor. */
	expect_eq(S3(SYS_inotify_add_watch, fd, file, IN_ATTRIB), 3, "a watch after the removals");
	expect_eq(S2(SYS_inotify_rm_watch, fd, 3), 0, "inotify_rm_watch");
	S1(SYS_close, fd);
	expect_eq(S1(SYS_unlink, file), 0, "unlink the file");
	remove_scratch();
	ok();
}

int main(void)
{
	start();
	check_init();
	check_watches();
	out("all ok\n");
	return 0;
}
