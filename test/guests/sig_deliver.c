/* sig_deliver: signal handlers run as on Linux, checked the same way
 * natively and in the sandbox:
 *   - siginfo: kill (SI_USER, si_pid, si_uid), raise/tgkill (SI_TKILL),
 *     sigqueue (SI_QUEUE, si_value);
 *   - the frame: the handler's stack (the restorer on top, (rsp + 8) % 16
 *     == 0, ucontext and siginfo above it, the XSAVE image 64-byte aligned
 *     below the red zone, its magic words and sizes), uc_flags, uc_link,
 *     oldmask, the interrupted registers in uc_mcontext;
 *   - every register but RAX survives a handler that clobbers them, with
 *     CF and DF (DF is clear inside the handler);
 *   - x87, MXCSR, xmm0-15 (and ymm, zmm, k when the CPU has them) survive
 *     a handler that clobbers them; a handler starts with them initial;
 *   - nesting: another signal inside a handler runs at once, the same one
 *     only after it returns, or at once with SA_NODEFER; SA_RESETHAND;
 *   - sigaltstack: a handler with SA_ONSTACK runs on it and sees
 *     SS_ONSTACK; SS_AUTODISARM disables it inside and rt_sigreturn puts
 *     it back;
 *   - faults: SIGSEGV (SEGV_MAPERR, SEGV_ACCERR, si_addr, trapno, cr2)
 *     left with siglongjmp, SIGILL, SIGFPE and SIGTRAP with their codes,
 *     and a handler that moves RIP and sets registers in uc_mcontext;
 *   - a handler without SA_SIGINFO.
 * With an argument, it ends by a signal instead: "badframe" (rt_sigreturn
 * on a stack with no frame), "nostack" (a SIGSEGV handler with no stack
 * to run on). Each check prints "ok NAME" or "FAIL: NAME: ..." and exits 1. */
#define _GNU_SOURCE
#include <cpuid.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include "guest.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static void handle(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	if (sigaction(sig, &sa, NULL) != 0)
		fail("sigaction(%d)", sig);
}

static uint64_t blocked_now(void)
{
	uint64_t m = 0;
	S4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
	return m;
}

#define BIT(sig) (1ULL << ((sig) - 1))

/* ---- siginfo ---- */
static volatile int got_sig, got_code, got_pid, got_uid, got_value, got_errno;

static void info_handler(int sig, siginfo_t *si, void *uc)
{
	got_sig = sig * 1000 + si->si_signo;
	got_code = si->si_code;
	got_pid = si->si_pid;
	got_uid = si->si_uid;
	got_value = si->si_value.sival_int;
	got_errno = si->si_errno;
}

/* ---- the frame ---- */
uint64_t entry_rsp, entry_flags;
void frame_handler(int sig, siginfo_t *si, void *uc);
/* frame_entry records the stack pointer and flags the handler is entered with. */
__asm__(".text\n"
	"frame_entry:\n\t"
	"mov %rsp, entry_rsp(%rip)\n\t"
	"pushfq\n\t"
	"popq entry_flags(%rip)\n\t"
	"jmp frame_handler\n");
void frame_entry(int, siginfo_t *, void *);

static volatile uint64_t f_si, f_uc, f_fp, f_rsp, f_restorer, f_uc_flags, f_uc_link, f_oldmask, f_sigmask;
static volatile uint32_t f_magic1, f_ext, f_size, f_magic2;
static volatile uint64_t f_xfeatures, f_xstate_bv;
static volatile int f_ss_flags;

void frame_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	unsigned char *fp = (unsigned char *)uc->uc_mcontext.fpregs;
	f_si = (uint64_t)si;
	f_uc = (uint64_t)uc;
	f_fp = (uint64_t)fp;
	f_rsp = uc->uc_mcontext.gregs[REG_RSP];
	f_restorer = *(uint64_t *)entry_rsp;
	f_uc_flags = uc->uc_flags;
	f_uc_link = (uint64_t)uc->uc_link;
	f_oldmask = uc->uc_mcontext.gregs[REG_OLDMASK];
	memcpy((void *)&f_sigmask, &uc->uc_sigmask, 8);
	f_ss_flags = uc->uc_stack.ss_flags;
	memcpy((void *)&f_magic1, fp + 464, 4);
	memcpy((void *)&f_ext, fp + 468, 4);
	memcpy((void *)&f_xfeatures, fp + 472, 8);
	memcpy((void *)&f_size, fp + 480, 4);
	memcpy((void *)&f_magic2, fp + f_size, 4);
	memcpy((void *)&f_xstate_bv, fp + 512, 8);
}

