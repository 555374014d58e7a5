// mm.ts: a program's memory manager. VMAs say what the program may map;
// frames of the memory file are mapped lazily on the first fault (with a
// few neighbours), through the platform's address space. The Sentry keeps
// its own page map (vpn -> frame) so that copying to and from the program
// never asks the platform.
import type { SyscallPatches } from '../kernel/patch.js';
import { EACCES, EEXIST, EFAULT, EINVAL, ENOMEM, SyscallError } from '../errno.js';
import type { MemoryFile } from './memory-file.js';
import type { FileMemory } from './page-cache.js';
import { PAGE_SIZE, Perm, USER_ADDRESS_LIMIT, type PlatformAddressSpace } from '../platform.js';

export { PAGE_SIZE, USER_ADDRESS_LIMIT };

/**
 * SharedMemory is the memory behind a shared mapping: of anonymous memory,
 * or of a tmpfs file (whose contents it is). Its frames belong to it, not
 * to a mapping, so every view of it (after a split, an mremap with
 * old_size 0, or MADV_DONTNEED) sees the same bytes.
 */
export class SharedMemory {
  private frames = new Int32Array(0);
  /** refs counts the VMAs that use this memory, and any owner that keeps it. */
  refs = 0;
  /** sealed memory (the vDSO) cannot be made writable. */
  sealed = false;
  /** limit is how many pages have frames at most: a file's size; a page past it has none (a fault there is SIGBUS). */
  limit = Infinity;
  /**
   * owned is set for a host file's contents while shared mappings map
   * them: idle is told when no mapping is left (only the owner's
   * reference), and sync writes the contents back to the file (msync).
   */
  owned: { idle(): void; sync(): Promise<void> } | undefined;

  constructor(private readonly mem: MemoryFile, public charged: number) {}

  /** forFile is a file's contents in mem, empty: its owner holds the one reference, and it has no page yet. */
  static forFile(mem: MemoryFile): SharedMemory {
    const m = new SharedMemory(mem, 0);
    m.refs = 1;
    m.limit = 0;
    return m;
  }

  /** frame returns the frame of page i, allocating it on first use, or -1. */
  frame(i: number): number {
    if (i >= this.limit) return -1;
    if (i >= this.frames.length) {
      const grown = new Int32Array(Math.max(i + 1, this.frames.length * 2));
      grown.set(this.frames);
      this.frames = grown;
    }
    if (this.frames[i] === 0) {
      const phys = this.mem.allocFrame();
      if (phys < 0) return -1;
      this.frames[i] = phys / PAGE_SIZE + 1;
    }
    return (this.frames[i] - 1) * PAGE_SIZE;
  }

  /**
   * copy copies between buf and the memory from byte `offset`: into it
   * (allocating frames; false when one could not be had) or out of it
   * (pages without a frame read as zeros).
   */
  copy(offset: number, buf: Uint8Array, into: boolean): boolean {
    for (let done = 0; done < buf.length;) {
      const at = offset + done;
      const i = Math.floor(at / PAGE_SIZE);
      const n = Math.min(buf.length - done, PAGE_SIZE - (at % PAGE_SIZE));
      const phys = into ? this.frame(i) : i < this.frames.length ? (this.frames[i] - 1) * PAGE_SIZE : -1;
      if (phys >= 0) {
        const view = this.mem.bytesAt(phys);
        const off = this.mem.offsetOf(phys) + (at % PAGE_SIZE);
        if (into) view.set(buf.subarray(done, done + n), off);
        else buf.set(view.subarray(off, off + n), done);
      } else if (into) {
        return false;
      }
      done += n;
    }
    return true;
  }

