// node.ts: what every filesystem of the VFS offers, one node (inode) at a
// time. The VFS (vfs.ts) walks names and holds dentries; a filesystem
// only answers for a node: its attributes, the names in it, and its data.
// Methods are async, since a node may live in the Gofer.
import { EINVAL, ENOTDIR, EOPNOTSUPP, EPERM } from '../errno.js';
import type { FileDescription } from './file.js';
import type { SharedMemory } from '../mm/mm.js';
import type { MemoryFile } from '../mm/memory-file.js';

export const S_IFMT = 0o170000, S_IFSOCK = 0o140000, S_IFLNK = 0o120000, S_IFREG = 0o100000;
export const S_IFBLK = 0o060000, S_IFDIR = 0o040000, S_IFCHR = 0o020000, S_IFIFO = 0o010000;
export const DT_FIFO = 1, DT_CHR = 2, DT_DIR = 4, DT_BLK = 6, DT_REG = 8, DT_LNK = 10, DT_SOCK = 12;

/** dtype is the getdents64 type of a mode. */
export function dtype(mode: number): number {
  switch (mode & S_IFMT) {
    case S_IFDIR: return DT_DIR;
    case S_IFREG: return DT_REG;
    case S_IFLNK: return DT_LNK;
    case S_IFCHR: return DT_CHR;
    case S_IFBLK: return DT_BLK;
    case S_IFIFO: return DT_FIFO;
    case S_IFSOCK: return DT_SOCK;
    default: return 0;
  }
}

/**
 * Attr is a node's attributes, the whole of a struct stat, times in
 * nanoseconds: the same record the Gofer's contract defines for a host file.
 */
export type Attr = GoferStat;

/** SetAttr is a change of attributes; absent fields stay as they are. */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atimeNs?: bigint;
  mtimeNs?: bigint;
}

// A directory entry and statfs's answer are the same whoever serves them:
// the Gofer's contract defines them once.
export type { DirEntry, StatFs } from '../../gofer/api.js';
import type { DirEntry, GoferStat, StatFs } from '../../gofer/api.js';

/** Caller is the task a path is resolved for: procfs's "self" and its fds. */
export interface Caller {
  /** pid is the caller's process id (/proc/self), tid its thread's (/proc/thread-self). */
  pid: number;
  tid: number;
  fd(n: number): FileDescription | undefined;
}

/** Creds are who makes a change: the owner of what it creates. */
export interface Creds {
  uid: number;
  gid: number;
}

/**
 * VNode is a node of some filesystem. The defaults refuse what a node of
 * that kind cannot do; each filesystem overrides what it can.
 */
export abstract class VNode {
  abstract attr(): Promise<Attr>;

  /** lookup finds one name in a directory; undefined when there is none. */
  lookup(_name: string): Promise<VNode | undefined> {
    return Promise.reject(ENOTDIR);
  }
  /** readdir lists a directory's names, without "." and "..". */
  readdir(): Promise<DirEntry[]> {
    return Promise.reject(ENOTDIR);
  }
  create(_name: string, _mode: number, _creds: Creds): Promise<VNode> {
    return Promise.reject(ENOTDIR);
  }
  mkdir(_name: string, _mode: number, _creds: Creds): Promise<VNode> {
    return Promise.reject(ENOTDIR);
  }
  symlink(_name: string, _target: string, _creds: Creds): Promise<VNode> {
    return Promise.reject(ENOTDIR);
  }
  /** mknod makes a FIFO or socket node (devices are refused). */
  mknod(_name: string, _mode: number, _creds: Creds): Promise<VNode> {
    return Promise.reject(EPERM);
  }
  link(_name: string, _target: VNode): Promise<void> {
    return Promise.reject(ENOTDIR);
  }
  /** unlink removes a non-directory name; rmdir an empty directory. */
  unlink(_name: string): Promise<void> {
    return Promise.reject(ENOTDIR);
  }
  rmdir(_name: string): Promise<void> {
    return Promise.reject(ENOTDIR);
  }
  /** rename moves this directory's `name` to `newName` in newDir (a node of the same filesystem). */
  rename(_name: string, _newDir: VNode, _newName: string, _flags: number): Promise<void> {
    return Promise.reject(ENOTDIR);
  }
  /** readlink reads a symlink; `caller` is who follows it (procfs's self). */
  readlink(_caller?: Caller): Promise<string> {
    return Promise.reject(EINVAL);
  }
  /**
   * magic is what a procfs fd link stands for when it names no file of the
   * tree (a pipe, a stream): following it reaches that description.
   */
  magic(_caller?: Caller): FileDescription | undefined {
    return undefined;
  }
  setattr(_a: SetAttr): Promise<void> {
    return Promise.reject(EPERM);
  }
  /** open makes a file description for this node; `flags` are open(2)'s. */
  abstract open(flags: number): Promise<FileDescription>;
  statfs(): Promise<StatFs> {
    return Promise.reject(EOPNOTSUPP);
  }
  /**
   * contentKey names the node's contents as they are now, for the page
   * cache: a key that changes whenever the contents could have changed, or
   * undefined when the node has none (its contents are not cached).
   */
  contentKey(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }
  /**
   * sharedMemory is the memory a shared mapping of the node maps (a tmpfs
   * file's contents, or a host file's while shared mappings map it),
   * undefined when a mapping is to come from the page cache (it cannot
   * write); `writable` asks for a mapping that writes (EPERM when the node
   * is sealed against writes). `mem` is the memory file a host file's
   * contents are brought into.
   */
  sharedMemory(_writable: boolean, _mem: MemoryFile): SharedMemory | undefined | Promise<SharedMemory | undefined> {
    return undefined;
  }
}

/** nowNs is the realtime clock in nanoseconds. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
