/* The FPU and vector state across fork and vfork, exactly as Linux keeps it:
 * the child starts with a copy of its parent's x87 stack and control word,
 * MXCSR, and xmm (ymm, with AVX) registers, and what a vfork child changes
 * there is its own: the parent finds its state as it left it; execve starts
 * a program with the initial state. Prints "ok
 * NAME" per check, then "all ok"; on the first failure prints "FAIL: NAME:
 * details" and exits 1.
 *
 * The registers are loaded, the raw system call made, and the registers
 * stored by one asm block each, so that no compiled code runs in between. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"
#include "proc.h"

/* MXCSR: all exceptions masked, rounding up, flush to zero (default 0x1f80). */
#define MXCSR_SET 0xdf80
/* x87 control word: all exceptions masked, double precision, round toward zero (default 0x37f). */
#define X87_CW_SET 0x0e7f
/* What a vfork child sets before it exits: round down, and the x87 default. */
#define MXCSR_CHILD 0x3f80
#define X87_CW_CHILD 0x037f

/* The state one side of a fork sees: vector registers (16 of 32 bytes;
 * the upper halves only with AVX), MXCSR, the x87 control word and the
 * value on top of the x87 stack. */
struct fpu_state {
	uint8_t vec[16][32];
	uint32_t mxcsr;
	uint16_t cw;
	double st0;
};

static int avx;
static struct fpu_state want;

/* Fills want with the state the parent sets before forking. */
static void make_want(void)
{
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 32; j++)
			want.vec[i][j] = (uint8_t)(i * 37 + j * 11 + 5);
	if (!avx)
		for (int i = 0; i < 16; i++)
			memset(want.vec[i] + 16, 0, 16);
	want.mxcsr = MXCSR_SET;
	want.cw = X87_CW_SET;
	want.st0 = 2.718281828459045;
}

/* EACH_VEC(F) is F(n, offset) for each of the 16 vector registers and its
 * place in fpu_state.vec; the macros below load or store them all. */
#define EACH_VEC(F)                                                                                                    \
	F(0, 0) F(1, 32) F(2, 64) F(3, 96) F(4, 128) F(5, 160) F(6, 192) F(7, 224) F(8, 256) F(9, 288) F(10, 320)       \
	F(11, 352) F(12, 384) F(13, 416) F(14, 448) F(15, 480)
#define LOAD_XMM(n, off) "movdqu " #off "(%[in]), %%xmm" #n "\n\t"
#define LOAD_YMM(n, off) "vmovdqu " #off "(%[in]), %%ymm" #n "\n\t"
#define LOAD_SSE EACH_VEC(LOAD_XMM)
#define LOAD_AVX EACH_VEC(LOAD_YMM)
#define STORE_XMM(n, off) "movdqu %%xmm" #n ", " #off "(%[out])\n\t"
#define STORE_YMM(n, off) "vmovdqu %%ymm" #n ", " #off "(%[out])\n\t"
/* STORE_SSE and STORE_AVX store the registers to the fpu_state at operand out. */
#define STORE_SSE EACH_VEC(STORE_XMM)
#define STORE_AVX EACH_VEC(STORE_YMM)
/* Load MXCSR, the x87 control word and st0 from in; store them to the fpu_state at out. */
#define LOAD_X87 "ldmxcsr 512(%[in])\n\t fldcw 516(%[in])\n\t fldl 520(%[in])\n\t"
#define STORE_X87 "stmxcsr 512(%[out])\n\t fnstcw 516(%[out])\n\t fstpl 520(%[out])\n\t"
#define CLOBBERS                                                                                                       \
	"rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",  \
		"xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st"

_Static_assert(offsetof(struct fpu_state, mxcsr) == 512 && offsetof(struct fpu_state, cw) == 516 &&
		       offsetof(struct fpu_state, st0) == 520,
	       "the asm's offsets");

/* Sets want's state, forks with a raw fork, and stores the state it then
 * has to got, on both sides; returns fork's result. */
static long fork_with_state(struct fpu_state *got)
{
	long r;
	if (avx)
		__asm__ volatile(LOAD_AVX LOAD_X87 "mov %[nr], %%eax\n\t syscall\n\t" STORE_AVX STORE_X87
				 : "=&a"(r), [out] "+r"(got)
				 : [in] "r"(&want), [nr] "i"(SYS_fork)
				 : CLOBBERS);
	else
		__asm__ volatile(LOAD_SSE LOAD_X87 "mov %[nr], %%eax\n\t syscall\n\t" STORE_SSE STORE_X87
				 : "=&a"(r), [out] "+r"(got)
				 : [in] "r"(&want), [nr] "i"(SYS_fork)
				 : CLOBBERS);
	return r;
}

/* Sets want's state and vforks with a raw vfork. The child stores the state
 * it starts with to child, loads MXCSR_CHILD, X87_CW_CHILD and zero vector
 * registers, and exits 0; the parent stores the state it resumes with to
 * parent. Returns vfork's result in the parent. */
