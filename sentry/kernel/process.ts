// process.ts: processes as the sandbox sees them. A sandbox has one PID
// namespace; each run's first program is the init of its own tree (its
// orphans are reparented to it, and when it exits every other process of
// the tree is killed). A process has one task until threads come: it
// holds what Linux keeps per process: the parent and children, the process
// group and session, the exit status a parent collects with wait4, and the
// stop and continue reports.
import { SIG_IGN, type Task, type ExitStatus } from './task.js';
import { SigInfo, SI_USER, SIGCHLD, SIGCONT, SIGKILL } from './signals.js';

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

  constructor(readonly pid: number, readonly task: Task, readonly ns: PidNamespace) {
    this.pgid = pid;
    this.sid = pid;
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
    this.stopped = true;
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
    if (e && !(parent.task.actions[SIGCHLD].flags & SA_NOCLDSTOP)) parent.task.send(SIGCHLD, childInfo(this, SIGCHLD, e));
    parent.childChanged();
  }
}

/**
 * PidNamespace numbers the sandbox's processes, finds them by pid and
 * group, and bounds how many may exist at once (--pids-limit).
 */
export class PidNamespace {
  readonly processes = new Map<number, Process>();
  private last = 0;
  /** startedMs is when the sandbox began (sysinfo's uptime). */
  readonly startedMs = performance.now();
  static readonly PID_MAX = 4194304;

  constructor(readonly limit: number) {}

  /** alloc returns an unused pid, or -1 when the limit is reached. */
  alloc(): number {
    if (this.processes.size >= this.limit) return -1;
    for (;;) {
      this.last = this.last >= PidNamespace.PID_MAX ? 2 : this.last + 1;
      if (!this.processes.has(this.last)) return this.last;
    }
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
    else c.task.post(SIGKILL);
    if (c.deathSignal) c.task.send(c.deathSignal, new SigInfo(c.deathSignal, SI_USER).sender(p.pid, p.task.creds.uid));
    // A zombie handed over is the new parent's to reap.
    if (reaper && c.zombie) reaper.childChanged();
  }
  p.children.clear();
  p.zombie = status;
  p.stopped = false;
  const parent = p.parent;
  if (!parent) {
    p.ns.processes.delete(p.pid);
    return;
  }
  // Only a child that ends with SIGCHLD is reaped at once; with
  // SA_NOCLDWAIT the parent still gets its SIGCHLD, with SIG_IGN none.
  const autoreap = p.exitSignal === SIGCHLD && ignoresChildren(parent);
  if (p.exitSignal && !(autoreap && parent.task.actions[SIGCHLD].handler === SIG_IGN)) {
    parent.task.send(p.exitSignal, childInfo(p, p.exitSignal, exitEvent(status, false)));
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