  /** read returns the bytes [offset, offset+length) of a file of `size` bytes whose contents this is. */
  read(offset: number, length: number, size: number): Uint8Array {
    const end = Math.min(size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    const out = new Uint8Array(end - offset);
    this.copy(offset, out, false);
    return out;
  }

  /**
   * resize makes the memory a file's contents going from `from` to `to`
   * bytes: pages are charged as it grows (false past the memory limit),
   * the bytes past the old end (growing) or the new end (shrinking) read
   * as zeros, and frames wholly past the end go.
   */
  resize(from: number, to: number): boolean {
    const want = Math.ceil(to / PAGE_SIZE) * PAGE_SIZE;
    if (to >= from) {
      if (want > this.charged) {
        if (!this.mem.charge(want - this.charged)) return false;
        this.charged = want;
      }
      this.limit = want / PAGE_SIZE;
      // A shared mapping may have written past the old end of its last page.
      const tail = Math.min(to, Math.ceil(from / PAGE_SIZE) * PAGE_SIZE) - from;
      return tail <= 0 || this.copy(from, new Uint8Array(tail), true);
    }
    const last = to % PAGE_SIZE;
    if (last) this.copy(to, new Uint8Array(PAGE_SIZE - last), true);
    this.limit = want / PAGE_SIZE;
    // Pages a mapping holds past the new end stay mapped there (Linux
    // makes them SIGBUS): taking them from another process's address space
    // while it runs could free a frame its ptrace stub still maps.
    this.drop(this.limit);
    this.mem.uncharge(this.charged - want);
    this.charged = want;
    return true;
  }

  /** mappedWritable is true when a shared mapping that may write (its file open for writing) maps this memory. */
  mappedWritable(): boolean {
    return mappersOf(this.mem, this).some((vma) => !vma.readOnly);
  }

  /** drop gives back the frames of pages `from` on (mappings keep theirs until they go). */
  drop(from: number): void {
    for (let i = from; i < this.frames.length; i++) {
      if (this.frames[i] > 0) this.mem.decRef((this.frames[i] - 1) * PAGE_SIZE);
      this.frames[i] = 0;
    }
  }

  unref(): void {
    if (--this.refs > 0) {
      if (this.refs === 1) this.owned?.idle();
      return;
    }
    this.drop(0);
    this.frames = new Int32Array(0);
    this.mem.uncharge(this.charged);
    this.charged = 0;
  }
}

/** Vma is one mapping: [start, end), page-aligned. */
export interface Vma {
  start: number;
  end: number;
  perm: Perm;
  /** shm is the memory of a shared mapping; shmPage is the page of it at start. */
  shm: SharedMemory | undefined;
  shmPage: number;
  /**
   * file is the file contents a private file mapping starts from, filePage
   * the page of the file at start: its frames are mapped as they are and
   * copied on the first write, like private memory after a fork.
   */
  file?: FileMemory;
  filePage?: number;
  /** charged is true when the mapping counts against the memory limit (private writable memory). */
  charged: boolean;
  /** readOnly: a shared mapping of a file opened without write access, which mprotect may not make writable. */
  readOnly?: boolean;
  name: string;
}

/**
 * FORK_COPY_PAGES is the most pages of its own writable memory a process
 * may have for fork to copy them at once rather than on write (2 MiB).
 */
const FORK_COPY_PAGES = 512;
/** FAULT_AROUND is how many pages one fault maps at most (an aligned block). */
export const FAULT_AROUND = 64;
/** MMAP_TOP is where top-down mmap placement starts: below the stack's reserve. */
const STACK_RESERVE = 128 << 20;

export const pageDown = (a: number) => a - (a % PAGE_SIZE);
export const pageUp = (a: number) => Math.ceil(a / PAGE_SIZE) * PAGE_SIZE;

/** FaultResult says how a page fault ended. */
export const enum FaultResult {
  /** Mapped: the page is now mapped; resume the program. */
  Mapped,
  /** NoMapping: no VMA covers the address (SEGV_MAPERR). */
  NoMapping,
  /** Denied: a VMA covers it, but not for this access (SEGV_ACCERR). */
  Denied,
  /** OutOfMemory: no frame could be had (SIGBUS). */
  OutOfMemory,
}

/** live holds each memory file's address spaces that are not released: those a shared memory's changes must reach. */
const live = new WeakMap<MemoryFile, Set<MM>>();

/** mappersOf is the VMAs of every live address space that map shm. */
function mappersOf(mem: MemoryFile, shm: SharedMemory): Vma[] {
  const out: Vma[] = [];
  for (const mm of live.get(mem) ?? []) for (const vma of mm.vmas) if (vma.shm === shm) out.push(vma);
  return out;
}

export class MM {
  /** vmas are sorted by start and never overlap. */
  vmas: Vma[] = [];
  /** pages maps (addr / 2 MiB) to 512 frame numbers + 1 (0: not mapped). */
  private readonly pages = new Map<number, Int32Array>();
  brkStart = 0;
  brk = 0;
  mmapTop = USER_ADDRESS_LIMIT - STACK_RESERVE;
  /** users counts the tasks on this memory (a vfork child shares its parent's until it execs). */
  users = 1;
  /** cow holds the pages of private writable memory mapped read-only because another address space shares their frames. */
  private readonly cow = new Set<number>();
  /**
   * peers are the address spaces this one may share frames with: those
   * forked from it, those it was forked from, and theirs. When one of them
   * lets go of its frames, the others take back, writable, the pages no
   * one else shares any more (reclaim), before the program faults on them.
   */
  private readonly peers = new Set<MM>();
  /** patches are the call sites rewritten for exitless system calls, if any. */
  patches: SyscallPatches | undefined;
  private released = false;

  constructor(readonly mem: MemoryFile, readonly as: PlatformAddressSpace) {
    let set = live.get(mem);
    if (!set) live.set(mem, (set = new Set()));
    set.add(this);
  }

  findVma(addr: number): Vma | undefined {
    const v = this.vmas;
    let lo = 0;
    let hi = v.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (v[mid].end <= addr) lo = mid + 1;
      else if (v[mid].start > addr) hi = mid - 1;
      else return v[mid];
    }
    return undefined;
  }

  /** resident is true when the page at addr has a frame in this address space (mincore's answer). */
  resident(addr: number): boolean {
    return this.frameOf(pageDown(addr)) >= 0;
  }

  private frameOf(addr: number): number {
    const block = this.pages.get(Math.floor(addr / 0x200000));
    if (!block) return -1;
    return block[(addr % 0x200000) / PAGE_SIZE] - 1;
  }

  private setFrame(addr: number, frameIndex: number): void {
    const key = Math.floor(addr / 0x200000);
    let block = this.pages.get(key);
    if (!block) {
      block = new Int32Array(512);
      this.pages.set(key, block);
    }
    block[(addr % 0x200000) / PAGE_SIZE] = frameIndex + 1;
  }

