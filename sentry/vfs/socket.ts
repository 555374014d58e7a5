// socket.ts: Unix domain sockets (unix(7)), the only family the sandbox
// offers. A socket is SOCK_STREAM (a byte stream), SOCK_SEQPACKET (a
// connection of records) or SOCK_DGRAM (records to any bound address).
// What a socket sends is queued on its receiver as messages that carry
// the sender's credentials and, with SCM_RIGHTS, descriptions (held by a
// reference each until they are received or dropped). A sender may have
// up to its send buffer's worth (SO_SNDBUF) waiting unread; a datagram
// receiver takes at most MAX_DGRAM_QLEN records from others. Names are a
// sandbox's own: a path makes a socket file (S_IFSOCK) in the VFS, an
// abstract name (a leading NUL) lives in the sandbox's UnixNamespace.
// The behaviour, down to poll's bits and the errnos' order, is Linux's
// net/unix/af_unix.c.
import {
  EAGAIN, ECONNREFUSED, ECONNRESET, EINVAL, EISCONN, EMSGSIZE, ENOBUFS, ENOTCONN, EOPNOTSUPP, EPERM, EPIPE,
  type SyscallError,
} from '../errno.js';
import {
  FileDescription, O_RDWR, PAGE_SIZE, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM,
  Waiters, nowNs, type Changed, type Stat,
} from './file.js';
import type { Budget } from './tmpfs.js';
import type { Task } from '../kernel/task.js';

export const AF_UNIX = 1;
export const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5;
/** RCV_SHUTDOWN and SEND_SHUTDOWN are the halves shutdown(2) closes (SHUT_RD + 1, SHUT_WR + 1). */
export const RCV_SHUTDOWN = 1, SEND_SHUTDOWN = 2, SHUTDOWN_MASK = 3;
/** SOCK_DEFAULT_BUF is a new socket's SO_SNDBUF and SO_RCVBUF (net.core.wmem_default, rmem_default). */
const SOCK_DEFAULT_BUF = 212992;
/** MAX_DGRAM_QLEN is net.unix.max_dgram_qlen: a datagram socket's queue is full past it. */
const MAX_DGRAM_QLEN = 10;
/** SOMAXCONN bounds listen's backlog. */
const SOMAXCONN = 4096;
/** SUN_PATH_OFFSET is offsetof(struct sockaddr_un, sun_path). */
export const SUN_PATH_OFFSET = 2;
const SOCKFS_DEV = 8;

/** Ucred is a process's credentials as SCM_CREDENTIALS and SO_PEERCRED carry them. */
export interface Ucred {
  pid: number;
  uid: number;
  gid: number;
}

/** NO_PEER_CRED is what SO_PEERCRED reads on a socket without a peer. */
export const NO_PEER_CRED: Ucred = { pid: 0, uid: 0xffffffff, gid: 0xffffffff };

/** credsOf is a task's credentials as a socket carries them: its process's pid, its uid and gid. */
export function credsOf(t: Task): Ucred {
  return { pid: t.proc.pid, uid: t.creds.uid, gid: t.creds.gid };
}

/** Message is one record (or, on a stream, one write's bytes) in a receive queue. */
interface Message {
  data: Uint8Array;
  /** offset is how much of a stream message has been read. */
  offset: number;
  /** rights are the descriptions SCM_RIGHTS sent, each held once; taken by the first read that reaches the message. */
  rights: FileDescription[] | undefined;
  creds: Ucred;
  /** from is the sender; its address at the time of the read is the message's source, as on Linux. */
  from: UnixSocket;
}

/** Outgoing is what a send carries besides the bytes. */
export interface Outgoing {
  rights?: FileDescription[];
  creds: Ucred;
}

/** Received is what a read of a socket gives. */
export interface Received {
  data: Uint8Array;
  /** length is the whole record's length (MSG_TRUNC's result), data's for a stream. */
  length: number;
  rights: FileDescription[];
  /** creds are the sender's, when the reader asked for them (SO_PASSCRED). */
  creds: Ucred | undefined;
  /** from is the sender's address, or an empty one when it had none. */
  from: Uint8Array;
}

