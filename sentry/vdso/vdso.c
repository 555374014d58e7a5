/* vdso.c is the vDSO tvisor maps into every program: clock_gettime,
 * gettimeofday, time and getcpu answered inside the program, from the
 * time page the Sentry keeps right (see sentry/vdso/time-page.ts, which
 * owns the layout below). Clocks it does not keep fall back to the real
 * system call. Built position-independent, with no relocations, by
 * scripts/build-stub.sh. */
#include <stdint.h>

struct timespec64 { int64_t tv_sec; int64_t tv_nsec; };
struct timeval64 { int64_t tv_sec; int64_t tv_usec; };

/* TimePage: the time at `tsc_base`, and how to advance it by the TSC:
 * nanoseconds = (tsc - tsc_base) * mult >> 32. A seqlock guards it: seq
 * is odd while the Sentry rewrites it. */
struct time_page {
	volatile uint32_t seq;
	uint32_t enabled;
	uint64_t tsc_base;
	uint64_t mult;
	int64_t mono_sec, mono_nsec;
	int64_t real_sec, real_nsec;
	int64_t boot_sec, boot_nsec;
};

/* vvar is the time page, mapped one page below this image (vdso.lds). */
extern const struct time_page vvar __attribute__((visibility("hidden")));

static long sys2(long nr, long a, long b) {
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b) : "rcx", "r11", "memory");
	return ret;
}

static inline uint64_t rdtsc(void) {
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* read_clock reads one of the kept clocks; it returns 0, or -1 when the
 * clock is not kept here and the system call must answer. */
static int read_clock(int clock, struct timespec64 *ts) {
	const volatile struct time_page *p = &vvar;
	uint32_t seq;
	int64_t sec, nsec;
	do {
		seq = p->seq;
		__asm__ volatile("" ::: "memory");
		if (!p->enabled) return -1;
		switch (clock) {
		case 0: case 5: case 11: /* REALTIME, REALTIME_COARSE, TAI */
			sec = p->real_sec; nsec = p->real_nsec; break;
		case 1: case 4: case 6: /* MONOTONIC, MONOTONIC_RAW, MONOTONIC_COARSE */
			sec = p->mono_sec; nsec = p->mono_nsec; break;
		case 7: /* BOOTTIME */
			sec = p->boot_sec; nsec = p->boot_nsec; break;
		default:
			return -1;
		}
		uint64_t delta = rdtsc() - p->tsc_base;
		nsec += (int64_t)(((unsigned __int128)delta * p->mult) >> 32);
		__asm__ volatile("" ::: "memory");
	} while ((seq & 1) || seq != p->seq);
	ts->tv_sec = sec + nsec / 1000000000;
	ts->tv_nsec = nsec % 1000000000;
	return 0;
}

int __vdso_clock_gettime(int clock, struct timespec64 *ts) {
	if (read_clock(clock, ts) == 0) return 0;
	return (int)sys2(228, clock, (long)ts);
}

int __vdso_gettimeofday(struct timeval64 *tv, void *tz) {
	struct timespec64 ts;
	if (tz || read_clock(0, &ts) != 0) return (int)sys2(96, (long)tv, (long)tz);
	if (tv) {
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000;
	}
	return 0;
}

long __vdso_time(long *t) {
	struct timespec64 ts;
	if (read_clock(0, &ts) != 0) return sys2(201, (long)t, 0);
	if (t) *t = ts.tv_sec;
	return ts.tv_sec;
}

/* getcpu: a task runs on one vCPU, or one traced thread; it reports CPU 0, node 0. */
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused) {
	(void)unused;
	if (cpu) *cpu = 0;
	if (node) *node = 0;
	return 0;
}

int clock_gettime(int, struct timespec64 *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval64 *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
