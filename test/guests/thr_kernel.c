/* thr_kernel: threads as programs make them, with pthread_create (musl,
 * and glibc in thr_kernel.glibc): gettid against getpid; pthread_kill to
 * one thread, whose handler runs there; a robust mutex whose owner thread
 * ends holding it (EOWNERDEAD for the next locker, then consistent);
 * futex waits and wakes between threads (a condition variable); the
 * affinity mask (sched_getaffinity/sched_setaffinity); prctl(PR_SET_NAME)
 * per thread, seen in /proc/self/task/TID/comm; /proc/self/status
 * Threads:; fork from a threaded parent (the child has one thread); a
 * leader that calls pthread_exit while another thread runs on (the
 * process lives, /proc/self/task lists the rest); execve from a thread
 * that is not the leader (it takes the process's pid, the others end).
 * Each check prints "ok NAME"; the last line is "all ok". */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *current = "start";
static void fail(const char *what)
{
	printf("FAIL: %s: %s\n", current, what);
	fflush(stdout);
	_exit(1);
}
#define CHECK(c, what) do { if (!(c)) fail(what); } while (0)
static void ok(void)
{
	printf("ok %s\n", current);
	fflush(stdout);
}
static long tid_of_self(void) { return syscall(SYS_gettid); }

static void read_file(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	CHECK(f, path);
	size_t got = fread(buf, 1, n - 1, f);
	buf[got] = 0;
	fclose(f);
}

/* count_tasks counts /proc/self/task's entries, and whether the leader's (pid) is there. */
static int count_tasks(int *leader_listed)
{
	DIR *d = opendir("/proc/self/task");
	CHECK(d, "opendir /proc/self/task");
	int n = 0;
	*leader_listed = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		if (atol(e->d_name) == getpid())
			*leader_listed = 1;
	}
	closedir(d);
	return n;
}

static int status_threads(void)
{
	char buf[2048];
	read_file("/proc/self/status", buf, sizeof buf);
	char *p = strstr(buf, "Threads:\t");
	CHECK(p, "no Threads: in /proc/self/status");
	return atoi(p + 9);
}

static long thread_tid;
static void *report_tid(void *arg)
{
	(void)arg;
	thread_tid = tid_of_self();
	return (void *)(long)getpid();
}

static atomic_int ready;
static volatile long handled_on;
static void on_usr2(int sig)
{
	(void)sig;
	handled_on = tid_of_self();
}
static void *wait_signal(void *arg)
{
	(void)arg;
	thread_tid = tid_of_self();
	atomic_store(&ready, 1);
	while (handled_on == 0)
		pause();
	return NULL;
}

