// file.ts: read/write and the calls on file descriptors, whatever they
// refer to (the standard streams, files of the VFS).
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full, partial } from './table.js';
import { EBADF, EINVAL, ENOTTY, EOPNOTSUPP, EPERM, ESPIPE } from '../errno.js';
import { Perm } from '../platform.js';
import { host } from '../native/host.js';
import { MAX_FDS, O_APPEND, O_CLOEXEC, O_DIRECT, O_NONBLOCK, O_PATH, SEEK_CUR, SEEK_END, SEEK_SET, type FileDescription } from '../vfs/file.js';
import { Bytes, PipeEnd } from '../vfs/pipe.js';
import { MemfdFile } from '../vfs/memfd.js';
import { F_RDLCK, F_UNLCK, F_WRLCK, conflict, setLock, type Lock } from '../vfs/locks.js';
import { readBlocking, readPipe, writeBlocking, writePipe } from './blocking.js';
import { MAX_RW } from './fs.js';

const IOV_MAX = 1024;
/** Reads of at least DIRECT_READ_MIN go straight into the program's memory where they can, DIRECT_READ_MAX at a time. */
const DIRECT_READ_MIN = 64 << 10;
const DIRECT_READ_MAX = 16 << 20;

function readFile(t: Task, f: FileDescription, addr: number, len: number): number | Promise<number> {
  if (!f.readable) throw EBADF;
  if (len === 0) return 0;
  // A host file the Sentry holds a descriptor for is read straight into
  // the program's memory, in one readv of its contiguous runs.
  const direct = len >= DIRECT_READ_MIN && f.positional ? f.readInto(t.mm.runs(addr, Math.min(len, DIRECT_READ_MAX), Perm.Write)) : undefined;
  if (direct !== undefined) return direct;
  // A pipe reads straight into the program's memory (checked first, so a bad pointer loses no data).
  if (f instanceof PipeEnd) return readPipe(t, f, new Bytes(t.mm.runs(addr, Math.min(len, MAX_RW), Perm.Write).views()));
  // Check the buffer before reading, so a bad pointer loses no data.
  t.mm.physFor(addr, Perm.Write);
  const got = readBlocking(t, f, Math.min(len, MAX_RW));
  const finish = (data: Uint8Array): number => {
    t.mm.copyOut(addr, data);
    return data.length;
  };
  return got instanceof Promise ? got.then(finish) : finish(got);
}

/** writeFile writes data to f as write(2) does (see writeBlocking). */
function writeFile(t: Task, f: FileDescription, data: Uint8Array): number | Promise<number> {
  if (!f.writable) throw EBADF;
  // An empty write writes nothing, but an empty record (a datagram).
  if (data.length === 0 && !f.recordWrites) return 0;
  return writeBlocking(t, f, data);
}

/** read implements read(2). */
export function read(t: Task, a: SyscallArgs): number | Promise<number> {
  const f = t.fds.get(a.int(0));
  return readFile(t, f, a.pointer(1), Math.min(a.size(2), MAX_RW));
}

/** write implements write(2). A pipe takes the data straight from the program's memory. */
export function write(t: Task, a: SyscallArgs): number | Promise<number> {
  const f = t.fds.get(a.int(0));
  if (!f.writable) throw EBADF;
  const len = Math.min(a.size(2), MAX_RW);
  const addr = a.pointer(1);
  if (f instanceof PipeEnd && len > 0) return writePipe(t, f, new Bytes(t.mm.runs(addr, len, Perm.Read).views()));
  return writeFile(t, f, t.mm.copyIn(addr, len));
}

export interface Iovec { base: number; len: number }

