// signalfd.ts: signalfd(2) files. A read takes pending signals of its
// mask from the task that reads, as struct signalfd_siginfo, and a poll
// looks at the pending signals of the task that polls: after a fork, the
// child's reads see the child's signals, as on Linux.
import { EAGAIN, EINVAL } from '../errno.js';
import { POLLIN, type Changed } from './file.js';
import { AnonFile } from './anon.js';
import { SigSet, SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGSEGV, SIGTRAP, SI_KERNEL, SI_TIMER, SI_USER, type SigInfo } from '../kernel/signals.js';
import type { Task } from '../kernel/task.js';

/** SIGNALFD_SIGINFO_SIZE is sizeof(struct signalfd_siginfo). */
export const SIGNALFD_SIGINFO_SIZE = 128;

const FAULT_SIGNALS = new Set([SIGILL, SIGFPE, SIGSEGV, SIGBUS, SIGTRAP]);

/**
 * encodeSiginfo writes a siginfo as struct signalfd_siginfo, with the
 * fields Linux's signalfd_copyinfo takes for the siginfo's layout: the
 * sender of kill, a child's status, a fault's address, a timer's or a
 * queued signal's value.
 */
function encodeSiginfo(info: SigInfo): Uint8Array {
  const src = new DataView(info.bytes.buffer);
  const out = new Uint8Array(SIGNALFD_SIGINFO_SIZE);
  const v = new DataView(out.buffer);
  const code = info.code;
  v.setUint32(0, info.signo, true);
  v.setInt32(4, src.getInt32(4, true), true);
  v.setInt32(8, code, true);
  const sender = () => {
    v.setUint32(12, src.getUint32(16, true), true); // ssi_pid
    v.setUint32(16, src.getUint32(20, true), true); // ssi_uid
  };
  const value = () => {
    v.setInt32(44, src.getInt32(24, true), true); // ssi_int
    v.setBigUint64(48, src.getBigUint64(24, true), true); // ssi_ptr
  };
  if (code > SI_USER && code < SI_KERNEL && FAULT_SIGNALS.has(info.signo)) {
    v.setBigUint64(72, src.getBigUint64(16, true), true); // ssi_addr
  } else if (code > SI_USER && code < SI_KERNEL && info.signo === SIGCHLD) {
    sender();
    v.setInt32(40, src.getInt32(24, true), true); // ssi_status
    v.setBigUint64(56, src.getBigUint64(32, true), true); // ssi_utime
    v.setBigUint64(64, src.getBigUint64(40, true), true); // ssi_stime
  } else if (code === SI_TIMER) {
    v.setUint32(24, src.getUint32(16, true), true); // ssi_tid
    v.setUint32(32, src.getUint32(20, true), true); // ssi_overrun
    value();
  } else if (code < 0) {
    sender();
    value();
  } else {
    sender();
  }
  return out;
}

export class SignalFd extends AnonFile {
  constructor(public mask: SigSet, statusFlags: number) {
    super('signalfd', statusFlags);
  }

  /** unmasked is the complement of the mask: the signals a read leaves alone. */
  private unmasked(): SigSet {
    return SigSet.of(~this.mask.lo, ~this.mask.hi);
  }

  /** setMask changes the signals the file reads (signalfd4 on it). */
  setMask(mask: SigSet): void {
    this.mask = mask;
    this.waiters.notify(POLLIN);
  }

  /**
   * read dequeues as many of the caller's pending signals (its own, then its process's) of the mask as
   * fit, as signalfd_siginfo records: EINVAL for a buffer shorter than
   * one, EAGAIN when none is pending.
   */
  override read(max: number, caller?: Task): Uint8Array {
    if (max < SIGNALFD_SIGINFO_SIZE || !caller) throw EINVAL;
    const records: Uint8Array[] = [];
    while (records.length < Math.floor(max / SIGNALFD_SIGINFO_SIZE)) {
      const sig = caller.nextSignal(this.unmasked());
      if (sig === 0) break;
      records.push(encodeSiginfo(caller.takeSignal(sig)));
    }
    if (records.length === 0) throw EAGAIN;
    return Buffer.concat(records);
  }

  override readiness(caller?: Task): number {
    return caller && caller.nextSignal(this.unmasked()) !== 0 ? POLLIN : 0;
  }

  /** watch hears of the signals queued for the caller, and of changes of the mask. */
  override watch(changed: Changed, caller?: Task): () => void {
    const unwatchMask = super.watch(changed);
    const unwatchQueue = caller?.signals.queued.add(changed);
    return () => {
      unwatchMask();
      unwatchQueue?.();
    };
  }
}
