// futex.ts: futex(2) with wait queues. A futex is named as Linux names it
// (get_futex_key): a word of shared memory by the memory object and the
// offset in it, whoever maps it and where; any other word, and every
// FUTEX_PRIVATE_FLAG one, by its address space and address. WAIT, WAKE,
// REQUEUE, CMP_REQUEUE, WAKE_OP and the BITSET forms; and the priority-
// inheritance locks glibc's PTHREAD_PRIO_INHERIT mutexes use (LOCK_PI,
// LOCK_PI2, TRYLOCK_PI, UNLOCK_PI): the word holds the owner's tid, and
// an unlock hands the lock to the first waiter. Priorities are not
// boosted (the Sentry does not schedule by priority); the requeue-to-PI
// pair (WAIT_REQUEUE_PI, CMP_REQUEUE_PI) answers ENOSYS.
import type { Task } from '../kernel/task.js';
import type { MM } from '../mm/mm.js';
import type { SyscallArgs } from './args.js';
import { full, partial } from './table.js';
import {
  EAGAIN, EDEADLK, EFAULT, EINVAL, ENOSYS, EPERM, ERESTART_RESTARTBLOCK, ERESTARTNOINTR, ERESTARTSYS, ESRCH, ETIMEDOUT,
} from '../errno.js';
import { host } from '../native/host.js';
import { readTimespec } from './util.js';

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5;
const FUTEX_LOCK_PI = 6, FUTEX_UNLOCK_PI = 7, FUTEX_TRYLOCK_PI = 8, FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
const FUTEX_LOCK_PI2 = 13;
/** The PI word: the owner's tid, and two flags. */
const FUTEX_WAITERS = 0x80000000, FUTEX_OWNER_DIED = 0x40000000, FUTEX_TID_MASK = 0x3fffffff;
const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256, FUTEX_CMD_MASK = ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
const FUTEX_BITSET_MATCH_ANY = 0xffffffff;
const clock = new Float64Array(2);

/** Waiter is a task parked on a futex, with the bitset it waits for. */
interface Waiter {
  task: Task;
  bitset: number;
  queue: Waiter[];
  wake(): void;
}

/**
 * queues holds the waiters of each futex: by the object that names it (an
 * MM or shared memory), then by offset. piQueues holds the waiters for PI
 * locks, which no plain wake reaches.
 */
const queues = new WeakMap<object, Map<number, Waiter[]>>();
const piQueues = new WeakMap<object, Map<number, Waiter[]>>();

/** queueOf is the wait queue of the futex word at addr in t's memory; EFAULT when addr is not mapped. */
function queueOf(mm: MM, addr: number, priv: boolean, all = queues): Waiter[] {
  let owner: object = mm;
  let offset = addr;
  if (!priv) {
    const vma = mm.findVma(addr);
    if (!vma) throw EFAULT;
    if (vma.shm) {
      owner = vma.shm;
      offset = vma.shmPage * 4096 + (addr - vma.start);
    }
  }
  let byOffset = all.get(owner);
  if (!byOffset) all.set(owner, (byOffset = new Map()));
  let q = byOffset.get(offset);
  if (!q) byOffset.set(offset, (q = []));
  return q;
}

/** dequeue takes w off its queue, if it is still on one. */
function dequeue(w: Waiter): void {
  const i = w.queue.indexOf(w);
  if (i >= 0) w.queue.splice(i, 1);
}

/**
 * wait parks the task on the futex word at uaddr, which must still hold
 * val, until a wake that matches bitset, `deadline` (performance.now() ms,
 * or Infinity), or a signal: an untimed wait then gives ERESTARTSYS, a
 * timed one ERESTART_RESTARTBLOCK, whose restart waits again to the same
 * deadline, as Linux's futex_wait.
 */
function wait(t: Task, uaddr: number, val: number, deadline: number, bitset: number, priv: boolean): Promise<number> {
  if (t.mm.readU32(uaddr) !== val) throw EAGAIN;
  return park(t, queueOf(t.mm, uaddr, priv), bitset, deadline, () => {
    if (deadline === Infinity) throw ERESTARTSYS;
    t.signals.restart = () => wait(t, uaddr, val, deadline, bitset, priv);
    throw ERESTART_RESTARTBLOCK;
  });
}

