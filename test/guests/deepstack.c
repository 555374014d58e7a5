/* Recurses until about 7 MiB of stack are in use (the default stack rlimit is
 * 8 MiB), with a volatile 4 KiB buffer per frame so nothing is optimized away.
 * The depth depends only on the frame size, so it is deterministic. */
#include <stdint.h>
#include <stdio.h>

#define TARGET (7UL << 20)
#define BUF 4000

static uintptr_t top;
static unsigned long max_depth;

__attribute__((noinline)) static unsigned long recurse(unsigned long depth)
{
	volatile unsigned char buf[BUF];
	uintptr_t here = (uintptr_t)&buf[0];

	buf[0] = (unsigned char)depth;
	buf[BUF - 1] = (unsigned char)(depth >> 3);
	for (int i = 1; i < BUF - 1; i += 512)
		buf[i] = (unsigned char)(i + depth);

	unsigned long r = 0;
	if (top - here < TARGET)
		r = recurse(depth + 1);
	else
		max_depth = depth;

	/* Use the buffer after the call so it stays live across it (no tail call). */
	return r + buf[0] + buf[BUF - 1] + buf[513];
}

int main(void)
{
	volatile unsigned char marker = 0;
	top = (uintptr_t)&marker;
	unsigned long sum = recurse(1);

	/* Recompute the expected sum of the per-frame contributions. */
	unsigned long expect = 0;
	for (unsigned long d = 1; d <= max_depth; d++)
		expect += (unsigned char)d + (unsigned char)(d >> 3) + (unsigned char)(513 + d);
	if (sum != expect) {
		printf("FAIL: sum %lu != %lu\n", sum, expect);
		return 1;
	}
	printf("depth %lu\n", max_depth);
	printf("stack used >= 7 MiB: yes\n");
	printf("all ok\n");
	return (int)marker;
}
