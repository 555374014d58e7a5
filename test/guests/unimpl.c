/* unimpl.c calls a system call the Sentry does not implement (acct) twice
 * and prints the errno names it got. Sandbox-only: natively, root's acct()
 * succeeds. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
	for (int i = 0; i < 2; i++) {
		long r = syscall(SYS_acct, 0);
		printf("acct: %s\n", r == -1 && errno == ENOSYS ? "ENOSYS" : "other");
	}
	return 0;
}