static pthread_mutex_t robust;
static void *die_holding(void *arg)
{
	(void)arg;
	CHECK(pthread_mutex_lock(&robust) == 0, "lock in the thread");
	return NULL; /* ends holding it */
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, rounds;
static void *ping(void *arg)
{
	long me = (long)arg;
	for (int i = 0; i < 200; i++) {
		pthread_mutex_lock(&m);
		while (turn != me)
			pthread_cond_wait(&cv, &m);
		turn = !me;
		rounds++;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

static void *name_self(void *arg)
{
	prctl(PR_SET_NAME, (char *)arg);
	char path[64], buf[64], own[32];
	snprintf(path, sizeof path, "/proc/self/task/%ld/comm", tid_of_self());
	read_file(path, buf, sizeof buf);
	prctl(PR_GET_NAME, own);
	CHECK(strcmp(own, arg) == 0, "PR_GET_NAME in the thread");
	return strdup(buf);
}

static atomic_int stop;
static void *spin(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop))
		sched_yield();
	return NULL;
}

static pid_t leader;
static void *outlive(void *arg)
{
	(void)arg;
	/* The leader has gone once its /proc/self/task entry says Z (zombie). */
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", leader);
	for (;;) {
		read_file(path, buf, sizeof buf);
		char *p = strrchr(buf, ')');
		if (p && p[2] == 'Z')
			break;
		usleep(1000);
	}
	int listed;
	int n = count_tasks(&listed);
	printf("after the leader's pthread_exit: %d tasks listed, leader listed %d, Threads: %d\n", n, listed, status_threads());
	fflush(stdout);
	exit(0);
}

static char *self_path;
static void *exec_self(void *arg)
{
	(void)arg;
	char pid[32];
	snprintf(pid, sizeof pid, "%d", getpid());
	execl(self_path, self_path, "execd", pid, (char *)NULL);
	fail("execl");
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "execd") == 0) {
		current = "exec_from_thread";
		CHECK(getpid() == atoi(argv[2]), "the process's pid changed");
		CHECK(tid_of_self() == getpid(), "the exec'd thread's tid is not the pid");
		int listed;
		CHECK(count_tasks(&listed) == 1 && listed, "other threads live on after execve");
		ok();
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "leader_exit") == 0) {
		leader = getpid();
		pthread_t th;
		pthread_create(&th, NULL, outlive, NULL);
		pthread_exit(NULL);
	}
	self_path = argv[0];
	setvbuf(stdout, NULL, _IOFBF, 0);

	current = "ids";
	pthread_t th;
	void *ret;
	CHECK(pthread_create(&th, NULL, report_tid, NULL) == 0, "pthread_create");
	CHECK(pthread_join(th, &ret) == 0, "pthread_join");
	CHECK((long)ret == getpid(), "getpid in a thread");
	CHECK(thread_tid != getpid() && thread_tid > 0, "gettid in a thread");
	CHECK(tid_of_self() == getpid(), "the main thread's tid");
	ok();

	current = "pthread_kill";
	signal(SIGUSR2, on_usr2);
	CHECK(pthread_create(&th, NULL, wait_signal, NULL) == 0, "pthread_create");
	while (!atomic_load(&ready))
		;
	CHECK(pthread_kill(th, SIGUSR2) == 0, "pthread_kill");
	pthread_join(th, NULL);
	CHECK(handled_on == thread_tid, "the handler ran on another thread");
	ok();

	current = "robust_mutex";
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &ma);
	pthread_create(&th, NULL, die_holding, NULL);
	pthread_join(th, NULL);
	int r = pthread_mutex_lock(&robust);
	CHECK(r == EOWNERDEAD, "the lock of an ended owner is not EOWNERDEAD");
	CHECK(pthread_mutex_consistent(&robust) == 0, "pthread_mutex_consistent");
	CHECK(pthread_mutex_unlock(&robust) == 0, "unlock");
	CHECK(pthread_mutex_lock(&robust) == 0, "lock after consistent");
	pthread_mutex_unlock(&robust);
	ok();

	current = "condvar";
	pthread_t a, b;
	pthread_create(&a, NULL, ping, (void *)0L);
	pthread_create(&b, NULL, ping, (void *)1L);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	CHECK(rounds == 400, "lost turns");
	ok();

	current = "affinity";
	cpu_set_t set;
	CHECK(sched_getaffinity(0, sizeof set, &set) == 0, "sched_getaffinity");
	CHECK(CPU_COUNT(&set) >= 1 && CPU_ISSET(0, &set), "CPU 0 not in the mask");
	int all = CPU_COUNT(&set);
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	CHECK(sched_setaffinity(0, sizeof one, &one) == 0, "sched_setaffinity to CPU 0");
	CHECK(sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set), "the mask read back");
	CPU_ZERO(&one);
	CHECK(sched_setaffinity(0, sizeof one, &one) == -1 && errno == EINVAL, "an empty mask");
	CPU_ZERO(&one);
	CPU_SET(1000, &one);
	CHECK(sched_setaffinity(0, sizeof one, &one) == -1 && errno == EINVAL, "a mask of no CPU of the machine");
	CHECK(sched_getaffinity(0, 4, &set) == -1 && errno == EINVAL, "a buffer too small");
	CPU_ZERO(&set);
	for (int i = 0; i < all; i++)
		CPU_SET(i, &set);
	CHECK(sched_setaffinity(0, sizeof set, &set) == 0, "sched_setaffinity back");
	ok();

	current = "names";
	pthread_create(&th, NULL, name_self, "worker-7");
	pthread_join(th, &ret);
	CHECK(strcmp(ret, "worker-7\n") == 0, "/proc/self/task/TID/comm");
	free(ret);
	char comm[64];
	read_file("/proc/self/comm", comm, sizeof comm);
	CHECK(strcmp(comm, "worker-7\n") != 0, "a thread's name became the process's");
	ok();

	current = "status_threads";
	atomic_store(&stop, 0);
	pthread_create(&a, NULL, spin, NULL);
	pthread_create(&b, NULL, spin, NULL);
	int listed;
	CHECK(status_threads() == 3, "Threads: is not 3");
	CHECK(count_tasks(&listed) == 3 && listed, "/proc/self/task does not list 3");

	current = "fork_from_threads";
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		/* Only the forking thread goes on in the child. */
		int l;
		if (count_tasks(&l) != 1 || !l || status_threads() != 1)
			_exit(2);
		char *p = malloc(1000);
		pthread_t t2;
		if (!p || pthread_create(&t2, NULL, report_tid, NULL) != 0 || pthread_join(t2, NULL) != 0)
			_exit(3);
		_exit(0);
	}
	int status;
	CHECK(waitpid(child, &status, 0) == child, "waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the forked child of a threaded process");
	atomic_store(&stop, 1);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	ok();

	current = "leader_pthread_exit";
	fflush(stdout);
	child = fork();
	if (child == 0) {
		execl(self_path, self_path, "leader_exit", (char *)NULL);
		_exit(4);
	}
	CHECK(waitpid(child, &status, 0) == child, "waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the process whose leader called pthread_exit");
	ok();

	current = "exec_from_thread";
	fflush(stdout);
	child = fork();
	if (child == 0) {
		pthread_t t1, t2;
		atomic_store(&stop, 0);
		pthread_create(&t1, NULL, spin, NULL);
		pthread_create(&t2, NULL, exec_self, NULL);
		pthread_join(t2, NULL);
		_exit(5);
	}
	CHECK(waitpid(child, &status, 0) == child, "waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the program a thread exec'd");

	printf("all ok\n");
	return 0;
}
