/* fork and exec in a multi-threaded process, as Linux defines them: the
 * child of fork has one thread, the one that called fork (its tid is the
 * child's pid, whichever thread forked), and the other threads' work stops
 * in it; pthread_atfork's handlers run in their order (prepare in reverse
 * order of registration, parent and child in order), and a prepare handler
 * that takes a mutex another thread holds makes fork wait for it, so the
 * child gets the mutex free and the data it guards whole; the child can
 * start threads of its own; an execve from a thread other than the main one
 * ends every other thread and the new image runs with the process's pid;
 * and the parent's threads go on unaffected. Children report through their
 * exit status; only the parent's main thread prints. Prints "ok NAME" per
 * check, then "all ok"; on the first failure prints "FAIL: NAME: details"
 * and exits 1.
 * Usage: thr_fork, or (as the image an exec starts) thr_fork exec-check PID. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"
#include "thr.h"

#define WORKERS 3
#define INCREMENTS 10000

/* EXEC_OK is the exit status of an exec-check image whose checks passed. */
#define EXEC_OK 7

static pthread_mutex_t guarded_lock = PTHREAD_MUTEX_INITIALIZER;
static long guarded_a, guarded_b; /* always equal outside the lock */

static char atfork_log[16];
static int atfork_len;

static void log_step(char c)
{
	if (atfork_len < (int)sizeof atfork_log - 1)
		atfork_log[atfork_len++] = c;
}

/* Handler A takes guarded_lock around fork, so a fork waits for its holder. */
static void prepare_a(void) { log_step('a'); pthread_mutex_lock(&guarded_lock); }
static void parent_a(void) { log_step('A'); pthread_mutex_unlock(&guarded_lock); }
static void child_a(void) { log_step('C'); pthread_mutex_unlock(&guarded_lock); }
static void prepare_b(void) { log_step('b'); }
static void parent_b(void) { log_step('B'); }
static void child_b(void) { log_step('D'); }

/* ---- the parent's workers: blocked at the fork, working after it ---- */

static pthread_mutex_t work_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_go = PTHREAD_COND_INITIALIZER;
static int go;
static long work_total;

static void *worker(void *arg)
{
	lock(&work_lock);
	while (!go)
		pthread_cond_wait(&work_go, &work_lock);
	unlock(&work_lock);
	for (int n = 0; n < INCREMENTS; n++) {
		lock(&work_lock);
		work_total++;
		unlock(&work_lock);
	}
	return (void *)((long)arg + 100);
}

/* ---- a spinner: its count stops moving in a child ---- */

static volatile long spins;
static volatile int spinning = 1;

static void *spinner(void *arg)
{
	while (spinning) {
		spins++;
		sleep_ms(1);
	}
	return arg;
}

/* ---- a holder: has guarded_lock when fork is called ---- */

static int holder_pipe[2];
static sem_t holding;

/* holder takes guarded_lock, says so, then changes what it guards in two
 * steps once main writes a byte, and lets go. */
static void *holder(void *arg)
{
	pthread_mutex_lock(&guarded_lock);
	sem_post(&holding);
	get(holder_pipe[0]);
	guarded_a = 42;
	sleep_ms(20);
	guarded_b = 42;
	pthread_mutex_unlock(&guarded_lock);
	return arg;
}

static void *child_thread(void *arg)
{
	return (void *)((long)arg * 3);
}

/* in_child runs the checks of a child of fork, which exits with status 0
 * when they pass, or with the number of the first that failed. */
static __attribute__((noreturn)) void in_child(void)
{
	if (S0(SYS_gettid) != S0(SYS_getpid))
		child_exit(1);
	if (strcmp(atfork_log, "baCD") != 0)
		child_exit(2);
	/* The child handler unlocked the mutex the prepare handler took. */
	if (pthread_mutex_trylock(&guarded_lock) != 0)
		child_exit(3);
	if (guarded_a != 42 || guarded_b != 42)
		child_exit(4);
	pthread_mutex_unlock(&guarded_lock);
	/* The spinner does not exist here: its count stays still. */
	long before = spins;
	sleep_ms(20);
	if (spins != before)
		child_exit(5);
	pthread_t t;
	void *ret;
	if (pthread_create(&t, 0, child_thread, (void *)14) != 0 || pthread_join(t, &ret) != 0 || (long)ret != 42)
		child_exit(6);
	child_exit(0);
}

/* ---- fork from a thread that is not the main one ---- */

static pthread_t forker_self;
static pid_t forked_from_thread;
static int thread_child_status = -1;

