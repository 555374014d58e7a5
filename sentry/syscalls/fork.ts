// fork.ts: the calls that make, replace and collect processes: clone and
// its family (fork, vfork, clone3), execve and execveat (with #! scripts),
// exit and exit_group, wait4 and waitid, and process groups and sessions.
import { SIG_DFL, SIG_IGN, Task, commOf, copyActions } from '../kernel/task.js';
import { SyscallPatches } from '../kernel/patch.js';
import type { SyscallArgs } from './args.js';
import { full, partial } from './table.js';
import {
  E2BIG, EACCES, EAGAIN, ECHILD, EINTR, EINVAL, ERESTARTSYS, ENOEXEC, ENOMEM, EPERM, ESRCH, SyscallError, fromErrno,
} from '../errno.js';
import { Reg } from '../platform.js';
import { MM } from '../mm/mm.js';
import { LoadError, MAX_INTERPRETERS, readProgram, scriptOf } from '../loader/program.js';
import type { FileMemory } from '../mm/page-cache.js';
import {
  CLD_STOPPED, Process, exitEvent, reap, waitStatus, type ChildEvent,
} from '../kernel/process.js';
import { SIGCHLD } from '../kernel/signals.js';
import { S_IFMT, S_IFREG } from '../vfs/node.js';
import { readPath, resolveAt } from './fs.js';
import { load, readAuxv, readInterpreter, type Interpreter } from '../loader/elf.js';
import { initXstate } from '../kernel/signal-frame.js';

const CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800, CLONE_PIDFD = 0x1000,
  CLONE_VFORK = 0x4000, CLONE_PARENT = 0x8000, CLONE_THREAD = 0x10000, CLONE_NEWNS = 0x20000, CLONE_SETTLS = 0x80000,
  CLONE_PARENT_SETTID = 0x100000, CLONE_CHILD_CLEARTID = 0x200000, CLONE_CHILD_SETTID = 0x1000000;
/** NAMESPACE_FLAGS ask for new namespaces (and CLONE_NEWTIME, CLONE_IO's neighbours): not offered. */
const NAMESPACE_FLAGS = 0x7e020080;

/** CloneArgs is clone's request, from clone(2) or clone3(2). */
interface CloneArgs {
  flags: number;
  exitSignal: number;
  stack: number;
  parentTid: number;
  childTid: number;
  tls: number;
}

/** copyRegisters gives `to` the registers of `from`, its FPU and vector state included. */
function copyRegisters(from: Task, to: Task): void {
  for (let r = Reg.RAX; r <= Reg.RFLAGS; r++) to.ctx.regs.setBig(r, from.ctx.regs.getBig(r));
  to.ctx.fsBase = from.ctx.fsBase;
  to.ctx.setXstate(from.ctx.getXstate());
}

/**
 * cloneProcess makes a child of t as clone's flags say: a thread of t's
 * process (CLONE_THREAD), or a process of its own; its own copy of memory
 * (copied on write) or, with CLONE_VM, t's; a copy of the fd table,
 * filesystem context and signal actions or, with CLONE_FILES, CLONE_FS
 * and CLONE_SIGHAND, t's own. It runs the child and returns its tid.
 */
