// run.ts is the benchmark harness: it runs each workload under each runner
// (native, tvisor's kvm platform, the kvm-floor program...), interleaving the
// runners so that the machine's drift hits them alike, and prints medians
// and ratios. Ratios, not absolute times, are the result on noisy machines.
// Nothing here is a test, and no test may use its output.
//
// Usage: node dist/benchmarks/run.js [--workloads a,b] [--runners a,b]
//                                    [--quick] [--reps N] [--no-build]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { SandboxOptions } from '../index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name: string) => join(root, 'benchmarks', 'bin', name);
const cliPath = join(root, 'dist', 'cli', 'tvisor.js');

/** RUN_TIMEOUT_MS bounds one measurement, so a hung runner fails its row. */
const RUN_TIMEOUT_MS = 180_000;

interface ProgramResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runner is one way of running a program. Each capability is optional; a
 * workload uses the ones it needs, and a runner without them has no row.
 */
interface Runner {
  name: string;
  /** run executes argv to completion (stdin empty) and returns its output. */
  run?(argv: string[]): Promise<ProgramResult>;
  /** command is the host command line that starts argv under this runner. */
  command?(argv: string[]): string[];
  /** launch creates a sandbox in this process, runs argv and closes it. */
  launch?(argv: string[]): Promise<void>;
  /** syscallFloor measures n syscalls on the bare guest path, in ns/op. */
  syscallFloor?(n: number): Promise<number>;
}

interface Options {
  quick: boolean;
}

/**
 * Workload is one measurement. measure returns one sample, or undefined
 * when the runner lacks what the workload needs (no row, not a failure).
 */
interface Workload {
  name: string;
  unit: string;
  measure(runner: Runner, o: Options): Promise<number | undefined> | undefined;
}

// spawnProgram runs a host command to completion and reports its wall time.
function spawnProgram(cmd: string[]): Promise<ProgramResult & { ms: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd[0]!, cmd.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: RUN_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = performance.now() - start;
      if (signal) reject(new Error(`${label(cmd)} killed by ${signal}${tail(stderr)}`));
      else resolve({ exitCode: code ?? -1, stdout, stderr, ms });
    });
  });
}

// withTimeout fails a promise that outlives RUN_TIMEOUT_MS. The work itself
// cannot be cancelled; main() exits the process when the table is printed.
function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS);
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

// spawnRunner runs programs as host processes, behind an optional prefix
// (e.g. ['runsc', '--platform=ptrace', 'do'] for gVisor).
function spawnRunner(name: string, prefix: string[]): Runner {
  const command = (argv: string[]) => [...prefix, ...argv];
  return { name, command, run: (argv) => spawnProgram(command(argv)) };
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
function tvisorRunner(platform: Platform): Runner {
  const withSandbox = async <T>(fn: (run: (argv: string[]) => Promise<ProgramResult>) => Promise<T>) => {
    const { Sandbox } = await import('../index.js');
    const sb = await Sandbox.create({ platform });
    try {
      return await fn(async (argv) => {
        const r = await sb.run(argv, { stdin: '' });
        return { exitCode: r.exitCode, stdout: text(r.stdout), stderr: text(r.stderr) };
      });
    } finally {
      await sb.close();
    }
  };
  return {
    name: platform,
    run: (argv) => withTimeout(withSandbox((run) => run(argv)), `${platform} run`),
    command: (argv) => [process.execPath, cliPath, 'run', `--platform=${platform}`, '--', ...argv],
    launch: (argv) =>
      withTimeout(
        withSandbox(async (run) => {
          expectHello(await run(argv), argv);
        }),
        `${platform} launch`,
      ),
  };
}

function expectHello(r: ProgramResult, argv: string[]): void {
  const out = checked(r, argv);
  if (out !== 'hello\n') throw new Error(`${label(argv)} printed ${JSON.stringify(out.slice(0, 80))}`);
}

/** runners, in the order of the table. Add ptrace and runsc here. */
const runners: Runner[] = [
  spawnRunner('native', []),
  tvisorRunner('kvm'),
  {
    name: 'kvm-floor',
    syscallFloor: async (n) => {
      const argv = [bin('kvm-floor'), '--json', String(n)];
      return numberOf(checked(await spawnProgram(argv), argv), argv);
    },
  },
];

/** workloads, in the order of the table. */
const workloads: Workload[] = [
  {
    name: 'syscall',
    unit: 'ns/op',
    measure: (r, o) => {
      const n = o.quick ? 2000 : 20000;
      if (r.syscallFloor) return r.syscallFloor(n);
      const run = r.run;
      if (!run) return undefined;
      const argv = [bin('syscall'), String(n)];
      return run(argv).then((res) => numberOf(checked(res, argv), argv));
    },
  },
  {
    name: 'launch-api',
    unit: 'ms',
    measure: (r) => {
      const launch = r.launch;
      if (!launch) return undefined;
      const start = performance.now();
      return launch([bin('hello')]).then(() => performance.now() - start);
    },
  },
  {
    name: 'launch-cli',
    unit: 'ms',
    measure: (r) => {
      if (!r.command) return undefined;
      const cmd = r.command([bin('hello')]);
      return spawnProgram(cmd).then((res) => {
        expectHello(res, cmd);
        return res.ms;
      });
    },
  },
  {
    name: 'cpu',
    unit: 'ms',
    measure: (r, o) => {
      const run = r.run;
      if (!run) return undefined;
      const argv = [bin('cpu'), o.quick ? '50000000' : '200000000'];
      return run(argv).then((res) => numberOf(checked(res, argv), argv));
    },
  },
];

interface Row {
  workload: string;
  runner: string;
  unit: string;
  median: number | null;
  min: number | null;
  max: number | null;
  runs: number[];
  error?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0]!.slice(0, 200);
}

