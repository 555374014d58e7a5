// files.test.ts: the sandbox's file tree. Busybox applets read the host's
// files through the Gofer exactly as natively; the program's writes land
// in a private overlay and leave the host byte-for-byte unchanged; --root
// and --mount give other trees; escapes through "..", symlinks and /proc
// fail; /dev and /proc answer as Linux's do.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Sandbox } from '../index.js';
import { childPids, exited, guestPath, platforms, runBoth, runNative, sandboxTest } from './helpers.js';

const BUSYBOX = '/bin/busybox';
const ENV = ['PATH=/usr/bin:/bin'];

/** treeDigest hashes a host folder's names, modes, sizes and contents (to prove it unchanged). */
function treeDigest(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      h.update(`${p} ${st?.mode} ${st?.size}\n`);
      if (st?.isDirectory()) walk(p);
      else if (st?.isFile()) h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

async function inSandbox(platform: 'kvm' | 'ptrace', argv: string[], opts: Parameters<typeof Sandbox.create>[0] = {}, stdin = '') {
  const sb = await Sandbox.create({ platform, ...opts });
  try {
    const r = await sb.run(argv, { env: ENV, stdin });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  } finally {
    await sb.close();
  }
}

for (const platform of platforms) {
  const ptest = sandboxTest(platform);

  for (const args of [
    ['cat', '/etc/os-release'],
    ['ls', '-la', '/usr/share'],
    ['ls', '-lan', '/etc'],
    ['sha256sum', '/bin/busybox'],
    ['stat', '-c', '%n %s %a %U %G %F', '/etc/os-release', '/usr', '/bin/busybox'],
    ['find', '/usr/share/doc', '-type', 'f', '-name', 'copyright'],
    ['head', '-c', '100', '/etc/services'],
    ['wc', '-c', '/etc/services'],
  ]) {
    ptest(`${platform}: busybox ${args.join(' ')} is the host's`, async (t) => {
      const { native, sandboxed } = await runBoth(platform, [BUSYBOX, ...args], { env: ENV });
      t.is(native.exitCode, 0);
      t.deepEqual(sandboxed, native);
    });
  }

  ptest(`${platform}: a write to /etc lands in the overlay: the program reads it back, the host has no /etc/x`, async (t) => {
    const before = existsSync('/etc/x');
    const r = await inSandbox(platform, [BUSYBOX, 'sh', '-c', 'echo hi > /etc/x; read l < /etc/x; echo $l']);
    t.deepEqual(r, { exitCode: 0, stdout: 'hi\n', stderr: '' });
    t.false(before);
    t.false(existsSync('/etc/x'));
  });

  ptest(`${platform}: cp, mv, rm, mkdir -p, ln -s, gzip and tar work in the overlay and leave the host unchanged`, async (t) => {
    const watched = '/etc/apt';
    const before = treeDigest(watched);
    const steps: [string[], string][] = [
      [['mkdir', '-p', '/tmp/w/a/b'], ''],
      [['cp', '/etc/os-release', '/tmp/w/a/b/f'], ''],
      [['mv', '/tmp/w/a/b/f', '/tmp/w/g'], ''],
      [['ln', '-s', 'g', '/tmp/w/link'], ''],
      [['head', '-c', '20', '/tmp/w/link'], readFileSync('/etc/os-release').subarray(0, 20).toString()],
      [['rm', '/tmp/w/link'], ''],
      [['ls', '/tmp/w'], 'a\ng\n'],
      [['cp', '/etc/services', '/tmp/w/s'], ''],
      [['gzip', '/tmp/w/s'], ''],
      [['ls', '/tmp/w'], 'a\ng\ns.gz\n'],
      [['gunzip', '/tmp/w/s.gz'], ''],
      [['cmp', '/tmp/w/s', '/etc/services'], ''],
      [['tar', '-cf', '/tmp/w/t.tar', '-C', '/tmp/w', 'a', 'g'], ''],
      [['mkdir', '/tmp/w/x'], ''],
      [['tar', '-xf', '/tmp/w/t.tar', '-C', '/tmp/w/x'], ''],
      [['cmp', '/tmp/w/g', '/tmp/w/x/g'], ''],
      [['cp', '/etc/os-release', `${watched}/new`], ''],
      [['rm', '-r', `${watched}/apt.conf.d`], ''],
      [['ls', `${watched}/new`], `${watched}/new\n`],
    ];
    const sb = await Sandbox.create({ platform });
    const results = [];
    try {
      for (const [args] of steps) {
        const r = await sb.run([BUSYBOX, ...args], { env: ENV });
        results.push({ args: args.join(' '), exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr });
      }
    } finally {
      await sb.close();
    }
    t.deepEqual(results, steps.map(([args, stdout]) => ({ args: args.join(' '), exitCode: 0, stdout, stderr: '' })));
    t.is(treeDigest(watched), before);
  });

  ptest(`${platform}: --root gives a folder as /, and escapes through .., symlinks and /proc/self/root stay inside`, async (t) => {
    const root = mkdtempSync(path.join(tmpdir(), 'tvisor-root-'));
    try {
      mkdirSync(path.join(root, 'bin'));
      writeFileSync(path.join(root, 'bin', 'busybox'), readFileSync(BUSYBOX), { mode: 0o755 });
      mkdirSync(path.join(root, 'etc'));
      writeFileSync(path.join(root, 'etc', 'hostname'), 'inside\n');
      symlinkSync('/etc', path.join(root, 'abs'));
      symlinkSync('../../../../../../etc', path.join(root, 'rel'));
      const sb = await Sandbox.create({ platform, root });
      const out: string[] = [];
      try {
        for (const args of [['ls', '/'], ['cat', '/../../etc/hostname'], ['cat', '/abs/hostname'], ['cat', '/rel/hostname'],
          ['cat', '/proc/self/root/etc/hostname'], ['ls', '/etc'], ['ls', '/../..']]) {
          const r = await sb.run(['/bin/busybox', ...args], { env: ENV });
          out.push(`${r.exitCode} ${r.stdout}`);
        }
      } finally {
        await sb.close();
      }
      t.deepEqual(out, ['0 abs\nbin\ndev\netc\nproc\nrel\nsys\n', '0 inside\n', '0 inside\n', '0 inside\n', '0 inside\n', '0 hostname\n',
        '0 abs\nbin\ndev\netc\nproc\nrel\nsys\n']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  ptest(`${platform}: --mount SRC:DST:rw writes to the host; a read-only mount refuses with EROFS`, async (t) => {
    const out = mkdtempSync(path.join(tmpdir(), 'tvisor-out-'));
    const ro = mkdtempSync(path.join(tmpdir(), 'tvisor-ro-'));
    try {
      writeFileSync(path.join(ro, 'keep'), 'kept\n');
      const sb = await Sandbox.create({ platform, mounts: [{ source: out, target: '/out', writable: true }, { source: ro, target: '/ro' }] });
      const results = [];
      try {
        for (const args of [['cp', '/etc/hostname', '/out/'], ['cat', '/ro/keep'], ['touch', '/ro/new'], ['rm', '/ro/keep']]) {
          const r = await sb.run([BUSYBOX, ...args], { env: ENV });
          results.push([r.exitCode, r.stdout, r.stderr]);
        }
      } finally {
        await sb.close();
      }
      t.deepEqual(results, [
        [0, '', ''], [0, 'kept\n', ''],
        [1, '', "touch: /ro/new: Read-only file system\n"], [1, '', "rm: can't remove '/ro/keep': Read-only file system\n"],
      ]);
      t.deepEqual(readFileSync(path.join(out, 'hostname')), readFileSync('/etc/hostname'));
      t.deepEqual(readdirSync(ro), ['keep']);
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(ro, { recursive: true, force: true });
    }
  });

  ptest(`${platform}: /dev/null, /dev/zero, /dev/full, /dev/stdout and /proc answer as on Linux`, async (t) => {
    const sb = await Sandbox.create({ platform });
    const results = [];
    try {
      for (const args of [
        ['sh', '-c', 'echo gone > /dev/null && echo null ok'], ['head', '-c', '4', '/dev/zero'], ['sh', '-c', 'echo x > /dev/full'],
        ['sh', '-c', 'echo out > /dev/stdout'], ['cat', '/proc/self/cmdline'], ['readlink', '/proc/self/exe'],
        ['cat', '/proc/sys/kernel/hostname'], ['grep', '-c', '^processor', '/proc/cpuinfo'], ['ls', '/proc/self/fd'],
      ]) {
        const r = await sb.run([BUSYBOX, ...args], { env: ENV });
        results.push([r.exitCode, r.stdout]);
      }
    } finally {
      await sb.close();
    }
    const cpus = (await runNative(['/usr/bin/nproc'])).stdout;
    t.deepEqual(results, [
      [0, 'null ok\n'], [0, '\0\0\0\0'], [1, ''], [0, 'out\n'], [0, `${BUSYBOX}\0cat\0/proc/self/cmdline\0`],
      // /proc/self/exe names the file itself, through any symlink (on Debian /bin is one to /usr/bin).
      [0, `${realpathSync(BUSYBOX)}\n`],
      [0, 'tvisor\n'], [0, cpus], [0, '0\n1\n2\n3\n'],
    ]);
  });
}

test('the sandbox is confined to the folders it was given (a program cannot list the host outside --root)', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'tvisor-root-'));
  try {
    mkdirSync(path.join(root, 'bin'));
    writeFileSync(path.join(root, 'bin', 'busybox'), readFileSync(BUSYBOX), { mode: 0o755 });
    const r = await inSandbox('ptrace', ['/bin/busybox', 'ls', '/../../..'], { root });
    t.deepEqual(r, { exitCode: 0, stdout: 'bin\ndev\nproc\nsys\n', stderr: '' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

/** FS_GUESTS are the guest programs for the file system calls, and the lines each prints. */
const FS_GUESTS: Record<string, string[]> = {
  fs_basic: ['setup', 'open', 'openat', 'creat', 'close', 'read write', 'two opens have their own offsets', 'O_TRUNC', 'O_APPEND',
    'pread64 pwrite64', 'readv writev', 'preadv pwritev', 'lseek', 'SEEK_DATA SEEK_HOLE', 'truncate ftruncate', 'fallocate',
    'fsync fdatasync sync', 'sendfile', 'copy_file_range', 'unlinked while open', 'cleanup'].map((c) => `ok ${c}`),
  fs_dirs: ['ok setup', 'ok mkdir', 'ok mkdirat', 'ok rmdir', 'ok unlink unlinkat', 'ok rename', 'ok renameat', 'ok renameat2',
    'ok link linkat', 'ls: .:d ..:d a:f b:f c:d d:l', 'ok getdents64', 'ok getdents64 in small reads', 'ok chdir fchdir getcwd',
    'ok umask', 'ok cleanup'],
  fs_paths: ['setup', 'symlink', 'dangling symlink', 'readlink readlinkat', 'symlink loops', '40 symlink follows', 'O_NOFOLLOW',
    'ENAMETOOLONG', 'trailing slash', 'dot and dotdot', 'relative to the cwd', 'relative to a dirfd', 'openat2',
    'openat2 RESOLVE_BENEATH', 'openat2 RESOLVE_IN_ROOT', 'openat2 RESOLVE_NO_SYMLINKS', 'cleanup'].map((c) => `ok ${c}`),
  fs_meta: ['setup', 'stat lstat fstat', 'newfstatat', 'statx', 'statfs fstatfs', 'access faccessat faccessat2',
    'chmod fchmod fchmodat', 'chown fchown lchown fchownat', 'utimensat', 'futimesat', 'cleanup'].map((c) => `ok ${c}`),
  fs_fd: ['setup', 'lowest free fd', 'O_CLOEXEC', 'F_GETFL', 'F_SETFL', 'F_GETFD F_SETFD', 'F_DUPFD F_DUPFD_CLOEXEC',
    'F_SETLK F_GETLK', 'F_OFD_SETLK F_OFD_GETLK', 'O_PATH', 'close_range', 'cleanup'].map((c) => `ok ${c}`),
  fs_dev: [`os-release: ${readFileSync('/etc/os-release', 'utf8').split('\n')[0]}`, 'ok /etc/os-release', 'ok /bin/busybox',
    'ok root directory', 'ok /dev/null', 'ok /dev/zero', 'ok /dev/full', 'ok /dev/urandom', 'ok /proc/self/exe'],
};

for (const platform of platforms) {
  const ptest = sandboxTest(platform);
  for (const [name, lines] of Object.entries(FS_GUESTS)) {
    ptest(`${platform}: ${name} (file system calls, exact errnos) passes natively and in the sandbox`, async (t) => {
      const { native, sandboxed } = await runBoth(platform, [guestPath(name)], { env: ENV });
      t.deepEqual(native, exited([...lines, 'all ok'].map((l) => l + '\n').join('')));
      t.deepEqual(sandboxed, native);
    });
  }
}

test.serial('a dead Gofer ends the run with a clear error and leaves nothing running', async (t) => {
  const sb = await Sandbox.create({ platform: 'ptrace' });
  // The sandbox's Gofer and the spare are this process's tvisor-gofer children.
  const gofers = childPids(process.pid, 'tvisor-gofer');
  t.true(gofers.length >= 1);
  for (const pid of gofers) process.kill(pid, 'SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 200));
  const err = await t.throwsAsync(sb.run([BUSYBOX, 'cat', '/etc/os-release']));
  t.regex(err!.message, /^the file server \(Gofer\) exited \(SIGKILL\)$/);
  await sb.close();
  for (const pid of gofers) t.false(existsSync(`/proc/${pid}/status`) && readFileSync(`/proc/${pid}/status`, 'utf8').includes('State:\tZ'), `gofer ${pid} is a zombie`);
});

for (const platform of platforms) {
  sandboxTest(platform)(`${platform}: files written to the overlay count against --memory: past it, ENOSPC, and the Sentry lives on`, async (t) => {
    const sb = await Sandbox.create({ platform, memory: '64M' });
    try {
      const full = await sb.run([BUSYBOX, 'dd', 'if=/dev/zero', 'of=/tmp/big', 'bs=1M', 'count=200'], { env: ENV });
      t.is(full.exitCode, 1);
      t.regex(full.stderr, /^dd: error writing '\/tmp\/big': No space left on device\n/);
      const after = await sb.run([BUSYBOX, 'echo', 'alive'], { env: ENV });
      t.deepEqual([after.exitCode, after.stdout], [0, 'alive\n']);
    } finally {
      await sb.close();
    }
  });
}

for (const platform of platforms) {
  sandboxTest(platform)(`${platform}: /proc/self/auxv is the vector the program started with`, async (t) => {
    const r = await inSandbox(platform, [BUSYBOX, 'od', '-An', '-tx8', '/proc/self/auxv']);
    const pairs = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    t.is(r.exitCode, 0);
    t.deepEqual(pairs.find(([k]) => k === '0000000000000006'), ['0000000000000006', '0000000000001000']); // AT_PAGESZ
    t.deepEqual(pairs.find(([k]) => k === '000000000000000b'), ['000000000000000b', (process.getuid?.() ?? 0).toString(16).padStart(16, '0')]); // AT_UID
    t.deepEqual(pairs[pairs.length - 1], ['0000000000000000', '0000000000000000']); // AT_NULL
  });
}

for (const platform of platforms) {
  sandboxTest(platform)(`${platform}: large reads of host files go straight into the program's memory, byte for byte`, async (t) => {
    const sb = await Sandbox.create({ platform });
    const results = [];
    try {
      for (const args of [['dd', 'if=/bin/busybox', 'of=/tmp/copy', 'bs=1M'], ['cmp', '/bin/busybox', '/tmp/copy'], ['sha256sum', '/tmp/copy']]) {
        const r = await sb.run([BUSYBOX, ...args], { env: ENV });
        results.push([r.exitCode, args[0] === 'dd' ? '' : r.stdout]);
      }
    } finally {
      await sb.close();
    }
    const digest = createHash('sha256').update(readFileSync(BUSYBOX)).digest('hex');
    t.deepEqual(results, [[0, ''], [0, ''], [0, `${digest}  /tmp/copy\n`]]);
  });
}