  /**
   * fault handles a page fault at addr for the given access. A fault on a
   * page already mapped with that access is spurious (a stale TLB entry)
   * and just resumes.
   */
  fault(addr: number, access: Perm): FaultResult {
    const vma = this.findVma(addr);
    if (!vma) return FaultResult.NoMapping;
    if ((vma.perm & access) !== access || (vma.perm === Perm.None && access !== Perm.None)) return FaultResult.Denied;
    const page = pageDown(addr);
    const present = this.frameOf(page);
    if (present >= 0) {
      // A write to a page of private memory shared after a fork: copy it
      // now (or, if the other side already did, take it back writable).
      // Otherwise the fault was a stale translation (kvm) and is over.
      if (access & Perm.Write && !vma.shm) return this.unshare(vma, page, present);
      return FaultResult.Mapped;
    }
    const phys = this.frameFor(vma, page);
    if (phys < 0) return FaultResult.OutOfMemory;
    this.setFrame(page, phys / PAGE_SIZE);
    // A write to a file's page takes a copy at once (the file's own frame
    // is shared); anything else maps the frame as permFor says.
    if (access & Perm.Write && vma.file) {
      const copied = this.unshare(vma, page, phys / PAGE_SIZE);
      if (copied !== FaultResult.Mapped) return copied;
    } else {
      this.as.map(page, phys, this.permFor(vma, page, phys));
    }
    // Map the rest of the aligned block around the fault, within the VMA:
    // programs touch memory in runs, and every fault is an exit.
    const blockStart = Math.max(vma.start, page - (page % (FAULT_AROUND * PAGE_SIZE)));
    const blockEnd = Math.min(vma.end, blockStart + FAULT_AROUND * PAGE_SIZE);
    this.populate(vma, blockStart, blockEnd, isFresh(vma) ? [phys] : undefined);
    return FaultResult.Mapped;
  }

  /**
   * prefault maps [start, end) of one VMA ahead of the program's faults,
   * each an exit: a program's code and data as it is loaded. With `write`,
   * file pages are copied now, as the program's first writes would.
   */
  prefault(start: number, end: number, write: boolean): void {
    const vma = this.findVma(start);
    if (!vma || end > vma.end) return;
    this.populate(vma, start, end);
    if (!write) return;
    for (let a = start; a < end; a += PAGE_SIZE) {
      const f = this.frameOf(a);
      if (f >= 0 && this.mem.refCount(f * PAGE_SIZE) > 1 && this.unshare(vma, a, f) !== FaultResult.Mapped) return;
    }
  }

  /**
   * populate maps the pages of [start, end), within vma, that are not
   * mapped yet, as a read would find them; it stops at the first page
   * without a frame (out of memory, or past the end of a file).
   */
  populate(vma: Vma, start: number, end: number, fresh: number[] | undefined = isFresh(vma) ? [] : undefined): void {
    for (let a = start; a < end; a += PAGE_SIZE) {
      if (this.frameOf(a) >= 0) continue;
      const f = this.frameFor(vma, a);
      if (f < 0) break;
      this.setFrame(a, f / PAGE_SIZE);
      this.as.map(a, f, this.permFor(vma, a, f));
      fresh?.push(f);
    }
    // New frames of private memory have no host page yet: made now, in
    // runs, they cost the host far less than the guest's first write to
    // each would (on PVM a round trip through the host per page, which
    // KVM could not prefetch for a page the host does not have).
    if (fresh && fresh.length > 0) this.mem.populate(fresh);
  }

  /**
   * unshare gives the page at addr, of private memory, a frame of its own
   * (a copy, while another address space still maps the frame) and maps
   * it with the VMA's full permissions.
   */
  private unshare(vma: Vma, addr: number, frame: number): FaultResult {
    let phys = frame * PAGE_SIZE;
    if (this.mem.refCount(phys) > 1) {
      const copy = this.mem.copyFrame(phys);
      if (copy < 0) return FaultResult.OutOfMemory;
      this.mem.decRef(phys);
      phys = copy;
      this.setFrame(addr, phys / PAGE_SIZE);
    }
    this.cow.delete(addr);
    this.as.map(addr, phys, vma.perm);
    return FaultResult.Mapped;
  }

  /**
   * isCow is true when addr's page is mapped read-only only until it is
   * copied on a write: a protection fault there is such a write (ptrace
   * does not report the kind of access).
   */
  isCow(addr: number): boolean {
    return this.cow.has(pageDown(addr));
  }

  /**
   * permFor is how the page at addr of vma, on frame phys, is mapped:
   * private memory another address space shares is not writable (and is
   * noted in `cow`).
   */
  private permFor(vma: Vma, addr: number, phys: number): Perm {
    if (!vma.shm && vma.perm & Perm.Write && this.mem.refCount(phys) > 1) {
      this.cow.add(addr);
      return vma.perm & ~Perm.Write;
    }
    this.cow.delete(addr);
    return vma.perm;
  }

