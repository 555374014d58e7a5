/* timerfd_create(2), timerfd_settime(2) and timerfd_gettime(2) through raw
 * system calls, with the exact results and errnos Linux gives: the clocks
 * and flags, relative and absolute (TFD_TIMER_ABSTIME) one-shot and periodic
 * timers on CLOCK_MONOTONIC, CLOCK_REALTIME and CLOCK_BOOTTIME, the count of
 * expiries a read returns (periods missed meanwhile included), the old value,
 * disarming, EAGAIN, a blocking read, poll, and the file itself. Times are
 * only ever checked from below (a timer never fires early), never against an
 * upper limit. Prints "ok NAME" per check, then "all ok"; on the first
 * failure prints "FAIL: NAME: details" and exits 1.
 *
 * With the argument "armed" it arms a timer for an hour and one every
 * millisecond, prints "armed" and exits: nothing of them may outlive it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"
#include "desc.h"

#define MS 1000000L

static struct itimerspec spec(long value_ns, long interval_ns)
{
	struct itimerspec s = {
		.it_interval = { interval_ns / 1000000000L, interval_ns % 1000000000L },
		.it_value = { value_ns / 1000000000L, value_ns % 1000000000L },
	};
	return s;
}

static long ns_of(struct timespec ts)
{
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static long clock_ns(int clock)
{
	struct timespec ts;
	expect_eq(S2(SYS_clock_gettime, clock, &ts), 0, "clock_gettime");
	return ns_of(ts);
}

static void settime(int fd, int flags, long value_ns, long interval_ns)
{
	struct itimerspec s = spec(value_ns, interval_ns);
	expect_eq(S4(SYS_timerfd_settime, fd, flags, &s, NULL), 0, "timerfd_settime");
}

static void check_create(void)
{
	current = "timerfd_create";
	long fd = S2(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
	expect_eq(fd, 3, "timerfd_create(CLOCK_MONOTONIC)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDWR, "F_GETFL");
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), 0, "F_GETFD");
	S1(SYS_close, fd);
	fd = S2(SYS_timerfd_create, CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	expect_eq(fd, 3, "timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK|TFD_CLOEXEC)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDWR | O_NONBLOCK, "F_GETFL(TFD_NONBLOCK)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "F_GETFD(TFD_CLOEXEC)");
	S1(SYS_close, fd);
	fd = S2(SYS_timerfd_create, CLOCK_BOOTTIME, 0);
	expect_eq(fd, 3, "timerfd_create(CLOCK_BOOTTIME)");
	S1(SYS_close, fd);
	expect_err(S2(SYS_timerfd_create, CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL, "timerfd_create(CLOCK_PROCESS_CPUTIME_ID)");
	expect_err(S2(SYS_timerfd_create, CLOCK_MONOTONIC_RAW, 0), EINVAL, "timerfd_create(CLOCK_MONOTONIC_RAW)");
	expect_err(S2(SYS_timerfd_create, 100, 0), EINVAL, "timerfd_create(100)");
	expect_err(S2(SYS_timerfd_create, CLOCK_MONOTONIC, O_APPEND), EINVAL, "timerfd_create(O_APPEND)");
	ok();
}

static void check_errors(void)
{
	current = "errors";
	int fd = (int)S2(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec s = spec(0, 0), old;
	s.it_value.tv_nsec = 1000000000L;
	expect_err(S4(SYS_timerfd_settime, fd, 0, &s, NULL), EINVAL, "settime with tv_nsec 1e9");
	s = spec(0, 0);
	s.it_interval.tv_sec = -1;
	expect_err(S4(SYS_timerfd_settime, fd, 0, &s, NULL), EINVAL, "settime with a negative interval");
	s = spec(0, 0);
	expect_err(S4(SYS_timerfd_settime, fd, 4, &s, NULL), EINVAL, "settime with flags 4");
	expect_err(S4(SYS_timerfd_settime, fd, 0, (void *)8, NULL), EFAULT, "settime with a bad new value");
	expect_err(S4(SYS_timerfd_settime, 99, 0, &s, NULL), EBADF, "settime on a closed fd");
	expect_err(S4(SYS_timerfd_settime, 0, 0, &s, NULL), EINVAL, "settime on stdin");
	expect_err(S2(SYS_timerfd_gettime, 0, &old), EINVAL, "gettime on stdin");
	expect_err(S2(SYS_timerfd_gettime, 99, &old), EBADF, "gettime on a closed fd");
	expect_err(S2(SYS_timerfd_gettime, fd, (void *)8), EFAULT, "gettime into a bad buffer");
	uint64_t v;
	expect_err(S3(SYS_read, fd, &v, 4), EINVAL, "read(4 bytes)");
	expect_err(S3(SYS_read, fd, &v, 8), EAGAIN, "read of a disarmed timer");
	expect_err(S3(SYS_write, fd, &v, 8), EINVAL, "write");
	S1(SYS_close, fd);
	ok();
}

static void check_one_shot(void)
{
	current = "a one-shot timer";
	int fd = (int)S2(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
	struct itimerspec cur;
	long t0 = clock_ns(CLOCK_MONOTONIC);
	settime(fd, 0, 50 * MS, 0);
	expect_eq(S2(SYS_timerfd_gettime, fd, &cur), 0, "gettime while armed");
	CHECK(ns_of(cur.it_value) > 0 && ns_of(cur.it_value) <= 50 * MS, "time left %ld ns", ns_of(cur.it_value));
	expect_eq(ns_of(cur.it_interval), 0, "interval");
	expect_revents(fd, POLLIN, 0, "poll before the expiry");
	expect_eq((long)read_u64(fd, "read that waits for the expiry"), 1, "expiries");
	CHECK(clock_ns(CLOCK_MONOTONIC) - t0 >= 50 * MS, "the read returned after %ld ns", clock_ns(CLOCK_MONOTONIC) - t0);
	expect_eq(S2(SYS_timerfd_gettime, fd, &cur), 0, "gettime after the expiry");
	expect_eq(ns_of(cur.it_value), 0, "time left after the expiry");
	S1(SYS_close, fd);
	ok();
}

static void check_periodic(void)
{
	current = "a periodic timer";
	int fd = (int)S2(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_NONBLOCK);
	long t0 = clock_ns(CLOCK_MONOTONIC);
	settime(fd, 0, 20 * MS, 20 * MS);
	sleep_ms(110);
	/* Expiries at 20, 40, 60, 80 and 100 ms at least. */
	uint64_t n = read_u64(fd, "read after 110 ms");
	long elapsed = clock_ns(CLOCK_MONOTONIC) - t0;
	CHECK(n >= 5 && (long)n <= elapsed / (20 * MS), "%lu expiries in %ld ns", (unsigned long)n, elapsed);
	/* Read again at once: nothing, unless another period ended meanwhile (a
	 * loaded host can take 20 ms between two calls); either way no expiry
	 * is counted twice or early. */
	uint64_t v;
	long again = S3(SYS_read, fd, &v, 8);
	if (again == 8) {
		elapsed = clock_ns(CLOCK_MONOTONIC) - t0;
		CHECK(v >= 1 && (long)(n + v) <= elapsed / (20 * MS), "%lu more expiries, %lu in %ld ns", (unsigned long)v, (unsigned long)(n + v), elapsed);
	} else {
		expect_err(again, EAGAIN, "read right after");
	}
	struct itimerspec cur;
	expect_eq(S2(SYS_timerfd_gettime, fd, &cur), 0, "gettime");
	CHECK(ns_of(cur.it_value) > 0 && ns_of(cur.it_value) <= 20 * MS, "time left %ld ns", ns_of(cur.it_value));
	expect_eq(ns_of(cur.it_interval), 20 * MS, "interval");
	/* The old value comes back; 0 disarms, and the interval stays as set. */
	struct itimerspec s = spec(0, 5 * MS), old;
	expect_eq(S4(SYS_timerfd_settime, fd, 0, &s, &old), 0, "settime to disarm");
	expect_eq(ns_of(old.it_interval), 20 * MS, "old interval");
	CHECK(ns_of(old.it_value) > 0 && ns_of(old.it_value) <= 20 * MS, "old time left %ld ns", ns_of(old.it_value));
	expect_eq(S2(SYS_timerfd_gettime, fd, &cur), 0, "gettime disarmed");
	expect_eq(ns_of(cur.it_value), 0, "time left disarmed");
	expect_eq(ns_of(cur.it_interval), 5 * MS, "interval disarmed");
	S1(SYS_close, fd);
	ok();
}

