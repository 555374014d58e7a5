/* Data through a pipe between two processes, with results exactly as Linux
 * gives them, whatever the order in which the two run: a stream of
 * writes of many sizes, read in pieces of other sizes, arrives whole and in
 * order; a read that waits gets one write whole when it has room for it,
 * and the first bytes of it when it has not, the rest staying in the
 * pipe's page slots (so the pipe is full after as many writes as on
 * Linux); a write that waits on a full pipe goes on into the room a read
 * makes; a signal ends a blocked write after the part that fitted; and a
 * read that a signal interrupts (SA_RESTART) while a write comes loses
 * nothing (a real-time signal, so that every one is counted). Reads and writes go through libc (so kvm serves them through
 * patched call sites). Prints "ok NAME" per check, then "all ok"; on the
 * first failure prints "FAIL: NAME: details" and exits 1. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

#define PAGE 4096
#define CAPACITY 65536
#define STREAM ((1 << 20) + 123)

static unsigned char out_buf[1 << 18], in_buf[1 << 18];
static volatile int caught;

static void count(int sig, siginfo_t *si, void *uc)
{
	caught++;
}

static void close_both(int fds[2])
{
	close(fds[0]);
	close(fds[1]);
}

/* The byte at offset i of the stream: not periodic in any read or write size used here. */
static unsigned char stream_byte(long i)
{
	return (unsigned char)(i * 7 + i / 4093);
}

static void fill_stream(unsigned char *p, long from, long n)
{
	for (long i = 0; i < n; i++)
		p[i] = stream_byte(from + i);
}

static void expect_stream(const unsigned char *p, long from, long n)
{
	for (long i = 0; i < n; i++)
		if (p[i] != stream_byte(from + i))
			fail("byte %ld of the stream is 0x%02x, expected 0x%02x", from + i, p[i], stream_byte(from + i));
}

static long unread(int fd)
{
	int n = -1;
	if (ioctl(fd, FIONREAD, &n) != 0)
		fail("FIONREAD: errno %d", errno);
	return n;
}

/* Writes all n bytes at p, failing on any error. */
static void write_all(int fd, const void *p, long n)
{
	long w = write(fd, p, n);
	if (w != n)
		fail("write(%ld) = %ld (errno %d)", n, w, w < 0 ? errno : 0);
}

/* until_sleeping waits until task pid is blocked in a call that waits. */
static void until_sleeping(pid_t pid)
{
	while (!is_sleeping(pid))
		sleep_ms(1);
}

/* The writer of the stream: writes of these sizes, over and over. */
static void write_stream(int fd)
{
	static const long sizes[] = {65536, 100000, 1, 4096, 4095, 4097, 131072, 7, 65535, 20000};
	long done = 0;
	for (int k = 0; done < STREAM; k++) {
		long n = sizes[k % 10];
		if (n > STREAM - done)
			n = STREAM - done;
		fill_stream(out_buf, done, n);
		write_all(fd, out_buf, n);
		done += n;
	}
}

static void stream_in_pieces(void)
{
	static const long sizes[] = {1, 10, 4096, 65536, 70000, 131072, 3, 4095, 8192, 200000};
	int fds[2];
	current = "a stream in pieces";
	pipe_ok(fds, 0);
	pid_t pid = fork_ok();
	if (pid == 0) {
		close(fds[0]);
		write_stream(fds[1]);
		child_exit(0);
	}
	close(fds[1]);
	long got = 0;
	for (int k = 0;; k++) {
		long n = read(fds[0], in_buf, sizes[k % 10]);
		if (n < 0)
			fail("read: errno %d", errno);
		if (n == 0)
			break;
		CHECK(n <= sizes[k % 10], "read(%ld) = %ld", sizes[k % 10], n);
		expect_stream(in_buf, got, n);
		got += n;
	}
	expect_eq(got, STREAM, "bytes read before end of file");
	expect_exited(pid, 0, "the writer");
	close(fds[0]);
	ok();
}

/*
 * A read that waits on an empty pipe: a write it has room for arrives
 * whole; of a write larger than its buffer it gets the first bytes, and
 * the rest fills two page slots, as it would have on Linux had the write
 * come first (a write of 4106 bytes takes a page and a page for its last 10
 * bytes), so 14 more pages fit.
 */
