// devfs.ts: /dev. The character devices the Sentry implements itself
// (null, zero, full, random, urandom, tty), the links to the standard
// streams and /proc/self/fd, and /dev/shm (a tmpfs mounted there).
import { randomFillSync } from 'node:crypto';
import { ENOSPC, ENXIO } from '../errno.js';
import { DEFAULT_POLLMASK, FileDescription, O_ACCMODE, O_PATH, POLLIN, POLLRDNORM, type Stat } from './file.js';
import { PathFile } from './open-file.js';
import { S_IFCHR, type Caller, type VNode } from './node.js';
import { SynDir, SynLink, SyntheticNode, baseAttr } from './synthetic.js';

const DEV_DEV = 0x05;
const TMPFS_MAGIC = 0x01021994;

type Device = 'null' | 'zero' | 'full' | 'random' | 'urandom';
const RDEV: Record<Device, number> = { null: 0x103, zero: 0x105, full: 0x107, random: 0x108, urandom: 0x109 };

/** DeviceFile is an open character device. */
class DeviceFile extends FileDescription {
  constructor(private readonly dev: DeviceNode, flags: number) {
    super(flags & O_ACCMODE);
    this.statusFlags = flags & ~0o1300;
    this.node = dev;
  }
  override read(max: number): Uint8Array {
    const n = Math.min(max, 1 << 20);
    switch (this.dev.kind) {
      case 'null': return new Uint8Array(0);
      case 'zero': case 'full': return new Uint8Array(n);
      default: return randomFillSync(new Uint8Array(n));
    }
  }
  override get positional(): boolean {
    return true;
  }
  override pread(_offset: number, max: number): Uint8Array {
    return this.read(max);
  }
  override write(data: Uint8Array): number {
    if (this.dev.kind === 'full') throw ENOSPC;
    return data.length;
  }
  override pwrite(_offset: number, data: Uint8Array): number {
    return this.write(data);
  }
  override seek(): number {
    return 0;
  }
  /** readiness: /dev/random has a poll method that reports it readable, and never writable; the rest have none. */
  override readiness(): number {
    return this.dev.kind === 'random' ? POLLIN | POLLRDNORM : DEFAULT_POLLMASK;
  }
  stat(): Promise<Stat> {
    return this.dev.attr();
  }
}

class DeviceNode extends SyntheticNode {
  constructor(readonly kind: Device) {
    super(baseAttr(DEV_DEV, S_IFCHR | 0o666), TMPFS_MAGIC);
    this.a.rdev = RDEV[kind];
  }
  async open(flags: number): Promise<FileDescription> {
    if (flags & O_PATH) return new PathFile(this, flags);
    return new DeviceFile(this, flags);
  }
}

/**
 * devfs makes /dev. `shm` is the tmpfs for /dev/shm; `tty` gives the
 * terminal when the sandbox has one (/dev/tty), else ENXIO.
 */
export function devfs(shm: VNode, tty: (caller: Caller | undefined) => FileDescription | undefined): VNode {
  const devices = new Map<string, VNode>();
  for (const kind of ['null', 'zero', 'full', 'random', 'urandom'] as Device[]) devices.set(kind, new DeviceNode(kind));
  const link = (target: string) => new SynLink(DEV_DEV, TMPFS_MAGIC, () => target);
  devices.set('stdin', link('/proc/self/fd/0'));
  devices.set('stdout', link('/proc/self/fd/1'));
  devices.set('stderr', link('/proc/self/fd/2'));
  devices.set('fd', link('/proc/self/fd'));
  devices.set('tty', new SynLink(DEV_DEV, TMPFS_MAGIC, (c) => (tty(c) ? '/dev/tty' : ''), (c) => {
    const f = tty(c);
    if (!f) throw ENXIO;
    return f;
  }));
  devices.set('shm', shm);
  return new SynDir(DEV_DEV, TMPFS_MAGIC, () => devices, 0o755);
}
