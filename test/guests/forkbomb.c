/* forkbomb: forks children that sleep until fork fails, then prints how many processes the tree had (itself included)
 * and the errno of the failed fork, kills the children it made and
 * reaps them. Under tvisor --pids-limit N it prints "N processes, then
 * EAGAIN". Only the first process forks; the children sleep until
 * killed. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	enum { MAX = 100000 };
	static pid_t kids[MAX];
	int n = 0, err = 0;
	for (; n < MAX; n++) {
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			struct timespec ts = { 600, 0 };
			nanosleep(&ts, NULL);
			_exit(0);
		}
		kids[n] = pid;
	}
	printf("%d processes, then %s\n", n + 1, err == EAGAIN ? "EAGAIN" : strerror(err));
	fflush(stdout);
	for (int i = 0; i < n; i++) kill(kids[i], SIGKILL);
	int reaped = 0, status;
	while (wait(&status) > 0)
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) reaped++;
	printf("%d reaped\n", reaped);
	return 0;
}
