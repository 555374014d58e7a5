/* epoll(7) through raw system calls, with the exact results and errnos
 * Linux gives: epoll_create and epoll_create1, epoll_ctl's errors (EBADF,
 * EPERM for a regular file, EINVAL, EEXIST, ENOENT, EFAULT, ELOOP) and ops,
 * level-triggered, edge-triggered (EPOLLET) and one-shot (EPOLLONESHOT)
 * interests on pipes, the order events come in, EPOLLHUP, EPOLLERR and
 * EPOLLRDHUP, the standard streams, eventfd, timerfd and signalfd in a set,
 * a nested instance, interests dropped when their file is closed in every
 * fd table (and kept while a dup'ed fd holds it), epoll_wait's errors and
 * timeout, epoll_pwait's signal mask, epoll_pwait2's timespec, a wait that
 * a forked child ends, and an instance shared with a child. Times are only
 * ever checked from below. Prints "ok NAME" per check, then "all ok"; on the
 * first failure prints "FAIL: NAME: details" and exits 1. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"
#include "desc.h"

#define MS 1000000L

static struct epoll_event got[8];

static void ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event e = { .events = events, .data.u64 = data };
	long r = S4(SYS_epoll_ctl, ep, op, fd, &e);
	if (r != 0)
		fail("epoll_ctl(%d, op %d, fd %d, 0x%x) = %ld (%s)", ep, op, fd, events, r, errname(r));
}

static long ctl_err(int ep, int op, int fd, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.u64 = 0 };
	return S4(SYS_epoll_ctl, ep, op, fd, &e);
}

/* Waits with a timeout of ms and returns the count, filling got. */
static long wait_ms(int ep, int ms)
{
	memset(got, 0, sizeof got);
	return S4(SYS_epoll_wait, ep, got, 8, ms);
}

/* Expects exactly one event: events for data. */
static void expect_one(int ep, uint32_t events, uint64_t data, const char *what)
{
	long n = wait_ms(ep, 0);
	if (n != 1 || got[0].events != events || got[0].data.u64 != data)
		fail("%s: %ld events, first 0x%x for %lu; expected 0x%x for %lu", what, n, got[0].events,
		     (unsigned long)got[0].data.u64, events, (unsigned long)data);
}

static void expect_none(int ep, const char *what)
{
	long n = wait_ms(ep, 0);
	if (n != 0)
		fail("%s: %ld events, first 0x%x for %lu; expected none", what, n, got[0].events, (unsigned long)got[0].data.u64);
}

static void check_create(void)
{
	current = "epoll_create";
	long ep = S1(SYS_epoll_create, 1);
	expect_eq(ep, 3, "epoll_create(1)");
	expect_eq(S2(SYS_fcntl, ep, F_GETFD), 0, "F_GETFD");
	expect_eq(S2(SYS_fcntl, ep, F_GETFL), O_RDWR, "F_GETFL");
	expect_link((int)ep, "anon_inode:[eventpoll]");
	S1(SYS_close, ep);
	ep = S1(SYS_epoll_create1, EPOLL_CLOEXEC);
	expect_eq(S2(SYS_fcntl, ep, F_GETFD), FD_CLOEXEC, "F_GETFD(EPOLL_CLOEXEC)");
	char b[8];
	expect_err(S3(SYS_read, ep, b, 8), EINVAL, "read of an instance");
	S1(SYS_close, ep);
	expect_err(S1(SYS_epoll_create, 0), EINVAL, "epoll_create(0)");
	expect_err(S1(SYS_epoll_create, -1), EINVAL, "epoll_create(-1)");
	expect_err(S1(SYS_epoll_create1, 1), EINVAL, "epoll_create1(1)");
	ok();
}