static void check_frame(void)
{
	struct sigaction sa, cur;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = frame_entry;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	S4(SYS_rt_sigaction, SIGUSR1, NULL, &cur, 8);
	struct ksigaction k;
	S4(SYS_rt_sigaction, SIGUSR1, NULL, &k, 8);
	uint64_t mask = blocked_now();
	raise(SIGUSR1);
	CHECK((entry_rsp + 8) % 16 == 0, "rsp 0x%llx at entry: (rsp + 8) %% 16 != 0", (unsigned long long)entry_rsp);
	CHECK((entry_flags & 0x400) == 0, "DF set at entry");
	CHECK(f_restorer == k.restorer && k.restorer != 0 && (k.flags & 0x04000000), "pretcode 0x%llx, sa_restorer 0x%llx",
	      (unsigned long long)f_restorer, (unsigned long long)k.restorer);
	CHECK(f_uc == entry_rsp + 8, "ucontext at rsp + %lld", (long long)(f_uc - entry_rsp));
	CHECK(f_si == entry_rsp + 312, "siginfo at rsp + %lld", (long long)(f_si - entry_rsp));
	CHECK(f_uc_flags == 7, "uc_flags %llu, expected UC_FP_XSTATE|UC_SIGCONTEXT_SS|UC_STRICT_RESTORE_SS",
	      (unsigned long long)f_uc_flags);
	CHECK(f_uc_link == 0, "uc_link");
	CHECK(f_oldmask == mask && f_sigmask == mask, "oldmask 0x%llx uc_sigmask 0x%llx, mask 0x%llx",
	      (unsigned long long)f_oldmask, (unsigned long long)f_sigmask, (unsigned long long)mask);
	CHECK(f_ss_flags == 0, "uc_stack.ss_flags %d", f_ss_flags);
	unsigned a, b, c, d;
	__cpuid_count(0xd, 0, a, b, c, d);
	uint32_t xlo, xhi;
	__asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
	uint64_t xcr0 = ((uint64_t)xhi << 32) | xlo;
	CHECK(f_magic1 == 0x46505853 && f_magic2 == 0x46505845, "magic 0x%x 0x%x", f_magic1, f_magic2);
	CHECK(f_size == b && f_ext == b + 4, "xstate_size %u extended_size %u, CPUID says %u", f_size, f_ext, b);
	CHECK(f_xfeatures == xcr0, "xfeatures 0x%llx, XCR0 0x%llx", (unsigned long long)f_xfeatures, (unsigned long long)xcr0);
	CHECK((f_xstate_bv & 3) == 3 && (f_xstate_bv & ~xcr0) == 0, "XSTATE_BV 0x%llx", (unsigned long long)f_xstate_bv);
	uint64_t fp = ((f_rsp - 128) - (f_size + 4)) & ~63ULL;
	CHECK(f_fp == fp, "fpstate 0x%llx, expected 0x%llx", (unsigned long long)f_fp, (unsigned long long)fp);
	CHECK(entry_rsp == ((fp - 440) & ~15ULL) - 8, "frame 0x%llx below fpstate 0x%llx", (unsigned long long)entry_rsp,
	      (unsigned long long)fp);
	(void)cur;
}

/* ---- registers ---- */
__attribute__((used)) static uint64_t reg_in[10], reg_out[14];
__attribute__((used)) static long reg_pid;
static volatile uint64_t reg_entry_flags;

static void clobber_handler(int sig, siginfo_t *si, void *uc)
{
	uint64_t fl;
	__asm__ volatile("pushfq; popq %0" : "=r"(fl));
	reg_entry_flags = fl;
	__asm__ volatile("mov $-1, %%rax; mov $-1, %%rcx; mov $-1, %%rdx; mov $-1, %%rsi; mov $-1, %%rdi;"
			 "mov $-1, %%r8; mov $-1, %%r9; mov $-1, %%r10; mov $-1, %%r11; std; cld; stc"
			 ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "cc");
}

/* registers_around_kill sets rbx, rbp, r8-r10, r12-r15, rdx to reg_in, makes kill(pid, SIGUSR1) with CF and
 * DF set, and stores rbx, rbp, r12-r15, r8-r10, rdx, rdi, rsi, rax, flags in reg_out. */
