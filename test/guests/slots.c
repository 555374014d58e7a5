/* slots: counts the pages of the sandbox's vCPU slot area that this
 * program can read, while a child of it waits in a read (so another vCPU
 * is in use): "readable slots: N". On tvisor's kvm platform a program sees
 * its own vCPU's slot and no other (1); natively, and under ptrace, the
 * area is not mapped at all (0). The area starts at 0x7fffc0200000, a
 * slot and a kernel page per vCPU. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static sigjmp_buf back;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(back, 1);
}

int main(void)
{
	int fds[2];
	if (pipe(fds) != 0) return 2;
	pid_t child = fork();
	if (child == 0) {
		char c;
		close(fds[1]);
		_exit(read(fds[0], &c, 1) == 0 ? 0 : 3);
	}
	close(fds[0]);
	struct sigaction sa = {0};
	sa.sa_handler = on_segv;
	sigaction(SIGSEGV, &sa, 0);
	sigaction(SIGBUS, &sa, 0);
	usleep(20000); /* the child is in its read */
	volatile int readable = 0; /* kept across siglongjmp */
	for (volatile int k = 0; k < 64; k++) {
		volatile unsigned char *p = (unsigned char *)(0x7fffc0200000UL + (unsigned long)k * 8192);
		if (sigsetjmp(back, 1) == 0) {
			(void)*p;
			readable++;
		}
	}
	close(fds[1]);
	int status;
	waitpid(child, &status, 0);
	printf("readable slots: %d\n", readable);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
