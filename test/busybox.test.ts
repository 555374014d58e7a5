// /bin/busybox (static glibc) applets: natively and in the sandbox the exact
// same, expected outcome.

import { exited, platforms, runBoth, sandboxTest, type RunResult } from './helpers.js';

const BUSYBOX = '/bin/busybox';
const ENV = ['PATH=/usr/bin:/bin'];

interface Case {
  title: string;
  args: string[];
  expected: RunResult;
  stdin?: string;
  env?: string[];
}

const CASES: Case[] = [
  { title: 'echo hello', args: ['echo', 'hello'], expected: exited('hello\n') },
  { title: "printf '%s-%d\\n' a 5", args: ['printf', '%s-%d\n', 'a', '5'], expected: exited('a-5\n') },
  { title: 'seq 1 5', args: ['seq', '1', '5'], expected: exited('1\n2\n3\n4\n5\n') },
  { title: 'expr 6 * 7', args: ['expr', '6', '*', '7'], expected: exited('42\n') },
  { title: 'uname -m', args: ['uname', '-m'], expected: exited('x86_64\n') },
  { title: 'true', args: ['true'], expected: exited('') },
  { title: 'false', args: ['false'], expected: exited('', 1) },
  {
    title: 'sha256sum of stdin "abc"',
    args: ['sha256sum'],
    stdin: 'abc',
    expected: exited('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -\n'),
  },
  // Debian's busybox-static has no printenv applet ("printenv: applet not
  // found", status 127), so the environment is checked with env and sh.
  {
    title: 'env (prints the whole environment)',
    args: ['env'],
    env: ['PATH=/usr/bin:/bin', 'FOO=bar'],
    expected: exited('PATH=/usr/bin:/bin\nFOO=bar\n'),
  },
  {
    title: 'sh -c \'echo "$FOO"\' with FOO=bar',
    args: ['sh', '-c', 'echo "$FOO"'],
    env: ['PATH=/usr/bin:/bin', 'FOO=bar'],
    expected: exited('bar\n'),
  },
  { title: "sh -c 'exit 3'", args: ['sh', '-c', 'exit 3'], expected: exited('', 3) },
];

for (const platform of platforms) {
  const ptest = sandboxTest(platform);
  for (const c of CASES) {
    ptest(`${platform}: busybox ${c.title}`, async (t) => {
      const opts: { env: string[]; stdin?: string } = { env: c.env ?? ENV };
      if (c.stdin !== undefined) opts.stdin = c.stdin;
      const { native, sandboxed } = await runBoth(platform, [BUSYBOX, ...c.args], opts);
      t.deepEqual(native, c.expected);
      t.deepEqual(sandboxed, native);
    });
  }
}
