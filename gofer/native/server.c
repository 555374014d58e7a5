// server.c is the Gofer process: the only part of tvisor that touches the
// host's filesystem. client.ts spawns it with the ring memfd as fd 3; it
// waits as a spare until one configuration frame arrives on stdin (the
// mounts), opens an O_PATH descriptor for each mount's root, answers on
// stdout, and from then on serves the ring and nothing else, sleeping on a
// futex when idle. It is a small C program so that starting one costs a
// millisecond, not a Node start.
//
// Confinement is structural: every file the Sentry names is a handle, an
// O_PATH descriptor this process holds; a walk moves one component down
// from a directory handle with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS
// | RESOLVE_NO_MAGICLINKS, O_NOFOLLOW), after names that are not one
// component ("", ".", "..", "/" or NUL inside) are refused. No path is ever
// resolved and no symlink followed: the Sentry reads a link and walks its
// target itself. Opening a handle for I/O reopens exactly the inode the
// handle holds, through /proc/self/fd/N, never by name. A read-only mount
// refuses every change with EROFS here, whatever the Sentry asks.
//
// The ring's layout, the operations and the kinds of their arguments and
// results come from ring-abi.h, which scripts/gen-abi.ts generates from
// gofer/ring.ts. A request is checked as ring.ts's conformsAll checks it;
// strings are taken as the JavaScript strings the client meant (see
// utf8_sanitize). The request is copied out of the shared ring before it
// is decoded, so the Sentry cannot change it under the checks.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "msgpack.h"
#include "ring-abi.h"

// O_TMPFILE_BIT is O_TMPFILE without the O_DIRECTORY it includes.
#define O_TMPFILE_BIT (O_TMPFILE & ~O_DIRECTORY)
// OPEN_FLAGS are the flags open passes on; the rest (O_NOFOLLOW, O_DIRECT, O_NONBLOCK...) make no sense through a handle.
#define OPEN_FLAGS (O_ACCMODE | O_APPEND | O_TRUNC | O_DIRECTORY | O_SYNC | O_DSYNC | O_NOATIME)
#define CREATE_FLAGS (O_ACCMODE | O_APPEND | O_SYNC | O_DSYNC)
#define RESOLVE_CONFINED (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
#define AT_HANDLE (AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)

// RING_FD is where client.ts puts the ring memfd.
#define RING_FD 3
// SPIN_NS is how long the Gofer spins for the next request before it sleeps.
#define SPIN_NS 100000
// DIRENTS_SIZE bounds the getdents64 records of one Readdir reply, so that its entries fit in a message.
#define DIRENTS_SIZE (32 * 1024)
// DIRENT_MAX is the largest linux_dirent64 record (a 255-byte name).
#define DIRENT_MAX 280
// HANDLE_MAX is the largest handle a reply may carry (ring.ts's 'handle' kind).
#define HANDLE_MAX 0x7fffffffu

struct mount {
  int fd;
  bool writable;
};

// handle is what a handle stands for: a descriptor and what it was when opened.
struct handle {
  // id is the handle's number; 0 marks a free entry of the table.
  uint32_t id;
  int fd;
  uint32_t mount;
  // type is the file's S_IFMT bits, which never change for an inode.
  mode_t type;
  // io is true for a descriptor opened for I/O (open, create), false for an O_PATH one.
  bool io;
};

// value is one argument of a request or one result of a reply, in the
// field its kind uses.
struct value {
  // number: u32, handle, i32, size.
  double number;
  // text and length: string (NUL-terminated when decoded), bytes.
  const char *text;
  size_t length;
  // flag: bool.
  bool flag;
  // big: cookie, time (unless null).
  struct mp_bigint big;
  bool null;
  // fields: stat, statfs.
  const double *fields;
  // records and length: entries, as getdents64 wrote them.
  const uint8_t *records;
};

// server holds the mounts, the handles, and the scratch buffers of the calls.
static struct {
  struct mount *mounts;
  uint32_t mount_count;
  // handles is an open-addressing table (linear probing) of capacity entries.
  struct handle *handles;
  size_t capacity;
  size_t count;
  uint32_t next_handle;
  uint8_t *ring;
  int32_t *words;
  // data is the data area of the slot being served.
  uint8_t *data;
  // request is the request being served, copied out of the ring.
  uint8_t request[GOFER_MESSAGE_SIZE];
  // strings holds the request's strings, each NUL-terminated and at most three times its encoded size.
  char strings[3 * GOFER_MESSAGE_SIZE + MAX_REQUEST_VALUES];
  double stat[GOFER_STAT_FIELDS];
  double statfs[GOFER_STATFS_FIELDS];
  uint8_t dirents[DIRENTS_SIZE];
  char link[GOFER_SYMLINK_MAX + 1];
} server = {.next_handle = 1};

// ---- Handles ----

// home_of is the entry of the handle table where the search for id starts.
static size_t home_of(uint32_t id) {
  return (id * 2654435761u) & (server.capacity - 1);
}

static struct handle *find_handle(double id) {
  if (server.capacity == 0) return NULL;
  for (size_t i = home_of((uint32_t)id);; i = (i + 1) & (server.capacity - 1)) {
    if (server.handles[i].id == 0) return NULL;
    if (server.handles[i].id == id) return &server.handles[i];
  }
}

