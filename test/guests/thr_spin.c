/* thr_spin: two threads that spin without a system call.
 *   thr_spin parallel: each counts the times it sees the other's counter
 *     move between two of its own reads less than GAP TSC ticks apart, and
 *     both go on until each has seen it MOVES times. Reads that close
 *     leave no room for the thread to have been taken off its CPU, so the
 *     other thread ran at the same time: it ends only when both run at
 *     once (natively on two CPUs, or with tvisor's --cpus 2).
 *   thr_spin turns: ROUNDS round trips of a flag between the two threads,
 *     spinning; it ends however the threads share CPUs (--cpus 1 too).
 * A thread that cannot be made ends it with status 3. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <x86intrin.h>

#define GAP 100000
#define MOVES 1000
#define ROUNDS 20

static atomic_long counter[2];
static atomic_int seen_enough[2];
static atomic_int flag;

static void *parallel(void *arg)
{
	long me = (long)arg, other = !me;
	long last = atomic_load(&counter[other]);
	unsigned long long t = __rdtsc();
	int moves = 0;
	while (!atomic_load(&seen_enough[other]) || moves < MOVES) {
		atomic_fetch_add(&counter[me], 1);
		long now = atomic_load(&counter[other]);
		unsigned long long t2 = __rdtsc();
		if (now != last && t2 - t < GAP && ++moves == MOVES)
			atomic_store(&seen_enough[me], 1);
		last = now;
		t = t2;
	}
	return NULL;
}

static void *turns(void *arg)
{
	int me = (int)(long)arg;
	for (int i = 0; i < ROUNDS; i++) {
		while (atomic_load(&flag) != me)
			;
		atomic_store(&flag, !me);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int par = argc > 1 && strcmp(argv[1], "parallel") == 0;
	void *(*fn)(void *) = par ? parallel : turns;
	pthread_t a, b;
	int err = pthread_create(&a, NULL, fn, (void *)0L);
	if (err == 0)
		err = pthread_create(&b, NULL, fn, (void *)1L);
	if (err != 0) {
		printf("pthread_create: %s\n", strerror(err));
		return 3;
	}
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	if (par)
		printf("both threads saw the other move %d times while they ran\n", MOVES);
	else
		printf("%d round trips\n", ROUNDS);
	return 0;
}
