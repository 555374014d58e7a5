/* One check per system call the sandbox implements, with exact results and
 * errnos as Linux gives them. Prints "ok NAME" per check, then "all ok"; on the
 * first failure prints "FAIL: NAME: details" and exits 1.
 *
 * Expects stdout and stderr to be pipes (as in the tests); stdin may be an
 * empty pipe or /dev/null-like input (its type is not probed).
 * System calls are made with raw inline-asm `syscall` so neither libc (musl or
 * glibc) nor the vDSO hides or changes anything. Output goes straight to fd 1
 * with write(2), unbuffered, so it interleaves correctly with raw writes. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <poll.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

/* Constants defined here because musl-gcc has no linux/ headers. */
#define X_TCGETS 0x5401
#define X_TIOCGWINSZ 0x5413
#define X_ARCH_SET_FS 0x1002
#define X_ARCH_GET_FS 0x1003
#define X_FUTEX_WAIT 0
#define X_FUTEX_WAKE 1
#define X_FUTEX_PRIVATE 128
#define X_GRND_NONBLOCK 1
#define X_AT_EMPTY_PATH 0x1000
#define X_STATX_BASIC_STATS 0x7ffU
#define X_RLIMIT_STACK 3
#define X_RLIMIT_NOFILE 7
#define X_SS_DISABLE 2
#define X_TIMER_ABSTIME 1

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

struct kstack {
	void *sp;
	int flags;
	size_t size;
};

static __thread int tls_var = 42;
static uintptr_t fake_tcb[16] __attribute__((aligned(64)));
static uint32_t futex_word;
static char altstack_buf[65536];

