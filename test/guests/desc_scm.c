/* Ancillary data on Unix sockets, and sockets between processes, through
 * raw system calls, with the exact results and errnos Linux gives:
 * SCM_RIGHTS passing a pipe's write end to a forked child, which writes
 * through it; several descriptions in one message, sharing their files;
 * MSG_CMSG_CLOEXEC; MSG_CTRUNC, with the descriptions that did not fit
 * closed; rights dropped by a plain read; where a stream read stops (after
 * a message with rights, and with SO_PASSCRED between writers); the errors
 * of control messages; SCM_CREDENTIALS with SO_PASSCRED; and an echo
 * server in a forked child that serves three socketpairs through epoll
 * until each is shut. Prints "ok NAME" per check, then "all ok"; on the
 * first failure prints "FAIL: NAME: details" and exits 1. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"
#include "desc.h"

static char buf[4096];

/* A control buffer big enough for anything here, aligned for cmsghdr. */
static union {
	struct cmsghdr align;
	char bytes[512];
} ctl;

/* Sends len bytes of data on fd with n descriptors (SCM_RIGHTS). */
static long send_fds(int fd, const char *data, size_t len, const int *fds, int n)
{
	struct iovec iov = { (void *)data, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n > 0) {
		memset(&ctl, 0, sizeof ctl);
		m.msg_control = ctl.bytes;
		m.msg_controllen = CMSG_SPACE(n * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	return S3(SYS_sendmsg, fd, &m, 0);
}

/* Receives into buf with room bytes of control; returns recvmsg's result and the header in *m. */
static long recv_ctl(int fd, size_t room, int flags, struct msghdr *m)
{
	static struct iovec iov;
	iov.iov_base = buf;
	iov.iov_len = sizeof buf;
	memset(m, 0, sizeof *m);
	memset(&ctl, 0xee, sizeof ctl);
	m->msg_iov = &iov;
	m->msg_iovlen = 1;
	m->msg_control = room ? ctl.bytes : NULL;
	m->msg_controllen = room;
	return S3(SYS_recvmsg, fd, m, flags);
}

/* The descriptors of the first SCM_RIGHTS message in m, into fds; their count. */
static int rights_of(struct msghdr *m, int *fds)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds, CMSG_DATA(c), n * sizeof(int));
			return n;
		}
	}
	return 0;
}

/* The lowest free fd, found by dup (and closed again). */
static long lowest_free(void)
{
	long fd = S1(SYS_dup, 0);
	S1(SYS_close, fd);
	return fd;
}

static void check_pass_pipe(void)
{
	current = "a pipe's write end passed to a child";
	int sv[2], p[2];
	expect_eq(S4(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), 0, "socketpair");
	expect_eq(S2(SYS_pipe2, p, 0), 0, "pipe2");
	pid_t pid = fork_ok();
	if (pid == 0) {
		S1(SYS_close, sv[0]);
		S1(SYS_close, p[0]);
		S1(SYS_close, p[1]);
		struct msghdr m;
		int got[4];
		if (recv_ctl(sv[1], sizeof ctl, MSG_CMSG_CLOEXEC, &m) != 4 || memcmp(buf, "pipe", 4) != 0)
			child_exit(2);
		if (rights_of(&m, got) != 1 || S2(SYS_fcntl, got[0], F_GETFL) != O_WRONLY || S2(SYS_fcntl, got[0], F_GETFD) != FD_CLOEXEC)
			child_exit(3);
		if (S3(SYS_write, got[0], "through the pipe", 16) != 16)
			child_exit(4);
		child_exit(0);
	}
	S1(SYS_close, sv[1]);
	expect_eq(send_fds(sv[0], "pipe", 4, &p[1], 1), 4, "sendmsg with the write end");
	/* Only the child's copy of the write end is left. */
	S1(SYS_close, p[1]);
	expect_eq(S3(SYS_read, p[0], buf, sizeof buf), 16, "read what the child wrote");
	CHECK(memcmp(buf, "through the pipe", 16) == 0, "read \"%.16s\"", buf);
	expect_exited(pid, 0, "the child");
	expect_eq(S3(SYS_read, p[0], buf, sizeof buf), 0, "end of file once the child is gone");
	S1(SYS_close, p[0]);
	S1(SYS_close, sv[0]);
	ok();
}

