// vfs.ts: the sandbox's file tree as programs see it: dentries (names
// walked, cached), the mount table, and path resolution with Linux's
// rules (symlinks followed up to 40 times, then ELOOP; ENAMETOOLONG;
// ENOTDIR for a file with a trailing slash; ".." never above the root).
import { EEXIST, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, EROFS } from '../errno.js';
import { Directory, PathFile } from './open-file.js';
import {
  O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_LARGEFILE, O_NOCTTY, O_NOFOLLOW, O_PATH, O_RDONLY, O_TRUNC,
  type FileDescription,
} from './file.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, VNode, type Attr, type Caller, type Creds } from './node.js';

/** MAX_SYMLINKS is how many symlinks one resolution may follow (Linux's MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;
export const PATH_MAX = 4096;
const NAME_MAX = 255;

/** Dentry is a name walked to: its node, its parent and its absolute path. */
export class Dentry {
  private readonly children = new Map<string, Dentry>();
  /** dead is set when the directory was removed: getcwd fails, nothing is created in it. */
  dead = false;

  constructor(
    readonly name: string,
    readonly parent: Dentry | undefined,
    public node: VNode,
    readonly mount: Mount,
  ) {}

  get path(): string {
    if (!this.parent) return '/';
    const up = this.parent.path;
    return (up === '/' ? '' : up) + '/' + this.name;
  }

  cached(name: string): Dentry | undefined {
    return this.children.get(name);
  }

  remember(d: Dentry): void {
    this.children.set(d.name, d);
  }

  /** forget drops a cached name (after unlink, rename, create). */
  forget(name: string): void {
    this.children.delete(name);
  }
}

/** Mount is one filesystem mounted in the tree. */
export interface Mount {
  /** source names the filesystem in /proc/mounts; fstype its type. */
  source: string;
  fstype: string;
  readOnly: boolean;
  /** target is the absolute path it is mounted at. */
  target: string;
}

export interface ResolveOptions {
  /** follow: a symlink as the last component is followed. */
  follow: boolean;
  /** root confines the walk: "/", absolute symlinks and ".." stop there (openat2's RESOLVE_IN_ROOT). */
  root?: Dentry;
}

/** Vfs is one sandbox's tree. */
export class Vfs {
  readonly root: Dentry;
  /** mounts maps a mount point's path to what is mounted there, in mount order. */
  private readonly mounted = new Map<string, { node: VNode; mount: Mount }>();
  readonly mounts: Mount[] = [];

  constructor(rootNode: VNode, rootMount: Mount) {
    this.root = new Dentry('', undefined, rootNode, rootMount);
    this.mounts.push(rootMount);
  }

  /** mount puts a filesystem at an absolute path; the mount point need not exist in the tree below. */
  mount(target: string, node: VNode, m: Omit<Mount, 'target'>): void {
    const mount = { ...m, target };
    this.mounted.set(target, { node, mount });
    this.mounts.push(mount);
    // A dentry walked to before the mount names what is now covered.
    const names = target.split('/').filter(Boolean);
    let d: Dentry | undefined = this.root;
    for (const name of names.slice(0, -1)) d = d?.cached(name);
    d?.forget(names[names.length - 1]);
  }

  /** child walks one name down from a directory. */
  private async child(dir: Dentry, name: string): Promise<Dentry | undefined> {
    const hit = dir.cached(name);
    if (hit) return hit;
    const path = (dir.path === '/' ? '' : dir.path) + '/' + name;
    const m = this.mounted.get(path);
    let d: Dentry;
    if (m) {
      d = new Dentry(name, dir, m.node, m.mount);
    } else {
      const node = await dir.node.lookup(name);
      if (!node) return undefined;
      d = new Dentry(name, dir, node, dir.mount);
    }
    dir.remember(d);
    return d;
  }

  /**
   * walk resolves path from `start`. It returns the dentry, or, with
   * `parent`, the directory that holds the last component and its name
   * (which need not exist).
   */
  private async walk(
    start: Dentry, path: string, follow: boolean, wantParent: boolean, caller: Caller | undefined, root = this.root,
  ): Promise<{ dentry: Dentry | undefined; parent: Dentry; name: string; trailingSlash: boolean }> {
    if (path.length >= PATH_MAX) throw ENAMETOOLONG;
    let links = 0;
    let cur = path.startsWith('/') ? root : start;
    let comps = path.split('/').filter((c) => c !== '');
    let trailingSlash = path.endsWith('/') && comps.length > 0;
    for (let i = 0; i < comps.length; i++) {
      const name = comps[i];
      const last = i === comps.length - 1;
      if (name.length > NAME_MAX) throw ENAMETOOLONG;
      if (((await cur.node.attr()).mode & S_IFMT) !== S_IFDIR) throw ENOTDIR;
      if (last && wantParent) return { dentry: undefined, parent: cur, name, trailingSlash };
      if (name === '.') continue;
      if (name === '..') {
        if (cur !== root) cur = cur.parent ?? cur;
        continue;
      }
      const next = await this.child(cur, name);
      if (!next) throw ENOENT;
      const type = (await next.node.attr()).mode & S_IFMT;
      if (type === S_IFLNK && (!last || follow || trailingSlash)) {
        if (++links > MAX_SYMLINKS) throw ELOOP;
        const stands = last ? next.node.magic(caller) : undefined;
        if (stands && !stands.dentry) {
          // A procfs fd link to a pipe or stream: the description itself.
          cur = new Dentry(next.name, next.parent, new DescriptionNode(stands), next.mount);
          break;
        }
        if (stands?.dentry) {
          cur = stands.dentry;
          break;
        }
        const target = await next.node.readlink(caller);
        if (target === '') throw ENOENT;
        const rest = comps.slice(i + 1);
        comps = [...target.split('/').filter((c) => c !== ''), ...rest];
        if (rest.length === 0) trailingSlash = trailingSlash || target.endsWith('/');
        if (target.startsWith('/')) cur = root;
        i = -1;
        if (comps.length === 0 && wantParent) return { dentry: undefined, parent: cur.parent ?? cur, name: cur.parent ? cur.name : '/', trailingSlash };
        continue;
      }
      cur = next;
    }
    // The path names a directory already walked to; "/" has no parent to hold it.
    if (wantParent) return { dentry: undefined, parent: cur.parent ?? cur, name: cur.parent ? cur.name : '/', trailingSlash };
    if (trailingSlash && ((await cur.node.attr()).mode & S_IFMT) !== S_IFDIR) throw ENOTDIR;
    return { dentry: cur, parent: cur.parent ?? cur, name: cur.name, trailingSlash };
  }

