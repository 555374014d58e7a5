// preempt.ts: the preemption tick both platforms share. While a program
// runs, a POSIX timer sends real-time signal PREEMPT_SIGNAL to the
// Sentry's thread every PREEMPT_PERIOD_US, so its blocking platform call
// (KVM_RUN, or waitpid on a ptrace stub) returns and Node's event loop
// gets a turn even while the program spins.
import { host } from './host.js';

export const PREEMPT_SIGNAL = 44;
export const PREEMPT_PERIOD_US = 10_000;

let ready = false;
/** active counts the run loops that want the tick (their task runs, it does not wait): the tick is on while any does. */
let active = 0;

/**
 * preempt says that one run loop wants the tick (on) or no longer does;
 * the tick runs while at least one wants it, so a task that waits never
 * disarms it under another that spins in its stub. The first call sets
 * it up for this thread.
 */
export function preempt(on: boolean): void {
  if (!ready) {
    host.preemptInit(PREEMPT_SIGNAL);
    ready = true;
  }
  active += on ? 1 : -1;
  if (on ? active === 1 : active === 0) host.preemptSet(on ? PREEMPT_PERIOD_US : 0);
}
