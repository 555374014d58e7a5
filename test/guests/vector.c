/* vector [SEED]: SIMD arithmetic and SIMD register preservation.
 *
 * 1. SSE2, AVX2+FMA and (when the CPU has it) AVX-512F kernels over fixed
 *    arrays; each result is compared bit for bit with a scalar reference
 *    (fma() from libm for fused multiply-add) and a checksum of the results is
 *    printed. The checksums do not depend on the seed.
 * 2. Loads a seed-dependent pattern into every vector register of the widest
 *    supported ISA (zmm0-31 + k0-7, or ymm0-15, or xmm0-15), into the x87
 *    stack and into MXCSR, then spins for about 300 ms doing getppid() and
 *    sched_yield() system calls, a busy loop (so the sandbox preempts it) and
 *    clock_gettime() -- all inside one asm block, so no compiled code touches
 *    the registers -- and checks that everything still holds the pattern.
 *
 * The output does not depend on timing. Exit 0 and "all ok" on success,
 * "FAIL: ..." and exit 1 otherwise. */
#include <immintrin.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 256

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static double a[N], b[N], c[N];
static float fa[N], fb[N], fc[N];
static int16_t sa[N], sb[N];
static uint8_t ua[N], ub[N];
static int32_t ia[N], ib[N];
static const uint32_t perm8[8] = { 3, 7, 1, 0, 6, 2, 5, 4 };
static const uint32_t perm16[16] = { 15, 3, 9, 0, 12, 6, 1, 10, 4, 14, 7, 2, 13, 5, 11, 8 };

static int failed;

static void init(void)
{
	for (int i = 0; i < N; i++) {
		/* Exactly representable values with long mantissas, so FMA and
		 * separate multiply/add round differently. */
		a[i] = (double)(int32_t)rnd32() / 4096.0 + (double)rnd32() * 0x1p-52;
		b[i] = (double)(int32_t)rnd32() / 65536.0 + (double)rnd32() * 0x1p-60;
		c[i] = (double)(int32_t)rnd32() / 1024.0;
		fa[i] = (float)((int32_t)rnd32() >> 8) / 256.0f;
		fb[i] = (float)((int32_t)rnd32() >> 8) / 4096.0f;
		fc[i] = (float)((int32_t)rnd32() >> 8) / 16.0f;
		sa[i] = (int16_t)rnd32();
		sb[i] = (int16_t)rnd32();
		ua[i] = (uint8_t)rnd32();
		ub[i] = (uint8_t)rnd32();
		ia[i] = (int32_t)rnd32();
		ib[i] = (int32_t)rnd32();
	}
}

static uint64_t fold(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void report(const char *isa, const void *vec, const void *ref, size_t n, uint64_t sum)
{
	if (memcmp(vec, ref, n) != 0) {
		printf("FAIL: %s: vector results differ from the scalar reference\n", isa);
		failed = 1;
		return;
	}
	printf("%s: ok checksum %016llx\n", isa, (unsigned long long)sum);
}

/* ---------------- SSE2 (baseline x86-64) ---------------- */

struct sse_out {
	double d[N];
	int16_t s[N];
	uint64_t sad[N / 8];
};

static void sse2_vec(struct sse_out *o)
{
	const __m128d sign = _mm_set1_pd(-0.0), one = _mm_set1_pd(1.0);
	for (int i = 0; i < N; i += 2) {
		__m128d va = _mm_loadu_pd(&a[i]), vb = _mm_loadu_pd(&b[i]), vc = _mm_loadu_pd(&c[i]);
		__m128d y = _mm_add_pd(_mm_mul_pd(va, vb), vc);
		__m128d z = _mm_sqrt_pd(_mm_andnot_pd(sign, y));
		__m128d w = _mm_div_pd(z, _mm_add_pd(_mm_andnot_pd(sign, vb), one));
		_mm_storeu_pd(&o->d[i], w);
	}
	for (int i = 0; i < N; i += 8) {
		__m128i x = _mm_loadu_si128((const __m128i *)&sa[i]), y = _mm_loadu_si128((const __m128i *)&sb[i]);
		__m128i r = _mm_add_epi16(_mm_mullo_epi16(x, y), _mm_srai_epi16(x, 3));
		r = _mm_xor_si128(r, _mm_slli_epi16(y, 5));
		_mm_storeu_si128((__m128i *)&o->s[i], r);
	}
	for (int i = 0; i < N; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)&ua[i]), y = _mm_loadu_si128((const __m128i *)&ub[i]);
		__m128i s = _mm_sad_epu8(x, y);
		o->sad[i / 8] = (uint64_t)_mm_cvtsi128_si64(s);
		o->sad[i / 8 + 1] = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(s, s));
	}
}

