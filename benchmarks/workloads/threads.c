// threads: 8 threads each add 1 to one shared counter N/8 times, each time
// under one pthread mutex, and the program prints the wall time from the
// first pthread_create to the last join in ms, as a number only (it checks
// the counter reached N). Before each increment a thread works a little on
// its own (WORK rounds of xorshift, a few hundred nanoseconds, folded into
// a checksum under the lock), as threads do between critical sections:
// that part runs in parallel where threads can, and the lock is still
// contended (every lock a thread finds taken is a futex wait).
// Usage: threads [N]   (N defaults to 400000)
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 8
#define WORK 200

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static unsigned long checksum;
static long per_thread;

static void *work(void *arg) {
  unsigned long x = (unsigned long)arg * 2654435761u + 1;
  for (long i = 0; i < per_thread; i++) {
    for (int k = 0; k < WORK; k++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
    pthread_mutex_lock(&lock);
    counter++;
    checksum ^= x;
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 400000;
  per_thread = n / THREADS;
  pthread_t t[THREADS];
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < THREADS; i++) {
    int e = pthread_create(&t[i], NULL, work, (void *)(long)i);
    if (e) {
      fprintf(stderr, "threads: pthread_create: %s\n", strerror(e));
      return 1;
    }
  }
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  if (counter != per_thread * THREADS) {
    fprintf(stderr, "threads: the counter is %ld, expected %ld\n", counter, per_thread * THREADS);
    return 1;
  }
  double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  printf("%.3f\n", s * 1e3);
  return 0;
}
