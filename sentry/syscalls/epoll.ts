// epoll.ts: epoll_create, epoll_create1, epoll_ctl, epoll_wait,
// epoll_pwait and epoll_pwait2 (the instance itself is vfs/epoll.ts).
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full } from './table.js';
import { EBADF, EFAULT, EINTR, EINVAL, EPERM, ERESTARTNOHAND } from '../errno.js';
import { Perm } from '../platform.js';
import { USER_ADDRESS_LIMIT } from '../mm/mm.js';
import { O_CLOEXEC, O_PATH, PAGE_SIZE } from '../vfs/file.js';
import { EpollInstance, type EpollEvent } from '../vfs/epoll.js';
import { deadlineAfter, readSigmask, waitReady, withSigmask, type Scan } from './poll.js';
import { readTimespec } from './util.js';

const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
/** EVENT_SIZE is sizeof(struct epoll_event): packed on x86-64. */
const EVENT_SIZE = 12;
/** EP_MAX_EVENTS bounds maxevents, as Linux does. */
const EP_MAX_EVENTS = Math.floor(0x7fffffff / EVENT_SIZE);

function create(t: Task, flags: number): number {
  if (flags & ~O_CLOEXEC) throw EINVAL;
  return t.fds.install(new EpollInstance(0), (flags & O_CLOEXEC) !== 0);
}

/** epoll_create implements epoll_create(2): size must be positive, and means nothing else. */
export function epollCreate(t: Task, a: SyscallArgs): number {
  if (a.int(0) <= 0) throw EINVAL;
  return create(t, 0);
}

/** epoll_create1 implements epoll_create1(2): EPOLL_CLOEXEC. */
export function epollCreate1(t: Task, a: SyscallArgs): number {
  return create(t, a.int(0));
}

/** instance is the epoll instance at fd: EBADF for no file, EINVAL for another kind. */
function instance(t: Task, fd: number): EpollInstance {
  const f = t.fds.get(fd);
  if (!(f instanceof EpollInstance)) throw EINVAL;
  return f;
}

/**
 * epoll_ctl implements epoll_ctl(2), checking in Linux's order: the event
 * (EFAULT), both fds (EBADF), a target that cannot be polled (EPERM), an
 * instance added to itself or a non-epoll epfd (EINVAL), then the op.
 */
export function epollCtl(t: Task, a: SyscallArgs): number {
  const epfd = a.int(0);
  const op = a.int(1);
  const fd = a.int(2);
  const hasEvent = op !== EPOLL_CTL_DEL;
  const event = hasEvent ? new DataView(t.mm.copyIn(a.pointer(3), EVENT_SIZE).buffer) : undefined;
  const ep = t.fds.get(epfd);
  const target = t.fds.get(fd);
  // An O_PATH fd is no fd at all to epoll.
  if (ep.statusFlags & O_PATH || target.statusFlags & O_PATH) throw EBADF;
  if (!target.pollable) throw EPERM;
  if (ep === target || !(ep instanceof EpollInstance)) throw EINVAL;
  const events = event?.getUint32(0, true) ?? 0;
  const data = event?.getBigUint64(4, true) ?? 0n;
  switch (op) {
    case EPOLL_CTL_ADD:
      ep.add(target, fd, events, data, t);
      return 0;
    case EPOLL_CTL_MOD:
      ep.modify(target, fd, events, data, t);
      return 0;
    case EPOLL_CTL_DEL:
      ep.remove(target, fd);
      return 0;
    default:
      throw EINVAL;
  }
}

/**
 * writableEvents is how many events fit in the part of the buffer at addr
 * the program may write, up to max; EFAULT when not one does.
 */
function writableEvents(t: Task, addr: number, max: number): number {
  const end = addr + max * EVENT_SIZE;
  let ok = addr;
  try {
    while (ok < end) {
      t.mm.physFor(ok, Perm.Write);
      ok = Math.min(end, ok - (ok % PAGE_SIZE) + PAGE_SIZE);
    }
  } catch (err) {
    if (err !== EFAULT) throw err;
  }
  const fit = Math.floor((ok - addr) / EVENT_SIZE);
  if (fit === 0) throw EFAULT;
  return fit;
}

function encodeEvents(events: EpollEvent[]): Uint8Array {
  const out = new Uint8Array(events.length * EVENT_SIZE);
  const v = new DataView(out.buffer);
  events.forEach((e, i) => {
    v.setUint32(i * EVENT_SIZE, e.events, true);
    v.setBigUint64(i * EVENT_SIZE + 4, e.data, true);
  });
  return out;
}

/**
 * doWait serves the epoll_wait family: it waits until events are ready,
 * the deadline passes (0) or a signal comes (EINTR, never restarted), and
 * writes the events taken.
 * Like Linux, the buffer is checked only against the address space's end
 * until there are events to write in it.
 */
async function doWait(t: Task, epfd: number, addr: number, maxevents: number, deadline: number): Promise<number> {
  if (maxevents <= 0 || maxevents > EP_MAX_EVENTS) throw EINVAL;
  if (!(addr + maxevents * EVENT_SIZE <= USER_ADDRESS_LIMIT)) throw EFAULT;
  const ep = instance(t, epfd);
  let events: EpollEvent[] = [];
  const scan: Scan = (files) => {
    files.add(ep);
    if (!ep.hasEvents(t)) return 0;
    events = ep.collect(writableEvents(t, addr, maxevents), t);
    return events.length;
  };
  // With a timeout of 0 it looks once, and at no signal.
  const n = deadline <= performance.now() ? scan(new Set()) : await waitReady(t, scan, deadline);
  t.mm.copyOut(addr, encodeEvents(events));
  return n;
}

/** interrupted makes a wait that a signal ended fail with EINTR: epoll waits are never restarted. */
function interrupted(err: unknown): never {
  throw err === ERESTARTNOHAND ? EINTR : err;
}

/** epoll_wait implements epoll_wait(2); a negative timeout waits for ever. */
export function epollWait(t: Task, a: SyscallArgs): Promise<number> {
  return doWait(t, a.int(0), a.pointer(1), a.int(2), deadlineAfter(a.int(3))).catch(interrupted);
}

/** epoll_pwait implements epoll_pwait(2): epoll_wait with a signal mask for the wait. */
export function epollPwait(t: Task, a: SyscallArgs): Promise<number> {
  const deadline = deadlineAfter(a.int(3));
  const mask = readSigmask(t, a.pointer(4), a.size(5));
  return withSigmask(t, mask, () => doWait(t, a.int(0), a.pointer(1), a.int(2), deadline)).catch(interrupted);
}

/** epoll_pwait2 implements epoll_pwait2(2): a timespec timeout (none: for ever) and a signal mask. */
export function epollPwait2(t: Task, a: SyscallArgs): Promise<number> {
  const tsp = a.pointer(3);
  const deadline = tsp === 0 ? Infinity : deadlineAfter(readTimespec(t.mm, tsp) / 1e6);
  const mask = readSigmask(t, a.pointer(4), a.size(5));
  return withSigmask(t, mask, () => doWait(t, a.int(0), a.pointer(1), a.int(2), deadline)).catch(interrupted);
}

export function register(): void {
  full(213, epollCreate, 'd');
  full(291, epollCreate1, 'x');
  full(233, epollCtl, 'd,E,d,p');
  full(232, epollWait, 'd,p,d,d');
  full(281, epollPwait, 'd,p,d,d,p,u');
  full(441, epollPwait2, 'd,p,d,p,p,u');
}
