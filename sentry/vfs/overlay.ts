// overlay.ts: the sandbox's root. A writable tmpfs (upper) lies over the
// Gofer's read-only tree (lower): reads see the lower layer until a file
// is changed, which first copies it up; a removed lower name is hidden by
// a whiteout, and a directory removed and made again is opaque. The host
// is never written. Like Linux's overlayfs without redirect_dir, renaming
// a directory that has lower contents fails with EXDEV (mv then copies).
import { EEXIST, EISDIR, ENOENT, ENOTDIR, ENOTEMPTY, EXDEV } from '../errno.js';
import { O_ACCMODE, O_RDONLY, O_TRUNC, type FileDescription } from './file.js';
import { TmpDir, TmpFile, type Tmpfs, type TmpNode } from './tmpfs.js';
import type { SharedMemory } from '../mm/mm.js';
import type { MemoryFile } from '../mm/memory-file.js';
import {
  S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, VNode,
  type Attr, type Creds, type DirEntry, type SetAttr, type StatFs,
} from './node.js';

const RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2;
/** COPY_CHUNK is how much of a lower file one read brings up at a time. */
const COPY_CHUNK = 1 << 20;

/** MAX_MISSING bounds the names one directory remembers its lower tree lacks. */
const MAX_MISSING = 4096;

export class OverlayNode extends VNode {
  private readonly children = new Map<string, OverlayNode>();
  /**
   * missing holds names the lower directory lacks: the lower tree is the
   * Gofer's read-only root, which does not change under the sandbox, so a
   * name it lacked once it lacks for good (programs search paths, and
   * their misses were a Gofer round trip each).
   */
  private readonly missing = new Set<string>();
  /** type is the node's S_IFMT, fixed at creation. */
  readonly type: number;

  constructor(
    private readonly fs: Tmpfs,
    private readonly parent: OverlayNode | undefined,
    private readonly name: string,
    public upper: TmpNode | undefined,
    private readonly lower: VNode | undefined,
    type: number,
  ) {
    super();
    this.type = type;
  }

  /** root makes an overlay root over a lower directory. */
  static root(fs: Tmpfs, lower: VNode, lowerAttr: Attr): OverlayNode {
    const upper = fs.root(lowerAttr.mode & 0o7777, { uid: lowerAttr.uid, gid: lowerAttr.gid });
    return new OverlayNode(fs, undefined, '', upper, lower, S_IFDIR);
  }

  /** changed is set once the program changed this directory (its times and mode are then the upper's). */
  private changed = false;

  /**
   * attr is the upper node's for what was copied up, the lower's for the
   * rest. A directory keeps the lower's identity (ino, dev, nlink, size),
   * and shows the upper's times and mode only once the program changed it.
   */
  async attr(): Promise<Attr> {
    if (!this.upper) return this.lower!.attr();
    if (this.type !== S_IFDIR || !this.lower) return this.upper.attr();
    const low = await this.lower.attr();
    if (!this.changed) return low;
    const up = await this.upper.attr();
    return { ...up, ino: low.ino, dev: low.dev, nlink: low.nlink, size: low.size };
  }

  private get upperDir(): TmpDir | undefined {
    return this.upper instanceof TmpDir ? this.upper : undefined;
  }

  override async lookup(name: string): Promise<VNode | undefined> {
    const cached = this.children.get(name);
    if (cached) return cached;
    if (this.type !== S_IFDIR) throw ENOTDIR;
    const ud = this.upperDir;
    if (ud?.whiteouts.has(name)) return undefined;
    const up = ud?.entries.get(name);
    let low: VNode | undefined;
    const lowerVisible = this.lower && !ud?.opaque && (!up || up instanceof TmpDir);
    if (lowerVisible && !this.missing.has(name)) {
      low = await this.lower!.lookup(name);
      if (!low && this.missing.size < MAX_MISSING) this.missing.add(name);
    }
    if (!up && !low) return undefined;
    let type = up ? up.a.mode & S_IFMT : (await low!.attr()).mode & S_IFMT;
    if (up && low && up instanceof TmpDir && ((await low.attr()).mode & S_IFMT) !== S_IFDIR) low = undefined;
    if (up instanceof TmpDir && up.opaque) low = undefined;
    if (up) type = up.a.mode & S_IFMT;
    const node = new OverlayNode(this.fs, this, name, up, low, type);
    this.children.set(name, node);
    return node;
  }

