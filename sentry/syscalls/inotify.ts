// inotify.ts: inotify_init, inotify_init1, inotify_add_watch and
// inotify_rm_watch (see vfs/inotify.ts: watches are kept, changes are not
// reported).
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full, partial } from './table.js';
import { EINVAL, ENOTDIR } from '../errno.js';
import { O_CLOEXEC, O_NONBLOCK } from '../vfs/file.js';
import { S_IFDIR, S_IFMT } from '../vfs/node.js';
import { IN_ALL_EVENTS, IN_DONT_FOLLOW, IN_MASK_ADD, IN_MASK_CREATE, IN_ONLYDIR, Inotify } from '../vfs/inotify.js';
import { readPath, resolveAt } from './fs.js';

const AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;

/** init makes an instance: IN_NONBLOCK and IN_CLOEXEC (O_NONBLOCK and O_CLOEXEC), EINVAL for other flags. */
function init(t: Task, flags: number): number {
  if (flags & ~(O_NONBLOCK | O_CLOEXEC)) throw EINVAL;
  return t.fds.install(new Inotify(flags & O_NONBLOCK), (flags & O_CLOEXEC) !== 0);
}

/** instance is the inotify instance fd refers to: EBADF for no file, EINVAL for another kind. */
function instance(t: Task, fd: number): Inotify {
  const f = t.fds.get(fd);
  if (!(f instanceof Inotify)) throw EINVAL;
  return f;
}

export const inotifyInit = (t: Task) => init(t, 0);
export const inotifyInit1 = (t: Task, a: SyscallArgs) => init(t, a.int(0));

/** inotifyAddWatch implements inotify_add_watch(2), in Linux's order of checks. */
export async function inotifyAddWatch(t: Task, a: SyscallArgs): Promise<number> {
  const mask = a.uint(2);
  if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE)) throw EINVAL;
  if (!(mask & IN_ALL_EVENTS)) throw EINVAL;
  const ino = instance(t, a.int(0));
  const d = await resolveAt(t, AT_FDCWD, readPath(t, a.pointer(1)), mask & IN_DONT_FOLLOW ? AT_SYMLINK_NOFOLLOW : 0);
  const attr = await d.node.attr();
  if (mask & IN_ONLYDIR && (attr.mode & S_IFMT) !== S_IFDIR) throw ENOTDIR;
  return ino.add(`${attr.dev}:${attr.ino}`, mask);
}

/** inotifyRmWatch implements inotify_rm_watch(2). */
export function inotifyRmWatch(t: Task, a: SyscallArgs): number {
  instance(t, a.int(0)).remove(a.int(1));
  return 0;
}

export function register(): void {
  const note = 'watches are kept, but no change of a file is reported (only IN_IGNORED)';
  partial(253, inotifyInit, note);
  partial(294, inotifyInit1, note, 'x');
  partial(254, inotifyAddWatch, note, 'd,s,x');
  full(255, inotifyRmWatch, 'd,d');
}