static void insert_handle(struct handle h) {
  size_t i = home_of(h.id);
  while (server.handles[i].id != 0) i = (i + 1) & (server.capacity - 1);
  server.handles[i] = h;
}

// add_handle makes a handle of fd and returns it, or 0 when no handle is
// left (none above HANDLE_MAX, or no memory), having closed fd. It may
// move the table: pointers from find_handle do not survive it.
static uint32_t add_handle(int fd, uint32_t mount, mode_t type, bool io) {
  if (server.next_handle > HANDLE_MAX) {
    close(fd);
    return 0;
  }
  if (2 * (server.count + 1) > server.capacity) {
    size_t capacity = server.capacity ? 2 * server.capacity : 64;
    struct handle *old = server.handles;
    size_t old_capacity = server.capacity;
    struct handle *table = calloc(capacity, sizeof *table);
    if (table == NULL) {
      close(fd);
      return 0;
    }
    server.handles = table;
    server.capacity = capacity;
    for (size_t i = 0; i < old_capacity; i++) {
      if (old[i].id != 0) insert_handle(old[i]);
    }
    free(old);
  }
  uint32_t id = server.next_handle++;
  insert_handle((struct handle){.id = id, .fd = fd, .mount = mount, .type = type, .io = io});
  server.count++;
  return id;
}

// remove_handle forgets a handle and closes its descriptor; an unknown one is ignored.
static void remove_handle(double id) {
  struct handle *h = find_handle(id);
  if (h == NULL) return;
  close(h->fd);
  // Backward-shift deletion: move up each later entry of the run that
  // would no longer be found past the hole.
  size_t mask = server.capacity - 1;
  size_t hole = (size_t)(h - server.handles);
  for (size_t i = (hole + 1) & mask; server.handles[i].id != 0; i = (i + 1) & mask) {
    size_t home = home_of(server.handles[i].id);
    bool reachable = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (reachable) continue;
    server.handles[hole] = server.handles[i];
    hole = i;
  }
  server.handles[hole].id = 0;
  server.count--;
}

static bool writable(const struct handle *h) {
  return server.mounts[h->mount].writable;
}

// ---- System calls: each returns its result, or -errno ----

static int openat2_(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
  long r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  return r < 0 ? -errno : (int)r;
}

// result turns a libc return value into the value or -errno.
static long result(long r) {
  return r < 0 ? -errno : r;
}

// lookup_at opens name in dirfd as an O_PATH handle, confined and never following a link.
static int lookup_at(int dirfd, const char *name) {
  return openat2_(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, RESOLVE_CONFINED);
}

// proc_path names the inode that fd holds, through its magic link.
static const char *proc_path(int fd, char buffer[32]) {
  snprintf(buffer, 32, "/proc/self/fd/%d", fd);
  return buffer;
}

// reopen opens the very inode fd holds with flags (never by name, so never elsewhere).
static int reopen(int fd, int flags) {
  char path[32];
  return openat2_(AT_FDCWD, proc_path(fd, path), (uint64_t)(flags | O_CLOEXEC | O_NOCTTY), 0, 0);
}

// stat_of fills server.stat (STAT_ORDER) and returns 0, or -errno.
static int stat_of(int fd, mode_t *mode) {
  struct stat st;
  if (fstatat(fd, "", &st, AT_HANDLE) < 0) return -errno;
  double *f = server.stat;
  f[STAT_DEV] = (double)st.st_dev;
  f[STAT_INO] = (double)st.st_ino;
  f[STAT_MODE] = st.st_mode;
  f[STAT_NLINK] = (double)st.st_nlink;
  f[STAT_UID] = st.st_uid;
  f[STAT_GID] = st.st_gid;
  f[STAT_RDEV] = (double)st.st_rdev;
  f[STAT_SIZE] = (double)st.st_size;
  f[STAT_BLKSIZE] = (double)st.st_blksize;
  f[STAT_BLOCKS] = (double)st.st_blocks;
  f[STAT_ATIME_SEC] = (double)st.st_atim.tv_sec;
  f[STAT_ATIME_NSEC] = (double)st.st_atim.tv_nsec;
  f[STAT_MTIME_SEC] = (double)st.st_mtim.tv_sec;
  f[STAT_MTIME_NSEC] = (double)st.st_mtim.tv_nsec;
  f[STAT_CTIME_SEC] = (double)st.st_ctim.tv_sec;
  f[STAT_CTIME_NSEC] = (double)st.st_ctim.tv_nsec;
  if (mode != NULL) *mode = st.st_mode;
  return 0;
}

// statfs_of fills server.statfs (STATFS_ORDER) and returns 0, or -errno.
static int statfs_of(int fd) {
  struct statfs sf;
  if (fstatfs(fd, &sf) < 0) return -errno;
  double *f = server.statfs;
  f[STATFS_TYPE] = (double)sf.f_type;
  f[STATFS_BSIZE] = (double)sf.f_bsize;
  f[STATFS_BLOCKS] = (double)sf.f_blocks;
  f[STATFS_BFREE] = (double)sf.f_bfree;
  f[STATFS_BAVAIL] = (double)sf.f_bavail;
  f[STATFS_FILES] = (double)sf.f_files;
  f[STATFS_FFREE] = (double)sf.f_ffree;
  f[STATFS_NAMELEN] = (double)sf.f_namelen;
  f[STATFS_FRSIZE] = (double)sf.f_frsize;
  f[STATFS_FLAGS] = (double)sf.f_flags;
  return 0;
}