let lastIno = 0x8000;

/**
 * UnixNamespace is a sandbox's table of bound sockets: abstract names
 * (by type, as Linux hashes them) and socket files (by the file's device
 * and inode). autobind names come from it too.
 */
export class UnixNamespace {
  readonly bound = new Map<string, UnixSocket>();
  private lastAuto = 0;

  /** autoName is the next autobind name: a NUL and five hex digits. */
  autoName(type: number): Uint8Array {
    for (;;) {
      this.lastAuto = (this.lastAuto + 1) & 0xfffff;
      const name = Buffer.from('\0' + this.lastAuto.toString(16).padStart(5, '0'), 'latin1');
      if (!this.bound.has(abstractKey(type, name))) return name;
    }
  }
}

/** abstractKey is the table's key for an abstract name (its bytes after sun_family). */
export function abstractKey(type: number, name: Uint8Array): string {
  return `@${type}:${Buffer.from(name).toString('latin1')}`;
}

/** fileKey is the table's key for a socket file. */
export function fileKey(dev: number, ino: number): string {
  return `/${dev}:${ino}`;
}

const EMPTY = new Uint8Array(0);

export class UnixSocket extends FileDescription {
  readonly ino = ++lastIno;
  private readonly created = nowNs();
  private readonly waiters = new Waiters();
  /** roomWaiters hear when the receive queue has room again: datagram senders blocked on it. */
  private readonly roomWaiters = new Waiters();
  state: 'unconnected' | 'listening' | 'connected' = 'unconnected';
  peer: UnixSocket | undefined;
  /** address is the socket's sockaddr_un, as getsockname gives it; undefined while unbound. */
  address: Uint8Array | undefined;
  /** bindKey is its entry in the namespace's table. */
  private bindKey: string | undefined;
  private readonly queue: Message[] = [];
  /** backlog holds a listening socket's connections not accepted yet: their server ends. */
  private readonly backlog: UnixSocket[] = [];
  private maxBacklog = 0;
  shutdown = 0;
  /** error is the pending error (sk_err): SO_ERROR and the next read take it. */
  error: SyscallError | undefined;
  sndbuf = SOCK_DEFAULT_BUF;
  rcvbuf = SOCK_DEFAULT_BUF;
  passcred = false;
  /** options keeps the other SOL_SOCKET options set, to read back. */
  readonly options = new Map<number, Uint8Array>();
  /** peerCred is SO_PEERCRED: who the peer was at connect (or socketpair). */
  peerCred: Ucred | undefined;
  /** listenCred is who made it listen: a connecting socket's SO_PEERCRED. */
  private listenCred: Ucred | undefined;
  /** wmem is how much this socket sent that is still unread (sk_wmem_alloc, without the overhead). */
  private wmem = 0;
  private dead = false;

  constructor(readonly type: number, readonly ns: UnixNamespace, private readonly budget: Budget, statusFlags: number) {
    super(O_RDWR);
    this.statusFlags = O_RDWR | statusFlags;
  }

  get family(): number {
    return AF_UNIX;
  }

  get stream(): boolean {
    return this.type === SOCK_STREAM;
  }

  /** connectionful is true for the types that connect and accept: stream and seqpacket. */
  get connectionful(): boolean {
    return this.type !== SOCK_DGRAM;
  }

  // ---- names ----

  /** bind gives the socket an address, registered under key: EINVAL when it has one, EADDRINUSE (the caller's check) aside. */
  bind(address: Uint8Array, key: string): void {
    if (this.address) throw EINVAL;
    this.address = address;
    this.bindKey = key;
    this.ns.bound.set(key, this);
  }

  /** autobind binds an unbound socket to a fresh abstract name, as Linux does before SO_PASSCRED needs an address. */
  autobind(): void {
    if (this.address) return;
    const name = this.ns.autoName(this.type);
    this.bind(Buffer.concat([familyBytes(), name]), abstractKey(this.type, name));
  }

  // ---- connections ----

