// kvm.cc: one function per KVM ioctl, nothing clever. File descriptors are
// plain numbers owned by the TypeScript side, which closes them.
#include "../../sentry/native/util.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <thread>
#include <vector>

namespace {

// Ioctl retries an ioctl that a signal interrupted (the preemption tick, a
// profiler): only KVM_RUN reports EINTR to its caller.
template <typename T>
int Ioctl(int fd, unsigned long request, T arg) {
  int r;
  do {
    r = ioctl(fd, request, arg);
  } while (r < 0 && errno == EINTR);
  return r;
}

// <linux/kvm.h> declares its flexible arrays with __DECLARE_FLEX_ARRAY,
// which C++ lays out differently from C (kvm_cpuid2's entries land at
// offset 12, not 8), changing both the structs and the ioctl numbers. The
// calls that pass such structs therefore use raw buffers with the C layout:
// an 8-byte header {u32 count, u32 pad} followed by the entries.
constexpr size_t kFlexHeader = 8;
constexpr size_t kCpuidEntrySize = 40;
constexpr size_t kMsrEntrySize = 16;
constexpr size_t kXsaveSize = 4096;
constexpr unsigned long kGetSupportedCpuid = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, kFlexHeader);
constexpr unsigned long kSetCpuid2 = _IOC(_IOC_WRITE, KVMIO, 0x90, kFlexHeader);
constexpr unsigned long kSetMsrs = _IOC(_IOC_WRITE, KVMIO, 0x89, kFlexHeader);
constexpr unsigned long kGetXsave = _IOC(_IOC_READ, KVMIO, 0xa4, kXsaveSize);
constexpr unsigned long kSetXsave = _IOC(_IOC_WRITE, KVMIO, 0xa5, kXsaveSize);

Napi::Value OpenDevice(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>();
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return ThrowErrno(info.Env(), "open", errno);
  return Napi::Number::New(info.Env(), fd);
}

// SimpleIoctl covers the ioctls whose argument is an integer and whose
// result is the return value.
Napi::Value SimpleIoctl(const Napi::CallbackInfo &info, unsigned long request,
                        const char *name) {
  int fd = ArgInt(info, 0);
  unsigned long arg = info.Length() > 1 ? static_cast<unsigned long>(ArgU64(info, 1)) : 0;
  int r = Ioctl(fd, request, arg);
  if (r < 0) return ThrowErrno(info.Env(), name, errno);
  return Napi::Number::New(info.Env(), r);
}

Napi::Value GetApiVersion(const Napi::CallbackInfo &info) {
  return SimpleIoctl(info, KVM_GET_API_VERSION, "KVM_GET_API_VERSION");
}
Napi::Value CheckExtension(const Napi::CallbackInfo &info) {
  return SimpleIoctl(info, KVM_CHECK_EXTENSION, "KVM_CHECK_EXTENSION");
}
Napi::Value CreateVm(const Napi::CallbackInfo &info) {
  return SimpleIoctl(info, KVM_CREATE_VM, "KVM_CREATE_VM");
}
Napi::Value GetVcpuMmapSize(const Napi::CallbackInfo &info) {
  return SimpleIoctl(info, KVM_GET_VCPU_MMAP_SIZE, "KVM_GET_VCPU_MMAP_SIZE");
}
Napi::Value CreateVcpu(const Napi::CallbackInfo &info) {
  return SimpleIoctl(info, KVM_CREATE_VCPU, "KVM_CREATE_VCPU");
}
Napi::Value SetTssAddr(const Napi::CallbackInfo &info) {
  return SimpleIoctl(info, KVM_SET_TSS_ADDR, "KVM_SET_TSS_ADDR");
}

