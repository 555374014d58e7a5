// kernel.ts: the run loop. A task runs on its platform context until it
// makes a system call, faults or is preempted; the Sentry serves the call
// and runs it again. Handlers that must wait return a promise: the task
// parks and Node's event loop runs until it settles.
import { Outcome, Perm, Reg, type Platform } from '../platform.js';
import { SyscallError } from '../errno.js';
import { table } from '../syscalls/table.js';
import { registerAll } from '../syscalls/index.js';
import { FaultResult, USER_ADDRESS_LIMIT } from '../mm/mm.js';
import { formatCall } from '../strace.js';
import { SyscallPatches } from './patch.js';
import type { Logger } from '../log.js';
import type { TimePage } from '../vdso/time-page.js';
import type { Task } from './task.js';
import {
  SigInfo, BUS_ADRERR, FPE_INTDIV, ILL_ILLOPN, SEGV_ACCERR, SEGV_MAPERR, SI_KERNEL,
  SIGBUS, SIGFPE, SIGILL, SIGSEGV, SIGTRAP,
} from './signals.js';
import { force, handleSignals } from './deliver.js';

registerAll();

const ENOSYS_RESULT = -38;
/** SYS_RT_SIGRETURN's result is the RAX it restores, which the kernel must not write again. */
const SYS_RT_SIGRETURN = 15;

/** PF_USER is a page fault's error-code bit for an access from user mode, which every fault here is. */
const PF_USER = 4;

/** vectorSignal maps an x86 exception to the signal Linux sends for it. */
function vectorSignal(vector: number): number {
  switch (vector) {
    case 0: case 7: case 16: case 19: return SIGFPE;
    case 1: case 3: return SIGTRAP;
    case 6: return SIGILL;
    case 12: case 17: return SIGBUS;
    default: return SIGSEGV;
  }
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * YIELD_MS bounds how long the run loop keeps Node's event loop waiting
 * while a program's calls are all served at once (exitless calls need no
 * await): timers, output and signals to tvisor get a turn at least this often.
 */
const YIELD_MS = 2;

export interface KernelOptions {
  log: Logger;
  strace?: Logger;
  /** clock is the vDSO's time page, kept right while programs run. */
  clock: TimePage;
  /** patch rewrites call sites to enter the platform's exitless trampoline, where it has one. */
  patch: boolean;
}

export class Kernel {
  /** trampoline is where patched call sites go, or undefined when nothing is patched. */
  private readonly trampoline: number | undefined;

  constructor(readonly platform: Platform, private readonly opts: KernelOptions) {
    this.trampoline = opts.patch ? platform.syscallTrampoline : undefined;
  }

  /** run runs t until it exits. PlatformError escapes: the platform failed, not the program. */
  async run(t: Task): Promise<void> {
    const { platform } = this;
    const clock = this.opts.clock;
    let lastYield = 0;
    /** wait lets Node's event loop run until p settles, the tick off, and takes the clock again after. */
    const wait = async <T>(p: Promise<T>): Promise<T> => {
      platform.preempt(false);
      try {
        return await p;
      } finally {
        clock.refresh();
        platform.preempt(true);
        lastYield = performance.now();
      }
    };
    clock.refresh();
    platform.preempt(true);
    lastYield = performance.now();
    try {
      while (!t.exited) {
        let outcome = t.ctx.switch(t.mm.as);
        if (typeof outcome !== 'number') outcome = await wait(outcome);
        if (outcome === Outcome.Syscall) {
          const pending = this.syscall(t);
          if (pending) {
            t.sleeping = true;
            try {
              await wait(pending);
            } finally {
              t.sleeping = false;
            }
          }
        } else {
          t.signals.syscallNr = -1;
          if (outcome === Outcome.Fault) this.fault(t);
        }
        if (outcome === Outcome.Interrupted || performance.now() - lastYield > YIELD_MS) await wait(yieldToEventLoop());
        if (!t.exited) this.deliverSignals(t);
        // A stopped process runs again at SIGCONT (or SIGKILL, then ends).
        while (t.proc.stopped && !t.exited) {
          await wait(t.proc.resumed());
          this.deliverSignals(t);
        }
      }
    } finally {
      platform.preempt(false);
    }
  }