  /** pair connects two new sockets, as socketpair(2) does; each sees cred as its peer's. */
  static pair(type: number, ns: UnixNamespace, budget: Budget, statusFlags: number, cred: Ucred): [UnixSocket, UnixSocket] {
    const a = new UnixSocket(type, ns, budget, statusFlags);
    const b = new UnixSocket(type, ns, budget, statusFlags);
    a.connectTo(b, cred);
    b.connectTo(a, cred);
    return [a, b];
  }

  private connectTo(peer: UnixSocket, peerCred: Ucred): void {
    this.peer = peer;
    this.peerCred = peerCred;
    this.state = 'connected';
  }

  /** listen makes a bound, unconnected stream or seqpacket socket listen, or sets the backlog of one that does. */
  listen(backlog: number, cred: Ucred): void {
    if (!this.connectionful) throw EOPNOTSUPP;
    if (!this.address || (this.state !== 'unconnected' && this.state !== 'listening')) throw EINVAL;
    // A negative backlog is a large unsigned one: SOMAXCONN.
    this.maxBacklog = Math.min(backlog >>> 0, SOMAXCONN);
    if (this.state === 'unconnected') {
      this.state = 'listening';
      this.listenCred = cred;
    }
    this.waiters.notify();
  }

  /** backlogFull is true while a listener holds more connections than its backlog (unix_recvq_full). */
  get backlogFull(): boolean {
    return this.backlog.length > this.maxBacklog;
  }

  /**
   * connect connects a stream or seqpacket socket to a listener: its
   * server end waits in the listener's backlog, and the client may write
   * at once. In Linux's order: ECONNREFUSED for a socket that does not
   * listen, EAGAIN while its backlog is full, then EISCONN, or EINVAL for
   * a socket that listens itself.
   */
  connect(listener: UnixSocket, cred: Ucred): void {
    if (listener.dead || listener.state !== 'listening' || listener.shutdown & RCV_SHUTDOWN) throw ECONNREFUSED;
    if (listener.backlogFull) throw EAGAIN;
    if (this.state === 'connected') throw EISCONN;
    if (this.state === 'listening') throw EINVAL;
    if (this.passcred) this.autobind();
    const server = new UnixSocket(this.type, this.ns, this.budget, 0);
    server.address = listener.address;
    server.connectTo(this, cred);
    this.connectTo(server, listener.listenCred ?? NO_PEER_CRED);
    listener.backlog.push(server);
    listener.waiters.notify(POLLIN | POLLRDNORM);
    this.waiters.notify();
  }

  /**
   * accept takes the oldest connection of a listener: EOPNOTSUPP for
   * datagrams, EINVAL when not listening, or when none waits and reading
   * is shut, EAGAIN when none waits.
   */
  accept(): UnixSocket {
    if (!this.connectionful) throw EOPNOTSUPP;
    if (this.state !== 'listening') throw EINVAL;
    const server = this.backlog.shift();
    if (!server) throw this.shutdown & RCV_SHUTDOWN ? EINVAL : EAGAIN;
    // Connections blocked on a full backlog may go on.
    this.waiters.notify(POLLOUT);
    return server;
  }

  /** connectDgram makes target the datagram socket's peer: EPERM when target is connected to another. */
  connectDgram(target: UnixSocket): void {
    if (!mayReach(this, target)) throw EPERM;
    if (this.passcred) this.autobind();
    this.peer = target;
    this.state = 'connected';
    this.waiters.notify();
  }

  /** disconnect forgets a datagram socket's peer (connect to AF_UNSPEC). */
  disconnect(): void {
    this.peer = undefined;
    this.state = 'unconnected';
    this.waiters.notify();
  }

  /** shut implements shutdown(2) (mode is RCV_SHUTDOWN, SEND_SHUTDOWN or both); a connection's peer hears the other half. */
  shut(mode: number): void {
    this.shutdown |= mode;
    this.waiters.notify();
    const peer = this.peer;
    if (!peer || !this.connectionful) return;
    peer.shutdown |= (mode & RCV_SHUTDOWN ? SEND_SHUTDOWN : 0) | (mode & SEND_SHUTDOWN ? RCV_SHUTDOWN : 0);
    peer.waiters.notify();
  }

