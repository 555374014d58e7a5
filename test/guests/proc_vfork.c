/* vfork, clone with CLONE_VM and CLONE_VFORK, and posix_spawn, with results
 * exactly as Linux gives them: after vfork, and after clone with
 * CLONE_VM | CLONE_VFORK, the parent stays suspended until the child execs
 * or exits, and sees every store the child made before; the child still has
 * its own descriptor table; CLONE_VFORK alone suspends the parent but copies
 * the memory; CLONE_VM alone shares the memory but does not suspend the
 * parent; posix_spawn and posix_spawnp (musl's, which clone with
 * CLONE_VM | CLONE_VFORK and report a failed exec through a close-on-exec
 * pipe) with file actions and the SETSIGMASK, SETSIGDEF, SETPGROUP and
 * SETSID attributes, and their errors. Prints "ok NAME" per check, then
 * "all ok"; on the first failure prints "FAIL: NAME: details" and exits 1.
 *
 * It re-executes itself (/proc/self/exe) to play the child: argv[1] names
 * the check the child makes, and the child reports through its exit status.
 * Files are written under /tmp/tvisor-proc-PID-vfork. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

static volatile int stage;
static volatile long exec_error;
static char child_stack[65536] __attribute__((aligned(16)));
static int release_fds[2];

/* The child of clone: marks stage 1, sleeps 30 ms, marks stage 2, exits 9. */
static int slow_child(void *arg)
{
	stage = 1;
	sleep_ms(30);
	stage = 2;
	return 9;
}

/* The child of clone without CLONE_VFORK: waits for the parent, marks stage 3. */
static int released_child(void *arg)
{
	S1(SYS_close, release_fds[1]);
	get(release_fds[0]);
	stage = 3;
	return 0;
}

/* The child of clone without CLONE_VM: sleeps 30 ms, then writes to the pipe
 * whose write end is *arg. */
static int late_writer(void *arg)
{
	stage = 4;
	sleep_ms(30);
	put(*(int *)arg, 'w');
	return 0;
}

/* The spawned image's side of the checks named by argv[1]. */
static int spawned(int argc, char **argv)
{
	current = argv[1];
	if (strcmp(argv[1], "exit7") == 0)
		return 7;
	if (strcmp(argv[1], "actions") == 0) {
		expect_eq(S3(SYS_write, 10, "file", 4), 4, "fd 10 was opened by addopen");
		expect_eq(S3(SYS_write, 11, "p", 1), 1, "fd 11 is the pipe by adddup2");
		expect_err(S2(SYS_fcntl, 12, F_GETFD), EBADF, "fd 12 was closed by addclose");
		expect_eq(S2(SYS_fcntl, 13, F_GETFD), 0, "fd 13 is inherited");
		return 0;
	}
	if (strcmp(argv[1], "attrs") == 0) {
		CHECK(is_blocked(SIGUSR1) && !is_blocked(SIGUSR2), "the mask is SETSIGMASK's");
		CHECK(disposition_of(SIGUSR2) == SIG_DFL, "SIGUSR2 is reset by SETSIGDEF");
		CHECK(disposition_of(SIGHUP) == SIG_IGN, "SIGHUP stays ignored");
		expect_eq(S0(SYS_getpgrp), getpid(), "SETPGROUP 0 made a new group");
		return 0;
	}
	if (strcmp(argv[1], "setsid") == 0) {
		expect_eq(S1(SYS_getsid, 0), getpid(), "SETSID made a new session");
		return 0;
	}
	if (strcmp(argv[1], "path") == 0) {
		char name[16] = "";
		S2(SYS_prctl, PR_GET_NAME, name);
		CHECK(strcmp(argv[0], "spawnme") == 0 && strcmp(name, "spawnme") == 0, "argv[0] %s, name %s", argv[0],
		      name);
		return 0;
	}
	fail("unknown check %s", argv[1]);
}

