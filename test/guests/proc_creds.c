/* Credentials, with results exactly as Linux gives them: the real, effective,
 * saved and filesystem user and group ids that setuid, setreuid, setresuid,
 * setfsuid and their group twins change, each with its permission rule;
 * supplementary groups (setgroups, getgroups); the capabilities that leaving
 * uid 0 takes away and that an effective uid 0 takes back, capget and capset,
 * PR_SET_KEEPCAPS and the bounding set; what /proc/PID/status shows of them;
 * the uid in a signal's siginfo, SIGCHLD's and waitid's; kill between users
 * (EPERM, and SIGCONT within a session); credentials inherited by fork and
 * what execve makes of them (the saved ids, the capabilities, AT_SECURE);
 * and the file checks that follow them (access, chmod, chown). Prints
 * "ok NAME" per check, then "all ok"; on the first failure prints
 * "FAIL: NAME: details" and exits 1.
 *
 * Natively it must run as root. Every check that gives up uid 0 does so in a
 * child, and the ids it takes are 1000000 + its pid and nearby, which no
 * other process uses. Capability sets are compared by the bits of interest
 * only: the host may have dropped others from its bounding set. */
#define _GNU_SOURCE
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

#define CAP_CHOWN 0
#define CAP_KILL 5
#define CAP_SETGID 6
#define CAP_SETUID 7
#define CAP_V1 0x19980330
#define CAP_V3 0x20080522
#define NO_ID ((unsigned)-1)

struct cap_header {
	uint32_t version;
	int pid;
};

struct cap_data {
	uint32_t effective, permitted, inheritable;
};

/* A task's capability sets, 64 bits each. */
struct caps {
	uint64_t effective, permitted, inheritable;
};

static struct caps caps_of(int pid)
{
	struct cap_header h = {CAP_V3, pid};
	struct cap_data d[2];
	expect_eq(S2(SYS_capget, &h, d), 0, "capget");
	return (struct caps){d[0].effective | (uint64_t)d[1].effective << 32,
			     d[0].permitted | (uint64_t)d[1].permitted << 32,
			     d[0].inheritable | (uint64_t)d[1].inheritable << 32};
}

static long set_caps(struct caps c)
{
	struct cap_header h = {CAP_V3, 0};
	struct cap_data d[2] = {{(uint32_t)c.effective, (uint32_t)c.permitted, (uint32_t)c.inheritable},
				{(uint32_t)(c.effective >> 32), (uint32_t)(c.permitted >> 32),
				 (uint32_t)(c.inheritable >> 32)}};
	return S2(SYS_capset, &h, d);
}

static uint64_t bit(int cap)
{
	return 1ULL << cap;
}

static int has(uint64_t set, int cap)
{
	return (set & bit(cap)) != 0;
}

static void expect_ids(long which, unsigned r, unsigned e, unsigned s, const char *what)
{
	unsigned got[3] = {7, 7, 7};
	expect_eq(S3(which, &got[0], &got[1], &got[2]), 0, what);
	if (got[0] != r || got[1] != e || got[2] != s)
		fail("%s: expected %u %u %u, got %u %u %u", what, r, e, s, got[0], got[1], got[2]);
}

static void expect_uids(unsigned r, unsigned e, unsigned s, const char *what)
{
	expect_ids(SYS_getresuid, r, e, s, what);
}

static void expect_gids(unsigned r, unsigned e, unsigned s, const char *what)
{
	expect_ids(SYS_getresgid, r, e, s, what);
}

/* The line of /proc/PID/status (pid 0: self) that starts with key, without
 * its end of line, in a static buffer. */