static void sse2_ref(struct sse_out *o)
{
	for (int i = 0; i < N; i++) {
		volatile double p = a[i] * b[i]; /* volatile: never contracted to an FMA */
		double y = p + c[i];
		o->d[i] = sqrt(fabs(y)) / (fabs(b[i]) + 1.0);
	}
	for (int i = 0; i < N; i++) {
		uint16_t m = (uint16_t)((uint16_t)sa[i] * (uint16_t)sb[i]);
		uint16_t r = (uint16_t)(m + (uint16_t)(sa[i] >> 3));
		r ^= (uint16_t)((uint16_t)sb[i] << 5);
		o->s[i] = (int16_t)r;
	}
	for (int g = 0; g < N / 8; g++) {
		uint64_t s = 0;
		for (int j = 0; j < 8; j++)
			s += (uint64_t)abs((int)ua[g * 8 + j] - (int)ub[g * 8 + j]);
		o->sad[g] = s;
	}
}

/* ---------------- AVX2 + FMA ---------------- */

struct avx2_out {
	double d[N];
	float f[N];
	uint32_t u[N];
};

__attribute__((target("avx2,fma"))) static void avx2_vec(struct avx2_out *o)
{
	for (int i = 0; i < N; i += 4) {
		__m256d va = _mm256_loadu_pd(&a[i]), vb = _mm256_loadu_pd(&b[i]), vc = _mm256_loadu_pd(&c[i]);
		__m256d d = _mm256_fmadd_pd(va, vb, vc);
		__m256d e = _mm256_fmsub_pd(d, va, vb);
		_mm256_storeu_pd(&o->d[i], e);
	}
	for (int i = 0; i < N; i += 8) {
		__m256 x = _mm256_loadu_ps(&fa[i]), y = _mm256_loadu_ps(&fb[i]), z = _mm256_loadu_ps(&fc[i]);
		_mm256_storeu_ps(&o->f[i], _mm256_fnmadd_ps(x, y, z));
	}
	const __m256i idx = _mm256_loadu_si256((const __m256i *)perm8);
	for (int i = 0; i < N; i += 8) {
		__m256i x = _mm256_loadu_si256((const __m256i *)&ia[i]), y = _mm256_loadu_si256((const __m256i *)&ib[i]);
		__m256i m = _mm256_mullo_epi32(x, y);
		__m256i s = _mm256_srlv_epi32(x, _mm256_and_si256(y, _mm256_set1_epi32(31)));
		__m256i r = _mm256_permutevar8x32_epi32(_mm256_add_epi32(m, s), idx);
		_mm256_storeu_si256((__m256i *)&o->u[i], r);
	}
}

static void avx2_ref(struct avx2_out *o)
{
	for (int i = 0; i < N; i++)
		o->d[i] = fma(fma(a[i], b[i], c[i]), a[i], -b[i]);
	for (int i = 0; i < N; i++)
		o->f[i] = fmaf(-fa[i], fb[i], fc[i]);
	for (int g = 0; g < N; g += 8) {
		uint32_t t[8];
		for (int j = 0; j < 8; j++) {
			uint32_t x = (uint32_t)ia[g + j], y = (uint32_t)ib[g + j];
			t[j] = x * y + (x >> (y & 31));
		}
		for (int j = 0; j < 8; j++)
			o->u[g + j] = t[perm8[j]];
	}
}

