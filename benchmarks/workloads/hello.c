// hello: the smallest program worth launching.
#include <stdio.h>

int main(void) {
  puts("hello");
  return 0;
}
