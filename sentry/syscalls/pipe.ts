// pipe.ts: pipe(2) and pipe2(2).
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full } from './table.js';
import { EINVAL, ENOPKG } from '../errno.js';
import { O_CLOEXEC, O_DIRECT, O_EXCL, O_NONBLOCK } from '../vfs/file.js';
import { newPipe } from '../vfs/pipe.js';
import { installPair } from './util.js';

/** O_NOTIFICATION_PIPE asks for a pipe of kernel notifications (watch queues). */
const O_NOTIFICATION_PIPE = O_EXCL;

/** doPipe makes a pipe and writes its read and write fds at addr (none left behind on EFAULT). */
function doPipe(t: Task, addr: number, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE)) throw EINVAL;
  // The Sentry has no watch queues, as a kernel built without CONFIG_WATCH_QUEUE.
  if (flags & O_NOTIFICATION_PIPE) throw ENOPKG;
  installPair(t, newPipe(t.mm.mem, flags), (flags & O_CLOEXEC) !== 0, addr);
  return 0;
}

/** pipe implements pipe(2). */
export function pipe(t: Task, a: SyscallArgs): number {
  return doPipe(t, a.pointer(0), 0);
}

/** pipe2 implements pipe2(2): O_CLOEXEC, O_NONBLOCK and O_DIRECT (packet mode). */
export function pipe2(t: Task, a: SyscallArgs): number {
  return doPipe(t, a.pointer(0), a.int(1));
}

export function register(): void {
  full(22, pipe, 'p');
  full(293, pipe2, 'p,x');
}