__attribute__((noinline)) static void registers_around_kill(void)
{
	__asm__ volatile("lea -128(%%rsp), %%rsp\n\t"
			 "push %%rbp\n\tpush %%rbx\n\tpush %%r12\n\tpush %%r13\n\tpush %%r14\n\tpush %%r15\n\t"
			 "mov reg_in+0(%%rip), %%rbx\n\tmov reg_in+8(%%rip), %%rbp\n\t"
			 "mov reg_in+16(%%rip), %%r12\n\tmov reg_in+24(%%rip), %%r13\n\t"
			 "mov reg_in+32(%%rip), %%r14\n\tmov reg_in+40(%%rip), %%r15\n\t"
			 "mov reg_in+48(%%rip), %%r8\n\tmov reg_in+56(%%rip), %%r9\n\t"
			 "mov reg_in+64(%%rip), %%r10\n\tmov reg_in+72(%%rip), %%rdx\n\t"
			 "mov reg_pid(%%rip), %%rdi\n\tmov $10, %%esi\n\tmov $62, %%eax\n\t"
			 "stc\n\tstd\n\tsyscall\n\t"
			 "pushfq\n\tpopq reg_out+104(%%rip)\n\tcld\n\t"
			 "mov %%rbx, reg_out+0(%%rip)\n\tmov %%rbp, reg_out+8(%%rip)\n\t"
			 "mov %%r12, reg_out+16(%%rip)\n\tmov %%r13, reg_out+24(%%rip)\n\t"
			 "mov %%r14, reg_out+32(%%rip)\n\tmov %%r15, reg_out+40(%%rip)\n\t"
			 "mov %%r8, reg_out+48(%%rip)\n\tmov %%r9, reg_out+56(%%rip)\n\t"
			 "mov %%r10, reg_out+64(%%rip)\n\tmov %%rdx, reg_out+72(%%rip)\n\t"
			 "mov %%rdi, reg_out+80(%%rip)\n\tmov %%rsi, reg_out+88(%%rip)\n\t"
			 "mov %%rax, reg_out+96(%%rip)\n\t"
			 "pop %%r15\n\tpop %%r14\n\tpop %%r13\n\tpop %%r12\n\tpop %%rbx\n\tpop %%rbp\n\t"
			 "lea 128(%%rsp), %%rsp\n\t"
			 ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
}

static void check_registers(void)
{
	handle(SIGUSR1, clobber_handler, 0);
	reg_pid = getpid();
	for (int i = 0; i < 10; i++)
		reg_in[i] = 0x1111111111111111ULL * (i + 1) + 0x0123;
	registers_around_kill();
	static const char *names[] = { "rbx", "rbp", "r12", "r13", "r14", "r15", "r8", "r9", "r10", "rdx" };
	for (int i = 0; i < 10; i++)
		CHECK(reg_out[i] == reg_in[i], "%s 0x%llx, expected 0x%llx", names[i], (unsigned long long)reg_out[i],
		      (unsigned long long)reg_in[i]);
	CHECK(reg_out[10] == (uint64_t)reg_pid && reg_out[11] == SIGUSR1, "rdi %lld rsi %lld", (long long)reg_out[10],
	      (long long)reg_out[11]);
	CHECK(reg_out[12] == 0, "kill returned %lld", (long long)reg_out[12]);
	CHECK((reg_out[13] & 0x401) == 0x401, "flags 0x%llx after: CF and DF must survive", (unsigned long long)reg_out[13]);
	CHECK((reg_entry_flags & 0x400) == 0, "DF set in the handler");
}

/* ---- FPU and vector state ---- */
__attribute__((used, aligned(64))) static uint8_t x_in[16][16], x_out[16][16];
__attribute__((used, aligned(64))) static uint8_t y_in[16][32], y_out[16][32];
__attribute__((used, aligned(64))) static uint8_t z_in[16][64], z_out[16][64];
__attribute__((used)) static uint64_t k_in[7], k_out[7];
__attribute__((used)) static uint32_t mx_in = 0x7f80, mx_out, mx_default = 0x1f80;
__attribute__((used)) static double st_in = 1.25, st_out;
static volatile uint32_t h_mxcsr;
static volatile uint64_t h_xmm0[2], h_xmm15[2];
static int has_avx, has_avx512;

__attribute__((target("avx512f"), noinline)) static void clobber_avx512(void)
{
	__asm__ volatile("vpternlogd $0xff, %%zmm16, %%zmm16, %%zmm16; vpternlogd $0xff, %%zmm31, %%zmm31, %%zmm31;"
			 "kxnorq %%k1, %%k1, %%k1; kxnorq %%k7, %%k7, %%k7" ::: "xmm16", "xmm31", "k1", "k7");
}

static void fpu_handler(int sig, siginfo_t *si, void *uc)
{
	uint32_t mx;
	__asm__ volatile("movdqu %%xmm0, %0; movdqu %%xmm15, %1; stmxcsr %2"
			 : "=m"(h_xmm0), "=m"(h_xmm15), "=m"(mx));
	h_mxcsr = mx;
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0; pcmpeqd %%xmm7, %%xmm7; pcmpeqd %%xmm8, %%xmm8; pcmpeqd %%xmm15, %%xmm15;"
			 "fninit; fld1; fldpi; ldmxcsr %0"
			 :: "m"(mx_in) : "xmm0", "xmm7", "xmm8", "xmm15", "st", "st(1)");
	if (has_avx)
		__asm__ volatile("vpcmpeqd %%ymm3, %%ymm3, %%ymm3; vpcmpeqd %%ymm12, %%ymm12, %%ymm12" ::: "xmm3", "xmm12");
	if (has_avx512)
		clobber_avx512();
	__asm__ volatile("fstp %%st(0); fstp %%st(0); ldmxcsr %0" :: "m"(mx_default));
}

