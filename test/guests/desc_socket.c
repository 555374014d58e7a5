/* Unix domain sockets through raw system calls, with the exact results and
 * errnos Linux gives: socket and socketpair (types, flags, errors), reads and
 * writes on stream, seqpacket and datagram pairs, poll's bits in each state,
 * shutdown, a peer that closes (end of file, EPIPE, ECONNRESET,
 * ECONNREFUSED), bind to a path (a socket file) and to an abstract name,
 * autobind, listen, connect (ENOENT, ECONNREFUSED, EPROTOTYPE, EAGAIN on a
 * full backlog), accept and accept4, the names (getsockname, getpeername,
 * accept's and recvfrom's addresses), datagrams between bound sockets, send
 * and receive flags (MSG_PEEK, MSG_DONTWAIT, MSG_TRUNC, MSG_WAITALL,
 * MSG_NOSIGNAL), SIGPIPE, FIONREAD, and the socket options. Prints "ok NAME"
 * per check, then "all ok"; on the first failure prints "FAIL: NAME:
 * details" and exits 1.
 *
 * With the argument "inet" it prints what socket(AF_INET) gives: the sandbox
 * has no network (EAFNOSUPPORT). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"
#include "desc.h"

#define ALL_EVENTS (POLLIN | POLLOUT | X_POLLRDHUP | POLLRDNORM | POLLWRNORM | POLLWRBAND)
#define OUT_BITS (POLLOUT | POLLWRNORM | POLLWRBAND)
#define IN_BITS (POLLIN | POLLRDNORM)
#define EOF_BITS (X_POLLRDHUP | POLLHUP | IN_BITS)

static char buf[300000];

static void pair(int type, int sv[2])
{
	expect_eq(S4(SYS_socketpair, AF_UNIX, type, 0, sv), 0, "socketpair");
}

static void close2(int sv[2])
{
	S1(SYS_close, sv[0]);
	S1(SYS_close, sv[1]);
}

/* An abstract address: a NUL, then name; its length in *len. */
static struct sockaddr_un abstract(const char *name, socklen_t *len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	memcpy(a.sun_path + 1, name, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	return a;
}

static struct sockaddr_un path_addr(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, path);
	return a;
}

static long sock(int type)
{
	return S3(SYS_socket, AF_UNIX, type, 0);
}

