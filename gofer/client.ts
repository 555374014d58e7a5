// client.ts is the Sentry's side of the Gofer. startGofer hands a Gofer
// process (native/server.c, built as build/Release/tvisor-gofer; the warm
// spare when there is one) its mounts and returns a Gofer whose calls
// travel through the shared ring of ring.ts. Nothing here
// blocks Node's event loop longer than a short spin: a call that is not
// answered within SPIN_MS is finished later, when the Gofer's wake byte
// arrives on its stdout pipe (a libuv readable event, no thread).
//
// If the Gofer process exits, or leaves a request unanswered for the
// timeout, every pending and later call rejects with EIO, onDeath is told
// why, and the process is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';
import { Packr, Unpackr } from 'msgpackr';
import {
  GoferError, type DirEntry, type Gofer, type GoferStat, type Handle, type MountSpec, type StartOptions,
  type StatFs, type Walked,
} from './api.js';
import { sys } from './native/addon.js';
import {
  conformsAll, DATA_SIZE, DOORBELL, encodeFrame, FREE, GOFER_SLEEPING, MAGIC, MESSAGE_SIZE, MESSAGES, nameError,
  Op, OP_NAMES, REPLY, replyLengthWord, REQUEST, requestLengthWord, RING_MAGIC, RING_SIZE, RingView,
  SENTRY_SLEEPING, SLOT_COUNT, stateWord, takeFrame, targetError, type Kind,
} from './ring.js';
import { host } from '../sentry/native/host.js';
import { packageRoot } from '../sentry/native/paths.js';

const { EINVAL, EIO } = constants.errno;

/** DEFAULT_TIMEOUT_MS is how long a request may go unanswered before the Gofer is declared hung. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** TIMEOUT_ENV overrides the default timeout, in milliseconds (tests shorten it). */
export const TIMEOUT_ENV = 'TVISOR_GOFER_TIMEOUT_MS';
/** SPIN_MS is how long a call spins on the event loop for its reply before it waits for a wake byte. */
const SPIN_MS = 0.02;

/** GOFER is the Gofer's executable, which node-gyp builds next to the addons. */
const GOFER = join(packageRoot, 'build', 'Release', 'tvisor-gofer');
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, copyBuffers: true });

/** MappedRing is a ring mapped into this process. */
interface MappedRing {
  address: bigint;
  view: RingView;
}

/** mapRing maps the ring memfd `fd` (RING_SIZE bytes) shared. */
function mapRing(fd: number): MappedRing {
  const address = host.mapShared(fd, RING_SIZE);
  return { address, view: new RingView(host.view(address, 0, RING_SIZE)) };
}

/** unmapRing unmaps a ring; views over it read as empty afterwards. */
function unmapRing(ring: MappedRing): void {
  host.unmap(ring.address, RING_SIZE, [ring.view.buffer]);
}

/** GoferOptions adds to api.ts's StartOptions what only the launcher and tests set. */
export interface GoferOptions extends StartOptions {
  /** timeoutMs overrides DEFAULT_TIMEOUT_MS (and TIMEOUT_ENV). */
  timeoutMs?: number;
}

/**
 * GoferProcess is a spawned Gofer and its ring: first the idle spare,
 * then, once configured, the process behind one GoferClient.
 */
class GoferProcess {
  readonly child: ChildProcess;
  readonly ring: MappedRing;
  private readonly ringFd: number;
  /** exited says why the process ended, once it has. */
  exited: string | undefined;
  readonly exit: Promise<void>;
  /** onExit and onWake are the owner's: the process ended (why reads after "the Gofer"); a wake byte arrived. */
  onExit: (why: string) => void = () => {};
  onWake: () => void = () => {};
  private stage: 'spare' | 'configuring' | 'serving' = 'spare';
  private answer = Buffer.alloc(0);
  private onAnswer: (value: unknown) => void = () => {};

