// gofer.cc: what the Sentry's side of the Gofer needs that Node does not
// offer: waking the Gofer process from its futex on the shared ring. (The
// Gofer itself is a C program, server.c, and makes its own calls.)
#include "../../sentry/native/util.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

// FutexWake(words: Int32Array, index, count) wakes up to count sleepers
// on words[index]; it returns how many it woke, or -errno. The futex is
// shared between processes (the ring is a memfd), so it is not
// FUTEX_PRIVATE.
Napi::Value FutexWake(const Napi::CallbackInfo &info) {
  Napi::TypedArray a = info[0].As<Napi::TypedArray>();
  int32_t *words = reinterpret_cast<int32_t *>(static_cast<uint8_t *>(a.ArrayBuffer().Data()) + a.ByteOffset());
  long r = syscall(SYS_futex, &words[ArgInt(info, 1)], FUTEX_WAKE, ArgInt(info, 2), nullptr, nullptr, 0);
  return Napi::Number::New(info.Env(), static_cast<double>(r < 0 ? -errno : r));
}

}  // namespace

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("futexWake", Napi::Function::New(env, FutexWake));
  return exports;
}

NODE_API_MODULE(tvisor_gofer, Init)