/* ---------------- AVX-512F ---------------- */

struct avx512_out {
	double d[N];
	uint32_t u[N];
	uint32_t red[N / 16];
};

__attribute__((target("avx512f"))) static void avx512_vec(struct avx512_out *o)
{
	const __mmask8 k = 0xa5;
	for (int i = 0; i < N; i += 8) {
		__m512d va = _mm512_loadu_pd(&a[i]), vb = _mm512_loadu_pd(&b[i]), vc = _mm512_loadu_pd(&c[i]);
		__m512d d = _mm512_mask_fmadd_pd(va, k, vb, vc); /* lanes not in k keep a */
		d = _mm512_fnmsub_pd(d, vb, vc);                 /* -(d*b) - c */
		_mm512_storeu_pd(&o->d[i], d);
	}
	const __m512i idx = _mm512_loadu_si512((const void *)perm16);
	for (int i = 0; i < N; i += 16) {
		__m512i x = _mm512_loadu_si512((const void *)&ia[i]), y = _mm512_loadu_si512((const void *)&ib[i]);
		__m512i r = _mm512_add_epi32(_mm512_mullo_epi32(x, y), _mm512_rol_epi32(x, 7));
		r = _mm512_mask_blend_epi32((__mmask16)0x3c5a, r, _mm512_min_epi32(x, y));
		r = _mm512_permutexvar_epi32(idx, r);
		_mm512_storeu_si512((void *)&o->u[i], r);
		o->red[i / 16] = (uint32_t)_mm512_reduce_add_epi32(_mm512_xor_si512(x, y));
	}
}

static void avx512_ref(struct avx512_out *o)
{
	for (int i = 0; i < N; i++) {
		double d = ((0xa5 >> (i % 8)) & 1) ? fma(a[i], b[i], c[i]) : a[i];
		o->d[i] = fma(-d, b[i], -c[i]);
	}
	for (int g = 0; g < N; g += 16) {
		uint32_t t[16], red = 0;
		for (int j = 0; j < 16; j++) {
			uint32_t x = (uint32_t)ia[g + j], y = (uint32_t)ib[g + j];
			uint32_t r = x * y + ((x << 7) | (x >> 25));
			if ((0x3c5a >> j) & 1)
				r = (uint32_t)(ia[g + j] < ib[g + j] ? ia[g + j] : ib[g + j]);
			t[j] = r;
			red += x ^ y;
		}
		for (int j = 0; j < 16; j++)
			o->u[g + j] = t[perm16[j]];
		o->red[g / 16] = red;
	}
}

/* ---------------- register preservation ---------------- */

struct vstate {
	uint8_t z_in[32][64];   /* 0 */
	uint8_t z_out[32][64];  /* 2048 */
	uint64_t k_in[8];       /* 4096 */
	uint64_t k_out[8];      /* 4160 */
	int64_t x87_in[8];      /* 4224 */
	int64_t x87_out[8];     /* 4288 */
	uint32_t mxcsr_in;      /* 4352 */
	uint32_t mxcsr_out;     /* 4356 */
	uint32_t mxcsr_default; /* 4360 */
	uint32_t pad;           /* 4364 */
	int64_t ts_sec;         /* 4368 */
	int64_t ts_nsec;        /* 4376 */
	int64_t deadline;       /* 4384 */
	uint64_t iters;         /* 4392 */
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct vstate, z_out) == 2048, "layout");
_Static_assert(offsetof(struct vstate, k_in) == 4096, "layout");
_Static_assert(offsetof(struct vstate, k_out) == 4160, "layout");
_Static_assert(offsetof(struct vstate, x87_in) == 4224, "layout");
_Static_assert(offsetof(struct vstate, x87_out) == 4288, "layout");
_Static_assert(offsetof(struct vstate, mxcsr_in) == 4352, "layout");
_Static_assert(offsetof(struct vstate, mxcsr_out) == 4356, "layout");
_Static_assert(offsetof(struct vstate, mxcsr_default) == 4360, "layout");
_Static_assert(offsetof(struct vstate, ts_sec) == 4368, "layout");
_Static_assert(offsetof(struct vstate, ts_nsec) == 4376, "layout");
_Static_assert(offsetof(struct vstate, deadline) == 4384, "layout");
_Static_assert(offsetof(struct vstate, iters) == 4392, "layout");

