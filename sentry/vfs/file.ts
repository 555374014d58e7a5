// file.ts: file descriptions and the fd table. Until the VFS lands (issue
// 5) the only files are the standard streams a sandbox is given.
import { fstatSync, read as fsRead, write as fsWrite } from 'node:fs';
import { isatty } from 'node:tty';
import { EBADF, EIO, EMFILE, EPIPE, ESPIPE } from '../errno.js';

export const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3;
export const O_APPEND = 0x400, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
export const S_IFIFO = 0o010000, S_IFCHR = 0o020000, S_IFREG = 0o100000;

/** Stat is what fstat reports for a file. */
export interface Stat {
  dev: number; ino: number; mode: number; nlink: number; uid: number; gid: number; rdev: number;
  size: number; blksize: number; blocks: number;
  atimeMs: number; mtimeMs: number; ctimeMs: number;
}

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
  read(_max: number): Uint8Array | Promise<Uint8Array> {
    throw EBADF;
  }
  write(_data: Uint8Array): number | Promise<number> {
    throw EBADF;
  }
  /** readReady says whether a read would return now (data or end of file). */
  readReady(): boolean {
    return true;
  }
  /** waitReadable resolves when a read would not block. */
  waitReadable(): Promise<void> {
    return Promise.resolve();
  }
  seek(_offset: number, _whence: number): number {
    throw ESPIPE;
  }
  /** hostTty is the host terminal's fd when this file is one, for terminal ioctls. */
  hostTty(): number | undefined {
    return undefined;
  }
  abstract stat(): Stat;
}

function pipeStat(): Stat {
  const now = Date.now();
  return {
    dev: 12, ino: 1, mode: S_IFIFO | 0o600, nlink: 1, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0,
    rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeMs: now, mtimeMs: now, ctimeMs: now,
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
  const s = fstatSync(fd);
  return {
    dev: s.dev, ino: s.ino, mode: s.mode, nlink: s.nlink, uid: s.uid, gid: s.gid, rdev: s.rdev,
    size: s.size, blksize: s.blksize, blocks: s.blocks, atimeMs: s.atimeMs, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs,
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
        this.fds[fd] = { file, cloexec };
        return fd;
      }
    }
    throw EMFILE;
  }

  /** installAt replaces whatever is at fd. */
  installAt(fd: number, file: FileDescription, cloexec: boolean): void {
    if (fd < 0 || fd >= MAX_FDS) throw EBADF;
    this.fds[fd] = { file, cloexec };
  }

  close(fd: number): void {
    if (fd < 0 || !this.fds[fd]) throw EBADF;
    this.fds[fd] = undefined;
  }
}
