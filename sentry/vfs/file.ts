// file.ts: file descriptions (what an fd refers to) and the fd table: the
// standard streams a sandbox is given, and the base every open file of the
// VFS extends.
import type { MemoryRuns } from '../mm/mm.js';
import { fstatSync, read as fsRead, write as fsWrite } from 'node:fs';
import { isatty } from 'node:tty';
import { EAGAIN, EBADF, EINVAL, EIO, EMFILE, ENOTDIR, ENOTTY, EPERM, EPIPE, ESPIPE } from '../errno.js';
import type { Attr, DirEntry, VNode } from './node.js';
import type { Dentry } from './vfs.js';
import type { Task } from '../kernel/task.js';
import { dropOwner } from './locks.js';

export const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3;
export const O_APPEND = 0x400, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
export const S_IFIFO = 0o010000, S_IFCHR = 0o020000, S_IFREG = 0o100000;

export const O_PATH = 0o10000000, O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000;
export const O_CREAT = 0o100, O_EXCL = 0o200, O_NOCTTY = 0o400, O_TRUNC = 0o1000, O_TMPFILE = 0o20000000;
export const O_DSYNC = 0o10000, O_SYNC = 0o4010000, O_DIRECT = 0o40000, O_LARGEFILE = 0o100000, O_NOATIME = 0o1000000;

/** Stat is what fstat reports for a file: a node's attributes. */
export type Stat = Attr;

export const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;

/** Poll events (poll(2)): what readiness() reports. */
export const POLLIN = 0x1, POLLPRI = 0x2, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
export const POLLRDNORM = 0x40, POLLRDBAND = 0x80, POLLWRNORM = 0x100, POLLWRBAND = 0x200, POLLRDHUP = 0x2000;
/** ALL_EVENTS is the key of a change that may concern any event. */
export const ALL_EVENTS = 0xffffffff;
/** DEFAULT_POLLMASK is the readiness of a file that never blocks (Linux's for files without a poll method). */
export const DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

/**
 * Changed is told that a file's readiness may have changed; `events` is
 * the key of the wake-up (Linux's poll key): the events the change may
 * have made true, ALL_EVENTS when the file does not say. Edge-triggered
 * epoll looks at it.
 */
export type Changed = (events: number) => void;

/**
 * Waiters are the callbacks a file calls when its readiness may have
 * changed (a Linux wait queue): blocked reads and writes, poll, select
 * and epoll watch files through them. As on Linux, the last added is
 * called first (epoll's order of events shows it).
 */
export class Waiters {
  private readonly callbacks = new Set<Changed>();
  /** add registers `changed` and returns the function that removes it. */
  add(changed: Changed): () => void {
    this.callbacks.add(changed);
    return () => {
      this.callbacks.delete(changed);
    };
  }
  notify(events = ALL_EVENTS): void {
    for (const changed of [...this.callbacks].reverse()) changed(events);
  }
}

const unwatched = () => {};

/**
 * FileDescription is an open file: what read, write, fstat, lseek and
 * poll act on. Reads return the bytes read (empty at end of file), or a
 * promise of them when they wait for a filesystem.
 *
 * A file that can block (a pipe, a stream from the host) never waits
 * inside read or write: it throws EAGAIN at once, and says through
 * readiness() and watch() when to try again. The system call chooses
 * between EAGAIN (O_NONBLOCK) and waiting, so that a signal can end the
 * wait without losing data (sentry/syscalls/blocking.ts).
 *
 * Descriptions are counted: each fd that refers to one, in any task's fd
 * table, holds a reference (incRef/decRef), and the last decRef releases
 * it. The fd table takes and drops them; so must whatever else keeps a
 * description (a forked table takes one for each of its fds, a message in
 * a socket one for each descriptor it carries).
 *
 * The calls whose answer depends on who asks (a signalfd reads and polls
 * the signals of the calling task) are given the task as `caller`.
 */
