// page-cache.ts: files' contents held in frames of the memory file. A
// program's code and data are mapped straight onto these frames, shared by
// every process that runs the same file and copied only on a write (a
// private mapping's copy on write, as after a fork), so an exec neither
// reads the file again nor copies it into the program.
import { ENOMEM } from '../errno.js';
import type { FileDescription } from '../vfs/file.js';
import type { MemoryFile } from './memory-file.js';
import { MemoryRuns, PAGE_SIZE } from './mm.js';

/** FILL_PAIRS bounds the runs one read fills (a host readv takes at most 1024). */
const FILL_PAIRS = 1024;
/** COPY_CHUNK is how much a file without a direct read path reads at a time. */
const COPY_CHUNK = 4 << 20;

/** PatchedSite is a call site found in a file's code: offsets are the file's. */
export interface PatchedSite {
  /** at is where the bytes rewritten start. */
  at: number;
  nr: number;
  /** run is the instructions the stub runs (empty: an exact `mov $nr, %eax; syscall`). */
  run: Uint8Array;
  /** code is the file's bytes from `at` up to the return address, as found. */
  code: Uint8Array;
}

/**
 * FileMemory is a file's contents, `size` bytes, in frames of the memory
 * file: page i of the file is frame(i), and the bytes past the end of the
 * file in its last page are zero. Its references are the mappings that
 * use it and whoever else holds it (the cache, a loader at work); its
 * frames go back when the last is dropped.
 */
export class FileMemory {
  private frames: Int32Array;
  refs = 0;
  /**
   * patchSites are the system call sites programs found in this file's
   * code, by the file offset of their return address (see patch.ts's
   * remember and replay).
   */
  readonly patchSites = new Map<number, PatchedSite>();

  private constructor(private readonly mem: MemoryFile, readonly size: number) {
    this.frames = new Int32Array(Math.ceil(size / PAGE_SIZE));
  }

  /** pages is how many frames the contents take. */
  get pages(): number {
    return this.frames.length;
  }

  /** frame returns the frame of page i of the file, or -1 past its end. */
  frame(i: number): number {
    return i < this.frames.length && this.frames[i] > 0 ? (this.frames[i] - 1) * PAGE_SIZE : -1;
  }

  /** read copies up to len bytes at offset out of the contents. */
  read(offset: number, len: number): Buffer {
    const n = Math.max(0, Math.min(len, this.size - offset));
    const out = Buffer.allocUnsafe(n);
    for (let done = 0; done < n;) {
      const at = offset + done;
      const phys = this.frame(Math.floor(at / PAGE_SIZE)) + (at % PAGE_SIZE);
      const m = Math.min(n - done, PAGE_SIZE - (at % PAGE_SIZE));
      const view = this.mem.bytesAt(phys);
      const off = this.mem.offsetOf(phys);
      out.set(view.subarray(off, off + m), done);
      done += m;
    }
    return out;
  }

  unref(): void {
    if (--this.refs > 0) return;
    for (const f of this.frames) if (f > 0) this.mem.decRef((f - 1) * PAGE_SIZE);
    this.frames = new Int32Array(0);
    this.mem.flushFreed();
  }

  /**
   * load reads `size` bytes of an open file into new frames, straight into
   * the memory file where the file allows it. The result holds no
   * reference yet. ENOMEM when the memory file has no room for it.
   */
  static async load(mem: MemoryFile, file: FileDescription, size: number): Promise<FileMemory> {
    const fm = new FileMemory(mem, size);
    try {
      for (let i = 0; i < fm.frames.length; i++) {
        const phys = mem.allocFrame();
        if (phys < 0) throw ENOMEM;
        fm.frames[i] = phys / PAGE_SIZE + 1;
      }
      for (let done = 0; done < size;) {
        const n = await fm.fill(file, done);
        if (n <= 0) break; // the file shrank: the rest reads as zero
        done += n;
      }
    } catch (err) {
      fm.refs = 1;
      fm.unref();
      throw err;
    }
    return fm;
  }

  /** fill reads the file at offset into the frames and returns how much it read. */
  private fill(file: FileDescription, offset: number): number | Promise<number> {
    const target = this.runs(offset);
    const direct = file.preadInto(offset, target);
    if (direct !== undefined) return direct;
    const copy = (data: Uint8Array): number => {
      let done = 0;
      for (const view of target.views()) {
        if (done >= data.length) break;
        const m = Math.min(view.length, data.length - done);
        view.set(data.subarray(done, done + m));
        done += m;
      }
      return data.length;
    };
    const got = file.pread(offset, Math.min(COPY_CHUNK, target.length));
    return got instanceof Promise ? got.then(copy) : copy(got);
  }

  /** runs are the frames from offset to the end, as at most FILL_PAIRS runs of contiguous frames. */
  private runs(offset: number): MemoryRuns {
    const pairs: number[] = [];
    let length = 0;
    for (let at = offset; at < this.size;) {
      const phys = this.frame(Math.floor(at / PAGE_SIZE)) + (at % PAGE_SIZE);
      const n = Math.min(this.size - at, PAGE_SIZE - (at % PAGE_SIZE));
      const last = pairs.length - 2;
      if (last >= 0 && pairs[last] + pairs[last + 1] === phys) pairs[last + 1] += n;
      else if (pairs.length === 2 * FILL_PAIRS) break;
      else pairs.push(phys, n);
      length += n;
      at += n;
    }
    return new MemoryRuns(this.mem, Float64Array.from(pairs), length);
  }
}

/**
 * PageCache keeps the contents of files that programs were loaded from,
 * by a key that changes whenever the file could have (see VNode.contentKey),
 * the least recently used going first once they pass maxPages. A file
 * dropped from the cache stays in memory while a mapping uses it.
 */
export class PageCache {
  private readonly entries = new Map<string, FileMemory>();
  private readonly loading = new Map<string, Promise<FileMemory>>();
  private pages = 0;

  constructor(private readonly mem: MemoryFile, private readonly maxPages: number) {}

  /**
   * get returns a file's contents with a reference for the caller, who
   * drops it (unref) when done. open opens the file to read it on a miss;
   * a file without a key is read afresh and not kept.
   */
  async get(key: string | undefined, size: number, open: () => Promise<FileDescription>): Promise<FileMemory> {
    let fm = key === undefined ? undefined : this.entries.get(key);
    if (fm) {
      // Taken again: now the most recently used.
      this.entries.delete(key!);
      this.entries.set(key!, fm);
    } else if (key === undefined) {
      fm = await this.load(open, size);
    } else {
      let pending = this.loading.get(key);
      if (!pending) {
        pending = this.load(open, size).then((loaded) => this.keep(key, loaded));
        this.loading.set(key, pending);
        void pending.then(() => this.loading.delete(key), () => this.loading.delete(key));
      }
      fm = await pending;
    }
    fm.refs++;
    return fm;
  }

  private async load(open: () => Promise<FileDescription>, size: number): Promise<FileMemory> {
    const f = await open();
    try {
      return await FileMemory.load(this.mem, f, size);
    } finally {
      f.release();
    }
  }

  private keep(key: string, fm: FileMemory): FileMemory {
    fm.refs++;
    this.entries.set(key, fm);
    this.pages += fm.pages;
    for (const [k, old] of this.entries) {
      if (this.pages <= this.maxPages || k === key) break;
      this.entries.delete(k);
      this.pages -= old.pages;
      old.unref();
    }
    return fm;
  }

  /** clear drops every file the cache holds (what mappings use stays). */
  clear(): void {
    for (const fm of this.entries.values()) fm.unref();
    this.entries.clear();
    this.pages = 0;
  }
}