function cloneProcess(t: Task, c: CloneArgs): number | Promise<number> {
  const f = c.flags;
  if (f & NAMESPACE_FLAGS) throw EPERM;
  // Linux's rules: a thread shares its signal actions, which need shared memory.
  if (f & CLONE_THREAD && !(f & CLONE_SIGHAND)) throw EINVAL;
  if ((f & CLONE_SIGHAND && !(f & CLONE_VM)) || (f & CLONE_FS && f & CLONE_NEWNS)) throw EINVAL;
  if (c.exitSignal < 0 || c.exitSignal > 64) throw EINVAL;
  const thread = (f & CLONE_THREAD) !== 0;
  const ns = t.proc.ns;
  const tid = thread ? ns.allocThreadId() : ns.alloc();
  if (tid < 0) throw EAGAIN;
  const host = t.host;
  const vm = (f & CLONE_VM) !== 0;
  let mm = t.mm;
  if (!vm) {
    try {
      mm = t.mm.fork(host.newAddressSpace());
    } catch (err) {
      if (thread) ns.freeThreadId(tid);
      if (err instanceof SyscallError) throw err;
      throw ENOMEM;
    }
  } else {
    mm.users++;
  }
  const fds = f & CLONE_FILES ? t.fds : t.fds.fork();
  if (f & CLONE_FILES) t.fds.users++;
  const ctx = host.newContext();
  const child = new Task(tid, ctx, mm, fds, t.creds.copy(), t.exe, t.vfs, t.cwd, host);
  copyRegisters(t, child);
  const regs = ctx.regs;
  regs.set(Reg.RAX, 0);
  // As after a real syscall: RCX holds the return address, R11 the flags.
  regs.set(Reg.RCX, regs.get(Reg.RIP));
  regs.set(Reg.R11, regs.get(Reg.RFLAGS));
  if (c.stack) regs.set(Reg.RSP, c.stack);
  if (f & CLONE_SETTLS) ctx.fsBase = c.tls;
  child.actions = f & CLONE_SIGHAND ? t.actions : copyActions(t.actions);
  child.fs = f & CLONE_FS ? t.fs : t.fs.copy();
  child.mask = t.mask.copy();
  child.affinity = t.affinity;
  child.comm = t.comm;
  child.cmdline = t.cmdline;
  child.environ = t.environ;
  child.auxv = t.auxv;
  if (thread) {
    t.proc.addThread(child);
  } else {
    const p = new Process(tid, child, ns);
    child.proc = p;
    p.parent = f & CLONE_PARENT ? t.proc.parent : t.proc;
    p.parent?.children.add(p);
    p.pgid = t.proc.pgid;
    p.sid = t.proc.sid;
    p.exitSignal = c.exitSignal;
    ns.processes.set(tid, p);
  }
  if (f & CLONE_PARENT_SETTID) t.writeTid(c.parentTid, tid);
  if (f & CLONE_CHILD_SETTID) child.writeTid(c.childTid, tid);
  if (f & CLONE_CHILD_CLEARTID) child.clearTid = c.childTid;
  if (!(f & CLONE_VFORK)) {
    host.start(child);
    return tid;
  }
  // vfork: the parent waits until the child execs or ends (not for signals).
  return new Promise<number>((resolve) => {
    child.vforkDone = () => resolve(tid);
    host.start(child);
  });
}

/** clone implements clone(2): flags, stack, parent_tid, child_tid, tls. */
export function clone(t: Task, a: SyscallArgs): number | Promise<number> {
  const flags = a.raw(0);
  if (flags & CLONE_PIDFD) throw EINVAL; // pidfds are not offered
  return cloneProcess(t, {
    flags: flags & ~0xff, exitSignal: flags & 0xff, stack: a.pointer(1), parentTid: a.pointer(2), childTid: a.pointer(3), tls: a.raw(4),
  });
}

/** clone3 implements clone3(2) from its struct clone_args. */
export function clone3(t: Task, a: SyscallArgs): number | Promise<number> {
  const size = a.size(1);
  if (size < 64) throw EINVAL;
  const b = t.mm.copyIn(a.pointer(0), 64);
  const v = new DataView(b.buffer);
  const u = (i: number) => Number(v.getBigUint64(i * 8, true));
  const flags = u(0);
  if (flags & CLONE_PIDFD || flags & 0xff) throw EINVAL;
  // A thread, or a sibling, has no exit signal of its own to give.
  if (flags & (CLONE_THREAD | CLONE_PARENT) && u(4) !== 0) throw EINVAL;
  const stack = u(5), stackSize = u(6);
  if ((stack === 0) !== (stackSize === 0)) throw EINVAL;
  return cloneProcess(t, {
    flags, exitSignal: u(4), stack: stack ? stack + stackSize : 0, parentTid: u(3), childTid: u(2), tls: u(7),
  });
}

export const fork = (t: Task) => cloneProcess(t, { flags: 0, exitSignal: SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0 });

export const vfork = (t: Task) => cloneProcess(t, {
  flags: CLONE_VM | CLONE_VFORK, exitSignal: SIGCHLD, stack: 0, parentTid: 0, childTid: 0, tls: 0,
});

// ---- execve ----

/** ARG_MAX bounds argv and envp together, as Linux's default stack limit does (a quarter of 8 MiB). */
const ARG_MAX = 2 << 20;
const MAX_ARGS = 0x7fffffff;

