/* Passes bad user pointers to system calls: each must fail with EFAULT (and the
 * process must survive). Prints "ok NAME" per check, then "all ok"; on the
 * first failure "FAIL: NAME: details" and exit 1.
 *
 * Needs some data on stdin (the test passes "data\n"): read(2) from an empty
 * pipe returns 0 without touching the buffer, so EFAULT needs bytes to copy.
 * The bad pointers are:
 *   low      (void *)1
 *   kernel   0xffffffff80000000 (kernel half)
 *   unmapped a page this program mapped and then unmapped
 * plus buffers that are read-only, PROT_NONE, or that straddle the end of a
 * mapping. All system calls are raw inline-asm syscalls (no libc, no vDSO). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

#define X_ARCH_GET_FS 0x1003
#define X_RLIMIT_STACK 3
#define X_FUTEX_WAIT 0

/* Expect r == -err; print "ok NAME (PTR)" on success. */
static void expect(long r, int err, const char *name, const char *ptr)
{
	if (r != -err) {
		out("FAIL: %s (%s): expected %s, got %ld (%s)\n", name, ptr, errname(-err), r, errname(r));
		S1(SYS_exit_group, 1);
	}
	out("ok %s (%s)\n", name, ptr);
}

/* Expect r == want (a non-error result). */
static void expect_val(long r, long want, const char *name, const char *ptr)
{
	if (r != want) {
		out("FAIL: %s (%s): expected %ld, got %ld (%s)\n", name, ptr, want, r, errname(r));
		S1(SYS_exit_group, 1);
	}
	out("ok %s (%s)\n", name, ptr);
}

int main(void)
{
	unsigned char *ro = (unsigned char *)S6(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *none = (unsigned char *)S6(SYS_mmap, 0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if ((long)ro < 0 || (long)none < 0) {
		out("FAIL: mmap\n");
		return 1;
	}
	/* The unmapped page: map two pages, unmap the second, so an object that
	 * starts near the end of the first page straddles into the unmapped one.
	 * No mmap may follow (it could reuse the hole). */
	unsigned char *two = (unsigned char *)S6(SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if ((long)two < 0) {
		out("FAIL: mmap\n");
		return 1;
	}
	if (S2(SYS_munmap, two + 4096, 4096) != 0) {
		out("FAIL: munmap\n");
		return 1;
	}

	struct {
		const char *name;
		void *p;
	} bad[3] = {
		{ "low", (void *)1 },
		{ "kernel", (void *)0xffffffff80000000UL },
		{ "unmapped", two + 4096 },
	};

	for (int i = 0; i < 3; i++) {
		void *p = bad[i].p;
		const char *n = bad[i].name;
		struct timespec ts = { 0, 1000 };
		struct iovec iov = { p, 16 };
		struct ksigaction act = { (unsigned long)SIG_DFL, 0, 0, 0 };

		expect(S3(SYS_write, 1, p, 16), EFAULT, "write", n);
		expect(S3(SYS_read, 0, p, 16), EFAULT, "read", n);
		expect(S3(SYS_readv, 0, &iov, 1), EFAULT, "readv buffer", n);
		expect(S3(SYS_readv, 0, p, 1), EFAULT, "readv iovec array", n);
		expect(S3(SYS_writev, 1, &iov, 1), EFAULT, "writev buffer", n);
		expect(S3(SYS_writev, 1, p, 1), EFAULT, "writev iovec array", n);
		expect(S2(SYS_clock_gettime, CLOCK_MONOTONIC, p), EFAULT, "clock_gettime", n);
		expect(S2(SYS_clock_getres, CLOCK_MONOTONIC, p), EFAULT, "clock_getres", n);
		expect(S2(SYS_gettimeofday, p, NULL), EFAULT, "gettimeofday", n);
		expect(S1(SYS_time, p), EFAULT, "time", n);
		expect(S1(SYS_uname, p), EFAULT, "uname", n);
		expect(S3(SYS_getrandom, p, 16, 0), EFAULT, "getrandom", n);
		expect(S4(SYS_rt_sigaction, SIGUSR1, p, NULL, 8), EFAULT, "rt_sigaction act", n);
		expect(S4(SYS_rt_sigaction, SIGUSR1, &act, p, 8), EFAULT, "rt_sigaction oldact", n);
		expect(S4(SYS_rt_sigprocmask, SIG_BLOCK, p, NULL, 8), EFAULT, "rt_sigprocmask set", n);
		expect(S4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, p, 8), EFAULT, "rt_sigprocmask oldset", n);
		expect(S2(SYS_sigaltstack, p, NULL), EFAULT, "sigaltstack", n);
		expect(S2(SYS_nanosleep, p, NULL), EFAULT, "nanosleep", n);
		expect(S4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, p, NULL), EFAULT, "clock_nanosleep", n);
		expect(S2(SYS_fstat, 1, p), EFAULT, "fstat", n);
		expect(S3(SYS_poll, p, 1, 0), EFAULT, "poll", n);
		expect(S4(SYS_prlimit64, 0, X_RLIMIT_STACK, NULL, p), EFAULT, "prlimit64", n);
		expect(S2(SYS_getrlimit, X_RLIMIT_STACK, p), EFAULT, "getrlimit", n);
		expect(S3(SYS_sched_getaffinity, 0, 128, p), EFAULT, "sched_getaffinity", n);
		expect(S2(SYS_getcwd, p, 4096), EFAULT, "getcwd", n);
		expect(S3(SYS_readlink, "/proc/self/exe", p, 256), EFAULT, "readlink buffer", n);
		expect(S3(SYS_readlink, p, two, 256), EFAULT, "readlink path", n);
		expect(S2(SYS_arch_prctl, X_ARCH_GET_FS, p), EFAULT, "arch_prctl ARCH_GET_FS", n);
		expect(S6(SYS_futex, p == (void *)1 ? (void *)4 : p, X_FUTEX_WAIT, 0, NULL, NULL, 0), EFAULT, "futex",
		       n);
		expect_val(S2(SYS_nanosleep, &ts, NULL), 0, "nanosleep still works", n);
		/* pread64 on a pipe: the seekability check comes before the buffer. */
		expect(S4(SYS_pread64, 1, p, 16, 0), ESPIPE, "pread64 on a pipe", n);
	}

	/* Objects that straddle the end of the mapped page. */
	expect(S1(SYS_uname, two + 4096 - 100), EFAULT, "uname", "straddling");
	expect(S2(SYS_clock_gettime, CLOCK_MONOTONIC, two + 4096 - 8), EFAULT, "clock_gettime", "straddling");
	/* getrandom copies what fits before the hole and returns that count. */
	expect_val(S3(SYS_getrandom, two + 4096 - 8, 16, 0), 8, "getrandom returns the 8 bytes before the hole", "straddling");

	/* Protection: writes into a read-only page, any access to PROT_NONE. */
	expect(S2(SYS_clock_gettime, CLOCK_MONOTONIC, ro), EFAULT, "clock_gettime", "read-only");
	expect(S1(SYS_uname, ro), EFAULT, "uname", "read-only");
	expect(S3(SYS_getrandom, ro, 16, 0), EFAULT, "getrandom", "read-only");
	expect(S3(SYS_read, 0, ro, 16), EFAULT, "read", "read-only");
	expect(S3(SYS_write, 1, none, 16), EFAULT, "write", "PROT_NONE");
	expect(S2(SYS_clock_gettime, CLOCK_MONOTONIC, none), EFAULT, "clock_gettime", "PROT_NONE");

	out("all ok\n");
	return 0;
}
