// platform.ts: the ptrace platform. Each address space is a stub process
// traced by the Sentry's thread; the program runs in it under
// PTRACE_SYSEMU, so its system calls stop it and the host kernel never
// executes them. The stub maps the sandbox's memory file (the same memfd
// the kvm platform registers as guest memory) at the program's addresses.
import { readFileSync } from 'node:fs';
import type { PtraceAddon } from './native.js';
import { buildOutput, loadAddon } from '../sentry/native/paths.js';
import { preempt } from '../sentry/native/preempt.js';
import { host, xstateLayout } from '../sentry/native/host.js';
import { MemoryFile } from '../sentry/mm/memory-file.js';
import { RunQueue, type Runnable } from '../sentry/run-queue.js';
import {
  Outcome, PAGE_SIZE, Perm, PlatformError, Reg, Registers,
  type FaultInfo, type Platform, type PlatformAddressSpace, type PlatformContext, type XstateLayout,
} from '../sentry/platform.js';

/** ptrace is the addon, loaded by the first sandbox on this platform. */
let ptrace: PtraceAddon;

/** PtraceUnavailableError says ptrace cannot be used here, and why. */
export class PtraceUnavailableError extends Error {
  readonly code = 'E_NO_PTRACE';
}

const STUB_PATH = buildOutput('ptrace-platform', 'ptrace-stub');

const SYS_MMAP = 9, SYS_MPROTECT = 10, SYS_MUNMAP = 11, SYS_PRCTL = 157, SYS_SECCOMP = 317;
const PR_SET_NO_NEW_PRIVS = 38, SECCOMP_SET_MODE_FILTER = 1;
/** FILTER_ADDR is where the seccomp filter is mapped in the stub for the moment it is installed. */
const FILTER_ADDR = 0x10000;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const BPF_LD_W_ABS = 0x20, BPF_JEQ_K = 0x15, BPF_RET_K = 0x06;
const SECCOMP_RET_ALLOW = 0x7fff0000, SECCOMP_RET_KILL_PROCESS = 0x80000000;
/**
 * SECCOMP_FILTER, as classic BPF {code, jt, jf, k}: x86-64 only, then
 * mmap, munmap and mprotect allowed, every other call kills the stub.
 */
const SECCOMP_FILTER: [number, number, number, number][] = [
  [BPF_LD_W_ABS, 0, 0, 4], // seccomp_data.arch
  [BPF_JEQ_K, 1, 0, AUDIT_ARCH_X86_64],
  [BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS],
  [BPF_LD_W_ABS, 0, 0, 0], // seccomp_data.nr
  [BPF_JEQ_K, 3, 0, SYS_MMAP],
  [BPF_JEQ_K, 2, 0, SYS_MUNMAP],
  [BPF_JEQ_K, 1, 0, SYS_MPROTECT],
  [BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS],
  [BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW],
];
const MAP_SHARED_FIXED = 0x11;
const SIGILL = 4, SIGTRAP = 5, SIGBUS = 7, SIGFPE = 8, SIGSEGV = 11;
const SEGV_ACCERR = 2, SI_KERNEL = 0x80;
/** XSTATE_BV is the offset of the XSAVE header's first word. */
const XSTATE_BV = 512;
/** XSTATE_MAX is room for the host's whole NT_X86_XSTATE regset, AMX included. */
const XSTATE_MAX = 16384;
const CPUID_OSXSAVE = 1 << 27;
/** XFEATURES_FP_SSE are the x87 and SSE state; XFEATURES_AMX the state Linux gives only on request (ARCH_REQ_XCOMP_PERM). */
const XFEATURES_FP_SSE = 3n, XFEATURES_AMX = 0x60000n;

/**
 * hostXstate is the layout of a stub's extended state as Linux gives a
 * process by default: the host's XCR0 less the features a process must ask
 * for, which the stub never does.
 */
function hostXstate(): XstateLayout {
  const osxsave = (host.cpuid(1, 0)[2] & CPUID_OSXSAVE) !== 0;
  return xstateLayout(osxsave ? host.xcr0() & ~XFEATURES_AMX : XFEATURES_FP_SSE);
}

