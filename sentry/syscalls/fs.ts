// fs.ts: the system calls on paths and on open files of the VFS: open and
// its family, stat, directories, links, attributes, sizes, the working
// directory, and the data-moving calls (sendfile, copy_file_range).
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full, partial } from './table.js';
import {
  E2BIG, EACCES, EAGAIN, EBADF, EBUSY, EEXIST, ENODEV, EFAULT, EINVAL, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR,
  ENODATA, ENOTEMPTY, EOPNOTSUPP, EPERM, ERANGE, EROFS, ESPIPE, EXDEV,
} from '../errno.js';
import {
  O_ACCMODE, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH,
  O_TMPFILE, O_TRUNC, O_WRONLY, SEEK_CUR, SEEK_SET, type FileDescription, type Stat,
} from '../vfs/file.js';
import { writeBlocking } from './blocking.js';
import { Directory } from '../vfs/open-file.js';
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, type Attr, type Caller, type SetAttr } from '../vfs/node.js';
import { PATH_MAX, type Dentry } from '../vfs/vfs.js';
import { dropOwner } from '../vfs/locks.js';
import { CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, type Credentials } from '../kernel/credentials.js';

export const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_SYMLINK_FOLLOW = 0x400, AT_EMPTY_PATH = 0x1000;
const AT_EACCESS = 0x200;
const UTIME_NOW = 0x3fffffff, UTIME_OMIT = 0x3ffffffe;
const F_OK = 0, X_OK = 1, W_OK = 2;
/** MAX_RW is Linux's cap on one read or write (MAX_RW_COUNT). */
export const MAX_RW = 0x7ffff000;

/** readPath reads a path argument: EFAULT for a bad pointer, ENAMETOOLONG past PATH_MAX. */
export function readPath(t: Task, addr: number): string {
  if (addr === 0) throw EFAULT;
  const p = t.mm.readString(addr, PATH_MAX);
  if (p === undefined) throw ENAMETOOLONG;
  return p;
}

/** callerOf is the task as path resolution sees it: /proc/self and its fds. */
function callerOf(t: Task): Caller {
  return {
    pid: t.proc.pid,
    tid: t.tid,
    fd: (n: number) => {
      try {
        return t.fds.get(n);
      } catch {
        return undefined;
      }
    },
  };
}

/** startOf is where a path given with dirfd starts: the cwd, or a directory fd's dentry. */
function startOf(t: Task, dirfd: number, path: string): Dentry {
  if (path.startsWith('/')) return t.vfs.root;
  if (dirfd === AT_FDCWD) return t.cwd;
  const f = t.fds.get(dirfd);
  if (!f.dentry) throw ENOTDIR;
  return f.dentry;
}

/**
 * startAt is startOf for a path that is walked: a relative path from a
 * dirfd that is not a directory fails with ENOTDIR, as Linux's does.
 */
async function startAt(t: Task, dirfd: number, path: string): Promise<Dentry> {
  const start = startOf(t, dirfd, path);
  if (dirfd !== AT_FDCWD && !path.startsWith('/') && ((await start.node.attr()).mode & S_IFMT) !== S_IFDIR) throw ENOTDIR;
  return start;
}

/** at resolves (dirfd, path) as the *at calls do, honouring AT_EMPTY_PATH and AT_SYMLINK_NOFOLLOW. */
async function at(t: Task, dirfd: number, path: string, flags: number, follow = !(flags & AT_SYMLINK_NOFOLLOW)): Promise<Dentry> {
  if (path === '' && flags & AT_EMPTY_PATH) {
    if (dirfd === AT_FDCWD) return t.cwd;
    const f = t.fds.get(dirfd);
    if (!f.dentry) throw EBADF;
    return f.dentry;
  }
  if (path === '') throw ENOENT;
  return t.vfs.resolve(await startAt(t, dirfd, path), path, { follow }, callerOf(t));
}

/** resolveAt resolves (dirfd, path) as the *at calls do, for execveat's flags. */
export function resolveAt(t: Task, dirfd: number, path: string, flags: number): Promise<Dentry> {
  return at(t, dirfd, path, flags);
}

async function parentAt(t: Task, dirfd: number, path: string) {
  if (path === '') throw ENOENT;
  return t.vfs.resolveParent(await startAt(t, dirfd, path), path, callerOf(t));
}

// ---- stat ----

function encodeStat(s: Stat): Uint8Array {
  const b = new Uint8Array(144);
  const v = new DataView(b.buffer);
  const u64 = (o: number, x: number) => v.setBigUint64(o, BigInt(Math.max(0, Math.trunc(x))), true);
  const time = (o: number, ns: bigint) => {
    v.setBigInt64(o, ns / 1_000_000_000n, true);
    v.setBigInt64(o + 8, ns % 1_000_000_000n, true);
  };
  u64(0, s.dev); u64(8, s.ino); u64(16, s.nlink);
  v.setUint32(24, s.mode, true); v.setUint32(28, s.uid, true); v.setUint32(32, s.gid, true);
  u64(40, s.rdev); u64(48, s.size); u64(56, s.blksize); u64(64, s.blocks);
  time(72, s.atimeNs); time(88, s.mtimeNs); time(104, s.ctimeNs);
  return b;
}

const major = (dev: number) => ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
const minor = (dev: number) => (dev & 0xff) | ((dev >>> 12) & ~0xff);

function encodeStatx(s: Stat): Uint8Array {
  const b = new Uint8Array(256);
  const v = new DataView(b.buffer);
  const time = (o: number, ns: bigint) => {
    v.setBigInt64(o, ns / 1_000_000_000n, true);
    v.setUint32(o + 8, Number(ns % 1_000_000_000n), true);
  };
  v.setUint32(0, 0x7ff, true); // STATX_BASIC_STATS
  v.setUint32(4, s.blksize, true);
  v.setUint32(16, s.nlink, true);
  v.setUint32(20, s.uid, true);
  v.setUint32(24, s.gid, true);
  v.setUint16(28, s.mode, true);
  v.setBigUint64(32, BigInt(s.ino), true);
  v.setBigUint64(40, BigInt(s.size), true);
  v.setBigUint64(48, BigInt(s.blocks), true);
  time(64, s.atimeNs); time(96, s.ctimeNs); time(112, s.mtimeNs);
  v.setUint32(128, major(s.rdev), true);
  v.setUint32(132, minor(s.rdev), true);
  v.setUint32(136, major(s.dev), true);
  v.setUint32(140, minor(s.dev), true);
  return b;
}

