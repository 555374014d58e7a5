// memory-file.ts: the MemoryFile, a sparse memfd that holds every page the
// sandbox's programs use (and the kvm platform's page tables). It is mapped
// once into the Sentry, so copying to and from a program is a plain copy.
// Offsets in the file are "physical" addresses: the kvm platform registers
// the file as guest-physical memory starting at 0.
import { host } from '../native/host.js';
import { PAGE_SIZE } from '../platform.js';

/**
 * CHUNK is the size of one view of the file. Views are made when first
 * needed and kept small, since V8 counts each view's size as memory
 * pressure (see host.cc's View).
 */
const CHUNK = 1 << 24;
/** FIRST_GROWTH is how much of the file is covered at first. */
const FIRST_GROWTH = 32 << 20;
const PAGE_SHIFT = 12;

/**
 * forEachRun sorts page-aligned offsets and calls fn once per contiguous
 * run of them, as [start, end); repeated offsets fall in the same run.
 */
export function forEachRun(frames: number[], fn: (start: number, end: number) => void): void {
  if (frames.length === 0) return;
  const f = frames.sort((a, b) => a - b);
  let start = f[0];
  let end = start + PAGE_SIZE;
  for (let i = 1; i < f.length; i++) {
    if (f[i] <= end) {
      end = Math.max(end, f[i] + PAGE_SIZE);
    } else {
      fn(start, end);
      start = f[i];
      end = start + PAGE_SIZE;
    }
  }
  fn(start, end);
}

/**
 * cacheLimit is how much of the file the page cache may hold for a
 * sandbox whose programs may commit `limit` bytes: an eighth more.
 */
export function cacheLimit(limit: number): number {
  return Math.floor(limit / 8 / PAGE_SIZE) * PAGE_SIZE;
}

export class MemoryFile {
  readonly fd: number;
  readonly size: number;
  readonly address: bigint;
  private readonly buffers: ArrayBuffer[] = [];
  private readonly bytes: Uint8Array[] = [];
  private readonly words: Uint32Array[] = [];
  /** refs counts the mappings of each frame; 0 is free. It grows with the frames handed out. */
  private refs = new Uint16Array(4096);
  private readonly free: number[] = [];
  private next: number;
  private readonly freed: number[] = [];
  /** userLimit and userCharged account the memory programs may commit (the page cache's is on top; see cacheLimit). */
  readonly userLimit: number;
  userCharged = 0;
  private closed = false;
  /**
   * covered is how much of the file, from the start, the platform has been
   * told about (see onGrow); frames are handed out below it.
   */
  private covered = 0;
  /**
   * onGrow tells the platform that [from, to) is now in use, before any
   * frame there is handed out. The kvm platform registers a memory slot
   * for it: KVM's cost to create and destroy a slot grows with its size,
   * so a short-lived sandbox pays only for the memory it touches.
   */
  onGrow: ((from: number, to: number) => void) | undefined;

  /**
   * create makes a memory file for a sandbox whose programs may commit
   * `limit` bytes. Its first `reserved` bytes are the platform's (the kvm
   * platform's kernel area); page tables and those come on top of limit.
   */
  static create(limit: number, reserved: number): MemoryFile {
    const overhead = reserved + Math.ceil(limit / 256) + (4 << 20) + cacheLimit(limit);
    const size = Math.ceil((limit + overhead) / (2 << 20)) * (2 << 20);
    const fd = host.memfdCreate('tvisor-memory', size);
    try {
      return new MemoryFile(fd, size, limit, reserved);
    } catch (err) {
      host.close(fd);
      throw err;
    }
  }

  private constructor(fd: number, size: number, limit: number, reserved: number) {
    this.fd = fd;
    this.size = size;
    this.userLimit = limit;
    this.address = host.mapShared(fd, size);
    this.next = Math.max(reserved, PAGE_SIZE);
  }

  /** allocFrame returns a zeroed frame with one reference, or -1 when the file is full. */
  allocFrame(): number {
    let phys = this.free.pop();
    if (phys === undefined) {
      if (this.next + PAGE_SIZE > this.size) return -1;
      if (this.next + PAGE_SIZE > this.covered) this.grow();
      phys = this.next;
      this.next += PAGE_SIZE;
      if (this.next >>> PAGE_SHIFT > this.refs.length) {
        const grown = new Uint16Array(this.refs.length * 2);
        grown.set(this.refs);
        this.refs = grown;
      }
    }
    this.refs[phys / PAGE_SIZE] = 1;
    return phys;
  }

  /** copyFrame returns a new frame (one reference) holding a copy of the frame at phys, or -1 when the file is full. */
  copyFrame(phys: number): number {
    const copy = this.allocFrame();
    if (copy < 0) return -1;
    const off = this.offsetOf(phys);
    this.bytesAt(copy).set(this.bytesAt(phys).subarray(off, off + PAGE_SIZE), this.offsetOf(copy));
    return copy;
  }

