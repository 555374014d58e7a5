// ptrace.cc: the thin binding of the ptrace platform. It starts stub
// processes, runs them under PTRACE_SYSEMU, and injects the stub's own
// mmap/munmap/mprotect. Registers move through typed arrays that hold a
// struct user_regs_struct.
#include "../../sentry/native/util.h"

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr uint32_t kAuditArchI386 = 0x40000003;
constexpr int kSyscall32 = 0x10000;
constexpr int kRegRip = 16, kRegRax = 10, kRegOrigRax = 15, kRegRdi = 14, kRegRsi = 13, kRegRdx = 12,
              kRegR10 = 7, kRegR8 = 9, kRegR9 = 8;

user_regs_struct *RegsOf(const Napi::CallbackInfo &info, size_t i) {
  return reinterpret_cast<user_regs_struct *>(info[i].As<Napi::Uint8Array>().Data());
}

long Ptrace(enum __ptrace_request req, pid_t pid, void *addr, void *data) {
  long r;
  do {
    r = ptrace(req, pid, addr, data);
  } while (r < 0 && errno == EINTR);
  return r;
}

// WaitStop waits for pid to stop or end; with `interruptible`, a signal to
// this thread (the preemption tick) ends the wait with -1 and errno EINTR.
int WaitStop(pid_t pid, int *status, bool interruptible) {
  for (;;) {
    pid_t r = waitpid(pid, status, __WALL);
    if (r == pid) return 0;
    if (r < 0 && errno == EINTR && interruptible) return -1;
    if (r < 0 && errno != EINTR) return -1;
  }
}

// SpawnStub(path, memfd) starts the stub program traced by this thread and
// returns its pid once it has stopped after exec. The child keeps only the
// memory file (at the same fd number), leaves tvisor's session and process
// group, and dies with its tracer.
Napi::Value SpawnStub(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  int memfd = ArgInt(info, 1);
  volatile int childErrno = 0;
  volatile const char *childStep = "";
  pid_t pid = vfork();
  if (pid < 0) return ThrowErrno(env, "vfork", errno);
  if (pid == 0) {
    // Only raw system calls from here to execve: this is a vfork child.
    char *const argv[] = {const_cast<char *>(path.c_str()), nullptr};
    char *const envp[] = {nullptr};
    if (syscall(SYS_fcntl, memfd, F_SETFD, 0) < 0) { childStep = "fcntl"; goto fail; }
    if (memfd > 0 && syscall(SYS_close_range, 0, memfd - 1, 0) < 0) { childStep = "close_range"; goto fail; }
    if (syscall(SYS_close_range, memfd + 1, ~0U, 0) < 0) { childStep = "close_range"; goto fail; }
    syscall(SYS_setsid);
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    // The stub's one segment sits at a fixed address near the top of the
    // lower half (stub.ld), inside the range where the kernel places a
    // randomized stack: now and then the stack landed on it, and the exec
    // failed past its point of no return with SIGSEGV ("elf segment ...
    // requested but the memory is mapped already"). Without randomization
    // the stack sits at the very top, clear of it. The stub needs none: the
    // Sentry unmaps all but its code page before a program runs there.
    {
      long persona = syscall(SYS_personality, 0xffffffff);
      if (persona >= 0) syscall(SYS_personality, persona | ADDR_NO_RANDOMIZE);
    }
    if (syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0) < 0) { childStep = "ptrace"; goto fail; }
    syscall(SYS_execve, argv[0], argv, envp);
    childStep = "execve";
  fail:
    childErrno = errno;
    syscall(SYS_exit_group, 127);
  }
  int status;
  if (childErrno != 0) {
    waitpid(pid, &status, __WALL);
    Napi::Error e = Napi::Error::New(env, std::string(const_cast<const char *>(childStep)) + ": " + strerror(childErrno));
    e.Set("syscall", Napi::String::New(env, const_cast<const char *>(childStep)));
    e.Set("errno", Napi::Number::New(env, childErrno));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // The first stop is the SIGTRAP after execve. A signal that reached the
  // child before it (it is traced from PTRACE_TRACEME on) stops it first:
  // such a signal is the host's business, not the stub's; drop it.
  for (int stops = 0;; stops++) {
    if (WaitStop(pid, &status, false) < 0) return ThrowErrno(env, "waitpid", errno);
    if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP) break;
    if (WIFSTOPPED(status) && stops < 16 && Ptrace(PTRACE_CONT, pid, nullptr, nullptr) == 0) continue;
    int sig = WIFSTOPPED(status) ? WSTOPSIG(status) : WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    kill(pid, SIGKILL);
    waitpid(pid, &status, __WALL);
    std::string why = "the stub did not start (" + std::string(sig ? strsignal(sig) : "it exited") + ")";
    Napi::Error::New(env, why).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD;
  if (Ptrace(PTRACE_SETOPTIONS, pid, nullptr, reinterpret_cast<void *>(opts)) < 0) {
    int err = errno;
    kill(pid, SIGKILL);
    waitpid(pid, &status, __WALL);
    return ThrowErrno(env, "PTRACE_SETOPTIONS", err);
  }
  return Napi::Number::New(env, pid);
}

