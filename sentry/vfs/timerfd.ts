// timerfd.ts: timerfd(2) files. A timer on one of the host's clocks
// counts its expiries, which a read takes (8 bytes). As Linux's, a
// periodic timer that expired is not run again until it is read or set:
// the periods missed meanwhile are counted when it is looked at.
import { EAGAIN, EINVAL } from '../errno.js';
import { POLLIN } from './file.js';
import { AnonFile, u64 } from './anon.js';
import { host } from '../native/host.js';

/** MAX_TIMER_MS is the longest setTimeout; a later expiry takes several. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const sample = new Float64Array(2);

/** clockNs reads a host clock in nanoseconds. */
export function clockNs(clock: number): bigint {
  if (host.clockGettime(clock, sample) !== 0) throw EINVAL;
  return BigInt(sample[0]) * 1_000_000_000n + BigInt(sample[1]);
}

/** TimerSetting is a timer's value and interval in nanoseconds, as itimerspec holds them; value 0 is disarmed. */
export interface TimerSetting {
  valueNs: bigint;
  intervalNs: bigint;
}

export class TimerFd extends AnonFile {
  /** expires is the next expiry on the timer's clock, undefined while disarmed. */
  private expires: bigint | undefined;
  private intervalNs = 0n;
  /** ticks counts the expiries not read yet. */
  private ticks = 0n;
  /** timer is the host timer that wakes the file at the next expiry; it never keeps Node running. */
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly clock: number, statusFlags: number) {
    super('timerfd', statusFlags);
  }

  /** advance counts the expiries up to now; a periodic timer moves on past now (Linux's hrtimer_forward). */
  private advance(): void {
    if (this.expires === undefined) return;
    const now = clockNs(this.clock);
    if (now < this.expires) return;
    if (this.intervalNs === 0n) {
      this.ticks += 1n;
      this.expires = undefined;
      return;
    }
    const periods = (now - this.expires) / this.intervalNs + 1n;
    this.ticks += periods;
    this.expires += periods * this.intervalNs;
  }

  /** schedule wakes the file at the next expiry, unless expiries wait to be read. */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.expires === undefined || this.ticks > 0n) return;
    const ms = Number(this.expires - clockNs(this.clock)) / 1e6;
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(0, Math.ceil(ms)), MAX_TIMER_MS));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.advance();
    if (this.ticks > 0n) this.waiters.notify(POLLIN);
    // Node's timers may fire early, or the expiry was beyond one timer.
    else this.schedule();
  }

  /** get is timerfd_gettime's answer: the time left (0 when disarmed) and the interval. */
  get(): TimerSetting {
    this.advance();
    const valueNs = this.expires === undefined ? 0n : this.expires - clockNs(this.clock);
    return { valueNs: valueNs > 0n ? valueNs : 0n, intervalNs: this.intervalNs };
  }

  /**
   * set arms the timer (value 0 disarms it) at a time on its clock, or
   * relative to now, forgets the expiries not read, and returns the
   * setting before.
   */
  set(next: TimerSetting, absolute: boolean): TimerSetting {
    const old = this.get();
    this.ticks = 0n;
    this.intervalNs = next.intervalNs;
    this.expires = next.valueNs === 0n ? undefined : absolute ? next.valueNs : clockNs(this.clock) + next.valueNs;
    this.schedule();
    this.waiters.notify();
    return old;
  }

  /** read takes the count of expiries as 8 bytes: EINVAL for a shorter buffer, EAGAIN before the first. */
  override read(max: number): Uint8Array {
    if (max < 8) throw EINVAL;
    this.advance();
    if (this.ticks === 0n) throw EAGAIN;
    const ticks = this.ticks;
    this.ticks = 0n;
    this.schedule();
    return u64(ticks);
  }

  override readiness(): number {
    this.advance();
    return this.ticks > 0n ? POLLIN : 0;
  }

  override release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
