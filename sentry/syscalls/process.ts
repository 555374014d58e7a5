// process.ts: identity, limits, exit and the other per-process calls.
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full, partial, unsupported } from './table.js';
import { EINVAL, EPERM, ESRCH } from '../errno.js';
import { USER_ADDRESS_LIMIT } from '../mm/mm.js';
import { host } from '../native/host.js';
import { CAP_LAST_CAP, CAP_SETPCAP, CAP_SYS_RESOURCE } from '../kernel/credentials.js';

export const gettid = (t: Task) => t.tid;
/** set_tid_address implements set_tid_address(2). */
export function setTidAddress(t: Task, a: SyscallArgs): number {
  t.clearTid = a.pointer(0);
  return t.tid;
}

const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004;

/** arch_prctl implements arch_prctl(2) for the FS base; GS is not offered. */
export function archPrctl(t: Task, a: SyscallArgs): number {
  switch (a.int(0)) {
    case ARCH_SET_FS: {
      const addr = a.pointer(1);
      if (!(addr < USER_ADDRESS_LIMIT)) throw EPERM;
      t.ctx.fsBase = addr;
      return 0;
    }
    case ARCH_GET_FS:
      t.mm.writeU64(a.pointer(1), t.ctx.fsBase);
      return 0;
    case ARCH_SET_GS:
    case ARCH_GET_GS:
    default:
      throw EINVAL;
  }
}

const RLIM_INFINITY = (1n << 64n) - 1n;
const RLIMIT_NLIMITS = 16;

/** defaultLimits are Linux's defaults for a fresh process; index is the resource. */
function defaultLimits(): [bigint, bigint][] {
  const l: [bigint, bigint][] = Array.from({ length: RLIMIT_NLIMITS }, () => [RLIM_INFINITY, RLIM_INFINITY]);
  l[3] = [8n << 20n, RLIM_INFINITY]; // RLIMIT_STACK
  l[4] = [0n, RLIM_INFINITY]; // RLIMIT_CORE
  l[7] = [1024n, 4096n]; // RLIMIT_NOFILE
  l[8] = [8n << 20n, 8n << 20n]; // RLIMIT_MEMLOCK
  l[13] = [0n, 0n]; // RLIMIT_NICE
  l[14] = [0n, 0n]; // RLIMIT_RTPRIO
  return l;
}
const limits = new WeakMap<Task, [bigint, bigint][]>();
function limitsOf(t: Task): [bigint, bigint][] {
  let l = limits.get(t);
  if (!l) {
    l = defaultLimits();
    limits.set(t, l);
  }
  return l;
}

function doPrlimit(t: Task, resource: number, newAddr: number, oldAddr: number): number {
  if (resource < 0 || resource >= RLIMIT_NLIMITS) throw EINVAL;
  const l = limitsOf(t);
  let next: [bigint, bigint] | undefined;
  if (newAddr !== 0) {
    const b = t.mm.copyIn(newAddr, 16);
    const v = new DataView(b.buffer);
    next = [v.getBigUint64(0, true), v.getBigUint64(8, true)];
    if (next[0] > next[1]) throw EINVAL;
    if (next[1] > l[resource][1] && !t.creds.capable(CAP_SYS_RESOURCE)) throw EPERM;
  }
  if (oldAddr !== 0) {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    v.setBigUint64(0, l[resource][0], true);
    v.setBigUint64(8, l[resource][1], true);
    t.mm.copyOut(oldAddr, b);
  }
  if (next) l[resource] = next;
  return 0;
}

/** prlimit64 implements prlimit64(2) for the calling process. */
export function prlimit64(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  if (pid !== 0 && pid !== t.proc.pid && !t.proc.ns.get(pid)) throw ESRCH;
  return doPrlimit(t, a.int(1), a.pointer(2), a.pointer(3));
}

export function getrlimit(t: Task, a: SyscallArgs): number {
  return doPrlimit(t, a.int(0), 0, a.pointer(1));
}

export function setrlimit(t: Task, a: SyscallArgs): number {
  return doPrlimit(t, a.int(0), a.pointer(1), 0);
}

/** affinityTarget is the thread a sched_*affinity call names: the caller (0) or a live thread of the sandbox. */
function affinityTarget(t: Task, tid: number): Task {
  const target = tid === 0 ? t : t.proc.ns.tasks.get(tid);
  if (!target || target.exited) throw ESRCH;
  return target;
}

/** sandboxCpus is the mask of the sandbox's CPUs (SandboxOptions.cpus). */
function sandboxCpus(t: Task): bigint {
  return (1n << BigInt(t.host.cpus)) - 1n;
}