/** SYSCALL_32 marks, in run's status, a syscall stop for a 32-bit system call (int $0x80). */
const SYSCALL_32 = 0x10000;

/** stubEntry is where the stub's `syscall; int3` pair is: its ELF entry point. */
const stubEntry = (() => {
  try {
    return Number(readFileSync(STUB_PATH).readBigUInt64LE(24));
  } catch {
    return -1;
  }
})();

/** Op is one pending change to a stub's mappings; runs of them become one system call. */
interface Op {
  kind: 'map' | 'unmap' | 'protect';
  addr: number;
  len: number;
  phys: number;
  perm: Perm;
}

/**
 * PtraceAddressSpace is a stub process. Changes to its mappings are queued
 * and made, coalesced into runs, by injected mmap/munmap/mprotect calls
 * before the program next runs (the stub is stopped then).
 */
export class PtraceAddressSpace implements PlatformAddressSpace {
  readonly pid: number;
  /**
   * fpuOwner is the context whose FPU and vector state the stub's
   * registers hold: contexts that share an address space (a vfork child
   * and its parent) share its stub, and each keeps its own state.
   */
  fpuOwner: PtraceContext | undefined;
  /**
   * turns lets one context at a time run in the stub: the threads of a
   * process (and a vfork child and its parent) take turns, a slice each
   * while others wait, and one that waits in the Sentry holds no turn.
   */
  readonly turns = new RunQueue(1);
  private ops: Op[] = [];
  private readonly args = new Float64Array(6);
  private released = false;

  constructor(private readonly mem: MemoryFile) {
    if (stubEntry < 0) throw new PtraceUnavailableError(`the ptrace stub ${STUB_PATH} is missing; run npm run build`);
    try {
      this.pid = ptrace.spawnStub(STUB_PATH, mem.fd);
    } catch (err) {
      const e = err as { errno?: number; syscall?: string; message: string };
      if (e.syscall === 'ptrace' || e.errno === 1) {
        throw new PtraceUnavailableError(`ptrace is not permitted here (${e.message}; a seccomp policy or kernel.yama.ptrace_scope may forbid it); use --platform=kvm`);
      }
      throw new PtraceUnavailableError(`the ptrace stub cannot be started: ${e.message}`);
    }
    try {
      this.unmapAllButStub();
      this.confine();
    } catch (err) {
      ptrace.kill(this.pid);
      throw err;
    }
  }