  /** syscall dispatches one system call; it returns a promise when the task must wait. */
  private syscall(t: Task): Promise<void> | undefined {
    const regs = t.ctx.regs;
    const nr = regs.getHigh(Reg.RAX) === 0 ? regs.getInt(Reg.RAX) >>> 0 : -1;
    t.stats.syscalls++;
    t.signals.syscallNr = nr;
    if (t.ctx.exitless) t.stats.exitless++;
    const entry = nr >= 0 ? table[nr] : undefined;
    const handler = entry?.handler;
    if (this.trampoline !== undefined && !t.ctx.exitless && nr >= 0) {
      const site = (t.mm.patches ??= new SyscallPatches(this.trampoline)).consider(t, nr);
      if (site !== undefined) this.opts.log.debug(`task ${t.tid}: patched the ${entry?.name || nr} call site at 0x${site.toString(16)}`);
    }
    if (!entry || !handler) {
      this.unimplemented(t, nr);
      regs.set(Reg.RAX, ENOSYS_RESULT);
      if (this.opts.strace && entry) this.opts.strace.info(formatCall(t, entry, nr, [], ENOSYS_RESULT));
      return undefined;
    }
    const args = this.opts.strace ? [0, 1, 2, 3, 4, 5].map((i) => t.args.raw(i)) : undefined;
    const finish = (result: number) => {
      if (nr !== SYS_RT_SIGRETURN) regs.set(Reg.RAX, result);
      if (args) this.opts.strace!.info(formatCall(t, entry, nr, args, result));
    };
    try {
      const r = handler(t, t.args);
      if (typeof r === 'number') {
        finish(r);
        return undefined;
      }
      if (t.ctx.exitless) t.ctx.waits?.();
      return r.then(finish, (err) => finish(this.errorResult(t, nr, err)));
    } catch (err) {
      finish(this.errorResult(t, nr, err));
      return undefined;
    }
  }

  private errorResult(t: Task, nr: number, err: unknown): number {
    if (err instanceof SyscallError) return -err.errno;
    // A bug in a handler must not take the Sentry down: log it, fail the call.
    this.opts.log.error(`internal error in ${table[nr]?.name ?? nr} (task ${t.tid}): ${(err as Error)?.stack ?? err}`);
    return -5;
  }

  private unimplemented(t: Task, nr: number): void {
    if (t.warned.has(nr)) return;
    t.warned.add(nr);
    const e = nr >= 0 ? table[nr] : undefined;
    const name = e?.name || `syscall ${nr}`;
    this.opts.log.warn(`unimplemented system call ${name} (${nr}) returns ENOSYS${e?.note ? ': ' + e.note : ''}`);
  }

  /** fault handles an exception taken by the program: a page to map, or a signal, with Linux's siginfo. */
  private fault(t: Task): void {
    const f = t.ctx.fault;
    const rip = t.ctx.regs.get(Reg.RIP);
    t.stats.faults++;
    if (f.vector === 14) {
      // A protection fault on a page kept read-only until it is copied
      // (after a fork) is a write, even where the platform does not say so.
      const cow = (f.errorCode & 0x11) === 1 && t.mm.isCow(f.addr);
      const access = cow || f.errorCode & 2 ? Perm.Write : f.errorCode & 0x10 ? Perm.Exec : Perm.Read;
      const violation = f.exact && (f.errorCode & 1) !== 0 && !cow;
      const r = violation ? FaultResult.Denied : f.addr < USER_ADDRESS_LIMIT ? t.mm.fault(f.addr, access) : FaultResult.NoMapping;
      if (r === FaultResult.Mapped) return;
      this.opts.log.debug(`task ${t.tid}: page fault at 0x${f.addr.toString(16)} (${r === FaultResult.OutOfMemory ? 'out of memory' : 'no access'}) rip 0x${rip.toString(16)}`);
      const info = r === FaultResult.OutOfMemory ? new SigInfo(SIGBUS, BUS_ADRERR) : new SigInfo(SIGSEGV, r === FaultResult.Denied ? SEGV_ACCERR : SEGV_MAPERR);
      this.forceSignal(t, info.address(f.addr), f.vector, f.errorCode | PF_USER, f.addr);
      return;
    }
    this.opts.log.debug(`task ${t.tid}: exception ${f.vector} error ${f.errorCode} at rip 0x${rip.toString(16)}`);
    const sig = vectorSignal(f.vector);
    // `int N` through a gate the program may not use is a #GP (SIGSEGV)
    // on Linux; PVM reports it as #UD.
    if (sig === SIGILL && this.isIntInstruction(t)) {
      this.forceSignal(t, new SigInfo(SIGSEGV, SI_KERNEL), 13, f.errorCode, 0);
      return;
    }
    let info: SigInfo;
    if (f.vector === 6) info = new SigInfo(SIGILL, ILL_ILLOPN).address(rip);
    else if (f.vector === 0) info = new SigInfo(SIGFPE, FPE_INTDIV).address(rip);
    else info = new SigInfo(sig, SI_KERNEL);
    this.forceSignal(t, info, f.vector, f.errorCode, 0);
  }

  private isIntInstruction(t: Task): boolean {
    try {
      return t.mm.copyIn(t.ctx.regs.get(Reg.RIP), 1)[0] === 0xcd;
    } catch {
      return false;
    }
  }

  /**
   * forceSignal sends the signal of a fault, recording the trap for the
   * handler's sigcontext (trapno, err, cr2) as Linux's thread state does.
   */
  private forceSignal(t: Task, info: SigInfo, vector: number, errorCode: number, cr2: number): void {
    const trap = t.signals.trap;
    trap.trapNo = vector;
    trap.errorCode = errorCode;
    trap.cr2 = cr2;
    force(t, info);
  }

  /** deliverSignals is the return to user mode: restarts, default actions and handlers (deliver.ts). */
  deliverSignals(t: Task): void {
    if (t.signals.syscallNr < 0 && t.pending.isEmpty() && t.proc.pending.isEmpty()) return;
    handleSignals(t);
  }
}