/** CPUMASK_BYTES is the size of the kernel's cpumask here: one 64-bit word, as the sandbox has at most 64 CPUs. */
const CPUMASK_BYTES = 8;

/**
 * sched_getaffinity implements sched_getaffinity(2): the thread's mask
 * of the sandbox's CPUs (--cpus), all of them unless it set fewer.
 */
export function schedGetaffinity(t: Task, a: SyscallArgs): number {
  const target = affinityTarget(t, a.int(0));
  const len = a.uint(1);
  if (len < CPUMASK_BYTES || len % 8 !== 0) throw EINVAL;
  const mask = new Uint8Array(CPUMASK_BYTES);
  new DataView(mask.buffer).setBigUint64(0, target.affinity & sandboxCpus(t), true);
  t.mm.copyOut(a.pointer(2), mask);
  return CPUMASK_BYTES;
}

/**
 * sched_setaffinity implements sched_setaffinity(2): the mask is kept
 * (the CPUs beyond the sandbox's dropped) and read back; it must name at
 * least one of the sandbox's CPUs (EINVAL). Which vCPU runs a thread is
 * the platform's choice, so the mask does not pin it.
 */
export function schedSetaffinity(t: Task, a: SyscallArgs): number {
  const target = affinityTarget(t, a.int(0));
  const len = Math.min(a.uint(1), CPUMASK_BYTES);
  const b = new Uint8Array(CPUMASK_BYTES);
  b.set(t.mm.copyIn(a.pointer(2), len));
  const mask = new DataView(b.buffer).getBigUint64(0, true) & sandboxCpus(t);
  if (mask === 0n) throw EINVAL;
  if (target.proc !== t.proc && !t.creds.mayKill(target.creds)) throw EPERM;
  target.affinity = mask;
  return 0;
}

/** uname implements uname(2). */
export function uname(t: Task, a: SyscallArgs): number {
  const b = new Uint8Array(65 * 6);
  // The sandbox has a hostname of its own; it never shows the host's.
  const fields = ['Linux', 'tvisor', '6.1.0', '#1 SMP tvisor', 'x86_64', '(none)'];
  fields.forEach((f, i) => b.set(Buffer.from(f).subarray(0, 64), i * 65));
  t.mm.copyOut(a.pointer(0), b);
  return 0;
}

const GRND_NONBLOCK = 1, GRND_RANDOM = 2, GRND_INSECURE = 4;

/** getrandom implements getrandom(2) from the host's CSPRNG. */
export function getrandom(t: Task, a: SyscallArgs): number {
  const flags = a.uint(2);
  if (flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE)) throw EINVAL;
  if ((flags & GRND_RANDOM) && (flags & GRND_INSECURE)) throw EINVAL;
  const len = Math.min(a.size(1), 33554431);
  const addr = a.pointer(0);
  if (len === 0) return 0;
  const buf = new Uint8Array(len);
  host.getrandom(buf);
  return t.mm.copyOutPartial(addr, buf);
}

const PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4;
const PR_SET_CHILD_SUBREAPER = 36, PR_GET_CHILD_SUBREAPER = 37;
const PR_SET_NAME = 15, PR_GET_NAME = 16, PR_SET_NO_NEW_PRIVS = 38, PR_GET_NO_NEW_PRIVS = 39;
const PR_GET_KEEPCAPS = 7, PR_SET_KEEPCAPS = 8, PR_CAPBSET_READ = 23, PR_CAPBSET_DROP = 24;

