/* Helpers shared by the descriptor guests (desc_eventfd.c, desc_timerfd.c,
 * desc_signalfd.c, desc_memfd.c, desc_epoll.c, desc_socket.c, desc_scm.c):
 * start(), which closes every fd from 3 up so fd numbers are the same
 * wherever the guest runs; revents() and expect_revents(), one poll(2) of
 * one fd with timeout 0; fd_link(), what /proc/self/fd/N reads as;
 * read_u64 and write_u64, the 8-byte records of eventfd and timerfd; and
 * the blocked-signal helpers block_signals() and sigset_of().
 *
 * Only static inline functions and macros: it is included, never built as a
 * guest of its own (scripts/build-guests.sh builds *.c and rebuilds every
 * guest when this file changes). Include it after guest.h and proc.h, whose
 * helpers it uses. */
#ifndef DESC_H
#define DESC_H

#include <poll.h>
#include <stdint.h>
#include <string.h>

#define X_POLLRDHUP 0x2000
#define X_FIONREAD 0x541b

#define BIT(sig) (1ULL << ((sig) - 1))

/* Closes fds 3 and up (close_range), so the first new fd is 3. */
static inline void start(void)
{
	expect_eq(S3(SYS_close_range, 3, ~0U, 0), 0, "close_range(3, ~0)");
}

/* The revents of one poll of fd for events with timeout 0, checking poll's
 * count against them. */
static inline int revents(int fd, int events)
{
	struct pollfd p = { .fd = fd, .events = (short)events, .revents = 0x7fff };
	long r = S3(SYS_poll, &p, 1, 0);
	if (r != (p.revents != 0))
		fail("poll(fd %d, events 0x%x) = %ld with revents 0x%x", fd, events, r, p.revents);
	return p.revents;
}

static inline void expect_revents(int fd, int events, int want, const char *what)
{
	int got = revents(fd, events);
	if (got != want)
		fail("%s: revents 0x%x, expected 0x%x", what, got, want);
}

/* What /proc/self/fd/fd reads as, in a static buffer. */
static inline const char *fd_link(int fd)
{
	static char link[256];
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	long n = S3(SYS_readlink, path, link, sizeof link - 1);
	if (n < 0)
		fail("readlink %s = %ld (%s)", path, n, errname(n));
	link[n] = 0;
	return link;
}

static inline void expect_link(int fd, const char *want)
{
	const char *got = fd_link(fd);
	if (strcmp(got, want) != 0)
		fail("/proc/self/fd/%d is \"%s\", expected \"%s\"", fd, got, want);
}

/* Reads one 8-byte record from fd, expecting it to succeed. */
static inline uint64_t read_u64(int fd, const char *what)
{
	uint64_t v = 0;
	expect_eq(S3(SYS_read, fd, &v, 8), 8, what);
	return v;
}

static inline void write_u64(int fd, uint64_t v, const char *what)
{
	expect_eq(S3(SYS_write, fd, &v, 8), 8, what);
}

/* Sets the blocked set to exactly `mask` (bits BIT(sig)). */
static inline void block_signals(uint64_t mask)
{
	expect_eq(S4(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8), 0, "rt_sigprocmask(SIG_SETMASK)");
}

#endif
