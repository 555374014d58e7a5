// time-page.ts keeps the vDSO's time page right: the time at a TSC
// reading, and the TSC's rate, so that code in the program computes
// CLOCK_REALTIME, _MONOTONIC and _BOOTTIME without a system call. The
// layout is vdso.c's struct time_page.
import { host } from '../native/host.js';
import type { MemoryFile } from '../mm/memory-file.js';

const SEQ = 0, ENABLED = 1, TSC_BASE = 2, MULT = 4, MONO = 6, REAL = 10, BOOT = 14;
/** REFRESH_MS is how old the base may grow before it is taken again. */
const REFRESH_MS = 50;

const sample = new Float64Array(8);

/** calibration is the host TSC's rate, measured against CLOCK_MONOTONIC over a growing baseline. */
const calibration = {
  firstTsc: 0,
  firstNs: 0,
  /** nsPerTsc32 is nanoseconds per TSC tick, times 2^32: the page's mult. */
  mult: 0,
};

function tscOf(s: Float64Array): number {
  return s[0] * 0x100000000 + s[1];
}

/** MIN_BASELINE_NS is the shortest baseline the rate is measured over (about 0.1% at first). */
const MIN_BASELINE_NS = 1e6;

/**
 * calibrate takes a sample and refines the TSC rate over the baseline
 * since this module loaded. Only when that baseline is still shorter than
 * a millisecond does it wait for the rest.
 */
function calibrate(): void {
  host.clockSample(sample);
  let dNs = sample[2] * 1e9 + sample[3] - calibration.firstNs;
  while (dNs < MIN_BASELINE_NS) {
    host.clockSample(sample);
    dNs = sample[2] * 1e9 + sample[3] - calibration.firstNs;
  }
  const dTsc = tscOf(sample) - calibration.firstTsc;
  if (dTsc > 0) calibration.mult = Math.round((dNs / dTsc) * 0x100000000);
}

/** tscPerNs is the host TSC's ticks per nanosecond (calibrated at first use). */
export function tscPerNs(): number {
  if (calibration.mult === 0) calibrate();
  return 0x100000000 / calibration.mult;
}

host.clockSample(sample);
calibration.firstTsc = tscOf(sample);
calibration.firstNs = sample[2] * 1e9 + sample[3];

/**
 * TimePage is one frame of the memory file that every program of a
 * sandbox maps read-only below its vDSO.
 */
export class TimePage {
  private readonly words: Uint32Array;
  private readonly base: number;
  private lastRefresh = -Infinity;

  /**
   * @param phys the page's frame
   * @param tscOffset what the program's TSC reads minus what the host's does (kvm's TSC offset; 0 under ptrace)
   */
  constructor(mem: MemoryFile, phys: number, private readonly tscOffset: bigint) {
    this.words = mem.wordsAt(phys);
    this.base = mem.offsetOf(phys) / 4;
  }

  /** refresh takes the base again when it is older than REFRESH_MS (or always, with force). */
  refresh(force = false): void {
    const now = performance.now();
    if (!force && now - this.lastRefresh < REFRESH_MS) return;
    this.lastRefresh = now;
    calibrate();
    const w = this.words;
    const b = this.base;
    // The seqlock: odd while the fields change, as the reader checks. This
    // thread is the only writer, so seq is even here.
    const seq = Atomics.load(w, b + SEQ);
    Atomics.store(w, b + SEQ, (seq + 1) >>> 0);
    const tsc = BigInt(tscOf(sample)) + this.tscOffset;
    this.put64(TSC_BASE, tsc);
    this.put64(MULT, BigInt(calibration.mult));
    this.put64(MONO, BigInt(sample[2]));
    this.put64(MONO + 2, BigInt(sample[3]));
    this.put64(REAL, BigInt(sample[4]));
    this.put64(REAL + 2, BigInt(sample[5]));
    this.put64(BOOT, BigInt(sample[6]));
    this.put64(BOOT + 2, BigInt(sample[7]));
    w[b + ENABLED] = calibration.mult > 0 ? 1 : 0;
    Atomics.store(w, b + SEQ, (seq + 2) >>> 0);
  }

  private put64(word: number, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.words[this.base + word] = Number(u & 0xffffffffn);
    this.words[this.base + word + 1] = Number(u >> 32n);
  }
}