  /**
   * fork makes the memory of a child process on `as`: the same mappings,
   * private memory shared frame by frame and copied on the first write
   * by either side (both map it read-only until then), shared memory
   * shared. Throws ENOMEM when the copy would pass the memory limit, as
   * Linux's strict overcommit does.
   */
  fork(as: PlatformAddressSpace): MM {
    const charged = this.vmas.reduce((n, v) => n + (v.charged ? v.end - v.start : 0), 0);
    if (!this.mem.charge(charged)) throw ENOMEM;
    // Sites that other processes found in our files since our last exit
    // are patched first, so that the child starts with them too.
    this.patches?.replay(this);
    const child = new MM(this.mem, as);
    child.vmas = this.vmas.map((v) => ({ ...v }));
    for (const v of child.vmas) hold(v);
    child.brkStart = this.brkStart;
    child.brk = this.brk;
    child.mmapTop = this.mmapTop;
    // A small process's own writable pages are copied now: a copy of a
    // page costs far less than the exit of a copy-on-write fault, which
    // both sides would take on their first writes.
    const copy = this.ownWritablePages() <= FORK_COPY_PAGES;
    for (const [key, block] of this.pages) {
      const childBlock = block.slice();
      child.pages.set(key, childBlock);
      for (let i = 0; i < block.length; i++) {
        if (block[i] === 0) continue;
        const addr = key * 0x200000 + i * PAGE_SIZE;
        const phys = (block[i] - 1) * PAGE_SIZE;
        const vma = this.findVma(addr)!;
        if (copy && this.isOwnWritable(vma, phys)) {
          const own = this.mem.copyFrame(phys);
          if (own >= 0) {
            childBlock[i] = own / PAGE_SIZE + 1;
            as.map(addr, own, vma.perm);
            continue;
          }
        }
        this.mem.incRef(phys);
        const perm = this.permFor(vma, addr, phys);
        if (perm !== vma.perm) this.as.protect(addr, perm);
        as.map(addr, phys, child.permFor(vma, addr, phys));
      }
    }
    child.patches = this.patches?.copy();
    for (const peer of [this, ...this.peers]) {
      peer.peers.add(child);
      child.peers.add(peer);
    }
    return child;
  }

  /** isOwnWritable is true for a page of private writable memory on a frame no one else maps. */
  private isOwnWritable(vma: Vma, phys: number): boolean {
    return !vma.shm && (vma.perm & Perm.Write) !== 0 && this.mem.refCount(phys) === 1;
  }

  /** ownWritablePages counts the pages isOwnWritable holds for. */
  private ownWritablePages(): number {
    let n = 0;
    for (const [key, block] of this.pages) {
      for (let i = 0; i < block.length; i++) {
        if (block[i] === 0) continue;
        const vma = this.findVma(key * 0x200000 + i * PAGE_SIZE)!;
        if (this.isOwnWritable(vma, (block[i] - 1) * PAGE_SIZE) && ++n > FORK_COPY_PAGES) return n;
      }
    }
    return n;
  }

  /** frameFor gives a new mapping of the page at addr its frame, with a reference for the mapping. */
  private frameFor(vma: Vma, addr: number): number {
    const page = (addr - vma.start) / PAGE_SIZE;
    if (!vma.shm && !vma.file) return this.mem.allocFrame();
    const phys = vma.shm ? vma.shm.frame(vma.shmPage + page) : vma.file!.frame(vma.filePage! + page);
    if (phys >= 0) this.mem.incRef(phys);
    return phys;
  }

  // ---- copying to and from the program ----

  /**
   * physFor returns the memory-file offset of addr for an access, faulting
   * the page in as the program's own access would, or throws EFAULT.
   */
  physFor(addr: number, access: Perm): number {
    if (!(addr >= 0 && addr < USER_ADDRESS_LIMIT)) throw EFAULT;
    const vma = this.findVma(addr);
    if (!vma || (vma.perm & access) !== access) throw EFAULT;
    let f = this.frameOf(pageDown(addr));
    if (f < 0) {
      if (this.fault(addr, access) !== FaultResult.Mapped) throw EFAULT;
      f = this.frameOf(pageDown(addr));
    }
    return f * PAGE_SIZE + (addr % PAGE_SIZE);
  }

  /**
   * physForWrite is physFor for a write by the Sentry: a frame of private
   * memory that another address space shares (after a fork) is copied
   * first, whatever the mapping's protection (the loader and the patcher
   * write code), so that the write is this program's alone.
   */
  private physForWrite(addr: number, access: Perm): number {
    const phys = this.physFor(addr, access);
    const page = pageDown(addr);
    const vma = this.findVma(addr)!;
    if (vma.shm || this.mem.refCount(phys - (phys % PAGE_SIZE)) <= 1) return phys;
    if (this.unshare(vma, page, this.frameOf(page)) !== FaultResult.Mapped) throw EFAULT;
    return this.frameOf(page) * PAGE_SIZE + (addr % PAGE_SIZE);
  }