/** readStrings reads a NULL-terminated array of string pointers. */
function readStrings(t: Task, addr: number, budget: { left: number }): string[] {
  const out: string[] = [];
  if (addr === 0) return out;
  for (let i = 0; i < MAX_ARGS; i++) {
    const p = t.mm.readU64(addr + 8 * i);
    if (p === 0) return out;
    const s = t.mm.readString(p, 128 << 10);
    if (s === undefined) throw E2BIG;
    budget.left -= Buffer.byteLength(s) + 1 + 8;
    if (budget.left < 0) throw E2BIG;
    out.push(s);
  }
  return out;
}


/**
 * execve implements execve(2) and execveat(2): the new image replaces the
 * task's memory; close-on-exec fds close; caught signals go back to their
 * default action; the credentials take their values for a new program
 * (Credentials.exec); a vfork parent runs on.
 */
async function exec(t: Task, dirfd: number, pathAddr: number, argvAddr: number, envpAddr: number, flags: number): Promise<number> {
  const AT_EMPTY_PATH = 0x1000, AT_SYMLINK_NOFOLLOW = 0x100;
  if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) throw EINVAL;
  let path = readPath(t, pathAddr);
  // The task takes the name of the file given, even when it is a script.
  const comm = commOf(path);
  const budget = { left: ARG_MAX };
  let argv = readStrings(t, argvAddr, budget);
  const envp = readStrings(t, envpAddr, budget);
  let image: FileMemory | undefined;
  let file = path;
  /** exe is the program file's own path, /proc/PID/exe's target (never a link such as /proc/self/exe). */
  let exe = path;
  // Each file read holds its contents until it is mapped, or the exec fails.
  try {
    for (let depth = 0; ; depth++) {
      const d = await resolveAt(t, dirfd, file, flags);
      exe = d.path;
      const attr = await d.node.attr();
      const type = attr.mode & S_IFMT;
      if (type !== S_IFREG) throw EACCES;
      if ((attr.mode & 0o111) === 0) throw EACCES;
      image?.unref();
      image = undefined;
      try {
        image = await readProgram(t.vfs, t.host.pageCache, d, file);
      } catch (err) {
        if (err instanceof LoadError) throw fromErrno(err.errno);
        throw err;
      }
      const script = scriptOf(image);
      if (!script) break;
      // #!interpreter [one argument]: run the interpreter with the script's path.
      if (depth >= MAX_INTERPRETERS) throw fromErrno(40); // ELOOP
      // A script named through a close-on-exec descriptor (/dev/fd/N) would
      // be gone for its interpreter: Linux refuses it with ENOENT.
      if (dirfd !== -100 && !file.startsWith('/') && t.fds.entry(dirfd).cloexec) throw fromErrno(2);
      if (script === 'malformed') throw ENOEXEC;
      argv = script.argv(dirfd === -100 || file.startsWith('/') ? file : file === '' ? `/dev/fd/${dirfd}` : `/dev/fd/${dirfd}/${file}`, argv);
      file = script.interpreter;
      path = script.interpreter;
      dirfd = -100;
      flags = 0;
    }
  } catch (err) {
    image?.unref();
    throw err;
  }
  let interp: Interpreter | undefined;
  const mm = new MM(t.mm.mem, t.host.newAddressSpace());
  const creds = t.creds.copy();
  creds.exec();
  let loaded;
  try {
    interp = await readInterpreter(t.vfs, t.host.pageCache, path, image!);
    loaded = load(mm, path, image!, argv.length ? argv : [''], envp, creds, t.host.vdso, interp);
  } catch (err) {
    mm.release();
    if (err instanceof LoadError) throw err.errno === 8 ? ENOEXEC : fromErrno(err.errno);
    throw err;
  } finally {
    image!.unref();
    interp?.image.unref();
  }
  // Every other thread ends first (Linux's de_thread); the caller takes the
  // leader's pid. A process ending meanwhile ends this thread too.
  if (t.proc.tasks.size > 1 && !(await t.proc.killOtherThreads(t))) {
    mm.release();
    throw EINTR;
  }
  t.proc.becomeLeader(t);
  if (t.mm.patches) mm.patches = SyscallPatches.forImage(mm, t.mm.patches.trampoline);
  // The point of no return: the old image goes, once the program no
  // longer runs on it.
  t.ctx.leave?.();
  // The new program starts with the FPU and vector state initial, while
  // the old address space (a ptrace stub that may hold it) is still there.
  t.ctx.setXstate(initXstate(t.ctx.xstate, t.ctx.getXstate()));
  const old = t.mm;
  t.mm = mm;
  if (--old.users === 0) old.release();
  if (t.fds.users > 1) {
    t.fds.users--;
    t.fds = t.fds.fork();
  }
  t.fds.closeOnExec();
  t.creds = creds;
  // The actions and the filesystem context become the process's own.
  t.actions = copyActions(t.actions);
  t.fs = t.fs.copy();
  for (const act of t.actions) {
    if (act.handler !== SIG_IGN) act.handler = SIG_DFL;
    act.flags = 0;
    act.restorer = 0;
    act.mask.lo = act.mask.hi = 0;
  }
  t.altStack = { sp: 0, flags: 2, size: 0 };
  t.exe = exe;
  t.comm = comm;
  t.cmdline = Buffer.from(argv.map((x) => x + '\0').join(''));
  t.environ = Buffer.from(envp.map((x) => x + '\0').join(''));
  t.auxv = readAuxv(mm, loaded.stackPointer, argv.length, envp.length);
  t.proc.execed = true;
  const regs = t.ctx.regs;
  for (let r = Reg.RAX; r <= Reg.R15; r++) regs.set(r, 0);
  regs.set(Reg.RIP, loaded.entry);
  regs.set(Reg.RSP, loaded.stackPointer);
  regs.set(Reg.RFLAGS, 0x202);
  t.ctx.fsBase = 0;
  t.clearTid = 0;
  t.vforkDone?.();
  t.vforkDone = undefined;
  return 0;
}

