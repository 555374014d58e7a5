// task.ts: a Task is one thread of a program: its platform context, its
// memory, its files and its signal state, and the process (thread group)
// it belongs to (process.ts). Threads of one process share its memory,
// usually its files, its filesystem context and its signal actions
// (clone's CLONE_VM, CLONE_FILES, CLONE_FS, CLONE_SIGHAND), and each has
// its own signal mask and pending set for signals sent to it alone.
import type { MM } from '../mm/mm.js';
import type { FdTable } from '../vfs/file.js';
import type { PlatformAddressSpace, PlatformContext } from '../platform.js';
import type { Process } from './process.js';
import type { Vdso } from '../vdso/vdso.js';
import type { PageCache } from '../mm/page-cache.js';
import type { Dentry, Vfs } from '../vfs/vfs.js';
import {
  DefaultAction, defaultAction, PendingSignals, SigInfo, SigSet, NSIG, SI_KERNEL, SIGKILL, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU,
} from './signals.js';
import { SignalState } from './signal-state.js';
import { POLLIN } from '../vfs/file.js';
import type { AltStack } from './signal-frame.js';
import type { Credentials } from './credentials.js';

const STOP_SIGNALS = [SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU];
import { SyscallArgs } from '../syscalls/args.js';

/** commOf is the name a program file gives its task: the file's name, cut to 15 bytes. */
export function commOf(path: string): string {
  return Buffer.from(path.slice(path.lastIndexOf('/') + 1)).subarray(0, 15).toString('latin1');
}

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

/**
 * TaskHost is what a task needs from its sandbox to make others: fork
 * needs a context and an address space and starts the child; exec needs
 * the vDSO to map and the page cache programs are mapped from.
 */
export interface TaskHost {
  newContext(): PlatformContext;
  newAddressSpace(): PlatformAddressSpace;
  /** cpus is how many CPUs the sandbox offers programs (sched_getaffinity's mask). */
  readonly cpus: number;
  /** start runs a new task (a forked child) until it exits. */
  start(t: Task): void;
  readonly vdso: Vdso;
  readonly pageCache: PageCache;
}

/**
 * FsContext is what CLONE_FS shares: the working directory and the file
 * mode creation mask (the root is the sandbox's, which no call changes).
 */
export class FsContext {
  constructor(public cwd: Dentry, public umask = 0o022) {}

  copy(): FsContext {
    return new FsContext(this.cwd, this.umask);
  }
}

/** newActions is a signal action table with every signal at SIG_DFL. */
export function newActions(): SigAction[] {
  const actions: SigAction[] = [];
  for (let i = 0; i <= NSIG; i++) actions.push({ handler: SIG_DFL, flags: 0, restorer: 0, mask: new SigSet() });
  return actions;
}

/** copyActions is a private copy of a signal action table (clone without CLONE_SIGHAND, execve). */
export function copyActions(from: SigAction[]): SigAction[] {
  return from.map((a) => ({ ...a, mask: a.mask.copy() }));
}

export class Task {
  readonly args: SyscallArgs;
  /** actions is the signal action table, shared by the tasks cloned with CLONE_SIGHAND (a process's threads). */
  actions: SigAction[] = newActions();
  mask = new SigSet();
  readonly pending = new PendingSignals();
  /** altStack is the sigaltstack: none, with the flags 0 that Linux keeps for a task that never set one. */
  altStack: AltStack = { sp: 0, flags: 0, size: 0 };
  /** signals is the rest of the task's signal state: saved mask, restart, last fault, ITIMER_REAL. */
  readonly signals = new SignalState(this);
  clearTid = 0;
  /** robustList is the head set_robust_list recorded (0: none), walked as the task exits. */
  robustList = 0;
  /** affinity is the sched_setaffinity mask, as bits of the sandbox's CPUs. */
  affinity = -1n;
  exit: ExitStatus | undefined;
  /** wake interrupts a blocking wait when a signal arrives. */
  private wakers = new Set<() => void>();
  /** unsupported names the unimplemented syscalls already warned about. */
  readonly warned = new Set<number>();
  /** stats count the task's system calls (all, and those served without an exit) and faults. */
  stats = { syscalls: 0, exitless: 0, faults: 0 };
  /** fs is the working directory and umask, shared by tasks cloned with CLONE_FS. */
  fs: FsContext;
  /** cmdline and environ are the program's argv and envp as /proc shows them (NUL-terminated strings). */
  cmdline: Uint8Array = new Uint8Array(0);
  environ: Uint8Array = new Uint8Array(0);
  /** auxv is the auxiliary vector the program started with, AT_NULL included (/proc/PID/auxv). */
  auxv: Uint8Array = new Uint8Array(0);

  /** proc is the task's process; set as the task joins it. */
  proc!: Process;
  /** comm is the task's name (PR_SET_NAME, /proc/PID/comm): the program file's name, at most 15 bytes, until changed. */
  comm = '';
  /** sleeping is set while the task waits in a system call (/proc's state S). */
  sleeping = false;
  /** vforkDone, set in a vfork child, lets its parent run on (at exec or exit). */
  vforkDone: (() => void) | undefined;

  constructor(
    /** tid is the thread id; a thread that execs takes its process's pid as its own. */
    public tid: number,
    readonly ctx: PlatformContext,
    public mm: MM,
    public fds: FdTable,
    public creds: Credentials,
    public exe: string,
    readonly vfs: Vfs,
    cwd: Dentry,
    readonly host: TaskHost,
  ) {
    this.args = new SyscallArgs(ctx.regs);
    this.comm = commOf(exe);
    this.fs = new FsContext(cwd);
  }

