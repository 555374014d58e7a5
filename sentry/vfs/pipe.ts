// pipe.ts: pipes (pipe(7)). A pipe is a ring of page-sized buffers that
// its read ends and write ends share; its behaviour is Linux's, down to
// how writes fill pages, which decides when a pipe is full.
import { EAGAIN, EBADF, EBUSY, ENOMEM, EPIPE } from '../errno.js';
import {
  FileDescription, O_ACCMODE, O_DIRECT, O_NONBLOCK, O_RDONLY, O_WRONLY, PAGE_SIZE, PIPE_DEFAULT_SIZE,
  POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, Waiters,
  nextPipeIno, nowNs, pipeSizeFor, pipeStat, type Changed, type Stat,
} from './file.js';
import type { Budget } from './tmpfs.js';

/** PipeBuffer is one page of a pipe: its unread bytes are page[offset, offset + len). */
interface PipeBuffer {
  page: Uint8Array;
  offset: number;
  len: number;
  /** packet is true for a buffer written in packet mode (O_DIRECT): a read takes it whole, and no write is merged into it. */
  packet: boolean;
}

/**
 * Bytes are the bytes a read fills or a write takes, in order, as parts
 * that need not be contiguous: the program's memory as views of the
 * memory file (MM.runs), or a single buffer. `done` counts how many were
 * used so far; reads and writes go on from there.
 */
export class Bytes {
  readonly length: number;
  done = 0;
  /** part and offset locate `done` in the parts. */
  private part = 0;
  private offset = 0;

  constructor(private readonly parts: readonly Uint8Array[]) {
    let n = 0;
    for (const p of parts) n += p.length;
    this.length = n;
  }

  /** left is how many bytes are still to be used. */
  get left(): number {
    return this.length - this.done;
  }

  /** give copies the next n bytes into `to` at `at`. */
  give(to: Uint8Array, at: number, n: number): void {
    while (n > 0) {
      const p = this.parts[this.part];
      const k = Math.min(n, p.length - this.offset);
      to.set(p.subarray(this.offset, this.offset + k), at);
      at += k;
      n -= k;
      this.advance(k);
    }
  }

  /** take fills the next n bytes from `from` at `at`. */
  take(from: Uint8Array, at: number, n: number): void {
    while (n > 0) {
      const p = this.parts[this.part];
      const k = Math.min(n, p.length - this.offset);
      p.set(from.subarray(at, at + k), this.offset);
      at += k;
      n -= k;
      this.advance(k);
    }
  }

  /** moveTo copies the next n bytes of these into the next n of `to`. */
  moveTo(to: Bytes, n: number): void {
    while (n > 0) {
      const p = this.parts[this.part];
      const k = Math.min(n, p.length - this.offset);
      to.take(p, this.offset, k);
      n -= k;
      this.advance(k);
    }
  }

  private advance(k: number): void {
    this.done += k;
    this.offset += k;
    if (this.offset === this.parts[this.part].length && this.part < this.parts.length - 1) {
      this.part++;
      this.offset = 0;
    }
  }
}

/**
 * PipeTaker is a read that waits on an empty pipe. A write that it can
 * take whole is copied straight into it, with no stop in the pipe's pages:
 * afterwards the pipe is as Linux's would be once the reader had read that
 * write (empty). `got` is how much it took, -1 until then.
 */
export interface PipeTaker {
  readonly into: Bytes;
  got: number;
  /** ready is false while a signal is about to end the wait: the data then stays in the pipe. */
  ready(): boolean;
}

/**
 * PipeGiver is a write that waits on a full pipe. A read that makes room
 * takes the rest of it into the pipe at once, as its writer would on a
 * CPU of its own, so the next read finds it there.
 */
export interface PipeGiver {
  readonly from: Bytes;
  readonly packet: boolean;
  /** ready is false while a signal is about to end the wait: the write then stops where it is. */
  ready(): boolean;
}

/**
 * Pipe is what the ends of a pipe share: its buffers, its capacity and
 * how many ends of each kind are open.
 *
 * As on Linux, a pipe holds up to `slots` buffers of a page each (16 at
 * first: 64 KiB). A write first puts its part beyond whole pages into the
 * last buffer, if that one has room for all of it, then fills new pages.
 * So a write of at most PIPE_BUF (a page) is never split, and the pipe is
 * full when every slot holds a buffer, however little is in them. Pages
 * are charged to the sandbox's memory budget while they hold data, and
 * kept for reuse while the pipe lives.
 */