  constructor() {
    this.ringFd = host.memfdCreate('tvisor-gofer-ring', RING_SIZE);
    this.ring = mapRing(this.ringFd);
    this.ring.view.words[MAGIC] = RING_MAGIC;
    this.child = spawn(GOFER, [], {
      stdio: ['pipe', 'pipe', 'inherit', this.ringFd],
      env: { TVISOR_GOFER_PARENT: String(process.pid) },
    });
    // Neither the spare nor an idle Gofer keeps Node alive; a GoferClient
    // holds a referenced timer while it has calls in flight.
    this.child.unref();
    const stdin = this.child.stdin as Socket;
    const stdout = this.child.stdout as Socket;
    stdin.unref();
    stdout.unref();
    // A pipe's errors (EPIPE once the process is gone) are reported by its exit.
    stdin.on('error', () => {});
    stdout.on('error', () => {});
    stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    this.exit = new Promise((resolve) => {
      const ended = (why: string): void => {
        if (this.exited !== undefined) return;
        this.exited = why;
        this.onExit(why);
        unmapRing(this.ring);
        host.close(this.ringFd);
        resolve();
      };
      // 'close' comes after 'exit' once stdout has ended too, so that an
      // answer written just before exiting is read first.
      this.child.on('close', (code, signal) => ended(signal ? `exited (${signal})` : `exited with status ${code}`));
      this.child.on('error', (err) => ended(`could not start: ${err.message}`));
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  kill(): void {
    if (this.exited === undefined) this.child.kill('SIGKILL');
  }

  /** configure sends the mounts; it resolves once the Gofer holds every mount's root. */
  configure(mounts: MountSpec[], timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.exited !== undefined) return reject(new GoferError(EIO, `gofer: ${this.exited}`));
      const finish = (err: GoferError | undefined): void => {
        clearTimeout(timer);
        this.onExit = () => {};
        this.onAnswer = () => {};
        if (err === undefined) {
          this.stage = 'serving';
          this.child.stdin!.destroy();
          resolve();
        } else {
          reject(err);
        }
      };
      const timer = setTimeout(() => finish(new GoferError(EIO, `gofer: no answer to its configuration in ${timeoutMs} ms`)), timeoutMs);
      this.onExit = (why) => finish(new GoferError(EIO, `gofer: ${why}`));
      this.onAnswer = (value) => {
        if (Array.isArray(value) && value.length === 1 && value[0] === 0) return finish(undefined);
        if (Array.isArray(value) && value.length === 2 && Number.isInteger(value[0]) && value[0] > 0) {
          const which = mounts[value[1]]?.hostPath ?? 'the configuration';
          return finish(new GoferError(value[0], `gofer: cannot serve ${which} (errno ${value[0]})`));
        }
        finish(new GoferError(EIO, 'gofer: malformed answer to its configuration'));
      };
      this.stage = 'configuring';
      this.child.stdin!.write(encodeFrame(packr, [RING_MAGIC, mounts.map((m) => [m.hostPath, m.writable])]));
    });
  }

  private onData(chunk: Buffer): void {
    if (this.stage === 'serving') return this.onWake();
    if (this.stage === 'spare') return;
    this.answer = Buffer.concat([this.answer, chunk]);
    let frame: { value: unknown } | undefined;
    try {
      frame = takeFrame(unpackr, this.answer);
    } catch {
      frame = { value: undefined };
    }
    if (frame !== undefined) this.onAnswer(frame.value);
  }
}

/** Call is one request, queued or in a slot. */
interface Call {
  /** request is [op, ...arguments], or a raw frame (sendRaw). */
  request: unknown[] | Uint8Array;
  name: string;
  /** replyKinds are the results a success reply must have; undefined accepts any (sendRaw). */
  replyKinds: Kind[] | undefined;
  /** input is copied into the slot's data area (a write's bytes). */
  input: Uint8Array | undefined;
  /** finish takes a well-formed success reply while the slot is still this call's; it throws Malformed if the results make no sense. */
  finish(reply: unknown[], data: Uint8Array): void;
  fail(err: GoferError): void;
  postedAt: number;
}