static void check_socket(void)
{
	current = "socket and socketpair";
	long fd = sock(SOCK_STREAM);
	expect_eq(fd, 3, "socket(AF_UNIX, SOCK_STREAM)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDWR, "F_GETFL");
	struct stat st;
	expect_eq(S2(SYS_fstat, fd, &st), 0, "fstat");
	expect_eq(st.st_mode, S_IFSOCK | 0777, "st_mode");
	char want[64];
	snprintf(want, sizeof want, "socket:[%lu]", (unsigned long)st.st_ino);
	expect_link((int)fd, want);
	expect_err(S3(SYS_lseek, fd, 0, SEEK_SET), ESPIPE, "lseek");
	S1(SYS_close, fd);
	fd = S3(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDWR | O_NONBLOCK, "F_GETFL(SOCK_NONBLOCK)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "F_GETFD(SOCK_CLOEXEC)");
	int off = 0;
	expect_eq(S3(SYS_ioctl, fd, FIONBIO, &off), 0, "ioctl(FIONBIO, 0)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDWR, "F_GETFL after FIONBIO 0");
	S1(SYS_close, fd);
	fd = S3(SYS_socket, AF_UNIX, SOCK_RAW, 0);
	int type = 0;
	socklen_t len = sizeof type;
	expect_eq(S5(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, &type, &len), 0, "getsockopt(SO_TYPE)");
	expect_eq(type, SOCK_DGRAM, "SOCK_RAW's type");
	S1(SYS_close, fd);
	expect_eq(S3(SYS_socket, AF_UNIX, SOCK_STREAM, AF_UNIX), 3, "protocol PF_UNIX");
	S1(SYS_close, 3);
	expect_err(S3(SYS_socket, AF_UNIX, SOCK_STREAM, 2), EPROTONOSUPPORT, "protocol 2");
	expect_err(S3(SYS_socket, AF_UNIX, 9, 0), ESOCKTNOSUPPORT, "type 9");
	expect_err(S3(SYS_socket, AF_UNIX, 12, 0), EINVAL, "type 12");
	expect_err(S3(SYS_socket, AF_UNIX, SOCK_STREAM | 0x10000, 0), EINVAL, "flag 0x10000");
	expect_err(S3(SYS_socket, 99, SOCK_STREAM, 0), EAFNOSUPPORT, "family 99");
	int sv[2];
	expect_eq(S4(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0, "socketpair(SOCK_CLOEXEC)");
	CHECK(sv[0] == 3 && sv[1] == 4, "socketpair gave %d, %d", sv[0], sv[1]);
	expect_eq(S2(SYS_fcntl, sv[1], F_GETFD), FD_CLOEXEC, "F_GETFD of the second");
	close2(sv);
	expect_err(S4(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, (void *)8), EFAULT, "socketpair(bad pointer)");
	expect_eq(S1(SYS_dup, 0), 3, "no fd left by the failed socketpair");
	S1(SYS_close, 3);
	expect_err(S3(SYS_sendto, 0, "x", 1), ENOTSOCK, "send on stdin");
	expect_err(S3(SYS_sendto, 99, "x", 1), EBADF, "send on a closed fd");
	expect_err(S3(SYS_listen, 0, 1, 0), ENOTSOCK, "listen on stdin");
	ok();
}

static void check_stream(void)
{
	current = "a stream pair";
	int sv[2];
	pair(SOCK_STREAM, sv);
	expect_revents(sv[0], ALL_EVENTS, OUT_BITS, "poll of a new pair");
	expect_eq(S3(SYS_write, sv[1], "hello", 5), 5, "write");
	expect_eq(S3(SYS_write, sv[1], " world", 6), 6, "write again");
	expect_revents(sv[0], ALL_EVENTS, IN_BITS | OUT_BITS, "poll with data");
	int n = -1;
	expect_eq(S3(SYS_ioctl, sv[0], X_FIONREAD, &n), 0, "FIONREAD");
	expect_eq(n, 11, "FIONREAD's count");
	/* A stream reads across writes. */
	expect_eq(S6(SYS_recvfrom, sv[0], buf, 100, MSG_PEEK, NULL, NULL), 11, "recv(MSG_PEEK)");
	expect_eq(S3(SYS_read, sv[0], buf, 3), 3, "read(3)");
	CHECK(memcmp(buf, "hel", 3) == 0, "read gave \"%.3s\"", buf);
	struct iovec iov[2] = { { buf, 4 }, { buf + 100, 10 } };
	expect_eq(S3(SYS_readv, sv[0], iov, 2), 8, "readv");
	CHECK(memcmp(buf, "lo w", 4) == 0 && memcmp(buf + 100, "orld", 4) == 0, "readv gave \"%.4s\" \"%.4s\"", buf, buf + 100);
	expect_err(S6(SYS_recvfrom, sv[0], buf, 10, MSG_DONTWAIT, NULL, NULL), EAGAIN, "recv(MSG_DONTWAIT) with nothing");
	struct iovec out[2] = { { "ab", 2 }, { "cd", 2 } };
	expect_eq(S3(SYS_writev, sv[0], out, 2), 4, "writev");
	expect_eq(S6(SYS_recvfrom, sv[1], buf, 10, 0, NULL, NULL), 4, "recv");
	struct sockaddr_un to = path_addr("/nowhere");
	expect_err(S6(SYS_sendto, sv[0], "x", 1, 0, &to, sizeof to), EISCONN, "sendto with an address");
	/* A writer fills its send buffer, then waits; the reader's reads make room. */
	expect_eq(S3(SYS_fcntl, sv[0], F_SETFL, O_NONBLOCK), 0, "F_SETFL(O_NONBLOCK)");
	long total = 0, r;
	while ((r = S3(SYS_write, sv[0], buf, 65536)) > 0)
		total += r;
	expect_err(r, EAGAIN, "write to a full stream");
	CHECK(total >= 65536, "a stream took %ld bytes", total);
	CHECK(!(revents(sv[0], POLLOUT) & POLLOUT), "POLLOUT on a full stream");
	long got = 0;
	while (got < total) {
		r = S3(SYS_read, sv[1], buf, sizeof buf);
		CHECK(r > 0, "read of the full stream = %ld (%s)", r, errname(r));
		got += r;
	}
	expect_eq(got, total, "bytes read back");
	expect_revents(sv[0], OUT_BITS, OUT_BITS, "POLLOUT once read");
	close2(sv);
	ok();
}

static void check_records(void)
{
	current = "seqpacket and datagram pairs";
	int types[2] = { SOCK_SEQPACKET, SOCK_DGRAM };
	for (int i = 0; i < 2; i++) {
		int sv[2];
		pair(types[i], sv);
		expect_eq(S3(SYS_write, sv[0], "abcdef", 6), 6, "write of a record");
		expect_eq(S3(SYS_write, sv[0], "gh", 2), 2, "write of another");
		expect_eq(S3(SYS_write, sv[0], "", 0), 0, "write of an empty record");
		int n = -1;
		expect_eq(S3(SYS_ioctl, sv[1], X_FIONREAD, &n), 0, "FIONREAD");
		/* FIONREAD: all a seqpacket socket holds, a datagram socket's next record. */
		expect_eq(n, types[i] == SOCK_SEQPACKET ? 8 : 6, "FIONREAD");
		/* A record is read whole: what does not fit is dropped. */
		expect_eq(S3(SYS_read, sv[1], buf, 3), 3, "read(3) of 6");
		expect_eq(S3(SYS_read, sv[1], buf, 100), 2, "read of the next record");
		expect_eq(S6(SYS_recvfrom, sv[1], buf, 10, MSG_DONTWAIT, NULL, NULL), 0, "read of the empty record");
		expect_err(S6(SYS_recvfrom, sv[1], buf, 10, MSG_DONTWAIT, NULL, NULL), EAGAIN, "read with nothing queued");
		expect_eq(S3(SYS_write, sv[0], "abcdef", 6), 6, "write of a record");
		expect_eq(S6(SYS_recvfrom, sv[1], buf, 2, MSG_TRUNC | MSG_PEEK, NULL, NULL), 6, "recv(MSG_TRUNC|MSG_PEEK)");
		struct iovec iov = { buf, 2 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
		expect_eq(S3(SYS_recvmsg, sv[1], &m, 0), 2, "recvmsg of 2");
		expect_eq(m.msg_flags, MSG_TRUNC, "recvmsg's MSG_TRUNC flag");
		expect_err(S6(SYS_sendto, sv[0], "x", 1, MSG_OOB, NULL, 0), EOPNOTSUPP, "send(MSG_OOB)");
		/* A record larger than the send buffer never fits. */
		int size = 4096;
		expect_eq(S5(SYS_setsockopt, sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size), 0, "SO_SNDBUF 4096");
		expect_err(S3(SYS_write, sv[0], buf, 8192 - 31), EMSGSIZE, "write past the send buffer");
		expect_eq(S3(SYS_write, sv[0], buf, 8192 - 32), 8192 - 32, "write of the largest record");
		expect_eq(S3(SYS_read, sv[1], buf, sizeof buf), 8192 - 32, "read of the largest record");
		close2(sv);
	}
	ok();
}

static void check_close(void)
{
	current = "a peer that closes";
	int sv[2];
	pair(SOCK_STREAM, sv);
	expect_eq(S3(SYS_write, sv[1], "hi", 2), 2, "write");
	S1(SYS_close, sv[1]);
	expect_revents(sv[0], ALL_EVENTS, EOF_BITS | OUT_BITS, "poll after the peer closed");
	expect_eq(S3(SYS_read, sv[0], buf, 10), 2, "read what is left");
	expect_eq(S3(SYS_read, sv[0], buf, 10), 0, "end of file");
	expect_err(S6(SYS_sendto, sv[0], "x", 1, MSG_NOSIGNAL, NULL, 0), EPIPE, "send(MSG_NOSIGNAL) to a closed peer");
	S1(SYS_close, sv[0]);
	/* Closing with data unread resets the peer: ECONNRESET once, then end of file. */
	pair(SOCK_STREAM, sv);
	expect_eq(S3(SYS_write, sv[1], "abc", 3), 3, "write");
	S1(SYS_close, sv[0]);
	expect_revents(sv[1], ALL_EVENTS, EOF_BITS | OUT_BITS | POLLERR, "poll after a reset");
	expect_err(S3(SYS_read, sv[1], buf, 10), ECONNRESET, "read after a reset");
	expect_eq(S3(SYS_read, sv[1], buf, 10), 0, "read after ECONNRESET");
	S1(SYS_close, sv[1]);
	pair(SOCK_STREAM, sv);
	expect_eq(S3(SYS_write, sv[1], "abc", 3), 3, "write");
	S1(SYS_close, sv[0]);
	int err = -1;
	socklen_t len = sizeof err;
	expect_eq(S5(SYS_getsockopt, sv[1], SOL_SOCKET, SO_ERROR, &err, &len), 0, "getsockopt(SO_ERROR)");
	expect_eq(err, ECONNRESET, "SO_ERROR after a reset");
	expect_eq(S5(SYS_getsockopt, sv[1], SOL_SOCKET, SO_ERROR, &err, &len), 0, "getsockopt(SO_ERROR) again");
	expect_eq(err, 0, "SO_ERROR once taken");
	S1(SYS_close, sv[1]);
	/* A seqpacket peer's close ends the connection; a datagram peer's refuses what follows. */
	pair(SOCK_SEQPACKET, sv);
	S1(SYS_close, sv[1]);
	expect_revents(sv[0], ALL_EVENTS, EOF_BITS | OUT_BITS, "poll after a seqpacket peer closed");
	expect_eq(S3(SYS_read, sv[0], buf, 10), 0, "seqpacket end of file");
	expect_err(S3(SYS_write, sv[0], "x", 1), EPIPE, "write to a closed seqpacket peer, without SIGPIPE");
	S1(SYS_close, sv[0]);
	pair(SOCK_DGRAM, sv);
	S1(SYS_close, sv[1]);
	expect_revents(sv[0], ALL_EVENTS, OUT_BITS, "poll after a datagram peer closed");
	expect_err(S3(SYS_write, sv[0], "x", 1), ECONNREFUSED, "write to a closed datagram peer");
	expect_err(S3(SYS_write, sv[0], "x", 1), ENOTCONN, "write after ECONNREFUSED");
	S1(SYS_close, sv[0]);
	ok();
}

static void check_shutdown(void)
{
	current = "shutdown";
	int sv[2];
	pair(SOCK_STREAM, sv);
	expect_err(S2(SYS_shutdown, sv[0], 3), EINVAL, "shutdown(3)");
	expect_eq(S2(SYS_shutdown, sv[0], SHUT_WR), 0, "shutdown(SHUT_WR)");
	expect_revents(sv[0], ALL_EVENTS, OUT_BITS, "poll of the side that shut writing");
	expect_revents(sv[1], ALL_EVENTS, X_POLLRDHUP | IN_BITS | OUT_BITS, "poll of its peer");
	expect_eq(S3(SYS_read, sv[1], buf, 10), 0, "the peer reads end of file");
	expect_err(S6(SYS_sendto, sv[0], "x", 1, MSG_NOSIGNAL, NULL, 0), EPIPE, "send after SHUT_WR");
	expect_eq(S3(SYS_write, sv[1], "y", 1), 1, "the peer still writes");
	expect_eq(S2(SYS_shutdown, sv[0], SHUT_RD), 0, "shutdown(SHUT_RD)");
	expect_revents(sv[0], ALL_EVENTS, EOF_BITS | OUT_BITS, "poll after both halves");
	expect_eq(S3(SYS_read, sv[0], buf, 10), 1, "what was sent before SHUT_RD is read");
	expect_eq(S3(SYS_read, sv[0], buf, 10), 0, "then end of file");
	expect_err(S6(SYS_sendto, sv[1], "x", 1, MSG_NOSIGNAL, NULL, 0), EPIPE, "the peer's send after SHUT_RD");
	close2(sv);
	long s = sock(SOCK_STREAM);
	expect_eq(S2(SYS_shutdown, s, SHUT_RDWR), 0, "shutdown of an unconnected socket");
	S1(SYS_close, s);
	ok();
}

static void check_unconnected(void)
{
	current = "unconnected sockets";
	long s = sock(SOCK_STREAM);
	expect_revents((int)s, ALL_EVENTS, POLLHUP | OUT_BITS, "poll of an unconnected stream");
	expect_err(S3(SYS_write, s, "x", 1), ENOTCONN, "write");
	expect_err(S3(SYS_read, s, buf, 1), EINVAL, "read");
	struct sockaddr_un a;
	socklen_t len = sizeof a;
	expect_err(S3(SYS_getpeername, s, &a, &len), ENOTCONN, "getpeername");
	len = sizeof a;
	expect_eq(S3(SYS_getsockname, s, &a, &len), 0, "getsockname");
	expect_eq(len, 2, "an unbound socket's name length");
	expect_err(S2(SYS_listen, s, 1), EINVAL, "listen unbound");
	expect_err(S3(SYS_accept, s, NULL, NULL), EINVAL, "accept without listening");
	struct ucred uc;
	len = sizeof uc;
	expect_eq(S5(SYS_getsockopt, s, SOL_SOCKET, SO_PEERCRED, &uc, &len), 0, "SO_PEERCRED");
	CHECK(uc.pid == 0 && uc.uid == (uid_t)-1 && uc.gid == (gid_t)-1 && len == sizeof uc, "SO_PEERCRED: %d %d %d (%d)", uc.pid, uc.uid, uc.gid, len);
	S1(SYS_close, s);
	s = sock(SOCK_SEQPACKET);
	expect_revents((int)s, ALL_EVENTS, POLLHUP | OUT_BITS, "poll of an unconnected seqpacket socket");
	expect_err(S3(SYS_write, s, "x", 1), ENOTCONN, "seqpacket write");
	expect_err(S3(SYS_read, s, buf, 1), ENOTCONN, "seqpacket read");
	S1(SYS_close, s);
	s = sock(SOCK_DGRAM);
	expect_revents((int)s, ALL_EVENTS, OUT_BITS, "poll of an unconnected datagram socket");
	expect_err(S3(SYS_write, s, "x", 1), ENOTCONN, "datagram write");
	expect_err(S2(SYS_listen, s, 1), EOPNOTSUPP, "datagram listen");
	expect_err(S3(SYS_accept, s, NULL, NULL), EOPNOTSUPP, "datagram accept");
	S1(SYS_close, s);
	ok();
}

static void check_bind(void)
{
	current = "bind";
	make_scratch("sock");
	struct sockaddr_un a = path_addr(in_scratch("s"));
	long s = sock(SOCK_STREAM);
	expect_eq(S3(SYS_bind, s, &a, sizeof a), 0, "bind to a path");
	struct stat st;
	expect_eq(S2(SYS_stat, a.sun_path, &st), 0, "stat of the socket file");
	expect_eq(st.st_mode, S_IFSOCK | 0755, "the socket file's mode");
	expect_err(S3(SYS_open, a.sun_path, O_RDONLY, 0), ENXIO, "open of a socket file");
	struct sockaddr_un got;
	socklen_t len = sizeof got;
	expect_eq(S3(SYS_getsockname, s, &got, &len), 0, "getsockname");
	expect_eq(len, 2 + strlen(a.sun_path) + 1, "the name's length");
	CHECK(strcmp(got.sun_path, a.sun_path) == 0, "the name is \"%s\"", got.sun_path);
	expect_err(S3(SYS_bind, s, &a, sizeof a), EADDRINUSE, "bind again to the same path");
	struct sockaddr_un b = path_addr(in_scratch("t"));
	expect_err(S3(SYS_bind, s, &b, sizeof b), EINVAL, "bind a bound socket");
	long s2 = sock(SOCK_STREAM);
	expect_err(S3(SYS_bind, s2, &a, sizeof a), EADDRINUSE, "bind another to the path");
	struct sockaddr_un deep = path_addr(in_scratch("no/such"));
	expect_err(S3(SYS_bind, s2, &deep, sizeof deep), ENOENT, "bind below a missing directory");
	a.sun_family = AF_INET;
	expect_err(S3(SYS_bind, s2, &a, sizeof a), EINVAL, "bind with family AF_INET");
	a.sun_family = AF_UNIX;
	expect_err(S3(SYS_bind, s2, &a, 1), EINVAL, "bind with length 1");
	expect_err(S3(SYS_bind, s2, &a, sizeof a + 1), EINVAL, "bind with length 111");
	expect_err(S3(SYS_bind, s2, (void *)8, sizeof a), EFAULT, "bind with a bad address");
	/* Abstract names: the bytes given; taken per type. */
	socklen_t alen;
	struct sockaddr_un ab = abstract("tvisor-test-bind", &alen);
	expect_eq(S3(SYS_bind, s2, &ab, alen), 0, "bind to an abstract name");
	len = sizeof got;
	expect_eq(S3(SYS_getsockname, s2, &got, &len), 0, "getsockname");
	CHECK(len == alen && memcmp(&got, &ab, alen) == 0, "abstract name of length %d", len);
	long s3 = sock(SOCK_STREAM);
	expect_err(S3(SYS_bind, s3, &ab, alen), EADDRINUSE, "bind another to the abstract name");
	long d = sock(SOCK_DGRAM);
	expect_eq(S3(SYS_bind, d, &ab, alen), 0, "bind a datagram socket to the same abstract name");
	/* sun_family alone autobinds: a NUL and five hex digits. */
	struct sockaddr_un fam = { .sun_family = AF_UNIX };
	expect_eq(S3(SYS_bind, s3, &fam, 2), 0, "autobind");
	len = sizeof got;
	expect_eq(S3(SYS_getsockname, s3, &got, &len), 0, "getsockname after autobind");
	expect_eq(len, 8, "an autobound name's length");
	CHECK(got.sun_path[0] == 0 && strspn(got.sun_path + 1, "0123456789abcdef") == 5, "autobound name \"%.6s\"", got.sun_path + 1);
	expect_eq(S3(SYS_bind, s3, &fam, 2), 0, "autobind of a bound socket");
	/* Closing leaves the socket file; the abstract name is free again. */
	S1(SYS_close, s);
	S1(SYS_close, s2);
	expect_eq(S2(SYS_stat, a.sun_path, &st), 0, "stat after close");
	expect_eq(S3(SYS_bind, s3 = sock(SOCK_STREAM), &ab, alen), 0, "bind to the freed abstract name");
	S1(SYS_close, s3);
	S1(SYS_close, d);
	expect_eq(S1(SYS_unlink, a.sun_path), 0, "unlink the socket file");
	remove_scratch();
	ok();
}

static void check_connect(void)
{
	current = "listen, connect and accept";
	make_scratch("conn");
	struct sockaddr_un a = path_addr(in_scratch("srv"));
	long srv = sock(SOCK_STREAM);
	expect_eq(S3(SYS_bind, srv, &a, sizeof a), 0, "bind");
	long c = sock(SOCK_STREAM);
	expect_err(S3(SYS_connect, c, &a, sizeof a), ECONNREFUSED, "connect before listen");
	expect_eq(S2(SYS_listen, srv, 0), 0, "listen(0)");
	expect_revents((int)srv, ALL_EVENTS, 0, "poll of an idle listener");
	int one = -1;
	socklen_t len = sizeof one;
	expect_eq(S5(SYS_getsockopt, srv, SOL_SOCKET, SO_ACCEPTCONN, &one, &len), 0, "SO_ACCEPTCONN");
	expect_eq(one, 1, "SO_ACCEPTCONN of a listener");
	expect_eq(S3(SYS_connect, c, &a, sizeof a), 0, "connect");
	expect_revents((int)c, ALL_EVENTS, OUT_BITS, "poll of the connected client");
	expect_revents((int)srv, ALL_EVENTS, IN_BITS, "poll of a listener with a connection");
	/* Backlog 0 holds one connection: the next waits, or fails with EAGAIN. */
	long c2 = S3(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	expect_err(S3(SYS_connect, c2, &a, sizeof a), EAGAIN, "connect to a full backlog");
	expect_err(S2(SYS_listen, c, 1), EINVAL, "listen on a connected socket");
	/* The client may write before the accept. */
	expect_eq(S3(SYS_write, c, "early", 5), 5, "write before accept");
	struct sockaddr_un peer;
	len = sizeof peer;
	long conn = S4(SYS_accept4, srv, &peer, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
	CHECK(conn >= 0, "accept4 = %ld (%s)", conn, errname(conn));
	expect_eq(len, 2, "an unbound client's address length");
	expect_eq(S2(SYS_fcntl, conn, F_GETFD), FD_CLOEXEC, "accept4's SOCK_CLOEXEC");
	expect_eq(S2(SYS_fcntl, conn, F_GETFL), O_RDWR | O_NONBLOCK, "accept4's SOCK_NONBLOCK");
	expect_eq(S3(SYS_read, conn, buf, 10), 5, "read what came before accept");
	expect_err(S4(SYS_accept4, srv, NULL, NULL, 0x10), EINVAL, "accept4 with flag 0x10");
	/* A full backlog is looked at before the socket's own state. */
	expect_err(S3(SYS_connect, c, &a, sizeof a), EISCONN, "connect again");
	/* Names: the accepted socket has the listener's; the client's peer is it. */
	struct sockaddr_un got;
	len = sizeof got;
	expect_eq(S3(SYS_getsockname, conn, &got, &len), 0, "getsockname of the accepted socket");
	CHECK(len == 2 + strlen(a.sun_path) + 1 && strcmp(got.sun_path, a.sun_path) == 0, "accepted name \"%s\" (%d)", got.sun_path, len);
	len = sizeof got;
	expect_eq(S3(SYS_getpeername, c, &got, &len), 0, "getpeername of the client");
	CHECK(strcmp(got.sun_path, a.sun_path) == 0, "client's peer \"%s\"", got.sun_path);
	len = 4;
	expect_eq(S3(SYS_getpeername, c, &got, &len), 0, "getpeername into 4 bytes");
	expect_eq(len, 2 + strlen(a.sun_path) + 1, "the whole length, written back");
	len = (socklen_t)-1;
	expect_err(S3(SYS_getpeername, c, &got, &len), EINVAL, "getpeername with a negative length");
	struct ucred uc;
	len = sizeof uc;
	expect_eq(S5(SYS_getsockopt, conn, SOL_SOCKET, SO_PEERCRED, &uc, &len), 0, "SO_PEERCRED of the accepted socket");
	CHECK(uc.pid == S0(SYS_getpid) && uc.uid == S0(SYS_getuid) && uc.gid == S0(SYS_getgid), "SO_PEERCRED %d %d %d", uc.pid, uc.uid, uc.gid);
	len = sizeof uc;
	expect_eq(S5(SYS_getsockopt, c, SOL_SOCKET, SO_PEERCRED, &uc, &len), 0, "SO_PEERCRED of the client");
	CHECK(uc.pid == S0(SYS_getpid), "client's SO_PEERCRED pid %d", uc.pid);
	/* With the backlog free again, a waiting connect goes through. */
	expect_eq(S3(SYS_connect, c2, &a, sizeof a), 0, "connect once the backlog has room");
	long conn2 = S3(SYS_accept, srv, NULL, NULL);
	CHECK(conn2 >= 0, "accept = %ld (%s)", conn2, errname(conn2));
	expect_err(S3(SYS_accept, conn2, NULL, NULL), EINVAL, "accept on an accepted socket");
	S1(SYS_close, conn2);
	S1(SYS_close, c2);
	/* A blocking accept waits for a child's connect. */
	pid_t pid = fork_ok();
	if (pid == 0) {
		wait_sleeping(getppid());
		long cc = sock(SOCK_STREAM);
		child_exit(S3(SYS_connect, cc, &a, sizeof a) == 0 && S3(SYS_write, cc, "child", 5) == 5 ? 0 : 1);
	}
	long conn3 = S3(SYS_accept, srv, NULL, NULL);
	CHECK(conn3 >= 0, "accept that waits = %ld (%s)", conn3, errname(conn3));
	expect_eq(S3(SYS_read, conn3, buf, 10), 5, "read from the child");
	expect_exited(pid, 0, "the connecting child");
	S1(SYS_close, conn3);
	/* Wrong names and types. */
	long d = sock(SOCK_DGRAM);
	expect_err(S3(SYS_connect, d, &a, sizeof a), EPROTOTYPE, "a datagram socket to a stream's path");
	struct sockaddr_un none = path_addr(in_scratch("none"));
	expect_err(S3(SYS_connect, c, &none, sizeof none), ENOENT, "a missing path");
	struct sockaddr_un file = path_addr("/proc/self/stat");
	long c3 = sock(SOCK_STREAM);
	expect_err(S3(SYS_connect, c3, &file, sizeof file), ECONNREFUSED, "a file that is not a socket");
	socklen_t alen;
	struct sockaddr_un ab = abstract("tvisor-test-none", &alen);
	expect_err(S3(SYS_connect, c3, &ab, alen), ECONNREFUSED, "a free abstract name");
	expect_err(S3(SYS_connect, c3, &ab, 2), EINVAL, "connect with sun_family alone");
	S1(SYS_close, srv);
	expect_err(S3(SYS_connect, c3, &a, sizeof a), ECONNREFUSED, "a closed listener's socket file");
	S1(SYS_close, c3);
	S1(SYS_close, d);
	S1(SYS_close, conn);
	S1(SYS_close, c);
	expect_eq(S1(SYS_unlink, a.sun_path), 0, "unlink the socket file");
	remove_scratch();
	ok();
}

static void check_datagrams(void)
{
	current = "datagrams between bound sockets";
	socklen_t slen, clen;
	struct sockaddr_un sa = abstract("tvisor-test-dgram-srv", &slen), ca = abstract("tvisor-test-dgram-cli", &clen);
	long srv = sock(SOCK_DGRAM), cli = sock(SOCK_DGRAM), anon = sock(SOCK_DGRAM);
	expect_eq(S3(SYS_bind, srv, &sa, slen), 0, "bind the server");
	expect_eq(S3(SYS_bind, cli, &ca, clen), 0, "bind the client");
	expect_eq(S6(SYS_sendto, cli, "ping", 4, 0, &sa, slen), 4, "sendto the server");
	struct sockaddr_un from;
	socklen_t flen = sizeof from;
	expect_eq(S6(SYS_recvfrom, srv, buf, 10, 0, &from, &flen), 4, "recvfrom");
	CHECK(flen == clen && memcmp(&from, &ca, clen) == 0, "the sender's address (length %d)", flen);
	expect_eq(S6(SYS_sendto, srv, "pong", 4, 0, &from, flen), 4, "reply to the sender");
	expect_eq(S3(SYS_read, cli, buf, 10), 4, "read the reply");
	expect_eq(S6(SYS_sendto, anon, "x", 1, 0, &sa, slen), 1, "sendto from an unbound socket");
	flen = sizeof from;
	expect_eq(S6(SYS_recvfrom, srv, buf, 10, 0, &from, &flen), 1, "recvfrom an unbound sender");
	expect_eq(flen, 0, "an unbound sender's address length");
	socklen_t nlen;
	struct sockaddr_un nowhere = abstract("tvisor-test-dgram-none", &nlen);
	expect_err(S6(SYS_sendto, anon, "x", 1, 0, &nowhere, nlen), ECONNREFUSED, "sendto a free name");
	expect_err(S6(SYS_sendto, anon, buf, 300000, 0, &nowhere, nlen), EMSGSIZE, "sendto too much, to a free name");
	/* A receiver's queue takes ten records from others, then is full. */
	expect_eq(S3(SYS_fcntl, anon, F_SETFL, O_NONBLOCK), 0, "F_SETFL(O_NONBLOCK)");
	int sent = 0;
	long r;
	while ((r = S6(SYS_sendto, anon, "q", 1, 0, &sa, slen)) == 1)
		sent++;
	expect_err(r, EAGAIN, "sendto a full queue");
	expect_eq(sent, 11, "records queued");
	/* Connected to a full receiver, a socket is not writable. */
	expect_eq(S3(SYS_connect, anon, &sa, slen), 0, "connect to the server");
	expect_revents((int)anon, ALL_EVENTS, 0, "poll with the server's queue full");
	expect_err(S3(SYS_write, anon, "q", 1), EAGAIN, "write with the server's queue full");
	expect_eq(S3(SYS_read, srv, buf, 10), 1, "the server reads one");
	expect_revents((int)anon, ALL_EVENTS, OUT_BITS, "poll once the server read");
	while (S6(SYS_recvfrom, srv, buf, 10, MSG_DONTWAIT, NULL, NULL) >= 0)
		;
	/* A receiver connected to another takes nothing from a third. */
	expect_eq(S3(SYS_connect, srv, &ca, clen), 0, "connect the server to the client");
	expect_err(S3(SYS_write, anon, "x", 1), EPERM, "write to a server connected to another");
	struct sockaddr_un unspec = { .sun_family = AF_UNSPEC };
	expect_eq(S3(SYS_connect, anon, &unspec, 2), 0, "connect to AF_UNSPEC");
	expect_err(S3(SYS_write, anon, "x", 1), ENOTCONN, "write once disconnected");
	expect_eq(S3(SYS_connect, anon, &ca, clen), 0, "connect to the client");
	struct sockaddr_un got;
	socklen_t glen = sizeof got;
	expect_eq(S3(SYS_getpeername, anon, &got, &glen), 0, "getpeername");
	CHECK(glen == clen && memcmp(&got, &ca, clen) == 0, "the peer's name (length %d)", glen);
	S1(SYS_close, srv);
	S1(SYS_close, cli);
	S1(SYS_close, anon);
	ok();
}

static void check_waitall(void)
{
	current = "MSG_WAITALL";
	int sv[2];
	pair(SOCK_STREAM, sv);
	pid_t pid = fork_ok();
	if (pid == 0) {
		for (int i = 0; i < 4; i++) {
			wait_sleeping(getppid());
			if (S3(SYS_write, sv[1], "ab", 2) != 2)
				child_exit(1);
		}
		child_exit(0);
	}
	expect_eq(S6(SYS_recvfrom, sv[0], buf, 8, MSG_WAITALL, NULL, NULL), 8, "recv(8, MSG_WAITALL) of four writes");
	CHECK(memcmp(buf, "abababab", 8) == 0, "got \"%.8s\"", buf);
	expect_exited(pid, 0, "the writing child");
	close2(sv);
	ok();
}

static void check_sigpipe(void)
{
	current = "SIGPIPE";
	int sv[2];
	pair(SOCK_STREAM, sv);
	S1(SYS_close, sv[1]);
	pid_t pid = fork_ok();
	if (pid == 0) {
		S3(SYS_write, sv[0], "x", 1);
		child_exit(0);
	}
	expect_killed(pid, SIGPIPE, "a write to a closed stream peer");
	pid = fork_ok();
	if (pid == 0)
		child_exit(S6(SYS_sendto, sv[0], "x", 1, MSG_NOSIGNAL, NULL, 0) == -EPIPE ? 0 : 1);
	expect_exited(pid, 0, "send(MSG_NOSIGNAL) to a closed stream peer");
	S1(SYS_close, sv[0]);
	ok();
}

static void check_options(void)
{
	current = "socket options";
	long s = sock(SOCK_STREAM);
	int v = -1;
	socklen_t len = sizeof v;
	expect_eq(S5(SYS_getsockopt, s, SOL_SOCKET, SO_SNDBUF, &v, &len), 0, "SO_SNDBUF");
	expect_eq(v, 212992, "the default SO_SNDBUF");
	expect_eq(S5(SYS_getsockopt, s, SOL_SOCKET, SO_RCVBUF, &v, &len), 0, "SO_RCVBUF");
	expect_eq(v, 212992, "the default SO_RCVBUF");
	v = 4096;
	expect_eq(S5(SYS_setsockopt, s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v), 0, "set SO_SNDBUF 4096");
	expect_eq(S5(SYS_getsockopt, s, SOL_SOCKET, SO_SNDBUF, &v, &len), 0, "get SO_SNDBUF");
	expect_eq(v, 8192, "SO_SNDBUF doubled");
	v = 1;
	expect_eq(S5(SYS_setsockopt, s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v), 0, "set SO_SNDBUF 1");
	expect_eq(S5(SYS_getsockopt, s, SOL_SOCKET, SO_SNDBUF, &v, &len), 0, "get SO_SNDBUF");
	expect_eq(v, 4608, "SO_SNDBUF's floor");
	v = 1;
	expect_eq(S5(SYS_setsockopt, s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v), 0, "set SO_RCVBUF 1");
	expect_eq(S5(SYS_getsockopt, s, SOL_SOCKET, SO_RCVBUF, &v, &len), 0, "get SO_RCVBUF");
	expect_eq(v, 2304, "SO_RCVBUF's floor");
	v = 1;
	expect_eq(S5(SYS_setsockopt, s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v), 0, "set SO_REUSEADDR");
	expect_eq(S5(SYS_getsockopt, s, SOL_SOCKET, SO_REUSEADDR, &v, &len), 0, "get SO_REUSEADDR");
	expect_eq(v, 1, "SO_REUSEADDR");
	expect_eq(S5(SYS_getsockopt, s, SOL_SOCKET, SO_PASSCRED, &v, &len), 0, "get SO_PASSCRED");
	expect_eq(v, 0, "SO_PASSCRED by default");
	expect_eq(S5(SYS_getsockopt, s, SOL_SOCKET, SO_DOMAIN, &v, &len), 0, "get SO_DOMAIN");
	expect_eq(v, AF_UNIX, "SO_DOMAIN");
	expect_eq(S5(SYS_getsockopt, s, SOL_SOCKET, SO_ACCEPTCONN, &v, &len), 0, "get SO_ACCEPTCONN");
	expect_eq(v, 0, "SO_ACCEPTCONN of an unconnected socket");
	struct timeval tv = { 1, 500000 }, tv2;
	expect_eq(S5(SYS_setsockopt, s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0, "set SO_RCVTIMEO");
	len = sizeof tv2;
	expect_eq(S5(SYS_getsockopt, s, SOL_SOCKET, SO_RCVTIMEO, &tv2, &len), 0, "get SO_RCVTIMEO");
	CHECK(len == sizeof tv2 && tv2.tv_sec == 1 && tv2.tv_usec == 500000, "SO_RCVTIMEO %ld.%06ld", (long)tv2.tv_sec, (long)tv2.tv_usec);
	short half = 0;
	len = sizeof half;
	expect_eq(S5(SYS_getsockopt, s, SOL_SOCKET, SO_TYPE, &half, &len), 0, "SO_TYPE into 2 bytes");
	CHECK(len == 2 && half == SOCK_STREAM, "SO_TYPE %d (%d bytes)", half, len);
	len = (socklen_t)-1;
	expect_err(S5(SYS_getsockopt, s, SOL_SOCKET, SO_TYPE, &v, &len), EINVAL, "getsockopt with a negative length");
	len = sizeof v;
	expect_err(S5(SYS_getsockopt, s, SOL_SOCKET, 9999, &v, &len), ENOPROTOOPT, "getsockopt of option 9999");
	expect_err(S5(SYS_setsockopt, s, SOL_SOCKET, 9999, &v, sizeof v), ENOPROTOOPT, "setsockopt of option 9999");
	expect_err(S5(SYS_setsockopt, s, SOL_SOCKET, SO_REUSEADDR, &v, 2), EINVAL, "setsockopt with 2 bytes");
	expect_err(S5(SYS_setsockopt, s, 6 /* SOL_TCP */, 1, &v, sizeof v), EOPNOTSUPP, "setsockopt at SOL_TCP");
	expect_err(S5(SYS_getsockopt, s, 6 /* SOL_TCP */, 1, &v, &len), EOPNOTSUPP, "getsockopt at SOL_TCP");
	S1(SYS_close, s);
	ok();
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "inet") == 0) {
		long r = S3(SYS_socket, AF_INET, SOCK_STREAM, 0);
		out("socket(AF_INET) = %s\n", r >= 0 ? "an fd" : errname(r));
		int sv[2];
		r = S4(SYS_socketpair, AF_INET, SOCK_STREAM, 0, sv);
		out("socketpair(AF_INET) = %s\n", errname(r));
		return 0;
	}
	start();
	check_socket();
	check_stream();
	check_records();
	check_close();
	check_shutdown();
	check_unconnected();
	check_bind();
	check_connect();
	check_datagrams();
	check_waitall();
	check_sigpipe();
	check_options();
	out("all ok\n");
	return 0;
}
