/* Prints argc, every argv and envp entry, and checks a few auxiliary vector
 * entries (AT_RANDOM, AT_PAGESZ, AT_EXECFN, AT_PHNUM, AT_SECURE). */
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int main(int argc, char **argv, char **envp)
{
	int failed = 0;

	printf("argc %d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d] %s\n", i, argv[i]);
	if (argv[argc] != NULL) {
		printf("FAIL: argv[argc] is not NULL\n");
		failed = 1;
	}
	int n = 0;
	for (char **e = envp; *e; e++, n++)
		printf("envp[%d] %s\n", n, *e);
	printf("envc %d\n", n);

	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	int nonzero = 0;
	if (rnd)
		for (int i = 0; i < 16; i++)
			nonzero |= rnd[i];
	printf("AT_RANDOM present: %s\n", rnd ? "yes" : "no");
	printf("AT_RANDOM not all zero: %s\n", nonzero ? "yes" : "no");
	if (!rnd || !nonzero)
		failed = 1;

	unsigned long pagesz = getauxval(AT_PAGESZ);
	printf("AT_PAGESZ %lu\n", pagesz);
	if (pagesz != 4096)
		failed = 1;

	const char *execfn = (const char *)getauxval(AT_EXECFN);
	int execfn_ok = execfn && ends_with(execfn, "/args");
	printf("AT_EXECFN ends with /args: %s\n", execfn_ok ? "yes" : "no");
	printf("AT_EXECFN equals argv[0]: %s\n", execfn && argc > 0 && strcmp(execfn, argv[0]) == 0 ? "yes" : "no");
	if (!execfn_ok)
		failed = 1;

	unsigned long phnum = getauxval(AT_PHNUM);
	printf("AT_PHNUM > 0: %s\n", phnum > 0 ? "yes" : "no");
	printf("AT_PHDR != 0: %s\n", getauxval(AT_PHDR) ? "yes" : "no");
	printf("AT_ENTRY != 0: %s\n", getauxval(AT_ENTRY) ? "yes" : "no");
	if (phnum == 0 || !getauxval(AT_PHDR) || !getauxval(AT_ENTRY))
		failed = 1;

	unsigned long secure = getauxval(AT_SECURE);
	printf("AT_SECURE %lu\n", secure);
	if (secure != 0)
		failed = 1;

	if (failed) {
		printf("FAIL: auxv\n");
		return 1;
	}
	printf("all ok\n");
	return 0;
}
