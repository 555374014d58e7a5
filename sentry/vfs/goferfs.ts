// goferfs.ts: nodes that live on the host, served by the Gofer. The
// Sentry holds a handle per node it walked to; every operation is a Gofer
// call, and a Gofer error comes back as the same errno.
import { close as fsClose, read as fsRead, readv as fsReadv } from 'node:fs';
import { EAGAIN, EISDIR, ELOOP, ENOMEM, EOPNOTSUPP, EROFS, fromErrno, type SyscallError } from '../errno.js';
import { host } from '../native/host.js';
import { SharedMemory, type MemoryRuns } from '../mm/mm.js';
import type { MemoryFile } from '../mm/memory-file.js';
import { GoferError, type Gofer, type Handle } from '../../gofer/api.js';
import { Directory, PathFile, RegularFile, type FileData } from './open-file.js';
import { O_ACCMODE, O_PATH, O_RDONLY, O_RDWR, type FileDescription } from './file.js';
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
  /** shared holds the host files that shared mappings map now, by "dev:ino". */
  readonly shared = new Map<string, SharedFile>();

  constructor(readonly gofer: Gofer, readonly writable: boolean) {}

  async root(index: number): Promise<GoferNode> {
    const w = await call(this.gofer.attach(index));
    return new GoferNode(this, w.handle, w.stat);
  }
}

export class GoferNode extends VNode {
  /** key names the host file in its mount (its device and inode, which never change), whatever the path to it. */
  readonly key: string;