  /** unmapAllButStub leaves the stub's address space holding only its own code page. */
  private unmapAllButStub(): void {
    const stubPage = stubEntry - (stubEntry % PAGE_SIZE);
    for (const line of readFileSync(`/proc/${this.pid}/maps`, 'utf8').split('\n')) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
      if (!m) continue;
      const start = parseInt(m[1], 16);
      const end = parseInt(m[2], 16);
      if (start >= 2 ** 47 || (start <= stubPage && stubPage < end)) continue;
      this.syscall(SYS_MUNMAP, start, end - start);
    }
  }

  /**
   * confine installs a seccomp filter in the stub that lets it make only
   * the mmap, munmap and mprotect the Sentry injects. The program's own
   * system calls never reach it (PTRACE_SYSEMU stops them first); it is a
   * second wall, should a program's code ever run on without its tracer.
   */
  private confine(): void {
    const page = this.mem.allocFrame();
    if (page < 0) throw new PlatformError('no memory for the ptrace stub\'s seccomp filter');
    try {
      // struct sock_fprog {u16 len; u64 filter}, then the filter itself.
      const b = new DataView(new ArrayBuffer(16 + SECCOMP_FILTER.length * 8));
      b.setUint16(0, SECCOMP_FILTER.length, true);
      b.setBigUint64(8, BigInt(FILTER_ADDR + 16), true);
      SECCOMP_FILTER.forEach(([code, jt, jf, k], i) => {
        b.setUint16(16 + i * 8, code, true);
        b.setUint8(18 + i * 8, jt);
        b.setUint8(19 + i * 8, jf);
        b.setUint32(20 + i * 8, k >>> 0, true);
      });
      this.mem.write(page, new Uint8Array(b.buffer));
      this.syscall(SYS_MMAP, FILTER_ADDR, PAGE_SIZE, Perm.Read, MAP_SHARED_FIXED, this.mem.fd, page);
      this.syscall(SYS_PRCTL, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      this.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, 0, FILTER_ADDR);
      this.syscall(SYS_MUNMAP, FILTER_ADDR, PAGE_SIZE);
    } finally {
      this.mem.decRef(page);
      this.mem.flushFreed();
    }
  }

  private syscall(nr: number, ...args: number[]): number {
    this.args.fill(0);
    args.forEach((v, i) => (this.args[i] = v));
    let r: number;
    try {
      r = ptrace.inject(this.pid, stubEntry, nr, this.args);
    } catch (err) {
      throw new PlatformError(`the ptrace stub stopped answering (${(err as Error).message}); it was probably killed from outside`);
    }
    if (r < 0 && r > -4096) throw new PlatformError(`system call ${nr} in the ptrace stub failed with errno ${-r}`);
    return r;
  }

  private queue(kind: Op['kind'], addr: number, phys: number, perm: Perm): void {
    const last = this.ops[this.ops.length - 1];
    if (last && last.kind === kind && last.perm === perm && last.addr + last.len === addr && (kind !== 'map' || last.phys + last.len === phys)) {
      last.len += PAGE_SIZE;
      return;
    }
    this.ops.push({ kind, addr, len: PAGE_SIZE, phys, perm });
  }

  map(addr: number, phys: number, perm: Perm): void {
    this.queue('map', addr, phys, perm);
  }

  unmap(addr: number): void {
    this.queue('unmap', addr, 0, Perm.None);
  }

  protect(addr: number, perm: Perm): void {
    this.queue('protect', addr, 0, perm);
  }

  /** flush makes the queued changes; the stub must be stopped. */
  flush(): void {
    const ops = this.ops;
    if (ops.length === 0) return;
    this.ops = [];
    for (const op of ops) {
      if (op.kind === 'map') this.syscall(SYS_MMAP, op.addr, op.len, op.perm, MAP_SHARED_FIXED, this.mem.fd, op.phys);
      else if (op.kind === 'unmap') this.syscall(SYS_MUNMAP, op.addr, op.len);
      else this.syscall(SYS_MPROTECT, op.addr, op.len, op.perm);
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    ptrace.kill(this.pid);
  }
}

/** PTRACE_REG_SLOTS maps each Reg to its slot in struct user_regs_struct. */
const PTRACE_REG_SLOTS = Int32Array.from([10, 5, 11, 12, 13, 14, 19, 4, 9, 8, 7, 6, 3, 2, 1, 0, 16, 18]);
const SLOT_ORIG_RAX = 15, SLOT_CS = 17, SLOT_EFLAGS = 18, SLOT_SS = 20, SLOT_FS_BASE = 21;

/**
 * PtraceContext runs a task in its address space's stub. Its FPU and
 * vector state stay in the stub process, where the host kernel keeps them,
 * while the stub runs this context; the rest of the time (before its first
 * run, or while another context runs in a shared stub) the context keeps
 * them itself.
 */
export class PtraceContext implements PlatformContext, Runnable {
  /** exitless is always false: every system call stops the traced process. */
  readonly exitless = false;
  readonly regs: Registers;
  readonly fault: FaultInfo = { vector: 0, errorCode: 0, addr: 0, exact: true };
  private readonly bytes: Uint8Array;
  private readonly words: Uint32Array;
  private readonly siginfo = new Float64Array(3);
  /** running is true while the stub runs on after a preempted wait. */
  private running = false;
  /** kicked is true from a SIGSTOP sent to stop a running stub until its next stop. */
  private kicked = false;
  private current: PtraceAddressSpace | undefined;
  /** regset is the host's NT_X86_XSTATE regset; its size is the host's, which PTRACE_SETREGSET wants whole. */
  private readonly regset = new Uint8Array(XSTATE_MAX);
  private regsetSize = 0;
  /** savedXstate is the context's extended state while no stub holds it. */
  private savedXstate: Uint8Array | undefined;

