/* clock.c reads the clocks through libc, which uses the vDSO when the
 * kernel offers one. It prints CLOCK_REALTIME and CLOCK_MONOTONIC in
 * nanoseconds, gettimeofday and time, then checks that 100,000 readings
 * of CLOCK_MONOTONIC never go back and that the four clocks agree. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static long long ns(clockid_t c) {
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void) {
	long long real = ns(CLOCK_REALTIME), mono = ns(CLOCK_MONOTONIC);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	long long tod = tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
	long long t = (long long)time(NULL) * 1000000000LL;
	printf("realtime %lld\nmonotonic %lld\n", real, mono);
	printf("gettimeofday agrees: %s\n", tod >= real - 1000 && tod - real < 50000000 ? "yes" : "no");
	printf("time agrees: %s\n", t <= tod && tod - t < 1000000000LL ? "yes" : "no");
	long long prev = ns(CLOCK_MONOTONIC);
	int back = 0;
	for (int i = 0; i < 100000; i++) {
		long long now = ns(CLOCK_MONOTONIC);
		if (now < prev) back++;
		prev = now;
	}
	printf("monotonic went back: %d times\n", back);
	return 0;
}