static void check_several(void)
{
	current = "several descriptions in one message";
	int sv[2], p[2];
	expect_eq(S4(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, sv), 0, "socketpair");
	expect_eq(S2(SYS_pipe2, p, 0), 0, "pipe2");
	int efd = (int)S2(SYS_eventfd2, 0, 0);
	int fds[3] = { p[0], p[1], efd };
	expect_eq(send_fds(sv[0], "x", 1, fds, 3), 1, "sendmsg with three");
	long first = lowest_free();
	struct msghdr m;
	expect_eq(recv_ctl(sv[1], sizeof ctl, 0, &m), 1, "recvmsg");
	expect_eq(m.msg_flags, 0, "msg_flags");
	expect_eq(m.msg_controllen, CMSG_SPACE(3 * sizeof(int)), "msg_controllen");
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	CHECK(c && c->cmsg_len == CMSG_LEN(3 * sizeof(int)) && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS,
	      "the control message");
	int got[3];
	memcpy(got, CMSG_DATA(c), sizeof got);
	CHECK(got[0] == first && got[1] == first + 1 && got[2] == first + 2, "fds %d %d %d from %ld", got[0], got[1], got[2], first);
	expect_eq(S2(SYS_fcntl, got[0], F_GETFD), 0, "F_GETFD without MSG_CMSG_CLOEXEC");
	/* They are the same files: a write through one is read through the other. */
	expect_eq(S3(SYS_write, got[1], "ab", 2), 2, "write through the passed write end");
	expect_eq(S3(SYS_read, p[0], buf, 10), 2, "read through the original read end");
	write_u64(efd, 5, "write the original eventfd");
	expect_eq((long)read_u64(got[2], "read the passed eventfd"), 5, "the eventfd's value");
	for (int i = 0; i < 3; i++)
		S1(SYS_close, got[i]);
	/* A control buffer too small for all: the first fits, the rest are closed. */
	expect_eq(send_fds(sv[0], "y", 1, fds, 3), 1, "sendmsg with three again");
	expect_eq(recv_ctl(sv[1], CMSG_LEN(sizeof(int)), 0, &m), 1, "recvmsg with room for one");
	expect_eq(m.msg_flags, MSG_CTRUNC, "MSG_CTRUNC");
	expect_eq(m.msg_controllen, CMSG_LEN(sizeof(int)), "msg_controllen for one");
	expect_eq(rights_of(&m, got), 1, "descriptions received");
	expect_eq(got[0], first, "the one received");
	expect_eq(lowest_free(), first + 1, "no other fd installed");
	S1(SYS_close, got[0]);
	expect_eq(send_fds(sv[0], "z", 1, fds, 3), 1, "sendmsg with three once more");
	expect_eq(recv_ctl(sv[1], 0, 0, &m), 1, "recvmsg with no control buffer");
	expect_eq(m.msg_flags, MSG_CTRUNC, "MSG_CTRUNC with no control buffer");
	expect_eq(m.msg_controllen, 0, "msg_controllen with no control buffer");
	/* A plain read drops the rights. */
	expect_eq(send_fds(sv[0], "w", 1, fds, 3), 1, "sendmsg with three a last time");
	expect_eq(S3(SYS_read, sv[1], buf, 10), 1, "read");
	expect_eq(lowest_free(), first, "no fd installed by read");
	/* The pipe's write end passed around and dropped: closing ours leaves no writer. */
	S1(SYS_close, p[1]);
	expect_eq(S3(SYS_read, p[0], buf, 10), 0, "end of file: every passed copy is gone");
	S1(SYS_close, p[0]);
	S1(SYS_close, efd);
	S1(SYS_close, sv[0]);
	S1(SYS_close, sv[1]);
	ok();
}

static void check_errors(void)
{
	current = "control message errors";
	int sv[2];
	expect_eq(S4(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), 0, "socketpair");
	int bad = 99;
	expect_err(send_fds(sv[0], "x", 1, &bad, 1), EBADF, "SCM_RIGHTS with a closed fd");
	struct iovec iov = { "x", 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.bytes, .msg_controllen = CMSG_SPACE(sizeof(int)) };
	memset(&ctl, 0, sizeof ctl);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = 8;
	expect_err(S3(SYS_sendmsg, sv[0], &m, 0), EINVAL, "a cmsg_len shorter than the header");
	c->cmsg_len = 200;
	expect_err(S3(SYS_sendmsg, sv[0], &m, 0), EINVAL, "a cmsg_len past the control buffer");
	c->cmsg_len = CMSG_LEN(sizeof(int));
	c->cmsg_type = 99;
	expect_err(S3(SYS_sendmsg, sv[0], &m, 0), EINVAL, "an unknown SOL_SOCKET type");
	c->cmsg_level = 99;
	expect_eq(S3(SYS_sendmsg, sv[0], &m, 0), 1, "another level is skipped");
	expect_eq(S3(SYS_read, sv[1], buf, 10), 1, "read it");
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	expect_err(S3(SYS_sendmsg, sv[0], &m, 0), EINVAL, "SCM_CREDENTIALS of the wrong size");
	m.msg_controllen = CMSG_SPACE(sizeof(struct ucred));
	c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	struct ucred uc = { 0x7ffffff0, (uid_t)S0(SYS_getuid), (gid_t)S0(SYS_getgid) };
	memcpy(CMSG_DATA(c), &uc, sizeof uc);
	expect_err(S3(SYS_sendmsg, sv[0], &m, 0), ESRCH, "SCM_CREDENTIALS of a process that does not exist");
	m.msg_iovlen = 1025;
	expect_err(S3(SYS_sendmsg, sv[0], &m, 0), EMSGSIZE, "1025 buffers");
	expect_err(S3(SYS_sendmsg, sv[0], (void *)8, 0), EFAULT, "a bad msghdr");
	S1(SYS_close, sv[0]);
	S1(SYS_close, sv[1]);
	ok();
}