  /**
   * transfer copies between buf and the program's memory at addr, a page
   * at a time, checking `access` on each page (Perm.None: any mapping, the
   * loader's use). With `partial`, it stops at the first inaccessible page
   * and returns how much it copied (EFAULT only when nothing was).
   */
  private transfer(addr: number, buf: Uint8Array, toProgram: boolean, access: Perm, partial = false): number {
    let done = 0;
    while (done < buf.length) {
      const a = addr + done;
      let phys: number;
      try {
        phys = toProgram ? this.physForWrite(a, access) : this.physFor(a, access);
      } catch (err) {
        if (partial && done > 0) return done;
        throw err;
      }
      const n = Math.min(buf.length - done, PAGE_SIZE - (a % PAGE_SIZE));
      const view = this.mem.bytesAt(phys);
      const off = this.mem.offsetOf(phys);
      if (toProgram) view.set(buf.subarray(done, done + n), off);
      else buf.set(view.subarray(off, off + n), done);
      done += n;
    }
    return done;
  }

  /** poke writes into the program's memory whatever the mapping's protection (the loader's use). */
  poke(addr: number, src: Uint8Array): void {
    this.transfer(addr, src, true, Perm.None);
  }

  /** peek reads the program's memory whatever the mapping's protection. */
  peek(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.transfer(addr, out, false, Perm.None);
    return out;
  }