// pread_all fills length bytes from offset, stopping early only at the end of the file.
static long pread_all(int fd, uint8_t *buffer, size_t length, off_t offset) {
  size_t done = 0;
  while (done < length) {
    ssize_t n = pread(fd, buffer + done, length - done, offset + (off_t)done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && done == 0) return -errno;
    if (n <= 0) break;
    done += (size_t)n;
  }
  return (long)done;
}

// pwrite_all writes all of length bytes at offset; fewer only when a later part failed.
static long pwrite_all(int fd, const uint8_t *buffer, size_t length, off_t offset) {
  size_t done = 0;
  while (done < length) {
    ssize_t n = pwrite(fd, buffer + done, length - done, offset + (off_t)done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && done == 0) return -errno;
    if (n <= 0) break;
    done += (size_t)n;
  }
  return (long)done;
}

// ---- The operations ----

// KERNEL_FS are the host's kernel-interface filesystems (proc, sysfs,
// debugfs, tracefs, securityfs, bpf, configfs, efivarfs, pstore, selinuxfs,
// binfmt_misc): the Gofer never hands out a directory on one, so no
// sandbox reaches the host's processes or kernel knobs through the root.
// (The sandbox's own /proc and /dev are the Sentry's.)
static const unsigned long KERNEL_FS[] = {
    0x9fa0, 0x62656572, 0x64626720, 0x74726163, 0x73636673, 0xcafe4a11,
    0x62656570, 0xde5e81e4, 0x6165676c, 0xf97cff8c, 0x42494e4d,
};

static bool kernel_fs(unsigned long type) {
  for (size_t i = 0; i < sizeof KERNEL_FS / sizeof KERNEL_FS[0]; i++) {
    if (KERNEL_FS[i] == type) return true;
  }
  return false;
}

// walked makes a handle of a freshly opened descriptor (or passes its -errno on) and replies with it and its stat.
static int walked(int fd, uint32_t mount, bool io, struct value *out) {
  if (fd < 0) return -fd;
  mode_t mode;
  int r = stat_of(fd, &mode);
  if (r < 0) {
    close(fd);
    return -r;
  }
  if (S_ISDIR(mode) && statfs_of(fd) == 0 && kernel_fs((unsigned long)server.statfs[STATFS_TYPE])) {
    close(fd);
    return EACCES;
  }
  uint32_t id = add_handle(fd, mount, mode & S_IFMT, io);
  if (id == 0) return EIO;
  out[0].number = id;
  out[1].fields = server.stat;
  return 0;
}

// done replies to a call whose result is only success or -errno.
static int done(long r) {
  return r < 0 ? (int)-r : 0;
}

// name_error returns the errno for a name that is not one directory entry's name ("", ".", "..", with "/" or NUL, too long), or 0.
static int name_error(const struct value *name) {
  const char *s = name->text;
  size_t n = name->length;
  if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') || memchr(s, '/', n) != NULL
      || memchr(s, '\0', n) != NULL) {
    return EINVAL;
  }
  if (n > GOFER_NAME_MAX) return ENAMETOOLONG;
  return 0;
}

// target_error returns the errno for a symlink target that symlink(2) would refuse, or 0.
static int target_error(const struct value *target) {
  if (target->length == 0) return ENOENT;
  if (memchr(target->text, '\0', target->length) != NULL) return EINVAL;
  if (target->length > GOFER_SYMLINK_MAX) return ENAMETOOLONG;
  return 0;
}

typedef int handler(const struct value *a, struct value *out);

static int op_attach(const struct value *a, struct value *out) {
  if (a[0].number >= server.mount_count) return EINVAL;
  uint32_t index = (uint32_t)a[0].number;
  int fd = openat2_(server.mounts[index].fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_BENEATH);
  return walked(fd, index, false, out);
}

static int op_lookup(const struct value *a, struct value *out) {
  const struct handle *dir = find_handle(a[0].number);
  if (dir == NULL) return EBADF;
  int bad = name_error(&a[1]);
  if (bad) return bad;
  uint32_t mount = dir->mount;
  return walked(lookup_at(dir->fd, a[1].text), mount, false, out);
}

static int op_stat(const struct value *a, struct value *out) {
  const struct handle *f = find_handle(a[0].number);
  if (f == NULL) return EBADF;
  int r = stat_of(f->fd, NULL);
  out[0].fields = server.stat;
  return done(r);
}

static int op_open(const struct value *a, struct value *out) {
  const struct handle *f = find_handle(a[0].number);
  uint32_t flags = (uint32_t)a[1].number;
  if (f == NULL) return EBADF;
  if (flags & (O_CREAT | O_PATH | O_TMPFILE_BIT)) return EINVAL;
  if (f->type == S_IFLNK) return ELOOP;
  // Only files and directories: opening a FIFO or a device would block or reach the host's devices.
  if (f->type != S_IFREG && f->type != S_IFDIR) return ENXIO;
  bool changes = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0;
  if (changes && !writable(f)) return EROFS;
  int fd = reopen(f->fd, (int)(flags & OPEN_FLAGS));
  if (fd < 0) return -fd;
  // The fd number lets the Sentry take a read-only file's descriptor
  // (pidfd_getfd) and read it without a round trip per read.
  uint32_t id = add_handle(fd, f->mount, f->type, true);
  if (id == 0) return EIO;
  out[0].number = id;
  out[1].number = fd;
  return 0;
}

