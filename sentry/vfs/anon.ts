// anon.ts: the files that have no name in any filesystem (Linux's
// anon_inode files): eventfd, timerfd, signalfd and epoll instances.
import { EINVAL } from '../errno.js';
import { FileDescription, O_RDWR, PAGE_SIZE, Waiters, type Changed, type Stat } from './file.js';

/** ANON_DEV and ANON_INO are the device and the one inode every anonymous file shares, as on Linux. */
const ANON_DEV = 13, ANON_INO = 1;

/** ANON_STAT is what fstat shows for an anonymous file: mode 0600 with no file type, owned by root. */
const ANON_STAT: Stat = {
  dev: ANON_DEV, ino: ANON_INO, mode: 0o600, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: PAGE_SIZE, blocks: 0,
  atimeNs: 0n, mtimeNs: 0n, ctimeNs: 0n,
};

/**
 * AnonFile is an anonymous file: open for reading and writing, pollable,
 * named `anon_inode:[kind]` in /proc/PID/fd. Its waiters hear of every
 * change of its readiness. Where a kind has no read or write, the call
 * fails with EINVAL; lseek does nothing and returns 0 (noop_llseek).
 */
export abstract class AnonFile extends FileDescription {
  protected readonly waiters = new Waiters();

  /** @param access the access mode (O_RDWR but for inotify's O_RDONLY, as Linux opens them) */
  constructor(private readonly kind: string, statusFlags: number, access = O_RDWR) {
    super(access);
    this.statusFlags = access | statusFlags;
  }

  override get pollable(): boolean {
    return true;
  }

  override read(_max: number): Uint8Array {
    throw EINVAL;
  }

  override write(_data: Uint8Array): number {
    throw EINVAL;
  }

  override seek(): number {
    return 0;
  }

  override watch(changed: Changed): () => void {
    return this.waiters.add(changed);
  }

  override procLink(): string {
    return `anon_inode:[${this.kind}]`;
  }

  stat(): Stat {
    return { ...ANON_STAT };
  }
}

/** u64 is one unsigned 64-bit value as the 8 bytes a read of an eventfd or timerfd returns. */
export function u64(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
}