async function statTo(t: Task, d: Dentry, buf: number): Promise<number> {
  t.mm.copyOut(buf, encodeStat(await d.node.attr()));
  return 0;
}

export async function stat(t: Task, a: SyscallArgs): Promise<number> {
  return statTo(t, await at(t, AT_FDCWD, readPath(t, a.pointer(0)), 0), a.pointer(1));
}

export async function lstat(t: Task, a: SyscallArgs): Promise<number> {
  return statTo(t, await at(t, AT_FDCWD, readPath(t, a.pointer(0)), AT_SYMLINK_NOFOLLOW), a.pointer(1));
}

export async function fstat(t: Task, a: SyscallArgs): Promise<number> {
  const f = t.fds.get(a.int(0));
  t.mm.copyOut(a.pointer(1), encodeStat(await f.stat()));
  return 0;
}

/** statOfAt stats (dirfd, path, flags), using the descriptor itself for AT_EMPTY_PATH on a non-VFS fd. */
async function statOfAt(t: Task, dirfd: number, path: string, flags: number): Promise<Attr> {
  if (path === '' && flags & AT_EMPTY_PATH && dirfd !== AT_FDCWD) return t.fds.get(dirfd).stat();
  return (await at(t, dirfd, path, flags)).node.attr();
}

export async function newfstatat(t: Task, a: SyscallArgs): Promise<number> {
  const flags = a.int(3);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800 /* AT_NO_AUTOMOUNT */)) throw EINVAL;
  const attr = await statOfAt(t, a.int(0), readPath(t, a.pointer(1)), flags);
  t.mm.copyOut(a.pointer(2), encodeStat(attr));
  return 0;
}

export async function statx(t: Task, a: SyscallArgs): Promise<number> {
  const flags = a.int(2);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800 | 0x6000 /* AT_STATX_SYNC_TYPE */)) throw EINVAL;
  if ((flags & 0x6000) === 0x6000) throw EINVAL;
  if (a.uint(3) & 0x80000000) throw EINVAL; // STATX__RESERVED
  const attr = await statOfAt(t, a.int(0), readPath(t, a.pointer(1)), flags);
  t.mm.copyOut(a.pointer(4), encodeStatx(attr));
  return 0;
}

function encodeStatfs(s: Awaited<ReturnType<Dentry['node']['statfs']>>): Uint8Array {
  const b = new Uint8Array(120);
  const v = new DataView(b.buffer);
  const u64 = (o: number, x: number) => v.setBigUint64(o, BigInt(Math.max(0, Math.trunc(x))), true);
  u64(0, s.type); u64(8, s.bsize); u64(16, s.blocks); u64(24, s.bfree); u64(32, s.bavail);
  u64(40, s.files); u64(48, s.ffree); u64(64, s.namelen); u64(72, s.frsize); u64(80, s.flags);
  return b;
}

export async function statfs(t: Task, a: SyscallArgs): Promise<number> {
  const d = await at(t, AT_FDCWD, readPath(t, a.pointer(0)), 0);
  t.mm.copyOut(a.pointer(1), encodeStatfs(await d.node.statfs()));
  return 0;
}

export async function fstatfs(t: Task, a: SyscallArgs): Promise<number> {
  const f = t.fds.get(a.int(0));
  if (!f.node) throw EINVAL;
  t.mm.copyOut(a.pointer(1), encodeStatfs(await f.node.statfs()));
  return 0;
}

// ---- open, close ----

const OPEN_FLAGS = O_ACCMODE | O_CREAT | O_EXCL | 0o400 | O_TRUNC | O_APPEND | 0o4000 | 0o10000 | 0o20000 |
  0o40000 | 0o100000 | O_DIRECTORY | O_NOFOLLOW | 0o1000000 | O_CLOEXEC | O_PATH | O_TMPFILE;

async function doOpen(t: Task, dirfd: number, path: string, flags: number, mode: number): Promise<number> {
  // O_TMPFILE needs unnamed files, which no filesystem here offers yet.
  if ((flags & O_TMPFILE) === O_TMPFILE) throw EOPNOTSUPP;
  if (flags & O_PATH) flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  if (path === '') throw ENOENT;
  const start = await startAt(t, dirfd, path);
  const { file } = await t.vfs.open(start, path, flags, (mode & 0o7777) & ~t.umask, t.creds.owner, callerOf(t));
  return t.fds.install(file, (flags & O_CLOEXEC) !== 0);
}

export function open(t: Task, a: SyscallArgs): Promise<number> {
  return doOpen(t, AT_FDCWD, readPath(t, a.pointer(0)), a.int(1) & OPEN_FLAGS, a.uint(2));
}

export function openat(t: Task, a: SyscallArgs): Promise<number> {
  return doOpen(t, a.int(0), readPath(t, a.pointer(1)), a.int(2) & OPEN_FLAGS, a.uint(3));
}

export function creat(t: Task, a: SyscallArgs): Promise<number> {
  return doOpen(t, AT_FDCWD, readPath(t, a.pointer(0)), O_CREAT | O_WRONLY | O_TRUNC, a.uint(1));
}

const RESOLVE_NO_XDEV = 1, RESOLVE_NO_MAGICLINKS = 2, RESOLVE_NO_SYMLINKS = 4, RESOLVE_BENEATH = 8, RESOLVE_IN_ROOT = 0x10, RESOLVE_CACHED = 0x20;

