// run.ts is the benchmark harness: it runs each workload under each runner
// (native, tvisor's kvm and ptrace platforms, gVisor's runsc, and the floor
// programs that drive each platform's bare path from C), interleaving the
// runners so that the machine's drift hits them alike, and prints medians
// and ratios. Ratios, not absolute times, are the result on noisy machines.
// Nothing here is a test, and no test may use its output.
//
// Usage: node dist/benchmarks/run.js [--workloads a,b] [--runners a,b]
//                                    [--quick] [--reps N] [--no-build]
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { SandboxOptions } from '../index.js';
import { chartSvg, formatRatio, type Report, type ResultRow } from './chart.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name: string) => join(root, 'benchmarks', 'bin', name);
const cliPath = join(root, 'dist', 'cli', 'tvisor.cjs');

/** RUN_TIMEOUT_MS bounds one measurement, so a hung runner fails its row. */
const RUN_TIMEOUT_MS = 180_000;
/** QUICK_TIMEOUT_MS is the bound under --quick, whose every sample takes seconds at most. */
const QUICK_TIMEOUT_MS = 30_000;
/**
 * RUNSC_KVM_TIMEOUT_MS bounds runsc on its own kvm platform, which hangs on
 * PVM hosts (its Sentry runs in guest ring 0, which PVM emulates).
 */
const RUNSC_KVM_TIMEOUT_MS = 20_000;

interface ProgramResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Hang is a run that outlived its time limit. A runner that hangs once is
 * not run again: its later rows repeat the note instead of waiting again.
 */
class Hang extends Error {}

interface SpawnOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runner is one way of running a program. Each capability is optional; a
 * workload uses the ones it needs, and a runner without them has no row.
 */
interface Runner {
  name: string;
  /** only names the workloads this runner has rows for, when not all of them. */
  only?: string[];
  /** floor names the runner that measures this one's bare syscall path. */
  floor?: string;
  /** missing says why the runner cannot run on this machine, if it cannot. */
  missing?(): string | undefined;
  /** run executes argv to completion (stdin empty) and returns its output. */
  run?(argv: string[], o: Options): Promise<ProgramResult>;
  /** command is the host command line that starts argv under this runner. */
  command?(argv: string[]): string[];
  /** spawnOptions are what the command needs beyond the defaults. */
  spawnOptions?(o: Options): SpawnOptions;
  /** launch creates a sandbox in this process, runs argv and closes it. */
  launch?(argv: string[], o: Options): Promise<void>;
  /** syscallFloor measures n syscalls on the bare platform path, in ns/op. */
  syscallFloor?(n: number, o: Options): Promise<number>;
}

interface Options {
  quick: boolean;
  timeoutMs: number;
}

/** Workload is one measurement; applies says which runners have a row. */
interface Workload {
  name: string;
  unit: string;
  applies(runner: Runner): boolean;
  measure(runner: Runner, o: Options): Promise<number>;
}

/** children are the programs running now, killed if the harness is interrupted. */
const children = new Set<ReturnType<typeof spawn>>();

// spawnProgram runs a host command to completion and reports its wall time.
// A command that outlives the time limit is killed and fails with a Hang.
function spawnProgram(cmd: string[], so: SpawnOptions): Promise<ProgramResult & { ms: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: so.env });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, so.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      children.delete(child);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const ms = performance.now() - start;
      const secs = `${Math.round(so.timeoutMs / 1000)} s`;
      if (timedOut) {
        const said = tail(stderr) || (stdout.trim() ? `: printed ${JSON.stringify(stdout.trim().slice(0, 60))}` : '');
        reject(new Hang(said ? `hangs: killed after ${secs}${said}` : `hangs: no output in ${secs}`));
      } else if (signal) reject(new Error(`${label(cmd)} killed by ${signal}${tail(stderr)}`));
      else resolve({ exitCode: code ?? -1, stdout, stderr, ms });
    });
  });
}

// withTimeout fails a promise that outlives the time limit with a Hang. The
// work itself cannot be cancelled; main() exits the process when the table
// is printed.
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Hang(`hangs: no result in ${Math.round(ms / 1000)} s`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

// tail picks the line of a program's stderr that best says what went
// wrong: the first that mentions an error (a Node stack trace's message),
// else the last.
function tail(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1];
  return line ? `: ${line}` : '';
}

// label names a command line in messages, without its directories.
function label(argv: string[]): string {
  return argv.map((a) => basename(a)).join(' ');
}

