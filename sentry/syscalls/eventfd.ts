// eventfd.ts: eventfd(2) and eventfd2(2).
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full } from './table.js';
import { EINVAL } from '../errno.js';
import { O_CLOEXEC, O_NONBLOCK } from '../vfs/file.js';
import { EventFd } from '../vfs/eventfd.js';

const EFD_SEMAPHORE = 1;

/** doEventfd makes an eventfd counting from initval: EFD_SEMAPHORE, EFD_NONBLOCK and EFD_CLOEXEC, EINVAL for other flags. */
function doEventfd(t: Task, initval: number, flags: number): number {
  if (flags & ~(EFD_SEMAPHORE | O_CLOEXEC | O_NONBLOCK)) throw EINVAL;
  const file = new EventFd(BigInt(initval), (flags & EFD_SEMAPHORE) !== 0, flags & O_NONBLOCK);
  return t.fds.install(file, (flags & O_CLOEXEC) !== 0);
}

/** eventfd implements eventfd(2): no flags. */
export function eventfd(t: Task, a: SyscallArgs): number {
  return doEventfd(t, a.uint(0), 0);
}

/** eventfd2 implements eventfd2(2). */
export function eventfd2(t: Task, a: SyscallArgs): number {
  return doEventfd(t, a.uint(0), a.int(1));
}

export function register(): void {
  full(284, eventfd, 'u');
  full(290, eventfd2, 'u,x');
}
