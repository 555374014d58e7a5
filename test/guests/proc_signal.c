/* Signal delivery to handlers, with results exactly as Linux gives them: the
 * siginfo of kill, sigqueue, tgkill, tkill, rt_sigqueueinfo (passed through
 * as given), of a signal from another process, of SIGCHLD and of SIGALRM;
 * the blocked set inside a handler (sa_mask, SA_NODEFER); nested handlers and
 * the order pending signals run in; SA_RESETHAND; sigaltstack with
 * SA_ONSTACK (the handler's frame is on the alternate stack, SS_ONSTACK,
 * EPERM, ENOMEM, a stack overflow caught on it); sigprocmask and sigpending
 * (standard signals do not queue, real-time ones do, in order; SIGKILL and
 * SIGSTOP cannot be blocked); blocked ignored signals; sigaction errors;
 * sigsuspend; sigtimedwait; the SSE, MXCSR and x87 state restored after a
 * handler that changed it; alarm, setitimer/getitimer ITIMER_REAL and pause.
 * Prints "ok NAME" per check, then "all ok"; on the first failure prints
 * "FAIL: NAME: details" and exits 1.
 *
 * Who receives a signal (kill of a group, of -1, tgkill's errors) is
 * proc_kill.c's; restarted and interrupted system calls are proc_restart.c's. */
#define _GNU_SOURCE
#include <fenv.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

#define ALTSTACK_SIZE 65536

static volatile int caught;
static siginfo_t last;
static char log_buf[64];
static volatile int log_len;
static volatile int depth;
static volatile uint64_t mask_inside;
static volatile uintptr_t frame_at;
static volatile int altstack_flags, altstack_change;
static char altstack[ALTSTACK_SIZE] __attribute__((aligned(16)));

static void logc(char c)
{
	if (log_len < (int)sizeof log_buf - 1)
		log_buf[log_len++] = c;
	log_buf[log_len] = 0;
}

static void log_reset(void)
{
	log_len = 0;
	log_buf[0] = 0;
}

static uint64_t raw_mask(void)
{
	uint64_t m = 0;
	S4(SYS_rt_sigprocmask, SIG_BLOCK, 0, &m, 8);
	return m;
}

static uint64_t bit(int sig)
{
	return 1ULL << (sig - 1);
}

/* Records the signal's siginfo and the blocked set inside the handler. */
static void record(int sig, siginfo_t *si, void *uc)
{
	caught++;
	last = *si;
	mask_inside = raw_mask();
}

/* The signal nest() raises from the outermost handler, once: '1' for
 * SIGUSR1, '2' for SIGUSR2, 0 for none. */
static char raise_what;

/* Logs "C<" on entry and "C>" on return, C being 1, 2, r or s for SIGUSR1,
 * SIGUSR2, SIGRTMIN or SIGRTMIN + 1; the outermost one raises raise_what. */
static void nest(int sig, siginfo_t *si, void *uc)
{
	char c = sig == SIGUSR1 ? '1' : sig == SIGUSR2 ? '2' : sig == SIGRTMIN ? 'r' : sig == SIGRTMIN + 1 ? 's' : '?';
	logc(c);
	logc('<');
	if (depth++ == 0 && raise_what) {
		int what = raise_what == '1' ? SIGUSR1 : SIGUSR2;
		raise_what = 0;
		S2(SYS_kill, getpid(), what);
	}
	depth--;
	logc(c);
	logc('>');
}

/* Logs a real-time signal as its sival_int digit, SIGUSR1 as u, SIGUSR2 as v. */
static void queued(int sig, siginfo_t *si, void *uc)
{
	if (sig >= SIGRTMIN)
		logc((char)('0' + si->si_value.sival_int));
	else
		logc(sig == SIGUSR1 ? 'u' : 'v');
}

/* Records where the handler's frame is, the alternate stack's flags, and
 * the result of trying to change the alternate stack; the outermost SIGUSR1
 * raises SIGUSR2, whose frame must be below its own. */
static void where(int sig, siginfo_t *si, void *uc)
{
	volatile char here;
	stack_t ss, other = {.ss_sp = altstack, .ss_size = ALTSTACK_SIZE};
	frame_at = (uintptr_t)&here;
	S2(SYS_sigaltstack, 0, &ss);
	altstack_flags = ss.ss_flags;
	altstack_change = (int)S2(SYS_sigaltstack, &other, 0);
	if (sig == SIGUSR1 && depth++ == 0) {
		uintptr_t outer = frame_at;
		S2(SYS_kill, getpid(), SIGUSR2);
		CHECK(frame_at < outer, "the nested frame is below the first");
	}
}

static int on_altstack(uintptr_t p)
{
	return p >= (uintptr_t)altstack && p < (uintptr_t)altstack + ALTSTACK_SIZE;
}

static void segv_on_altstack(int sig, siginfo_t *si, void *uc)
{
	volatile char here;
	child_exit(on_altstack((uintptr_t)&here) && si->si_signo == SIGSEGV ? 42 : 43);
}

static volatile int deeper = 1;

/* Recurses, 1 KiB of stack a call, until the stack runs out. */
static void __attribute__((noinline)) recurse(volatile char *prev)
{
	volatile char pad[1024];
	pad[0] = prev ? prev[0] + 1 : 0;
	if (deeper)
		recurse(pad);
	pad[1] = 0;
}