/** openat2 implements openat2(2): struct open_how, with RESOLVE_* checked as Linux does for the common cases. */
export async function openat2(t: Task, a: SyscallArgs): Promise<number> {
  const size = a.size(3);
  if (size < 24) throw EINVAL;
  if (size > 4096) throw E2BIG;
  const how = t.mm.copyIn(a.pointer(2), size);
  for (let i = 24; i < size; i++) if (how[i] !== 0) throw E2BIG;
  const v = new DataView(how.buffer);
  const flags = Number(v.getBigUint64(0, true));
  const mode = Number(v.getBigUint64(8, true));
  const resolve = Number(v.getBigUint64(16, true));
  if (flags & ~OPEN_FLAGS || resolve & ~0x3f) throw EINVAL;
  if (mode !== 0 && !(flags & O_CREAT) && (flags & O_TMPFILE) !== O_TMPFILE) throw EINVAL;
  if (mode & ~0o7777) throw EINVAL;
  // Nothing is cached in the sense RESOLVE_CACHED means: the caller must retry without it.
  if (resolve & RESOLVE_CACHED) throw EAGAIN;
  if (resolve & RESOLVE_BENEATH && resolve & RESOLVE_IN_ROOT) throw EINVAL;
  const dirfd = a.int(0);
  const path = readPath(t, a.pointer(1));
  if (resolve & (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS)) {
    await checkResolve(t, dirfd, path, resolve, !(flags & O_NOFOLLOW));
  }
  if (resolve & RESOLVE_IN_ROOT) {
    // The dirfd is the root of the walk: "/", absolute links and ".." stay in it.
    const root = dirfd === AT_FDCWD ? t.cwd : t.fds.get(dirfd).dentry;
    if (!root) throw ENOTDIR;
    const { file } = await t.vfs.open(root, path.replace(/^\/+/, '') || '.', flags, mode & ~t.umask, t.creds.owner, callerOf(t), 0, root);
    return t.fds.install(file, (flags & O_CLOEXEC) !== 0);
  }
  return doOpen(t, dirfd, path, flags, mode);
}

/**
 * checkResolve refuses what RESOLVE_BENEATH (an absolute path or a ".."
 * above the start: EXDEV) and RESOLVE_NO_SYMLINKS (any symlink: ELOOP)
 * forbid, walking the path as the kernel would.
 */
async function checkResolve(t: Task, dirfd: number, path: string, resolve: number, followLast: boolean): Promise<void> {
  if (resolve & RESOLVE_BENEATH && path.startsWith('/')) throw EXDEV;
  let depth = 0;
  let links = 0;
  let cur = startOf(t, dirfd, path);
  let comps = path.split('/').filter((c) => c !== '' && c !== '.');
  for (let i = 0; i < comps.length; i++) {
    const c = comps[i];
    if (c === '..') {
      if (resolve & RESOLVE_BENEATH && depth === 0) throw EXDEV;
      depth = Math.max(0, depth - 1);
      cur = cur.parent ?? cur;
      continue;
    }
    const next = await t.vfs.lookupIn(cur, c);
    if (!next) return;
    if (((await next.node.attr()).mode & S_IFMT) === S_IFLNK && (followLast || i < comps.length - 1)) {
      if (resolve & RESOLVE_NO_SYMLINKS) throw ELOOP;
      if (++links > 40) return;
      const target = await next.node.readlink();
      if (resolve & RESOLVE_BENEATH && target.startsWith('/')) throw EXDEV;
      comps = [...target.split('/').filter((x) => x !== '' && x !== '.'), ...comps.slice(i + 1)];
      i = -1;
      continue;
    }
    depth++;
    cur = next;
  }
}

export function close(t: Task, a: SyscallArgs): number {
  const f = t.fds.get(a.int(0));
  // Closing any fd of a file drops the process's record locks on it.
  if (f.node) dropOwner(f.node, t.tid);
  t.fds.close(a.int(0));
  return 0;
}

const CLOSE_RANGE_UNSHARE = 2, CLOSE_RANGE_CLOEXEC = 4;

export function closeRange(t: Task, a: SyscallArgs): number {
  const first = a.uint(0);
  const last = a.uint(1);
  const flags = a.uint(2);
  if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) || first > last) throw EINVAL;
  for (const [fd, e] of t.fds.entries()) {
    if (fd < first || fd > last) continue;
    if (flags & CLOSE_RANGE_CLOEXEC) e.cloexec = true;
    else t.fds.close(fd);
  }
  return 0;
}

// ---- directories ----

export async function getdents64(t: Task, a: SyscallArgs): Promise<number> {
  const f = t.fds.get(a.int(0));
  if (f.statusFlags & O_PATH) throw EBADF;
  if (!(f instanceof Directory)) throw f.dentry ? ENOTDIR : EBADF;
  const size = Math.min(a.size(2), MAX_RW);
  const out: Uint8Array[] = [];
  let used = 0;
  const entries = await f.getdents(Math.max(1, Math.floor(size / 24)));
  let taken = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const reclen = (19 + name.length + 1 + 7) & ~7;
    if (used + reclen > size) break;
    const rec = new Uint8Array(reclen);
    const v = new DataView(rec.buffer);
    v.setBigUint64(0, BigInt(e.ino), true);
    taken++;
    v.setBigInt64(8, BigInt(f.offset - entries.length + taken), true);
    v.setUint16(16, reclen, true);
    rec[18] = e.type;
    rec.set(name, 19);
    out.push(rec);
    used += reclen;
  }
  f.unread(entries.length - taken);
  if (taken === 0 && entries.length > 0) throw EINVAL;
  const buf = new Uint8Array(used);
  let off = 0;
  for (const r of out) {
    buf.set(r, off);
    off += r.length;
  }
  t.mm.copyOut(a.pointer(1), buf);
  return used;
}

/**
 * freeName finds the directory and name a new node at path goes to:
 * EEXIST when the name is taken, ENOENT in a removed directory, EROFS on
 * a read-only mount.
 */
async function freeName(t: Task, dirfd: number, path: string): Promise<{ parent: Dentry; name: string }> {
  const { parent, name } = await parentAt(t, dirfd, path);
  if (name === '.' || name === '..' || name === '/' || (await t.vfs.lookupIn(parent, name))) throw EEXIST;
  if (parent.dead) throw ENOENT;
  if (parent.mount.readOnly) throw EROFS;
  return { parent, name };
}

async function doMkdir(t: Task, dirfd: number, path: string, mode: number): Promise<number> {
  const { parent, name } = await freeName(t, dirfd, path);
  await parent.node.mkdir(name, (mode & 0o7777) & ~t.umask, t.creds.owner);
  parent.forget(name);
  return 0;
}

