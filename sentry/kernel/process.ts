// process.ts: processes as the sandbox sees them. A sandbox has one PID
// namespace; each run's first program is the init of its own tree (its
// orphans are reparented to it, and when it exits every other process of
// the tree is killed). A process is a thread group: one or more tasks
// (threads), the first of which, the leader, gives it its pid. It holds
// what Linux keeps per process: the parent and children, the process group
// and session, the signals sent to the whole process, ITIMER_REAL, the
// exit status a parent collects with wait4, and the stop and continue
// reports.
import { SIG_IGN, isStopSignal, type Task, type ExitStatus } from './task.js';
import { PendingSignals, SigInfo, SI_KERNEL, SI_USER, SIGALRM, SIGCHLD, SIGCONT, SIGKILL } from './signals.js';
import { RealTimer } from './itimer.js';
import { POLLIN } from '../vfs/file.js';

const SA_NOCLDSTOP = 1, SA_NOCLDWAIT = 2;

/** CLD_* are the si_code values of SIGCHLD and waitid. */
export const CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_STOPPED = 5, CLD_CONTINUED = 6;

/** ChildEvent is a change of state a parent has not collected yet. */
export interface ChildEvent {
  code: number;
  /** status is the exit code, or the signal that killed, stopped or continued it. */
  status: number;
}

export class Process {
  parent: Process | undefined;
  readonly children = new Set<Process>();
  pgid: number;
  sid: number;
  /** exitSignal is what the parent gets when this process ends (clone's low byte; SIGCHLD for fork). */
  exitSignal = SIGCHLD;
  /** zombie holds how the process ended, until its parent reaps it. */
  zombie: ExitStatus | undefined;
  /** stopEvent and contEvent are a stop or continue not yet reported to wait with WUNTRACED or WCONTINUED. */
  stopEvent: ChildEvent | undefined;
  contEvent: ChildEvent | undefined;
  /** stopped is set while a stop signal holds the process. */
  stopped = false;
  /** execed is set once the process has run execve (setpgid on it then fails with EACCES). */
  execed = false;
  /** subreaper is PR_SET_CHILD_SUBREAPER: orphaned descendants come here rather than to init. */
  subreaper = false;
  /** deathSignal is PR_SET_PDEATHSIG: sent to this process when its parent ends. */
  deathSignal = 0;
  /** startedMs and the children's times feed times(2) and getrusage(2). */
  readonly startedMs = performance.now();
  childrenMs = 0;
  /** maxRssKb is the most memory the process held (known at its end); childrenMaxRssKb its reaped children's most. */
  maxRssKb = 0;
  childrenMaxRssKb = 0;
  private readonly waiters = new Set<() => void>();
  private readonly resumers = new Set<() => void>();
  /** tasks are the process's live threads; the leader (task) stays the process's, a zombie, until they have all ended. */
  readonly tasks = new Set<Task>();
  /** pending holds the signals sent to the process as a whole (kill), which any of its threads may take. */
  readonly pending = new PendingSignals();
  /** groupExit is how the whole process ends, once exit_group, a fatal signal or SIGKILL began ending it. */
  groupExit: ExitStatus | undefined;
  /** lastExit is how the last thread to end ended (exit(2)), the process's status when no group exit came (as Linux reports it). */
  lastExit: ExitStatus | undefined;
  /** execing is the thread whose execve is ending every other one (Linux's de_thread), and onTaskExit its wait. */
  execing: Task | undefined;
  private onTaskExit: (() => void) | undefined;
  /** timer is ITIMER_REAL (alarm, setitimer), one per process; made when first set. */
  private timer: RealTimer | undefined;

  /** done resolves once the process has ended, with its last thread. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(readonly pid: number, public task: Task, readonly ns: PidNamespace) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.pgid = pid;
    this.sid = pid;
    this.tasks.add(task);
    ns.tasks.set(pid, task);
  }

  /** ended stops the process's timer and settles done. */
  ended(): void {
    this.timer?.stop();
    this.resolveDone();
  }

  get realTimer(): RealTimer {
    return (this.timer ??= new RealTimer(() => this.send(SIGALRM, new SigInfo(SIGALRM, SI_KERNEL))));
  }

  /** addThread makes t, a new thread with a tid of its own, one of the process's. */
  addThread(t: Task): void {
    t.proc = this;
    this.tasks.add(t);
    this.ns.tasks.set(t.tid, t);
  }

