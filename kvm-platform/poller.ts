// poller.ts: the one loop in which the Sentry waits for its vCPUs. Every
// context that waits for its next outcome is polled there, together with
// the one whose switch runs the loop, so a call that one task posts in its
// slot is taken at once while another task's switch polls: with two tasks
// in a pipe, each waits on the other all the time.
import type { Outcome } from '../sentry/platform.js';
import { host } from '../sentry/native/host.js';

/**
 * POLL_MS is how long the loop polls after the last event before every
 * context sleeps until an exit. A call that finds the loop asleep goes by
 * exit (~70 us here): programs that compute between calls, as a starting
 * python3 or busybox does, make fewer exits with a longer window (measured
 * on a quiet host, fork-exec of busybox 11.7 -> 10.0 ms from 0.3 to 1 ms;
 * the loop offers its CPU after YIELD_AFTER_MS, see poll).
 */
const POLL_MS = 1;
/** YIELD_AFTER_MS is how long the loop polls without an event before it offers its CPU (see poll). */
const YIELD_AFTER_MS = 0.05;

/** NOTHING: a look found no outcome. RAN_ON: it found an exit after which the vCPU runs on (an event, but no outcome). */
export const NOTHING = 0;
export const RAN_ON = -1;
type Look = Outcome | typeof NOTHING | typeof RAN_ON;

/** Polled is what the poller needs of a context. */
export interface Polled {
  /** look returns an outcome that is ready, NOTHING or RAN_ON, without waiting. */
  look(): Look;
  /** sleep makes the guest stop waiting for the Sentry, and the next exit wake the poller (woken). */
  sleep(): void;
  /** unsleep makes the guest wait for the Sentry again, and exits wake nobody. */
  unsleep(): void;
}

interface Waiter {
  ctx: Polled;
  resolve: (o: Outcome) => void;
  reject: (err: unknown) => void;
}

export class Poller {
  /** waiting are the contexts whose switch returned a promise. */
  private readonly waiting: Waiter[] = [];
  /** asleep is true when every waiting context sleeps (no loop polls until an exit). */
  private asleep = false;
  private pumpQueued = false;

  /**
   * next returns ctx's next outcome: at once when it comes while the loop
   * polls, else a promise. Another context's outcome ends the loop too, so
   * that its task runs; ctx then waits among the others.
   */
  next(ctx: Polled): Outcome | Promise<Outcome> {
    if (this.asleep) this.wake();
    const o = this.poll(ctx);
    if (o !== NOTHING) {
      // Whoever else waits is polled again soon, should ctx's task now wait for something else.
      this.queuePump();
      return o as Outcome;
    }
    const p = new Promise<Outcome>((resolve, reject) => this.waiting.push({ ctx, resolve, reject }));
    if (this.timedOut) this.sleepAll();
    else this.queuePump();
    return p;
  }

  /** woken is a thread's report of an exit while the loop sleeps: the loop polls everyone again. */
  woken(): void {
    if (!this.asleep) return;
    this.wake();
    this.pump();
  }

  /** remove forgets a context that will not wait any longer (it is released). */
  remove(ctx: Polled): void {
    const i = this.waiting.findIndex((w) => w.ctx === ctx);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  /** timedOut is true when the last poll ended for lack of events. */
  private timedOut = false;

  /**
   * poll looks at `caller` (if any) and every waiting context until one
   * has an outcome, or POLL_MS pass without an event. It returns the
   * caller's outcome, or NOTHING: others' outcomes were handed to their
   * tasks, or time ran out (timedOut).
   */
  private poll(caller: Polled | undefined): Look {
    let deadline = 0;
    this.timedOut = false;
    for (let i = 0; ; i++) {
      let event = false;
      if (caller) {
        const o = caller.look();
        if (o > 0) return o;
        event = o === RAN_ON;
      }
      if (this.waiting.length > 0) {
        const served = this.serve();
        if (served > 0) return NOTHING;
        event ||= served === RAN_ON;
      }
      if (event) {
        deadline = 0;
      } else if ((i & 255) === 0) {
        const now = performance.now();
        if (deadline === 0) deadline = now + POLL_MS;
        else if (now > deadline) break;
        // Past YIELD_AFTER_MS without an event, offer the CPU now and then:
        // on a busy host the vCPU thread this loop waits for may be ready
        // on this very CPU. Sooner, yielding would hand the CPU to other
        // programs just as the call comes (measured: with one busy program
        // beside the sandbox, a loop of exitless calls took 2.5x as long).
        else if (now > deadline - POLL_MS + YIELD_AFTER_MS) host.yield();
      }
    }
    this.timedOut = true;
    return NOTHING;
  }

  /** serve hands every outcome that is ready to its waiting task; it returns how many, or RAN_ON for an event without one. */
  private serve(): number {
    let served = 0;
    let ranOn = false;
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const w = this.waiting[i];
      let o: Look;
      try {
        o = w.ctx.look();
      } catch (err) {
        this.waiting.splice(i, 1);
        w.reject(err);
        served++;
        continue;
      }
      if (o > 0) {
        this.waiting.splice(i, 1);
        if (this.asleep) w.ctx.unsleep();
        w.resolve(o as Outcome);
        served++;
      } else if (o === RAN_ON) {
        ranOn = true;
      }
    }
    return served > 0 ? served : ranOn ? RAN_ON : NOTHING;
  }

  /**
   * pump polls the waiting contexts when no switch does: after outcomes
   * were handed out, their tasks may all wait for something else.
   */
  private readonly pump = (): void => {
    this.pumpQueued = false;
    if (this.asleep || this.waiting.length === 0) return;
    this.poll(undefined);
    if (this.timedOut) this.sleepAll();
    else this.queuePump();
  };

  private queuePump(): void {
    if (this.pumpQueued || this.waiting.length === 0) return;
    this.pumpQueued = true;
    setImmediate(this.pump);
  }

  /** sleepAll lets every waiting context sleep until an exit; what came in meanwhile is served first. */
  private sleepAll(): void {
    this.asleep = true;
    for (const w of this.waiting) w.ctx.sleep();
    // A call posted, or an exit reported, before the guests and threads saw it.
    if (this.serve() === NOTHING) return;
    this.wake();
    this.queuePump();
  }

  private wake(): void {
    this.asleep = false;
    for (const w of this.waiting) w.ctx.unsleep();
  }
}
