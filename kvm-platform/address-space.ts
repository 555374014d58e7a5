// address-space.ts: a program's address space on the kvm platform, as
// 4-level x86-64 page tables that the host writes in the memory file.
import * as abi from './abi.js';
import { PTE_NX_HI, PTE_P, PTE_U, PTE_W, type VcpuPages } from './long-mode.js';
import { host } from '../sentry/native/host.js';
import { forEachRun, type MemoryFile } from '../sentry/mm/memory-file.js';
import { Perm, PlatformError, type PlatformAddressSpace } from '../sentry/platform.js';

/**
 * PTE_A and PTE_D are the accessed and dirty bits, set in every entry the
 * Sentry writes: KVM's shadow MMU then has no guest entry to update on a
 * first access, and it prefetches the translations of neighbouring pages
 * (up to 8 a fault) only from entries marked accessed.
 */
const PTE_A = 0x20, PTE_D = 0x40;
const TABLE = PTE_P | PTE_W | PTE_U | PTE_A;

export class KvmAddressSpace implements PlatformAddressSpace {
  /** root is the PML4's physical address, loaded into CR3. */
  readonly root: number;
  private tables: number[] = [];
  /**
   * stale holds frames whose translations were removed or narrowed. Before
   * the next entry their host mappings are dropped, which makes KVM drop
   * every guest translation to them (shadow paging on PVM, EPT on hardware
   * KVM alike); without it a vCPU could keep using a stale translation.
   */
  private stale: number[] = [];

  /**
   * vcpus counts the vCPUs attached (threads of one process, a vfork
   * child and its parent). While there are several, a change that removes
   * or narrows a translation is flushed as soon as the Sentry's current
   * piece of work ends (a microtask), not at this vCPU's next entry: the
   * others run on meanwhile, and must not keep writing a page that became
   * read-only (a copy on write) or reading a frame replaced by a copy.
   * Freed frames need no such care: their holes are punched at once.
   */
  private vcpus = 0;
  private flushQueued = false;
  /** flushes counts the flushes, so that every vCPU on this address space reloads CR3 after one. */
  flushes = 0;

  /** kernelPd is this address space's PD of the kernel area: the shared kernel pages, and the pages of the vCPUs that run it. */
  private readonly kernelPd: number;

  constructor(private readonly mem: MemoryFile) {
    this.root = this.newTable();
    // The kernel area's PD hangs off this address space's own PDPT for
    // the last slot of the lower half. Its first entry is the page table
    // every address space shares (the stub, supervisor-only but for the
    // trampoline's page); the vCPUs' pages are this address space's own.
    const pdpt = this.child(this.root, abi.KERNEL_PML4_INDEX, true);
    this.kernelPd = this.child(pdpt, abi.KERNEL_PDPT_INDEX, true);
    this.link(this.kernelPd, 0, abi.PHYS_KERNEL_PT);
  }

  /** child returns the table that entry `index` of `table` points to, making a new one when `create`; -1 when there is none. */
  private child(table: number, index: number, create: boolean): number {
    const words = this.mem.wordsAt(table);
    const i = (this.mem.offsetOf(table) >> 2) + index * 2;
    if (words[i] & PTE_P) return this.entryPhys(words, i);
    if (!create) return -1;
    const next = this.newTable();
    this.link(table, index, next);
    return next;
  }

  /** link points entry `index` of `table` at the table `next`. */
  private link(table: number, index: number, next: number): void {
    const words = this.mem.wordsAt(table);
    const i = (this.mem.offsetOf(table) >> 2) + index * 2;
    words[i] = ((next % 0x100000000) | TABLE) >>> 0;
    words[i + 1] = Math.floor(next / 0x100000000);
  }

  /**
   * attach maps a vCPU's slot and kernel page, before the vCPU enters this
   * address space; detach unmaps them once it has left for good.
   */
  attach(v: VcpuPages): void {
    this.vcpus++;
    const pt = this.child(this.kernelPd, v.pdIndex, true);
    this.mem.wordsAt(pt).set(v.entries, (this.mem.offsetOf(pt) >> 2) + v.ptIndex * 2);
  }

  detach(v: VcpuPages): void {
    this.vcpus--;
    // A released address space's tables are gone (and their frames may be another's).
    const pt = this.tables.length > 0 ? this.child(this.kernelPd, v.pdIndex, false) : -1;
    if (pt >= 0) {
      const at = (this.mem.offsetOf(pt) >> 2) + v.ptIndex * 2;
      this.mem.wordsAt(pt).fill(0, at, at + 4);
    }
    // Then every translation to the two frames goes, this address space's included.
    host.dropMappings(this.mem.hostAddress(v.slotPhys), abi.PAGE_SIZE);
    host.dropMappings(this.mem.hostAddress(v.kernelPhys), abi.PAGE_SIZE);
  }