  /**
   * taskExited is told that thread t ended. Its tid is free again unless it
   * is the leader's, which stays the process's pid. It returns true when t
   * was the last: the process has ended, with the status of its group exit
   * or, failing that, its own.
   */
  taskExited(t: Task): boolean {
    this.tasks.delete(t);
    if (this.ns.tasks.get(t.tid) === t) this.ns.tasks.delete(t.tid);
    if (t !== this.task) this.ns.freeThreadId(t.tid);
    this.lastExit = t.exit;
    this.onTaskExit?.();
    return this.tasks.size === 0;
  }

  /** exitStatus is how the ended process ended. */
  get exitStatus(): ExitStatus {
    return this.groupExit ?? this.lastExit ?? { code: 0, signal: SIGKILL };
  }

  /**
   * exitGroup ends every thread of the process (exit_group, a fatal
   * signal): each other one is killed, and the process's status is `status`.
   */
  exitGroup(status: ExitStatus, from: Task | undefined): void {
    if (this.groupExit) return;
    this.groupExit = status;
    for (const o of this.tasks) if (o !== from) o.post(SIGKILL);
    this.onTaskExit?.();
  }

  /**
   * killOtherThreads ends every thread but t, and resolves once they have
   * all ended (execve's de_thread); false when the process is ending
   * already, so t must end too.
   */
  async killOtherThreads(t: Task): Promise<boolean> {
    if (this.groupExit || this.execing) return false;
    this.execing = t;
    try {
      for (const o of this.tasks) if (o !== t) o.post(SIGKILL);
      while (this.tasks.size > 1) {
        // A group exit (a SIGKILL from outside) ends the wait, and the execve.
        if (this.groupExit) return false;
        await new Promise<void>((resolve) => (this.onTaskExit = resolve));
      }
    } finally {
      this.onTaskExit = undefined;
      this.execing = undefined;
    }
    return true;
  }

  /**
   * becomeLeader makes t, the last thread, the process's leader, with the
   * process's pid as its tid, as a non-leader that execs does on Linux.
   */
  becomeLeader(t: Task): void {
    if (t === this.task) return;
    this.ns.tasks.delete(t.tid);
    this.ns.freeThreadId(t.tid);
    t.tid = this.pid;
    this.task = t;
    this.ns.tasks.set(this.pid, t);
  }

  /**
   * prepareSignal is what sending sig does to the process at once, before
   * it is queued (Linux's prepare_signal): SIGCONT and SIGKILL end a stop,
   * SIGCONT discards every pending stop signal and a stop signal a pending
   * SIGCONT, in the process's set and every thread's.
   */
  prepareSignal(sig: number): void {
    if (sig === SIGCONT || sig === SIGKILL) {
      if (sig === SIGCONT) for (const set of this.pendingSets()) for (const s of [19, 20, 21, 22]) if (set.has(s)) set.dequeue(s);
      this.continued(sig);
    } else if (isStopSignal(sig)) {
      for (const set of this.pendingSets()) if (set.has(SIGCONT)) set.dequeue(SIGCONT);
    }
  }

  private *pendingSets(): Iterable<PendingSignals> {
    yield this.pending;
    for (const t of this.tasks) yield t.pending;
  }

  /** anyTask is the leader while it lives, else another live thread. */
  anyTask(): Task | undefined {
    if (this.tasks.has(this.task)) return this.task;
    for (const t of this.tasks) return t;
    return undefined;
  }

  /** ignores says whether sig, sent to the process, would be discarded (as its live leader, or another thread, sees it). */
  ignores(sig: number): boolean {
    return this.anyTask()?.ignores(sig) ?? true;
  }

  /** pendingCount is how many signal instances are queued for the process and its threads (RLIMIT_SIGPENDING). */
  get pendingCount(): number {
    let n = 0;
    for (const set of this.pendingSets()) n += set.count;
    return n;
  }

  /** send posts sig to the process unless it ignores it. */
  send(sig: number, info?: SigInfo): void {
    if (!this.ignores(sig)) this.post(sig, info);
  }

