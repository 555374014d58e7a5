/* tty.c reports what the terminal ioctls say about fds 0-2: whether each is
 * a terminal, the window size, and the terminal's canonical and echo modes.
 * Run under a pty (script(1)) it must print the same natively and in the
 * sandbox; under pipes it reports ENOTTY. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int main(void) {
	for (int fd = 0; fd < 3; fd++) {
		struct winsize ws;
		struct termios tio;
		int tty = isatty(fd);
		printf("fd %d: isatty %d", fd, tty);
		if (ioctl(fd, TIOCGWINSZ, &ws) == 0)
			printf(", %dx%d", ws.ws_col, ws.ws_row);
		else
			printf(", TIOCGWINSZ %s", errno == ENOTTY ? "ENOTTY" : strerror(errno));
		if (tcgetattr(fd, &tio) == 0)
			printf(", icanon %d echo %d\n", !!(tio.c_lflag & ICANON), !!(tio.c_lflag & ECHO));
		else
			printf(", TCGETS %s\n", errno == ENOTTY ? "ENOTTY" : strerror(errno));
	}
	return 0;
}
