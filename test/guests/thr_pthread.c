/* POSIX threads through libc (built with musl, and with glibc static and
 * dynamic): thread creation and join with return values and pthread_exit;
 * getpid shared and gettid distinct; a counter that 8 threads increment
 * under a mutex to an exact total; normal, recursive and errorcheck mutexes
 * (EBUSY, EDEADLK, EPERM); condition variables (signal in a ping-pong,
 * broadcast to 8 waiters, timedwait giving ETIMEDOUT on both clocks);
 * barriers with one serial thread a round; pthread_once; a read-write
 * lock; __thread variables (their initial image, and distinct per thread)
 * and pthread_key_create destructors; cancellation of a thread blocked in
 * read on an empty pipe and of one in pthread_cond_wait (joined with
 * PTHREAD_CANCELED, cleanup handlers run, the mutex re-taken), and a
 * cancel held back while disabled; pthread_kill delivering a signal to one
 * thread after another (the handler runs in that thread); detached threads.
 * Every thread reports through memory; only the main thread prints, after
 * joining, so the output never depends on scheduling. Times are only ever
 * checked from below. Prints "ok NAME" per check, then "all ok"; on the
 * first failure prints "FAIL: NAME: details" and exits 1. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"
#include "thr.h"

#define THREADS 8
#define MS 1000000L

static pthread_t tids[THREADS];

/* start starts THREADS threads running fn, each given its index. */
static void start(void *(*fn)(void *))
{
	for (long i = 0; i < THREADS; i++)
		create(&tids[i], 0, fn, (void *)i);
}

/* join_all joins the THREADS threads and expects each to return want(i). */
static void join_all(long (*want)(long))
{
	for (long i = 0; i < THREADS; i++) {
		void *ret;
		int e = pthread_join(tids[i], &ret);
		if (e)
			fail("pthread_join %ld: %s", i, errname(-e));
		if ((long)ret != want(i))
			fail("thread %ld returned %ld, expected %ld", i, (long)ret, want(i));
	}
}

static long zero(long i) { (void)i; return 0; }

/* ---- create, join, pthread_exit ---- */

static long square_plus_one(long i) { return i * i + 1; }

static __attribute__((noreturn)) void exit_deep(long i)
{
	pthread_exit((void *)square_plus_one(i));
}

/* Even threads return their value, odd ones leave through pthread_exit from a nested call. */
static void *returner(void *arg)
{
	long i = (long)arg;
	if (i & 1)
		exit_deep(i);
	return (void *)square_plus_one(i);
}

static void check_join(void)
{
	current = "join returns each thread's value";
	start(returner);
	join_all(square_plus_one);
	ok();
}

static long thread_pid[THREADS], thread_tid[THREADS];

static void *ids(void *arg)
{
	long i = (long)arg;
	thread_pid[i] = S0(SYS_getpid);
	thread_tid[i] = S0(SYS_gettid);
	return 0;
}

static void check_ids(void)
{
	current = "threads share the pid, each has its own tid";
	long pid = S0(SYS_getpid);
	expect_eq(S0(SYS_gettid), pid, "the main thread's tid");
	start(ids);
	join_all(zero);
	for (int i = 0; i < THREADS; i++) {
		expect_eq(thread_pid[i], pid, "a thread's getpid");
		CHECK(thread_tid[i] > 0 && thread_tid[i] != pid, "thread %d has tid %ld (pid %ld)", i, thread_tid[i], pid);
		for (int j = 0; j < i; j++)
			CHECK(thread_tid[i] != thread_tid[j], "threads %d and %d share tid %ld", i, j, thread_tid[i]);
	}
	ok();
}

/* ---- a counter under a mutex ---- */

#define INCREMENTS 20000
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile long counter;

static void *incrementer(void *arg)
{
	(void)arg;
	for (int n = 0; n < INCREMENTS; n++) {
		lock(&counter_lock);
		long v = counter;
		if ((n & 255) == 0)
			sched_yield(); /* held across a yield now and then, so others wait on it */
		counter = v + 1;
		unlock(&counter_lock);
	}
	return 0;
}

static void check_counter(void)
{
	current = "8 threads count to 160000 under a mutex";
	start(incrementer);
	join_all(zero);
	expect_eq(counter, THREADS * INCREMENTS, "the counter");
	ok();
}