static int op_create(const struct value *a, struct value *out) {
  const struct handle *dir = find_handle(a[0].number);
  uint32_t flags = (uint32_t)a[2].number;
  uint32_t mode = (uint32_t)a[3].number;
  if (dir == NULL) return EBADF;
  int bad = name_error(&a[1]);
  if (bad) return bad;
  if (!writable(dir)) return EROFS;
  uint64_t how = (flags & CREATE_FLAGS) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
  uint32_t mount = dir->mount;
  return walked(openat2_(dir->fd, a[1].text, how, mode & 07777, RESOLVE_CONFINED), mount, true, out);
}

static int op_read(const struct value *a, struct value *out) {
  const struct handle *f = find_handle(a[0].number);
  if (f == NULL) return EBADF;
  if (a[2].number > GOFER_DATA_SIZE) return EINVAL;
  long n = pread_all(f->fd, server.data, (size_t)a[2].number, (off_t)a[1].number);
  out[0].number = (double)n;
  return done(n);
}

static int op_write(const struct value *a, struct value *out) {
  const struct handle *f = find_handle(a[0].number);
  if (f == NULL) return EBADF;
  if (a[2].number > GOFER_DATA_SIZE) return EINVAL;
  if (!writable(f)) return EROFS;
  long n = pwrite_all(f->fd, server.data, (size_t)a[2].number, (off_t)a[1].number);
  out[0].number = (double)n;
  return done(n);
}

// next_record returns the length of the getdents64 record at, or 0 when there is none whole.
static size_t next_record(const uint8_t *records, size_t length, size_t at) {
  if (length - at < 19) return 0;
  uint16_t size;
  memcpy(&size, records + at + 16, sizeof size);
  return size >= 19 && size <= length - at ? size : 0;
}

static int op_readdir(const struct value *a, struct value *out) {
  const struct handle *dir = find_handle(a[0].number);
  struct mp_bigint cookie = a[1].big;
  if (dir == NULL) return EBADF;
  if (dir->type != S_IFDIR) return ENOTDIR;
  int fd = reopen(dir->fd, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return -fd;
  if (cookie.bits != 0 && lseek(fd, (off_t)cookie.bits, SEEK_SET) < 0) {
    int err = errno;
    close(fd);
    return err;
  }
  size_t used = 0;
  bool end = false;
  while (used <= DIRENTS_SIZE - DIRENT_MAX) {
    long n = result(syscall(SYS_getdents64, fd, server.dirents + used, DIRENTS_SIZE - used));
    if (n < 0 && used == 0) {
      close(fd);
      return (int)-n;
    }
    if (n <= 0) {
      end = n == 0;
      break;
    }
    used += (size_t)n;
  }
  close(fd);
  // The next cookie is the last record's d_off.
  for (size_t at = 0, size; (size = next_record(server.dirents, used, at)) != 0; at += size) {
    int64_t next;
    memcpy(&next, server.dirents + at + 8, sizeof next);
    cookie = (struct mp_bigint){.bits = (uint64_t)next};
  }
  out[0].records = server.dirents;
  out[0].length = used;
  out[1].big = cookie;
  out[2].flag = end;
  return 0;
}

static int op_readlink(const struct value *a, struct value *out) {
  const struct handle *f = find_handle(a[0].number);
  if (f == NULL) return EBADF;
  if (f->type != S_IFLNK) return EINVAL;
  long n = result(readlinkat(f->fd, "", server.link, sizeof server.link));
  out[0].text = server.link;
  out[0].length = n < 0 ? 0 : (size_t)n;
  return done(n);
}

static int op_mkdir(const struct value *a, struct value *out) {
  const struct handle *dir = find_handle(a[0].number);
  uint32_t mode = (uint32_t)a[2].number;
  if (dir == NULL) return EBADF;
  int bad = name_error(&a[1]);
  if (bad) return bad;
  if (!writable(dir)) return EROFS;
  if (mkdirat(dir->fd, a[1].text, mode & 07777) < 0) return errno;
  uint32_t mount = dir->mount;
  return walked(lookup_at(dir->fd, a[1].text), mount, false, out);
}

static int op_symlink(const struct value *a, struct value *out) {
  const struct handle *dir = find_handle(a[0].number);
  if (dir == NULL) return EBADF;
  int bad = name_error(&a[1]);
  if (!bad) bad = target_error(&a[2]);
  if (bad) return bad;
  if (!writable(dir)) return EROFS;
  if (symlinkat(a[2].text, dir->fd, a[1].text) < 0) return errno;
  uint32_t mount = dir->mount;
  return walked(lookup_at(dir->fd, a[1].text), mount, false, out);
}

static int op_link(const struct value *a, struct value *out) {
  (void)out;
  const struct handle *target = find_handle(a[0].number);
  const struct handle *dir = find_handle(a[1].number);
  if (target == NULL || dir == NULL) return EBADF;
  int bad = name_error(&a[2]);
  if (bad) return bad;
  if (!writable(dir)) return EROFS;
  if (target->mount != dir->mount) return EXDEV;
  if (target->type == S_IFDIR) return EPERM;
  long r = result(linkat(target->fd, "", dir->fd, a[2].text, AT_EMPTY_PATH));
  // Without CAP_DAC_READ_SEARCH, AT_EMPTY_PATH fails with ENOENT; the
  // magic link names the same inode (a symlink itself, not its target).
  if (r == -ENOENT) {
    char path[32];
    r = result(linkat(AT_FDCWD, proc_path(target->fd, path), dir->fd, a[2].text, AT_SYMLINK_FOLLOW));
  }
  return done(r);
}

static int op_unlink(const struct value *a, struct value *out) {
  (void)out;
  const struct handle *dir = find_handle(a[0].number);
  if (dir == NULL) return EBADF;
  int bad = name_error(&a[1]);
  if (bad) return bad;
  if (!writable(dir)) return EROFS;
  return done(result(unlinkat(dir->fd, a[1].text, a[2].flag ? AT_REMOVEDIR : 0)));
}

static int op_rename(const struct value *a, struct value *out) {
  (void)out;
  const struct handle *old_dir = find_handle(a[0].number);
  const struct handle *new_dir = find_handle(a[2].number);
  uint32_t flags = (uint32_t)a[4].number;
  if (old_dir == NULL || new_dir == NULL) return EBADF;
  int bad = name_error(&a[1]);
  if (!bad) bad = name_error(&a[3]);
  if (bad) return bad;
  if (flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE)) return EINVAL;
  if (!writable(old_dir) || !writable(new_dir)) return EROFS;
  if (old_dir->mount != new_dir->mount) return EXDEV;
  return done(result(syscall(SYS_renameat2, old_dir->fd, a[1].text, new_dir->fd, a[3].text, flags)));
}