/** Malformed is thrown by a call's finish when a reply makes no sense. */
class Malformed extends Error {}

function invalid<T>(): Promise<T> {
  return Promise.reject(new GoferError(EINVAL));
}

/** count checks a byte count the Gofer replied with. */
function count(n: number, max: number): number {
  if (n > max) throw new Malformed();
  return n;
}

function toNs(sec: number, nsec: number): bigint {
  return BigInt(sec) * 1_000_000_000n + BigInt(nsec);
}

/** toStat reads the fields of a stat reply, which come in ring.ts's STAT_ORDER. */
function toStat(t: number[]): GoferStat {
  return {
    dev: t[0], ino: t[1], mode: t[2], nlink: t[3], uid: t[4], gid: t[5], rdev: t[6], size: t[7], blksize: t[8],
    blocks: t[9], atimeNs: toNs(t[10], t[11]), mtimeNs: toNs(t[12], t[13]), ctimeNs: toNs(t[14], t[15]),
  };
}

function toWalked(r: unknown[]): Walked {
  return { handle: r[1] as number, stat: toStat(r[2] as number[]) };
}

/** toStatFs reads the fields of a statfs reply, which come in ring.ts's STATFS_ORDER. */
function toStatFs(t: number[]): StatFs {
  return {
    type: t[0], bsize: t[1], blocks: t[2], bfree: t[3], bavail: t[4], files: t[5], ffree: t[6], namelen: t[7],
    frsize: t[8], flags: t[9],
  };
}

function nothing(): void {}

/** GoferClient is the Gofer of api.ts over one Gofer process's ring. */
export class GoferClient implements Gofer {
  /** onDeath gets one line that reads after "the Gofer": "exited (SIGKILL)", "did not answer stat within 10000 ms and was killed as hung". */
  onDeath: ((why: string) => void) | undefined;
  /** requests counts the ring requests made (a large read or write is several). */
  requests = 0;
  private readonly words: Int32Array;
  private readonly slots: (Call | undefined)[] = new Array(SLOT_COUNT).fill(undefined);
  private readonly queue: Call[] = [];
  /** posted and answered count requests; the next one goes to slot posted % SLOT_COUNT. */
  private posted = 0;
  private answered = 0;
  private dead: string | undefined;
  private shuttingDown = false;
  /** watchdog declares the Gofer hung; it is referenced only while calls are in flight. */
  private readonly watchdog: NodeJS.Timeout;
  private busy = false;

  constructor(private readonly proc: GoferProcess, private readonly timeoutMs: number) {
    this.words = proc.ring.view.words;
    proc.onWake = () => this.service();
    proc.onExit = (why) => this.die(why);
    this.watchdog = setInterval(() => this.tick(), Math.max(5, Math.min(1000, timeoutMs / 4)));
    this.watchdog.unref();
  }

  /** pid is the Gofer process's id. */
  get pid(): number {
    return this.proc.pid;
  }

  attach(index: number): Promise<Walked> {
    return this.call(Op.Attach, [index], toWalked);
  }

  lookup(dir: Handle, name: string): Promise<Walked> {
    const bad = nameError(name);
    if (bad) return Promise.reject(new GoferError(bad));
    return this.call(Op.Lookup, [dir, name], toWalked);
  }

  stat(h: Handle): Promise<GoferStat> {
    return this.call(Op.Stat, [h], (r) => toStat(r[1] as number[]));
  }

  open(h: Handle, flags: number): Promise<Handle> {
    return this.call(Op.Open, [h, flags], (r) => {
      this.hostFds.set(r[1] as number, r[2] as number);
      return r[1] as number;
    });
  }

  /** hostFds maps an open file's handle to the descriptor number it has in the Gofer. */
  private readonly hostFds = new Map<Handle, number>();

  /**
   * takeFd gives this process its own descriptor for an open file of the
   * Gofer's (pidfd_getfd), or undefined when that fails (an old kernel).
   */
  takeFd(h: Handle): number | undefined {
    const remote = this.hostFds.get(h);
    if (remote === undefined || this.dead !== undefined) return undefined;
    const fd = host.pidfdGetfd(this.pid, remote);
    return fd >= 0 ? fd : undefined;
  }

