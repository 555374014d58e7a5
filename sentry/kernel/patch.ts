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
//
// Compilers often place argument moves between the `mov` and the
// `syscall` (musl's fstatat: `mov $0x106, %eax; mov %r9, %rsi; syscall`),
// and libc's generic call functions take the number in a register (musl's
// __syscall_cp_c, which every read, write, open and close goes through,
// starts `mov %rdi, %rax` and runs moves up to its `syscall`). Such a run
// of relocatable instructions (relocatable.ts) is copied into the site's
// stub, and only its first five bytes become `jmp rel32` to the stub: the
// run's other instructions and the `syscall` stay where they were, so a
// jump into the middle of the run still reaches a real `syscall`. The run
// starts either at a `mov $N, %eax` for the very N called (the five bytes
// rewritten are that instruction exactly), or at a function entry that the
// caller's return address proves to be one: the instruction before it is
// a `call` to that entry (directly or through one `jmp`). There the five
// bytes may cover the start of a second instruction, which must then not
// be a branch target of its own: true of straight-line code that begins a
// function, which compilers do not jump into (a loop back to the function's
// first instruction is fine). A run whose stub a `jmp rel32` cannot reach
// is left alone.
import { Perm, Reg } from '../platform.js';
import { PAGE_SIZE, type MM } from '../mm/mm.js';
import type { Task } from './task.js';
import { straightRun } from './relocatable.js';

/** TABLE_BASE is the table's address: its entries' top two bytes read `0f 05` (syscall). */
export const TABLE_BASE = 0x050f0000;
const TABLE_SIZE = 0x10000;
/** STUBS_BASE is where the per-site stubs start; STUB_SIZE apart. */
export const STUBS_BASE = 0x05100000;
const STUB_SIZE = 64;
const MAX_SITES = TABLE_SIZE / 8;
const STUBS_SIZE = MAX_SITES * STUB_SIZE;
const SITE_LEN = 7;
/** JUMP_LEN is the length of the `jmp rel32` that starts a run. */
const JUMP_LEN = 5;
/** MAX_RUN bounds a run copied into a stub, which also holds 23 bytes of its own. */
const MAX_RUN = STUB_SIZE - 23;

/** PREFIXES are bytes that, just before a site, could make its `b8` part of another instruction. */
const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3,
  0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f]);

/** Found is a call site to patch: where its bytes are rewritten, and how. */
interface Found {
  /** at is the address of the bytes rewritten. */
  at: number;
  /** run holds the instructions the stub runs before the trampoline (empty: an exact site, through the table). */
  run: Uint8Array;
}

/** Site is a patched call site: where it was rewritten, and the bytes it held. */
interface Site {
  at: number;
  original: Uint8Array;
}

/** SyscallPatches is one address space's patched sites. */
export class SyscallPatches {
  /** sites maps each patched site's return address (just after its `syscall`) to where it was rewritten. */
  private readonly sites = new Map<number, Site>();
  /** rejected holds the return addresses of sites already looked at that do not match. */
  private readonly rejected = new Set<number>();
  /** disabled is set when the table could not be placed or was lost. */
  private disabled = false;
  /** next is the next free stub (and table entry); those of forgotten sites are not reused. */
  private next = 0;
  private placed = false;
  /** seen is how many sites the mapped files remembered at the last replay. */
  private seen = -1;

  constructor(readonly trampoline: number) {}

  /**
   * forImage starts the patches of a program just loaded into mm: the
   * sites remembered in its files are patched before it runs, so a
   * program run before makes no exit for them.
   */
  static forImage(mm: MM, trampoline: number): SyscallPatches {
    const p = new SyscallPatches(trampoline);
    p.replay(mm);
    return p;
  }

  /** copy is the same patches, for a forked address space (whose code holds the same rewritten bytes). */
  copy(): SyscallPatches {
    const c = new SyscallPatches(this.trampoline);
    for (const [ret, site] of this.sites) c.sites.set(ret, site);
    for (const ret of this.rejected) c.rejected.add(ret);
    c.disabled = this.disabled;
    c.next = this.next;
    c.placed = this.placed;
    c.seen = this.seen;
    return c;
  }

  /** count is how many sites were patched, including any put back since. */
  get count(): number {
    return this.next;
  }

  /**
   * consider looks at the call site of the system call `nr` that task t
   * just made through an exit, and patches it when it can; it returns the
   * address it rewrote when it did.
   */
  consider(t: Task, nr: number): number | undefined {
    if (this.disabled) return undefined;
    this.replay(t.mm);
    const ret = t.ctx.regs.get(Reg.RIP);
    if (this.sites.has(ret) || this.rejected.has(ret)) return undefined;
    const found = this.next < MAX_SITES ? this.find(t, ret, nr) : undefined;
    if (!found) {
      this.rejected.add(ret);
      return undefined;
    }
    if (!crossModifiable(t.mm, found.at)) return undefined;
    if (!this.placed && !this.placeTable(t.mm)) return undefined;
    this.remember(t.mm, found, nr, ret);
    this.apply(t.mm, found, nr, ret);
    return found.at;
  }

