/* execve and execveat, with results exactly as Linux gives them: the new
 * image's argv and envp; what exec keeps (pid, parent, cwd, umask, the blocked
 * set, pending signals with their siginfo, ignored signals, the parent-death
 * signal) and what it resets (caught signals to SIG_DFL, the alternate signal
 * stack, close-on-exec descriptors, the name to the file's basename); #!
 * scripts with and without an interpreter argument, nested two deep; the
 * errors ENOENT, EACCES, ENOEXEC, ENOTDIR, EFAULT; and execveat with
 * AT_EMPTY_PATH on an O_RDONLY or O_PATH descriptor, on a script (argv names
 * /dev/fd/N, and a close-on-exec descriptor gives ENOENT), and relative to a
 * directory descriptor. Prints "ok NAME" per check, then "all ok"; on the
 * first failure prints "FAIL: NAME: details" and exits 1.
 *
 * It re-executes itself (/proc/self/exe) to play the new image: with the
 * environment variable EXPECT set, the new image checks that its argv joined
 * with '|' equals EXPECT (and its name equals EXPECT_COMM, when set);
 * otherwise argv[1] names the check it makes. Either way it reports through
 * its exit status. Scripts are written under /tmp/tvisor-proc-PID-exec. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

#define X_AT_EMPTY_PATH 0x1000

extern char **environ;

static char self[256];

static void handler(int sig, siginfo_t *si, void *uc)
{
}

/* Writes a file at path with text and mode. */
static void write_file(const char *path, const char *text, int mode)
{
	long fd = S3(SYS_open, path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECK(fd >= 0, "open %s = %ld (%s)", path, fd, errname(fd));
	long n = (long)strlen(text);
	expect_eq(S3(SYS_write, fd, text, n), n, "write the file");
	S1(SYS_close, fd);
}

/* Runs execve(path, argv, envp) in a child and returns the child's status. */
static int run(const char *path, char *const argv[], char *const envp[])
{
	pid_t pid = fork_ok();
	if (pid == 0) {
		long r = S3(SYS_execve, path, argv, envp);
		out("FAIL: %s: execve(%s) = %ld (%s)\n", current, path, r, errname(r));
		child_exit(120);
	}
	return wait_status(pid);
}

/* Runs execveat(dirfd, path, argv, envp, flags) in a child and returns the child's status. */
static int run_at(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	pid_t pid = fork_ok();
	if (pid == 0) {
		long r = S5(SYS_execveat, dirfd, path, argv, envp, flags);
		out("FAIL: %s: execveat(%d, %s) = %ld (%s)\n", current, dirfd, path, r, errname(r));
		child_exit(120);
	}
	return wait_status(pid);
}

/* The new image's side of the "EXPECT" checks: argv joined with '|'. */
static int check_expect(int argc, char **argv, const char *expect)
{
	char joined[1024] = "", name[16] = "";
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(joined, "|");
		strncat(joined, argv[i], sizeof joined - strlen(joined) - 2);
	}
	CHECK(strcmp(joined, expect) == 0, "argv is \"%s\", expected \"%s\"", joined, expect);
	const char *comm = getenv("EXPECT_COMM");
	S2(SYS_prctl, PR_GET_NAME, name);
	CHECK(!comm || strcmp(name, comm) == 0, "name is \"%s\", expected \"%s\"", name, comm);
	return 0;
}

