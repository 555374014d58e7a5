/* idle.c waits the two ways a program idles: it sleeps a second in
 * nanosleep, then blocks reading a line from stdin. */
#include <stdio.h>
#include <string.h>
#include <time.h>

int main(void) {
	char line[128];
	struct timespec second = { 1, 0 };
	printf("ready\n");
	fflush(stdout);
	nanosleep(&second, NULL);
	printf("slept\n");
	fflush(stdout);
	if (!fgets(line, sizeof line, stdin)) return 1;
	line[strcspn(line, "\n")] = 0;
	printf("got %s\n", line);
	return 0;
}
