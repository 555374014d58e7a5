// api.ts is the contract between the Sentry's VFS and the Gofer: what the
// Sentry may ask of the file server, and what it gets back. The Gofer
// resolves nothing by path: the Sentry walks one name at a time from a
// mount's root, so every symlink is resolved by the Sentry in the
// sandbox's own view, and the Gofer only ever moves one component down
// from a directory it already holds (never "..", never a name with "/").
//
// Every call returns a promise. Failures reject with a GoferError whose
// errno is Linux's (ENOENT, EACCES, EROFS, ...). If the Gofer process dies
// or stops answering, every pending and later call rejects with EIO.

/** Handle names a file the Gofer holds open for the Sentry (an O_PATH descriptor on its side). */
export type Handle = number;

/** GoferStat is the whole of a `struct stat` as the host reports it; times are nanoseconds since the epoch. */
export interface GoferStat {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export interface Walked {
  handle: Handle;
  stat: GoferStat;
}

export interface DirEntry {
  name: string;
  ino: number;
  /** type is the DT_* value from getdents64 (DT_DIR = 4, DT_REG = 8, DT_LNK = 10, ...). */
  type: number;
}

export interface StatFs {
  type: number; bsize: number; blocks: number; bfree: number; bavail: number;
  files: number; ffree: number; namelen: number; frsize: number; flags: number;
}

/** MountSpec is one tree the Gofer serves: the root (index 0) or a --mount source. */
export interface MountSpec {
  /** hostPath is an absolute host directory. */
  hostPath: string;
  /** writable: false makes the Gofer itself refuse every change with EROFS. */
  writable: boolean;
}

export class GoferError extends Error {
  constructor(readonly errno: number, message?: string) {
    super(message ?? `gofer error ${errno}`);
  }
}

export interface Gofer {
  /** attach returns the root of mount `index` (the order given at start). */
  attach(index: number): Promise<Walked>;
  /** lookup finds `name` (one component, not "." or "..", no "/") in directory `dir`, without following a symlink there. */
  lookup(dir: Handle, name: string): Promise<Walked>;
  stat(h: Handle): Promise<GoferStat>;
  /**
   * open opens a file the Sentry walked to, for I/O; `flags` are Linux open
   * flags (access mode, O_APPEND, O_TRUNC; never O_CREAT here). It returns
   * a new handle for the open file.
   */
  open(h: Handle, flags: number): Promise<Handle>;
  /** create makes and opens `name` in `dir` (O_CREAT|O_EXCL semantics with `mode`), with `flags`' access mode. */
  create(dir: Handle, name: string, flags: number, mode: number): Promise<Walked>;
  /** read reads at most `length` bytes at `offset` of an open file; fewer at the end of the file. */
  read(h: Handle, offset: number, length: number): Promise<Uint8Array>;
  /** write writes `data` at `offset` (or at the end when the file was opened with O_APPEND) and returns how much it wrote. */
  write(h: Handle, offset: number, data: Uint8Array): Promise<number>;
  /** readdir returns every entry of a directory, "." and ".." included. */
  readdir(h: Handle): Promise<DirEntry[]>;
  readlink(h: Handle): Promise<string>;
  mkdir(dir: Handle, name: string, mode: number): Promise<Walked>;
  symlink(dir: Handle, name: string, target: string): Promise<Walked>;
  /** link makes `name` in `dir` a new name for `target`. */
  link(target: Handle, dir: Handle, name: string): Promise<void>;
  /** unlink removes a file, or an empty directory when `dir` is true (EISDIR/ENOTDIR/ENOTEMPTY as Linux). */
  unlink(parent: Handle, name: string, isDir: boolean): Promise<void>;
  /** rename moves oldDir/oldName to newDir/newName, as renameat2 with `flags` (RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2). */
  rename(oldDir: Handle, oldName: string, newDir: Handle, newName: string, flags: number): Promise<void>;
  truncate(h: Handle, size: number): Promise<void>;
  chmod(h: Handle, mode: number): Promise<void>;
  /** chown changes owner and group; -1 leaves one unchanged. */
  chown(h: Handle, uid: number, gid: number): Promise<void>;
  /** utimens sets the times in nanoseconds; null leaves one unchanged (UTIME_OMIT). */
  utimens(h: Handle, atimeNs: bigint | null, mtimeNs: bigint | null): Promise<void>;
  statfs(h: Handle): Promise<StatFs>;
  fsync(h: Handle): Promise<void>;
  /**
   * takeFd gives the Sentry a descriptor of its own for a file opened with
   * `open` (duplicated from the Gofer with pidfd_getfd), so that reads need
   * no round trip; undefined when it cannot. The Gofer opened the file: the
   * Sentry still opens no host file itself.
   */
  takeFd?(h: Handle): number | undefined;
  /** close forgets a handle; closing an unknown handle is harmless. */
  close(h: Handle): Promise<void>;
  /** shutdown ends the Gofer process and rejects what is pending with EIO. */
  shutdown(): Promise<void>;
  /** onDeath is called once if the Gofer dies or hangs while the Sentry still needs it. */
  onDeath: ((why: string) => void) | undefined;
}

/** StartOptions start a Gofer for a sandbox. */
export interface StartOptions {
  mounts: MountSpec[];
}
