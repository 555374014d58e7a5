// signal.ts: signal dispositions, masks, the alternate stack, sending,
// waiting for signals, and the return from a handler. Delivery itself is
// the kernel's (kernel/deliver.ts, kernel/signal-frame.ts).
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full } from './table.js';
import { EAGAIN, EINTR, EINVAL, EPERM, ERESTARTNOHAND, ESRCH } from '../errno.js';
import { Reg } from '../platform.js';
import {
  NSIG, SIGCONT, SIGKILL, SIGRTMIN, SIGSEGV, SIGSTOP, SigInfo, SigSet,
  SI_KERNEL, SI_TKILL, SI_USER, SIGINFO_SIZE,
} from '../kernel/signals.js';
import { force } from '../kernel/deliver.js';
import {
  altStackFlags, decodeStack, encodeStack, restoreFrame, setAltStack, SS_AUTODISARM,
} from '../kernel/signal-frame.js';
import { readTimespec } from './util.js';
import { Process } from '../kernel/process.js';

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
    // sa_mask never holds SIGKILL or SIGSTOP (Linux drops them).
    next = { handler: Number(v.getBigUint64(0, true)), flags: Number(v.getBigUint64(8, true)), restorer: Number(v.getBigUint64(16, true)), mask: mask.blockable() };
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
    // An action that discards the signal discards it wherever it is pending.
    if (t.discards(sig)) {
      t.proc.pending.delete(sig);
      for (const o of t.proc.tasks) if (o.actions === t.actions) o.pending.delete(sig);
      t.pending.delete(sig);
    }
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

/** rt_sigpending implements rt_sigpending(2): the pending signals that are blocked. */
export function rtSigpending(t: Task, a: SyscallArgs): number {
  if (a.size(1) > 8) throw EINVAL;
  const pending = t.pendingSignals();
  writeSet(t, a.pointer(0), SigSet.of(pending.lo & t.mask.lo, pending.hi & t.mask.hi));
  return 0;
}

/** sigaltstack implements sigaltstack(2). */
export function sigaltstack(t: Task, a: SyscallArgs): number {
  const ss = a.pointer(0);
  const oss = a.pointer(1);
  const sp = t.ctx.regs.get(Reg.RSP);
  const next = ss !== 0 ? decodeStack(new DataView(t.mm.copyIn(ss, 24).buffer), 0) : undefined;
  const cur = t.altStack;
  const old = { sp: cur.sp, size: cur.size, flags: altStackFlags(cur, sp) | (cur.flags & SS_AUTODISARM) };
  if (next) {
    const err = setAltStack(t, sp, next);
    if (err) throw err;
  }
  if (oss !== 0) {
    const b = new Uint8Array(24);
    encodeStack(new DataView(b.buffer), 0, old);
    t.mm.copyOut(oss, b);
  }
  return 0;
}

/** MAX_QUEUED bounds the realtime signals queued for a task (RLIMIT_SIGPENDING, fixed). */
const MAX_QUEUED = 4096;

/** fromSelf is the siginfo of a signal task t sends (kill, SIGPIPE): SI_USER, its pid and uid. */
function fromSelf(t: Task, sig: number, code = SI_USER): SigInfo {
  return new SigInfo(sig, code).sender(t.proc.pid, t.creds.uid);
}

/** fromOutside is the siginfo of a signal from outside the sandbox: SI_USER from pid 0, as Linux gives a sender outside the PID namespace. */
export function fromOutside(t: Task, sig: number): SigInfo {
  return new SigInfo(sig, SI_USER).sender(0, t.creds.uid);
}

/**
 * send queues sig for a thread (tkill, a SIGPIPE) or a whole process
 * (kill), with its siginfo (by default, sent by the thread itself), unless
 * its action ignores it and it is not blocked: a blocked signal stays
 * pending, as its action may change before it is unblocked. Signal 0 only
 * checks. A realtime signal that finds the queue full fails with EAGAIN
 * when it carries the sender's own siginfo, and is lost otherwise.
 */
export function send(to: Task | Process, sig: number, info?: SigInfo): number {
  if (sig < 0 || sig > NSIG) throw EINVAL;
  if (sig === 0) return 0;
  if (to.ignores(sig)) return 0;
  const proc = to instanceof Process ? to : to.proc;
  const si = info ?? fromSelf(to instanceof Process ? to.task : to, sig);
  if (sig >= SIGRTMIN && proc.pendingCount >= MAX_QUEUED) {
    if (si.code !== SI_USER) throw EAGAIN;
    return 0;
  }
  to.post(sig, si);
  return 0;
}

/**
 * checkKill is Linux's check_kill_permission for a signal a program sends
 * (kill, tgkill, sigqueue): to another process, the sender must be allowed
 * by credentials (Credentials.mayKill), except for SIGCONT within its own
 * session.
 */
