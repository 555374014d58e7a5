// signals.ts: signal numbers, names and default actions (signal(7)).

export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7,
  SIGFPE = 8, SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14,
  SIGTERM = 15, SIGSTKFLT = 16, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21,
  SIGTTOU = 22, SIGURG = 23, SIGXCPU = 24, SIGXFSZ = 25, SIGVTALRM = 26, SIGPROF = 27, SIGWINCH = 28,
  SIGIO = 29, SIGPWR = 30, SIGSYS = 31;
export const NSIG = 64;

const NAMES = ['', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL',
  'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP',
  'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO',
  'SIGPWR', 'SIGSYS'];

export function signalName(sig: number): string {
  return NAMES[sig] ?? `SIGRT${sig - 32}`;
}

/** signalNumber parses 'SIGTERM', 'TERM' or '15'. */
export function signalNumber(name: string): number | undefined {
  if (/^\d+$/.test(name)) {
    const n = Number(name);
    return n >= 1 && n <= NSIG ? n : undefined;
  }
  const i = NAMES.indexOf(name.startsWith('SIG') ? name : `SIG${name}`);
  return i > 0 ? i : undefined;
}

/** DefaultAction is what SIG_DFL does with a signal. */
export const enum DefaultAction { Terminate, CoreDump, Ignore, Stop, Continue }

export function defaultAction(sig: number): DefaultAction {
  switch (sig) {
    case SIGCHLD: case SIGURG: case SIGWINCH:
      return DefaultAction.Ignore;
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
      return DefaultAction.Stop;
    case SIGCONT:
      return DefaultAction.Continue;
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV:
    case SIGXCPU: case SIGXFSZ: case SIGSYS:
      return DefaultAction.CoreDump;
    default:
      return DefaultAction.Terminate;
  }
}

/** SigSet is a 64-bit signal mask as two 32-bit halves (bit sig-1). */
export class SigSet {
  lo = 0;
  hi = 0;
  has(sig: number): boolean {
    return sig <= 32 ? (this.lo & (1 << (sig - 1))) !== 0 : (this.hi & (1 << (sig - 33))) !== 0;
  }
  add(sig: number): void {
    if (sig <= 32) this.lo = (this.lo | (1 << (sig - 1))) >>> 0;
    else this.hi = (this.hi | (1 << (sig - 33))) >>> 0;
  }
  delete(sig: number): void {
    if (sig <= 32) this.lo = (this.lo & ~(1 << (sig - 1))) >>> 0;
    else this.hi = (this.hi & ~(1 << (sig - 33))) >>> 0;
  }
  copy(): SigSet {
    const c = new SigSet();
    c.lo = this.lo;
    c.hi = this.hi;
    return c;
  }
  isEmpty(): boolean {
    return this.lo === 0 && this.hi === 0;
  }
  clone(): SigSet {
    return SigSet.of(this.lo, this.hi);
  }
  /** union adds every signal of o. */
  union(o: SigSet): void {
    this.lo = (this.lo | o.lo) >>> 0;
    this.hi = (this.hi | o.hi) >>> 0;
  }
  /** blockable is the set less SIGKILL and SIGSTOP, which no mask may hold. */
  blockable(): SigSet {
    const s = this.clone();
    s.delete(SIGKILL);
    s.delete(SIGSTOP);
    return s;
  }
  static of(lo: number, hi: number): SigSet {
    const s = new SigSet();
    s.lo = lo >>> 0;
    s.hi = hi >>> 0;
    return s;
  }
}

/** SIGRTMIN is the first realtime signal; those from it on are queued, one siginfo per sending. */
export const SIGRTMIN = 32;

/** si_code values (siginfo.h). Negative codes come from user space. */
export const SI_USER = 0, SI_KERNEL = 0x80, SI_QUEUE = -1, SI_TIMER = -2, SI_TKILL = -6;
export const SEGV_MAPERR = 1, SEGV_ACCERR = 2, BUS_ADRERR = 2, ILL_ILLOPN = 2, FPE_INTDIV = 1, TRAP_BRKPT = 1;

/** SIGINFO_SIZE is sizeof(siginfo_t). */
export const SIGINFO_SIZE = 128;

