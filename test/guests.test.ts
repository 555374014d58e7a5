// Each guest program of test/guests runs natively and in the sandbox; both
// outcomes must be identical AND equal to the exact expected outcome, so a
// test cannot pass by both sides being equally broken.

import { readFileSync } from 'node:fs';
import { Sandbox } from '../index.js';
import {
  exited,
  guestPath,
  killedBy,
  platforms,
  runBoth,
  runNative,
  runSandboxed,
  sandboxTest,
  textOfSize,
} from './helpers.js';

const ENV = ['PATH=/usr/bin:/bin'];

// The checks of syscalls.c, in order ("ok NAME" lines).
const SYSCALL_CHECKS = [
  'write', 'read', 'writev', 'readv', 'pread64', 'pwrite64', 'fstat', 'newfstatat', 'statx', 'lseek',
  'ioctl', 'poll', 'ppoll', 'fcntl', 'dup', 'dup2', 'dup3', 'close', 'brk', 'mmap', 'arch_prctl',
  'set_tid_address', 'set_robust_list', 'uname', 'getpid', 'getuid', 'getgroups', 'clock_gettime',
  'clock_getres', 'gettimeofday', 'time', 'nanosleep', 'clock_nanosleep', 'getrandom', 'prlimit64',
  'getrlimit', 'sched_getaffinity', 'sched_yield', 'getcwd', 'readlink', 'rt_sigaction', 'rt_sigprocmask',
  'sigaltstack', 'kill', 'tgkill', 'futex', 'enosys',
];
const SYSCALLS_OUT = SYSCALL_CHECKS.map((c) => `ok ${c}\n`).join('') + 'all ok\n';

// The checks of efault.c, in order.
const EFAULT_PER_POINTER = [
  'write', 'read', 'readv buffer', 'readv iovec array', 'writev buffer', 'writev iovec array', 'clock_gettime',
  'clock_getres', 'gettimeofday', 'time', 'uname', 'getrandom', 'rt_sigaction act', 'rt_sigaction oldact',
  'rt_sigprocmask set', 'rt_sigprocmask oldset', 'sigaltstack', 'nanosleep', 'clock_nanosleep', 'fstat', 'poll',
  'prlimit64', 'getrlimit', 'sched_getaffinity', 'getcwd', 'readlink buffer', 'readlink path',
  'arch_prctl ARCH_GET_FS', 'futex', 'nanosleep still works', 'pread64 on a pipe',
];
const EFAULT_OUT =
  ['low', 'kernel', 'unmapped'].flatMap((p) => EFAULT_PER_POINTER.map((c) => `ok ${c} (${p})\n`)).join('') +
  'ok uname (straddling)\n' +
  'ok clock_gettime (straddling)\n' +
  'ok getrandom returns the 8 bytes before the hole (straddling)\n' +
  'ok clock_gettime (read-only)\n' +
  'ok uname (read-only)\n' +
  'ok getrandom (read-only)\n' +
  'ok read (read-only)\n' +
  'ok write (PROT_NONE)\n' +
  'ok clock_gettime (PROT_NONE)\n' +
  'all ok\n';

const MM_CHECKS = [
  'brk', 'mmap private', 'mmap shared', 'mmap hint', 'MAP_FIXED', 'MAP_FIXED_NOREPLACE', 'munmap split',
  'mprotect', 'mremap', 'madvise', 'errors',
];
const MM_OUT = MM_CHECKS.map((c) => `ok ${c}\n`).join('') + 'all ok\n';

// The checks of pipe_poll.c, in order.
const PIPE_POLL_CHECKS = [
  'pipe2 flags', 'read and write', 'EAGAIN and full pipes', 'packet mode', 'end of file', 'EPIPE',
  'F_GETPIPE_SZ and F_SETPIPE_SZ', 'fstat and /proc/self/fd', 'ends shared by dup', 'sendfile', 'poll', 'ppoll',
  'select', 'pselect6',
];
const PIPE_POLL_OUT = PIPE_POLL_CHECKS.map((c) => `ok ${c}\n`).join('') + 'all ok\n';
// The checks of sig_deliver.c and sig_wait.c, in order.
const SIG_DELIVER_CHECKS = [
  'siginfo kill', 'siginfo tgkill', 'siginfo sigqueue', 'frame', 'registers', 'fpu', 'nesting', 'SA_NODEFER',
  'SA_RESETHAND', 'sigaltstack', 'SIGSEGV and siglongjmp', 'handler edits uc_mcontext', 'handler without SA_SIGINFO',
];
const SIG_WAIT_CHECKS = [
  'blocked signals stay pending', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigqueueinfo', 'alarm',
  'setitimer and getitimer', 'pause and SIGALRM', 'SIGALRM reaches a spinning program', 'periodic itimer',
  'nanosleep interrupted', 'SA_RESTART',
];
const checksOut = (checks: string[]) => checks.map((c) => `ok ${c}\n`).join('') + 'all ok\n';

