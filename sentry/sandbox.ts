// sandbox.ts: the public API. A Sandbox owns a platform (a VM on kvm) and
// its memory file; run() starts a program in it and resolves when the
// program ends.
import { closeSync, openSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { PtracePlatform, PtraceUnavailableError } from '../ptrace-platform/platform.js';
import { KvmPlatform, KvmUnavailableError, MAX_MEMORY_FILE } from '../kvm-platform/platform.js';
import { Kernel } from './kernel/kernel.js';
import { SyscallPatches } from './kernel/patch.js';
import { Task, commOf, type TaskHost } from './kernel/task.js';
import { PidNamespace, Process, exited } from './kernel/process.js';
import { Credentials } from './kernel/credentials.js';
import { signalName, SIGKILL, signalNumber } from './kernel/signals.js';
import { MM, PAGE_SIZE } from './mm/mm.js';
import { PageCache, type FileMemory } from './mm/page-cache.js';
import { cacheLimit } from './mm/memory-file.js';
import { load, readAuxv, readInterpreter, type Interpreter } from './loader/elf.js';
import { LoadError, MAX_INTERPRETERS, findProgram, readProgram, resolveProgram, scriptOf } from './loader/program.js';
import { startGofer } from '../gofer/client.js';
import type { Gofer } from '../gofer/api.js';
import { GoferMount, settleWrites, type GoferNode } from './vfs/goferfs.js';
import { OverlayNode } from './vfs/overlay.js';
import { Tmpfs } from './vfs/tmpfs.js';
import { devfs } from './vfs/devfs.js';
import { procfs, type ProcTask } from './vfs/procfs.js';
import { Vfs, type Dentry } from './vfs/vfs.js';
import { S_IFDIR, S_IFMT } from './vfs/node.js';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { CollectOutput, FdTable, HostStream, MemoryInput, O_RDONLY, O_WRONLY, type FileDescription } from './vfs/file.js';
import { createLogger, createStraceLogger, type Logger } from './log.js';
import { PlatformError, Reg, type Platform } from './platform.js';
import { fromOutside, send as sendSignal } from './syscalls/signal.js';
import { exitRobustList, futexWake } from './syscalls/futex.js';
import { Vdso } from './vdso/vdso.js';

export { KvmUnavailableError, LoadError, PlatformError, PtraceUnavailableError };

/** UsageError is a bad option given to the API or the CLI. */
export class UsageError extends Error {
  readonly code = 'E_USAGE';
}

export interface SandboxOptions {
  /** platform runs programs in a KVM micro-VM ('kvm', the default) or under ptrace ('ptrace'). */
  platform?: 'kvm' | 'ptrace';
  /**
   * cpus is how many of the programs' threads run at once at most (the
   * others wait for a turn), and the CPUs programs see (sched_getaffinity).
   * Default: the host's CPUs, at most DEFAULT_MAX_CPUS. On ptrace the
   * threads of one process take turns in its stub whatever the number.
   */
  cpus?: number;
  /** pidsLimit bounds how many processes and threads may exist at once: past it fork and clone fail with EAGAIN. Default 128. */
  pidsLimit?: number;
  /** memory is the most the programs may commit: bytes, or a size like '256M' or '2G'. Default 2G. */
  memory?: number | string;
  /** strace prints every system call to stderr as strace would. */
  strace?: boolean;
  /** debugLog is a file that receives the Sentry's log at debug level. */
  debugLog?: string;
  /** root is the host folder the sandbox sees as /, read-only under a private overlay. Default: the host's /. */
  root?: string;
  /**
   * mounts are host folders mounted into the sandbox: `source` (a host
   * folder) at `target` (an absolute path in the sandbox), read-only unless
   * `writable`, in which case the program's writes reach the host.
   */
  mounts?: { source: string; target: string; writable?: boolean }[];
  /**
   * noPatch leaves programs' code as it is: on kvm every system call then
   * exits the VM, instead of patched call sites handing calls over
   * through shared memory (the CLI's --no-patch). Default: true when the
   * environment has TVISOR_NO_PATCH=1, else false.
   */
  noPatch?: boolean;
}

export type Stdio = 'pipe' | 'inherit';

export interface RunOptions {
  /** stdin is the program's standard input: bytes, or 'inherit' for this process's own. Default: empty. */
  stdin?: string | Uint8Array | 'inherit';
  /** stdout and stderr are collected ('pipe', the default) or passed through ('inherit'). */
  stdout?: Stdio;
  stderr?: Stdio;
  /** env is the program's whole environment, as K=V strings or an object. Default: a PATH only. */
  env?: string[] | Record<string, string>;
  /** timeoutMs kills the program with SIGKILL after this many milliseconds. */
  timeoutMs?: number;
  /** signal aborts the run (SIGKILL to the program) when it fires. */
  signal?: AbortSignal;
}

export interface RunStats {
  /** syscalls the program made. */
  syscalls: number;
  /** exitless of them reached the Sentry through shared memory, without an exit (kvm). */
  exitless: number;
  /** byExit of them stopped the program: an exit from the VM, or a ptrace stop. */
  byExit: number;
  /** patchedSites is how many call sites were rewritten to enter the exitless trampoline. */
  patchedSites: number;
  /** faults the program took (page faults included). */
  faults: number;
}

export interface RunResult {
  /** exitCode is the program's exit status, or 128+N when signal N killed it. */
  exitCode: number;
  /** signal names the signal that killed the program, or null. */
  signal: string | null;
  /** timedOut is true when timeoutMs ended the run. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
  stats: RunStats;
}

/**
 * DEFAULT_PIDS_LIMIT is how many processes a sandbox may hold at once
 * unless told otherwise. On kvm each live process holds a vCPU; past about
 * 150 at once this host's KVM (PVM) stalls, so the default stays below.
 */
export const DEFAULT_PIDS_LIMIT = 128;
/** DEFAULT_MAX_CPUS caps the default of SandboxOptions.cpus: more vCPUs than this contend with the Sentry's own thread. */
export const DEFAULT_MAX_CPUS = 4;
/** MAX_CPUS is the most CPUs a sandbox may have (its affinity masks fit a 64-bit word). */
export const MAX_CPUS = 64;
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_MEMORY = 2 * 2 ** 30;
const MIN_MEMORY = 16 << 20;

/** parseSize reads '256M', '2G', '512k' or a number of bytes. */
export function parseSize(size: number | string): number {
  if (typeof size === 'number') {
    if (!Number.isSafeInteger(size) || size <= 0) throw new UsageError(`invalid memory size: ${size}`);
    return size;
  }
  const m = /^(\d+)([kKmMgG]?)i?[bB]?$/.exec(size.trim());
  if (!m) throw new UsageError(`invalid memory size: ${size} (use a number of bytes or a size like 256M or 2G)`);
  const unit = { '': 1, k: 1 << 10, m: 1 << 20, g: 1 << 30 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

function envList(env: RunOptions['env']): string[] {
  if (env === undefined) return [`PATH=${DEFAULT_PATH}`];
  if (Array.isArray(env)) {
    for (const e of env) if (!e.includes('=')) throw new UsageError(`invalid environment entry "${e}" (use K=V)`);
    return [...env];
  }
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

export class Sandbox {
  private closed = false;
  private running = 0;
  private readonly tasks = new Set<Task>();
  /** starting holds, for each run still looking up its program, the signals sent to it meanwhile. */
  private readonly starting = new Set<number[]>();

  private readonly vdso: Vdso;
  /** pageCache holds the programs the sandbox ran, mapped straight into the next that run them. */
  private readonly pageCache: PageCache;

  /** goferDead says why the Gofer died, once it has. */
  private goferDead: string | undefined;

  private constructor(
    private readonly platform: Platform,
    private readonly log: Logger,
    private readonly strace: Logger | undefined,
    private readonly patch: boolean,
    private readonly gofer: Gofer,
    readonly vfs: Vfs,
    private readonly pids: PidNamespace,
  ) {
    this.vdso = new Vdso(platform.memoryFile, platform.tscOffset);
    const mem = platform.memoryFile;
    this.pageCache = new PageCache(mem, cacheLimit(mem.userLimit) / PAGE_SIZE);
    gofer.onDeath = (why) => {
      this.goferDead = why;
      this.log.error(`the file server (Gofer) ${why}`);
      for (const t of this.tasks) t.post(SIGKILL);
    };
  }

  /**
   * procTasks is what /proc shows: the sandbox's running processes, each
   * by its leader (a zombie when it ended before its other threads), with
   * their threads.
   */
  private procTasks(): ProcTask[] {
    const procs = new Set<Process>();
    for (const t of this.tasks) if (t.proc) procs.add(t.proc);
    return [...procs].map((p) => procView(p.task));
  }

  /** create makes a sandbox. It throws KvmUnavailableError when /dev/kvm cannot be used. */
  static async create(opts: SandboxOptions = {}): Promise<Sandbox> {
    const platformName = opts.platform ?? 'kvm';
    if (platformName !== 'kvm' && platformName !== 'ptrace') throw new UsageError(`unknown platform "${platformName}" (use kvm or ptrace)`);
    const memory = parseSize(opts.memory ?? DEFAULT_MEMORY);
    if (memory < MIN_MEMORY) throw new UsageError(`memory must be at least 16M, not ${opts.memory}`);
    if (platformName === 'kvm' && memory > MAX_MEMORY_FILE * 0.98 - (64 << 20)) throw new UsageError(`memory must be at most 3G on the kvm platform, not ${opts.memory}`);
    if (opts.debugLog !== undefined) {
      try {
        closeSync(openSync(opts.debugLog, 'a'));
      } catch (err) {
        throw new UsageError(`cannot write the debug log ${opts.debugLog}: ${(err as NodeJS.ErrnoException).code}`);
      }
    }
    const rootDir = hostDir(opts.root ?? '/', '--root');
    const mounts = (opts.mounts ?? []).map((m) => {
      if (!m.target.startsWith('/') || m.target === '/' || m.target.split('/').includes('..')) {
        throw new UsageError(`invalid mount target "${m.target}" (use an absolute path other than /)`);
      }
      return { source: hostDir(m.source, '--mount'), target: m.target.replace(/\/+$/, ''), writable: m.writable ?? false };
    });
    const cpus = opts.cpus ?? Math.min(availableParallelism(), DEFAULT_MAX_CPUS);
    if (!Number.isSafeInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) throw new UsageError(`invalid cpus: ${opts.cpus} (use a whole number from 1 to ${MAX_CPUS})`);
    const platform: Platform = platformName === 'kvm' ? KvmPlatform.create(memory, cpus) : PtracePlatform.create(memory, cpus);
    let gofer: Gofer | undefined;
    try {
      const log = await createLogger({ debugLog: opts.debugLog });
      const strace = opts.strace ? await createStraceLogger() : undefined;
      const g = await startGofer({ mounts: [{ hostPath: rootDir, writable: false }, ...mounts.map((m) => ({ hostPath: m.source, writable: m.writable }))] });
      gofer = g;
      const vfs = await buildTree(g, mounts, () => sb.procTasks(), () => sb.vfs, memory, platform);
      const pidsLimit = opts.pidsLimit ?? DEFAULT_PIDS_LIMIT;
      if (!Number.isSafeInteger(pidsLimit) || pidsLimit < 1) throw new UsageError(`invalid pids limit: ${opts.pidsLimit} (use a whole number of at least 1)`);
      const sb: Sandbox = new Sandbox(platform, log, strace, !(opts.noPatch ?? process.env.TVISOR_NO_PATCH === '1'), g, vfs, new PidNamespace(pidsLimit));
      return sb;
    } catch (err) {
      await gofer?.shutdown();
      await platform.close();
      throw err;
    }
  }

  /**
   * run starts a program and resolves with how it ended. A program that
   * cannot be loaded rejects with LoadError.
   */
  async run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    if (this.closed) throw new UsageError('the sandbox is closed');
    if (argv.length === 0) throw new UsageError('no program given');
    if (this.goferDead) throw new PlatformError(`the file server (Gofer) ${this.goferDead}`);
    const env = envList(opts.env);
    const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
    // Finding and reading the program waits for the Gofer: a signal sent
    // meanwhile is kept for the task.
    const early: number[] = [];
    this.starting.add(early);
    let cwd: Dentry, path: string, exe: string, comm: string, image: FileMemory;
    let interp: Interpreter | undefined;
    try {
      cwd = await this.initialCwd();
      let found = await findProgram(this.vfs, cwd, argv[0], pathVar);
      path = found.path;
      comm = commOf(path);
      // A #! script runs its interpreter, as execve does.
      for (let depth = 0; ; depth++) {
        exe = found.dentry.path;
        image = await readProgram(this.vfs, this.pageCache, found.dentry, path);
        const script = scriptOf(image);
        if (!script) break;
        image.unref();
        if (script === 'malformed') throw new LoadError(`${path}: its #! line names no interpreter`, 8);
        if (depth >= MAX_INTERPRETERS) throw new LoadError(`${path}: too many levels of #! interpreters`, 40);
        argv = script.argv(path, argv);
        path = script.interpreter;
        found = { path, dentry: await resolveProgram(this.vfs, cwd, path) };
      }
      try {
        interp = await readInterpreter(this.vfs, this.pageCache, path, image);
      } catch (err) {
        image.unref();
        throw err;
      }
    } finally {
      this.starting.delete(early);
    }
    /** loaded drops the images' references once they are mapped (or will not be). */
    const loaded = () => {
      image.unref();
      interp?.image.unref();
    };

    const stdout = opts.stdout === 'inherit' ? new HostStream(1, O_WRONLY) : new CollectOutput();
    const stderr = opts.stderr === 'inherit' ? new HostStream(2, O_WRONLY) : new CollectOutput();
    let stdin: FileDescription;
    if (opts.stdin === 'inherit') stdin = new HostStream(0, O_RDONLY);
    else stdin = new MemoryInput(typeof opts.stdin === 'string' ? Buffer.from(opts.stdin) : opts.stdin ?? new Uint8Array(0));
    const fds = new FdTable();
    fds.installAt(0, stdin, false);
    fds.installAt(1, stdout, false);
    fds.installAt(2, stderr, false);

    // A program starts as the host user who runs the sandbox, with no supplementary groups.
    const creds = new Credentials({ uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, groups: [] });
    const pid = this.pids.alloc();
    if (pid < 0) {
      loaded();
      throw new UsageError(`the sandbox holds ${this.pids.limit} processes already (its pids limit)`);
    }
    const mm = new MM(this.platform.memoryFile, this.platform.newAddressSpace());
    let task: Task | undefined;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const onAbort = () => task?.post(SIGKILL);
    const kernel = new Kernel(this.platform, { log: this.log, strace: this.strace, clock: this.vdso.timePage, patch: this.patch });
    // Every task of this run's tree, and their kernel loops.
    const tree = new Set<Task>();
    const loops = new Set<Promise<void>>();
    const totals = { syscalls: 0, exitless: 0, faults: 0 };
    let failure: unknown;
    /** patchedSites counts the call sites patched in the init process's memory. */
    const patchedSites: { count: number; proc: Process | undefined } = { count: 0, proc: undefined };
    const host: TaskHost = {
      newContext: () => this.platform.newContext(),
      newAddressSpace: () => this.platform.newAddressSpace(),
      vdso: this.vdso,
      pageCache: this.pageCache,
      cpus: this.platform.cpus,
      start: (t) => {
        const loop = this.runTask(kernel, t, tree, totals, patchedSites).catch((err) => {
          failure ??= err;
          for (const other of tree) other.post(SIGKILL);
        });
        loops.add(loop);
        void loop.finally(() => loops.delete(loop));
      },
    };
    this.running++;
    try {
      let start;
      try {
        start = load(mm, path, image, argv, env, creds, this.vdso, interp);
      } catch (err) {
        mm.release();
        throw err;
      } finally {
        loaded();
      }
      const trampoline = this.platform.syscallTrampoline;
      if (this.patch && trampoline !== undefined) mm.patches = SyscallPatches.forImage(mm, trampoline);
      const ctx = this.platform.newContext();
      task = new Task(pid, ctx, mm, fds, creds, exe, this.vfs, cwd, host);
      task.comm = comm; // the name it was run by, as for exec
      task.proc = new Process(pid, task, this.pids);
      this.pids.processes.set(pid, task.proc);
      task.cmdline = Buffer.from(argv.map((x) => x + '\0').join(''));
      task.environ = Buffer.from(env.map((x) => x + '\0').join(''));
      task.auxv = readAuxv(mm, start.stackPointer, argv.length, env.length);
      for (const sig of early) sendSignal(task.proc, sig, fromOutside(task, sig));
      const regs = ctx.regs;
      regs.set(Reg.RIP, start.entry);
      regs.set(Reg.RSP, start.stackPointer);
      this.log.info(`run ${JSON.stringify(argv)} (${path}) on ${this.platform.name}`);
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          timedOut = true;
          for (const t of tree) t.post(SIGKILL);
        }, opts.timeoutMs);
      }
      opts.signal?.addEventListener('abort', onAbort);
      if (opts.signal?.aborted) task.post(SIGKILL);
      const init = task.proc;
      patchedSites.proc = init;
      const initLoop = this.runTask(kernel, task, tree, totals, patchedSites).catch((err) => {
        failure ??= err;
        for (const other of tree) other.post(SIGKILL);
      });
      // The init of the tree ends with its last thread (its leader may end first).
      await initLoop;
      if (!failure) await init.done;
      // The init of the tree is gone: so is everything it leaves.
      for (const t of tree) t.post(SIGKILL);
      while (loops.size > 0) await Promise.allSettled([...loops]);
      // What the programs' shared mappings wrote reaches the host before the run returns.
      await settleWrites(this.gofer);
      if (failure) throw failure;
      if (this.goferDead) throw new PlatformError(`the file server (Gofer) ${this.goferDead}`);
      const exit = init.exitStatus;
      const sig = exit.signal;
      const stats: RunStats = {
        syscalls: totals.syscalls, exitless: totals.exitless, byExit: totals.syscalls - totals.exitless,
        patchedSites: patchedSites.count, faults: totals.faults,
      };
      this.log.info(`exit ${sig ? signalName(sig) : exit.code}; ${stats.syscalls} syscalls (${stats.exitless} exitless, ${stats.byExit} by exit), ${stats.patchedSites} call sites patched, ${stats.faults} faults`);
      return {
        exitCode: sig ? 128 + sig : exit.code,
        signal: sig ? signalName(sig) : null,
        timedOut,
        stdout: stdout instanceof CollectOutput ? stdout.text() : '',
        stderr: stderr instanceof CollectOutput ? stderr.text() : '',
        stats,
      };
    } finally {
      if (!task) this.pids.processes.delete(pid);
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      this.running--;
    }
  }

  /**
   * runTask runs t until it exits, then ends it as Linux does: its robust
   * futexes are marked owner dead, the CLONE_CHILD_CLEARTID word is
   * cleared, a vfork parent runs on, its files and memory go when no other
   * task shares them, and when it was its process's last thread the
   * process becomes a zombie for its parent (process.ts).
   */
  private async runTask(kernel: Kernel, t: Task, tree: Set<Task>, totals: { syscalls: number; exitless: number; faults: number }, patched?: { count: number; proc: Process | undefined }): Promise<void> {
    tree.add(t);
    this.tasks.add(t);
    try {
      await kernel.run(t);
    } finally {
      this.tasks.delete(t);
      tree.delete(t);
      t.ctx.release();
      t.exit ??= { code: 0, signal: SIGKILL };
      totals.syscalls += t.stats.syscalls;
      totals.exitless += t.stats.exitless;
      totals.faults += t.stats.faults;
      if (patched && t.proc === patched.proc) patched.count = t.mm.patches?.count ?? 0;
      exitRobustList(t);
      if (t.clearTid) {
        // CLONE_CHILD_CLEARTID: the word is cleared and one waiter woken (pthread_join).
        t.writeTid(t.clearTid, 0);
        futexWake(t.mm, t.clearTid, 1);
      }
      t.vforkDone?.();
      t.vforkDone = undefined;
      if (--t.fds.users === 0) t.fds.closeAll();
      t.proc.maxRssKb = Math.max(t.proc.maxRssKb, t.mm.residentKb);
      if (--t.mm.users === 0) t.mm.release();
      // The process ends with its last thread: then its parent hears of it, once.
      if (t.proc.taskExited(t)) exited(t.proc, t.proc.exitStatus);
    }
  }

  /**
   * initialCwd is where a program starts: the host's working directory when
   * the sandbox sees the same path (the host's / as root), else /.
   */
  private async initialCwd(): Promise<Dentry> {
    try {
      const d = await this.vfs.resolve(this.vfs.root, process.cwd(), { follow: true });
      if (((await d.node.attr()).mode & S_IFMT) === S_IFDIR) return d;
    } catch {
      // Not in the sandbox's tree.
    }
    return this.vfs.root;
  }

  /**
   * kill sends a signal ('SIGINT', 'TERM' or a number) to every program
   * running in the sandbox, as kill(1) would.
   */
  kill(signal: string | number = 'SIGKILL'): void {
    const sig = typeof signal === 'number' ? signal : signalNumber(signal);
    if (sig === undefined || sig < 1 || sig > 64) throw new UsageError(`unknown signal ${signal}`);
    for (const p of new Set([...this.tasks].map((t) => t.proc))) sendSignal(p, sig, fromOutside(p.task, sig));
    for (const early of this.starting) early.push(sig);
  }

  /** close releases the VM and its memory. Runs in progress must have ended. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.running > 0) throw new UsageError('close() while a program is running');
    this.closed = true;
    this.vdso.release();
    this.pageCache.clear();
    await settleWrites(this.gofer);
    await this.gofer.shutdown();
    await this.platform.close();
    await this.log.close();
    await this.strace?.close();
  }
}


/** hostDir checks a host folder given by the user and returns its real absolute path. */
function hostDir(dir: string, what: string): string {
  const abs = isAbsolute(dir) ? dir : resolvePath(dir);
  if (!existsSync(abs)) throw new UsageError(`${what}: ${dir} does not exist`);
  if (!statSync(abs).isDirectory()) throw new UsageError(`${what}: ${dir} is not a directory`);
  return realpathSync(abs);
}

/**
 * buildTree makes a sandbox's file tree: the Gofer's root (mount 0) under
 * a tmpfs overlay, /dev, /dev/shm, /proc, and the user's mounts, each a
 * Gofer mount of its own.
 */
async function buildTree(
  gofer: Gofer, mounts: { source: string; target: string; writable: boolean }[],
  tasks: () => ProcTask[], vfsOf: () => Vfs, memory: number, platform: Platform,
): Promise<Vfs> {
  const roRoot = await new GoferMount(gofer, false).root(0);
  // What programs write to the overlay and /dev/shm counts against the memory limit.
  const mem = platform.memoryFile;
  const upper = new Tmpfs('overlay', mem);
  const root = OverlayNode.root(upper, roRoot, await roRoot.attr());
  const vfs = new Vfs(root, { source: 'overlay', fstype: 'overlay', readOnly: false, target: '/' });
  // Mount points exist in the overlay, so they show in listings.
  const ensureDir = async (path: string) => {
    let d: Dentry = vfs.root;
    for (const name of path.split('/').filter(Boolean)) {
      const next = await vfs.lookupIn(d, name);
      if (next) {
        d = next;
        continue;
      }
      await d.node.mkdir(name, 0o755, { uid: 0, gid: 0 });
      d.forget(name);
      d = (await vfs.lookupIn(d, name))!;
    }
  };
  const shm = new Tmpfs('shm', mem).root(0o1777);
  const startedMs = Date.now();
  for (const dir of ['/dev', '/proc', '/sys']) await ensureDir(dir).catch(() => undefined);
  vfs.mount('/dev', devfs(shm, (c) => {
    const f = c?.fd(0);
    return f?.hostTty() !== undefined ? f : undefined;
  }), { source: 'devtmpfs', fstype: 'devtmpfs', readOnly: false });
  vfs.mount('/proc', procfs({
    tasks, mounts: () => vfsOf().mounts, memoryLimit: memory,
    committed: () => platform.memoryFile.committed, startedMs,
  }), { source: 'proc', fstype: 'proc', readOnly: false });
  // The host's sysfs is not the sandbox's business (the Gofer refuses it): /sys is empty.
  vfs.mount('/sys', new Tmpfs('sysfs').root(0o555), { source: 'sysfs', fstype: 'sysfs', readOnly: true });
  for (const [i, m] of mounts.entries()) {
    await ensureDir(m.target);
    const node: GoferNode = await new GoferMount(gofer, m.writable).root(i + 1);
    vfs.mount(m.target, node, { source: m.source, fstype: 'gofer', readOnly: !m.writable });
  }
  return vfs;
}

/** procView is how /proc shows task t; getters, as /proc's nodes outlive the call and a task changes its name, ids and image as it runs. */
function procView(t: Task): ProcTask {
  return {
    get pid() {
      return t.proc.pid;
    },
    get tid() {
      return t.tid;
    },
    threads: () => {
      const p = t.proc;
      const live = [...p.tasks].sort((a, b) => a.tid - b.tid);
      return (p.tasks.has(p.task) ? live : [p.task, ...live]).map(procView);
    },
    get ppid() {
      return t.proc?.parent?.pid ?? 0;
    },
    get comm() {
      return t.comm;
    },
    get pgid() {
      return t.proc?.pgid ?? t.tid;
    },
    get sid() {
      return t.proc?.sid ?? t.tid;
    },
    get exe() {
      return t.exe;
    },
    get cmdline() {
      return t.cmdline;
    },
    get environ() {
      return t.environ;
    },
    get auxv() {
      return t.auxv;
    },
    state: () => (t.exited ? 'Z' : t.proc?.stopped ? 'T' : t.sleeping ? 'S' : 'R'), cwd: () => t.cwd.path,
    get creds() {
      return t.creds;
    },
    fds: () => t.fds.entries().map(([n, e]) => [n, e.file]), fd: (n: number) => t.fds.entries().find(([fd]) => fd === n)?.[1].file,
    maps: () => t.mm.vmas.map((v) => `${v.start.toString(16).padStart(8, '0')}-${v.end.toString(16).padStart(8, '0')} ` +
      `${v.perm & 1 ? 'r' : '-'}${v.perm & 2 ? 'w' : '-'}${v.perm & 4 ? 'x' : '-'}${v.shm ? 's' : 'p'} ${((v.filePage ?? (v.name.startsWith('/') ? v.shmPage : 0)) * PAGE_SIZE).toString(16).padStart(8, '0')} 00:00 0 ${v.name}\n`).join(''),
    vmKb: () => Math.floor(t.mm.vmas.reduce((n, v) => n + (v.end - v.start), 0) / 1024),
  };
}
