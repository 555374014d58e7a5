// socket.ts: the socket system calls, for Unix domain sockets (the
// sockets themselves are vfs/socket.ts): socket, socketpair, bind,
// listen, accept, accept4, connect, the send and receive calls with their
// ancillary data (SCM_RIGHTS, SCM_CREDENTIALS), shutdown, the names, and
// the SOL_SOCKET options. Other families answer EAFNOSUPPORT: the sandbox
// has no network.
import type { Task } from '../kernel/task.js';
import { CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN } from '../kernel/credentials.js';
import type { SyscallArgs } from './args.js';
import { full, partial } from './table.js';
import {
  EAFNOSUPPORT, EADDRINUSE, EAGAIN, ECONNREFUSED, EEXIST, EINVAL, EISCONN, EMSGSIZE, ENOBUFS, ENOPROTOOPT,
  ENOTCONN, ENOTSOCK, EOPNOTSUPP, EPERM, EPROTONOSUPPORT, EPROTOTYPE, ESOCKTNOSUPPORT, ESRCH,
} from '../errno.js';
import { O_CLOEXEC, O_NONBLOCK, type FileDescription } from '../vfs/file.js';
import { S_IFMT, S_IFSOCK } from '../vfs/node.js';
import type { Vfs } from '../vfs/vfs.js';
import {
  AF_UNIX, NO_PEER_CRED, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM, SUN_PATH_OFFSET, UnixNamespace, UnixSocket,
  abstractKey, credsOf, familyBytes, fileKey, type Outgoing, type Received, type Ucred,
} from '../vfs/socket.js';
import { READABLE, untilDone, waitFor, waitUntil, writeBlocking } from './blocking.js';
import { AT_FDCWD, mknodAt, resolveAt } from './fs.js';
import { gather, iovecsTotal, readIovecs, scatter, type Iovec } from './file.js';
import { installPair } from './util.js';

const AF_UNSPEC = 0;
/** NPROTO is how many address families Linux numbers; past it socket(2) says EAFNOSUPPORT too. */
const NPROTO = 46;
const SOCK_RAW = 3, SOCK_MAX = 11, SOCK_TYPE_MASK = 0xf;
const SOCK_NONBLOCK = O_NONBLOCK, SOCK_CLOEXEC = O_CLOEXEC;
const MSG_OOB = 1, MSG_PEEK = 2, MSG_CTRUNC = 8, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_WAITALL = 0x100;
const MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
const SOL_SOCKET = 1, SCM_RIGHTS = 1, SCM_CREDENTIALS = 2;
/** SCM_MAX_FD bounds the descriptors one message carries. */
const SCM_MAX_FD = 253;
/** SOCKADDR_STORAGE is the largest address a call copies in; SOCKADDR_UN_SIZE a Unix one's size. */
const SOCKADDR_STORAGE = 128, SOCKADDR_UN_SIZE = 110;
const UIO_MAXIOV = 1024;
const CMSGHDR_SIZE = 16, UCRED_SIZE = 12;
/** MSGHDR_SIZE is sizeof(struct msghdr). */
const MSGHDR_SIZE = 56;

const namespaces = new WeakMap<Vfs, UnixNamespace>();

/** namespaceOf is the sandbox's table of bound Unix sockets. */
function namespaceOf(t: Task): UnixNamespace {
  let ns = namespaces.get(t.vfs);
  if (!ns) namespaces.set(t.vfs, (ns = new UnixNamespace()));
  return ns;
}

/** socketOf is the socket at fd: EBADF for no file, ENOTSOCK for another kind. */
function socketOf(t: Task, fd: number): UnixSocket {
  const f = t.fds.get(fd);
  if (!(f instanceof UnixSocket)) throw ENOTSOCK;
  return f;
}

const cmsgAlign = (n: number) => (n + 7) & ~7;

// ---- addresses ----

/** readSockaddr copies in an address argument: EINVAL for a negative length or one past sockaddr_storage. */
function readSockaddr(t: Task, addr: number, len: number): Uint8Array {
  if (len < 0 || len > SOCKADDR_STORAGE) throw EINVAL;
  return len === 0 ? new Uint8Array(0) : t.mm.copyIn(addr, len);
}

function familyOf(bytes: Uint8Array): number {
  return bytes.length >= 2 ? bytes[0] | (bytes[1] << 8) : -1;
}

/** UnixName is a sockaddr_un parsed: a path, or an abstract name; address is the sockaddr getsockname will give. */
type UnixName = { path: string; address: Uint8Array } | { abstract: Uint8Array; address: Uint8Array };