export function execve(t: Task, a: SyscallArgs): Promise<number> {
  return exec(t, -100, a.pointer(0), a.pointer(1), a.pointer(2), 0);
}

export function execveat(t: Task, a: SyscallArgs): Promise<number> {
  return exec(t, a.int(0), a.pointer(1), a.pointer(2), a.pointer(3), a.int(4));
}

// ---- exit ----

/** exit implements exit(2): the calling thread ends; the process ends with its last thread. */
export function exit(t: Task, a: SyscallArgs): number {
  t.exit = { code: a.int(0) & 0xff, signal: 0 };
  return 0;
}

/** exit_group implements exit_group(2): every thread of the process ends, with this status. */
export function exitGroup(t: Task, a: SyscallArgs): number {
  t.exit = { code: a.int(0) & 0xff, signal: 0 };
  t.proc.exitGroup(t.exit, t);
  return 0;
}

// ---- wait ----

const WNOHANG = 1, WUNTRACED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x1000000;
const __WNOTHREAD = 0x20000000, __WALL = 0x40000000, __WCLONE = 0x80000000;
const P_ALL = 0, P_PID = 1, P_PGID = 2;

/** Found is a child's event that a wait collects. */
interface Found {
  child: Process;
  event: ChildEvent;
  /** exit is true for an end (the child is reaped unless WNOWAIT). */
  exit: boolean;
}

/** pending finds the first matching child with an event the options ask for. */
function pending(t: Task, matches: (c: Process) => boolean, options: number): Found | undefined | 'none' {
  let any = false;
  for (const c of t.proc.children) {
    if (!matches(c)) continue;
    any = true;
    if (c.zombie && options & WEXITED) return { child: c, event: exitEvent(c.zombie, false), exit: true };
    if (c.stopEvent && options & WUNTRACED) return { child: c, event: c.stopEvent, exit: false };
    if (c.contEvent && options & WCONTINUED) return { child: c, event: c.contEvent, exit: false };
  }
  return any ? undefined : 'none';
}

