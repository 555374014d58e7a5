/* Prints "hello\n" and exits 0. Built as musl static, glibc static,
 * musl static-PIE and glibc dynamic (the last one for the loader error test). */
#include <stdio.h>

int main(void)
{
	fputs("hello\n", stdout);
	return 0;
}
