// platform.ts is the boundary between the Sentry and the machinery that
// runs a program: the kvm platform (a vCPU in a KVM micro-VM) and the
// ptrace platform (a traced host process). The Sentry knows nothing else of
// either; if it needs more, this interface grows.
import type { MemoryFile } from './mm/memory-file.js';

/** PAGE_SIZE is the size of a page and of a memory-file frame. */
export const PAGE_SIZE = 0x1000;

/**
 * USER_ADDRESS_LIMIT ends the program's address space (Linux's TASK_SIZE).
 * The top gigabyte of the lower half, above it, belongs to the platform:
 * the kvm platform's kernel area, the ptrace platform's stub.
 */
export const USER_ADDRESS_LIMIT = 0x7fffc0000000;

/** Reg names the general registers as the Sentry sees them. */
export const enum Reg {
  RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP,
  R8, R9, R10, R11, R12, R13, R14, R15,
  RIP, RFLAGS,
}

/**
 * Registers reads and writes a context's general registers in place, in
 * storage the platform shares with the kernel (KVM's sync regs, or the
 * ptrace register block): no object is built per exit. Values are 64-bit;
 * `get` returns a number, exact below 2^53 (every user address), `getBig`
 * the full value.
 */
export class Registers {
  private lo: Uint32Array;

  /**
   * @param words the register block as 32-bit words
   * @param slots for each Reg, the index of its 64-bit slot in the block
   */
  constructor(words: Uint32Array, private readonly slots: Int32Array) {
    this.lo = words;
  }

  /** rebind makes the registers those of another block with the same layout. */
  rebind(words: Uint32Array): void {
    this.lo = words;
  }

  get(r: Reg): number {
    const i = this.slots[r] * 2;
    return this.lo[i] + this.lo[i + 1] * 0x100000000;
  }

  /** getInt returns the low 32 bits as a signed integer (C's int). */
  getInt(r: Reg): number {
    return this.lo[this.slots[r] * 2] | 0;
  }

  /** getHigh returns the high 32 bits. */
  getHigh(r: Reg): number {
    return this.lo[this.slots[r] * 2 + 1];
  }

  getBig(r: Reg): bigint {
    const i = this.slots[r] * 2;
    return (BigInt(this.lo[i + 1]) << 32n) | BigInt(this.lo[i]);
  }

  /** set stores v, which is an integer in [-2^53, 2^64); negative values are two's complement. */
  set(r: Reg, v: number): void {
    const i = this.slots[r] * 2;
    if (v >= 0) {
      this.lo[i] = v >>> 0;
      this.lo[i + 1] = Math.floor(v / 0x100000000);
    } else {
      const hi = Math.floor(v / 0x100000000);
      this.lo[i] = (v - hi * 0x100000000) >>> 0;
      this.lo[i + 1] = hi >>> 0;
    }
  }

  setBig(r: Reg, v: bigint): void {
    const i = this.slots[r] * 2;
    this.lo[i] = Number(v & 0xffffffffn);
    this.lo[i + 1] = Number((v >> 32n) & 0xffffffffn);
  }
}

/** Perm is a set of page permissions. */
export const enum Perm {
  None = 0,
  Read = 1,
  Write = 2,
  Exec = 4,
}

/**
 * PlatformAddressSpace maps frames of the memory file at virtual addresses.
 * Preconditions for every method: addresses are page-aligned and in the
 * user half (below 2^47).
 */
export interface PlatformAddressSpace {
  /** map maps the frame at memory-file offset `phys` at `addr`, replacing any mapping there. */
  map(addr: number, phys: number, perm: Perm): void;
  /** unmap removes the mapping at `addr`, if any. */
  unmap(addr: number): void;
  /** protect changes the permissions of the mapping at `addr`, if any. */
  protect(addr: number, perm: Perm): void;
  /** release frees the address space's own structures (page tables). */
  release(): void;
}

/** Outcome is what `switch` returns: why the program stopped running. */
export const enum Outcome {
  /** Syscall: the program made a system call; its number is in RAX. */
  Syscall = 1,
  /** Fault: the program took a fault; see PlatformContext.fault. */
  Fault = 2,
  /** Interrupted: the preemption tick or `interrupt` ended the run; nothing happened to the program. */
  Interrupted = 3,
}

/** FaultInfo describes the last Fault outcome. */
export interface FaultInfo {
  /** vector is the x86 exception vector (14 for a page fault). */
  vector: number;
  /** errorCode is the exception's error code, 0 where it has none. */
  errorCode: number;
  /** addr is the faulting address for page faults (CR2), else 0. */
  addr: number;
  /**
   * exact is true when the platform reports only real faults, so a page
   * fault on a present page is a protection violation. It is false where
   * a stale TLB entry can fault once more after a permission upgrade (kvm).
   */
  exact: boolean;
}