export class Pipe {
  readonly ino = nextPipeIno();
  readonly waiters = new Waiters();
  private readonly bufs: PipeBuffer[] = [];
  /** spare are emptied buffers, kept so that streaming through the pipe allocates nothing. */
  private readonly spare: PipeBuffer[] = [];
  private readonly takers: PipeTaker[] = [];
  private readonly givers: PipeGiver[] = [];
  private slots = PIPE_DEFAULT_SIZE / PAGE_SIZE;
  private readers = 0;
  private writers = 0;
  private readonly created = nowNs();

  constructor(private readonly budget: Budget) {}

  /** open counts a new end. */
  open(reads: boolean, writes: boolean): void {
    if (reads) this.readers++;
    if (writes) this.writers++;
  }

  /** close forgets an end; the other side hears of it (EOF, EPIPE). The last end frees the pages. */
  close(reads: boolean, writes: boolean): void {
    if (reads) this.readers--;
    if (writes) this.writers--;
    if (this.readers === 0 && this.writers === 0) {
      this.budget.uncharge(this.bufs.length * PAGE_SIZE);
      this.bufs.length = 0;
      this.spare.length = 0;
    }
    this.waiters.notify();
  }

  /**
   * read fills `into` with up to into.left bytes, or a single packet's,
   * and returns how many. An empty pipe reads as end of file (0) once no
   * writer is left, and is EAGAIN before.
   */
  read(into: Bytes): number {
    if (this.bufs.length === 0) {
      if (this.writers === 0) return 0;
      throw EAGAIN;
    }
    const start = into.done;
    while (into.left > 0 && this.bufs.length > 0) {
      const buf = this.bufs[0];
      const chars = Math.min(buf.len, into.left);
      into.take(buf.page, buf.offset, chars);
      buf.offset += chars;
      // A packet is read whole: what did not fit is dropped.
      buf.len = buf.packet ? 0 : buf.len - chars;
      if (buf.len === 0) this.release(this.bufs.shift()!);
      if (buf.packet) break;
    }
    if (this.givers.length > 0) this.pull();
    this.waiters.notify(POLLOUT | POLLWRNORM);
    return into.done - start;
  }

  /** pull lets waiting writes fill the room a read made, in the order they came. */
  private pull(): void {
    for (const g of [...this.givers]) {
      if (this.bufs.length >= this.slots) return;
      if (!g.ready()) continue;
      try {
        this.write(g.from, g.packet);
      } catch {
        // The writer meets the error itself when it tries again (ENOMEM).
        return;
      }
    }
  }

  /**
   * write puts as much of `from` in the pipe as fits and returns how much
   * that was: EPIPE without readers, EAGAIN when nothing fits. In packet
   * mode each page written is a packet. A waiting read that can take the
   * whole write gets it directly.
   */
  write(from: Bytes, packet: boolean): number {
    if (this.readers === 0) throw EPIPE;
    const start = from.done;
    if (!packet && this.bufs.length === 0 && this.takers.length > 0 && this.handOver(from)) return from.done - start;
    const tail = from.left % PAGE_SIZE;
    const last = this.bufs[this.bufs.length - 1];
    if (tail > 0 && last && !last.packet && last.offset + last.len + tail <= PAGE_SIZE) {
      from.give(last.page, last.offset + last.len, tail);
      last.len += tail;
    }
    while (from.left > 0 && this.bufs.length < this.slots) {
      if (!this.budget.charge(PAGE_SIZE)) {
        if (from.done === start) throw ENOMEM;
        break;
      }
      const len = Math.min(PAGE_SIZE, from.left);
      const buf = this.spare.pop() ?? { page: new Uint8Array(PAGE_SIZE), offset: 0, len: 0, packet };
      from.give(buf.page, 0, len);
      buf.offset = 0;
      buf.len = len;
      buf.packet = packet;
      this.bufs.push(buf);
    }
    if (from.done === start) throw EAGAIN;
    this.waiters.notify(POLLIN | POLLRDNORM);
    return from.done - start;
  }

  /** handOver copies all of `from` into the first waiting read that can take it; false when none can. */
  private handOver(from: Bytes): boolean {
    const n = from.left;
    if (n === 0) return false;
    const i = this.takers.findIndex((r) => r.into.left >= n && r.ready());
    if (i < 0) return false;
    const taker = this.takers[i];
    this.takers.splice(i, 1);
    from.moveTo(taker.into, n);
    taker.got = n;
    this.waiters.notify(POLLIN | POLLRDNORM);
    return true;
  }

  /** addTaker registers a read that waits on this pipe, addGiver a write; the remove methods forget them. */
  addTaker(taker: PipeTaker): void {
    this.takers.push(taker);
  }

