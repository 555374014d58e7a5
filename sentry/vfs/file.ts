// file.ts: file descriptions (what an fd refers to) and the fd table: the
// standard streams a sandbox is given, and the base every open file of the
// VFS extends.
import type { MemoryRuns } from '../mm/mm.js';
import { fstatSync, read as fsRead, write as fsWrite } from 'node:fs';
import { isatty } from 'node:tty';
import { EBADF, EINVAL, EIO, EMFILE, ENOTDIR, EPIPE, ESPIPE } from '../errno.js';
import type { Attr, DirEntry, VNode } from './node.js';
import type { Dentry } from './vfs.js';
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

/**
 * FileDescription is an open file: what read, write, fstat, lseek and
 * poll act on. Reads return the bytes read (empty at end of file), or a
 * promise of them when they must wait.
 */
export abstract class FileDescription {
  /** statusFlags holds the access mode and O_APPEND/O_NONBLOCK. */
  statusFlags: number;
  constructor(accessMode: number) {
    this.statusFlags = accessMode;
  }
  get readable(): boolean {
    return (this.statusFlags & O_ACCMODE) !== O_WRONLY;
  }
  get writable(): boolean {
    return (this.statusFlags & O_ACCMODE) !== O_RDONLY;
  }
  /** holders counts the fds, in every fd table, that refer to this description. */
  holders = 0;
  /** node is the VFS node the description opened, and path its path then; none for streams. */
  node: VNode | undefined;
  dentry: Dentry | undefined;
  path = '';
  read(_max: number): Uint8Array | Promise<Uint8Array> {
    throw EBADF;
  }
  write(_data: Uint8Array): number | Promise<number> {
    throw EBADF;
  }
  /** positional is true for files that pread and pwrite can address (not pipes or streams: ESPIPE). */
  get positional(): boolean {
    return false;
  }
  /** readInto reads straight into the program's memory (runs of the memory file), where the file allows; undefined where not. */
  readInto(_target: MemoryRuns): number | Promise<number> | undefined {
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
  /** release is called when the last fd for the description closes. */
  release(): void {}
  /** readReady says whether a read would return now (data or end of file). */
  readReady(): boolean {
    return true;
  }
  /** waitReadable resolves when a read would not block. */
  waitReadable(): Promise<void> {
    return Promise.resolve();
  }
  seek(_offset: number, _whence: number): number | Promise<number> {
    throw ESPIPE;
  }
  /** hostTty is the host terminal's fd when this file is one, for terminal ioctls. */
  hostTty(): number | undefined {
    return undefined;
  }
  abstract stat(): Stat | Promise<Stat>;
}

function pipeStat(): Stat {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    dev: 12, ino: 1, mode: S_IFIFO | 0o600, nlink: 1, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0,
    rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeNs: now, mtimeNs: now, ctimeNs: now,
  };
}

/** MemoryInput is a stream given as bytes: a pipe whose writer has closed. */
export class MemoryInput extends FileDescription {
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
  stat(): Stat {
    return pipeStat();
  }
}

/** CollectOutput is a stream collected into memory (a pipe that is always drained). */
export class CollectOutput extends FileDescription {
  readonly chunks: Buffer[] = [];
  constructor() {
    super(O_WRONLY);
  }
  override write(data: Uint8Array): number {
    this.chunks.push(Buffer.from(data));
    return data.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
  stat(): Stat {
    return pipeStat();
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

/**
 * HostStream passes one of tvisor's own standard streams through. Reads
 * and writes go through libuv's thread pool so the Sentry never blocks on
 * them; one read is in flight at most, and what it brings is kept until
 * the program asks for it.
 */
export class HostStream extends FileDescription {
  private buffered: Buffer | undefined;
  private eof = false;
  private pending: Promise<void> | undefined;
  private readonly tty: boolean;

  constructor(private readonly fd: number, accessMode: number) {
    super(accessMode);
    this.tty = isatty(fd);
  }

  private fill(): Promise<void> {
    this.pending ??= new Promise<void>((resolve) => {
      const buf = Buffer.allocUnsafe(65536);
      fsRead(this.fd, buf, 0, buf.length, null, (err, n) => {
        this.pending = undefined;
        if (err && err.code === 'EAGAIN') {
          setTimeout(resolve, 5);
          return;
        }
        if (err || n === 0) this.eof = true;
        else this.buffered = buf.subarray(0, n);
        resolve();
      });
    });
    return this.pending;
  }

  override readReady(): boolean {
    return this.buffered !== undefined || this.eof;
  }

  override waitReadable(): Promise<void> {
    return this.readReady() ? Promise.resolve() : this.fill();
  }

  override read(max: number): Uint8Array | Promise<Uint8Array> {
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
    return this.fill().then(() => this.read(max));
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

  override hostTty(): number | undefined {
    return this.tty ? this.fd : undefined;
  }

  stat(): Stat {
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
        file.holders++;
        this.fds[fd] = { file, cloexec };
        return fd;
      }
    }
    throw EMFILE;
  }

  /** installAt puts file at fd, which must be free (replace releases what it held). */
  installAt(fd: number, file: FileDescription, cloexec: boolean): void {
    if (fd < 0 || fd >= MAX_FDS) throw EBADF;
    file.holders++;
    this.fds[fd] = { file, cloexec };
  }

  close(fd: number): void {
    const e = fd >= 0 ? this.fds[fd] : undefined;
    if (!e) throw EBADF;
    this.fds[fd] = undefined;
    this.drop(e.file);
  }

  /** installAt replaces whatever is at fd, releasing what it held. */
  replace(fd: number, file: FileDescription, cloexec: boolean): void {
    const old = this.fds[fd];
    this.fds[fd] = undefined;
    this.installAt(fd, file, cloexec);
    if (old) this.drop(old.file);
  }

  /** drop lets go of one fd's hold on a description, releasing it when no fd of any table refers to it. */
  private drop(file: FileDescription): void {
    if (--file.holders > 0) return;
    if (file.node) dropOwner(file.node, file);
    file.release();
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