static void check_stream_stops(void)
{
	current = "where a stream read stops";
	int sv[2], p[2];
	expect_eq(S4(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), 0, "socketpair");
	expect_eq(S2(SYS_pipe2, p, 0), 0, "pipe2");
	expect_eq(S3(SYS_write, sv[0], "ab", 2), 2, "write");
	expect_eq(send_fds(sv[0], "cd", 2, &p[0], 1), 2, "sendmsg with rights");
	expect_eq(S3(SYS_write, sv[0], "ef", 2), 2, "write");
	struct msghdr m;
	int got[2];
	/* The read takes what comes before and the message with rights, then stops. */
	expect_eq(recv_ctl(sv[1], sizeof ctl, 0, &m), 4, "recvmsg up to the rights");
	CHECK(memcmp(buf, "abcd", 4) == 0, "read \"%.4s\"", buf);
	expect_eq(rights_of(&m, got), 1, "the rights");
	S1(SYS_close, got[0]);
	expect_eq(recv_ctl(sv[1], sizeof ctl, 0, &m), 2, "recvmsg of the rest");
	expect_eq(m.msg_controllen, 0, "no control for the rest");
	S1(SYS_close, p[0]);
	S1(SYS_close, p[1]);
	/* With SO_PASSCRED, one read takes one writer's bytes. */
	int one = 1;
	expect_eq(S5(SYS_setsockopt, sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one), 0, "SO_PASSCRED");
	expect_eq(S3(SYS_write, sv[0], "parent", 6), 6, "the parent's write");
	pid_t pid = fork_ok();
	if (pid == 0)
		child_exit(S3(SYS_write, sv[0], "child", 5) == 5 ? 0 : 1);
	expect_exited(pid, 0, "the writing child");
	expect_eq(recv_ctl(sv[1], sizeof ctl, 0, &m), 6, "recvmsg of the parent's bytes");
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	CHECK(c && c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(struct ucred)), "a credentials message");
	struct ucred uc;
	memcpy(&uc, CMSG_DATA(c), sizeof uc);
	expect_eq(uc.pid, S0(SYS_getpid), "the parent's pid");
	expect_eq(recv_ctl(sv[1], sizeof ctl, 0, &m), 5, "recvmsg of the child's bytes");
	memcpy(&uc, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof uc);
	expect_eq(uc.pid, pid, "the child's pid");
	expect_eq(uc.uid, S0(SYS_getuid), "the child's uid");
	expect_eq(uc.gid, S0(SYS_getgid), "the child's gid");
	S1(SYS_close, sv[0]);
	S1(SYS_close, sv[1]);
	ok();
}

static void check_credentials(void)
{
	current = "SCM_CREDENTIALS";
	int sv[2];
	expect_eq(S4(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, sv), 0, "socketpair");
	struct msghdr m;
	expect_eq(S3(SYS_write, sv[0], "a", 1), 1, "write");
	expect_eq(recv_ctl(sv[1], sizeof ctl, 0, &m), 1, "recvmsg without SO_PASSCRED");
	expect_eq(m.msg_controllen, 0, "no credentials without SO_PASSCRED");
	int one = 1;
	expect_eq(S5(SYS_setsockopt, sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one), 0, "SO_PASSCRED");
	expect_eq(S3(SYS_write, sv[0], "b", 1), 1, "write");
	expect_eq(recv_ctl(sv[1], sizeof ctl, 0, &m), 1, "recvmsg with SO_PASSCRED");
	expect_eq(m.msg_controllen, CMSG_SPACE(sizeof(struct ucred)), "msg_controllen");
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	struct ucred uc;
	memcpy(&uc, CMSG_DATA(c), sizeof uc);
	CHECK(c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS && uc.pid == S0(SYS_getpid) && uc.uid == S0(SYS_getuid) &&
	      uc.gid == S0(SYS_getgid), "credentials %d %d %d", uc.pid, uc.uid, uc.gid);
	/* Credentials given by the sender, its own, come through; so does room for a part. */
	struct iovec iov = { "c", 1 };
	struct msghdr s = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.bytes, .msg_controllen = CMSG_SPACE(sizeof uc) };
	memset(&ctl, 0, sizeof ctl);
	c = CMSG_FIRSTHDR(&s);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof uc);
	memcpy(CMSG_DATA(c), &uc, sizeof uc);
	expect_eq(S3(SYS_sendmsg, sv[0], &s, 0), 1, "sendmsg with SCM_CREDENTIALS");
	expect_eq(recv_ctl(sv[1], CMSG_LEN(4), 0, &m), 1, "recvmsg with room for part of the credentials");
	expect_eq(m.msg_flags, MSG_CTRUNC, "MSG_CTRUNC");
	expect_eq(m.msg_controllen, CMSG_LEN(4), "msg_controllen");
	expect_eq(CMSG_FIRSTHDR(&m)->cmsg_len, CMSG_LEN(4), "the cut message's cmsg_len");
	S1(SYS_close, sv[0]);
	S1(SYS_close, sv[1]);
	ok();
}

