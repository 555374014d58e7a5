/* native_pipes PROGRAM [ARGS...]: NOT a guest program. A helper for the native
 * side of the tests: Node's child_process connects stdio to UNIX sockets, but
 * the sandbox gives the program pipes. This runs PROGRAM (execve with the
 * unchanged environment) with fds 0, 1, 2 connected to real pipes, forwards
 * its own stdin/stdout/stderr through them, and ends with PROGRAM's status:
 * the same exit code, or killed by the same signal. The child is killed with
 * SIGKILL when this helper dies (so a timeout kill reaches it). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void die(const char *what)
{
	fprintf(stderr, "native_pipes: %s: %s\n", what, strerror(errno));
	exit(125);
}

static void write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* our reader went away: drop the output */
		}
		buf += w;
		n -= (size_t)w;
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: native_pipes PROGRAM [ARGS...]\n");
		return 125;
	}
	int in[2], out[2], err[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		die("pipe2");
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(125);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(125);
		execve(argv[1], argv + 1, environ);
		fprintf(stderr, "native_pipes: execve %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	signal(SIGPIPE, SIG_IGN);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);

	char inbuf[65536];
	size_t inlen = 0, inoff = 0;
	int stdin_open = 1, child_in_open = 1, out_open = 1, err_open = 1;
	char buf[65536];

	while (out_open || err_open) {
		struct pollfd p[4];
		int n = 0, i_stdin = -1, i_cin = -1, i_out = -1, i_err = -1;
		if (stdin_open && child_in_open && inlen == inoff) {
			p[n] = (struct pollfd){ .fd = 0, .events = POLLIN };
			i_stdin = n++;
		}
		if (child_in_open && inlen > inoff) {
			p[n] = (struct pollfd){ .fd = in[1], .events = POLLOUT };
			i_cin = n++;
		}
		if (out_open) {
			p[n] = (struct pollfd){ .fd = out[0], .events = POLLIN };
			i_out = n++;
		}
		if (err_open) {
			p[n] = (struct pollfd){ .fd = err[0], .events = POLLIN };
			i_err = n++;
		}
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (i_stdin >= 0 && p[i_stdin].revents) {
			ssize_t r = read(0, inbuf, sizeof inbuf);
			if (r > 0) {
				inlen = (size_t)r;
				inoff = 0;
			} else if (r == 0 || errno != EINTR) {
				stdin_open = 0;
			}
		}
		if (i_cin >= 0 && p[i_cin].revents) {
			ssize_t w = write(in[1], inbuf + inoff, inlen - inoff);
			if (w > 0) {
				inoff += (size_t)w;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				child_in_open = 0; /* EPIPE: the program closed stdin */
				close(in[1]);
			}
		}
		if (child_in_open && !stdin_open && inlen == inoff) {
			child_in_open = 0;
			close(in[1]);
		}
		if (i_out >= 0 && p[i_out].revents) {
			ssize_t r = read(out[0], buf, sizeof buf);
			if (r > 0)
				write_all(1, buf, (size_t)r);
			else if (r == 0 || errno != EINTR)
				out_open = 0;
		}
		if (i_err >= 0 && p[i_err].revents) {
			ssize_t r = read(err[0], buf, sizeof buf);
			if (r > 0)
				write_all(2, buf, (size_t)r);
			else if (r == 0 || errno != EINTR)
				err_open = 0;
		}
	}

	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		signal(sig, SIG_DFL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		return 128 + sig;
	}
	return 125;
}