export abstract class FileDescription {
  /** statusFlags holds the access mode and O_APPEND/O_NONBLOCK. */
  statusFlags: number;
  private refs = 0;
  /** releaseHooks are told when the description goes (epoll instances that watch it). */
  private releaseHooks: Set<() => void> | undefined;
  constructor(accessMode: number) {
    this.statusFlags = accessMode;
  }
  get readable(): boolean {
    return (this.statusFlags & O_ACCMODE) !== O_WRONLY;
  }
  get writable(): boolean {
    return (this.statusFlags & O_ACCMODE) !== O_RDONLY;
  }
  /** node is the VFS node the description opened, and path its path then; none for streams. */
  node: VNode | undefined;
  dentry: Dentry | undefined;
  path = '';
  /** read returns up to `max` bytes; EAGAIN when it would block. */
  read(_max: number, _caller?: Task): Uint8Array | Promise<Uint8Array> {
    throw EBADF;
  }
  /** write writes some or all of data and returns how much; EAGAIN when it would block before writing any. */
  write(_data: Uint8Array, _caller?: Task): number | Promise<number> {
    throw EBADF;
  }
  /**
   * recordWrites is true for files whose write takes a record whole or
   * not at all (an eventfd's value, a datagram): what one write took is
   * all the call writes, even when the buffer was longer.
   */
  get recordWrites(): boolean {
    return false;
  }
  /** brokenPipeSignals is true for files whose EPIPE sends the writer SIGPIPE: all but datagram sockets. */
  get brokenPipeSignals(): boolean {
    return true;
  }
  /** positional is true for files that pread and pwrite can address (not pipes or streams: ESPIPE). */
  get positional(): boolean {
    return false;
  }
  /** readInto reads straight into the program's memory (runs of the memory file), where the file allows; undefined where not. */
  readInto(_target: MemoryRuns): number | Promise<number> | undefined {
    return undefined;
  }
  /** preadInto is readInto at an offset, leaving the file offset alone. */
  preadInto(_offset: number, _target: MemoryRuns): number | Promise<number> | undefined {
    return undefined;
  }
  /** pread and pwrite act at an offset, leaving the file offset alone. */
  pread(_offset: number, _max: number): Uint8Array | Promise<Uint8Array> {
    throw ESPIPE;
  }
  pwrite(_offset: number, _data: Uint8Array): number | Promise<number> {
    throw ESPIPE;
  }
  /** getdents returns the next directory entries (at most `max`), "." and ".." first. */
  getdents(_max: number): DirEntry[] | Promise<DirEntry[]> {
    throw ENOTDIR;
  }
  /** truncate sets the size of a file opened for writing. */
  truncate(_size: number): void | Promise<void> {
    throw EINVAL;
  }
  /** sync flushes what was written (fsync). */
  sync(): void | Promise<void> {}
  incRef(): void {
    this.refs++;
  }
  /** decRef drops a reference; the last one drops the description's OFD locks and releases it. */
  decRef(): void {
    if (--this.refs > 0) return;
    if (this.node) dropOwner(this.node, this);
    if (this.releaseHooks) for (const hook of [...this.releaseHooks]) hook();
    this.release();
  }
  /** onRelease calls `hook` when the description goes, until the function it returns is called. */
  onRelease(hook: () => void): () => void {
    (this.releaseHooks ??= new Set()).add(hook);
    return () => {
      this.releaseHooks?.delete(hook);
    };
  }
  /** release is called when the last reference to the description goes. */
  release(): void {}
  /**
   * pollable is true for files with a poll method of their own (pipes,
   * sockets, the anonymous files): only those may join an epoll set
   * (EPERM for regular files and directories, as on Linux).
   */
  get pollable(): boolean {
    return false;
  }
  /** readiness returns the poll events that hold now (POLLIN: a read would not block; POLLOUT: a write would not). */
  readiness(_caller?: Task): number {
    return DEFAULT_POLLMASK;
  }
  /** watch calls `changed` whenever readiness() may have changed, until the function it returns is called. */
  watch(_changed: Changed, _caller?: Task): () => void {
    return unwatched;
  }
  seek(_offset: number, _whence: number): number | Promise<number> {
    throw ESPIPE;
  }
  /** hostTty is the host terminal's fd when this file is one, for terminal ioctls. */
  hostTty(): number | undefined {
    return undefined;
  }
  /** available is how many bytes a read would return now (FIONREAD); ENOTTY where the file cannot say. */
  available(): number | Promise<number> {
    throw ENOTTY;
  }
  /** pipeSize and setPipeSize serve F_GETPIPE_SZ and F_SETPIPE_SZ; EBADF for what is not a pipe. */
  pipeSize(): number {
    throw EBADF;
  }
  setPipeSize(_arg: number): number {
    throw EBADF;
  }
  /** procLink is what /proc/PID/fd/N reads as: the file's path, or an anonymous file's name. */
  procLink(): string {
    return this.dentry?.path ?? 'anon_inode:[tvisor]';
  }
  abstract stat(): Stat | Promise<Stat>;
}

