/* patchsite: the cases a patched `mov $N, %eax; syscall` call site must
 * get exactly right, checked the same way natively and in the sandbox:
 *   - flags: the syscall preserves RFLAGS, and leaves RCX = the return
 *     address and R11 = RFLAGS, as Linux's syscall return does;
 *   - a jump straight to the site's `syscall` instruction, with another
 *     number in EAX, still makes that other call once the site is patched;
 *   - every other register survives;
 *   - a site with moves between the `mov $N, %eax` and the `syscall`
 *     (patched as a run copied into a stub) makes the right call, and so
 *     does a jump into the middle of that run with another number;
 *   - a function that takes the number in a register and moves its
 *     arguments before its `syscall` (as musl's __syscall_cp_c does;
 *     patched at its entry) makes whichever call it is given, and a call
 *     to its third instruction, past the five patched bytes, still works;
 *   - after the program unmaps the range where tvisor keeps its call table
 *     (0x050f0000-0x05180000), patched sites still work (tvisor puts them
 *     back).
 * With the argument "runs", it only calls the two run-shaped sites, 20000
 * times each, and with "runs none" neither (the test counts the sites
 * tvisor patched).
 * Each check prints "ok NAME" or "FAIL: NAME: ..." and the exit status is
 * the number of failures. */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include "guest.h"

/* SITE(BETWEEN) is the body of a call site: with jump == 0 it runs
 * `mov $39, %eax`, then BETWEEN (instructions or nothing), then `syscall`
 * (getpid); otherwise it loads EAX with nr_for_jump and jumps straight
 * past the `mov`. RSI is the site's to clobber. */
#define SITE(BETWEEN)                                                  \
	long ret;                                                      \
	__asm__ volatile("test %2, %2\n\t"                              \
			 "jnz 1f\n\t"                                     \
			 "mov $39, %%eax\n\t"                             \
			 "2: " BETWEEN "syscall\n\t"                      \
			 "jmp 3f\n\t"                                     \
			 "1: mov %1, %%rax\n\t"                           \
			 "jmp 2b\n\t"                                     \
			 "3:\n\t"                                         \
			 : "=&a"(ret)                                      \
			 : "r"(nr_for_jump), "r"(jump)                     \
			 : "rcx", "rsi", "r11", "memory", "cc");           \
	return ret

/* site is an exact `mov $39, %eax; syscall`. */
static long site(long nr_for_jump, long jump)
{
	SITE("");
}

/* moves_site has a move between its `mov` and its `syscall`. */
static long moves_site(long nr_for_jump, long jump)
{
	SITE("mov %%rdx, %%rsi\n\t");
}

/* relay(nr, a, b) makes system call nr with arguments a and b, as libc's
 * generic call functions do; relay_third is its third instruction, the
 * first past the five bytes patched at its entry, entered with the number
 * in RAX and the first argument in RDI. */
long relay(long nr, long a, long b);
__asm__(".text\n"
	".balign 16\n"
	".globl relay\n"
	"relay:\n\t"
	"mov %rdi, %rax\n\t"
	"mov %rsi, %rdi\n"
	".globl relay_third\n"
	"relay_third:\n\t"
	"mov %rdx, %rsi\n\t"
	"syscall\n\t"
	"ret\n");