/* The new image's side of the checks named by argv[1]. */
static int new_image(int argc, char **argv)
{
	const char *expect = getenv("EXPECT");
	current = argv[1];
	if (expect)
		return check_expect(argc, argv, expect);

	if (strcmp(argv[1], "args") == 0) {
		CHECK(argc == 5 && strcmp(argv[0], "zero") == 0 && strcmp(argv[2], "a b") == 0 &&
			      strcmp(argv[3], "") == 0 && strcmp(argv[4], "last") == 0 && argv[5] == 0,
		      "argv");
		CHECK(environ[0] && strcmp(environ[0], "FOO=bar") == 0 && environ[1] &&
			      strcmp(environ[1], "EMPTY=") == 0 && environ[2] == 0,
		      "envp");
		return 0;
	}
	if (strcmp(argv[1], "keeps") == 0) {
		char cwd[256];
		CHECK(argc == 5, "argc %d", argc);
		expect_eq(getpid(), atol(argv[2]), "pid");
		expect_eq(getppid(), atol(argv[3]), "parent");
		CHECK(S2(SYS_getcwd, cwd, sizeof cwd) > 0 && strcmp(cwd, argv[4]) == 0, "cwd %s", cwd);
		expect_eq(S1(SYS_umask, 0), 027, "umask");
		int sig = 0;
		expect_eq(S2(SYS_prctl, PR_GET_PDEATHSIG, &sig), 0, "PR_GET_PDEATHSIG");
		expect_eq(sig, SIGUSR2, "the parent-death signal");
		return 0;
	}
	if (strcmp(argv[1], "name") == 0) {
		char name[16] = "";
		expect_eq(S2(SYS_prctl, PR_GET_NAME, name), 0, "PR_GET_NAME");
		CHECK(strcmp(name, "exe") == 0, "name \"%s\"", name);
		return 0;
	}
	if (strcmp(argv[1], "fds") == 0) {
		expect_err(S2(SYS_fcntl, 20, F_GETFD), EBADF, "O_CLOEXEC fd 20 is closed");
		expect_eq(S2(SYS_fcntl, 21, F_GETFD), 0, "fd 21 is open");
		expect_err(S2(SYS_fcntl, 22, F_GETFD), EBADF, "FD_CLOEXEC fd 22 is closed");
		expect_eq(S2(SYS_fcntl, 23, F_GETFD), 0, "fd 23, a dup of fd 20, is open");
		expect_eq(S3(SYS_lseek, 21, 0, SEEK_CUR), 7, "fd 21 keeps its offset");
		return 0;
	}
	if (strcmp(argv[1], "signals") == 0) {
		stack_t ss;
		siginfo_t si;
		sigset_t set;
		struct timespec zero = {0, 0};
		CHECK(disposition_of(SIGUSR1) == SIG_DFL, "caught SIGUSR1 is reset to SIG_DFL");
		CHECK(disposition_of(SIGINT) == SIG_DFL, "caught SIGINT is reset to SIG_DFL");
		CHECK(disposition_of(SIGUSR2) == SIG_IGN, "ignored SIGUSR2 stays ignored");
		CHECK(disposition_of(SIGCHLD) == SIG_IGN, "ignored SIGCHLD stays ignored");
		CHECK(is_blocked(SIGTERM) && is_blocked(SIGHUP) && is_blocked(SIGRTMIN), "the blocked set is kept");
		CHECK(!is_blocked(SIGUSR1), "SIGUSR1 is not blocked");
		CHECK(is_pending(SIGHUP), "pending SIGHUP is kept");
		expect_eq(S2(SYS_sigaltstack, 0, &ss), 0, "sigaltstack query");
		expect_eq(ss.ss_flags, SS_DISABLE, "the alternate stack is gone");
		sigemptyset(&set);
		sigaddset(&set, SIGRTMIN);
		memset(&si, 0, sizeof si);
		expect_eq(S4(SYS_rt_sigtimedwait, &set, &si, &zero, 8), SIGRTMIN, "the queued SIGRTMIN");
		CHECK(si.si_code == SI_QUEUE && si.si_value.sival_int == 77, "its siginfo: code %d value %d",
		      si.si_code, si.si_value.sival_int);
		return 0;
	}
	fail("unknown check %s", argv[1]);
}