static int avx;

/* Clobbers the SSE and AVX registers, MXCSR and the x87 control word. */
static void fpu_clobber(int sig, siginfo_t *si, void *uc)
{
	caught++;
	fesetround(FE_UPWARD);
	if (avx)
		__asm__ volatile("vzeroall" : : : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
				 "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\t"
			 "movdqa %%xmm0, %%xmm1\n\t movdqa %%xmm0, %%xmm2\n\t movdqa %%xmm0, %%xmm3\n\t"
			 "movdqa %%xmm0, %%xmm4\n\t movdqa %%xmm0, %%xmm5\n\t movdqa %%xmm0, %%xmm6\n\t"
			 "movdqa %%xmm0, %%xmm7\n\t movdqa %%xmm0, %%xmm8\n\t movdqa %%xmm0, %%xmm9\n\t"
			 "movdqa %%xmm0, %%xmm10\n\t movdqa %%xmm0, %%xmm11\n\t movdqa %%xmm0, %%xmm12\n\t"
			 "movdqa %%xmm0, %%xmm13\n\t movdqa %%xmm0, %%xmm14\n\t movdqa %%xmm0, %%xmm15"
			 :
			 :
			 : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
			   "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/* Loads xmm0-15 from in, sends SIGUSR1 to pid with a raw kill, stores
 * xmm0-15 to got: a handler runs between the load and the store. */
static void sse_around_kill(const void *in, void *got, pid_t pid)
{
	__asm__ volatile("movdqu 0(%[in]), %%xmm0\n\t movdqu 16(%[in]), %%xmm1\n\t"
			 "movdqu 32(%[in]), %%xmm2\n\t movdqu 48(%[in]), %%xmm3\n\t"
			 "movdqu 64(%[in]), %%xmm4\n\t movdqu 80(%[in]), %%xmm5\n\t"
			 "movdqu 96(%[in]), %%xmm6\n\t movdqu 112(%[in]), %%xmm7\n\t"
			 "movdqu 128(%[in]), %%xmm8\n\t movdqu 144(%[in]), %%xmm9\n\t"
			 "movdqu 160(%[in]), %%xmm10\n\t movdqu 176(%[in]), %%xmm11\n\t"
			 "movdqu 192(%[in]), %%xmm12\n\t movdqu 208(%[in]), %%xmm13\n\t"
			 "movdqu 224(%[in]), %%xmm14\n\t movdqu 240(%[in]), %%xmm15\n\t"
			 "mov %[nr], %%eax\n\t mov %[pid], %%edi\n\t mov %[sig], %%esi\n\t syscall\n\t"
			 "movdqu %%xmm0, 0(%[got])\n\t movdqu %%xmm1, 16(%[got])\n\t"
			 "movdqu %%xmm2, 32(%[got])\n\t movdqu %%xmm3, 48(%[got])\n\t"
			 "movdqu %%xmm4, 64(%[got])\n\t movdqu %%xmm5, 80(%[got])\n\t"
			 "movdqu %%xmm6, 96(%[got])\n\t movdqu %%xmm7, 112(%[got])\n\t"
			 "movdqu %%xmm8, 128(%[got])\n\t movdqu %%xmm9, 144(%[got])\n\t"
			 "movdqu %%xmm10, 160(%[got])\n\t movdqu %%xmm11, 176(%[got])\n\t"
			 "movdqu %%xmm12, 192(%[got])\n\t movdqu %%xmm13, 208(%[got])\n\t"
			 "movdqu %%xmm14, 224(%[got])\n\t movdqu %%xmm15, 240(%[got])"
			 :
			 : [in] "r"(in), [got] "r"(got), [nr] "i"(SYS_kill), [pid] "r"(pid), [sig] "i"(SIGUSR1)
			 : "rax", "rdi", "rsi", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
			   "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/* sse_around_kill for the 256-bit ymm0-15. */
static void avx_around_kill(const void *in, void *got, pid_t pid)
{
	__asm__ volatile("vmovdqu 0(%[in]), %%ymm0\n\t vmovdqu 32(%[in]), %%ymm1\n\t"
			 "vmovdqu 64(%[in]), %%ymm2\n\t vmovdqu 96(%[in]), %%ymm3\n\t"
			 "vmovdqu 128(%[in]), %%ymm4\n\t vmovdqu 160(%[in]), %%ymm5\n\t"
			 "vmovdqu 192(%[in]), %%ymm6\n\t vmovdqu 224(%[in]), %%ymm7\n\t"
			 "vmovdqu 256(%[in]), %%ymm8\n\t vmovdqu 288(%[in]), %%ymm9\n\t"
			 "vmovdqu 320(%[in]), %%ymm10\n\t vmovdqu 352(%[in]), %%ymm11\n\t"
			 "vmovdqu 384(%[in]), %%ymm12\n\t vmovdqu 416(%[in]), %%ymm13\n\t"
			 "vmovdqu 448(%[in]), %%ymm14\n\t vmovdqu 480(%[in]), %%ymm15\n\t"
			 "mov %[nr], %%eax\n\t mov %[pid], %%edi\n\t mov %[sig], %%esi\n\t syscall\n\t"
			 "vmovdqu %%ymm0, 0(%[got])\n\t vmovdqu %%ymm1, 32(%[got])\n\t"
			 "vmovdqu %%ymm2, 64(%[got])\n\t vmovdqu %%ymm3, 96(%[got])\n\t"
			 "vmovdqu %%ymm4, 128(%[got])\n\t vmovdqu %%ymm5, 160(%[got])\n\t"
			 "vmovdqu %%ymm6, 192(%[got])\n\t vmovdqu %%ymm7, 224(%[got])\n\t"
			 "vmovdqu %%ymm8, 256(%[got])\n\t vmovdqu %%ymm9, 288(%[got])\n\t"
			 "vmovdqu %%ymm10, 320(%[got])\n\t vmovdqu %%ymm11, 352(%[got])\n\t"
			 "vmovdqu %%ymm12, 384(%[got])\n\t vmovdqu %%ymm13, 416(%[got])\n\t"
			 "vmovdqu %%ymm14, 448(%[got])\n\t vmovdqu %%ymm15, 480(%[got])\n\t vzeroupper"
			 :
			 : [in] "r"(in), [got] "r"(got), [nr] "i"(SYS_kill), [pid] "r"(pid), [sig] "i"(SIGUSR1)
			 : "rax", "rdi", "rsi", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
			   "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void expect_info(const siginfo_t *si, int sig, int code, pid_t pid, const char *what)
{
	if (si->si_signo != sig || si->si_code != code || si->si_pid != pid || si->si_uid != getuid() ||
	    si->si_errno != 0)
		fail("%s: signo %d code %d pid %s uid %s errno %d", what, si->si_signo, si->si_code,
		     si->si_pid == pid ? "as expected" : "wrong", si->si_uid == getuid() ? "ours" : "wrong",
		     si->si_errno);
}

static long itimer_us(const struct timeval *tv)
{
	return tv->tv_sec * 1000000L + tv->tv_usec;
}

int main(void)
{
	pid_t self = getpid(), pid;
	siginfo_t si;
	sigset_t set, empty;
	struct timespec zero = {0, 0};
	long t0;

	sigemptyset(&empty);

	current = "siginfo of kill";
	on(SIGUSR1, record, 0);
	caught = 0;
	expect_eq(S2(SYS_kill, self, SIGUSR1), 0, "kill");
	expect_eq(caught, 1, "the handler ran before kill returned");
	expect_info(&last, SIGUSR1, SI_USER, self, "kill");
	ok();

	current = "siginfo of sigqueue";
	caught = 0;
	expect_eq(sigqueue(self, SIGUSR1, (union sigval){.sival_int = 1234}), 0, "sigqueue");
	expect_eq(caught, 1, "the handler ran");
	expect_info(&last, SIGUSR1, SI_QUEUE, self, "sigqueue");
	expect_eq(last.si_value.sival_int, 1234, "si_value");
	ok();

	current = "siginfo of tgkill and tkill";
	caught = 0;
	expect_eq(S3(SYS_tgkill, self, S0(SYS_gettid), SIGUSR1), 0, "tgkill");
	expect_info(&last, SIGUSR1, SI_TKILL, self, "tgkill");
	expect_eq(S2(SYS_tkill, S0(SYS_gettid), SIGUSR1), 0, "tkill");
	expect_info(&last, SIGUSR1, SI_TKILL, self, "tkill");
	expect_eq(caught, 2, "the handler ran twice");
	ok();

	current = "rt_sigqueueinfo passes the siginfo through";
	memset(&si, 0, sizeof si);
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_pid = 4242;
	si.si_uid = 4343;
	si.si_value.sival_int = 77;
	caught = 0;
	expect_eq(S3(SYS_rt_sigqueueinfo, self, SIGUSR1, &si), 0, "rt_sigqueueinfo");
	expect_eq(caught, 1, "the handler ran");
	CHECK(last.si_code == SI_QUEUE && last.si_pid == 4242 && last.si_uid == 4343 && last.si_value.sival_int == 77,
	      "code %d pid %d uid %d value %d", last.si_code, last.si_pid, last.si_uid, last.si_value.sival_int);
	si.si_code = SI_USER;
	expect_eq(S3(SYS_rt_sigqueueinfo, self, SIGUSR1, &si), 0, "si_code SI_USER to itself");
	CHECK(last.si_code == SI_USER && last.si_pid == 4242, "code %d pid %d", last.si_code, last.si_pid);
	si.si_code = SI_QUEUE;
	si.si_pid = 5;
	expect_eq(S4(SYS_rt_tgsigqueueinfo, self, S0(SYS_gettid), SIGUSR1, &si), 0, "rt_tgsigqueueinfo");
	CHECK(last.si_code == SI_QUEUE && last.si_pid == 5, "code %d pid %d", last.si_code, last.si_pid);
	expect_eq(caught, 3, "the handler ran three times");
	ok();

	current = "siginfo of a signal from another process";
	mask_one(SIG_BLOCK, SIGUSR1);
	pid = fork_ok();
	if (pid == 0) {
		S2(SYS_kill, getppid(), SIGUSR1);
		child_exit(0);
	}
	expect_exited(pid, 0, "the child");
	caught = 0;
	mask_one(SIG_UNBLOCK, SIGUSR1);
	expect_eq(caught, 1, "the handler ran once unblocked");
	expect_info(&last, SIGUSR1, SI_USER, pid, "kill from the child");
	ok();

	current = "SIGCHLD siginfo";
	mask_one(SIG_BLOCK, SIGCHLD);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	pid = fork_ok();
	if (pid == 0)
		child_exit(3);
	memset(&si, 0, sizeof si);
	expect_eq(S4(SYS_rt_sigtimedwait, &set, &si, 0, 8), SIGCHLD, "SIGCHLD");
	CHECK(si.si_code == CLD_EXITED && si.si_pid == pid && si.si_status == 3 && si.si_uid == getuid(),
	      "code %d status %d", si.si_code, si.si_status);
	expect_exited(pid, 3, "the child");
	pid = fork_ok();
	if (pid == 0) {
		S2(SYS_kill, getpid(), SIGTERM);
		child_exit(99);
	}
	memset(&si, 0, sizeof si);
	expect_eq(S4(SYS_rt_sigtimedwait, &set, &si, 0, 8), SIGCHLD, "SIGCHLD");
	CHECK(si.si_code == CLD_KILLED && si.si_pid == pid && si.si_status == SIGTERM, "code %d status %d",
	      si.si_code, si.si_status);
	expect_killed(pid, SIGTERM, "the child");
	/* SIGCHLD's default action ignores it, yet one sent while sigtimedwait
	 * waits for it (blocked before the wait) is not thrown away. */
	pid = fork_ok();
	if (pid == 0) {
		wait_sleeping(getppid());
		child_exit(4);
	}
	memset(&si, 0, sizeof si);
	expect_eq(S4(SYS_rt_sigtimedwait, &set, &si, 0, 8), SIGCHLD, "SIGCHLD sent during the wait");
	CHECK(si.si_code == CLD_EXITED && si.si_pid == pid && si.si_status == 4, "code %d status %d", si.si_code,
	      si.si_status);
	expect_exited(pid, 4, "the child");
	ok();

	current = "SIGCHLD does not queue";
	{
		pid_t a = fork_ok();
		if (a == 0)
			child_exit(1);
		pid_t b = fork_ok();
		if (b == 0)
			child_exit(2);
		expect_eq(S5(SYS_waitid, P_PID, a, &si, WEXITED | WNOWAIT, 0), 0, "wait for the first");
		expect_eq(S5(SYS_waitid, P_PID, b, &si, WEXITED | WNOWAIT, 0), 0, "wait for the second");
		expect_eq(S4(SYS_rt_sigtimedwait, &set, &si, &zero, 8), SIGCHLD, "one SIGCHLD");
		expect_err(S4(SYS_rt_sigtimedwait, &set, &si, &zero, 8), EAGAIN, "and no second");
		expect_exited(a, 1, "the first");
		expect_exited(b, 2, "the second");
	}
	mask_one(SIG_UNBLOCK, SIGCHLD);
	ok();

	current = "the mask inside a handler";
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = record;
		sa.sa_flags = SA_SIGINFO;
		sigaddset(&sa.sa_mask, SIGUSR2);
		sigaction(SIGUSR1, &sa, 0);
		mask_one(SIG_BLOCK, SIGHUP);
		S2(SYS_kill, self, SIGUSR1);
		expect_eq(mask_inside, bit(SIGUSR1) | bit(SIGUSR2) | bit(SIGHUP), "the old mask, sa_mask and the signal");
		expect_eq(raw_mask(), bit(SIGHUP), "the mask after the handler");
		sa.sa_flags = SA_SIGINFO | SA_NODEFER;
		sigaction(SIGUSR1, &sa, 0);
		S2(SYS_kill, self, SIGUSR1);
		expect_eq(mask_inside, bit(SIGUSR2) | bit(SIGHUP), "SA_NODEFER leaves the signal unblocked");
		mask_one(SIG_SETMASK, 0);
	}
	ok();

	current = "nested handlers";
	on(SIGUSR1, nest, 0);
	on(SIGUSR2, nest, 0);
	log_reset();
	raise_what = '2';
	S2(SYS_kill, self, SIGUSR1);
	CHECK(strcmp(log_buf, "1<2<2>1>") == 0, "another signal nests: %s", log_buf);
	log_reset();
	raise_what = '1';
	S2(SYS_kill, self, SIGUSR1);
	CHECK(strcmp(log_buf, "1<1>1<1>") == 0, "the same signal waits: %s", log_buf);
	on(SIGUSR1, nest, SA_NODEFER);
	log_reset();
	raise_what = '1';
	S2(SYS_kill, self, SIGUSR1);
	CHECK(strcmp(log_buf, "1<1<1>1>") == 0, "with SA_NODEFER it nests: %s", log_buf);
	ok();

	current = "pending signals run lowest first";
	{
		/* With every signal blocked in the handlers, each handler returns
		 * before the next pending signal is delivered. */
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = queued;
		sa.sa_flags = SA_SIGINFO;
		sigfillset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, 0);
		sigaction(SIGUSR2, &sa, 0);
		sigaction(SIGRTMIN, &sa, 0);
		sigaction(SIGRTMIN + 1, &sa, 0);
		uint64_t all = ~0ULL;
		S4(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, 8);
		sigqueue(self, SIGRTMIN + 1, (union sigval){.sival_int = 4});
		sigqueue(self, SIGRTMIN, (union sigval){.sival_int = 1});
		sigqueue(self, SIGRTMIN, (union sigval){.sival_int = 2});
		S2(SYS_kill, self, SIGUSR2);
		S2(SYS_kill, self, SIGUSR2);
		sigqueue(self, SIGRTMIN, (union sigval){.sival_int = 3});
		S2(SYS_kill, self, SIGUSR1);
		log_reset();
		mask_one(SIG_SETMASK, 0);
		CHECK(strcmp(log_buf, "uv1234") == 0, "order %s", log_buf);
	}
	ok();

	current = "unmasked pending signals nest";
	{
		/* Linux sets up a frame for every deliverable signal before it
		 * returns to user mode: the last one set up, the highest, runs first. */
		uint64_t all = ~0ULL;
		on(SIGUSR1, nest, 0);
		on(SIGUSR2, nest, 0);
		on(SIGRTMIN, nest, 0);
		S4(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, 8);
		S2(SYS_kill, self, SIGRTMIN);
		S2(SYS_kill, self, SIGUSR2);
		S2(SYS_kill, self, SIGUSR1);
		log_reset();
		raise_what = 0;
		mask_one(SIG_SETMASK, 0);
		CHECK(strcmp(log_buf, "r<r>2<2>1<1>") == 0, "order %s", log_buf);
	}
	set_disposition(SIGRTMIN, SIG_DFL, 0);
	set_disposition(SIGRTMIN + 1, SIG_DFL, 0);
	set_disposition(SIGUSR2, SIG_DFL, 0);
	ok();

	current = "SA_RESETHAND";
	on(SIGUSR1, record, SA_RESETHAND);
	caught = 0;
	S2(SYS_kill, self, SIGUSR1);
	expect_eq(caught, 1, "the handler ran");
	expect_eq(mask_inside, bit(SIGUSR1), "the signal is blocked in the handler");
	CHECK(disposition_of(SIGUSR1) == SIG_DFL, "the action is SIG_DFL again");
	pid = fork_ok();
	if (pid == 0) {
		on(SIGUSR1, record, SA_RESETHAND);
		S2(SYS_kill, getpid(), SIGUSR1);
		S2(SYS_kill, getpid(), SIGUSR1);
		child_exit(99);
	}
	expect_killed(pid, SIGUSR1, "the second SIGUSR1 takes the default action");
	ok();

	current = "sigaltstack";
	{
		stack_t ss, old;
		memset(&old, 0xff, sizeof old);
		expect_eq(S2(SYS_sigaltstack, 0, &old), 0, "query");
		CHECK(old.ss_flags == SS_DISABLE && old.ss_sp == 0 && old.ss_size == 0, "no alternate stack at start");
		ss.ss_sp = altstack;
		ss.ss_size = 2047;
		ss.ss_flags = 0;
		expect_err(S2(SYS_sigaltstack, &ss, 0), ENOMEM, "2047 bytes, below MINSIGSTKSZ");
		ss.ss_size = ALTSTACK_SIZE;
		ss.ss_flags = 5;
		expect_err(S2(SYS_sigaltstack, &ss, 0), EINVAL, "flags 5");
		ss.ss_flags = 0;
		expect_eq(S2(SYS_sigaltstack, &ss, &old), 0, "set");
		expect_eq(old.ss_flags, SS_DISABLE, "the old stack");
		expect_eq(S2(SYS_sigaltstack, 0, &old), 0, "query");
		CHECK(old.ss_sp == altstack && old.ss_size == ALTSTACK_SIZE && old.ss_flags == 0, "the new stack");

		on(SIGUSR1, where, SA_ONSTACK);
		on(SIGUSR2, where, SA_ONSTACK);
		depth = 0;
		S2(SYS_kill, self, SIGUSR1);
		CHECK(on_altstack(frame_at), "the SA_ONSTACK handler ran on the alternate stack");
		expect_eq(altstack_flags, SS_ONSTACK, "ss_flags in the handler");
		expect_err(altstack_change, EPERM, "changing it while on it");
		expect_eq(S2(SYS_sigaltstack, 0, &old), 0, "query");
		expect_eq(old.ss_flags, 0, "ss_flags after the handler");

		on(SIGUSR1, where, 0);
		depth = 1;
		S2(SYS_kill, self, SIGUSR1);
		CHECK(!on_altstack(frame_at), "a handler without SA_ONSTACK ran on the normal stack");
		expect_eq(altstack_flags, 0, "ss_flags in that handler");
		expect_eq(altstack_change, 0, "changing it while not on it");

		ss.ss_flags = SS_DISABLE;
		expect_eq(S2(SYS_sigaltstack, &ss, 0), 0, "disable");
		memset(&old, 0xff, sizeof old);
		expect_eq(S2(SYS_sigaltstack, 0, &old), 0, "query");
		CHECK(old.ss_flags == SS_DISABLE && old.ss_sp == 0 && old.ss_size == 0, "disabled: flags %d size %zu",
		      old.ss_flags, old.ss_size);
		set_disposition(SIGUSR1, SIG_DFL, 0);
		set_disposition(SIGUSR2, SIG_DFL, 0);
	}
	ok();

	current = "a stack overflow caught on the alternate stack";
	pid = fork_ok();
	if (pid == 0) {
		/* Recurse on a 1 MiB stack whose lowest page is PROT_NONE. */
		stack_t ss = {.ss_sp = altstack, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
		char *stack = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(stack != MAP_FAILED, "mmap");
		expect_eq(S3(SYS_mprotect, stack, 4096, PROT_NONE), 0, "mprotect the guard page");
		expect_eq(S2(SYS_sigaltstack, &ss, 0), 0, "sigaltstack");
		on(SIGSEGV, segv_on_altstack, SA_ONSTACK);
		__asm__ volatile("mov %0, %%rsp\n\t"
				 "xor %%edi, %%edi\n\t"
				 "call *%1"
				 :
				 : "r"(stack + (1 << 20)), "r"(recurse)
				 : "memory");
		child_exit(99);
	}
	expect_exited(pid, 42, "the SIGSEGV handler ran on the alternate stack");
	ok();

	current = "sigprocmask and sigpending";
	on(SIGUSR1, record, 0);
	mask_one(SIG_BLOCK, SIGUSR1);
	caught = 0;
	S2(SYS_kill, self, SIGUSR1);
	S2(SYS_kill, self, SIGUSR1);
	expect_eq(caught, 0, "a blocked signal waits");
	CHECK(is_pending(SIGUSR1), "SIGUSR1 is pending");
	mask_one(SIG_UNBLOCK, SIGUSR1);
	expect_eq(caught, 1, "delivered once, before sigprocmask returned");
	CHECK(!is_pending(SIGUSR1), "no longer pending");
	{
		uint64_t all = ~0ULL, old = 0, pending = 0;
		expect_eq(S4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8), 0, "block everything");
		expect_eq(old, 0, "the old mask");
		expect_eq(raw_mask(), ~(bit(SIGKILL) | bit(SIGSTOP)), "SIGKILL and SIGSTOP are never blocked");
		expect_err(S4(SYS_rt_sigprocmask, 3, &all, 0, 8), EINVAL, "how 3");
		expect_err(S4(SYS_rt_sigprocmask, SIG_BLOCK, &all, 0, 4), EINVAL, "sigsetsize 4");
		expect_err(S2(SYS_rt_sigpending, &pending, 16), EINVAL, "rt_sigpending sigsetsize 16");
		expect_eq(S2(SYS_rt_sigpending, &pending, 4), 0, "rt_sigpending takes a sigsetsize below 8");
		mask_one(SIG_SETMASK, 0);
		expect_eq(raw_mask(), 0, "unblocked");
	}
	ok();

	current = "blocked ignored signals";
	set_disposition(SIGUSR1, SIG_IGN, 0);
	S2(SYS_kill, self, SIGUSR1);
	CHECK(!is_pending(SIGUSR1), "an unblocked ignored signal is dropped");
	mask_one(SIG_BLOCK, SIGUSR1);
	S2(SYS_kill, self, SIGUSR1);
	CHECK(is_pending(SIGUSR1), "a blocked ignored signal is queued");
	set_disposition(SIGUSR1, SIG_IGN, 0);
	CHECK(!is_pending(SIGUSR1), "setting SIG_IGN discards it");
	S2(SYS_kill, self, SIGUSR1);
	on(SIGUSR1, record, 0);
	CHECK(is_pending(SIGUSR1), "setting a handler keeps it");
	caught = 0;
	mask_one(SIG_UNBLOCK, SIGUSR1);
	expect_eq(caught, 1, "and the handler runs");
	set_disposition(SIGURG, SIG_DFL, 0);
	S2(SYS_kill, self, SIGURG);
	S2(SYS_kill, self, SIGWINCH);
	S2(SYS_kill, self, SIGCHLD);
	S2(SYS_kill, self, SIGCONT);
	ok();

	current = "sigaction errors";
	{
		struct ksigaction ka = {.handler = (unsigned long)SIG_IGN}, old;
		expect_err(S4(SYS_rt_sigaction, SIGKILL, &ka, 0, 8), EINVAL, "SIGKILL");
		expect_err(S4(SYS_rt_sigaction, SIGSTOP, &ka, 0, 8), EINVAL, "SIGSTOP");
		expect_eq(S4(SYS_rt_sigaction, SIGKILL, 0, &old, 8), 0, "querying SIGKILL");
		expect_eq(old.handler, 0, "SIGKILL's action");
		expect_err(S4(SYS_rt_sigaction, 0, &ka, 0, 8), EINVAL, "signal 0");
		expect_err(S4(SYS_rt_sigaction, 65, &ka, 0, 8), EINVAL, "signal 65");
		expect_err(S4(SYS_rt_sigaction, SIGUSR2, &ka, 0, 4), EINVAL, "sigsetsize 4");
		ka.mask = ~0ULL;
		ka.flags = SA_RESTART;
		expect_eq(S4(SYS_rt_sigaction, SIGUSR2, &ka, 0, 8), 0, "sa_mask with everything");
		expect_eq(S4(SYS_rt_sigaction, SIGUSR2, 0, &old, 8), 0, "query");
		CHECK(old.handler == (unsigned long)SIG_IGN && old.flags == SA_RESTART, "handler %lx flags %lx", old.handler,
		      old.flags);
		expect_eq(old.mask, ~(bit(SIGKILL) | bit(SIGSTOP)), "sa_mask never holds SIGKILL or SIGSTOP");
		set_disposition(SIGUSR2, SIG_DFL, 0);
	}
	ok();

	current = "sigsuspend";
	on(SIGUSR1, record, 0);
	mask_one(SIG_BLOCK, SIGUSR1);
	S2(SYS_kill, self, SIGUSR1);
	caught = 0;
	expect_err(S2(SYS_rt_sigsuspend, &empty, 8), EINTR, "a pending signal the mask unblocks");
	expect_eq(caught, 1, "the handler ran");
	expect_eq(mask_inside, bit(SIGUSR1), "the handler's mask is the sigsuspend mask plus the signal");
	CHECK(is_blocked(SIGUSR1), "the old mask is back");
	mask_one(SIG_SETMASK, 0);
	on(SIGALRM, record, 0);
	mask_one(SIG_BLOCK, SIGALRM);
	{
		struct itimerval it = {{0, 0}, {0, 20000}};
		expect_eq(S3(SYS_setitimer, ITIMER_REAL, &it, 0), 0, "setitimer 20 ms");
	}
	caught = 0;
	expect_err(S2(SYS_rt_sigsuspend, &empty, 8), EINTR, "waits for SIGALRM");
	expect_eq(caught, 1, "the handler ran");
	expect_eq(last.si_signo, SIGALRM, "SIGALRM");
	mask_one(SIG_SETMASK, 0);
	expect_err(S2(SYS_rt_sigsuspend, &empty, 4), EINVAL, "sigsetsize 4");
	ok();

	current = "sigtimedwait";
	mask_one(SIG_BLOCK, SIGUSR1);
	mask_one(SIG_BLOCK, SIGUSR2);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	caught = 0;
	S2(SYS_kill, self, SIGUSR2);
	sigqueue(self, SIGUSR1, (union sigval){.sival_int = 5});
	memset(&si, 0, sizeof si);
	expect_eq(S4(SYS_rt_sigtimedwait, &set, &si, &zero, 8), SIGUSR1, "the lowest pending first");
	expect_info(&si, SIGUSR1, SI_QUEUE, self, "sigqueue");
	expect_eq(si.si_value.sival_int, 5, "si_value");
	expect_eq(S4(SYS_rt_sigtimedwait, &set, 0, &zero, 8), SIGUSR2, "then SIGUSR2, with no siginfo asked");
	expect_eq(caught, 0, "no handler ran");
	CHECK(!is_pending(SIGUSR1) && !is_pending(SIGUSR2), "nothing pending");
	expect_err(S4(SYS_rt_sigtimedwait, &set, &si, &zero, 8), EAGAIN, "a zero timeout");
	{
		struct timespec ts = {0, 20000000};
		t0 = now_ns();
		expect_err(S4(SYS_rt_sigtimedwait, &set, &si, &ts, 8), EAGAIN, "a 20 ms timeout");
		CHECK(now_ns() - t0 >= 19000000, "sigtimedwait returned before its timeout");
		ts.tv_nsec = 1000000000;
		expect_err(S4(SYS_rt_sigtimedwait, &set, &si, &ts, 8), EINVAL, "tv_nsec 1000000000");
		expect_err(S4(SYS_rt_sigtimedwait, &set, &si, &zero, 4), EINVAL, "sigsetsize 4");
	}
	pid = fork_ok();
	if (pid == 0) {
		sleep_ms(20);
		sigqueue(getppid(), SIGUSR2, (union sigval){.sival_int = 6});
		child_exit(0);
	}
	memset(&si, 0, sizeof si);
	expect_eq(S4(SYS_rt_sigtimedwait, &set, &si, 0, 8), SIGUSR2, "a signal from another process");
	expect_info(&si, SIGUSR2, SI_QUEUE, pid, "sigqueue from the child");
	expect_eq(si.si_value.sival_int, 6, "si_value");
	expect_exited(pid, 0, "the child");
	mask_one(SIG_SETMASK, 0);
	ok();

	current = "FPU state is restored after a handler";
	on(SIGUSR1, fpu_clobber, 0);
	avx = have_avx();
	{
		uint64_t in[16][4], got[16][4];
		unsigned short cw = 0;
		for (int i = 0; i < 16; i++)
			for (int j = 0; j < 4; j++)
				in[i][j] = 0x0123456789abcdefULL * (uint64_t)(4 * i + j + 1);
		caught = 0;
		memset(got, 0, sizeof got);
		sse_around_kill(in, got, self);
		expect_eq(caught, 1, "the handler ran between the load and the store");
		for (int i = 0; i < 16; i++)
			CHECK(memcmp(got[0] + 2 * i, in[0] + 2 * i, 16) == 0, "xmm%d changed", i);
		if (avx) {
			memset(got, 0, sizeof got);
			avx_around_kill(in, got, self);
			expect_eq(caught, 2, "the handler ran between the load and the store");
			for (int i = 0; i < 16; i++)
				CHECK(memcmp(got[i], in[i], 32) == 0, "ymm%d changed", i);
		}
		expect_eq(fegetround(), FE_TONEAREST, "the rounding mode");
		__asm__ volatile("fnstcw %0" : "=m"(cw));
		expect_eq(cw, 0x37f, "the x87 control word");
		volatile double third = 1.0 / 3.0;
		CHECK(third * 3.0 == 1.0, "arithmetic rounds to nearest");
	}
	set_disposition(SIGUSR1, SIG_DFL, 0);
	ok();

	current = "setitimer ITIMER_REAL";
	on(SIGALRM, record, 0);
	{
		struct itimerval it = {{0, 0}, {0, 20000}}, old;
		memset(&old, 0xff, sizeof old);
		expect_eq(S3(SYS_setitimer, ITIMER_REAL, &it, &old), 0, "setitimer 20 ms");
		CHECK(itimer_us(&old.it_value) == 0 && itimer_us(&old.it_interval) == 0, "no old timer");
		expect_eq(S2(SYS_getitimer, ITIMER_REAL, &old), 0, "getitimer");
		CHECK(itimer_us(&old.it_value) > 0 && itimer_us(&old.it_value) <= 20000 && itimer_us(&old.it_interval) == 0,
		      "value %ld interval %ld", itimer_us(&old.it_value), itimer_us(&old.it_interval));
		caught = 0;
		t0 = now_ns();
		expect_err(S0(SYS_pause), EINTR, "pause");
		CHECK(now_ns() - t0 >= 15000000, "SIGALRM came early");
		expect_eq(caught, 1, "the handler ran once");
		CHECK(last.si_signo == SIGALRM && last.si_code == SI_KERNEL, "SIGALRM si_code %d", last.si_code);
		expect_eq(S2(SYS_getitimer, ITIMER_REAL, &old), 0, "getitimer");
		CHECK(itimer_us(&old.it_value) == 0 && itimer_us(&old.it_interval) == 0, "a one-shot timer is spent");

		it.it_interval.tv_usec = 10000;
		it.it_value.tv_usec = 10000;
		mask_one(SIG_BLOCK, SIGALRM);
		expect_eq(S3(SYS_setitimer, ITIMER_REAL, &it, 0), 0, "setitimer every 10 ms");
		caught = 0;
		for (int i = 0; i < 3; i++)
			expect_err(S2(SYS_rt_sigsuspend, &empty, 8), EINTR, "sigsuspend");
		expect_eq(caught, 3, "three SIGALRMs");
		memset(&it, 0, sizeof it);
		expect_eq(S3(SYS_setitimer, ITIMER_REAL, &it, &old), 0, "disarm");
		CHECK(itimer_us(&old.it_interval) == 10000 && itimer_us(&old.it_value) > 0 &&
			      itimer_us(&old.it_value) <= 10000,
		      "old value %ld interval %ld", itimer_us(&old.it_value), itimer_us(&old.it_interval));
		S4(SYS_rt_sigtimedwait, &(sigset_t){{1UL << (SIGALRM - 1)}}, 0, &zero, 8);
		mask_one(SIG_SETMASK, 0);
		expect_err(S3(SYS_setitimer, 5, &it, 0), EINVAL, "which 5");
		it.it_value.tv_usec = 1000000;
		expect_err(S3(SYS_setitimer, ITIMER_REAL, &it, 0), EINVAL, "tv_usec 1000000");
		it.it_value.tv_usec = -1;
		expect_err(S3(SYS_setitimer, ITIMER_REAL, &it, 0), EINVAL, "tv_usec -1");
		expect_err(S2(SYS_getitimer, 5, &old), EINVAL, "getitimer which 5");
	}
	ok();

	current = "alarm";
	{
		struct itimerval it;
		expect_eq(S1(SYS_alarm, 5), 0, "no alarm before");
		expect_eq(S1(SYS_alarm, 3), 5, "the 5 s alarm rounds to 5");
		expect_eq(S2(SYS_getitimer, ITIMER_REAL, &it), 0, "getitimer");
		CHECK(itimer_us(&it.it_value) > 2000000 && itimer_us(&it.it_value) <= 3000000 &&
			      itimer_us(&it.it_interval) == 0,
		      "alarm is ITIMER_REAL: value %ld", itimer_us(&it.it_value));
		expect_eq(S1(SYS_alarm, 0), 3, "cancel");
		expect_eq(S2(SYS_getitimer, ITIMER_REAL, &it), 0, "getitimer");
		expect_eq(itimer_us(&it.it_value), 0, "cancelled");
		it.it_interval.tv_sec = 0;
		it.it_interval.tv_usec = 0;
		it.it_value.tv_sec = 0;
		it.it_value.tv_usec = 300000;
		expect_eq(S3(SYS_setitimer, ITIMER_REAL, &it, 0), 0, "setitimer 300 ms");
		expect_eq(S1(SYS_alarm, 0), 1, "an alarm under a second left reads 1");
	}
	pid = fork_ok();
	if (pid == 0) {
		set_disposition(SIGALRM, SIG_DFL, 0);
		S1(SYS_alarm, 1);
		S0(SYS_pause);
		child_exit(99);
	}
	expect_killed(pid, SIGALRM, "a child whose alarm fires with the default action");
	set_disposition(SIGALRM, SIG_DFL, 0);
	ok();

	out("all ok\n");
	return 0;
}
