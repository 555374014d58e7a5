// gofer-addon.d.ts types the raw Gofer addon (gofer/native/gofer.cc). Every
// call returns its result, or -errno when it fails.
export interface GoferAddon {
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  /** fstatat fills out (16 numbers, see ring.ts STAT_FIELDS) and returns 0. */
  fstatat(fd: number, path: string, flags: number, out: Float64Array): number;
  getdents64(fd: number, buffer: Uint8Array): number;
  /** lseek sets a directory's position to a d_off cookie (SEEK_SET) and returns 0. */
  lseek(fd: number, offset: bigint): number;
  readlinkat(fd: number, path: string, buffer: Uint8Array): number;
  mkdirat(dirfd: number, name: string, mode: number): number;
  symlinkat(target: string, dirfd: number, name: string): number;
  linkat(oldDirfd: number, oldPath: string, newDirfd: number, newName: string, flags: number): number;
  unlinkat(dirfd: number, name: string, flags: number): number;
  renameat2(oldDirfd: number, oldName: string, newDirfd: number, newName: string, flags: number): number;
  fchmodat(dirfd: number, path: string, mode: number): number;
  fchownat(fd: number, path: string, uid: number, gid: number, flags: number): number;
  /** utimensat takes [atime s, atime ns, mtime s, mtime ns]; ns may be UTIME_OMIT. */
  utimensat(fd: number, path: string, times: Float64Array, flags: number): number;
  /** fstatfs fills out (10 numbers, see ring.ts STATFS_FIELDS) and returns 0. */
  fstatfs(fd: number, out: Float64Array): number;
  fsync(fd: number): number;
  ftruncate(fd: number, length: number): number;
  /** pread fills buffer from offset, short only at the end of the file. */
  pread(fd: number, buffer: Uint8Array, offset: number): number;
  /** pwrite writes all of buffer at offset. */
  pwrite(fd: number, buffer: Uint8Array, offset: number): number;
  close(fd: number): number;
  /** futexWait sleeps while words[index] === expected, at most timeoutMs (forever when negative). */
  futexWait(words: Int32Array, index: number, expected: number, timeoutMs: number): number;
  futexWake(words: Int32Array, index: number, count: number): number;
  prctl(option: number, arg: number): number;
}
