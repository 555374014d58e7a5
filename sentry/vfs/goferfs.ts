// goferfs.ts: nodes that live on the host, served by the Gofer. The
// Sentry holds a handle per node it walked to; every operation is a Gofer
// call, and a Gofer error comes back as the same errno.
import { close as fsClose, read as fsRead, readv as fsReadv } from 'node:fs';
import { EAGAIN, EISDIR, ELOOP, EOPNOTSUPP, EROFS, fromErrno, type SyscallError } from '../errno.js';
import { host } from '../native/host.js';
import type { MemoryRuns } from '../mm/mm.js';
import { GoferError, type Gofer, type Handle } from '../../gofer/api.js';
import { Directory, PathFile, RegularFile, type FileData } from './open-file.js';
import { O_ACCMODE, O_PATH, O_RDONLY, type FileDescription } from './file.js';
import {
  S_IFDIR, S_IFLNK, S_IFMT, VNode,
  type Attr, type Creds, type DirEntry, type SetAttr, type StatFs,
} from './node.js';

/** errno turns a Gofer failure into the program's errno. */
function errno(err: unknown): SyscallError {
  if (err instanceof GoferError) return fromErrno(err.errno);
  return fromErrno(5);
}

/** call runs a Gofer call, turning its failure into an errno. */
async function call<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw errno(err);
  }
}

/** GoferMount is one tree the Gofer serves, with its parent-less root. */
export class GoferMount {
  constructor(readonly gofer: Gofer, readonly writable: boolean) {}

  async root(index: number): Promise<GoferNode> {
    const w = await call(this.gofer.attach(index));
    return new GoferNode(this, w.handle, w.stat);
  }
}

export class GoferNode extends VNode {
  constructor(readonly mount: GoferMount, readonly handle: Handle, private cached: Attr) {
    super();
  }

  private get gofer(): Gofer {
    return this.mount.gofer;
  }

  /** mode is the node's type and permissions as walked (they do not change under it). */
  get mode(): number {
    return this.cached.mode;
  }

  async attr(): Promise<Attr> {
    // A read-only tree does not change under the sandbox: the walk's stat holds.
    if (this.mount.writable) this.cached = await call(this.gofer.stat(this.handle));
    return { ...this.cached };
  }

  private writeCheck(): void {
    if (!this.mount.writable) throw EROFS;
  }

  override async lookup(name: string): Promise<VNode | undefined> {
    try {
      const w = await this.gofer.lookup(this.handle, name);
      return new GoferNode(this.mount, w.handle, w.stat);
    } catch (err) {
      const e = errno(err);
      if (e.errno === 2) return undefined;
      throw e;
    }
  }

  override async readdir(): Promise<DirEntry[]> {
    const all = await call(this.gofer.readdir(this.handle));
    return all.filter((e) => e.name !== '.' && e.name !== '..');
  }

  override async create(name: string, mode: number, _creds: Creds): Promise<VNode> {
    this.writeCheck();
    const w = await call(this.gofer.create(this.handle, name, 2, mode));
    return new GoferNode(this.mount, w.handle, w.stat);
  }

  override async mkdir(name: string, mode: number): Promise<VNode> {
    this.writeCheck();
    const w = await call(this.gofer.mkdir(this.handle, name, mode));
    return new GoferNode(this.mount, w.handle, w.stat);
  }

  override async symlink(name: string, target: string): Promise<VNode> {
    this.writeCheck();
    const w = await call(this.gofer.symlink(this.handle, name, target));
    return new GoferNode(this.mount, w.handle, w.stat);
  }

  override async link(name: string, target: VNode): Promise<void> {
    this.writeCheck();
    if (!(target instanceof GoferNode) || target.mount !== this.mount) throw fromErrno(18);
    await call(this.gofer.link(target.handle, this.handle, name));
  }

  override async unlink(name: string): Promise<void> {
    this.writeCheck();
    await call(this.gofer.unlink(this.handle, name, false));
  }

  override async rmdir(name: string): Promise<void> {
    this.writeCheck();
    await call(this.gofer.unlink(this.handle, name, true));
  }

  override async rename(name: string, newDir: VNode, newName: string, flags: number): Promise<void> {
    this.writeCheck();
    if (!(newDir instanceof GoferNode) || newDir.mount !== this.mount) throw fromErrno(18);
    await call(this.gofer.rename(this.handle, name, newDir.handle, newName, flags));
  }

  override readlink(): Promise<string> {
    return call(this.gofer.readlink(this.handle));
  }