static struct vstate st;

#define STR_(x) #x
#define STR(x) STR_(x)

/* x87: push x87_in[7] .. x87_in[0] (so st0 = x87_in[0]); pop into x87_out[0..7]. */
#define X87_LOAD                                                                                      \
	"fildll 4224+56(%[s])\n\tfildll 4224+48(%[s])\n\tfildll 4224+40(%[s])\n\tfildll 4224+32(%[s])\n\t" \
	"fildll 4224+24(%[s])\n\tfildll 4224+16(%[s])\n\tfildll 4224+8(%[s])\n\tfildll 4224(%[s])\n\t"     \
	"ldmxcsr 4352(%[s])\n\t"
#define X87_STORE                                                                                             \
	"fistpll 4288(%[s])\n\tfistpll 4288+8(%[s])\n\tfistpll 4288+16(%[s])\n\tfistpll 4288+24(%[s])\n\t"       \
	"fistpll 4288+32(%[s])\n\tfistpll 4288+40(%[s])\n\tfistpll 4288+48(%[s])\n\tfistpll 4288+56(%[s])\n\t" \
	"stmxcsr 4356(%[s])\n\tldmxcsr 4360(%[s])\n\t"

/* The spin loop: getppid, sched_yield, a busy loop, clock_gettime(CLOCK_MONOTONIC)
 * until the deadline. Uses only rax, rcx, rdx, rdi, rsi, r11. */
#define SPIN_LOOP                                        \
	"1:\n\t"                                         \
	"mov $110, %%eax\n\tsyscall\n\t" /* getppid */   \
	"mov $24, %%eax\n\tsyscall\n\t"  /* sched_yield */ \
	"mov $200000, %%ecx\n"                           \
	"2:\n\tdec %%ecx\n\tjnz 2b\n\t"                  \
	"mov $228, %%eax\n\tmov $1, %%edi\n\tlea 4368(%[s]), %%rsi\n\tsyscall\n\t" \
	"incq 4392(%[s])\n\t"                            \
	"mov 4368(%[s]), %%rax\n\t"                      \
	"imul $1000000000, %%rax, %%rax\n\t"             \
	"add 4376(%[s]), %%rax\n\t"                      \
	"cmp 4384(%[s]), %%rax\n\t"                      \
	"jl 1b\n\t"

#define Z16(op, base, reg, w)                                                                             \
	op " " STR(base) "+0*" #w "(%[s]), %%" reg "0\n\t" op " " STR(base) "+1*" #w "(%[s]), %%" reg "1\n\t"    \
	op " " STR(base) "+2*" #w "(%[s]), %%" reg "2\n\t" op " " STR(base) "+3*" #w "(%[s]), %%" reg "3\n\t"    \
	op " " STR(base) "+4*" #w "(%[s]), %%" reg "4\n\t" op " " STR(base) "+5*" #w "(%[s]), %%" reg "5\n\t"    \
	op " " STR(base) "+6*" #w "(%[s]), %%" reg "6\n\t" op " " STR(base) "+7*" #w "(%[s]), %%" reg "7\n\t"    \
	op " " STR(base) "+8*" #w "(%[s]), %%" reg "8\n\t" op " " STR(base) "+9*" #w "(%[s]), %%" reg "9\n\t"    \
	op " " STR(base) "+10*" #w "(%[s]), %%" reg "10\n\t" op " " STR(base) "+11*" #w "(%[s]), %%" reg "11\n\t" \
	op " " STR(base) "+12*" #w "(%[s]), %%" reg "12\n\t" op " " STR(base) "+13*" #w "(%[s]), %%" reg "13\n\t" \
	op " " STR(base) "+14*" #w "(%[s]), %%" reg "14\n\t" op " " STR(base) "+15*" #w "(%[s]), %%" reg "15\n\t"
