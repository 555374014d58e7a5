// blocking.ts: reads and writes that wait. A file that would block throws
// EAGAIN (see FileDescription); the system call then returns EAGAIN if
// the description is O_NONBLOCK, or waits until the file is ready and
// tries again. A signal ends the wait with EINTR; nothing is lost, since
// the file did nothing while it said EAGAIN.
import type { Task } from '../kernel/task.js';
import { EAGAIN, ERESTARTSYS, EPIPE } from '../errno.js';
import { SIGPIPE } from '../kernel/signals.js';
import { O_NONBLOCK, POLLERR, POLLHUP, POLLIN, POLLOUT, type Changed, type FileDescription } from '../vfs/file.js';
import type { Bytes, PipeEnd, PipeGiver, PipeTaker } from '../vfs/pipe.js';
import { send } from './signal.js';

/** READABLE and WRITABLE are the events after which a read or a write may go further. */
export const READABLE = POLLIN | POLLHUP | POLLERR;
const WRITABLE = POLLOUT | POLLERR;

/** mustWait says whether err from f means "wait, then try again". */
function mustWait(f: FileDescription, err: unknown): boolean {
  return err === EAGAIN && !(f.statusFlags & O_NONBLOCK);
}

let waiting = 0;
let keepAlive: NodeJS.Timeout | undefined;

/**
 * holdEventLoop keeps Node running while a task waits for a file, and
 * returns the function that lets go. Nothing else may be pending then
 * (a pipe that only the waiting task could fill), and a program that
 * waits must not end as if it had exited; --timeout, Ctrl-C and kill()
 * still end it.
 */
export function holdEventLoop(): () => void {
  if (waiting++ === 0) keepAlive = setInterval(() => {}, 2 ** 31 - 1);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (--waiting === 0) clearInterval(keepAlive);
  };
}

/** Watchable is what a wait can watch: a file, or the parts of several (a socket and its receiver). */
export interface Watchable {
  watch(changed: Changed, caller?: Task): () => void;
}

/**
 * waitUntil waits until `ready()` holds, asking again each time f says
 * its readiness may have changed; EINTR when a signal comes first.
 */
export async function waitUntil(t: Task, f: Watchable, ready: () => boolean): Promise<void> {
  if (ready()) return;
  let settle!: (ready: boolean) => void;
  const done = new Promise<boolean>((resolve) => {
    settle = resolve;
  });
  const unwatch = f.watch(() => {
    if (ready()) settle(true);
  }, t);
  const letGo = holdEventLoop();
  try {
    if ((await t.sleepOn(done)) === undefined) throw ERESTARTSYS;
  } finally {
    unwatch();
    letGo();
    // Settled, the promise no longer holds the task's waker.
    settle(false);
  }
}

/**
 * waitFor waits until f is ready for one of `events`, or `done` says the
 * wait is over; EINTR when a signal comes first.
 */
export function waitFor(t: Task, f: FileDescription, events: number, done?: () => boolean): Promise<void> {
  return waitUntil(t, f, () => done?.() === true || (f.readiness(t) & events) !== 0);
}

/** interruptibly waits for p, or fails with EINTR when a signal comes first. */
async function interruptibly<T>(t: Task, p: Promise<T>): Promise<T> {
  const v = await t.interruptible(p);
  if (v === undefined) throw ERESTARTSYS;
  return v;
}

/**
 * readBlocking reads up to `max` bytes from f as read(2) does: while a
 * read would block, it waits (EAGAIN for an O_NONBLOCK description).
 * A read that waits for a filesystem ends with EINTR on a signal too.
 */
export function readBlocking(t: Task, f: FileDescription, max: number): Uint8Array | Promise<Uint8Array> {
  try {
    const got = f.read(max, t);
    return got instanceof Promise ? interruptibly(t, got) : got;
  } catch (err) {
    if (!mustWait(f, err)) throw err;
  }
  return readAfterWaits(t, f, max);
}

async function readAfterWaits(t: Task, f: FileDescription, max: number): Promise<Uint8Array> {
  for (;;) {
    await waitFor(t, f, READABLE);
    try {
      return await f.read(max, t);
    } catch (err) {
      if (!mustWait(f, err)) throw err;
    }
  }
}

/**
 * readPipe reads from a pipe's end into `into` (the program's memory) as
 * read(2) does. While the pipe is empty, the read waits as a taker: a
 * write it can take whole is copied straight into it (Pipe.write).
 */
export function readPipe(t: Task, f: PipeEnd, into: Bytes): number | Promise<number> {
  try {
    return f.readTo(into);
  } catch (err) {
    if (!mustWait(f, err)) throw err;
  }
  return readPipeAfterWaits(t, f, into);
}

async function readPipeAfterWaits(t: Task, f: PipeEnd, into: Bytes): Promise<number> {
  // A pending signal keeps writes out, so that they stay in the pipe for whoever reads next.
  const taker: PipeTaker = { into, got: -1, ready: () => !t.hasDeliverable() };
  for (;;) {
    f.pipe.addTaker(taker);
    try {
      await waitFor(t, f, READABLE, () => taker.got >= 0);
    } catch (err) {
      // A write taken before the signal came is this read's result.
      if (taker.got >= 0) return taker.got;
      throw err;
    } finally {
      f.pipe.removeTaker(taker);
    }
    if (taker.got >= 0) return taker.got;
    try {
      return f.readTo(into);
    } catch (err) {
      if (!mustWait(f, err)) throw err;
    }
  }
}