  override async readdir(): Promise<DirEntry[]> {
    const ud = this.upperDir;
    const seen = new Map<string, DirEntry>();
    if (this.lower && !ud?.opaque) {
      for (const e of await this.lower.readdir()) if (!ud?.whiteouts.has(e.name)) seen.set(e.name, e);
    }
    if (ud) for (const e of await ud.readdir()) seen.set(e.name, e);
    return [...seen.values()];
  }

  /** copyUp gives this node an upper copy, and its parents first. */
  async copyUp(): Promise<TmpNode> {
    if (this.upper) return this.upper;
    const parentDir = (await this.parent!.copyUp()) as TmpDir;
    const low = this.lower!;
    const a = await low.attr();
    const creds = { uid: a.uid, gid: a.gid };
    let up: TmpNode;
    if (this.type === S_IFDIR) {
      up = (await parentDir.mkdir(this.name, a.mode, creds)) as TmpNode;
    } else if (this.type === S_IFLNK) {
      up = (await parentDir.symlink(this.name, await low.readlink(), creds)) as TmpNode;
    } else if (this.type === S_IFREG) {
      const f = (await parentDir.create(this.name, a.mode, creds)) as TmpFile;
      const src = await low.open(O_RDONLY);
      try {
        for (let off = 0; ; ) {
          const chunk = await src.pread(off, COPY_CHUNK);
          if (chunk.length === 0) break;
          f.write(off, chunk, false);
          off += chunk.length;
        }
      } finally {
        src.release();
      }
      up = f;
    } else {
      throw EXDEV;
    }
    await up.setattr({ atimeNs: a.atimeNs, mtimeNs: a.mtimeNs });
    this.upper = up;
    return up;
  }

  /** made adds a node just created in the upper directory. */
  private made(name: string, up: TmpNode, hadWhiteout: boolean): OverlayNode {
    if (hadWhiteout && up instanceof TmpDir) up.opaque = true;
    const node = new OverlayNode(this.fs, this, name, up, undefined, up.a.mode & S_IFMT);
    this.children.set(name, node);
    return node;
  }

  private async prepare(name: string): Promise<{ dir: TmpDir; whiteout: boolean }> {
    if (await this.lookup(name)) throw EEXIST;
    const dir = (await this.copyUp()) as TmpDir;
    this.changed = true;
    return { dir, whiteout: dir.whiteouts.has(name) };
  }

  override async create(name: string, mode: number, creds: Creds): Promise<VNode> {
    const { dir, whiteout } = await this.prepare(name);
    return this.made(name, (await dir.create(name, mode, creds)) as TmpNode, whiteout);
  }

  override async mkdir(name: string, mode: number, creds: Creds): Promise<VNode> {
    const { dir, whiteout } = await this.prepare(name);
    return this.made(name, (await dir.mkdir(name, mode, creds)) as TmpNode, whiteout);
  }

  override async symlink(name: string, target: string, creds: Creds): Promise<VNode> {
    const { dir, whiteout } = await this.prepare(name);
    return this.made(name, (await dir.symlink(name, target, creds)) as TmpNode, whiteout);
  }

  override async mknod(name: string, mode: number, creds: Creds): Promise<VNode> {
    const { dir, whiteout } = await this.prepare(name);
    return this.made(name, (await dir.mknod(name, mode, creds)) as TmpNode, whiteout);
  }

  override async link(name: string, target: VNode): Promise<void> {
    if (!(target instanceof OverlayNode)) throw EXDEV;
    const up = await target.copyUp();
    const { dir } = await this.prepare(name);
    await dir.link(name, up);
    this.children.delete(name);
  }