#define SYSCALL_KILL "mov reg_pid(%%rip), %%rdi\n\tmov $10, %%esi\n\tmov $62, %%eax\n\tsyscall\n\t"
#define XMMS(op, arr, w) \
	op " " arr "+0*" w "(%%rip), %%xmm0\n\t" op " " arr "+1*" w "(%%rip), %%xmm1\n\t" \
	op " " arr "+2*" w "(%%rip), %%xmm2\n\t" op " " arr "+3*" w "(%%rip), %%xmm3\n\t" \
	op " " arr "+4*" w "(%%rip), %%xmm4\n\t" op " " arr "+5*" w "(%%rip), %%xmm5\n\t" \
	op " " arr "+6*" w "(%%rip), %%xmm6\n\t" op " " arr "+7*" w "(%%rip), %%xmm7\n\t" \
	op " " arr "+8*" w "(%%rip), %%xmm8\n\t" op " " arr "+9*" w "(%%rip), %%xmm9\n\t" \
	op " " arr "+10*" w "(%%rip), %%xmm10\n\t" op " " arr "+11*" w "(%%rip), %%xmm11\n\t" \
	op " " arr "+12*" w "(%%rip), %%xmm12\n\t" op " " arr "+13*" w "(%%rip), %%xmm13\n\t" \
	op " " arr "+14*" w "(%%rip), %%xmm14\n\t" op " " arr "+15*" w "(%%rip), %%xmm15\n\t"
#define XMMS_OUT(op, arr, w) \
	op " %%xmm0, " arr "+0*" w "(%%rip)\n\t" op " %%xmm1, " arr "+1*" w "(%%rip)\n\t" \
	op " %%xmm2, " arr "+2*" w "(%%rip)\n\t" op " %%xmm3, " arr "+3*" w "(%%rip)\n\t" \
	op " %%xmm4, " arr "+4*" w "(%%rip)\n\t" op " %%xmm5, " arr "+5*" w "(%%rip)\n\t" \
	op " %%xmm6, " arr "+6*" w "(%%rip)\n\t" op " %%xmm7, " arr "+7*" w "(%%rip)\n\t" \
	op " %%xmm8, " arr "+8*" w "(%%rip)\n\t" op " %%xmm9, " arr "+9*" w "(%%rip)\n\t" \
	op " %%xmm10, " arr "+10*" w "(%%rip)\n\t" op " %%xmm11, " arr "+11*" w "(%%rip)\n\t" \
	op " %%xmm12, " arr "+12*" w "(%%rip)\n\t" op " %%xmm13, " arr "+13*" w "(%%rip)\n\t" \
	op " %%xmm14, " arr "+14*" w "(%%rip)\n\t" op " %%xmm15, " arr "+15*" w "(%%rip)\n\t"
#define XMM_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", \
	"xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