static void check_ctl_errors(const char *self)
{
	current = "epoll_ctl errors";
	int ep = (int)S1(SYS_epoll_create1, 0);
	int p[2];
	expect_eq(S2(SYS_pipe2, p, 0), 0, "pipe2");
	expect_err(ctl_err(99, EPOLL_CTL_ADD, p[0], EPOLLIN), EBADF, "a closed epfd");
	expect_err(ctl_err(ep, EPOLL_CTL_ADD, 99, EPOLLIN), EBADF, "a closed fd");
	long file = S3(SYS_open, self, O_RDONLY, 0);
	CHECK(file >= 0, "open %s = %ld (%s)", self, file, errname(file));
	expect_err(ctl_err(ep, EPOLL_CTL_ADD, (int)file, EPOLLIN), EPERM, "a regular file");
	long dir = S3(SYS_open, "/", O_RDONLY | O_DIRECTORY, 0);
	expect_err(ctl_err(ep, EPOLL_CTL_ADD, (int)dir, EPOLLIN), EPERM, "a directory");
	long opath = S3(SYS_open, "/", O_PATH, 0);
	expect_err(ctl_err(ep, EPOLL_CTL_ADD, (int)opath, EPOLLIN), EBADF, "an O_PATH fd");
	S1(SYS_close, opath);
	expect_err(ctl_err(ep, EPOLL_CTL_ADD, ep, EPOLLIN), EINVAL, "the instance itself");
	expect_err(ctl_err(p[0], EPOLL_CTL_ADD, p[1], EPOLLIN), EINVAL, "an epfd that is a pipe");
	expect_err(ctl_err(ep, 9, p[0], EPOLLIN), EINVAL, "op 9");
	expect_err(S4(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], (void *)8), EFAULT, "a bad event");
	expect_eq(S4(SYS_epoll_ctl, ep, EPOLL_CTL_DEL, p[1], (void *)8), -ENOENT, "EPOLL_CTL_DEL reads no event");
	expect_err(ctl_err(ep, EPOLL_CTL_MOD, p[0], EPOLLIN), ENOENT, "EPOLL_CTL_MOD of an fd not in");
	expect_err(ctl_err(ep, EPOLL_CTL_DEL, p[0], EPOLLIN), ENOENT, "EPOLL_CTL_DEL of an fd not in");
	ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1);
	expect_err(ctl_err(ep, EPOLL_CTL_ADD, p[0], EPOLLIN), EEXIST, "an fd added twice");
	ctl(ep, EPOLL_CTL_DEL, p[0], 0, 0);
	/* EPOLLEXCLUSIVE: only with EPOLL_CTL_ADD, and never changed. */
	ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLEXCLUSIVE, 1);
	expect_err(ctl_err(ep, EPOLL_CTL_MOD, p[0], EPOLLIN), EINVAL, "EPOLL_CTL_MOD of an EPOLLEXCLUSIVE interest");
	expect_err(ctl_err(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLRDHUP), EINVAL, "EPOLLEXCLUSIVE with EPOLLRDHUP");
	/* An instance may watch another, but not one that watches it. */
	int ep2 = (int)S1(SYS_epoll_create1, 0);
	ctl(ep2, EPOLL_CTL_ADD, ep, EPOLLIN, 2);
	expect_err(ctl_err(ep, EPOLL_CTL_ADD, ep2, EPOLLIN), ELOOP, "a loop of instances");
	expect_err(ctl_err(ep, EPOLL_CTL_ADD, ep2, EPOLLIN | EPOLLEXCLUSIVE), EINVAL, "EPOLLEXCLUSIVE on an instance");
	S1(SYS_close, ep2);
	S1(SYS_close, dir);
	S1(SYS_close, file);
	S1(SYS_close, p[0]);
	S1(SYS_close, p[1]);
	S1(SYS_close, ep);
	ok();
}