#define S16(op, base, reg, w)                                                                             \
	op " %%" reg "0, " STR(base) "+0*" #w "(%[s])\n\t" op " %%" reg "1, " STR(base) "+1*" #w "(%[s])\n\t"    \
	op " %%" reg "2, " STR(base) "+2*" #w "(%[s])\n\t" op " %%" reg "3, " STR(base) "+3*" #w "(%[s])\n\t"    \
	op " %%" reg "4, " STR(base) "+4*" #w "(%[s])\n\t" op " %%" reg "5, " STR(base) "+5*" #w "(%[s])\n\t"    \
	op " %%" reg "6, " STR(base) "+6*" #w "(%[s])\n\t" op " %%" reg "7, " STR(base) "+7*" #w "(%[s])\n\t"    \
	op " %%" reg "8, " STR(base) "+8*" #w "(%[s])\n\t" op " %%" reg "9, " STR(base) "+9*" #w "(%[s])\n\t"    \
	op " %%" reg "10, " STR(base) "+10*" #w "(%[s])\n\t" op " %%" reg "11, " STR(base) "+11*" #w "(%[s])\n\t" \
	op " %%" reg "12, " STR(base) "+12*" #w "(%[s])\n\t" op " %%" reg "13, " STR(base) "+13*" #w "(%[s])\n\t" \
	op " %%" reg "14, " STR(base) "+14*" #w "(%[s])\n\t" op " %%" reg "15, " STR(base) "+15*" #w "(%[s])\n\t"
/* zmm16..31: the same with register numbers offset by 16 */
#define Z16HI(op, base)                                                                                        \
	op " " STR(base) "+16*64(%[s]), %%zmm16\n\t" op " " STR(base) "+17*64(%[s]), %%zmm17\n\t"                 \
	op " " STR(base) "+18*64(%[s]), %%zmm18\n\t" op " " STR(base) "+19*64(%[s]), %%zmm19\n\t"                 \
	op " " STR(base) "+20*64(%[s]), %%zmm20\n\t" op " " STR(base) "+21*64(%[s]), %%zmm21\n\t"                 \
	op " " STR(base) "+22*64(%[s]), %%zmm22\n\t" op " " STR(base) "+23*64(%[s]), %%zmm23\n\t"                 \
	op " " STR(base) "+24*64(%[s]), %%zmm24\n\t" op " " STR(base) "+25*64(%[s]), %%zmm25\n\t"                 \
	op " " STR(base) "+26*64(%[s]), %%zmm26\n\t" op " " STR(base) "+27*64(%[s]), %%zmm27\n\t"                 \
	op " " STR(base) "+28*64(%[s]), %%zmm28\n\t" op " " STR(base) "+29*64(%[s]), %%zmm29\n\t"                 \
	op " " STR(base) "+30*64(%[s]), %%zmm30\n\t" op " " STR(base) "+31*64(%[s]), %%zmm31\n\t"