  constructor(readonly mount: GoferMount, readonly handle: Handle, private cached: Attr) {
    super();
    this.key = `${cached.dev}:${cached.ino}`;
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

  /** target is a symlink's target, once read from a read-only tree (which does not change under the sandbox). */
  private target: string | undefined;

  override async readlink(): Promise<string> {
    if (this.target !== undefined) return this.target;
    const target = await call(this.gofer.readlink(this.handle));
    if (!this.mount.writable) this.target = target;
    return target;
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

  /**
   * sharedMemory is the host file's contents while shared mappings map
   * it: brought into memory by the first mapping that writes (charged to
   * the memory limit, ENOMEM past it), and mapped by every shared mapping
   * after it. Without one, a mapping that only reads comes from the page
   * cache (undefined).
   */
  override async sharedMemory(writable: boolean, mem: MemoryFile): Promise<SharedMemory | undefined> {
    const open = this.mount.shared.get(this.key);
    if (open) return open.memory;
    if (!writable) return undefined;
    this.writeCheck();
    const size = (await this.attr()).size;
    const h = await call(this.gofer.open(this.handle, O_RDWR));
    const file = new SharedFile(this.mount, this.key, new GoferData(this.gofer, h), mem, size);
    try {
      await file.load();
    } catch (err) {
      file.drop();
      throw err;
    }
    // Another mapping may have brought it in meanwhile: the first one wins.
    const raced = this.mount.shared.get(this.key);
    if (raced) {
      file.drop();
      return raced.memory;
    }
    this.mount.shared.set(this.key, file);
    return file.memory;
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
    return new RegularFile(this, new GoferData(this.gofer, h, local, this), flags);
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
  /** node, when given, is the file's node: while shared mappings map it, reads and writes go through its shared contents. */
  constructor(private readonly gofer: Gofer, private readonly h: Handle, private readonly local?: number, private readonly node?: GoferNode) {}

  private get shared(): SharedFile | undefined {
    const shared = this.node?.mount.shared;
    return shared && shared.size > 0 ? shared.get(this.node!.key) : undefined;
  }

  read(offset: number, length: number): Uint8Array | Promise<Uint8Array> {
    const shared = this.shared;
    if (shared) return shared.read(offset, length);
    const fd = this.local;
    if (fd === undefined) return call(this.gofer.read(this.h, offset, length));
    const buf = Buffer.allocUnsafe(Math.min(length, LOCAL_READ_MAX));
    return new Promise((resolve, reject) => {
      fsRead(fd, buf, 0, buf.length, offset, (err, n) => (err ? reject(fromErrno(Math.abs(err.errno ?? 5))) : resolve(buf.subarray(0, n))));
    });
  }

  write(offset: number, data: Uint8Array, append = false): Promise<number> {
    const shared = this.shared;
    // The host file takes the write (at its end for O_APPEND); shared contents take it too.
    return call(this.gofer.write(this.h, offset, data)).then((n) => {
      shared?.wrote(append ? shared.size : offset, data.subarray(0, n));
      return n;
    });
  }

  /**
   * readInto reads what the host's page cache holds at once, on the event
   * loop (preadv2 with RWF_NOWAIT never waits for a disk), and the rest,
   * if any, on the thread pool.
   */
  readInto(offset: number, target: MemoryRuns): number | Promise<number> | undefined {
    const fd = this.local;
    if (fd === undefined || this.shared) return undefined;
    const n = target.pairs.length <= 2 * IOV_MAX ? host.preadvNowait(fd, target.address, target.pairs, offset) : -EAGAIN.errno;
    if (n === target.length || n === 0) return n;
    if (n < 0 && n !== -EAGAIN.errno && n !== -EOPNOTSUPP.errno) return Promise.reject(fromErrno(-n));
    const done = Math.max(n, 0);
    return new Promise((resolve, reject) => {
      fsReadv(fd, target.views(done), offset + done, (err, m) => (err ? reject(fromErrno(Math.abs(err.errno ?? 5))) : resolve(done + m)));
    });
  }

  async size(): Promise<number> {
    return this.shared?.size ?? (await call(this.gofer.stat(this.h))).size;
  }

  async truncate(size: number): Promise<void> {
    await call(this.gofer.truncate(this.h, size));
    this.shared?.resize(size);
  }

  async sync(): Promise<void> {
    await this.shared?.sync();
    await call(this.gofer.fsync(this.h));
  }

  close(): void {
    if (this.local !== undefined) fsClose(this.local, () => undefined);
    this.gofer.close(this.h).catch(() => undefined);
  }
}

/** LOAD_CHUNK is how much of a host file one Gofer call moves when shared contents are brought in or written back. */
const LOAD_CHUNK = 1 << 20;

/**
 * SharedFile is a host file's contents while shared mappings map it: frames
 * of the memory file that every shared mapping of the file maps, so that
 * their stores are each other's at once, as on Linux. The host file gets
 * them when they are written back: at msync, at fsync of any descriptor of
 * the file, and when the last mapping goes (then the contents are dropped).
 * Reads and writes through descriptors meanwhile go through the contents
 * (a write also reaches the host file at once).
 */
export class SharedFile {
  readonly memory: SharedMemory;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly mount: GoferMount, private readonly key: string, private readonly data: GoferData,
    mem: MemoryFile, public size: number,
  ) {
    this.memory = SharedMemory.forFile(mem);
    this.memory.owned = { idle: () => this.idle(), sync: () => this.sync() };
  }

  /** load brings the host file in (ENOMEM past the memory limit). */
  async load(): Promise<void> {
    if (!this.memory.resize(0, this.size)) throw ENOMEM;
    for (let at = 0; at < this.size;) {
      const got = await this.data.read(at, Math.min(LOAD_CHUNK, this.size - at));
      if (got.length === 0) break;
      if (!this.memory.copy(at, got, true)) throw ENOMEM;
      at += got.length;
    }
  }

  read(offset: number, length: number): Uint8Array {
    return this.memory.read(offset, length, this.size);
  }

  /** wrote copies a write the host file took into the contents (unless they went meanwhile). */
  wrote(offset: number, data: Uint8Array): void {
    if (!this.memory.owned) return;
    const end = offset + data.length;
    if (end > this.size) this.resize(end);
    this.memory.copy(offset, data, true);
  }

  /** resize follows the host file's new size (ENOMEM past the memory limit). */
  resize(size: number): void {
    if (!this.memory.resize(this.size, size)) throw ENOMEM;
    this.size = size;
  }

  /** sync writes the contents back to the host file, after any write-back under way. */
  sync(): Promise<void> {
    this.writing = this.writing.catch(() => undefined).then(async () => {
      for (let at = 0; at < this.size;) {
        const n = Math.min(LOAD_CHUNK, this.size - at);
        at += await this.data.write(at, this.read(at, n));
      }
    });
    return this.writing;
  }

  /** idle is told that no mapping is left: the contents go back to the host file, then go (unless a mapping came meanwhile). */
  private idle(): void {
    const done = this.sync().catch(() => undefined).then(() => {
      if (this.memory.refs === 1) this.drop();
    });
    pendingOf(this.mount.gofer).add(done);
    void done.finally(() => pendingOf(this.mount.gofer).delete(done));
  }

  /** drop forgets the contents and closes the file's own handle. */
  drop(): void {
    if (this.mount.shared.get(this.key) === this) this.mount.shared.delete(this.key);
    this.memory.owned = undefined;
    this.memory.unref();
    this.data.close();
  }
}

/** pending holds each Gofer's write-backs under way, which the sandbox awaits before a run returns or the Gofer stops. */
const pending = new WeakMap<Gofer, Set<Promise<void>>>();

function pendingOf(gofer: Gofer): Set<Promise<void>> {
  let set = pending.get(gofer);
  if (!set) pending.set(gofer, (set = new Set()));
  return set;
}

/** settleWrites waits until the shared contents written back through gofer have reached the host. */
export async function settleWrites(gofer: Gofer): Promise<void> {
  const set = pending.get(gofer);
  while (set && set.size > 0) await Promise.allSettled([...set]);
}