static long vfork_with_state(struct fpu_state *child, struct fpu_state *parent)
{
	static const uint32_t mxcsr_child = MXCSR_CHILD;
	static const uint16_t cw_child = X87_CW_CHILD;
	long r;
#define VFORK_BODY(STORE)                                                                                              \
	"mov %[nr], %%eax\n\t syscall\n\t test %%rax, %%rax\n\t jnz 1f\n\t" STORE STORE_X87                      \
	"ldmxcsr (%[mxcsr])\n\t fldcw (%[cw])\n\t fldz\n\t pxor %%xmm0, %%xmm0\n\t pxor %%xmm15, %%xmm15\n\t"         \
	"mov %[exit], %%eax\n\t xor %%edi, %%edi\n\t syscall\n\t"                                                   \
	"1:\n\t mov %[parent], %[out]\n\t" STORE STORE_X87
	if (avx)
		__asm__ volatile(LOAD_AVX LOAD_X87 VFORK_BODY(STORE_AVX)
				 : "=&a"(r), [out] "+r"(child)
				 : [in] "r"(&want), [parent] "r"(parent), [mxcsr] "r"(&mxcsr_child), [cw] "r"(&cw_child),
				   [nr] "i"(SYS_vfork), [exit] "i"(SYS_exit)
				 : CLOBBERS, "rdi");
	else
		__asm__ volatile(LOAD_SSE LOAD_X87 VFORK_BODY(STORE_SSE)
				 : "=&a"(r), [out] "+r"(child)
				 : [in] "r"(&want), [parent] "r"(parent), [mxcsr] "r"(&mxcsr_child), [cw] "r"(&cw_child),
				   [nr] "i"(SYS_vfork), [exit] "i"(SYS_exit)
				 : CLOBBERS, "rdi");
#undef VFORK_BODY
	return r;
}

/* Sets want's state and makes a raw execve of path with argv: it returns
 * only if execve fails. */
static long exec_with_state(const char *path, char *const argv[])
{
	long r;
	__asm__ volatile(LOAD_SSE LOAD_X87 "mov %[nr], %%eax\n\t syscall\n\t"
			 : "=&a"(r)
			 : [in] "r"(&want), [nr] "i"(SYS_execve), "D"(path), "S"(argv), "d"(environ)
			 : CLOBBERS);
	return r;
}

/* The program exec_with_state runs: it must start with MXCSR, the x87
 * control word and xmm8-15 (which its libc's start-up code does not use)
 * in their initial state. */
static void check_initial_state(void)
{
	uint8_t vec[8][16], zero[16] = {0};
	uint32_t mxcsr;
	uint16_t cw;
	__asm__ volatile("stmxcsr %[mxcsr]\n\t fnstcw %[cw]\n\t"
			 "movdqu %%xmm8, 0(%[vec])\n\t movdqu %%xmm9, 16(%[vec])\n\t movdqu %%xmm10, 32(%[vec])\n\t"
			 "movdqu %%xmm11, 48(%[vec])\n\t movdqu %%xmm12, 64(%[vec])\n\t movdqu %%xmm13, 80(%[vec])\n\t"
			 "movdqu %%xmm14, 96(%[vec])\n\t movdqu %%xmm15, 112(%[vec])"
			 : [mxcsr] "=m"(mxcsr), [cw] "=m"(cw)
			 : [vec] "r"(vec)
			 : "memory");
	current = "execve starts with the initial FPU and vector state";
	CHECK(mxcsr == 0x1f80, "MXCSR 0x%x", mxcsr);
	CHECK(cw == 0x37f, "x87 control word 0x%x", cw);
	for (int i = 0; i < 8; i++)
		CHECK(memcmp(vec[i], zero, 16) == 0, "xmm%d is not zero", i + 8);
}

/* Resets MXCSR and the x87 control word to their defaults. */
static void reset_control(void)
{
	uint32_t mxcsr = 0x1f80;
	uint16_t cw = 0x37f;
	__asm__ volatile("ldmxcsr %0\n\t fldcw %1" : : "m"(mxcsr), "m"(cw));
}

/* Fails unless got is want's state; side names whose state it is. */
static void expect_state(const struct fpu_state *got, const char *side)
{
	for (int i = 0; i < 16; i++)
		CHECK(memcmp(got->vec[i], want.vec[i], avx ? 32 : 16) == 0, "%s: %s%d differs", side, avx ? "ymm" : "xmm", i);
	CHECK(got->mxcsr == want.mxcsr, "%s: MXCSR 0x%x, expected 0x%x", side, got->mxcsr, want.mxcsr);
	CHECK(got->cw == want.cw, "%s: x87 control word 0x%x, expected 0x%x", side, got->cw, want.cw);
	CHECK(got->st0 == want.st0, "%s: st0 %g, expected %g", side, got->st0, want.st0);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		check_initial_state();
		return 0;
	}
	avx = have_avx();
	make_want();

	current = "fork copies the FPU and vector state";
	{
		struct fpu_state got;
		memset(&got, 0, sizeof got);
		long pid = fork_with_state(&got);
		reset_control();
		if (pid == 0) {
			expect_state(&got, "the child");
			child_exit(0);
		}
		CHECK(pid > 0, "fork = %ld", pid);
		expect_state(&got, "the parent");
		expect_exited((pid_t)pid, 0, "the child");
	}
	ok();

	current = "a vfork child's FPU and vector state is its own";
	{
		struct fpu_state child, parent;
		memset(&child, 0, sizeof child);
		memset(&parent, 0, sizeof parent);
		long pid = vfork_with_state(&child, &parent);
		reset_control();
		CHECK(pid > 0, "vfork = %ld", pid);
		expect_exited((pid_t)pid, 0, "the child");
		expect_state(&child, "the child");
		expect_state(&parent, "the parent after the child changed its own");
	}
	ok();

	current = "execve starts with the initial FPU and vector state";
	{
		pid_t pid = fork_ok();
		if (pid == 0) {
			char *args[] = {argv[0], "initial", 0};
			long r = exec_with_state(argv[0], args);
			fail("execve = %ld (%s)", r, errname(r));
		}
		expect_exited(pid, 0, "the program it ran");
	}
	ok();

	out("all ok\n");
	return 0;
}
