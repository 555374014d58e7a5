// futex.ts: futex(2) for a single task: waits end by value mismatch,
// timeout or signal, and wakes find nobody to wake. Threads (issue 7)
// bring the wait queues.
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { partial } from './table.js';
import { EAGAIN, EINVAL, ENOSYS, ERESTART_RESTARTBLOCK, ERESTARTSYS, ETIMEDOUT } from '../errno.js';
import { host } from '../native/host.js';
import { readTimespec } from './util.js';

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
const FUTEX_CMD_MASK = 0x7f, FUTEX_CLOCK_REALTIME = 256;
const clock = new Float64Array(2);

/**
 * wait parks the task on the futex word at uaddr, which must still hold
 * val, until `deadline` (performance.now() ms, or Infinity). A signal makes
 * an untimed wait ERESTARTSYS, a timed one ERESTART_RESTARTBLOCK whose
 * restart waits again to the same deadline, as Linux's futex_wait.
 */
function wait(t: Task, uaddr: number, val: number, deadline: number): Promise<number> {
  if (t.mm.readU32(uaddr) !== val) throw EAGAIN;
  return park(t, uaddr, val, deadline);
}

async function park(t: Task, uaddr: number, val: number, deadline: number): Promise<number> {
  const done = deadline === Infinity ? await t.sleepOn(new Promise<boolean>(() => undefined)) : await t.sleep(deadline - performance.now());
  if (done) throw ETIMEDOUT;
  if (deadline === Infinity) throw ERESTARTSYS;
  t.signals.restart = () => wait(t, uaddr, val, deadline);
  throw ERESTART_RESTARTBLOCK;
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
      const val = a.uint(2);
      const ts = a.pointer(3);
      if (ts === 0) return wait(t, uaddr, val, Infinity);
      let ns = readTimespec(t.mm, ts);
      if (cmd === FUTEX_WAIT_BITSET) {
        // The BITSET form's timeout is absolute on CLOCK_MONOTONIC or CLOCK_REALTIME.
        host.clockGettime(op & FUTEX_CLOCK_REALTIME ? 0 : 1, clock);
        ns = Math.max(0, ns - (clock[0] * 1e9 + clock[1]));
      }
      return wait(t, uaddr, val, performance.now() + ns / 1e6);
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