static const char *status_line(int pid, const char *key)
{
	static char line[256];
	char path[64], buf[4096];
	if (pid)
		snprintf(path, sizeof path, "/proc/%d/status", pid);
	else
		snprintf(path, sizeof path, "/proc/self/status");
	read_text(path, buf, sizeof buf);
	char *p = strstr(buf, key);
	if (!p)
		fail("no %s in %s", key, path);
	char *end = strchr(p, '\n');
	size_t len = end ? (size_t)(end - p) : strlen(p);
	if (len >= sizeof line)
		len = sizeof line - 1;
	memcpy(line, p, len);
	line[len] = 0;
	return line;
}

static void expect_status(int pid, const char *key, const char *want, const char *what)
{
	const char *got = status_line(pid, key);
	CHECK(strcmp(got, want) == 0, "%s: \"%s\", expected \"%s\"", what, got, want);
}

/* Runs fn in a child, which passes when fn returns; the parent expects exit 0. */
static void in_child(void (*fn)(void), const char *what)
{
	pid_t pid = fork_ok();
	if (pid == 0) {
		fn();
		child_exit(0);
	}
	expect_exited(pid, 0, what);
}

/* The check name, made of fn's checks in a child. */
static void check_in_child(const char *name, void (*fn)(void))
{
	current = name;
	in_child(fn, "the child's checks");
	ok();
}

static unsigned uid_a, uid_b, uid_c;
static int fds[2];
static pid_t target;

/* Picks three ids no other process uses, from this child's pid. */
static void pick_ids(void)
{
	uid_a = 1000000 + (unsigned)getpid() * 4;
	uid_b = uid_a + 1;
	uid_c = uid_a + 2;
}

static void saved_uid(void)
{
	char want[128];
	pick_ids();
	expect_eq(S3(SYS_setresuid, -1, uid_a, -1), 0, "seteuid through setresuid");
	expect_uids(0, uid_a, 0, "after seteuid");
	snprintf(want, sizeof want, "Uid:\t0\t%u\t0\t%u", uid_a, uid_a);
	expect_status(0, "Uid:", want, "status");
	struct caps c = caps_of(0);
	CHECK(c.effective == 0 && has(c.permitted, CAP_SETUID) && has(c.permitted, CAP_KILL),
	      "an effective uid other than 0 has no effective capability: %llx %llx", (unsigned long long)c.effective,
	      (unsigned long long)c.permitted);
	expect_eq(S3(SYS_setresuid, -1, 0, -1), 0, "back to effective 0");
	c = caps_of(0);
	CHECK(c.effective == c.permitted && has(c.effective, CAP_SETUID), "effective uid 0 takes the permitted set back");
	expect_eq(S2(SYS_setreuid, -1, uid_a), 0, "setreuid(-1, a)");
	expect_uids(0, uid_a, uid_a, "an effective uid other than the real one becomes the saved one");
	expect_eq(S2(SYS_setreuid, -1, 0), 0, "setreuid(-1, 0)");
	expect_uids(0, 0, uid_a, "the real uid as effective leaves the saved one");
	expect_eq(S1(SYS_setuid, uid_a), 0, "setuid(a) with CAP_SETUID");
	expect_uids(uid_a, uid_a, uid_a, "setuid sets all three");
	c = caps_of(0);
	CHECK(c.effective == 0 && c.permitted == 0, "leaving uid 0 everywhere drops the capabilities");
	expect_err(S1(SYS_setuid, 0), EPERM, "setuid(0) without CAP_SETUID");
	expect_err(S3(SYS_setresuid, 0, -1, -1), EPERM, "setresuid(0, -1, -1)");
	expect_err(S2(SYS_setreuid, -1, 0), EPERM, "setreuid(-1, 0)");
	expect_eq(S1(SYS_setuid, uid_a), 0, "setuid to its own uid");
	expect_eq(S3(SYS_setresuid, -1, -1, -1), 0, "setresuid(-1, -1, -1)");
	expect_err(S1(SYS_setuid, -1), EINVAL, "setuid(-1)");
	c.permitted = bit(CAP_SETUID);
	expect_err(set_caps(c), EPERM, "capset cannot raise the permitted set");
}

