/* no_ptrace.c is a test helper, not a guest: it runs a command under a
 * seccomp filter that fails every ptrace(2) with EPERM, as a restrictive
 * container runtime would, to check that tvisor's ptrace platform then
 * says clearly that it cannot run. Usage: no_ptrace COMMAND [ARGS...] */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The classic-BPF structures and constants of <linux/filter.h> and
 * <linux/seccomp.h>, which musl-gcc's include path does not have. */
struct sock_filter { uint16_t code; uint8_t jt, jf; uint32_t k; };
struct sock_fprog { unsigned short len; struct sock_filter *filter; };
#define BPF_STMT(code, k) { (uint16_t)(code), 0, 0, (k) }
#define BPF_JUMP(code, k, jt, jf) { (uint16_t)(code), (jt), (jf), (k) }
#define LOAD_SYSCALL_NR 0x20 /* BPF_LD | BPF_W | BPF_ABS, at seccomp_data.nr (offset 0) */
#define JUMP_IF_EQUAL 0x15   /* BPF_JMP | BPF_JEQ | BPF_K */
#define RETURN 0x06          /* BPF_RET | BPF_K */
#define SECCOMP_RET_ERRNO 0x00050000U
#define SECCOMP_RET_ALLOW 0x7fff0000U
#define SECCOMP_MODE_FILTER 2

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: no_ptrace COMMAND [ARGS...]\n");
		return 2;
	}
	struct sock_filter filter[] = {
		BPF_STMT(LOAD_SYSCALL_NR, 0),
		BPF_JUMP(JUMP_IF_EQUAL, SYS_ptrace, 0, 1),
		BPF_STMT(RETURN, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(RETURN, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof filter / sizeof filter[0], .filter = filter };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		perror("no_ptrace: seccomp");
		return 1;
	}
	execvp(argv[1], argv + 1);
	perror("no_ptrace: exec");
	return 127;
}