export const PAGE_SIZE = 4096;
/** PIPE_DEFAULT_SIZE is a new pipe's capacity, PIPE_MAX_SIZE /proc/sys/fs/pipe-max-size. */
export const PIPE_DEFAULT_SIZE = 65536, PIPE_MAX_SIZE = 1 << 20;

/**
 * pipeSizeFor is the capacity F_SETPIPE_SZ makes of `arg`, rounded as
 * Linux rounds it: at least a page, else the next power of two. The
 * argument is an unsigned int, EINVAL past 2^31, and EPERM past
 * pipe-max-size: the sandbox's programs do not have CAP_SYS_RESOURCE.
 */
export function pipeSizeFor(arg: number): number {
  const size = arg >>> 0;
  if (size > 2 ** 31) throw EINVAL;
  const rounded = size <= PAGE_SIZE ? PAGE_SIZE : 2 ** Math.ceil(Math.log2(size));
  if (rounded > PIPE_MAX_SIZE) throw EPERM;
  return rounded;
}

let lastPipeIno = 0;
/** nextPipeIno numbers the sandbox's pipes (pipefs inodes), as fstat and /proc/PID/fd show them. */
export function nextPipeIno(): number {
  return ++lastPipeIno;
}

/** PIPEFS_DEV is the device fstat shows for pipes. */
const PIPEFS_DEV = 12;

