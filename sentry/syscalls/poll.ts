// poll.ts: poll, ppoll, select and pselect6: waiting until files are
// ready, a timeout passes or a signal comes.
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full } from './table.js';
import { EFAULT, ERESTARTNOHAND, EINVAL } from '../errno.js';
import { SIGKILL, SIGSTOP, SigSet } from '../kernel/signals.js';
import {
  MAX_FDS, O_PATH, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM,
  type FileDescription,
} from '../vfs/file.js';
import { readTimespec } from './util.js';
import { holdEventLoop } from './blocking.js';

/** MAX_TIMER_MS is the longest setTimeout; a longer wait takes several. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What select counts as readable, writable and exceptional (Linux's POLLIN_SET, POLLOUT_SET, POLLEX_SET). */
const SELECT_IN = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
const SELECT_OUT = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
const SELECT_EX = POLLPRI;

/**
 * Scan looks at the files once: it returns how many are ready and adds
 * those to watch to `files`.
 */
export type Scan = (files: Set<FileDescription>) => number;

/**
 * waitReady scans until files are ready (their count), a signal is
 * pending (EINTR) or the deadline, in performance.now() milliseconds,
 * has passed (0), in that order, as Linux's do_poll checks them. Between
 * scans it sleeps until a file it watched changes, a signal comes or the
 * deadline. The scan and the watching happen with no await between them,
 * so no change goes unseen; the timer never outlives the call.
 */
export async function waitReady(t: Task, scan: Scan, deadline: number): Promise<number> {
  for (;;) {
    const files = new Set<FileDescription>();
    const ready = scan(files);
    if (ready > 0) return ready;
    if (t.hasDeliverable()) throw ERESTARTNOHAND;
    const left = deadline - performance.now();
    if (left <= 0) return 0;
    let wake!: (woken: boolean) => void;
    const woken = new Promise<boolean>((resolve) => {
      wake = resolve;
    });
    const changed = () => wake(true);
    const unwatch = [...files].map((f) => f.watch(changed, t));
    const timer = left === Infinity ? undefined : setTimeout(changed, Math.min(Math.ceil(left), MAX_TIMER_MS));
    const letGo = holdEventLoop();
    try {
      if ((await t.sleepOn(woken)) === undefined) throw ERESTARTNOHAND;
    } finally {
      for (const u of unwatch) u();
      clearTimeout(timer);
      letGo();
      wake(false);
    }
  }
}

/** deadlineAfter is the deadline `ms` milliseconds from now; a negative ms waits forever. */
export function deadlineAfter(ms: number): number {
  return ms < 0 ? Infinity : performance.now() + ms;
}

/** remainingNs is what is left of a deadline, never negative. */
function remainingNs(deadline: number): number {
  return Math.max(0, Math.round((deadline - performance.now()) * 1e6));
}

/**
 * writeRemaining writes back the time left before the deadline, as
 * timeval (select) or timespec (ppoll, pselect6), unless the timeout was
 * zero. Like Linux, a timeout that cannot be written back leaves the
 * result alone.
 */
function writeRemaining(t: Task, addr: number, deadline: number, zero: boolean, timeval: boolean): void {
  if (zero) return;
  const ns = remainingNs(deadline);
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, BigInt(Math.floor(ns / 1e9)), true);
  v.setBigInt64(8, BigInt(timeval ? Math.floor((ns % 1e9) / 1000) : ns % 1e9), true);
  try {
    t.mm.copyOut(addr, b);
  } catch (err) {
    if (err !== EFAULT) throw err;
  }
}

/**
 * readSigmask reads the signal mask of ppoll and pselect6 (none at 0):
 * EINVAL unless it is sigsetsize 8 bytes. SIGKILL and SIGSTOP stay open.
 */
export function readSigmask(t: Task, addr: number, sigsetsize: number): SigSet | undefined {
  if (addr === 0) return undefined;
  if (sigsetsize !== 8) throw EINVAL;
  const bits = t.mm.readI64(addr);
  const mask = new SigSet();
  mask.lo = Number(BigInt.asUintN(32, bits));
  mask.hi = Number(BigInt.asUintN(32, bits >> 32n));
  mask.delete(SIGKILL);
  mask.delete(SIGSTOP);
  return mask;
}

/**
 * withSigmask runs `call` with `mask` as the task's signal mask, when
 * there is one. The task's own mask comes back as the call returns,
 * unless a signal interrupted it: then once the signals the temporary
 * mask let through are delivered (SignalState.savedMask).
 */
export async function withSigmask(t: Task, mask: SigSet | undefined, call: () => Promise<number>): Promise<number> {
  if (!mask) return call();
  const own = t.mask;
  t.mask = mask;
  let interrupted = false;
  try {
    return await call();
  } catch (err) {
    interrupted = err === ERESTARTNOHAND;
    throw err;
  } finally {
    if (interrupted) t.signals.savedMask = own;
    else t.mask = own;
  }
}

/** pollEvents is one pollfd's revents. */
function pollEvents(t: Task, fd: number, events: number, files: Set<FileDescription>): number {
  if (fd < 0) return 0;
  let f: FileDescription;
  try {
    f = t.fds.get(fd);
  } catch {
    return POLLNVAL;
  }
  // poll does not see O_PATH descriptors (select does).
  if (f.statusFlags & O_PATH) return POLLNVAL;
  files.add(f);
  return f.readiness(t) & (events | POLLERR | POLLHUP);
}

/**
 * doPoll serves poll and ppoll: nfds struct pollfd at addr. Every
 * revents is written back, whatever the outcome.
 */
