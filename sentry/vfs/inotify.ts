// inotify.ts: inotify(7) instances. Watches are kept as Linux keeps them
// (one watch descriptor per inode and instance, masks combined or
// replaced), but no file change is reported: the Sentry's filesystems do
// not tell of changes yet. What an instance does report is what it makes
// itself: IN_IGNORED when a watch is removed. A program that waits for
// events waits, as it would on a quiet tree.
import { EAGAIN, EEXIST, EINVAL } from '../errno.js';
import { O_RDONLY, POLLIN } from './file.js';
import { AnonFile } from './anon.js';

/** IN_IGNORED is the event of a removed watch. */
const IN_IGNORED = 0x8000;
/** EVENT_SIZE is struct inotify_event without a name. */
const EVENT_SIZE = 16;

export const IN_ALL_EVENTS = 0xfff, IN_ONLYDIR = 0x01000000, IN_DONT_FOLLOW = 0x02000000, IN_EXCL_UNLINK = 0x04000000,
  IN_MASK_CREATE = 0x10000000, IN_MASK_ADD = 0x20000000, IN_ONESHOT = 0x80000000;
/** WATCH_FLAGS are the flags a watch keeps beside its events. */
const WATCH_FLAGS = IN_EXCL_UNLINK | IN_ONESHOT;

interface Watch {
  wd: number;
  mask: number;
}

export class Inotify extends AnonFile {
  /** watches maps an inode ("dev:ino") to its watch. */
  private readonly watches = new Map<string, Watch>();
  private nextWd = 1;
  /** events are the queued events, each with no name: wd and mask. */
  private readonly events: [number, number][] = [];

  constructor(statusFlags: number) {
    super('inotify', statusFlags, O_RDONLY);
  }

  /** add implements inotify_add_watch for the inode `key`: the inode's watch descriptor, new or updated. */
  add(key: string, mask: number): number {
    const w = this.watches.get(key);
    const kept = mask & (IN_ALL_EVENTS | WATCH_FLAGS);
    if (!w) {
      const wd = this.nextWd++;
      this.watches.set(key, { wd, mask: kept });
      return wd;
    }
    if (mask & IN_MASK_CREATE) throw EEXIST;
    w.mask = mask & IN_MASK_ADD ? w.mask | kept : kept;
    return w.wd;
  }

  /** remove implements inotify_rm_watch: EINVAL for a descriptor no watch has; the removal is an IN_IGNORED event. */
  remove(wd: number): void {
    for (const [key, w] of this.watches) {
      if (w.wd !== wd) continue;
      this.watches.delete(key);
      this.events.push([wd, IN_IGNORED]);
      this.waiters.notify(POLLIN);
      return;
    }
    throw EINVAL;
  }

  /** read returns whole events that fit in max bytes: EINVAL when not even the first fits, EAGAIN when none is queued. */
  override read(max: number): Uint8Array {
    if (this.events.length === 0) throw EAGAIN;
    const n = Math.min(this.events.length, Math.floor(max / EVENT_SIZE));
    if (n === 0) throw EINVAL;
    const out = new Uint8Array(n * EVENT_SIZE);
    const v = new DataView(out.buffer);
    for (const [i, [wd, mask]] of this.events.splice(0, n).entries()) {
      v.setInt32(i * EVENT_SIZE, wd, true);
      v.setUint32(i * EVENT_SIZE + 4, mask, true);
    }
    return out;
  }

  override available(): number {
    return this.events.length * EVENT_SIZE;
  }

  override readiness(): number {
    return this.events.length > 0 ? POLLIN : 0;
  }

  /** procLink is Linux's name for an inotify instance, without the brackets other anonymous files have. */
  override procLink(): string {
    return 'anon_inode:inotify';
  }
}
