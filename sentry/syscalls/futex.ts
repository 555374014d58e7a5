// futex.ts: futex(2) for a single task: waits end by value mismatch,
// timeout or signal, and wakes find nobody to wake. Threads (issue 7)
// bring the wait queues.
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { partial } from './table.js';
import { EAGAIN, EINTR, EINVAL, ENOSYS, ETIMEDOUT } from '../errno.js';
import { host } from '../native/host.js';
import { readTimespec, sleep } from './util.js';

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
const FUTEX_CMD_MASK = 0x7f, FUTEX_CLOCK_REALTIME = 256;
const clock = new Float64Array(2);

async function wait(t: Task, ms: number): Promise<number> {
  const done = await t.interruptible(ms === Infinity ? new Promise<boolean>(() => undefined) : sleep(ms).then(() => true));
  if (done) throw ETIMEDOUT;
  throw EINTR;
}

/** futex implements futex(2) WAIT, WAKE and their BITSET forms for one task. */
export function futex(t: Task, a: SyscallArgs): number | Promise<number> {
  const uaddr = a.pointer(0);
  const op = a.int(1);
  const cmd = op & FUTEX_CMD_MASK;
  if (a.uint(0) % 4 !== 0) throw EINVAL;
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      if (cmd === FUTEX_WAIT_BITSET && a.uint(5) === 0) throw EINVAL;
      const current = t.mm.readU32(uaddr);
      if (current !== a.uint(2)) throw EAGAIN;
      const ts = a.pointer(3);
      if (ts === 0) return wait(t, Infinity);
      let ns = readTimespec(t.mm, ts);
      if (cmd === FUTEX_WAIT_BITSET) {
        // The BITSET form's timeout is absolute on CLOCK_MONOTONIC or CLOCK_REALTIME.
        host.clockGettime(op & FUTEX_CLOCK_REALTIME ? 0 : 1, clock);
        ns = Math.max(0, ns - (clock[0] * 1e9 + clock[1]));
      }
      return wait(t, ns / 1e6);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
      if (cmd === FUTEX_WAKE_BITSET && a.uint(5) === 0) throw EINVAL;
      return 0;
    default:
      throw ENOSYS;
  }
}

export function register(): void {
  partial(202, futex, 'WAIT, WAKE and the BITSET forms for one task; the rest with threads (issue 7)', 'p,d,u,p,p,u');
}