  create(dir: Handle, name: string, flags: number, mode: number): Promise<Walked> {
    const bad = nameError(name);
    if (bad) return Promise.reject(new GoferError(bad));
    return this.call(Op.Create, [dir, name, flags, mode], toWalked);
  }

  read(h: Handle, offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(length) || length < 0) return invalid();
    if (length <= DATA_SIZE) {
      return this.call(Op.Read, [h, offset, length], (r, data) => data.slice(0, count(r[1] as number, length)));
    }
    return this.readLarge(h, offset, length);
  }

  /** readLarge reads in DATA_SIZE pieces straight into one buffer. */
  private async readLarge(h: Handle, offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset + length)) return invalid();
    const out = Buffer.allocUnsafeSlow(length);
    const end = await this.chunked(length, (at, size) =>
      this.call(Op.Read, [h, offset + at, size], (r, data) => {
        const n = count(r[1] as number, size);
        out.set(data.subarray(0, n), at);
        return n;
      }));
    return out.subarray(0, end);
  }

  write(h: Handle, offset: number, data: Uint8Array): Promise<number> {
    if (!(data instanceof Uint8Array)) return invalid();
    if (data.length <= DATA_SIZE) {
      return this.call(Op.Write, [h, offset, data.length], (r) => count(r[1] as number, data.length), data);
    }
    if (!Number.isSafeInteger(offset + data.length)) return invalid();
    return this.chunked(data.length, (at, size) =>
      this.call(Op.Write, [h, offset + at, size], (r) => count(r[1] as number, size), data.subarray(at, at + size)));
  }

  /**
   * chunked runs [0, length) as DATA_SIZE pieces, up to SLOT_COUNT at a
   * time and posted in order (so O_APPEND pieces land in order); it returns
   * where the first short piece ended, or length.
   */
  private async chunked(length: number, piece: (at: number, size: number) => Promise<number>): Promise<number> {
    let next = 0;
    let end = length;
    const worker = async (): Promise<void> => {
      while (next < end) {
        const at = next;
        const size = Math.min(DATA_SIZE, end - at);
        next += size;
        let n: number;
        try {
          n = await piece(at, size);
        } catch (err) {
          end = 0;
          throw err;
        }
        if (n < size) end = Math.min(end, at + n);
      }
    };
    const workers = Math.min(SLOT_COUNT, Math.ceil(length / DATA_SIZE));
    await Promise.all(Array.from({ length: workers }, worker));
    return end;
  }

  async readdir(h: Handle): Promise<DirEntry[]> {
    const all: DirEntry[] = [];
    let cookie = 0n;
    for (;;) {
      const [entries, next, end] = await this.call(Op.Readdir, [h, cookie],
        (r) => r.slice(1) as [Array<[string, number, number]>, bigint, boolean]);
      for (const [name, ino, type] of entries) all.push({ name, ino, type });
      if (end) return all;
      // A page that neither ends the directory nor moves on would loop forever.
      if (entries.length === 0) throw new GoferError(EIO, 'gofer: malformed reply to readdir');
      cookie = next;
    }
  }

  readlink(h: Handle): Promise<string> {
    return this.call(Op.Readlink, [h], (r) => r[1] as string);
  }

  mkdir(dir: Handle, name: string, mode: number): Promise<Walked> {
    const bad = nameError(name);
    if (bad) return Promise.reject(new GoferError(bad));
    return this.call(Op.Mkdir, [dir, name, mode], toWalked);
  }

  symlink(dir: Handle, name: string, target: string): Promise<Walked> {
    const bad = nameError(name) || targetError(target);
    if (bad) return Promise.reject(new GoferError(bad));
    return this.call(Op.Symlink, [dir, name, target], toWalked);
  }

  link(target: Handle, dir: Handle, name: string): Promise<void> {
    const bad = nameError(name);
    if (bad) return Promise.reject(new GoferError(bad));
    return this.call(Op.Link, [target, dir, name], nothing);
  }

  unlink(parent: Handle, name: string, isDir: boolean): Promise<void> {
    const bad = nameError(name);
    if (bad) return Promise.reject(new GoferError(bad));
    return this.call(Op.Unlink, [parent, name, isDir], nothing);
  }

  rename(oldDir: Handle, oldName: string, newDir: Handle, newName: string, flags: number): Promise<void> {
    const bad = nameError(oldName) || nameError(newName);
    if (bad) return Promise.reject(new GoferError(bad));
    return this.call(Op.Rename, [oldDir, oldName, newDir, newName, flags], nothing);
  }

  truncate(h: Handle, size: number): Promise<void> {
    return this.call(Op.Truncate, [h, size], nothing);
  }

  chmod(h: Handle, mode: number): Promise<void> {
    return this.call(Op.Chmod, [h, mode], nothing);
  }

  chown(h: Handle, uid: number, gid: number): Promise<void> {
    return this.call(Op.Chown, [h, uid, gid], nothing);
  }

  utimens(h: Handle, atimeNs: bigint | null, mtimeNs: bigint | null): Promise<void> {
    return this.call(Op.Utimens, [h, atimeNs, mtimeNs], nothing);
  }

  statfs(h: Handle): Promise<StatFs> {
    return this.call(Op.Statfs, [h], (r) => toStatFs(r[1] as number[]));
  }

  fsync(h: Handle): Promise<void> {
    return this.call(Op.Fsync, [h], nothing);
  }

  close(h: Handle): Promise<void> {
    this.hostFds.delete(h);
    return this.call(Op.Close, [h], nothing);
  }

  async shutdown(): Promise<void> {
    if (keepSpare) scheduleSpare();
    this.shuttingDown = true;
    this.die('shut down');
    // The process and its stdout are unreferenced: reference both so that
    // Node waits to reap it ('close' comes only once stdout has ended too).
    this.proc.child.ref();
    (this.proc.child.stdout as Socket).ref();
    await this.proc.exit;
  }

  /**
   * sendRaw puts frame into the next request slot as it is, for tests of
   * the Gofer's checks. The reply is checked as a reply to `replyAs` when
   * given; it resolves with a success reply's results, and rejects with the
   * GoferError of a failure reply (EIO for a malformed one).
   */
  sendRaw(frame: Uint8Array, replyAs?: Op): Promise<unknown[]> {
    return this.enqueue(frame, 'raw frame', replyAs === undefined ? undefined : MESSAGES[replyAs].reply,
      (r) => r.slice(1), undefined);
  }

  /** call makes one request after checking its arguments against ring.ts; take turns the reply's results into the value. */
  private call<T>(op: Op, args: unknown[], take: (reply: unknown[], data: Uint8Array) => T, input?: Uint8Array): Promise<T> {
    const request = [op, ...args];
    const spec = MESSAGES[op];
    if (!conformsAll(request, 1, spec.request)) return invalid();
    return this.enqueue(request, OP_NAMES[op], spec.reply, take, input);
  }

  private enqueue<T>(
    request: unknown[] | Uint8Array, name: string, replyKinds: Kind[] | undefined,
    take: (reply: unknown[], data: Uint8Array) => T, input: Uint8Array | undefined,
  ): Promise<T> {
    if (this.dead !== undefined) return Promise.reject(this.deathError());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        request, name, replyKinds, input, postedAt: 0, fail: reject,
        finish: (reply, data) => resolve(take(reply, data)),
      });
      this.service();
    });
  }

  /**
   * service moves the ring along: it takes the replies that are in, posts
   * what waits for a slot, spins briefly for a reply when it posted, and
   * otherwise tells the Gofer it waits for a wake byte.
   */
  private service(): void {
    while (this.dead === undefined) {
      this.collect();
      if (this.post() && this.spin()) continue;
      if (this.answered === this.posted) break;
      Atomics.store(this.words, SENTRY_SLEEPING, 1);
      // A reply that came in before the Gofer could see the flag brings no wake byte: look once more.
      if (!this.replyIn()) break;
    }
    this.updateBusy();
  }

  private replyIn(): boolean {
    return Atomics.load(this.words, stateWord(this.answered % SLOT_COUNT)) === REPLY;
  }

  /** post puts queued calls into free slots and rings the Gofer once; it returns whether it posted any. */
  private post(): boolean {
    const view = this.proc.ring.view;
    let any = false;
    while (this.queue.length > 0 && this.posted - this.answered < SLOT_COUNT) {
      const call = this.queue.shift()!;
      const slot = this.posted % SLOT_COUNT;
      let frame: Uint8Array;
      try {
        frame = call.request instanceof Uint8Array ? call.request : packr.pack(call.request);
      } catch {
        call.fail(new GoferError(EINVAL));
        continue;
      }
      if (frame.length > MESSAGE_SIZE) {
        call.fail(new GoferError(EINVAL));
        continue;
      }
      view.message(slot).set(frame);
      if (call.input !== undefined) view.data(slot).set(call.input);
      Atomics.store(this.words, requestLengthWord(slot), frame.length);
      call.postedAt = performance.now();
      this.slots[slot] = call;
      this.posted++;
      this.requests++;
      Atomics.store(this.words, stateWord(slot), REQUEST);
      any = true;
    }
    if (any) {
      Atomics.add(this.words, DOORBELL, 1);
      if (Atomics.load(this.words, GOFER_SLEEPING) === 1) sys.futexWake(this.words, DOORBELL, 1);
    }
    return any;
  }

  /** spin waits up to SPIN_MS for the oldest reply; it returns whether it came. */
  private spin(): boolean {
    const until = performance.now() + SPIN_MS;
    while (!this.replyIn()) if (performance.now() > until) return false;
    return true;
  }

  /** collect settles the calls whose replies are in, oldest first, and frees their slots. */
  private collect(): void {
    while (this.answered < this.posted && this.replyIn()) {
      const slot = this.answered % SLOT_COUNT;
      const call = this.slots[slot]!;
      this.slots[slot] = undefined;
      this.settle(call, slot);
      Atomics.store(this.words, stateWord(slot), FREE);
      this.answered++;
    }
  }

  /** settle checks slot's reply and finishes or fails its call; a malformed reply fails the call with EIO. */
  private settle(call: Call, slot: number): void {
    const view = this.proc.ring.view;
    const malformed = (): void => call.fail(new GoferError(EIO, `gofer: malformed reply to ${call.name}`));
    const length = Atomics.load(this.words, replyLengthWord(slot));
    if (!(length > 0 && length <= MESSAGE_SIZE)) return malformed();
    let reply: unknown;
    try {
      reply = unpackr.unpack(view.message(slot).subarray(0, length));
    } catch {
      return malformed();
    }
    if (!Array.isArray(reply)) return malformed();
    const errno = reply[0];
    if (errno !== 0) {
      if (reply.length === 1 && Number.isInteger(errno) && errno > 0 && errno < 4096) return call.fail(new GoferError(errno));
      return malformed();
    }
    if (call.replyKinds !== undefined && !conformsAll(reply, 1, call.replyKinds)) return malformed();
    try {
      call.finish(reply, view.data(slot));
    } catch {
      malformed();
    }
  }

  /** updateBusy keeps Node alive (through the watchdog) exactly while calls are in flight. */
  private updateBusy(): void {
    const busy = this.dead === undefined && this.answered < this.posted;
    if (busy === this.busy) return;
    this.busy = busy;
    if (busy) this.watchdog.ref();
    else this.watchdog.unref();
  }

  /** tick takes replies whose wake byte went missing and declares the Gofer hung when the oldest call is too old. */
  private tick(): void {
    this.service();
    if (this.dead !== undefined || this.answered === this.posted) return;
    const oldest = this.slots[this.answered % SLOT_COUNT]!;
    if (performance.now() - oldest.postedAt > this.timeoutMs) {
      this.die(`did not answer ${oldest.name} within ${this.timeoutMs} ms and was killed as hung`);
    }
  }

  private deathError(): GoferError {
    return new GoferError(EIO, `gofer: ${this.dead}`);
  }

  /** die ends the Gofer: it kills the process, fails every call, and tells onDeath (unless shutting down). */
  private die(why: string): void {
    if (this.dead !== undefined) return;
    this.dead = why;
    clearInterval(this.watchdog);
    this.proc.kill();
    const calls = [...this.slots, ...this.queue];
    this.slots.fill(undefined);
    this.queue.length = 0;
    for (const call of calls) call?.fail(this.deathError());
    if (!this.shuttingDown) this.onDeath?.(why);
  }
}

