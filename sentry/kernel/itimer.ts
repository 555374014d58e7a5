// itimer.ts: ITIMER_REAL, the timer behind alarm(2) and setitimer(2),
// which sends SIGALRM when it expires and, with an interval, again every
// interval after that (Linux's hrtimer forwarding: missed periods are not
// made up). It fires on the event loop, never early, and is stopped when
// its task ends so that no timer outlives the program.

/** IntervalValue is an itimer's setting or reading, in nanoseconds; value 0 is disarmed. */
export interface IntervalValue {
  valueNs: number;
  intervalNs: number;
}

/** NS_PER_US is the 1 µs that a timer about to fire reads as (Linux's itimer_get_remtime). */
const NS_PER_US = 1000;

export class RealTimer {
  private timer: NodeJS.Timeout | undefined;
  /** expires is when the timer fires next, in performance.now() milliseconds. */
  private expires = 0;
  private intervalNs = 0;

  constructor(private readonly fire: () => void) {}

  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** get reads the time left and the interval. */
  get(): IntervalValue {
    if (!this.armed) return { valueNs: 0, intervalNs: this.intervalNs };
    const left = Math.round((this.expires - performance.now()) * 1e6);
    return { valueNs: left > 0 ? left : NS_PER_US, intervalNs: this.intervalNs };
  }

  /** set arms the timer (value 0 disarms it) and returns the previous setting. */
  set(next: IntervalValue): IntervalValue {
    const old = this.get();
    this.stop();
    if (next.valueNs > 0) {
      this.intervalNs = next.intervalNs;
      this.arm(performance.now() + next.valueNs / 1e6);
    } else {
      this.intervalNs = 0;
    }
    return old;
  }

  /** stop disarms the timer; its task has ended, or it is set again. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(expires: number): void {
    this.expires = expires;
    // Node's timers may fire up to a millisecond early: wait again then.
    const wait = () => {
      const left = this.expires - performance.now();
      if (left > 0) {
        this.timer = setTimeout(wait, Math.ceil(left));
        return;
      }
      this.timer = undefined;
      if (this.intervalNs > 0) {
        const period = this.intervalNs / 1e6;
        const now = performance.now();
        this.arm(this.expires + Math.max(1, Math.ceil((now - this.expires) / period)) * period);
      }
      this.fire();
    };
    this.timer = setTimeout(wait, Math.ceil(expires - performance.now()));
  }
}
