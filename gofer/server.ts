// server.ts is the Gofer process: the only part of tvisor that touches the
// host's filesystem. client.ts spawns it with the ring memfd as fd 3; it
// waits as a spare until one configuration frame arrives on stdin (the
// mounts), opens an O_PATH descriptor for each mount's root, answers on
// stdout, and from then on serves the ring and nothing else, blocking in
// a futex when idle (it has nothing else to do).
//
// Confinement is structural: every file the Sentry names is a handle, an
// O_PATH descriptor this process holds; a walk moves one component down
// from a directory handle with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS
// | RESOLVE_NO_MAGICLINKS, O_NOFOLLOW), after names that are not one
// component ("", ".", "..", "/" or NUL inside) are refused. No path is ever
// resolved and no symlink followed: the Sentry reads a link and walks its
// target itself. Opening a handle for I/O reopens exactly the inode the
// handle holds, through /proc/self/fd/N, never by name. A read-only mount
// refuses every change with EROFS here, whatever the Sentry asks.
import { writeSync } from 'node:fs';
import { constants } from 'node:os';
import { Packr, Unpackr } from 'msgpackr';
import { sys } from './native/addon.js';
import {
  conformsAll, DATA_SIZE, DOORBELL, encodeFrame, GOFER_SLEEPING, MAGIC, MESSAGE_SIZE, MESSAGES, mapRing,
  nameError, Op, REPLY, replyLengthWord, REQUEST, requestLengthWord, RING_MAGIC, RING_SIZE, SENTRY_SLEEPING,
  SLOT_COUNT, STAT_FIELDS, STATFS_FIELDS, SYMLINK_MAX, stateWord, takeFrame, targetError, type RingView,
} from './ring.js';

const {
  EACCES, EBADF, EINVAL, EIO, EISDIR, ELOOP, ENOENT, ENOSYS, ENOTDIR, ENXIO, EOPNOTSUPP, EPERM, EROFS, EXDEV,
} = constants.errno;

const O_RDONLY = 0;
const O_WRONLY = 1;
const O_ACCMODE = 3;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_NOCTTY = 0o400;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const O_DSYNC = 0o10000;
const O_DIRECTORY = 0o200000;
const O_NOFOLLOW = 0o400000;
const O_NOATIME = 0o1000000;
const O_CLOEXEC = 0o2000000;
const O_SYNC = 0o4010000;
const O_PATH = 0o10000000;
const O_TMPFILE_BIT = 0o20000000;
/** OPEN_FLAGS are the flags open passes on; the rest (O_NOFOLLOW, O_DIRECT, O_NONBLOCK...) make no sense through a handle. */
const OPEN_FLAGS = O_ACCMODE | O_APPEND | O_TRUNC | O_DIRECTORY | O_SYNC | O_DSYNC | O_NOATIME;
const CREATE_FLAGS = O_ACCMODE | O_APPEND | O_SYNC | O_DSYNC;

const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_NO_SYMLINKS = 0x04;
const RESOLVE_BENEATH = 0x08;
const RESOLVE_CONFINED = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_REMOVEDIR = 0x200;
const AT_SYMLINK_FOLLOW = 0x400;
const AT_EMPTY_PATH = 0x1000;
const AT_HANDLE = AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

const RENAME_NOREPLACE = 1;
const RENAME_EXCHANGE = 2;
const UTIME_OMIT = (1 << 30) - 2;

const PR_SET_PDEATHSIG = 1;
const PR_SET_NO_NEW_PRIVS = 38;
const SIGKILL = 9;

/** RING_FD is where client.ts puts the ring memfd. */
const RING_FD = 3;
/** SPIN_MS is how long the Gofer spins for the next request before it sleeps. */
const SPIN_MS = 0.1;
/** DIRENTS_SIZE bounds the getdents64 records of one Readdir reply, so that its entries fit in MESSAGE_SIZE. */
const DIRENTS_SIZE = 32 * 1024;
/** DIRENT_MAX is the largest linux_dirent64 record (a 255-byte name). */
const DIRENT_MAX = 280;

interface Mount {
  fd: number;
  writable: boolean;
}

/** OpenHandle is what a handle stands for: a descriptor and what it was when opened. */
interface OpenHandle {
  fd: number;
  mount: number;
  /** type is the file's S_IFMT bits, which never change for an inode. */
  type: number;
  /** io is true for a descriptor opened for I/O (open, create), false for an O_PATH one. */
  io: boolean;
}

type Reply = unknown[];
const OK: Reply = [0];