__attribute__((target("avx512f"), noinline)) static void avx512_around_kill(void)
{
	__asm__ volatile("lea -128(%%rsp), %%rsp\n\t"
			 "vmovdqu64 z_in+0(%%rip), %%zmm16\n\tvmovdqu64 z_in+64(%%rip), %%zmm31\n\t"
			 "vmovdqu64 z_in+128(%%rip), %%zmm5\n\t"
			 "kmovq k_in+0(%%rip), %%k1\n\tkmovq k_in+48(%%rip), %%k7\n\t" SYSCALL_KILL
			 "vmovdqu64 %%zmm16, z_out+0(%%rip)\n\tvmovdqu64 %%zmm31, z_out+64(%%rip)\n\t"
			 "vmovdqu64 %%zmm5, z_out+128(%%rip)\n\t"
			 "kmovq %%k1, k_out+0(%%rip)\n\tkmovq %%k7, k_out+48(%%rip)\n\t"
			 "lea 128(%%rsp), %%rsp\n\tvzeroupper\n\t"
			 ::: "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory", "cc", "xmm5", "xmm16", "xmm31", "k1", "k7");
}

static void check_fpu(void)
{
	unsigned a, b, c, d;
	__cpuid_count(1, 0, a, b, c, d);
	uint32_t xlo = 0, xhi;
	if (c & (1u << 27))
		__asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
	has_avx = (c & (1u << 28)) && (xlo & 6) == 6;
	__cpuid_count(7, 0, a, b, c, d);
	has_avx512 = has_avx && (b & (1u << 16)) && (xlo & 0xe0) == 0xe0;
	handle(SIGUSR1, fpu_handler, 0);
	reg_pid = getpid();
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 64; j++) {
			z_in[i][j] = (uint8_t)(i * 64 + j * 7 + 1);
			if (j < 32)
				y_in[i][j] = (uint8_t)(i * 32 + j * 5 + 3);
			if (j < 16)
				x_in[i][j] = (uint8_t)(i * 16 + j * 3 + 2);
		}
	for (int i = 0; i < 7; i++)
		k_in[i] = 0x0101010101010101ULL * (i + 3);
	__asm__ volatile("lea -128(%%rsp), %%rsp\n\t" XMMS("movdqu", "x_in", "16")
			 "ldmxcsr mx_in(%%rip)\n\tfldl st_in(%%rip)\n\t" SYSCALL_KILL
			 "stmxcsr mx_out(%%rip)\n\tldmxcsr mx_default(%%rip)\n\tfstpl st_out(%%rip)\n\t"
			 XMMS_OUT("movdqu", "x_out", "16") "lea 128(%%rsp), %%rsp\n\t"
			 ::: "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory", "cc", "st", XMM_CLOBBERS);
	CHECK(memcmp(x_in, x_out, sizeof x_in) == 0, "xmm0-15 changed");
	CHECK(mx_out == mx_in, "MXCSR 0x%x, expected 0x%x", mx_out, mx_in);
	CHECK(st_out == st_in, "st0 %f", st_out);
	CHECK(h_mxcsr == 0x1f80, "MXCSR in the handler 0x%x, expected the initial 0x1f80", h_mxcsr);
	CHECK(h_xmm0[0] == 0 && h_xmm0[1] == 0 && h_xmm15[0] == 0 && h_xmm15[1] == 0, "xmm0/xmm15 not zero in the handler");
	if (has_avx) {
		__asm__ volatile("lea -128(%%rsp), %%rsp\n\t"
				 "vmovdqu y_in+0(%%rip), %%ymm3\n\tvmovdqu y_in+32(%%rip), %%ymm12\n\t" SYSCALL_KILL
				 "vmovdqu %%ymm3, y_out+0(%%rip)\n\tvmovdqu %%ymm12, y_out+32(%%rip)\n\t"
				 "lea 128(%%rsp), %%rsp\n\tvzeroupper\n\t"
				 ::: "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory", "cc", "xmm3", "xmm12");
		CHECK(memcmp(y_in[0], y_out[0], 64) == 0, "ymm3/ymm12 changed");
	}
	if (has_avx512)
		avx512_around_kill();
	CHECK(!has_avx512 || memcmp(z_in[0], z_out[0], 192) == 0, "zmm16/zmm31/zmm5 changed");
	CHECK(!has_avx512 || (k_out[0] == k_in[0] && k_out[6] == k_in[6]), "k1/k7 changed");
}

/* ---- nesting ---- */
static volatile char order[64];
static volatile int order_len;
static volatile int nest_depth, nest_max;

static void note(char c)
{
	if (order_len < (int)sizeof order - 1)
		order[order_len++] = c;
}