/**
 * park queues t on queue until a wake that matches bitset (0), `deadline`
 * (ETIMEDOUT), or a signal, when `interrupted` throws the call's restart.
 */
async function park(t: Task, queue: Waiter[], bitset: number, deadline: number, interrupted: () => never): Promise<number> {
  let wake!: () => void;
  const woken = new Promise<'woken'>((resolve) => (wake = () => resolve('woken')));
  const w: Waiter = { task: t, bitset, queue, wake };
  queue.push(w);
  const r = await t.sleepUntil(deadline, woken);
  dequeue(w);
  if (r === 'woken') return 0;
  if (r === 'timeout') throw ETIMEDOUT;
  return interrupted();
}

/** wakeQueue wakes up to n waiters of q whose bitset matches, first come first woken, and returns how many. */
function wakeQueue(q: Waiter[], n: number, bitset = FUTEX_BITSET_MATCH_ANY): number {
  let woken = 0;
  for (let i = 0; i < q.length && woken < n;) {
    if ((q[i].bitset & bitset) === 0) {
      i++;
      continue;
    }
    const [w] = q.splice(i, 1);
    w.wake();
    woken++;
  }
  return woken;
}

/** futexWake wakes up to n waiters of the futex word at addr of mm (a thread's CLONE_CHILD_CLEARTID word at its exit). */
export function futexWake(mm: MM, addr: number, n: number): number {
  try {
    return wakeQueue(queueOf(mm, addr, false), n);
  } catch {
    return 0; // not mapped: no one can wait there
  }
}

/** wakeOp applies FUTEX_WAKE_OP's encoded operation to the word at addr, atomically, and says whether its comparison holds for the old value. */
function wakeOp(mm: MM, addr: number, encoded: number): boolean {
  const op = (encoded >>> 28) & 7;
  const cmp = (encoded >>> 24) & 15;
  let oparg = (encoded << 8) >> 20; // bits 12-23, sign-extended
  const cmparg = (encoded << 20) >> 20; // bits 0-11, sign-extended
  if ((encoded >>> 28) & 8) oparg = 1 << (oparg & 31); // FUTEX_OP_OPARG_SHIFT
  if (op > 4 || cmp > 5) throw ENOSYS;
  const old = mm.updateU32(addr, (v) => [oparg, v + oparg, v | oparg, v & ~oparg, v ^ oparg][op]) | 0;
  return [old === cmparg, old !== cmparg, old < cmparg, old <= cmparg, old > cmparg, old >= cmparg][cmp];
}

/**
 * timeoutOf reads a wait's timeout: relative for FUTEX_WAIT; absolute on
 * the chosen clock for FUTEX_WAIT_BITSET and FUTEX_LOCK_PI2, on the
 * realtime clock for FUTEX_LOCK_PI; a deadline in performance.now() ms.
 */
function timeoutOf(t: Task, ts: number, cmd: number, op: number): number {
  if (ts === 0) return Infinity;
  let ns = readTimespec(t.mm, ts);
  if (cmd !== FUTEX_WAIT) {
    host.clockGettime(op & FUTEX_CLOCK_REALTIME || cmd === FUTEX_LOCK_PI ? 0 : 1, clock);
    ns = Math.max(0, ns - (clock[0] * 1e9 + clock[1]));
  }
  return performance.now() + ns / 1e6;
}

/**
 * lockPi implements FUTEX_LOCK_PI, LOCK_PI2 and (`trylock`) TRYLOCK_PI:
 * a word without an owner becomes t's (keeping FUTEX_OWNER_DIED); t's own
 * is EDEADLK; another's gets FUTEX_WAITERS (even for a trylock, as on
 * Linux), then an owner no task is gives ESRCH, and otherwise t waits
 * until an unlock hands it the lock (EAGAIN at once for a trylock;
 * ETIMEDOUT at the deadline; a signal's handler runs and the call starts
 * again, as Linux's ERESTARTNOINTR).
 */