static int op_truncate(const struct value *a, struct value *out) {
  (void)out;
  const struct handle *f = find_handle(a[0].number);
  if (f == NULL) return EBADF;
  if (!writable(f)) return EROFS;
  if (f->type == S_IFDIR) return EISDIR;
  if (f->type != S_IFREG) return EINVAL;
  int fd = reopen(f->fd, O_WRONLY);
  if (fd < 0) return -fd;
  long r = result(ftruncate(fd, (off_t)a[1].number));
  close(fd);
  return done(r);
}

static int op_chmod(const struct value *a, struct value *out) {
  (void)out;
  const struct handle *f = find_handle(a[0].number);
  uint32_t mode = (uint32_t)a[1].number;
  if (f == NULL) return EBADF;
  if (!writable(f)) return EROFS;
  // Linux has no mode for a symlink; through the magic link chmod would not reach it anyway.
  if (f->type == S_IFLNK) return EOPNOTSUPP;
  char path[32];
  return done(result(syscall(SYS_fchmodat, AT_FDCWD, proc_path(f->fd, path), mode & 07777)));
}

static int op_chown(const struct value *a, struct value *out) {
  (void)out;
  const struct handle *f = find_handle(a[0].number);
  if (f == NULL) return EBADF;
  if (!writable(f)) return EROFS;
  return done(result(fchownat(f->fd, "", (uid_t)(int32_t)a[1].number, (gid_t)(int32_t)a[2].number, AT_HANDLE)));
}

// to_timespec turns a time in nanoseconds (or null, UTIME_OMIT) into seconds and nanoseconds.
static struct timespec to_timespec(const struct value *v) {
  if (v->null) return (struct timespec){.tv_sec = 0, .tv_nsec = UTIME_OMIT};
  if (v->big.high) return (struct timespec){.tv_sec = (time_t)(v->big.bits / 1000000000), .tv_nsec = (long)(v->big.bits % 1000000000)};
  int64_t ns = (int64_t)v->big.bits;
  struct timespec t = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
  if (t.tv_nsec < 0) {
    t.tv_nsec += 1000000000;
    t.tv_sec -= 1;
  }
  return t;
}

static int op_utimens(const struct value *a, struct value *out) {
  (void)out;
  const struct handle *f = find_handle(a[0].number);
  if (f == NULL) return EBADF;
  if (!writable(f)) return EROFS;
  struct timespec times[2] = {to_timespec(&a[1]), to_timespec(&a[2])};
  return done(result(utimensat(f->fd, "", times, AT_HANDLE)));
}

static int op_statfs(const struct value *a, struct value *out) {
  const struct handle *f = find_handle(a[0].number);
  if (f == NULL) return EBADF;
  out[0].fields = server.statfs;
  return done(statfs_of(f->fd));
}

static int op_fsync(const struct value *a, struct value *out) {
  (void)out;
  const struct handle *f = find_handle(a[0].number);
  if (f == NULL) return EBADF;
  if (f->io) return done(result(fsync(f->fd)));
  // An O_PATH descriptor cannot be synced: sync the inode through a descriptor of its own.
  if (f->type != S_IFREG && f->type != S_IFDIR) return EINVAL;
  int fd = reopen(f->fd, O_RDONLY);
  if (fd < 0) return -fd;
  long r = result(fsync(fd));
  close(fd);
  return done(r);
}

static int op_close(const struct value *a, struct value *out) {
  (void)out;
  remove_handle(a[0].number);
  return 0;
}

