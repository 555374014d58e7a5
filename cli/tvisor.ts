#!/usr/bin/env node
// tvisor is the command line: argument parsing over the Sandbox API and
// nothing more. Errors a user can cause print one line and exit non-zero.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../sentry/native/paths.js';
import { prestartGofer, setKeepSpare } from '../gofer/client.js';
import { Sandbox, KvmUnavailableError, LoadError, PlatformError, PtraceUnavailableError, UsageError, DEFAULT_PATH, DEFAULT_PIDS_LIMIT, DEFAULT_MAX_CPUS, MAX_CPUS, parseSize } from '../sentry/sandbox.js';

const HELP = `Usage: tvisor <command> [options]

Runs untrusted Linux programs in a sandbox: a KVM micro-VM with no guest
kernel, whose system calls are served by tvisor's Sentry.

Commands:
  run [options] -- PROGRAM [ARGS...]   run a program in a new sandbox
  help [run]                           show this help, or run's

Options:
  -h, --help      show help
  -v, --version   print the version
`;

const RUN_HELP = `Usage: tvisor run [options] -- PROGRAM [ARGS...]

Runs PROGRAM (a static x86-64 Linux executable, searched in the sandbox's
PATH when it has no slash) in a new sandbox. stdin, stdout and stderr pass
through; the exit status is the program's, or 128+N when signal N killed it.

Options:
  --platform=kvm|ptrace  where the program runs: kvm (the default), a KVM
                         micro-VM; or ptrace, a traced host process that
                         needs no /dev/kvm
  --memory SIZE          the most memory the program may commit, e.g. 256M,
                         2G (default 2G, at most 3G); past it, allocation
                         fails with ENOMEM inside the program
  --timeout DURATION     kill the program (SIGKILL) after DURATION: 500ms,
                         10s, 2m, 1h, or seconds
  --env K=V              set an environment variable (repeatable); the
                         program sees only PATH=${DEFAULT_PATH}
                         and these
  --strace               print every system call to stderr, as strace does
  --debug-log FILE       write the Sentry's log to FILE at debug level
  --root DIR             the host folder the sandbox sees as / (default: the
                         host's /), read-only; the program's changes go to a
                         private overlay and vanish with the sandbox
  --mount SRC:DST[:ro|rw]
                         mount host folder SRC at DST in the sandbox
                         (repeatable); read-only unless :rw, when the
                         program's writes reach the host
  --pids-limit N         the most processes and threads the sandbox may hold
                         at once (default ${DEFAULT_PIDS_LIMIT}); past it, fork fails with EAGAIN
  --cpus N               the most threads that run at once, and the CPUs
                         programs see (default: the host's, at most ${DEFAULT_MAX_CPUS})
  --no-patch             leave the program's code unpatched: on kvm, every
                         system call then exits the VM (slower; for comparison)
  -h, --help             show this help

Exit status: the program's; 125 when tvisor itself cannot run (no usable
/dev/kvm, ptrace not permitted) or the sandbox fails; 126 when the program cannot be executed (not ELF, 32-bit,
dynamically linked, a directory, no permission); 127 when it is not found;
2 for a bad option.
`;

class CliError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** parseDuration reads '500ms', '10s', '2m', '1h' or a number of seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new CliError(`invalid duration "${text}" (use 500ms, 10s, 2m, 1h or seconds)`, 2);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return n * unit;
}

/** parseMount reads --mount SRC:DST[:ro|rw] (read-only unless :rw). */
export function parseMount(text: string): { source: string; target: string; writable: boolean } {
  const parts = text.split(':');
  const mode = parts.length === 3 ? parts[2] : 'ro';
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1] || (mode !== 'ro' && mode !== 'rw')) {
    throw new CliError(`invalid --mount "${text}" (use SRC:DST, SRC:DST:ro or SRC:DST:rw)`, 2);
  }
  return { source: parts[0], target: parts[1], writable: mode === 'rw' };
}

function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
  return `tvisor ${pkg.version}`;
}

