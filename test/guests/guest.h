/* Helpers shared by the guest test programs (syscalls.c, efault.c, mm.c):
 * raw inline-asm system calls (sys6 and the S0..S6 macros), so neither libc
 * (musl or glibc) nor the vDSO hides or changes anything; out(), an unbuffered
 * printf straight to fd 1 with write(2); errname(), a raw syscall result to its
 * errno name; the "ok NAME" / "FAIL: NAME: details" check helpers (current,
 * fail, CHECK, expect_err, expect_eq, ok); have_avx(); and mono_ns(), the
 * monotonic clock.
 *
 * Only static inline functions, macros and types: it is included, never built
 * as a guest of its own (scripts/build-guests.sh builds *.c and rebuilds every
 * guest when this file changes). Include it after the system headers. */
#ifndef GUEST_H
#define GUEST_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>

static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#define S0(n) sys6((n), 0, 0, 0, 0, 0, 0)
#define S1(n, a) sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define S2(n, a, b) sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define S3(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define S4(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define S5(n, a, b, c, d, e) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define S6(n, a, b, c, d, e, f) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* printf to fd 1 with raw write(2), unbuffered (at most 511 bytes a call);
 * exits with status 2 if the write fails. */
static inline void out(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 1)
		n = sizeof buf - 1;
	for (int off = 0; off < n;) {
		long w = S3(SYS_write, 1, buf + off, n - off);
		if (w <= 0)
			S1(SYS_exit_group, 2);
		off += (int)w;
	}
}

/* The errno name of a raw syscall result r (-errno), "E?" for an error not
 * listed here, "no error" for anything else (r >= 0, or below -4095, which is
 * an address or a value and not an error). */
static inline const char *errname(long r)
{
	switch (-r) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case ESPIPE: return "ESPIPE";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case ENOTEMPTY: return "ENOTEMPTY";
	case ELOOP: return "ELOOP";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case EROFS: return "EROFS";
	case EXDEV: return "EXDEV";
	case EMLINK: return "EMLINK";
	case ENOSPC: return "ENOSPC";
	case EFBIG: return "EFBIG";
	case ENXIO: return "ENXIO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ESTALE: return "ESTALE";
	case EBUSY: return "EBUSY";
	case EPIPE: return "EPIPE";
	case ECHILD: return "ECHILD";
	case ENOTSOCK: return "ENOTSOCK";
	case EDESTADDRREQ: return "EDESTADDRREQ";
	case EMSGSIZE: return "EMSGSIZE";
	case EPROTOTYPE: return "EPROTOTYPE";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EADDRINUSE: return "EADDRINUSE";
	case ECONNRESET: return "ECONNRESET";
	case ENOBUFS: return "ENOBUFS";
	case EISCONN: return "EISCONN";
	case ENOTCONN: return "ENOTCONN";
	case ECONNREFUSED: return "ECONNREFUSED";
	default: return r < 0 && r > -4096 ? "E?" : "no error";
	}
}

/* The name of the check under way: set it, run the check, then call ok(). */
static const char *current = "start";

/* Prints "FAIL: CURRENT: details" and exits with status 1. */
__attribute__((noreturn)) static inline void fail(const char *fmt, ...)
{
	char buf[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	out("FAIL: %s: %s\n", current, buf);
	S1(SYS_exit_group, 1);
	__builtin_unreachable();
}

#define CHECK(cond, ...)                     \
	do {                                 \
		if (!(cond))                 \
			fail(__VA_ARGS__);   \
	} while (0)

/* Expect r == -err (a raw syscall error). */
static inline void expect_err(long r, int err, const char *what)
{
	if (r != -err)
		fail("%s: expected %s, got %ld (%s)", what, errname(-err), r, errname(r));
}

/* Expect r == want. */
static inline void expect_eq(long r, long want, const char *what)
{
	if (r != want)
		fail("%s: expected %ld, got %ld (%s)", what, want, r, errname(r));
}

/* Prints "ok CURRENT". */
static inline void ok(void)
{
	out("ok %s\n", current);
}

/* Whether the CPU has AVX and the system has enabled its state (OSXSAVE, XCR0). */
static inline int have_avx(void)
{
	unsigned a, b, c, d, lo, hi;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(c & (1u << 27)) || !(c & (1u << 28)))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;
}

/* CLOCK_MONOTONIC in nanoseconds, by a raw clock_gettime (not the vDSO's). */
static inline int64_t mono_ns(void)
{
	struct timespec ts;
	long r = S2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	if (r != 0)
		fail("clock_gettime(CLOCK_MONOTONIC) = %ld", r);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The kernel's struct sigaction layout on x86_64. */
struct ksigaction {
	unsigned long handler;
	unsigned long flags;
	unsigned long restorer;
	uint64_t mask;
};

#endif