// checked returns stdout of a run that must have exited 0.
function checked(r: ProgramResult, argv: string[]): string {
  if (r.exitCode !== 0) throw new Error(`${label(argv)} exited ${r.exitCode}${tail(r.stderr)}`);
  return r.stdout;
}

// numberOf reads the single number a workload program prints.
function numberOf(stdout: string, argv: string[]): number {
  const v = Number(stdout.trim());
  if (stdout.trim() === '' || !Number.isFinite(v)) {
    throw new Error(`${label(argv)} printed ${JSON.stringify(stdout.slice(0, 80))}, not a number`);
  }
  return v;
}

// onPath finds an executable in PATH, as a shell would.
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

const defaultSpawn = (o: Options): SpawnOptions => ({ timeoutMs: o.timeoutMs });

// nativeRunner runs programs directly on the host.
function nativeRunner(): Runner {
  return {
    name: 'native',
    command: (argv) => argv,
    run: (argv, o) => spawnProgram(argv, defaultSpawn(o)),
  };
}

/** runscTmp is the folder runsc keeps its state in, made on first use. */
let runscTmp: string | undefined;

// runscRunner runs programs under gVisor's `runsc do`, which sandboxes a
// host command with the host's / as its root (read-only, with an overlay).
// runsc do makes its state folder in $TMPDIR whatever --root says, and
// leaves it behind when it is killed, so each run points TMPDIR at a folder
// of the harness's that main() removes.
function runscRunner(name: string, platform: 'ptrace' | 'kvm', floor: string, timeoutMs?: number): Runner {
  const command = (argv: string[]) => ['runsc', '--rootless', '--network=none', `--platform=${platform}`, 'do', ...argv];
  const spawnOptions = (o: Options): SpawnOptions => {
    runscTmp ??= mkdtempSync(join(os.tmpdir(), 'tvisor-bench-runsc-'));
    return { timeoutMs: timeoutMs ?? o.timeoutMs, env: { ...process.env, TMPDIR: runscTmp } };
  };
  return {
    name,
    floor,
    missing: () => {
      if (!onPath('runsc')) return 'not installed';
      if (platform === 'kvm' && !existsSync('/dev/kvm')) return 'no /dev/kvm';
      return undefined;
    },
    command,
    spawnOptions,
    run: (argv, o) => spawnProgram(command(argv), spawnOptions(o)),
  };
}

// text reads a program's output, whether the API hands it over as a string
// or as bytes.
function text(out: string | Uint8Array): string {
  return typeof out === 'string' ? out : Buffer.from(out).toString('utf8');
}

type Platform = NonNullable<SandboxOptions['platform']>;

// tvisorRunner runs programs in tvisor: in process through the Sandbox API,
// and through the CLI for launch-cli. The API is imported when first used,
// so the other runners work while it does not load.
// With noPatch, it is the `kvm --no-patch` row: every system call by exit.
// With cpus, it is a `kvm --cpus N` row, for the threads workload only:
// the most vCPUs a sandbox's threads may run on at once, set through the
// API as the plain row runs, so that both run on a Sentry as warm.
function tvisorRunner(platform: Platform, floor: string, { noPatch = false, cpus }: { noPatch?: boolean; cpus?: number } = {}): Runner {
  const withSandbox = async <T>(fn: (run: (argv: string[]) => Promise<ProgramResult>) => Promise<T>) => {
    const { Sandbox } = await import('../index.js');
    const sb = await Sandbox.create({ platform, noPatch, ...(cpus ? { cpus } : {}) });
    try {
      return await fn(async (argv) => {
        const r = await sb.run(argv, { stdin: '' });
        return { exitCode: r.exitCode, stdout: text(r.stdout), stderr: text(r.stderr) };
      });
    } finally {
      await sb.close();
    }
  };
  if (cpus) {
    return { name: `${platform} --cpus ${cpus}`, only: ['threads'], run: (argv, o) => withTimeout(withSandbox((run) => run(argv)), o.timeoutMs) };
  }
  return {
    name: noPatch ? `${platform} --no-patch` : platform,
    floor,
    run: (argv, o) => withTimeout(withSandbox((run) => run(argv)), o.timeoutMs),
    command: (argv) => cliCommand(platform, noPatch ? ['--no-patch'] : [], argv),
    launch: (argv, o) =>
      withTimeout(
        withSandbox(async (run) => {
          expectHello(await run(argv), argv);
        }),
        o.timeoutMs,
      ),
  };
}