async function run(args: string[]): Promise<number> {
  // The Gofer is a Node process of its own: start it now, so that it boots
  // while this one parses, opens /dev/kvm and loads the program; and keep
  // no spare, since this process runs one sandbox.
  setKeepSpare(false);
  prestartGofer();
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        platform: { type: 'string', default: 'kvm' },
        memory: { type: 'string' },
        timeout: { type: 'string' },
        env: { type: 'string', multiple: true, default: [] },
        strace: { type: 'boolean', default: false },
        'debug-log': { type: 'string' },
        'no-patch': { type: 'boolean', default: false },
        'pids-limit': { type: 'string' },
        cpus: { type: 'string' },
        root: { type: 'string' },
        mount: { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message.split('\n')[0]} (see tvisor run --help)`, 2);
  }
  const o = parsed.values;
  if (o.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  const argv = parsed.positionals;
  if (argv.length === 0) throw new CliError('no program given (usage: tvisor run [options] -- PROGRAM [ARGS...])', 2);
  if (o.platform !== 'kvm' && o.platform !== 'ptrace') throw new CliError(`unknown platform "${o.platform}" (use kvm or ptrace)`, 2);
  const timeoutMs = o.timeout === undefined ? undefined : parseDuration(o.timeout);
  if (o.memory !== undefined) parseSize(o.memory);
  const env = [`PATH=${DEFAULT_PATH}`];
  for (const e of o.env) {
    const eq = e.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid --env "${e}" (use K=V)`, 2);
    const key = e.slice(0, eq + 1);
    const i = env.findIndex((x) => x.startsWith(key));
    if (i >= 0) env[i] = e;
    else env.push(e);
  }

  let pidsLimit: number | undefined;
  if (o['pids-limit'] !== undefined) {
    pidsLimit = Number(o['pids-limit']);
    if (!/^\d+$/.test(o['pids-limit']) || pidsLimit < 1) throw new CliError(`invalid --pids-limit "${o['pids-limit']}" (use a whole number of at least 1)`, 2);
  }
  let cpus: number | undefined;
  if (o.cpus !== undefined) {
    cpus = Number(o.cpus);
    if (!/^\d+$/.test(o.cpus) || cpus < 1 || cpus > MAX_CPUS) throw new CliError(`invalid --cpus "${o.cpus}" (use a whole number from 1 to ${MAX_CPUS})`, 2);
  }
  const mounts = o.mount.map(parseMount);
  const sb = await Sandbox.create({
    platform: o.platform, memory: o.memory, strace: o.strace, debugLog: o['debug-log'], noPatch: o['no-patch'], root: o.root, mounts, pidsLimit, cpus,
  });
  let interrupts = 0;
  const onSigint = () => sb.kill(++interrupts > 1 ? 'SIGKILL' : 'SIGINT');
  const onSigterm = () => sb.kill('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    const r = await sb.run(argv, { stdin: 'inherit', stdout: 'inherit', stderr: 'inherit', env, timeoutMs });
    if (r.timedOut) process.stderr.write(`tvisor: timed out after ${o.timeout}; killed by signal SIGKILL\n`);
    else if (r.signal && r.signal !== 'SIGINT' && r.signal !== 'SIGPIPE') process.stderr.write(`tvisor: killed by signal ${r.signal}\n`);
    return r.exitCode;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    await sb.close();
  }
}

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case 'run':
      return run(rest);
    case undefined:
      process.stderr.write(HELP);
      return 2;
    case 'help':
    case '-h':
    case '--help':
      process.stdout.write(rest[0] === 'run' ? RUN_HELP : HELP);
      return 0;
    case '-v':
    case '--version':
      process.stdout.write(version() + '\n');
      return 0;
    default:
      throw new CliError(`unknown command "${command}" (see tvisor --help)`, 2);
  }
}

/** exitStatus maps an error to the one line printed and the status to exit with. */
function report(err: unknown): number {
  let status = 1;
  let message = String(err);
  if (err instanceof CliError) [status, message] = [err.status, err.message];
  else if (err instanceof UsageError) [status, message] = [2, err.message];
  else if (err instanceof KvmUnavailableError || err instanceof PtraceUnavailableError) [status, message] = [125, err.message];
  else if (err instanceof PlatformError) [status, message] = [125, `the sandbox failed: ${err.message}`];
  else if (err instanceof LoadError) [status, message] = [err.errno === 2 ? 127 : 126, err.message];
  else if (err instanceof Error) [status, message] = [125, `internal error: ${err.message}`];
  process.stderr.write(`tvisor: ${message}\n`);
  return status;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (err) => process.exit(report(err)),
);