  /** remove drops a name: from the upper layer, and hides the lower one. */
  private async remove(name: string, dir: boolean): Promise<void> {
    const child = (await this.lookup(name)) as OverlayNode | undefined;
    if (!child) throw ENOENT;
    const isDir = child.type === S_IFDIR;
    if (dir && !isDir) throw ENOTDIR;
    if (!dir && isDir) throw EISDIR;
    if (dir && (await child.readdir()).length > 0) throw ENOTEMPTY;
    const ud = (await this.copyUp()) as TmpDir;
    this.changed = true;
    if (child.upper) {
      if (dir) {
        // What is left in it are whiteouts of a lower directory.
        (child.upper as TmpDir).whiteouts.clear();
        await ud.rmdir(name);
      } else {
        await ud.unlink(name);
      }
    }
    if (child.lower) ud.whiteouts.add(name);
    this.children.delete(name);
  }

  override unlink(name: string): Promise<void> {
    return this.remove(name, false);
  }

  override rmdir(name: string): Promise<void> {
    return this.remove(name, true);
  }

  override async rename(name: string, newDir: VNode, newName: string, flags: number): Promise<void> {
    if (!(newDir instanceof OverlayNode)) throw EXDEV;
    const child = (await this.lookup(name)) as OverlayNode | undefined;
    if (!child) throw ENOENT;
    if (child.type === S_IFDIR && child.lower) throw EXDEV;
    const dest = (await newDir.lookup(newName)) as OverlayNode | undefined;
    if (flags & RENAME_EXCHANGE) {
      if (!dest) throw ENOENT;
      if (child.lower || dest.lower) throw EXDEV;
    } else if (dest) {
      if (flags & RENAME_NOREPLACE) throw EEXIST;
      // Two names of one file: rename does nothing, as on Linux.
      if (dest === child || (dest.upper !== undefined && dest.upper === child.upper)) return;
      if (child.type === S_IFDIR && dest.type !== S_IFDIR) throw ENOTDIR;
      if (child.type !== S_IFDIR && dest.type === S_IFDIR) throw EISDIR;
      if (dest.type === S_IFDIR && (await dest.readdir()).length > 0) throw ENOTEMPTY;
    }
    await child.copyUp();
    const from = (await this.copyUp()) as TmpDir;
    const to = (await newDir.copyUp()) as TmpDir;
    this.changed = newDir.changed = true;
    if (dest && !(flags & RENAME_EXCHANGE)) {
      if (dest.upper) to.take(newName);
      if (dest.lower && dest.type === S_IFDIR && child.upper instanceof TmpDir) child.upper.opaque = true;
    }
    await from.rename(name, to, newName, flags);
    if (child.lower && !(flags & RENAME_EXCHANGE)) from.whiteouts.add(name);
    to.whiteouts.delete(newName);
    this.children.delete(name);
    newDir.children.delete(newName);
  }

  override readlink(): Promise<string> {
    return (this.upper ?? this.lower!).readlink();
  }

  override async setattr(s: SetAttr): Promise<void> {
    const up = await this.copyUp();
    if (!this.changed && this.lower) {
      // The upper copy starts from the lower's mode, owner and times.
      const low = await this.lower.attr();
      await up.setattr({ mode: low.mode, uid: low.uid, gid: low.gid, atimeNs: low.atimeNs, mtimeNs: low.mtimeNs });
    }
    this.changed = true;
    await up.setattr(s);
  }

  override statfs(): Promise<StatFs> {
    return (this.lower ?? this.upper!).statfs();
  }

  override contentKey(): Promise<string | undefined> {
    return (this.upper ?? this.lower!).contentKey();
  }

  /** sharedMemory is the upper file's: a file opened for writing was copied up. */
  override sharedMemory(writable: boolean, mem: MemoryFile): SharedMemory | undefined | Promise<SharedMemory | undefined> {
    return this.upper?.sharedMemory(writable, mem);
  }

  async open(flags: number): Promise<FileDescription> {
    const writes = (flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0;
    if (writes && this.type === S_IFREG) await this.copyUp();
    const f = await (this.upper ?? this.lower!).open(flags);
    f.node = this;
    return f;
  }
}
