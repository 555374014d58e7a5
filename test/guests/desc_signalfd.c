/* signalfd(2) and signalfd4(2) through raw system calls, with the exact
 * results and errnos Linux gives: the flags and errors, reads of struct
 * signalfd_siginfo (kill, tgkill, sigqueue with its value, several records
 * in one read, a child's SIGCHLD with its status), EAGAIN, the mask changed
 * through the same fd, poll, a blocking read ended by a signal from a child,
 * and a forked child reading its own signals, not its parent's. Prints
 * "ok NAME" per check, then "all ok"; on the first failure prints
 * "FAIL: NAME: details" and exits 1. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"
#include "desc.h"

static struct signalfd_siginfo records[4];

static long make(int fd, uint64_t mask, int flags)
{
	return S4(SYS_signalfd4, fd, &mask, 8, flags);
}

/* Reads one record from fd, expecting signal sig with code. */
static struct signalfd_siginfo *expect_record(int fd, int sig, int code, const char *what)
{
	memset(records, 0, sizeof records);
	expect_eq(S3(SYS_read, fd, records, sizeof records[0]), sizeof records[0], what);
	if ((int)records[0].ssi_signo != sig || records[0].ssi_code != code)
		fail("%s: signal %u code %d, expected %d code %d", what, records[0].ssi_signo, records[0].ssi_code, sig, code);
	return &records[0];
}

static void check_create(void)
{
	current = "signalfd4";
	long fd = make(-1, BIT(SIGUSR1), 0);
	expect_eq(fd, 3, "signalfd4(-1, {SIGUSR1}, 0)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDWR, "F_GETFL");
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), 0, "F_GETFD");
	expect_link((int)fd, "anon_inode:[signalfd]");
	struct stat st;
	expect_eq(S2(SYS_fstat, fd, &st), 0, "fstat");
	expect_eq(st.st_mode, 0600, "st_mode");
	S1(SYS_close, fd);
	fd = make(-1, BIT(SIGUSR1), SFD_NONBLOCK | SFD_CLOEXEC);
	expect_eq(S2(SYS_fcntl, fd, F_GETFL), O_RDWR | O_NONBLOCK, "F_GETFL(SFD_NONBLOCK)");
	expect_eq(S2(SYS_fcntl, fd, F_GETFD), FD_CLOEXEC, "F_GETFD(SFD_CLOEXEC)");
	S1(SYS_close, fd);
	uint64_t mask = BIT(SIGUSR1);
	fd = S3(SYS_signalfd, -1, &mask, 8);
	expect_eq(fd, 3, "signalfd(-1, {SIGUSR1})");
	S1(SYS_close, fd);
	expect_err(S4(SYS_signalfd4, -1, &mask, 4, 0), EINVAL, "sizemask 4");
	expect_err(S4(SYS_signalfd4, -1, (void *)8, 8, 0), EFAULT, "a bad mask");
	expect_err(S4(SYS_signalfd4, -1, (void *)8, 8, O_APPEND), EFAULT, "a bad mask and bad flags");
	expect_err(make(-1, BIT(SIGUSR1), O_APPEND), EINVAL, "flags O_APPEND");
	expect_err(make(0, BIT(SIGUSR1), 0), EINVAL, "signalfd4 on stdin");
	expect_err(make(99, BIT(SIGUSR1), 0), EBADF, "signalfd4 on a closed fd");
	ok();
}

static void check_read(void)
{
	current = "reads";
	block_signals(BIT(SIGUSR1) | BIT(SIGUSR2) | BIT(SIGRTMIN));
	int fd = (int)make(-1, BIT(SIGUSR1) | BIT(SIGRTMIN), SFD_NONBLOCK);
	char small[127];
	expect_err(S3(SYS_read, fd, records, sizeof records[0]), EAGAIN, "read with nothing pending");
	long pid = S0(SYS_getpid);
	expect_eq(S2(SYS_kill, pid, SIGUSR1), 0, "kill(SIGUSR1)");
	expect_err(S3(SYS_read, fd, small, sizeof small), EINVAL, "read(127 bytes)");
	struct signalfd_siginfo *r = expect_record(fd, SIGUSR1, SI_USER, "read after kill");
	expect_eq(r->ssi_pid, pid, "ssi_pid");
	expect_eq(r->ssi_uid, S0(SYS_getuid), "ssi_uid");
	expect_eq(is_pending(SIGUSR1), 0, "SIGUSR1 still pending after the read");
	/* A signal outside the mask is left pending. */
	expect_eq(S2(SYS_kill, pid, SIGUSR2), 0, "kill(SIGUSR2)");
	expect_err(S3(SYS_read, fd, records, sizeof records[0]), EAGAIN, "read with only SIGUSR2 pending");
	CHECK(is_pending(SIGUSR2), "SIGUSR2 is no longer pending");
	expect_eq(S3(SYS_tgkill, pid, pid, SIGUSR1), 0, "tgkill(SIGUSR1)");
	r = expect_record(fd, SIGUSR1, SI_TKILL, "read after tgkill");
	expect_eq(r->ssi_pid, pid, "ssi_pid of tgkill");
	/* sigqueue's value, and three records in one read: lowest signal first, realtime ones queued. */
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_code = SI_QUEUE;
	si.si_pid = (pid_t)pid;
	si.si_uid = (uid_t)S0(SYS_getuid);
	si.si_value.sival_int = 1234;
	expect_eq(S3(SYS_rt_sigqueueinfo, pid, SIGRTMIN, &si), 0, "rt_sigqueueinfo(SIGRTMIN, 1234)");
	si.si_value.sival_int = 5678;
	expect_eq(S3(SYS_rt_sigqueueinfo, pid, SIGRTMIN, &si), 0, "rt_sigqueueinfo(SIGRTMIN, 5678)");
	expect_eq(S2(SYS_kill, pid, SIGUSR1), 0, "kill(SIGUSR1) again");
	memset(records, 0, sizeof records);
	expect_eq(S3(SYS_read, fd, records, sizeof records), 3 * sizeof records[0], "read of three records");
	expect_eq(records[0].ssi_signo, SIGUSR1, "first record's signal");
	expect_eq(records[1].ssi_signo, SIGRTMIN, "second record's signal");
	expect_eq(records[1].ssi_code, SI_QUEUE, "second record's code");
	expect_eq(records[1].ssi_int, 1234, "second record's ssi_int");
	expect_eq(records[1].ssi_ptr & 0xffffffff, 1234, "second record's ssi_ptr");
	expect_eq(records[2].ssi_int, 5678, "third record's ssi_int");
	expect_err(S3(SYS_read, fd, records, sizeof records[0]), EAGAIN, "read after three");
	S1(SYS_close, fd);
	/* Take SIGUSR2, still pending, off through a new signalfd. */
	fd = (int)make(-1, BIT(SIGUSR2), SFD_NONBLOCK);
	expect_record(fd, SIGUSR2, SI_USER, "read of SIGUSR2");
	S1(SYS_close, fd);
	ok();
}

