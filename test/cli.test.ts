// cli.test.ts runs the tvisor command as a user would: a real process,
// real stdio, exit statuses and the one-line errors.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { childPids, guestPath, platforms, repoRoot, sandboxTest } from './helpers.js';

/** kvmTest runs a test that needs /dev/kvm (see sandboxTest); plain `test` needs none. */
const kvmTest = sandboxTest('kvm', { concurrent: true });

/** CLI is the package's bin: the bundled command line. */
const CLI = path.join(repoRoot, 'dist', 'cli', 'tvisor.cjs');

interface CliResult { status: number | null; signal: string | null; stdout: string; stderr: string }

/** tvisor runs the CLI; onStdout sees stdout as it arrives and may act on the child. */
function tvisor(args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv; onStdout?: (text: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {});
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

for (const platform of platforms) {
  /** ptest runs a test on one platform (see sandboxTest). */
  const ptest = sandboxTest(platform, { concurrent: true });

  ptest(`${platform}: busybox echo hello prints hello and exits 0`, async (t) => {
    const r = await tvisor(['run', `--platform=${platform}`, '--', '/bin/busybox', 'echo', 'hello']);
    t.deepEqual(r, { status: 0, signal: null, stdout: 'hello\n', stderr: '' });
  });

  ptest(`${platform}: the exit status is the program's`, async (t) => {
    const r = await tvisor(['run', `--platform=${platform}`, '--', '/bin/busybox', 'sh', '-c', 'exit 3']);
    t.is(r.status, 3);
    t.is(r.stderr, '');
  });

  ptest(`${platform}: stdin passes through: sha256sum gives the host's digest`, async (t) => {
    const r = await tvisor(['run', `--platform=${platform}`, '--', '/bin/busybox', 'sha256sum'], { stdin: 'abc' });
    t.is(r.status, 0);
    t.is(r.stdout, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -\n');
  });

  ptest(`${platform}: a program name without a slash is searched in the sandbox PATH`, async (t) => {
    const r = await tvisor(['run', `--platform=${platform}`, '--', 'busybox', 'uname', '-m']);
    t.deepEqual([r.status, r.stdout], [0, 'x86_64\n']);
  });

  ptest(`${platform}: --env sets the environment, which holds PATH and nothing of the host's`, async (t) => {
    const r = await tvisor(['run', `--platform=${platform}`, '--env', 'FOO=bar', '--env', 'X=1=2', '--', '/bin/busybox', 'env'], { env: { SECRET: 'host' } });
    t.is(r.status, 0);
    t.is(r.stdout, 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nFOO=bar\nX=1=2\n');
  });

  ptest(`${platform}: --strace prints every system call as strace does, then the program's output`, async (t) => {
    const r = await tvisor(['run', `--platform=${platform}`, '--strace', '--', guestPath('hello')]);
    t.is(r.status, 0);
    t.is(r.stdout, 'hello\n');
    // Stack addresses depend on the length of argv; the rest is exact.
    const lines = r.stderr.trimEnd().split('\n').map((l) => l.replace(/0x7fff[0-9a-f]{8}/g, '0xSTACK'));
    t.deepEqual(lines, [
      'arch_prctl(ARCH_SET_FS, 0x405658) = 0',
      'set_tid_address(0x405790) = 1',
      'ioctl(1, TIOCGWINSZ, 0xSTACK) = -1 ENOTTY (Inappropriate ioctl for device)',
      'writev(1, [{iov_base="", iov_len=0}, {iov_base="hello\\n", iov_len=6}], 2) = 6',
      'exit_group(0) = ?',
    ]);
  });

  ptest(`${platform}: --strace shows failed calls with their errno name`, async (t) => {
    const r = await tvisor(['run', `--platform=${platform}`, '--strace', '--', guestPath('unimpl')]);
    t.is(r.stdout, 'acct: ENOSYS\nacct: ENOSYS\n');
    t.is(r.stderr.split('\n').filter((l) => l === 'acct() = -1 ENOSYS (Function not implemented)').length, 2, r.stderr);
  });

  ptest(`${platform}: --debug-log captures the Sentry's log; an unimplemented call warns once, by name`, async (t) => {
    const log = path.join(mkdtempSync(path.join(tmpdir(), 'tvisor-')), 'sentry.log');
    const r = await tvisor(['run', `--platform=${platform}`, '--debug-log', log, '--', guestPath('unimpl')]);
    t.is(r.status, 0);
    t.is(r.stdout, 'acct: ENOSYS\nacct: ENOSYS\n');
    t.is(r.stderr, '');
    const text = readFileSync(log, 'utf8');
    t.is(text.split('\n').filter((l) => l.includes('unimplemented system call acct (163)')).length, 1, text);
    t.regex(text, /info run \[".*unimpl"\]/);
    t.regex(text, /info exit 0; \d+ syscalls \(\d+ exitless, \d+ by exit\), \d+ call sites patched, \d+ faults/);
  });

  ptest(`${platform}: a segfault ends the run with 139 and "killed by signal SIGSEGV"`, async (t) => {
    const r = await tvisor(['run', `--platform=${platform}`, '--', guestPath('fault'), 'segv']);
    t.deepEqual(r, { status: 139, signal: null, stdout: 'fault segv\n', stderr: 'tvisor: killed by signal SIGSEGV\n' });
  });

  ptest(`${platform}: invalid opcode, divide error and abort() end with 132, 136 and 134`, async (t) => {
    const statuses = [];
    for (const kind of ['ill', 'fpe', 'abort']) statuses.push((await tvisor(['run', `--platform=${platform}`, '--', guestPath('fault'), kind])).status);
    t.deepEqual(statuses, [132, 136, 134]);
  });

  ptest(`${platform}: --timeout kills a spinning program with SIGKILL`, async (t) => {
    const r = await tvisor(['run', `--platform=${platform}`, '--timeout', '500ms', '--', guestPath('spin')]);
    t.deepEqual(r, { status: 137, signal: null, stdout: '', stderr: 'tvisor: timed out after 500ms; killed by signal SIGKILL\n' });
  });

  ptest(`${platform}: Ctrl-C (SIGINT to tvisor) ends a spinning program with 130`, async (t) => {
    let sent = false;
    const r = await tvisor(['run', `--platform=${platform}`, '--', '/bin/busybox', 'sh', '-c', 'echo ready; while :; do :; done'], {
      onStdout: (out, child) => {
        if (!sent && out.includes('ready\n')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    t.deepEqual(r, { status: 130, signal: null, stdout: 'ready\n', stderr: '' });
  });

  ptest(`${platform}: on a terminal, isatty, the window size and the terminal modes are the real terminal's`, async (t) => {
    const native = await underPty(guestPath('tty'));
    const sandboxed = await underPty(`${process.execPath} ${CLI} run --platform=${platform} -- ${guestPath('tty')}`);
    const line = (fd: number) => `fd ${fd}: isatty 1, 100x40, icanon 1 echo 1\r\n`;
    t.is(native, line(0) + line(1) + line(2));
    t.is(sandboxed, native);
  });

  ptest(`${platform}: off a terminal, the terminal ioctls fail with ENOTTY`, async (t) => {
    const r = await tvisor(['run', `--platform=${platform}`, '--', guestPath('tty')]);
    const line = (fd: number) => `fd ${fd}: isatty 0, TIOCGWINSZ ENOTTY, TCGETS ENOTTY\n`;
    t.deepEqual([r.status, r.stdout], [0, line(0) + line(1) + line(2)]);
  });

  ptest(`${platform}: a program writing to a closed pipe gets EPIPE and SIGPIPE (141), as \`seq | head\` does`, async (t) => {
    let closed = false;
    const r = await tvisor(['run', `--platform=${platform}`, '--', '/bin/busybox', 'seq', '1', '10000000'], {
      onStdout: (_out, child) => {
        if (!closed) {
          closed = true;
          child.stdout?.destroy();
        }
      },
    });
    t.deepEqual([r.status, r.signal, r.stderr], [141, null, '']);
  });
}

const errors: [string, string[], number, string][] = [
  ['a missing program', ['run', '--', '/no/such/program'], 127, 'tvisor: /no/such/program: no such file or directory\n'],
  ['a command not in PATH', ['run', '--', 'no-such-command'], 127, 'tvisor: no-such-command: command not found\n'],
  ['a directory', ['run', '--', '/etc'], 126, 'tvisor: /etc: is a directory\n'],
  ['a bad flag', ['run', '--bogus', '--', '/bin/true'], 2, ''],
  ['a bad memory size', ['run', '--memory', '12Q', '--', '/bin/busybox', 'true'], 2, 'tvisor: invalid memory size: 12Q (use a number of bytes or a size like 256M or 2G)\n'],
  ['a memory size too large', ['run', '--memory', '64G', '--', '/bin/busybox', 'true'], 2, 'tvisor: memory must be at most 3G on the kvm platform, not 64G\n'],
  ['a bad duration', ['run', '--timeout', 'soon', '--', '/bin/busybox', 'true'], 2, 'tvisor: invalid duration "soon" (use 500ms, 10s, 2m, 1h or seconds)\n'],
  ['a debug log that cannot be written', ['run', '--debug-log', '/no/such/dir/log', '--', '/bin/busybox', 'true'], 2, 'tvisor: cannot write the debug log /no/such/dir/log: ENOENT\n'],
  ['a bad --env', ['run', '--env', 'NOEQUALS', '--', '/bin/busybox', 'true'], 2, 'tvisor: invalid --env "NOEQUALS" (use K=V)\n'],
  ['an unknown platform', ['run', '--platform=xen', '--', '/bin/busybox', 'true'], 2, 'tvisor: unknown platform "xen" (use kvm or ptrace)\n'],
  ['no program', ['run'], 2, 'tvisor: no program given (usage: tvisor run [options] -- PROGRAM [ARGS...])\n'],
  ['an unknown command', ['fly'], 2, 'tvisor: unknown command "fly" (see tvisor --help)\n'],
];

for (const [what, args, status, stderr] of errors) {
  kvmTest(`${what}: one line, exit ${status}, no stack trace`, async (t) => {
    const r = await tvisor(args);
    t.is(r.status, status);
    t.is(r.stdout, '');
    if (stderr) t.is(r.stderr, stderr);
    t.is(r.stderr.split('\n').length, 2, r.stderr);
    t.false(r.stderr.includes('    at '));
  });
}

kvmTest('a file without execute permission is refused with 126', async (t) => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tvisor-')), 'data');
  writeFileSync(file, 'not a program', { mode: 0o644 });
  const r = await tvisor(['run', '--', file]);
  t.deepEqual([r.status, r.stderr], [126, `tvisor: ${file}: permission denied (not executable)\n`]);
});

kvmTest('a non-ELF and a 32-bit program are refused with 126, a missing interpreter with 127, and each says why', async (t) => {
  const out = [];
  for (const name of ['notelf', 'elf32', 'badinterp']) {
    const r = await tvisor(['run', '--', guestPath(name)]);
    out.push([r.status, r.stderr.replace(guestPath(name), name)]);
  }
  t.deepEqual(out, [
    [126, 'tvisor: notelf: not an ELF executable\n'],
    [126, 'tvisor: elf32: is a 32-bit program; only x86-64 programs are supported\n'],
    [127, 'tvisor: badinterp: its interpreter /no/such/ld.so: no such file or directory\n'],
  ]);
});

test('without a usable KVM device it says so and names --platform=ptrace', async (t) => {
  const r = await tvisor(['run', '--', '/bin/busybox', 'true'], { env: { TVISOR_KVM_DEVICE: '/dev/no-kvm-here' } });
  t.deepEqual(r, { status: 125, signal: null, stdout: '', stderr: 'tvisor: /dev/no-kvm-here does not exist; use --platform=ptrace to run without KVM\n' });
});

kvmTest('kvm is the default platform', async (t) => {
  const log = path.join(mkdtempSync(path.join(tmpdir(), 'tvisor-')), 'sentry.log');
  const r = await tvisor(['run', '--debug-log', log, '--', '/bin/busybox', 'true']);
  t.is(r.status, 0);
  t.regex(readFileSync(log, 'utf8'), / on kvm\n/);
});

test('ptrace: where ptrace is not permitted (a seccomp policy), it says so and names --platform=kvm', async (t) => {
  const r = await new Promise<CliResult>((resolve, reject) => {
    const child = spawn(guestPath('no_ptrace'), [process.execPath, CLI, 'run', '--platform=ptrace', '--', '/bin/busybox', 'true'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
  t.deepEqual(r, {
    status: 125, signal: null, stdout: '',
    stderr: 'tvisor: ptrace is not permitted here (ptrace: Operation not permitted; a seccomp policy or kernel.yama.ptrace_scope may forbid it); use --platform=kvm\n',
  });
});

test('ptrace: a stub killed from outside ends the run with a clear message and leaves no zombie', async (t) => {
  let killed = 0;
  let cliPid = 0;
  const r = await tvisor(['run', '--platform=ptrace', '--', '/bin/busybox', 'sh', '-c', 'echo ready; while :; do :; done'], {
    onStdout: (out, child) => {
      cliPid = child.pid ?? 0;
      if (killed === 0 && out.includes('ready\n')) {
        killed = childPids(cliPid, 'ptrace-stub')[0];
        process.kill(killed, 'SIGKILL');
      }
    },
  });
  t.true(killed > 0);
  t.is(r.status, 125);
  t.is(r.stderr, 'tvisor: the sandbox failed: the ptrace stub was killed by signal 9\n');
  t.false(existsSync(`/proc/${killed}`), 'the stub was reaped');
});

test('tvisor --help and tvisor run --help describe every flag', async (t) => {
  const top = await tvisor(['--help']);
  const run = await tvisor(['run', '--help']);
  t.is(top.status, 0);
  t.is(run.status, 0);
  t.regex(top.stdout, /run \[options\] -- PROGRAM \[ARGS\.\.\.\]/);
  for (const flag of ['--platform', '--memory', '--timeout', '--env', '--strace', '--debug-log', '--help']) t.true(run.stdout.includes(flag), flag);
});

/** underPty runs a shell command on a fresh 100x40 pseudo-terminal (script(1)) and returns what it printed. */
function underPty(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', `stty rows 40 cols 100; ${command}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
    child.stdin.end();
  });
}

/** cpuSeconds reads a process's user and system CPU time from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

for (const platform of platforms) {
  const ptest = sandboxTest(platform, { concurrent: true });
  ptest(`${platform}: an idle sandbox (a program in nanosleep, then blocked on stdin) uses almost no CPU`, async (t) => {
    let cpu = -1;
    const r = await new Promise<CliResult>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'run', `--platform=${platform}`, '--', guestPath('idle')], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let start = 0;
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout === 'ready\n') start = cpuSeconds(child.pid!);
        if (stdout === 'ready\nslept\n') {
          // Leave the program blocked on stdin for a second, then measure and answer.
          setTimeout(() => {
            cpu = cpuSeconds(child.pid!) - start;
            child.stdin.end('hello\n');
          }, 1000);
        }
      });
      child.on('error', reject);
      child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr: '' }));
    });
    t.deepEqual([r.status, r.stdout], [0, 'ready\nslept\ngot hello\n']);
    // Two idle seconds: a busy-waiting Sentry would spend about 2 s of CPU.
    t.true(cpu >= 0 && cpu < 0.2, `the idle sandbox used ${cpu} s of CPU in 2 s`);
  });
}
