// patch.ts rewrites a program's `mov $N, %eax; syscall` call sites, the
// first time one of them reaches the Sentry through an exit, so that later
// calls from there enter the platform's exitless trampoline instead (the
// technique of gVisor's systrap platform, written here for tvisor).
//
// A site's seven bytes  b8 N N N N 0f 05  become  ff 24 25 T T 0f 05:
// `jmp *T`, an absolute indirect jump through the table entry at T, whose
// top two bytes are 0x050f. So the last two bytes stay `0f 05`, and code
// that jumps straight to the old `syscall` instruction (or a task stopped
// between the two instructions) still executes a real `syscall` there.
// The table entry points at a per-site stub, which sets EAX to N, RCX to
// the site's return address, and jumps to the trampoline.
//
// The table and the stubs live in two mappings of the program's own
// address space (so that a later fork copies them with everything else);
// the program's code pages are written in memory only, never in a file.
// If the program unmaps, remaps or reprotects those mappings, every site
// is put back as it was and patching stops for that address space.
import { Perm, Reg } from '../platform.js';
import type { MM } from '../mm/mm.js';
import type { Task } from './task.js';

/** TABLE_BASE is the table's address: its entries' top two bytes read `0f 05` (syscall). */
export const TABLE_BASE = 0x050f0000;
const TABLE_SIZE = 0x10000;
/** STUBS_BASE is where the per-site stubs start; STUB_SIZE apart. */
export const STUBS_BASE = 0x05100000;
const STUB_SIZE = 32;
const MAX_SITES = TABLE_SIZE / 8;
const STUBS_SIZE = MAX_SITES * STUB_SIZE;
const SITE_LEN = 7;

/** PREFIXES are bytes that, just before a site, could make its `b8` part of another instruction. */
const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3,
  0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f]);

/** SyscallPatches is one address space's patched sites. */
export class SyscallPatches {
  /** sites maps each patched site's address to its system call number. */
  private readonly sites = new Map<number, number>();
  /** rejected holds sites already looked at that do not match. */
  private readonly rejected = new Set<number>();
  /** disabled is set when the table could not be placed or was lost. */
  private disabled = false;
  /** next is the next free table entry; entries of forgotten sites are not reused. */
  private next = 0;
  private placed = false;

  constructor(private readonly trampoline: number) {}

  /** count is how many sites were patched, including any put back since. */
  get count(): number {
    return this.next;
  }

  /**
   * consider looks at the call site of the system call `nr` that task t
   * just made through an exit, and patches it when it is an exact match;
   * it returns the site's address when it did.
   */
  consider(t: Task, nr: number): number | undefined {
    if (this.disabled) return undefined;
    const ret = t.ctx.regs.get(Reg.RIP);
    const site = ret - SITE_LEN;
    if (this.sites.has(site) || this.rejected.has(site)) return undefined;
    if (this.next >= MAX_SITES || !this.matches(t.mm, site, nr)) {
      this.rejected.add(site);
      return undefined;
    }
    if (!this.placed && !this.placeTable(t.mm)) return undefined;
    const k = this.next++;
    const entry = TABLE_BASE + 8 * k;
    const stub = STUBS_BASE + STUB_SIZE * k;
    const code = new Uint8Array(STUB_SIZE);
    const v = new DataView(code.buffer);
    code[0] = 0xb8; // mov $nr, %eax
    v.setUint32(1, nr, true);
    code[5] = 0x48; code[6] = 0xb9; // movabs $ret, %rcx
    v.setBigUint64(7, BigInt(ret), true);
    code[15] = 0x49; code[16] = 0xbb; // movabs $trampoline, %r11
    v.setBigUint64(17, BigInt(this.trampoline), true);
    code[25] = 0x41; code[26] = 0xff; code[27] = 0xe3; // jmp *%r11
    code.fill(0xcc, 28); // int3 padding
    const mm = t.mm;
    mm.poke(stub, code);
    const ptr = new Uint8Array(8);
    new DataView(ptr.buffer).setBigUint64(0, BigInt(stub), true);
    mm.poke(entry, ptr);
    // ff 24 25 <entry>: jmp *entry. Bytes 5 and 6 (0f 05) do not change.
    const jump = Uint8Array.of(0xff, 0x24, 0x25, entry & 0xff, (entry >>> 8) & 0xff);
    mm.pokeCode(site, jump);
    this.sites.set(site, nr);
    return site;
  }

  /**
   * matches is true for an exact `mov $nr, %eax; syscall` that does not
   * cross a page, in private executable memory, not preceded by a byte
   * that could be a prefix of it.
   */
  private matches(mm: MM, site: number, nr: number): boolean {
    if (site <= 0 || Math.floor(site / 4096) !== Math.floor((site + SITE_LEN - 1) / 4096)) return false;
    const vma = mm.findVma(site);
    if (!vma || vma.shm || !(vma.perm & Perm.Exec) || site + SITE_LEN > vma.end) return false;
    let bytes: Uint8Array;
    try {
      bytes = mm.peek(site, SITE_LEN);
    } catch {
      return false;
    }
    if (bytes[0] !== 0xb8 || bytes[5] !== 0x0f || bytes[6] !== 0x05) return false;
    if (new DataView(bytes.buffer).getUint32(1, true) !== nr) return false;
    if (site % 4096 !== 0 || mm.findVma(site - 1)) {
      try {
        if (PREFIXES.has(mm.peek(site - 1, 1)[0])) return false;
      } catch {
        // The byte before is not mapped: nothing can prefix the site.
      }
    }
    return true;
  }

  /** placeTable maps the table and the stubs, if their range is free. */
  private placeTable(mm: MM): boolean {
    if (!mm.rangeFree(TABLE_BASE, STUBS_BASE + STUBS_SIZE)) {
      this.disabled = true;
      return false;
    }
    mm.map(TABLE_BASE, TABLE_SIZE, Perm.Read, false, '[tvisor-syscall-table]');
    mm.map(STUBS_BASE, STUBS_SIZE, Perm.Read | Perm.Exec, false, '[tvisor-syscall-stubs]');
    this.placed = true;
    return true;
  }

  /**
   * changing is told of every unmap, remap, mprotect or MADV_DONTNEED of
   * [start, end): sites there are forgotten (their code is going away,
   * and the rejected ones may be replaced), and a change to the table or
   * the stubs puts every site back.
   */
  changing(mm: MM, start: number, end: number): void {
    if (this.placed && start < STUBS_BASE + STUBS_SIZE && end > TABLE_BASE) {
      this.placed = false;
      this.revert(mm);
      return;
    }
    for (const site of this.sites.keys()) if (site + SITE_LEN > start && site < end) this.sites.delete(site);
    for (const site of this.rejected) if (site + SITE_LEN > start && site < end) this.rejected.delete(site);
  }

  /** revert puts every site back as it was and stops patching. */
  revert(mm: MM): void {
    for (const [site, nr] of this.sites) {
      const original = new Uint8Array(5);
      original[0] = 0xb8;
      new DataView(original.buffer).setUint32(1, nr, true);
      try {
        mm.pokeCode(site, original);
      } catch {
        // The site's page is gone: nothing to put back.
      }
    }
    this.sites.clear();
    this.disabled = true;
  }
}