static void unprivileged_switches(void)
{
	pick_ids();
	expect_eq(S3(SYS_setresuid, uid_a, uid_b, uid_c), 0, "setresuid(a, b, c)");
	expect_uids(uid_a, uid_b, uid_c, "three ids");
	expect_eq(S1(SYS_setuid, uid_c), 0, "setuid to the saved uid");
	expect_uids(uid_a, uid_c, uid_c, "without CAP_SETUID setuid sets the effective uid only");
	expect_eq(S2(SYS_setreuid, uid_c, uid_a), 0, "setreuid(c, a): swap");
	expect_uids(uid_c, uid_a, uid_a, "setting the real uid makes the saved one the effective one");
	expect_err(S3(SYS_setresuid, uid_b, -1, -1), EPERM, "a uid that is none of the three");
	expect_err(S2(SYS_setreuid, -1, uid_b), EPERM, "setreuid to a uid that is none of the three");
	expect_eq(S3(SYS_setresuid, uid_a, uid_c, uid_a), 0, "any of the three anywhere");
	expect_uids(uid_a, uid_c, uid_a, "after setresuid(a, c, a)");
	expect_eq(S2(SYS_setreuid, uid_c, -1), 0, "setreuid to the effective uid as real");
	expect_uids(uid_c, uid_c, uid_c, "and the saved one follows the effective");
}

static void fs_uid(void)
{
	char want[128];
	pick_ids();
	expect_eq(S1(SYS_setfsuid, -1), 0, "setfsuid(-1) reads the filesystem uid");
	expect_eq(S1(SYS_setfsuid, uid_a), 0, "setfsuid(a) returns the old one");
	expect_eq(S1(SYS_setfsuid, -1), uid_a, "the filesystem uid");
	snprintf(want, sizeof want, "Uid:\t0\t0\t0\t%u", uid_a);
	expect_status(0, "Uid:", want, "status");
	struct caps c = caps_of(0);
	CHECK(!has(c.effective, CAP_CHOWN) && has(c.effective, CAP_KILL) && has(c.permitted, CAP_CHOWN),
	      "a filesystem uid other than 0 drops the filesystem capabilities only");
	expect_eq(S1(SYS_setfsuid, 0), uid_a, "setfsuid(0)");
	CHECK(has(caps_of(0).effective, CAP_CHOWN), "and uid 0 takes them back");
	expect_eq(S1(SYS_setfsgid, uid_b), 0, "setfsgid(b) returns the old one");
	expect_eq(S1(SYS_setfsgid, -1), uid_b, "the filesystem gid");
	expect_eq(S3(SYS_setresuid, uid_a, uid_a, uid_a), 0, "drop uid 0");
	expect_eq(S1(SYS_setfsuid, 0), uid_a, "setfsuid(0) without CAP_SETUID fails, and says the old one");
	expect_eq(S1(SYS_setfsuid, -1), uid_a, "the filesystem uid is unchanged");
	expect_eq(S1(SYS_setfsgid, uid_c), uid_b, "setfsgid to a gid that is none of its own fails without CAP_SETGID");
	expect_eq(S1(SYS_setfsgid, -1), uid_b, "the filesystem gid is unchanged");
	expect_eq(S1(SYS_setfsgid, 0), uid_b, "setfsgid to the real gid");
	expect_eq(S1(SYS_setfsgid, -1), 0, "changed");
}