/**
 * parseName validates a sockaddr_un (EINVAL for a family other than
 * AF_UNIX, nothing after sun_family, or past its size). A path ends at
 * its first NUL, and its address gets one; an abstract name (a NUL
 * first) is every byte given.
 */
function parseName(bytes: Uint8Array): UnixName {
  if (bytes.length <= SUN_PATH_OFFSET || bytes.length > SOCKADDR_UN_SIZE || familyOf(bytes) !== AF_UNIX) throw EINVAL;
  const sunPath = bytes.subarray(SUN_PATH_OFFSET);
  if (sunPath[0] === 0) return { abstract: Uint8Array.from(sunPath), address: Uint8Array.from(bytes) };
  const end = sunPath.indexOf(0);
  const path = Buffer.from(end < 0 ? sunPath : sunPath.subarray(0, end));
  return { path: path.toString('utf8'), address: Buffer.concat([familyBytes(), path, Uint8Array.of(0)]) };
}

/**
 * lookup finds the socket bound to a name, of the caller's type: a
 * missing path is ENOENT; a file that is not a socket, or a name no
 * socket holds, ECONNREFUSED; a socket file of another type EPROTOTYPE.
 */
async function lookup(t: Task, type: number, name: UnixName): Promise<UnixSocket> {
  const ns = namespaceOf(t);
  if ('abstract' in name) {
    const s = ns.bound.get(abstractKey(type, name.abstract));
    if (!s) throw ECONNREFUSED;
    return s;
  }
  const d = await resolveAt(t, AT_FDCWD, name.path, 0);
  const attr = await d.node.attr();
  const s = (attr.mode & S_IFMT) === S_IFSOCK ? ns.bound.get(fileKey(attr.dev, attr.ino)) : undefined;
  if (!s) throw ECONNREFUSED;
  if (s.type !== type) throw EPROTOTYPE;
  return s;
}

/**
 * writeSockaddr writes an address for a call that returns one, as
 * Linux's move_addr_to_user: the length the caller gave (EINVAL when
 * negative) bounds the copy, and the full length is written back.
 */
function writeSockaddr(t: Task, address: Uint8Array, addr: number, lenAddr: number): void {
  const room = t.mm.readU32(lenAddr) | 0;
  if (room < 0) throw EINVAL;
  const n = Math.min(room, address.length);
  if (n > 0) t.mm.copyOut(addr, address.subarray(0, n));
  t.mm.writeU32(lenAddr, address.length);
}

/** nameOf is what getsockname shows for s: its address, or sun_family alone. */
function nameOf(s: UnixSocket | undefined): Uint8Array {
  return s?.address ?? familyBytes();
}

// ---- creating and naming ----

/**
 * socketType checks socket(2)'s arguments in Linux's order (flags, the
 * family, the type's range, the protocol, the type) and returns the
 * type. SOCK_RAW is SOCK_DGRAM for Unix sockets.
 */
function socketType(family: number, typeArg: number, protocol: number): number {
  const flags = typeArg & ~SOCK_TYPE_MASK;
  const type = typeArg & SOCK_TYPE_MASK;
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) throw EINVAL;
  if (family < 0 || family >= NPROTO || family !== AF_UNIX) throw EAFNOSUPPORT;
  if (type >= SOCK_MAX) throw EINVAL;
  if (protocol !== 0 && protocol !== AF_UNIX) throw EPROTONOSUPPORT;
  if (type === SOCK_RAW) return SOCK_DGRAM;
  if (type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_SEQPACKET) throw ESOCKTNOSUPPORT;
  return type;
}

/** socket implements socket(2) for AF_UNIX. */
export function socket(t: Task, a: SyscallArgs): number {
  const typeArg = a.int(1);
  const s = new UnixSocket(socketType(a.int(0), typeArg, a.int(2)), namespaceOf(t), t.mm.mem, typeArg & SOCK_NONBLOCK);
  return t.fds.install(s, (typeArg & SOCK_CLOEXEC) !== 0);
}

/** socketpair implements socketpair(2): two connected sockets, their fds written at sv (none left behind on EFAULT). */
export function socketpair(t: Task, a: SyscallArgs): number {
  const typeArg = a.int(1);
  const type = socketType(a.int(0), typeArg, a.int(2));
  const sockets = UnixSocket.pair(type, namespaceOf(t), t.mm.mem, typeArg & SOCK_NONBLOCK, credsOf(t));
  installPair(t, sockets, (typeArg & SOCK_CLOEXEC) !== 0, a.pointer(3));
  return 0;
}