  constructor(readonly xstate: XstateLayout) {
    this.bytes = new Uint8Array(ptrace.regsSize);
    this.words = new Uint32Array(this.bytes.buffer);
    this.regs = new Registers(this.words, PTRACE_REG_SLOTS);
    // A fresh program's state: 64-bit user segments, interrupts on.
    this.words[SLOT_CS * 2] = 0x33;
    this.words[SLOT_SS * 2] = 0x2b;
    this.words[SLOT_EFLAGS * 2] = 0x202;
  }

  get fsBase(): number {
    return this.words[SLOT_FS_BASE * 2] + this.words[SLOT_FS_BASE * 2 + 1] * 0x100000000;
  }

  set fsBase(v: number) {
    this.words[SLOT_FS_BASE * 2] = v % 0x100000000;
    this.words[SLOT_FS_BASE * 2 + 1] = Math.floor(v / 0x100000000);
  }

  switch(as: PtraceAddressSpace): Outcome | Promise<Outcome> {
    if (this.running && as !== this.current) throw new PlatformError('a running context cannot change address space');
    const turn = as.turns.acquire(this);
    // After a wait for its turn, a signal that came meanwhile is seen before the program runs.
    if (turn !== true) return turn.then(() => (this.running ? this.runIn(as) : Outcome.Interrupted));
    return this.runIn(as);
  }

  /** runIn runs the program in the stub, whose turn this context holds, and gives the turn up once it has stopped. */
  private runIn(as: PtraceAddressSpace): Outcome {
    try {
      return this.runStub(as);
    } finally {
      if (!this.running) as.turns.release(this);
    }
  }

  /** preempt stops the program, its turn in a shared stub over (RunQueue). */
  preempt(): void {
    this.interrupt();
  }

  private runStub(as: PtraceAddressSpace): Outcome {
    this.current = as;
    if (!this.running) {
      as.flush();
      this.own(as);
    }
    const status = ptrace.run(as.pid, this.bytes, !this.running);
    if (status === -1) {
      this.running = true;
      return Outcome.Interrupted;
    }
    this.running = false;
    this.kicked = false;
    if ((status & 0x7f) === 0) throw new PlatformError(`the ptrace stub exited with status ${(status >> 8) & 0xff}`);
    if ((status & 0xff) !== 0x7f) throw new PlatformError(`the ptrace stub was killed by signal ${status & 0x7f}`);
    const sig = (status >> 8) & 0xff;
    if (sig === (SIGTRAP | 0x80) && status & SYSCALL_32) {
      // int $0x80: tvisor offers no 32-bit system calls, and answers as a
      // kernel without IA32 emulation does: SIGSEGV.
      this.fault.vector = 13;
      this.fault.errorCode = 0;
      this.fault.addr = 0;
      return Outcome.Fault;
    }
    if (sig === (SIGTRAP | 0x80)) {
      // A syscall-entry stop: the number is in orig_rax, as the Sentry expects it in RAX.
      this.words[PTRACE_REG_SLOTS[Reg.RAX] * 2] = this.words[SLOT_ORIG_RAX * 2];
      this.words[PTRACE_REG_SLOTS[Reg.RAX] * 2 + 1] = this.words[SLOT_ORIG_RAX * 2 + 1];
      return Outcome.Syscall;
    }
    if (sig === SIGSEGV || sig === SIGBUS || sig === SIGILL || sig === SIGFPE || sig === SIGTRAP) {
      ptrace.siginfo(as.pid, this.siginfo);
      return this.faultFrom(sig, this.siginfo[1], this.siginfo[2]);
    }
    // Any other signal came from outside the sandbox (a terminal's SIGINT,
    // a stray SIGSTOP): it is dropped, and the program runs on.
    return Outcome.Interrupted;
  }

  /** faultFrom describes the host's signal as the x86 exception behind it. */
  private faultFrom(sig: number, code: number, addr: number): Outcome {
    const f = this.fault;
    f.addr = 0;
    f.errorCode = 0;
    switch (sig) {
      case SIGSEGV:
        if (code === SI_KERNEL) {
          f.vector = 13;
        } else {
          f.vector = 14;
          f.addr = addr;
          // The access kind is not reported; "present" is (SEGV_ACCERR).
          f.errorCode = 4 | (code === SEGV_ACCERR ? 1 : 0);
        }
        break;
      case SIGBUS: f.vector = 17; break;
      case SIGILL: f.vector = 6; break;
      case SIGFPE: f.vector = 0; break;
      default: f.vector = 3;
    }
    return Outcome.Fault;
  }

