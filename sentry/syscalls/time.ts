// time.ts: clocks and sleeping. Clocks read the host's clocks directly.
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full, partial } from './table.js';
import { EINVAL, EOPNOTSUPP, ERESTART_RESTARTBLOCK, ERESTARTNOHAND } from '../errno.js';
import { host } from '../native/host.js';
import type { IntervalValue } from '../kernel/itimer.js';
import { readTimespec, writeTimespec } from './util.js';

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
 * sleepUntil parks the task until `deadline` (performance.now() ms). When
 * a signal interrupts it, it writes the time left to rem (if given) and
 * fails with ERESTART_RESTARTBLOCK: EINTR if a handler runs, else
 * restart_syscall(2) sleeps on to the same deadline, as Linux's nanosleep.
 */
async function sleepUntil(t: Task, deadline: number, rem: number): Promise<number> {
  const done = await t.sleep(deadline - performance.now());
  if (done) return 0;
  if (rem !== 0) {
    const left = Math.max(0, Math.round((deadline - performance.now()) * 1e6));
    writeTimespec(t.mm, rem, Math.floor(left / 1e9), left % 1e9);
  }
  t.signals.restart = () => sleepUntil(t, deadline, rem);
  throw ERESTART_RESTARTBLOCK;
}

/** nanosleep implements nanosleep(2). */
export function nanosleep(t: Task, a: SyscallArgs): Promise<number> {
  return sleepUntil(t, performance.now() + readTimespec(t.mm, a.pointer(0)) / 1e6, a.pointer(1));
}

const TIMER_ABSTIME = 1;

/** clock_nanosleep implements clock_nanosleep(2) on the wall and monotonic clocks. */
export function clockNanosleep(t: Task, a: SyscallArgs): Promise<number> {
  const id = a.int(0);
  const flags = a.int(1);
  if (id === CLOCK_THREAD_CPUTIME_ID) throw EINVAL;
  if (!CLOCKS.has(id)) throw EINVAL;
  if (id === CLOCK_PROCESS_CPUTIME_ID || id === CLOCK_MONOTONIC_RAW || id === CLOCK_REALTIME_COARSE || id === CLOCK_MONOTONIC_COARSE) throw EOPNOTSUPP;
  const ns = readTimespec(t.mm, a.pointer(2));
  if (!(flags & TIMER_ABSTIME)) return sleepUntil(t, performance.now() + ns / 1e6, a.pointer(3));
  // An absolute sleep is simply made again after a signal with no handler.
  readClock(id);
  const deadline = performance.now() + Math.max(0, ns - (now[0] * 1e9 + now[1])) / 1e6;
  return t.sleep(deadline - performance.now()).then((done) => {
    if (!done) throw ERESTARTNOHAND;
    return 0;
  });
}

const ITIMER_REAL = 0;
const US = 1000;

/** readItimerval reads a struct itimerval: EINVAL for a timeval out of range. */
function readItimerval(t: Task, addr: number): IntervalValue {
  const v = new DataView(t.mm.copyIn(addr, 32).buffer);
  const ns = (off: number) => {
    const sec = Number(v.getBigInt64(off, true));
    const usec = Number(v.getBigInt64(off + 8, true));
    if (sec < 0 || usec < 0 || usec >= 1e6) throw EINVAL;
    return sec * 1e9 + usec * US;
  };
  return { intervalNs: ns(0), valueNs: ns(16) };
}

function writeItimerval(t: Task, addr: number, it: IntervalValue): void {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  const put = (off: number, ns: number) => {
    v.setBigInt64(off, BigInt(Math.floor(ns / 1e9)), true);
    v.setBigInt64(off + 8, BigInt(Math.floor((ns % 1e9) / US)), true);
  };
  put(0, it.intervalNs);
  put(16, it.valueNs);
  t.mm.copyOut(addr, b);
}

/** getitimer implements getitimer(2) for ITIMER_REAL. */
export function getitimer(t: Task, a: SyscallArgs): number {
  if (a.int(0) !== ITIMER_REAL) throw EINVAL;
  writeItimerval(t, a.pointer(1), t.signals.realTimer.get());
  return 0;
}

/** setitimer implements setitimer(2) for ITIMER_REAL; a null new value disarms it, as on Linux. */
export function setitimer(t: Task, a: SyscallArgs): number {
  const next = a.pointer(1) !== 0 ? readItimerval(t, a.pointer(1)) : { valueNs: 0, intervalNs: 0 };
  if (a.int(0) !== ITIMER_REAL) throw EINVAL;
  const old = t.signals.realTimer.set(next);
  if (a.pointer(2) !== 0) writeItimerval(t, a.pointer(2), old);
  return 0;
}

/**
 * alarm implements alarm(2): ITIMER_REAL set to whole seconds; it returns
 * the seconds the previous alarm had left, rounded to the nearest, and
 * never 0 for an alarm still armed.
 */
export function alarm(t: Task, a: SyscallArgs): number {
  const old = t.signals.realTimer.set({ valueNs: a.uint(0) * 1e9, intervalNs: 0 });
  let sec = Math.floor(old.valueNs / 1e9);
  const nsec = old.valueNs % 1e9;
  if ((sec === 0 && nsec > 0) || nsec >= 5e8) sec++;
  return sec;
}

export function register(): void {
  partial(228, clockGettime, 'CPU-time clocks include the Sentry', 'd,p');
  full(229, clockGetres, 'd,p');
  full(96, gettimeofday, 'p,p');
  full(201, time, 'p');
  full(35, nanosleep, 'p,p');
  full(230, clockNanosleep, 'd,x,p,p');
  full(37, alarm, 'u');
  partial(38, setitimer, 'ITIMER_REAL only; ITIMER_VIRTUAL and ITIMER_PROF fail with EINVAL', 'd,p,p');
  partial(36, getitimer, 'ITIMER_REAL only; ITIMER_VIRTUAL and ITIMER_PROF fail with EINVAL', 'd,p');
}