/**
 * bind implements bind(2): sun_family alone autobinds; a path makes a
 * socket file (EADDRINUSE when the name exists); an abstract name must be
 * free (EADDRINUSE). A bound socket cannot be bound again (EINVAL).
 */
export async function bind(t: Task, a: SyscallArgs): Promise<number> {
  const s = socketOf(t, a.int(0));
  const bytes = readSockaddr(t, a.pointer(1), a.int(2));
  if (bytes.length === SUN_PATH_OFFSET && familyOf(bytes) === AF_UNIX) {
    s.autobind();
    return 0;
  }
  const name = parseName(bytes);
  if ('abstract' in name) {
    if (s.address) throw EINVAL;
    const key = abstractKey(s.type, name.abstract);
    if (s.ns.bound.has(key)) throw EADDRINUSE;
    s.bind(name.address, key);
    return 0;
  }
  if (s.address) throw (await exists(t, name.path)) ? EADDRINUSE : EINVAL;
  let d;
  try {
    d = await mknodAt(t, AT_FDCWD, name.path, S_IFSOCK | 0o777);
  } catch (err) {
    throw err === EEXIST ? EADDRINUSE : err;
  }
  const attr = await d.node.attr();
  s.bind(name.address, fileKey(attr.dev, attr.ino));
  return 0;
}

async function exists(t: Task, path: string): Promise<boolean> {
  try {
    await resolveAt(t, AT_FDCWD, path, 0x100 /* AT_SYMLINK_NOFOLLOW */);
    return true;
  } catch {
    return false;
  }
}

/** listen implements listen(2). */
export function listen(t: Task, a: SyscallArgs): number {
  socketOf(t, a.int(0)).listen(a.int(1), credsOf(t));
  return 0;
}

/**
 * doAccept takes a connection, waiting for one unless the listener is
 * O_NONBLOCK, installs its socket (SOCK_NONBLOCK, SOCK_CLOEXEC) and
 * writes the peer's address. A connection whose address cannot be
 * written is closed, as on Linux.
 */
async function doAccept(t: Task, fd: number, addr: number, lenAddr: number, flags: number): Promise<number> {
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) throw EINVAL;
  const listener = socketOf(t, fd);
  const server = await untilDone(() => listener.accept(), (listener.statusFlags & O_NONBLOCK) !== 0, () => waitFor(t, listener, READABLE));
  server.statusFlags = (server.statusFlags & ~O_NONBLOCK) | (flags & SOCK_NONBLOCK);
  const newfd = t.fds.install(server, (flags & SOCK_CLOEXEC) !== 0);
  if (addr !== 0) {
    try {
      writeSockaddr(t, nameOf(server.peer), addr, lenAddr);
    } catch (err) {
      t.fds.close(newfd);
      throw err;
    }
  }
  return newfd;
}

/** accept implements accept(2). */
export function accept(t: Task, a: SyscallArgs): Promise<number> {
  return doAccept(t, a.int(0), a.pointer(1), a.pointer(2), 0);
}

/** accept4 implements accept4(2): SOCK_NONBLOCK and SOCK_CLOEXEC. */
export function accept4(t: Task, a: SyscallArgs): Promise<number> {
  return doAccept(t, a.int(0), a.pointer(1), a.pointer(2), a.int(3));
}

/**
 * connect implements connect(2). A stream or seqpacket socket connects
 * to a listener, waiting while its backlog is full unless O_NONBLOCK
 * (EAGAIN); a datagram socket takes the address as its peer, or forgets
 * its peer for AF_UNSPEC.
 */
export async function connect(t: Task, a: SyscallArgs): Promise<number> {
  const s = socketOf(t, a.int(0));
  const bytes = readSockaddr(t, a.pointer(1), a.int(2));
  if (!s.connectionful) {
    if (bytes.length < 2) throw EINVAL;
    if (familyOf(bytes) === AF_UNSPEC) {
      s.disconnect();
      return 0;
    }
    s.connectDgram(await lookup(t, s.type, parseName(bytes)));
    return 0;
  }
  const name = parseName(bytes);
  if (s.passcred) s.autobind();
  const listener = await lookup(t, s.type, name);
  const cred = credsOf(t);
  const room = () => !listener.backlogFull || listener.state !== 'listening';
  await untilDone(() => s.connect(listener, cred), (s.statusFlags & O_NONBLOCK) !== 0, () => waitUntil(t, listener, room));
  return 0;
}

/** shutdown implements shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR (EINVAL otherwise). */
export function shutdown(t: Task, a: SyscallArgs): number {
  const s = socketOf(t, a.int(0));
  const how = a.int(1);
  if (how < 0 || how > 2) throw EINVAL;
  s.shut(how + 1);
  return 0;
}