#define S16HI(op, base)                                                                                        \
	op " %%zmm16, " STR(base) "+16*64(%[s])\n\t" op " %%zmm17, " STR(base) "+17*64(%[s])\n\t"                 \
	op " %%zmm18, " STR(base) "+18*64(%[s])\n\t" op " %%zmm19, " STR(base) "+19*64(%[s])\n\t"                 \
	op " %%zmm20, " STR(base) "+20*64(%[s])\n\t" op " %%zmm21, " STR(base) "+21*64(%[s])\n\t"                 \
	op " %%zmm22, " STR(base) "+22*64(%[s])\n\t" op " %%zmm23, " STR(base) "+23*64(%[s])\n\t"                 \
	op " %%zmm24, " STR(base) "+24*64(%[s])\n\t" op " %%zmm25, " STR(base) "+25*64(%[s])\n\t"                 \
	op " %%zmm26, " STR(base) "+26*64(%[s])\n\t" op " %%zmm27, " STR(base) "+27*64(%[s])\n\t"                 \
	op " %%zmm28, " STR(base) "+28*64(%[s])\n\t" op " %%zmm29, " STR(base) "+29*64(%[s])\n\t"                 \
	op " %%zmm30, " STR(base) "+30*64(%[s])\n\t" op " %%zmm31, " STR(base) "+31*64(%[s])\n\t"

#define XMM_CLOBBERS                                                                                          \
	"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", \
		"xmm13", "xmm14", "xmm15"
#define XMM_HI_CLOBBERS                                                                                   \
	"xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", \
		"xmm27", "xmm28", "xmm29", "xmm30", "xmm31"

/* The SSE layout uses 16 bytes per register, AVX 32, AVX-512 64; all start at
 * z_in (0) / z_out (2048) with a stride of 64 so the comparison is uniform. */
static void regs_sse(struct vstate *s)
{
	__asm__ volatile(Z16("movdqu", 0, "xmm", 64) X87_LOAD SPIN_LOOP S16("movdqu", 2048, "xmm", 64) X87_STORE
			 :
			 : [s] "r"(s)
			 : "rax", "rcx", "rdx", "rdi", "rsi", "r11", "memory", "cc", XMM_CLOBBERS);
}

__attribute__((target("avx"))) static void regs_avx(struct vstate *s)
{
	__asm__ volatile(Z16("vmovdqu", 0, "ymm", 64) X87_LOAD SPIN_LOOP S16("vmovdqu", 2048, "ymm", 64) X87_STORE
			 "vzeroupper\n\t"
			 :
			 : [s] "r"(s)
			 : "rax", "rcx", "rdx", "rdi", "rsi", "r11", "memory", "cc", XMM_CLOBBERS);
}

