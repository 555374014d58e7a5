/* Sends SIGTERM to itself with the default disposition: the process must die
 * with status 143 (128 + 15). Nothing after the kill may run. */
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void say(const char *s)
{
	(void)!write(1, s, strlen(s));
}

int main(void)
{
	say("sending SIGTERM\n");
	syscall(SYS_kill, (long)syscall(SYS_getpid), SIGTERM);
	say("FAIL: still alive after kill(getpid(), SIGTERM)\n");
	return 1;
}