/** mknodAt makes a node of `mode` (type and permissions, less the umask) at path, as bind(2) makes a socket file. */
export async function mknodAt(t: Task, dirfd: number, path: string, mode: number): Promise<Dentry> {
  const { parent, name } = await freeName(t, dirfd, path);
  await parent.node.mknod(name, (mode & S_IFMT) | (mode & 0o7777 & ~t.umask), t.creds.owner);
  parent.forget(name);
  return (await t.vfs.lookupIn(parent, name))!;
}

export function mkdir(t: Task, a: SyscallArgs): Promise<number> {
  return doMkdir(t, AT_FDCWD, readPath(t, a.pointer(0)), a.uint(1));
}

export function mkdirat(t: Task, a: SyscallArgs): Promise<number> {
  return doMkdir(t, a.int(0), readPath(t, a.pointer(1)), a.uint(2));
}

async function doUnlink(t: Task, dirfd: number, path: string, dir: boolean): Promise<number> {
  const { parent, name, trailingSlash } = await parentAt(t, dirfd, path);
  if (dir) {
    if (name === '.') throw EINVAL;
    if (name === '..') throw ENOTEMPTY;
    if (name === '/') throw EBUSY;
  } else if (name === '.' || name === '..' || name === '/') {
    throw EISDIR;
  }
  const child = await t.vfs.lookupIn(parent, name);
  if (!child) throw ENOENT;
  const type = (await child.node.attr()).mode & S_IFMT;
  if (!dir && trailingSlash) throw type === S_IFDIR ? EISDIR : ENOTDIR;
  if (dir && type !== S_IFDIR) throw ENOTDIR;
  if (parent.mount.readOnly) throw EROFS;
  if (dir) {
    if (child.mount !== parent.mount) throw EBUSY;
    await parent.node.rmdir(name);
    child.dead = true;
  } else {
    if (type === S_IFDIR) throw EISDIR;
    await parent.node.unlink(name);
  }
  parent.forget(name);
  return 0;
}

export function rmdir(t: Task, a: SyscallArgs): Promise<number> {
  return doUnlink(t, AT_FDCWD, readPath(t, a.pointer(0)), true);
}

export function unlink(t: Task, a: SyscallArgs): Promise<number> {
  return doUnlink(t, AT_FDCWD, readPath(t, a.pointer(0)), false);
}

export function unlinkat(t: Task, a: SyscallArgs): Promise<number> {
  const flags = a.int(2);
  if (flags & ~AT_REMOVEDIR) throw EINVAL;
  return doUnlink(t, a.int(0), readPath(t, a.pointer(1)), (flags & AT_REMOVEDIR) !== 0);
}

async function doRename(t: Task, olddirfd: number, oldPath: string, newdirfd: number, newPath: string, flags: number): Promise<number> {
  if (flags & ~7 || (flags & 1 && flags & 2)) throw EINVAL;
  if (flags & 4) throw EINVAL; // RENAME_WHITEOUT needs privileges tvisor does not grant
  const from = await parentAt(t, olddirfd, oldPath);
  const to = await parentAt(t, newdirfd, newPath);
  if (['.', '..', '/'].includes(from.name) || ['.', '..', '/'].includes(to.name)) throw EBUSY;
  const child = await t.vfs.lookupIn(from.parent, from.name);
  if (!child) throw ENOENT;
  const type = (await child.node.attr()).mode & S_IFMT;
  if ((from.trailingSlash || to.trailingSlash) && type !== S_IFDIR) throw ENOTDIR;
  if (from.parent.mount !== to.parent.mount) throw EXDEV;
  if (from.parent.mount.readOnly) throw EROFS;
  // A directory may not move below itself.
  if (type === S_IFDIR) for (let d: Dentry | undefined = to.parent; d; d = d.parent) if (d === child) throw EINVAL;
  await from.parent.node.rename(from.name, to.parent.node, to.name, flags);
  from.parent.forget(from.name);
  to.parent.forget(to.name);
  return 0;
}

export function rename(t: Task, a: SyscallArgs): Promise<number> {
  return doRename(t, AT_FDCWD, readPath(t, a.pointer(0)), AT_FDCWD, readPath(t, a.pointer(1)), 0);
}

export function renameat(t: Task, a: SyscallArgs): Promise<number> {
  return doRename(t, a.int(0), readPath(t, a.pointer(1)), a.int(2), readPath(t, a.pointer(3)), 0);
}

export function renameat2(t: Task, a: SyscallArgs): Promise<number> {
  return doRename(t, a.int(0), readPath(t, a.pointer(1)), a.int(2), readPath(t, a.pointer(3)), a.uint(4));
}

async function doLink(t: Task, olddirfd: number, oldPath: string, newdirfd: number, newPath: string, flags: number): Promise<number> {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) throw EINVAL;
  const target = await at(t, olddirfd, oldPath, flags & AT_EMPTY_PATH, (flags & AT_SYMLINK_FOLLOW) !== 0);
  if (((await target.node.attr()).mode & S_IFMT) === S_IFDIR) throw EPERM;
  const { parent, name, trailingSlash } = await parentAt(t, newdirfd, newPath);
  if (name === '.' || name === '..' || name === '/' || (await t.vfs.lookupIn(parent, name))) throw EEXIST;
  if (trailingSlash) throw ENOENT;
  if (parent.mount !== target.mount) throw EXDEV;
  if (parent.mount.readOnly) throw EROFS;
  await parent.node.link(name, target.node);
  parent.forget(name);
  return 0;
}

export function link(t: Task, a: SyscallArgs): Promise<number> {
  return doLink(t, AT_FDCWD, readPath(t, a.pointer(0)), AT_FDCWD, readPath(t, a.pointer(1)), 0);
}

export function linkat(t: Task, a: SyscallArgs): Promise<number> {
  return doLink(t, a.int(0), readPath(t, a.pointer(1)), a.int(2), readPath(t, a.pointer(3)), a.int(4));
}