// HANDLERS maps each operation (but Echo, which writes its reply raw) to its handler.
static handler *const HANDLERS[OP_LIMIT] = {
    [OP_ATTACH] = op_attach,
    [OP_LOOKUP] = op_lookup,
    [OP_STAT] = op_stat,
    [OP_OPEN] = op_open,
    [OP_CREATE] = op_create,
    [OP_READ] = op_read,
    [OP_WRITE] = op_write,
    [OP_READDIR] = op_readdir,
    [OP_READLINK] = op_readlink,
    [OP_MKDIR] = op_mkdir,
    [OP_SYMLINK] = op_symlink,
    [OP_LINK] = op_link,
    [OP_UNLINK] = op_unlink,
    [OP_RENAME] = op_rename,
    [OP_TRUNCATE] = op_truncate,
    [OP_CHMOD] = op_chmod,
    [OP_CHOWN] = op_chown,
    [OP_UTIMENS] = op_utimens,
    [OP_STATFS] = op_statfs,
    [OP_FSYNC] = op_fsync,
    [OP_CLOSE] = op_close,
};

// ---- Messages ----

// integer reports whether v is an integer in [min, max], as isInt in ring.ts.
static bool integer(double v, double min, double max) {
  return v >= min && v <= max && v == (double)(int64_t)v;
}

// take_string reads a string into server.strings at *arena, sanitized and NUL-terminated.
static bool take_string(struct mp_reader *r, struct value *v, char **arena) {
  const uint8_t *bytes;
  size_t length;
  if (!mp_read_str(r, &bytes, &length)) return false;
  v->text = *arena;
  v->length = utf8_sanitize(bytes, length, (uint8_t *)*arena);
  (*arena)[v->length] = '\0';
  *arena += v->length + 1;
  return true;
}

// take_value reads one argument of the given kind, as ring.ts's conforms accepts it.
static bool take_value(struct mp_reader *r, enum kind kind, struct value *v, char **arena) {
  switch (kind) {
    case KIND_U32: return mp_read_number(r, &v->number) && integer(v->number, 0, 4294967295.0);
    case KIND_HANDLE: return mp_read_number(r, &v->number) && integer(v->number, 1, HANDLE_MAX);
    case KIND_I32: return mp_read_number(r, &v->number) && integer(v->number, -2147483648.0, 2147483647.0);
    case KIND_SIZE: return mp_read_number(r, &v->number) && integer(v->number, 0, 9007199254740991.0);
    case KIND_STRING: return take_string(r, v, arena);
    case KIND_BOOL: return mp_read_bool(r, &v->flag);
    case KIND_BYTES: {
      const uint8_t *bytes;
      if (!mp_read_bin(r, &bytes, &v->length)) return false;
      v->text = (const char *)bytes;
      return true;
    }
    case KIND_COOKIE: return mp_read_bigint(r, &v->big);
    case KIND_TIME: return (v->null = mp_read_nil(r)) || mp_read_bigint(r, &v->big);
    default: return false;  // stat, statfs and entries are only ever results
  }
}

// decode_request copies slot's request out of the ring and decodes it into
// *op and args; it returns 0, or the errno that refuses it: EINVAL for a
// frame that is not a msgpack array with a number first, or whose
// arguments do not match MESSAGES, ENOSYS for a number that is no operation.
static int decode_request(unsigned slot, unsigned *op, struct value *args) {
  int32_t length = __atomic_load_n(&server.words[GOFER_REQUEST_LENGTH_WORD[slot]], __ATOMIC_SEQ_CST);
  if (!(length > 0 && length <= GOFER_MESSAGE_SIZE)) return EINVAL;
  memcpy(server.request, server.ring + GOFER_MESSAGE_OFFSET[slot], (size_t)length);
  struct mp_reader r = {server.request, server.request + length};
  struct mp_reader whole = r;
  if (!mp_skip(&whole) || whole.at != whole.end) return EINVAL;
  uint32_t count;
  double number;
  if (!mp_read_array(&r, &count) || count == 0 || !mp_read_number(&r, &number)) return EINVAL;
  if (!integer(number, 1, OP_LIMIT - 1) || MESSAGES[(unsigned)number].name == NULL) return ENOSYS;
  *op = (unsigned)number;
  const struct message_shape *shape = &MESSAGES[*op];
  if (count != 1 + shape->requests) return EINVAL;
  char *arena = server.strings;
  for (unsigned i = 0; i < shape->requests; i++) {
    args[i] = (struct value){0};
    if (!take_value(&r, shape->request[i], &args[i], &arena)) return EINVAL;
  }
  return 0;
}

static void write_fields(struct mp_writer *w, const double *fields, uint32_t count) {
  mp_write_array(w, count);
  for (uint32_t i = 0; i < count; i++) mp_write_number(w, fields[i]);
}

// write_entries writes getdents64 records as [name, ino, type] entries.
static void write_entries(struct mp_writer *w, const uint8_t *records, size_t length) {
  uint32_t count = 0;
  for (size_t at = 0, size; (size = next_record(records, length, at)) != 0; at += size) count++;
  mp_write_array(w, count);
  for (size_t at = 0, size; (size = next_record(records, length, at)) != 0; at += size) {
    const uint8_t *name = records + at + 19;
    uint64_t ino;
    memcpy(&ino, records + at, sizeof ino);
    mp_write_array(w, 3);
    mp_write_str(w, name, strnlen((const char *)name, size - 19));
    mp_write_number(w, (double)ino);
    mp_write_number(w, records[at + 18]);
  }
}