/** getsockname implements getsockname(2): sun_family alone for an unbound socket. */
export function getsockname(t: Task, a: SyscallArgs): number {
  const s = socketOf(t, a.int(0));
  writeSockaddr(t, nameOf(s), a.pointer(1), a.pointer(2));
  return 0;
}

/** getpeername implements getpeername(2): ENOTCONN without a peer. */
export function getpeername(t: Task, a: SyscallArgs): number {
  const s = socketOf(t, a.int(0));
  if (!s.peer) throw ENOTCONN;
  writeSockaddr(t, nameOf(s.peer), a.pointer(1), a.pointer(2));
  return 0;
}

// ---- ancillary data ----

/**
 * readControl reads sendmsg's control messages: SCM_RIGHTS (each fd held
 * once more; EBADF for a closed one, EINVAL past SCM_MAX_FD) and
 * SCM_CREDENTIALS (EINVAL for a bad size, EPERM for credentials the
 * sender may not claim, ESRCH for a process that does not exist).
 * Other levels are skipped; other SOL_SOCKET types and malformed headers
 * are EINVAL. A failure gives back every reference taken.
 */
function readControl(t: Task, addr: number, len: number): Outgoing {
  const out: Outgoing = { creds: credsOf(t) };
  if (len === 0) return out;
  const raw = t.mm.copyIn(addr, len);
  const v = new DataView(raw.buffer);
  const rights: FileDescription[] = [];
  try {
    for (let off = 0; off + CMSGHDR_SIZE <= len;) {
      const cmsgLen = Number(v.getBigUint64(off, true));
      if (cmsgLen < CMSGHDR_SIZE || cmsgLen > len - off) throw EINVAL;
      const level = v.getInt32(off + 8, true);
      const type = v.getInt32(off + 12, true);
      if (level === SOL_SOCKET) {
        if (type === SCM_RIGHTS) {
          const n = Math.floor((cmsgLen - CMSGHDR_SIZE) / 4);
          if (rights.length + n > SCM_MAX_FD) throw EINVAL;
          for (let i = 0; i < n; i++) {
            const f = t.fds.get(v.getInt32(off + CMSGHDR_SIZE + i * 4, true));
            f.incRef();
            rights.push(f);
          }
        } else if (type === SCM_CREDENTIALS) {
          if (cmsgLen !== CMSGHDR_SIZE + UCRED_SIZE) throw EINVAL;
          out.creds = claimedCreds(t, {
            pid: v.getInt32(off + 16, true), uid: v.getUint32(off + 20, true), gid: v.getUint32(off + 24, true),
          });
        } else {
          throw EINVAL;
        }
      }
      off += cmsgAlign(cmsgLen);
    }
  } catch (err) {
    for (const f of rights) f.decRef();
    throw err;
  }
  if (rights.length > 0) out.rights = rights;
  return out;
}

/**
 * claimedCreds checks SCM_CREDENTIALS as Linux's scm_check_creds: a
 * process may claim its own pid (or any, with CAP_SYS_ADMIN), one of its
 * real, effective or saved uids (any, with CAP_SETUID) and gids (any,
 * with CAP_SETGID).
 */
function claimedCreds(t: Task, c: Ucred): Ucred {
  const cr = t.creds;
  const pidOk = c.pid === t.proc.pid || cr.capable(CAP_SYS_ADMIN);
  const uidOk = [cr.uid, cr.euid, cr.suid].includes(c.uid) || cr.capable(CAP_SETUID);
  const gidOk = [cr.gid, cr.egid, cr.sgid].includes(c.gid) || cr.capable(CAP_SETGID);
  if (!pidOk || !uidOk || !gidOk) throw EPERM;
  if (!t.proc.ns.get(c.pid)) throw ESRCH;
  return c;
}

/**
 * ControlOut builds recvmsg's control messages in room bytes, as Linux's
 * put_cmsg and scm_detach_fds: what does not fit is cut (MSG_CTRUNC),
 * and rights that do not fit are closed.
 */
class ControlOut {
  readonly bytes: Uint8Array;
  private readonly v: DataView;
  used = 0;
  truncated = false;

  constructor(private readonly room: number) {
    this.bytes = new Uint8Array(Math.max(0, room));
    this.v = new DataView(this.bytes.buffer);
  }