static void waiting_reads(void)
{
	int fds[2];
	current = "a waiting read";
	pipe_ok(fds, 0);
	pid_t parent = getpid();
	pid_t pid = fork_ok();
	if (pid == 0) {
		until_sleeping(parent);
		fill_stream(out_buf, 0, 5000);
		write_all(fds[1], out_buf, 5000);
		until_sleeping(parent);
		fill_stream(out_buf, 0, PAGE + 10);
		write_all(fds[1], out_buf, PAGE + 10);
		child_exit(0);
	}
	expect_eq(read(fds[0], in_buf, 100000), 5000, "a read of 100000 bytes while 5000 are written");
	expect_stream(in_buf, 0, 5000);
	expect_eq(read(fds[0], in_buf, 10), 10, "a read of 10 bytes while 4106 are written");
	expect_stream(in_buf, 0, 10);
	expect_exited(pid, 0, "the writer");
	expect_eq(unread(fds[0]), PAGE, "bytes left in the pipe");
	expect_eq(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0, "O_NONBLOCK");
	int pages = 0;
	while (write(fds[1], out_buf, PAGE) == PAGE)
		pages++;
	expect_eq(errno, EAGAIN, "the write that does not fit");
	expect_eq(pages, 14, "pages written until the pipe is full");
	close(fds[0]);
	close(fds[1]);
	ok();
}

/*
 * A write that waits on a full pipe: a read of one page makes room, and the
 * write's last page goes in; the write returns all it was given.
 */
static void waiting_write(void)
{
	int fds[2], go[2];
	current = "a waiting write";
	pipe_ok(fds, 0);
	pipe_ok(go, 0);
	pid_t parent = getpid();
	pid_t pid = fork_ok();
	if (pid == 0) {
		until_sleeping(parent);
		long n = read(fds[0], in_buf, PAGE);
		if (n != PAGE)
			child_exit(2);
		get(go[0]);
		child_exit(0);
	}
	fill_stream(out_buf, 0, CAPACITY + PAGE);
	expect_eq(write(fds[1], out_buf, CAPACITY + PAGE), CAPACITY + PAGE, "a write of 69632 bytes");
	expect_eq(unread(fds[0]), CAPACITY, "bytes in the pipe after the read of a page");
	expect_eq(read(fds[0], in_buf, CAPACITY), CAPACITY, "the pipe's contents");
	expect_stream(in_buf, PAGE, CAPACITY);
	put(go[1], 'x');
	expect_exited(pid, 0, "the reader");
	close_both(fds);
	close_both(go);
	ok();
}

/* A signal ends a write blocked on a full pipe: it returns what fitted, even with SA_RESTART. */
static void interrupted_write(void)
{
	int fds[2];
	current = "an interrupted write";
	on(SIGUSR1, count, SA_RESTART);
	pipe_ok(fds, 0);
	pid_t parent = getpid();
	pid_t pid = fork_ok();
	if (pid == 0) {
		until_sleeping(parent);
		kill(parent, SIGUSR1);
		child_exit(0);
	}
	caught = 0;
	expect_eq(write(fds[1], out_buf, 2 * CAPACITY), CAPACITY, "a write of 131072 bytes into an empty pipe");
	expect_eq(caught, 1, "SIGUSR1 handled");
	expect_exited(pid, 0, "the child");
	close_both(fds);
	ok();
}

/*
 * Reads that a signal interrupts while a write comes (SA_RESTART): each
 * read returns the one write of its round, in order, whether the signal
 * or the data came first.
 */
static void restarted_reads(void)
{
	int fds[2], go[2];
	current = "restarted reads lose nothing";
	on(SIGRTMIN, count, SA_RESTART);
	pipe_ok(fds, 0);
	pipe_ok(go, 0);
	pid_t parent = getpid();
	pid_t pid = fork_ok();
	if (pid == 0) {
		for (int round = 0; round < 200; round++) {
			get(go[0]);
			fill_stream(out_buf, round * 5000L, 5000);
			if (round % 2)
				kill(parent, SIGRTMIN);
			write_all(fds[1], out_buf, 5000);
			if (round % 2 == 0)
				kill(parent, SIGRTMIN);
		}
		child_exit(0);
	}
	caught = 0;
	for (int round = 0; round < 200; round++) {
		put(go[1], 'x');
		expect_eq(read(fds[0], in_buf, sizeof in_buf), 5000, "a read of a round");
		expect_stream(in_buf, round * 5000L, 5000);
	}
	expect_exited(pid, 0, "the writer");
	expect_eq(caught, 200, "signals handled");
	close_both(fds);
	close_both(go);
	ok();
}

int main(void)
{
	stream_in_pieces();
	waiting_reads();
	waiting_write();
	interrupted_write();
	restarted_reads();
	out("all ok\n");
	return 0;
}
