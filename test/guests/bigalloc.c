/* Maps 256 MiB of private anonymous memory, touches every 4 KiB page, verifies
 * the contents, unmaps it; then mallocs 64 MiB, memsets it, checks and frees it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAP_SIZE (256UL << 20)
#define PAGE 4096UL
#define MALLOC_SIZE (64UL << 20)

int main(void)
{
	unsigned char *p = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("FAIL: mmap 256M\n");
		return 1;
	}
	printf("mapped 256 MiB\n");

	unsigned long pages = 0;
	uint64_t expect = 0;
	for (unsigned long off = 0; off < MAP_SIZE; off += PAGE) {
		unsigned char v = (unsigned char)((off / PAGE) * 7 + 1);
		p[off] = v;
		expect += v;
		pages++;
	}
	printf("touched %lu pages\n", pages);

	uint64_t sum = 0;
	unsigned long nonzero_elsewhere = 0;
	for (unsigned long off = 0; off < MAP_SIZE; off += PAGE) {
		sum += p[off];
		if (p[off + PAGE / 2] != 0)
			nonzero_elsewhere++;
	}
	if (sum != expect) {
		printf("FAIL: sum %llu != expected %llu\n", (unsigned long long)sum, (unsigned long long)expect);
		return 1;
	}
	if (nonzero_elsewhere) {
		printf("FAIL: %lu pages have non-zero untouched bytes\n", nonzero_elsewhere);
		return 1;
	}
	printf("sum %llu ok\n", (unsigned long long)sum);

	if (munmap(p, MAP_SIZE) != 0) {
		printf("FAIL: munmap\n");
		return 1;
	}
	printf("munmap ok\n");

	unsigned char *m = malloc(MALLOC_SIZE);
	if (m == NULL) {
		printf("FAIL: malloc 64M\n");
		return 1;
	}
	memset(m, 0x5a, MALLOC_SIZE);
	uint64_t msum = 0;
	for (unsigned long i = 0; i < MALLOC_SIZE; i += 997)
		msum += m[i];
	/* 64 MiB / 997 rounded up = number of sampled bytes */
	unsigned long samples = (MALLOC_SIZE + 996) / 997;
	if (msum != (uint64_t)samples * 0x5a || m[MALLOC_SIZE - 1] != 0x5a) {
		printf("FAIL: malloc 64M contents\n");
		return 1;
	}
	free(m);
	printf("malloc 64M ok\n");
	printf("all ok\n");
	return 0;
}