static void check_wait_errors(void)
{
	current = "epoll_wait errors";
	int ep = (int)S1(SYS_epoll_create1, 0);
	expect_err(S4(SYS_epoll_wait, ep, got, 0, 0), EINVAL, "maxevents 0");
	expect_err(S4(SYS_epoll_wait, ep, got, -1, 0), EINVAL, "maxevents -1");
	expect_err(S4(SYS_epoll_wait, 99, got, 1, 0), EBADF, "a closed epfd");
	expect_err(S4(SYS_epoll_wait, 0, got, 1, 0), EINVAL, "stdin as epfd");
	expect_err(S4(SYS_epoll_wait, ep, (void *)-4096L, 1, 0), EFAULT, "events in the kernel half");
	/* The buffer is only written to when there are events. */
	expect_eq(S4(SYS_epoll_wait, ep, (void *)8, 1, 0), 0, "a bad buffer with no events");
	int efd = (int)S2(SYS_eventfd2, 1, 0);
	ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 7);
	expect_err(S4(SYS_epoll_wait, ep, (void *)8, 1, 0), EFAULT, "a bad buffer with an event");
	expect_one(ep, EPOLLIN, 7, "the event after EFAULT");
	S1(SYS_close, efd);
	S1(SYS_close, ep);
	ok();
}

static void check_level(void)
{
	current = "level-triggered";
	int ep = (int)S1(SYS_epoll_create1, 0);
	int p[2];
	expect_eq(S2(SYS_pipe2, p, O_NONBLOCK), 0, "pipe2");
	ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x1122334455667788ULL);
	ctl(ep, EPOLL_CTL_ADD, p[1], EPOLLOUT, 2);
	expect_one(ep, EPOLLOUT, 2, "an empty pipe's write end");
	ctl(ep, EPOLL_CTL_MOD, p[1], EPOLLIN, 2);
	expect_none(ep, "nothing to read");
	expect_eq(S3(SYS_write, p[1], "abc", 3), 3, "write");
	expect_one(ep, EPOLLIN, 0x1122334455667788ULL, "readable, with its 64-bit data");
	expect_one(ep, EPOLLIN, 0x1122334455667788ULL, "still readable");
	char b[4];
	expect_eq(S3(SYS_read, p[0], b, 3), 3, "read");
	expect_none(ep, "read empty");
	/* The writer gone: EPOLLHUP, asked for or not; EPOLLRDHUP is not a pipe's. */
	ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLRDHUP, 1);
	S1(SYS_close, p[1]);
	expect_one(ep, EPOLLHUP, 1, "the write end closed");
	S1(SYS_close, p[0]);
	expect_none(ep, "both ends closed");
	/* A read end closed: EPOLLERR on the write end. */
	expect_eq(S2(SYS_pipe2, p, O_NONBLOCK), 0, "pipe2");
	ctl(ep, EPOLL_CTL_ADD, p[1], 0, 3);
	expect_none(ep, "a write end asking for nothing");
	S1(SYS_close, p[0]);
	expect_one(ep, EPOLLERR, 3, "the read end closed");
	S1(SYS_close, p[1]);
	S1(SYS_close, ep);
	ok();
}

static void check_order(void)
{
	current = "the order of events";
	int ep = (int)S1(SYS_epoll_create1, 0);
	int a = (int)S2(SYS_eventfd2, 0, EFD_NONBLOCK), b = (int)S2(SYS_eventfd2, 0, EFD_NONBLOCK),
	    c = (int)S2(SYS_eventfd2, 0, EFD_NONBLOCK);
	ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN, 'a');
	ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN, 'b');
	ctl(ep, EPOLL_CTL_ADD, c, EPOLLIN, 'c');
	write_u64(c, 1, "write c");
	write_u64(a, 1, "write a");
	write_u64(b, 1, "write b");
	/* Files come in the order they became ready; a level-triggered one goes back to the end. */
	expect_eq(S4(SYS_epoll_wait, ep, got, 2, 0), 2, "epoll_wait(2)");
	CHECK(got[0].data.u64 == 'c' && got[1].data.u64 == 'a', "got %c %c", (int)got[0].data.u64, (int)got[1].data.u64);
	expect_eq(wait_ms(ep, 0), 3, "epoll_wait(8)");
	CHECK(got[0].data.u64 == 'b' && got[1].data.u64 == 'c' && got[2].data.u64 == 'a', "got %c %c %c",
	      (int)got[0].data.u64, (int)got[1].data.u64, (int)got[2].data.u64);
	S1(SYS_close, a);
	S1(SYS_close, b);
	S1(SYS_close, c);
	S1(SYS_close, ep);
	ok();
}