/* ---- mutex kinds ---- */

static pthread_mutex_t kinds[3];
static int other_result[3][2];

/* other_thread tries each kind of mutex from a second thread while main holds it. */
static void *other_thread(void *arg)
{
	(void)arg;
	for (int k = 0; k < 3; k++) {
		other_result[k][0] = pthread_mutex_trylock(&kinds[k]);
		other_result[k][1] = k == PTHREAD_MUTEX_ERRORCHECK ? pthread_mutex_unlock(&kinds[k]) : 0;
	}
	return 0;
}

static void init_kind(pthread_mutex_t *m, int kind)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	int e = pthread_mutexattr_settype(&a, kind);
	if (e)
		fail("pthread_mutexattr_settype %d: %s", kind, errname(-e));
	e = pthread_mutex_init(m, &a);
	if (e)
		fail("pthread_mutex_init %d: %s", kind, errname(-e));
	pthread_mutexattr_destroy(&a);
}

static void check_mutex_kinds(void)
{
	current = "mutex kinds: normal, recursive, errorcheck";
	CHECK(PTHREAD_MUTEX_NORMAL == 0 && PTHREAD_MUTEX_RECURSIVE == 1 && PTHREAD_MUTEX_ERRORCHECK == 2, "the kinds' values");
	for (int k = 0; k < 3; k++)
		init_kind(&kinds[k], k);

	lock(&kinds[PTHREAD_MUTEX_NORMAL]);
	expect_err(-pthread_mutex_trylock(&kinds[PTHREAD_MUTEX_NORMAL]), EBUSY, "trylock of a held normal mutex");

	for (int n = 0; n < 3; n++)
		lock(&kinds[PTHREAD_MUTEX_RECURSIVE]);
	expect_eq(pthread_mutex_trylock(&kinds[PTHREAD_MUTEX_RECURSIVE]), 0, "trylock of a recursive mutex its owner holds");

	lock(&kinds[PTHREAD_MUTEX_ERRORCHECK]);
	expect_err(-pthread_mutex_lock(&kinds[PTHREAD_MUTEX_ERRORCHECK]), EDEADLK, "second lock of an errorcheck mutex");

	pthread_t t;
	create(&t, 0, other_thread, 0);
	expect_eq(pthread_join(t, 0), 0, "pthread_join");
	for (int k = 0; k < 3; k++)
		expect_err(-other_result[k][0], EBUSY, "trylock from another thread");
	expect_err(-other_result[PTHREAD_MUTEX_ERRORCHECK][1], EPERM, "unlock of an errorcheck mutex by another thread");

	unlock(&kinds[PTHREAD_MUTEX_NORMAL]);
	for (int n = 0; n < 4; n++)
		unlock(&kinds[PTHREAD_MUTEX_RECURSIVE]);
	unlock(&kinds[PTHREAD_MUTEX_ERRORCHECK]);
	expect_err(-pthread_mutex_unlock(&kinds[PTHREAD_MUTEX_ERRORCHECK]), EPERM, "unlock of an unlocked errorcheck mutex");
	expect_err(-pthread_mutex_unlock(&kinds[PTHREAD_MUTEX_RECURSIVE]), EPERM, "unlock of an unlocked recursive mutex");
	for (int k = 0; k < 3; k++) {
		expect_eq(pthread_mutex_trylock(&kinds[k]), 0, "trylock once released");
		unlock(&kinds[k]);
		expect_eq(pthread_mutex_destroy(&kinds[k]), 0, "pthread_mutex_destroy");
	}
	ok();
}

/* ---- condition variables ---- */

static pthread_mutex_t cv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t cv_back = PTHREAD_COND_INITIALIZER;
static long turn, waiting, released;

#define ROUNDS 1000

/* ponger answers each odd turn with the next even one. */
static void *ponger(void *arg)
{
	(void)arg;
	lock(&cv_lock);
	for (long r = 0; r < ROUNDS; r++) {
		while (turn != 2 * r + 1)
			pthread_cond_wait(&cv, &cv_lock);
		turn++;
		pthread_cond_signal(&cv_back);
	}
	unlock(&cv_lock);
	return 0;
}

