// dynamic.test.ts: dynamically linked programs from the host's own root:
// the loader follows PT_INTERP to the host's ld.so, which maps libc and the
// other libraries with mmap from the page cache. Each run is compared with
// the same command run natively (issue 7's commands; threads are not yet
// in, so these programs stay single-threaded).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { exited, platforms, repoRoot, runBoth, sandboxTest } from './helpers.js';

const CLI = path.join(repoRoot, 'dist', 'cli', 'tvisor.cjs');

const COMMANDS: { title: string; argv: string[]; expected?: string }[] = [
  {
    title: 'python3 imports hashlib, json, sqlite3 and threading, and hashes',
    argv: ['/usr/bin/python3', '-c', 'import hashlib, json, sqlite3, threading; print(hashlib.sha256(b"x").hexdigest())'],
    expected: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\n',
  },
  {
    title: 'perl maps and joins',
    argv: ['/usr/bin/perl', '-e', 'print join(",", map { $_ * $_ } 1..5), "\\n"'],
    expected: '1,4,9,16,25\n',
  },
  {
    title: 'sqlite3 sums a table in memory',
    argv: ['/usr/bin/sqlite3', ':memory:', 'create table t(x); insert into t values (1),(2); select sum(x) from t;'],
    expected: '3\n',
  },
  { title: 'ls -la /usr/lib is the host\'s', argv: ['/bin/ls', '-la', '/usr/lib'] },
];

for (const platform of platforms) {
  const ptest = sandboxTest(platform);

  for (const c of COMMANDS) {
    ptest(`${platform}: ${c.title}`, async (t) => {
      const { native, sandboxed } = await runBoth(platform, c.argv, { env: ['PATH=/usr/bin:/bin', 'LC_ALL=C'] });
      if (c.expected) t.deepEqual(native, exited(c.expected));
      else t.deepEqual([native.exitCode, native.stderr, native.stdout.length > 100], [0, '', true]);
      t.deepEqual(sandboxed, native);
    });
  }

  ptest(`${platform}: gzip in one sandbox piped to gunzip in another gives the file back`, async (t) => {
    const script = `node ${CLI} run --platform=${platform} -- /usr/bin/gzip -c /etc/services | ` +
      `node ${CLI} run --platform=${platform} -- /usr/bin/gunzip -c | cmp - /etc/services && echo same`;
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('/bin/bash', ['-o', 'pipefail', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    t.deepEqual(out, { code: 0, stdout: 'same\n', stderr: '' });
  });
}
