/* Copies stdin to stdout in 4 KiB chunks until EOF, then prints "bytes N" to stderr. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char buf[4096];
	unsigned long total = 0;

	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			printf("FAIL: read: %s\n", strerror(errno));
			return 1;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(1, buf + off, n - off);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				fprintf(stderr, "FAIL: write: %s\n", strerror(errno));
				return 1;
			}
			off += w;
		}
		total += n;
	}
	fprintf(stderr, "bytes %lu\n", total);
	return 0;
}