static void check_edge(void)
{
	current = "edge-triggered and one-shot";
	int ep = (int)S1(SYS_epoll_create1, 0);
	int p[2];
	expect_eq(S2(SYS_pipe2, p, O_NONBLOCK), 0, "pipe2");
	ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 1);
	expect_none(ep, "an empty pipe");
	expect_eq(S3(SYS_write, p[1], "ab", 2), 2, "write");
	expect_one(ep, EPOLLIN, 1, "the write");
	expect_none(ep, "no new write");
	char b[4];
	expect_eq(S3(SYS_read, p[0], b, 1), 1, "read one byte");
	expect_none(ep, "a read is no edge for EPOLLIN");
	expect_eq(S3(SYS_write, p[1], "c", 1), 1, "write again");
	expect_one(ep, EPOLLIN, 1, "the second write");
	/* EPOLL_CTL_MOD arms it again. */
	ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET, 2);
	expect_one(ep, EPOLLIN, 2, "after EPOLL_CTL_MOD");
	expect_eq(S3(SYS_read, p[0], b, 4), 2, "drain");
	/* One-shot: one event, then nothing until EPOLL_CTL_MOD, not even a hang-up. */
	ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 3);
	expect_eq(S3(SYS_write, p[1], "d", 1), 1, "write for the one-shot");
	expect_one(ep, EPOLLIN, 3, "the one-shot");
	expect_eq(S3(SYS_write, p[1], "e", 1), 1, "write after the one-shot");
	expect_none(ep, "a fired one-shot");
	S1(SYS_close, p[1]);
	expect_none(ep, "a fired one-shot after the hang-up");
	ctl(ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT, 4);
	expect_one(ep, EPOLLIN | EPOLLHUP, 4, "the one-shot armed again");
	S1(SYS_close, p[0]);
	S1(SYS_close, ep);
	ok();
}

static void check_kinds(void)
{
	current = "every kind of file";
	int ep = (int)S1(SYS_epoll_create1, 0);
	/* The standard streams: stdin is a pipe whose writer goes (natively,
	 * once the runner has copied the empty input), stdout one with a reader. */
	ctl(ep, EPOLL_CTL_ADD, 0, EPOLLIN, 10);
	expect_eq(wait_ms(ep, -1), 1, "epoll_wait for stdin's end");
	CHECK(got[0].events == EPOLLHUP && got[0].data.u64 == 10, "stdin: got 0x%x for %lu", got[0].events, (unsigned long)got[0].data.u64);
	ctl(ep, EPOLL_CTL_DEL, 0, 0, 0);
	ctl(ep, EPOLL_CTL_ADD, 1, EPOLLOUT, 11);
	expect_one(ep, EPOLLOUT, 11, "stdout");
	ctl(ep, EPOLL_CTL_DEL, 1, 0, 0);
	int efd = (int)S2(SYS_eventfd2, 0, EFD_NONBLOCK);
	ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 12);
	expect_none(ep, "an eventfd at 0");
	write_u64(efd, 1, "write the eventfd");
	expect_one(ep, EPOLLIN, 12, "an eventfd at 1");
	read_u64(efd, "read the eventfd");
	expect_none(ep, "the eventfd read");
	int tfd = (int)S2(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_NONBLOCK);
	ctl(ep, EPOLL_CTL_ADD, tfd, EPOLLIN, 13);
	struct itimerspec ts = { { 0, 0 }, { 0, 20 * MS } };
	long t0 = mono_ns();
	expect_eq(S4(SYS_timerfd_settime, tfd, 0, &ts, NULL), 0, "timerfd_settime");
	expect_eq(wait_ms(ep, -1), 1, "epoll_wait for the timer");
	CHECK(got[0].events == EPOLLIN && got[0].data.u64 == 13, "got 0x%x for %lu", got[0].events, (unsigned long)got[0].data.u64);
	CHECK(mono_ns() - t0 >= 20 * MS, "the timer woke the wait after %ld ns", (long)(mono_ns() - t0));
	expect_eq((long)read_u64(tfd, "read the timerfd"), 1, "expiries");
	block_signals(BIT(SIGUSR1));
	uint64_t mask = BIT(SIGUSR1);
	int sfd = (int)S4(SYS_signalfd4, -1, &mask, 8, SFD_NONBLOCK);
	ctl(ep, EPOLL_CTL_ADD, sfd, EPOLLIN, 14);
	expect_none(ep, "a signalfd with nothing pending");
	expect_eq(S2(SYS_kill, S0(SYS_getpid), SIGUSR1), 0, "kill(SIGUSR1)");
	expect_one(ep, EPOLLIN, 14, "a signalfd with SIGUSR1 pending");
	struct signalfd_siginfo si;
	expect_eq(S3(SYS_read, sfd, &si, sizeof si), sizeof si, "read the signalfd");
	expect_none(ep, "the signalfd read");
	block_signals(0);
	/* A nested instance is readable while its own set has events. */
	int inner = (int)S1(SYS_epoll_create1, 0);
	ctl(inner, EPOLL_CTL_ADD, efd, EPOLLIN, 15);
	ctl(ep, EPOLL_CTL_ADD, inner, EPOLLIN, 16);
	expect_none(ep, "an idle nested instance");
	write_u64(efd, 1, "write the eventfd again");
	/* The eventfd wakes its last watcher first: the nested instance, which wakes this one. */
	expect_eq(wait_ms(ep, 0), 2, "the eventfd and the nested instance");
	CHECK(got[0].data.u64 == 16 && got[0].events == EPOLLIN && got[1].data.u64 == 12, "got %lu 0x%x, %lu",
	      (unsigned long)got[0].data.u64, got[0].events, (unsigned long)got[1].data.u64);
	expect_revents(inner, POLLIN, POLLIN, "poll of the nested instance");
	S1(SYS_close, inner);
	S1(SYS_close, sfd);
	S1(SYS_close, tfd);
	S1(SYS_close, efd);
	S1(SYS_close, ep);
	ok();
}