  /** resolve finds an existing file. */
  async resolve(start: Dentry, path: string, opts: ResolveOptions, caller?: Caller): Promise<Dentry> {
    if (path === '') throw ENOENT;
    return (await this.walk(start, path, opts.follow, false, caller, opts.root)).dentry!;
  }

  /** resolveParent finds the directory that holds the last component of path, and its name. */
  async resolveParent(start: Dentry, path: string, caller?: Caller): Promise<{ parent: Dentry; name: string; trailingSlash: boolean }> {
    if (path === '') throw ENOENT;
    return this.walk(start, path, true, true, caller);
  }

  /** lookupIn finds a name in a resolved directory; undefined when absent. */
  async lookupIn(dir: Dentry, name: string): Promise<Dentry | undefined> {
    if (name === '.') return dir;
    if (name === '..') return dir.parent ?? dir;
    return this.child(dir, name);
  }

  /**
   * open implements open(2)'s resolution and creation: O_CREAT (with
   * O_EXCL), O_DIRECTORY, O_NOFOLLOW, O_TRUNC, O_PATH.
   */
  async open(
    start: Dentry, path: string, flags: number, mode: number, creds: Creds, caller?: Caller, links = 0, root?: Dentry,
  ): Promise<{ file: FileDescription; dentry: Dentry }> {
    let dentry: Dentry | undefined;
    if (flags & O_CREAT) {
      if (path === '') throw ENOENT;
      const { parent, name, trailingSlash } = await this.walk(start, path, true, true, caller, root ?? this.root);
      if (name === '.' || name === '..' || name === '/') throw EISDIR;
      if (parent.dead) throw ENOENT;
      dentry = await this.lookupIn(parent, name);
      if (dentry && flags & O_EXCL) throw EEXIST;
      if (dentry && ((await dentry.node.attr()).mode & S_IFMT) === S_IFLNK) {
        // An existing symlink is followed; a dangling one creates its target.
        if (flags & O_NOFOLLOW) throw ELOOP;
        if (++links > MAX_SYMLINKS) throw ELOOP;
        try {
          dentry = await this.resolve(start, path, { follow: true, root }, caller);
        } catch (err) {
          if (err !== ENOENT) throw err;
          return this.open(parent, await dentry.node.readlink(caller), flags, mode, creds, caller, links, root);
        }
      }
      if (!dentry) {
        if (trailingSlash) throw EISDIR;
        if (parent.mount.readOnly) throw EROFS;
        const node = await parent.node.create(name, mode, creds);
        parent.forget(name);
        dentry = new Dentry(name, parent, node, parent.mount);
        parent.remember(dentry);
        flags &= ~O_TRUNC;
      }
    } else {
      dentry = await this.resolve(start, path, { follow: !(flags & O_NOFOLLOW), root }, caller);
    }
    return { file: await this.openDentry(dentry, flags), dentry };
  }

  /** openDentry opens a resolved file with open(2)'s flags. */
  async openDentry(dentry: Dentry, flags: number): Promise<FileDescription> {
    const node = dentry.node;
    if (node instanceof DescriptionNode) return node.file;
    const type = (await node.attr()).mode & S_IFMT;
    let file: FileDescription;
    if (flags & O_PATH) {
      if (flags & O_DIRECTORY && type !== S_IFDIR) throw ENOTDIR;
      file = new PathFile(node, flags);
    } else if (type === S_IFLNK) {
      throw flags & O_DIRECTORY ? ENOTDIR : ELOOP;
    } else if (type === S_IFDIR) {
      if ((flags & O_ACCMODE) !== O_RDONLY || flags & O_CREAT) throw EISDIR;
      file = new Directory(node, flags, (dentry.parent ?? dentry).node);
    } else {
      if (flags & O_DIRECTORY) throw ENOTDIR;
      const writes = (flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0;
      if (writes && dentry.mount.readOnly) throw EROFS;
      if (flags & O_TRUNC && (flags & O_ACCMODE) === O_RDONLY && type === S_IFREG) {
        // O_RDONLY|O_TRUNC truncates on Linux too.
        await node.setattr({ size: 0 });
      }
      file = await node.open(flags);
    }
    file.path = dentry.path;
    file.dentry = dentry;
    // F_GETFL shows the status flags: not the creation flags nor O_CLOEXEC,
    // with O_LARGEFILE always on 64-bit; an O_PATH description shows O_PATH alone.
    file.statusFlags = flags & O_PATH ? O_PATH : (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) | O_LARGEFILE;
    return file;
  }
}

/** DescriptionNode stands for an open pipe or stream reached through /proc/self/fd. */
class DescriptionNode extends VNode {
  constructor(readonly file: FileDescription) {
    super();
  }
  async attr(): Promise<Attr> {
    return this.file.stat();
  }
  async open(): Promise<FileDescription> {
    return this.file;
  }
}
