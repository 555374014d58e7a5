/* getppid_loop N: calls getppid() through libc N times (forever when N is
 * 0), printing "ready" after the first thousand calls and, at the end, the
 * sum of the results. libc's getppid is the `mov $110, %eax; syscall` call
 * site that the kvm platform patches, so under kvm most calls are served
 * without an exit; the output is the same natively and in the sandbox. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	long sum = 0;
	for (long i = 0; n == 0 || i < n; i++) {
		sum += getppid() == getppid();
		if (i == 1000) {
			printf("ready\n");
			fflush(stdout);
		}
	}
	printf("%ld equal pairs\n", sum);
	return 0;
}