int main(int argc, char **argv)
{
	char buf[4096];
	long r;
	(void)argc;

	/* ---- read / write / readv / writev ---- */
	current = "write";
	expect_err(S3(SYS_write, 99, "x", 1), EBADF, "write(99)");
	expect_err(S3(SYS_write, -1, "x", 1), EBADF, "write(-1)");
	expect_eq(S3(SYS_write, 1, "x", 0), 0, "write(1, len 0)");
	expect_err(S3(SYS_write, 0, "x", 1), EBADF, "write(0) on the read-only stdin");
	ok();

	current = "read";
	expect_eq(S3(SYS_read, 0, buf, 0), 0, "read(0, len 0)");
	expect_err(S3(SYS_read, 99, buf, 1), EBADF, "read(99)");
	expect_err(S3(SYS_read, 1, buf, 1), EBADF, "read(1) on the write end of the stdout pipe");
	ok();

	current = "writev";
	{
		struct iovec iov[3] = {
			{ .iov_base = "ok ", .iov_len = 3 },
			{ .iov_base = "", .iov_len = 0 },
			{ .iov_base = "writev\n", .iov_len = 7 },
		};
		expect_err(S3(SYS_writev, 99, iov, 3), EBADF, "writev(99)");
		expect_err(S3(SYS_writev, 1, iov, -1), EINVAL, "writev(iovcnt -1)");
		expect_err(S3(SYS_writev, 1, iov, 1025), EINVAL, "writev(iovcnt 1025)");
		expect_eq(S3(SYS_writev, 1, iov, 0), 0, "writev(iovcnt 0)");
		/* This prints the "ok writev" line itself. */
		expect_eq(S3(SYS_writev, 1, iov, 3), 10, "writev(1, 3 iovecs)");
	}

	current = "readv";
	{
		struct iovec iov[2] = { { buf, 0 }, { buf + 8, 0 } };
		expect_eq(S3(SYS_readv, 0, iov, 2), 0, "readv(0, zero-length iovecs)");
		expect_eq(S3(SYS_readv, 0, iov, 0), 0, "readv(0, iovcnt 0)");
		expect_err(S3(SYS_readv, 99, iov, 1), EBADF, "readv(99)");
		expect_err(S3(SYS_readv, 0, iov, -1), EINVAL, "readv(iovcnt -1)");
		iov[0].iov_len = 1;
		expect_err(S3(SYS_readv, 1, iov, 1), EBADF, "readv(1) on a write-only fd");
	}
	ok();

	/* ---- pread64 / pwrite64 ---- */
	current = "pread64";
	expect_err(S4(SYS_pread64, 1, buf, 1, 0), ESPIPE, "pread64 on the stdout pipe");
	expect_err(S4(SYS_pread64, 2, buf, 1, 0), ESPIPE, "pread64 on the stderr pipe");
	expect_err(S4(SYS_pread64, 99, buf, 1, 0), EBADF, "pread64(99)");
	expect_err(S4(SYS_pread64, 1, buf, 1, -1), EINVAL, "pread64 negative offset");
	ok();

	current = "pwrite64";
	expect_err(S4(SYS_pwrite64, 1, "x", 1, 0), ESPIPE, "pwrite64 on the stdout pipe");
	expect_err(S4(SYS_pwrite64, 99, "x", 1, 0), EBADF, "pwrite64(99)");
	expect_err(S4(SYS_pwrite64, 1, "x", 1, -1), EINVAL, "pwrite64 negative offset");
	ok();

	/* ---- fstat / newfstatat / statx ---- */
	current = "fstat";
	{
		struct stat st;
		memset(&st, 0xff, sizeof st);
		expect_eq(S2(SYS_fstat, 1, &st), 0, "fstat(1)");
		CHECK(S_ISFIFO(st.st_mode), "stdout is not a FIFO (mode 0%o)", st.st_mode);
		expect_eq(S2(SYS_fstat, 2, &st), 0, "fstat(2)");
		CHECK(S_ISFIFO(st.st_mode), "stderr is not a FIFO (mode 0%o)", st.st_mode);
		expect_eq(S2(SYS_fstat, 0, &st), 0, "fstat(0)");
		expect_err(S2(SYS_fstat, 99, &st), EBADF, "fstat(99)");
		expect_err(S2(SYS_fstat, -1, &st), EBADF, "fstat(-1)");
	}
	ok();

	current = "newfstatat";
	{
		struct stat st;
		expect_eq(S4(SYS_newfstatat, 1, "", &st, X_AT_EMPTY_PATH), 0, "newfstatat(1, \"\", AT_EMPTY_PATH)");
		CHECK(S_ISFIFO(st.st_mode), "stdout is not a FIFO (mode 0%o)", st.st_mode);
		expect_err(S4(SYS_newfstatat, 99, "", &st, X_AT_EMPTY_PATH), EBADF, "newfstatat(99)");
	}
	ok();

	current = "statx";
	{
		/* struct statx: stx_mask at 0, stx_mode (u16) at offset 28; 256 bytes. */
		unsigned char sx[256];
		memset(sx, 0, sizeof sx);
		expect_eq(S5(SYS_statx, 1, "", X_AT_EMPTY_PATH, X_STATX_BASIC_STATS, sx), 0, "statx(1)");
		uint32_t mask;
		uint16_t mode;
		memcpy(&mask, sx, 4);
		memcpy(&mode, sx + 28, 2);
		CHECK(mask & 2 /* STATX_MODE */, "STATX_MODE not in stx_mask 0x%x", mask);
		CHECK(S_ISFIFO(mode), "stdout is not a FIFO (stx_mode 0%o)", mode);
		expect_err(S5(SYS_statx, 99, "", X_AT_EMPTY_PATH, X_STATX_BASIC_STATS, sx), EBADF, "statx(99)");
	}
	ok();

	/* ---- lseek ---- */
	current = "lseek";
	expect_err(S3(SYS_lseek, 1, 0, SEEK_CUR), ESPIPE, "lseek on the stdout pipe");
	expect_err(S3(SYS_lseek, 2, 0, SEEK_SET), ESPIPE, "lseek on the stderr pipe");
	expect_err(S3(SYS_lseek, 99, 0, SEEK_SET), EBADF, "lseek(99)");
	ok();

	/* ---- ioctl ---- */
	current = "ioctl";
	{
		unsigned char t[64];
		expect_err(S3(SYS_ioctl, 1, X_TCGETS, t), ENOTTY, "ioctl(1, TCGETS) on a pipe");
		expect_err(S3(SYS_ioctl, 2, X_TCGETS, t), ENOTTY, "ioctl(2, TCGETS) on a pipe");
		expect_err(S3(SYS_ioctl, 0, X_TCGETS, t), ENOTTY, "ioctl(0, TCGETS)");
		expect_err(S3(SYS_ioctl, 1, X_TIOCGWINSZ, t), ENOTTY, "ioctl(1, TIOCGWINSZ) on a pipe");
		expect_err(S3(SYS_ioctl, 99, X_TCGETS, t), EBADF, "ioctl(99, TCGETS)");
	}
	ok();

	/* ---- poll / ppoll ---- */
	current = "poll";
	{
		struct pollfd p[3] = {
			{ .fd = 1, .events = POLLOUT },
			{ .fd = 99, .events = POLLIN },
			{ .fd = -1, .events = POLLIN },
		};
		expect_eq(S3(SYS_poll, p, 3, 0), 2, "poll({1,POLLOUT},{99},{-1}, 0)");
		CHECK(p[0].revents == POLLOUT, "fd 1 revents 0x%x, expected POLLOUT", p[0].revents);
		CHECK(p[1].revents == POLLNVAL, "fd 99 revents 0x%x, expected POLLNVAL", p[1].revents);
		CHECK(p[2].revents == 0, "fd -1 revents 0x%x, expected 0", p[2].revents);
		struct pollfd q = { .fd = 2, .events = POLLOUT };
		expect_eq(S3(SYS_poll, &q, 1, 0), 1, "poll(stderr)");
		CHECK(q.revents == POLLOUT, "fd 2 revents 0x%x", q.revents);
		int64_t t0 = mono_ns();
		expect_eq(S3(SYS_poll, NULL, 0, 10), 0, "poll(nfds 0, 10 ms)");
		int64_t dt = mono_ns() - t0;
		CHECK(dt >= 10000000, "poll with a 10 ms timeout returned after %lld ns", (long long)dt);
		expect_err(S3(SYS_poll, p, 1UL << 30, 0), EINVAL, "poll(nfds 2^30 > RLIMIT_NOFILE)");
	}
	ok();

	current = "ppoll";
	{
		struct pollfd p = { .fd = 1, .events = POLLOUT | POLLIN };
		struct timespec ts = { 0, 0 };
		expect_eq(S5(SYS_ppoll, &p, 1, &ts, NULL, 8), 1, "ppoll(stdout, timeout 0)");
		CHECK(p.revents == POLLOUT, "revents 0x%x", p.revents);
		uint64_t mask = 0;
		expect_err(S5(SYS_ppoll, &p, 1, &ts, &mask, 4), EINVAL, "ppoll(sigsetsize 4)");
		struct timespec bad = { 0, 1000000000 };
		expect_err(S5(SYS_ppoll, &p, 1, &bad, NULL, 8), EINVAL, "ppoll(tv_nsec 1e9)");
		ts.tv_nsec = 10000000;
		int64_t t0 = mono_ns();
		expect_eq(S5(SYS_ppoll, NULL, 0, &ts, NULL, 8), 0, "ppoll(nfds 0, 10 ms)");
		int64_t dt = mono_ns() - t0;
		CHECK(dt >= 10000000, "ppoll with a 10 ms timeout returned after %lld ns", (long long)dt);
	}
	ok();

	/* ---- fcntl ---- */
	current = "fcntl";
	{
		expect_eq(S2(SYS_fcntl, 1, F_GETFD), 0, "F_GETFD(1)");
		expect_eq(S3(SYS_fcntl, 1, F_SETFD, FD_CLOEXEC), 0, "F_SETFD(1, FD_CLOEXEC)");
		expect_eq(S2(SYS_fcntl, 1, F_GETFD), FD_CLOEXEC, "F_GETFD(1) after F_SETFD");
		expect_eq(S3(SYS_fcntl, 1, F_SETFD, 0), 0, "F_SETFD(1, 0)");
		expect_eq(S2(SYS_fcntl, 1, F_GETFD), 0, "F_GETFD(1) after clearing");
		r = S2(SYS_fcntl, 1, F_GETFL);
		CHECK(r >= 0, "F_GETFL(1) = %ld (%s)", r, errname(r));
		CHECK((r & O_ACCMODE) == O_WRONLY, "F_GETFL(1) access mode %ld, expected O_WRONLY", r & O_ACCMODE);
		CHECK(!(r & O_NONBLOCK), "stdout is already O_NONBLOCK");
		long fl = r;
		expect_eq(S3(SYS_fcntl, 1, F_SETFL, fl | O_NONBLOCK), 0, "F_SETFL(O_NONBLOCK)");
		r = S2(SYS_fcntl, 1, F_GETFL);
		CHECK(r == (fl | O_NONBLOCK), "F_GETFL after F_SETFL = 0x%lx", r);
		expect_eq(S3(SYS_fcntl, 1, F_SETFL, fl), 0, "F_SETFL(restore)");
		expect_eq(S2(SYS_fcntl, 1, F_GETFL), fl, "F_GETFL after restore");
		r = S2(SYS_fcntl, 0, F_GETFL);
		CHECK(r >= 0 && (r & O_ACCMODE) == O_RDONLY, "F_GETFL(0) = 0x%lx, expected O_RDONLY", r);

		long d = S3(SYS_fcntl, 1, F_DUPFD, 10);
		CHECK(d >= 10, "F_DUPFD(1, 10) = %ld (%s)", d, errname(d));
		expect_eq(S2(SYS_fcntl, d, F_GETFD), 0, "F_GETFD(F_DUPFD result)");
		expect_eq(S1(SYS_close, d), 0, "close(F_DUPFD result)");
		d = S3(SYS_fcntl, 1, F_DUPFD_CLOEXEC, 20);
		CHECK(d >= 20, "F_DUPFD_CLOEXEC(1, 20) = %ld (%s)", d, errname(d));
		expect_eq(S2(SYS_fcntl, d, F_GETFD), FD_CLOEXEC, "F_GETFD(F_DUPFD_CLOEXEC result)");
		expect_eq(S1(SYS_close, d), 0, "close(F_DUPFD_CLOEXEC result)");
		expect_err(S3(SYS_fcntl, 1, F_DUPFD, -1), EINVAL, "F_DUPFD(1, -1)");
		expect_err(S2(SYS_fcntl, 99, F_GETFD), EBADF, "F_GETFD(99)");
		expect_err(S2(SYS_fcntl, 1, 9999), EINVAL, "fcntl(1, cmd 9999)");
	}
	ok();

	/* ---- dup / dup2 / dup3 / close ---- */
	current = "dup";
	{
		long d = S1(SYS_dup, 1);
		CHECK(d >= 3, "dup(1) = %ld (%s)", d, errname(d));
		expect_eq(S2(SYS_fcntl, d, F_GETFD), 0, "F_GETFD(dup result)");
		/* The duplicate writes to stdout: print the ok line through it. */
		expect_eq(S3(SYS_write, d, "ok dup\n", 7), 7, "write(dup(1))");
		expect_eq(S1(SYS_close, d), 0, "close(dup result)");
		expect_err(S1(SYS_close, d), EBADF, "close twice");
		expect_err(S3(SYS_write, d, "x", 1), EBADF, "write after close");
		expect_err(S1(SYS_dup, 99), EBADF, "dup(99)");
	}

	current = "dup2";
	expect_eq(S2(SYS_dup2, 1, 1), 1, "dup2(1, 1)");
	expect_err(S2(SYS_dup2, 99, 99), EBADF, "dup2(99, 99)");
	expect_eq(S2(SYS_dup2, 1, 50), 50, "dup2(1, 50)");
	expect_eq(S2(SYS_dup2, 2, 50), 50, "dup2(2, 50) over an open fd");
	expect_eq(S3(SYS_write, 50, "", 0), 0, "write(50)");
	expect_eq(S1(SYS_close, 50), 0, "close(50)");
	expect_err(S2(SYS_dup2, 99, 5), EBADF, "dup2(99, 5)");
	expect_err(S2(SYS_dup2, 1, -1), EBADF, "dup2(1, -1)");
	ok();

	current = "dup3";
	expect_err(S3(SYS_dup3, 1, 1, 0), EINVAL, "dup3(1, 1, 0)");
	expect_eq(S3(SYS_dup3, 1, 51, O_CLOEXEC), 51, "dup3(1, 51, O_CLOEXEC)");
	expect_eq(S2(SYS_fcntl, 51, F_GETFD), FD_CLOEXEC, "F_GETFD(51)");
	expect_eq(S3(SYS_dup3, 1, 51, 0), 51, "dup3(1, 51, 0) over it");
	expect_eq(S2(SYS_fcntl, 51, F_GETFD), 0, "F_GETFD(51) without O_CLOEXEC");
	expect_eq(S1(SYS_close, 51), 0, "close(51)");
	expect_err(S3(SYS_dup3, 1, 52, 1), EINVAL, "dup3 with invalid flags");
	expect_err(S3(SYS_dup3, 99, 52, 0), EBADF, "dup3(99, 52)");
	ok();

	current = "close";
	expect_err(S1(SYS_close, 99), EBADF, "close(99)");
	expect_err(S1(SYS_close, -1), EBADF, "close(-1)");
	ok();

	/* ---- brk ---- */
	current = "brk";
	{
		long cur = S1(SYS_brk, 0);
		CHECK(cur > 0, "brk(0) = %ld", cur);
		expect_eq(S1(SYS_brk, 1), cur, "brk(1) leaves the break unchanged");
		long grown = S1(SYS_brk, cur + 65536);
		expect_eq(grown, cur + 65536, "brk grow by 64 KiB");
		volatile unsigned char *p = (volatile unsigned char *)cur;
		CHECK(p[0] == 0 && p[65535] == 0, "new brk memory is not zero");
		p[0] = 1;
		p[65535] = 2;
		CHECK(p[0] == 1 && p[65535] == 2, "brk memory does not keep writes");
		expect_eq(S1(SYS_brk, cur + 4096), cur + 4096, "brk shrink");
		expect_eq(S1(SYS_brk, cur + 65536), cur + 65536, "brk regrow");
		CHECK(p[65535] == 0, "brk memory not zero after shrink and regrow");
		CHECK(p[0] == 1, "brk memory below the shrink point lost");
		p[0] = 0;
		expect_eq(S1(SYS_brk, cur), cur, "brk back to the start");
		expect_eq(S1(SYS_brk, 0), cur, "brk(0) after the round trip");
	}
	ok();

	/* ---- mmap / mprotect / mremap / madvise / munmap (mm.c tests more) ---- */
	current = "mmap";
	{
		unsigned char *p = (unsigned char *)S6(SYS_mmap, 0, 3 * 4096, PROT_READ | PROT_WRITE,
						       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK((long)p > 0 && ((uintptr_t)p & 4095) == 0, "mmap = %ld", (long)p);
		CHECK(p[0] == 0 && p[3 * 4096 - 1] == 0, "not zero-filled");
		memset(p, 0xab, 3 * 4096);
		expect_eq(S3(SYS_mprotect, p, 4096, PROT_READ), 0, "mprotect");
		CHECK(p[0] == 0xab, "contents lost by mprotect");
		expect_eq(S3(SYS_madvise, p + 4096, 4096, MADV_DONTNEED), 0, "madvise(MADV_DONTNEED)");
		CHECK(p[4096] == 0 && p[8191] == 0 && p[8192] == 0xab, "MADV_DONTNEED did not zero exactly one page");
		expect_eq(S3(SYS_mprotect, p, 4096, PROT_READ | PROT_WRITE), 0, "mprotect back to RW");
		unsigned char *q = (unsigned char *)S5(SYS_mremap, p, 3 * 4096, 64 * 4096, MREMAP_MAYMOVE, 0);
		CHECK((long)q > 0, "mremap = %ld (%s)", (long)q, errname((long)q));
		CHECK(q[0] == 0xab && q[8192] == 0xab && q[63 * 4096] == 0, "mremap contents");
		expect_eq(S2(SYS_munmap, q, 64 * 4096), 0, "munmap");
		expect_err(S6(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL, "mmap length 0");
	}
	ok();

	/* ---- arch_prctl ---- */
	current = "arch_prctl";
	{
		uintptr_t fs = 0, fs0 = 0, now = 0;
		expect_eq(S2(SYS_arch_prctl, X_ARCH_GET_FS, &fs), 0, "ARCH_GET_FS");
		CHECK(fs != 0, "FS base is 0");
		__asm__ volatile("mov %%fs:0, %0" : "=r"(fs0));
		CHECK(fs0 == fs, "%%fs:0 (TCB self pointer) does not equal the FS base");
		uintptr_t tls = (uintptr_t)&tls_var;
		CHECK(tls < fs && fs - tls < 65536, "the TLS variable is not just below the TCB");
		CHECK(tls_var == 42, "TLS variable initial value %d", tls_var);
		/* Point FS at a fake TCB, read through it, and restore; no libc in between. */
		fake_tcb[0] = (uintptr_t)fake_tcb;
		fake_tcb[1] = 0x1234567887654321ULL;
		long r1 = S2(SYS_arch_prctl, X_ARCH_SET_FS, fake_tcb);
		uintptr_t via_fs = 0, via_fs8 = 0, got = 0;
		__asm__ volatile("mov %%fs:0, %0\n\tmov %%fs:8, %1" : "=r"(via_fs), "=r"(via_fs8));
		long r2 = S2(SYS_arch_prctl, X_ARCH_GET_FS, &got);
		long r3 = S2(SYS_arch_prctl, X_ARCH_SET_FS, fs);
		expect_eq(r3, 0, "ARCH_SET_FS(restore)");
		expect_eq(r1, 0, "ARCH_SET_FS(fake)");
		expect_eq(r2, 0, "ARCH_GET_FS(fake)");
		CHECK(got == (uintptr_t)fake_tcb, "ARCH_GET_FS after ARCH_SET_FS returned another value");
		CHECK(via_fs == (uintptr_t)fake_tcb && via_fs8 == 0x1234567887654321ULL, "%%fs does not use the new base");
		expect_eq(S2(SYS_arch_prctl, X_ARCH_GET_FS, &now), 0, "ARCH_GET_FS(restored)");
		CHECK(now == fs, "FS base not restored");
		CHECK(tls_var == 42, "TLS variable after restore");
		expect_err(S2(SYS_arch_prctl, 0x9999, &now), EINVAL, "arch_prctl(invalid code)");
	}
	ok();

	/* ---- set_tid_address / set_robust_list ---- */
	current = "set_tid_address";
	{
		static int tid_slot;
		long tid = S1(SYS_set_tid_address, &tid_slot);
		expect_eq(tid, S0(SYS_gettid), "set_tid_address returns the tid");
	}
	ok();

	current = "set_robust_list";
	{
		static struct { void *next; long offset; void *pending; } head = { &head, 0, NULL };
		expect_eq(S2(SYS_set_robust_list, &head, sizeof head), 0, "set_robust_list");
		expect_err(S2(SYS_set_robust_list, &head, sizeof head + 1), EINVAL, "set_robust_list(bad len)");
	}
	ok();

	/* ---- uname ---- */
	current = "uname";
	{
		/* struct utsname: 6 fields of 65 bytes */
		char u[6][65];
		memset(u, 'x', sizeof u);
		expect_eq(S1(SYS_uname, u), 0, "uname");
		CHECK(strcmp(u[0], "Linux") == 0, "sysname '%.65s'", u[0]);
		CHECK(strcmp(u[4], "x86_64") == 0, "machine '%.65s'", u[4]);
		CHECK(memchr(u[1], 0, 65) && memchr(u[2], 0, 65) && memchr(u[3], 0, 65) && memchr(u[5], 0, 65),
		      "a field is not NUL-terminated");
		CHECK(u[2][0] >= '1' && u[2][0] <= '9', "release '%.65s' does not start with a digit", u[2]);
	}
	ok();

	/* ---- ids ---- */
	current = "getpid";
	{
		long pid = S0(SYS_getpid), tid = S0(SYS_gettid), ppid = S0(SYS_getppid);
		CHECK(pid > 0, "getpid = %ld", pid);
		CHECK(pid == tid, "getpid != gettid in a single-threaded process");
		CHECK(ppid >= 0 && ppid != pid, "getppid = %ld", ppid);
		CHECK(S0(SYS_getpid) == pid, "getpid not stable");
	}
	ok();

	current = "getuid";
	{
		long uid = S0(SYS_getuid), euid = S0(SYS_geteuid), gid = S0(SYS_getgid), egid = S0(SYS_getegid);
		CHECK(uid >= 0 && gid >= 0, "getuid = %ld, getgid = %ld", uid, gid);
		CHECK(uid == euid, "getuid != geteuid");
		CHECK(gid == egid, "getgid != getegid");
	}
	ok();

	current = "getgroups";
	{
		uint32_t groups[256];
		long n = S2(SYS_getgroups, 0, NULL);
		CHECK(n >= 0 && n <= 256, "getgroups(0) = %ld", n);
		expect_eq(S2(SYS_getgroups, n, groups), n, "getgroups(n)");
		expect_eq(S2(SYS_getgroups, 256, groups), n, "getgroups(256)");
		if (n >= 2)
			expect_err(S2(SYS_getgroups, 1, groups), EINVAL, "getgroups(1) with more groups");
		expect_err(S2(SYS_getgroups, -1, groups), EINVAL, "getgroups(-1)");
	}
	ok();

	/* ---- clocks and time ---- */
	current = "clock_gettime";
	{
		struct timespec ts;
		expect_eq(S2(SYS_clock_gettime, CLOCK_REALTIME, &ts), 0, "CLOCK_REALTIME");
		CHECK(ts.tv_sec > 1600000000 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000, "CLOCK_REALTIME implausible");
		int64_t prev = mono_ns();
		for (int i = 0; i < 1000; i++) {
			expect_eq(S2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts), 0, "CLOCK_MONOTONIC");
			CHECK(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000, "tv_nsec out of range");
			int64_t now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
			CHECK(now >= prev, "CLOCK_MONOTONIC went backwards");
			prev = now;
		}
		expect_err(S2(SYS_clock_gettime, 100, &ts), EINVAL, "clock_gettime(clock 100)");
	}
	ok();

	current = "clock_getres";
	{
		struct timespec ts = { 5, 5 };
		expect_eq(S2(SYS_clock_getres, CLOCK_MONOTONIC, &ts), 0, "clock_getres(CLOCK_MONOTONIC)");
		CHECK(ts.tv_sec == 0 && ts.tv_nsec == 1, "CLOCK_MONOTONIC resolution %ld.%09ld", (long)ts.tv_sec, ts.tv_nsec);
		ts.tv_sec = 5;
		expect_eq(S2(SYS_clock_getres, CLOCK_REALTIME, &ts), 0, "clock_getres(CLOCK_REALTIME)");
		CHECK(ts.tv_sec == 0 && ts.tv_nsec == 1, "CLOCK_REALTIME resolution %ld.%09ld", (long)ts.tv_sec, ts.tv_nsec);
		expect_eq(S2(SYS_clock_getres, CLOCK_MONOTONIC, NULL), 0, "clock_getres(NULL)");
		expect_err(S2(SYS_clock_getres, 100, &ts), EINVAL, "clock_getres(clock 100)");
	}
	ok();

	current = "gettimeofday";
	{
		struct timeval tv;
		struct timespec ts;
		expect_eq(S2(SYS_gettimeofday, &tv, NULL), 0, "gettimeofday");
		expect_eq(S2(SYS_clock_gettime, CLOCK_REALTIME, &ts), 0, "CLOCK_REALTIME");
		CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "tv_usec out of range");
		long diff = (long)ts.tv_sec - (long)tv.tv_sec;
		CHECK(diff >= 0 && diff <= 2, "gettimeofday and CLOCK_REALTIME differ by %ld s", diff);
	}
	ok();

	current = "time";
	{
		long t_out = 0;
		struct timespec ts;
		long t = S1(SYS_time, &t_out);
		expect_eq(S2(SYS_clock_gettime, CLOCK_REALTIME, &ts), 0, "CLOCK_REALTIME");
		CHECK(t > 1600000000 && t == t_out, "time() = %ld, *tloc = %ld", t, t_out);
		CHECK((long)ts.tv_sec - t >= 0 && (long)ts.tv_sec - t <= 2, "time and CLOCK_REALTIME differ");
		long t2 = S1(SYS_time, NULL);
		CHECK(t2 >= t, "time(NULL) went backwards");
	}
	ok();

	current = "nanosleep";
	{
		struct timespec req = { 0, 20000000 }, rem = { 7, 7 };
		int64_t t0 = mono_ns();
		expect_eq(S2(SYS_nanosleep, &req, &rem), 0, "nanosleep(20 ms)");
		int64_t dt = mono_ns() - t0;
		CHECK(dt >= 20000000, "nanosleep(20 ms) returned after %lld ns", (long long)dt);
		struct timespec bad = { 0, 1000000000 };
		expect_err(S2(SYS_nanosleep, &bad, NULL), EINVAL, "nanosleep(tv_nsec 1e9)");
		bad.tv_sec = -1;
		bad.tv_nsec = 0;
		expect_err(S2(SYS_nanosleep, &bad, NULL), EINVAL, "nanosleep(tv_sec -1)");
		struct timespec zero = { 0, 0 };
		expect_eq(S2(SYS_nanosleep, &zero, NULL), 0, "nanosleep(0)");
	}
	ok();

	current = "clock_nanosleep";
	{
		struct timespec req = { 0, 10000000 };
		int64_t t0 = mono_ns();
		expect_eq(S4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL), 0, "relative 10 ms");
		int64_t dt = mono_ns() - t0;
		CHECK(dt >= 10000000, "relative 10 ms sleep returned after %lld ns", (long long)dt);
		int64_t deadline = mono_ns() + 10000000;
		struct timespec abs = { (time_t)(deadline / 1000000000LL), (long)(deadline % 1000000000LL) };
		expect_eq(S4(SYS_clock_nanosleep, CLOCK_MONOTONIC, X_TIMER_ABSTIME, &abs, NULL), 0, "TIMER_ABSTIME");
		CHECK(mono_ns() >= deadline, "TIMER_ABSTIME sleep returned before the deadline");
		struct timespec past = { 0, 0 };
		expect_eq(S4(SYS_clock_nanosleep, CLOCK_MONOTONIC, X_TIMER_ABSTIME, &past, NULL), 0, "TIMER_ABSTIME in the past");
		expect_eq(S4(SYS_clock_nanosleep, CLOCK_REALTIME, 0, &past, NULL), 0, "CLOCK_REALTIME relative 0");
		expect_err(S4(SYS_clock_nanosleep, 100, 0, &req, NULL), EINVAL, "clock 100");
		struct timespec bad = { 0, -1 };
		expect_err(S4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &bad, NULL), EINVAL, "tv_nsec -1");
	}
	ok();

	/* ---- getrandom ---- */
	current = "getrandom";
	{
		unsigned char a[32], b[32];
		memset(a, 0, sizeof a);
		memset(b, 0, sizeof b);
		expect_eq(S3(SYS_getrandom, a, 32, 0), 32, "getrandom(32, 0)");
		expect_eq(S3(SYS_getrandom, b, 32, X_GRND_NONBLOCK), 32, "getrandom(32, GRND_NONBLOCK)");
		CHECK(memcmp(a, b, 32) != 0, "two getrandom results are equal");
		int nz = 0;
		for (int i = 0; i < 32; i++)
			nz |= a[i];
		CHECK(nz, "getrandom gave all zeros");
		expect_eq(S3(SYS_getrandom, a, 0, 0), 0, "getrandom(0 bytes)");
		expect_err(S3(SYS_getrandom, a, 32, 0x80), EINVAL, "getrandom(bad flags)");
	}
	ok();

	/* ---- rlimits ---- */
	current = "prlimit64";
	{
		uint64_t lim[2] = { 0, 0 }, lim2[2] = { 0, 0 };
		expect_eq(S4(SYS_prlimit64, 0, X_RLIMIT_STACK, NULL, lim), 0, "prlimit64(0, RLIMIT_STACK)");
		CHECK(lim[0] > 0 && lim[0] <= lim[1], "RLIMIT_STACK soft %llu hard %llu",
		      (unsigned long long)lim[0], (unsigned long long)lim[1]);
		expect_eq(S4(SYS_prlimit64, S0(SYS_getpid), X_RLIMIT_STACK, NULL, lim2), 0, "prlimit64(getpid())");
		CHECK(lim[0] == lim2[0] && lim[1] == lim2[1], "prlimit64 by pid differs");
		expect_eq(S4(SYS_prlimit64, 0, X_RLIMIT_NOFILE, NULL, lim), 0, "prlimit64(RLIMIT_NOFILE)");
		CHECK(lim[0] > 2 && lim[0] <= lim[1], "RLIMIT_NOFILE soft %llu hard %llu",
		      (unsigned long long)lim[0], (unsigned long long)lim[1]);
		expect_err(S4(SYS_prlimit64, 0, 100, NULL, lim), EINVAL, "prlimit64(resource 100)");
	}
	ok();

	current = "getrlimit";
	{
		unsigned long lim[2] = { 0, 0 };
		uint64_t lim64[2] = { 0, 0 };
		expect_eq(S2(SYS_getrlimit, X_RLIMIT_STACK, lim), 0, "getrlimit(RLIMIT_STACK)");
		expect_eq(S4(SYS_prlimit64, 0, X_RLIMIT_STACK, NULL, lim64), 0, "prlimit64(RLIMIT_STACK)");
		CHECK(lim[0] == lim64[0] && lim[1] == lim64[1], "getrlimit and prlimit64 disagree");
		expect_err(S2(SYS_getrlimit, 100, lim), EINVAL, "getrlimit(resource 100)");
	}
	ok();

	/* ---- scheduling ---- */
	current = "sched_getaffinity";
	{
		uint64_t set[16];
		memset(set, 0, sizeof set);
		r = S3(SYS_sched_getaffinity, 0, sizeof set, set);
		CHECK(r > 0 && r % 8 == 0 && r <= (long)sizeof set, "sched_getaffinity = %ld (%s)", r, errname(r));
		int bits = 0;
		for (int i = 0; i < 16; i++)
			bits += __builtin_popcountll(set[i]);
		CHECK(bits >= 1, "no CPU in the affinity mask");
		expect_err(S3(SYS_sched_getaffinity, 0, 3, set), EINVAL, "sched_getaffinity(len 3)");
	}
	ok();

	current = "sched_yield";
	expect_eq(S0(SYS_sched_yield), 0, "sched_yield");
	ok();

	/* ---- getcwd / readlink ---- */
	current = "getcwd";
	{
		memset(buf, 'x', sizeof buf);
		r = S2(SYS_getcwd, buf, sizeof buf);
		CHECK(r > 1 && buf[0] == '/', "getcwd = %ld, '%.40s'", r, buf);
		CHECK((size_t)r == strlen(buf) + 1, "getcwd returned %ld for a %zu-byte path", r, strlen(buf));
		expect_err(S2(SYS_getcwd, buf, 1), ERANGE, "getcwd(size 1)");
	}
	ok();

	current = "readlink";
	{
		memset(buf, 0, sizeof buf);
		r = S3(SYS_readlink, "/proc/self/exe", buf, sizeof buf - 1);
		CHECK(r > 1 && buf[0] == '/', "readlink(/proc/self/exe) = %ld", r);
		CHECK((size_t)r == strlen(buf), "readlink length %ld vs %zu", r, strlen(buf));
		CHECK(strcmp(base_name(buf), base_name(argv[0])) == 0, "/proc/self/exe '%s' does not end with /%s", buf,
		      base_name(argv[0]));
		char small[4] = "zzzz";
		expect_eq(S3(SYS_readlink, "/proc/self/exe", small, 3), 3, "readlink(bufsiz 3) truncates");
		CHECK(small[0] == '/' && small[3] == 'z', "truncated readlink contents");
		expect_err(S3(SYS_readlink, "/proc/self/exe", small, 0), EINVAL, "readlink(bufsiz 0)");
	}
	ok();

	/* ---- signals ---- */
	current = "rt_sigaction";
	{
		struct ksigaction act, old;
		memset(&old, 0x55, sizeof old);
		expect_eq(S4(SYS_rt_sigaction, SIGUSR1, NULL, &old, 8), 0, "get SIGUSR1");
		CHECK(old.handler == (unsigned long)SIG_DFL, "SIGUSR1 is not SIG_DFL initially");
		memset(&act, 0, sizeof act);
		act.handler = (unsigned long)SIG_IGN;
		act.mask = 1ULL << (SIGUSR2 - 1);
		expect_eq(S4(SYS_rt_sigaction, SIGUSR1, &act, NULL, 8), 0, "set SIGUSR1 to SIG_IGN");
		memset(&old, 0x55, sizeof old);
		expect_eq(S4(SYS_rt_sigaction, SIGUSR1, NULL, &old, 8), 0, "get SIGUSR1 again");
		CHECK(old.handler == (unsigned long)SIG_IGN, "SIGUSR1 handler not SIG_IGN after setting it");
		CHECK(old.mask == 1ULL << (SIGUSR2 - 1), "sa_mask not kept: 0x%llx", (unsigned long long)old.mask);
		act.handler = (unsigned long)SIG_DFL;
		act.mask = 0;
		memset(&old, 0x55, sizeof old);
		expect_eq(S4(SYS_rt_sigaction, SIGUSR1, &act, &old, 8), 0, "restore SIGUSR1");
		CHECK(old.handler == (unsigned long)SIG_IGN, "old handler returned by the restoring call");
		expect_err(S4(SYS_rt_sigaction, SIGKILL, &act, NULL, 8), EINVAL, "set SIGKILL");
		expect_err(S4(SYS_rt_sigaction, SIGSTOP, &act, NULL, 8), EINVAL, "set SIGSTOP");
		expect_eq(S4(SYS_rt_sigaction, SIGKILL, NULL, &old, 8), 0, "get SIGKILL");
		expect_err(S4(SYS_rt_sigaction, 0, NULL, &old, 8), EINVAL, "signal 0");
		expect_err(S4(SYS_rt_sigaction, 65, NULL, &old, 8), EINVAL, "signal 65");
		expect_err(S4(SYS_rt_sigaction, SIGUSR1, NULL, &old, 4), EINVAL, "sigsetsize 4");
	}
	ok();

	current = "rt_sigprocmask";
	{
		uint64_t orig = ~0ULL, set, got;
		expect_eq(S4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &orig, 8), 0, "get mask");
		set = (1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGUSR2 - 1)) | (1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1));
		expect_eq(S4(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8), 0, "block USR1|USR2|KILL|STOP");
		got = 0;
		expect_eq(S4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 8), 0, "get mask after block");
		CHECK(got == (orig | (1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGUSR2 - 1))),
		      "mask 0x%llx: SIGKILL/SIGSTOP must not be blockable", (unsigned long long)got);
		set = 1ULL << (SIGUSR2 - 1);
		expect_eq(S4(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, &got, 8), 0, "unblock USR2");
		expect_eq(S4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 8), 0, "get mask after unblock");
		CHECK(got == (orig | (1ULL << (SIGUSR1 - 1))), "mask after unblock 0x%llx", (unsigned long long)got);
		expect_eq(S4(SYS_rt_sigprocmask, SIG_SETMASK, &orig, NULL, 8), 0, "restore mask");
		expect_eq(S4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &got, 8), 0, "get restored mask");
		CHECK(got == orig, "mask not restored");
		expect_err(S4(SYS_rt_sigprocmask, 99, &set, NULL, 8), EINVAL, "how 99");
		expect_err(S4(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4), EINVAL, "sigsetsize 4");
	}
	ok();

	current = "sigaltstack";
	{
		struct kstack ss, old;
		memset(&old, 0x55, sizeof old);
		expect_eq(S2(SYS_sigaltstack, NULL, &old), 0, "get initial");
		CHECK(old.flags == X_SS_DISABLE, "initial flags %d, expected SS_DISABLE", old.flags);
		ss.sp = altstack_buf;
		ss.size = sizeof altstack_buf;
		ss.flags = 0;
		expect_eq(S2(SYS_sigaltstack, &ss, NULL), 0, "set 64 KiB");
		memset(&old, 0x55, sizeof old);
		expect_eq(S2(SYS_sigaltstack, NULL, &old), 0, "get after set");
		CHECK(old.sp == altstack_buf && old.size == sizeof altstack_buf && old.flags == 0, "round trip mismatch");
		ss.size = 1024;
		expect_err(S2(SYS_sigaltstack, &ss, NULL), ENOMEM, "size 1024 (< MINSIGSTKSZ)");
		ss.size = sizeof altstack_buf;
		ss.flags = 0x1234;
		expect_err(S2(SYS_sigaltstack, &ss, NULL), EINVAL, "invalid flags");
		ss.flags = X_SS_DISABLE;
		memset(&old, 0x55, sizeof old);
		expect_eq(S2(SYS_sigaltstack, &ss, &old), 0, "disable");
		CHECK(old.sp == altstack_buf && old.size == sizeof altstack_buf, "old stack returned by disable");
		memset(&old, 0x55, sizeof old);
		expect_eq(S2(SYS_sigaltstack, NULL, &old), 0, "get after disable");
		CHECK(old.flags == X_SS_DISABLE && old.sp == NULL && old.size == 0, "not disabled");
	}
	ok();

	current = "kill";
	{
		long pid = S0(SYS_getpid);
		expect_eq(S2(SYS_kill, pid, 0), 0, "kill(self, 0)");
		expect_err(S2(SYS_kill, pid, 65), EINVAL, "kill(self, 65)");
		expect_err(S2(SYS_kill, pid, -1), EINVAL, "kill(self, -1)");
		/* SIGWINCH and SIGCHLD are ignored by default: the process survives. */
		expect_eq(S2(SYS_kill, pid, SIGWINCH), 0, "kill(self, SIGWINCH)");
		expect_eq(S2(SYS_kill, pid, SIGCHLD), 0, "kill(self, SIGCHLD)");
		/* An explicitly ignored signal is discarded. */
		struct ksigaction act = { (unsigned long)SIG_IGN, 0, 0, 0 };
		expect_eq(S4(SYS_rt_sigaction, SIGUSR2, &act, NULL, 8), 0, "ignore SIGUSR2");
		expect_eq(S2(SYS_kill, pid, SIGUSR2), 0, "kill(self, ignored SIGUSR2)");
		act.handler = (unsigned long)SIG_DFL;
		expect_eq(S4(SYS_rt_sigaction, SIGUSR2, &act, NULL, 8), 0, "restore SIGUSR2");
	}
	ok();

	current = "tgkill";
	{
		long pid = S0(SYS_getpid), tid = S0(SYS_gettid);
		expect_eq(S3(SYS_tgkill, pid, tid, 0), 0, "tgkill(self, 0)");
		expect_eq(S3(SYS_tgkill, pid, tid, SIGWINCH), 0, "tgkill(self, SIGWINCH)");
		expect_err(S3(SYS_tgkill, pid, 0, 0), EINVAL, "tgkill(tid 0)");
		expect_err(S3(SYS_tgkill, 0, tid, 0), EINVAL, "tgkill(tgid 0)");
		expect_err(S3(SYS_tgkill, pid, tid, 65), EINVAL, "tgkill(signal 65)");
	}
	ok();

	/* ---- futex ---- */
	current = "futex";
	{
		static const int ops[2] = { 0, X_FUTEX_PRIVATE };
		for (int i = 0; i < 2; i++) {
			int priv = ops[i];
			futex_word = 5;
			expect_err(S6(SYS_futex, &futex_word, X_FUTEX_WAIT | priv, 6, NULL, NULL, 0), EAGAIN,
				   "FUTEX_WAIT with a wrong value");
			struct timespec ts = { 0, 10000000 };
			int64_t t0 = mono_ns();
			expect_err(S6(SYS_futex, &futex_word, X_FUTEX_WAIT | priv, 5, &ts, NULL, 0), ETIMEDOUT,
				   "FUTEX_WAIT with a 10 ms timeout");
			int64_t dt = mono_ns() - t0;
			CHECK(dt >= 10000000, "FUTEX_WAIT 10 ms timed out after %lld ns", (long long)dt);
			expect_eq(S6(SYS_futex, &futex_word, X_FUTEX_WAKE | priv, 1, NULL, NULL, 0), 0, "FUTEX_WAKE");
			struct timespec bad = { 0, 1000000000 };
			expect_err(S6(SYS_futex, &futex_word, X_FUTEX_WAIT | priv, 5, &bad, NULL, 0), EINVAL,
				   "FUTEX_WAIT with tv_nsec 1e9");
		}
		expect_err(S6(SYS_futex, (char *)&futex_word + 1, X_FUTEX_WAIT, 5, NULL, NULL, 0), EINVAL,
			   "FUTEX_WAIT on an unaligned address");
		expect_err(S6(SYS_futex, &futex_word, 99, 0, NULL, NULL, 0), ENOSYS, "futex op 99");
	}
	ok();

	/* ---- unknown system calls ---- */
	current = "enosys";
	expect_err(S0(1000), ENOSYS, "syscall 1000");
	expect_err(S0(-1L), ENOSYS, "syscall -1");
	ok();

	out("all ok\n");
	return 0;
}