// cliCommand is the host command line that runs argv in tvisor on platform, with flags.
function cliCommand(platform: Platform, flags: string[], argv: string[]): string[] {
  return [process.execPath, cliPath, 'run', `--platform=${platform}`, ...flags, '--', ...argv];
}

// floorRunner runs a floor program: C that drives a platform's bare
// syscall path with no Sentry, and prints ns/op.
function floorRunner(name: string): Runner {
  return {
    name,
    floor: name,
    syscallFloor: async (n, o) => {
      const argv = [bin(name), '--json', String(n)];
      return numberOf(checked(await spawnProgram(argv, defaultSpawn(o)), argv), argv);
    },
  };
}

function expectHello(r: ProgramResult, argv: string[]): void {
  const out = checked(r, argv);
  if (out !== 'hello\n') throw new Error(`${label(argv)} printed ${JSON.stringify(out.slice(0, 80))}`);
}

/** runners, in the order of the table. */
const runners: Runner[] = [
  nativeRunner(),
  tvisorRunner('kvm', 'kvm-floor'),
  tvisorRunner('kvm', 'kvm-floor', { noPatch: true }),
  tvisorRunner('kvm', 'kvm-floor', { cpus: 1 }),
  tvisorRunner('kvm', 'kvm-floor', { cpus: 2 }),
  tvisorRunner('ptrace', 'ptrace-floor'),
  runscRunner('runsc', 'ptrace', 'ptrace-floor'),
  runscRunner('runsc-kvm', 'kvm', 'kvm-floor', RUNSC_KVM_TIMEOUT_MS),
  floorRunner('kvm-floor'),
  floorRunner('ptrace-floor'),
];

// programWorkload runs a workload program (benchmarks/bin/PROGRAM, NAME
// unless given) under a runner and reads the one number it prints (its own
// timing of the work, so start-up is not in it).
function programWorkload(name: string, unit: string, args: (o: Options) => string[], program = name): Workload {
  return {
    name,
    unit,
    applies: (r) => r.run !== undefined,
    measure: async (r, o) => {
      const argv = [bin(program), ...args(o)];
      return numberOf(checked(await r.run!(argv, o), argv), argv);
    },
  };
}

/** bigFile makes (once) a file of `mb` MiB of pseudo-random bytes for file-read, and returns its path. */
function bigFile(mb: number): string {
  const path = join(os.tmpdir(), `tvisor-bench-${mb}m`);
  if (existsSync(path) && statSync(path).size === mb << 20) return path;
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
  const fd = openSync(path, 'w');
  for (let i = 0; i < mb; i++) writeSync(fd, chunk);
  closeSync(fd);
  return path;
}

/** SHELL_SCRIPT is the shell workload's script: pipelines, a loop, command substitution. */
const SHELL_SCRIPT = 'for i in 1 2 3 4 5 6 7 8 9 10; do seq 1 3000 | grep 7 | wc -l; done | sort | uniq -c; ' +
  'n=$(echo a b c | wc -w); [ "$n" -eq 3 ]';