/** Server holds the mounts, the handles, and the scratch buffers of the calls. */
class Server {
  private readonly handles = new Map<number, OpenHandle>();
  private nextHandle = 1;
  /** data is the data area of the slot being served. */
  data: Uint8Array = new Uint8Array(0);
  readonly stat = new Float64Array(STAT_FIELDS);
  readonly statfs = new Float64Array(STATFS_FIELDS);
  readonly times = new Float64Array(4);
  readonly dirents = Buffer.alloc(DIRENTS_SIZE);
  readonly link = Buffer.alloc(SYMLINK_MAX + 1);

  constructor(readonly mounts: Mount[]) {}

  get(h: number): OpenHandle | undefined {
    return this.handles.get(h);
  }

  add(fd: number, mount: number, type: number, io: boolean): number {
    const h = this.nextHandle++;
    this.handles.set(h, { fd, mount, type, io });
    return h;
  }

  remove(h: number): void {
    const f = this.handles.get(h);
    if (f === undefined) return;
    this.handles.delete(h);
    sys.close(f.fd);
  }

  writable(f: OpenHandle): boolean {
    return this.mounts[f.mount].writable;
  }
}

/** lookupAt opens name in dirfd as an O_PATH handle, confined and never following a link. */
function lookupAt(dirfd: number, name: string): number {
  return sys.openat2(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, RESOLVE_CONFINED);
}

/** procPath names the inode that fd holds, through its magic link. */
function procPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/** reopen opens the very inode f holds with flags (never by name, so never elsewhere). */
function reopen(f: OpenHandle, flags: number): number {
  return sys.openat2(AT_FDCWD, procPath(f.fd), flags | O_CLOEXEC | O_NOCTTY, 0, 0);
}

/**
 * KERNEL_FS are the host's kernel-interface filesystems (proc, sysfs,
 * debugfs, tracefs, securityfs, bpf, configfs, efivarfs, pstore, selinuxfs,
 * binfmt_misc): the Gofer never hands out a directory on one, so no
 * sandbox reaches the host's processes or kernel knobs through the root.
 * (The sandbox's own /proc and /dev are the Sentry's.)
 */
const KERNEL_FS = new Set([0x9fa0, 0x62656572, 0x64626720, 0x74726163, 0x73636673, 0xcafe4a11, 0x62656570, 0xde5e81e4, 0x6165676c, 0xf97cff8c, 0x42494e4d]);

/** walked makes a handle of a freshly opened descriptor (or passes its -errno on) and replies with it and its stat. */
function walked(s: Server, fd: number, mount: number, io: boolean): Reply {
  if (fd < 0) return [-fd];
  const r = sys.fstatat(fd, '', AT_HANDLE, s.stat);
  if (r < 0) {
    sys.close(fd);
    return [-r];
  }
  if ((s.stat[2] & S_IFMT) === S_IFDIR && sys.fstatfs(fd, s.statfs) === 0 && KERNEL_FS.has(s.statfs[0])) {
    sys.close(fd);
    return [EACCES];
  }
  return [0, s.add(fd, mount, s.stat[2] & S_IFMT, io), Array.from(s.stat)];
}

/** done replies to a call whose result is only success or -errno. */
function done(r: number): Reply {
  return r < 0 ? [-r] : OK;
}

type Handler = (s: Server, a: unknown[]) => Reply;

function attach(s: Server, a: unknown[]): Reply {
  const index = a[1] as number;
  const mount = s.mounts[index];
  if (mount === undefined) return [EINVAL];
  return walked(s, sys.openat2(mount.fd, '.', O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_BENEATH), index, false);
}

function lookup(s: Server, a: unknown[]): Reply {
  const dir = s.get(a[1] as number);
  const name = a[2] as string;
  if (dir === undefined) return [EBADF];
  const bad = nameError(name);
  if (bad) return [bad];
  return walked(s, lookupAt(dir.fd, name), dir.mount, false);
}

function stat(s: Server, a: unknown[]): Reply {
  const f = s.get(a[1] as number);
  if (f === undefined) return [EBADF];
  const r = sys.fstatat(f.fd, '', AT_HANDLE, s.stat);
  return r < 0 ? [-r] : [0, Array.from(s.stat)];
}

