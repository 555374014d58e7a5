// signal.ts: signal dispositions, masks and sending. Handlers are recorded;
// delivery through signal frames comes with processes (issue 6).
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full, partial } from './table.js';
import { EINVAL, ENOMEM, ESRCH } from '../errno.js';
import { NSIG, SIGKILL, SIGSTOP, SigSet, DefaultAction, defaultAction } from '../kernel/signals.js';
import { SIG_DFL, SIG_IGN } from '../kernel/task.js';
import type { Process } from '../kernel/process.js';

function readSet(t: Task, addr: number): SigSet {
  const b = t.mm.copyIn(addr, 8);
  const v = new DataView(b.buffer);
  const s = new SigSet();
  s.lo = v.getUint32(0, true);
  s.hi = v.getUint32(4, true);
  return s;
}

function writeSet(t: Task, addr: number, s: SigSet): void {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, s.lo, true);
  v.setUint32(4, s.hi, true);
  t.mm.copyOut(addr, b);
}

/** isIgnored says whether sig's disposition is to ignore it (SIG_IGN, or SIG_DFL where that ignores). */
export function isIgnored(t: Task, sig: number): boolean {
  const h = t.actions[sig].handler;
  return h === SIG_IGN || (h === SIG_DFL && defaultAction(sig) === DefaultAction.Ignore);
}

/** rt_sigaction implements rt_sigaction(2). */
export function rtSigaction(t: Task, a: SyscallArgs): number {
  const sig = a.int(0);
  const act = a.pointer(1);
  const oact = a.pointer(2);
  if (a.size(3) !== 8) throw EINVAL;
  if (sig < 1 || sig > NSIG) throw EINVAL;
  if (act !== 0 && (sig === SIGKILL || sig === SIGSTOP)) throw EINVAL;
  let next;
  if (act !== 0) {
    const b = t.mm.copyIn(act, 32);
    const v = new DataView(b.buffer);
    const mask = new SigSet();
    mask.lo = v.getUint32(24, true);
    mask.hi = v.getUint32(28, true);
    next = { handler: Number(v.getBigUint64(0, true)), flags: Number(v.getBigUint64(8, true)), restorer: Number(v.getBigUint64(16, true)), mask };
  }
  if (oact !== 0) {
    const cur = t.actions[sig];
    const b = new Uint8Array(32);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, BigInt(cur.handler), true);
    v.setBigUint64(8, BigInt(cur.flags), true);
    v.setBigUint64(16, BigInt(cur.restorer), true);
    v.setUint32(24, cur.mask.lo, true);
    v.setUint32(28, cur.mask.hi, true);
    t.mm.copyOut(oact, b);
  }
  if (next) {
    t.actions[sig] = next;
    if (isIgnored(t, sig)) t.pending.delete(sig);
  }
  return 0;
}

const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;

/** rt_sigprocmask implements rt_sigprocmask(2). */
export function rtSigprocmask(t: Task, a: SyscallArgs): number {
  const how = a.int(0);
  const set = a.pointer(1);
  const oset = a.pointer(2);
  if (a.size(3) !== 8) throw EINVAL;
  const old = new SigSet();
  old.lo = t.mask.lo;
  old.hi = t.mask.hi;
  if (set !== 0) {
    const s = readSet(t, set);
    if (how !== SIG_BLOCK && how !== SIG_UNBLOCK && how !== SIG_SETMASK) throw EINVAL;
    const m = t.mask;
    if (how === SIG_BLOCK) { m.lo = (m.lo | s.lo) >>> 0; m.hi = (m.hi | s.hi) >>> 0; }
    if (how === SIG_UNBLOCK) { m.lo = (m.lo & ~s.lo) >>> 0; m.hi = (m.hi & ~s.hi) >>> 0; }
    if (how === SIG_SETMASK) { m.lo = s.lo; m.hi = s.hi; }
    m.delete(SIGKILL);
    m.delete(SIGSTOP);
  }
  if (oset !== 0) writeSet(t, oset, old);
  return 0;
}

/** rt_sigpending implements rt_sigpending(2). */
export function rtSigpending(t: Task, a: SyscallArgs): number {
  if (a.size(1) > 8) throw EINVAL;
  writeSet(t, a.pointer(0), t.pending);
  return 0;
}

const SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 1 << 31;
const MINSIGSTKSZ = 2048;

/** sigaltstack implements sigaltstack(2): the stack is recorded for delivery (issue 6). */
export function sigaltstack(t: Task, a: SyscallArgs): number {
  const ss = a.pointer(0);
  const oss = a.pointer(1);
  let next;
  if (ss !== 0) {
    const b = t.mm.copyIn(ss, 24);
    const v = new DataView(b.buffer);
    const sp = Number(v.getBigUint64(0, true));
    const flags = v.getInt32(8, true);
    const size = Number(v.getBigUint64(16, true));
    if (flags & ~(SS_DISABLE | SS_ONSTACK | SS_AUTODISARM)) throw EINVAL;
    if (!(flags & SS_DISABLE) && size < MINSIGSTKSZ) throw ENOMEM;
    next = flags & SS_DISABLE ? { sp: 0, flags: SS_DISABLE, size: 0 } : { sp, flags: flags & SS_AUTODISARM, size };
  }
  if (oss !== 0) {
    const b = new Uint8Array(24);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, BigInt(t.altStack.sp), true);
    v.setInt32(8, t.altStack.flags, true);
    v.setBigUint64(16, BigInt(t.altStack.size), true);
    t.mm.copyOut(oss, b);
  }
  if (next) t.altStack = next;
  return 0;
}

/** send queues sig for t unless it is ignored; sig 0 only checks. */
export function send(t: Task, sig: number): number {
  if (sig < 0 || sig > NSIG) throw EINVAL;
  if (sig === 0) return 0;
  if (t.ignores(sig)) return 0;
  t.post(sig);
  return 0;
}

/** permitted: every process of the sandbox runs as one user, who may signal all of them. */
function sendTo(p: Process, sig: number): void {
  send(p.task, sig);
}

/**
 * kill implements kill(2) in the sandbox's PID namespace: a pid, the
 * caller's group (0), a group (-pgid), or every process but the sandbox's
 * init and the caller (-1).
 */
export function kill(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const sig = a.int(1);
  if (sig < 0 || sig > NSIG) throw EINVAL;
  const ns = t.proc.ns;
  let targets: Process[];
  if (pid > 0) {
    const p = ns.get(pid);
    // A zombie can still be "signalled" (nothing happens), as on Linux.
    if (!p) throw ESRCH;
    targets = p.zombie ? [] : [p];
  } else if (pid === -1) {
    targets = [...ns.processes.values()].filter((p) => !p.zombie && p.parent !== undefined && p !== t.proc);
    if (targets.length === 0) throw ESRCH;
  } else {
    const pgid = pid === 0 ? t.proc.pgid : -pid;
    targets = ns.group(pgid);
    if (targets.length === 0) throw ESRCH;
  }
  if (sig !== 0) for (const p of targets) sendTo(p, sig);
  return 0;
}

/** tgkill implements tgkill(2): a process has one task, whose tid is its pid. */
export function tgkill(t: Task, a: SyscallArgs): number {
  const tgid = a.int(0);
  const tid = a.int(1);
  const sig = a.int(2);
  if (tgid <= 0 || tid <= 0 || sig < 0 || sig > NSIG) throw EINVAL;
  const p = t.proc.ns.get(tid);
  if (!p || p.zombie || tgid !== tid) throw ESRCH;
  return send(p.task, sig);
}

/** tkill implements tkill(2). */
export function tkill(t: Task, a: SyscallArgs): number {
  const tid = a.int(0);
  const sig = a.int(1);
  if (tid <= 0 || sig < 0 || sig > NSIG) throw EINVAL;
  const p = t.proc.ns.get(tid);
  if (!p || p.zombie) throw ESRCH;
  return send(p.task, sig);
}

export function register(): void {
  partial(13, rtSigaction, 'recorded; delivery to handlers comes with issue 6', 'd,p,p,u');
  full(14, rtSigprocmask, 'd,p,p,u');
  full(127, rtSigpending, 'p,u');
  partial(131, sigaltstack, 'recorded; used by delivery (issue 6)', 'p,p');
  full(62, kill, 'd,d');
  partial(234, tgkill, 'a process has one task until threads (issue 7)', 'd,d,d');
  partial(200, tkill, 'a process has one task until threads (issue 7)', 'd,d');
}
