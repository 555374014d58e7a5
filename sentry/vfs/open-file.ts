// open-file.ts: the file descriptions of the VFS's regular files and
// directories, over any filesystem's data.
import type { MemoryRuns } from '../mm/mm.js';
import { EBADF, EINVAL, EISDIR, ENXIO, EOVERFLOW } from '../errno.js';
import {
  FileDescription, O_ACCMODE, O_APPEND, O_PATH, O_RDONLY,
  SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET, type Stat,
} from './file.js';
import { DT_DIR, type DirEntry, type VNode } from './node.js';

/** FileData is a regular file's contents, as a filesystem serves them. */
export interface FileData {
  read(offset: number, length: number): Uint8Array | Promise<Uint8Array>;
  /** write writes at offset, or at the end when `append`, and returns how much it wrote. */
  write(offset: number, data: Uint8Array, append: boolean): number | Promise<number>;
  size(): number | Promise<number>;
  truncate(size: number): void | Promise<void>;
  /** readInto reads at offset straight into the program's memory, where the data allows it. */
  readInto?(offset: number, target: MemoryRuns): number | Promise<number> | undefined;
  sync?(): void | Promise<void>;
  close?(): void;
}

/** MAX_FILE_SIZE is the largest offset a file may reach (Linux's MAX_LFS_FILESIZE). */
const MAX_FILE_SIZE = Number.MAX_SAFE_INTEGER;

/** RegularFile is an open regular file with its offset. */
export class RegularFile extends FileDescription {
  private offset = 0;

  constructor(node: VNode, private readonly data: FileData, flags: number) {
    super(flags & O_ACCMODE);
    this.statusFlags = flags & ~(0o100 | 0o200 | 0o1000); // creation flags are not status flags
    this.node = node;
  }

  override read(max: number): Uint8Array | Promise<Uint8Array> {
    const got = this.data.read(this.offset, max);
    const advance = (d: Uint8Array) => {
      this.offset += d.length;
      return d;
    };
    return got instanceof Promise ? got.then(advance) : advance(got);
  }

  /** readInto reads at the file offset into target, when the file's data can; undefined when not. */
  override readInto(target: MemoryRuns): number | Promise<number> | undefined {
    const r = this.preadInto(this.offset, target);
    const advance = (n: number): number => {
      this.offset += n;
      return n;
    };
    return r instanceof Promise ? r.then(advance) : r === undefined ? undefined : advance(r);
  }

  override preadInto(offset: number, target: MemoryRuns): number | Promise<number> | undefined {
    return this.data.readInto?.(offset, target);
  }

  override write(data: Uint8Array): number | Promise<number> {
    const append = (this.statusFlags & O_APPEND) !== 0;
    if (!append && this.offset + data.length > MAX_FILE_SIZE) throw EINVAL;
    const done = (n: number) => n;
    const r = this.data.write(this.offset, data, append);
    const after = async (n: number) => {
      this.offset = append ? await this.data.size() : this.offset + n;
      return done(n);
    };
    if (!append && typeof r === 'number') {
      this.offset += r;
      return r;
    }
    return (r instanceof Promise ? r : Promise.resolve(r)).then(after);
  }

  override get positional(): boolean {
    return true;
  }

  override pread(offset: number, max: number): Uint8Array | Promise<Uint8Array> {
    return this.data.read(offset, max);
  }

  override pwrite(offset: number, data: Uint8Array): number | Promise<number> {
    // Linux ignores O_APPEND's position only for pwritev2; pwrite64 on an
    // O_APPEND file appends.
    return this.data.write(offset, data, (this.statusFlags & O_APPEND) !== 0);
  }

  override seek(offset: number, whence: number): number | Promise<number> {
    const set = (base: number) => {
      const pos = base + offset;
      if (pos < 0) throw EINVAL;
      if (pos > MAX_FILE_SIZE) throw EOVERFLOW;
      this.offset = pos;
      return pos;
    };
    switch (whence) {
      case SEEK_SET:
        return set(0);
      case SEEK_CUR:
        return set(this.offset);
      case SEEK_END:
      case SEEK_DATA:
      case SEEK_HOLE: {
        const sizeOf = (size: number) => {
          if (whence === SEEK_END) return set(size);
          // Files have no holes here: data runs from 0 to the size. The
          // kernel compares the offset unsigned, so a negative one is past it.
          if (offset < 0 || offset >= size) throw ENXIO;
          this.offset = whence === SEEK_DATA ? offset : size;
          return this.offset;
        };
        const size = this.data.size();
        return size instanceof Promise ? size.then(sizeOf) : sizeOf(size);
      }
      default:
        throw EINVAL;
    }
  }

  override truncate(size: number): void | Promise<void> {
    return this.data.truncate(size);
  }

  /** available is what lies between the offset and the end of the file (FIONREAD; negative past it). */
  override available(): number | Promise<number> {
    const size = this.data.size();
    return size instanceof Promise ? size.then((s) => s - this.offset) : size - this.offset;
  }

  override sync(): void | Promise<void> {
    return this.data.sync?.();
  }

  override release(): void {
    this.data.close?.();
  }

  stat(): Promise<Stat> {
    return this.node!.attr();
  }
}

/** PathFile is an O_PATH description: it names a node and does nothing else. */
export class PathFile extends FileDescription {
  constructor(node: VNode, flags: number) {
    super(O_RDONLY);
    this.statusFlags = (flags & ~O_ACCMODE) | O_PATH;
    this.node = node;
  }
  override get readable(): boolean {
    return false;
  }
  override get writable(): boolean {
    return false;
  }
  /** An O_PATH fd is no fd at all to the I/O calls: EBADF even where a pipe would be ESPIPE. */
  override get positional(): boolean {
    return true;
  }
  override read(): Uint8Array {
    throw EBADF;
  }
  override seek(): number {
    throw EBADF;
  }
  stat(): Promise<Stat> {
    return this.node!.attr();
  }
}

/** Directory is an open directory: getdents walks a listing taken at the first call. */
export class Directory extends FileDescription {
  private listing: DirEntry[] | undefined;
  private pos = 0;

  constructor(node: VNode, flags: number, private readonly parent: VNode) {
    super(flags & O_ACCMODE);
    this.statusFlags = flags & ~(0o100 | 0o200 | 0o1000);
    this.node = node;
  }

  override read(): Uint8Array {
    throw EISDIR;
  }

  override write(): number {
    throw EBADF;
  }

  override async getdents(max: number): Promise<DirEntry[]> {
    if (!this.listing) {
      const [self, up, names] = await Promise.all([this.node!.attr(), this.parent.attr(), this.node!.readdir()]);
      this.listing = [{ name: '.', ino: self.ino, type: DT_DIR }, { name: '..', ino: up.ino, type: DT_DIR }, ...names];
    }
    const out = this.listing.slice(this.pos, this.pos + max);
    this.pos += out.length;
    return out;
  }

  /** unread puts back entries that did not fit the caller's buffer. */
  unread(n: number): void {
    this.pos -= n;
  }

  /** offset is the index of the next entry (getdents64's d_off cookie). */
  get offset(): number {
    return this.pos;
  }

  override seek(offset: number, whence: number): number {
    if (whence === SEEK_SET && offset >= 0) {
      this.pos = offset;
      if (offset === 0) this.listing = undefined;
      return offset;
    }
    if (whence === SEEK_CUR && this.pos + offset >= 0) {
      this.pos += offset;
      return this.pos;
    }
    throw EINVAL;
  }

  stat(): Promise<Stat> {
    return this.node!.attr();
  }
}