/** readIovecs reads an iovec array: EINVAL past IOV_MAX buffers, for a negative length or a total past the address space. */
export function readIovecs(t: Task, addr: number, count: number): Iovec[] {
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

/** iovecsTotal is how much the buffers hold, up to MAX_RW. */
export function iovecsTotal(iovs: Iovec[]): number {
  return Math.min(iovs.reduce((s, v) => s + v.len, 0), MAX_RW);
}

/** scatter copies data over the buffers, in order, and returns its length. */
export function scatter(t: Task, iovs: Iovec[], data: Uint8Array): number {
  let off = 0;
  for (const v of iovs) {
    if (off >= data.length) break;
    const n = Math.min(v.len, data.length - off);
    t.mm.copyOut(v.base, data.subarray(off, off + n));
    off += n;
  }
  return data.length;
}

/** gather copies the buffers' contents out of the program, as one. */
export function gather(t: Task, iovs: Iovec[]): Uint8Array {
  return Buffer.concat(iovs.filter((v) => v.len > 0).map((v) => t.mm.copyIn(v.base, v.len)));
}

/** readv implements readv(2): one read, scattered over the buffers. */
export function readv(t: Task, a: SyscallArgs): number | Promise<number> {
  const f = t.fds.get(a.int(0));
  if (!f.readable) throw EBADF;
  const iovs = readIovecs(t, a.pointer(1), a.int(2)).filter((v) => v.len > 0);
  const total = iovecsTotal(iovs);
  if (total === 0) return 0;
  for (const v of iovs) t.mm.physFor(v.base, Perm.Write);
  const got = readBlocking(t, f, total);
  return got instanceof Promise ? got.then((data) => scatter(t, iovs, data)) : scatter(t, iovs, got);
}

/** writev implements writev(2): the buffers gathered into one write. */
export function writev(t: Task, a: SyscallArgs): number | Promise<number> {
  const f = t.fds.get(a.int(0));
  if (!f.writable) throw EBADF;
  return writeFile(t, f, gather(t, readIovecs(t, a.pointer(1), a.int(2))));
}

/**
 * positional checks pread64/pwrite64's arguments in Linux's order: a
 * negative offset, the descriptor, then seekability (the standard streams
 * are pipes or terminals, never seekable).
 */
/** lseek implements lseek(2). */
export function lseek(t: Task, a: SyscallArgs): number | Promise<number> {
  const f = t.fds.get(a.int(0));
  const whence = a.int(2);
  if (whence < 0 || whence > 4) throw EINVAL;
  return f.seek(a.long(1), whence);
}

/** preadFile reads at an offset into the program's buffer. */
function preadFile(t: Task, f: FileDescription, offset: number, addr: number, len: number): number | Promise<number> {
  // Linux answers ESPIPE for a pipe before it looks at the access mode.
  if (!f.positional) throw ESPIPE;
  if (!f.readable) throw EBADF;
  if (offset < 0) throw EINVAL;
  if (len === 0) return 0;
  t.mm.physFor(addr, Perm.Write);
  const got = f.pread(offset, Math.min(len, MAX_RW));
  const finish = (data: Uint8Array) => {
    t.mm.copyOut(addr, data);
    return data.length;
  };
  return got instanceof Promise ? got.then(finish) : finish(got);
}

/** pread64 implements pread64(2). */
export function pread64(t: Task, a: SyscallArgs): number | Promise<number> {
  if (a.long(3) < 0) throw EINVAL;
  const f = t.fds.get(a.int(0));
  return preadFile(t, f, a.long(3), a.pointer(1), Math.min(a.size(2), MAX_RW));
}

/** pwrite64 implements pwrite64(2). */
export function pwrite64(t: Task, a: SyscallArgs): number | Promise<number> {
  if (a.long(3) < 0) throw EINVAL;
  const f = t.fds.get(a.int(0));
  if (!f.positional) throw ESPIPE;
  if (!f.writable) throw EBADF;
  const offset = a.long(3);
  if (offset < 0) throw EINVAL;
  const len = Math.min(a.size(2), MAX_RW);
  if (len === 0) return 0;
  return f.pwrite(offset, t.mm.copyIn(a.pointer(1), len));
}

/** preadvAt reads into iovecs at an offset; for preadv2, offset -1 means the file offset. */
async function preadvAt(t: Task, a: SyscallArgs, v2: boolean): Promise<number> {
  const f = t.fds.get(a.int(0));
  const offset = a.long(3);
  if (v2 && a.int(5) !== 0) throw EOPNOTSUPP;
  if (!f.readable) throw EBADF;
  if (offset < 0 && !(v2 && offset === -1)) throw EINVAL;
  const iovs = readIovecs(t, a.pointer(1), a.int(2));
  let total = 0;
  for (const io of iovs) {
    if (io.len === 0) continue;
    const n = offset === -1 && v2 ? await readFile(t, f, io.base, io.len) : await preadFile(t, f, offset + total, io.base, io.len);
    total += n;
    if (n < io.len) break;
  }
  return total;
}

/** preadv implements preadv(2). */
export const preadv = (t: Task, a: SyscallArgs) => preadvAt(t, a, false);
/** preadv2 implements preadv2(2) with flags 0. */
export const preadv2 = (t: Task, a: SyscallArgs) => preadvAt(t, a, true);

/** pwritevAt writes iovecs at an offset; for pwritev2, offset -1 means the file offset. */
async function pwritevAt(t: Task, a: SyscallArgs, v2: boolean): Promise<number> {
  const f = t.fds.get(a.int(0));
  const offset = a.long(3);
  if (v2 && a.int(5) !== 0) throw EOPNOTSUPP;
  if (!f.writable) throw EBADF;
  if (offset < 0 && !(v2 && offset === -1)) throw EINVAL;
  const iovs = readIovecs(t, a.pointer(1), a.int(2));
  const data = Buffer.concat(iovs.map((io) => t.mm.copyIn(io.base, io.len)));
  if (data.length === 0) return 0;
  if (offset === -1) return writeFile(t, f, data);
  return f.pwrite(offset, data);
}

/** pwritev implements pwritev(2). */
export const pwritev = (t: Task, a: SyscallArgs) => pwritevAt(t, a, false);
/** pwritev2 implements pwritev2(2) with flags 0. */
export const pwritev2 = (t: Task, a: SyscallArgs) => pwritevAt(t, a, true);

const TCGETS = 0x5401;
const TIOCGWINSZ = 0x5413;
const FIONREAD = 0x541b;
const FIONCLEX = 0x5450;
const FIOCLEX = 0x5451;
const FIONBIO = 0x5421;

/** ioctl implements ioctl(2) for terminals (TCGETS, TIOCGWINSZ), FIONREAD, FIONBIO and close-on-exec. */
export function ioctl(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const f = t.fds.get(fd);
  if (f.statusFlags & O_PATH) throw EBADF;
  const request = a.uint(1);
  if (request === FIOCLEX || request === FIONCLEX) {
    t.fds.entry(fd).cloexec = request === FIOCLEX;
    return 0;
  }
  if (request === FIONBIO) {
    // The int at the argument turns O_NONBLOCK on or off, for any file.
    const on = t.mm.readU32(a.pointer(2)) !== 0;
    f.statusFlags = on ? f.statusFlags | O_NONBLOCK : f.statusFlags & ~O_NONBLOCK;
    return 0;
  }
  if (request === FIONREAD) {
    const put = (n: number) => {
      t.mm.writeU32(a.pointer(2), n);
      return 0;
    };
    const n = f.available();
    return n instanceof Promise ? n.then(put) : put(n);
  }
  const tty = f.hostTty();
  if (tty === undefined || (request !== TCGETS && request !== TIOCGWINSZ)) throw ENOTTY;
  const buf = new Uint8Array(request === TCGETS ? 36 : 8);
  const err = host.ttyIoctl(tty, request, buf);
  if (err !== 0) throw ENOTTY;
  t.mm.copyOut(a.pointer(2), buf);
  return 0;
}

const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5, F_SETLK = 6, F_SETLKW = 7;
const F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38, F_DUPFD_CLOEXEC = 1030, F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032;
const F_ADD_SEALS = 1033, F_GET_SEALS = 1034;

/** addSeals implements F_ADD_SEALS: EPERM for a file not open for writing, EINVAL for a file that is not a memfd. */
function addSeals(f: FileDescription, seals: number): number {
  if (!f.writable) throw EPERM;
  if (!(f.node instanceof MemfdFile)) throw EINVAL;
  f.node.addSeals(seals);
  return 0;
}

/** getSeals implements F_GET_SEALS: EINVAL for a file that is not a memfd. */
function getSeals(f: FileDescription): number {
  if (!(f.node instanceof MemfdFile)) throw EINVAL;
  return f.node.seals;
}

/**
 * lockRange reads a struct flock into a lock of `owner`: EINVAL for a bad
 * type, whence or range, as Linux checks them.
 */
async function lockRange(t: Task, f: FileDescription, addr: number, ofd: boolean, getting: boolean): Promise<{ lock: Lock; v: DataView }> {
  const v = new DataView(t.mm.copyIn(addr, 32).buffer);
  const type = v.getInt16(0, true);
  const whence = v.getInt16(2, true);
  if (type !== F_RDLCK && type !== F_WRLCK && (type !== F_UNLCK || getting)) throw EINVAL;
  if (ofd && v.getInt32(24, true) !== 0) throw EINVAL;
  if (!f.node) throw EBADF;
  let base: number;
  if (whence === SEEK_SET) base = 0;
  else if (whence === SEEK_CUR) base = await f.seek(0, SEEK_CUR);
  else if (whence === SEEK_END) base = (await f.stat()).size;
  else throw EINVAL;
  let start = base + Number(v.getBigInt64(8, true));
  const len = Number(v.getBigInt64(16, true));
  let end = len === 0 ? Infinity : start + len;
  if (len < 0) [start, end] = [start + len, start];
  if (start < 0) throw EINVAL;
  return { lock: { owner: ofd ? f : t.tid, type, start, end }, v };
}

async function getLock(t: Task, f: FileDescription, addr: number, ofd: boolean): Promise<number> {
  const { lock, v } = await lockRange(t, f, addr, ofd, true);
  const other = conflict(f.node!, lock);
  if (!other) {
    v.setInt16(0, F_UNLCK, true);
  } else {
    v.setInt16(0, other.type, true);
    v.setInt16(2, SEEK_SET, true);
    v.setBigInt64(8, BigInt(other.start), true);
    v.setBigInt64(16, BigInt(other.end === Infinity ? 0 : other.end - other.start), true);
    v.setInt32(24, typeof other.owner === 'number' ? other.owner : -1, true);
  }
  t.mm.copyOut(addr, new Uint8Array(v.buffer));
  return 0;
}

async function putLock(t: Task, f: FileDescription, addr: number, ofd: boolean): Promise<number> {
  const { lock } = await lockRange(t, f, addr, ofd, false);
  if ((lock.type === F_RDLCK && !f.readable) || (lock.type === F_WRLCK && !f.writable)) throw EBADF;
  // F_SETLKW would wait for the other owner, who is in this sandbox too;
  // it fails as F_SETLK does instead of waiting forever.
  setLock(f.node!, lock);
  return 0;
}

/** fcntl implements fcntl(2): descriptor flags, status flags and duplication. */
export function fcntl(t: Task, a: SyscallArgs): number | Promise<number> {
  const fd = a.int(0);
  const e = t.fds.entry(fd);
  switch (a.int(1)) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = a.int(2);
      if (min < 0 || min >= MAX_FDS) throw EINVAL;
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
      // O_DIRECT turns a pipe's packet mode on and off.
      const settable = O_APPEND | O_NONBLOCK | (e.file instanceof PipeEnd ? O_DIRECT : 0);
      e.file.statusFlags = (e.file.statusFlags & ~settable) | (a.int(2) & settable);
      return 0;
    }
    case F_GETPIPE_SZ:
      return e.file.pipeSize();
    case F_SETPIPE_SZ:
      return e.file.setPipeSize(a.uint(2));
    case F_ADD_SEALS:
      return addSeals(e.file, a.uint(2));
    case F_GET_SEALS:
      return getSeals(e.file);
    case F_GETLK:
    case F_OFD_GETLK:
      return getLock(t, e.file, a.pointer(2), a.int(1) === F_OFD_GETLK);
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return putLock(t, e.file, a.pointer(2), a.int(1) >= F_OFD_GETLK);
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

export function register(): void {
  full(0, read, 'd,r,u');
  full(1, write, 'd,w,u');
  full(19, readv, 'd,v,d');
  full(20, writev, 'd,v,d');
  full(17, pread64, 'd,p,u,d');
  full(18, pwrite64, 'd,p,u,d');
  full(295, preadv, 'd,v,d,d');
  full(296, pwritev, 'd,v,d,d');
  partial(327, preadv2, 'flags must be 0', 'd,v,d,d,x');
  partial(328, pwritev2, 'flags must be 0', 'd,v,d,d,x');
  full(8, lseek, 'd,d,d');
  partial(16, ioctl, 'TCGETS and TIOCGWINSZ on a terminal, FIONREAD, FIONBIO, FIOCLEX/FIONCLEX; ENOTTY otherwise', 'd,i,p');
  partial(72, fcntl, 'descriptor and status flags, F_DUPFD*, F_GETPIPE_SZ/F_SETPIPE_SZ, record and OFD locks, memfd seals; F_SETLKW does not wait', 'd,d,x');
  full(32, dup, 'd');
  full(33, dup2, 'd,d');
  full(292, dup3, 'd,d,x');
}
