// file.ts: read/write and the calls on file descriptors.
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full, partial } from './table.js';
import { EBADF, EFAULT, EINTR, EINVAL, ENOENT, ENOTTY, EPIPE, ERANGE, ESPIPE, ENAMETOOLONG } from '../errno.js';
import { SIGPIPE } from '../kernel/signals.js';
import { Perm } from '../platform.js';
import { send } from './signal.js';
import { host } from '../native/host.js';
import { O_APPEND, O_CLOEXEC, O_NONBLOCK, type FileDescription, type Stat } from '../vfs/file.js';
import { readTimespec, sleep } from './util.js';

/** MAX_RW is Linux's cap on one read or write (MAX_RW_COUNT). */
const MAX_RW = 0x7ffff000;
const IOV_MAX = 1024;
const PATH_MAX = 4096;

function readFile(t: Task, f: FileDescription, addr: number, len: number): number | Promise<number> {
  if (!f.readable) throw EBADF;
  if (len === 0) return 0;
  // Check the buffer before reading, so a bad pointer loses no data.
  t.mm.physFor(addr, Perm.Write);
  const got = f.read(Math.min(len, MAX_RW));
  const finish = (data: Uint8Array | undefined): number => {
    if (data === undefined) throw EINTR;
    t.mm.copyOut(addr, data);
    return data.length;
  };
  if (got instanceof Promise) return t.interruptible(got).then(finish);
  return finish(got);
}

/**
 * writeFile writes data to f. Writing to a pipe whose reader is gone
 * fails with EPIPE and sends the writer SIGPIPE, as on Linux.
 */
function writeFile(t: Task, f: FileDescription, data: Uint8Array): number | Promise<number> {
  if (!f.writable) throw EBADF;
  if (data.length === 0) return 0;
  const r = f.write(data);
  if (typeof r === 'number') return r;
  return r.catch((err: unknown) => {
    if (err === EPIPE) send(t, SIGPIPE);
    throw err;
  });
}

/** read implements read(2). */
export function read(t: Task, a: SyscallArgs): number | Promise<number> {
  const f = t.fds.get(a.int(0));
  return readFile(t, f, a.pointer(1), Math.min(a.size(2), MAX_RW));
}

/** write implements write(2). */
export function write(t: Task, a: SyscallArgs): number | Promise<number> {
  const f = t.fds.get(a.int(0));
  if (!f.writable) throw EBADF;
  const len = Math.min(a.size(2), MAX_RW);
  return writeFile(t, f, t.mm.copyIn(a.pointer(1), len));
}

interface Iovec { base: number; len: number }

function readIovecs(t: Task, addr: number, count: number): Iovec[] {
  if (count < 0 || count > IOV_MAX) throw EINVAL;
  const raw = t.mm.copyIn(addr, count * 16);
  const v = new DataView(raw.buffer);
  const iovs: Iovec[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const base = Number(v.getBigUint64(i * 16, true));
    const len = Number(v.getBigInt64(i * 16 + 8, true));
    if (len < 0) throw EINVAL;
    total += len;
    iovs.push({ base, len });
  }
  if (total > 0x7fffffffffff) throw EINVAL;
  return iovs;
}

/** readv implements readv(2): one read, scattered over the buffers. */
export function readv(t: Task, a: SyscallArgs): number | Promise<number> {
  const f = t.fds.get(a.int(0));
  if (!f.readable) throw EBADF;
  const iovs = readIovecs(t, a.pointer(1), a.int(2)).filter((v) => v.len > 0);
  const total = Math.min(iovs.reduce((s, v) => s + v.len, 0), MAX_RW);
  if (total === 0) return 0;
  for (const v of iovs) t.mm.physFor(v.base, Perm.Write);
  const scatter = (data: Uint8Array | undefined): number => {
    if (data === undefined) throw EINTR;
    let off = 0;
    for (const v of iovs) {
      if (off >= data.length) break;
      const n = Math.min(v.len, data.length - off);
      t.mm.copyOut(v.base, data.subarray(off, off + n));
      off += n;
    }
    return data.length;
  };
  const got = f.read(total);
  return got instanceof Promise ? t.interruptible(got).then(scatter) : scatter(got);
}

/** writev implements writev(2): the buffers gathered into one write. */
export function writev(t: Task, a: SyscallArgs): number | Promise<number> {
  const f = t.fds.get(a.int(0));
  if (!f.writable) throw EBADF;
  const iovs = readIovecs(t, a.pointer(1), a.int(2));
  const parts = iovs.filter((v) => v.len > 0).map((v) => t.mm.copyIn(v.base, v.len));
  return writeFile(t, f, Buffer.concat(parts));
}

/**
 * positional checks pread64/pwrite64's arguments in Linux's order: a
 * negative offset, the descriptor, then seekability (the standard streams
 * are pipes or terminals, never seekable).
 */