  /**
   * pokeCode writes at most 8 bytes of code that may be running on another
   * vCPU. When they sit in one aligned 8-byte word, one atomic store
   * writes them, so an instruction fetch sees the old bytes or the new.
   */
  pokeCode(addr: number, src: Uint8Array): void {
    const word = addr - (addr % 8);
    if (addr + src.length > word + 8) {
      this.poke(addr, src);
      return;
    }
    const phys = this.physForWrite(word, Perm.None);
    const bytes = this.mem.bytesAt(phys);
    const off = bytes.byteOffset + this.mem.offsetOf(phys);
    const q = new BigUint64Array(bytes.buffer, off, 1);
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, q[0], true);
    b.set(src, addr - word);
    Atomics.store(q, 0, v.getBigUint64(0, true));
  }

  /**
   * runs returns the program's memory at [addr, addr+len) as runs of the
   * memory file, one per stretch of physically contiguous pages, after the
   * same access checks (and faults) a copy would make: host calls can then
   * read straight into the program's memory. EFAULT as copyOut would.
   */
  runs(addr: number, len: number, access: Perm): MemoryRuns {
    return MemoryRuns.over(this.mem, addr, len, (a) => (access & Perm.Write ? this.physForWrite(a, access) : this.physFor(a, access)));
  }

  /** changing tells the patched sites that [start, end) is about to change. */
  private changing(start: number, end: number): void {
    this.patches?.changing(this, start, end);
  }

  /** copyIn copies len bytes at addr out of the program into a new buffer. */
  copyIn(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.transfer(addr, out, false, Perm.Read);
    return out;
  }

  /** copyOut copies src into the program's memory at addr. */
  copyOut(addr: number, src: Uint8Array): void {
    this.transfer(addr, src, true, Perm.Write);
  }

  /**
   * copyOutPartial copies as much of src as fits before an inaccessible
   * page and returns how much that was; EFAULT when nothing fits.
   */
  copyOutPartial(addr: number, src: Uint8Array): number {
    return this.transfer(addr, src, true, Perm.Write, true);
  }

  /** readString reads a NUL-terminated string of at most max bytes (ENAMETOOLONG is the caller's). */
  readString(addr: number, max: number): string | undefined {
    const parts: Uint8Array[] = [];
    let total = 0;
    let a = addr;
    while (total < max) {
      const phys = this.physFor(a, Perm.Read);
      const n = Math.min(PAGE_SIZE - (a % PAGE_SIZE), max - total);
      const view = this.mem.bytesAt(phys);
      const off = this.mem.offsetOf(phys);
      const chunk = view.subarray(off, off + n);
      const nul = chunk.indexOf(0);
      if (nul >= 0) {
        parts.push(chunk.subarray(0, nul));
        return Buffer.concat(parts).toString('utf8');
      }
      parts.push(chunk);
      total += n;
      a += n;
    }
    return undefined;
  }

  readU64(addr: number): number {
    const b = this.copyIn(addr, 8);
    const v = new DataView(b.buffer);
    return v.getUint32(0, true) + v.getUint32(4, true) * 0x100000000;
  }

  readI64(addr: number): bigint {
    return new DataView(this.copyIn(addr, 8).buffer).getBigInt64(0, true);
  }

  writeU64(addr: number, value: number | bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(value)), true);
    this.copyOut(addr, b);
  }

  writeU32(addr: number, value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    this.copyOut(addr, b);
  }

  /**
   * updateU32 replaces the 32-bit word at addr (4-aligned) with f(old),
   * atomically (the program's other vCPUs may write it meanwhile), and
   * returns the old value.
   */
  updateU32(addr: number, f: (old: number) => number): number {
    const phys = this.physForWrite(addr, Perm.Write);
    const words = this.mem.wordsAt(phys);
    const i = this.mem.offsetOf(phys) >> 2;
    for (;;) {
      const old = Atomics.load(words, i);
      if (Atomics.compareExchange(words, i, old, f(old) >>> 0) === old) return old;
    }
  }

  readU32(addr: number): number {
    return new DataView(this.copyIn(addr, 4).buffer).getUint32(0, true);
  }

  // ---- mappings ----

  private charges(perm: Perm, vma: { shm: SharedMemory | undefined }): boolean {
    return !vma.shm && (perm & Perm.Write) !== 0;
  }

  /** residentKb is how much memory the program has touched, in KiB (ru_maxrss, VmRSS). */
  get residentKb(): number {
    let n = 0;
    for (const block of this.pages.values()) for (const f of block) if (f > 0) n++;
    return n * (PAGE_SIZE / 1024);
  }

  /** rangeFree is true when no VMA overlaps [start, end). */
  rangeFree(start: number, end: number): boolean {
    for (const v of this.vmas) if (v.start < end && v.end > start) return false;
    return true;
  }

  /** findFree returns a free range of len bytes, top-down below mmapTop, or -1. */
  findFree(len: number, below = this.mmapTop): number {
    let top = below;
    for (let i = this.vmas.length - 1; i >= -1; i--) {
      const v = this.vmas[i];
      const gapStart = v ? v.end : PAGE_SIZE * 16;
      if (v && v.start >= top) continue;
      if (top - gapStart >= len) return top - len;
      if (v) top = Math.min(top, v.start);
    }
    return -1;
  }

  /**
   * map creates a mapping at [start, start+len), replacing whatever was
   * there. Throws ENOMEM when it would pass the memory limit.
   */
  map(start: number, len: number, perm: Perm, shared: boolean, name: string): void {
    let shm: SharedMemory | undefined;
    if (shared) {
      // Shared memory is charged once, for the object, whatever its protection.
      if (!this.mem.charge(len)) throw ENOMEM;
      shm = new SharedMemory(this.mem, len);
    }
    const charged = this.charges(perm, { shm });
    if (charged && !this.mem.charge(len)) throw ENOMEM;
    this.unmap(start, len);
    this.insert({ start, end: start + len, perm, shm, shmPage: 0, charged, name });
  }

  /**
   * mapShared maps existing shared memory (the vDSO and its time page, a
   * tmpfs file's contents) at [start, start+len), from its page shmPage,
   * replacing whatever was there; `readOnly` keeps mprotect from making it
   * writable.
   */
  mapShared(start: number, len: number, perm: Perm, shm: SharedMemory, name: string, shmPage = 0, readOnly = false): void {
    this.unmap(start, len);
    this.insert({ start, end: start + len, perm, shm, shmPage, charged: false, name, readOnly: readOnly || undefined });
  }

  /**
   * mapFile maps a file's contents privately at [start, start+len), from
   * page filePage of the file, replacing whatever was there: every page is
   * the file's own frame until it is written. Throws ENOMEM when a
   * writable mapping would pass the memory limit. `readOnly` (a shared
   * mapping, which can never write to the file) keeps mprotect from making
   * it writable.
   */
  mapFile(start: number, len: number, perm: Perm, file: FileMemory, filePage: number, name: string, readOnly = false): void {
    const charged = this.charges(perm, { shm: undefined });
    if (charged && !this.mem.charge(len)) throw ENOMEM;
    this.unmap(start, len);
    this.insert({ start, end: start + len, perm, shm: undefined, shmPage: 0, file, filePage, charged, name, readOnly: readOnly || undefined });
  }

  /** insert adds a VMA (its range is free) and merges it with equal neighbours. */
  private insert(vma: Vma): void {
    hold(vma);
    const i = this.vmas.findIndex((v) => v.start > vma.start);
    if (i < 0) this.vmas.push(vma);
    else this.vmas.splice(i, 0, vma);
    this.merge();
  }

  /**
   * merge joins neighbouring VMAs that differ in nothing but their range,
   * as Linux does, so that a range split by mprotect and restored is one
   * mapping again (mremap needs that).
   */
  private merge(): void {
    const out: Vma[] = [];
    for (const v of this.vmas) {
      const prev = out[out.length - 1];
      if (prev && prev.end === v.start && prev.perm === v.perm && prev.charged === v.charged && prev.name === v.name &&
          prev.readOnly === v.readOnly &&
          prev.shm === v.shm && (!v.shm || prev.shmPage + (prev.end - prev.start) / PAGE_SIZE === v.shmPage) &&
          prev.file === v.file && (!v.file || prev.filePage! + (prev.end - prev.start) / PAGE_SIZE === v.filePage)) {
        prev.end = v.end;
        if (v.shm) v.shm.refs--;
        if (v.file) v.file.refs--;
      } else {
        out.push(v);
      }
    }
    this.vmas = out;
  }

  /** splitAt makes a VMA boundary at addr if a VMA spans it. */
  private splitAt(addr: number): void {
    const v = this.findVma(addr);
    if (!v || v.start === addr) return;
    const right: Vma = { ...v, start: addr, shmPage: v.shmPage + (addr - v.start) / PAGE_SIZE };
    if (v.file) right.filePage = v.filePage! + (addr - v.start) / PAGE_SIZE;
    hold(v);
    v.end = addr;
    this.vmas.splice(this.vmas.indexOf(v) + 1, 0, right);
  }

  /** dropPages unmaps and frees the pages of [start, end). */
  private dropPages(start: number, end: number): void {
    for (let a = start; a < end;) {
      const key = Math.floor(a / 0x200000);
      const blockEnd = Math.min(end, (key + 1) * 0x200000);
      const block = this.pages.get(key);
      if (block) {
        for (let p = a; p < blockEnd; p += PAGE_SIZE) {
          const i = (p % 0x200000) / PAGE_SIZE;
          if (block[i] === 0) continue;
          this.cow.delete(p);
          this.as.unmap(p);
          this.mem.decRef((block[i] - 1) * PAGE_SIZE);
          block[i] = 0;
        }
      }
      a = blockEnd;
    }
    this.mem.flushFreed();
  }

  /** unmap removes every mapping in [start, start+len). */
  unmap(start: number, len: number): void {
    const end = start + len;
    if (this.rangeFree(start, end)) return;
    this.changing(start, end);
    this.splitAt(start);
    this.splitAt(end);
    const kept: Vma[] = [];
    for (const v of this.vmas) {
      if (v.start >= start && v.end <= end) {
        if (v.charged) this.mem.uncharge(v.end - v.start);
        v.shm?.unref();
        v.file?.unref();
      } else {
        kept.push(v);
      }
    }
    this.vmas = kept;
    this.dropPages(start, end);
  }

  /** protect implements mprotect on [start, end); ENOMEM if any part is unmapped. */
  protect(start: number, end: number, perm: Perm): void {
    this.checkMapped(start, end);
    this.changing(start, end);
    for (let a = start; a < end;) {
      const v = this.findVma(a)!;
      if ((v.shm?.sealed || v.readOnly) && perm & Perm.Write) throw EACCES;
      a = v.end;
    }
    this.splitAt(start);
    this.splitAt(end);
    for (const v of this.vmas) {
      if (v.start < start || v.end > end) continue;
      const charge = this.charges(perm, v);
      if (charge && !v.charged) {
        if (!this.mem.charge(v.end - v.start)) throw ENOMEM;
        v.charged = true;
      } else if (!charge && v.charged) {
        this.mem.uncharge(v.end - v.start);
        v.charged = false;
      }
      v.perm = perm;
      for (let p = v.start; p < v.end; p += PAGE_SIZE) {
        const f = this.frameOf(p);
        if (f < 0) continue;
        if (perm === Perm.None) this.as.unmap(p);
        else this.as.map(p, f * PAGE_SIZE, this.permFor(v, p, f * PAGE_SIZE));
      }
    }
    this.merge();
  }

  /** checkMapped throws ENOMEM unless every page of [start, end) is mapped, as the calls on a range of memory require. */
  checkMapped(start: number, end: number): void {
    for (let a = start; a < end;) {
      const v = this.findVma(a);
      if (!v) throw ENOMEM;
      a = v.end;
    }
  }

  /** dontNeed implements MADV_DONTNEED: private pages read as zero afterwards. */
  dontNeed(start: number, end: number): void {
    this.checkMapped(start, end);
    this.changing(start, end);
    this.dropPages(start, end);
  }

  /**
   * remap implements mremap for one VMA: shrink in place, grow in place,
   * or move (frames move with the pages; nothing is copied).
   */
  remap(old: number, oldLen: number, newLen: number, mayMove: boolean, fixed: number | undefined): number {
    const v = this.findVma(old);
    if (!v || old + oldLen > v.end) throw EFAULT;
    const shmPage = v.shmPage + (old - v.start) / PAGE_SIZE;
    const filePage = v.file ? v.filePage! + (old - v.start) / PAGE_SIZE : undefined;
    if (oldLen === 0) {
      // A second view of shared memory; private memory has nothing to share.
      if (!v.shm || !mayMove) throw EINVAL;
      const dest = fixed ?? this.findFree(newLen);
      if (dest < 0) throw ENOMEM;
      if (fixed !== undefined) this.unmap(dest, newLen);
      this.insert({ ...v, start: dest, end: dest + newLen, shmPage, filePage });
      return dest;
    }
    if (fixed === undefined && newLen <= oldLen) {
      this.unmap(old + newLen, oldLen - newLen);
      return old;
    }
    const extra = newLen - oldLen;
    if (fixed === undefined && old + oldLen === v.end && old + newLen <= USER_ADDRESS_LIMIT && this.rangeFree(old + oldLen, old + newLen)) {
      if ((v.charged || v.shm) && !this.mem.charge(extra)) throw ENOMEM;
      if (v.shm) v.shm.charged += extra;
      v.end = old + newLen;
      this.merge();
      return old;
    }
    if (!mayMove) throw ENOMEM;
    const dest = fixed ?? this.findFree(newLen);
    if (dest < 0) throw ENOMEM;
    if (fixed !== undefined) {
      if (dest < old + oldLen && dest + newLen > old) throw EINVAL;
      this.unmap(dest, newLen);
    }
    if ((v.charged || v.shm) && !this.mem.charge(v.shm ? Math.max(0, extra) : newLen)) throw ENOMEM;
    if (v.shm) v.shm.charged += Math.max(0, extra);
    const moved: Vma = { ...v, start: dest, end: dest + newLen, shmPage, filePage };
    const keep = Math.min(oldLen, newLen);
    const frames: [number, number][] = [];
    for (let off = 0; off < keep; off += PAGE_SIZE) {
      const f = this.frameOf(old + off);
      if (f < 0) continue;
      this.mem.incRef(f * PAGE_SIZE);
      this.setFrame(dest + off, f);
      frames.push([dest + off, f * PAGE_SIZE]);
    }
    this.insert(moved);
    this.unmap(old, oldLen);
    // Mapped once the old range has let go of them, so a frame no other
    // address space shares is writable again.
    for (const [addr, phys] of frames) this.as.map(addr, phys, this.permFor(moved, addr, phys));
    return dest;
  }

  /** setBrk implements brk(2): it returns the new break, or the old one on failure. */
  setBrk(addr: number): number {
    if (addr < this.brkStart || addr >= USER_ADDRESS_LIMIT) return this.brk;
    const oldEnd = pageUp(this.brk);
    const newEnd = pageUp(addr);
    if (newEnd > oldEnd) {
      if (!this.rangeFree(oldEnd, newEnd) || !this.mem.charge(newEnd - oldEnd)) return this.brk;
      const v = this.findVma(oldEnd - 1);
      if (v && v.name === '[heap]' && v.end === oldEnd) {
        v.end = newEnd;
        this.merge();
      } else {
        this.mem.uncharge(newEnd - oldEnd);
        this.map(oldEnd, newEnd - oldEnd, Perm.Read | Perm.Write, false, '[heap]');
      }
    } else if (newEnd < oldEnd) {
      this.unmap(newEnd, oldEnd - newEnd);
    }
    this.brk = addr;
    return addr;
  }

  /** checkFixed validates a MAP_FIXED_NOREPLACE request. */
  checkNoReplace(start: number, len: number): void {
    if (!this.rangeFree(start, start + len)) throw EEXIST;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    live.get(this.mem)?.delete(this);
    for (const v of this.vmas) {
      if (v.charged) this.mem.uncharge(v.end - v.start);
      v.shm?.unref();
      v.file?.unref();
    }
    for (const block of this.pages.values()) {
      for (const f of block) if (f > 0) this.mem.decRef((f - 1) * PAGE_SIZE);
    }
    this.pages.clear();
    this.vmas = [];
    this.as.release();
    this.mem.flushFreed();
    for (const peer of this.peers) {
      peer.peers.delete(this);
      peer.reclaim();
    }
    this.peers.clear();
  }

  /** reclaim maps writable again the copy-on-write pages whose frames no other mapping shares now. */
  private reclaim(): void {
    for (const addr of this.cow) {
      const f = this.frameOf(addr);
      if (f >= 0 && this.mem.refCount(f * PAGE_SIZE) > 1) continue;
      this.cow.delete(addr);
      const vma = this.findVma(addr);
      if (f >= 0 && vma) this.as.map(addr, f * PAGE_SIZE, vma.perm);
    }
  }
}