/**
 * SigInfo is a siginfo_t as the program receives it: si_signo, si_errno and
 * si_code, then a union whose members this class writes by offset
 * (si_pid/si_uid at 16/20, si_value at 24, si_addr at 16).
 */
export class SigInfo {
  readonly bytes = new Uint8Array(SIGINFO_SIZE);
  private readonly view = new DataView(this.bytes.buffer);

  constructor(signo: number, code: number) {
    this.view.setInt32(0, signo, true);
    this.view.setInt32(8, code, true);
  }

  /** fromUser is a siginfo given by the program (rt_sigqueueinfo): its first 48 bytes, as Linux keeps them, with signo set to sig. */
  static fromUser(sig: number, raw: Uint8Array): SigInfo {
    const info = new SigInfo(sig, 0);
    info.bytes.set(raw.subarray(0, 48));
    info.view.setInt32(0, sig, true);
    return info;
  }

  get signo(): number {
    return this.view.getInt32(0, true);
  }

  get code(): number {
    return this.view.getInt32(8, true);
  }

  /** sender fills si_pid and si_uid (kill, tkill, sigqueue, SIGCHLD). */
  sender(pid: number, uid: number): this {
    this.view.setInt32(16, pid, true);
    this.view.setUint32(20, uid, true);
    return this;
  }

  /** childStatus fills si_status (SIGCHLD: the exit code, or the signal that ended, stopped or continued the child). */
  childStatus(status: number): this {
    this.view.setInt32(24, status, true);
    return this;
  }

  /** address fills si_addr (faults). */
  address(addr: number): this {
    this.view.setBigUint64(16, BigInt(addr), true);
    return this;
  }
}

/**
 * SYNCHRONOUS are the signals a fault raises; Linux delivers them before
 * any other pending signal, so the handler sees the fault first.
 */
const SYNCHRONOUS = (1 << (SIGILL - 1)) | (1 << (SIGTRAP - 1)) | (1 << (SIGBUS - 1)) | (1 << (SIGFPE - 1)) |
  (1 << (SIGSEGV - 1)) | (1 << (SIGSYS - 1));

/**
 * PendingSignals is a task's pending set with the siginfo of each
 * instance: a standard signal is pending once (a second sending while it
 * is pending is lost, with its siginfo), a realtime one as often as it was
 * sent, in order.
 */
export class PendingSignals extends SigSet {
  private readonly queues: SigInfo[][] = Array.from({ length: NSIG + 1 }, () => []);

  /** enqueue makes info's signal pending; it returns false when it was pending already as a standard signal. */
  enqueue(info: SigInfo): boolean {
    const sig = info.signo;
    if (sig < SIGRTMIN && this.has(sig)) return false;
    this.queues[sig].push(info);
    this.add(sig);
    return true;
  }

  /** dequeue takes the oldest instance of sig; its bit stays while more are queued. */
  dequeue(sig: number): SigInfo {
    const q = this.queues[sig];
    const info = q.shift() ?? new SigInfo(sig, SI_KERNEL);
    if (q.length === 0) super.delete(sig);
    return info;
  }

  /** delete discards every instance of sig (it became ignored). */
  override delete(sig: number): void {
    this.queues[sig].length = 0;
    super.delete(sig);
  }

  /** next is the signal to deliver first of those not in mask, or 0: a synchronous one, else the lowest. */
  next(mask: SigSet): number {
    const lo = (this.lo & ~mask.lo) >>> 0;
    const sync = lo & SYNCHRONOUS;
    if (sync) return lowestBit(sync);
    if (lo) return lowestBit(lo);
    const hi = (this.hi & ~mask.hi) >>> 0;
    return hi ? 32 + lowestBit(hi) : 0;
  }

  /** count is how many instances are queued, for RLIMIT_SIGPENDING. */
  get count(): number {
    let n = 0;
    for (const q of this.queues) n += q.length;
    return n;
  }
}

/** lowestBit is the 1-based position of the lowest set bit of a non-zero 32-bit word (a signal number). */
function lowestBit(w: number): number {
  return 32 - Math.clz32(w & -w);
}
