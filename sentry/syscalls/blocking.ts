// blocking.ts: reads and writes that wait. A file that would block throws
// EAGAIN (see FileDescription); the system call then returns EAGAIN if
// the description is O_NONBLOCK, or waits until the file is ready and
// tries again. A signal ends the wait with EINTR; nothing is lost, since
// the file did nothing while it said EAGAIN.
import type { Task } from '../kernel/task.js';
import { EAGAIN, ERESTARTSYS, EPIPE } from '../errno.js';
import { SIGPIPE } from '../kernel/signals.js';
import { O_NONBLOCK, POLLERR, POLLHUP, POLLIN, POLLOUT, type FileDescription } from '../vfs/file.js';
import type { Bytes, PipeEnd, PipeGiver, PipeTaker } from '../vfs/pipe.js';
import { send } from './signal.js';

/** READABLE and WRITABLE are the events after which a read or a write may go further. */
const READABLE = POLLIN | POLLHUP | POLLERR;
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

/**
 * waitFor waits until f is ready for one of `events`, or `done` says the
 * wait is over; EINTR when a signal comes first.
 */
export async function waitFor(t: Task, f: FileDescription, events: number, done?: () => boolean): Promise<void> {
  if (done?.() || f.readiness() & events) return;
  let settle!: (ready: boolean) => void;
  const ready = new Promise<boolean>((resolve) => {
    settle = resolve;
  });
  const unwatch = f.watch(() => {
    if (done?.() || f.readiness() & events) settle(true);
  });
  const letGo = holdEventLoop();
  try {
    if ((await t.sleepOn(ready)) === undefined) throw ERESTARTSYS;
  } finally {
    unwatch();
    letGo();
    // Settled, the promise no longer holds the task's waker.
    settle(false);
  }
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
    const got = f.read(max);
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
      return await f.read(max);
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

/** brokenPipe sends SIGPIPE for an EPIPE, as a write to a pipe without readers does, and returns err. */
function brokenPipe(t: Task, err: unknown): unknown {
  if (err === EPIPE) send(t, SIGPIPE);
  return err;
}

/**
 * writeBlocking writes data to f as write(2) does. While the file would
 * block it waits and goes on with the rest; an O_NONBLOCK description
 * returns what fitted, or EAGAIN. A signal ends the wait: the call
 * returns what it wrote, or EINTR. Writing to a pipe without readers
 * fails with EPIPE and sends the writer SIGPIPE, after a part too.
 * With `all` false it waits only until it can write something, as
 * sendfile into a pipe does, and returns what fitted then.
 */
export function writeBlocking(t: Task, f: FileDescription, data: Uint8Array, all = true): number | Promise<number> {
  let done: number;
  try {
    const r = f.write(data);
    if (r instanceof Promise) return r.catch((err: unknown) => Promise.reject(brokenPipe(t, err)));
    done = r;
  } catch (err) {
    if (!mustWait(f, err)) throw brokenPipe(t, err);
    done = 0;
  }
  if (done === data.length || (done > 0 && (!all || f.statusFlags & O_NONBLOCK))) return done;
  return writeRest(t, f, data, done, all);
}

async function writeRest(t: Task, f: FileDescription, data: Uint8Array, done: number, all: boolean): Promise<number> {
  while (done < data.length && (all || done === 0)) {
    try {
      const n = await f.write(data.subarray(done));
      if (n === 0) return done;
      done += n;
      continue;
    } catch (err) {
      if (!mustWait(f, err)) {
        brokenPipe(t, err);
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
    if (!mustWait(f, err)) throw brokenPipe(t, err);
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
        brokenPipe(t, err);
        if (from.done > 0) return from.done;
        throw err;
      }
    }
  }
  return from.done;
}