  /** put writes one control message, cut to the room left. */
  put(type: number, data: Uint8Array): void {
    const left = this.room - this.used;
    if (left < CMSGHDR_SIZE) {
      this.truncated = true;
      return;
    }
    let len = CMSGHDR_SIZE + data.length;
    if (left < len) {
      this.truncated = true;
      len = left;
    }
    this.v.setBigUint64(this.used, BigInt(len), true);
    this.v.setInt32(this.used + 8, SOL_SOCKET, true);
    this.v.setInt32(this.used + 12, type, true);
    this.bytes.set(data.subarray(0, len - CMSGHDR_SIZE), this.used + CMSGHDR_SIZE);
    this.used += Math.min(cmsgAlign(CMSGHDR_SIZE + data.length), left);
  }

  credentials(c: Ucred): void {
    const b = new Uint8Array(UCRED_SIZE);
    const v = new DataView(b.buffer);
    v.setInt32(0, c.pid, true);
    v.setUint32(4, c.uid, true);
    v.setUint32(8, c.gid, true);
    this.put(SCM_CREDENTIALS, b);
  }

  /** rights installs as many of the descriptions as fit in t's fd table and writes their fds; the rest are closed. */
  rights(t: Task, files: FileDescription[], cloexec: boolean): void {
    const fit = Math.max(0, Math.floor((this.room - this.used - CMSGHDR_SIZE) / 4));
    const fds: number[] = [];
    for (const f of files) {
      if (fds.length < fit) {
        try {
          fds.push(t.fds.install(f, cloexec));
        } catch {
          // EMFILE: the rest are cut, as on Linux.
        }
      }
      f.decRef();
    }
    if (fds.length < files.length) this.truncated = true;
    if (fds.length === 0) return;
    const b = new Uint8Array(fds.length * 4);
    const v = new DataView(b.buffer);
    fds.forEach((fd, i) => v.setInt32(i * 4, fd, true));
    this.put(SCM_RIGHTS, b);
  }
}

// ---- sending ----

/**
 * doSend sends data, as the send calls do: MSG_DONTWAIT, MSG_NOSIGNAL,
 * and an address for a datagram (EISCONN or EOPNOTSUPP for a stream,
 * ignored for seqpacket). A stream writes on until all is sent (or a
 * signal, or an error after a part); a record goes whole, when its
 * receiver has room. Rights that were not sent are given back.
 */
async function doSend(t: Task, s: UnixSocket, data: Uint8Array, flags: number, to: Uint8Array, out: Outgoing): Promise<number> {
  let sent = false;
  try {
    if (flags & MSG_OOB) throw EOPNOTSUPP;
    const nonblock = (flags & MSG_DONTWAIT) !== 0 || (s.statusFlags & O_NONBLOCK) !== 0;
    if (s.stream) {
      if (to.length > 0) throw s.peer ? EISCONN : EOPNOTSUPP;
      const write = (part: Uint8Array, first: boolean) => {
        const n = s.send(part, first ? out : { creds: out.creds });
        if (first && n > 0) sent = true;
        return n;
      };
      return await writeBlocking(t, s, data, { nonblock, noSignal: (flags & MSG_NOSIGNAL) !== 0, write });
    }
    let target: UnixSocket | undefined;
    if (to.length > 0 && s.type === SOCK_DGRAM) {
      const name = parseName(to);
      checkRecord(s, data.length);
      target = await lookup(t, s.type, name);
    }
    const dest = target;
    const send = () => {
      const n = s.send(data, out, dest);
      sent = true;
      return n;
    };
    const receiver = dest ?? s.peer;
    const wait = receiver ? () => waitUntil(t, { watch: (c) => s.watchSend(c, receiver) }, () => s.canSendTo(receiver)) : () => waitFor(t, s, READABLE);
    return await untilDone(send, nonblock, wait);
  } finally {
    if (!sent) for (const f of out.rights ?? []) f.decRef();
  }
}

/** checkRecord makes a datagram's checks that come before its destination is looked up; a full send buffer is the send's to wait for. */
function checkRecord(s: UnixSocket, length: number): void {
  try {
    s.sendCheck(length);
  } catch (err) {
    if (err !== EAGAIN) throw err;
  }
}

/** sendto implements sendto(2) and send(2). */
export function sendto(t: Task, a: SyscallArgs): Promise<number> {
  const s = socketOf(t, a.int(0));
  const len = Math.min(a.size(2), 0x7fffffff);
  const data = t.mm.copyIn(a.pointer(1), len);
  const to = a.pointer(4) === 0 ? new Uint8Array(0) : readSockaddr(t, a.pointer(4), a.int(5));
  return doSend(t, s, data, a.int(3), to, { creds: credsOf(t) });
}

