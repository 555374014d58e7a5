/* int80.c makes a 32-bit system call (getpid through int $0x80) from a
 * 64-bit program. Linux with IA32 emulation runs it; tvisor offers no
 * 32-bit system calls and, like a kernel without IA32 emulation, ends the
 * program with SIGSEGV. Sandbox-only for that reason. */
#include <stdio.h>

int main(void) {
	long r;
	printf("calling\n");
	fflush(stdout);
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
	printf("int $0x80 returned %ld\n", r);
	return 0;
}