let spare: GoferProcess | undefined;

/** prestartGofer spawns the spare Gofer now if there is none, so that the next startGofer finds it warm. */
export function prestartGofer(): void {
  if (spare === undefined || spare.exited !== undefined) spare = new GoferProcess();
}

/** spareGoferPid is the process id of the spare Gofer, if one waits (for tests and diagnostics). */
export function spareGoferPid(): number | undefined {
  if (spare === undefined || spare.exited !== undefined) return undefined;
  return spare.pid;
}

function timeoutFrom(opts: GoferOptions): number {
  const env = Number(process.env[TIMEOUT_ENV]);
  const ms = opts.timeoutMs ?? (env > 0 ? env : DEFAULT_TIMEOUT_MS);
  if (!(ms > 0)) throw new GoferError(EINVAL, 'gofer: the timeout must be positive');
  return ms;
}

/**
 * keepSpare says whether a spare Gofer is kept ready for the next sandbox.
 * A one-shot user (the CLI) turns it off: it prestarts the one Gofer it
 * needs as early as it can, and wants no other process.
 */
let keepSpare = true;

/**
 * SPARE_DELAY_MS is how long after a Gofer's shutdown the next spare
 * starts, unless another shutdown comes first: sandboxes made back to back
 * start their Gofer when they need it (spawning one takes a millisecond or
 * two), and the spare is ready for the next sandbox after a pause.
 */