  /**
   * post queues a signal for the whole process (kill, SIGCHLD, a timer):
   * SIGKILL kills every thread at once; any other is pending for the
   * process and one thread that does not block it is woken to take it,
   * the leader first, as Linux's complete_signal chooses. If every thread
   * blocks it, it waits for the first that unblocks it.
   */
  post(sig: number, info = new SigInfo(sig, SI_KERNEL)): void {
    if (sig === SIGKILL) {
      this.prepareSignal(sig);
      this.exitGroup({ code: 0, signal: SIGKILL }, undefined);
      return;
    }
    this.prepareSignal(sig);
    if (this.pending.enqueue(info)) for (const t of this.tasks) t.signals.queued.notify(POLLIN);
    const leader = this.tasks.has(this.task) ? this.task : undefined;
    let chosen = leader?.wants(sig) ? leader : undefined;
    if (!chosen) for (const t of this.tasks) if (t.wants(sig)) { chosen = t; break; }
    chosen?.wake();
  }

  /** interruptAll brings every thread out of the program, so it sees a stop or a new signal. */
  interruptAll(): void {
    for (const t of this.tasks) t.ctx.interrupt();
  }

  /** childChanged wakes the tasks of this process that wait for a child. */
  childChanged(): void {
    for (const w of [...this.waiters]) w();
  }

  /** nextChildChange resolves at the next change of a child's state. */
  nextChildChange(): Promise<void> {
    return new Promise((resolve) => {
      const w = () => {
        this.waiters.delete(w);
        resolve();
      };
      this.waiters.add(w);
    });
  }

  /** resumed resolves when a SIGCONT or SIGKILL ends a stop. */
  resumed(): Promise<void> {
    if (!this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.resumers.add(resolve));
  }

  /**
   * stop holds the process for a stop signal and tells its parent
   * (SIGCHLD, unless it set SA_NOCLDSTOP, and wait's WUNTRACED).
   */
  stop(sig: number): void {
    if (this.stopped) return;
    this.stopped = true;
    // Every thread stops: those in the program now, those in a call when it returns.
    this.interruptAll();
    this.stopEvent = { code: CLD_STOPPED, status: sig };
    this.contEvent = undefined;
    this.tellParent();
  }

  /**
   * continued is told of a SIGCONT or SIGKILL sent to the process: either
   * ends a stop, and a SIGCONT that does is reported to the parent.
   */
  continued(sig: number): void {
    if (!this.stopped) return;
    this.stopped = false;
    for (const r of this.resumers) r();
    this.resumers.clear();
    if (sig !== SIGCONT) return;
    this.stopEvent = undefined;
    this.contEvent = { code: CLD_CONTINUED, status: SIGCONT };
    this.tellParent();
  }

  private tellParent(): void {
    const parent = this.parent;
    if (!parent) return;
    const e = this.stopEvent ?? this.contEvent;
    if (e && !(parent.task.actions[SIGCHLD].flags & SA_NOCLDSTOP)) parent.send(SIGCHLD, childInfo(this, SIGCHLD, e));
    parent.childChanged();
  }
}

/**
 * PidNamespace numbers the sandbox's processes, finds them by pid and
 * group, and bounds how many may exist at once (--pids-limit).
 */
export class PidNamespace {
  readonly processes = new Map<number, Process>();
  /** tasks finds every live thread by its tid (a process's leader by its pid, while it lives or execs). */
  readonly tasks = new Map<number, Task>();
  /** threadIds are the tids in use by threads other than leaders: they count against the limit too. */
  private readonly threadIds = new Set<number>();
  private last = 0;
  /** startedMs is when the sandbox began (sysinfo's uptime). */
  readonly startedMs = performance.now();
  static readonly PID_MAX = 4194304;

  constructor(readonly limit: number) {}

  /** alloc returns an unused pid, or -1 when the limit is reached. */
  alloc(): number {
    if (this.processes.size + this.threadIds.size >= this.limit) return -1;
    for (;;) {
      this.last = this.last >= PidNamespace.PID_MAX ? 2 : this.last + 1;
      if (!this.processes.has(this.last) && !this.threadIds.has(this.last)) return this.last;
    }
  }

  /** allocThreadId returns an unused tid for a new thread, from the pids' numbers and under their limit, or -1. */
  allocThreadId(): number {
    const tid = this.alloc();
    if (tid >= 0) this.threadIds.add(tid);
    return tid;
  }

  freeThreadId(tid: number): void {
    this.threadIds.delete(tid);
  }

  get(pid: number): Process | undefined {
    return this.processes.get(pid);
  }

