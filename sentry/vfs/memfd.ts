// memfd.ts: memfd_create(2) files. A memfd is a file of a tmpfs that no
// tree shows (Linux's internal shm mount), unlinked from the start, so
// /proc/PID/fd shows it as "/memfd:NAME (deleted)"; its pages count
// against the sandbox's memory. Seals (fcntl F_ADD_SEALS) refuse what
// they seal: writes, shrinking, growing, and more seals.
import { EBUSY, EINVAL, EPERM } from '../errno.js';
import { O_LARGEFILE, O_RDWR, type FileDescription } from './file.js';
import { TmpDir, TmpFile, Tmpfs } from './tmpfs.js';
import type { MemoryFile } from '../mm/memory-file.js';
import type { SharedMemory } from '../mm/mm.js';
import { Dentry, type Mount } from './vfs.js';
import type { Creds } from './node.js';

export const F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8, F_SEAL_FUTURE_WRITE = 0x10, F_SEAL_EXEC = 0x20;
const ALL_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;

const MEMFD_MOUNT: Mount = { source: 'memfd', fstype: 'tmpfs', readOnly: false, target: '/' };

/** MemfdFile is a memfd's node: a tmpfs file without a name, which keeps its seals (its pages go with its last open file and mapping). */
export class MemfdFile extends TmpFile {
  seals: number;

  constructor(fs: Tmpfs, mode: number, creds: Creds, seals: number) {
    super(fs, mode, creds);
    this.a.nlink = 0;
    this.seals = seals;
  }

  /**
   * addSeals implements F_ADD_SEALS: EINVAL for unknown seals, EPERM once
   * F_SEAL_SEAL is set, EBUSY for F_SEAL_WRITE while a shared mapping that
   * may write maps the file.
   */
  addSeals(seals: number): void {
    if (seals & ~ALL_SEALS) throw EINVAL;
    if (this.seals & F_SEAL_SEAL) throw EPERM;
    if (seals & F_SEAL_WRITE && !(this.seals & F_SEAL_WRITE) && this.memory()?.mappedWritable()) throw EBUSY;
    this.seals |= seals;
  }

  override write(offset: number, data: Uint8Array, append: boolean): number {
    if (this.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) throw EPERM;
    const at = append ? this.size() : offset;
    if (this.seals & F_SEAL_GROW && at + data.length > this.size()) throw EPERM;
    return super.write(offset, data, append);
  }

  /** sharedMemory refuses a mapping that writes once writes are sealed. */
  override sharedMemory(writable: boolean, mem?: MemoryFile): SharedMemory | undefined {
    if (writable && this.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) throw EPERM;
    return super.sharedMemory(writable, mem);
  }

  protected override resize(size: number): void {
    if ((size < this.size() && this.seals & F_SEAL_SHRINK) || (size > this.size() && this.seals & F_SEAL_GROW)) throw EPERM;
    super.resize(size);
  }
}

/** MemfdFs is a sandbox's hidden tmpfs for memfds, charged to its memory. */
class MemfdFs {
  readonly fs: Tmpfs;
  readonly root: Dentry;
  constructor(mem: MemoryFile) {
    this.fs = new Tmpfs('memfd', mem);
    this.root = new Dentry('', undefined, new TmpDir(this.fs, 0o1777, { uid: 0, gid: 0 }), MEMFD_MOUNT);
  }
}

const memfdFs = new WeakMap<MemoryFile, MemfdFs>();

/**
 * newMemfd makes a memfd named `name`, opened for reading and writing,
 * whose pages live in (and count against) the memory file mem. Without `sealing` it starts sealed
 * with F_SEAL_SEAL; with `noexec` its mode has no execute bits and
 * F_SEAL_EXEC keeps it so.
 */
export async function newMemfd(mem: MemoryFile, name: string, creds: Creds, sealing: boolean, noexec: boolean): Promise<FileDescription> {
  let mfs = memfdFs.get(mem);
  if (!mfs) memfdFs.set(mem, (mfs = new MemfdFs(mem)));
  const seals = noexec ? F_SEAL_EXEC : sealing ? 0 : F_SEAL_SEAL;
  const node = new MemfdFile(mfs.fs, noexec ? 0o666 : 0o777, creds, seals);
  const file = await node.open(O_RDWR);
  file.statusFlags = O_RDWR | O_LARGEFILE;
  // Its dentry names it as Linux's d_path does a deleted file of the shm mount.
  file.dentry = new Dentry(`memfd:${name} (deleted)`, mfs.root, node, MEMFD_MOUNT);
  file.path = file.dentry.path;
  return file;
}
