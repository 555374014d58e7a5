// fork-exec: N times, forks a child that execs PROGRAM with ARGS (for
// fork-exec, /bin/busybox true; for python-start, /usr/bin/python3 -c pass)
// and waits for it, and prints the mean time of one round trip in ms, as a
// number only.
// Usage: fork-exec N PROGRAM [ARGS...]
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: fork-exec N PROGRAM [ARGS...]\n");
    return 2;
  }
  long n = strtol(argv[1], NULL, 10);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return 1;
    }
    if (pid == 0) {
      execv(argv[2], argv + 2);
      _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "fork-exec: the child failed (status %#x)\n", status);
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  printf("%.3f\n", s * 1e3 / (double)n);
  return 0;
}