static void group_ids(void)
{
	char want[128];
	pick_ids();
	expect_eq(S3(SYS_setresgid, uid_a, uid_b, uid_c), 0, "setresgid(a, b, c)");
	expect_gids(uid_a, uid_b, uid_c, "three gids");
	snprintf(want, sizeof want, "Gid:\t%u\t%u\t%u\t%u", uid_a, uid_b, uid_c, uid_b);
	expect_status(0, "Gid:", want, "status");
	expect_eq(S1(SYS_setgid, uid_b), 0, "setgid(b) with CAP_SETGID");
	expect_gids(uid_b, uid_b, uid_b, "setgid sets all three");
	expect_eq(S2(SYS_setregid, uid_a, uid_c), 0, "setregid(a, c)");
	expect_gids(uid_a, uid_c, uid_c, "the saved gid follows");
	expect_eq(S1(SYS_setuid, uid_a), 0, "drop uid 0");
	expect_err(S1(SYS_setgid, uid_b), EPERM, "setgid to a gid that is none of real and saved");
	expect_eq(S1(SYS_setgid, uid_a), 0, "setgid to the real gid");
	expect_gids(uid_a, uid_a, uid_c, "sets the effective gid only");
	expect_eq(S3(SYS_setresgid, uid_c, -1, -1), 0, "setresgid to the saved gid");
	expect_err(S3(SYS_setresgid, -1, uid_b, -1), EPERM, "setresgid to a new gid");
	expect_err(S2(SYS_setregid, uid_b, -1), EPERM, "setregid to a new gid");
	gid_t g = 5;
	expect_err(S2(SYS_setgroups, 1, &g), EPERM, "setgroups without CAP_SETGID");
	expect_err(S1(SYS_setgid, -1), EINVAL, "setgid(-1)");
}

/* A child as (r, e, s) that waits on fds, exits 0 when told, is killed by SIGUSR1 otherwise. */
static pid_t child_as(const int fds[2], unsigned r, unsigned e, unsigned s)
{
	pid_t pid = fork_ok();
	if (pid == 0) {
		char c;
		S1(SYS_close, fds[1]);
		if (S3(SYS_setresuid, r, e, s) != 0)
			child_exit(3);
		while (S3(SYS_read, fds[0], &c, 1) == -EINTR)
			;
		child_exit(0);
	}
	return pid;
}


/* Sends signals, as other users, to target (uids a, a, b), in the same session then in one of its own. */
static void kill_between_users(void)
{
	expect_eq(S3(SYS_setresuid, uid_c, uid_c, uid_b), 0, "setresuid(c, c, b)");
	expect_err(S2(SYS_kill, target, 0), EPERM, "another user's process");
	expect_err(S2(SYS_kill, target, SIGUSR1), EPERM, "another user's process");
	expect_err(S3(SYS_tgkill, target, target, SIGUSR1), EPERM, "tgkill to another user's process");
	expect_err(S3(SYS_rt_sigqueueinfo, target, SIGUSR1, &(siginfo_t){.si_code = SI_QUEUE}), EPERM,
		   "rt_sigqueueinfo to another user's process");
	expect_err(S2(SYS_kill, getppid(), 0), EPERM, "root's process");
	expect_eq(S2(SYS_kill, target, SIGCONT), 0, "SIGCONT within the session");
	expect_eq(S3(SYS_setresuid, -1, uid_b, -1), 0, "effective b");
	expect_eq(S2(SYS_kill, target, 0), 0, "the effective uid is the target's saved uid");
	expect_eq(S3(SYS_setresuid, uid_b, uid_c, -1), 0, "real b, effective c");
	expect_eq(S2(SYS_kill, target, 0), 0, "the real uid is the target's saved uid");
	expect_eq(S3(SYS_setresuid, uid_c, uid_c, uid_c), 0, "all c");
	expect_err(S2(SYS_kill, target, 0), EPERM, "no more");
	expect_eq(S0(SYS_setsid), getpid(), "a session of its own");
	expect_err(S2(SYS_kill, target, SIGCONT), EPERM, "SIGCONT from another session");
	expect_eq(S2(SYS_kill, -1, 0), 0, "kill(-1) fails only when there is no process");
}

static void run_by_execve(const char *uid);

static char *self_path;