function positional(t: Task, a: SyscallArgs): number {
  if (a.long(3) < 0) throw EINVAL;
  t.fds.get(a.int(0));
  throw ESPIPE;
}

/** pread64 implements pread64(2). */
export const pread64 = positional;
/** pwrite64 implements pwrite64(2). */
export const pwrite64 = positional;

/** close implements close(2). */
export function close(t: Task, a: SyscallArgs): number {
  t.fds.close(a.int(0));
  return 0;
}

/** lseek implements lseek(2). */
export function lseek(t: Task, a: SyscallArgs): number {
  const f = t.fds.get(a.int(0));
  const whence = a.int(2);
  if (whence < 0 || whence > 4) throw EINVAL;
  return f.seek(a.long(1), whence);
}

function encodeStat(s: Stat): Uint8Array {
  const b = new Uint8Array(144);
  const v = new DataView(b.buffer);
  const u64 = (o: number, x: number) => v.setBigUint64(o, BigInt(Math.max(0, Math.trunc(x))), true);
  const time = (o: number, ms: number) => {
    u64(o, Math.floor(ms / 1000));
    u64(o + 8, Math.round((ms % 1000) * 1e6));
  };
  u64(0, s.dev); u64(8, s.ino); u64(16, s.nlink);
  v.setUint32(24, s.mode, true); v.setUint32(28, s.uid, true); v.setUint32(32, s.gid, true);
  u64(40, s.rdev); u64(48, s.size); u64(56, s.blksize); u64(64, s.blocks);
  time(72, s.atimeMs); time(88, s.mtimeMs); time(104, s.ctimeMs);
  return b;
}

function encodeStatx(s: Stat): Uint8Array {
  const b = new Uint8Array(256);
  const v = new DataView(b.buffer);
  const time = (o: number, ms: number) => {
    v.setBigInt64(o, BigInt(Math.floor(ms / 1000)), true);
    v.setUint32(o + 8, Math.round((ms % 1000) * 1e6), true);
  };
  v.setUint32(0, 0x7ff, true); // STATX_BASIC_STATS
  v.setUint32(4, s.blksize, true);
  v.setUint32(16, s.nlink, true);
  v.setUint32(20, s.uid, true);
  v.setUint32(24, s.gid, true);
  v.setUint16(28, s.mode, true);
  v.setBigUint64(32, BigInt(s.ino), true);
  v.setBigUint64(40, BigInt(s.size), true);
  v.setBigUint64(48, BigInt(s.blocks), true);
  time(64, s.atimeMs); time(96, s.ctimeMs); time(112, s.mtimeMs);
  v.setUint32(128, Math.floor(s.rdev / 256) & 0xfff, true);
  v.setUint32(132, (s.rdev & 0xff) | ((s.rdev >> 12) & ~0xff), true);
  v.setUint32(136, Math.floor(s.dev / 256) & 0xfff, true);
  v.setUint32(140, (s.dev & 0xff) | ((s.dev >> 12) & ~0xff), true);
  return b;
}

/** fstat implements fstat(2). */
export function fstat(t: Task, a: SyscallArgs): number {
  const f = t.fds.get(a.int(0));
  t.mm.copyOut(a.pointer(1), encodeStat(f.stat()));
  return 0;
}

const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;

/** pathFile resolves (dirfd, path, flags) for the *at calls; only AT_EMPTY_PATH on an fd exists until the VFS lands. */
function pathFile(t: Task, dirfd: number, pathAddr: number, flags: number): FileDescription {
  const path = t.mm.readString(pathAddr, PATH_MAX);
  if (path === undefined) throw ENAMETOOLONG;
  if (path === '' && flags & AT_EMPTY_PATH) {
    if (dirfd === AT_FDCWD) throw ENOENT;
    return t.fds.get(dirfd);
  }
  if (path === '') throw ENOENT;
  throw ENOENT;
}

/** newfstatat implements fstatat(2): AT_EMPTY_PATH on a descriptor; paths need the VFS (issue 5). */
export function newfstatat(t: Task, a: SyscallArgs): number {
  const f = pathFile(t, a.int(0), a.pointer(1), a.int(3));
  t.mm.copyOut(a.pointer(2), encodeStat(f.stat()));
  return 0;
}

/** statx implements statx(2) like newfstatat. */
export function statx(t: Task, a: SyscallArgs): number {
  const flags = a.int(2);
  if (flags & ~0x7f00) throw EINVAL;
  const f = pathFile(t, a.int(0), a.pointer(1), flags);
  t.mm.copyOut(a.pointer(4), encodeStatx(f.stat()));
  return 0;
}