static void check_absolute(void)
{
	current = "absolute times";
	int fd = (int)S2(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_NONBLOCK);
	/* A time in the past expires at once; a periodic one counts the periods since. */
	settime(fd, TFD_TIMER_ABSTIME, clock_ns(CLOCK_MONOTONIC) - 1000 * MS, 10 * MS);
	expect_revents(fd, POLLIN, POLLIN, "poll after a time in the past");
	uint64_t n = read_u64(fd, "read after a time in the past");
	CHECK(n >= 101, "%lu expiries for 1 s at 10 ms", (unsigned long)n);
	S1(SYS_close, fd);
	for (int clock = 0; clock < 3; clock++) {
		int id = clock == 0 ? CLOCK_MONOTONIC : clock == 1 ? CLOCK_REALTIME : CLOCK_BOOTTIME;
		fd = (int)S2(SYS_timerfd_create, id, 0);
		long target = clock_ns(id) + 30 * MS;
		settime(fd, TFD_TIMER_ABSTIME, target, 0);
		expect_eq((long)read_u64(fd, "read that waits for an absolute time"), 1, "expiries");
		CHECK(clock_ns(id) >= target, "clock %d: the read returned %ld ns early", id, target - clock_ns(id));
		S1(SYS_close, fd);
	}
	ok();
}