/** FileTimes are a file's access, modification and change times in nanoseconds. */
export interface FileTimes {
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** pipeStat is what fstat reports for a pipe: a FIFO of size 0, owned by the sandbox's user. */
export function pipeStat(ino: number, times: FileTimes): Stat {
  return {
    dev: PIPEFS_DEV, ino, mode: S_IFIFO | 0o600, nlink: 1, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0,
    rdev: 0, size: 0, blksize: PAGE_SIZE, blocks: 0, ...times,
  };
}

/** nowNs is the realtime clock in nanoseconds, for file times. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/**
 * StandardStream is a stream a run gives its program as fd 0, 1 or 2:
 * one end of a pipe whose other end is outside the sandbox, as fstat,
 * F_GETPIPE_SZ and /proc/PID/fd show it.
 */
abstract class StandardStream extends FileDescription {
  protected readonly ino = nextPipeIno();
  private readonly created = nowNs();
  private size = PIPE_DEFAULT_SIZE;
  override get pollable(): boolean {
    return true;
  }
  override pipeSize(): number {
    return this.size;
  }
  /** setPipeSize records the size; the stream itself never fills. */
  override setPipeSize(arg: number): number {
    this.size = pipeSizeFor(arg);
    return this.size;
  }
  override procLink(): string {
    return `pipe:[${this.ino}]`;
  }
  stat(): Stat {
    return pipeStat(this.ino, { atimeNs: this.created, mtimeNs: this.created, ctimeNs: this.created });
  }
}

/** MemoryInput is a stream given as bytes: a pipe whose writer has closed. */
export class MemoryInput extends StandardStream {
  private pos = 0;
  constructor(private readonly data: Uint8Array) {
    super(O_RDONLY);
  }
  override read(max: number): Uint8Array {
    const n = Math.min(max, this.data.length - this.pos);
    const out = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  override available(): number {
    return this.data.length - this.pos;
  }
  /** readiness is readable while bytes remain, and hung up: the writer is gone. */
  override readiness(): number {
    return (this.pos < this.data.length ? POLLIN | POLLRDNORM : 0) | POLLHUP;
  }
}

/** CollectOutput is a stream collected into memory (a pipe that is always drained). */
export class CollectOutput extends StandardStream {
  readonly chunks: Buffer[] = [];
  constructor() {
    super(O_WRONLY);
  }
  override write(data: Uint8Array): number {
    this.chunks.push(Buffer.from(data));
    return data.length;
  }
  override readiness(): number {
    return POLLOUT | POLLWRNORM;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function hostStat(fd: number): Stat {
  const s = fstatSync(fd, { bigint: true });
  return {
    dev: Number(s.dev), ino: Number(s.ino), mode: Number(s.mode), nlink: Number(s.nlink), uid: Number(s.uid), gid: Number(s.gid),
    rdev: Number(s.rdev), size: Number(s.size), blksize: Number(s.blksize), blocks: Number(s.blocks),
    atimeNs: s.atimeNs, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs,
  };
}

const S_IFMT = 0o170000, S_IFSOCK = 0o140000;

/**
 * HostStream passes one of tvisor's own standard streams through. Reads
 * and writes go through libuv's thread pool so the Sentry never blocks on
 * them; one read is in flight at most, and what it brings is kept until
 * the program asks for it. A read that finds nothing kept starts one and
 * fails with EAGAIN; watchers hear when it is done.
 */
export class HostStream extends StandardStream {
  private buffered: Buffer | undefined;
  private eof = false;
  private pending = false;
  private readonly tty: boolean;
  /** mode is the host file's type and permissions. */
  private readonly mode: number;
  private readonly hostIno: number;
  private readonly waiters = new Waiters();

  constructor(private readonly fd: number, accessMode: number) {
    super(accessMode);
    this.tty = isatty(fd);
    let s: Stat | undefined;
    try {
      s = hostStat(fd);
    } catch {
      // Closed on the host: reads come to an end at once.
    }
    this.mode = s?.mode ?? 0;
    this.hostIno = s?.ino ?? 0;
  }

  private get fifo(): boolean {
    return (this.mode & S_IFMT) === S_IFIFO;
  }

  /** fill starts a read from the host unless one is under way. */
  private fill(): void {
    if (this.pending) return;
    this.pending = true;
    const buf = Buffer.allocUnsafe(65536);
    fsRead(this.fd, buf, 0, buf.length, null, (err, n) => {
      this.pending = false;
      if (err && err.code === 'EAGAIN') {
        // The host's descriptor does not block: look again soon.
        setTimeout(() => this.waiters.notify(), 5);
        return;
      }
      if (err || n === 0) this.eof = true;
      else this.buffered = buf.subarray(0, n);
      this.waiters.notify();
    });
  }

  override read(max: number): Uint8Array {
    if (!this.readable) throw EBADF;
    if (this.buffered) {
      const out = this.buffered.subarray(0, max);
      this.buffered = max < this.buffered.length ? this.buffered.subarray(max) : undefined;
      return out;
    }
    if (this.eof) {
      // A terminal reports end of file once per ^D; read again next time.
      if (this.tty) this.eof = false;
      return new Uint8Array(0);
    }
    this.fill();
    throw EAGAIN;
  }

  override write(data: Uint8Array): Promise<number> {
    if (!this.writable) throw EBADF;
    const copy = Buffer.from(data);
    return new Promise((resolve, reject) => {
      fsWrite(this.fd, copy, 0, copy.length, null, (err, n) => {
        if (!err) resolve(n);
        else if (err.code === 'EAGAIN') setTimeout(() => this.write(copy).then(resolve, reject), 1);
        else reject(err.code === 'EPIPE' ? EPIPE : EIO);
      });
    });
  }

  /**
   * readiness reports what a read would find. Whether the host has bytes
   * is known only by reading, so asking starts a read when none is kept.
   * Writes are taken as always possible; they queue on the host.
   */
  override readiness(): number {
    let mask = this.writable ? POLLOUT | POLLWRNORM : 0;
    if (!this.readable) return mask;
    if (this.buffered) mask |= POLLIN | POLLRDNORM;
    else if (this.eof) mask |= this.fifo ? POLLHUP : POLLIN | POLLRDNORM;
    else this.fill();
    return mask;
  }

  override watch(changed: Changed): () => void {
    return this.waiters.add(changed);
  }

  /** pollable: a host pipe, socket or terminal polls; a regular file does not. */
  override get pollable(): boolean {
    return (this.mode & S_IFMT) !== S_IFREG;
  }

  override available(): number {
    return this.buffered?.length ?? 0;
  }

  override hostTty(): number | undefined {
    return this.tty ? this.fd : undefined;
  }

  override pipeSize(): number {
    if (!this.fifo) throw EBADF;
    return super.pipeSize();
  }

  /** setPipeSize records the size; the host's pipe keeps its own. */
  override setPipeSize(arg: number): number {
    if (!this.fifo) throw EBADF;
    return super.setPipeSize(arg);
  }

  override procLink(): string {
    if (this.tty) return '/dev/tty';
    return `${(this.mode & S_IFMT) === S_IFSOCK ? 'socket' : 'pipe'}:[${this.hostIno}]`;
  }

  override stat(): Stat {
    return hostStat(this.fd);
  }
}

/** FdEntry is one slot of the fd table. */
interface FdEntry {
  file: FileDescription;
  cloexec: boolean;
}

/** MAX_FDS is RLIMIT_NOFILE's default. */
export const MAX_FDS = 1024;

/**
 * FdTable maps a task's fds to descriptions. Each fd holds a reference to
 * its description (FileDescription.incRef), so the description lives as
 * long as any fd, in this table or another, refers to it.
 */
export class FdTable {
  private readonly fds: (FdEntry | undefined)[] = [];
  /** users counts the processes sharing this table (clone with CLONE_FILES). */
  users = 1;

  get(fd: number): FileDescription {
    const e = fd >= 0 ? this.fds[fd] : undefined;
    if (!e) throw EBADF;
    return e.file;
  }

  entry(fd: number): FdEntry {
    const e = fd >= 0 ? this.fds[fd] : undefined;
    if (!e) throw EBADF;
    return e;
  }

  /** install puts file at the lowest free fd >= min. */
  install(file: FileDescription, cloexec: boolean, min = 0): number {
    for (let fd = min; fd < MAX_FDS; fd++) {
      if (!this.fds[fd]) {
        file.incRef();
        this.fds[fd] = { file, cloexec };
        return fd;
      }
    }
    throw EMFILE;
  }

  /** installAt puts file at fd, releasing what the fd held before (dup2). */
  installAt(fd: number, file: FileDescription, cloexec: boolean): void {
    if (fd < 0 || fd >= MAX_FDS) throw EBADF;
    const old = this.fds[fd];
    file.incRef();
    this.fds[fd] = { file, cloexec };
    old?.file.decRef();
  }

  close(fd: number): void {
    const e = fd >= 0 ? this.fds[fd] : undefined;
    if (!e) throw EBADF;
    this.fds[fd] = undefined;
    e.file.decRef();
  }

  /**
   * size is how many fds the table has room for as Linux grows it: 64,
   * then powers of two from 128 past the highest fd used. select(2)
   * looks no further.
   */
  get size(): number {
    if (this.fds.length <= 64) return 64;
    let n = 128;
    while (n < this.fds.length) n *= 2;
    return n;
  }

  /** fork copies the table for a child process: the same descriptions, held once more each. */
  fork(): FdTable {
    const t = new FdTable();
    this.fds.forEach((e, fd) => {
      if (e) t.installAt(fd, e.file, e.cloexec);
    });
    return t;
  }

  /** closeOnExec closes the fds marked close-on-exec, as execve does. */
  closeOnExec(): void {
    for (const [fd, e] of this.entries()) if (e.cloexec) this.close(fd);
  }

  /** entries lists the open fds in order, for /proc/self/fd and close_range. */
  entries(): [number, FdEntry][] {
    const out: [number, FdEntry][] = [];
    this.fds.forEach((e, fd) => {
      if (e) out.push([fd, e]);
    });
    return out;
  }

  /** closeAll closes every fd (the end of a run). */
  closeAll(): void {
    for (const [fd] of this.entries()) this.close(fd);
  }
}
