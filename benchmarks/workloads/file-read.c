// file-read: reads a file from start to end with read(2) in 1 MiB chunks,
// twice (the first pass warms the host's page cache), and prints the
// second pass's throughput in MB/s, as a number only.
// Usage: file-read PATH
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double pass(const char *path, long *total) {
  static char buf[1 << 20];
  struct timespec a, b;
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    perror(path);
    exit(1);
  }
  clock_gettime(CLOCK_MONOTONIC, &a);
  long n, sum = 0;
  while ((n = read(fd, buf, sizeof buf)) > 0) sum += n;
  clock_gettime(CLOCK_MONOTONIC, &b);
  close(fd);
  if (n < 0) {
    perror("read");
    exit(1);
  }
  *total = sum;
  return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: file-read PATH\n");
    return 2;
  }
  long total;
  pass(argv[1], &total);
  double s = pass(argv[1], &total);
  printf("%.1f\n", (double)total / 1e6 / s);
  return 0;
}