int main(int argc, char **argv)
{
	self_path = argv[0];
	if (argc > 1) {
		run_by_execve(argv[1]);
		return 0;
	}

	current = "the identity at start";
	{
		long r = S0(SYS_getuid);
		if (r != 0)
			fail("getuid = %ld: natively this program must run as root", r);
		expect_uids(0, 0, 0, "getresuid");
		expect_gids(0, 0, 0, "getresgid");
		expect_eq(S0(SYS_geteuid), 0, "geteuid");
		expect_eq(S0(SYS_getgid), 0, "getgid");
		expect_eq(S0(SYS_getegid), 0, "getegid");
		expect_status(0, "Uid:", "Uid:\t0\t0\t0\t0", "status");
		expect_status(0, "Gid:", "Gid:\t0\t0\t0\t0", "status");
		struct caps c = caps_of(0);
		CHECK(c.effective == c.permitted && c.inheritable == 0 && has(c.effective, CAP_SETUID) &&
			      has(c.effective, CAP_SETGID) && has(c.effective, CAP_KILL) && has(c.effective, CAP_CHOWN),
		      "root's capabilities: %llx %llx %llx", (unsigned long long)c.effective,
		      (unsigned long long)c.permitted, (unsigned long long)c.inheritable);
		expect_eq(S2(SYS_prctl, PR_CAPBSET_READ, CAP_SETUID), 1, "CAP_SETUID is in the bounding set");
		expect_err(S2(SYS_prctl, PR_CAPBSET_READ, 64), EINVAL, "PR_CAPBSET_READ of capability 64");
		expect_eq(S1(SYS_prctl, PR_GET_KEEPCAPS), 0, "PR_GET_KEEPCAPS");
	}
	ok();

	current = "setgroups and getgroups";
	{
		gid_t set[3] = {30, 10, 20}, got[4] = {0}, bad = (gid_t)-1;
		expect_eq(S2(SYS_setgroups, 3, set), 0, "setgroups");
		expect_eq(S2(SYS_getgroups, 0, 0), 3, "the count");
		expect_err(S2(SYS_getgroups, 2, got), EINVAL, "a list too short");
		expect_err(S2(SYS_getgroups, -1, got), EINVAL, "size -1");
		expect_eq(S2(SYS_getgroups, 4, got), 3, "getgroups");
		CHECK(got[0] == 10 && got[1] == 20 && got[2] == 30, "sorted: %u %u %u", got[0], got[1], got[2]);
		expect_status(0, "Groups:", "Groups:\t10 20 30 ", "status");
		expect_err(S2(SYS_setgroups, 1, &bad), EINVAL, "gid -1");
		expect_err(S2(SYS_setgroups, 65537, set), EINVAL, "more than NGROUPS_MAX");
		expect_err(S2(SYS_setgroups, 1, 8), EFAULT, "a bad pointer");
		expect_eq(S2(SYS_setgroups, 0, 0), 0, "no groups");
		expect_eq(S2(SYS_getgroups, 0, 0), 0, "none");
		expect_status(0, "Groups:", "Groups:\t ", "status");
	}
	ok();

	check_in_child("the saved uid and capabilities", saved_uid);
	check_in_child("unprivileged uid changes", unprivileged_switches);
	check_in_child("setfsuid and setfsgid", fs_uid);
	check_in_child("group ids", group_ids);

	current = "getresuid errors";
	{
		unsigned u;
		expect_err(S3(SYS_getresuid, 8, &u, &u), EFAULT, "a bad pointer");
		expect_err(S3(SYS_getresgid, &u, &u, 8), EFAULT, "a bad last pointer");
	}
	ok();

	current = "capget and capset";
	{
		struct cap_header h = {0x12345, 0};
		struct cap_data d[2];
		expect_err(S2(SYS_capget, &h, d), EINVAL, "an unknown version");
		expect_eq(h.version, CAP_V3, "the version the kernel prefers");
		h.version = 0x12345;
		expect_eq(S2(SYS_capget, &h, 0), 0, "an unknown version and no data");
		expect_eq(h.version, CAP_V3, "the version the kernel prefers");
		h.version = CAP_V3;
		h.pid = -1;
		expect_err(S2(SYS_capget, &h, d), EINVAL, "pid -1");
		h.pid = 0x3fffffff;
		expect_err(S2(SYS_capget, &h, d), ESRCH, "no such process");
		h.pid = 0x3fffffff;
		expect_err(S2(SYS_capset, &h, d), EPERM, "capset of another process");
		h.version = CAP_V1;
		h.pid = 0;
		memset(d, 0xff, sizeof d);
		expect_eq(S2(SYS_capget, &h, d), 0, "version 1");
		CHECK(d[1].effective == 0xffffffff, "version 1 writes one word of each set");
		expect_err(S2(SYS_capget, 8, d), EFAULT, "a bad header");
	}
	{
		pid_t pid = fork_ok();
		if (pid == 0) {
			struct caps c = caps_of(0), all = c;
			pick_ids();
			c.effective &= ~bit(CAP_SETUID);
			expect_eq(set_caps(c), 0, "drop CAP_SETUID from the effective set");
			expect_err(S1(SYS_setuid, uid_a), EPERM, "setuid without CAP_SETUID");
			expect_eq(set_caps(all), 0, "raise it again from the permitted set");
			c.effective &= ~bit(CAP_SETGID);
			c.permitted &= ~bit(CAP_SETGID);
			expect_eq(set_caps(c), 0, "drop CAP_SETGID from the permitted set");
			expect_err(set_caps(all), EPERM, "it cannot come back");
			c.effective |= bit(CAP_SETGID);
			expect_err(set_caps(c), EPERM, "an effective set outside the permitted one");
			child_exit(0);
		}
		expect_exited(pid, 0, "the child's checks");
	}
	ok();

	current = "PR_SET_KEEPCAPS";
	{
		pid_t pid = fork_ok();
		if (pid == 0) {
			pick_ids();
			expect_err(S2(SYS_prctl, PR_SET_KEEPCAPS, 2), EINVAL, "PR_SET_KEEPCAPS 2");
			expect_eq(S2(SYS_prctl, PR_SET_KEEPCAPS, 1), 0, "PR_SET_KEEPCAPS 1");
			expect_eq(S1(SYS_prctl, PR_GET_KEEPCAPS), 1, "PR_GET_KEEPCAPS");
			expect_eq(S3(SYS_setresuid, uid_a, uid_a, uid_a), 0, "leave uid 0");
			struct caps c = caps_of(0);
			CHECK(c.effective == 0 && has(c.permitted, CAP_SETUID), "the permitted set is kept");
			c.effective = bit(CAP_SETUID);
			expect_eq(set_caps(c), 0, "raise CAP_SETUID");
			expect_eq(S1(SYS_setuid, 0), 0, "setuid(0) with it");
			expect_uids(0, 0, 0, "root again");
			child_exit(0);
		}
		expect_exited(pid, 0, "the child's checks");
	}
	ok();

	current = "the uid in siginfo";
	{
		siginfo_t si;
		sigset_t set;
		struct timespec limit = {5, 0};
		unsigned uid;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigaddset(&set, SIGCHLD);
		mask_one(SIG_BLOCK, SIGUSR1);
		mask_one(SIG_BLOCK, SIGCHLD);
		pid_t pid = fork_ok();
		if (pid == 0) {
			pick_ids();
			/* Effective 0 keeps CAP_KILL; the siginfo says the real uid. */
			expect_eq(S3(SYS_setresuid, uid_a, 0, 0), 0, "real a, effective 0");
			expect_eq(sigqueue(getppid(), SIGUSR1, (union sigval){.sival_int = 1}), 0, "sigqueue to root");
			child_exit(0);
		}
		uid = 1000000 + (unsigned)pid * 4;
		memset(&si, 0, sizeof si);
		expect_eq(S4(SYS_rt_sigtimedwait, &set, &si, &limit, 8), SIGUSR1, "SIGUSR1");
		CHECK(si.si_code == SI_QUEUE && si.si_pid == pid && si.si_uid == uid, "si_uid %u, expected %u", si.si_uid, uid);
		memset(&si, 0, sizeof si);
		expect_eq(S4(SYS_rt_sigtimedwait, &set, &si, &limit, 8), SIGCHLD, "SIGCHLD");
		CHECK(si.si_code == CLD_EXITED && si.si_pid == pid && si.si_uid == uid, "SIGCHLD si_uid %u, expected %u",
		      si.si_uid, uid);
		memset(&si, 0, sizeof si);
		expect_eq(S5(SYS_waitid, P_PID, pid, &si, WEXITED, 0), 0, "waitid");
		CHECK(si.si_pid == pid && si.si_uid == uid, "waitid si_uid %u, expected %u", si.si_uid, uid);
		mask_one(SIG_UNBLOCK, SIGUSR1);
		mask_one(SIG_UNBLOCK, SIGCHLD);
	}
	ok();

	current = "kill between users";
	{
		char want[128];
		pick_ids();
		pipe_ok(fds, 0);
		target = child_as(fds, uid_a, uid_a, uid_b);
		wait_sleeping(target);
		snprintf(want, sizeof want, "Uid:\t%u\t%u\t%u\t%u", uid_a, uid_a, uid_b, uid_a);
		expect_status(target, "Uid:", want, "another process's status");
		in_child(kill_between_users, "the sender's checks");
		expect_eq(S2(SYS_kill, target, SIGUSR1), 0, "root kills anyone");
		expect_killed(target, SIGUSR1, "the target");
		S1(SYS_close, fds[0]);
		S1(SYS_close, fds[1]);
	}
	ok();

	current = "fork and execve";
	{
		char arg[64];
		pick_ids();
		pid_t pid = fork_ok();
		if (pid == 0) {
			gid_t groups[2] = {uid_b, uid_c};
			expect_eq(S2(SYS_setgroups, 2, groups), 0, "setgroups");
			expect_eq(S3(SYS_setresgid, uid_a, uid_b, uid_c), 0, "setresgid(a, b, c)");
			expect_eq(S2(SYS_prctl, PR_CAPBSET_DROP, CAP_KILL), 0, "drop CAP_KILL from the bounding set");
			expect_eq(S2(SYS_prctl, PR_CAPBSET_READ, CAP_KILL), 0, "CAP_KILL is out of it");
			expect_eq(S3(SYS_setresuid, 0, uid_a, uid_b), 0, "setresuid(0, a, b)");
			expect_err(S2(SYS_prctl, PR_CAPBSET_DROP, CAP_SETUID), EPERM, "PR_CAPBSET_DROP without CAP_SETPCAP");
			pid_t grandchild = fork_ok();
			if (grandchild == 0) {
				expect_uids(0, uid_a, uid_b, "a child's uids");
				expect_gids(uid_a, uid_b, uid_c, "a child's gids");
				expect_eq(S2(SYS_getgroups, 0, 0), 2, "a child's groups");
				child_exit(0);
			}
			expect_exited(grandchild, 0, "the grandchild");
			snprintf(arg, sizeof arg, "%u", uid_a);
			char *args[] = {self_path, arg, 0};
			S3(SYS_execve, self_path, args, environ);
			fail("execve failed");
		}
		expect_exited(pid, 0, "the program it ran");
	}
	ok();

	current = "file checks follow the credentials";
	{
		make_scratch("creds");
		const char *file = in_scratch("file");
		long fd = S3(SYS_open, file, O_CREAT | O_WRONLY, 0600);
		CHECK(fd >= 0, "create: %ld", fd);
		S1(SYS_close, fd);
		expect_eq(S2(SYS_chmod, scratch, 0755), 0, "chmod the folder");
		pid_t pid = fork_ok();
		if (pid == 0) {
			pick_ids();
			expect_eq(S3(SYS_setresuid, 0, uid_a, 0), 0, "effective a");
			expect_eq(S2(SYS_access, file, R_OK), 0, "access checks as the real user");
			expect_err(S4(SYS_faccessat2, AT_FDCWD, file, R_OK, AT_EACCESS), EACCES,
				   "AT_EACCESS checks as the effective user");
			expect_err(S2(SYS_chmod, file, 0644), EPERM, "chmod another user's file");
			expect_err(S3(SYS_chown, file, uid_a, -1), EPERM, "chown another user's file");
			expect_eq(S3(SYS_setresuid, 0, 0, 0), 0, "root again");
			expect_eq(S3(SYS_chown, file, uid_a, uid_a), 0, "give it away");
			expect_eq(S3(SYS_setresuid, uid_a, uid_a, uid_a), 0, "become its owner");
			expect_eq(S2(SYS_access, file, R_OK | W_OK), 0, "the owner may read and write");
			expect_eq(S2(SYS_chmod, file, 0640), 0, "the owner may chmod");
			expect_err(S3(SYS_chown, file, uid_b, -1), EPERM, "but not give it away");
			expect_err(S3(SYS_chown, file, -1, uid_b), EPERM, "nor to a group of another");
			expect_eq(S3(SYS_chown, file, -1, uid_a), 0, "chgrp to its own group");
			child_exit(0);
		}
		expect_exited(pid, 0, "the child's checks");
		expect_eq(S1(SYS_unlink, file), 0, "unlink");
		remove_scratch();
	}
	ok();

	out("all ok\n");
	return 0;
}