__attribute__((target("avx512f"))) static void regs_avx512(struct vstate *s)
{
	__asm__ volatile(Z16("vmovdqu64", 0, "zmm", 64) Z16HI("vmovdqu64", 0)
			 "kmovw 4096(%[s]), %%k0\n\tkmovw 4104(%[s]), %%k1\n\tkmovw 4112(%[s]), %%k2\n\t"
			 "kmovw 4120(%[s]), %%k3\n\tkmovw 4128(%[s]), %%k4\n\tkmovw 4136(%[s]), %%k5\n\t"
			 "kmovw 4144(%[s]), %%k6\n\tkmovw 4152(%[s]), %%k7\n\t"
			 X87_LOAD SPIN_LOOP
			 S16("vmovdqu64", 2048, "zmm", 64) S16HI("vmovdqu64", 2048)
			 "kmovw %%k0, 4160(%[s])\n\tkmovw %%k1, 4168(%[s])\n\tkmovw %%k2, 4176(%[s])\n\t"
			 "kmovw %%k3, 4184(%[s])\n\tkmovw %%k4, 4192(%[s])\n\tkmovw %%k5, 4200(%[s])\n\t"
			 "kmovw %%k6, 4208(%[s])\n\tkmovw %%k7, 4216(%[s])\n\t"
			 X87_STORE "vzeroupper\n\t"
			 :
			 : [s] "r"(s)
			 : "rax", "rcx", "rdx", "rdi", "rsi", "r11", "memory", "cc", XMM_CLOBBERS, XMM_HI_CLOBBERS, "k0",
			   "k1", "k2", "k3", "k4", "k5", "k6", "k7");
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int check_regs(int level, uint64_t seed)
{
	static const int nregs[3] = { 16, 16, 32 }, width[3] = { 16, 32, 64 };
	static const char *desc[3] = { "xmm0-15", "ymm0-15", "zmm0-31 k0-7" };

	memset(&st, 0, sizeof st);
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 0x2545f4914f6cdd1dULL;
	for (int r = 0; r < 32; r++)
		for (int i = 0; i < 64; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			st.z_in[r][i] = (uint8_t)(x >> 24);
		}
	for (int i = 0; i < 8; i++) {
		st.k_in[i] = (uint16_t)(0x1111 * (i + 1) ^ (seed * 0x3779));
		/* |value| < 2^62 so every value is an exact x87 integer */
		st.x87_in[i] = (int64_t)(((seed + 1) * 0x0123456789abcdefULL * (uint64_t)(i + 3)) >> 2) - (1LL << 61);
	}
	/* rounding mode from the seed, flush-to-zero on, all exceptions masked */
	st.mxcsr_in = 0x1f80 | ((uint32_t)(seed & 3) << 13) | 0x8000;
	st.mxcsr_default = 0x1f80;
	st.deadline = mono_ns() + 300000000LL;

	if (level == 2)
		regs_avx512(&st);
	else if (level == 1)
		regs_avx(&st);
	else
		regs_sse(&st);

	int bad = 0;
	for (int r = 0; r < nregs[level]; r++)
		if (memcmp(st.z_in[r], st.z_out[r], (size_t)width[level]) != 0) {
			printf("FAIL: register %d changed\n", r);
			bad = 1;
		}
	if (level == 2)
		for (int i = 0; i < 8; i++)
			if ((uint16_t)st.k_in[i] != (uint16_t)st.k_out[i]) {
				printf("FAIL: k%d changed\n", i);
				bad = 1;
			}
	for (int i = 0; i < 8; i++)
		if (st.x87_in[i] != st.x87_out[i]) {
			printf("FAIL: st%d changed\n", i);
			bad = 1;
		}
	if (st.mxcsr_out != st.mxcsr_in) {
		printf("FAIL: mxcsr changed: 0x%x != 0x%x\n", st.mxcsr_out, st.mxcsr_in);
		bad = 1;
	}
	if (st.iters < 1) {
		printf("FAIL: the spin loop did not run\n");
		bad = 1;
	}
	if (!bad)
		printf("registers %s st0-7 mxcsr: preserved\n", desc[level]);
	return bad;
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	__builtin_cpu_init();
	int has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	int has_avx = __builtin_cpu_supports("avx");
	int has_avx512 = __builtin_cpu_supports("avx512f");

	printf("seed %llu\n", (unsigned long long)seed);
	init();

	static struct sse_out sv, sr;
	sse2_vec(&sv);
	sse2_ref(&sr);
	report("sse2", &sv, &sr, sizeof sv, fold(0xcbf29ce484222325ULL, &sv, sizeof sv));

	if (has_avx2) {
		static struct avx2_out av, ar;
		avx2_vec(&av);
		avx2_ref(&ar);
		report("avx2", &av, &ar, sizeof av, fold(0xcbf29ce484222325ULL, &av, sizeof av));
	} else {
		printf("avx2: unsupported\n");
	}

	if (has_avx512) {
		static struct avx512_out zv, zr;
		avx512_vec(&zv);
		avx512_ref(&zr);
		report("avx512", &zv, &zr, sizeof zv, fold(0xcbf29ce484222325ULL, &zv, sizeof zv));
	} else {
		printf("avx512: unsupported\n");
	}

	fflush(stdout);
	if (check_regs(has_avx512 ? 2 : has_avx ? 1 : 0, seed))
		failed = 1;

	if (failed)
		return 1;
	printf("all ok\n");
	return 0;
}