static void check_cond_signal(void)
{
	current = "pthread_cond_signal: 1000 rounds of ping-pong";
	pthread_t t;
	create(&t, 0, ponger, 0);
	lock(&cv_lock);
	for (long r = 0; r < ROUNDS; r++) {
		turn++;
		pthread_cond_signal(&cv);
		while (turn != 2 * r + 2)
			pthread_cond_wait(&cv_back, &cv_lock);
	}
	unlock(&cv_lock);
	expect_eq(pthread_join(t, 0), 0, "pthread_join");
	expect_eq(turn, 2 * ROUNDS, "the turns");
	ok();
}

/* broadcast_waiter says it waits, then waits until released. */
static void *broadcast_waiter(void *arg)
{
	lock(&cv_lock);
	waiting++;
	pthread_cond_signal(&cv_back);
	while (!released)
		pthread_cond_wait(&cv, &cv_lock);
	waiting--;
	unlock(&cv_lock);
	return arg;
}

static long self_index(long i) { return i; }

static void check_cond_broadcast(void)
{
	current = "pthread_cond_broadcast wakes 8 waiters";
	start(broadcast_waiter);
	lock(&cv_lock);
	/* Once main holds the lock and counts 8, all 8 are inside pthread_cond_wait. */
	while (waiting != THREADS)
		pthread_cond_wait(&cv_back, &cv_lock);
	released = 1;
	pthread_cond_broadcast(&cv);
	unlock(&cv_lock);
	join_all(self_index);
	expect_eq(waiting, 0, "threads still waiting");
	ok();
}

/* timed_wait waits on a fresh condition variable on clock until 50 ms from now. */
static void timed_wait(clockid_t clock)
{
	pthread_condattr_t a;
	pthread_cond_t c;
	pthread_condattr_init(&a);
	expect_eq(pthread_condattr_setclock(&a, clock), 0, "pthread_condattr_setclock");
	expect_eq(pthread_cond_init(&c, &a), 0, "pthread_cond_init");
	struct timespec deadline;
	clock_gettime(clock, &deadline);
	deadline.tv_nsec += 50 * MS;
	if (deadline.tv_nsec >= 1000 * MS) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000 * MS;
	}
	long before = now_ns();
	lock(&cv_lock);
	int e;
	do
		e = pthread_cond_timedwait(&c, &cv_lock, &deadline);
	while (e == 0);
	unlock(&cv_lock);
	long waited = now_ns() - before;
	expect_err(-e, ETIMEDOUT, "pthread_cond_timedwait");
	CHECK(waited >= 45 * MS, "the wait lasted %ld ms, expected at least 45", waited / MS);
	pthread_cond_destroy(&c);
	pthread_condattr_destroy(&a);
}

static void check_cond_timedwait(void)
{
	current = "pthread_cond_timedwait times out: ETIMEDOUT";
	timed_wait(CLOCK_REALTIME);
	timed_wait(CLOCK_MONOTONIC);
	ok();
}

/* ---- barriers and pthread_once ---- */

#define PHASES 4
static pthread_barrier_t barrier;
static long marks[PHASES][THREADS];
static volatile long serial_count[PHASES];
static int phase_bad[THREADS];

/* phaser marks its slot each phase, and once past the barrier checks that every thread marked it. */
static void *phaser(void *arg)
{
	long i = (long)arg;
	for (int p = 0; p < PHASES; p++) {
		marks[p][i] = p * 100 + i + 1;
		int r = pthread_barrier_wait(&barrier);
		if (r == PTHREAD_BARRIER_SERIAL_THREAD)
			__atomic_fetch_add(&serial_count[p], 1, __ATOMIC_SEQ_CST);
		else if (r != 0)
			phase_bad[i] = 1000 + r;
		for (int j = 0; j < THREADS; j++)
			if (marks[p][j] != p * 100 + j + 1)
				phase_bad[i] = p + 1;
	}
	return 0;
}

