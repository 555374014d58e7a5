// gofer.cc: the system calls the Gofer makes that Node does not offer, one
// function per call and nothing clever: the *at calls on descriptors it
// holds, pread/pwrite into and out of the shared ring, and futex waits and
// wakes on the ring's words. Arguments are validated in TypeScript; every
// call returns its result, or -errno when it fails, so that a refused
// request costs no exception.
#include "../../sentry/native/util.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <linux/openat2.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

namespace {

Napi::Value Result(const Napi::CallbackInfo &info, long r) {
  return Napi::Number::New(info.Env(), static_cast<double>(r < 0 ? -errno : r));
}

std::string ArgString(const Napi::CallbackInfo &info, size_t i) {
  return info[i].As<Napi::String>().Utf8Value();
}

template <typename T>
T *ArgBytes(const Napi::CallbackInfo &info, size_t i, size_t *length) {
  Napi::TypedArray a = info[i].As<Napi::TypedArray>();
  *length = a.ByteLength();
  return reinterpret_cast<T *>(static_cast<uint8_t *>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

// Openat2(dirfd, path, flags, mode, resolve) opens path under dirfd with
// openat2(2)'s RESOLVE_* restrictions; it returns the new descriptor.
Napi::Value Openat2(const Napi::CallbackInfo &info) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(ArgU64(info, 2));
  how.mode = static_cast<uint64_t>(ArgU64(info, 3));
  how.resolve = static_cast<uint64_t>(ArgU64(info, 4));
  std::string path = ArgString(info, 1);
  return Result(info, syscall(SYS_openat2, ArgInt(info, 0), path.c_str(), &how, sizeof how));
}

// Fstatat(fd, path, flags, out: Float64Array(16)) fills out with dev, ino,
// mode, nlink, uid, gid, rdev, size, blksize, blocks, then seconds and
// nanoseconds of atime, mtime and ctime.
Napi::Value Fstatat(const Napi::CallbackInfo &info) {
  struct stat st;
  std::string path = ArgString(info, 1);
  if (fstatat(ArgInt(info, 0), path.c_str(), &st, ArgInt(info, 2)) < 0) return Result(info, -1);
  size_t length;
  double *out = ArgBytes<double>(info, 3, &length);
  const double values[16] = {
      static_cast<double>(st.st_dev),          static_cast<double>(st.st_ino),
      static_cast<double>(st.st_mode),         static_cast<double>(st.st_nlink),
      static_cast<double>(st.st_uid),          static_cast<double>(st.st_gid),
      static_cast<double>(st.st_rdev),         static_cast<double>(st.st_size),
      static_cast<double>(st.st_blksize),      static_cast<double>(st.st_blocks),
      static_cast<double>(st.st_atim.tv_sec),  static_cast<double>(st.st_atim.tv_nsec),
      static_cast<double>(st.st_mtim.tv_sec),  static_cast<double>(st.st_mtim.tv_nsec),
      static_cast<double>(st.st_ctim.tv_sec),  static_cast<double>(st.st_ctim.tv_nsec),
  };
  memcpy(out, values, std::min(length, sizeof values));
  return Result(info, 0);
}

// Getdents64(fd, buffer) reads directory records into buffer; it returns
// how many bytes it wrote, 0 at the end of the directory.
Napi::Value Getdents64(const Napi::CallbackInfo &info) {
  size_t length;
  uint8_t *buf = ArgBytes<uint8_t>(info, 1, &length);
  return Result(info, syscall(SYS_getdents64, ArgInt(info, 0), buf, length));
}

// Lseek(fd, offset: bigint) moves a directory to a position getdents64
// reported (d_off, a 64-bit cookie); it returns 0.
Napi::Value Lseek(const Napi::CallbackInfo &info) {
  off_t r = lseek(ArgInt(info, 0), static_cast<off_t>(ArgU64(info, 1)), SEEK_SET);
  return Result(info, r < 0 ? -1 : 0);
}

// Readlinkat(fd, path, buffer) returns the length of the link's target,
// which it wrote into buffer.
Napi::Value Readlinkat(const Napi::CallbackInfo &info) {
  size_t length;
  char *buf = ArgBytes<char>(info, 2, &length);
  std::string path = ArgString(info, 1);
  return Result(info, readlinkat(ArgInt(info, 0), path.c_str(), buf, length));
}

Napi::Value Mkdirat(const Napi::CallbackInfo &info) {
  std::string name = ArgString(info, 1);
  return Result(info, mkdirat(ArgInt(info, 0), name.c_str(), static_cast<mode_t>(ArgInt(info, 2))));
}

// Symlinkat(target, dirfd, name)
Napi::Value Symlinkat(const Napi::CallbackInfo &info) {
  std::string target = ArgString(info, 0);
  std::string name = ArgString(info, 2);
  return Result(info, symlinkat(target.c_str(), ArgInt(info, 1), name.c_str()));
}

// Linkat(oldDirfd, oldPath, newDirfd, newName, flags)
Napi::Value Linkat(const Napi::CallbackInfo &info) {
  std::string oldPath = ArgString(info, 1);
  std::string newName = ArgString(info, 3);
  return Result(info, linkat(ArgInt(info, 0), oldPath.c_str(), ArgInt(info, 2), newName.c_str(), ArgInt(info, 4)));
}

// Unlinkat(dirfd, name, flags)
Napi::Value Unlinkat(const Napi::CallbackInfo &info) {
  std::string name = ArgString(info, 1);
  return Result(info, unlinkat(ArgInt(info, 0), name.c_str(), ArgInt(info, 2)));
}

// Renameat2(oldDirfd, oldName, newDirfd, newName, flags)
Napi::Value Renameat2(const Napi::CallbackInfo &info) {
  std::string oldName = ArgString(info, 1);
  std::string newName = ArgString(info, 3);
  return Result(info, syscall(SYS_renameat2, ArgInt(info, 0), oldName.c_str(), ArgInt(info, 2), newName.c_str(),
                              static_cast<unsigned>(ArgInt(info, 4))));
}

// Fchmodat(dirfd, path, mode): the plain system call, which follows a
// trailing link (the Gofer passes only /proc/self/fd paths of non-links).
Napi::Value Fchmodat(const Napi::CallbackInfo &info) {
  std::string path = ArgString(info, 1);
  return Result(info, syscall(SYS_fchmodat, ArgInt(info, 0), path.c_str(), static_cast<mode_t>(ArgInt(info, 2))));
}

// Fchownat(fd, path, uid, gid, flags); -1 leaves an id unchanged.
Napi::Value Fchownat(const Napi::CallbackInfo &info) {
  std::string path = ArgString(info, 1);
  return Result(info, fchownat(ArgInt(info, 0), path.c_str(), static_cast<uid_t>(ArgInt(info, 2)),
                               static_cast<gid_t>(ArgInt(info, 3)), ArgInt(info, 4)));
}

// Utimensat(fd, path, times: Float64Array(4), flags): times holds seconds
// and nanoseconds of atime then mtime; a nanosecond field may be UTIME_OMIT.
Napi::Value Utimensat(const Napi::CallbackInfo &info) {
  size_t length;
  const double *t = ArgBytes<double>(info, 2, &length);
  struct timespec times[2];
  times[0].tv_sec = static_cast<time_t>(t[0]);
  times[0].tv_nsec = static_cast<long>(t[1]);
  times[1].tv_sec = static_cast<time_t>(t[2]);
  times[1].tv_nsec = static_cast<long>(t[3]);
  std::string path = ArgString(info, 1);
  return Result(info, utimensat(ArgInt(info, 0), path.c_str(), times, ArgInt(info, 3)));
}

// Fstatfs(fd, out: Float64Array(10)) fills out with type, bsize, blocks,
// bfree, bavail, files, ffree, namelen, frsize, flags.
Napi::Value Fstatfs(const Napi::CallbackInfo &info) {
  struct statfs sf;
  if (fstatfs(ArgInt(info, 0), &sf) < 0) return Result(info, -1);
  size_t length;
  double *out = ArgBytes<double>(info, 1, &length);
  const double values[10] = {
      static_cast<double>(sf.f_type),  static_cast<double>(sf.f_bsize),   static_cast<double>(sf.f_blocks),
      static_cast<double>(sf.f_bfree), static_cast<double>(sf.f_bavail),  static_cast<double>(sf.f_files),
      static_cast<double>(sf.f_ffree), static_cast<double>(sf.f_namelen), static_cast<double>(sf.f_frsize),
      static_cast<double>(sf.f_flags),
  };
  memcpy(out, values, std::min(length, sizeof values));
  return Result(info, 0);
}

Napi::Value Fsync(const Napi::CallbackInfo &info) {
  return Result(info, fsync(ArgInt(info, 0)));
}

Napi::Value Ftruncate(const Napi::CallbackInfo &info) {
  return Result(info, ftruncate(ArgInt(info, 0), static_cast<off_t>(ArgU64(info, 1))));
}

// Pread(fd, buffer, offset) fills buffer from the file at offset, stopping
// early only at the end of the file; it returns how many bytes it read.
Napi::Value Pread(const Napi::CallbackInfo &info) {
  int fd = ArgInt(info, 0);
  size_t length;
  uint8_t *buf = ArgBytes<uint8_t>(info, 1, &length);
  off_t offset = static_cast<off_t>(ArgU64(info, 2));
  size_t done = 0;
  while (done < length) {
    ssize_t n = pread(fd, buf + done, length - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && done == 0) return Result(info, -1);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return Result(info, static_cast<long>(done));
}

// Pwrite(fd, buffer, offset) writes all of buffer at offset (at the end of
// an O_APPEND file); it returns how many bytes it wrote, fewer only when a
// later part failed.
Napi::Value Pwrite(const Napi::CallbackInfo &info) {
  int fd = ArgInt(info, 0);
  size_t length;
  const uint8_t *buf = ArgBytes<uint8_t>(info, 1, &length);
  off_t offset = static_cast<off_t>(ArgU64(info, 2));
  size_t done = 0;
  while (done < length) {
    ssize_t n = pwrite(fd, buf + done, length - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && done == 0) return Result(info, -1);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return Result(info, static_cast<long>(done));
}

Napi::Value Close(const Napi::CallbackInfo &info) {
  return Result(info, close(ArgInt(info, 0)));
}

// FutexWait(words: Int32Array, index, expected, timeoutMs) sleeps while
// words[index] holds expected, at most timeoutMs (forever when negative).
// The futex is shared between processes (the ring is a memfd), so it is
// not FUTEX_PRIVATE.
Napi::Value FutexWait(const Napi::CallbackInfo &info) {
  size_t length;
  int32_t *words = ArgBytes<int32_t>(info, 0, &length);
  int64_t ms = info[3].As<Napi::Number>().Int64Value();
  struct timespec timeout = {static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000};
  return Result(info, syscall(SYS_futex, &words[ArgInt(info, 1)], FUTEX_WAIT, ArgInt(info, 2),
                              ms < 0 ? nullptr : &timeout, nullptr, 0));
}

// FutexWake(words: Int32Array, index, count) wakes up to count sleepers
// on words[index]; it returns how many it woke.
Napi::Value FutexWake(const Napi::CallbackInfo &info) {
  size_t length;
  int32_t *words = ArgBytes<int32_t>(info, 0, &length);
  return Result(info, syscall(SYS_futex, &words[ArgInt(info, 1)], FUTEX_WAKE, ArgInt(info, 2), nullptr, nullptr, 0));
}

// Prctl(option, arg2)
Napi::Value Prctl(const Napi::CallbackInfo &info) {
  return Result(info, prctl(ArgInt(info, 0), static_cast<unsigned long>(ArgU64(info, 1)), 0, 0, 0));
}

}  // namespace

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("openat2", Napi::Function::New(env, Openat2));
  exports.Set("fstatat", Napi::Function::New(env, Fstatat));
  exports.Set("getdents64", Napi::Function::New(env, Getdents64));
  exports.Set("lseek", Napi::Function::New(env, Lseek));
  exports.Set("readlinkat", Napi::Function::New(env, Readlinkat));
  exports.Set("mkdirat", Napi::Function::New(env, Mkdirat));
  exports.Set("symlinkat", Napi::Function::New(env, Symlinkat));
  exports.Set("linkat", Napi::Function::New(env, Linkat));
  exports.Set("unlinkat", Napi::Function::New(env, Unlinkat));
  exports.Set("renameat2", Napi::Function::New(env, Renameat2));
  exports.Set("fchmodat", Napi::Function::New(env, Fchmodat));
  exports.Set("fchownat", Napi::Function::New(env, Fchownat));
  exports.Set("utimensat", Napi::Function::New(env, Utimensat));
  exports.Set("fstatfs", Napi::Function::New(env, Fstatfs));
  exports.Set("fsync", Napi::Function::New(env, Fsync));
  exports.Set("ftruncate", Napi::Function::New(env, Ftruncate));
  exports.Set("pread", Napi::Function::New(env, Pread));
  exports.Set("pwrite", Napi::Function::New(env, Pwrite));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("futexWait", Napi::Function::New(env, FutexWait));
  exports.Set("futexWake", Napi::Function::New(env, FutexWake));
  exports.Set("prctl", Napi::Function::New(env, Prctl));
  return exports;
}

NODE_API_MODULE(tvisor_gofer, Init)