  // ---- sending ----

  /** charge takes bytes of the sandbox's memory for a queued message: ENOBUFS past the limit. */
  private charge(bytes: number): void {
    if (!this.budget.charge(bytes)) throw ENOBUFS;
  }

  /**
   * sendStream queues as much of data as the send buffer takes for the
   * peer; out's rights go with it. ENOTCONN, EPIPE when either side shut
   * the way down or the peer is gone, EAGAIN while the buffer is full.
   */
  private sendStream(data: Uint8Array, out: Outgoing): number {
    const peer = this.peer;
    if (!peer) throw ENOTCONN;
    if (this.shutdown & SEND_SHUTDOWN || peer.dead || peer.shutdown & RCV_SHUTDOWN) throw EPIPE;
    // Nothing to send sends nothing, not even rights.
    if (data.length === 0) return 0;
    if (this.wmem >= this.sndbuf) throw this.takeError() ?? EAGAIN;
    const n = Math.min(data.length, this.sndbuf - this.wmem);
    this.enqueue(peer, data.subarray(0, n), out);
    return n;
  }

  /**
   * send sends data to the peer, or a datagram to `to`: as much as the
   * send buffer takes of a stream, one whole record otherwise. A
   * seqpacket socket reports its pending error first, and ENOTCONN
   * unless connected; a datagram socket without `to` ENOTCONN without a
   * peer.
   */
  send(data: Uint8Array, out: Outgoing, to?: UnixSocket): number {
    if (this.stream) return this.sendStream(data, out);
    if (this.type === SOCK_SEQPACKET) {
      const err = this.takeError();
      if (err) throw err;
      if (this.state !== 'connected') throw ENOTCONN;
      return this.sendRecord(data, out, this.peer!);
    }
    const target = to ?? this.peer;
    if (!target) throw ENOTCONN;
    return this.sendRecord(data, out, target);
  }

  /**
   * sendCheck is what a record's send checks before it looks for its
   * receiver: an autobind for SO_PASSCRED, the size (EMSGSIZE), the way
   * out (EPIPE), the send buffer (EAGAIN).
   */
  sendCheck(length: number): void {
    if (this.passcred) this.autobind();
    if (length > this.sndbuf - 32) throw EMSGSIZE;
    if (this.shutdown & SEND_SHUTDOWN) throw EPIPE;
    if (this.wmem >= this.sndbuf) throw EAGAIN;
  }

  /**
   * sendRecord queues one record, whole, for target (a datagram's
   * destination, or the peer). A dead receiver is ECONNREFUSED for a
   * datagram socket (which then forgets its peer) and EPIPE for a
   * seqpacket one; EPIPE when the receiver shut reading, EPERM when it
   * is connected to another socket, EAGAIN while its queue is full.
   */
  private sendRecord(data: Uint8Array, out: Outgoing, target: UnixSocket): number {
    this.sendCheck(data.length);
    if (!mayReach(this, target)) throw EPERM;
    if (target.dead) {
      if (this.type === SOCK_SEQPACKET) throw EPIPE;
      if (this.peer === target) this.disconnect();
      throw ECONNREFUSED;
    }
    if (target.shutdown & RCV_SHUTDOWN) throw EPIPE;
    if (target !== this && target.peer !== this && target.receiveFull) throw EAGAIN;
    this.enqueue(target, data, out);
    return data.length;
  }

  /** canSendTo is true once a record may go to target, or the send has an error to report. */
  canSendTo(target: UnixSocket): boolean {
    if (this.shutdown & SEND_SHUTDOWN || target.dead || target.shutdown & RCV_SHUTDOWN) return true;
    return this.wmem < this.sndbuf && (target === this || target.peer === this || !target.receiveFull);
  }

  /** watchSend hears of changes of this socket and of room in target's queue. */
  watchSend(changed: Changed, target: UnixSocket): () => void {
    const unwatch = this.waiters.add(changed);
    const unwatchTarget = target.roomWaiters.add(changed);
    return () => {
      unwatch();
      unwatchTarget();
    };
  }