// write_value writes one result of the given kind.
static void write_value(struct mp_writer *w, enum kind kind, const struct value *v) {
  switch (kind) {
    case KIND_U32: case KIND_HANDLE: case KIND_I32: case KIND_SIZE: mp_write_number(w, v->number); break;
    case KIND_STRING: mp_write_str(w, (const uint8_t *)v->text, v->length); break;
    case KIND_BOOL: mp_write_bool(w, v->flag); break;
    case KIND_COOKIE: mp_write_bigint(w, v->big); break;
    case KIND_TIME:
      if (v->null) mp_write_nil(w);
      else mp_write_bigint(w, v->big);
      break;
    case KIND_STAT: write_fields(w, v->fields, GOFER_STAT_FIELDS); break;
    case KIND_STATFS: write_fields(w, v->fields, GOFER_STATFS_FIELDS); break;
    case KIND_ENTRIES: write_entries(w, v->records, v->length); break;
    default: w->overflow = true;  // no reply carries bytes; the reply becomes EIO
  }
}

// write_reply writes [errno], or [0, ...results] as MESSAGES says for op; one that does not fit becomes [EIO].
static size_t write_reply(uint8_t *message, unsigned op, int err, const struct value *results) {
  struct mp_writer w = {message, message + GOFER_MESSAGE_SIZE, false};
  if (err == 0) {
    const struct message_shape *shape = &MESSAGES[op];
    mp_write_array(&w, 1 + shape->replies);
    mp_write_number(&w, 0);
    for (unsigned i = 0; i < shape->replies; i++) write_value(&w, shape->reply[i], &results[i]);
  }
  if (err != 0 || w.overflow) {
    w = (struct mp_writer){message, message + GOFER_MESSAGE_SIZE, false};
    mp_write_array(&w, 1);
    mp_write_number(&w, err != 0 ? err : EIO);
  }
  return (size_t)(w.at - message);
}

// serve_slot answers the request in slot.
static void serve_slot(unsigned slot) {
  uint8_t *message = server.ring + GOFER_MESSAGE_OFFSET[slot];
  int32_t *reply_length = &server.words[GOFER_REPLY_LENGTH_WORD[slot]];
  unsigned op = 0;
  struct value args[MAX_REQUEST_VALUES];
  int err = decode_request(slot, &op, args);
  if (err == 0 && op == OP_ECHO) {
    // Echo's frame lies inside the copied request, so it always fits.
    memcpy(message, args[0].text, args[0].length);
    __atomic_store_n(reply_length, (int32_t)(uint32_t)args[1].number, __ATOMIC_SEQ_CST);
    return;
  }
  struct value results[MAX_REPLY_VALUES] = {{0}};
  if (err == 0) {
    server.data = server.ring + GOFER_DATA_OFFSET[slot];
    err = HANDLERS[op](args, results);
  }
  size_t length = write_reply(message, op, err, results);
  __atomic_store_n(reply_length, (int32_t)length, __ATOMIC_SEQ_CST);
}

// ---- The ring ----

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

// await_request returns once slot holds a request: it spins for SPIN_NS, then sleeps on the doorbell.
static void await_request(unsigned slot) {
  int32_t *words = server.words;
  int32_t *state = &words[GOFER_STATE_WORD[slot]];
  int64_t spin_until = now_ns() + SPIN_NS;
  while (__atomic_load_n(state, __ATOMIC_SEQ_CST) != GOFER_REQUEST) {
    if (now_ns() < spin_until) {
      __builtin_ia32_pause();
      continue;
    }
    int32_t bell = __atomic_load_n(&words[GOFER_DOORBELL], __ATOMIC_SEQ_CST);
    __atomic_store_n(&words[GOFER_SLEEPING], 1, __ATOMIC_SEQ_CST);
    // The Sentry sets the state before it rings and reads GOFER_SLEEPING
    // after: either this load sees its request or it sees this flag. The
    // futex is shared between processes (the ring is a memfd), so it is
    // not FUTEX_PRIVATE.
    if (__atomic_load_n(state, __ATOMIC_SEQ_CST) != GOFER_REQUEST) {
      syscall(SYS_futex, &words[GOFER_DOORBELL], FUTEX_WAIT, bell, NULL, NULL, 0);
    }
    __atomic_store_n(&words[GOFER_SLEEPING], 0, __ATOMIC_SEQ_CST);
  }
}

