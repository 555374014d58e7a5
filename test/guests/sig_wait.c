/* sig_wait: masks, pending signals, waiting for signals, timers and the
 * restart of interrupted calls, checked the same way natively and in the
 * sandbox (raw system calls, so that libc changes nothing):
 *   - a blocked signal stays pending (rt_sigpending shows it) and is
 *     delivered when unblocked; a blocked signal is queued even when its
 *     action ignores it, and dropped when the action is set to SIG_IGN;
 *   - rt_sigsuspend runs the handler with its mask and puts the old back;
 *   - rt_sigtimedwait: a pending signal at once with its siginfo, EAGAIN
 *     after the timeout, EINTR for another signal; standard signals are
 *     pending once, realtime ones queued in order with their values;
 *   - rt_sigqueueinfo: SI_QUEUE with si_value, EPERM for a kernel si_code
 *     sent to another process, ESRCH, EINVAL;
 *   - alarm, setitimer and getitimer (ITIMER_REAL): values, rounding,
 *     errors, pause interrupted by SIGALRM, a program that spins without
 *     a system call interrupted by it, a periodic timer;
 *   - restarts: nanosleep fails with EINTR and the time left, even with
 *     SA_RESTART; an untimed FUTEX_WAIT is restarted with SA_RESTART (the
 *     handler changes the word, so the restarted call fails with EAGAIN)
 *     and fails with EINTR without; a timed one and poll fail with EINTR.
 * Each check prints "ok NAME" or "FAIL: NAME: ..." and exits 1. */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "guest.h"

#define BIT(sig) (1ULL << ((sig) - 1))
/* RT is a realtime signal number that neither musl nor glibc reserves. */
#define RT 40
#define X_FUTEX_WAIT 0

struct kitimerval {
	long interval_sec, interval_usec, value_sec, value_usec;
};

static volatile int hits, last_sig, last_code, last_value;
static volatile uint64_t mask_inside;
static volatile int futex_word;

static uint64_t blocked_now(void)
{
	uint64_t m = 0;
	S4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
	return m;
}

static void set_mask(uint64_t m)
{
	S4(SYS_rt_sigprocmask, SIG_SETMASK, &m, NULL, 8);
}

static uint64_t pending_now(void)
{
	uint64_t p = 0;
	S2(SYS_rt_sigpending, &p, 8);
	return p;
}

static void handler(int sig, siginfo_t *si, void *uc)
{
	hits++;
	last_sig = sig;
	last_code = si->si_code;
	last_value = si->si_value.sival_int;
	mask_inside = blocked_now();
	futex_word = 1;
}

static void handle(int sig, int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | flags;
	sigaction(sig, &sa, NULL);
}

static void ignore(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(sig, &sa, NULL);
}

/* arm sets ITIMER_REAL to fire once after ms milliseconds. */
static void arm(long ms)
{
	struct kitimerval it = { 0, 0, ms / 1000, (ms % 1000) * 1000 };
	expect_eq(S3(SYS_setitimer, ITIMER_REAL, &it, NULL), 0, "setitimer");
}

static long queue(long pid, int sig, int code, int value)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = sig;
	si.si_code = code;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = value;
	return S3(SYS_rt_sigqueueinfo, pid, sig, &si);
}

static long timedwait(uint64_t set, siginfo_t *si, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	return S4(SYS_rt_sigtimedwait, &set, si, ms < 0 ? NULL : &ts, 8);
}

/* futex_wait waits while futex_word is 0; one call site, made again and again. */
__attribute__((noinline)) static long futex_wait(const struct timespec *ts)
{
	return S6(SYS_futex, &futex_word, X_FUTEX_WAIT, 0, ts, NULL, 0);
}