/** workloads, in the order of the table. */
const workloads: Workload[] = [
  {
    name: 'syscall',
    unit: 'ns/op',
    applies: (r) => r.syscallFloor !== undefined || r.run !== undefined,
    measure: async (r, o) => {
      // 100,000 calls: the Sentry's hot path is compiled by V8 within the
      // first tens of thousands, which a shorter run would mostly measure.
      const n = o.quick ? 2000 : 100000;
      if (r.syscallFloor) return r.syscallFloor(n, o);
      const argv = [bin('syscall'), String(n)];
      return numberOf(checked(await r.run!(argv, o), argv), argv);
    },
  },
  {
    name: 'launch-api',
    unit: 'ms',
    applies: (r) => r.launch !== undefined,
    measure: async (r, o) => {
      const start = performance.now();
      await r.launch!([bin('hello')], o);
      return performance.now() - start;
    },
  },
  {
    name: 'launch-cli',
    unit: 'ms',
    applies: (r) => r.command !== undefined,
    measure: async (r, o) => {
      const cmd = r.command!([bin('hello')]);
      const res = await spawnProgram(cmd, r.spawnOptions?.(o) ?? defaultSpawn(o));
      expectHello(res, cmd);
      return res.ms;
    },
  },
  programWorkload('cpu', 'ms', (o) => [o.quick ? '50000000' : '200000000']),
  programWorkload('memory', 'ms', (o) => [o.quick ? '128' : '512']),
  programWorkload('clock', 'ns/op', (o) => [o.quick ? '2000' : '20000']),
  // The files workloads read the host's tree, which every runner shows:
  // a 256 MiB file the harness makes once, and /usr/bin.
  programWorkload('file-read', 'MB/s', (o) => [bigFile(o.quick ? 64 : 256)]),
  programWorkload('stat', 'ops/s', (o) => ['/usr/bin', o.quick ? '2000' : '10000']),
  programWorkload('readdir', 'µs/op', (o) => ['/usr/bin', o.quick ? '20' : '200']),
  // Processes: a fork, exec of busybox true and wait; 256 MiB through a
  // pipe between two processes; and a fixed script of pipelines.
  programWorkload('fork-exec', 'ms', (o) => [o.quick ? '20' : '200', '/bin/busybox', 'true']),
  programWorkload('pipe', 'MB/s', (o) => [o.quick ? '32' : '256']),
  programWorkload('shell', 'ms', () => ['/bin/busybox', SHELL_SCRIPT]),
  // The host's python3 started from a running program (fork, exec of
  // python3 -c pass, wait), as fork-exec does busybox: a dynamic program
  // that maps its libraries and reads dozens of modules.
  programWorkload('python-start', 'ms', (o) => [o.quick ? '3' : '10', '/usr/bin/python3', '-c', 'pass'], 'fork-exec'),
  // 8 threads adding to one counter under one pthread mutex, 400,000 times in all.
  programWorkload('threads', 'ms', (o) => [o.quick ? '40000' : '400000']),
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0]!.slice(0, 200);
}

/** RunnerState is what the harness learned about a runner in earlier workloads. */
interface RunnerState {
  /** unusable is the note every further row of the runner gets instead of running. */
  unusable?: string;
}

// fail notes a failed sample in its row; a Hang says so itself, and makes
// the runner unusable for the workloads after this one.
function fail(row: ResultRow, state: RunnerState, e: unknown): void {
  if (e instanceof Hang) {
    row.note = e.message;
    state.unusable = `${e.message} (in ${row.workload}; not run again)`;
  } else {
    row.note = `failed: ${errorText(e)}`;
  }
}

// measureWorkload interleaves the runners: one warm-up each (which also
// drops a runner that fails), then reps rounds of one sample per runner.
async function measureWorkload(
  w: Workload,
  rs: Runner[],
  states: Map<Runner, RunnerState>,
  reps: number,
  o: Options,
): Promise<ResultRow[]> {
  const rows = new Map<Runner, ResultRow>();
  for (const r of rs) {
    if (!w.applies(r) || (r.only && !r.only.includes(w.name))) continue;
    const row: ResultRow = { workload: w.name, runner: r.name, unit: w.unit, median: null, min: null, max: null, runs: [] };
    rows.set(r, row);
    const state = states.get(r)!;
    if (state.unusable) {
      row.note = state.unusable;
      continue;
    }
    try {
      await w.measure(r, o);
    } catch (e) {
      fail(row, state, e);
    }
  }
  const live = [...rows].filter(([, row]) => !row.note);
  if (!live.length) return [...rows.values()];
  for (let i = 0; i < reps; i++) {
    for (const [r, row] of live) {
      if (row.note) continue;
      try {
        row.runs.push(await w.measure(r, o));
      } catch (e) {
        fail(row, states.get(r)!, e);
      }
    }
    process.stderr.write(`bench: ${w.name} round ${i + 1}/${reps}\n`);
  }
  for (const row of rows.values()) {
    if (row.note || !row.runs.length) continue;
    row.median = median(row.runs);
    row.min = Math.min(...row.runs);
    row.max = Math.max(...row.runs);
  }
  return [...rows.values()];
}