function checkKill(t: Task, target: Process, sig: number): void {
  if (sig < 0 || sig > NSIG) throw EINVAL;
  if (target === t.proc || t.creds.mayKill(target.task.creds)) return;
  if (sig === SIGCONT && target.sid === t.proc.sid) return;
  throw EPERM;
}

/** killOne sends sig from t to process p, after checkKill; a zombie takes nothing. */
function killOne(t: Task, p: Process, sig: number): void {
  checkKill(t, p, sig);
  if (!p.zombie) send(p, sig, fromSelf(t, sig));
}

/**
 * kill implements kill(2) in the sandbox's PID namespace: a pid, the
 * caller's group (0), a group (-pgid), or every process but the sandbox's
 * init and the caller (-1). Zombies count as targets that take nothing.
 * A group fails only if no member could be signalled; -1 fails only if
 * there is no process at all, or with an error other than EPERM.
 */
export function kill(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const sig = a.int(1);
  if (pid === -0x80000000) throw ESRCH;
  const ns = t.proc.ns;
  if (pid > 0) {
    const p = ns.get(pid);
    if (!p) throw ESRCH;
    killOne(t, p, sig);
    return 0;
  }
  const all = [...ns.processes.values()];
  const targets = pid === -1
    ? all.filter((p) => p.parent !== undefined && p !== t.proc)
    : all.filter((p) => p.pgid === (pid === 0 ? t.proc.pgid : -pid));
  if (targets.length === 0) throw ESRCH;
  // For -1, the outcome is the last one other than EPERM; for a group,
  // success if any member took the signal, else the last error.
  let sent = false;
  let outcome: unknown;
  for (const p of targets) {
    let err: unknown;
    try {
      killOne(t, p, sig);
      sent = true;
    } catch (e) {
      err = e;
    }
    if (pid !== -1 || err !== EPERM) outcome = err;
  }
  if (outcome === undefined || (pid !== -1 && sent)) return 0;
  throw outcome;
}

/**
 * target finds the live thread tid (of process tgid, if given) that t may
 * send sig: ESRCH if there is none; then checkKill.
 */
function target(t: Task, sig: number, tid: number, tgid?: number): Task {
  const task = t.proc.ns.tasks.get(tid);
  if (!task || task.exited || (tgid !== undefined && task.proc.pid !== tgid)) throw ESRCH;
  checkKill(t, task.proc, sig);
  return task;
}

/** processTarget finds the process pid that t may send sig: ESRCH if there is none, or it is a zombie; then checkKill. */
function processTarget(t: Task, sig: number, pid: number): Process {
  const p = t.proc.ns.get(pid);
  if (!p || p.zombie) throw ESRCH;
  checkKill(t, p, sig);
  return p;
}

/** tgkill implements tgkill(2). */
export function tgkill(t: Task, a: SyscallArgs): number {
  const tgid = a.int(0);
  const tid = a.int(1);
  const sig = a.int(2);
  if (tgid <= 0 || tid <= 0 || sig < 0 || sig > NSIG) throw EINVAL;
  return send(target(t, sig, tid, tgid), sig, fromSelf(t, sig, SI_TKILL));
}

/** tkill implements tkill(2). */
export function tkill(t: Task, a: SyscallArgs): number {
  const tid = a.int(0);
  const sig = a.int(1);
  if (tid <= 0 || sig < 0 || sig > NSIG) throw EINVAL;
  return send(target(t, sig, tid), sig, fromSelf(t, sig, SI_TKILL));
}

/**
 * queuedInfo reads the siginfo a program sends with rt_sigqueueinfo or
 * rt_tgsigqueueinfo. Only the kernel may send si_code >= 0, and only
 * tgkill SI_TKILL: a program may claim them only to itself (`self`).
 */
function queuedInfo(t: Task, sig: number, addr: number): SigInfo {
  return SigInfo.fromUser(sig, t.mm.copyIn(addr, SIGINFO_SIZE));
}

function checkClaim(info: SigInfo, self: boolean): void {
  if ((info.code >= 0 || info.code === SI_TKILL) && !self) throw EPERM;
}

/** rt_sigqueueinfo implements rt_sigqueueinfo(2). */
export function rtSigqueueinfo(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  const sig = a.int(1);
  const info = queuedInfo(t, sig, a.pointer(2));
  checkClaim(info, pid === t.proc.pid);
  return send(processTarget(t, sig, pid), sig, info);
}