  removeTaker(taker: PipeTaker): void {
    remove(this.takers, taker);
  }

  addGiver(giver: PipeGiver): void {
    this.givers.push(giver);
  }

  removeGiver(giver: PipeGiver): void {
    remove(this.givers, giver);
  }

  /** release gives an emptied buffer's page back to the budget and keeps it for reuse. */
  private release(buf: PipeBuffer): void {
    this.budget.uncharge(PAGE_SIZE);
    if (this.spare.length < this.slots) this.spare.push(buf);
  }

  /** available is how many bytes the pipe holds (FIONREAD). */
  available(): number {
    let n = 0;
    for (const buf of this.bufs) n += buf.len;
    return n;
  }

  /** readiness is pipe_poll's answer for an end that reads, writes, or both. */
  readiness(reads: boolean, writes: boolean): number {
    let mask = 0;
    if (reads) {
      if (this.bufs.length > 0) mask |= POLLIN | POLLRDNORM;
      if (this.writers === 0) mask |= POLLHUP;
    }
    if (writes) {
      if (this.bufs.length < this.slots) mask |= POLLOUT | POLLWRNORM;
      if (this.readers === 0) mask |= POLLERR;
    }
    return mask;
  }

  /** size is the capacity in bytes (F_GETPIPE_SZ). */
  get size(): number {
    return this.slots * PAGE_SIZE;
  }

  /** resize sets the capacity as F_SETPIPE_SZ does: EBUSY when the buffers in use would not fit. */
  resize(arg: number): number {
    const size = pipeSizeFor(arg);
    if (this.bufs.length > size / PAGE_SIZE) throw EBUSY;
    this.slots = size / PAGE_SIZE;
    this.spare.length = Math.min(this.spare.length, this.slots);
    this.waiters.notify();
    return size;
  }

  /** stat is the pipe's inode; Linux leaves a pipe's times as they were at its creation. */
  stat(): Stat {
    return pipeStat(this.ino, { atimeNs: this.created, mtimeNs: this.created, ctimeNs: this.created });
  }
}

/**
 * PipeEnd is an open end of a pipe: a description that reads it, writes
 * it, or both (a FIFO opened O_RDWR). Its O_DIRECT flag makes its writes
 * packets.
 */
export class PipeEnd extends FileDescription {
  constructor(readonly pipe: Pipe, flags: number) {
    super(flags & O_ACCMODE);
    this.statusFlags = flags;
    pipe.open(this.readable, this.writable);
  }

  /** readTo reads into `into` (see Pipe.read). */
  readTo(into: Bytes): number {
    if (!this.readable) throw EBADF;
    return this.pipe.read(into);
  }

  /** writeFrom writes from `from` (see Pipe.write). */
  writeFrom(from: Bytes): number {
    if (!this.writable) throw EBADF;
    return this.pipe.write(from, this.packets);
  }

  /** packets is true when the end's writes are packets (O_DIRECT). */
  get packets(): boolean {
    return (this.statusFlags & O_DIRECT) !== 0;
  }

  override read(max: number): Uint8Array {
    const out = new Uint8Array(Math.min(max, this.pipe.available()));
    return out.subarray(0, this.readTo(new Bytes([out])));
  }

  override write(data: Uint8Array): number {
    return this.writeFrom(new Bytes([data]));
  }

  override readiness(): number {
    return this.pipe.readiness(this.readable, this.writable);
  }

  override watch(changed: Changed): () => void {
    return this.pipe.waiters.add(changed);
  }

  override get pollable(): boolean {
    return true;
  }

  override available(): number {
    return this.pipe.available();
  }

  override pipeSize(): number {
    return this.pipe.size;
  }

  override setPipeSize(arg: number): number {
    return this.pipe.resize(arg);
  }

  override procLink(): string {
    return `pipe:[${this.pipe.ino}]`;
  }

  override release(): void {
    this.pipe.close(this.readable, this.writable);
  }

  stat(): Stat {
    return this.pipe.stat();
  }
}

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

/**
 * newPipe makes a pipe and its two ends, as pipe2 does: both take
 * O_NONBLOCK, only the write end O_DIRECT. Its pages count against budget.
 */
export function newPipe(budget: Budget, flags: number): [PipeEnd, PipeEnd] {
  const pipe = new Pipe(budget);
  return [
    new PipeEnd(pipe, O_RDONLY | (flags & O_NONBLOCK)),
    new PipeEnd(pipe, O_WRONLY | (flags & (O_NONBLOCK | O_DIRECT))),
  ];
}