// Inject(pid, syscallSite, nr, args: Float64Array(6)) makes the stopped
// stub execute one system call at syscallSite (a `syscall; int3` pair)
// and returns its result; the stub's registers are restored afterwards.
Napi::Value Inject(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  pid_t pid = ArgInt(info, 0);
  uint64_t site = ArgU64(info, 1);
  Napi::Float64Array args = info[3].As<Napi::Float64Array>();
  user_regs_struct saved, regs;
  if (Ptrace(PTRACE_GETREGS, pid, nullptr, &saved) < 0) return ThrowErrno(env, "PTRACE_GETREGS", errno);
  regs = saved;
  regs.rip = site;
  regs.rax = static_cast<uint64_t>(ArgInt(info, 2));
  regs.orig_rax = ~0ULL;
  regs.rdi = static_cast<uint64_t>(args[0]);
  regs.rsi = static_cast<uint64_t>(args[1]);
  regs.rdx = static_cast<uint64_t>(args[2]);
  regs.r10 = static_cast<uint64_t>(args[3]);
  regs.r8 = static_cast<uint64_t>(args[4]);
  regs.r9 = static_cast<uint64_t>(args[5]);
  if (Ptrace(PTRACE_SETREGS, pid, nullptr, &regs) < 0) return ThrowErrno(env, "PTRACE_SETREGS", errno);
  if (Ptrace(PTRACE_CONT, pid, nullptr, nullptr) < 0) return ThrowErrno(env, "PTRACE_CONT", errno);
  // A signal pending for the stub (the SIGSTOP that stops a running stub
  // for the Sentry) stops it first: it is dropped, and the call goes on.
  int status;
  for (int stops = 0;; stops++) {
    if (WaitStop(pid, &status, false) < 0) return ThrowErrno(env, "waitpid", errno);
    if (!WIFSTOPPED(status) || WSTOPSIG(status) == SIGTRAP || stops == 16) break;
    if (Ptrace(PTRACE_CONT, pid, nullptr, nullptr) < 0) return ThrowErrno(env, "PTRACE_CONT", errno);
  }
  if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) return ThrowErrno(env, "injected syscall", ECHILD);
  if (Ptrace(PTRACE_GETREGS, pid, nullptr, &regs) < 0) return ThrowErrno(env, "PTRACE_GETREGS", errno);
  if (Ptrace(PTRACE_SETREGS, pid, nullptr, &saved) < 0) return ThrowErrno(env, "PTRACE_SETREGS", errno);
  return Napi::Number::New(env, static_cast<double>(static_cast<int64_t>(regs.rax)));
}

