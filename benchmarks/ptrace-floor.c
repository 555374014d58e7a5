// ptrace-floor measures the floor cost of one system call on tvisor's ptrace
// platform: a child stopped at every system call by PTRACE_SYSEMU, served by
// a host loop in C that does only what the Sentry must do (wait for the
// stop, read the registers, make the real host call, write the result into
// RAX and resume the child). No JavaScript is involved, so tvisor's own cost
// per system call on ptrace is its figure minus this one.
//
// Usage: ptrace-floor [--json] [N]   (N defaults to 20000)
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child = -1;

static void die(const char *what) {
  fprintf(stderr, "ptrace-floor: %s: %s\n", what, strerror(errno));
  if (child > 0) kill(child, SIGKILL);
  exit(1);
}

static void fail(const char *msg) {
  fprintf(stderr, "ptrace-floor: %s\n", msg);
  if (child > 0) kill(child, SIGKILL);
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// run_child is the traced program: it stops itself, then makes n getppid
// calls and exits. Every call after the stop is a raw system call, so the
// tracer sees exactly n getppid calls and one exit_group.
static void run_child(long n) {
  if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0) {
    perror("ptrace-floor: PTRACE_TRACEME");
    _exit(1);
  }
  syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  syscall(SYS_exit_group, 0);
}

// wait_stop waits for the child's next stop and returns its signal; the
// child must not exit or die, since only the tracer ends it.
static int wait_stop(void) {
  int status;
  for (;;) {
    if (waitpid(child, &status, __WALL) >= 0) break;
    if (errno != EINTR) die("waitpid");
  }
  if (WIFEXITED(status)) {
    fprintf(stderr, "ptrace-floor: the child exited with status %d\n", WEXITSTATUS(status));
    exit(1);
  }
  if (WIFSIGNALED(status)) {
    fprintf(stderr, "ptrace-floor: the child was killed by signal %d\n", WTERMSIG(status));
    exit(1);
  }
  return WSTOPSIG(status);
}

int main(int argc, char **argv) {
  int json = 0;
  long n = 20000;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0) {
      json = 1;
    } else {
      char *end;
      n = strtol(argv[i], &end, 10);
      if (*end || n <= 0) {
        fprintf(stderr, "usage: ptrace-floor [--json] [N]\n");
        return 2;
      }
    }
  }

  child = fork();
  if (child < 0) die("fork");
  if (child == 0) run_child(n);

  if (wait_stop() != SIGSTOP) fail("the child's first stop was not its SIGSTOP");
  // EXITKILL: the child dies with the tracer; TRACESYSGOOD: syscall stops
  // say so in their signal (SIGTRAP | 0x80).
  if (ptrace(PTRACE_SETOPTIONS, child, NULL, (void *)(PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD)) < 0)
    die("PTRACE_SETOPTIONS");

  struct user_regs_struct regs;
  long calls = 0;
  uint64_t start = now_ns();
  for (;;) {
    // Resume the child (the first time discarding its SIGSTOP) until its
    // next system call, which SYSEMU stops at and never executes.
    if (ptrace(PTRACE_SYSEMU, child, NULL, NULL) < 0) die("PTRACE_SYSEMU");
    int sig = wait_stop();
    if (sig != (SIGTRAP | 0x80)) {
      fprintf(stderr, "ptrace-floor: the child stopped with signal %d, not at a system call\n", sig);
      kill(child, SIGKILL);
      return 1;
    }
    if (ptrace(PTRACE_GETREGS, child, NULL, &regs) < 0) die("PTRACE_GETREGS");
    if (regs.orig_rax == SYS_exit_group) break;
    if (regs.orig_rax != SYS_getppid) {
      fprintf(stderr, "ptrace-floor: unexpected system call %llu from RIP 0x%llx\n",
              (unsigned long long)regs.orig_rax, (unsigned long long)regs.rip);
      kill(child, SIGKILL);
      return 1;
    }
    regs.rax = (uint64_t)getppid();
    if (ptrace(PTRACE_SETREGS, child, NULL, &regs) < 0) die("PTRACE_SETREGS");
    calls++;
  }
  uint64_t elapsed = now_ns() - start;
  // The child's exit_group was emulated away too: end it here.
  kill(child, SIGKILL);
  int status;
  while (waitpid(child, &status, __WALL) < 0 && errno == EINTR) {
  }
  if (calls != n) {
    fprintf(stderr, "ptrace-floor: the child made %ld getppid calls, expected %ld\n", calls, n);
    return 1;
  }
  double per_op = (double)elapsed / (double)n;
  if (json)
    printf("%.0f\n", per_op);
  else
    printf("ptrace-floor: %ld syscalls, %.0f ns/op\n", n, per_op);
  return 0;
}
