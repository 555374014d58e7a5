// readdir: lists a directory with opendir/readdir N times and prints the
// time of one listing in µs, as a number only.
// Usage: readdir DIR [N]   (N defaults to 200)
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: readdir DIR [N]\n");
    return 2;
  }
  long n = argc > 2 ? strtol(argv[2], NULL, 10) : 200;
  struct timespec a, b;
  long entries = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    DIR *d = opendir(argv[1]);
    if (!d) {
      perror(argv[1]);
      return 1;
    }
    while (readdir(d)) entries++;
    closedir(d);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3;
  printf("%.1f\n", us / (double)n);
  fprintf(stderr, "%ld entries\n", entries / n);
  return 0;
}
