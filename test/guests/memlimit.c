/* Tries to reserve 512 MiB with mmap and with malloc. Inside a sandbox with a
 * 64 MiB memory limit both must fail (ENOMEM / NULL); natively both succeed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SIZE (512UL << 20)

int main(void)
{
	void *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		if (errno == ENOMEM) {
			printf("mmap 512M: ENOMEM\n");
		} else {
			printf("FAIL: mmap 512M: unexpected error %s\n", strerror(errno));
			return 1;
		}
	} else {
		printf("mmap 512M: ok\n");
		munmap(p, SIZE);
	}

	void *m = malloc(SIZE);
	if (m == NULL) {
		printf("malloc 512M: NULL\n");
	} else {
		printf("malloc 512M: ok\n");
		free(m);
	}
	return 0;
}