  /**
   * remember notes a site found in a file's code in the file's memory, so
   * that every program that maps the same file later has it patched at
   * its next exit or fork (replay) rather than at an exit of its own.
   */
  private remember(mm: MM, found: Found, nr: number, ret: number): void {
    const vma = mm.findVma(found.at);
    if (!vma?.file || ret > vma.end || vma.file.patchSites.size >= MAX_SITES) return;
    const base = vma.start - vma.filePage! * PAGE_SIZE;
    vma.file.patchSites.set(ret - base, { at: found.at - base, nr, run: found.run, code: mm.peek(found.at, ret - found.at) });
  }

  /**
   * replay patches the sites that programs found before in the files this
   * address space maps as code, where the code still holds the bytes that
   * were found: the same bytes, at the same place in the same file, are
   * the same site.
   */
  replay(mm: MM): void {
    if (this.disabled) return;
    let remembered = 0;
    for (const vma of mm.vmas) if (vma.file && vma.perm & Perm.Exec) remembered += vma.file.patchSites.size;
    if (remembered === this.seen) return;
    this.seen = remembered;
    for (const vma of mm.vmas) {
      if (!vma.file || !(vma.perm & Perm.Exec)) continue;
      const base = vma.start - vma.filePage! * PAGE_SIZE;
      for (const [off, site] of vma.file.patchSites) {
        const ret = base + off;
        const at = base + site.at;
        if (at < vma.start || ret > vma.end || this.sites.has(ret) || this.next >= MAX_SITES) continue;
        if (!this.holds(mm, at, site.code) || !crossModifiable(mm, at)) continue;
        if (!this.placed && !this.placeTable(mm)) return;
        this.apply(mm, { at, run: site.run }, site.nr, ret);
      }
    }
  }

  /** holds is true when the program's memory at `at` holds these bytes. */
  private holds(mm: MM, at: number, code: Uint8Array): boolean {
    try {
      const now = mm.peek(at, code.length);
      return now.every((x, i) => x === code[i]);
    } catch {
      return false;
    }
  }

  /** apply writes a site's stub (and table entry), then the jump to it over the site. */
  private apply(mm: MM, found: Found, nr: number, ret: number): void {
    const k = this.next++;
    const stub = STUBS_BASE + STUB_SIZE * k;
    const code = new Uint8Array(STUB_SIZE).fill(0xcc); // int3 padding
    const v = new DataView(code.buffer);
    let n = found.run.length;
    if (n === 0) {
      code[0] = 0xb8; // mov $nr, %eax
      v.setUint32(1, nr, true);
      n = 5;
    } else {
      code.set(found.run);
    }
    code[n] = 0x48; code[n + 1] = 0xb9; // movabs $ret, %rcx
    v.setBigUint64(n + 2, BigInt(ret), true);
    code[n + 10] = 0x49; code[n + 11] = 0xbb; // movabs $trampoline, %r11
    v.setBigUint64(n + 12, BigInt(this.trampoline), true);
    code[n + 20] = 0x41; code[n + 21] = 0xff; code[n + 22] = 0xe3; // jmp *%r11
    mm.poke(stub, code);
    let jump: Uint8Array;
    if (found.run.length === 0) {
      const entry = TABLE_BASE + 8 * k;
      const ptr = new Uint8Array(8);
      new DataView(ptr.buffer).setBigUint64(0, BigInt(stub), true);
      mm.poke(entry, ptr);
      // ff 24 25 <entry>: jmp *entry. Bytes 5 and 6 (0f 05) do not change.
      jump = Uint8Array.of(0xff, 0x24, 0x25, entry & 0xff, (entry >>> 8) & 0xff);
    } else {
      jump = new Uint8Array(JUMP_LEN);
      jump[0] = 0xe9; // jmp rel32
      new DataView(jump.buffer).setInt32(1, stub - (found.at + JUMP_LEN), true);
    }
    const original = mm.peek(found.at, jump.length);
    mm.pokeCode(found.at, jump);
    this.sites.set(ret, { at: found.at, original });
  }

