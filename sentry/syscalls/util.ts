// util.ts: encoders for the structures several syscalls share.
import type { MM } from '../mm/mm.js';
import { EINVAL } from '../errno.js';

/** readTimespec reads a struct timespec as nanoseconds; EINVAL when malformed. */
export function readTimespec(mm: MM, addr: number): number {
  const b = mm.copyIn(addr, 16);
  const v = new DataView(b.buffer);
  const sec = Number(v.getBigInt64(0, true));
  const nsec = Number(v.getBigInt64(8, true));
  if (sec < 0 || nsec < 0 || nsec > 999_999_999) throw EINVAL;
  return sec * 1e9 + nsec;
}

export function writeTimespec(mm: MM, addr: number, sec: number, nsec: number): void {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, BigInt(sec), true);
  v.setBigInt64(8, BigInt(nsec), true);
  mm.copyOut(addr, b);
}
