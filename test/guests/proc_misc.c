/* Process groups, sessions, prctl and resource accounting, with results
 * exactly as Linux gives them: getpgid, getpgrp, setpgid (a child's group,
 * back to ours, and EPERM, EINVAL, ESRCH, EACCES after the child's execve),
 * setsid and getsid (EPERM for a group leader, ESRCH); prctl PR_SET_NAME and
 * PR_GET_NAME (15 bytes kept, /proc/PID/comm, inherited by fork),
 * PR_SET_PDEATHSIG (the signal and its siginfo when the parent dies, cleared
 * by fork), PR_SET_CHILD_SUBREAPER; getrusage RUSAGE_SELF, RUSAGE_CHILDREN
 * (only reaped children count) and RUSAGE_THREAD; times; sysinfo. Prints
 * "ok NAME" per check, then "all ok"; on the first failure prints
 * "FAIL: NAME: details" and exits 1.
 *
 * It re-executes itself (/proc/self/exe block) to have a child that has
 * called execve. It makes itself a child subreaper, so an orphan is
 * reparented to it natively, just as in a sandbox where it is PID 1. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

/* Uses at least ms milliseconds of CPU time (CLOCK_PROCESS_CPUTIME_ID). */
static void spin_ms(long ms)
{
	struct timespec ts;
	do
		S2(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts);
	while (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 < ms);
}

static long cpu_us(const struct rusage *ru)
{
	return ru->ru_utime.tv_sec * 1000000L + ru->ru_utime.tv_usec + ru->ru_stime.tv_sec * 1000000L +
	       ru->ru_stime.tv_usec;
}

static void name_is(const char *want, const char *what)
{
	char name[32];
	memset(name, 'x', sizeof name);
	expect_eq(S2(SYS_prctl, PR_GET_NAME, name), 0, "PR_GET_NAME");
	CHECK(strcmp(name, want) == 0, "%s: name \"%.31s\", expected \"%s\"", what, name, want);
}

/* The first line of /proc/PID/comm (or of /proc/self/comm, for pid 0). */
static const char *comm_of(pid_t pid)
{
	static char buf[64];
	char path[64];
	if (pid)
		snprintf(path, sizeof path, "/proc/%d/comm", pid);
	else
		snprintf(path, sizeof path, "/proc/self/comm");
	long fd = S3(SYS_open, path, O_RDONLY, 0);
	CHECK(fd >= 0, "open %s = %ld (%s)", path, fd, errname(fd));
	long n = S3(SYS_read, fd, buf, sizeof buf - 1);
	S1(SYS_close, fd);
	CHECK(n > 0, "read %s = %ld (%s)", path, n, errname(n));
	buf[n] = 0;
	return buf;
}