int main(int argc, char **argv)
{
	char *exit7[] = {"x", "exit7", 0};
	char *no_env[] = {0};
	char self[256];
	int fds[2];
	pid_t pid;

	if (argc > 1)
		return spawned(argc, argv);

	current = "setup";
	{
		long n = S3(SYS_readlink, "/proc/self/exe", self, sizeof self - 1);
		CHECK(n > 0, "readlink /proc/self/exe = %ld (%s)", n, errname(n));
		self[n] = 0;
	}
	make_scratch("vfork");
	ok();

	current = "vfork then execve";
	stage = 0;
	pid = vfork();
	if (pid == 0) {
		stage = 1;
		sleep_ms(30);
		stage = 2;
		S3(SYS_execve, "/proc/self/exe", exit7, no_env);
		S1(SYS_exit, 127);
	}
	CHECK(pid > 0, "vfork: errno %d", errno);
	expect_eq(stage, 2, "the parent resumed only after the child's execve");
	expect_exited(pid, 7, "the new image");
	ok();

	current = "vfork then _exit";
	stage = 0;
	pid = vfork();
	if (pid == 0) {
		stage = 1;
		sleep_ms(30);
		stage = 3;
		S1(SYS_exit, 5);
	}
	expect_eq(stage, 3, "the parent resumed only after the child's exit");
	expect_exited(pid, 5, "the child");
	ok();

	current = "vfork child has its own descriptors";
	pipe_ok(fds, 0);
	pid = vfork();
	if (pid == 0) {
		S1(SYS_close, fds[0]);
		S1(SYS_exit, 0);
	}
	expect_exited(pid, 0, "the child");
	expect_eq(S2(SYS_fcntl, fds[0], F_GETFD), 0, "the fd the child closed is open in the parent");
	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
	ok();

	current = "vfork then a failed execve";
	exec_error = 0;
	pid = vfork();
	if (pid == 0) {
		exec_error = S3(SYS_execve, in_scratch("nowhere"), exit7, no_env);
		S1(SYS_exit, 127);
	}
	expect_err(exec_error, ENOENT, "the error the child stored");
	expect_exited(pid, 127, "the child");
	ok();

	current = "clone CLONE_VM | CLONE_VFORK";
	stage = 0;
	pid = clone(slow_child, child_stack + sizeof child_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, 0);
	CHECK(pid > 0, "clone: errno %d", errno);
	expect_eq(stage, 2, "the parent resumed only after the child's exit, and sees its stores");
	expect_exited(pid, 9, "the child");
	ok();

	current = "clone CLONE_VFORK without CLONE_VM";
	pipe_ok(fds, 0);
	stage = 0;
	pid = clone(late_writer, child_stack + sizeof child_stack, CLONE_VFORK | SIGCHLD, &fds[1]);
	CHECK(pid > 0, "clone: errno %d", errno);
	{
		int ready = -1;
		expect_eq(S3(SYS_ioctl, fds[0], FIONREAD, &ready), 0, "FIONREAD");
		expect_eq(ready, 1, "the parent resumed only after the child wrote");
	}
	expect_eq(stage, 0, "the child's store went to its own copy");
	expect_exited(pid, 0, "the child");
	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
	ok();

	current = "clone CLONE_VM without CLONE_VFORK";
	pipe_ok(release_fds, 0);
	stage = 0;
	pid = clone(released_child, child_stack + sizeof child_stack, CLONE_VM | SIGCHLD, 0);
	CHECK(pid > 0, "clone: errno %d", errno);
	expect_eq(stage, 0, "the parent runs while the child waits");
	put(release_fds[1], 'x');
	expect_exited(pid, 0, "the child");
	expect_eq(stage, 3, "the child's store is in the shared memory");
	S1(SYS_close, release_fds[0]);
	S1(SYS_close, release_fds[1]);
	ok();

	current = "posix_spawn";
	expect_eq(posix_spawn(&pid, "/proc/self/exe", 0, 0, exit7, no_env), 0, "posix_spawn");
	expect_exited(pid, 7, "the spawned image");
	pid = -5;
	expect_eq(posix_spawn(&pid, in_scratch("nowhere"), 0, 0, exit7, no_env), ENOENT, "posix_spawn of a missing file");
	expect_err(S4(SYS_wait4, -1, 0, WNOHANG, 0), ECHILD, "posix_spawn reaped the failed child");
	ok();

	current = "posix_spawn file actions";
	{
		posix_spawn_file_actions_t fa;
		char *args[] = {"x", "actions", 0};
		char buf[8] = "";
		pipe_ok(fds, O_CLOEXEC);
		expect_eq(S2(SYS_dup2, fds[0], 12), 12, "dup2 to 12");
		expect_eq(S2(SYS_dup2, fds[0], 13), 13, "dup2 to 13");
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 10, in_scratch("out"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		posix_spawn_file_actions_adddup2(&fa, fds[1], 11);
		posix_spawn_file_actions_addclose(&fa, 12);
		expect_eq(posix_spawn(&pid, "/proc/self/exe", &fa, 0, args, no_env), 0, "posix_spawn");
		expect_exited(pid, 0, "the spawned image's checks");
		expect_eq(S3(SYS_read, fds[0], buf, sizeof buf), 1, "read what fd 11 wrote");
		expect_eq(buf[0], 'p', "the byte");
		long fd = S3(SYS_open, in_scratch("out"), O_RDONLY, 0);
		expect_eq(S3(SYS_read, fd, buf, sizeof buf), 4, "read what fd 10 wrote");
		CHECK(memcmp(buf, "file", 4) == 0, "the file's contents");
		S1(SYS_close, fd);
		posix_spawn_file_actions_destroy(&fa);

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 10, in_scratch("nowhere/x"), O_RDONLY, 0);
		expect_eq(posix_spawn(&pid, "/proc/self/exe", &fa, 0, args, no_env), ENOENT,
			  "a failing addopen is posix_spawn's error");
		posix_spawn_file_actions_destroy(&fa);
		S1(SYS_close, fds[0]);
		S1(SYS_close, fds[1]);
		S1(SYS_close, 12);
		S1(SYS_close, 13);
		expect_eq(S1(SYS_unlink, in_scratch("out")), 0, "unlink out");
	}
	ok();

	current = "posix_spawn attributes";
	{
		posix_spawnattr_t attr;
		sigset_t mask, def;
		char *args[] = {"x", "attrs", 0};
		char *setsid_args[] = {"x", "setsid", 0};
		set_disposition(SIGUSR2, SIG_IGN, 0);
		set_disposition(SIGHUP, SIG_IGN, 0);
		mask_one(SIG_BLOCK, SIGUSR2);
		sigemptyset(&mask);
		sigaddset(&mask, SIGUSR1);
		sigemptyset(&def);
		sigaddset(&def, SIGUSR2);
		posix_spawnattr_init(&attr);
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
		posix_spawnattr_setsigmask(&attr, &mask);
		posix_spawnattr_setsigdefault(&attr, &def);
		posix_spawnattr_setpgroup(&attr, 0);
		expect_eq(posix_spawn(&pid, "/proc/self/exe", 0, &attr, args, no_env), 0, "posix_spawn");
		expect_exited(pid, 0, "the spawned image's checks");
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
		expect_eq(posix_spawn(&pid, "/proc/self/exe", 0, &attr, setsid_args, no_env), 0, "posix_spawn SETSID");
		expect_exited(pid, 0, "the spawned image's checks");
		posix_spawnattr_destroy(&attr);
		mask_one(SIG_SETMASK, 0);
		set_disposition(SIGUSR2, SIG_DFL, 0);
		set_disposition(SIGHUP, SIG_DFL, 0);
	}
	ok();

	current = "posix_spawnp searches PATH";
	{
		char *args[] = {"spawnme", "path", 0};
		expect_eq(S2(SYS_symlink, self, in_scratch("spawnme")), 0, "symlink");
		setenv("PATH", scratch, 1);
		expect_eq(posix_spawnp(&pid, "spawnme", 0, 0, args, no_env), 0, "posix_spawnp");
		expect_exited(pid, 0, "the spawned image's checks");
		expect_eq(posix_spawnp(&pid, "nowhere", 0, 0, args, no_env), ENOENT, "posix_spawnp of a missing name");
		expect_eq(S1(SYS_unlink, in_scratch("spawnme")), 0, "unlink spawnme");
	}
	ok();

	current = "cleanup";
	remove_scratch();
	ok();

	out("all ok\n");
	return 0;
}