  /**
   * find looks for something to patch before the `syscall` that returns to
   * ret: an exact `mov $nr, %eax; syscall`, or a run of relocatable
   * instructions that starts at a `mov $nr, %eax` or at a proven function
   * entry. It must lie in private executable memory, and the bytes it
   * rewrites must not cross a page.
   */
  private find(t: Task, ret: number, nr: number): Found | undefined {
    const mm = t.mm;
    const call = ret - 2;
    const vma = mm.findVma(call);
    if (!vma || vma.shm || !(vma.perm & Perm.Exec) || ret > vma.end) return undefined;
    const lo = Math.max(vma.start, call - MAX_RUN);
    let code: Uint8Array;
    try {
      code = mm.peek(lo, ret - lo);
    } catch {
      return undefined;
    }
    const end = call - lo;
    if (code[end] !== 0x0f || code[end + 1] !== 0x05) return undefined;
    const view = new DataView(code.buffer);
    for (let s = end - 5; s >= 0; s--) {
      if (code[s] !== 0xb8 || view.getUint32(s + 1, true) !== nr) continue;
      const at = lo + s;
      if (this.prefixed(mm, at)) continue;
      if (s === end - 5) return samePage(at, SITE_LEN) ? { at, run: new Uint8Array(0) } : undefined;
      const run = straightRun(code, s, end);
      if (run && !run.raxAfterFirst) return this.runAt(at, code.subarray(s, end));
    }
    const entry = callTarget(t);
    if (entry === undefined || entry < lo || entry > call - JUMP_LEN) return undefined;
    if (!straightRun(code, entry - lo, end)) return undefined;
    return this.runAt(entry, code.subarray(entry - lo, end));
  }

  /** runAt is a run at `at` when a `jmp rel32` there can reach every stub, and it does not cross a page. */
  private runAt(at: number, run: Uint8Array): Found | undefined {
    if (!samePage(at, JUMP_LEN)) return undefined;
    const far = Math.max(Math.abs(STUBS_BASE - at), Math.abs(STUBS_BASE + STUBS_SIZE - at));
    if (far >= 2 ** 31 - JUMP_LEN) return undefined;
    return { at, run: run.slice() };
  }

  /** prefixed is true when the byte before `at` could make its `b8` part of another instruction. */
  private prefixed(mm: MM, at: number): boolean {
    if (at % 4096 === 0 && !mm.findVma(at - 1)) return false;
    try {
      return PREFIXES.has(mm.peek(at - 1, 1)[0]);
    } catch {
      return false; // The byte before is not mapped: nothing can prefix the site.
    }
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
    for (const [ret, site] of this.sites) if (ret > start && site.at < end) this.sites.delete(ret);
    for (const ret of this.rejected) if (ret > start && ret - 2 - MAX_RUN < end) this.rejected.delete(ret);
  }

  /** revert puts every site back as it was and stops patching. */
  revert(mm: MM): void {
    for (const site of this.sites.values()) {
      try {
        mm.pokeCode(site.at, site.original);
      } catch {
        // The site's page is gone: nothing to put back.
      }
    }
    this.sites.clear();
    this.disabled = true;
  }
}

/** samePage is true when [at, at+len) lies in one page. */
function samePage(at: number, len: number): boolean {
  return at > 0 && Math.floor(at / 4096) === Math.floor((at + len - 1) / 4096);
}

/**
 * callTarget is the function task t is in, as proven by its return
 * address on top of the stack: the instruction before it must be a
 * `call rel32`, whose target is the answer, or, when that target is a
 * `jmp rel32` or `jmp rel8`, where that jumps. Undefined otherwise.
 */
function callTarget(t: Task): number | undefined {
  const mm = t.mm;
  try {
    const back = Number(new DataView(mm.peek(t.ctx.regs.get(Reg.RSP), 8).buffer).getBigUint64(0, true));
    const vma = mm.findVma(back - 5);
    if (!vma || !(vma.perm & Perm.Exec)) return undefined;
    const call = mm.peek(back - 5, 5);
    if (call[0] !== 0xe8) return undefined;
    let target = back + new DataView(call.buffer).getInt32(1, true);
    const head = mm.peek(target, 5);
    if (head[0] === 0xe9) target += 5 + new DataView(head.buffer).getInt32(1, true);
    else if (head[0] === 0xeb) target += 2 + new DataView(head.buffer).getInt8(1);
    return target;
  } catch {
    return undefined;
  }
}

/**
 * crossModifiable says whether the site at `at` may be patched now. While
 * several tasks share the memory (threads, or a vfork child and its
 * parent), another vCPU may be executing the very bytes: then only a site
 * whose five changed bytes lie in one aligned 8-byte word is patched, by
 * one atomic store (MM.pokeCode), so an instruction fetch there sees the
 * old instructions or the new jump, never a mix. Cross-modifying code so
 * is what gVisor's systrap does too; the other sites of a shared memory
 * stay on the exit path (a run patched before the memory was shared, as
 * by the loader's replay at exec, stays patched).
 */
function crossModifiable(mm: MM, at: number): boolean {
  return mm.users <= 1 || (at % 8) + JUMP_LEN <= 8;
}
