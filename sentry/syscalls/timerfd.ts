// timerfd.ts: timerfd_create(2), timerfd_settime(2) and timerfd_gettime(2)
// (the timer itself is vfs/timerfd.ts).
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full } from './table.js';
import { EINVAL } from '../errno.js';
import { O_CLOEXEC, O_NONBLOCK } from '../vfs/file.js';
import { TimerFd, type TimerSetting } from '../vfs/timerfd.js';

const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_BOOTTIME = 7, CLOCK_REALTIME_ALARM = 8, CLOCK_BOOTTIME_ALARM = 9;
/** HOST_CLOCK is the host clock each clock a timerfd may use reads (the alarm clocks wake nothing here). */
const HOST_CLOCK = new Map([
  [CLOCK_REALTIME, CLOCK_REALTIME], [CLOCK_MONOTONIC, CLOCK_MONOTONIC], [CLOCK_BOOTTIME, CLOCK_BOOTTIME],
  [CLOCK_REALTIME_ALARM, CLOCK_REALTIME], [CLOCK_BOOTTIME_ALARM, CLOCK_BOOTTIME],
]);
const TFD_TIMER_ABSTIME = 1, TFD_TIMER_CANCEL_ON_SET = 2;
const NS_PER_SEC = 1_000_000_000n;
/** ITIMERSPEC_SIZE is sizeof(struct itimerspec): interval, then value. */
const ITIMERSPEC_SIZE = 32;

/** timerfd_create implements timerfd_create(2): EINVAL for another clock or flags beyond TFD_NONBLOCK and TFD_CLOEXEC. */
export function timerfdCreate(t: Task, a: SyscallArgs): number {
  const clock = HOST_CLOCK.get(a.int(0));
  const flags = a.int(1);
  if (clock === undefined || flags & ~(O_CLOEXEC | O_NONBLOCK)) throw EINVAL;
  return t.fds.install(new TimerFd(clock, flags & O_NONBLOCK), (flags & O_CLOEXEC) !== 0);
}

/** timerOf is the timerfd at fd: EBADF for no file, EINVAL for another kind. */
function timerOf(t: Task, fd: number): TimerFd {
  const f = t.fds.get(fd);
  if (!(f instanceof TimerFd)) throw EINVAL;
  return f;
}

/** readItimerspec reads a struct itimerspec: EINVAL for a negative or malformed timespec. */
function readItimerspec(t: Task, addr: number): TimerSetting {
  const v = new DataView(t.mm.copyIn(addr, ITIMERSPEC_SIZE).buffer);
  const ns = (off: number) => {
    const sec = v.getBigInt64(off, true);
    const nsec = v.getBigInt64(off + 8, true);
    if (sec < 0n || nsec < 0n || nsec >= NS_PER_SEC) throw EINVAL;
    return sec * NS_PER_SEC + nsec;
  };
  return { intervalNs: ns(0), valueNs: ns(16) };
}

function writeItimerspec(t: Task, addr: number, s: TimerSetting): void {
  const b = new Uint8Array(ITIMERSPEC_SIZE);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, s.intervalNs / NS_PER_SEC, true);
  v.setBigInt64(8, s.intervalNs % NS_PER_SEC, true);
  v.setBigInt64(16, s.valueNs / NS_PER_SEC, true);
  v.setBigInt64(24, s.valueNs % NS_PER_SEC, true);
  t.mm.copyOut(addr, b);
}

/**
 * timerfd_settime implements timerfd_settime(2): a relative or absolute
 * (TFD_TIMER_ABSTIME) value and an interval. TFD_TIMER_CANCEL_ON_SET
 * is taken and never cancels: the sandbox's programs cannot set the
 * clock. The old value is written after the timer is set, as on Linux.
 */
export function timerfdSettime(t: Task, a: SyscallArgs): number {
  const fd = a.int(0);
  const flags = a.int(1);
  const next = readItimerspec(t, a.pointer(2));
  const oldAddr = a.pointer(3);
  if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) throw EINVAL;
  const old = timerOf(t, fd).set(next, (flags & TFD_TIMER_ABSTIME) !== 0);
  if (oldAddr !== 0) writeItimerspec(t, oldAddr, old);
  return 0;
}

/** timerfd_gettime implements timerfd_gettime(2). */
export function timerfdGettime(t: Task, a: SyscallArgs): number {
  writeItimerspec(t, a.pointer(1), timerOf(t, a.int(0)).get());
  return 0;
}

export function register(): void {
  full(283, timerfdCreate, 'k,x');
  full(286, timerfdSettime, 'd,x,p,p');
  full(287, timerfdGettime, 'd,p');
}
