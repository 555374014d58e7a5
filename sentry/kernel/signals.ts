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
}