async function doSymlink(t: Task, target: string, newdirfd: number, path: string): Promise<number> {
  if (target === '') throw ENOENT;
  const { parent, name } = await parentAt(t, newdirfd, path);
  if (name === '.' || name === '..' || name === '/' || (await t.vfs.lookupIn(parent, name))) throw EEXIST;
  if (parent.mount.readOnly) throw EROFS;
  await parent.node.symlink(name, target, t.creds.owner);
  parent.forget(name);
  return 0;
}

export function symlink(t: Task, a: SyscallArgs): Promise<number> {
  return doSymlink(t, readPath(t, a.pointer(0)), AT_FDCWD, readPath(t, a.pointer(1)));
}

export function symlinkat(t: Task, a: SyscallArgs): Promise<number> {
  return doSymlink(t, readPath(t, a.pointer(0)), a.int(1), readPath(t, a.pointer(2)));
}

async function doReadlink(t: Task, dirfd: number, path: string, buf: number, size: number): Promise<number> {
  if (size <= 0) throw EINVAL;
  const d = await at(t, dirfd, path, AT_EMPTY_PATH, false);
  if (((await d.node.attr()).mode & S_IFMT) !== S_IFLNK) throw path === '' ? ENOENT : EINVAL;
  const target = Buffer.from(await d.node.readlink()).subarray(0, size);
  t.mm.copyOut(buf, target);
  return target.length;
}

export function readlink(t: Task, a: SyscallArgs): Promise<number> {
  return doReadlink(t, AT_FDCWD, readPath(t, a.pointer(0)), a.pointer(1), a.int(2));
}

export function readlinkat(t: Task, a: SyscallArgs): Promise<number> {
  return doReadlink(t, a.int(0), readPath(t, a.pointer(1)), a.pointer(2), a.int(3));
}

// ---- access and attributes ----

/**
 * permits checks an access mode against a node's mode for credentials c,
 * as Linux's generic_permission: the owner's, the group's or the others'
 * bits by c's filesystem ids; then CAP_DAC_READ_SEARCH lets it read
 * anything and search directories, and CAP_DAC_OVERRIDE do anything but
 * execute a file that nobody may execute.
 */
function permits(c: Credentials, attr: Attr, want: number): boolean {
  const bits = attr.uid === c.fsuid ? (attr.mode >> 6) & 7 : c.inGroup(attr.gid) ? (attr.mode >> 3) & 7 : attr.mode & 7;
  if ((bits & want) === want) return true;
  const dir = (attr.mode & S_IFMT) === S_IFDIR;
  if (!(want & W_OK) && (dir || !(want & X_OK)) && c.capable(CAP_DAC_READ_SEARCH)) return true;
  return (dir || !(want & X_OK) || (attr.mode & 0o111) !== 0) && c.capable(CAP_DAC_OVERRIDE);
}

async function doAccess(t: Task, dirfd: number, path: string, mode: number, flags: number): Promise<number> {
  if (mode & ~7) throw EINVAL;
  if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw EINVAL;
  const d = await at(t, dirfd, path, flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH));
  if (mode === F_OK) return 0;
  if (mode & W_OK && d.mount.readOnly) throw EROFS;
  // access checks as the real user; AT_EACCESS as the effective one.
  if (!permits(flags & AT_EACCESS ? t.creds : t.creds.forAccess(), await d.node.attr(), mode)) throw EACCES;
  return 0;
}

export function access(t: Task, a: SyscallArgs): Promise<number> {
  return doAccess(t, AT_FDCWD, readPath(t, a.pointer(0)), a.int(1), 0);
}

export function faccessat(t: Task, a: SyscallArgs): Promise<number> {
  return doAccess(t, a.int(0), readPath(t, a.pointer(1)), a.int(2), 0);
}

export function faccessat2(t: Task, a: SyscallArgs): Promise<number> {
  return doAccess(t, a.int(0), readPath(t, a.pointer(1)), a.int(2), a.int(3));
}

async function setattrOf(d: Dentry, change: SetAttr): Promise<number> {
  if (d.mount.readOnly) throw EROFS;
  await d.node.setattr(change);
  return 0;
}

/** fdDentry is the dentry an fd opened (EBADF for O_PATH where the call needs a real open). */
function fdDentry(t: Task, fd: number, allowPath = true): Dentry {
  const f = t.fds.get(fd);
  if (!f.dentry) throw EINVAL;
  if (!allowPath && f.statusFlags & O_PATH) throw EBADF;
  return f.dentry;
}

/**
 * chmodOf changes the mode, with Linux's checks: only the owner may, or a
 * task with CAP_FOWNER; set-group-ID is dropped when the file's group is
 * not the task's, unless it holds CAP_FSETID.
 */
async function chmodOf(t: Task, d: Dentry, mode: number): Promise<number> {
  if (d.mount.readOnly) throw EROFS;
  const attr = await d.node.attr();
  const c = t.creds;
  if (attr.uid !== c.fsuid && !c.capable(CAP_FOWNER)) throw EPERM;
  if (!c.inGroup(attr.gid) && !c.capable(CAP_FSETID)) mode &= ~S_ISGID;
  return setattrOf(d, { mode: mode & 0o7777 });
}

export async function chmod(t: Task, a: SyscallArgs): Promise<number> {
  return chmodOf(t, await at(t, AT_FDCWD, readPath(t, a.pointer(0)), 0), a.uint(1));
}

export function fchmod(t: Task, a: SyscallArgs): Promise<number> {
  return chmodOf(t, fdDentry(t, a.int(0), false), a.uint(1));
}

export async function fchmodat(t: Task, a: SyscallArgs): Promise<number> {
  return chmodOf(t, await at(t, a.int(0), readPath(t, a.pointer(1)), 0), a.uint(2));
}

/**
 * chownOf changes owner and group, with Linux's checks (chown_ok,
 * chgrp_ok): without CAP_CHOWN, only the owner may, giving the file to
 * itself and to its own groups. As on Linux, a change (even to the same
 * ids) clears set-user-ID, and set-group-ID when group execute is set, of
 * anything but a directory.
 */