  /** receiveFull is true while the receive queue holds more than MAX_DGRAM_QLEN records. */
  get receiveFull(): boolean {
    return this.queue.length > MAX_DGRAM_QLEN;
  }

  private enqueue(target: UnixSocket, data: Uint8Array, out: Outgoing): void {
    this.charge(data.length);
    target.queue.push({ data: Uint8Array.from(data), offset: 0, rights: out.rights, creds: out.creds, from: this });
    this.wmem += data.length;
    target.waiters.notify(POLLIN | POLLRDNORM);
  }

  /** consumed gives back what a reader took of a message from this socket. */
  private consumed(bytes: number): void {
    this.budget.uncharge(bytes);
    this.wmem -= bytes;
    this.waiters.notify(POLLOUT | POLLWRNORM | POLLWRBAND);
  }

  // ---- receiving ----

  /** takeError returns and clears the pending error (sock_error). */
  takeError(): SyscallError | undefined {
    const err = this.error;
    this.error = undefined;
    return err;
  }

  /**
   * receive reads up to max bytes: of a stream, across messages from one
   * writer (up to a message with rights, and, with SO_PASSCRED, not past
   * a change of sender); of a record, one record, truncated to max. A
   * peek leaves the queue as it is (and duplicates the rights). With
   * nothing queued: the pending error, end of file once reading is shut,
   * else EAGAIN. EINVAL on a stream that is not connected.
   */
  receive(max: number, peek: boolean): Received {
    if (this.stream && this.state !== 'connected') throw EINVAL;
    if (this.type === SOCK_SEQPACKET && this.state !== 'connected') throw ENOTCONN;
    // A record socket reports its error before its queue, a stream after.
    if (this.queue.length === 0 || !this.stream) {
      const err = this.takeError();
      if (err) throw err;
    }
    if (this.queue.length === 0) {
      if (this.shutdown & RCV_SHUTDOWN) return { data: EMPTY, length: 0, rights: [], creds: undefined, from: EMPTY };
      throw EAGAIN;
    }
    return this.stream ? this.receiveStream(max, peek) : this.receiveRecord(max, peek);
  }

  private receiveStream(max: number, peek: boolean): Received {
    const first = this.queue[0];
    const parts: Uint8Array[] = [];
    let rights: FileDescription[] = [];
    let got = 0;
    for (let i = 0; i < this.queue.length && got < max;) {
      const m = this.queue[i];
      if (this.passcred && !sameCreds(m.creds, first.creds)) break;
      const n = Math.min(max - got, m.data.length - m.offset);
      parts.push(m.data.subarray(m.offset, m.offset + n));
      got += n;
      const withRights = m.rights !== undefined;
      if (m.rights) rights = this.takeRights(m, peek);
      if (peek) {
        i++;
      } else {
        m.offset += n;
        m.from.consumed(n);
        if (m.offset === m.data.length) this.queue.shift();
        else i++;
      }
      if (withRights) break;
    }
    if (!peek) this.roomWaiters.notify();
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    return { data, length: got, rights, creds: this.passcred ? first.creds : undefined, from: first.from.address ?? EMPTY };
  }

  private receiveRecord(max: number, peek: boolean): Received {
    const m = this.queue[0];
    const rights = m.rights ? this.takeRights(m, peek) : [];
    if (!peek) {
      this.queue.shift();
      m.from.consumed(m.data.length);
      this.roomWaiters.notify();
    }
    return {
      data: m.data.subarray(0, max), length: m.data.length, rights, creds: this.passcred ? m.creds : undefined,
      from: m.from.address ?? EMPTY,
    };
  }

  /** takeRights hands a message's rights to the reader, or a second reference to each when it only peeks. */
  private takeRights(m: Message, peek: boolean): FileDescription[] {
    const rights = m.rights ?? [];
    if (peek) {
      for (const f of rights) f.incRef();
    } else {
      m.rights = undefined;
    }
    return rights;
  }

  /** available is FIONREAD's answer: the next datagram's size, or everything queued on a connection; EINVAL for a listener. */
  override available(): number {
    if (this.state === 'listening') throw EINVAL;
    if (!this.connectionful) return this.queue[0]?.data.length ?? 0;
    return this.queue.reduce((n, m) => n + m.data.length - m.offset, 0);
  }