// SetUserMemoryRegion(vmFd, slot, flags, guestPhysAddr, size, hostAddr)
Napi::Value SetUserMemoryRegion(const Napi::CallbackInfo &info) {
  struct kvm_userspace_memory_region region = {};
  region.slot = static_cast<uint32_t>(ArgInt(info, 1));
  region.flags = static_cast<uint32_t>(ArgInt(info, 2));
  region.guest_phys_addr = ArgU64(info, 3);
  region.memory_size = ArgU64(info, 4);
  region.userspace_addr = ArgU64(info, 5);
  if (Ioctl(ArgInt(info, 0), KVM_SET_USER_MEMORY_REGION, &region) < 0)
    return ThrowErrno(info.Env(), "KVM_SET_USER_MEMORY_REGION", errno);
  return info.Env().Undefined();
}

// MapRun maps a vCPU's kvm_run area once; the returned ArrayBuffer is read
// and written in place for every exit.
Napi::Value MapRun(const Napi::CallbackInfo &info) {
  int fd = ArgInt(info, 0);
  size_t size = static_cast<size_t>(ArgU64(info, 1));
  void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return ThrowErrno(info.Env(), "mmap(kvm_run)", errno);
  return Napi::ArrayBuffer::New(info.Env(), p, size);
}

template <typename T>
T *BytesOf(const Napi::CallbackInfo &info, size_t i) {
  return reinterpret_cast<T *>(info[i].As<Napi::Uint8Array>().Data());
}

Napi::Value GetRegs(const Napi::CallbackInfo &info) {
  if (Ioctl(ArgInt(info, 0), KVM_GET_REGS, BytesOf<kvm_regs>(info, 1)) < 0)
    return ThrowErrno(info.Env(), "KVM_GET_REGS", errno);
  return info.Env().Undefined();
}
Napi::Value SetRegs(const Napi::CallbackInfo &info) {
  if (Ioctl(ArgInt(info, 0), KVM_SET_REGS, BytesOf<kvm_regs>(info, 1)) < 0)
    return ThrowErrno(info.Env(), "KVM_SET_REGS", errno);
  return info.Env().Undefined();
}
Napi::Value GetSregs(const Napi::CallbackInfo &info) {
  if (Ioctl(ArgInt(info, 0), KVM_GET_SREGS, BytesOf<kvm_sregs>(info, 1)) < 0)
    return ThrowErrno(info.Env(), "KVM_GET_SREGS", errno);
  return info.Env().Undefined();
}
Napi::Value SetSregs(const Napi::CallbackInfo &info) {
  if (Ioctl(ArgInt(info, 0), KVM_SET_SREGS, BytesOf<kvm_sregs>(info, 1)) < 0)
    return ThrowErrno(info.Env(), "KVM_SET_SREGS", errno);
  return info.Env().Undefined();
}
// GetXsave(vcpuFd, out) fills out (4096 bytes, struct kvm_xsave's region).
Napi::Value GetXsave(const Napi::CallbackInfo &info) {
  if (Ioctl(ArgInt(info, 0), kGetXsave, info[1].As<Napi::Uint8Array>().Data()) < 0)
    return ThrowErrno(info.Env(), "KVM_GET_XSAVE", errno);
  return info.Env().Undefined();
}
Napi::Value SetXsave(const Napi::CallbackInfo &info) {
  if (Ioctl(ArgInt(info, 0), kSetXsave, info[1].As<Napi::Uint8Array>().Data()) < 0)
    return ThrowErrno(info.Env(), "KVM_SET_XSAVE", errno);
  return info.Env().Undefined();
}

// SetXcr0(vcpuFd, value) sets XCR0 through KVM_SET_XCRS.
Napi::Value SetXcr0(const Napi::CallbackInfo &info) {
  struct kvm_xcrs xcrs = {};
  xcrs.nr_xcrs = 1;
  xcrs.xcrs[0].xcr = 0;
  xcrs.xcrs[0].value = ArgU64(info, 1);
  if (Ioctl(ArgInt(info, 0), KVM_SET_XCRS, &xcrs) < 0)
    return ThrowErrno(info.Env(), "KVM_SET_XCRS", errno);
  return info.Env().Undefined();
}

