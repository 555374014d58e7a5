// mm.ts: the memory-management system calls.
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full, partial } from './table.js';
import { EACCES, EBADF, EEXIST, EINVAL, ENODEV, ENOMEM } from '../errno.js';
import { O_ACCMODE, O_PATH, O_RDWR, O_WRONLY } from '../vfs/file.js';
import { S_IFMT, S_IFREG } from '../vfs/node.js';
import { PAGE_SIZE, USER_ADDRESS_LIMIT, pageUp } from '../mm/mm.js';
import { Perm } from '../platform.js';

const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4, PROT_GROWSDOWN = 0x01000000, PROT_GROWSUP = 0x02000000;
const MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_SHARED_VALIDATE = 3, MAP_TYPE = 0xf;
const MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_32BIT = 0x40, MAP_POPULATE = 0x8000, MAP_FIXED_NOREPLACE = 0x100000;

/** protToPerm maps PROT_* to page permissions; on x86 write and exec imply read. */
function protToPerm(prot: number): Perm {
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)) throw EINVAL;
  let p = Perm.None as number;
  if (prot & PROT_READ) p |= Perm.Read;
  if (prot & PROT_WRITE) p |= Perm.Write | Perm.Read;
  if (prot & PROT_EXEC) p |= Perm.Exec | Perm.Read;
  return p as Perm;
}

/**
 * mmap implements mmap(2): anonymous memory, shared or private, and
 * private mappings of regular files (MAP_SHARED too, where it cannot
 * write), from the page cache.
 */
export function mmap(t: Task, a: SyscallArgs): number | Promise<number> {
  const addr = a.pointer(0);
  const length = a.size(1);
  const prot = a.int(2);
  const flags = a.int(3);
  const fd = a.int(4);
  const offset = a.big(5);
  // Validate in Linux's order: offset, length, type, then the file.
  if (offset & 0xfffn) throw EINVAL;
  if (length === 0) throw EINVAL;
  const len = pageUp(length);
  if (len > USER_ADDRESS_LIMIT) throw ENOMEM;
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) throw EINVAL;
  const perm = protToPerm(prot);
  if (!(flags & MAP_ANONYMOUS)) return mmapFile(t, addr, len, perm, flags, fd, Number(offset));
  // Anonymous memory is shared or private; MAP_SHARED_VALIDATE is for files.
  if (type === MAP_SHARED_VALIDATE) throw EINVAL;
  const start = placement(t, addr, len, flags);
  t.mm.map(start, len, perm, type !== MAP_PRIVATE, '');
  if (flags & MAP_POPULATE) for (let p = start; p < start + len; p += PAGE_SIZE) t.mm.fault(p, Perm.None);
  return start;
}

/** placement is where a new mapping of len bytes goes: MAP_FIXED's address, the hint if free, or a free range. */
function placement(t: Task, addr: number, len: number, flags: number): number {
  let start: number;
  if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
    if (addr % PAGE_SIZE !== 0) throw EINVAL;
    if (addr + len > USER_ADDRESS_LIMIT) throw ENOMEM;
    if (flags & MAP_FIXED_NOREPLACE && !(flags & MAP_FIXED) && !t.mm.rangeFree(addr, addr + len)) throw EEXIST;
    start = addr;
  } else {
    const hint = addr - (addr % PAGE_SIZE);
    if (hint >= PAGE_SIZE * 16 && hint + len <= USER_ADDRESS_LIMIT && t.mm.rangeFree(hint, hint + len)) {
      start = hint;
    } else {
      start = t.mm.findFree(len, flags & MAP_32BIT ? 0x80000000 : undefined);
      if (start < 0) throw ENOMEM;
    }
  }
  return start;
}

/** PREFAULT_FILE bounds how much of a file mapping is mapped at once (every fault is an exit), and PREFAULT_COPY how much of a writable one is copied. */
const PREFAULT_FILE = 16 << 20;
const PREFAULT_COPY = 1 << 20;