async function chownOf(t: Task, d: Dentry, uid: number, gid: number): Promise<number> {
  const change: SetAttr = {};
  if (uid !== -1) change.uid = uid >>> 0;
  if (gid !== -1) change.gid = gid >>> 0;
  if (change.uid === undefined && change.gid === undefined) return setattrOf(d, {});
  if (d.mount.readOnly) throw EROFS;
  const attr = await d.node.attr();
  const c = t.creds;
  if (!c.capable(CAP_CHOWN)) {
    const owner = attr.uid === c.fsuid;
    if (change.uid !== undefined && !(owner && change.uid === attr.uid)) throw EPERM;
    if (change.gid !== undefined && !(owner && (change.gid === attr.gid || c.inGroup(change.gid)))) throw EPERM;
  }
  const mode = attr.mode;
  if ((mode & S_IFMT) !== S_IFDIR && (mode & S_IFMT) !== S_IFLNK) {
    const cleared = mode & ~(S_ISUID | (mode & 0o010 ? S_ISGID : 0));
    if (cleared !== mode) change.mode = cleared & 0o7777;
  }
  return setattrOf(d, change);
}
const S_ISUID = 0o4000, S_ISGID = 0o2000;

export async function chown(t: Task, a: SyscallArgs): Promise<number> {
  return chownOf(t, await at(t, AT_FDCWD, readPath(t, a.pointer(0)), 0), a.int(1), a.int(2));
}

export async function lchown(t: Task, a: SyscallArgs): Promise<number> {
  return chownOf(t, await at(t, AT_FDCWD, readPath(t, a.pointer(0)), AT_SYMLINK_NOFOLLOW), a.int(1), a.int(2));
}

export function fchown(t: Task, a: SyscallArgs): Promise<number> {
  return chownOf(t, fdDentry(t, a.int(0), false), a.int(1), a.int(2));
}

export async function fchownat(t: Task, a: SyscallArgs): Promise<number> {
  const flags = a.int(4);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw EINVAL;
  return chownOf(t, await at(t, a.int(0), readPath(t, a.pointer(1)), flags), a.int(2), a.int(3));
}

/** readTimes reads a pair of struct timespec for utimensat (null: both now). */
function readTimes(t: Task, addr: number): { atimeNs?: bigint; mtimeNs?: bigint } {
  const now = BigInt(Date.now()) * 1_000_000n;
  if (addr === 0) return { atimeNs: now, mtimeNs: now };
  const v = new DataView(t.mm.copyIn(addr, 32).buffer);
  const one = (o: number): bigint | undefined => {
    const sec = v.getBigInt64(o, true);
    const nsec = v.getBigInt64(o + 8, true);
    if (nsec === BigInt(UTIME_OMIT)) return undefined;
    if (nsec === BigInt(UTIME_NOW)) return now;
    if (nsec < 0n || nsec > 999_999_999n) throw EINVAL;
    return sec * 1_000_000_000n + nsec;
  };
  const out: { atimeNs?: bigint; mtimeNs?: bigint } = {};
  const at0 = one(0);
  const mt = one(16);
  if (at0 !== undefined) out.atimeNs = at0;
  if (mt !== undefined) out.mtimeNs = mt;
  return out;
}

export async function utimensat(t: Task, a: SyscallArgs): Promise<number> {
  const flags = a.int(3);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw EINVAL;
  const times = readTimes(t, a.pointer(2));
  const pathAddr = a.pointer(1);
  // A null path means the fd itself (futimens).
  const d = pathAddr === 0 ? fdDentry(t, a.int(0)) : await at(t, a.int(0), readPath(t, pathAddr), flags);
  if (times.atimeNs === undefined && times.mtimeNs === undefined) return 0;
  return setattrOf(d, times);
}

/** readTimevals reads a pair of struct timeval (utimes, futimesat); null means now. */
function readTimevals(t: Task, addr: number): { atimeNs: bigint; mtimeNs: bigint } {
  const now = BigInt(Date.now()) * 1_000_000n;
  if (addr === 0) return { atimeNs: now, mtimeNs: now };
  const v = new DataView(t.mm.copyIn(addr, 32).buffer);
  const one = (o: number) => {
    const usec = v.getBigInt64(o + 8, true);
    if (usec < 0n || usec > 999_999n) throw EINVAL;
    return v.getBigInt64(o, true) * 1_000_000_000n + usec * 1000n;
  };
  return { atimeNs: one(0), mtimeNs: one(16) };
}

export async function futimesat(t: Task, a: SyscallArgs): Promise<number> {
  return setattrOf(await at(t, a.int(0), readPath(t, a.pointer(1)), 0), readTimevals(t, a.pointer(2)));
}

export async function utimes(t: Task, a: SyscallArgs): Promise<number> {
  return setattrOf(await at(t, AT_FDCWD, readPath(t, a.pointer(0)), 0), readTimevals(t, a.pointer(1)));
}

export async function utime(t: Task, a: SyscallArgs): Promise<number> {
  const d = await at(t, AT_FDCWD, readPath(t, a.pointer(0)), 0);
  const addr = a.pointer(1);
  if (addr === 0) {
    const now = BigInt(Date.now()) * 1_000_000n;
    return setattrOf(d, { atimeNs: now, mtimeNs: now });
  }
  const v = new DataView(t.mm.copyIn(addr, 16).buffer);
  return setattrOf(d, { atimeNs: v.getBigInt64(0, true) * 1_000_000_000n, mtimeNs: v.getBigInt64(8, true) * 1_000_000_000n });
}

// ---- sizes and syncing ----

export async function truncate(t: Task, a: SyscallArgs): Promise<number> {
  const len = a.long(1);
  if (len < 0) throw EINVAL;
  const d = await at(t, AT_FDCWD, readPath(t, a.pointer(0)), 0);
  const type = (await d.node.attr()).mode & S_IFMT;
  if (type === S_IFDIR) throw EISDIR;
  if (type !== S_IFREG) throw EINVAL;
  return setattrOf(d, { size: len });
}

export async function ftruncate(t: Task, a: SyscallArgs): Promise<number> {
  const len = a.long(1);
  if (len < 0) throw EINVAL;
  const f = t.fds.get(a.int(0));
  if (f.statusFlags & O_PATH) throw EBADF;
  if (!f.dentry || ((await f.stat()).mode & S_IFMT) !== S_IFREG) throw EINVAL;
  if (!f.writable) throw EINVAL;
  await f.truncate(len);
  return 0;
}

