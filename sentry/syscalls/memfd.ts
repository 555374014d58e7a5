// memfd.ts: memfd_create(2) (the file is vfs/memfd.ts; its seals are fcntl's).
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { partial } from './table.js';
import { EFAULT, EINVAL } from '../errno.js';
import { newMemfd } from '../vfs/memfd.js';

const MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2, MFD_HUGETLB = 4, MFD_NOEXEC_SEAL = 8, MFD_EXEC = 0x10;
/** MFD_NAME_MAX is the longest name: NAME_MAX less "memfd:". */
const MFD_NAME_MAX = 249;

/**
 * memfd_create implements memfd_create(2): EINVAL for unknown flags, for
 * MFD_EXEC with MFD_NOEXEC_SEAL, for MFD_HUGETLB (no huge pages here) and
 * for a name longer than 249 bytes; EFAULT for a bad name.
 */
export async function memfdCreate(t: Task, a: SyscallArgs): Promise<number> {
  const nameAddr = a.pointer(0);
  const flags = a.uint(1);
  if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC) || flags & MFD_HUGETLB) throw EINVAL;
  if (flags & MFD_EXEC && flags & MFD_NOEXEC_SEAL) throw EINVAL;
  if (nameAddr === 0) throw EFAULT;
  const name = t.mm.readString(nameAddr, MFD_NAME_MAX + 1);
  if (name === undefined) throw EINVAL;
  const file = await newMemfd(t.mm.mem, name, t.creds.owner, (flags & MFD_ALLOW_SEALING) !== 0, (flags & MFD_NOEXEC_SEAL) !== 0);
  return t.fds.install(file, (flags & MFD_CLOEXEC) !== 0);
}

export function register(): void {
  partial(319, memfdCreate, 'no MFD_HUGETLB; mmap of the file is not offered yet (ENODEV), as for every file', 's,x');
}