function lockPi(t: Task, uaddr: number, deadline: number, priv: boolean, trylock: boolean): number | Promise<number> {
  const tid = t.tid;
  const queue = queueOf(t.mm, uaddr, priv, piQueues);
  let owner = 0;
  t.mm.updateU32(uaddr, (v) => {
    owner = v & FUTEX_TID_MASK;
    if (owner === 0) return (v & FUTEX_OWNER_DIED) | tid | (queue.length > 0 ? FUTEX_WAITERS : 0);
    return owner === tid ? v : v | FUTEX_WAITERS;
  });
  if (owner === 0) return 0;
  if (owner === tid) throw EDEADLK;
  if (!t.proc.ns.tasks.has(owner) && !t.proc.ns.processes.has(owner)) throw ESRCH;
  if (trylock) throw EAGAIN;
  if (deadline <= performance.now()) throw ETIMEDOUT;
  return park(t, queue, FUTEX_BITSET_MATCH_ANY, deadline, () => {
    throw ERESTARTNOINTR;
  });
}

/**
 * unlockPi implements FUTEX_UNLOCK_PI: EPERM unless t owns the word; the
 * first waiter becomes the owner (with FUTEX_WAITERS, so that its unlock
 * comes here too), or the word becomes 0.
 */
function unlockPi(t: Task, uaddr: number, priv: boolean): number {
  const queue = queueOf(t.mm, uaddr, priv, piQueues);
  const next = queue[0];
  let owner = 0;
  t.mm.updateU32(uaddr, (v) => {
    owner = v & FUTEX_TID_MASK;
    if (owner !== t.tid) return v;
    return next ? (next.task.tid | FUTEX_WAITERS) >>> 0 : 0;
  });
  if (owner !== t.tid) throw EPERM;
  if (next) {
    queue.shift();
    next.wake();
  }
  return 0;
}

/** futex implements futex(2): see the file's comment. */
export function futex(t: Task, a: SyscallArgs): number | Promise<number> {
  const uaddr = a.pointer(0);
  const op = a.int(1);
  const cmd = op & FUTEX_CMD_MASK;
  const priv = (op & FUTEX_PRIVATE_FLAG) !== 0;
  if (op & FUTEX_CLOCK_REALTIME && cmd !== FUTEX_WAIT && cmd !== FUTEX_WAIT_BITSET && cmd !== FUTEX_LOCK_PI2) throw ENOSYS;
  if (a.uint(0) % 4 !== 0) throw EINVAL;
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      const bitset = cmd === FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : a.uint(5);
      if (bitset === 0) throw EINVAL;
      return wait(t, uaddr, a.uint(2), timeoutOf(t, a.pointer(3), cmd, op), bitset, priv);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      const bitset = cmd === FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : a.uint(5);
      if (bitset === 0) throw EINVAL;
      return wakeQueue(queueOf(t.mm, uaddr, priv), a.int(2), bitset);
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      const nWake = a.int(2);
      const nRequeue = a.int(3); // passed in the timeout's place
      const uaddr2 = a.pointer(4);
      if (nWake < 0 || nRequeue < 0 || a.uint(4) % 4 !== 0) throw EINVAL;
      if (cmd === FUTEX_CMP_REQUEUE && t.mm.readU32(uaddr) !== a.uint(5)) throw EAGAIN;
      const from = queueOf(t.mm, uaddr, priv);
      const to = queueOf(t.mm, uaddr2, priv);
      const woken = wakeQueue(from, nWake);
      if (from === to) return woken + Math.min(nRequeue, from.length);
      let moved = 0;
      for (; moved < nRequeue && from.length > 0; moved++) {
        const w = from.shift()!;
        w.queue = to;
        to.push(w);
      }
      return woken + moved;
    }
    case FUTEX_WAKE_OP: {
      const uaddr2 = a.pointer(4);
      if (a.uint(4) % 4 !== 0) throw EINVAL;
      const second = wakeOp(t.mm, uaddr2, a.uint(5));
      let done = wakeQueue(queueOf(t.mm, uaddr, priv), a.int(2));
      if (second) done += wakeQueue(queueOf(t.mm, uaddr2, priv), a.int(3));
      return done;
    }
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
      return lockPi(t, uaddr, timeoutOf(t, a.pointer(3), cmd, op), priv, false);
    case FUTEX_TRYLOCK_PI:
      return lockPi(t, uaddr, Infinity, priv, true);
    case FUTEX_UNLOCK_PI:
      return unlockPi(t, uaddr, priv);
    default:
      throw ENOSYS;
  }
}


