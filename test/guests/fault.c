/* fault KIND: performs one faulting operation, so the process dies by a signal.
 * Before faulting it prints "fault KIND\n" (unbuffered). If the operation does
 * not kill the process it prints "FAIL: KIND did not fault" and exits 1.
 *
 *   segv        write to NULL                          SIGSEGV
 *   ill         ud2                                    SIGILL
 *   fpe         integer divide by zero                 SIGFPE
 *   divoverflow INT64_MIN / -1 (#DE)                   SIGFPE
 *   abort       abort()                                SIGABRT
 *   int3        int3 breakpoint                        SIGTRAP
 *   cli         cli (privileged, #GP)                  SIGSEGV
 *   hlt         hlt (privileged, #GP)                  SIGSEGV
 *   movcr3      mov %cr3,%rax (privileged, #GP)        SIGSEGV
 *   wrmsr       wrmsr (privileged, #GP)                SIGSEGV
 *   rdmsr       rdmsr (privileged, #GP)                SIGSEGV
 *   lgdt        lgdt (privileged, #GP)                 SIGSEGV
 *   outb        outb to port 0x80 (no I/O permission)  SIGSEGV
 *   inb         inb from port 0x80                     SIGSEGV
 *   kernelread  8-byte read at 0xffffffff80000000      SIGSEGV
 *   noncanon    read at a non-canonical address (#GP)  SIGSEGV
 *   nxexec      jump into a PROT_READ|PROT_WRITE page  SIGSEGV
 *   jumpnull    call through a NULL function pointer   SIGSEGV
 *   rowrite     write to a PROT_READ mapping           SIGSEGV
 *   stackoverflow  unbounded recursion                 SIGSEGV
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void say(const char *s)
{
	(void)!write(1, s, strlen(s));
}

static volatile unsigned long overflow_limit = ~0UL;

__attribute__((noinline)) static unsigned long overflow(unsigned long n)
{
	volatile char buf[1024];
	buf[0] = (char)n;
	if (n == overflow_limit)
		return 0;
	return overflow(n + 1) + buf[0];
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		say("FAIL: usage: fault KIND\n");
		return 1;
	}
	const char *k = argv[1];
	say("fault ");
	say(k);
	say("\n");

	if (!strcmp(k, "segv")) {
		*(volatile int *)0 = 1;
	} else if (!strcmp(k, "ill")) {
		__asm__ volatile("ud2");
	} else if (!strcmp(k, "fpe")) {
		volatile int a = 1, b = 0;
		a = a / b;
	} else if (!strcmp(k, "divoverflow")) {
		volatile int64_t a = INT64_MIN, b = -1;
		a = a / b;
	} else if (!strcmp(k, "abort")) {
		abort();
	} else if (!strcmp(k, "int3")) {
		__asm__ volatile("int3");
	} else if (!strcmp(k, "cli")) {
		__asm__ volatile("cli");
	} else if (!strcmp(k, "hlt")) {
		__asm__ volatile("hlt");
	} else if (!strcmp(k, "movcr3")) {
		unsigned long v;
		__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	} else if (!strcmp(k, "wrmsr")) {
		/* IA32_LSTAR: the syscall entry point */
		__asm__ volatile("wrmsr" ::"c"(0xc0000082), "a"(0), "d"(0));
	} else if (!strcmp(k, "rdmsr")) {
		unsigned lo, hi;
		__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000082));
	} else if (!strcmp(k, "lgdt")) {
		static struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr = { 0, 0 };
		__asm__ volatile("lgdt %0" ::"m"(gdtr));
	} else if (!strcmp(k, "outb")) {
		__asm__ volatile("outb %%al, $0x80" ::"a"(0));
	} else if (!strcmp(k, "inb")) {
		unsigned char v;
		__asm__ volatile("inb $0x80, %%al" : "=a"(v));
	} else if (!strcmp(k, "kernelread")) {
		volatile uint64_t v = *(volatile uint64_t *)0xffffffff80000000UL;
		(void)v;
	} else if (!strcmp(k, "noncanon")) {
		volatile uint64_t v = *(volatile uint64_t *)0x8000000000000000UL;
		(void)v;
	} else if (!strcmp(k, "nxexec")) {
		unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			say("FAIL: mmap\n");
			return 1;
		}
		p[0] = 0xc3; /* ret */
		((void (*)(void))(uintptr_t)p)();
	} else if (!strcmp(k, "jumpnull")) {
		void (*volatile fn)(void) = 0;
		fn();
	} else if (!strcmp(k, "rowrite")) {
		unsigned char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			say("FAIL: mmap\n");
			return 1;
		}
		*(volatile unsigned char *)p = 1;
	} else if (!strcmp(k, "stackoverflow")) {
		overflow(0);
	} else {
		say("FAIL: unknown kind\n");
		return 1;
	}
	say("FAIL: ");
	say(k);
	say(" did not fault\n");
	return 1;
}
