// signal-state.ts: what a task keeps for signal delivery (deliver.ts)
// besides its masks, actions and pending signals.
import type { Handler } from '../syscalls/table.js';
import type { RealTimer } from './itimer.js';
import type { SigSet } from './signals.js';
import type { Task } from './task.js';
import { Waiters } from '../vfs/file.js';

/** TrapInfo is the last fault that raised a signal, for sigcontext's trapno, err and cr2. */
export interface TrapInfo {
  trapNo: number;
  errorCode: number;
  cr2: number;
}

/** SignalState is a task's delivery state. */
export class SignalState {
  /**
   * syscallNr is the number of the system call whose result the coming
   * return to user mode may restart (Linux's orig_ax), or -1.
   */
  syscallNr = -1;
  /**
   * savedMask is the mask that rt_sigsuspend replaced for its wait: a
   * handler's frame keeps it for rt_sigreturn, or it is put back when the
   * call restarts without one.
   */
  savedMask: SigSet | undefined;
  /**
   * realBlocked is the mask rt_sigtimedwait replaced while it waits (Linux's
   * real_blocked): the signals it waits for are unblocked then, yet still
   * count as blocked, so one whose action ignores it stays pending for the
   * wait to take instead of being thrown away.
   */
  realBlocked: SigSet | undefined;
  /** restart is what restart_syscall(2) runs after an ERESTART_RESTARTBLOCK (the rest of a sleep). */
  restart: Handler | undefined;
  readonly trap: TrapInfo = { trapNo: 0, errorCode: 0, cr2: 0 };
  /** queued hears of each signal queued for the task: the signalfds it reads or polls wait on it. */
  readonly queued = new Waiters();

  constructor(private readonly task: Task) {}

  /** realTimer is ITIMER_REAL (alarm, setitimer), which Linux keeps per process. */
  get realTimer(): RealTimer {
    return this.task.proc.realTimer;
  }
}