// measureWorkload interleaves the runners: one warm-up each (which also
// drops a runner that fails), then reps rounds of one sample per runner.
async function measureWorkload(w: Workload, rs: Runner[], reps: number, o: Options): Promise<Row[]> {
  const rows = new Map<Runner, Row>();
  for (const r of rs) {
    const row: Row = { workload: w.name, runner: r.name, unit: w.unit, median: null, min: null, max: null, runs: [] };
    try {
      const sample = w.measure(r, o);
      if (sample === undefined) continue;
      await sample;
    } catch (e) {
      row.error = errorText(e);
    }
    rows.set(r, row);
  }
  if (!rows.size) return [];
  for (let i = 0; i < reps; i++) {
    for (const [r, row] of rows) {
      if (row.error) continue;
      try {
        row.runs.push((await w.measure(r, o))!);
      } catch (e) {
        row.error = errorText(e);
      }
    }
    process.stderr.write(`bench: ${w.name} round ${i + 1}/${reps}\n`);
  }
  for (const row of rows.values()) {
    if (row.error || !row.runs.length) continue;
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

function ratio(row: Row, rows: Row[], baseline: string): string {
  const base = rows.find((b) => b.workload === row.workload && b.runner === baseline);
  if (row.median === null || !base || base.median === null || base.median === 0) return '';
  const r = row.median / base.median;
  return `${r >= 100 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toPrecision(2)}×`;
}

function table(rows: Row[]): string {
  const out = [
    '| workload | runner | unit | median | min | max | vs native | vs kvm-floor | note |',
    '|---|---|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const note = r.error ? `failed: ${r.error.replace(/\|/g, '\\|')}` : `${r.runs.length} runs`;
    const floor = r.workload === 'syscall' ? ratio(r, rows, 'kvm-floor') : '';
    out.push(
      `| ${r.workload} | ${r.runner} | ${r.unit} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ` +
        `${ratio(r, rows, 'native')} | ${floor} | ${note} |`,
    );
  }
  return out.join('\n');
}

function machine() {
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
  const o: Options = { quick };
  reps ??= quick ? 3 : 7;

  if (build) {
    const b = spawnSync('bash', [join(root, 'scripts', 'build-bench.sh')], { stdio: ['ignore', 2, 2] });
    if (b.status !== 0) {
      process.stderr.write('bench: scripts/build-bench.sh failed\n');
      process.exit(1);
    }
  }

  const rows: Row[] = [];
  for (const w of ws) rows.push(...(await measureWorkload(w, rs, reps, o)));

  process.stdout.write(table(rows) + '\n');
  const results = join(root, 'benchmarks', 'results');
  mkdirSync(results, { recursive: true });
  const report = { machine: machine(), date: new Date().toISOString(), results: rows };
  writeFileSync(join(results, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  process.stderr.write(`bench: wrote ${join('benchmarks', 'results', 'latest.json')}\n`);
  // A hung sandbox may still hold the event loop; the results are out.
  process.exit(0);
}

await main();
