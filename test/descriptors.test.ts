// descriptors.test.ts: the descriptor types of modern programs: eventfd,
// timerfd, signalfd, memfd (and shared mappings of files), inotify, epoll and
// Unix sockets. Each desc_* guest program runs natively and in the sandbox;
// both outcomes must equal the exact expected output (an "ok NAME" line per check, then "all ok").
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Sandbox } from '../index.js';
import { exited, guestPath, platforms, repoRoot, runBoth, runNative, runSandboxed, sandboxTest } from './helpers.js';

const ENV = ['PATH=/usr/bin:/bin'];

/** GUESTS are the desc_*.c programs and their checks, in order. */
const GUESTS: Record<string, string[]> = {
  desc_eventfd: ['flags', 'read and write', "the counter's limit", 'semaphore mode', 'poll', 'fstat, lseek and /proc/self/fd', 'a blocking read'],
  desc_timerfd: ['timerfd_create', 'errors', 'a one-shot timer', 'a periodic timer', 'absolute times', 'setting again', 'the file'],
  desc_signalfd: ['signalfd4', 'reads', 'changing the mask', 'children'],
  desc_memfd: ['memfd_create', 'reads and writes', 'seals'],
  desc_mmap: [
    'a memfd mapped shared', "a mapping outlives its file's descriptor", 'a file of /dev/shm', 'a file of /tmp',
    'the end of the file', 'access', 'msync and mincore',
  ],
  desc_inotify: ['inotify_init1', 'watches', 'events'],
  desc_epoll: [
    'epoll_create', 'epoll_ctl errors', 'epoll_wait errors', 'level-triggered', 'the order of events', 'edge-triggered and one-shot',
    'every kind of file', 'closed files', 'waiting', 'an instance shared with a child',
  ],
  desc_socket: [
    'socket and socketpair', 'a stream pair', 'seqpacket and datagram pairs', 'a peer that closes', 'shutdown', 'unconnected sockets',
    'bind', 'listen, connect and accept', 'datagrams between bound sockets', 'MSG_WAITALL', 'SIGPIPE', 'socket options',
  ],
  desc_scm: [
    "a pipe's write end passed to a child", 'several descriptions in one message', 'control message errors',
    'where a stream read stops', 'SCM_CREDENTIALS', 'an epoll echo server in a child',
  ],
};

/** outputOf is what a guest prints when every check passes. */
function outputOf(checks: string[]): string {
  return checks.map((c) => `ok ${c}\n`).join('') + 'all ok\n';
}

for (const platform of platforms) {
  const ptest = sandboxTest(platform);
  for (const [name, checks] of Object.entries(GUESTS)) {
    ptest(`${platform}: ${name}`, async (t) => {
      const { native, sandboxed } = await runBoth(platform, [guestPath(name)], { env: ENV });
      t.deepEqual(native, exited(outputOf(checks)));
      t.deepEqual(sandboxed, native);
    });
  }

  ptest(`${platform}: desc_mmap on a writable mount: shared mappings of a host file reach the host file, as natively`, async (t) => {
    const checks = [...GUESTS.desc_mmap, 'a file of a host directory', 'a file left written through mappings'];
    const kept = 'written through a mapping\nand by a child\n';
    const nativeDir = mkdtempSync(path.join(tmpdir(), 'tvisor-mmap-native-'));
    const hostDir = mkdtempSync(path.join(tmpdir(), 'tvisor-mmap-'));
    try {
      const native = await runNative([guestPath('desc_mmap'), nativeDir], { env: ENV });
      t.deepEqual(native, exited(outputOf(checks)));
      t.is(readFileSync(path.join(nativeDir, 'kept'), 'utf8'), kept);
      const sb = await Sandbox.create({ platform, mounts: [{ source: hostDir, target: '/mnt', writable: true }] });
      let r;
      try {
        r = await sb.run([guestPath('desc_mmap'), '/mnt'], { env: ENV });
      } finally {
        await sb.close();
      }
      t.deepEqual([r.exitCode, r.stdout, r.stderr], [0, native.stdout, '']);
      t.is(readFileSync(path.join(hostDir, 'kept'), 'utf8'), kept);
      t.deepEqual(readdirSync(hostDir), ['kept']);
    } finally {
      rmSync(nativeDir, { recursive: true, force: true });
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  ptest(`${platform}: timers armed when the program ends leave nothing behind: the application ends by itself`, async (t) => {
    // The application runs the program through the API, closes the sandbox and lets Node end:
    // a timer left behind would keep it for the hour.
    const app = `
      const { Sandbox } = await import(process.argv[1]);
      const sb = await Sandbox.create({ platform: process.argv[2] });
      const r = await sb.run(process.argv.slice(3));
      await sb.close();
      process.stdout.write(r.stdout);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', app, path.join(repoRoot, 'dist', 'index.js'), platform,
      guestPath('desc_timerfd'), 'armed'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const [status, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (code, sig) => resolve([code, sig])));
    t.deepEqual([status, signal, stdout], [0, null, 'armed\n']);
  });

  ptest(`${platform}: the sandbox has no network: socket(AF_INET) is EAFNOSUPPORT`, async (t) => {
    const r = await runSandboxed([guestPath('desc_socket'), 'inet'], { platform, env: ENV });
    t.deepEqual(r, exited('socket(AF_INET) = EAFNOSUPPORT\nsocketpair(AF_INET) = EAFNOSUPPORT\n'));
  });
}