export { SyscallError };

/** isFresh is true for memory whose pages start as new, zeroed frames (private, not from a file). */
function isFresh(vma: Vma): boolean {
  return !vma.shm && !vma.file;
}

/** hold counts one more use of the objects behind a VMA (a new VMA, a split, a fork's copy). */
function hold(v: Vma): void {
  if (v.shm) v.shm.refs++;
  if (v.file) v.file.refs++;
}

/**
 * MemoryRuns is program memory handed to a host call: (offset, length)
 * pairs of the memory file, in the program's order.
 */
export class MemoryRuns {
  constructor(private readonly mem: MemoryFile, readonly pairs: Float64Array, readonly length: number) {}

  /**
   * over collects the bytes [start, start+length) of something paged (a
   * program's memory, a file's frames), where physOf gives a byte's place
   * in the memory file, as runs of contiguous frames, a page at a time;
   * with maxRuns it stops short at that many runs (length says how far).
   */
  static over(mem: MemoryFile, start: number, length: number, physOf: (pos: number) => number, maxRuns = Infinity): MemoryRuns {
    const pairs: number[] = [];
    let done = 0;
    while (done < length) {
      const pos = start + done;
      const phys = physOf(pos);
      const n = Math.min(length - done, PAGE_SIZE - (pos % PAGE_SIZE));
      const last = pairs.length - 2;
      if (last >= 0 && pairs[last] + pairs[last + 1] === phys) pairs[last + 1] += n;
      else if (pairs.length === 2 * maxRuns) break;
      else pairs.push(phys, n);
      done += n;
    }
    return new MemoryRuns(mem, Float64Array.from(pairs), done);
  }

  /** address is the Sentry's address of the memory file, which the pairs' offsets are from. */
  get address(): bigint {
    return this.mem.address;
  }

  /** views are the runs as views of the memory file, without their first `skip` bytes. */
  views(skip = 0): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < this.pairs.length; i += 2) {
      let [phys, n] = [this.pairs[i], this.pairs[i + 1]];
      if (skip >= n) {
        skip -= n;
        continue;
      }
      phys += skip;
      n -= skip;
      skip = 0;
      // A run may cross the memory file's views: split it where they end.
      while (n > 0) {
        const off = this.mem.offsetOf(phys);
        const bytes = this.mem.bytesAt(phys);
        const m = Math.min(n, bytes.length - off);
        out.push(bytes.subarray(off, off + m));
        phys += m;
        n -= m;
      }
    }
    return out;
  }
}