/** Msghdr is a struct msghdr, read. */
interface Msghdr {
  name: number;
  namelen: number;
  iovs: Iovec[];
  control: number;
  controllen: number;
}

/**
 * readMsghdr reads a struct msghdr: EINVAL for a negative msg_namelen
 * (a longer one is cut to sockaddr_storage), EMSGSIZE past UIO_MAXIOV
 * buffers, ENOBUFS for a control length past INT_MAX.
 */
function readMsghdr(t: Task, addr: number): Msghdr {
  const v = new DataView(t.mm.copyIn(addr, MSGHDR_SIZE).buffer);
  const name = Number(v.getBigUint64(0, true));
  let namelen = name === 0 ? 0 : v.getInt32(8, true);
  if (namelen < 0) throw EINVAL;
  namelen = Math.min(namelen, SOCKADDR_STORAGE);
  const iovlen = Number(v.getBigUint64(24, true));
  if (iovlen > UIO_MAXIOV) throw EMSGSIZE;
  const controllen = Number(v.getBigUint64(40, true));
  if (controllen > 0x7fffffff) throw ENOBUFS;
  return { name, namelen, iovs: readIovecs(t, Number(v.getBigUint64(16, true)), iovlen), control: Number(v.getBigUint64(32, true)), controllen };
}

/** sendmsg implements sendmsg(2): the buffers gathered, an address, and SCM_RIGHTS and SCM_CREDENTIALS. */
export function sendmsg(t: Task, a: SyscallArgs): Promise<number> {
  const s = socketOf(t, a.int(0));
  const m = readMsghdr(t, a.pointer(1));
  const to = m.namelen > 0 ? t.mm.copyIn(m.name, m.namelen) : new Uint8Array(0);
  const data = gather(t, m.iovs);
  return doSend(t, s, data, a.int(2), to, readControl(t, m.control, m.controllen));
}

// ---- receiving ----

/**
 * doReceive reads up to max bytes as the receive calls do: MSG_PEEK,
 * MSG_DONTWAIT, and MSG_WAITALL, with which a stream read goes on until
 * max bytes, end of file, an error, a signal, or a message with rights.
 */
async function doReceive(t: Task, s: UnixSocket, max: number, flags: number): Promise<Received> {
  if (flags & MSG_OOB) throw EOPNOTSUPP;
  const nonblock = (flags & MSG_DONTWAIT) !== 0 || (s.statusFlags & O_NONBLOCK) !== 0;
  const peek = (flags & MSG_PEEK) !== 0;
  const once = (n: number) => untilDone(() => s.receive(n, peek), nonblock, () => waitFor(t, s, READABLE));
  const first = await once(max);
  if (!(flags & MSG_WAITALL) || !s.stream || peek) return first;
  const parts = [first.data];
  let got = first.data.length;
  let rights = first.rights;
  try {
    while (got < max && got > 0 && rights.length === 0) {
      const more = await once(max - got);
      if (more.data.length === 0) break;
      parts.push(more.data);
      got += more.data.length;
      rights = more.rights;
    }
  } catch {
    // An error or a signal after a part: the part is the result.
  }
  const data = Buffer.concat(parts);
  return { ...first, data, length: data.length, rights: rights.length > 0 ? rights : first.rights };
}

/** releaseRights closes rights the caller did not take (a read or recvfrom without control). */
function releaseRights(got: Received): void {
  for (const f of got.rights) f.decRef();
}

/** resultLength is what a receive returns: the bytes read, or the whole record's length with MSG_TRUNC. */
function resultLength(s: UnixSocket, got: Received, flags: number): number {
  return flags & MSG_TRUNC && !s.stream ? got.length : got.data.length;
}

/** recvfrom implements recvfrom(2) and recv(2): the sender's address, when the caller asks and it has one. */
export async function recvfrom(t: Task, a: SyscallArgs): Promise<number> {
  const s = socketOf(t, a.int(0));
  const buf = a.pointer(1);
  const len = Math.min(a.size(2), 0x7fffffff);
  const flags = a.int(3);
  const got = await doReceive(t, s, len, flags);
  releaseRights(got);
  t.mm.copyOut(buf, got.data);
  if (a.pointer(4) !== 0) writeSockaddr(t, got.from, a.pointer(4), a.pointer(5));
  return resultLength(s, got, flags);
}

/**
 * recvmsg implements recvmsg(2): the data scattered over the buffers, the
 * sender's address, SCM_CREDENTIALS (with SO_PASSCRED) and SCM_RIGHTS
 * (MSG_CMSG_CLOEXEC), and msg_flags (MSG_TRUNC, MSG_CTRUNC).
 */