function open(s: Server, a: unknown[]): Reply {
  const f = s.get(a[1] as number);
  const flags = a[2] as number;
  if (f === undefined) return [EBADF];
  if (flags & (O_CREAT | O_PATH | O_TMPFILE_BIT)) return [EINVAL];
  if (f.type === S_IFLNK) return [ELOOP];
  // Only files and directories: opening a FIFO or a device would block or reach the host's devices.
  if (f.type !== S_IFREG && f.type !== S_IFDIR) return [ENXIO];
  const changes = (flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0;
  if (changes && !s.writable(f)) return [EROFS];
  const fd = reopen(f, flags & OPEN_FLAGS);
  if (fd < 0) return [-fd];
  // The fd number lets the Sentry take a read-only file's descriptor
  // (pidfd_getfd) and read it without a round trip per read.
  return [0, s.add(fd, f.mount, f.type, true), fd];
}

function create(s: Server, a: unknown[]): Reply {
  const dir = s.get(a[1] as number);
  const name = a[2] as string;
  const flags = a[3] as number;
  const mode = a[4] as number;
  if (dir === undefined) return [EBADF];
  const bad = nameError(name);
  if (bad) return [bad];
  if (!s.writable(dir)) return [EROFS];
  const how = (flags & CREATE_FLAGS) | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
  return walked(s, sys.openat2(dir.fd, name, how, mode & 0o7777, RESOLVE_CONFINED), dir.mount, true);
}

function read(s: Server, a: unknown[]): Reply {
  const f = s.get(a[1] as number);
  const offset = a[2] as number;
  const length = a[3] as number;
  if (f === undefined) return [EBADF];
  if (length > DATA_SIZE) return [EINVAL];
  const n = sys.pread(f.fd, s.data.subarray(0, length), offset);
  return n < 0 ? [-n] : [0, n];
}

function write(s: Server, a: unknown[]): Reply {
  const f = s.get(a[1] as number);
  const offset = a[2] as number;
  const length = a[3] as number;
  if (f === undefined) return [EBADF];
  if (length > DATA_SIZE) return [EINVAL];
  if (!s.writable(f)) return [EROFS];
  const n = sys.pwrite(f.fd, s.data.subarray(0, length), offset);
  return n < 0 ? [-n] : [0, n];
}

function readdir(s: Server, a: unknown[]): Reply {
  const dir = s.get(a[1] as number);
  const cookie = a[2] as bigint;
  if (dir === undefined) return [EBADF];
  if (dir.type !== S_IFDIR) return [ENOTDIR];
  const fd = reopen(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return [-fd];
  try {
    if (cookie !== 0n) {
      const r = sys.lseek(fd, cookie);
      if (r < 0) return [-r];
    }
    let used = 0;
    let end = false;
    while (used <= DIRENTS_SIZE - DIRENT_MAX) {
      const n = sys.getdents64(fd, s.dirents.subarray(used));
      if (n < 0 && used === 0) return [-n];
      if (n <= 0) {
        end = n === 0;
        break;
      }
      used += n;
    }
    return [0, ...parseDirents(s.dirents, used, cookie), end];
  } finally {
    sys.close(fd);
  }
}

/** parseDirents turns linux_dirent64 records into [name, ino, type] entries and the cookie after the last one. */
function parseDirents(b: Buffer, length: number, cookie: bigint): [Array<[string, number, number]>, bigint] {
  const entries: Array<[string, number, number]> = [];
  let next = cookie;
  for (let at = 0; at < length; at += b.readUInt16LE(at + 16)) {
    const nameEnd = b.indexOf(0, at + 19);
    entries.push([b.toString('utf8', at + 19, nameEnd), Number(b.readBigUInt64LE(at)), b[at + 18]]);
    next = b.readBigInt64LE(at + 8);
  }
  return [entries, next];
}

function readlink(s: Server, a: unknown[]): Reply {
  const f = s.get(a[1] as number);
  if (f === undefined) return [EBADF];
  if (f.type !== S_IFLNK) return [EINVAL];
  const n = sys.readlinkat(f.fd, '', s.link);
  return n < 0 ? [-n] : [0, s.link.toString('utf8', 0, n)];
}

function mkdir(s: Server, a: unknown[]): Reply {
  const dir = s.get(a[1] as number);
  const name = a[2] as string;
  const mode = a[3] as number;
  if (dir === undefined) return [EBADF];
  const bad = nameError(name);
  if (bad) return [bad];
  if (!s.writable(dir)) return [EROFS];
  const r = sys.mkdirat(dir.fd, name, mode & 0o7777);
  if (r < 0) return [-r];
  return walked(s, lookupAt(dir.fd, name), dir.mount, false);
}

function symlink(s: Server, a: unknown[]): Reply {
  const dir = s.get(a[1] as number);
  const name = a[2] as string;
  const target = a[3] as string;
  if (dir === undefined) return [EBADF];
  const bad = nameError(name) || targetError(target);
  if (bad) return [bad];
  if (!s.writable(dir)) return [EROFS];
  const r = sys.symlinkat(target, dir.fd, name);
  if (r < 0) return [-r];
  return walked(s, lookupAt(dir.fd, name), dir.mount, false);
}

function link(s: Server, a: unknown[]): Reply {
  const target = s.get(a[1] as number);
  const dir = s.get(a[2] as number);
  const name = a[3] as string;
  if (target === undefined || dir === undefined) return [EBADF];
  const bad = nameError(name);
  if (bad) return [bad];
  if (!s.writable(dir)) return [EROFS];
  if (target.mount !== dir.mount) return [EXDEV];
  if (target.type === S_IFDIR) return [EPERM];
  let r = sys.linkat(target.fd, '', dir.fd, name, AT_EMPTY_PATH);
  // Without CAP_DAC_READ_SEARCH, AT_EMPTY_PATH fails with ENOENT; the
  // magic link names the same inode (a symlink itself, not its target).
  if (r === -ENOENT) r = sys.linkat(AT_FDCWD, procPath(target.fd), dir.fd, name, AT_SYMLINK_FOLLOW);
  return done(r);
}

function unlink(s: Server, a: unknown[]): Reply {
  const dir = s.get(a[1] as number);
  const name = a[2] as string;
  const isDir = a[3] as boolean;
  if (dir === undefined) return [EBADF];
  const bad = nameError(name);
  if (bad) return [bad];
  if (!s.writable(dir)) return [EROFS];
  return done(sys.unlinkat(dir.fd, name, isDir ? AT_REMOVEDIR : 0));
}

function rename(s: Server, a: unknown[]): Reply {
  const oldDir = s.get(a[1] as number);
  const oldName = a[2] as string;
  const newDir = s.get(a[3] as number);
  const newName = a[4] as string;
  const flags = a[5] as number;
  if (oldDir === undefined || newDir === undefined) return [EBADF];
  const bad = nameError(oldName) || nameError(newName);
  if (bad) return [bad];
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) return [EINVAL];
  if (!s.writable(oldDir) || !s.writable(newDir)) return [EROFS];
  if (oldDir.mount !== newDir.mount) return [EXDEV];
  return done(sys.renameat2(oldDir.fd, oldName, newDir.fd, newName, flags));
}

function truncate(s: Server, a: unknown[]): Reply {
  const f = s.get(a[1] as number);
  const size = a[2] as number;
  if (f === undefined) return [EBADF];
  if (!s.writable(f)) return [EROFS];
  if (f.type === S_IFDIR) return [EISDIR];
  if (f.type !== S_IFREG) return [EINVAL];
  const fd = reopen(f, O_WRONLY);
  if (fd < 0) return [-fd];
  const r = sys.ftruncate(fd, size);
  sys.close(fd);
  return done(r);
}

function chmod(s: Server, a: unknown[]): Reply {
  const f = s.get(a[1] as number);
  const mode = a[2] as number;
  if (f === undefined) return [EBADF];
  if (!s.writable(f)) return [EROFS];
  // Linux has no mode for a symlink; through the magic link chmod would not reach it anyway.
  if (f.type === S_IFLNK) return [EOPNOTSUPP];
  return done(sys.fchmodat(AT_FDCWD, procPath(f.fd), mode & 0o7777));
}

function chown(s: Server, a: unknown[]): Reply {
  const f = s.get(a[1] as number);
  const uid = a[2] as number;
  const gid = a[3] as number;
  if (f === undefined) return [EBADF];
  if (!s.writable(f)) return [EROFS];
  return done(sys.fchownat(f.fd, '', uid, gid, AT_HANDLE));
}

/** setTimespec writes a time in nanoseconds (or null, UTIME_OMIT) as seconds and nanoseconds at out[i]. */
function setTimespec(out: Float64Array, i: number, ns: bigint | null): void {
  if (ns === null) {
    out[i] = 0;
    out[i + 1] = UTIME_OMIT;
    return;
  }
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  out[i] = Number(sec);
  out[i + 1] = Number(nsec);
}

function utimens(s: Server, a: unknown[]): Reply {
  const f = s.get(a[1] as number);
  if (f === undefined) return [EBADF];
  if (!s.writable(f)) return [EROFS];
  setTimespec(s.times, 0, a[2] as bigint | null);
  setTimespec(s.times, 2, a[3] as bigint | null);
  return done(sys.utimensat(f.fd, '', s.times, AT_HANDLE));
}

function statfs(s: Server, a: unknown[]): Reply {
  const f = s.get(a[1] as number);
  if (f === undefined) return [EBADF];
  const r = sys.fstatfs(f.fd, s.statfs);
  return r < 0 ? [-r] : [0, Array.from(s.statfs)];
}

function fsync(s: Server, a: unknown[]): Reply {
  const f = s.get(a[1] as number);
  if (f === undefined) return [EBADF];
  if (f.io) return done(sys.fsync(f.fd));
  // An O_PATH descriptor cannot be synced: sync the inode through a descriptor of its own.
  if (f.type !== S_IFREG && f.type !== S_IFDIR) return [EINVAL];
  const fd = reopen(f, O_RDONLY);
  if (fd < 0) return [-fd];
  const r = sys.fsync(fd);
  sys.close(fd);
  return done(r);
}

function close(s: Server, a: unknown[]): Reply {
  s.remove(a[1] as number);
  return OK;
}

/** HANDLERS maps each operation (but Echo, which writes its reply raw) to its handler. */
const HANDLERS: Record<Exclude<Op, typeof Op.Echo>, Handler> = {
  [Op.Attach]: attach,
  [Op.Lookup]: lookup,
  [Op.Stat]: stat,
  [Op.Open]: open,
  [Op.Create]: create,
  [Op.Read]: read,
  [Op.Write]: write,
  [Op.Readdir]: readdir,
  [Op.Readlink]: readlink,
  [Op.Mkdir]: mkdir,
  [Op.Symlink]: symlink,
  [Op.Link]: link,
  [Op.Unlink]: unlink,
  [Op.Rename]: rename,
  [Op.Truncate]: truncate,
  [Op.Chmod]: chmod,
  [Op.Chown]: chown,
  [Op.Utimens]: utimens,
  [Op.Statfs]: statfs,
  [Op.Fsync]: fsync,
  [Op.Close]: close,
};

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, copyBuffers: true });