/** waitFor waits until a matching child has an event (ECHILD: none can), and collects it. */
async function waitFor(t: Task, matches: (c: Process) => boolean, options: number): Promise<Found | undefined> {
  for (;;) {
    const f = pending(t, matches, options);
    if (f === 'none') throw ECHILD;
    if (f) {
      if (!(options & WNOWAIT)) {
        if (f.exit) reap(f.child);
        else if (f.event.code === CLD_STOPPED) f.child.stopEvent = undefined;
        else f.child.contEvent = undefined;
      }
      return f;
    }
    if (options & WNOHANG) return undefined;
    const woke = await t.sleepOn(t.proc.nextChildChange());
    if (woke === undefined && t.hasDeliverable()) throw ERESTARTSYS;
  }
}

/** writeRusage writes a struct rusage: the times the Sentry keeps, the rest 0. */
function writeRusage(t: Task, addr: number, ms: number, maxRssKb: number): void {
  if (addr === 0) return;
  const b = new Uint8Array(144);
  const v = new DataView(b.buffer);
  const us = Math.round(ms * 1000);
  v.setBigInt64(0, BigInt(Math.floor(us / 1e6)), true);
  v.setBigInt64(8, BigInt(us % 1e6), true);
  v.setBigInt64(32, BigInt(maxRssKb), true);
  t.mm.copyOut(addr, b);
}

/** wait4 implements wait4(2). */
export async function wait4(t: Task, a: SyscallArgs): Promise<number> {
  const pid = a.int(0);
  const options = a.int(2);
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE)) throw EINVAL;
  if (pid === -0x80000000) throw ESRCH;
  const own = t.proc.pgid;
  const matches = (c: Process) => pid === -1 || (pid > 0 ? c.pid === pid : c.pgid === (pid === 0 ? own : -pid));
  const f = await waitFor(t, matches, options | WEXITED);
  if (!f) return 0;
  if (a.pointer(1) !== 0) t.mm.writeU32(a.pointer(1), waitStatus(f.event));
  writeRusage(t, a.pointer(3), f.exit ? performance.now() - f.child.startedMs : 0, f.child.maxRssKb);
  return f.child.pid;
}

/** waitid implements waitid(2), with its siginfo. */
export async function waitid(t: Task, a: SyscallArgs): Promise<number> {
  const idtype = a.int(0);
  const id = a.int(1);
  const options = a.int(3);
  if (options & ~(WNOHANG | WUNTRACED | WEXITED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE)) throw EINVAL;
  if (!(options & (WEXITED | WUNTRACED | WCONTINUED))) throw EINVAL;
  let matches: (c: Process) => boolean;
  if (idtype === P_ALL) matches = () => true;
  else if (idtype === P_PID) {
    if (id <= 0) throw EINVAL;
    matches = (c) => c.pid === id;
  } else if (idtype === P_PGID) {
    if (id < 0) throw EINVAL;
    const pgid = id === 0 ? t.proc.pgid : id;
    matches = (c) => c.pgid === pgid;
  } else throw EINVAL;
  const f = await waitFor(t, matches, options);
  const info = a.pointer(2);
  if (info !== 0) {
    const b = new Uint8Array(128);
    if (f) {
      const v = new DataView(b.buffer);
      v.setInt32(0, SIGCHLD, true);
      v.setInt32(8, f.event.code, true);
      v.setInt32(16, f.child.pid, true);
      v.setInt32(20, f.child.task.creds.uid, true);
      v.setInt32(24, f.event.status, true);
    }
    t.mm.copyOut(info, b);
  }
  writeRusage(t, a.pointer(4), f?.exit ? performance.now() - f.child.startedMs : 0, f?.child.maxRssKb ?? 0);
  return 0;
}

// ---- times ----

const RUSAGE_SELF = 0, RUSAGE_CHILDREN = -1, RUSAGE_THREAD = 1;
/** CLK_TCK is the clock tick times(2) counts in (sysconf(_SC_CLK_TCK)). */
const CLK_TCK = 100;

/**
 * getrusage implements getrusage(2). The Sentry does not split a
 * process's time into user and system: its time alive counts as user time.
 */
export function getrusage(t: Task, a: SyscallArgs): number {
  const who = a.int(0);
  if (who === RUSAGE_SELF || who === RUSAGE_THREAD) writeRusage(t, a.pointer(1), performance.now() - t.proc.startedMs, t.mm.residentKb);
  else if (who === RUSAGE_CHILDREN) writeRusage(t, a.pointer(1), t.proc.childrenMs, t.proc.childrenMaxRssKb);
  else throw EINVAL;
  return 0;
}