int main(int argc, char **argv)
{
	char expect[1024], expect_env[1100], text[512];
	char *envp_expect[3];
	pid_t pid;

	if (argc > 1)
		return new_image(argc, argv);

	current = "setup";
	{
		long n = S3(SYS_readlink, "/proc/self/exe", self, sizeof self - 1);
		CHECK(n > 0, "readlink /proc/self/exe = %ld (%s)", n, errname(n));
		self[n] = 0;
	}
	make_scratch("exec");
	ok();

	current = "execve argv and envp";
	{
		char *args[] = {"zero", "args", "a b", "", "last", 0};
		char *envp[] = {"FOO=bar", "EMPTY=", 0};
		expect_eq(run("/proc/self/exe", args, envp), 0, "the new image's checks");
	}
	ok();

	current = "execve keeps";
	pid = fork_ok();
	if (pid == 0) {
		char spid[16], sppid[16];
		char *args[] = {"x", "keeps", spid, sppid, "/tmp", 0};
		char *envp[] = {0};
		snprintf(spid, sizeof spid, "%d", getpid());
		snprintf(sppid, sizeof sppid, "%d", getppid());
		expect_eq(S1(SYS_chdir, "/tmp"), 0, "chdir /tmp");
		S1(SYS_umask, 027);
		expect_eq(S2(SYS_prctl, PR_SET_PDEATHSIG, SIGUSR2), 0, "PR_SET_PDEATHSIG");
		long r = S3(SYS_execve, "/proc/self/exe", args, envp);
		fail("execve = %ld (%s)", r, errname(r));
	}
	expect_exited(pid, 0, "the new image's checks");
	ok();

	current = "execve sets the name";
	{
		char *args[] = {"x", "name", 0};
		char *envp[] = {0};
		expect_eq(run("/proc/self/exe", args, envp), 0, "PR_GET_NAME is the basename of the path");
	}
	ok();

	current = "close-on-exec";
	pid = fork_ok();
	if (pid == 0) {
		char *args[] = {"x", "fds", 0};
		char *envp[] = {0};
		long fd = S3(SYS_open, "/proc/self/exe", O_RDONLY, 0);
		CHECK(fd >= 0, "open = %ld (%s)", fd, errname(fd));
		expect_eq(S3(SYS_dup3, fd, 20, O_CLOEXEC), 20, "dup3 O_CLOEXEC to 20");
		expect_eq(S3(SYS_dup3, fd, 21, 0), 21, "dup3 to 21");
		expect_eq(S3(SYS_dup3, fd, 22, 0), 22, "dup3 to 22");
		expect_eq(S3(SYS_fcntl, 22, F_SETFD, FD_CLOEXEC), 0, "F_SETFD FD_CLOEXEC on 22");
		expect_eq(S2(SYS_dup2, 20, 23), 23, "dup2 20 to 23, which clears close-on-exec");
		expect_eq(S3(SYS_lseek, 21, 7, SEEK_SET), 7, "lseek 21");
		S1(SYS_close, fd);
		long r = S3(SYS_execve, "/proc/self/exe", args, envp);
		fail("execve = %ld (%s)", r, errname(r));
	}
	expect_exited(pid, 0, "the new image's checks");
	ok();

	current = "signals across execve";
	pid = fork_ok();
	if (pid == 0) {
		char *args[] = {"x", "signals", 0};
		char *envp[] = {0};
		static char altstack[65536];
		stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
		on(SIGUSR1, handler, 0);
		on(SIGINT, handler, SA_ONSTACK | SA_RESTART);
		set_disposition(SIGUSR2, SIG_IGN, 0);
		set_disposition(SIGCHLD, SIG_IGN, 0);
		mask_one(SIG_BLOCK, SIGTERM);
		mask_one(SIG_BLOCK, SIGHUP);
		mask_one(SIG_BLOCK, SIGRTMIN);
		expect_eq(S2(SYS_kill, getpid(), SIGHUP), 0, "kill SIGHUP");
		expect_eq(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 77}), 0, "sigqueue SIGRTMIN");
		expect_eq(S2(SYS_sigaltstack, &ss, 0), 0, "sigaltstack");
		long r = S3(SYS_execve, "/proc/self/exe", args, envp);
		fail("execve = %ld (%s)", r, errname(r));
	}
	expect_exited(pid, 0, "the new image's checks");
	ok();

	current = "#! script";
	snprintf(text, sizeof text, "#!%s\n", self);
	write_file(in_scratch("plain"), text, 0755);
	snprintf(text, sizeof text, "#! %s  one two \t\nignored\n", self);
	write_file(in_scratch("withargs"), text, 0755);
	{
		char *args[] = {"argv0 is dropped", "x", "y", 0};
		snprintf(expect, sizeof expect, "%s|%s|x|y", self, in_scratch("plain"));
		snprintf(expect_env, sizeof expect_env, "EXPECT=%s", expect);
		envp_expect[0] = expect_env;
		envp_expect[1] = "EXPECT_COMM=plain";
		envp_expect[2] = 0;
		expect_eq(run(in_scratch("plain"), args, envp_expect), 0, "a script without interpreter argument");
		snprintf(expect, sizeof expect, "%s|one two|%s|x|y", self, in_scratch("withargs"));
		snprintf(expect_env, sizeof expect_env, "EXPECT=%s", expect);
		envp_expect[1] = "EXPECT_COMM=withargs";
		expect_eq(run(in_scratch("withargs"), args, envp_expect), 0,
			  "a script whose interpreter argument is one word with spaces, trimmed");
	}
	ok();

	current = "nested #! scripts";
	snprintf(text, sizeof text, "#!%s\n", in_scratch("withargs"));
	write_file(in_scratch("outer"), text, 0755);
	{
		char *args[] = {"dropped", "z", 0};
		snprintf(expect, sizeof expect, "%s|one two|%s|%s|z", self, in_scratch("withargs"), in_scratch("outer"));
		snprintf(expect_env, sizeof expect_env, "EXPECT=%s", expect);
		envp_expect[0] = expect_env;
		envp_expect[1] = "EXPECT_COMM=outer";
		expect_eq(run(in_scratch("outer"), args, envp_expect), 0, "a script whose interpreter is a script");
	}
	ok();

	current = "execve errors";
	{
		char *args[] = {"x", 0};
		char *envp[] = {0};
		write_file(in_scratch("noexec"), "#!/bin/sh\n", 0644);
		write_file(in_scratch("garbage"), "this is neither ELF nor a script\n", 0755);
		write_file(in_scratch("empty"), "", 0755);
		snprintf(text, sizeof text, "#!%s\n", in_scratch("nowhere"));
		write_file(in_scratch("badinterp"), text, 0755);
		expect_err(S3(SYS_execve, in_scratch("nowhere"), args, envp), ENOENT, "a missing file");
		expect_err(S3(SYS_execve, in_scratch("noexec"), args, envp), EACCES, "a file without execute permission");
		expect_err(S3(SYS_execve, scratch, args, envp), EACCES, "a directory");
		expect_err(S3(SYS_execve, in_scratch("garbage"), args, envp), ENOEXEC, "neither ELF nor #!");
		expect_err(S3(SYS_execve, in_scratch("empty"), args, envp), ENOEXEC, "an empty file");
		expect_err(S3(SYS_execve, in_scratch("badinterp"), args, envp), ENOENT, "a missing interpreter");
		expect_err(S3(SYS_execve, in_scratch("garbage/x"), args, envp), ENOTDIR, "a file as a directory");
		expect_err(S3(SYS_execve, "", args, envp), ENOENT, "an empty path");
		expect_err(S3(SYS_execve, 8, args, envp), EFAULT, "a bad path pointer");
		expect_err(S3(SYS_execve, "/proc/self/exe", 8, envp), EFAULT, "a bad argv pointer");
		char *bad_args[] = {"x", (char *)8, 0};
		expect_err(S3(SYS_execve, "/proc/self/exe", bad_args, envp), EFAULT, "a bad argv string");
		expect_err(S3(SYS_execve, "/proc/self/exe", args, 8), EFAULT, "a bad envp pointer");
	}
	ok();

	current = "a child whose execve fails";
	pid = fork_ok();
	if (pid == 0) {
		char *args[] = {"x", 0};
		char *envp[] = {0};
		long r = S3(SYS_execve, in_scratch("nowhere"), args, envp);
		child_exit(r == -ENOENT ? 127 : 1);
	}
	expect_exited(pid, 127, "the child's exit after ENOENT");
	ok();

	current = "execveat AT_EMPTY_PATH";
	{
		char *args[] = {"fexec", "a", 0};
		long fd = S3(SYS_open, "/proc/self/exe", O_RDONLY | O_CLOEXEC, 0);
		CHECK(fd >= 0, "open = %ld (%s)", fd, errname(fd));
		envp_expect[0] = "EXPECT=fexec|a";
		envp_expect[1] = 0;
		expect_eq(run_at(fd, "", args, envp_expect, X_AT_EMPTY_PATH), 0, "an O_RDONLY | O_CLOEXEC descriptor");
		S1(SYS_close, fd);
		fd = S3(SYS_open, "/proc/self/exe", O_PATH, 0);
		CHECK(fd >= 0, "open O_PATH = %ld (%s)", fd, errname(fd));
		expect_eq(run_at(fd, "", args, envp_expect, X_AT_EMPTY_PATH), 0, "an O_PATH descriptor");
		expect_err(S5(SYS_execveat, fd, "", args, envp_expect, 0), ENOENT, "an empty path without AT_EMPTY_PATH");
		expect_err(S5(SYS_execveat, AT_FDCWD, in_scratch("nowhere"), args, envp_expect, 0x1), EINVAL,
			   "an unknown flag, before the lookup");
		S1(SYS_close, fd);
		expect_err(S5(SYS_execveat, fd, "", args, envp_expect, X_AT_EMPTY_PATH), EBADF, "a closed descriptor");
	}
	ok();

	current = "execveat of a script";
	{
		char *args[] = {"dropped", "s", 0};
		long fd = S3(SYS_open, in_scratch("withargs"), O_RDONLY, 0);
		CHECK(fd >= 0, "open = %ld (%s)", fd, errname(fd));
		expect_eq(S2(SYS_dup2, fd, 30), 30, "dup2 to 30");
		S1(SYS_close, fd);
		snprintf(expect, sizeof expect, "EXPECT=%s|one two|/dev/fd/30|s", self);
		envp_expect[0] = expect;
		envp_expect[1] = 0;
		expect_eq(run_at(30, "", args, envp_expect, X_AT_EMPTY_PATH), 0, "the script's path is /dev/fd/30");
		expect_eq(S3(SYS_fcntl, 30, F_SETFD, FD_CLOEXEC), 0, "F_SETFD FD_CLOEXEC");
		expect_err(S5(SYS_execveat, 30, "", args, envp_expect, X_AT_EMPTY_PATH), ENOENT,
			   "a close-on-exec descriptor of a script");
		S1(SYS_close, 30);
	}
	ok();

	current = "execveat relative to a directory";
	{
		char *args[] = {"dropped", "r", 0};
		long fd = S3(SYS_open, scratch, O_RDONLY | O_DIRECTORY, 0);
		CHECK(fd >= 0, "open = %ld (%s)", fd, errname(fd));
		expect_eq(S2(SYS_dup2, fd, 31), 31, "dup2 to 31");
		S1(SYS_close, fd);
		snprintf(expect, sizeof expect, "EXPECT=%s|one two|/dev/fd/31/withargs|r", self);
		envp_expect[0] = expect;
		envp_expect[1] = 0;
		expect_eq(run_at(31, "withargs", args, envp_expect, 0), 0, "the script's path is /dev/fd/31/withargs");
		snprintf(expect, sizeof expect, "EXPECT=%s|one two|%s|r", self, in_scratch("withargs"));
		expect_eq(run_at(31, in_scratch("withargs"), args, envp_expect, 0), 0,
			  "an absolute path ignores the descriptor");
		S1(SYS_close, 31);
	}
	ok();

	current = "cleanup";
	static const char *files[] = {"plain", "withargs", "outer", "noexec", "garbage", "empty", "badinterp"};
	for (unsigned i = 0; i < sizeof files / sizeof files[0]; i++)
		expect_eq(S1(SYS_unlink, in_scratch(files[i])), 0, files[i]);
	remove_scratch();
	ok();

	out("all ok\n");
	return 0;
}