// wake_sentry writes a wake byte to the Sentry's pipe; a full pipe already holds one. Once the Sentry is gone, so is the Gofer.
static void wake_sentry(void) {
  static const uint8_t wake = 1;
  for (;;) {
    // client.ts's stdout is a socket: MSG_DONTWAIT leaves its flags alone.
    ssize_t n = send(STDOUT_FILENO, &wake, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = write(STDOUT_FILENO, &wake, 1);
    if (n >= 0 || errno == EAGAIN) return;
    if (errno != EINTR) exit(0);
  }
}

// serve answers the slots in turn, forever.
static void serve(void) {
  for (unsigned slot = 0;; slot = (slot + 1) % GOFER_SLOT_COUNT) {
    await_request(slot);
    serve_slot(slot);
    __atomic_store_n(&server.words[GOFER_STATE_WORD[slot]], GOFER_REPLY, __ATOMIC_SEQ_CST);
    if (__atomic_exchange_n(&server.words[GOFER_SENTRY_SLEEPING], 0, __ATOMIC_SEQ_CST) == 1) wake_sentry();
  }
}

// ---- Start-up ----

// configure opens the mounts' roots that a configuration frame's body
// names, [RING_MAGIC, [[hostPath, writable], ...]]; it returns 0, or the
// errno that refuses it with the index of the mount at fault in *failed
// (-1 for the frame itself).
static int configure(const uint8_t *body, size_t length, double *failed) {
  *failed = -1;
  if (server.words[GOFER_MAGIC] != GOFER_RING_MAGIC) return EINVAL;
  struct mp_reader r = {body, body + length};
  struct mp_reader whole = r;
  uint32_t count;
  uint32_t mounts;
  double magic;
  if (!mp_skip(&whole) || whole.at != whole.end || !mp_read_array(&r, &count) || count != 2
      || !mp_read_number(&r, &magic) || magic != GOFER_RING_MAGIC || !mp_read_array(&r, &mounts)) {
    return EINVAL;
  }
  server.mounts = calloc(mounts ? mounts : 1, sizeof *server.mounts);
  if (server.mounts == NULL) return ENOMEM;
  for (uint32_t i = 0; i < mounts; i++) {
    *failed = i;
    uint32_t fields;
    const uint8_t *path;
    size_t path_length;
    bool writable;
    if (!mp_read_array(&r, &fields) || fields < 2 || !mp_read_str(&r, &path, &path_length)
        || !mp_read_bool(&r, &writable)) {
      return EINVAL;
    }
    for (uint32_t extra = 2; extra < fields; extra++) mp_skip(&r);
    char *host_path = malloc(3 * path_length + 1);
    if (host_path == NULL) return ENOMEM;
    host_path[utf8_sanitize(path, path_length, (uint8_t *)host_path)] = '\0';
    int fd = openat2_(AT_FDCWD, host_path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0);
    free(host_path);
    if (fd < 0) return -fd;
    server.mounts[i] = (struct mount){.fd = fd, .writable = writable};
    server.mount_count = i + 1;
  }
  return 0;
}

// read_all reads exactly length bytes from stdin; false at its end.
static bool read_all(uint8_t *buffer, size_t length) {
  for (size_t got = 0; got < length;) {
    ssize_t n = read(STDIN_FILENO, buffer + got, length - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) exit(1);
    if (n == 0) return false;
    got += (size_t)n;
  }
  return true;
}

// answer writes the configuration's answer, [0] or [errno, index], as a frame on stdout.
static void answer(int err, double failed) {
  uint8_t frame[32];
  struct mp_writer w = {frame + 4, frame + sizeof frame, false};
  mp_write_array(&w, err ? 2 : 1);
  mp_write_number(&w, err);
  if (err) mp_write_number(&w, failed);
  uint32_t length = (uint32_t)(w.at - (frame + 4));
  memcpy(frame, &length, sizeof length);
  for (size_t sent = 0; sent < 4 + length;) {
    ssize_t n = write(STDOUT_FILENO, frame + sent, 4 + length - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) exit(1);
    sent += (size_t)n;
  }
}

// parent_is_alive reports whether the parent is still the process that started this one (TVISOR_GOFER_PARENT).
static bool parent_is_alive(void) {
  const char *parent = getenv("TVISOR_GOFER_PARENT");
  if (parent == NULL || *parent == '\0') return false;
  char *end;
  errno = 0;
  long pid = strtol(parent, &end, 10);
  return errno == 0 && *end == '\0' && pid == getppid();
}

// map_ring maps the ring memfd at RING_FD and closes the descriptor, which the mapping outlives.
static bool map_ring(void) {
  struct stat st;
  if (fstat(RING_FD, &st) < 0 || st.st_size != GOFER_RING_SIZE) return false;
  void *ring = mmap(NULL, GOFER_RING_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, RING_FD, 0);
  if (ring == MAP_FAILED) return false;
  close(RING_FD);
  server.ring = ring;
  server.words = ring;
  return true;
}

int main(void) {
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // The parent may have died before PDEATHSIG was set.
  if (!parent_is_alive()) return 1;
  // A terminal's Ctrl-C or Ctrl-\ is for tvisor, which decides what it
  // means: the Gofer leaves tvisor's session, so that they never kill it
  // under a running program.
  setsid();
  // Modes are applied as the Sentry gives them; it applies the sandbox's umask itself.
  umask(0);
  // A Sentry that is gone shows as EPIPE, not as a signal.
  signal(SIGPIPE, SIG_IGN);
  // Nothing but stdio and the ring: no descriptor the parent leaked stays open here.
  syscall(SYS_close_range, RING_FD + 1, ~0u, 0);
  // Every handle holds a descriptor: take all the descriptors allowed, as Node did.
  struct rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  if (!map_ring()) {
    fputs("tvisor gofer: fd 3 is not a ring\n", stderr);
    return 1;
  }
  uint8_t header[4];
  if (!read_all(header, sizeof header)) return 0;
  uint32_t length;
  memcpy(&length, header, sizeof length);
  double failed = -1;
  int err = EINVAL;
  if (length <= GOFER_MAX_FRAME) {
    uint8_t *body = malloc(length ? length : 1);
    if (body == NULL) return 1;
    if (!read_all(body, length)) return 0;
    err = configure(body, length, &failed);
    free(body);
  }
  answer(err, failed);
  if (err) return 1;
  // Once configured, the Gofer reads no more configuration: it only serves the ring.
  serve();
}