// SetMsrs(vcpuFd, indices: Uint32Array, values: BigUint64Array) returns
// how many MSRs KVM set.
Napi::Value SetMsrs(const Napi::CallbackInfo &info) {
  Napi::Uint32Array indices = info[1].As<Napi::Uint32Array>();
  Napi::BigUint64Array values = info[2].As<Napi::BigUint64Array>();
  size_t n = indices.ElementLength();
  std::vector<uint8_t> buf(kFlexHeader + n * kMsrEntrySize);
  uint32_t count = static_cast<uint32_t>(n);
  memcpy(buf.data(), &count, 4);
  for (size_t i = 0; i < n; i++) {
    uint8_t *e = buf.data() + kFlexHeader + i * kMsrEntrySize;
    uint32_t index = indices[i];
    uint64_t data = values[i];
    memcpy(e, &index, 4);
    memcpy(e + 8, &data, 8);
  }
  int r = Ioctl(ArgInt(info, 0), kSetMsrs, buf.data());
  if (r < 0) return ThrowErrno(info.Env(), "KVM_SET_MSRS", errno);
  return Napi::Number::New(info.Env(), r);
}

// GetSupportedCpuid(kvmFd) returns the entries as a Uint32Array, ten words
// (one struct kvm_cpuid_entry2) per entry.
Napi::Value GetSupportedCpuid(const Napi::CallbackInfo &info) {
  const uint32_t max = 256;
  std::vector<uint8_t> buf(kFlexHeader + max * kCpuidEntrySize);
  memcpy(buf.data(), &max, 4);
  if (Ioctl(ArgInt(info, 0), kGetSupportedCpuid, buf.data()) < 0)
    return ThrowErrno(info.Env(), "KVM_GET_SUPPORTED_CPUID", errno);
  uint32_t n;
  memcpy(&n, buf.data(), 4);
  size_t words = n * kCpuidEntrySize / 4;
  Napi::Uint32Array out = Napi::Uint32Array::New(info.Env(), words);
  memcpy(out.Data(), buf.data() + kFlexHeader, words * 4);
  return out;
}

// SetCpuid2(vcpuFd, entries: Uint32Array) takes the same layout back.
Napi::Value SetCpuid2(const Napi::CallbackInfo &info) {
  Napi::Uint32Array words = info[1].As<Napi::Uint32Array>();
  uint32_t n = static_cast<uint32_t>(words.ElementLength() * 4 / kCpuidEntrySize);
  std::vector<uint8_t> buf(kFlexHeader + n * kCpuidEntrySize);
  memcpy(buf.data(), &n, 4);
  memcpy(buf.data() + kFlexHeader, words.Data(), n * kCpuidEntrySize);
  if (Ioctl(ArgInt(info, 0), kSetCpuid2, buf.data()) < 0)
    return ThrowErrno(info.Env(), "KVM_SET_CPUID2", errno);
  return info.Env().Undefined();
}

// GetMsr(vcpuFd, index) reads one MSR of a vCPU, as a BigInt.
Napi::Value GetMsr(const Napi::CallbackInfo &info) {
  uint8_t buf[kFlexHeader + kMsrEntrySize] = {};
  uint32_t one = 1;
  uint32_t index = static_cast<uint32_t>(ArgInt(info, 1));
  memcpy(buf, &one, 4);
  memcpy(buf + kFlexHeader, &index, 4);
  constexpr unsigned long kGetMsrs = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x88, kFlexHeader);
  int r = Ioctl(ArgInt(info, 0), kGetMsrs, buf);
  if (r != 1) return ThrowErrno(info.Env(), "KVM_GET_MSRS", r < 0 ? errno : EINVAL);
  uint64_t value;
  memcpy(&value, buf + kFlexHeader + 8, 8);
  return Napi::BigInt::New(info.Env(), value);
}

// ---- vCPU threads ----
//
// Each vCPU runs KVM_RUN on a host thread of its own, so that Node's event
// loop never waits in KVM_RUN and the Sentry can serve system calls that
// guest code hands over in shared memory while the vCPU keeps running. The
// thread and the JavaScript side meet in a control block of 32-bit words
// (kControl* below) that both read and write with atomic operations; the
// thread never calls into JavaScript except through a thread-safe function
// that wakes the Sentry when it sleeps.