// ---- robust futexes ----

/** ROBUST_LIST_LIMIT bounds the walk of a robust list, as Linux's, so a looped list ends. */
const ROBUST_LIST_LIMIT = 2048;
/** ROBUST_HEAD_SIZE is sizeof(struct robust_list_head): the list, the futex offset, the pending entry. */
const ROBUST_HEAD_SIZE = 24;

/**
 * futexDeath marks the robust futex word at addr as its owner's death
 * leaves it (Linux's handle_futex_death): a lock t holds gets
 * FUTEX_OWNER_DIED, its waiters bit kept, and one waiter is woken, who
 * then sees EOWNERDEAD. A pending entry whose lock was not taken yet only
 * wakes a waiter.
 */
function futexDeath(t: Task, addr: number, pending: boolean): void {
  if (addr % 4 !== 0) return;
  const ownedBy = (v: number) => ((v & FUTEX_TID_MASK) >>> 0) === t.tid;
  let old: number;
  try {
    old = t.mm.updateU32(addr, (v) => (ownedBy(v) ? ((v & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0 : v));
  } catch {
    return; // not the program's memory any more
  }
  if ((ownedBy(old) && (old & FUTEX_WAITERS) !== 0) || (pending && old === 0)) futexWake(t.mm, addr, 1);
}

/**
 * exitRobustList walks t's robust list as t exits (Linux's
 * exit_robust_list): each lock on it that t still holds is marked owner
 * dead and a waiter woken; then the entry it was taking or releasing.
 * A list that cannot be read ends the walk, as on Linux.
 */
export function exitRobustList(t: Task): void {
  const head = t.robustList;
  if (head === 0) return;
  t.robustList = 0;
  try {
    const offset = Number(t.mm.readI64(head + 8));
    const pending = t.mm.readU64(head + 16);
    let entry = t.mm.readU64(head);
    for (let n = 0; entry !== head && n < ROBUST_LIST_LIMIT; n++) {
      const next = t.mm.readU64(entry);
      // Bit 0 marks a priority-inheritance lock, which is not offered.
      if (entry !== pending && !(entry & 1)) futexDeath(t, entry + offset, false);
      entry = next;
    }
    if (pending !== 0 && !(pending & 1)) futexDeath(t, pending + offset, true);
  } catch {
    // A list that cannot be read is left, as Linux leaves it.
  }
}

/** set_robust_list implements set_robust_list(2): the list is walked when the thread exits. */
export function setRobustList(t: Task, a: SyscallArgs): number {
  if (a.size(1) !== ROBUST_HEAD_SIZE) throw EINVAL;
  t.robustList = a.pointer(0);
  return 0;
}

/** get_robust_list implements get_robust_list(2) for the caller (0) or a thread of the sandbox. */
export function getRobustList(t: Task, a: SyscallArgs): number {
  const tid = a.int(0);
  const target = tid === 0 ? t : t.proc.ns.tasks.get(tid);
  if (!target) throw ESRCH;
  if (target.proc !== t.proc && !t.creds.mayKill(target.creds)) throw EPERM;
  t.mm.writeU64(a.pointer(1), target.robustList);
  t.mm.writeU64(a.pointer(2), ROBUST_HEAD_SIZE);
  return 0;
}

export function register(): void {
  full(273, setRobustList, 'p,u');
  full(274, getRobustList, 'd,p,p');
  partial(202, futex, 'no WAIT_REQUEUE_PI or CMP_REQUEUE_PI (ENOSYS); PI locks do not boost priorities', 'p,d,u,p,p,u');
}