  get cwd(): Dentry {
    return this.fs.cwd;
  }

  set cwd(d: Dentry) {
    this.fs.cwd = d;
  }

  /** umask is the file mode creation mask. */
  get umask(): number {
    return this.fs.umask;
  }

  set umask(m: number) {
    this.fs.umask = m;
  }

  get exited(): boolean {
    return this.exit !== undefined;
  }

  /** writeTid writes a thread id word (CLONE_PARENT_SETTID and the like); Linux ignores a bad address there. */
  writeTid(addr: number, tid: number): void {
    try {
      this.mm.writeU32(addr, tid);
    } catch {
      // not the program's memory: nothing written
    }
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

  /**
   * sleepOn waits for p as interruptible does, in a task that sleeps until
   * another task or a timer wakes it (a pipe, a child, a signal): the
   * platform gives its CPU up meanwhile.
   */
  sleepOn<T>(p: Promise<T>): Promise<T | undefined> {
    if (!this.hasDeliverable()) this.ctx.sleeps?.();
    return this.interruptible(p);
  }

  /**
   * sleepUntil sleeps (sleepOn) until `wake` settles, the monotonic clock
   * reaches `deadline` (performance.now() ms; Infinity: never), never
   * earlier (Node's timers may fire early: it waits again), or a signal
   * comes. It resolves to wake's value, 'timeout', or undefined for a
   * signal. It clears its timer however it ends, so a killed sleeper does
   * not keep Node's event loop alive.
   */
  sleepUntil<T>(deadline: number, wake?: Promise<T>): Promise<T | 'timeout' | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      if (deadline === Infinity) return;
      const check = () => {
        const left = deadline - performance.now();
        if (left <= 0) resolve('timeout');
        else timer = setTimeout(check, Math.ceil(left));
      };
      check();
    });
    return this.sleepOn(wake ? Promise.race([wake, timeout]) : timeout).then((r) => {
      clearTimeout(timer);
      return r;
    });
  }

  /** sleep waits ms milliseconds, or until a signal comes (see sleepUntil); true when the time ran out. */
  sleep(ms: number): Promise<boolean> {
    return this.sleepUntil(performance.now() + ms).then((r) => r === 'timeout');
  }

  /** hasDeliverable is true when a signal pending for the task or its process is not blocked. */
  hasDeliverable(): boolean {
    const own = this.pending, shared = this.proc.pending;
    return (((own.lo | shared.lo) & ~this.mask.lo) | ((own.hi | shared.hi) & ~this.mask.hi)) !== 0 ||
      own.has(SIGKILL) || own.has(SIGSTOP) || shared.has(SIGKILL) || shared.has(SIGSTOP);
  }

  /** pendingSignals is every signal pending for the task: its own and its process's. */
  pendingSignals(): SigSet {
    const own = this.pending, shared = this.proc.pending;
    return SigSet.of(own.lo | shared.lo, own.hi | shared.hi);
  }

  /**
   * nextSignal is the pending signal to act on first of those not in mask,
   * or 0: the task's own come before its process's, as in Linux's
   * dequeue_signal (a fault's signal first among them).
   */
  nextSignal(mask: SigSet): number {
    return this.pending.next(mask) || this.proc.pending.next(mask);
  }

  /** takeSignal dequeues an instance of sig, from the task's own pending set if it is there, else its process's. */
  takeSignal(sig: number): SigInfo {
    return this.pending.has(sig) ? this.pending.dequeue(sig) : this.proc.pending.dequeue(sig);
  }

  /** wants says whether the task can take sig now (Linux's wants_signal): it does not block it and has not ended. */
  wants(sig: number): boolean {
    return !this.exited && (sig === SIGKILL || !this.mask.has(sig));
  }

  /** wake ends the task's interruptible wait and brings it out of the program, to act on a signal. */
  wake(): void {
    for (const w of this.wakers) w();
    this.ctx.interrupt();
  }

  /** discards says whether sig's action throws it away: SIG_IGN, or SIG_DFL where that ignores (blocked or not). */
  discards(sig: number): boolean {
    const h = this.actions[sig].handler;
    return h === SIG_IGN || (h === SIG_DFL && defaultAction(sig) === DefaultAction.Ignore);
  }

  /**
   * ignores says whether sig would be discarded as it is sent: its action
   * discards it and it is not blocked (a blocked signal waits, as its
   * action may change before it is unblocked), not even by the mask that
   * rt_sigtimedwait lifted to wait for it.
   */
  ignores(sig: number): boolean {
    return !this.mask.has(sig) && !this.signals.realBlocked?.has(sig) && this.discards(sig);
  }

  /** send posts sig (with info, or as the kernel sends it) unless the task ignores it. */
  send(sig: number, info?: SigInfo): void {
    if (!this.ignores(sig)) this.post(sig, info);
  }

  /**
   * post queues a signal for the task alone (tkill, tgkill, a fault, the
   * Sentry's own SIGKILL), with its siginfo, and wakes it if it waits.
   * SIGKILL and the stop and continue signals act on the whole process.
   */
  post(sig: number, info = new SigInfo(sig, SI_KERNEL)): void {
    this.proc?.prepareSignal(sig);
    if (this.pending.enqueue(info)) this.signals.queued.notify(POLLIN);
    if (this.hasDeliverable()) this.wake();
  }
}

/** isStopSignal says whether sig is one of the four that stop a process. */
export function isStopSignal(sig: number): boolean {
  return STOP_SIGNALS.includes(sig);
}
