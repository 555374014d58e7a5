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

const EMPTY = new Uint8Array(0);

/**
 * Pipe is what the ends of a pipe share: its buffers, its capacity and
 * how many ends of each kind are open.
 *
 * As on Linux, a pipe holds up to `slots` buffers of a page each (16 at
 * first: 64 KiB). A write first puts its part beyond whole pages into the
 * last buffer, if that one has room for all of it, then fills new pages.
 * So a write of at most PIPE_BUF (a page) is never split, and the pipe is
 * full when every slot holds a buffer, however little is in them. Pages
 * are charged to the sandbox's memory budget while they hold data.
 */
export class Pipe {
  readonly ino = nextPipeIno();
  readonly waiters = new Waiters();
  private readonly bufs: PipeBuffer[] = [];
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
    }
    this.waiters.notify();
  }

  /**
   * read takes up to `max` bytes, or a single packet's. An empty pipe
   * reads as end of file once no writer is left, and is EAGAIN before.
   */
  read(max: number): Uint8Array {
    if (this.bufs.length === 0) {
      if (this.writers === 0) return EMPTY;
      throw EAGAIN;
    }
    const out = new Uint8Array(Math.min(max, this.available()));
    let n = 0;
    while (n < out.length) {
      const buf = this.bufs[0];
      const chars = Math.min(buf.len, out.length - n);
      out.set(buf.page.subarray(buf.offset, buf.offset + chars), n);
      n += chars;
      buf.offset += chars;
      // A packet is read whole: what did not fit is dropped.
      buf.len = buf.packet ? 0 : buf.len - chars;
      if (buf.len === 0) {
        this.bufs.shift();
        this.budget.uncharge(PAGE_SIZE);
      }
      if (buf.packet) break;
    }
    this.waiters.notify(POLLOUT | POLLWRNORM);
    return out.subarray(0, n);
  }

  /**
   * write puts as much of data in the pipe as fits and returns how much
   * that was: EPIPE without readers, EAGAIN when nothing fits. In packet
   * mode each page written is a packet.
   */
  write(data: Uint8Array, packet: boolean): number {
    if (this.readers === 0) throw EPIPE;
    let done = 0;
    const tail = data.length % PAGE_SIZE;
    const last = this.bufs[this.bufs.length - 1];
    if (tail > 0 && last && !last.packet && last.offset + last.len + tail <= PAGE_SIZE) {
      last.page.set(data.subarray(0, tail), last.offset + last.len);
      last.len += tail;
      done = tail;
    }
    while (done < data.length && this.bufs.length < this.slots) {
      if (!this.budget.charge(PAGE_SIZE)) {
        if (done === 0) throw ENOMEM;
        break;
      }
      const len = Math.min(PAGE_SIZE, data.length - done);
      const page = new Uint8Array(PAGE_SIZE);
      page.set(data.subarray(done, done + len));
      this.bufs.push({ page, offset: 0, len, packet });
      done += len;
    }
    if (done === 0) throw EAGAIN;
    this.waiters.notify(POLLIN | POLLRDNORM);
    return done;
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

  override read(max: number): Uint8Array {
    if (!this.readable) throw EBADF;
    return this.pipe.read(max);
  }

  override write(data: Uint8Array): number {
    if (!this.writable) throw EBADF;
    return this.pipe.write(data, (this.statusFlags & O_DIRECT) !== 0);
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