// Run(pid, regs, resume) runs the stub until its next stop. With resume,
// it first loads regs and continues with PTRACE_SYSEMU; without, it only
// waits again for a stub that is still running. It returns the wait
// status, or -1 when the preemption tick interrupted the wait (the stub
// keeps running); regs then hold the stopped stub's registers.
Napi::Value Run(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  pid_t pid = ArgInt(info, 0);
  user_regs_struct *regs = RegsOf(info, 1);
  bool resume = info[2].As<Napi::Boolean>().Value();
  int sig = info.Length() > 3 ? ArgInt(info, 3) : 0;
  if (resume) {
    // ESRCH: the stub was killed while stopped (from outside the sandbox);
    // the wait below then reports how it ended.
    if (Ptrace(PTRACE_SETREGS, pid, nullptr, regs) < 0 && errno != ESRCH) return ThrowErrno(env, "PTRACE_SETREGS", errno);
    if (Ptrace(PTRACE_SYSEMU, pid, nullptr, reinterpret_cast<void *>(static_cast<long>(sig))) < 0 && errno != ESRCH)
      return ThrowErrno(env, "PTRACE_SYSEMU", errno);
  }
  int status;
  if (WaitStop(pid, &status, true) < 0) {
    if (errno == EINTR) return Napi::Number::New(env, -1);
    return ThrowErrno(env, "waitpid", errno);
  }
  if (WIFSTOPPED(status) && Ptrace(PTRACE_GETREGS, pid, nullptr, regs) < 0 && errno != ESRCH)
    return ThrowErrno(env, "PTRACE_GETREGS", errno);
  if (WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80)) {
    // A 32-bit system call (int $0x80) stops here too; say so in bit 16.
    struct { uint8_t op; uint8_t pad[3]; uint32_t arch; } info = {};
    if (Ptrace(PTRACE_GET_SYSCALL_INFO, pid, reinterpret_cast<void *>(sizeof info), &info) > 0 && info.arch == kAuditArchI386)
      status |= kSyscall32;
  }
  return Napi::Number::New(env, status);
}

// Siginfo(pid, out: Float64Array(3)) reads the stop's signal: signo, code, address.
Napi::Value Siginfo(const Napi::CallbackInfo &info) {
  siginfo_t si;
  if (Ptrace(PTRACE_GETSIGINFO, ArgInt(info, 0), nullptr, &si) < 0) return ThrowErrno(info.Env(), "PTRACE_GETSIGINFO", errno);
  Napi::Float64Array out = info[1].As<Napi::Float64Array>();
  out[0] = si.si_signo;
  out[1] = si.si_code;
  out[2] = static_cast<double>(reinterpret_cast<uintptr_t>(si.si_addr));
  return info.Env().Undefined();
}

// GetXstate/SetXstate(pid, buffer) move the stub's whole XSAVE area
// (NT_X86_XSTATE) through a caller's buffer; they return its size.
Napi::Value GetXstate(const Napi::CallbackInfo &info) {
  Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
  iovec iov = {buf.Data(), buf.ByteLength()};
  if (Ptrace(PTRACE_GETREGSET, ArgInt(info, 0), reinterpret_cast<void *>(NT_X86_XSTATE), &iov) < 0)
    return ThrowErrno(info.Env(), "PTRACE_GETREGSET", errno);
  return Napi::Number::New(info.Env(), static_cast<double>(iov.iov_len));
}
Napi::Value SetXstate(const Napi::CallbackInfo &info) {
  Napi::Uint8Array buf = info[1].As<Napi::Uint8Array>();
  iovec iov = {buf.Data(), buf.ByteLength()};
  if (Ptrace(PTRACE_SETREGSET, ArgInt(info, 0), reinterpret_cast<void *>(NT_X86_XSTATE), &iov) < 0)
    return ThrowErrno(info.Env(), "PTRACE_SETREGSET", errno);
  return Napi::Number::New(info.Env(), static_cast<double>(iov.iov_len));
}

// Kill(pid) kills a stub and reaps it, so no zombie is left.
Napi::Value Kill(const Napi::CallbackInfo &info) {
  pid_t pid = ArgInt(info, 0);
  int status;
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
  }
  return info.Env().Undefined();
}

}  // namespace

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnStub", Napi::Function::New(env, SpawnStub));
  exports.Set("inject", Napi::Function::New(env, Inject));
  exports.Set("run", Napi::Function::New(env, Run));
  exports.Set("siginfo", Napi::Function::New(env, Siginfo));
  exports.Set("getXstate", Napi::Function::New(env, GetXstate));
  exports.Set("setXstate", Napi::Function::New(env, SetXstate));
  exports.Set("kill", Napi::Function::New(env, Kill));
  exports.Set("regsSize", Napi::Number::New(env, sizeof(user_regs_struct)));
  return exports;
}

NODE_API_MODULE(tvisor_ptrace, Init)