const TCGETS = 0x5401;
const TIOCGWINSZ = 0x5413;
const FIONCLEX = 0x5450;
const FIOCLEX = 0x5451;

/** ioctl implements ioctl(2) for terminals (TCGETS, TIOCGWINSZ) and close-on-exec. */
export function ioctl(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const f = t.fds.get(fd);
  const request = a.uint(1);
  if (request === FIOCLEX || request === FIONCLEX) {
    t.fds.entry(fd).cloexec = request === FIOCLEX;
    return 0;
  }
  const tty = f.hostTty();
  if (tty === undefined || (request !== TCGETS && request !== TIOCGWINSZ)) throw ENOTTY;
  const buf = new Uint8Array(request === TCGETS ? 36 : 8);
  const err = host.ttyIoctl(tty, request, buf);
  if (err !== 0) throw ENOTTY;
  t.mm.copyOut(a.pointer(2), buf);
  return 0;
}

const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_DUPFD_CLOEXEC = 1030, F_GETPIPE_SZ = 1032;

/** fcntl implements fcntl(2): descriptor flags, status flags and duplication. */
export function fcntl(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const e = t.fds.entry(fd);
  switch (a.int(1)) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = a.int(2);
      if (min < 0 || min >= 1024) throw EINVAL;
      return t.fds.install(e.file, a.int(1) === F_DUPFD_CLOEXEC, min);
    }
    case F_GETFD:
      return e.cloexec ? 1 : 0;
    case F_SETFD:
      e.cloexec = (a.int(2) & 1) !== 0;
      return 0;
    case F_GETFL:
      return e.file.statusFlags;
    case F_SETFL: {
      const settable = O_APPEND | O_NONBLOCK;
      e.file.statusFlags = (e.file.statusFlags & ~settable) | (a.int(2) & settable);
      return 0;
    }
    case F_GETPIPE_SZ:
      if ((e.file.stat().mode & 0o170000) !== 0o010000) throw EBADF;
      return 65536;
    default:
      throw EINVAL;
  }
}

/** dup implements dup(2). */
export function dup(t: Task, a: SyscallArgs): number {
  return t.fds.install(t.fds.get(a.int(0)), false);
}

/** dup2 implements dup2(2). */
export function dup2(t: Task, a: SyscallArgs): number {
  const oldfd = a.int(0);
  const newfd = a.int(1);
  const f = t.fds.get(oldfd);
  if (oldfd === newfd) return newfd;
  t.fds.installAt(newfd, f, false);
  return newfd;
}

/** dup3 implements dup3(2). */
export function dup3(t: Task, a: SyscallArgs): number {
  const oldfd = a.int(0);
  const newfd = a.int(1);
  const flags = a.int(2);
  if (flags & ~O_CLOEXEC) throw EINVAL;
  const f = t.fds.get(oldfd);
  if (oldfd === newfd) throw EINVAL;
  t.fds.installAt(newfd, f, flags !== 0);
  return newfd;
}

const POLLIN = 1, POLLPRI = 2, POLLOUT = 4, POLLNVAL = 0x20, POLLRDNORM = 0x40, POLLWRNORM = 0x100;

async function doPoll(t: Task, addr: number, nfds: number, timeoutMs: number): Promise<number> {
  if (nfds > 1024) throw EINVAL;
  const raw = t.mm.copyIn(addr, nfds * 8);
  const v = new DataView(raw.buffer);
  const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
  for (;;) {
    let ready = 0;
    const waits: Promise<void>[] = [];
    for (let i = 0; i < nfds; i++) {
      const fd = v.getInt32(i * 8, true);
      const events = v.getInt16(i * 8 + 4, true);
      let revents = 0;
      if (fd >= 0) {
        let f: FileDescription | undefined;
        try {
          f = t.fds.get(fd);
        } catch {
          revents = POLLNVAL;
        }
        if (f) {
          if (f.readable && events & (POLLIN | POLLRDNORM | POLLPRI)) {
            if (f.readReady()) revents |= events & (POLLIN | POLLRDNORM);
            else waits.push(f.waitReadable());
          }
          if (f.writable) revents |= events & (POLLOUT | POLLWRNORM);
        }
      }
      v.setInt16(i * 8 + 6, revents, true);
      if (revents) ready++;
    }
    const remaining = deadline - performance.now();
    if (ready > 0 || remaining <= 0) {
      t.mm.copyOut(addr, raw);
      return ready;
    }
    const timer = remaining === Infinity ? [] : [sleep(remaining)];
    const woke = await t.interruptible(Promise.race([...waits, ...timer]));
    if (woke === undefined && t.hasDeliverable()) throw EINTR;
  }
}

/** poll implements poll(2). */
export function poll(t: Task, a: SyscallArgs): Promise<number> {
  return doPoll(t, a.pointer(0), a.uint(1), a.int(2));
}

