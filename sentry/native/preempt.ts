// preempt.ts: the preemption tick both platforms share. While a program
// runs, a POSIX timer sends real-time signal PREEMPT_SIGNAL to the
// Sentry's thread every PREEMPT_PERIOD_US, so its blocking platform call
// (KVM_RUN, or waitpid on a ptrace stub) returns and Node's event loop
// gets a turn even while the program spins.
import { host } from './host.js';

export const PREEMPT_SIGNAL = 44;
export const PREEMPT_PERIOD_US = 10_000;

let ready = false;

/** preempt arms (on) or disarms the tick; the first call sets it up for this thread. */
export function preempt(on: boolean): void {
  if (!ready) {
    host.preemptInit(PREEMPT_SIGNAL);
    ready = true;
  }
  host.preemptSet(on ? PREEMPT_PERIOD_US : 0);
}