static void check_reset(void)
{
	current = "setting again";
	int fd = (int)S2(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_NONBLOCK);
	settime(fd, TFD_TIMER_ABSTIME, 1, 0);
	expect_revents(fd, POLLIN | POLLOUT, POLLIN, "poll after an expiry");
	/* Setting the timer forgets the expiries not read. */
	settime(fd, 0, 3600L * 1000 * MS, 0);
	expect_revents(fd, POLLIN | POLLOUT, 0, "poll after setting again");
	uint64_t v;
	expect_err(S3(SYS_read, fd, &v, 8), EAGAIN, "read after setting again");
	settime(fd, 0, 0, 0);
	S1(SYS_close, fd);
	ok();
}

static void check_file(void)
{
	current = "the file";
	int fd = (int)S2(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
	expect_link(fd, "anon_inode:[timerfd]");
	struct stat st;
	expect_eq(S2(SYS_fstat, fd, &st), 0, "fstat");
	expect_eq(st.st_mode, 0600, "st_mode");
	expect_eq(S3(SYS_lseek, fd, 5, SEEK_SET), 0, "lseek");
	S1(SYS_close, fd);
	ok();
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "armed") == 0) {
		settime((int)S2(SYS_timerfd_create, CLOCK_MONOTONIC, 0), 0, 3600L * 1000 * MS, 0);
		settime((int)S2(SYS_timerfd_create, CLOCK_REALTIME, 0), 0, MS, MS);
		out("armed\n");
		return 0;
	}
	start();
	check_create();
	check_errors();
	check_one_shot();
	check_periodic();
	check_absolute();
	check_reset();
	check_file();
	out("all ok\n");
	return 0;
}
