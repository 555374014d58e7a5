// util.ts: encoders for the structures several syscalls share.
import type { MM } from '../mm/mm.js';
import type { Task } from '../kernel/task.js';
import type { FileDescription } from '../vfs/file.js';
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

/**
 * installPair installs two new descriptions at the lowest free fds and
 * writes the fds as int[2] at addr (pipe2, socketpair). The fds are taken
 * back when that write fails (EFAULT), so none leaks.
 */
export function installPair(t: Task, files: [FileDescription, FileDescription], cloexec: boolean, addr: number): void {
  const fds: number[] = [];
  try {
    for (const f of files) fds.push(t.fds.install(f, cloexec));
    const out = new Uint8Array(8);
    const v = new DataView(out.buffer);
    v.setInt32(0, fds[0], true);
    v.setInt32(4, fds[1], true);
    t.mm.copyOut(addr, out);
  } catch (err) {
    for (const fd of fds) t.fds.close(fd);
    throw err;
  }
}