  /** group lists the live (not zombie) processes of process group pgid. */
  group(pgid: number): Process[] {
    return [...this.processes.values()].filter((p) => p.pgid === pgid && !p.zombie);
  }
}

/**
 * reaperFor is where p's orphaned children go: the nearest living
 * ancestor that is a subreaper, else the init of p's tree.
 */
function reaperFor(p: Process): Process | undefined {
  let init: Process = p;
  for (let a = p.parent; a; a = a.parent) {
    if (a.subreaper && !a.zombie) return a;
    init = a;
  }
  return init === p || init.zombie ? undefined : init;
}

/**
 * exited records that p's task ended: its children go to their reaper
 * (or, when p is a tree's init, are killed), it becomes a zombie for its
 * parent to reap (or is reaped at once when the parent ignores SIGCHLD or
 * set SA_NOCLDWAIT), and the parent is signalled and woken.
 */
export function exited(p: Process, status: ExitStatus): void {
  const reaper = reaperFor(p);
  for (const c of p.children) {
    c.parent = reaper;
    if (reaper) reaper.children.add(c);
    else c.post(SIGKILL);
    if (c.deathSignal) c.send(c.deathSignal, new SigInfo(c.deathSignal, SI_USER).sender(p.pid, p.task.creds.uid));
    // A zombie handed over is the new parent's to reap.
    if (reaper && c.zombie) reaper.childChanged();
  }
  p.children.clear();
  p.zombie = status;
  p.stopped = false;
  p.ended();
  const parent = p.parent;
  if (!parent) {
    p.ns.processes.delete(p.pid);
    return;
  }
  // Only a child that ends with SIGCHLD is reaped at once; with
  // SA_NOCLDWAIT the parent still gets its SIGCHLD, with SIG_IGN none.
  const autoreap = p.exitSignal === SIGCHLD && ignoresChildren(parent);
  if (p.exitSignal && !(autoreap && parent.task.actions[SIGCHLD].handler === SIG_IGN)) {
    parent.send(p.exitSignal, childInfo(p, p.exitSignal, exitEvent(status, false)));
  }
  if (autoreap) reap(p);
  parent.childChanged();
}

/** ignoresChildren is true when parent's children are reaped at once: SIGCHLD ignored, or SA_NOCLDWAIT. */
function ignoresChildren(parent: Process): boolean {
  const a = parent.task.actions[SIGCHLD];
  return a.handler === SIG_IGN || (a.flags & SA_NOCLDWAIT) !== 0;
}

/**
 * orphanedGroup is true when p's process group is orphaned: no member has
 * a parent in another group of the same session (then the terminal's
 * stop signals do not stop it).
 */
export function orphanedGroup(p: Process): boolean {
  for (const m of p.ns.group(p.pgid)) {
    const parent = m.parent;
    if (parent && parent.pgid !== m.pgid && parent.sid === m.sid) return false;
  }
  return true;
}

/** reap removes a zombie: its pid is free again and its parent forgets it. */
export function reap(p: Process): void {
  if (p.parent) {
    p.parent.children.delete(p);
    p.parent.childrenMs += performance.now() - p.startedMs + p.childrenMs;
    p.parent.childrenMaxRssKb = Math.max(p.parent.childrenMaxRssKb, p.maxRssKb, p.childrenMaxRssKb);
  }
  p.ns.processes.delete(p.pid);
}

/** childInfo is the siginfo of the signal that tells a parent of a child's event. */
function childInfo(p: Process, sig: number, e: ChildEvent): SigInfo {
  return new SigInfo(sig, e.code).sender(p.pid, p.task.creds.uid).childStatus(e.status);
}

/** waitStatus is the status word wait4 reports for an event. */
export function waitStatus(e: ChildEvent): number {
  switch (e.code) {
    case CLD_EXITED: return (e.status & 0xff) << 8;
    case CLD_KILLED: return e.status & 0x7f;
    case CLD_DUMPED: return (e.status & 0x7f) | 0x80;
    case CLD_STOPPED: return ((e.status & 0xff) << 8) | 0x7f;
    default: return 0xffff; // CLD_CONTINUED
  }
}

/** exitEvent is how a zombie's end reads to wait. */
export function exitEvent(s: ExitStatus, dumped: boolean): ChildEvent {
  if (s.signal === 0) return { code: CLD_EXITED, status: s.code };
  return { code: dumped ? CLD_DUMPED : CLD_KILLED, status: s.signal };
}