/* The program run by "fork and execve", as uids (0, a, b) and gids (a, b, c)
 * with groups b and c, and CAP_KILL out of the bounding set: execve makes
 * the saved ids the effective ones, keeps the groups, gives the real root
 * the bounding set as permitted capabilities but no effective ones, and
 * says AT_SECURE. It prints nothing unless a check fails. */
static void run_by_execve(const char *uid)
{
	char want[128];
	unsigned a = (unsigned)strtoul(uid, 0, 10), b = a + 1, c = a + 2;
	gid_t groups[3] = {0};
	current = "fork and execve";
	expect_uids(0, a, a, "the saved uid is the effective one");
	expect_gids(a, b, b, "the saved gid is the effective one");
	expect_eq(S2(SYS_getgroups, 3, groups), 2, "the groups");
	CHECK(groups[0] == b && groups[1] == c, "groups %u %u", groups[0], groups[1]);
	snprintf(want, sizeof want, "Uid:\t0\t%u\t%u\t%u", a, a, a);
	expect_status(0, "Uid:", want, "status");
	struct caps caps = caps_of(0);
	CHECK(caps.effective == 0 && has(caps.permitted, CAP_SETUID) && !has(caps.permitted, CAP_KILL),
	      "capabilities after execve: %llx %llx", (unsigned long long)caps.effective,
	      (unsigned long long)caps.permitted);
	CHECK(getauxval(AT_SECURE) == 1 && getauxval(AT_UID) == 0 && getauxval(AT_EUID) == a && getauxval(AT_GID) == a &&
		      getauxval(AT_EGID) == b,
	      "auxv: secure %lu uid %lu euid %lu gid %lu egid %lu", getauxval(AT_SECURE), getauxval(AT_UID),
	      getauxval(AT_EUID), getauxval(AT_GID), getauxval(AT_EGID));
	expect_eq(S1(SYS_setuid, 0), 0, "setuid(0): the real uid");
	expect_uids(0, 0, a, "effective root again");
	CHECK(has(caps_of(0).effective, CAP_SETUID), "with its capabilities");
}