// Control block words; kvm-platform/vcpu-thread.ts has the same numbers.
constexpr int kControlCommand = 0;   // the Sentry writes kCommandRun or kCommandQuit
constexpr int kControlStatus = 1;    // kStatusRunning, or kStatusExited after KVM_RUN returned
constexpr int kControlResult = 2;    // errno of a failed or interrupted KVM_RUN, else 0
constexpr int kControlSleeping = 3;  // 1 while the thread sleeps on the command word
constexpr int kControlWaiting = 4;   // 1 while the Sentry waits to be woken by an exit
constexpr int kControlRest = 5;      // 1: sleep at once after the coming exit (the vCPU will not run again soon)
constexpr int32_t kCommandRun = 1;
constexpr int32_t kCommandQuit = 2;
constexpr int32_t kStatusExited = 2;
// kIdleSpins is how long the thread spins for the next command after an
// exit (about 50 µs of `pause`) before it sleeps on a futex; after an exit
// that kControlRest announced, it sleeps at once.
constexpr int kIdleSpins = 2000;
// kYieldEvery is how often a spinning thread offers its CPU to another
// thread (sched_yield): nothing when it has the CPU to itself, but on a
// busy host the thread it waits for may be ready on this very CPU.
constexpr int kYieldEvery = 64;
// kKickSignal interrupts a thread's KVM_RUN; its handler does nothing.
constexpr int kKickSignal = 45;

struct VcpuThread {
  int fd;
  kvm_run *run;
  int32_t *control;
  pthread_t handle;
  std::thread thread;
  Napi::ThreadSafeFunction wake;
  bool refed = false;
};

std::map<int, std::unique_ptr<VcpuThread>> threads;
int nextThreadId = 1;