static void check_close(void)
{
	current = "closed files";
	int ep = (int)S1(SYS_epoll_create1, 0);
	int efd = (int)S2(SYS_eventfd2, 1, 0);
	ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1);
	/* A dup'ed fd keeps the file, and so the interest, alive. */
	int copy = (int)S1(SYS_dup, efd);
	S1(SYS_close, efd);
	expect_one(ep, EPOLLIN, 1, "closed, with a dup left");
	expect_err(ctl_err(ep, EPOLL_CTL_DEL, efd, 0), EBADF, "EPOLL_CTL_DEL of the closed fd");
	expect_err(ctl_err(ep, EPOLL_CTL_DEL, copy, 0), ENOENT, "EPOLL_CTL_DEL of the dup");
	/* Closed in every table: the interest goes, and the fd number is free to add again. */
	S1(SYS_close, copy);
	expect_none(ep, "closed everywhere");
	int again = (int)S2(SYS_eventfd2, 1, 0);
	expect_eq(again, efd, "the fd number reused");
	ctl(ep, EPOLL_CTL_ADD, again, EPOLLIN, 2);
	expect_one(ep, EPOLLIN, 2, "the new file");
	S1(SYS_close, again);
	S1(SYS_close, ep);
	ok();
}

static volatile int usr1;
static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	usr1++;
}

