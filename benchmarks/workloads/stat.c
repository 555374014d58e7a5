// stat: stat(2)s every entry of a directory, over and over until N calls
// were made, and prints the calls per second, as a number only.
// Usage: stat DIR [N]   (N defaults to 10000)
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: stat DIR [N]\n");
    return 2;
  }
  long n = argc > 2 ? strtol(argv[2], NULL, 10) : 10000;
  static char paths[4096][300];
  int count = 0;
  DIR *d = opendir(argv[1]);
  if (!d) {
    perror(argv[1]);
    return 1;
  }
  struct dirent *e;
  while ((e = readdir(d)) && count < 4096) {
    if (e->d_name[0] == '.') continue;
    snprintf(paths[count++], sizeof paths[0], "%s/%s", argv[1], e->d_name);
  }
  closedir(d);
  if (count == 0) {
    fprintf(stderr, "stat: %s is empty\n", argv[1]);
    return 1;
  }
  struct timespec a, b;
  struct stat st;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    if (lstat(paths[i % count], &st) != 0) {
      perror(paths[i % count]);
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  printf("%.0f\n", (double)n / s);
  return 0;
}
