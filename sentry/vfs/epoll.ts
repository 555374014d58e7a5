// epoll.ts: epoll(7) instances. An instance keeps an interest list (a
// file and the fd it was added by, the events asked for, the user's data)
// and a ready list, in the order files became ready, as Linux's rdllist.
// Readiness is what the file's readiness() says, the same answer poll
// gets; a file's wake-ups (watch) put its interests on the ready list,
// and epoll_wait asks each listed file again. A level-triggered interest
// that is still ready goes back to the end of the list; an edge-triggered
// one waits for the file's next wake-up; a one-shot one is disabled until
// EPOLL_CTL_MOD. When a description goes (closed in every fd table),
// every instance drops its interests in it.
import { EEXIST, EINVAL, ELOOP, ENOENT } from '../errno.js';
import { POLLIN, POLLRDNORM, type FileDescription } from './file.js';
import { AnonFile } from './anon.js';
import type { Task } from '../kernel/task.js';

export const EPOLLIN = 0x1, EPOLLOUT = 0x4, EPOLLERR = 0x8, EPOLLHUP = 0x10;
export const EPOLLEXCLUSIVE = 1 << 28, EPOLLWAKEUP = 1 << 29, EPOLLONESHOT = 1 << 30, EPOLLET = 2 ** 31;
/** EP_PRIVATE_BITS are the flags of an interest, not events. */
const EP_PRIVATE_BITS = (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE) >>> 0;
/** EXCLUSIVE_OK are the only events EPOLLEXCLUSIVE may come with. */
const EXCLUSIVE_OK = (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE) >>> 0;

/** Interest is one entry of the interest list. */
interface Interest {
  file: FileDescription;
  fd: number;
  /** events are the events asked for (EPOLLERR and EPOLLHUP always) and the flags; none once a one-shot fired. */
  events: number;
  data: bigint;
  /** forget stops watching the file. */
  forget: () => void;
}

/** EpollEvent is one struct epoll_event that epoll_wait reports. */
export interface EpollEvent {
  events: number;
  data: bigint;
}

export class EpollInstance extends AnonFile {
  /** interests are keyed by file, then by fd (a dup'ed fd is a separate interest). */
  private readonly interests = new Map<FileDescription, Map<number, Interest>>();
  private readonly ready = new Set<Interest>();

  constructor(statusFlags: number) {
    super('eventpoll', statusFlags);
  }

  private find(file: FileDescription, fd: number): Interest | undefined {
    return this.interests.get(file)?.get(fd);
  }

  /** reaches is true when this instance watches `target`, directly or through nested instances. */
  private reaches(target: EpollInstance, seen = new Set<EpollInstance>()): boolean {
    if (this === target) return true;
    if (seen.has(this)) return false;
    seen.add(this);
    for (const file of this.interests.keys()) if (file instanceof EpollInstance && file.reaches(target, seen)) return true;
    return false;
  }

  /** revents is what an interest's file reports now, of the events asked for. */
  private revents(it: Interest, caller: Task | undefined): number {
    return it.file.readiness(caller) & it.events & ~EP_PRIVATE_BITS;
  }

  /** link puts the interest on the ready list (at its end, unless it is there) and wakes the waiters. */
  private link(it: Interest): void {
    this.ready.add(it);
    this.waiters.notify(POLLIN | POLLRDNORM);
  }

  /**
   * add implements EPOLL_CTL_ADD: EEXIST for a file and fd already in,
   * ELOOP for an instance that watches this one, EINVAL for EPOLLEXCLUSIVE
   * on an instance or with other events. `caller` is the task whose view
   * the file is watched in (a signalfd's signals).
   */
  add(file: FileDescription, fd: number, events: number, data: bigint, caller: Task): void {
    if (events & EPOLLEXCLUSIVE && (file instanceof EpollInstance || events & ~EXCLUSIVE_OK)) throw EINVAL;
    if (file instanceof EpollInstance && file.reaches(this)) throw ELOOP;
    if (this.find(file, fd)) throw EEXIST;
    const it: Interest = { file, fd, events: (events | EPOLLERR | EPOLLHUP) >>> 0, data, forget: () => {} };
    const unwatch = file.watch((key) => {
      // A disabled one-shot, or a wake-up for events it does not ask for, is no news.
      if (it.events & ~EP_PRIVATE_BITS && key & it.events) this.link(it);
    }, caller);
    const unhook = file.onRelease(() => this.drop(it));
    it.forget = () => {
      unwatch();
      unhook();
    };
    let byFd = this.interests.get(file);
    if (!byFd) this.interests.set(file, (byFd = new Map()));
    byFd.set(fd, it);
    if (this.revents(it, caller)) this.link(it);
  }

  /** modify implements EPOLL_CTL_MOD: ENOENT when absent, EINVAL for an EPOLLEXCLUSIVE interest or flag. */
  modify(file: FileDescription, fd: number, events: number, data: bigint, caller: Task): void {
    const it = this.find(file, fd);
    if (!it) throw ENOENT;
    if (events & EPOLLEXCLUSIVE || it.events & EPOLLEXCLUSIVE) throw EINVAL;
    it.events = (events | EPOLLERR | EPOLLHUP) >>> 0;
    it.data = data;
    if (this.revents(it, caller)) this.link(it);
  }

  /** remove implements EPOLL_CTL_DEL: ENOENT when absent. */
  remove(file: FileDescription, fd: number): void {
    const it = this.find(file, fd);
    if (!it) throw ENOENT;
    this.drop(it);
  }

  private drop(it: Interest): void {
    it.forget();
    this.ready.delete(it);
    const byFd = this.interests.get(it.file);
    byFd?.delete(it.fd);
    if (byFd?.size === 0) this.interests.delete(it.file);
  }

  /**
   * hasEvents is true when an interest on the ready list is ready;
   * interests listed that are not are taken off, as ep_read_events_proc
   * does.
   */
  hasEvents(caller: Task | undefined): boolean {
    for (const it of this.ready) {
      if (this.revents(it, caller)) return true;
      this.ready.delete(it);
    }
    return false;
  }

  /** collect takes up to max events off the ready list, as ep_send_events does. */
  collect(max: number, caller: Task): EpollEvent[] {
    const out: EpollEvent[] = [];
    const again: Interest[] = [];
    for (const it of this.ready) {
      if (out.length >= max) break;
      this.ready.delete(it);
      const events = this.revents(it, caller);
      if (!events) continue;
      out.push({ events, data: it.data });
      if (it.events & EPOLLONESHOT) it.events &= EP_PRIVATE_BITS;
      else if (!(it.events & EPOLLET)) again.push(it);
    }
    for (const it of again) this.ready.add(it);
    return out;
  }

  /** readiness is readable while an event waits, for poll or an instance that watches this one. */
  override readiness(caller?: Task): number {
    return this.hasEvents(caller) ? POLLIN | POLLRDNORM : 0;
  }

  override release(): void {
    for (const byFd of this.interests.values()) for (const it of byFd.values()) it.forget();
    this.interests.clear();
    this.ready.clear();
  }
}