int main(void)
{
	long pid = getpid();

	current = "blocked signals stay pending";
	handle(SIGUSR1, 0);
	set_mask(BIT(SIGUSR1));
	S2(SYS_kill, pid, SIGUSR1);
	CHECK(hits == 0, "delivered while blocked");
	CHECK(pending_now() == BIT(SIGUSR1), "pending 0x%llx", (unsigned long long)pending_now());
	set_mask(0);
	CHECK(hits == 1 && last_sig == SIGUSR1 && last_code == SI_USER, "not delivered at the unblock (hits %d)", hits);
	CHECK(pending_now() == 0, "still pending 0x%llx", (unsigned long long)pending_now());
	/* A blocked signal is queued even when ignored, and dropped when SIG_IGN is set again. */
	ignore(SIGUSR2);
	set_mask(BIT(SIGUSR2));
	S2(SYS_kill, pid, SIGUSR2);
	CHECK(pending_now() == BIT(SIGUSR2), "ignored but blocked: pending 0x%llx", (unsigned long long)pending_now());
	ignore(SIGUSR2);
	CHECK(pending_now() == 0, "SIG_IGN did not drop it");
	set_mask(0);
	ok();

	current = "rt_sigsuspend";
	hits = 0;
	set_mask(BIT(SIGUSR1) | BIT(SIGUSR2));
	S2(SYS_kill, pid, SIGUSR1);
	uint64_t wait_mask = BIT(SIGUSR2);
	expect_err(S2(SYS_rt_sigsuspend, &wait_mask, 8), EINTR, "rt_sigsuspend");
	CHECK(hits == 1 && mask_inside == (BIT(SIGUSR1) | BIT(SIGUSR2)), "hits %d, mask in the handler 0x%llx", hits,
	      (unsigned long long)mask_inside);
	CHECK(blocked_now() == (BIT(SIGUSR1) | BIT(SIGUSR2)), "mask after 0x%llx", (unsigned long long)blocked_now());
	expect_err(S2(SYS_rt_sigsuspend, &wait_mask, 4), EINVAL, "sigsetsize 4");
	set_mask(0);
	ok();

	current = "rt_sigtimedwait";
	{
		siginfo_t si;
		handle(SIGUSR2, 0);
		handle(RT, 0);
		set_mask(BIT(SIGUSR2) | BIT(RT));
		S3(SYS_tgkill, pid, S0(SYS_gettid), SIGUSR2);
		memset(&si, 0, sizeof si);
		expect_eq(timedwait(BIT(SIGUSR2), &si, 0), SIGUSR2, "pending SIGUSR2");
		CHECK(si.si_signo == SIGUSR2 && si.si_code == SI_TKILL && si.si_pid == pid, "siginfo %d %d %d", si.si_signo,
		      si.si_code, si.si_pid);
		expect_err(timedwait(BIT(SIGUSR2), &si, 0), EAGAIN, "nothing pending, no wait");
		int64_t t0 = mono_ns();
		expect_err(timedwait(BIT(SIGUSR2), &si, 20), EAGAIN, "20 ms");
		CHECK(mono_ns() - t0 >= 20000000, "timed out after %lld ns", (long long)(mono_ns() - t0));
		/* A standard signal is pending once; realtime ones queue in order. */
		S2(SYS_kill, pid, SIGUSR2);
		S2(SYS_kill, pid, SIGUSR2);
		for (int v = 1; v <= 3; v++)
			expect_eq(queue(pid, RT, SI_QUEUE, v), 0, "rt_sigqueueinfo");
		CHECK(pending_now() == (BIT(SIGUSR2) | BIT(RT)), "pending 0x%llx", (unsigned long long)pending_now());
		expect_eq(timedwait(BIT(SIGUSR2) | BIT(RT), &si, 0), SIGUSR2, "first: the lower signal");
		for (int v = 1; v <= 3; v++) {
			expect_eq(timedwait(BIT(SIGUSR2) | BIT(RT), &si, 0), RT, "the realtime signal");
			CHECK(si.si_code == SI_QUEUE && si.si_value.sival_int == v, "value %d, expected %d", si.si_value.sival_int, v);
		}
		expect_err(timedwait(BIT(SIGUSR2) | BIT(RT), &si, 0), EAGAIN, "the second SIGUSR2 was merged");
		/* Another signal interrupts the wait. */
		handle(SIGALRM, SA_RESTART);
		hits = 0;
		arm(20);
		expect_err(timedwait(BIT(SIGUSR2), &si, 2000), EINTR, "SIGALRM during the wait");
		CHECK(hits == 1 && last_sig == SIGALRM && last_code == SI_KERNEL, "hits %d sig %d code %d", hits, last_sig,
		      last_code);
		struct timespec bad = { 0, 1000000000 };
		uint64_t set = BIT(SIGUSR2);
		expect_err(S4(SYS_rt_sigtimedwait, &set, &si, &bad, 8), EINVAL, "tv_nsec 1e9");
		expect_err(S4(SYS_rt_sigtimedwait, &set, &si, NULL, 4), EINVAL, "sigsetsize 4");
		set_mask(0);
	}
	ok();

	current = "rt_sigqueueinfo";
	hits = 0;
	expect_eq(queue(pid, SIGUSR1, SI_QUEUE, 77), 0, "SI_QUEUE to itself");
	CHECK(hits == 1 && last_code == SI_QUEUE && last_value == 77, "hits %d code %d value %d", hits, last_code, last_value);
	expect_eq(queue(pid, SIGUSR1, SI_USER, 78), 0, "SI_USER to itself");
	CHECK(hits == 2 && last_code == SI_USER, "code %d", last_code);
	expect_err(queue(0x3ffffff, SIGUSR1, SI_USER, 0), EPERM, "SI_USER to another pid");
	expect_err(queue(0x3ffffff, SIGUSR1, SI_TKILL, 0), EPERM, "SI_TKILL to another pid");
	expect_err(queue(0x3ffffff, SIGUSR1, SI_QUEUE, 0), ESRCH, "SI_QUEUE to no process");
	expect_err(queue(pid, 65, SI_QUEUE, 0), EINVAL, "signal 65");
	expect_eq(queue(pid, 0, SI_QUEUE, 0), 0, "signal 0");
	ok();

	current = "alarm";
	expect_eq(S1(SYS_alarm, 5), 0, "alarm(5)");
	expect_eq(S1(SYS_alarm, 0), 5, "alarm(0) after alarm(5)");
	expect_eq(S1(SYS_alarm, 0), 0, "alarm(0) again");
	ok();

	current = "setitimer and getitimer";
	{
		struct kitimerval it = { 1, 0, 10, 0 }, old, cur;
		expect_eq(S3(SYS_setitimer, ITIMER_REAL, &it, NULL), 0, "set 10 s every 1 s");
		expect_eq(S2(SYS_getitimer, ITIMER_REAL, &cur), 0, "get");
		long left = cur.value_sec * 1000000 + cur.value_usec;
		CHECK(left > 9000000 && left <= 10000000 && cur.interval_sec == 1 && cur.interval_usec == 0,
		      "value %ld us, interval %ld.%06ld", left, cur.interval_sec, cur.interval_usec);
		memset(&old, 0x55, sizeof old);
		expect_eq(S3(SYS_setitimer, ITIMER_REAL, NULL, &old), 0, "disarm with a null value");
		CHECK(old.interval_sec == 1 && old.value_sec <= 10 && old.value_sec >= 9, "old %ld %ld", old.interval_sec,
		      old.value_sec);
		expect_eq(S2(SYS_getitimer, ITIMER_REAL, &cur), 0, "get disarmed");
		CHECK(cur.value_sec == 0 && cur.value_usec == 0 && cur.interval_sec == 0, "not disarmed");
		struct kitimerval bad = { 0, 0, 0, 1000000 };
		expect_err(S3(SYS_setitimer, ITIMER_REAL, &bad, NULL), EINVAL, "tv_usec 1e6");
		expect_err(S3(SYS_setitimer, 5, &it, NULL), EINVAL, "which 5");
		expect_err(S2(SYS_getitimer, 5, &cur), EINVAL, "getitimer which 5");
	}
	ok();

	current = "pause and SIGALRM";
	{
		handle(SIGALRM, 0);
		hits = 0;
		int64_t t0 = mono_ns();
		arm(30);
		expect_err(S0(SYS_pause), EINTR, "pause");
		CHECK(hits == 1 && last_sig == SIGALRM, "hits %d", hits);
		CHECK(mono_ns() - t0 >= 30000000, "woke after %lld ns", (long long)(mono_ns() - t0));
	}
	ok();

	current = "SIGALRM reaches a spinning program";
	hits = 0;
	arm(20);
	while (!hits)
		;
	ok();

	current = "periodic itimer";
	{
		hits = 0;
		int64_t t0 = mono_ns();
		struct kitimerval it = { 0, 10000, 0, 10000 }, off = { 0, 0, 0, 0 };
		expect_eq(S3(SYS_setitimer, ITIMER_REAL, &it, NULL), 0, "every 10 ms");
		uint64_t none = 0;
		while (hits < 3)
			S2(SYS_rt_sigsuspend, &none, 8);
		S3(SYS_setitimer, ITIMER_REAL, &off, NULL);
		CHECK(mono_ns() - t0 >= 30000000, "three alarms in %lld ns", (long long)(mono_ns() - t0));
	}
	ok();

	current = "nanosleep interrupted";
	for (int flags = 0; flags <= SA_RESTART; flags += SA_RESTART) {
		handle(SIGALRM, flags);
		arm(20);
		struct timespec req = { 1, 0 }, rem = { -1, -1 };
		expect_err(S2(SYS_nanosleep, &req, &rem), EINTR, flags ? "nanosleep, SA_RESTART" : "nanosleep");
		CHECK(rem.tv_sec == 0 && rem.tv_nsec > 500000000 && rem.tv_nsec < 1000000000, "rem %ld.%09ld", (long)rem.tv_sec,
		      rem.tv_nsec);
	}
	ok();

	current = "SA_RESTART";
	for (int i = 0; i < 3; i++) {
		handle(SIGALRM, SA_RESTART);
		futex_word = 0;
		arm(10);
		expect_err(futex_wait(NULL), EAGAIN, "untimed FUTEX_WAIT restarted after the handler changed the word");
		handle(SIGALRM, 0);
		futex_word = 0;
		arm(10);
		expect_err(futex_wait(NULL), EINTR, "untimed FUTEX_WAIT without SA_RESTART");
		handle(SIGALRM, SA_RESTART);
		futex_word = 0;
		arm(10);
		struct timespec ts = { 2, 0 };
		expect_err(futex_wait(&ts), EINTR, "timed FUTEX_WAIT, SA_RESTART");
		arm(10);
		expect_err(S3(SYS_poll, NULL, 0, 2000), EINTR, "poll, SA_RESTART");
	}
	ok();

	out("all ok\n");
	return 0;
}