  private newTable(): number {
    const phys = this.mem.allocFrame();
    if (phys < 0) throw new PlatformError('out of memory for page tables');
    this.tables.push(phys);
    return phys;
  }

  /**
   * leaf returns the word index of the page-table entry for addr in the
   * table view for that entry's frame, creating tables when `create`; -1
   * when absent. The view is left in this.leafWords.
   */
  private leafWords: Uint32Array = new Uint32Array(0);
  private leaf(addr: number, create: boolean): number {
    let table = this.root;
    const hi = Math.floor(addr / 0x40000000); // addr >> 30, exact for user addresses
    for (let level = 0; level < 3; level++) {
      const index = level === 0 ? Math.floor(hi / 512) & 511 : level === 1 ? hi & 511 : (addr >>> 21) & 511;
      table = this.child(table, index, create);
      if (table < 0) return -1;
    }
    this.leafWords = this.mem.wordsAt(table);
    return (this.mem.offsetOf(table) >> 2) + ((addr >>> 12) & 511) * 2;
  }

  map(addr: number, phys: number, perm: Perm): void {
    const i = this.leaf(addr, true);
    const w = this.leafWords;
    if (w[i] & PTE_P) this.addStale(this.entryPhys(w, i));
    w[i] = ((phys % 0x100000000) | PTE_P | PTE_U | PTE_A | (perm & Perm.Write ? PTE_W | PTE_D : 0)) >>> 0;
    w[i + 1] = (Math.floor(phys / 0x100000000) | (perm & Perm.Exec ? 0 : PTE_NX_HI)) >>> 0;
  }

  unmap(addr: number): void {
    const i = this.leaf(addr, false);
    if (i < 0) return;
    const w = this.leafWords;
    if ((w[i] & PTE_P) === 0) return;
    this.addStale(this.entryPhys(w, i));
    w[i] = 0;
    w[i + 1] = 0;
  }

  protect(addr: number, perm: Perm): void {
    const i = this.leaf(addr, false);
    if (i < 0) return;
    const w = this.leafWords;
    if ((w[i] & PTE_P) === 0) return;
    const wasWritable = (w[i] & PTE_W) !== 0;
    const wasExec = (w[i + 1] & PTE_NX_HI) === 0;
    w[i] = perm & Perm.Write ? (w[i] | PTE_W) >>> 0 : (w[i] & ~PTE_W) >>> 0;
    w[i + 1] = perm & Perm.Exec ? (w[i + 1] & ~PTE_NX_HI) >>> 0 : (w[i + 1] | PTE_NX_HI) >>> 0;
    if ((wasWritable && !(perm & Perm.Write)) || (wasExec && !(perm & Perm.Exec))) this.addStale(this.entryPhys(w, i));
  }

  /** addStale notes a frame whose translation went or narrowed; with several vCPUs on board, the flush is queued at once. */
  private addStale(phys: number): void {
    this.stale.push(phys);
    if (this.vcpus > 1 && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.flushStale();
      });
    }
  }

  private entryPhys(w: Uint32Array, i: number): number {
    return ((w[i] & ~0xfff) >>> 0) + (w[i + 1] & 0xfffff) * 0x100000000;
  }

  /** hasStale is true when translations were removed or narrowed since the last entry. */
  get hasStale(): boolean {
    return this.stale.length > 0;
  }

  /** flushStale drops the host mappings of stale frames, in contiguous runs. */
  flushStale(): void {
    if (this.stale.length === 0) return;
    forEachRun(this.stale, (start, end) => host.dropMappings(this.mem.hostAddress(start), end - start));
    this.stale = [];
    this.flushes++;
  }

  /**
   * release retires the page tables: their contents are punched out of
   * the file (the host gets the memory back), but the frames are never
   * handed out again. On PVM, KVM shadows the tables and keeps its shadows
   * of a frame after the Sentry rewrites it (it does not see host writes):
   * a new address space built on the same frames would see the old one's
   * translations, and a program given one as memory would have its writes
   * emulated by KVM, which fails on instructions it cannot emulate
   * (AVX-512 stores). Each address space so costs the memory file a few
   * frames of its size, never of memory, up to a bound; past it, the
   * frames come back, last in line (see MemoryFile.retireTables).
   */
  release(): void {
    forEachRun([...this.tables], (start, end) => host.punchHole(this.mem.fd, start, end - start));
    this.mem.retireTables(this.tables);
    this.tables = [];
  }
}
