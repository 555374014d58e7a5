// tmpfs.ts: a filesystem in the Sentry's memory. It is the overlay's
// upper layer (the program's writes to the root), /dev/shm, and the
// skeleton of devfs. A directory also keeps whiteouts and an opaque flag,
// which only the overlay uses.
import { EEXIST, EFBIG, EINVAL, EISDIR, ENOENT, ENOSPC, ENOTDIR, ENOTEMPTY, ENXIO, EPERM, EXDEV } from '../errno.js';
import { RegularFile, Directory, PathFile, type FileData } from './open-file.js';
import { SharedMemory } from '../mm/mm.js';
import type { MemoryFile } from '../mm/memory-file.js';
import { O_ACCMODE, O_PATH, O_RDONLY, O_TRUNC, type FileDescription } from './file.js';
import {
  S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, VNode, dtype, nowNs,
  type Attr, type Creds, type DirEntry, type SetAttr, type StatFs,
} from './node.js';

/** TMPFS_MAGIC is statfs's f_type for tmpfs. */
const TMPFS_MAGIC = 0x01021994;
/** MAX_TMP_FILE bounds one file's size (the sandbox's memory limit bounds them all). */
const MAX_TMP_FILE = 2 ** 31;

let nextDev = 0x100;

/**
 * Budget is what memory the Sentry keeps for programs is charged to (pipe
 * buffers, socket queues): the sandbox's memory limit. Past it a write
 * fails instead of growing the Sentry without bound.
 */
export interface Budget {
  charge(bytes: number): boolean;
  uncharge(bytes: number): void;
}

/**
 * Tmpfs is one instance: its device number and inode numbers, and the
 * memory file its files' contents live in, charged to the sandbox's
 * memory limit as Linux charges tmpfs pages (a write past it fails with
 * ENOSPC). A tmpfs without one (sysfs's skeleton) holds no file data.
 */
export class Tmpfs {
  readonly dev = nextDev++;
  private nextIno = 1;
  constructor(readonly name = 'tmpfs', readonly mem?: MemoryFile) {}
  ino(): number {
    return this.nextIno++;
  }
  /** root makes the instance's root directory. */
  root(mode = 0o1777, creds: Creds = { uid: 0, gid: 0 }): TmpDir {
    return new TmpDir(this, mode, creds);
  }
}

/** TmpNode holds the attributes every tmpfs node has. */
export abstract class TmpNode extends VNode {
  readonly a: Attr;
  constructor(readonly fs: Tmpfs, mode: number, creds: Creds) {
    super();
    const now = nowNs();
    this.a = {
      dev: fs.dev, ino: fs.ino(), mode, nlink: 1, uid: creds.uid, gid: creds.gid, rdev: 0,
      size: 0, blksize: 4096, blocks: 0, atimeNs: now, mtimeNs: now, ctimeNs: now,
    };
  }

  attr(): Promise<Attr> {
    return Promise.resolve({ ...this.a });
  }

  override async setattr(s: SetAttr): Promise<void> {
    const a = this.a;
    if (s.size !== undefined) await this.resize(s.size);
    if (s.mode !== undefined) a.mode = (a.mode & S_IFMT) | (s.mode & 0o7777);
    if (s.uid !== undefined) a.uid = s.uid;
    if (s.gid !== undefined) a.gid = s.gid;
    if (s.atimeNs !== undefined) a.atimeNs = s.atimeNs;
    if (s.mtimeNs !== undefined) a.mtimeNs = s.mtimeNs;
    a.ctimeNs = nowNs();
  }

  protected resize(_size: number): void | Promise<void> {
    throw (this.a.mode & S_IFMT) === S_IFDIR ? EISDIR : EINVAL;
  }

  override statfs(): Promise<StatFs> {
    return Promise.resolve({
      type: TMPFS_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255, frsize: 4096, flags: 0x20,
    });
  }

  touch(): void {
    this.a.mtimeNs = this.a.ctimeNs = nowNs();
  }
}

/**
 * TmpFile is a regular file. Its bytes are frames of the sandbox's memory
 * file (a SharedMemory the size of the file), so that a shared mapping of
 * it (mmap MAP_SHARED, of a memfd, /dev/shm or the overlay) maps the file
 * itself. Its pages are charged to the memory limit; they go when the
 * file has neither a name nor an open file (nor a mapping) left.
 */
export class TmpFile extends TmpNode implements FileData {
  private pages: SharedMemory | undefined;
  /** opens counts the open files of the node. */
  private opens = 0;

