// host.cc: the host calls the Sentry needs that Node does not offer: the
// memory file (memfd, shared mappings, hole punching), the preemption timer
// that interrupts KVM_RUN, terminal ioctls and clock_gettime.
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace {

// PidfdGetfd(pid, targetFd) duplicates another process's descriptor into
// this one (pidfd_open, then pidfd_getfd; the caller may ptrace it, as a
// parent may its own child). It returns the new fd, or -errno.
Napi::Value PidfdGetfd(const Napi::CallbackInfo &info) {
  int pidfd = static_cast<int>(syscall(434 /* pidfd_open */, ArgInt(info, 0), 0));
  if (pidfd < 0) return Napi::Number::New(info.Env(), -errno);
  int fd = static_cast<int>(syscall(438 /* pidfd_getfd */, pidfd, ArgInt(info, 1), 0));
  int err = errno;
  close(pidfd);
  return Napi::Number::New(info.Env(), fd < 0 ? -err : fd);
}

Napi::Value Close(const Napi::CallbackInfo &info) {
  if (close(ArgInt(info, 0)) < 0) return ThrowErrno(info.Env(), "close", errno);
  return info.Env().Undefined();
}

// MemfdCreate(name, size) creates a sparse memory file of size bytes.
Napi::Value MemfdCreate(const Napi::CallbackInfo &info) {
  std::string name = info[0].As<Napi::String>();
  int fd = static_cast<int>(syscall(SYS_memfd_create, name.c_str(), MFD_CLOEXEC));
  if (fd < 0) return ThrowErrno(info.Env(), "memfd_create", errno);
  if (ftruncate(fd, static_cast<off_t>(ArgU64(info, 1))) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(info.Env(), "ftruncate", err);
  }
  return Napi::Number::New(info.Env(), fd);
}

// MapShared(fd, size) maps the whole file once, contiguously, and returns
// its host address (for the KVM memory slot and for View).
Napi::Value MapShared(const Napi::CallbackInfo &info) {
  int fd = ArgInt(info, 0);
  size_t size = static_cast<size_t>(ArgU64(info, 1));
  void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (p == MAP_FAILED) return ThrowErrno(info.Env(), "mmap(memory file)", errno);
  return Napi::BigInt::New(info.Env(), reinterpret_cast<uint64_t>(p));
}

// View(address, offset, length) returns an ArrayBuffer over part of a
// mapping. The Sentry makes views of a few megabytes as it needs them: V8
// counts an external buffer's size as memory pressure, so one view of a
// whole gigabyte-sized file would set off a garbage collection.
Napi::Value View(const Napi::CallbackInfo &info) {
  uint8_t *p = reinterpret_cast<uint8_t *>(ArgU64(info, 0)) + ArgU64(info, 1);
  return Napi::ArrayBuffer::New(info.Env(), p, static_cast<size_t>(ArgU64(info, 2)));
}

// Unmap(address, size, buffers) detaches every ArrayBuffer over the range,
// so a stale typed array reads as empty instead of touching freed memory,
// then unmaps it.
Napi::Value Unmap(const Napi::CallbackInfo &info) {
  Napi::Array buffers = info[2].As<Napi::Array>();
  for (uint32_t i = 0; i < buffers.Length(); i++) {
    Napi::ArrayBuffer ab = buffers.Get(i).As<Napi::ArrayBuffer>();
    if (!ab.IsDetached()) ab.Detach();
  }
  void *p = reinterpret_cast<void *>(ArgU64(info, 0));
  if (munmap(p, static_cast<size_t>(ArgU64(info, 1))) < 0) return ThrowErrno(info.Env(), "munmap", errno);
  return info.Env().Undefined();
}

// BufferAddress(arrayBuffer) returns where an external ArrayBuffer lives.
Napi::Value BufferAddress(const Napi::CallbackInfo &info) {
  return Napi::BigInt::New(info.Env(), reinterpret_cast<uint64_t>(info[0].As<Napi::ArrayBuffer>().Data()));
}

// PunchHole(fd, offset, length) gives pages back to the host; they read as
// zero afterwards and every mapping of them, KVM's included, is dropped.
Napi::Value PunchHole(const Napi::CallbackInfo &info) {
  if (fallocate(ArgInt(info, 0), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                static_cast<off_t>(ArgU64(info, 1)), static_cast<off_t>(ArgU64(info, 2))) < 0)
    return ThrowErrno(info.Env(), "fallocate(PUNCH_HOLE)", errno);
  return info.Env().Undefined();
}

// DropMappings(address, length) drops the host's page-table entries for a
// range of a shared mapping without touching the data. KVM's MMU notifier
// then drops every guest translation to those pages, which is how a page
// that the guest lost access to stops being reachable through stale
// shadow or EPT entries.
Napi::Value DropMappings(const Napi::CallbackInfo &info) {
  void *p = reinterpret_cast<void *>(ArgU64(info, 0));
  if (madvise(p, static_cast<size_t>(ArgU64(info, 1)), MADV_DONTNEED) < 0)
    return ThrowErrno(info.Env(), "madvise(DONTNEED)", errno);
  return info.Env().Undefined();
}

// Membarrier() makes every thread of this process that runs on a CPU now
// pass a full memory barrier (membarrier(2) PRIVATE_EXPEDITED, registered
// at the first call): the kvm platform's vCPU threads, guest code
// included, are threads of this process. Where the host lacks it, the
// global command (slower, it waits for an RCU grace period) does it.
Napi::Value Membarrier(const Napi::CallbackInfo &info) {
  static int registered = 0;
  constexpr int kPrivateExpedited = 8, kRegisterPrivateExpedited = 16, kGlobal = 1;
  if (registered == 0) registered = syscall(SYS_membarrier, kRegisterPrivateExpedited, 0, 0) == 0 ? 1 : -1;
  if (registered > 0 && syscall(SYS_membarrier, kPrivateExpedited, 0, 0) == 0) return info.Env().Undefined();
  if (syscall(SYS_membarrier, kGlobal, 0, 0) < 0) return ThrowErrno(info.Env(), "membarrier", errno);
  return info.Env().Undefined();
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

// Populate(address, length) makes the host allocate the pages of a range
// of a shared mapping now, as writes would (MADV_POPULATE_WRITE, Linux
// 5.14). KVM can then map a guest's translations to them ahead of its
// faults (its prefetch takes only pages the host already maps). Returns
// false where the host kernel lacks it.
Napi::Value Populate(const Napi::CallbackInfo &info) {
  void *p = reinterpret_cast<void *>(ArgU64(info, 0));
  bool ok = madvise(p, static_cast<size_t>(ArgU64(info, 1)), MADV_POPULATE_WRITE) == 0;
  return Napi::Boolean::New(info.Env(), ok);
}

timer_t preemptTimer;
bool preemptReady = false;

void OnPreempt(int) {}

// PreemptInit(signal) creates the timer that interrupts the platform's
// blocking call on the calling thread: KVM_RUN returns with KVM_EXIT_INTR,
// and the ptrace platform's waitpid with EINTR. The handler does nothing,
// and has no SA_RESTART so that waitpid is not restarted. The tick is
// armed only while a program runs, when this thread is in one of those
// calls or in the Sentry's own code.
Napi::Value PreemptInit(const Napi::CallbackInfo &info) {
  if (preemptReady) return info.Env().Undefined();
  int signo = ArgInt(info, 0);
  struct sigaction sa = {};
  sa.sa_handler = OnPreempt;
  sa.sa_flags = 0;
  sigemptyset(&sa.sa_mask);
  if (sigaction(signo, &sa, nullptr) < 0) return ThrowErrno(info.Env(), "sigaction", errno);
  struct sigevent sev = {};
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = signo;
  sev._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
  if (timer_create(CLOCK_MONOTONIC, &sev, &preemptTimer) < 0)
    return ThrowErrno(info.Env(), "timer_create", errno);
  preemptReady = true;
  return info.Env().Undefined();
}

// PreemptSet(periodMicroseconds) arms the periodic tick, or disarms it for 0.
Napi::Value PreemptSet(const Napi::CallbackInfo &info) {
  long us = static_cast<long>(ArgU64(info, 0));
  struct itimerspec its = {};
  its.it_value.tv_sec = us / 1000000;
  its.it_value.tv_nsec = (us % 1000000) * 1000;
  its.it_interval = its.it_value;
  if (timer_settime(preemptTimer, 0, &its, nullptr) < 0) return ThrowErrno(info.Env(), "timer_settime", errno);
  return info.Env().Undefined();
}

// TtyIoctl(fd, request, buffer) performs TCGETS or TIOCGWINSZ on a host
// terminal; it returns 0 or the errno.
Napi::Value TtyIoctl(const Napi::CallbackInfo &info) {
  unsigned long request = static_cast<unsigned long>(ArgU64(info, 1));
  if (request != TCGETS && request != TIOCGWINSZ) return Napi::Number::New(info.Env(), EINVAL);
  int r = ioctl(ArgInt(info, 0), request, info[2].As<Napi::Uint8Array>().Data());
  return Napi::Number::New(info.Env(), r < 0 ? errno : 0);
}

// ClockGettime(clockId, out: Float64Array) writes seconds and nanoseconds
// into out[0] and out[1]; it returns 0 or the errno.
Napi::Value ClockGettime(const Napi::CallbackInfo &info) {
  struct timespec ts;
  if (clock_gettime(ArgInt(info, 0), &ts) < 0) return Napi::Number::New(info.Env(), errno);
  Napi::Float64Array out = info[1].As<Napi::Float64Array>();
  out[0] = static_cast<double>(ts.tv_sec);
  out[1] = static_cast<double>(ts.tv_nsec);
  return Napi::Number::New(info.Env(), 0);
}

static inline uint64_t Rdtsc() {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

// Rdtsc() reads the host's TSC, as a BigInt.
// Yield gives the CPU to another thread ready to run on it (sched_yield),
// if any: a spinning Sentry then does not keep a vCPU's thread that shares
// its CPU from running.
Napi::Value Yield(const Napi::CallbackInfo &info) {
  sched_yield();
  return info.Env().Undefined();
}

Napi::Value RdtscValue(const Napi::CallbackInfo &info) {
  return Napi::BigInt::New(info.Env(), Rdtsc());
}

// ClockSample(out: Float64Array(8)) reads the TSC and the monotonic,
// realtime and boottime clocks as close together as it can: out holds the
// TSC's high and low halves, then seconds and nanoseconds of each clock.
Napi::Value ClockSample(const Napi::CallbackInfo &info) {
  Napi::Float64Array out = info[0].As<Napi::Float64Array>();
  struct timespec mono, real, boot;
  uint64_t before = Rdtsc();
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_BOOTTIME, &boot);
  uint64_t after = Rdtsc();
  uint64_t tsc = before + (after - before) / 2;
  out[0] = static_cast<double>(tsc >> 32);
  out[1] = static_cast<double>(tsc & 0xffffffffu);
  out[2] = static_cast<double>(mono.tv_sec);
  out[3] = static_cast<double>(mono.tv_nsec);
  out[4] = static_cast<double>(real.tv_sec);
  out[5] = static_cast<double>(real.tv_nsec);
  out[6] = static_cast<double>(boot.tv_sec);
  out[7] = static_cast<double>(boot.tv_nsec);
  return info.Env().Undefined();
}

// PreadvNowait(fd, base, pairs, offset) reads at offset into the memory at
// base + pairs[2i], pairs[2i+1] bytes long, in order (the Sentry's runs of
// its memory file), only as far as the host's page cache holds the data
// (preadv2 with RWF_NOWAIT): it never waits for a disk, so the Sentry may
// call it on the event loop. It returns the bytes read, or -errno
// (-EAGAIN when nothing was cached; -EOPNOTSUPP where the file does not
// support RWF_NOWAIT).
Napi::Value PreadvNowait(const Napi::CallbackInfo &info) {
  bool lossless = false;
  uint64_t base = info[1].As<Napi::BigInt>().Uint64Value(&lossless);
  Napi::Float64Array pairs = info[2].As<Napi::Float64Array>();
  size_t count = std::min<size_t>(pairs.ElementLength() / 2, IOV_MAX);
  std::vector<iovec> iov(count);
  for (size_t i = 0; i < count; i++) {
    iov[i].iov_base = reinterpret_cast<void *>(base + static_cast<uint64_t>(pairs[2 * i]));
    iov[i].iov_len = static_cast<size_t>(pairs[2 * i + 1]);
  }
  ssize_t n;
  do {
    n = preadv2(ArgInt(info, 0), iov.data(), static_cast<int>(count), static_cast<off_t>(ArgU64(info, 3)), RWF_NOWAIT);
  } while (n < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), n < 0 ? -errno : static_cast<double>(n));
}

// Getrandom(buffer) fills buffer from the host's CSPRNG (getrandom(2)).
Napi::Value Getrandom(const Napi::CallbackInfo &info) {
  Napi::Uint8Array buf = info[0].As<Napi::Uint8Array>();
  size_t done = 0;
  while (done < buf.ByteLength()) {
    ssize_t n = getrandom(buf.Data() + done, buf.ByteLength() - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ThrowErrno(info.Env(), "getrandom", errno);
    done += static_cast<size_t>(n);
  }
  return info.Env().Undefined();
}

// Cpuid(leaf, subleaf) returns [eax, ebx, ecx, edx] of the host CPU.
Napi::Value Cpuid(const Napi::CallbackInfo &info) {
  uint32_t r[4];
  uint32_t leaf = static_cast<uint32_t>(ArgInt(info, 0));
  uint32_t sub = static_cast<uint32_t>(ArgInt(info, 1));
  __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
  Napi::Uint32Array out = Napi::Uint32Array::New(info.Env(), 4);
  for (int i = 0; i < 4; i++) out[i] = r[i];
  return out;
}

// Xcr0() returns the host's XCR0 (the extended state the host enables).
Napi::Value Xcr0(const Napi::CallbackInfo &info) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return Napi::BigInt::New(info.Env(), (static_cast<uint64_t>(hi) << 32) | lo);
}

}  // namespace

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("pidfdGetfd", Napi::Function::New(env, PidfdGetfd));
  exports.Set("preadvNowait", Napi::Function::New(env, PreadvNowait));
  exports.Set("memfdCreate", Napi::Function::New(env, MemfdCreate));
  exports.Set("mapShared", Napi::Function::New(env, MapShared));
  exports.Set("view", Napi::Function::New(env, View));
  exports.Set("unmap", Napi::Function::New(env, Unmap));
  exports.Set("bufferAddress", Napi::Function::New(env, BufferAddress));
  exports.Set("punchHole", Napi::Function::New(env, PunchHole));
  exports.Set("dropMappings", Napi::Function::New(env, DropMappings));
  exports.Set("membarrier", Napi::Function::New(env, Membarrier));
  exports.Set("populate", Napi::Function::New(env, Populate));
  exports.Set("preemptInit", Napi::Function::New(env, PreemptInit));
  exports.Set("preemptSet", Napi::Function::New(env, PreemptSet));
  exports.Set("ttyIoctl", Napi::Function::New(env, TtyIoctl));
  exports.Set("clockGettime", Napi::Function::New(env, ClockGettime));
  exports.Set("getrandom", Napi::Function::New(env, Getrandom));
  exports.Set("clockSample", Napi::Function::New(env, ClockSample));
  exports.Set("rdtsc", Napi::Function::New(env, RdtscValue));
  exports.Set("yield", Napi::Function::New(env, Yield));
  exports.Set("cpuid", Napi::Function::New(env, Cpuid));
  exports.Set("xcr0", Napi::Function::New(env, Xcr0));
  return exports;
}

NODE_API_MODULE(tvisor_host, Init)