static void *forking_thread(void *arg)
{
	(void)arg;
	forker_self = pthread_self();
	pid_t pid = fork();
	if (pid == 0) {
		/* The forking thread is the child's only one, with tid = pid. */
		if (S0(SYS_gettid) != S0(SYS_getpid))
			child_exit(1);
		child_exit(pthread_equal(pthread_self(), forker_self) ? 0 : 2);
	}
	forked_from_thread = pid;
	int status = -1;
	if (pid > 0 && S4(SYS_wait4, pid, &status, 0, 0) == pid)
		thread_child_status = status;
	return 0;
}

/* ---- exec from a thread that is not the main one ---- */

static char *self_path;
static sem_t exec_ready;

/* blocker sits in read on a pipe nobody writes; the exec ends it. */
static void *blocker(void *arg)
{
	int *fds = arg;
	char c;
	sem_post(&exec_ready);
	read(fds[0], &c, 1);
	child_exit(8);
}

static void *execer(void *arg)
{
	char pid[24];
	snprintf(pid, sizeof pid, "%ld", S0(SYS_getpid));
	char *argv[] = {self_path, "exec-check", pid, 0};
	char *envp[] = {0};
	sem_wait(&exec_ready);
	sem_wait(&exec_ready);
	execve(self_path, argv, envp);
	child_exit(10);
	return arg;
}

/* exec_child is a child of fork that starts a thread blocked in read and
 * another that execs this program as exec-check. */
static __attribute__((noreturn)) void exec_child(void)
{
	static int fds[2];
	pipe_ok(fds, 0);
	sem_init(&exec_ready, 0, 0);
	pthread_t t;
	create(&t, 0, blocker, fds);
	create(&t, 0, execer, 0);
	sem_post(&exec_ready);
	for (;;)
		pause();
}

/* exec_check is the image the exec starts: with the pid of the process,
 * its only thread. */
static int exec_check(const char *pid)
{
	if (S0(SYS_getpid) != atol(pid))
		return 1;
	if (S0(SYS_gettid) != S0(SYS_getpid))
		return 2;
	return EXEC_OK;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "exec-check") == 0)
		return exec_check(argv[2]);
	self_path = argv[0];

	current = "pthread_atfork registers handlers";
	expect_eq(pthread_atfork(prepare_a, parent_a, child_a), 0, "pthread_atfork A");
	expect_eq(pthread_atfork(prepare_b, parent_b, child_b), 0, "pthread_atfork B");
	ok();

	current = "fork with workers waiting, a spinner and a mutex held";
	pthread_t workers[WORKERS], spin, hold;
	for (long i = 0; i < WORKERS; i++)
		create(&workers[i], 0, worker, (void *)i);
	create(&spin, 0, spinner, 0);
	pipe_ok(holder_pipe, 0);
	sem_init(&holding, 0, 0);
	create(&hold, 0, holder, 0);
	while (sem_wait(&holding) != 0)
		;
	/* The holder has the lock; fork's prepare handler waits until it lets go. */
	put(holder_pipe[1], 'x');
	atfork_len = 0;
	pid_t pid = fork_ok();
	if (pid == 0)
		in_child();
	CHECK(strcmp(atfork_log, "baAB") == 0, "the parent's handlers ran as \"%s\", expected \"baAB\"", atfork_log);
	expect_exited(pid, 0, "the child's checks");
	ok();

	current = "fork from a thread that is not the main one";
	pthread_t forker;
	create(&forker, 0, forking_thread, 0);
	expect_eq(pthread_join(forker, 0), 0, "pthread_join");
	CHECK(forked_from_thread > 0, "fork from a thread = %d", forked_from_thread);
	CHECK(WIFEXITED(thread_child_status) && WEXITSTATUS(thread_child_status) == 0,
	      "the child of a thread's fork: status 0x%x", thread_child_status);
	ok();

	current = "exec from a thread ends the others; the image keeps the pid";
	pid = fork_ok();
	if (pid == 0)
		exec_child();
	expect_exited(pid, EXEC_OK, "the exec'd image");
	ok();

	current = "the parent's threads go on after the forks";
	lock(&work_lock);
	go = 1;
	pthread_cond_broadcast(&work_go);
	unlock(&work_lock);
	for (long i = 0; i < WORKERS; i++) {
		void *ret;
		expect_eq(pthread_join(workers[i], &ret), 0, "pthread_join worker");
		expect_eq((long)ret, i + 100, "a worker's return value");
	}
	expect_eq(work_total, WORKERS * INCREMENTS, "the workers' total");
	/* The spinner still counts (within about 2 s, however loaded the host). */
	long seen = spins;
	for (int tries = 0; tries < 2000 && spins == seen; tries++)
		sleep_ms(1);
	CHECK(spins != seen, "the spinner stopped spinning");
	spinning = 0;
	expect_eq(pthread_join(spin, 0), 0, "pthread_join spinner");
	expect_eq(pthread_join(hold, 0), 0, "pthread_join holder");
	expect_eq(guarded_a + guarded_b, 84, "what the holder wrote");
	ok();

	out("all ok\n");
	return 0;
}