  constructor(fs: Tmpfs, mode: number, creds: Creds) {
    super(fs, S_IFREG | (mode & 0o7777), creds);
  }

  override sharedMemory(_writable: boolean, _mem?: MemoryFile): SharedMemory | undefined {
    return this.memory();
  }

  /** memory is the file's contents, made on first use; undefined in a tmpfs without a memory file (nothing can be written there). */
  memory(): SharedMemory | undefined {
    const mem = this.fs.mem;
    if (!this.pages && mem) this.pages = SharedMemory.forFile(mem);
    return this.pages;
  }

  read(offset: number, length: number): Uint8Array {
    // A file never written has no memory yet: it is empty.
    return this.pages?.read(offset, length, this.a.size) ?? new Uint8Array(0);
  }

  write(offset: number, data: Uint8Array, append: boolean): number {
    const at = append ? this.a.size : offset;
    const end = at + data.length;
    if (end > MAX_TMP_FILE) throw EFBIG;
    if (end > this.a.size) this.grow(end);
    if (!this.memory()!.copy(at, data, true)) throw ENOSPC;
    this.touch();
    return data.length;
  }

  size(): number {
    return this.a.size;
  }

  truncate(size: number): void {
    this.resize(size);
    this.touch();
  }

  protected override resize(size: number): void {
    if (size < 0) throw EINVAL;
    if (size > MAX_TMP_FILE) throw EFBIG;
    if (size > this.a.size) {
      this.grow(size);
      return;
    }
    this.pages?.resize(this.a.size, size);
    this.setSize(size);
  }

  /** grow makes the file `size` bytes long, the new bytes zeros, its pages charged first (ENOSPC past the limit). */
  private grow(size: number): void {
    const pages = this.memory();
    if (!pages || !pages.resize(this.a.size, size)) throw ENOSPC;
    this.setSize(size);
  }

  private setSize(size: number): void {
    this.a.size = size;
    this.a.blocks = Math.ceil(size / 4096) * 8;
  }

  /** free gives the contents back (mappings keep their frames until they go). */
  free(): void {
    this.pages?.unref();
    this.pages = undefined;
    this.setSize(0);
  }

  /** unlinked is told that a name went; the contents go with the last name and open file. */
  unlinked(): void {
    if (this.a.nlink <= 0 && this.opens === 0) this.free();
  }

  async open(flags: number): Promise<FileDescription> {
    if (flags & O_PATH) return new PathFile(this, flags);
    if (flags & O_TRUNC && (flags & O_ACCMODE) !== O_RDONLY) this.truncate(0);
    this.opens++;
    return new RegularFile(this, this, flags);
  }

  /** close is told that an open file of the node closed. */
  close(): void {
    this.opens--;
    this.unlinked();
  }
}

export class TmpSymlink extends TmpNode {
  constructor(fs: Tmpfs, readonly target: string, creds: Creds) {
    super(fs, S_IFLNK | 0o777, creds);
    this.a.size = Buffer.byteLength(target);
  }
  override readlink(): Promise<string> {
    return Promise.resolve(this.target);
  }
  async open(flags: number): Promise<FileDescription> {
    return new PathFile(this, flags);
  }
}

/** TmpSocket is a socket file, which bind(2) makes: a name a socket is bound to, which no open reaches (ENXIO). */
export class TmpSocket extends TmpNode {
  constructor(fs: Tmpfs, mode: number, creds: Creds) {
    super(fs, S_IFSOCK | (mode & 0o7777), creds);
  }
  async open(flags: number): Promise<FileDescription> {
    if (flags & O_PATH) return new PathFile(this, flags);
    throw ENXIO;
  }
}

/** TmpDir is a directory: its names, and for the overlay its whiteouts. */
export class TmpDir extends TmpNode {
  readonly entries = new Map<string, TmpNode>();
  /** whiteouts hide names of the overlay's lower layer. */
  readonly whiteouts = new Set<string>();
  /** opaque hides the whole lower directory (it was removed and made again). */
  opaque = false;
  /** up is the parent directory, for "..". */
  up: TmpDir | undefined;

  constructor(fs: Tmpfs, mode: number, creds: Creds) {
    super(fs, S_IFDIR | (mode & 0o7777), creds);
    this.a.nlink = 2;
    this.a.size = 4096;
  }

  override lookup(name: string): Promise<VNode | undefined> {
    return Promise.resolve(this.entries.get(name));
  }

