// deliver.ts: what Linux does each time a task returns to user mode. A
// system call that a signal interrupted (it failed with a restart code,
// see errno.ts) is restarted or fails with EINTR, and pending signals
// that are not blocked are acted on: ignored, their default action taken,
// or a handler run on a signal frame (signal-frame.ts).
import { Reg } from '../platform.js';
import { ERESTART_RESTARTBLOCK, ERESTARTNOHAND, ERESTARTNOINTR, ERESTARTSYS, EINTR } from '../errno.js';
import { orphanedGroup } from './process.js';
import {
  DefaultAction, defaultAction, SigInfo,
  SI_KERNEL, SIGKILL, SIGSEGV, SIGSTOP,
} from './signals.js';
import { SA_NODEFER, SA_RESETHAND, SA_RESTART, SS_AUTODISARM, SS_DISABLE, setupFrame } from './signal-frame.js';
import { SIG_DFL, SIG_IGN, type SigAction, type Task } from './task.js';

/** SYS_RESTART_SYSCALL is restart_syscall(2), which an ERESTART_RESTARTBLOCK restarts as. */
export const SYS_RESTART_SYSCALL = 219;
/** SYSCALL_INSN is the length of the `syscall` instruction a restart goes back over. */
const SYSCALL_INSN = 2;

/** restartCode is the restart code in RAX (a system call's result), or undefined. */
function restartCode(t: Task): number | undefined {
  const regs = t.ctx.regs;
  if (regs.getHigh(Reg.RAX) !== 0xffffffff) return undefined;
  const errno = -regs.getInt(Reg.RAX);
  const known = errno === ERESTARTSYS.errno || errno === ERESTARTNOINTR.errno || errno === ERESTARTNOHAND.errno ||
    errno === ERESTART_RESTARTBLOCK.errno;
  return known ? errno : undefined;
}

/** restartSyscall sets the task to make system call nr again: back onto its `syscall` instruction. */
function restartSyscall(t: Task, nr: number): void {
  const regs = t.ctx.regs;
  regs.set(Reg.RAX, nr);
  regs.set(Reg.RIP, regs.get(Reg.RIP) - SYSCALL_INSN);
}

/**
 * handleSignals runs as the task returns to user mode. A handler's frame
 * is built only while the context is stopped (see PlatformContext); a
 * signal waiting for that stays pending, and the context is interrupted
 * so that it stops soon. Default actions need no registers and are taken
 * at once.
 */
export function handleSignals(t: Task): void {
  const st = t.signals;
  const nr = st.syscallNr;
  st.syscallNr = -1;
  let restart = nr >= 0 ? restartCode(t) : undefined;
  let handled = false;
  for (;;) {
    // SIGKILL goes first: on Linux it ends the process as it is sent.
    const sig = t.pending.has(SIGKILL) || t.proc.pending.has(SIGKILL) ? SIGKILL : t.nextSignal(t.mask);
    if (sig === 0) break;
    const act = t.actions[sig];
    const caught = sig !== SIGKILL && act.handler !== SIG_DFL && act.handler !== SIG_IGN;
    if (caught && !t.ctx.stopped) {
      t.ctx.interrupt();
      return;
    }
    const info = t.takeSignal(sig);
    if (!caught) {
      if (takeDefault(t, sig, act)) return;
      if (t.proc.stopped) {
        // The task stops here, as in Linux's get_signal: whether the call
        // it was in restarts is decided once it continues, by the signals
        // pending then (a SIGCONT handler makes it fail with EINTR).
        if (restart !== undefined) st.syscallNr = nr;
        return;
      }
      continue;
    }
    if (restart !== undefined) {
      if (restart === ERESTARTNOINTR.errno || (restart === ERESTARTSYS.errno && act.flags & SA_RESTART)) restartSyscall(t, nr);
      else t.ctx.regs.set(Reg.RAX, -EINTR.errno);
      restart = undefined;
    }
    if (act.flags & SA_RESETHAND) t.actions[sig] = { ...act, handler: SIG_DFL };
    if (!runHandler(t, info, act)) forceSigsegv(t, sig);
    else handled = true;
  }
  if (restart !== undefined) restartSyscall(t, restart === ERESTART_RESTARTBLOCK.errno ? SYS_RESTART_SYSCALL : nr);
  if (!handled && st.savedMask) {
    t.mask = st.savedMask;
    st.savedMask = undefined;
  }
}

/** takeDefault acts on a signal that no handler catches; true when the task ends. */
function takeDefault(t: Task, sig: number, act: SigAction): boolean {
  if (sig !== SIGKILL && act.handler === SIG_IGN) return false;
  const action = defaultAction(sig);
  if (sig === SIGKILL || action === DefaultAction.Terminate || action === DefaultAction.CoreDump) {
    // A fatal signal ends the whole process; a SIGKILL that ends one thread
    // alone is the Sentry's, for a process ending already or an execve.
    t.exit = { code: 0, signal: sig };
    if (!t.proc.groupExit && !t.proc.execing) t.proc.exitGroup(t.exit, t);
    return true;
  }
  // SIGTSTP, SIGTTIN and SIGTTOU do not stop an orphaned process group.
  if (action === DefaultAction.Stop && (sig === SIGSTOP || !orphanedGroup(t.proc))) t.proc.stop(sig);
  return false;
}

/**
 * runHandler builds the handler's frame and blocks, while it runs, its
 * sa_mask and the signal itself (unless SA_NODEFER). The frame keeps the
 * mask from before (rt_sigsuspend's, if it replaced it). An alternate
 * stack set with SS_AUTODISARM is disabled until rt_sigreturn.
 */
function runHandler(t: Task, info: SigInfo, act: SigAction): boolean {
  const st = t.signals;
  if (!setupFrame(t, info, act, st.savedMask ?? t.mask)) return false;
  st.savedMask = undefined;
  const mask = t.mask.clone();
  mask.union(act.mask);
  if (!(act.flags & SA_NODEFER)) mask.add(info.signo);
  t.mask = mask.blockable();
  if (t.altStack.flags & SS_AUTODISARM) t.altStack = { sp: 0, size: 0, flags: SS_DISABLE };
  return true;
}

/**
 * force sends a signal the task cannot refuse (a fault's): a blocked or
 * ignored one is unblocked and given its default action, as Linux's
 * force_sig_info.
 */
export function force(t: Task, info: SigInfo): void {
  const sig = info.signo;
  const blocked = t.mask.has(sig);
  if (blocked || t.actions[sig].handler === SIG_IGN) {
    t.actions[sig] = { ...t.actions[sig], handler: SIG_DFL };
    if (blocked) t.mask.delete(sig);
  }
  t.post(sig, info);
}

/**
 * forceSigsegv answers a frame that could not be built for sig: SIGSEGV,
 * fatal when it was SIGSEGV's own frame that failed (Linux's force_sigsegv).
 */
export function forceSigsegv(t: Task, sig: number): void {
  if (sig === SIGSEGV) t.actions[SIGSEGV] = { ...t.actions[SIGSEGV], handler: SIG_DFL };
  force(t, new SigInfo(SIGSEGV, SI_KERNEL));
}