export async function recvmsg(t: Task, a: SyscallArgs): Promise<number> {
  const s = socketOf(t, a.int(0));
  const addr = a.pointer(1);
  const flags = a.int(2);
  const m = readMsghdr(t, addr);
  const got = await doReceive(t, s, iovecsTotal(m.iovs), flags);
  const control = new ControlOut(m.control === 0 ? 0 : m.controllen);
  if (got.creds) control.credentials(got.creds);
  if (got.rights.length > 0) control.rights(t, got.rights, (flags & MSG_CMSG_CLOEXEC) !== 0);
  scatter(t, m.iovs, got.data);
  if (m.name !== 0) {
    const n = Math.min(m.namelen, got.from.length);
    if (n > 0) t.mm.copyOut(m.name, got.from.subarray(0, n));
    t.mm.writeU32(addr + 8, got.from.length);
  }
  if (control.used > 0) t.mm.copyOut(m.control, control.bytes.subarray(0, control.used));
  t.mm.writeU64(addr + 40, control.used);
  const msgFlags = (got.data.length < got.length ? MSG_TRUNC : 0) | (control.truncated ? MSG_CTRUNC : 0);
  t.mm.writeU32(addr + 48, msgFlags);
  return resultLength(s, got, flags);
}

// ---- options ----

const SO_DEBUG = 1, SO_REUSEADDR = 2, SO_TYPE = 3, SO_ERROR = 4, SO_DONTROUTE = 5, SO_BROADCAST = 6, SO_SNDBUF = 7, SO_RCVBUF = 8;
const SO_KEEPALIVE = 9, SO_OOBINLINE = 10, SO_PRIORITY = 12, SO_LINGER = 13, SO_REUSEPORT = 15, SO_PASSCRED = 16;
const SO_PEERCRED = 17, SO_RCVLOWAT = 18, SO_SNDLOWAT = 19, SO_RCVTIMEO = 20, SO_SNDTIMEO = 21, SO_ACCEPTCONN = 30;
const SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33, SO_PROTOCOL = 38, SO_DOMAIN = 39;
/** The options kept as an int to read back; and those kept as bytes, with their size. */
const INT_OPTIONS = new Set([SO_DEBUG, SO_REUSEADDR, SO_DONTROUTE, SO_BROADCAST, SO_KEEPALIVE, SO_OOBINLINE, SO_PRIORITY, SO_REUSEPORT, SO_RCVLOWAT, SO_SNDLOWAT]);
const STRUCT_OPTIONS = new Map([[SO_LINGER, 8], [SO_RCVTIMEO, 16], [SO_SNDTIMEO, 16]]);
/** INT_DEFAULTS are the int options whose default is not 0. */
const INT_DEFAULTS = new Map([[SO_RCVLOWAT, 1], [SO_SNDLOWAT, 1]]);
/** WMEM_MAX and RMEM_MAX are net.core.wmem_max and rmem_max; SOCK_MIN_SNDBUF and SOCK_MIN_RCVBUF Linux's floors. */
const WMEM_MAX = 212992, RMEM_MAX = 212992, SOCK_MIN_SNDBUF = 4608, SOCK_MIN_RCVBUF = 2304;

/** bufferSize is what SO_SNDBUF or SO_RCVBUF sets for val: twice it, within the limits. */
function bufferSize(val: number, max: number, min: number): number {
  return Math.max(Math.min(val >>> 0, max) * 2, min);
}

/**
 * setsockopt implements setsockopt(2) at SOL_SOCKET: the buffer sizes,
 * SO_PASSCRED, and the options programs set and read back (SO_REUSEADDR,
 * SO_KEEPALIVE, SO_LINGER, the timeouts...), kept but without effect on
 * a Unix socket here. EOPNOTSUPP at other levels, ENOPROTOOPT for
 * options that cannot be set, EINVAL for a short value.
 */