  override async setattr(s: SetAttr): Promise<void> {
    this.writeCheck();
    const g = this.gofer;
    if (s.size !== undefined) await call(g.truncate(this.handle, s.size));
    if (s.mode !== undefined) await call(g.chmod(this.handle, s.mode & 0o7777));
    if (s.uid !== undefined || s.gid !== undefined) await call(g.chown(this.handle, s.uid ?? -1, s.gid ?? -1));
    if (s.atimeNs !== undefined || s.mtimeNs !== undefined) await call(g.utimens(this.handle, s.atimeNs ?? null, s.mtimeNs ?? null));
  }

  override statfs(): Promise<StatFs> {
    return call(this.gofer.statfs(this.handle));
  }

  /** contentKey is the host file's identity with its size and times: a change on the host changes it. */
  override async contentKey(): Promise<string> {
    const a = await this.attr();
    return `${a.dev}:${a.ino}:${a.size}:${a.mtimeNs}:${a.ctimeNs}`;
  }

  async open(flags: number): Promise<FileDescription> {
    if (flags & O_PATH) return new PathFile(this, flags);
    const type = this.cached.mode & S_IFMT;
    if (type === S_IFLNK) throw ELOOP;
    if (type === S_IFDIR) {
      if ((flags & O_ACCMODE) !== O_RDONLY) throw EISDIR;
      return new Directory(this, flags, this);
    }
    if ((flags & O_ACCMODE) !== O_RDONLY) this.writeCheck();
    const h = await call(this.gofer.open(this.handle, flags & (O_ACCMODE | 0o2000 /* O_APPEND */ | 0o1000 /* O_TRUNC */)));
    // A file opened only to read is read through a descriptor of the
    // Sentry's own (taken from the Gofer): no round trip, one copy fewer.
    const local = (flags & O_ACCMODE) === O_RDONLY ? this.gofer.takeFd?.(h) : undefined;
    return new RegularFile(this, new GoferData(this.gofer, h, local), flags);
  }
}

/** IOV_MAX is the most views one host readv takes. */
const IOV_MAX = 1024;

/** LOCAL_READ_MAX bounds one read through a taken descriptor (a longer read returns short, as Linux may). */
const LOCAL_READ_MAX = 16 << 20;

/**
 * GoferData is an open host file's contents, read and written through the
 * Gofer, or read through `local`, the Sentry's own descriptor for it, on
 * libuv's thread pool so that a slow disk never holds the event loop.
 */
class GoferData implements FileData {
  constructor(private readonly gofer: Gofer, private readonly h: Handle, private readonly local?: number) {}

  read(offset: number, length: number): Promise<Uint8Array> {
    const fd = this.local;
    if (fd === undefined) return call(this.gofer.read(this.h, offset, length));
    const buf = Buffer.allocUnsafe(Math.min(length, LOCAL_READ_MAX));
    return new Promise((resolve, reject) => {
      fsRead(fd, buf, 0, buf.length, offset, (err, n) => (err ? reject(fromErrno(Math.abs(err.errno ?? 5))) : resolve(buf.subarray(0, n))));
    });
  }

  write(offset: number, data: Uint8Array): Promise<number> {
    return call(this.gofer.write(this.h, offset, data));
  }

  /**
   * readInto reads what the host's page cache holds at once, on the event
   * loop (preadv2 with RWF_NOWAIT never waits for a disk), and the rest,
   * if any, on the thread pool.
   */
  readInto(offset: number, target: MemoryRuns): number | Promise<number> | undefined {
    const fd = this.local;
    if (fd === undefined) return undefined;
    const n = target.pairs.length <= 2 * IOV_MAX ? host.preadvNowait(fd, target.address, target.pairs, offset) : -EAGAIN.errno;
    if (n === target.length || n === 0) return n;
    if (n < 0 && n !== -EAGAIN.errno && n !== -EOPNOTSUPP.errno) return Promise.reject(fromErrno(-n));
    const done = Math.max(n, 0);
    return new Promise((resolve, reject) => {
      fsReadv(fd, target.views(done), offset + done, (err, m) => (err ? reject(fromErrno(Math.abs(err.errno ?? 5))) : resolve(done + m)));
    });
  }

  async size(): Promise<number> {
    return (await call(this.gofer.stat(this.h))).size;
  }

  truncate(size: number): Promise<void> {
    return call(this.gofer.truncate(this.h, size));
  }

  sync(): Promise<void> {
    return call(this.gofer.fsync(this.h));
  }

  close(): void {
    if (this.local !== undefined) fsClose(this.local, () => undefined);
    this.gofer.close(this.h).catch(() => undefined);
  }
}