async function doPoll(t: Task, addr: number, nfds: number, deadline: number): Promise<number> {
  // RLIMIT_NOFILE bounds nfds.
  if (nfds > MAX_FDS) throw EINVAL;
  const raw = t.mm.copyIn(addr, nfds * 8);
  const v = new DataView(raw.buffer);
  const scan: Scan = (files) => {
    let ready = 0;
    for (let i = 0; i < nfds; i++) {
      const revents = pollEvents(t, v.getInt32(i * 8, true), v.getUint16(i * 8 + 4, true), files);
      v.setUint16(i * 8 + 6, revents, true);
      if (revents) ready++;
    }
    return ready;
  };
  try {
    return await waitReady(t, scan, deadline);
  } finally {
    t.mm.copyOut(addr, raw);
  }
}

/** poll implements poll(2). */
export function poll(t: Task, a: SyscallArgs): Promise<number> {
  return doPoll(t, a.pointer(0), a.uint(1), deadlineAfter(a.int(2)));
}

/** ppoll implements ppoll(2): a timespec timeout, written back with what is left, and a signal mask. */
export async function ppoll(t: Task, a: SyscallArgs): Promise<number> {
  const tsp = a.pointer(2);
  const ns = tsp === 0 ? -1 : readTimespec(t.mm, tsp);
  const deadline = deadlineAfter(ns / 1e6);
  const mask = readSigmask(t, a.pointer(3), a.size(4));
  try {
    return await withSigmask(t, mask, () => doPoll(t, a.pointer(0), a.uint(1), deadline));
  } finally {
    if (tsp !== 0) writeRemaining(t, tsp, deadline, ns === 0, false);
  }
}

/** fdSetBytes is the size of the part of an fd_set that covers n fds. */
function fdSetBytes(n: number): number {
  return Math.ceil(n / 64) * 8;
}

function hasFd(set: Uint8Array, fd: number): boolean {
  return (set[fd >> 3] & (1 << (fd & 7))) !== 0;
}

/**
 * doSelect serves select and pselect6: three fd_sets of n bits at inp,
 * outp and exp (0 for none). Like Linux, it reads no further than the fd
 * table's size; every fd named must be open (EBADF). The sets are written
 * back when it returns, not when a signal interrupts it.
 */
async function doSelect(t: Task, n: number, addrs: number[], deadline: number): Promise<number> {
  if (n < 0) throw EINVAL;
  n = Math.min(n, t.fds.size);
  const bytes = fdSetBytes(n);
  const sets = addrs.map((addr) => (addr === 0 ? new Uint8Array(bytes) : t.mm.copyIn(addr, bytes)));
  const named: { fd: number; file: FileDescription }[] = [];
  for (let fd = 0; fd < n; fd++) {
    if (sets.some((s) => hasFd(s, fd))) named.push({ fd, file: t.fds.get(fd) });
  }
  const results = sets.map(() => new Uint8Array(bytes));
  const scan: Scan = (files) => {
    let ready = 0;
    for (const r of results) r.fill(0);
    for (const { fd, file } of named) {
      files.add(file);
      const mask = file.readiness(t);
      [SELECT_IN, SELECT_OUT, SELECT_EX].forEach((wanted, i) => {
        if (!hasFd(sets[i], fd) || !(mask & wanted)) return;
        results[i][fd >> 3] |= 1 << (fd & 7);
        ready++;
      });
    }
    return ready;
  };
  const ready = await waitReady(t, scan, deadline);
  addrs.forEach((addr, i) => {
    if (addr !== 0) t.mm.copyOut(addr, results[i]);
  });
  return ready;
}

/**
 * readTimeval reads select's struct timeval as nanoseconds, carrying
 * whole seconds out of tv_usec as Linux does; EINVAL when negative.
 */
function readTimeval(t: Task, addr: number): number {
  const v = new DataView(t.mm.copyIn(addr, 16).buffer);
  const usec = v.getBigInt64(8, true);
  const sec = v.getBigInt64(0, true) + usec / 1_000_000n;
  const nsec = (usec % 1_000_000n) * 1000n;
  if (sec < 0n || nsec < 0n) throw EINVAL;
  return Number(sec) * 1e9 + Number(nsec);
}

/** select implements select(2), writing back the time left. */
export async function select(t: Task, a: SyscallArgs): Promise<number> {
  const tvp = a.pointer(4);
  const ns = tvp === 0 ? -1 : readTimeval(t, tvp);
  const deadline = deadlineAfter(ns / 1e6);
  try {
    return await doSelect(t, a.int(0), [a.pointer(1), a.pointer(2), a.pointer(3)], deadline);
  } finally {
    if (tvp !== 0) writeRemaining(t, tvp, deadline, ns === 0, true);
  }
}

/** pselect6 implements pselect6(2): a timespec timeout, written back, and a signal mask passed as {mask, size}. */
export async function pselect6(t: Task, a: SyscallArgs): Promise<number> {
  const sig = a.pointer(5);
  const [maskAddr, maskSize] = sig === 0 ? [0, 0] : [t.mm.readU64(sig), t.mm.readU64(sig + 8)];
  const tsp = a.pointer(4);
  const ns = tsp === 0 ? -1 : readTimespec(t.mm, tsp);
  const deadline = deadlineAfter(ns / 1e6);
  const mask = readSigmask(t, maskAddr, maskSize);
  try {
    return await withSigmask(t, mask, () => doSelect(t, a.int(0), [a.pointer(1), a.pointer(2), a.pointer(3)], deadline));
  } finally {
    if (tsp !== 0) writeRemaining(t, tsp, deadline, ns === 0, false);
  }
}

export function register(): void {
  full(7, poll, 'p,u,d');
  full(271, ppoll, 'p,u,p,p,u');
  full(23, select, 'd,p,p,p,p');
  full(270, pselect6, 'd,p,p,p,p,p');
}
