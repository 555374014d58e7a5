// Shared helpers for the tests that run a guest program natively and inside
// the sandbox and compare the exact outcomes.
//
// Native runs go through test/guests/bin/native_pipes: Node's child_process
// connects a child's stdio to UNIX socket pairs, while the sandbox gives the
// program pipes; the helper connects fds 0-2 of the program to real pipes (so
// fstat, lseek, pread64, F_GETFL... answer the same way on both sides), passes
// the environment through unchanged, and ends with the program's exit status or
// signal.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { Sandbox } from '../index.js';
import type { RunResult as SandboxRunResult } from '../sentry/sandbox.js';

export type Platform = 'kvm' | 'ptrace';

/** The platforms every sandbox test runs on: the whole suite is a matrix over them. */
export const platforms: Platform[] = ['kvm', 'ptrace'];

/** The outcome of one run, natively or in the sandbox: the API's result without the sandbox's statistics. */
export type RunResult = Omit<SandboxRunResult, 'stats'>;

export interface RunOpts {
  stdin?: string | Buffer;
  /** The ENTIRE environment of the program. Default: DEFAULT_ENV. */
  env?: string[];
  timeoutMs?: number;
}

export interface SandboxRunOpts extends RunOpts {
  platform?: Platform;
  /** Guest memory size, e.g. '64M'. Default '256M'. */
  memory?: string;
}

/** The environment the sandbox gives a program by default: PATH only. */
export const DEFAULT_ENV: readonly string[] = ['PATH=/usr/bin:/bin'];

/** The repository root: two levels above dist/test/ (where this file runs from). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const guestBinDir = path.join(repoRoot, 'test', 'guests', 'bin');

/** Absolute path of test/guests/bin/NAME; throws when it has not been built. */
export function guestPath(name: string): string {
  const p = path.join(guestBinDir, name);
  if (!existsSync(p)) {
    throw new Error(`guest program ${p} does not exist; run "npm run build:guests" (scripts/build-guests.sh)`);
  }
  return p;
}

function envObject(env: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of env) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`bad environment entry ${JSON.stringify(entry)}: expected NAME=value`);
    out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}

function signalNumber(name: string): number {
  const n = (osConstants.signals as Record<string, number | undefined>)[name];
  if (n === undefined) throw new Error(`unknown signal ${name}`);
  return n;
}

/** Runs argv natively (through native_pipes) and returns the same shape as the sandbox. */
export function runNative(argv: readonly string[], opts: RunOpts = {}): Promise<RunResult> {
  if (argv.length === 0) throw new Error('runNative: empty argv');
  const helper = guestPath('native_pipes');
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(helper, [...argv], {
      env: envObject(opts.env ?? DEFAULT_ENV),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, opts.timeoutMs);
    }
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    // The program may exit without reading all of its stdin: ignore EPIPE.
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        exitCode: signal !== null ? 128 + signalNumber(signal) : (code ?? -1),
        signal,
        timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** Creates a sandbox, runs argv in it, closes it. */
export async function runSandboxed(argv: readonly string[], opts: SandboxRunOpts = {}): Promise<RunResult> {
  const sb = await Sandbox.create({ platform: opts.platform ?? 'kvm', memory: opts.memory ?? '256M' });
  try {
    const runOpts: { stdin: string | Buffer; env: string[]; timeoutMs?: number } = {
      stdin: opts.stdin ?? '',
      env: [...(opts.env ?? DEFAULT_ENV)],
    };
    if (opts.timeoutMs !== undefined) runOpts.timeoutMs = opts.timeoutMs;
    const r = await sb.run([...argv], runOpts);
    // Keep exactly the contract's fields so results compare with deepEqual.
    return {
      exitCode: r.exitCode,
      signal: r.signal,
      timedOut: r.timedOut,
      stdout: r.stdout,
      stderr: r.stderr,
    };
  } finally {
    await sb.close();
  }
}

/** Runs natively, then in the sandbox (one after the other, so timing checks are fair). */
export async function runBoth(
  platform: Platform,
  argv: readonly string[],
  opts: SandboxRunOpts = {},
): Promise<{ native: RunResult; sandboxed: RunResult }> {
  const native = await runNative(argv, opts);
  const sandboxed = await runSandboxed(argv, { ...opts, platform });
  return { native, sandboxed };
}

/** The result of a program that exits normally with CODE. */
export function exited(stdout: string, exitCode = 0, stderr = ''): RunResult {
  return { exitCode, signal: null, timedOut: false, stdout, stderr };
}

/** The result of a program killed by SIGNAL (e.g. 'SIGSEGV'). */
export function killedBy(signal: string, stdout = '', stderr = '', timedOut = false): RunResult {
  return { exitCode: 128 + signalNumber(signal), signal, timedOut, stdout, stderr };
}

/** True when /dev/kvm can be opened for reading and writing. */
export function kvmAvailable(): boolean {
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    return true;
  } catch {
    return false;
  }
}

export const KVM_MISSING = '/dev/kvm is not available; set TVISOR_SKIP_KVM=1 to skip the KVM tests on purpose';

/** Why PLATFORM cannot run here, or null when it can. */
export function platformProblem(platform: Platform): string | null {
  if (platform === 'kvm' && !kvmAvailable()) return KVM_MISSING;
  return null;
}

export type SandboxTestImpl = (t: ExecutionContext) => Promise<void>;
export type SandboxTestFn = (title: string, impl: SandboxTestImpl) => void;

/**
 * Declares sandbox tests for PLATFORM: `sandboxTest(platform)(title, impl)`.
 * The tests of a file run one at a time (they start virtual machines and some
 * measure time; ava still runs two files in parallel), unless `concurrent`. When the platform is
 * unavailable, each test FAILS with the reason -- unless it is KVM and
 * TVISOR_SKIP_KVM=1, in which case the tests are skipped.
 */
export function sandboxTest(platform: Platform, opts: { concurrent?: boolean } = {}): SandboxTestFn {
  const problem = platformProblem(platform);
  if (problem === null) {
    return (title, impl) => {
      if (opts.concurrent) test(title, impl);
      else test.serial(title, impl);
    };
  }
  if (platform === 'kvm' && process.env.TVISOR_SKIP_KVM === '1') {
    return (title, impl) => {
      test.skip(title, impl);
    };
  }
  return (title) => {
    test.serial(title, (t) => {
      t.fail(problem);
    });
  };
}

/** childPids lists the pids of pid's child processes, those named `name` only when given (from /proc). */
export function childPids(pid: number, name?: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.replace(/^.*\) /, '').split(' ');
      return fields[1] === String(pid) && (name === undefined || stat.includes(`(${name})`));
    } catch {
      return false;
    }
  }).map(Number);
}

/** A deterministic ASCII text of exactly SIZE bytes (numbered lines). */
export function textOfSize(size: number): string {
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; len < size; i++) {
    const line = `line ${i} ${'abcdefghijklmnopqrstuvwxyz'.slice(0, i % 27)}\n`;
    parts.push(line);
    len += line.length;
  }
  return parts.join('').slice(0, size);
}