/** rt_tgsigqueueinfo implements rt_tgsigqueueinfo(2). */
export function rtTgsigqueueinfo(t: Task, a: SyscallArgs): number {
  const tgid = a.int(0);
  const tid = a.int(1);
  const sig = a.int(2);
  const info = queuedInfo(t, sig, a.pointer(3));
  if (tgid <= 0 || tid <= 0) throw EINVAL;
  checkClaim(info, tid === t.tid);
  return send(target(t, sig, tid, tgid), sig, info);
}

/**
 * waitForSignal parks the task until a signal it does not block arrives.
 * Node's event loop is kept alive meanwhile, as the program is.
 */
async function waitForSignal(t: Task): Promise<void> {
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    await t.sleepOn(new Promise<never>(() => undefined));
  } finally {
    clearInterval(keepAlive);
  }
}

/** pause implements pause(2): it waits for a signal, and fails with EINTR once a handler ran. */
export async function pause(t: Task): Promise<number> {
  await waitForSignal(t);
  throw ERESTARTNOHAND;
}

/**
 * rt_sigsuspend implements rt_sigsuspend(2): it waits with the given mask,
 * which the handler's frame then replaces with the one from before.
 */
export async function rtSigsuspend(t: Task, a: SyscallArgs): Promise<number> {
  if (a.size(1) !== 8) throw EINVAL;
  const mask = readSet(t, a.pointer(0)).blockable();
  t.signals.savedMask = t.mask;
  t.mask = mask;
  await waitForSignal(t);
  throw ERESTARTNOHAND;
}

/** takeOneOf dequeues the first pending signal of set, the thread's own or its process's, or returns undefined. */
function takeOneOf(t: Task, set: SigSet): SigInfo | undefined {
  const sig = t.nextSignal(SigSet.of(~set.lo, ~set.hi));
  return sig === 0 ? undefined : t.takeSignal(sig);
}

/**
 * rt_sigtimedwait implements rt_sigtimedwait(2): it takes a pending signal
 * of the set, waiting for one (the set unblocked meanwhile) until the
 * timeout (EAGAIN) or another signal (EINTR, never restarted).
 */
export async function rtSigtimedwait(t: Task, a: SyscallArgs): Promise<number> {
  const infoAddr = a.pointer(1);
  if (a.size(3) !== 8) throw EINVAL;
  const set = readSet(t, a.pointer(0)).blockable();
  const timeout = a.pointer(2) !== 0 ? readTimespec(t.mm, a.pointer(2)) : Infinity;
  let info = takeOneOf(t, set);
  if (!info) {
    if (timeout === 0) throw EAGAIN;
    const blocked = t.mask;
    t.mask = SigSet.of(blocked.lo & ~set.lo, blocked.hi & ~set.hi);
    t.signals.realBlocked = blocked;
    let timedOut;
    try {
      if (timeout === Infinity) {
        await waitForSignal(t);
      } else {
        timedOut = await t.sleep(timeout / 1e6);
      }
    } finally {
      t.mask = blocked;
      t.signals.realBlocked = undefined;
    }
    info = takeOneOf(t, set);
    if (!info) throw timedOut ? EAGAIN : EINTR;
  }
  if (infoAddr !== 0) t.mm.copyOut(infoAddr, info.bytes);
  return info.signo;
}

/**
 * rt_sigreturn implements rt_sigreturn(2): the registers, mask, extended
 * state and alternate stack come back from the handler's frame, RAX
 * included (the kernel leaves it as restored); a bad frame is SIGSEGV.
 */
export function rtSigreturn(t: Task): number {
  t.signals.syscallNr = -1;
  t.signals.restart = undefined;
  const regs = t.ctx.regs;
  if (!restoreFrame(t)) {
    regs.set(Reg.RAX, 0);
    force(t, new SigInfo(SIGSEGV, SI_KERNEL));
  }
  return Number(BigInt.asIntN(64, regs.getBig(Reg.RAX)));
}

/** restart_syscall implements restart_syscall(2): it goes on with the call a signal interrupted, or fails with EINTR. */
export function restartSyscall(t: Task, a: SyscallArgs): number | Promise<number> {
  const restart = t.signals.restart;
  t.signals.restart = undefined;
  if (!restart) throw EINTR;
  return restart(t, a);
}

export function register(): void {
  full(13, rtSigaction, 'd,p,p,u');
  full(14, rtSigprocmask, 'd,p,p,u');
  full(15, rtSigreturn);
  full(127, rtSigpending, 'p,u');
  full(131, sigaltstack, 'p,p');
  full(62, kill, 'd,d');
  full(234, tgkill, 'd,d,d');
  full(200, tkill, 'd,d');
  full(129, rtSigqueueinfo, 'd,d,p');
  full(297, rtTgsigqueueinfo, 'd,d,d,p');
  full(34, pause);
  full(130, rtSigsuspend, 'p,u');
  full(128, rtSigtimedwait, 'p,p,p,u');
  full(219, restartSyscall);
}