int32_t Load(int32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
void Store(int32_t *p, int32_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

void OnKick(int) {}

void ThreadLoop(VcpuThread *t) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kKickSignal);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  // A vCPU's thread is a batch thread: woken by the Sentry (a run command),
  // it waits for a free CPU instead of preempting the Sentry's own thread,
  // which would then stop serving the very calls this vCPU is about to
  // post (on two CPUs, a futex wake cost the Sentry ~200 µs that way).
  struct sched_param batch = {};
  sched_setscheduler(0, SCHED_BATCH, &batch);
  int32_t *c = t->control;
  for (;;) {
    int32_t cmd;
    int spins = __atomic_exchange_n(&c[kControlRest], 0, __ATOMIC_SEQ_CST) ? kIdleSpins : 0;
    while ((cmd = __atomic_exchange_n(&c[kControlCommand], 0, __ATOMIC_SEQ_CST)) == 0) {
      if (++spins < kIdleSpins) {
        __builtin_ia32_pause();
        // On a busy host the Sentry may be waiting for this very CPU.
        if (spins % kYieldEvery == 0) sched_yield();
        continue;
      }
      Store(&c[kControlSleeping], 1);
      if (Load(&c[kControlCommand]) == 0)
        syscall(SYS_futex, &c[kControlCommand], FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
      Store(&c[kControlSleeping], 0);
      spins = 0;
    }
    if (cmd == kCommandQuit) return;
    // EINTR (a kick) is reported as such: with immediate_exit, KVM returns
    // before entering the guest and leaves the previous exit reason.
    int r = ioctl(t->fd, KVM_RUN, 0);
    c[kControlResult] = r < 0 ? errno : 0;
    Store(&c[kControlStatus], kStatusExited);
    if (__atomic_exchange_n(&c[kControlWaiting], 0, __ATOMIC_SEQ_CST)) t->wake.NonBlockingCall();
  }
}

// ThreadArg finds the thread named by the first argument; a thread that
// was stopped already has nothing left to do, so callers then return.
VcpuThread *ThreadArg(const Napi::CallbackInfo &info) {
  auto it = threads.find(ArgInt(info, 0));
  return it == threads.end() ? nullptr : it->second.get();
}

// StartThread(vcpuFd, runAddress, controlAddress, onWake) starts the
// thread of a vCPU and returns its id. onWake is called on the event loop
// after an exit, when the Sentry said it waits (kControlWaiting).
Napi::Value StartThread(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  static bool handlerReady = false;
  if (!handlerReady) {
    struct sigaction sa = {};
    sa.sa_handler = OnKick;
    sigemptyset(&sa.sa_mask);
    if (sigaction(kKickSignal, &sa, nullptr) < 0) return ThrowErrno(env, "sigaction", errno);
    handlerReady = true;
  }
  auto t = std::make_unique<VcpuThread>();
  t->fd = ArgInt(info, 0);
  t->run = reinterpret_cast<kvm_run *>(ArgU64(info, 1));
  t->control = reinterpret_cast<int32_t *>(ArgU64(info, 2));
  t->wake = Napi::ThreadSafeFunction::New(env, info[3].As<Napi::Function>(), "tvisor-vcpu", 0, 1);
  t->wake.Unref(env);
  VcpuThread *raw = t.get();
  t->thread = std::thread(ThreadLoop, raw);
  t->handle = t->thread.native_handle();
  int id = nextThreadId++;
  threads[id] = std::move(t);
  return Napi::Number::New(env, id);
}

// WakeThread(id) wakes a thread that sleeps waiting for a command.
Napi::Value WakeThread(const Napi::CallbackInfo &info) {
  VcpuThread *t = ThreadArg(info);
  if (t) syscall(SYS_futex, &t->control[kControlCommand], FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  return info.Env().Undefined();
}

// KickThread(id) makes the thread's KVM_RUN return now: immediate_exit
// covers a thread about to enter it, the signal one already inside.
Napi::Value KickThread(const Napi::CallbackInfo &info) {
  VcpuThread *t = ThreadArg(info);
  if (!t) return info.Env().Undefined();
  __atomic_store_n(&t->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
  pthread_kill(t->handle, kKickSignal);
  return info.Env().Undefined();
}

// RefThread(id, on) makes a pending wake-up keep the event loop alive (on)
// or not, so that an idle sandbox does not keep Node running.
Napi::Value RefThread(const Napi::CallbackInfo &info) {
  VcpuThread *t = ThreadArg(info);
  if (!t) return info.Env().Undefined();
  bool on = info[1].As<Napi::Boolean>().Value();
  if (on != t->refed) {
    if (on) t->wake.Ref(info.Env());
    else t->wake.Unref(info.Env());
    t->refed = on;
  }
  return info.Env().Undefined();
}

// StopThread(id) ends the thread and waits for it: KVM_RUN is kicked, the
// quit command given.
Napi::Value StopThread(const Napi::CallbackInfo &info) {
  VcpuThread *t = ThreadArg(info);
  if (!t) return info.Env().Undefined();
  Store(&t->control[kControlCommand], kCommandQuit);
  syscall(SYS_futex, &t->control[kControlCommand], FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  __atomic_store_n(&t->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
  pthread_kill(t->handle, kKickSignal);
  // A kick that lands before KVM_RUN and after the command was read is
  // covered by immediate_exit; the loop then reads the quit command.
  while (t->thread.joinable()) {
    t->thread.join();
  }
  t->wake.Release();
  threads.erase(ArgInt(info, 0));
  return info.Env().Undefined();
}

// Layout reports the offsets of kvm_run and the sync-regs area so the
// TypeScript side never hard-codes the kernel's struct layout.
Napi::Value Layout(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  auto set = [&](const char *k, size_t v) { o.Set(k, Napi::Number::New(env, static_cast<double>(v))); };
  set("exitReason", offsetof(kvm_run, exit_reason));
  set("ioDirection", offsetof(kvm_run, io.direction));
  set("ioSize", offsetof(kvm_run, io.size));
  set("ioPort", offsetof(kvm_run, io.port));
  set("immediateExit", offsetof(kvm_run, immediate_exit));
  set("failEntryReason", offsetof(kvm_run, fail_entry.hardware_entry_failure_reason));
  set("internalSuberror", offsetof(kvm_run, internal.suberror));
  set("validRegs", offsetof(kvm_run, kvm_valid_regs));
  set("dirtyRegs", offsetof(kvm_run, kvm_dirty_regs));
  set("syncRegs", offsetof(kvm_run, s.regs.regs));
  set("syncSregs", offsetof(kvm_run, s.regs.sregs));
  set("sregsSize", sizeof(kvm_sregs));
  set("regsSize", sizeof(kvm_regs));
  set("segmentSize", sizeof(kvm_segment));
  set("sregsFs", offsetof(kvm_sregs, fs));
  set("sregsGs", offsetof(kvm_sregs, gs));
  set("sregsCs", offsetof(kvm_sregs, cs));
  set("sregsSs", offsetof(kvm_sregs, ss));
  set("sregsCr2", offsetof(kvm_sregs, cr2));
  set("sregsCr3", offsetof(kvm_sregs, cr3));
  set("xsaveSize", kXsaveSize);
  return o;
}

}  // namespace

// StopAll ends every vCPU thread when Node's environment goes away (an
// exit with sandboxes still open), so none is destroyed while it runs.
void StopAll(void *) {
  for (auto &entry : threads) {
    VcpuThread *t = entry.second.get();
    Store(&t->control[kControlCommand], kCommandQuit);
    syscall(SYS_futex, &t->control[kControlCommand], FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    __atomic_store_n(&t->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    pthread_kill(t->handle, kKickSignal);
    if (t->thread.joinable()) t->thread.join();
  }
  threads.clear();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  napi_add_env_cleanup_hook(env, StopAll, nullptr);
  exports.Set("openDevice", Napi::Function::New(env, OpenDevice));
  exports.Set("getApiVersion", Napi::Function::New(env, GetApiVersion));
  exports.Set("checkExtension", Napi::Function::New(env, CheckExtension));
  exports.Set("createVm", Napi::Function::New(env, CreateVm));
  exports.Set("getVcpuMmapSize", Napi::Function::New(env, GetVcpuMmapSize));
  exports.Set("createVcpu", Napi::Function::New(env, CreateVcpu));
  exports.Set("setTssAddr", Napi::Function::New(env, SetTssAddr));
  exports.Set("setUserMemoryRegion", Napi::Function::New(env, SetUserMemoryRegion));
  exports.Set("mapRun", Napi::Function::New(env, MapRun));
  exports.Set("getRegs", Napi::Function::New(env, GetRegs));
  exports.Set("setRegs", Napi::Function::New(env, SetRegs));
  exports.Set("getSregs", Napi::Function::New(env, GetSregs));
  exports.Set("setSregs", Napi::Function::New(env, SetSregs));
  exports.Set("getXsave", Napi::Function::New(env, GetXsave));
  exports.Set("setXsave", Napi::Function::New(env, SetXsave));
  exports.Set("setXcr0", Napi::Function::New(env, SetXcr0));
  exports.Set("setMsrs", Napi::Function::New(env, SetMsrs));
  exports.Set("getSupportedCpuid", Napi::Function::New(env, GetSupportedCpuid));
  exports.Set("setCpuid2", Napi::Function::New(env, SetCpuid2));
  exports.Set("layout", Napi::Function::New(env, Layout));
  exports.Set("getMsr", Napi::Function::New(env, GetMsr));
  exports.Set("startThread", Napi::Function::New(env, StartThread));
  exports.Set("wakeThread", Napi::Function::New(env, WakeThread));
  exports.Set("kickThread", Napi::Function::New(env, KickThread));
  exports.Set("refThread", Napi::Function::New(env, RefThread));
  exports.Set("stopThread", Napi::Function::New(env, StopThread));
  return exports;
}

NODE_API_MODULE(tvisor_kvm, Init)
