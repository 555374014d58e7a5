// synthetic.ts: nodes whose contents the Sentry makes up when they are
// read: the building blocks of procfs and devfs. A directory lists
// children made on demand; a file renders its text at open; a link
// computes its target, possibly for the task that follows it.
import { EACCES, EINVAL, EISDIR, ENOENT } from '../errno.js';
import { PathFile, RegularFile, type FileData } from './open-file.js';
import { O_ACCMODE, O_PATH, O_RDONLY, type FileDescription } from './file.js';
import { S_IFDIR, S_IFLNK, S_IFREG, VNode, dtype, type Attr, type Caller, type DirEntry, type StatFs } from './node.js';


let nextIno = 0x10000;
const bootNs = BigInt(Date.now()) * 1_000_000n;

/** baseAttr makes the attributes of a synthetic node. */
export function baseAttr(dev: number, mode: number, uid = 0, gid = 0): Attr {
  return {
    dev, ino: nextIno++, mode, nlink: 1, uid, gid, rdev: 0, size: 0, blksize: 4096, blocks: 0,
    atimeNs: bootNs, mtimeNs: bootNs, ctimeNs: bootNs,
  };
}

export abstract class SyntheticNode extends VNode {
  constructor(protected readonly a: Attr, private readonly fsType: number) {
    super();
  }
  attr(): Promise<Attr> {
    return Promise.resolve({ ...this.a });
  }
  override statfs(): Promise<StatFs> {
    return Promise.resolve({ type: this.fsType, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255, frsize: 4096, flags: 0x20 });
  }
}

/** SynDir lists children that `entries` makes each time it is asked. */
export class SynDir extends SyntheticNode {
  constructor(dev: number, fsType: number, private readonly entries: () => Map<string, VNode>, mode = 0o555) {
    super(baseAttr(dev, S_IFDIR | mode), fsType);
    this.a.nlink = 2;
  }
  override async lookup(name: string): Promise<VNode | undefined> {
    return this.entries().get(name);
  }
  override async readdir(): Promise<DirEntry[]> {
    const out: DirEntry[] = [];
    for (const [name, n] of this.entries()) {
      const a = await n.attr();
      out.push({ name, ino: a.ino, type: dtype(a.mode) });
    }
    return out;
  }
  async open(flags: number): Promise<FileDescription> {
    if (flags & O_PATH) return new PathFile(this, flags);
    throw EISDIR;
  }
}

/** SynFile is a read-only file whose text `render` makes at each open. */
export class SynFile extends SyntheticNode {
  constructor(dev: number, fsType: number, private readonly render: () => string | Uint8Array, mode = 0o444) {
    super(baseAttr(dev, S_IFREG | mode), fsType);
  }
  async open(flags: number): Promise<FileDescription> {
    if (flags & O_PATH) return new PathFile(this, flags);
    if ((flags & O_ACCMODE) !== O_RDONLY) throw EACCES;
    const r = this.render();
    return new RegularFile(this, new FixedData(typeof r === 'string' ? Buffer.from(r) : r), flags);
  }
}

/** FixedData is contents fixed at open: a snapshot, as procfs files are. */
class FixedData implements FileData {
  constructor(private readonly bytes: Uint8Array) {}
  read(offset: number, length: number): Uint8Array {
    return this.bytes.slice(offset, offset + length);
  }
  write(): number {
    throw EINVAL;
  }
  size(): number {
    return this.bytes.length;
  }
  truncate(): void {
    throw EINVAL;
  }
}

/** SynLink is a symlink whose target may depend on who follows it. */
export class SynLink extends SyntheticNode {
  constructor(
    dev: number, fsType: number,
    private readonly target: (caller: Caller | undefined) => string,
    private readonly stands?: (caller: Caller | undefined) => FileDescription | undefined,
  ) {
    super(baseAttr(dev, S_IFLNK | 0o777), fsType);
  }
  override readlink(caller?: Caller): Promise<string> {
    const t = this.target(caller);
    return t === '' ? Promise.reject(ENOENT) : Promise.resolve(t);
  }
  override magic(caller?: Caller): FileDescription | undefined {
    return this.stands?.(caller);
  }
  async open(flags: number): Promise<FileDescription> {
    return new PathFile(this, flags);
  }
}