const FALLOC_FL_KEEP_SIZE = 1;

export async function fallocate(t: Task, a: SyscallArgs): Promise<number> {
  const f = t.fds.get(a.int(0));
  const mode = a.int(1);
  const offset = a.long(2);
  const len = a.long(3);
  if (offset < 0 || len <= 0) throw EINVAL;
  if (!f.writable) throw EBADF;
  if (!f.dentry) throw ESPIPE;
  const type = (await f.stat()).mode & S_IFMT;
  if (type === S_IFDIR) throw EISDIR;
  if (type !== S_IFREG) throw ENODEV;
  if (mode & ~FALLOC_FL_KEEP_SIZE) throw EOPNOTSUPP;
  const size = (await f.stat()).size;
  if (!(mode & FALLOC_FL_KEEP_SIZE) && offset + len > size) await f.truncate(offset + len);
  return 0;
}

export async function fsync(t: Task, a: SyscallArgs): Promise<number> {
  const f = t.fds.get(a.int(0));
  if (f.statusFlags & O_PATH) throw EBADF;
  await f.sync();
  return 0;
}

/** sync has nothing to flush: the overlay lives in memory, and rw mounts write through the Gofer. */
export function sync(_t: Task, _a: SyscallArgs): number {
  return 0;
}

export function syncfs(t: Task, a: SyscallArgs): number {
  t.fds.get(a.int(0));
  return 0;
}

// ---- the working directory and the mask ----

export async function chdir(t: Task, a: SyscallArgs): Promise<number> {
  const d = await at(t, AT_FDCWD, readPath(t, a.pointer(0)), 0);
  const attr = await d.node.attr();
  if ((attr.mode & S_IFMT) !== S_IFDIR) throw ENOTDIR;
  if (!permits(t.creds, attr, X_OK)) throw EACCES;
  t.cwd = d;
  return 0;
}

export async function fchdir(t: Task, a: SyscallArgs): Promise<number> {
  const f = t.fds.get(a.int(0));
  if (!f.dentry) throw ENOTDIR;
  if (((await f.dentry.node.attr()).mode & S_IFMT) !== S_IFDIR) throw ENOTDIR;
  t.cwd = f.dentry;
  return 0;
}

export function getcwd(t: Task, a: SyscallArgs): number {
  for (let d: Dentry | undefined = t.cwd; d; d = d.parent) if (d.dead) throw ENOENT;
  const buf = Buffer.from(t.cwd.path + '\0');
  if (a.size(1) < buf.length) throw ERANGE;
  t.mm.copyOut(a.pointer(0), buf);
  return buf.length;
}

export function umask(t: Task, a: SyscallArgs): number {
  const old = t.umask;
  t.umask = a.uint(0) & 0o777;
  return old;
}

// ---- moving data between files ----

/**
 * pump copies up to `count` bytes from the file `src` (at srcOff, or at
 * its offset) to `dst` (at dstOff, or as write(2) does, but it stops at
 * a full pipe once it has written something). Its reads are positional
 * and the offset moves by what was written, so a short write loses
 * nothing. An error after some bytes ends the copy with their count.
 */
async function pump(
  t: Task, src: FileDescription, srcOff: number | undefined, dst: FileDescription, dstOff: number | undefined, count: number,
): Promise<number> {
  const start = srcOff ?? await src.seek(0, SEEK_CUR);
  let done = 0;
  try {
    while (done < count) {
      const data = await src.pread(start + done, Math.min(count - done, 1 << 20));
      if (data.length === 0) break;
      const n = await (dstOff === undefined ? writeBlocking(t, dst, data, { partial: true }) : dst.pwrite(dstOff + done, data));
      done += n;
      if (n < data.length) break;
    }
  } catch (err) {
    if (done === 0) throw err;
  } finally {
    if (srcOff === undefined) await src.seek(start + done, SEEK_SET);
  }
  return done;
}

export async function sendfile(t: Task, a: SyscallArgs): Promise<number> {
  const out = t.fds.get(a.int(0));
  const inp = t.fds.get(a.int(1));
  if (!inp.readable || !out.writable) throw EBADF;
  // It reads only from files: not from a directory, a pipe or a stream.
  if (inp instanceof Directory || !inp.positional) throw EINVAL;
  if (out.statusFlags & O_APPEND) throw EINVAL;
  const offAddr = a.pointer(2);
  const count = Math.min(a.size(3), MAX_RW);
  if (offAddr === 0) return pump(t, inp, undefined, out, undefined, count);
  const off = t.mm.readI64(offAddr);
  if (off < 0n) throw EINVAL;
  const n = await pump(t, inp, Number(off), out, undefined, count);
  t.mm.writeU64(offAddr, off + BigInt(n));
  return n;
}

export async function copyFileRange(t: Task, a: SyscallArgs): Promise<number> {
  const inp = t.fds.get(a.int(0));
  const out = t.fds.get(a.int(2));
  if (a.uint(5) !== 0) throw EINVAL;
  if (!inp.readable || !out.writable || out.statusFlags & O_APPEND) throw EBADF;
  const [si, so] = await Promise.all([inp.stat(), out.stat()]);
  if ((si.mode & S_IFMT) === S_IFDIR || (so.mode & S_IFMT) === S_IFDIR) throw EISDIR;
  if ((si.mode & S_IFMT) !== S_IFREG || (so.mode & S_IFMT) !== S_IFREG) throw EINVAL;
  const inAddr = a.pointer(1);
  const outAddr = a.pointer(3);
  const count = Math.min(a.size(4), MAX_RW);
  const inOff = inAddr === 0 ? undefined : Number(t.mm.readI64(inAddr));
  const outOff = outAddr === 0 ? undefined : Number(t.mm.readI64(outAddr));
  if ((inOff !== undefined && inOff < 0) || (outOff !== undefined && outOff < 0)) throw EINVAL;
  if (si.dev === so.dev && si.ino === so.ino) {
    // Within one file the ranges may not overlap.
    const from = inOff ?? Number(await inp.seek(0, 1));
    const to = outOff ?? Number(await out.seek(0, 1));
    if (from < to + count && to < from + count) throw EINVAL;
  }
  const n = await pump(t, inp, inOff, out, outOff, count);
  if (inAddr !== 0) t.mm.writeU64(inAddr, inOff! + n);
  if (outAddr !== 0) t.mm.writeU64(outAddr, outOff! + n);
  return n;
}

