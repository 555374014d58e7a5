/* exec_loop PROGRAM N: N times each, forks and vforks a child that execs
 * PROGRAM with the argument "true" (/bin/busybox true) and waits for it,
 * checking each exit status. Prints "ok fork-exec N", "ok vfork-exec N",
 * then "all ok". The exec of a program the sandbox has seen before is fast
 * enough (page cache) to race the vCPU still running on the old address
 * space: this guest ran into that race. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

int main(int argc, char **argv)
{
	CHECK(argc == 3, "usage: exec_loop PROGRAM N");
	int n = atoi(argv[2]);
	current = "fork-exec";
	for (int i = 0; i < n; i++) {
		pid_t pid = fork_ok();
		if (pid == 0) {
			execl(argv[1], argv[1], "true", (char *)0);
			child_exit(127);
		}
		expect_exited(pid, 0, "a child");
	}
	out("ok fork-exec %d\n", n);
	current = "vfork-exec";
	for (int i = 0; i < n; i++) {
		pid_t pid = vfork();
		CHECK(pid >= 0, "vfork");
		if (pid == 0) {
			execl(argv[1], argv[1], "true", (char *)0);
			_exit(127);
		}
		expect_exited(pid, 0, "a child");
	}
	out("ok vfork-exec %d\n", n);
	out("all ok\n");
	return 0;
}