/**
 * mmapFile maps a regular file. A private mapping's pages come from the
 * page cache, shared by every mapping of the same file and copied on a
 * write. A shared mapping of a tmpfs file (a memfd, /dev/shm, a file the
 * program wrote) maps the file's own memory, so its writes are the file's;
 * a shared mapping that writes a host file (on a writable mount) maps the
 * file's contents brought into memory, written back to the host at msync,
 * fsync and when the last mapping goes (goferfs.ts, SharedFile).
 */
async function mmapFile(t: Task, addr: number, len: number, perm: Perm, flags: number, fd: number, offset: number): Promise<number> {
  const file = t.fds.get(fd);
  if (file.statusFlags & O_PATH) throw EBADF;
  const node = file.node;
  if (!node) throw ENODEV;
  const attr = await node.attr();
  if ((attr.mode & S_IFMT) !== S_IFREG) throw ENODEV;
  const mode = file.statusFlags & O_ACCMODE;
  if (mode === O_WRONLY) throw EACCES;
  const shared = (flags & MAP_TYPE) !== MAP_PRIVATE;
  const writes = (perm & Perm.Write) !== 0;
  if (shared && writes && mode !== O_RDWR) throw EACCES;
  const shm = shared ? await node.sharedMemory(writes, t.mm.mem) : undefined;
  if (shm) {
    // The place is found after the wait, as a thread may have mapped meanwhile.
    let start: number;
    try {
      start = placement(t, addr, len, flags);
    } catch (err) {
      // A host file's contents brought in for this mapping alone go again.
      if (shm.refs === 1) shm.owned?.idle();
      throw err;
    }
    t.mm.mapShared(start, len, perm, shm, file.dentry?.path ?? file.path, offset / PAGE_SIZE, mode !== O_RDWR);
    return start;
  }
  if (shared && writes) throw ENODEV; // a file whose contents cannot be shared (no filesystem left that way)
  const image = t.host.pageCache.get(await node.contentKey(), attr.size);
  try {
    const first = offset / PAGE_SIZE;
    await image.ensure(async () => {
      file.incRef();
      return { file, close: () => file.decRef() };
    }, first, first + len / PAGE_SIZE);
    const start = placement(t, addr, len, flags);
    t.mm.mapFile(start, len, perm, image, first, file.dentry?.path ?? file.path, shared);
    const write = (perm & Perm.Write) !== 0;
    t.mm.prefault(start, Math.min(start + len, start + (write ? PREFAULT_COPY : PREFAULT_FILE)), write);
    return start;
  } finally {
    image.unref();
  }
}

/** munmap implements munmap(2). */
export function munmap(t: Task, a: SyscallArgs): number {
  const addr = a.pointer(0);
  const length = a.size(1);
  if (addr % PAGE_SIZE !== 0 || length === 0) throw EINVAL;
  const len = pageUp(length);
  if (addr + len > USER_ADDRESS_LIMIT) throw EINVAL;
  t.mm.unmap(addr, len);
  return 0;
}

/** mprotect implements mprotect(2). */
export function mprotect(t: Task, a: SyscallArgs): number {
  const addr = a.pointer(0);
  const length = a.size(1);
  const perm = protToPerm(a.int(2));
  if (addr % PAGE_SIZE !== 0) throw EINVAL;
  if (length === 0) return 0;
  const end = addr + pageUp(length);
  if (end > USER_ADDRESS_LIMIT) throw ENOMEM;
  t.mm.protect(addr, end, perm);
  return 0;
}

const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;

/** mremap implements mremap(2) without MREMAP_DONTUNMAP. */
export function mremap(t: Task, a: SyscallArgs): number {
  const old = a.pointer(0);
  const oldLen = pageUp(a.size(1));
  const newLen = pageUp(a.size(2));
  const flags = a.int(3);
  const newAddr = a.pointer(4);
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) throw EINVAL;
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) throw EINVAL;
  if (flags & MREMAP_DONTUNMAP) throw EINVAL;
  if (old % PAGE_SIZE !== 0 || newLen === 0) throw EINVAL;
  if (flags & MREMAP_FIXED && (newAddr % PAGE_SIZE !== 0 || newAddr + newLen > USER_ADDRESS_LIMIT)) throw EINVAL;
  return t.mm.remap(old, oldLen, newLen, (flags & MREMAP_MAYMOVE) !== 0, flags & MREMAP_FIXED ? newAddr : undefined);
}