function fmt(v: number | null): string {
  if (v === null) return '—';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function ratio(row: ResultRow, rows: ResultRow[], baseline: string): string {
  const base = rows.find((b) => b.workload === row.workload && b.runner === baseline);
  if (row.median === null || !base || base.median === null || base.median === 0) return '';
  return formatRatio(row.median / base.median);
}

// floorRatio compares a syscall row with the floor of its platform, and
// names the floor, since kvm and ptrace rows have different ones.
function floorRatio(row: ResultRow, rows: ResultRow[]): string {
  const floor = runners.find((r) => r.name === row.runner)?.floor;
  if (row.workload !== 'syscall' || !floor) return '';
  const r = ratio(row, rows, floor);
  return r && `${r} ${floor}`;
}

function table(rows: ResultRow[]): string {
  const out = [
    '| workload | runner | unit | median | min | max | vs native | vs ptrace | vs floor | note |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const note = r.note ? r.note.replace(/\|/g, '\\|') : `${r.runs.length} runs`;
    out.push(
      `| ${r.workload} | ${r.runner} | ${r.unit} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ` +
        `${ratio(r, rows, 'native')} | ${r.runner === 'ptrace' ? '' : ratio(r, rows, 'ptrace')} | ${floorRatio(r, rows)} | ${note} |`,
    );
  }
  return out.join('\n');
}

function machine(): Report['machine'] {
  const cpus = os.cpus();
  const kvm = !existsSync('/dev/kvm') ? 'none' : existsSync('/sys/module/kvm_pvm') ? 'pvm' : 'hardware';
  let os_release = '';
  try {
    os_release = /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    // No /etc/os-release: leave it empty.
  }
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    kernel: os.release(),
    os: os_release,
    kvm,
    node: process.version,
  };
}

function usage(msg: string): never {
  process.stderr.write(
    `bench: ${msg}\nusage: run.js [--workloads ${workloads.map((w) => w.name).join(',')}] ` +
      `[--runners ${runners.map((r) => r.name).join(',')}] [--quick] [--reps N] [--no-build]\n`,
  );
  process.exit(2);
}

// pick selects table entries by the comma-separated names of a flag.
function pick<T extends { name: string }>(all: T[], list: string | undefined, what: string): T[] {
  if (list === undefined) return all;
  const names = list.split(',').filter(Boolean);
  for (const n of names) if (!all.some((x) => x.name === n)) usage(`unknown ${what} ${JSON.stringify(n)}`);
  return all.filter((x) => names.includes(x.name));
}

// script runs one of scripts/*.sh with its output on stderr, and stops the
// harness if it fails.
function script(name: string): void {
  const b = spawnSync('bash', [join(root, 'scripts', name)], { stdio: ['ignore', 2, 2] });
  if (b.status !== 0) {
    process.stderr.write(`bench: scripts/${name} failed\n`);
    process.exit(1);
  }
}

// cleanUp ends what still runs and removes runsc's state folder.
function cleanUp(): void {
  for (const child of children) child.kill('SIGKILL');
  if (runscTmp) rmSync(runscTmp, { recursive: true, force: true });
}

async function main(): Promise<void> {
  let quick = false;
  let build = true;
  let reps: number | undefined;
  let workloadList: string | undefined;
  let runnerList: string | undefined;
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? args[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--quick') quick = true;
    else if (flag === '--no-build') build = false;
    else if (flag === '--workloads') workloadList = value();
    else if (flag === '--runners') runnerList = value();
    else if (flag === '--reps') {
      reps = Number(value());
      if (!Number.isInteger(reps) || reps < 1) usage('--reps needs a positive integer');
    } else usage(`unknown argument ${JSON.stringify(args[i])}`);
  }
  const ws = pick(workloads, workloadList, 'workload');
  const rs = pick(runners, runnerList, 'runner');
  const o: Options = { quick, timeoutMs: quick ? QUICK_TIMEOUT_MS : RUN_TIMEOUT_MS };
  reps ??= quick ? 3 : 7;

  if (build) {
    script('build-bench.sh');
    script('setup-bench.sh');
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      cleanUp();
      process.exit(128 + os.constants.signals[sig]);
    });
  }

  const states = new Map<Runner, RunnerState>(rs.map((r) => [r, { unusable: r.missing?.() }]));
  const rows: ResultRow[] = [];
  try {
    for (const w of ws) rows.push(...(await measureWorkload(w, rs, states, reps, o)));
  } finally {
    cleanUp();
  }

  process.stdout.write(table(rows) + '\n');
  const results = join(root, 'benchmarks', 'results');
  mkdirSync(results, { recursive: true });
  const report: Report = { machine: machine(), date: new Date().toISOString(), results: rows };
  writeFileSync(join(results, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(results, 'latest.svg'), chartSvg(report));
  process.stderr.write(`bench: wrote ${join('benchmarks', 'results', 'latest.json')} and latest.svg\n`);
  // A hung sandbox may still hold the event loop; the results are out.
  process.exit(0);
}

await main();