  override readdir(): Promise<DirEntry[]> {
    return Promise.resolve([...this.entries].map(([name, n]) => ({ name, ino: n.a.ino, type: dtype(n.a.mode) })));
  }

  private add(name: string, node: TmpNode): void {
    if (this.entries.has(name)) throw EEXIST;
    this.entries.set(name, node);
    this.whiteouts.delete(name);
    if (node instanceof TmpDir) {
      node.up = this;
      this.a.nlink++;
    }
    this.touch();
  }

  override async create(name: string, mode: number, creds: Creds): Promise<VNode> {
    const f = new TmpFile(this.fs, mode, creds);
    this.add(name, f);
    return f;
  }

  override async mkdir(name: string, mode: number, creds: Creds): Promise<VNode> {
    const d = new TmpDir(this.fs, mode, creds);
    this.add(name, d);
    return d;
  }

  override async symlink(name: string, target: string, creds: Creds): Promise<VNode> {
    const l = new TmpSymlink(this.fs, target, creds);
    this.add(name, l);
    return l;
  }

  /** mknod makes a socket file; other kinds of node are refused (EPERM). */
  override async mknod(name: string, mode: number, creds: Creds): Promise<VNode> {
    if ((mode & S_IFMT) !== S_IFSOCK) throw EPERM;
    const n = new TmpSocket(this.fs, mode, creds);
    this.add(name, n);
    return n;
  }

  override async link(name: string, target: VNode): Promise<void> {
    if (!(target instanceof TmpNode) || target.fs !== this.fs) throw EXDEV;
    if (target instanceof TmpDir) throw EINVAL;
    this.add(name, target);
    target.a.nlink++;
    target.a.ctimeNs = nowNs();
  }

  override async unlink(name: string): Promise<void> {
    const n = this.entries.get(name);
    if (!n) throw ENOENT;
    if (n instanceof TmpDir) throw EISDIR;
    this.entries.delete(name);
    n.a.nlink--;
    n.a.ctimeNs = nowNs();
    if (n instanceof TmpFile) n.unlinked();
    this.touch();
  }

  override async rmdir(name: string): Promise<void> {
    const n = this.entries.get(name);
    if (!n) throw ENOENT;
    if (!(n instanceof TmpDir)) throw ENOTDIR;
    if (n.entries.size > 0) throw ENOTEMPTY;
    this.entries.delete(name);
    this.a.nlink--;
    n.a.nlink = 0;
    this.touch();
  }

  /** take removes a name without the checks of unlink (a rename's source). */
  take(name: string): TmpNode | undefined {
    const n = this.entries.get(name);
    if (!n) return undefined;
    this.entries.delete(name);
    if (n instanceof TmpDir) this.a.nlink--;
    this.touch();
    return n;
  }

  override async rename(name: string, newDir: VNode, newName: string, flags: number): Promise<void> {
    if (!(newDir instanceof TmpDir) || newDir.fs !== this.fs) throw EXDEV;
    const n = this.entries.get(name);
    if (!n) throw ENOENT;
    const existing = newDir.entries.get(newName);
    if (flags & 2 /* RENAME_EXCHANGE */) {
      if (!existing) throw ENOENT;
      this.entries.set(name, existing);
      newDir.entries.set(newName, n);
      if (existing instanceof TmpDir) existing.up = this;
      if (n instanceof TmpDir) n.up = newDir;
      return;
    }
    if (existing) {
      if (flags & 1 /* RENAME_NOREPLACE */) throw EEXIST;
      if (existing === n) return;
      if (n instanceof TmpDir) {
        if (!(existing instanceof TmpDir)) throw ENOTDIR;
        if (existing.entries.size > 0) throw ENOTEMPTY;
      } else if (existing instanceof TmpDir) {
        throw EISDIR;
      }
      newDir.take(newName);
      existing.a.nlink = existing instanceof TmpDir ? 0 : existing.a.nlink - 1;
      if (existing instanceof TmpFile) existing.unlinked();
    }
    // A directory may not move into itself or below.
    for (let d: TmpDir | undefined = newDir; d; d = d.up) if (d === n) throw EINVAL;
    this.take(name);
    newDir.add(newName, n);
  }

  async open(flags: number): Promise<FileDescription> {
    if (flags & O_PATH) return new PathFile(this, flags);
    if ((flags & O_ACCMODE) !== O_RDONLY) throw EISDIR;
    return new Directory(this, flags, this.up ?? this);
  }
}
