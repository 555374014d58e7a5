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

/** Opened is a file opened to be read into a FileMemory, and how to let it go. */
export interface Opened {
  file: FileDescription;
  close(): void;
}

/**
 * FileMemory is a file's contents, `size` bytes, in frames of the memory
 * file, read in as ranges of it are asked for (ensure): page i of the file
 * is frame(i), and the bytes past the end of the file in its last page are
 * zero. Its references are the mappings that use it and whoever else
 * holds it (the cache, a loader at work); its frames go back when the last
 * is dropped.
 */
export class FileMemory {
  private frames: Int32Array;
  refs = 0;
  /** loaded counts the pages read in. */
  loaded = 0;
  /**
   * patchSites are the system call sites programs found in this file's
   * code, by the file offset of their return address (see patch.ts's
   * remember and replay).
   */
  readonly patchSites = new Map<number, PatchedSite>();
  /** reading chains the reads in progress, so that no page is read twice. */
  private reading: Promise<void> = Promise.resolve();

  constructor(private readonly mem: MemoryFile, readonly size: number) {
    this.frames = new Int32Array(Math.ceil(size / PAGE_SIZE));
  }

  /** pages is how many pages the file has. */
  get pages(): number {
    return this.frames.length;
  }

  /** frame returns the frame of page i of the file, or -1 when it is past the end or not read in. */
  frame(i: number): number {
    return i < this.frames.length && this.frames[i] > 0 ? (this.frames[i] - 1) * PAGE_SIZE : -1;
  }

  /** read copies up to len bytes at offset out of the contents (read in already). */
  read(offset: number, len: number): Buffer {
    const n = Math.max(0, Math.min(len, this.size - offset));
    const out = Buffer.alloc(n);
    for (let done = 0; done < n;) {
      const at = offset + done;
      const m = Math.min(n - done, PAGE_SIZE - (at % PAGE_SIZE));
      const f = this.frame(Math.floor(at / PAGE_SIZE));
      if (f >= 0) {
        const phys = f + (at % PAGE_SIZE);
        const off = this.mem.offsetOf(phys);
        out.set(this.mem.bytesAt(phys).subarray(off, off + m), done);
      }
      done += m;
    }
    return out;
  }

  /**
   * ensure reads pages [from, to) in, where they are not yet, opening the
   * file only if one is missing; ENOMEM when the memory file has no room.
   */
  ensure(open: () => Promise<Opened>, from = 0, to = this.pages): Promise<void> {
    const read = () => this.readIn(open, from, Math.min(to, this.pages));
    const done = this.reading.then(read, read);
    this.reading = done.catch(() => undefined);
    return done;
  }

  private async readIn(open: () => Promise<Opened>, from: number, to: number): Promise<void> {
    let first = from;
    while (first < to && this.frames[first] > 0) first++;
    if (first >= to) return;
    const opened = await open();
    try {
      for (let i = first; i < to;) {
        if (this.frames[i] > 0) {
          i++;
          continue;
        }
        let j = i;
        while (j < to && this.frames[j] === 0) j++;
        await this.readRun(opened.file, i, j);
        i = j;
      }
    } finally {
      opened.close();
    }
  }

  /** readRun reads pages [from, to), none of them read in, into new frames, straight into the memory file where the file allows it. */
  private async readRun(file: FileDescription, from: number, to: number): Promise<void> {
    const frames: number[] = [];
    try {
      for (let i = from; i < to; i++) {
        const phys = this.mem.allocFrame();
        if (phys < 0) throw ENOMEM;
        frames.push(phys);
      }
      const start = from * PAGE_SIZE;
      const end = Math.min(this.size, to * PAGE_SIZE);
      for (let done = start; done < end;) {
        const n = await fill(file, done, MemoryRuns.over(this.mem, done - start, end - done, (at) => frames[Math.floor(at / PAGE_SIZE)] + (at % PAGE_SIZE), FILL_PAIRS));
        if (n <= 0) break; // the file shrank: the rest reads as zero
        done += n;
      }
    } catch (err) {
      for (const phys of frames) this.mem.decRef(phys);
      this.mem.flushFreed();
      throw err;
    }
    frames.forEach((phys, k) => (this.frames[from + k] = phys / PAGE_SIZE + 1));
    this.loaded += frames.length;
  }

  unref(): void {
    if (--this.refs > 0) return;
    for (const f of this.frames) if (f > 0) this.mem.decRef((f - 1) * PAGE_SIZE);
    this.frames = new Int32Array(0);
    this.loaded = 0;
    this.mem.flushFreed();
  }
}

/** fill reads the file at offset into target and returns how much it read. */
function fill(file: FileDescription, offset: number, target: MemoryRuns): number | Promise<number> {
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

/**
 * PageCache keeps the contents of files that programs were loaded from or
 * mapped, by a key that changes whenever the file could have (see
 * VNode.contentKey), the least recently used going first once the pages
 * read in pass maxPages. A file dropped from the cache stays in memory
 * while a mapping uses it.
 */
export class PageCache {
  private readonly entries = new Map<string, FileMemory>();

  constructor(private readonly mem: MemoryFile, private readonly maxPages: number) {}

  /**
   * get returns the memory for a file's contents, with a reference for the
   * caller, who reads in what it needs (FileMemory.ensure) and drops the
   * reference (unref) when done. A file without a key gets memory of its
   * own, not kept.
   */
  get(key: string | undefined, size: number): FileMemory {
    let fm = key === undefined ? undefined : this.entries.get(key);
    if (fm) {
      // Taken again: now the most recently used.
      this.entries.delete(key!);
    } else {
      fm = new FileMemory(this.mem, size);
      if (key !== undefined) fm.refs++; // the cache's own
    }
    if (key !== undefined) {
      this.entries.set(key, fm);
      this.trim(fm);
    }
    fm.refs++;
    return fm;
  }

  /** trim drops the least recently used files, never `keep`, while the cache holds more than maxPages. */
  private trim(keep: FileMemory): void {
    let pages = 0;
    for (const fm of this.entries.values()) pages += fm.loaded;
    for (const [k, fm] of this.entries) {
      if (pages <= this.maxPages) break;
      if (fm === keep) continue;
      this.entries.delete(k);
      pages -= fm.loaded;
      fm.unref();
    }
  }

  /** clear drops every file the cache holds (what mappings use stays). */
  clear(): void {
    for (const fm of this.entries.values()) fm.unref();
    this.entries.clear();
  }
}