  get stopped(): boolean {
    return !this.running;
  }

  /**
   * interrupt stops a stub that runs on after a preempted wait, with a
   * SIGSTOP that the next switch sees (and drops) as its stop, so that a
   * signal handler can be set up at once, even in a program that spins. A
   * stopped stub has nothing to do: the Sentry acts before it runs again.
   */
  interrupt(): void {
    if (!this.running || this.kicked || !this.current) return;
    this.kicked = true;
    process.kill(this.current.pid, 'SIGSTOP');
  }

  /**
   * own makes the stub hold this context's extended state before it runs
   * there: the context that ran there last and still lives there keeps its
   * own, and this one's, if it kept it, is loaded.
   */
  private own(as: PtraceAddressSpace): void {
    const last = as.fpuOwner;
    if (last === this) return;
    if (last?.current === as) last.savedXstate = last.getXstate();
    as.fpuOwner = this;
    const saved = this.savedXstate;
    this.savedXstate = undefined;
    if (saved) this.setXstate(saved);
  }

  /** inStub says whether a stub holds this context's extended state. */
  private get inStub(): boolean {
    return this.current?.fpuOwner === this;
  }

  /** getXstate reads the stub's NT_X86_XSTATE regset: the standard XSAVE format, as the host keeps it for user space. */
  getXstate(): Uint8Array {
    if (!this.inStub) {
      if (!this.savedXstate) throw new PlatformError('the extended state of a context that never ran was read');
      return this.savedXstate.slice();
    }
    this.readRegset();
    const image = this.regset.slice(0, this.xstate.size);
    const bv = new DataView(image.buffer);
    bv.setBigUint64(XSTATE_BV, bv.getBigUint64(XSTATE_BV, true) & this.xstate.features, true);
    return image;
  }

  setXstate(image: Uint8Array): void {
    if (!this.inStub) {
      this.savedXstate = image.slice();
      return;
    }
    if (this.regsetSize === 0) this.readRegset();
    const full = this.regset.subarray(0, this.regsetSize);
    full.fill(0);
    full.set(image);
    ptrace.setXstate(this.current!.pid, full);
  }

  private readRegset(): void {
    this.regsetSize = ptrace.getXstate(this.current!.pid, this.regset);
  }

  /**
   * release gives the context back. A stub that still runs its program
   * (the task ended while preempted) is stopped first, so that the next
   * context to run there finds it stopped.
   */
  release(): void {
    const as = this.current;
    if (this.running && as) {
      this.interrupt();
      try {
        while (ptrace.run(as.pid, this.bytes, false) === -1) { /* the SIGSTOP stops it at once */ }
      } catch {
        // The stub is gone: nothing runs there.
      }
      this.running = false;
    }
    as?.turns.release(this);
    if (this.inStub) this.current!.fpuOwner = undefined;
    this.current = undefined;
  }
}

export class PtracePlatform implements Platform {
  readonly name = 'ptrace';
  /** tscOffset is 0: the program runs on the host's TSC. */
  readonly tscOffset = 0n;
  readonly memoryFile: MemoryFile;
  private readonly xstate = hostXstate();
  private closed = false;

  /**
   * create makes a platform whose programs may commit `memoryLimit` bytes,
   * and which shows them `cpus` CPUs (the threads of a process take turns
   * in its stub, one at a time, whatever that number).
   */
  static create(memoryLimit: number, cpus: number): PtracePlatform {
    ptrace ??= loadAddon<PtraceAddon>('tvisor_ptrace');
    return new PtracePlatform(MemoryFile.create(memoryLimit, PAGE_SIZE), cpus);
  }

  private constructor(mem: MemoryFile, readonly cpus: number) {
    this.memoryFile = mem;
    mem.start();
  }

  newAddressSpace(): PtraceAddressSpace {
    return new PtraceAddressSpace(this.memoryFile);
  }

  newContext(): PtraceContext {
    return new PtraceContext(this.xstate);
  }

  preempt(on: boolean): void {
    preempt(on);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.memoryFile.close();
  }
}