// ---- extended attributes: no file has any, and none can be set ----

const NO_XATTRS = 'no file has extended attributes (ENODATA); setting one is EOPNOTSUPP';
/** XATTR_NAME_MAX is the longest attribute name; longer or empty ones are ERANGE. */
const XATTR_NAME_MAX = 255;

/** xattrTarget resolves an xattr call's file: a path (followed or not) or an fd, then checks the name. */
async function xattrTarget(t: Task, a: SyscallArgs, how: 'follow' | 'nofollow' | 'fd', name: boolean): Promise<Dentry> {
  const d = how === 'fd' ? fdDentry(t, a.int(0), false) : await at(t, AT_FDCWD, readPath(t, a.pointer(0)), 0, how === 'follow');
  if (name) {
    const n = t.mm.readString(a.pointer(1), XATTR_NAME_MAX + 1);
    if (n === undefined || n.length === 0) throw ERANGE;
  }
  return d;
}

const getxattrOf = (how: 'follow' | 'nofollow' | 'fd') => async (t: Task, a: SyscallArgs): Promise<number> => {
  await xattrTarget(t, a, how, true);
  throw ENODATA;
};
const listxattrOf = (how: 'follow' | 'nofollow' | 'fd') => async (t: Task, a: SyscallArgs): Promise<number> => {
  await xattrTarget(t, a, how, false);
  return 0;
};
const setxattrOf = (how: 'follow' | 'nofollow' | 'fd') => async (t: Task, a: SyscallArgs): Promise<number> => {
  await xattrTarget(t, a, how, true);
  throw EOPNOTSUPP;
};
const removexattrOf = (how: 'follow' | 'nofollow' | 'fd') => async (t: Task, a: SyscallArgs): Promise<number> => {
  await xattrTarget(t, a, how, true);
  throw ENODATA;
};
const getxattr = getxattrOf('follow'), lgetxattr = getxattrOf('nofollow'), fgetxattr = getxattrOf('fd');
const listxattr = listxattrOf('follow'), llistxattr = listxattrOf('nofollow'), flistxattr = listxattrOf('fd');
const setxattr = setxattrOf('follow'), lsetxattr = setxattrOf('nofollow'), fsetxattr = setxattrOf('fd');
const removexattr = removexattrOf('follow'), lremovexattr = removexattrOf('nofollow'), fremovexattr = removexattrOf('fd');

export function register(): void {
  full(2, open, 's,o,m');
  full(257, openat, 'd,s,o,m');
  partial(437, openat2, 'RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS are checked on the path; RESOLVE_IN_ROOT resolves as usual', 'd,s,p,u');
  full(85, creat, 's,m');
  full(3, close, 'd');
  full(436, closeRange, 'u,u,x');
  full(4, stat, 's,p');
  full(6, lstat, 's,p');
  full(5, fstat, 'd,p');
  full(262, newfstatat, 'd,s,p,x');
  partial(332, statx, 'the basic fields (STATX_BASIC_STATS); no birth time', 'd,s,x,x,p');
  full(137, statfs, 's,p');
  full(138, fstatfs, 'd,p');
  full(21, access, 's,d');
  full(269, faccessat, 'd,s,d');
  full(439, faccessat2, 'd,s,d,x');
  full(217, getdents64, 'd,p,u');
  full(83, mkdir, 's,m');
  full(258, mkdirat, 'd,s,m');
  full(84, rmdir, 's');
  full(87, unlink, 's');
  full(263, unlinkat, 'd,s,x');
  partial(82, rename, 'a directory with contents in the read-only layer cannot move (EXDEV), as on overlayfs', 's,s');
  partial(264, renameat, 'as rename', 'd,s,d,s');
  partial(316, renameat2, 'as rename; RENAME_WHITEOUT is refused', 'd,s,d,s,x');
  full(86, link, 's,s');
  full(265, linkat, 'd,s,d,s,x');
  full(88, symlink, 's,s');
  full(266, symlinkat, 's,d,s');
  full(89, readlink, 's,p,d');
  full(267, readlinkat, 'd,s,p,d');
  full(90, chmod, 's,m');
  full(91, fchmod, 'd,m');
  full(268, fchmodat, 'd,s,m');
  full(92, chown, 's,d,d');
  full(93, fchown, 'd,d,d');
  full(94, lchown, 's,d,d');
  full(260, fchownat, 'd,s,d,d,x');
  full(280, utimensat, 'd,s,p,x');
  full(261, futimesat, 'd,s,p');
  full(235, utimes, 's,p');
  full(132, utime, 's,p');
  full(76, truncate, 's,d');
  full(77, ftruncate, 'd,d');
  partial(285, fallocate, 'mode 0 and FALLOC_FL_KEEP_SIZE; no hole punching', 'd,x,d,d');
  full(74, fsync, 'd');
  full(75, fsync, 'd');
  full(162, sync, '');
  full(306, syncfs, 'd');
  full(80, chdir, 's');
  full(81, fchdir, 'd');
  full(79, getcwd, 'p,u');
  full(95, umask, 'm');
  full(40, sendfile, 'd,d,p,u');
  full(326, copyFileRange, 'd,p,d,p,u,x');
  for (const [nr, get] of [[191, getxattr], [192, lgetxattr], [193, fgetxattr]] as const) partial(nr, get, NO_XATTRS, 's,s,p,u');
  for (const [nr, list] of [[194, listxattr], [195, llistxattr], [196, flistxattr]] as const) partial(nr, list, NO_XATTRS, 's,p,u');
  for (const [nr, set] of [[188, setxattr], [189, lsetxattr], [190, fsetxattr]] as const) partial(nr, set, NO_XATTRS, 's,s,p,u,x');
  for (const [nr, remove] of [[197, removexattr], [198, lremovexattr], [199, fremovexattr]] as const) partial(nr, remove, NO_XATTRS, 's,s');
}

