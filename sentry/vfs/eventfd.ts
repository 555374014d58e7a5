// eventfd.ts: eventfd(2) files, a 64-bit counter that writes add to and
// reads take (all of it, or one at a time in semaphore mode).
import { EAGAIN, EINVAL } from '../errno.js';
import { POLLERR, POLLIN, POLLOUT } from './file.js';
import { AnonFile, u64 } from './anon.js';

/** MAX_COUNT is the most the counter holds; a write that would pass it waits (EAGAIN). */
const MAX_COUNT = 0xfffffffffffffffen;
const ULLONG_MAX = 0xffffffffffffffffn;

export class EventFd extends AnonFile {
  constructor(private count: bigint, private readonly semaphore: boolean, statusFlags: number) {
    super('eventfd', statusFlags);
  }

  /** read takes the counter (or 1 of it in semaphore mode) as 8 bytes: EINVAL for a shorter buffer, EAGAIN at 0. */
  override read(max: number): Uint8Array {
    if (max < 8) throw EINVAL;
    if (this.count === 0n) throw EAGAIN;
    const taken = this.semaphore ? 1n : this.count;
    this.count -= taken;
    this.waiters.notify(POLLOUT);
    return u64(taken);
  }

  /** write adds the 8-byte value data holds: EINVAL for another length or 2^64-1, EAGAIN when it would pass MAX_COUNT. */
  override write(data: Uint8Array): number {
    if (data.length !== 8) throw EINVAL;
    const value = new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true);
    if (value === ULLONG_MAX) throw EINVAL;
    if (value > MAX_COUNT - this.count) throw EAGAIN;
    this.count += value;
    this.waiters.notify(POLLIN);
    return 8;
  }

  /** readiness is eventfd_poll's: readable above 0, writable while 1 more fits (no POLLRDNORM or POLLWRNORM). */
  override readiness(): number {
    return (this.count > 0n ? POLLIN : 0) | (this.count === ULLONG_MAX ? POLLERR : 0) | (this.count < MAX_COUNT ? POLLOUT : 0);
  }
}