/** times implements times(2): the process's and its reaped children's times, in clock ticks. */
export function times(t: Task, a: SyscallArgs): number {
  const ticks = (ms: number) => BigInt(Math.floor((ms * CLK_TCK) / 1000));
  if (a.pointer(0) !== 0) {
    const b = new Uint8Array(32);
    const v = new DataView(b.buffer);
    v.setBigInt64(0, ticks(performance.now() - t.proc.startedMs), true);
    v.setBigInt64(16, ticks(t.proc.childrenMs), true);
    t.mm.copyOut(a.pointer(0), b);
  }
  return Number(ticks(performance.now()));
}

/**
 * sysinfo implements sysinfo(2) as the sandbox sees itself: its uptime,
 * its memory limit and what programs hold of it, its processes.
 */
export function sysinfo(t: Task, a: SyscallArgs): number {
  const mem = t.mm.mem;
  const b = new Uint8Array(112);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, BigInt(Math.floor((performance.now() - t.proc.ns.startedMs) / 1000)), true);
  v.setBigUint64(32, BigInt(mem.userLimit), true);
  v.setBigUint64(40, BigInt(Math.max(0, mem.userLimit - mem.committed)), true);
  v.setUint16(80, Math.min(t.proc.ns.processes.size, 0xffff), true);
  v.setUint32(104, 1, true); // mem_unit
  t.mm.copyOut(a.pointer(0), b);
  return 0;
}

// ---- process groups and sessions ----

/** processOf finds pid (0: the caller), a zombie too, as getpgid and getsid do; ESRCH if there is none. */
function processOf(t: Task, pid: number): Process {
  if (pid === 0) return t.proc;
  const p = t.proc.ns.get(pid);
  if (!p) throw ESRCH;
  return p;
}

export const getpid = (t: Task) => t.proc.pid;
export const getppid = (t: Task) => t.proc.parent?.pid ?? 0;
export const getpgrp = (t: Task) => t.proc.pgid;

export function getpgid(t: Task, a: SyscallArgs): number {
  return processOf(t, a.int(0)).pgid;
}

export function getsid(t: Task, a: SyscallArgs): number {
  return processOf(t, a.int(0)).sid;
}

/** setpgid implements setpgid(2) with Linux's checks. */
export function setpgid(t: Task, a: SyscallArgs): number {
  const pid = a.int(0);
  let pgid = a.int(1);
  if (pgid < 0) throw EINVAL;
  const p = processOf(t, pid);
  if (p !== t.proc && p.parent !== t.proc) throw ESRCH;
  if (p.parent === t.proc && p.execed) throw EACCES;
  if (p.sid !== t.proc.sid) throw EPERM;
  if (p.pid === p.sid) throw EPERM;
  if (pgid === 0) pgid = p.pid;
  if (pgid !== p.pid && !t.proc.ns.group(pgid).some((q) => q.sid === t.proc.sid)) throw EPERM;
  p.pgid = pgid;
  return 0;
}

/** setsid implements setsid(2): a new session and group, unless the caller leads a group. */
export function setsid(t: Task): number {
  const p = t.proc;
  if (p.pgid === p.pid || t.proc.ns.group(p.pid).length > 0) throw EPERM;
  p.sid = p.pid;
  p.pgid = p.pid;
  return p.pid;
}

export function register(): void {
  full(56, clone, 'x,p,p,p,x');
  partial(435, clone3, 'no set_tid, cgroup or pidfd', 'p,u');
  full(57, fork);
  full(58, vfork);
  full(59, execve, 's,p,p');
  full(322, execveat, 'd,s,p,p,x');
  full(60, exit, 'd');
  full(231, exitGroup, 'd');
  full(61, wait4, 'd,p,x,p');
  full(247, waitid, 'd,d,p,x,p');
  full(39, getpid);
  full(110, getppid);
  full(111, getpgrp);
  full(121, getpgid, 'd');
  full(124, getsid, 'd');
  full(109, setpgid, 'd,d');
  full(112, setsid);
  partial(98, getrusage, 'times only: a process\'s time alive counts as user time', 'd,p');
  full(99, sysinfo, 'p');
  partial(100, times, 'a process\'s time alive counts as user time', 'p');
}