static void check_wait(void)
{
	current = "waiting";
	int ep = (int)S1(SYS_epoll_create1, 0);
	int efd = (int)S2(SYS_eventfd2, 0, 0);
	ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1);
	long t0 = mono_ns();
	expect_eq(wait_ms(ep, 30), 0, "epoll_wait(30 ms) with nothing");
	CHECK(mono_ns() - t0 >= 30 * MS, "epoll_wait returned after %ld ns", (long)(mono_ns() - t0));
	struct timespec ts = { 0, 20 * MS };
	t0 = mono_ns();
	expect_eq(S6(SYS_epoll_pwait2, ep, got, 8, &ts, NULL, 8), 0, "epoll_pwait2(20 ms)");
	CHECK(mono_ns() - t0 >= 20 * MS, "epoll_pwait2 returned after %ld ns", (long)(mono_ns() - t0));
	ts.tv_nsec = 1000000000L;
	expect_err(S6(SYS_epoll_pwait2, ep, got, 8, &ts, NULL, 8), EINVAL, "epoll_pwait2 with tv_nsec 1e9");
	uint64_t none = 0;
	expect_err(S6(SYS_epoll_pwait, ep, got, 8, 0, &none, 4), EINVAL, "epoll_pwait with sigsetsize 4");
	/* A child's write ends a wait with no timeout. */
	pid_t pid = fork_ok();
	if (pid == 0) {
		wait_sleeping(getppid());
		uint64_t v = 1;
		child_exit(S3(SYS_write, efd, &v, 8) == 8 ? 0 : 1);
	}
	expect_eq(wait_ms(ep, -1), 1, "epoll_wait for the child's write");
	expect_exited(pid, 0, "the writing child");
	read_u64(efd, "read the eventfd");
	/* A signal ends a wait with EINTR, whatever SA_RESTART says; epoll_pwait's mask lets a blocked one in. */
	on(SIGUSR1, on_usr1, SA_RESTART);
	block_signals(BIT(SIGUSR1));
	expect_eq(S2(SYS_kill, S0(SYS_getpid), SIGUSR1), 0, "kill(SIGUSR1), blocked");
	/* With a timeout of 0 it looks at no signal: the call's mask comes back at once. */
	expect_eq(S6(SYS_epoll_pwait, ep, got, 8, 0, &none, 8), 0, "epoll_pwait(timeout 0) with SIGUSR1 let in");
	expect_eq(usr1, 0, "no handler runs after a timeout of 0");
	CHECK(is_pending(SIGUSR1), "SIGUSR1 is no longer pending after a timeout of 0");
	expect_eq(S6(SYS_epoll_pwait, ep, got, 8, -1, &none, 8), -EINTR, "epoll_pwait with SIGUSR1 let in");
	expect_eq(usr1, 1, "handler runs");
	CHECK(is_blocked(SIGUSR1), "SIGUSR1 is no longer blocked after epoll_pwait");
	block_signals(0);
	pid = fork_ok();
	if (pid == 0) {
		wait_sleeping(getppid());
		child_exit(S2(SYS_kill, getppid(), SIGUSR1) == 0 ? 0 : 1);
	}
	expect_eq(wait_ms(ep, -1), -EINTR, "epoll_wait ended by a signal");
	expect_eq(usr1, 2, "handler runs again");
	expect_exited(pid, 0, "the signalling child");
	S1(SYS_close, efd);
	S1(SYS_close, ep);
	ok();
}

static void check_shared(void)
{
	current = "an instance shared with a child";
	int ep = (int)S1(SYS_epoll_create1, 0);
	int p[2];
	expect_eq(S2(SYS_pipe2, p, 0), 0, "pipe2");
	ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 5);
	pid_t pid = fork_ok();
	if (pid == 0) {
		/* The child's interest changes are the parent's too: one instance. */
		struct epoll_event e = { .events = EPOLLIN, .data.u64 = 6 };
		long r = S4(SYS_epoll_ctl, ep, EPOLL_CTL_MOD, p[0], &e);
		child_exit(r == 0 && S3(SYS_write, p[1], "x", 1) == 1 ? 0 : 1);
	}
	expect_eq(wait_ms(ep, -1), 1, "epoll_wait for the child");
	CHECK(got[0].data.u64 == 6 && got[0].events == EPOLLIN, "got 0x%x for %lu", got[0].events, (unsigned long)got[0].data.u64);
	expect_exited(pid, 0, "the child");
	S1(SYS_close, p[0]);
	S1(SYS_close, p[1]);
	S1(SYS_close, ep);
	ok();
}

int main(int argc, char **argv)
{
	(void)argc;
	start();
	check_create();
	check_ctl_errors(argv[0]);
	check_wait_errors();
	check_level();
	check_order();
	check_edge();
	check_kinds();
	check_close();
	check_wait();
	check_shared();
	out("all ok\n");
	return 0;
}