static void check_barrier(void)
{
	current = "pthread_barrier_wait: 4 phases of 8, one serial thread each";
	expect_eq(pthread_barrier_init(&barrier, 0, THREADS), 0, "pthread_barrier_init");
	start(phaser);
	join_all(zero);
	for (int i = 0; i < THREADS; i++)
		CHECK(phase_bad[i] == 0, "thread %d saw phase %d incomplete", i, phase_bad[i]);
	for (int p = 0; p < PHASES; p++)
		expect_eq(serial_count[p], 1, "serial threads in a phase");
	expect_eq(pthread_barrier_destroy(&barrier), 0, "pthread_barrier_destroy");
	ok();
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static volatile long once_runs;

static void once_init(void)
{
	__atomic_fetch_add(&once_runs, 1, __ATOMIC_SEQ_CST);
	sched_yield();
}

static void *once_caller(void *arg)
{
	(void)arg;
	pthread_once(&once, once_init);
	return (void *)once_runs;
}

static long one(long i) { (void)i; return 1; }

static void check_once(void)
{
	current = "pthread_once runs its routine once for 8 threads";
	start(once_caller);
	join_all(one);
	expect_eq(once_runs, 1, "runs");
	ok();
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static int rw_try[2];

static void *rw_other(void *arg)
{
	(void)arg;
	rw_try[0] = pthread_rwlock_tryrdlock(&rw);
	if (rw_try[0] == 0)
		pthread_rwlock_unlock(&rw);
	rw_try[1] = pthread_rwlock_trywrlock(&rw);
	return 0;
}

static void check_rwlock(void)
{
	current = "pthread_rwlock: readers share, a writer waits";
	pthread_t t;
	expect_eq(pthread_rwlock_rdlock(&rw), 0, "rdlock");
	create(&t, 0, rw_other, 0);
	expect_eq(pthread_join(t, 0), 0, "pthread_join");
	expect_eq(rw_try[0], 0, "tryrdlock while read-locked");
	expect_err(-rw_try[1], EBUSY, "trywrlock while read-locked");
	expect_eq(pthread_rwlock_unlock(&rw), 0, "unlock");
	expect_eq(pthread_rwlock_wrlock(&rw), 0, "wrlock");
	create(&t, 0, rw_other, 0);
	expect_eq(pthread_join(t, 0), 0, "pthread_join");
	expect_err(-rw_try[0], EBUSY, "tryrdlock while write-locked");
	expect_err(-rw_try[1], EBUSY, "trywrlock while write-locked");
	expect_eq(pthread_rwlock_unlock(&rw), 0, "unlock");
	ok();
}

/* ---- thread-local storage ---- */

static __thread long tls_value = 7;    /* .tdata: every thread starts from the image */
static __thread long tls_zero;         /* .tbss: every thread starts from zero */
static long tls_seen[THREADS][3];
static uintptr_t tls_addr[THREADS];

static void *tls_user(void *arg)
{
	long i = (long)arg;
	tls_seen[i][0] = tls_value;
	tls_seen[i][1] = tls_zero;
	tls_value = 1000 + i;
	tls_zero = 2000 + i;
	tls_addr[i] = (uintptr_t)&tls_value;
	/* All 8 have written their own values before any reads them back. */
	pthread_barrier_wait(&barrier);
	tls_seen[i][2] = tls_value + tls_zero;
	return 0;
}

static void check_tls(void)
{
	current = "__thread variables are distinct per thread";
	tls_value = 99;
	tls_zero = 98;
	expect_eq(pthread_barrier_init(&barrier, 0, THREADS), 0, "pthread_barrier_init");
	start(tls_user);
	join_all(zero);
	pthread_barrier_destroy(&barrier);
	for (int i = 0; i < THREADS; i++) {
		expect_eq(tls_seen[i][0], 7, "a new thread's initialized __thread");
		expect_eq(tls_seen[i][1], 0, "a new thread's zeroed __thread");
		expect_eq(tls_seen[i][2], 3000 + 2 * i, "a thread's own values after the others wrote theirs");
		CHECK(tls_addr[i] != (uintptr_t)&tls_value, "thread %d shares main's __thread address", i);
		for (int j = 0; j < i; j++)
			CHECK(tls_addr[i] != tls_addr[j], "threads %d and %d share a __thread address", i, j);
	}
	expect_eq(tls_value, 99, "main's own __thread");
	expect_eq(tls_zero, 98, "main's own zeroed __thread");
	ok();
}

static pthread_key_t key;
static long destroyed[THREADS];
static long slots[THREADS];

/* destructor counts the calls for each thread's slot (main's value is never destroyed). */
static void destructor(void *value)
{
	long i = (long *)value - slots;
	if (i >= 0 && i < THREADS)
		__atomic_fetch_add(&destroyed[i], 1, __ATOMIC_SEQ_CST);
}

static void *key_user(void *arg)
{
	long i = (long)arg;
	if (pthread_getspecific(key) != 0)
		return (void *)-1L;
	if (pthread_setspecific(key, &slots[i]) != 0)
		return (void *)-2L;
	return pthread_getspecific(key) == &slots[i] ? 0 : (void *)-3L;
}

static void check_key_destructors(void)
{
	current = "pthread_key_create: each thread's value, destructors at exit";
	expect_eq(pthread_key_create(&key, destructor), 0, "pthread_key_create");
	static long main_slot;
	expect_eq(pthread_setspecific(key, &main_slot), 0, "main's pthread_setspecific");
	start(key_user);
	join_all(zero);
	for (int i = 0; i < THREADS; i++)
		expect_eq(destroyed[i], 1, "destructor calls for a thread's value");
	CHECK(pthread_getspecific(key) == &main_slot, "main's value changed");
	expect_eq(pthread_key_delete(key), 0, "pthread_key_delete");
	ok();
}

/* ---- cancellation ---- */

static int cancel_pipe[2];
static volatile int cleanups;
static pthread_mutex_t cancel_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static sem_t blocked;

static void cleanup_count(void *arg)
{
	cleanups += (int)(long)arg;
}

static void cleanup_unlock(void *arg)
{
	cleanups += 100;
	pthread_mutex_unlock(arg);
}

/* reader blocks reading an empty pipe, with two cleanup handlers pushed. */
static void *reader(void *arg)
{
	char c;
	pthread_cleanup_push(cleanup_count, (void *)1);
	pthread_cleanup_push(cleanup_count, (void *)10);
	sem_post(&blocked);
	read(cancel_pipe[0], &c, 1);
	pthread_cleanup_pop(0);
	pthread_cleanup_pop(0);
	return arg;
}

/* cond_waiter waits on a condition nobody signals. */
static void *cond_waiter(void *arg)
{
	lock(&cancel_lock);
	pthread_cleanup_push(cleanup_unlock, &cancel_lock);
	sem_post(&blocked);
	for (;;)
		pthread_cond_wait(&never, &cancel_lock);
	pthread_cleanup_pop(1);
	return arg;
}

static void expect_canceled(pthread_t t, const char *what)
{
	void *ret = 0;
	expect_eq(pthread_join(t, &ret), 0, "pthread_join");
	CHECK(ret == PTHREAD_CANCELED, "%s: joined with %p, expected PTHREAD_CANCELED", what, ret);
}

/* cancel_blocked starts fn, waits until it is about to block, cancels it
 * and expects it to end canceled. */
static void cancel_blocked(void *(*fn)(void *), const char *what)
{
	pthread_t t;
	create(&t, 0, fn, 0);
	sem_wait(&blocked);
	/* Most likely blocked by now; had the cancel come before the call that
	 * blocks, that call would act on it at its start, with the same outcome. */
	sleep_ms(20);
	expect_eq(pthread_cancel(t), 0, "pthread_cancel");
	expect_canceled(t, what);
}

static void check_cancel(void)
{
	current = "pthread_cancel of a thread blocked in read";
	pipe_ok(cancel_pipe, 0);
	sem_init(&blocked, 0, 0);
	cancel_blocked(reader, "the reader");
	expect_eq(cleanups, 11, "cleanup handlers run");
	ok();

	current = "pthread_cancel of a thread in pthread_cond_wait";
	cleanups = 0;
	cancel_blocked(cond_waiter, "the waiter");
	expect_eq(cleanups, 100, "the cleanup handler run");
	expect_eq(pthread_mutex_trylock(&cancel_lock), 0, "trylock of the mutex the handler released");
	unlock(&cancel_lock);
	ok();
}

static volatile int disabled_steps;

/* unwilling disables cancellation, passes a cancellation point while a
 * cancel is pending, then enables it and is canceled by pthread_testcancel. */
static void *unwilling(void *arg)
{
	int old;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	sem_post(&blocked);
	char c;
	read(cancel_pipe[0], &c, 1); /* main writes a byte after the cancel */
	disabled_steps = c;
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
	pthread_testcancel();
	disabled_steps = -1;
	return arg;
}

static void check_cancel_disabled(void)
{
	current = "a cancel waits while cancellation is disabled";
	pthread_t t;
	create(&t, 0, unwilling, 0);
	sem_wait(&blocked);
	expect_eq(pthread_cancel(t), 0, "pthread_cancel");
	put(cancel_pipe[1], 5);
	expect_canceled(t, "the thread");
	expect_eq(disabled_steps, 5, "what the thread read before its cancel");
	ok();
}

/* ---- pthread_kill ---- */

static pthread_t handled_in[THREADS + 1];
static volatile int handled_count;
static sem_t handled;
static pthread_mutex_t park_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t park = PTHREAD_COND_INITIALIZER;
static int unparked;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	int n = __atomic_fetch_add(&handled_count, 1, __ATOMIC_SEQ_CST);
	int right = si->si_code == SI_TKILL && si->si_pid == getpid();
	if (n <= THREADS)
		handled_in[n] = right ? pthread_self() : 0;
	sem_post(&handled);
}

/* parked waits until main unparks it; signals interrupt the wait, which goes on. */
static void *parked(void *arg)
{
	lock(&park_lock);
	while (!unparked)
		pthread_cond_wait(&park, &park_lock);
	unlock(&park_lock);
	return arg;
}

static void check_pthread_kill(void)
{
	current = "pthread_kill runs the handler in the thread named";
	sem_init(&handled, 0, 0);
	on(SIGUSR1, on_usr1, SA_RESTART);
	start(parked);
	/* Out of order, so the first thread to run is not always the one named. */
	static const int order[THREADS] = {5, 2, 7, 0, 3, 6, 1, 4};
	for (int n = 0; n < THREADS; n++) {
		expect_eq(pthread_kill(tids[order[n]], SIGUSR1), 0, "pthread_kill");
		while (sem_wait(&handled) != 0)
			;
		CHECK(pthread_equal(handled_in[n], tids[order[n]]), "signal %d for thread %d ran in another thread (or with the wrong siginfo)", n, order[n]);
	}
	expect_eq(pthread_kill(pthread_self(), SIGUSR1), 0, "pthread_kill of the main thread");
	while (sem_wait(&handled) != 0)
		;
	CHECK(pthread_equal(handled_in[THREADS], pthread_self()), "the main thread's signal ran elsewhere");
	expect_eq(pthread_kill(tids[0], 0), 0, "pthread_kill with signal 0");
	lock(&park_lock);
	unparked = 1;
	pthread_cond_broadcast(&park);
	unlock(&park_lock);
	join_all(self_index);
	expect_eq(handled_count, THREADS + 1, "handler runs");
	set_disposition(SIGUSR1, SIG_DFL, 0);
	ok();
}

/* ---- detached threads ---- */

static volatile long detached_sum;
static sem_t detached_done;

static void *detached_worker(void *arg)
{
	long i = (long)arg;
	if (i & 1)
		pthread_detach(pthread_self());
	__atomic_fetch_add(&detached_sum, i + 1, __ATOMIC_SEQ_CST);
	sem_post(&detached_done);
	return 0;
}

static void check_detached(void)
{
	current = "detached threads run and end on their own";
	pthread_attr_t a;
	pthread_attr_init(&a);
	expect_eq(pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED), 0, "pthread_attr_setdetachstate");
	int state = -1;
	pthread_attr_getdetachstate(&a, &state);
	expect_eq(state, PTHREAD_CREATE_DETACHED, "pthread_attr_getdetachstate");
	sem_init(&detached_done, 0, 0);
	for (long i = 0; i < THREADS; i++) {
		pthread_t t;
		/* Even ones are created detached, odd ones detach themselves. */
		create(&t, i & 1 ? 0 : &a, detached_worker, (void *)i);
	}
	for (int i = 0; i < THREADS; i++)
		while (sem_wait(&detached_done) != 0)
			;
	expect_eq(detached_sum, THREADS * (THREADS + 1) / 2, "the sum of what they added");
	pthread_attr_destroy(&a);
	ok();
}

int main(void)
{
	check_join();
	check_ids();
	check_counter();
	check_mutex_kinds();
	check_cond_signal();
	check_cond_broadcast();
	check_cond_timedwait();
	check_barrier();
	check_once();
	check_rwlock();
	check_tls();
	check_key_destructors();
	check_cancel();
	check_cancel_disabled();
	check_pthread_kill();
	check_detached();
	out("all ok\n");
	return 0;
}