/** brk implements brk(2). */
export function brk(t: Task, a: SyscallArgs): number {
  return t.mm.setBrk(a.pointer(0));
}

const MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;

/**
 * msync implements msync(2): it checks its arguments and the range, as
 * Linux does, and writes back the host files the range maps shared (a
 * tmpfs file's mapping is the file itself: nothing to write).
 */
export function msync(t: Task, a: SyscallArgs): number | Promise<number> {
  const addr = a.pointer(0);
  const length = a.size(1);
  const flags = a.int(2);
  if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC) || addr % PAGE_SIZE !== 0) throw EINVAL;
  if (flags & MS_ASYNC && flags & MS_SYNC) throw EINVAL;
  const end = addr + pageUp(length);
  if (end > USER_ADDRESS_LIMIT) throw ENOMEM;
  t.mm.checkMapped(addr, end);
  // A host file's shared contents are written back (MS_ASYNC starts it, MS_SYNC waits).
  const owners = new Set(t.mm.vmas.filter((v) => v.start < end && v.end > addr && v.shm?.owned).map((v) => v.shm!.owned!));
  if (owners.size === 0) return 0;
  const done = Promise.all([...owners].map((o) => o.sync())).then(() => 0);
  if (flags & MS_SYNC) return done;
  done.catch(() => undefined);
  return 0;
}

/** mincore implements mincore(2): one byte a page, 1 where the page has a frame in the program's memory. */
export function mincore(t: Task, a: SyscallArgs): number {
  const addr = a.pointer(0);
  const length = a.size(1);
  const vec = a.pointer(2);
  if (addr % PAGE_SIZE !== 0) throw EINVAL;
  const end = addr + pageUp(length);
  if (end > USER_ADDRESS_LIMIT || end < addr) throw ENOMEM;
  t.mm.checkMapped(addr, end);
  const out = new Uint8Array((end - addr) / PAGE_SIZE);
  for (let i = 0; i < out.length; i++) out[i] = t.mm.resident(addr + i * PAGE_SIZE) ? 1 : 0;
  t.mm.copyOut(vec, out);
  return 0;
}

const MADV_DONTNEED = 4, MADV_FREE = 8;
/** MADV_HINTS are the advice values that change nothing here and succeed. */
const MADV_HINTS = new Set([0, 1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 25]);

/** madvise implements madvise(2): MADV_DONTNEED and MADV_FREE drop pages; hints are accepted. */
export function madvise(t: Task, a: SyscallArgs): number {
  const addr = a.pointer(0);
  const length = a.size(1);
  const advice = a.int(2);
  if (addr % PAGE_SIZE !== 0) throw EINVAL;
  if (advice !== MADV_DONTNEED && advice !== MADV_FREE && !MADV_HINTS.has(advice)) throw EINVAL;
  if (length === 0) return 0;
  const end = addr + pageUp(length);
  if (end > USER_ADDRESS_LIMIT) throw EINVAL;
  if (advice === MADV_DONTNEED || advice === MADV_FREE) t.mm.dontNeed(addr, end);
  else t.mm.checkMapped(addr, end);
  return 0;
}

export function register(): void {
  partial(9, mmap, 'a shared mapping of a host file reaches the host at msync, fsync and munmap, not at each store', 'p,u,x,x,d,x');
  full(26, msync, 'p,u,x');
  partial(27, mincore, 'a page counts as resident when it is mapped in the program, not when only the page cache has it', 'p,u,p');
  full(11, munmap, 'p,u');
  full(10, mprotect, 'p,u,x');
  partial(25, mremap, 'no MREMAP_DONTUNMAP', 'p,u,u,x,p');
  full(12, brk, 'p');
  partial(28, madvise, 'MADV_DONTNEED and MADV_FREE drop pages; other advice is accepted and ignored', 'p,u,d');
}