/**
 * untilDone runs op until it does not fail with EAGAIN, as a call on a
 * file that would block does: with `nonblock` the EAGAIN is the result,
 * else it runs `wait` (which a signal ends with EINTR) and tries again.
 */
export function untilDone<T>(op: () => T, nonblock: boolean, wait: () => Promise<void>): T | Promise<T> {
  try {
    return op();
  } catch (err) {
    if (err !== EAGAIN || nonblock) throw err;
  }
  return retry(op, wait);
}

async function retry<T>(op: () => T, wait: () => Promise<void>): Promise<T> {
  for (;;) {
    await wait();
    try {
      return op();
    } catch (err) {
      if (err !== EAGAIN) throw err;
    }
  }
}

/** WriteOptions change how writeBlocking writes. */
export interface WriteOptions {
  /** partial: return once something is written (sendfile into a pipe), not once all is. */
  partial?: boolean;
  /** nonblock: EAGAIN rather than a wait, whatever O_NONBLOCK says (MSG_DONTWAIT). */
  nonblock?: boolean;
  /** noSignal: an EPIPE sends no SIGPIPE (MSG_NOSIGNAL). */
  noSignal?: boolean;
  /** write writes one part of the data, `first` the part it starts with (sendmsg's ancillary data goes with it); f.write by default. */
  write?: (part: Uint8Array, first: boolean) => number | Promise<number>;
}

/** brokenPipe sends SIGPIPE for an EPIPE, as a write to a pipe without readers does, and returns err. */
function brokenPipe(t: Task, f: FileDescription, err: unknown, opts: WriteOptions): unknown {
  if (err === EPIPE && f.brokenPipeSignals && !opts.noSignal) send(t, SIGPIPE);
  return err;
}

/**
 * writeBlocking writes data to f as write(2) does. While the file would
 * block it waits and goes on with the rest; an O_NONBLOCK description
 * returns what fitted, or EAGAIN. A signal ends the wait: the call
 * returns what it wrote, or EINTR. Writing to a pipe without readers
 * fails with EPIPE and sends the writer SIGPIPE, after a part too.
 * A file that takes records (f.recordWrites) is written once.
 */
export function writeBlocking(t: Task, f: FileDescription, data: Uint8Array, opts: WriteOptions = {}): number | Promise<number> {
  const write = opts.write ?? ((part: Uint8Array) => f.write(part, t));
  const nonblock = opts.nonblock ?? (f.statusFlags & O_NONBLOCK) !== 0;
  let done: number;
  try {
    const r = write(data, true);
    if (r instanceof Promise) return r.catch((err: unknown) => Promise.reject(brokenPipe(t, f, err, opts)));
    done = r;
  } catch (err) {
    if (err !== EAGAIN || nonblock) throw brokenPipe(t, f, err, opts);
    done = 0;
  }
  if (done === data.length || (done > 0 && (opts.partial || f.recordWrites || nonblock))) return done;
  return writeRest(t, f, data, done, opts, write);
}

async function writeRest(
  t: Task, f: FileDescription, data: Uint8Array, done: number, opts: WriteOptions, write: NonNullable<WriteOptions['write']>,
): Promise<number> {
  while (done < data.length && (!opts.partial || done === 0)) {
    try {
      const n = await write(data.subarray(done), done === 0);
      if (n === 0) return done;
      done += n;
      if (f.recordWrites) return done;
      continue;
    } catch (err) {
      if (err !== EAGAIN) {
        brokenPipe(t, f, err, opts);
        if (done > 0) return done;
        throw err;
      }
    }
    try {
      await waitFor(t, f, WRITABLE);
    } catch (err) {
      if (done > 0) return done;
      throw err;
    }
  }
  return done;
}

/**
 * writePipe writes `from` (the program's memory) to a pipe's end as
 * write(2) does (see writeBlocking). While the pipe is full, the write
 * waits as a giver: a read that makes room takes the rest of it into the
 * pipe at once, as a writer on a CPU of its own would (Pipe.read).
 */
export function writePipe(t: Task, f: PipeEnd, from: Bytes): number | Promise<number> {
  try {
    f.writeFrom(from);
  } catch (err) {
    if (!mustWait(f, err)) throw brokenPipe(t, f, err, {});
  }
  if (from.left === 0 || (from.done > 0 && f.statusFlags & O_NONBLOCK)) return from.done;
  return writePipeRest(t, f, from);
}

async function writePipeRest(t: Task, f: PipeEnd, from: Bytes): Promise<number> {
  const giver: PipeGiver = { from, packet: f.packets, ready: () => !t.hasDeliverable() };
  while (from.left > 0) {
    f.pipe.addGiver(giver);
    try {
      await waitFor(t, f, WRITABLE, () => from.left === 0);
    } catch (err) {
      if (from.done > 0) return from.done;
      throw err;
    } finally {
      f.pipe.removeGiver(giver);
    }
    if (from.left === 0) break;
    try {
      f.writeFrom(from);
    } catch (err) {
      if (!mustWait(f, err)) {
        brokenPipe(t, f, err, {});
        if (from.done > 0) return from.done;
        throw err;
      }
    }
  }
  return from.done;
}
