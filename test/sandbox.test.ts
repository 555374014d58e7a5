// sandbox.test.ts covers the Node API: the example, the errors a
// caller can cause, and that sandboxes leave nothing behind.
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Sandbox } from '../index.js';
import { LoadError, UsageError } from '../sentry/sandbox.js';
import { FAULT_AROUND } from '../sentry/mm/mm.js';
import { spawn } from 'node:child_process';
import { childPids, guestPath, platforms, repoRoot, runNative, sandboxTest } from './helpers.js';

/**
 * API_RUN is a program that uses the API as an application would: it runs
 * argv[3...] on platform argv[2] with a 300 ms timeout, prints the exit
 * status, closes the sandbox and lets Node end by itself.
 */
const API_RUN = `
const { Sandbox } = await import(process.argv[1]);
const sb = await Sandbox.create({ platform: process.argv[2] });
const r = await sb.run(process.argv.slice(3), { timeoutMs: 300 });
await sb.close();
console.log(r.exitCode);
`;

for (const platform of platforms) {
  /** ptest runs a test on one platform (see sandboxTest); pserial runs it alone. */
  const ptest = sandboxTest(platform, { concurrent: true });
  const pserial = sandboxTest(platform);

  ptest(`${platform}: the README example: uname -m in a 256M sandbox`, async (t) => {
    const sb = await Sandbox.create({ platform, memory: '256M' });
    const r = await sb.run(['/bin/busybox', 'uname', '-m'], { stdin: '', timeoutMs: 5000 });
    await sb.close();
    t.is(r.exitCode, 0);
    t.is(r.stdout, 'x86_64\n');
    t.is(r.signal, null);
    t.false(r.timedOut);
  });

  ptest(`${platform}: one sandbox runs several programs, one after another and at once`, async (t) => {
    const sb = await Sandbox.create({ platform, memory: '128M' });
    const first = await sb.run(['/bin/busybox', 'echo', 'one']);
    const [a, b] = await Promise.all([sb.run(['/bin/busybox', 'seq', '3']), sb.run([guestPath('hello')])]);
    await sb.close();
    t.deepEqual([first.stdout, a.stdout, b.stdout], ['one\n', '1\n2\n3\n', 'hello\n']);
  });

  ptest(`${platform}: a run reports how many system calls and faults the program made`, async (t) => {
    const sb = await Sandbox.create({ platform, memory: '512M' });
    const hello = await sb.run([guestPath('hello')]);
    const big = await sb.run([guestPath('bigalloc')]);
    await sb.close();
    // musl's hello: arch_prctl, set_tid_address, ioctl (is stdout a tty?), writev, exit_group.
    t.is(hello.stats.syscalls, 5, JSON.stringify(hello.stats));
    // 65,536 pages touched, mapped FAULT_AROUND at a time on each fault.
    t.true(big.stats.faults >= 65536 / FAULT_AROUND, JSON.stringify(big.stats));
  });

  ptest(`${platform}: programs that cannot be loaded reject with LoadError and a clear message`, async (t) => {
    const sb = await Sandbox.create({ platform, memory: '64M' });
    const messages = [];
    for (const p of ['/no/such', '/etc', guestPath('notelf'), guestPath('elf32'), guestPath('badinterp')]) {
      const err = await t.throwsAsync(sb.run([p]), { instanceOf: LoadError });
      messages.push(err?.message.replace(/^\S*\//, ''));
    }
    await sb.close();
    t.deepEqual(messages, [
      'such: no such file or directory',
      'etc: is a directory',
      'notelf: not an ELF executable',
      'elf32: is a 32-bit program; only x86-64 programs are supported',
      'badinterp: its interpreter /no/such/ld.so: no such file or directory',
    ]);
  });

  ptest(`${platform}: bad options reject with UsageError`, async (t) => {
    await t.throwsAsync(Sandbox.create({ platform, memory: 'lots' }), { instanceOf: UsageError, message: 'invalid memory size: lots (use a number of bytes or a size like 256M or 2G)' });
    await t.throwsAsync(Sandbox.create({ platform, memory: '1M' }), { instanceOf: UsageError, message: 'memory must be at least 16M, not 1M' });
    const sb = await Sandbox.create({ platform, memory: '64M' });
    await t.throwsAsync(sb.run([]), { instanceOf: UsageError, message: 'no program given' });
    await t.throwsAsync(sb.run(['/bin/busybox'], { env: ['NOEQUALS'] }), { instanceOf: UsageError });
    await sb.close();
    await t.throwsAsync(sb.run(['/bin/busybox', 'true']), { instanceOf: UsageError, message: 'the sandbox is closed' });
  });

  ptest(`${platform}: kill() sends a signal to the running program`, async (t) => {
    const sb = await Sandbox.create({ platform, memory: '64M' });
    const run = sb.run([guestPath('spin')]);
    setImmediate(() => sb.kill('SIGTERM'));
    const r = await run;
    await sb.close();
    t.deepEqual([r.exitCode, r.signal], [143, 'SIGTERM']);
  });

  function openFds(): string[] {
    return readdirSync('/proc/self/fd').map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    }).filter((l) => l !== '');
  }

  const count = (list: string[], what: string) => list.filter((l) => l.includes(what)).length;

  // Serial: ava runs serial tests before the others, so no other sandbox is open.
  pserial(`${platform}: creating and closing 200 sandboxes leaves no descriptors, VMs, Gofers or memory behind`, async (t) => {
    // Warm up: the first sandbox opens /dev/kvm for the process, once.
    const warm = await Sandbox.create({ platform, memory: '64M' });
    await warm.run([guestPath('hello')]);
    await warm.close();
    const fdsBefore = openFds();
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const rssBefore = process.memoryUsage().rss;
    // 200, not more: each sandbox starts a Gofer process (about 50 ms).
    for (let i = 0; i < 200; i++) {
      const sb = await Sandbox.create({ platform, memory: '64M' });
      if (i % 10 === 0) {
        const r = await sb.run([guestPath('hello')]);
        if (r.stdout !== 'hello\n') t.fail(`run ${i}: ${JSON.stringify(r)}`);
      }
      await sb.close();
    }
    gc?.();
    const fdsAfter = openFds();
    t.is(fdsAfter.length, fdsBefore.length, `before: ${fdsBefore.join(' ')}\nafter: ${fdsAfter.join(' ')}`);
    t.is(count(fdsAfter, 'kvm-vm'), 0);
    t.is(count(fdsAfter, 'kvm-vcpu'), 0);
    // Only the spare Gofer is left, as before.
    t.true(childPids(process.pid, 'node').length <= 1);
    const maps = readFileSync('/proc/self/maps', 'utf8');
    t.is(count(maps.split('\n'), 'tvisor-memory'), 0, 'no memory file stays mapped');
    const growth = process.memoryUsage().rss - rssBefore;
    t.true(growth < 64 << 20, `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
  });

  /** patchedHello writes a copy of the hello guest with its writable segment's memsz set, and returns its path. */
  function patchedHello(memsz: bigint): string {
    const b = Buffer.from(readFileSync(guestPath('hello')));
    const phoff = Number(b.readBigUInt64LE(32));
    for (let i = 0; i < b.readUInt16LE(56); i++) {
      const o = phoff + i * 56;
      if (b.readUInt32LE(o) === 1 && (b.readUInt32LE(o + 4) & 2) !== 0) b.writeBigUInt64LE(memsz, o + 40);
    }
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tvisor-')), 'big-bss');
    writeFileSync(file, b, { mode: 0o755 });
    return file;
  }

  ptest(`${platform}: a program killed in a 1 h select leaves no timer behind: the application ends at once`, async (t) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', API_RUN, path.join(repoRoot, 'dist', 'index.js'), platform,
      guestPath('pipe_poll'), 'select-long'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    // A timer left behind would keep the application for the hour: it is killed after a minute instead.
    const lingering = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [status, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (code, sig) => resolve([code, sig])));
    clearTimeout(lingering);
    t.deepEqual([status, signal, stdout], [0, null, '137\n']);
  });

  ptest(`${platform}: a program whose data does not fit the memory limit is refused, not run`, async (t) => {
    const sb = await Sandbox.create({ platform, memory: '64M' });
    const file = patchedHello(1n << 30n);
    await t.throwsAsync(sb.run([file]), { instanceOf: LoadError, message: `${file}: needs more memory than the sandbox allows` });
    const r = await sb.run([guestPath('hello')]);
    await sb.close();
    t.is(r.stdout, 'hello\n');
  });

  ptest(`${platform}: an argument list over Linux's limit is refused with "argument list too long"`, async (t) => {
    const sb = await Sandbox.create({ platform, memory: '64M' });
    const hello = guestPath('hello');
    await t.throwsAsync(sb.run([hello, 'a'.repeat(3 << 20)]), { instanceOf: LoadError, message: `${hello}: argument list too long` });
    await sb.close();
  });

  ptest(`${platform}: a truncated ELF file is refused`, async (t) => {
    const sb = await Sandbox.create({ platform, memory: '64M' });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tvisor-')), 'truncated');
    writeFileSync(file, readFileSync(guestPath('hello')).subarray(0, 100), { mode: 0o755 });
    await t.throwsAsync(sb.run([file]), { instanceOf: LoadError, message: `${file}: malformed program headers` });
    await sb.close();
  });

  ptest(`${platform}: clock_gettime through the vDSO agrees with the host's clocks within a millisecond, with no system call`, async (t) => {
    const sb = await Sandbox.create({ platform, memory: '64M' });
    const monoBefore = process.hrtime.bigint();
    const realBefore = BigInt(Date.now()) * 1000000n;
    const r = await sb.run([guestPath('clock')]);
    const monoAfter = process.hrtime.bigint();
    const realAfter = BigInt(Date.now() + 1) * 1000000n;
    await sb.close();
    const lines = r.stdout.split('\n');
    const real = BigInt(lines[0].replace('realtime ', ''));
    const mono = BigInt(lines[1].replace('monotonic ', ''));
    const ms = 1000000n;
    t.true(mono >= monoBefore - ms && mono <= monoAfter + ms, `monotonic ${mono} not in [${monoBefore}, ${monoAfter}]`);
    t.true(real >= realBefore - ms && real <= realAfter + ms, `realtime ${real} not in [${realBefore}, ${realAfter}]`);
    t.deepEqual(lines.slice(2), ['gettimeofday agrees: yes', 'time agrees: yes', 'monotonic went back: 0 times', '']);
    // 100,004 clock readings, and only the program's few other calls reached the Sentry.
    t.true(r.stats.syscalls < 20, JSON.stringify(r.stats));
  });

  ptest(`${platform}: a program never sees the vector registers another program of the sandbox left`, async (t) => {
    const sb = await Sandbox.create({ platform, memory: '64M' });
    const native = await runNative([guestPath('vecleak')]);
    const first = await sb.run([guestPath('vecleak'), 'set']);
    const second = await sb.run([guestPath('vecleak')]);
    await sb.close();
    const unsupported = native.stdout === 'avx512: unsupported\n';
    t.is(first.stdout, unsupported ? native.stdout : 'pattern left\n');
    t.is(second.stdout, unsupported ? native.stdout : 'zmm16-31 and k1-7 at start: zero\n');
    t.is(second.stdout, native.stdout);
  });

  pserial(`${platform}: one sandbox runs 4,500 programs, more than KVM has vCPU ids`, async (t) => {
    const sb = await Sandbox.create({ platform, memory: '64M' });
    let ok = 0;
    for (let i = 0; i < 4500; i++) {
      const r = await sb.run([guestPath('hello')]);
      if (r.stdout === 'hello\n' && r.exitCode === 0) ok++;
    }
    await sb.close();
    t.is(ok, 4500);
  });

  ptest(`${platform}: int $0x80 (a 32-bit system call) ends with SIGSEGV, as on a kernel without IA32 emulation`, async (t) => {
    const sb = await Sandbox.create({ platform, memory: '64M' });
    const r = await sb.run([guestPath('int80')]);
    await sb.close();
    t.deepEqual([r.exitCode, r.signal, r.stdout], [139, 'SIGSEGV', 'calling\n']);
  });
}

/** stubPids lists this process's ptrace stubs. */
const stubPids = () => childPids(process.pid, 'ptrace-stub');

test.serial('ptrace: the stub holds only its own page and the memory file, under a seccomp filter', async (t) => {
  const sb = await Sandbox.create({ platform: 'ptrace', memory: '64M' });
  const run = sb.run([guestPath('spin')]);
  let pids: number[] = [];
  while (pids.length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    pids = stubPids();
  }
  const status = readFileSync(`/proc/${pids[0]}/status`, 'utf8');
  const maps = readFileSync(`/proc/${pids[0]}/maps`, 'utf8').trim().split('\n');
  sb.kill('SIGKILL');
  const r = await run;
  await sb.close();
  t.is(r.signal, 'SIGKILL');
  t.regex(status, /^NoNewPrivs:\t1$/m);
  t.regex(status, /^Seccomp:\t2$/m);
  const foreign = maps.filter((l) => !l.includes('/memfd:tvisor-memory') && !l.includes('/ptrace-stub') && !l.includes('[vsyscall]'));
  t.deepEqual(foreign, []);
  t.deepEqual(stubPids(), [], 'the stub is gone');
});