#define PAIRS 3

/* The echo server: answers each message on its ends uppercased, until every end is shut. */
static __attribute__((noreturn)) void echo_server(int ends[PAIRS])
{
	int ep = (int)S1(SYS_epoll_create1, 0);
	for (int i = 0; i < PAIRS; i++) {
		struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)i };
		if (S4(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, ends[i], &e) != 0)
			child_exit(10);
	}
	int open_ends = PAIRS, served = 0;
	while (open_ends > 0) {
		struct epoll_event ev[PAIRS];
		long n = S4(SYS_epoll_wait, ep, ev, PAIRS, -1);
		if (n <= 0)
			child_exit(11);
		for (long k = 0; k < n; k++) {
			int fd = ends[ev[k].data.u32];
			char msg[64];
			long r = S3(SYS_read, fd, msg, sizeof msg);
			if (r > 0) {
				for (long j = 0; j < r; j++)
					if (msg[j] >= 'a' && msg[j] <= 'z')
						msg[j] -= 32;
				if (S3(SYS_write, fd, msg, r) != r)
					child_exit(12);
				served++;
			} else if (r == 0) {
				/* Shut: the end leaves the set when closed. */
				S1(SYS_close, fd);
				open_ends--;
			} else {
				child_exit(13);
			}
		}
	}
	child_exit(served == 2 * PAIRS ? 0 : 14);
}

static void check_echo(void)
{
	current = "an epoll echo server in a child";
	int mine[PAIRS], theirs[PAIRS];
	for (int i = 0; i < PAIRS; i++) {
		int sv[2];
		expect_eq(S4(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), 0, "socketpair");
		mine[i] = sv[0];
		theirs[i] = sv[1];
	}
	pid_t pid = fork_ok();
	if (pid == 0) {
		for (int i = 0; i < PAIRS; i++)
			S1(SYS_close, mine[i]);
		echo_server(theirs);
	}
	for (int i = 0; i < PAIRS; i++)
		S1(SYS_close, theirs[i]);
	int ep = (int)S1(SYS_epoll_create1, 0);
	for (int i = 0; i < PAIRS; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		expect_eq(S4(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, mine[i], &e), 0, "epoll_ctl");
	}
	for (int round = 0; round < 2; round++) {
		for (int i = PAIRS - 1; i >= 0; i--) {
			char msg[32];
			int len = snprintf(msg, sizeof msg, "hello %d.%d", i, round);
			expect_eq(S3(SYS_write, mine[i], msg, len), len, "write to the server");
		}
		int answered = 0;
		while (answered < PAIRS) {
			struct epoll_event ev[PAIRS];
			long n = S4(SYS_epoll_wait, ep, ev, PAIRS, -1);
			CHECK(n > 0, "epoll_wait = %ld (%s)", n, errname(n));
			for (long k = 0; k < n; k++) {
				int i = (int)ev[k].data.u32;
				char want[32];
				int len = snprintf(want, sizeof want, "HELLO %d.%d", i, round);
				expect_eq(S3(SYS_read, mine[i], buf, sizeof buf), len, "read the echo");
				CHECK(memcmp(buf, want, len) == 0, "echo \"%.*s\", expected \"%s\"", len, buf, want);
				answered++;
			}
		}
	}
	for (int i = 0; i < PAIRS; i++)
		expect_eq(S2(SYS_shutdown, mine[i], SHUT_WR), 0, "shutdown(SHUT_WR)");
	expect_exited(pid, 0, "the echo server");
	/* The server's ends are closed: each of ours reads end of file. */
	for (int i = 0; i < PAIRS; i++) {
		expect_eq(S3(SYS_read, mine[i], buf, sizeof buf), 0, "end of file from the server");
		S1(SYS_close, mine[i]);
	}
	S1(SYS_close, ep);
	ok();
}

int main(void)
{
	start();
	check_pass_pipe();
	check_several();
	check_errors();
	check_stream_stops();
	check_credentials();
	check_echo();
	out("all ok\n");
	return 0;
}