/** decodeRequest returns slot's request, checked against MESSAGES, or the errno that refuses it. */
function decodeRequest(ring: RingView, slot: number): unknown[] | number {
  const length = Atomics.load(ring.words, requestLengthWord(slot));
  if (!(length > 0 && length <= MESSAGE_SIZE)) return EINVAL;
  let request: unknown;
  try {
    request = unpackr.unpack(ring.message(slot).subarray(0, length));
  } catch {
    return EINVAL;
  }
  if (!Array.isArray(request) || typeof request[0] !== 'number') return EINVAL;
  if (!Object.hasOwn(MESSAGES, request[0])) return ENOSYS;
  return conformsAll(request, 1, MESSAGES[request[0] as Op].request) ? request : EINVAL;
}

/** serveSlot answers the request in slot; any failure, even a bug, becomes an error reply. */
function serveSlot(s: Server, ring: RingView, slot: number): void {
  const request = decodeRequest(ring, slot);
  const message = ring.message(slot);
  if (typeof request !== 'number' && request[0] === Op.Echo) {
    const frame = request[1] as Uint8Array;
    message.set(frame.subarray(0, MESSAGE_SIZE));
    Atomics.store(ring.words, replyLengthWord(slot), request[2] as number);
    return;
  }
  let reply: Reply;
  try {
    s.data = ring.data(slot);
    reply = typeof request === 'number' ? [request] : HANDLERS[request[0] as Exclude<Op, typeof Op.Echo>](s, request);
  } catch (err) {
    process.stderr.write(`tvisor gofer: ${(err as Error).stack}\n`);
    reply = [EIO];
  }
  let frame = packr.pack(reply);
  if (frame.length > MESSAGE_SIZE) frame = packr.pack([EIO]);
  message.set(frame);
  Atomics.store(ring.words, replyLengthWord(slot), frame.length);
}

