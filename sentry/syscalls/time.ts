// time.ts: clocks and sleeping. Clocks read the host's clocks directly.
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full, partial } from './table.js';
import { EINTR, EINVAL, EOPNOTSUPP } from '../errno.js';
import { host } from '../native/host.js';
import { readTimespec, sleep, writeTimespec } from './util.js';

const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3,
  CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5, CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7,
  CLOCK_REALTIME_ALARM = 8, CLOCK_BOOTTIME_ALARM = 9, CLOCK_TAI = 11;
const CLOCKS = new Set([CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
  CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_REALTIME_ALARM,
  CLOCK_BOOTTIME_ALARM, CLOCK_TAI]);

const now = new Float64Array(2);

/** readClock reads a clock into `now` (seconds, nanoseconds). */
function readClock(id: number): void {
  if (!CLOCKS.has(id)) throw EINVAL;
  const hostId = id === CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : id === CLOCK_BOOTTIME_ALARM ? CLOCK_BOOTTIME : id;
  if (host.clockGettime(hostId, now) !== 0) throw EINVAL;
}

/**
 * clock_gettime implements clock_gettime(2). The CPU-time clocks read the
 * process's time alive, as getrusage(2) counts it (the Sentry does not
 * tell a program's CPU time from its waits).
 */
export function clockGettime(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  if (id === CLOCK_PROCESS_CPUTIME_ID || id === CLOCK_THREAD_CPUTIME_ID) {
    const ns = Math.floor((performance.now() - t.proc.startedMs) * 1e6);
    writeTimespec(t.mm, a.pointer(1), Math.floor(ns / 1e9), ns % 1e9);
    return 0;
  }
  readClock(id);
  writeTimespec(t.mm, a.pointer(1), now[0], now[1]);
  return 0;
}

/** clock_getres implements clock_getres(2). */
export function clockGetres(t: Task, a: SyscallArgs): number {
  const id = a.int(0);
  if (!CLOCKS.has(id)) throw EINVAL;
  const coarse = id === CLOCK_REALTIME_COARSE || id === CLOCK_MONOTONIC_COARSE;
  if (a.pointer(1) !== 0) writeTimespec(t.mm, a.pointer(1), 0, coarse ? 4_000_000 : 1);
  return 0;
}

/** gettimeofday implements gettimeofday(2); the timezone reads as UTC. */
export function gettimeofday(t: Task, a: SyscallArgs): number {
  readClock(CLOCK_REALTIME);
  const tv = a.pointer(0);
  const tz = a.pointer(1);
  if (tv !== 0) {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    v.setBigInt64(0, BigInt(now[0]), true);
    v.setBigInt64(8, BigInt(Math.floor(now[1] / 1000)), true);
    t.mm.copyOut(tv, b);
  }
  if (tz !== 0) t.mm.copyOut(tz, new Uint8Array(8));
  return 0;
}

/** time implements time(2). */
export function time(t: Task, a: SyscallArgs): number {
  readClock(CLOCK_REALTIME);
  const tloc = a.pointer(0);
  if (tloc !== 0) t.mm.writeU64(tloc, now[0]);
  return now[0];
}

/**
 * sleepFor parks the task for ns nanoseconds. When a signal interrupts
 * it, it writes the time left to rem (if given) and fails with EINTR.
 */
async function sleepFor(t: Task, ns: number, rem: number): Promise<number> {
  const start = performance.now();
  const done = await t.interruptible(sleep(ns / 1e6).then(() => true));
  if (done) return 0;
  if (rem !== 0) {
    const left = Math.max(0, ns - (performance.now() - start) * 1e6);
    writeTimespec(t.mm, rem, Math.floor(left / 1e9), Math.floor(left % 1e9));
  }
  throw EINTR;
}

/** nanosleep implements nanosleep(2). */
export function nanosleep(t: Task, a: SyscallArgs): Promise<number> {
  return sleepFor(t, readTimespec(t.mm, a.pointer(0)), a.pointer(1));
}

const TIMER_ABSTIME = 1;

/** clock_nanosleep implements clock_nanosleep(2) on the wall and monotonic clocks. */
export function clockNanosleep(t: Task, a: SyscallArgs): Promise<number> {
  const id = a.int(0);
  const flags = a.int(1);
  if (id === CLOCK_THREAD_CPUTIME_ID) throw EINVAL;
  if (!CLOCKS.has(id)) throw EINVAL;
  if (id === CLOCK_PROCESS_CPUTIME_ID || id === CLOCK_MONOTONIC_RAW || id === CLOCK_REALTIME_COARSE || id === CLOCK_MONOTONIC_COARSE) throw EOPNOTSUPP;
  let ns = readTimespec(t.mm, a.pointer(2));
  if (flags & TIMER_ABSTIME) {
    readClock(id);
    ns = Math.max(0, ns - (now[0] * 1e9 + now[1]));
  }
  return sleepFor(t, ns, flags & TIMER_ABSTIME ? 0 : a.pointer(3));
}

export function register(): void {
  partial(228, clockGettime, 'CPU-time clocks include the Sentry', 'd,p');
  full(229, clockGetres, 'd,p');
  full(96, gettimeofday, 'p,p');
  full(201, time, 'p');
  full(35, nanosleep, 'p,p');
  full(230, clockNanosleep, 'd,x,p,p');
}