int main(int argc, char **argv)
{
	pid_t self = getpid(), pgrp, sid, pid, pid2, gone;
	int fds[2], notify[2];
	struct rusage ru;
	struct tms tm;

	if (argc > 1 && strcmp(argv[1], "block") == 0) {
		/* The re-executed child: says so on fd 11, waits on fd 10. */
		char c;
		put(11, 'e');
		S3(SYS_read, 10, &c, 1);
		return 0;
	}

	current = "getrusage";
	memset(&ru, 0xff, sizeof ru);
	expect_eq(S2(SYS_getrusage, RUSAGE_CHILDREN, &ru), 0, "RUSAGE_CHILDREN");
	expect_eq(cpu_us(&ru), 0, "no children yet");
	spin_ms(40);
	expect_eq(S2(SYS_getrusage, RUSAGE_SELF, &ru), 0, "RUSAGE_SELF");
	CHECK(cpu_us(&ru) >= 30000 && cpu_us(&ru) < 2000000, "after spinning 40 ms: %ld us", cpu_us(&ru));
	expect_eq(S2(SYS_getrusage, RUSAGE_THREAD, &ru), 0, "RUSAGE_THREAD");
	CHECK(cpu_us(&ru) >= 30000, "the thread spun 40 ms: %ld us", cpu_us(&ru));
	expect_err(S2(SYS_getrusage, 5, &ru), EINVAL, "who 5");
	pid = fork_ok();
	if (pid == 0) {
		spin_ms(40);
		child_exit(0);
	}
	{
		siginfo_t si;
		expect_eq(S5(SYS_waitid, P_PID, pid, &si, WEXITED | WNOWAIT, 0), 0, "wait until it exits");
		expect_eq(S2(SYS_getrusage, RUSAGE_CHILDREN, &ru), 0, "RUSAGE_CHILDREN");
		expect_eq(cpu_us(&ru), 0, "a zombie does not count");
		expect_exited(pid, 0, "reap it");
		expect_eq(S2(SYS_getrusage, RUSAGE_CHILDREN, &ru), 0, "RUSAGE_CHILDREN");
		CHECK(cpu_us(&ru) >= 30000 && cpu_us(&ru) < 2000000, "a reaped child that spun 40 ms: %ld us",
		      cpu_us(&ru));
	}
	ok();

	current = "times";
	{
		memset(&tm, 0xff, sizeof tm);
		long t1 = S1(SYS_times, &tm);
		CHECK(t1 > 0 || t1 < -4095, "times = %ld", t1);
		CHECK(tm.tms_utime + tm.tms_stime >= 3, "40 ms of CPU is %ld ticks", (long)(tm.tms_utime + tm.tms_stime));
		CHECK(tm.tms_cutime + tm.tms_cstime >= 3, "the reaped child's 40 ms is %ld ticks",
		      (long)(tm.tms_cutime + tm.tms_cstime));
		expect_eq(sysconf(_SC_CLK_TCK), 100, "CLK_TCK");
		sleep_ms(30);
		long t2 = S1(SYS_times, 0);
		CHECK(t2 - t1 >= 2 && t2 - t1 < 200, "30 ms later times grew by %ld ticks", t2 - t1);
	}
	ok();

	current = "sysinfo";
	{
		struct sysinfo info;
		memset(&info, 0, sizeof info);
		expect_eq(S1(SYS_sysinfo, &info), 0, "sysinfo");
		struct timespec boot;
		S2(SYS_clock_gettime, CLOCK_BOOTTIME, &boot);
		CHECK((long)info.uptime <= boot.tv_sec + 1, "uptime %ld beyond CLOCK_BOOTTIME %ld", (long)info.uptime,
		      (long)boot.tv_sec);
		CHECK(info.totalram > 0 && info.freeram <= info.totalram, "totalram %lu freeram %lu", info.totalram,
		      info.freeram);
		CHECK(info.freeswap <= info.totalswap, "freeswap %lu totalswap %lu", info.freeswap, info.totalswap);
		CHECK(info.mem_unit >= 1, "mem_unit %u", info.mem_unit);
		CHECK(info.procs >= 1, "procs %u", info.procs);
		expect_err(S1(SYS_sysinfo, 8), EFAULT, "a bad address");
	}
	ok();

	current = "PR_SET_CHILD_SUBREAPER";
	{
		int flag = -1;
		expect_eq(S2(SYS_prctl, PR_GET_CHILD_SUBREAPER, &flag), 0, "PR_GET_CHILD_SUBREAPER");
		expect_eq(flag, 0, "not a subreaper at start");
		expect_eq(S2(SYS_prctl, PR_SET_CHILD_SUBREAPER, 2), 0, "PR_SET_CHILD_SUBREAPER 2");
		expect_eq(S2(SYS_prctl, PR_GET_CHILD_SUBREAPER, &flag), 0, "PR_GET_CHILD_SUBREAPER");
		expect_eq(flag, 1, "a subreaper");
		pid = fork_ok();
		if (pid == 0) {
			flag = -1;
			S2(SYS_prctl, PR_GET_CHILD_SUBREAPER, &flag);
			child_exit(flag);
		}
		expect_exited(pid, 0, "a child is not a subreaper");
	}
	ok();

	current = "getpgid and getpgrp";
	gone = fork_ok();
	if (gone == 0)
		child_exit(0);
	expect_exited(gone, 0, "a child to be gone");
	/* Natively in a container our group's or session's leader may be outside
	 * our PID namespace, and Linux then reports it as 0: start a session of
	 * our own (it fails, harmlessly, if we already lead a group). In a
	 * sandbox the first program leads its group and session already. */
	if (S0(SYS_getpgrp) == 0 || S1(SYS_getsid, 0) == 0)
		S0(SYS_setsid);
	pgrp = S0(SYS_getpgrp);
	CHECK(pgrp > 0, "getpgrp = %d", pgrp);
	expect_eq(S1(SYS_getpgid, 0), pgrp, "getpgid(0)");
	expect_eq(S1(SYS_getpgid, self), pgrp, "getpgid(self)");
	expect_err(S1(SYS_getpgid, gone), ESRCH, "getpgid of a reaped pid");
	expect_err(S1(SYS_getpgid, -1), ESRCH, "getpgid(-1)");
	ok();

	current = "setpgid";
	pipe_ok(fds, O_CLOEXEC);
	pipe_ok(notify, O_CLOEXEC);
	pid = waiting_child(fds, 0);
	expect_eq(S1(SYS_getpgid, pid), pgrp, "a child starts in our group");
	expect_eq(S2(SYS_setpgid, pid, 0), 0, "setpgid(child, 0)");
	expect_eq(S1(SYS_getpgid, pid), pid, "the child leads a group of its own");
	pid2 = waiting_child(fds, 0);
	expect_eq(S2(SYS_setpgid, pid2, pid), 0, "setpgid(second child, first child's group)");
	expect_eq(S1(SYS_getpgid, pid2), pid, "the second child joined it");
	expect_eq(S2(SYS_setpgid, pid, pgrp), 0, "setpgid(child, our group)");
	expect_eq(S1(SYS_getpgid, pid), pgrp, "the child is back in our group");
	expect_eq(S1(SYS_getpgid, pid2), pid, "the group stays while it has a member");
	expect_err(S2(SYS_setpgid, pid, gone), EPERM, "a group that does not exist");
	expect_err(S2(SYS_setpgid, pid, -1), EINVAL, "pgid -1");
	expect_err(S2(SYS_setpgid, gone, 0), ESRCH, "a reaped pid");
	put(fds[1], 'x');
	put(fds[1], 'x');
	expect_exited(pid, 0, "the first child");
	expect_exited(pid2, 0, "the second child");
	pid = fork_ok();
	if (pid == 0) {
		char *args[] = {"x", "block", 0};
		char *envp[] = {0};
		S2(SYS_dup2, fds[0], 10);
		S2(SYS_dup2, notify[1], 11);
		long r = S3(SYS_execve, "/proc/self/exe", args, envp);
		fail("execve = %ld (%s)", r, errname(r));
	}
	expect_eq(get(notify[0]), 'e', "the child has called execve");
	expect_err(S2(SYS_setpgid, pid, 0), EACCES, "a child after its execve");
	put(fds[1], 'x');
	expect_exited(pid, 0, "the re-executed child");
	pid = fork_ok();
	if (pid == 0) {
		pid_t grandchild = waiting_child(fds, 0);
		S1(SYS_close, fds[1]);
		expect_eq(S3(SYS_write, notify[1], &grandchild, sizeof grandchild), sizeof grandchild, "send pid");
		expect_exited(grandchild, 0, "the grandchild");
		child_exit(0);
	}
	expect_eq(S3(SYS_read, notify[0], &pid2, sizeof pid2), sizeof pid2, "the grandchild's pid");
	expect_err(S2(SYS_setpgid, pid2, 0), ESRCH, "a grandchild");
	put(fds[1], 'x');
	expect_exited(pid, 0, "the child");
	ok();

	current = "setsid and getsid";
	sid = S1(SYS_getsid, 0);
	/* Still 0 natively if we led a group whose session leader is outside
	 * our PID namespace (see getpgrp above). */
	CHECK(sid >= 0, "getsid(0) = %d", sid);
	expect_eq(S1(SYS_getsid, self), sid, "getsid(self)");
	expect_err(S1(SYS_getsid, gone), ESRCH, "getsid of a reaped pid");
	pid = fork_ok();
	if (pid == 0) {
		expect_eq(S1(SYS_getsid, 0), sid, "a child starts in our session");
		expect_eq(S0(SYS_setsid), getpid(), "setsid");
		expect_eq(S1(SYS_getsid, 0), getpid(), "getsid after setsid");
		expect_eq(S0(SYS_getpgrp), getpid(), "getpgrp after setsid");
		expect_eq(getppid(), self, "the parent is unchanged");
		expect_err(S0(SYS_setsid), EPERM, "setsid of a session leader");
		expect_err(S2(SYS_setpgid, 0, 0), EPERM, "setpgid of a session leader");
		put(notify[1], 's');
		S1(SYS_close, fds[1]);
		get(fds[0]);
		child_exit(0);
	}
	expect_eq(get(notify[0]), 's', "the child made its session");
	expect_eq(S1(SYS_getsid, pid), pid, "getsid of a process in another session");
	expect_eq(S1(SYS_getpgid, pid), pid, "getpgid of it");
	expect_err(S2(SYS_setpgid, pid, 0), EPERM, "setpgid of a child in another session");
	put(fds[1], 'x');
	expect_exited(pid, 0, "the child's checks");
	pid = fork_ok();
	if (pid == 0) {
		expect_eq(S2(SYS_setpgid, 0, 0), 0, "setpgid(0, 0)");
		expect_err(S0(SYS_setsid), EPERM, "setsid of a group leader");
		child_exit(0);
	}
	expect_exited(pid, 0, "the child's checks");
	ok();

	current = "PR_SET_NAME and PR_GET_NAME";
	name_is("proc_misc", "the basename of the program");
	CHECK(strcmp(comm_of(0), "proc_misc\n") == 0, "/proc/self/comm %s", comm_of(0));
	expect_eq(S2(SYS_prctl, PR_SET_NAME, "hello"), 0, "PR_SET_NAME");
	name_is("hello", "set");
	CHECK(strcmp(comm_of(0), "hello\n") == 0, "/proc/self/comm %s", comm_of(0));
	expect_eq(S2(SYS_prctl, PR_SET_NAME, "0123456789abcdefXYZ"), 0, "PR_SET_NAME of 19 bytes");
	name_is("0123456789abcde", "truncated to 15 bytes");
	pid = fork_ok();
	if (pid == 0) {
		name_is("0123456789abcde", "inherited by fork");
		S2(SYS_prctl, PR_SET_NAME, "child");
		put(notify[1], 'n');
		S1(SYS_close, fds[1]);
		get(fds[0]);
		child_exit(0);
	}
	expect_eq(get(notify[0]), 'n', "the child renamed itself");
	CHECK(strcmp(comm_of(pid), "child\n") == 0, "the child's /proc/PID/comm %s", comm_of(pid));
	name_is("0123456789abcde", "the parent's name is its own");
	put(fds[1], 'x');
	expect_exited(pid, 0, "the child's checks");
	expect_eq(S2(SYS_prctl, PR_SET_NAME, ""), 0, "PR_SET_NAME \"\"");
	name_is("", "empty");
	expect_err(S2(SYS_prctl, PR_SET_NAME, 8), EFAULT, "a bad address");
	expect_eq(S2(SYS_prctl, PR_SET_NAME, "proc_misc"), 0, "PR_SET_NAME");
	ok();

	current = "PR_SET_PDEATHSIG";
	/* The child forks a grandchild that asks for a signal when its parent
	 * dies; the child exits once the grandchild is ready. */
	for (int with_handler = 0; with_handler < 2; with_handler++) {
		int ready[2], ids[2];
		pipe_ok(ready, 0);
		pipe_ok(ids, 0);
		pid = fork_ok();
		if (pid == 0) {
			pid_t parent = getpid();
			pid_t grandchild = fork_ok();
			if (grandchild == 0) {
				int sig = -1;
				sigset_t usr1;
				siginfo_t si;
				sigemptyset(&usr1);
				sigaddset(&usr1, SIGUSR1);
				if (with_handler)
					mask_one(SIG_BLOCK, SIGUSR1);
				expect_eq(S2(SYS_prctl, PR_GET_PDEATHSIG, &sig), 0, "PR_GET_PDEATHSIG");
				expect_eq(sig, 0, "fork cleared it");
				expect_err(S2(SYS_prctl, PR_SET_PDEATHSIG, 65), EINVAL, "signal 65");
				expect_eq(S2(SYS_prctl, PR_SET_PDEATHSIG, SIGUSR1), 0, "PR_SET_PDEATHSIG");
				expect_eq(S2(SYS_prctl, PR_GET_PDEATHSIG, &sig), 0, "PR_GET_PDEATHSIG");
				expect_eq(sig, SIGUSR1, "set");
				expect_eq(getppid(), parent, "the parent is alive");
				put(ready[1], 'r');
				if (!with_handler) {
					S1(SYS_close, fds[1]);
					get(fds[0]);
					child_exit(99);
				}
				memset(&si, 0, sizeof si);
				expect_eq(S4(SYS_rt_sigtimedwait, &usr1, &si, 0, 8), SIGUSR1, "the parent-death signal");
				CHECK(si.si_code == SI_USER && si.si_pid == parent, "si_code %d, si_pid %s", si.si_code,
				      si.si_pid == parent ? "the parent" : "not the parent");
				expect_eq(getppid(), self, "reparented to the subreaper");
				child_exit(0);
			}
			expect_eq(S3(SYS_write, ids[1], &grandchild, sizeof grandchild), sizeof grandchild, "send pid");
			get(ready[0]);
			child_exit(0);
		}
		expect_eq(S3(SYS_read, ids[0], &pid2, sizeof pid2), sizeof pid2, "the grandchild's pid");
		expect_exited(pid, 0, "the child");
		if (with_handler)
			expect_exited(pid2, 0, "the grandchild's checks");
		else
			expect_killed(pid2, SIGUSR1, "the grandchild, by its parent-death signal");
		S1(SYS_close, ready[0]);
		S1(SYS_close, ready[1]);
		S1(SYS_close, ids[0]);
		S1(SYS_close, ids[1]);
	}
	ok();

	S1(SYS_close, fds[0]);
	S1(SYS_close, fds[1]);
	S1(SYS_close, notify[0]);
	S1(SYS_close, notify[1]);
	out("all ok\n");
	return 0;
}