const BIGALLOC_OUT =
  'mapped 256 MiB\n' +
  'touched 65536 pages\n' +
  'sum 8355840 ok\n' +
  'munmap ok\n' +
  'malloc 64M ok\n' +
  'all ok\n';

// vector.c: the checksums are fixed by its input arrays; which ISAs run and
// which registers are checked depends on the CPU (read from /proc/cpuinfo,
// whose flags Linux clears when the OS does not enable the state).
const cpuFlags = new Set(
  (/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').trim().split(/\s+/),
);
function vectorOut(seed: number): string {
  const avx512 = cpuFlags.has('avx512f');
  const avx2 = cpuFlags.has('avx2') && cpuFlags.has('fma');
  const regs = avx512 ? 'zmm0-31 k0-7' : cpuFlags.has('avx') ? 'ymm0-15' : 'xmm0-15';
  return (
    `seed ${seed}\n` +
    'sse2: ok checksum 8f9efefcfbc146fa\n' +
    (avx2 ? 'avx2: ok checksum 38939d9ed42504c0\n' : 'avx2: unsupported\n') +
    (avx512 ? 'avx512: ok checksum c2b2563bb4119555\n' : 'avx512: unsupported\n') +
    `registers ${regs} st0-7 mxcsr: preserved\n` +
    'all ok\n'
  );
}

for (const platform of platforms) {
  const ptest = sandboxTest(platform);

  for (const [name, desc] of [
    ['hello', 'musl static'],
    ['hello.glibc', 'glibc static'],
    ['hello.pie', 'musl static-pie'],
    ['hello.dynamic', 'glibc dynamic, the host\'s ld.so and libc'],
  ] as const) {
    ptest(`${platform}: hello (${desc})`, async (t) => {
      const { native, sandboxed } = await runBoth(platform, [guestPath(name)], { env: ENV });
      t.deepEqual(native, exited('hello\n'));
      t.deepEqual(sandboxed, native);
    });
  }

  ptest(`${platform}: a program can read its own vCPU's slot and no other, while another process runs`, async (t) => {
    const { native, sandboxed } = await runBoth(platform, [guestPath('slots')], { env: ENV });
    t.deepEqual(native, exited('readable slots: 0\n'));
    // On kvm the program's own slot is user memory (the exitless calls' mailbox); ptrace has none.
    t.deepEqual(sandboxed, exited(`readable slots: ${platform === 'kvm' ? 1 : 0}\n`));
  });

  for (const [name, desc] of [
    ['syscalls', 'musl'],
    ['syscalls.glibc', 'glibc'],
  ] as const) {
    ptest(`${platform}: syscalls (${desc})`, async (t) => {
      const { native, sandboxed } = await runBoth(platform, [guestPath(name)], { env: ENV });
      t.deepEqual(native, exited(SYSCALLS_OUT));
      t.deepEqual(sandboxed, native);
    });
  }

  for (const [name, checks] of [
    ['sig_deliver', SIG_DELIVER_CHECKS],
    ['sig_deliver.glibc', SIG_DELIVER_CHECKS],
    ['sig_wait', SIG_WAIT_CHECKS],
    ['sig_wait.glibc', SIG_WAIT_CHECKS],
  ] as const) {
    ptest(`${platform}: ${name}: signal handlers, frames, waits, timers and restarts`, async (t) => {
      const { native, sandboxed } = await runBoth(platform, [guestPath(name)], { env: ENV });
      t.deepEqual(native, exited(checksOut([...checks])));
      t.deepEqual(sandboxed, native);
    });
  }

  for (const how of ['badframe', 'nostack']) {
    ptest(`${platform}: sig_deliver ${how}: a frame that cannot be read or written ends with SIGSEGV`, async (t) => {
      const { native, sandboxed } = await runBoth(platform, [guestPath('sig_deliver'), how], { env: ENV });
      t.deepEqual(native, killedBy('SIGSEGV', `dying by ${how}\n`));
      t.deepEqual(sandboxed, native);
    });
  }

  ptest(`${platform}: efault`, async (t) => {
    // read(2) needs bytes in the pipe to attempt the copy that faults.
    const { native, sandboxed } = await runBoth(platform, [guestPath('efault')], { env: ENV, stdin: 'data\n' });
    t.deepEqual(native, exited(EFAULT_OUT));
    t.deepEqual(sandboxed, native);
  });

  ptest(`${platform}: vector`, async (t) => {
    const { native, sandboxed } = await runBoth(platform, [guestPath('vector')], { env: ENV });
    t.deepEqual(native, exited(vectorOut(1)));
    t.deepEqual(sandboxed, native);
  });

  ptest(`${platform}: vector, two sandboxes at once with different seeds`, async (t) => {
    const argv = (seed: number) => [guestPath('vector'), String(seed)];
    const native11 = await runNative(argv(11), { env: ENV });
    const native12 = await runNative(argv(12), { env: ENV });
    t.deepEqual(native11, exited(vectorOut(11)));
    t.deepEqual(native12, exited(vectorOut(12)));
    const [s11, s12] = await Promise.all([
      runSandboxed(argv(11), { platform, env: ENV }),
      runSandboxed(argv(12), { platform, env: ENV }),
    ]);
    t.deepEqual(s11, native11);
    t.deepEqual(s12, native12);
  });

  ptest(`${platform}: bigalloc`, async (t) => {
    const { native, sandboxed } = await runBoth(platform, [guestPath('bigalloc')], { env: ENV, memory: '512M' });
    t.deepEqual(native, exited(BIGALLOC_OUT));
    t.deepEqual(sandboxed, native);
  });

  ptest(`${platform}: deepstack`, async (t) => {
    const { native, sandboxed } = await runBoth(platform, [guestPath('deepstack')], { env: ENV });
    // The depth depends only on the compiled frame size.
    t.regex(native.stdout, /^depth \d+\nstack used >= 7 MiB: yes\nall ok\n$/);
    const depth = Number(/^depth (\d+)$/m.exec(native.stdout)?.[1]);
    // Frames are a little over 4000 bytes and the recursion stops at 7 MiB.
    t.true(depth > 1000 && depth <= Math.ceil((7 * 1024 * 1024) / 4000), `depth ${depth}`);
    t.deepEqual(native, exited(native.stdout));
    t.deepEqual(sandboxed, native);
  });

  ptest(`${platform}: mm`, async (t) => {
    const { native, sandboxed } = await runBoth(platform, [guestPath('mm')], { env: ENV });
    t.deepEqual(native, exited(MM_OUT));
    t.deepEqual(sandboxed, native);
  });

  ptest(`${platform}: args, environment and auxv`, async (t) => {
    const prog = guestPath('args');
    const argv = [prog, 'one', 'two words', '', 'ünï'];
    const env = ['PATH=/usr/bin:/bin', 'FOO=bar'];
    const { native, sandboxed } = await runBoth(platform, argv, { env });
    const expected =
      `argc ${argv.length}\n` +
      argv.map((a, i) => `argv[${i}] ${a}\n`).join('') +
      env.map((e, i) => `envp[${i}] ${e}\n`).join('') +
      `envc ${env.length}\n` +
      'AT_RANDOM present: yes\n' +
      'AT_RANDOM not all zero: yes\n' +
      'AT_PAGESZ 4096\n' +
      'AT_EXECFN ends with /args: yes\n' +
      'AT_EXECFN equals argv[0]: yes\n' +
      'AT_PHNUM > 0: yes\n' +
      'AT_PHDR != 0: yes\n' +
      'AT_ENTRY != 0: yes\n' +
      'AT_SECURE 0\n' +
      'all ok\n';
    t.deepEqual(native, exited(expected));
    t.deepEqual(sandboxed, native);
  });

  ptest(`${platform}: echo_stdin copies 1 MiB of stdin`, async (t) => {
    const input = textOfSize(1024 * 1024);
    const { native, sandboxed } = await runBoth(platform, [guestPath('echo_stdin')], { env: ENV, stdin: input });
    t.true(native.stdout === input, 'native stdout differs from stdin');
    t.deepEqual(native, exited(input, 0, 'bytes 1048576\n'));
    t.true(sandboxed.stdout === input, 'sandboxed stdout differs from stdin');
    t.deepEqual(sandboxed, native);
  });

  ptest(`${platform}: killself dies of SIGTERM`, async (t) => {
    const { native, sandboxed } = await runBoth(platform, [guestPath('killself')], { env: ENV });
    t.deepEqual(native, killedBy('SIGTERM', 'sending SIGTERM\n'));
    t.is(native.exitCode, 143);
    t.deepEqual(sandboxed, native);
  });

  ptest(`${platform}: memlimit (memory 64M) refuses 512 MiB`, async (t) => {
    const r = await runSandboxed([guestPath('memlimit')], { platform, env: ENV, memory: '64M' });
    t.deepEqual(r, exited('mmap 512M: ENOMEM\nmalloc 512M: NULL\n'));
  });

  ptest(`${platform}: pipe_poll: pipes, poll, ppoll, select and pselect6 in one process`, async (t) => {
    const { native, sandboxed } = await runBoth(platform, [guestPath('pipe_poll')], { env: ENV });
    t.deepEqual(native, exited(PIPE_POLL_OUT));
    t.deepEqual(sandboxed, native);
  });

  ptest(`${platform}: pipe_poll: a write to a pipe without readers dies of SIGPIPE at its default action`, async (t) => {
    const { native, sandboxed } = await runBoth(platform, [guestPath('pipe_poll'), 'sigpipe'], { env: ENV });
    t.deepEqual(native, killedBy('SIGPIPE', 'writing\n'));
    t.deepEqual(sandboxed, native);
  });

  for (const mode of ['ppoll-mask', 'pselect-mask']) {
    ptest(`${platform}: pipe_poll: ${mode}: the call's mask lets a pending signal through, and it is delivered`, async (t) => {
      const { native, sandboxed } = await runBoth(platform, [guestPath('pipe_poll'), mode], { env: ENV });
      t.deepEqual(native, killedBy('SIGUSR1', 'polling\n'));
      t.deepEqual(sandboxed, native);
    });
  }

  ptest(`${platform}: pipe_poll: F_SETPIPE_SZ past pipe-max-size is EPERM (no CAP_SYS_RESOURCE)`, async (t) => {
    const r = await runSandboxed([guestPath('pipe_poll'), 'past-max'], { platform, env: ENV });
    t.deepEqual(r, exited('F_SETPIPE_SZ(1048577) = -1 (EPERM)\n', 1));
  });

  ptest(`${platform}: pipe_poll: a read of an empty pipe waits until a signal ends the program`, async (t) => {
    const sb = await Sandbox.create({ platform, memory: '256M' });
    try {
      const started = performance.now();
      const run = sb.run([guestPath('pipe_poll'), 'block-read'], { env: ENV });
      await new Promise((resolve) => setTimeout(resolve, 500));
      sb.kill('SIGTERM');
      const r = await run;
      t.deepEqual([r.exitCode, r.signal, r.stdout, r.stderr], [143, 'SIGTERM', 'blocking\n', '']);
      t.true(performance.now() - started >= 500, 'the read did not wait');
    } finally {
      await sb.close();
    }
  });

  ptest(`${platform}: pipe_poll: a poll with no timeout waits until the run's timeout`, async (t) => {
    const { native, sandboxed } = await runBoth(platform, [guestPath('pipe_poll'), 'poll-forever'], { env: ENV, timeoutMs: 500 });
    t.deepEqual(native, killedBy('SIGKILL', 'polling\n', '', true));
    t.deepEqual(sandboxed, native);
  });

  ptest(`${platform}: spin is killed at the timeout`, async (t) => {
    const { native, sandboxed } = await runBoth(platform, [guestPath('spin')], { env: ENV, timeoutMs: 1000 });
    t.deepEqual(native, killedBy('SIGKILL', '', '', true));
    t.is(native.exitCode, 137);
    t.deepEqual(sandboxed, native);
  });
}