/* third(nr) calls relay_third with RAX = nr. */
static long third(long nr)
{
	long ret;
	__asm__ volatile("call relay_third" : "=a"(ret) : "a"(nr) : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
	return ret;
}

/* flags_site sets CF and ZF and the direction flag's neighbours it may, makes
 * getppid through `mov $110, %eax; syscall`, and reports what RFLAGS, RCX
 * and R11 held afterwards, and where the syscall returned to. */
struct after { uint64_t flags_before, flags_after, rcx, r11, ret_addr, rbx, r12, r15; };

static void flags_site(struct after *a)
{
	__asm__ volatile(
		"mov $0x1111, %%rbx\n\t"
		"mov $0x2222, %%r12\n\t"
		"mov $0x3333, %%r15\n\t"
		"stc\n\t"
		"xor %%eax, %%eax\n\t" /* ZF=1, CF=0 */
		"stc\n\t"              /* CF=1 */
		"pushfq\n\t"
		"popq 0(%0)\n\t"
		"mov $110, %%eax\n\t"
		"syscall\n\t"
		"4: pushfq\n\t"
		"popq 8(%0)\n\t"
		"mov %%rcx, 16(%0)\n\t"
		"mov %%r11, 24(%0)\n\t"
		"lea 4b(%%rip), %%rax\n\t"
		"mov %%rax, 32(%0)\n\t"
		"mov %%rbx, 40(%0)\n\t"
		"mov %%r12, 48(%0)\n\t"
		"mov %%r15, 56(%0)\n\t"
		:
		: "r"(a)
		: "rax", "rbx", "rcx", "r11", "r12", "r15", "memory", "cc");
}

int main(int argc, char **argv)
{
	long pid = getpid();
	if (argc > 1) {
		/* "runs": each run-shaped site a few times, nothing else
		 * ("runs none": not even those). */
		for (int i = 0; i < (argc > 2 ? 0 : 20000); i++) {
			if (moves_site(0, 0) != pid || relay(SYS_getpid, 0, 0) != pid) return 1;
		}
		return 0;
	}
	/* The site runs by exit once (and is patched under kvm), then again. */
	current = "site";
	for (int i = 0; i < 3; i++) expect_eq(site(0, 0), pid, "getpid");
	ok();
	/* Jumping to the syscall instruction with EAX = getppid (110). */
	current = "jump into the site";
	expect_eq(site(110, 1), getppid(), "getppid");
	expect_eq(site(0, 0), pid, "getpid after the jump");
	ok();

	for (int i = 0; i < 3; i++) {
		struct after a;
		flags_site(&a);
		current = "flags";
		CHECK((a.flags_after & 0xcd5) == (a.flags_before & 0xcd5), "flags %#lx became %#lx",
		      (unsigned long)a.flags_before, (unsigned long)a.flags_after);
		current = "rcx";
		CHECK(a.rcx == a.ret_addr, "rcx %#lx, return address %#lx", (unsigned long)a.rcx, (unsigned long)a.ret_addr);
		current = "r11";
		CHECK((a.r11 & 0xcd5) == (a.flags_before & 0xcd5), "r11 %#lx, flags %#lx", (unsigned long)a.r11,
		      (unsigned long)a.flags_before);
		current = "registers";
		CHECK(a.rbx == 0x1111 && a.r12 == 0x2222 && a.r15 == 0x3333, "rbx %#lx r12 %#lx r15 %#lx",
		      (unsigned long)a.rbx, (unsigned long)a.r12, (unsigned long)a.r15);
	}
	current = "flags, rcx, r11 and the other registers";
	ok();

	current = "moves between mov and syscall";
	for (int i = 0; i < 3; i++) expect_eq(moves_site(0, 0), pid, "getpid");
	expect_eq(moves_site(110, 1), getppid(), "getppid by a jump into the run");
	expect_eq(moves_site(0, 0), pid, "getpid after the jump");
	ok();

	current = "number in a register";
	for (int i = 0; i < 3; i++) {
		expect_eq(relay(SYS_getpid, 0, 0), pid, "getpid");
		expect_eq(relay(SYS_getppid, 0, 0), getppid(), "getppid");
		/* kill(pid, 0): two arguments moved into place. */
		expect_eq(relay(SYS_kill, pid, 0), 0, "kill(pid, 0)");
		expect_eq(relay(SYS_kill, -1 & 0x7fffffff, 0), -ESRCH, "kill of no such pid");
	}
	expect_eq(third(SYS_getppid), getppid(), "getppid through the third instruction");
	expect_eq(relay(SYS_getpid, 0, 0), pid, "getpid after that");
	ok();

	/* Unmapping tvisor's table range: nothing is mapped there natively. */
	current = "munmap of the table range";
	expect_eq(S2(SYS_munmap, 0x050f0000, 0x90000), 0, "munmap");
	for (int i = 0; i < 3; i++) expect_eq(site(0, 0), pid, "getpid after munmap");
	for (int i = 0; i < 3; i++) expect_eq(moves_site(0, 0), pid, "moves site after munmap");
	for (int i = 0; i < 3; i++) expect_eq(relay(SYS_getppid, 0, 0), getppid(), "relay after munmap");
	ok();
	return 0;
}