/** awaitRequest returns once slot holds a request: it spins for SPIN_MS, then sleeps on the doorbell. */
function awaitRequest(words: Int32Array, slot: number): void {
  const state = stateWord(slot);
  const spinUntil = performance.now() + SPIN_MS;
  while (Atomics.load(words, state) !== REQUEST) {
    if (performance.now() < spinUntil) continue;
    const bell = Atomics.load(words, DOORBELL);
    Atomics.store(words, GOFER_SLEEPING, 1);
    // The Sentry sets the state before it rings and reads GOFER_SLEEPING
    // after: either this load sees its request or it sees this flag.
    if (Atomics.load(words, state) !== REQUEST) sys.futexWait(words, DOORBELL, bell, -1);
    Atomics.store(words, GOFER_SLEEPING, 0);
  }
}

const WAKE = Buffer.from([1]);

/** wakeSentry writes a wake byte to the Sentry's pipe; a full pipe already holds one. */
function wakeSentry(): void {
  try {
    writeSync(1, WAKE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') process.exit(0);
  }
}

/** serve answers the slots in turn, forever. */
function serve(s: Server, ring: RingView): never {
  const words = ring.words;
  for (let slot = 0; ; slot = (slot + 1) % SLOT_COUNT) {
    awaitRequest(words, slot);
    serveSlot(s, ring, slot);
    Atomics.store(words, stateWord(slot), REPLY);
    if (Atomics.exchange(words, SENTRY_SLEEPING, 0) === 1) wakeSentry();
  }
}

/** configure opens the mounts' roots that a configuration frame names; it returns the Server, or the reply that refuses it. */
function configure(config: unknown, ring: RingView): Server | Reply {
  if (ring.words[MAGIC] !== RING_MAGIC) return [EINVAL, -1];
  if (!Array.isArray(config) || config.length !== 2 || config[0] !== RING_MAGIC || !Array.isArray(config[1])) {
    return [EINVAL, -1];
  }
  const mounts: Mount[] = [];
  for (const [i, spec] of (config[1] as unknown[]).entries()) {
    if (!Array.isArray(spec) || typeof spec[0] !== 'string' || typeof spec[1] !== 'boolean') return [EINVAL, i];
    const fd = sys.openat2(AT_FDCWD, spec[0], O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0);
    if (fd < 0) return [-fd, i];
    mounts.push({ fd, writable: spec[1] });
  }
  return new Server(mounts);
}

/**
 * warmUp runs a configuration and a few requests once, through slot 0 of
 * the ring that no Sentry uses yet, with "/" as a read-only mount: V8
 * compiles those paths while the spare idles instead of while a sandbox
 * launches (it halves the time startGofer takes).
 */
function warmUp(ring: RingView): void {
  const server = configure(takeFrame(unpackr, encodeFrame(packr, [RING_MAGIC, [['/', false]]]))!.value, ring);
  if (!(server instanceof Server)) return;
  for (const request of [[Op.Attach, 0], [Op.Lookup, 1, 'tmp'], [Op.Stat, 2], [Op.Close, 2], [Op.Close, 1]]) {
    const frame = packr.pack(request);
    ring.message(0).set(frame);
    ring.words[requestLengthWord(0)] = frame.length;
    serveSlot(server, ring, 0);
    unpackr.unpack(ring.message(0).subarray(0, ring.words[replyLengthWord(0)]));
  }
  ring.words[requestLengthWord(0)] = 0;
  ring.words[replyLengthWord(0)] = 0;
  sys.close(server.mounts[0].fd);
}

function main(): void {
  sys.prctl(PR_SET_NO_NEW_PRIVS, 1);
  sys.prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent may have died before PDEATHSIG was set.
  if (process.ppid !== Number(process.env.TVISOR_GOFER_PARENT)) process.exit(1);
  // Modes are applied as the Sentry gives them; it applies the sandbox's umask itself.
  process.umask(0);
  const ringStat = new Float64Array(STAT_FIELDS);
  if (sys.fstatat(RING_FD, '', AT_EMPTY_PATH, ringStat) < 0 || ringStat[7] !== RING_SIZE) {
    process.stderr.write('tvisor gofer: fd 3 is not a ring\n');
    process.exit(1);
  }
  const ring = mapRing(RING_FD).view;
  warmUp(ring);
  let input = Buffer.alloc(0);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('data', (chunk: Buffer) => {
    input = Buffer.concat([input, chunk]);
    let frame: { value: unknown } | undefined;
    try {
      frame = takeFrame(unpackr, input);
    } catch {
      frame = { value: undefined };
    }
    if (frame === undefined) return;
    const server = configure(frame.value, ring);
    if (!(server instanceof Server)) {
      writeSync(1, encodeFrame(packr, server));
      process.exit(1);
    }
    // Once configured, the Gofer reads no more configuration: it only serves the ring.
    process.stdin.removeAllListeners('data');
    writeSync(1, encodeFrame(packr, OK));
    serve(server, ring);
  });
}

main();