static void check_mask(void)
{
	current = "changing the mask";
	int fd = (int)make(-1, BIT(SIGUSR1), SFD_NONBLOCK);
	long pid = S0(SYS_getpid);
	expect_eq(S2(SYS_kill, pid, SIGUSR2), 0, "kill(SIGUSR2)");
	expect_revents(fd, POLLIN, 0, "poll with SIGUSR2 pending, outside the mask");
	/* The same fd comes back; SIGKILL and SIGSTOP are left out silently. */
	expect_eq(make(fd, BIT(SIGUSR2) | BIT(SIGKILL) | BIT(SIGSTOP), 0), fd, "signalfd4 on the fd");
	expect_revents(fd, POLLIN | POLLOUT, POLLIN, "poll with SIGUSR2 in the mask");
	expect_record(fd, SIGUSR2, SI_USER, "read of SIGUSR2");
	expect_revents(fd, POLLIN | POLLOUT, 0, "poll after the read");
	S1(SYS_close, fd);
	ok();
}

static void check_child(void)
{
	current = "children";
	block_signals(BIT(SIGUSR1) | BIT(SIGUSR2) | BIT(SIGCHLD));
	int fd = (int)make(-1, BIT(SIGUSR1) | BIT(SIGCHLD), 0);
	pid_t pid = fork_ok();
	if (pid == 0) {
		wait_sleeping(getppid());
		child_exit(S2(SYS_kill, getppid(), SIGUSR1) == 0 ? 0 : 1);
	}
	/* A blocking read, which the child's signal ends. */
	struct signalfd_siginfo *r = expect_record(fd, SIGUSR1, SI_USER, "read that waits for the child's signal");
	expect_eq(r->ssi_pid, pid, "ssi_pid of the child's signal");
	r = expect_record(fd, SIGCHLD, CLD_EXITED, "read of SIGCHLD");
	expect_eq(r->ssi_pid, pid, "SIGCHLD's ssi_pid");
	expect_eq(r->ssi_status, 0, "SIGCHLD's ssi_status");
	expect_exited(pid, 0, "the signalling child");
	/* A child reads its own signals through the fd it inherited: not its parent's. */
	expect_eq(S2(SYS_kill, S0(SYS_getpid), SIGUSR1), 0, "kill(self, SIGUSR1)");
	pid = fork_ok();
	if (pid == 0) {
		int code = 0;
		struct signalfd_siginfo mine;
		long flags = S2(SYS_fcntl, fd, F_GETFL);
		S3(SYS_fcntl, fd, F_SETFL, flags | O_NONBLOCK);
		if (S3(SYS_read, fd, &mine, sizeof mine) != -EAGAIN)
			code = 2;
		S2(SYS_kill, S0(SYS_getpid), SIGUSR1);
		if (S3(SYS_read, fd, &mine, sizeof mine) != sizeof mine || mine.ssi_pid != (uint32_t)S0(SYS_getpid))
			code = 3;
		S3(SYS_fcntl, fd, F_SETFL, flags);
		child_exit(code);
	}
	expect_exited(pid, 0, "the child reading its own signals");
	r = expect_record(fd, SIGUSR1, SI_USER, "read of the parent's own SIGUSR1");
	expect_eq(r->ssi_pid, S0(SYS_getpid), "ssi_pid of the parent's own SIGUSR1");
	r = expect_record(fd, SIGCHLD, CLD_EXITED, "read of the second SIGCHLD");
	expect_eq(r->ssi_pid, pid, "second SIGCHLD's ssi_pid");
	S1(SYS_close, fd);
	block_signals(0);
	ok();
}

int main(void)
{
	start();
	check_create();
	check_read();
	check_mask();
	check_child();
	out("all ok\n");
	return 0;
}