static void nest_handler(int sig, siginfo_t *si, void *uc)
{
	nest_depth++;
	if (nest_depth > nest_max)
		nest_max = nest_depth;
	note(sig == SIGUSR1 ? 'A' : 'B');
	static int again;
	if (sig == SIGUSR1 && again++ == 0) {
		raise(SIGUSR2);
		note('a');
		raise(SIGUSR1);
		note('b');
	}
	note(sig == SIGUSR1 ? 'x' : 'y');
	nest_depth--;
}

static volatile int nodefer_calls;

/* nodefer_handler raises its signal again from its first two runs. */
static void nodefer_handler(int sig, siginfo_t *si, void *uc)
{
	nest_depth++;
	if (nest_depth > nest_max)
		nest_max = nest_depth;
	if (++nodefer_calls < 3)
		raise(sig);
	nest_depth--;
}

static volatile uint64_t reset_mask;
static volatile int reset_calls;

static void reset_handler(int sig, siginfo_t *si, void *uc)
{
	reset_calls++;
	reset_mask = blocked_now();
}

/* ---- sigaltstack ---- */
static char alt[65536] __attribute__((aligned(16)));
static volatile uint64_t alt_local;
static volatile int alt_flags, alt_uc_flags;

static void alt_handler(int sig, siginfo_t *si, void *ucv)
{
	volatile char here;
	stack_t cur;
	alt_local = (uint64_t)&here;
	sigaltstack(NULL, &cur);
	alt_flags = cur.ss_flags;
	alt_uc_flags = ((ucontext_t *)ucv)->uc_stack.ss_flags;
}

/* ---- faults ---- */
static sigjmp_buf jump;
static volatile uint64_t fault_addr, fault_trapno, fault_cr2, fault_rip;
static volatile int fault_sig, fault_code;

static void fault_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	fault_sig = sig;
	fault_code = si->si_code;
	fault_addr = (uint64_t)si->si_addr;
	fault_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	fault_cr2 = uc->uc_mcontext.gregs[REG_CR2];
	fault_rip = uc->uc_mcontext.gregs[REG_RIP];
	siglongjmp(jump, 1);
}

extern char fix_load[], fix_after[], ud2_at[], div_at[], int3_after[];
static void fixup_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	fault_sig = sig;
	fault_code = si->si_code;
	fault_addr = (uint64_t)si->si_addr;
	fault_rip = uc->uc_mcontext.gregs[REG_RIP];
	fault_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	if (sig == SIGSEGV) {
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)fix_after;
		uc->uc_mcontext.gregs[REG_RAX] = 42;
		uc->uc_mcontext.gregs[REG_R12] = 0x5eed;
	} else if (sig == SIGILL) {
		uc->uc_mcontext.gregs[REG_RIP] += 2;
	} else if (sig == SIGFPE) {
		uc->uc_mcontext.gregs[REG_RIP] += 3;
		uc->uc_mcontext.gregs[REG_RAX] = 7;
	}
}

static volatile int plain_sig;
static void plain_handler(int sig)
{
	plain_sig = sig;
}

static void die_by_bad_frame(void)
{
	/* rt_sigreturn with the stack at an unmapped page: the frame cannot be read. */
	__asm__ volatile("mov $0x10000, %%rsp\n\tmov $15, %%eax\n\tsyscall\n\tud2" ::: "memory");
}

