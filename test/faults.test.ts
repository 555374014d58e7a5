// fault KIND: every faulting operation kills the program with the same signal
// natively and in the sandbox, and that signal is the one in the table.
// Privileged instructions (cli, hlt, mov to/from control registers, MSR
// access, lgdt, port I/O) and kernel or non-canonical addresses must give
// SIGSEGV exactly as on Linux -- never reach the host or the guest kernel.

import { guestPath, killedBy, platforms, runBoth, sandboxTest } from './helpers.js';

const ENV = ['PATH=/usr/bin:/bin'];

// Observed natively on Linux 6.18 (x86_64, with UMIP): status 128 + signal.
const FAULTS: ReadonlyArray<readonly [kind: string, signal: string, exitCode: number]> = [
  ['segv', 'SIGSEGV', 139],
  ['ill', 'SIGILL', 132],
  ['fpe', 'SIGFPE', 136],
  ['divoverflow', 'SIGFPE', 136],
  ['abort', 'SIGABRT', 134],
  ['int3', 'SIGTRAP', 133],
  ['cli', 'SIGSEGV', 139],
  ['hlt', 'SIGSEGV', 139],
  ['movcr3', 'SIGSEGV', 139],
  ['wrmsr', 'SIGSEGV', 139],
  ['rdmsr', 'SIGSEGV', 139],
  ['lgdt', 'SIGSEGV', 139],
  ['outb', 'SIGSEGV', 139],
  ['inb', 'SIGSEGV', 139],
  ['kernelread', 'SIGSEGV', 139],
  ['noncanon', 'SIGSEGV', 139],
  ['nxexec', 'SIGSEGV', 139],
  ['jumpnull', 'SIGSEGV', 139],
  ['rowrite', 'SIGSEGV', 139],
  ['stackoverflow', 'SIGSEGV', 139],
];

for (const platform of platforms) {
  const ptest = sandboxTest(platform);
  for (const [kind, signal, exitCode] of FAULTS) {
    ptest(`${platform}: fault ${kind} -> ${signal}`, async (t) => {
      const { native, sandboxed } = await runBoth(platform, [guestPath('fault'), kind], { env: ENV });
      t.deepEqual(native, killedBy(signal, `fault ${kind}\n`));
      t.is(native.exitCode, exitCode);
      t.deepEqual(sandboxed, native);
    });
  }
}