/**
 * XstateLayout describes the images in which a context's extended state
 * (x87, SSE, AVX, AVX-512...) moves: the standard, non-compacted XSAVE
 * format of the Intel SDM (the 512-byte legacy area, the 64-byte header
 * whose XSTATE_BV says which components are not in their initial state,
 * then each component at the offset CPUID leaf 0xd gives it), which is
 * also what a signal frame's fpstate holds.
 */
export interface XstateLayout {
  /** features are the state components the image holds, as XCR0 bits. */
  readonly features: bigint;
  /** size is the image's size in bytes: the end of its last component. */
  readonly size: number;
}

/**
 * PlatformContext runs one task: its registers, its FPU and vector state
 * (kept by the platform, never swapped between tasks), its TLS base.
 */
export interface PlatformContext {
  readonly regs: Registers;
  readonly fault: FaultInfo;
  /** fsBase is the FS segment base (TLS), set by arch_prctl. */
  fsBase: number;
  /**
   * switch runs the task in `as` until it makes a system call, takes a
   * fault or is interrupted; a promise when it has to wait for that. After a Syscall outcome, RAX holds the number
   * and the syscall's RIP; returning from switch again resumes after the
   * `syscall` instruction with RAX as written by the Sentry.
   * Throws PlatformError when the platform itself fails.
   */
  switch(as: PlatformAddressSpace): Outcome | Promise<Outcome>;
  /**
   * exitless is true when the last Syscall outcome reached the Sentry
   * through shared memory, without the program leaving its CPU (kvm's
   * patched call sites), and false when it came by an exit.
   */
  readonly exitless: boolean;
  /**
   * waits says that the system call just taken has to wait for something
   * (its handler returned a promise): a program spinning for the answer
   * (kvm's exitless calls) should stop soon and leave through an exit.
   */
  waits?(): void;
  /**
   * leave makes the program stop using the address space it last ran on,
   * before the Sentry releases it (execve): kvm brings out of KVM_RUN a
   * vCPU that spins on that address space's mappings for the answer to an
   * exitless call. The call is then answered at the next switch, as usual.
   */
  leave?(): void;
  /**
   * sleeps says that the system call just taken sleeps until another task
   * or a timer ends it (a pipe, a child, a signal, a timeout): a program
   * spinning for the answer should leave its CPU now.
   */
  sleeps?(): void;
  /** interrupt makes a running `switch` end soon with Interrupted (a signal is pending). */
  interrupt(): void;
  /**
   * stopped is true when the Sentry may read and change the program's
   * registers and extended state: after a Syscall or Fault outcome, and
   * after an Interrupted one that stopped the program. It is false after
   * an Interrupted outcome that left the program running on (the ptrace
   * platform's preemption tick): the next `switch` then waits for it to
   * stop, which `interrupt` hastens.
   */
  readonly stopped: boolean;
  /** xstate is the layout of the images getXstate and setXstate move. */
  readonly xstate: XstateLayout;
  /**
   * getXstate returns the program's extended state as an image of
   * xstate.size bytes (see XstateLayout); XSTATE_BV holds only bits of
   * xstate.features. Preconditions: stopped, and the context has run or
   * was given a state by setXstate.
   */
  getXstate(): Uint8Array;
  /**
   * setXstate loads an image of that layout; components whose XSTATE_BV
   * bit is clear take their initial state. A context that has not run yet
   * starts with it (fork gives the child its parent's). Preconditions:
   * stopped, and
   * the image is one XRSTOR accepts (XSTATE_BV within xstate.features,
   * XCOMP_BV and the header's reserved bytes zero, no reserved MXCSR bit).
   */
  setXstate(image: Uint8Array): void;
  /** release gives the context back; it is not used afterwards. */
  release(): void;
}

/** Platform creates address spaces and contexts over one memory file. */
export interface Platform {
  readonly name: string;
  readonly memoryFile: MemoryFile;
  /**
   * tscOffset is what the program's TSC reads minus what the host's does
   * (the vCPUs' TSC offset on kvm, 0 under ptrace); the vDSO needs it.
   */
  readonly tscOffset: bigint;
  /**
   * syscallTrampoline is the address of the platform's exitless
   * trampoline, which patched call sites enter with the system call
   * number in EAX and the return address in RCX; undefined where the
   * platform has none (ptrace).
   */
  readonly syscallTrampoline?: number;
  /**
   * cpus is how many of the program's threads run at once at most, which
   * programs see as their CPUs (sched_getaffinity); the others wait for a
   * turn.
   */
  readonly cpus: number;
  newAddressSpace(): PlatformAddressSpace;
  newContext(): PlatformContext;
  /**
   * preempt says that a task's run loop wants (true) or no longer wants
   * (false) the tick that makes `switch` return Interrupted, so the
   * Sentry's event loop keeps running while a program spins. Calls are
   * paired; the tick runs while any loop wants it.
   */
  preempt(on: boolean): void;
  /** close releases everything; no context or address space is used afterwards. */
  close(): Promise<void>;
}

/** PlatformError is a failure of the platform itself, never of the program. */
export class PlatformError extends Error {
  readonly code = 'E_PLATFORM';
}
