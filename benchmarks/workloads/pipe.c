// pipe: streams MB mebibytes through a pipe from a child process to its
// parent, 64 KiB per write, and prints the throughput in MB/s, as a number
// only (the parent checks it got every byte).
// Usage: pipe [MB]   (MB defaults to 256)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long mb = argc > 1 ? strtol(argv[1], NULL, 10) : 256;
  static char buf[1 << 16];
  int p[2];
  if (pipe(p) != 0) {
    perror("pipe");
    return 1;
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1;
  }
  if (pid == 0) {
    close(p[0]);
    memset(buf, 'x', sizeof buf);
    for (long left = mb << 20; left > 0;) {
      ssize_t n = write(p[1], buf, sizeof buf);
      if (n <= 0) _exit(1);
      left -= n;
    }
    _exit(0);
  }
  close(p[1]);
  long total = 0;
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) total += n;
  int status;
  waitpid(pid, &status, 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  if (total != mb << 20 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "pipe: got %ld of %ld bytes\n", total, mb << 20);
    return 1;
  }
  double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  printf("%.1f\n", (double)total / 1e6 / s);
  return 0;
}
