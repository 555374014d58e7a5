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
import { SIG_DFL, SIG_IGN, type Task } from './task.js';
import {
  DefaultAction, defaultAction, signalName, NSIG,
  SIGBUS, SIGFPE, SIGILL, SIGKILL, SIGSEGV, SIGTRAP,
} from './signals.js';

registerAll();

const ENOSYS_RESULT = -38;

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
          if (pending) await wait(pending);
        } else if (outcome === Outcome.Fault) {
          this.fault(t);
        }
        if (outcome === Outcome.Interrupted || performance.now() - lastYield > YIELD_MS) await wait(yieldToEventLoop());
        if (!t.exited && !t.pending.isEmpty()) this.deliverSignals(t);
        if (t.savedMask) [t.mask, t.savedMask] = [t.savedMask, undefined];
        // A stopped process runs again at SIGCONT (or SIGKILL, then ends).
        while (t.proc.stopped && !t.exited) {
          await wait(t.proc.resumed());
          if (!t.pending.isEmpty()) this.deliverSignals(t);
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
      regs.set(Reg.RAX, result);
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

  /** fault handles an exception taken by the program. */
  private fault(t: Task): void {
    const f = t.ctx.fault;
    t.stats.faults++;
    if (f.vector === 14) {
      // A protection fault on a page kept read-only until it is copied
      // (after a fork) is a write, even where the platform does not say so.
      const cow = (f.errorCode & 0x11) === 1 && t.mm.isCow(f.addr);
      const access = cow || f.errorCode & 2 ? Perm.Write : f.errorCode & 0x10 ? Perm.Exec : Perm.Read;
      const violation = f.exact && (f.errorCode & 1) !== 0 && !cow;
      const r = violation ? FaultResult.Denied : f.addr < USER_ADDRESS_LIMIT ? t.mm.fault(f.addr, access) : FaultResult.NoMapping;
      if (r === FaultResult.Mapped) return;
      this.opts.log.debug(`task ${t.tid}: page fault at 0x${f.addr.toString(16)} (${r === FaultResult.OutOfMemory ? 'out of memory' : 'no access'}) rip 0x${t.ctx.regs.get(Reg.RIP).toString(16)}`);
      this.forceSignal(t, r === FaultResult.OutOfMemory ? SIGBUS : SIGSEGV);
      return;
    }
    this.opts.log.debug(`task ${t.tid}: exception ${f.vector} error ${f.errorCode} at rip 0x${t.ctx.regs.get(Reg.RIP).toString(16)}`);
    let sig = vectorSignal(f.vector);
    // `int N` through a gate the program may not use is a #GP (SIGSEGV)
    // on Linux; PVM reports it as #UD.
    if (sig === SIGILL && this.isIntInstruction(t)) sig = SIGSEGV;
    this.forceSignal(t, sig);
  }

  private isIntInstruction(t: Task): boolean {
    try {
      return t.mm.copyIn(t.ctx.regs.get(Reg.RIP), 1)[0] === 0xcd;
    } catch {
      return false;
    }
  }

  /**
   * forceSignal delivers a synchronous signal from a fault. Handlers are
   * not delivered yet (issue 6), so it ends the task with the signal.
   */
  private forceSignal(t: Task, sig: number): void {
    if (t.actions[sig].handler !== SIG_DFL) this.warnUndelivered(sig);
    this.terminate(t, sig);
  }

  /** warnUndelivered logs that a caught signal took its default action: handlers come with issue 6. */
  private warnUndelivered(sig: number): void {
    this.opts.log.warn(`${signalName(sig)} has a handler, but delivery to handlers comes with issue 6; default action taken`);
  }

  private terminate(t: Task, sig: number): void {
    t.exit = { code: 0, signal: sig };
  }

  /** deliverSignals acts on pending, unblocked signals with their default actions. */
  deliverSignals(t: Task): void {
    for (let sig = 1; sig <= NSIG && !t.exited; sig++) {
      if (!t.pending.has(sig)) continue;
      if (t.mask.has(sig) && sig !== SIGKILL) continue;
      t.pending.delete(sig);
      const h = t.actions[sig].handler;
      if (sig !== SIGKILL && h === SIG_IGN) continue;
      if (sig !== SIGKILL && h !== SIG_DFL) this.warnUndelivered(sig);
      const action = defaultAction(sig);
      if (action === DefaultAction.Terminate || action === DefaultAction.CoreDump || sig === SIGKILL) {
        this.terminate(t, sig);
      } else if (action === DefaultAction.Stop) {
        t.proc.stop(sig);
      }
    }
  }
}

