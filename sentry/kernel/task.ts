// task.ts: a Task is one thread of a program: its platform context, its
// memory, its files and its signal state. Processes and threads (issue 6)
// grow from here; today a sandbox runs one task at a time.
import type { MM } from '../mm/mm.js';
import type { FdTable } from '../vfs/file.js';
import type { PlatformContext } from '../platform.js';
import type { Dentry, Vfs } from '../vfs/vfs.js';
import { PendingSignals, SigInfo, SigSet, NSIG, SI_KERNEL, SIGKILL, SIGSTOP } from './signals.js';
import { SignalState } from './signal-state.js';
import type { AltStack } from './signal-frame.js';
import { SyscallArgs } from '../syscalls/args.js';

export const SIG_DFL = 0;
export const SIG_IGN = 1;

/** SigAction is a recorded rt_sigaction. */
export interface SigAction {
  handler: number;
  flags: number;
  restorer: number;
  mask: SigSet;
}

/** ExitStatus is how a task ended. */
export interface ExitStatus {
  /** code is exit()'s argument (0-255) when signal is 0. */
  code: number;
  /** signal killed the task when not 0. */
  signal: number;
}

export interface Credentials {
  uid: number;
  gid: number;
}

export class Task {
  readonly args: SyscallArgs;
  readonly actions: SigAction[] = [];
  mask = new SigSet();
  readonly pending = new PendingSignals();
  /** altStack is the sigaltstack: none, with the flags 0 that Linux keeps for a task that never set one. */
  altStack: AltStack = { sp: 0, flags: 0, size: 0 };
  /** signals is the rest of the task's signal state: saved mask, restart, last fault, ITIMER_REAL. */
  readonly signals = new SignalState(this);
  clearTid = 0;
  robustList = 0;
  exit: ExitStatus | undefined;
  /** wake interrupts a blocking wait when a signal arrives. */
  private wakers = new Set<() => void>();
  /** unsupported names the unimplemented syscalls already warned about. */
  readonly warned = new Set<number>();
  /** stats count the task's system calls (all, and those served without an exit) and faults. */
  stats = { syscalls: 0, exitless: 0, faults: 0 };
  /** umask is the file mode creation mask. */
  umask = 0o022;
  /** cmdline and environ are the program's argv and envp as /proc shows them (NUL-terminated strings). */
  cmdline: Uint8Array = new Uint8Array(0);
  environ: Uint8Array = new Uint8Array(0);
  /** auxv is the auxiliary vector the program started with, AT_NULL included (/proc/PID/auxv). */
  auxv: Uint8Array = new Uint8Array(0);

  constructor(
    readonly tid: number,
    readonly ctx: PlatformContext,
    readonly mm: MM,
    readonly fds: FdTable,
    readonly creds: Credentials,
    readonly exe: string,
    readonly vfs: Vfs,
    public cwd: Dentry,
  ) {
    this.args = new SyscallArgs(ctx.regs);
    for (let i = 0; i <= NSIG; i++) this.actions.push({ handler: SIG_DFL, flags: 0, restorer: 0, mask: new SigSet() });
  }

  get exited(): boolean {
    return this.exit !== undefined;
  }

  /** interruptible races a wait against signal arrival; it resolves to undefined when interrupted. */
  interruptible<T>(p: Promise<T>): Promise<T | undefined> {
    if (this.hasDeliverable()) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve) => {
      const wake = () => resolve(undefined);
      this.wakers.add(wake);
      p.then((v) => {
        this.wakers.delete(wake);
        resolve(v);
      }, () => {
        this.wakers.delete(wake);
        resolve(undefined);
      });
    });
  }

  /** hasDeliverable is true when a pending signal is not blocked. */
  hasDeliverable(): boolean {
    return ((this.pending.lo & ~this.mask.lo) | (this.pending.hi & ~this.mask.hi)) !== 0 ||
      this.pending.has(SIGKILL) || this.pending.has(SIGSTOP);
  }

  /** post queues a signal for the task, with its siginfo, and wakes it if it waits. */
  post(sig: number, info = new SigInfo(sig, SI_KERNEL)): void {
    this.pending.enqueue(info);
    if (!this.hasDeliverable()) return;
    for (const w of this.wakers) w();
    this.ctx.interrupt();
  }
}
