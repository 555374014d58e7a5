// run-queue.ts: the turns on the CPUs a platform lends programs. A context
// holds one of `capacity` CPUs while its program may run; the others wait
// in line, first come first served. While some wait, a holder that has
// had its CPU for a whole slice is asked to give it up (preempt), which it
// does at its next stop, so a program that spins never keeps the others
// from running. Both platforms use it: kvm for the sandbox's vCPUs
// (--cpus), ptrace for the threads that share one stub process.

/** Runnable is what the queue needs of a context. */
export interface Runnable {
  /** preempt makes the context stop soon and release its CPU. */
  preempt(): void;
}

/** SLICE_MS is how long a context keeps a CPU that others wait for: the ptrace tick's length. */
const SLICE_MS = 10;

export class RunQueue {
  /** holders are the contexts that hold a CPU, with when they took it. */
  private readonly holders = new Map<Runnable, number>();
  private readonly line: { who: Runnable; grant: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly capacity: number) {}

  /** holds says whether who holds a CPU. */
  holds(who: Runnable): boolean {
    return this.holders.has(who);
  }

  /**
   * acquire gives who a CPU: true when it has one now, or a promise that
   * resolves when its turn comes. Nobody takes a free CPU ahead of those
   * in line.
   */
  acquire(who: Runnable): true | Promise<void> {
    if (this.holders.has(who)) return true;
    if (this.holders.size < this.capacity && this.line.length === 0) {
      this.holders.set(who, performance.now());
      return true;
    }
    return new Promise<void>((grant) => {
      this.line.push({ who, grant });
      this.arm();
    });
  }

  /** release gives up who's CPU (or its place in line) and hands the CPU to the first in line. */
  release(who: Runnable): void {
    if (!this.holders.delete(who)) {
      const i = this.line.findIndex((w) => w.who === who);
      if (i >= 0) this.line.splice(i, 1);
      return;
    }
    while (this.holders.size < this.capacity && this.line.length > 0) {
      const next = this.line.shift()!;
      this.holders.set(next.who, performance.now());
      next.grant();
    }
  }

  /** arm preempts, every slice while some wait, the holders whose slice is over. */
  private arm(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.line.length === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
        return;
      }
      const now = performance.now();
      for (const [who, since] of this.holders) if (now - since >= SLICE_MS) who.preempt();
    }, SLICE_MS);
  }
}
