/* vecleak.c reports whether the vector registers a program starts with
 * hold anything: zmm16-zmm31 and the mask registers k1-k7, which libc's
 * startup never touches. A fresh Linux process starts with them zero; so
 * must a program that runs after another (vector.c) in the same sandbox.
 * Run `vecleak set` to leave a pattern in them before exiting. */
#include <stdio.h>
#include <string.h>

__attribute__((target("avx512f,avx512bw"))) static int dirty(int set) {
	unsigned char buf[64];
	unsigned long long k;
	int found = 0;
	if (set) {
		__asm__ volatile(
			"vpternlogd $0xff, %%zmm16, %%zmm16, %%zmm16\n"
			"vpternlogd $0xff, %%zmm31, %%zmm31, %%zmm31\n"
			"kxnorq %%k1, %%k1, %%k1\n"
			"kxnorq %%k7, %%k7, %%k7\n" ::: "xmm16", "xmm31", "k1", "k7");
		return 1;
	}
#define ZMM(n) \
	__asm__ volatile("vmovdqu64 %%zmm" #n ", %0" : "=m"(buf)); \
	for (int i = 0; i < 64; i++) found |= buf[i];
	ZMM(16) ZMM(17) ZMM(18) ZMM(19) ZMM(20) ZMM(21) ZMM(22) ZMM(23)
	ZMM(24) ZMM(25) ZMM(26) ZMM(27) ZMM(28) ZMM(29) ZMM(30) ZMM(31)
#define KREG(n) \
	__asm__ volatile("kmovq %%k" #n ", %0" : "=r"(k)); \
	found |= k != 0;
	KREG(1) KREG(2) KREG(3) KREG(4) KREG(5) KREG(6) KREG(7)
	return found;
}

int main(int argc, char **argv) {
	int set = argc > 1 && strcmp(argv[1], "set") == 0;
	if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw")) {
		printf("avx512: unsupported\n");
		return 0;
	}
	if (set) {
		dirty(1);
		printf("pattern left\n");
	} else {
		printf("zmm16-31 and k1-7 at start: %s\n", dirty(0) ? "dirty" : "zero");
	}
	return 0;
}
