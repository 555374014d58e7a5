// signalfd.ts: signalfd(2) and signalfd4(2) (the file is vfs/signalfd.ts).
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full } from './table.js';
import { EINVAL } from '../errno.js';
import { O_CLOEXEC, O_NONBLOCK } from '../vfs/file.js';
import { SigSet } from '../kernel/signals.js';
import { SignalFd } from '../vfs/signalfd.js';

/**
 * doSignalfd makes a signalfd for the signals of the mask at maskAddr
 * (fd -1), or changes the mask of the signalfd at fd. SIGKILL and SIGSTOP
 * are left out silently. EINVAL unless sizemask is 8, then EFAULT for
 * the mask, then EINVAL for flags beyond SFD_NONBLOCK and SFD_CLOEXEC,
 * and for an fd that is not a signalfd.
 */
function doSignalfd(t: Task, fd: number, maskAddr: number, sizemask: number, flags: number): number {
  if (sizemask !== 8) throw EINVAL;
  const bits = t.mm.readI64(maskAddr);
  if (flags & ~(O_CLOEXEC | O_NONBLOCK)) throw EINVAL;
  const mask = SigSet.of(Number(BigInt.asUintN(32, bits)), Number(BigInt.asUintN(32, bits >> 32n))).blockable();
  if (fd === -1) return t.fds.install(new SignalFd(mask, flags & O_NONBLOCK), (flags & O_CLOEXEC) !== 0);
  const f = t.fds.get(fd);
  if (!(f instanceof SignalFd)) throw EINVAL;
  f.setMask(mask);
  return fd;
}

/** signalfd implements signalfd(2): no flags. */
export function signalfd(t: Task, a: SyscallArgs): number {
  return doSignalfd(t, a.int(0), a.pointer(1), a.size(2), 0);
}

/** signalfd4 implements signalfd4(2). */
export function signalfd4(t: Task, a: SyscallArgs): number {
  return doSignalfd(t, a.int(0), a.pointer(1), a.size(2), a.int(3));
}

export function register(): void {
  full(282, signalfd, 'd,p,u');
  full(289, signalfd4, 'd,p,u,x');
}