  /** retired counts frames taken out of use for good (the kvm platform's released page tables). */
  retired = 0;

  /**
   * retireTables takes the frames of released page tables (their holes
   * already punched). While they are a small part of the file (an eighth)
   * they are never handed out again; past that they are freed, to be
   * handed out last, when every other free frame is taken.
   */
  retireTables(frames: number[]): void {
    if ((this.retired + frames.length) * PAGE_SIZE <= this.size / 8) {
      this.retired += frames.length;
      return;
    }
    for (const phys of frames) if (--this.refs[phys / PAGE_SIZE] === 0) this.free.unshift(phys);
  }

  /** refCount is how many mappings hold the frame at phys (more than one: shared, copied on a write). */
  refCount(phys: number): number {
    return this.refs[phys / PAGE_SIZE];
  }

  incRef(phys: number): void {
    this.refs[phys / PAGE_SIZE]++;
  }

  /** decRef drops a reference; the frame is given back by the next flush when none remain. */
  decRef(phys: number): void {
    const i = phys / PAGE_SIZE;
    if (--this.refs[i] === 0) this.freed.push(phys);
  }

  /**
   * flushFreed punches the frames freed since the last flush out of the
   * file, in contiguous runs: the host gets the memory back, the frames
   * read as zero when reused, and every mapping of them (KVM's included)
   * is dropped.
   */
  flushFreed(): void {
    if (this.freed.length === 0) return;
    forEachRun(this.freed, (start, end) => host.punchHole(this.fd, start, end - start));
    // forEachRun sorted them: stacked from the top down, they are handed
    // out again in rising order, so a program's buffer gets runs of
    // contiguous frames, which host calls read into with few iovecs.
    for (let i = this.freed.length - 1; i >= 0; i--) this.free.push(this.freed[i]);
    this.freed.length = 0;
  }

  /** populate makes the host allocate the given frames' pages now (see host.populate), in contiguous runs. */
  populate(frames: number[]): void {
    forEachRun(frames, (start, end) => host.populate(this.address + BigInt(start), end - start));
  }

  /** grow covers at least one more frame, doubling what is covered. */
  private grow(): void {
    const to = Math.min(this.size, Math.max(this.covered * 2, FIRST_GROWTH, this.next + PAGE_SIZE));
    this.onGrow?.(this.covered, to);
    this.covered = to;
  }

  /** start covers the kernel area and the first frames; the platform calls it once it has set onGrow. */
  start(): void {
    if (this.covered === 0) this.grow();
  }

  /** charge reserves bytes of the programs' limit; false when it would pass the limit. */
  charge(bytes: number): boolean {
    if (this.userCharged + bytes > this.userLimit) return false;
    this.userCharged += bytes;
    return true;
  }

  uncharge(bytes: number): void {
    this.userCharged -= bytes;
  }

  /** committed is how much of the limit programs hold now (/proc/meminfo). */
  get committed(): number {
    return this.userCharged;
  }

  /** bytesAt returns the view holding `phys`; index it with offsetOf(phys). */
  bytesAt(phys: number): Uint8Array {
    return this.bytes[Math.floor(phys / CHUNK)] ?? this.makeView(phys).bytes;
  }

  /** wordsAt returns the 32-bit view holding `phys`; index it with offsetOf(phys) / 4. */
  wordsAt(phys: number): Uint32Array {
    return this.words[Math.floor(phys / CHUNK)] ?? this.makeView(phys).words;
  }

  private makeView(phys: number): { bytes: Uint8Array; words: Uint32Array } {
    const i = Math.floor(phys / CHUNK);
    if (this.closed || phys < 0 || phys >= this.size) throw new RangeError(`memory file offset ${phys} out of range`);
    const buffer = host.view(this.address, i * CHUNK, Math.min(CHUNK, this.size - i * CHUNK));
    this.buffers.push(buffer);
    this.bytes[i] = new Uint8Array(buffer);
    this.words[i] = new Uint32Array(buffer);
    return { bytes: this.bytes[i], words: this.words[i] };
  }

  offsetOf(phys: number): number {
    return phys % CHUNK;
  }

  /** write copies data into the file at phys (within one frame). */
  write(phys: number, data: Uint8Array): void {
    this.bytesAt(phys).set(data, this.offsetOf(phys));
  }

  /** hostAddress returns the Sentry's address of phys (for host calls). */
  hostAddress(phys: number): bigint {
    return this.address + BigInt(phys);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    host.unmap(this.address, this.size, this.buffers);
    host.close(this.fd);
    this.bytes.length = 0;
    this.words.length = 0;
  }
}