  // ---- the file ----

  /** read is recv(2) without flags. */
  override read(max: number): Uint8Array {
    const got = this.receive(max, false);
    for (const f of got.rights) f.decRef();
    return got.data;
  }

  /** write is send(2) without flags. */
  override write(data: Uint8Array, caller?: Task): number {
    return this.send(data, { creds: caller ? credsOf(caller) : NO_PEER_CRED });
  }

  override get recordWrites(): boolean {
    return !this.stream;
  }

  override get brokenPipeSignals(): boolean {
    return this.stream;
  }

  override get pollable(): boolean {
    return true;
  }

  /** readiness is unix_poll's (stream) or unix_dgram_poll's (seqpacket and datagram) answer. */
  override readiness(): number {
    let mask = 0;
    if (this.error) mask |= POLLERR;
    if (this.shutdown === SHUTDOWN_MASK) mask |= POLLHUP;
    if (this.shutdown & RCV_SHUTDOWN) mask |= POLLRDHUP | POLLIN | POLLRDNORM;
    if ((this.state === 'listening' ? this.backlog.length : this.queue.length) > 0) mask |= POLLIN | POLLRDNORM;
    if (this.connectionful && this.state === 'unconnected') mask |= POLLHUP;
    let writable = this.state !== 'listening' && this.wmem * 4 <= this.sndbuf;
    const peer = this.peer;
    if (writable && !this.stream && peer && peer.peer !== this && peer.receiveFull) writable = false;
    if (writable) mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
    return mask;
  }

  /** watch hears of the socket's changes and, for a record socket, of room in its peer's queue. */
  override watch(changed: Changed): () => void {
    const peer = this.stream ? undefined : this.peer;
    return peer ? this.watchSend(changed, peer) : this.waiters.add(changed);
  }

  override procLink(): string {
    return `socket:[${this.ino}]`;
  }

  stat(): Stat {
    return {
      dev: SOCKFS_DEV, ino: this.ino, mode: 0o140777, nlink: 1, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0,
      rdev: 0, size: 0, blksize: PAGE_SIZE, blocks: 0, atimeNs: this.created, mtimeNs: this.created, ctimeNs: this.created,
    };
  }

  /**
   * release closes the socket: its name goes, its queue is dropped (the
   * rights in it with it), connections waiting in its backlog are reset,
   * and a connected peer sees the connection end: end of file, EPIPE,
   * and ECONNRESET when this side left data unread.
   */
  override release(): void {
    this.dead = true;
    if (this.bindKey && this.ns.bound.get(this.bindKey) === this) this.ns.bound.delete(this.bindKey);
    for (const server of this.backlog.splice(0)) server.closeEnd(true);
    this.closeEnd(false);
    // Connections that wait for its backlog give up.
    this.waiters.notify();
  }

  /** closeEnd ends one socket's side of things; an embryo is a connection never accepted. */
  private closeEnd(embryo: boolean): void {
    this.dead = true;
    const unread = this.queue.length > 0;
    for (const m of this.queue.splice(0)) {
      m.from.consumed(m.data.length - m.offset);
      for (const f of m.rights ?? []) f.decRef();
    }
    this.roomWaiters.notify();
    const peer = this.peer;
    if (peer && this.connectionful) {
      peer.shutdown = SHUTDOWN_MASK;
      if (unread || embryo) peer.error = ECONNRESET;
      peer.waiters.notify();
    }
  }
}

/** mayReach is unix_may_send: a datagram socket connected to another takes records only from that one. */
function mayReach(from: UnixSocket, to: UnixSocket): boolean {
  return to.peer === undefined || to.peer === from;
}

function sameCreds(a: Ucred, b: Ucred): boolean {
  return a.pid === b.pid && a.uid === b.uid && a.gid === b.gid;
}

/** familyBytes is sun_family's two bytes: AF_UNIX. */
export function familyBytes(): Uint8Array {
  return Uint8Array.of(AF_UNIX, 0);
}