/** ppoll implements ppoll(2) without the temporary signal mask. */
export function ppoll(t: Task, a: SyscallArgs): Promise<number> {
  if (a.pointer(3) !== 0 && a.size(4) !== 8) throw EINVAL;
  const ts = a.pointer(2);
  const timeout = ts === 0 ? -1 : readTimespec(t.mm, ts) / 1e6;
  return doPoll(t, a.pointer(0), a.uint(1), timeout);
}

/** getcwd implements getcwd(2). */
export function getcwd(t: Task, a: SyscallArgs): number {
  const buf = Buffer.from(t.cwd + '\0');
  if (a.size(1) < buf.length) throw ERANGE;
  t.mm.copyOut(a.pointer(0), buf);
  return buf.length;
}

function doReadlink(t: Task, pathAddr: number, buf: number, size: number): number {
  const path = t.mm.readString(pathAddr, PATH_MAX);
  if (path === undefined) throw ENAMETOOLONG;
  if (size <= 0) throw EINVAL;
  if (path !== '/proc/self/exe' && path !== '/proc/1/exe' && path !== '/proc/thread-self/exe') throw ENOENT;
  const target = Buffer.from(t.exe).subarray(0, Math.min(size, 0x7fffffff));
  t.mm.copyOut(buf, target);
  return target.length;
}

/** readlink implements readlink(2) for /proc/self/exe; other paths need the VFS (issue 5). */
export function readlink(t: Task, a: SyscallArgs): number {
  return doReadlink(t, a.pointer(0), a.pointer(1), a.int(2));
}

/** readlinkat implements readlinkat(2) like readlink. */
export function readlinkat(t: Task, a: SyscallArgs): number {
  return doReadlink(t, a.pointer(1), a.pointer(2), a.int(3));
}

/** noFilesystem answers the path calls until the VFS lands: no path exists. */
export function noFilesystem(t: Task, a: SyscallArgs, pathArg: number): number {
  const path = t.mm.readString(a.pointer(pathArg), PATH_MAX);
  if (path === undefined) throw ENAMETOOLONG;
  if (a.pointer(pathArg) === 0) throw EFAULT;
  throw ENOENT;
}

export function register(): void {
  full(0, read, 'd,r,u');
  full(1, write, 'd,w,u');
  full(19, readv, 'd,v,d');
  full(20, writev, 'd,v,d');
  partial(17, pread64, 'the standard streams only (ESPIPE)', 'd,p,u,d');
  partial(18, pwrite64, 'the standard streams only (ESPIPE)', 'd,p,u,d');
  full(3, close, 'd');
  full(5, fstat, 'd,p');
  partial(262, newfstatat, 'AT_EMPTY_PATH on a descriptor; paths need the VFS (issue 5)', 'd,s,p,x');
  partial(332, statx, 'AT_EMPTY_PATH on a descriptor; paths need the VFS (issue 5)', 'd,s,x,x,p');
  full(8, lseek, 'd,d,d');
  partial(16, ioctl, 'TCGETS and TIOCGWINSZ on a terminal, FIOCLEX/FIONCLEX; ENOTTY otherwise', 'd,i,p');
  partial(72, fcntl, 'descriptor and status flags, F_DUPFD*, F_GETPIPE_SZ; no locks', 'd,d,x');
  full(32, dup, 'd');
  full(33, dup2, 'd,d');
  full(292, dup3, 'd,d,x');
  full(7, poll, 'p,u,d');
  partial(271, ppoll, 'the signal mask argument is ignored', 'p,u,p,p,u');
  full(79, getcwd, 'p,u');
  partial(89, readlink, '/proc/self/exe only until the VFS (issue 5)', 's,p,d');
  partial(267, readlinkat, '/proc/self/exe only until the VFS (issue 5)', 'd,s,p,d');
  const noPath = (pathArg: number) => (t: Task, a: SyscallArgs) => noFilesystem(t, a, pathArg);
  partial(2, noPath(0), 'no filesystem until the Gofer (issue 5): every path is ENOENT', 's,x,x');
  partial(257, noPath(1), 'no filesystem until the Gofer (issue 5): every path is ENOENT', 'd,s,x,x');
  partial(4, noPath(0), 'no filesystem until the Gofer (issue 5): every path is ENOENT', 's,p');
  partial(6, noPath(0), 'no filesystem until the Gofer (issue 5): every path is ENOENT', 's,p');
  partial(21, noPath(0), 'no filesystem until the Gofer (issue 5): every path is ENOENT', 's,d');
  partial(269, noPath(1), 'no filesystem until the Gofer (issue 5): every path is ENOENT', 'd,s,d');
  partial(439, noPath(1), 'no filesystem until the Gofer (issue 5): every path is ENOENT', 'd,s,d,x');
}