static void die_with_no_stack(void)
{
	handle(SIGSEGV, fault_handler, 0);
	/* The fault's handler needs a stack, and the stack pointer is unusable. */
	__asm__ volatile("mov $0x10000, %%rsp\n\tmovl $1, (%%rsp)\n\tud2" ::: "memory");
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		out("dying by %s\n", argv[1]);
		if (!strcmp(argv[1], "badframe"))
			die_by_bad_frame();
		if (!strcmp(argv[1], "nostack"))
			die_with_no_stack();
		return 3;
	}
	long pid = getpid();
	uid_t uid = getuid();

	current = "siginfo kill";
	handle(SIGUSR1, info_handler, 0);
	got_sig = 0;
	expect_eq(S2(SYS_kill, pid, SIGUSR1), 0, "kill");
	CHECK(got_sig == SIGUSR1 * 1001, "handler saw signal %d", got_sig);
	CHECK(got_code == SI_USER && got_pid == pid && got_uid == (int)uid && got_errno == 0,
	      "code %d pid %d uid %d errno %d", got_code, got_pid, got_uid, got_errno);
	ok();

	current = "siginfo tgkill";
	got_sig = 0;
	expect_eq(S3(SYS_tgkill, pid, S0(SYS_gettid), SIGUSR1), 0, "tgkill");
	CHECK(got_sig == SIGUSR1 * 1001 && got_code == SI_TKILL && got_pid == pid && got_uid == (int)uid,
	      "sig %d code %d pid %d uid %d", got_sig, got_code, got_pid, got_uid);
	got_sig = 0;
	raise(SIGUSR1);
	CHECK(got_sig == SIGUSR1 * 1001 && got_code == SI_TKILL, "raise: sig %d code %d", got_sig, got_code);
	ok();

	current = "siginfo sigqueue";
	got_sig = 0;
	union sigval v = { .sival_int = 4242 };
	CHECK(sigqueue(pid, SIGUSR1, v) == 0, "sigqueue");
	CHECK(got_sig == SIGUSR1 * 1001 && got_code == SI_QUEUE && got_value == 4242 && got_pid == pid,
	      "sig %d code %d value %d pid %d", got_sig, got_code, got_value, got_pid);
	ok();

	current = "frame";
	check_frame();
	ok();

	current = "registers";
	check_registers();
	ok();

	current = "fpu";
	check_fpu();
	ok();

	current = "nesting";
	handle(SIGUSR1, nest_handler, 0);
	handle(SIGUSR2, nest_handler, 0);
	raise(SIGUSR1);
	order[order_len] = 0;
	CHECK(!strcmp((const char *)order, "AByabxAx"), "order %s", (const char *)order);
	CHECK(nest_max == 2, "depth %d", nest_max);
	ok();

	current = "SA_NODEFER";
	nest_depth = nest_max = nodefer_calls = 0;
	handle(SIGUSR1, nodefer_handler, SA_NODEFER);
	raise(SIGUSR1);
	CHECK(nest_max == 3 && nodefer_calls == 3, "depth %d, expected 3", nest_max);
	nest_depth = nest_max = nodefer_calls = 0;
	handle(SIGUSR1, nodefer_handler, 0);
	raise(SIGUSR1);
	CHECK(nest_max == 1 && nodefer_calls == 3, "depth %d without SA_NODEFER (%d runs)", nest_max, nodefer_calls);
	ok();

	current = "SA_RESETHAND";
	{
		struct sigaction sa, old;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = reset_handler;
		sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
		sigaddset(&sa.sa_mask, SIGUSR2);
		sigaction(SIGWINCH, &sa, NULL);
		raise(SIGWINCH);
		CHECK(reset_calls == 1, "handler ran %d times", reset_calls);
		CHECK(reset_mask == (BIT(SIGWINCH) | BIT(SIGUSR2)), "mask in the handler 0x%llx", (unsigned long long)reset_mask);
		sigaction(SIGWINCH, NULL, &old);
		CHECK(old.sa_handler == SIG_DFL, "action not reset to SIG_DFL");
		raise(SIGWINCH); /* ignored by default */
		CHECK(reset_calls == 1, "handler ran again");
	}
	ok();

	current = "sigaltstack";
	{
		stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0 };
		CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack");
		handle(SIGUSR1, alt_handler, SA_ONSTACK);
		raise(SIGUSR1);
		CHECK(alt_local > (uint64_t)alt && alt_local < (uint64_t)alt + sizeof alt, "handler's stack 0x%llx not on it",
		      (unsigned long long)alt_local);
		CHECK(alt_flags == SS_ONSTACK && alt_uc_flags == 0, "flags in the handler %d, uc_stack %d", alt_flags, alt_uc_flags);
		handle(SIGUSR1, alt_handler, 0);
		raise(SIGUSR1);
		CHECK(!(alt_local > (uint64_t)alt && alt_local < (uint64_t)alt + sizeof alt), "no SA_ONSTACK: on it");
		ss.ss_flags = SS_AUTODISARM;
		CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack SS_AUTODISARM");
		handle(SIGUSR1, alt_handler, SA_ONSTACK);
		raise(SIGUSR1);
		CHECK(alt_local > (uint64_t)alt && alt_local < (uint64_t)alt + sizeof alt, "SS_AUTODISARM: not on it");
		CHECK(alt_flags == SS_DISABLE && alt_uc_flags == (int)SS_AUTODISARM, "SS_AUTODISARM: flags %d, uc_stack %d",
		      alt_flags, alt_uc_flags);
		stack_t cur;
		sigaltstack(NULL, &cur);
		CHECK(cur.ss_sp == alt && cur.ss_size == sizeof alt && cur.ss_flags == (int)SS_AUTODISARM,
		      "after the handler: sp %p size %zu flags %d", cur.ss_sp, cur.ss_size, cur.ss_flags);
		ss.ss_flags = SS_DISABLE;
		sigaltstack(&ss, NULL);
	}
	ok();

	current = "SIGSEGV and siglongjmp";
	{
		handle(SIGSEGV, fault_handler, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (!sigsetjmp(jump, 1)) {
			*(volatile int *)0x1000 = 1;
			fail("no fault");
		}
		CHECK(fault_sig == SIGSEGV && fault_code == SEGV_MAPERR && fault_addr == 0x1000 && fault_cr2 == 0x1000 &&
		      fault_trapno == 14, "sig %d code %d addr 0x%llx cr2 0x%llx trapno %llu", fault_sig, fault_code,
		      (unsigned long long)fault_addr, (unsigned long long)fault_cr2, (unsigned long long)fault_trapno);
		CHECK(blocked_now() == 0, "mask after siglongjmp 0x%llx", (unsigned long long)blocked_now());
		char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (!sigsetjmp(jump, 1)) {
			ro[8] = 1;
			fail("no fault on a read-only page");
		}
		CHECK(fault_code == SEGV_ACCERR && fault_addr == (uint64_t)ro + 8, "read-only: code %d addr 0x%llx",
		      fault_code, (unsigned long long)fault_addr);
		/* A signal sent later still shows the last fault's trap number, as Linux keeps it. */
		handle(SIGUSR2, fault_handler, 0);
		if (!sigsetjmp(jump, 1))
			raise(SIGUSR2);
		CHECK(fault_sig == SIGUSR2 && fault_trapno == 14, "after a fault, raise: trapno %llu",
		      (unsigned long long)fault_trapno);
	}
	ok();

	current = "handler edits uc_mcontext";
	{
		handle(SIGSEGV, fixup_handler, 0);
		handle(SIGILL, fixup_handler, 0);
		handle(SIGFPE, fixup_handler, 0);
		handle(SIGTRAP, fixup_handler, 0);
		long rax, r12;
		__asm__ volatile("xor %%eax, %%eax\n\txor %%r12d, %%r12d\n\t"
				 "fix_load: mov (%%rax), %%rax\n\tfix_after:\n\tmov %%r12, %1"
				 : "=&a"(rax), "=r"(r12) :: "r12", "memory");
		CHECK(rax == 42 && r12 == 0x5eed, "rax %ld r12 0x%lx after the handler", rax, r12);
		CHECK(fault_code == SEGV_MAPERR && fault_addr == 0 && fault_rip == (uint64_t)fix_load, "code %d addr 0x%llx",
		      fault_code, (unsigned long long)fault_addr);
		__asm__ volatile("ud2_at: ud2");
		CHECK(fault_sig == SIGILL && fault_code == ILL_ILLOPN && fault_addr == (uint64_t)ud2_at && fault_trapno == 6,
		      "SIGILL code %d addr 0x%llx trapno %llu", fault_code, (unsigned long long)fault_addr,
		      (unsigned long long)fault_trapno);
		long q;
		__asm__ volatile("xor %%edx, %%edx\n\tmov $1, %%eax\n\txor %%ecx, %%ecx\n\tdiv_at: .byte 0x48, 0xf7, 0xf9"
				 : "=a"(q) :: "rcx", "rdx");
		CHECK(q == 7 && fault_sig == SIGFPE && fault_code == FPE_INTDIV && fault_addr == (uint64_t)div_at &&
		      fault_trapno == 0, "SIGFPE q %ld code %d addr 0x%llx", q, fault_code, (unsigned long long)fault_addr);
		__asm__ volatile("int3\n\tint3_after:");
		CHECK(fault_sig == SIGTRAP && fault_code == SI_KERNEL && fault_rip == (uint64_t)int3_after && fault_trapno == 3,
		      "SIGTRAP code %d rip 0x%llx trapno %llu", fault_code, (unsigned long long)fault_rip,
		      (unsigned long long)fault_trapno);
	}
	ok();

	current = "handler without SA_SIGINFO";
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = plain_handler;
		sigaction(SIGUSR2, &sa, NULL);
		raise(SIGUSR2);
		CHECK(plain_sig == SIGUSR2, "plain handler saw %d", plain_sig);
	}
	ok();

	out("all ok\n");
	return 0;
}