const SPARE_DELAY_MS = 300;
let spareTimer: NodeJS.Timeout | undefined;

function scheduleSpare(): void {
  if (spareTimer) clearTimeout(spareTimer);
  spareTimer = setTimeout(() => {
    spareTimer = undefined;
    prestartGofer();
  }, SPARE_DELAY_MS);
  spareTimer.unref();
}

export function setKeepSpare(on: boolean): void {
  keepSpare = on;
}

/**
 * startGofer starts a Gofer serving opts.mounts (index 0 is the root): it
 * takes the spare Gofer process (or spawns one) and configures it. The
 * next spare is started when a Gofer shuts down, when the sandbox's work
 * is over, rather than now, so that starting it does not compete with the
 * program the new sandbox is about to run. It rejects with the errno of a
 * mount the Gofer cannot open.
 */
export async function startGofer(opts: GoferOptions): Promise<GoferClient> {
  const timeoutMs = timeoutFrom(opts);
  for (const m of opts.mounts) {
    if (typeof m.hostPath !== 'string' || !m.hostPath.startsWith('/') || m.hostPath.includes('\0')) {
      throw new GoferError(EINVAL, `gofer: not an absolute host path: ${m.hostPath}`);
    }
  }
  let proc = spare;
  spare = undefined;
  if (spareTimer) {
    // A sandbox starts now: the pending spare would start while it works.
    clearTimeout(spareTimer);
    spareTimer = undefined;
  }
  if (proc === undefined || proc.exited !== undefined) proc = new GoferProcess();
  try {
    await proc.configure(opts.mounts, timeoutMs);
  } catch (err) {
    proc.kill();
    throw err;
  }
  return new GoferClient(proc, timeoutMs);
}