/** prctl implements the common prctl(2) options: names, dumpable, no_new_privs, pdeathsig, keepcaps, the bounding set. */
export function prctl(t: Task, a: SyscallArgs): number {
  switch (a.int(0)) {
    case PR_SET_NAME: {
      // Up to 15 bytes, cut at the first NUL, as Linux copies TASK_COMM_LEN - 1.
      const name = t.mm.readString(a.pointer(1), 16) ?? Buffer.from(t.mm.copyIn(a.pointer(1), 15)).toString('latin1');
      t.comm = Buffer.from(name, 'latin1').subarray(0, 15).toString('latin1');
      return 0;
    }
    case PR_GET_NAME: {
      const n = new Uint8Array(16);
      n.set(Buffer.from(t.comm, 'latin1').subarray(0, 15));
      t.mm.copyOut(a.pointer(1), n);
      return 0;
    }
    case PR_GET_DUMPABLE:
      return 1;
    case PR_SET_DUMPABLE:
      if (a.raw(1) > 1) throw EINVAL;
      return 0;
    case PR_SET_NO_NEW_PRIVS:
      if (a.raw(1) !== 1) throw EINVAL;
      return 0;
    case PR_GET_NO_NEW_PRIVS:
      return 1;
    case PR_SET_PDEATHSIG:
      if (a.raw(1) > 64) throw EINVAL;
      t.proc.deathSignal = a.int(1);
      return 0;
    case PR_GET_PDEATHSIG:
      t.mm.writeU32(a.pointer(1), t.proc.deathSignal);
      return 0;
    case PR_SET_CHILD_SUBREAPER:
      t.proc.subreaper = a.raw(1) !== 0;
      return 0;
    case PR_GET_CHILD_SUBREAPER:
      t.mm.writeU32(a.pointer(1), t.proc.subreaper ? 1 : 0);
      return 0;
    case PR_GET_KEEPCAPS:
      return t.creds.keepCaps ? 1 : 0;
    case PR_SET_KEEPCAPS:
      if (a.raw(1) > 1) throw EINVAL;
      t.creds.keepCaps = a.raw(1) === 1;
      return 0;
    case PR_CAPBSET_READ:
      if (a.raw(1) > CAP_LAST_CAP) throw EINVAL;
      return Number((t.creds.bounding >> BigInt(a.raw(1))) & 1n);
    case PR_CAPBSET_DROP:
      if (!t.creds.capable(CAP_SETPCAP)) throw EPERM;
      if (a.raw(1) > CAP_LAST_CAP) throw EINVAL;
      t.creds.bounding &= ~(1n << BigInt(a.raw(1)));
      return 0;
    default:
      throw EINVAL;
  }
}

/**
 * schedYield implements sched_yield(2): the run loop gives Node's event
 * loop a turn, and the platform gives the CPU to a thread waiting for one
 * (the call stops the program: an exit on kvm, a stop under ptrace).
 */
export const schedYield = (t: Task) => {
  t.ctx.sleeps?.();
  return 0;
};

const MEMBARRIER_CMD_QUERY = 0, MEMBARRIER_CMD_GLOBAL = 1, MEMBARRIER_CMD_GLOBAL_EXPEDITED = 2,
  MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED = 4, MEMBARRIER_CMD_PRIVATE_EXPEDITED = 8,
  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 16;
/** MEMBARRIER_SUPPORTED are the commands offered (the SYNC_CORE and RSEQ ones are not). */
const MEMBARRIER_SUPPORTED = MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED |
  MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
/** registeredMembarrier holds the memories whose process registered for MEMBARRIER_CMD_PRIVATE_EXPEDITED. */
const registeredMembarrier = new WeakSet<object>();

/**
 * membarrier implements membarrier(2). A barrier must be one on every CPU
 * that runs the caller's other threads: on kvm those are vCPU threads of
 * the Sentry's own process, so the host's membarrier(PRIVATE_EXPEDITED)
 * makes every one of them, in the guest or not, pass a full barrier;
 * under ptrace the other threads are stopped while this one makes a call
 * (one runs at a time in a stub), and a stop is a barrier. Either way the
 * global commands are served the same, for the sandbox's threads are all
 * the Sentry's.
 */
export function membarrier(t: Task, a: SyscallArgs): number {
  const cmd = a.int(0);
  if (a.uint(1) !== 0) throw EINVAL; // flags: only MEMBARRIER_CMD_FLAG_CPU, for RSEQ, exists
  switch (cmd) {
    case MEMBARRIER_CMD_QUERY:
      return MEMBARRIER_SUPPORTED;
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
      registeredMembarrier.add(t.mm);
      return 0;
    case MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED:
      return 0;
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED:
      if (!registeredMembarrier.has(t.mm)) throw EPERM;
      host.membarrier();
      return 0;
    case MEMBARRIER_CMD_GLOBAL:
    case MEMBARRIER_CMD_GLOBAL_EXPEDITED:
      host.membarrier();
      return 0;
    default:
      throw EINVAL;
  }
}

export function register(): void {
  full(186, gettid);
  full(218, setTidAddress, 'p');
  partial(158, archPrctl, 'FS base only', 'a,p');
  full(302, prlimit64, 'd,d,p,p');
  full(97, getrlimit, 'd,p');
  partial(160, setrlimit, 'limits are recorded, not enforced', 'd,p');
  full(204, schedGetaffinity, 'd,u,p');
  full(203, schedSetaffinity, 'd,u,p');
  full(24, schedYield);
  partial(324, membarrier, 'QUERY, GLOBAL, the EXPEDITED commands and their registration; no SYNC_CORE or RSEQ', 'd,x,d');
  full(63, uname, 'p');
  full(318, getrandom, 'p,u,x');
  partial(157, prctl, 'names, dumpable, no_new_privs, pdeathsig, child subreaper, keepcaps, the bounding set', 'd,x,x,x,x');
  unsupported(334, 'rseq is not offered; libc falls back');
}