export function setsockopt(t: Task, a: SyscallArgs): number {
  const s = socketOf(t, a.int(0));
  const level = a.int(1);
  const name = a.int(2);
  const optlen = a.int(4);
  if (optlen < 0) throw EINVAL;
  if (level !== SOL_SOCKET) throw EOPNOTSUPP;
  const size = STRUCT_OPTIONS.get(name);
  if (size !== undefined) {
    if (optlen < size) throw EINVAL;
    s.options.set(name, t.mm.copyIn(a.pointer(3), size));
    return 0;
  }
  const known = INT_OPTIONS.has(name) || [SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE, SO_RCVBUFFORCE, SO_PASSCRED].includes(name);
  if (!known) throw ENOPROTOOPT;
  if (optlen < 4) throw EINVAL;
  const val = t.mm.readU32(a.pointer(3)) | 0;
  switch (name) {
    case SO_SNDBUF:
    case SO_SNDBUFFORCE:
      s.sndbuf = bufferSize(val, WMEM_MAX, SOCK_MIN_SNDBUF);
      break;
    case SO_RCVBUF:
    case SO_RCVBUFFORCE:
      s.rcvbuf = bufferSize(val, RMEM_MAX, SOCK_MIN_RCVBUF);
      break;
    case SO_PASSCRED:
      s.passcred = val !== 0;
      break;
    default:
      s.options.set(name, new Uint8Array(new Int32Array([val]).buffer));
  }
  return 0;
}

/** intBytes is an int option's value as the 4 bytes getsockopt copies. */
function intBytes(v: number): Uint8Array {
  return new Uint8Array(new Int32Array([v]).buffer);
}

/** optionValue is getsockopt's value of option name: ENOPROTOOPT for one it does not know. */
function optionValue(s: UnixSocket, name: number): Uint8Array {
  switch (name) {
    case SO_TYPE: return intBytes(s.type);
    case SO_ERROR: return intBytes(s.takeError()?.errno ?? 0);
    case SO_SNDBUF: return intBytes(s.sndbuf);
    case SO_RCVBUF: return intBytes(s.rcvbuf);
    case SO_PASSCRED: return intBytes(s.passcred ? 1 : 0);
    case SO_ACCEPTCONN: return intBytes(s.state === 'listening' ? 1 : 0);
    case SO_DOMAIN: return intBytes(s.family);
    case SO_PROTOCOL: return intBytes(0);
    case SO_PEERCRED: {
      const c = s.peerCred ?? NO_PEER_CRED;
      const b = new Uint8Array(UCRED_SIZE);
      const v = new DataView(b.buffer);
      v.setInt32(0, c.pid, true);
      v.setUint32(4, c.uid, true);
      v.setUint32(8, c.gid, true);
      return b;
    }
  }
  const kept = s.options.get(name);
  if (kept) return kept;
  const size = STRUCT_OPTIONS.get(name);
  if (size !== undefined) return new Uint8Array(size);
  if (INT_OPTIONS.has(name)) return intBytes(INT_DEFAULTS.get(name) ?? 0);
  throw ENOPROTOOPT;
}

/** getsockopt implements getsockopt(2) at SOL_SOCKET: the value, cut to the length given (EINVAL when negative), and its length. */
export function getsockopt(t: Task, a: SyscallArgs): number {
  const s = socketOf(t, a.int(0));
  const level = a.int(1);
  const lenAddr = a.pointer(4);
  if (level !== SOL_SOCKET) throw EOPNOTSUPP;
  const len = t.mm.readU32(lenAddr) | 0;
  if (len < 0) throw EINVAL;
  const value = optionValue(s, a.int(2));
  const n = Math.min(len, value.length);
  if (n > 0) t.mm.copyOut(a.pointer(3), value.subarray(0, n));
  t.mm.writeU32(lenAddr, n);
  return 0;
}

export function register(): void {
  full(41, socket, 'F,T,d');
  partial(53, socketpair, 'AF_UNIX only: other families answer EAFNOSUPPORT', 'F,T,d,p');
  full(49, bind, 'd,p,u');
  full(50, listen, 'd,d');
  full(43, accept, 'd,p,p');
  full(288, accept4, 'd,p,p,x');
  full(42, connect, 'd,p,u');
  full(48, shutdown, 'd,H');
  full(51, getsockname, 'd,p,p');
  full(52, getpeername, 'd,p,p');
  partial(44, sendto, 'no MSG_OOB (EOPNOTSUPP)', 'd,w,u,x,p,u');
  partial(46, sendmsg, 'SCM_RIGHTS and SCM_CREDENTIALS; no MSG_OOB (EOPNOTSUPP)', 'd,p,x');
  partial(45, recvfrom, 'no MSG_OOB (EOPNOTSUPP)', 'd,r,u,x,p,p');
  partial(47, recvmsg, 'SCM_RIGHTS and SCM_CREDENTIALS; no MSG_OOB (EOPNOTSUPP)', 'd,p,x');
  partial(54, setsockopt, 'SOL_SOCKET: buffer sizes and SO_PASSCRED act; SO_RCVTIMEO, SO_SNDTIMEO, SO_LINGER and flags are kept, without effect', 'd,L,O,p,u');
  partial(55, getsockopt, 'SOL_SOCKET', 'd,L,O,p,p');
}
