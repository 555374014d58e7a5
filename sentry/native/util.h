// util.h: helpers shared by the addon's files. The addon trusts its callers
// (validation happens in TypeScript) and only makes calls.
#pragma once
#include <napi.h>
#include <cerrno>
#include <cstring>
#include <string>

// ThrowErrno throws a JavaScript Error that carries the failed call's name
// and errno, as {syscall, errno, code}.
inline Napi::Value ThrowErrno(Napi::Env env, const char *call, int err) {
  Napi::Error e = Napi::Error::New(env, std::string(call) + ": " + strerror(err));
  e.Set("syscall", Napi::String::New(env, call));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, "E_NATIVE"));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

inline int ArgInt(const Napi::CallbackInfo &info, size_t i) {
  return info[i].As<Napi::Number>().Int32Value();
}

inline uint64_t ArgU64(const Napi::CallbackInfo &info, size_t i) {
  if (info[i].IsBigInt()) {
    bool lossless;
    return info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return static_cast<uint64_t>(info[i].As<Napi::Number>().DoubleValue());
}

