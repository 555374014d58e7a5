// The Gofer: every operation against a temporary tree with exact results
// and errnos, confinement (names, symlinks, a directory swapped for a
// symlink), read-only mounts, garbage frames in both directions, and the
// Gofer process's life: the spare, death, hangs, shutdown, and dying with
// its parent.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { Packr } from 'msgpackr';
import { GoferError, type GoferStat, type MountSpec } from '../gofer/api.js';
import { prestartGofer, spareGoferPid, startGofer, type GoferClient, type GoferOptions } from '../gofer/client.js';
import { DATA_SIZE, MESSAGE_SIZE, Op } from '../gofer/ring.js';

const {
  EBADF, EEXIST, EINVAL, EIO, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOSYS, ENOTDIR, ENOTEMPTY, EOPNOTSUPP,
  EPERM, EROFS, EXDEV,
} = constants.errno;
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const O_DIRECTORY = 0o200000;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const DT_DIR = 4;
const DT_REG = 8;
const DT_LNK = 10;
const RENAME_NOREPLACE = 1;
const RENAME_EXCHANGE = 2;

const CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'gofer', 'client.js');
const packr = new Packr({ useRecords: false });

/**
 * makeTree builds, in a fresh temporary folder:
 *   root/file.txt "hello, gofer\n"   root/dir/inner.txt "inner"   root/empty/
 *   root/abs-link -> <outside> (absolute)   root/rel-link -> ../outside
 *   root/in-link -> file.txt
 *   outside/secret.txt "SECRET"
 */
function makeTree(t: ExecutionContext): { base: string; root: string; outside: string } {
  const base = fs.mkdtempSync('/tmp/tvisor-gofer-test-');
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'SECRET');
  fs.writeFileSync(path.join(root, 'file.txt'), 'hello, gofer\n');
  fs.mkdirSync(path.join(root, 'dir'));
  fs.writeFileSync(path.join(root, 'dir', 'inner.txt'), 'inner');
  fs.mkdirSync(path.join(root, 'empty'));
  fs.symlinkSync(outside, path.join(root, 'abs-link'));
  fs.symlinkSync('../outside', path.join(root, 'rel-link'));
  fs.symlinkSync('file.txt', path.join(root, 'in-link'));
  return { base, root, outside };
}

async function start(t: ExecutionContext, mounts: MountSpec[], opts: Partial<GoferOptions> = {}): Promise<GoferClient> {
  const g = await startGofer({ mounts, ...opts });
  t.teardown(() => g.shutdown());
  return g;
}

/** errnoOf returns the errno a call rejects with, or 'resolved'. */
async function errnoOf(p: Promise<unknown>): Promise<number | 'resolved'> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    if (err instanceof GoferError) return err.errno;
    throw err;
  }
}

/** hostStat is what a GoferStat must equal for a host path (not following a final symlink). */
function hostStat(p: string): GoferStat {
  const s = fs.lstatSync(p, { bigint: true });
  return {
    dev: Number(s.dev), ino: Number(s.ino), mode: Number(s.mode), nlink: Number(s.nlink), uid: Number(s.uid),
    gid: Number(s.gid), rdev: Number(s.rdev), size: Number(s.size), blksize: Number(s.blksize),
    blocks: Number(s.blocks), atimeNs: s.atimeNs, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs,
  };
}

function text(b: Uint8Array): string {
  return Buffer.from(b).toString();
}

/** goferChildren lists this process's children that run the Gofer (build/Release/tvisor-gofer). */
function goferChildren(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (ppid === process.pid && cmdline.includes('tvisor-gofer')) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids.sort((a, b) => a - b);
}

/** gone reports whether no process (not even a zombie) has this pid. */
function gone(pid: number): boolean {
  return !fs.existsSync(`/proc/${pid}`);
}

async function waitUntil(what: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!what()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

test('attach returns each mount root with its exact stat; an unknown mount is EINVAL', async (t) => {
  const { root, outside } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }, { hostPath: outside, writable: false }]);
  const a = await g.attach(0);
  const b = await g.attach(1);
  t.deepEqual(a.stat, hostStat(root));
  t.deepEqual(b.stat, hostStat(outside));
  t.not(a.handle, b.handle);
  t.is(await errnoOf(g.attach(2)), EINVAL);
});

test('lookup walks one name down, with the exact stat; ENOENT and ENOTDIR as Linux', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = await g.attach(0);
  const dir = await g.lookup(r.handle, 'dir');
  t.deepEqual(dir.stat, hostStat(path.join(root, 'dir')));
  const inner = await g.lookup(dir.handle, 'inner.txt');
  t.deepEqual(inner.stat, hostStat(path.join(root, 'dir', 'inner.txt')));
  t.deepEqual(await g.stat(inner.handle), hostStat(path.join(root, 'dir', 'inner.txt')));
  t.is(await errnoOf(g.lookup(r.handle, 'missing')), ENOENT);
  t.is(await errnoOf(g.lookup(inner.handle, 'x')), ENOTDIR);
});

test('names that are not one component are refused with EINVAL (or ENAMETOOLONG), by the client and by the Gofer', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  for (const name of ['', '.', '..', 'dir/inner.txt', '../outside', '/etc', 'a\0b']) {
    t.is(await errnoOf(g.lookup(r, name)), EINVAL, `lookup ${JSON.stringify(name)}`);
    t.is(await errnoOf(g.sendRaw(packr.pack([Op.Lookup, r, name]))), EINVAL, `raw lookup ${JSON.stringify(name)}`);
    t.is(await errnoOf(g.sendRaw(packr.pack([Op.Create, r, name, O_RDWR, 0o644]))), EINVAL);
    t.is(await errnoOf(g.sendRaw(packr.pack([Op.Mkdir, r, name, 0o755]))), EINVAL);
    t.is(await errnoOf(g.sendRaw(packr.pack([Op.Unlink, r, name, true]))), EINVAL);
    t.is(await errnoOf(g.sendRaw(packr.pack([Op.Rename, r, 'file.txt', r, name, 0]))), EINVAL);
  }
  t.is(await errnoOf(g.lookup(r, 'x'.repeat(256))), ENAMETOOLONG);
  t.is(await errnoOf(g.sendRaw(packr.pack([Op.Lookup, r, 'x'.repeat(256)]))), ENAMETOOLONG);
  t.is(await errnoOf(g.lookup(r, 'x'.repeat(255))), ENOENT);
});

test('symlinks, absolute and relative, pointing outside or in, are returned as symlinks and never followed', async (t) => {
  const { root, outside } = makeTree(t);
  const outsideMode = fs.statSync(outside).mode;
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  for (const [name, target] of [['abs-link', outside], ['rel-link', '../outside'], ['in-link', 'file.txt']]) {
    const l = await g.lookup(r, name);
    t.is(l.stat.mode & S_IFMT, S_IFLNK);
    t.deepEqual(l.stat, hostStat(path.join(root, name)));
    t.is(await g.readlink(l.handle), target);
    t.is(await errnoOf(g.open(l.handle, O_RDONLY)), ELOOP, `open ${name}`);
    t.is(await errnoOf(g.open(l.handle, O_RDONLY | O_DIRECTORY)), ELOOP);
    t.is(await errnoOf(g.lookup(l.handle, 'secret.txt')), ENOTDIR, `lookup through ${name}`);
    t.is(await errnoOf(g.readdir(l.handle)), ENOTDIR);
    t.is(await errnoOf(g.chmod(l.handle, 0o777)), EOPNOTSUPP);
  }
  const file = await g.lookup(r, 'file.txt');
  t.is(await errnoOf(g.readlink(file.handle)), EINVAL);
  t.is(fs.statSync(outside).mode, outsideMode);
});

test('a directory swapped for a symlink between lookup and open stays the directory that was walked', async (t) => {
  const { root } = makeTree(t);
  fs.writeFileSync(path.join(root, 'dir', 'secret.txt'), 'inside');
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  const d = await g.lookup(r, 'dir');
  fs.renameSync(path.join(root, 'dir'), path.join(root, 'dir.moved'));
  fs.symlinkSync('../outside', path.join(root, 'dir'));
  const opened = await g.open(d.handle, O_RDONLY | O_DIRECTORY);
  t.deepEqual((await g.readdir(opened)).map((e) => e.name).sort(), ['.', '..', 'inner.txt', 'secret.txt']);
  const secret = await g.lookup(d.handle, 'secret.txt');
  t.is(text(await g.read(await g.open(secret.handle, O_RDONLY), 0, 100)), 'inside');
  const swapped = await g.lookup(r, 'dir');
  t.is(swapped.stat.mode & S_IFMT, S_IFLNK);
  t.is(await errnoOf(g.open(swapped.handle, O_RDONLY)), ELOOP);
  t.is(await errnoOf(g.lookup(swapped.handle, 'secret.txt')), ENOTDIR);
});

test('a directory swapped for a symlink to the outside over and over never lets a read escape', async (t) => {
  const { root } = makeTree(t);
  fs.writeFileSync(path.join(root, 'dir', 'secret.txt'), 'inside');
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  const swapper = spawn('bash', ['-c', 'while :; do mv dir dir.real; ln -s ../outside dir; rm dir; mv dir.real dir; done'], {
    cwd: root, stdio: 'ignore',
  });
  t.teardown(() => swapper.kill('SIGKILL'));
  const outcomes = new Set<string>();
  let inside = 0;
  for (let i = 0; i < 400; i++) {
    try {
      const d = await g.lookup(r, 'dir');
      const s = await g.lookup(d.handle, 'secret.txt');
      const f = await g.open(s.handle, O_RDONLY);
      const content = text(await g.read(f, 0, 100));
      outcomes.add(content);
      if (content === 'inside') inside++;
      await Promise.all([g.close(f), g.close(s.handle), g.close(d.handle)]);
    } catch (err) {
      outcomes.add(err instanceof GoferError ? `errno ${err.errno}` : String(err));
    }
  }
  swapper.kill('SIGKILL');
  const allowed = new Set(['inside', `errno ${ENOENT}`, `errno ${ENOTDIR}`]);
  t.deepEqual([...outcomes].filter((o) => !allowed.has(o)), []);
  t.false(outcomes.has('SECRET'));
  t.true(inside > 0);
});

test('open and read: exact bytes at offsets, short at the end, EBADF on a handle not opened, errnos as Linux', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  const file = await g.lookup(r, 'file.txt');
  const f = await g.open(file.handle, O_RDONLY);
  t.is(text(await g.read(f, 0, 100)), 'hello, gofer\n');
  t.is(text(await g.read(f, 7, 5)), 'gofer');
  t.is((await g.read(f, 13, 10)).length, 0);
  t.is((await g.read(f, 1000, 10)).length, 0);
  t.is(await errnoOf(g.read(file.handle, 0, 10)), EBADF);
  t.is(await errnoOf(g.write(f, 0, Buffer.from('x'))), EBADF);
  t.is(await errnoOf(g.open(file.handle, O_RDONLY | O_CREAT)), EINVAL);
  t.is(await errnoOf(g.open(file.handle, O_RDONLY | O_DIRECTORY)), ENOTDIR);
  t.is(await errnoOf(g.open(r, O_WRONLY)), EISDIR);
  const d = await g.open(r, O_RDONLY | O_DIRECTORY);
  t.is(await errnoOf(g.read(d, 0, 10)), EISDIR);
  t.is(await errnoOf(g.read(9999, 0, 10)), EBADF);
});

test('create makes a new file with the exact mode (no umask) and refuses an existing name, symlinks included', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  const c = await g.create(r, 'new.txt', O_RDWR, 0o666);
  t.is(c.stat.mode, S_IFREG | 0o666);
  t.deepEqual(c.stat, hostStat(path.join(root, 'new.txt')));
  t.is(await g.write(c.handle, 0, Buffer.from('written')), 7);
  t.is(text(await g.read(c.handle, 0, 100)), 'written');
  t.is(fs.readFileSync(path.join(root, 'new.txt'), 'utf8'), 'written');
  t.is(await errnoOf(g.create(r, 'new.txt', O_RDWR, 0o644)), EEXIST);
  t.is(await errnoOf(g.create(r, 'abs-link', O_RDWR, 0o644)), EEXIST);
  t.is(await errnoOf(g.create(r, 'dir', O_RDWR, 0o644)), EEXIST);
  t.deepEqual(fs.readdirSync(path.join(root, '..', 'outside')), ['secret.txt']);
});

test('write writes at the offset, O_APPEND at the end, O_TRUNC empties', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  const file = await g.lookup(r, 'file.txt');
  const w = await g.open(file.handle, O_WRONLY);
  t.is(await g.write(w, 7, Buffer.from('GOFER')), 5);
  t.is(fs.readFileSync(path.join(root, 'file.txt'), 'utf8'), 'hello, GOFER\n');
  const a = await g.open(file.handle, O_WRONLY | O_APPEND);
  t.is(await g.write(a, 0, Buffer.from('more\n')), 5);
  t.is(fs.readFileSync(path.join(root, 'file.txt'), 'utf8'), 'hello, GOFER\nmore\n');
  await g.open(file.handle, O_WRONLY | O_TRUNC);
  t.is(fs.statSync(path.join(root, 'file.txt')).size, 0);
});

test('a 64 MiB read returns the exact bytes through several ring requests', async (t) => {
  const { root } = makeTree(t);
  const data = randomBytes(64 * 1024 * 1024);
  fs.writeFileSync(path.join(root, 'big'), data);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  const f = await g.open((await g.lookup(r, 'big')).handle, O_RDONLY);
  const before = g.requests;
  const got = await g.read(f, 0, data.length);
  t.is(g.requests - before, data.length / DATA_SIZE);
  t.is(got.length, data.length);
  t.true(Buffer.from(got.buffer, got.byteOffset, got.length).equals(data));
  const tail = await g.read(f, data.length - 1000, 3 * DATA_SIZE);
  t.true(Buffer.from(tail).equals(data.subarray(data.length - 1000)));
});

test('a write larger than the data area is split and lands exactly; O_APPEND pieces land in order', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  const data = randomBytes(3 * DATA_SIZE + 12345);
  const c = await g.create(r, 'out', O_RDWR, 0o600);
  const before = g.requests;
  t.is(await g.write(c.handle, 100, data), data.length);
  t.is(g.requests - before, 4);
  const host = fs.readFileSync(path.join(root, 'out'));
  t.true(host.subarray(100).equals(data));
  t.true(host.subarray(0, 100).equals(Buffer.alloc(100)));
  const a = await g.open(c.handle, O_WRONLY | O_APPEND);
  t.is(await g.write(a, 0, data), data.length);
  t.true(fs.readFileSync(path.join(root, 'out')).subarray(100 + data.length).equals(data));
});

test('many calls at once from many tasks all get their own answers', async (t) => {
  const { root } = makeTree(t);
  for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(root, `f${i}`), `content ${i}`);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  const results = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
    const w = await g.lookup(r, `f${i}`);
    const f = await g.open(w.handle, O_RDONLY);
    return text(await g.read(f, 0, 100));
  }));
  t.deepEqual(results, Array.from({ length: 50 }, (_, i) => `content ${i}`));
});

test('readdir returns every entry with "." and "..", ino and type, across several pages', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  const entries = (await g.readdir(r)).sort((a, b) => a.name.localeCompare(b.name));
  const ino = (p: string): number => fs.lstatSync(p).ino;
  t.deepEqual(entries, [
    { name: '.', ino: ino(root), type: DT_DIR },
    { name: '..', ino: ino(path.join(root, '..')), type: DT_DIR },
    { name: 'abs-link', ino: ino(path.join(root, 'abs-link')), type: DT_LNK },
    { name: 'dir', ino: ino(path.join(root, 'dir')), type: DT_DIR },
    { name: 'empty', ino: ino(path.join(root, 'empty')), type: DT_DIR },
    { name: 'file.txt', ino: ino(path.join(root, 'file.txt')), type: DT_REG },
    { name: 'in-link', ino: ino(path.join(root, 'in-link')), type: DT_LNK },
    { name: 'rel-link', ino: ino(path.join(root, 'rel-link')), type: DT_LNK },
  ]);
  fs.mkdirSync(path.join(root, 'many'));
  const names = Array.from({ length: 3000 }, (_, i) => `entry-${i}-${'n'.repeat(100)}`);
  for (const n of names) fs.writeFileSync(path.join(root, 'many', n), '');
  const many = await g.lookup(r, 'many');
  const before = g.requests;
  const listed = (await g.readdir(many.handle)).map((e) => e.name).sort();
  t.true(g.requests - before > 1);
  t.deepEqual(listed, ['.', '..', ...names].sort());
  t.is(await errnoOf(g.readdir((await g.lookup(r, 'file.txt')).handle)), ENOTDIR);
});

test('mkdir and symlink make what they say and return it walked', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  const d = await g.mkdir(r, 'sub', 0o750);
  t.is(d.stat.mode, S_IFDIR | 0o750);
  t.deepEqual(d.stat, hostStat(path.join(root, 'sub')));
  t.is(await errnoOf(g.mkdir(r, 'sub', 0o750)), EEXIST);
  t.is(await errnoOf(g.mkdir(r, 'abs-link', 0o750)), EEXIST);
  const s = await g.symlink(d.handle, 'link', '/etc/passwd');
  t.is(s.stat.mode & S_IFMT, S_IFLNK);
  t.is(fs.readlinkSync(path.join(root, 'sub', 'link')), '/etc/passwd');
  t.is(await g.readlink(s.handle), '/etc/passwd');
  t.is(await errnoOf(g.symlink(r, 'empty-target', '')), ENOENT);
  t.is(await errnoOf(g.symlink(r, 'file.txt', 'x')), EEXIST);
});

test('link makes a second name; directories are EPERM, other mounts EXDEV', async (t) => {
  const { root, outside } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }, { hostPath: outside, writable: true }]);
  const r = (await g.attach(0)).handle;
  const o = (await g.attach(1)).handle;
  const file = await g.lookup(r, 'file.txt');
  await g.link(file.handle, r, 'hard');
  t.is(fs.statSync(path.join(root, 'hard')).ino, file.stat.ino);
  t.is((await g.stat(file.handle)).nlink, 2);
  const link = await g.lookup(r, 'abs-link');
  await g.link(link.handle, r, 'hard-link');
  t.true(fs.lstatSync(path.join(root, 'hard-link')).isSymbolicLink());
  t.is(await errnoOf(g.link(file.handle, r, 'hard')), EEXIST);
  t.is(await errnoOf(g.link((await g.lookup(r, 'dir')).handle, r, 'dirlink')), EPERM);
  t.is(await errnoOf(g.link(file.handle, o, 'cross')), EXDEV);
});

test('unlink removes files and empty directories with the errnos of unlink(2) and rmdir(2)', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  t.is(await errnoOf(g.unlink(r, 'dir', false)), EISDIR);
  t.is(await errnoOf(g.unlink(r, 'file.txt', true)), ENOTDIR);
  t.is(await errnoOf(g.unlink(r, 'dir', true)), ENOTEMPTY);
  t.is(await errnoOf(g.unlink(r, 'missing', false)), ENOENT);
  await g.unlink(r, 'file.txt', false);
  await g.unlink(r, 'empty', true);
  await g.unlink(r, 'abs-link', false);
  t.deepEqual(fs.readdirSync(root).sort(), ['dir', 'in-link', 'rel-link']);
  t.true(fs.existsSync(path.join(root, '..', 'outside', 'secret.txt')));
});

test('rename moves, refuses with NOREPLACE, swaps with EXCHANGE, and stays within a mount', async (t) => {
  const { root, outside } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }, { hostPath: outside, writable: true }]);
  const r = (await g.attach(0)).handle;
  const o = (await g.attach(1)).handle;
  const dir = (await g.lookup(r, 'dir')).handle;
  await g.rename(r, 'file.txt', dir, 'moved.txt', 0);
  t.is(fs.readFileSync(path.join(root, 'dir', 'moved.txt'), 'utf8'), 'hello, gofer\n');
  t.is(await errnoOf(g.rename(dir, 'moved.txt', dir, 'inner.txt', RENAME_NOREPLACE)), EEXIST);
  await g.rename(dir, 'moved.txt', dir, 'inner.txt', RENAME_EXCHANGE);
  t.is(fs.readFileSync(path.join(root, 'dir', 'inner.txt'), 'utf8'), 'hello, gofer\n');
  t.is(fs.readFileSync(path.join(root, 'dir', 'moved.txt'), 'utf8'), 'inner');
  t.is(await errnoOf(g.rename(dir, 'moved.txt', dir, 'x', 4)), EINVAL);
  t.is(await errnoOf(g.rename(dir, 'moved.txt', o, 'x', 0)), EXDEV);
  t.is(await errnoOf(g.rename(r, 'missing', r, 'x', 0)), ENOENT);
});

test('truncate, chmod, chown and utimens change exactly what they say', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  const p = path.join(root, 'file.txt');
  const file = (await g.lookup(r, 'file.txt')).handle;
  await g.truncate(file, 5);
  t.is(fs.readFileSync(p, 'utf8'), 'hello');
  await g.truncate(file, 8);
  t.deepEqual(fs.readFileSync(p), Buffer.from('hello\0\0\0'));
  t.is(await errnoOf(g.truncate(r, 0)), EISDIR);
  await g.chmod(file, 0o4751);
  t.is(fs.statSync(p).mode, S_IFREG | 0o4751);
  await g.chown(file, 1234, 5678);
  t.deepEqual([fs.statSync(p).uid, fs.statSync(p).gid], [1234, 5678]);
  await g.chown(file, -1, 42);
  t.deepEqual([fs.statSync(p).uid, fs.statSync(p).gid], [1234, 42]);
  const link = (await g.lookup(r, 'abs-link')).handle;
  await g.chown(link, 77, 88);
  t.deepEqual([fs.lstatSync(path.join(root, 'abs-link')).uid, fs.statSync(path.join(root, '..', 'outside')).uid], [77, 0]);
  await g.utimens(file, 1_000_000_123n, 2_000_000_456n);
  let s = fs.statSync(p, { bigint: true });
  t.deepEqual([s.atimeNs, s.mtimeNs], [1_000_000_123n, 2_000_000_456n]);
  await g.utimens(file, null, -1_500_000_000n);
  s = fs.statSync(p, { bigint: true });
  t.deepEqual([s.atimeNs, s.mtimeNs], [1_000_000_123n, -1_500_000_000n]);
  await g.utimens(file, 5n, null);
  s = fs.statSync(p, { bigint: true });
  t.deepEqual([s.atimeNs, s.mtimeNs], [5n, -1_500_000_000n]);
  t.deepEqual(await g.stat(file), hostStat(p));
});

test('statfs reports the host filesystem; fsync works on walked and opened handles; close forgets', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  const sf = await g.statfs(r);
  const host = fs.statfsSync(root);
  t.deepEqual([sf.type, sf.bsize, sf.blocks, sf.files], [host.type, host.bsize, host.blocks, host.files]);
  const file = (await g.lookup(r, 'file.txt')).handle;
  await g.fsync(file);
  await g.fsync(r);
  const f = await g.open(file, O_RDWR);
  await g.fsync(f);
  await g.close(f);
  t.is(await errnoOf(g.read(f, 0, 1)), EBADF);
  t.is(await errnoOf(g.stat(f)), EBADF);
  await g.close(f);
  await g.close(123456);
  t.deepEqual(await g.stat(file), hostStat(path.join(root, 'file.txt')));
});

test('a read-only mount refuses every change with EROFS and the host tree stays as it was', async (t) => {
  const { root } = makeTree(t);
  const snapshot = (): string => JSON.stringify(fs.readdirSync(root, { recursive: true }).sort().map((n) => {
    const s = fs.lstatSync(path.join(root, String(n)), { bigint: true });
    return [n, s.mode, s.size, s.uid, s.gid, s.mtimeNs, s.nlink];
  }), (_, v) => (typeof v === 'bigint' ? String(v) : v));
  const before = snapshot();
  const g = await start(t, [{ hostPath: root, writable: false }]);
  const r = (await g.attach(0)).handle;
  const file = (await g.lookup(r, 'file.txt')).handle;
  const dir = (await g.lookup(r, 'dir')).handle;
  const changes: Array<[string, Promise<unknown>]> = [
    ['create', g.create(r, 'new', O_RDWR, 0o644)],
    ['mkdir', g.mkdir(r, 'new', 0o755)],
    ['symlink', g.symlink(r, 'new', 'x')],
    ['link', g.link(file, r, 'new')],
    ['unlink file', g.unlink(r, 'file.txt', false)],
    ['unlink dir', g.unlink(r, 'empty', true)],
    ['rename', g.rename(r, 'file.txt', dir, 'x', 0)],
    ['truncate', g.truncate(file, 0)],
    ['chmod', g.chmod(file, 0o777)],
    ['chown', g.chown(file, 1, 1)],
    ['utimens', g.utimens(file, 1n, 1n)],
    ['open O_WRONLY', g.open(file, O_WRONLY)],
    ['open O_RDWR', g.open(file, O_RDWR)],
    ['open O_TRUNC', g.open(file, O_RDONLY | O_TRUNC)],
    ['raw write', g.sendRaw(packr.pack([Op.Write, file, 0, 1]))],
  ];
  for (const [what, p] of changes) t.is(await errnoOf(p), EROFS, what);
  const f = await g.open(file, O_RDONLY);
  t.is(text(await g.read(f, 0, 100)), 'hello, gofer\n');
  t.is(await errnoOf(g.write(f, 0, Buffer.from('x'))), EROFS);
  t.is(snapshot(), before);
});

test('garbage request frames get an error reply and the Gofer keeps serving', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  const crafted: Array<[string, Uint8Array, number]> = [
    ['an unused msgpack byte', Uint8Array.of(0xc1), EINVAL],
    ['an empty frame', new Uint8Array(0), EINVAL],
    ['a truncated array', Uint8Array.of(0x93, 0x03), EINVAL],
    ['an array32 claiming 4G elements', Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff, 0x01), EINVAL],
    ['a map', packr.pack({ op: Op.Stat, h: r }), EINVAL],
    ['a string', packr.pack('stat'), EINVAL],
    ['an unknown op', packr.pack([99, r]), ENOSYS],
    ['an op that is a string', packr.pack(['__proto__', r]), EINVAL],
    ['missing arguments', packr.pack([Op.Stat]), EINVAL],
    ['extra arguments', packr.pack([Op.Stat, r, r]), EINVAL],
    ['a negative handle', packr.pack([Op.Stat, -1]), EINVAL],
    ['a fractional handle', packr.pack([Op.Stat, 1.5]), EINVAL],
    ['a handle that is a string', packr.pack([Op.Stat, '1']), EINVAL],
    ['an unknown handle', packr.pack([Op.Stat, 424242]), EBADF],
    ['a read larger than the data area', packr.pack([Op.Read, r, 0, DATA_SIZE + 1]), EINVAL],
    ['a negative offset', packr.pack([Op.Read, r, -1, 10]), EINVAL],
    ['a cookie that is a number', packr.pack([Op.Readdir, r, 0]), EINVAL],
  ];
  for (const [what, frame, errno] of crafted) t.is(await errnoOf(g.sendRaw(frame)), errno, what);
  // Random frames, from a fixed seed so the outcome is the same every run.
  let seed = 12345;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  const outcomes = new Set<number | 'resolved'>();
  for (let i = 0; i < 300; i++) {
    const frame = Uint8Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256));
    outcomes.add(await errnoOf(g.sendRaw(frame)));
  }
  t.deepEqual([...outcomes].filter((o) => o !== EINVAL && o !== ENOSYS), []);
  t.is(await errnoOf(g.sendRaw(new Uint8Array(MESSAGE_SIZE + 1))), EINVAL);
  t.deepEqual(await g.stat(r), hostStat(root));
});

test('garbage reply frames fail the call with EIO, nothing throws, and the Gofer keeps serving', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  let deaths = 0;
  g.onDeath = () => deaths++;
  const r = (await g.attach(0)).handle;
  const echo = (frame: Uint8Array, length = frame.length): Promise<unknown[]> =>
    g.sendRaw(packr.pack([Op.Echo, frame, length]), Op.Stat);
  const cases: Array<[string, Promise<unknown>, number]> = [
    ['an unused msgpack byte', echo(Uint8Array.of(0xc1)), EIO],
    ['a truncated array', echo(Uint8Array.of(0x93, 0x00)), EIO],
    ['a map', echo(packr.pack({ errno: 0 })), EIO],
    ['a stat of the wrong length', echo(packr.pack([0, [1, 2, 3]])), EIO],
    ['a stat of strings', echo(packr.pack([0, Array(16).fill('x')])), EIO],
    ['a success with too many results', echo(packr.pack([0, Array(16).fill(0), 1])), EIO],
    ['a negative errno', echo(packr.pack([-5])), EIO],
    ['an errno with results', echo(packr.pack([2, 'x'])), EIO],
    ['an errno that is a string', echo(packr.pack(['ENOENT'])), EIO],
    ['a length of 0', echo(packr.pack([0, Array(16).fill(0)]), 0), EIO],
    ['a length past the message area', echo(packr.pack([0, Array(16).fill(0)]), MESSAGE_SIZE + 1), EIO],
    ['a length of 2^32-1', echo(packr.pack([0, Array(16).fill(0)]), 0xffffffff), EIO],
    ['a well-formed failure', echo(packr.pack([ENOENT])), ENOENT],
  ];
  for (const [what, p, errno] of cases) t.is(await errnoOf(p), errno, what);
  t.deepEqual(await echo(packr.pack([0, Array(16).fill(7)])), [Array(16).fill(7)]);
  t.deepEqual(await g.stat(r), hostStat(root));
  t.is(deaths, 0);
});

test('bad mounts make startGofer reject with the errno; bad arguments reject with EINVAL', async (t) => {
  const { root } = makeTree(t);
  t.is(await errnoOf(startGofer({ mounts: [{ hostPath: path.join(root, 'missing'), writable: true }] })), ENOENT);
  t.is(await errnoOf(startGofer({ mounts: [{ hostPath: path.join(root, 'file.txt'), writable: true }] })), ENOTDIR);
  t.is(await errnoOf(startGofer({ mounts: [{ hostPath: 'relative/path', writable: true }] })), EINVAL);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  t.is(await errnoOf(g.read(r, -1, 10)), EINVAL);
  t.is(await errnoOf(g.read(r, 0, -1)), EINVAL);
  t.is(await errnoOf(g.stat(0)), EINVAL);
  t.is(await errnoOf(g.chown(r, 2 ** 31, 0)), EINVAL);
  t.is(await errnoOf(g.symlink(r, 'x', 'a'.repeat(4096))), ENAMETOOLONG);
});

test.serial('a Gofer killed with SIGKILL fails pending and later calls with EIO and calls onDeath once', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }]);
  const r = (await g.attach(0)).handle;
  const deaths: string[] = [];
  g.onDeath = (why) => deaths.push(why);
  process.kill(g.pid, 'SIGSTOP');
  const pending = errnoOf(g.stat(r));
  process.kill(g.pid, 'SIGKILL');
  t.is(await pending, EIO);
  t.is(await errnoOf(g.stat(r)), EIO);
  t.is(await errnoOf(g.readdir(r)), EIO);
  t.deepEqual(deaths, ['exited (SIGKILL)']);
  t.true(await waitUntil(() => gone(g.pid), 2000));
});

test.serial('a stopped Gofer is declared hung after the timeout and killed', async (t) => {
  const { root } = makeTree(t);
  const g = await start(t, [{ hostPath: root, writable: true }], { timeoutMs: 300 });
  const r = (await g.attach(0)).handle;
  const deaths: string[] = [];
  g.onDeath = (why) => deaths.push(why);
  process.kill(g.pid, 'SIGSTOP');
  const started = performance.now();
  const calls = [errnoOf(g.stat(r)), errnoOf(g.read(r, 0, 64 * DATA_SIZE))];
  t.deepEqual(await Promise.all(calls), [EIO, EIO]);
  t.true(performance.now() - started >= 300);
  t.deepEqual(deaths, ['did not answer stat within 300 ms and was killed as hung']);
  t.true(await waitUntil(() => gone(g.pid), 2000));
  t.is(await errnoOf(g.stat(r)), EIO);
  t.deepEqual(deaths.length, 1);
});

test.serial('startGofer takes the spare, a shutdown starts the next one; shutdown leaves no process and no zombie', async (t) => {
  const { root } = makeTree(t);
  prestartGofer();
  const spare = spareGoferPid();
  t.is(typeof spare, 'number');
  const g = await startGofer({ mounts: [{ hostPath: root, writable: true }] });
  t.is(g.pid, spare!);
  const others = await Promise.all([1, 2].map(() => startGofer({ mounts: [{ hostPath: root, writable: false }] })));
  const pids = [g.pid, ...others.map((o) => o.pid)];
  let deaths = 0;
  for (const o of [g, ...others]) o.onDeath = () => deaths++;
  t.deepEqual(pids.filter((p) => !goferChildren().includes(p)), []);
  await Promise.all([g, ...others].map((o) => o.shutdown()));
  t.deepEqual(pids.filter((p) => !gone(p)), []);
  // The next spare starts a moment after the last shutdown.
  t.true(await waitUntil(() => spareGoferPid() !== undefined, 2000));
  const next = spareGoferPid();
  t.not(next, undefined);
  t.false(pids.includes(next!));
  t.deepEqual(goferChildren(), [next]);
  t.is(await errnoOf(g.attach(0)), EIO);
  t.is(deaths, 0);
});

/** runNode runs a script as an ES module in a new Node process and returns its stdout, or fails after 10 s. */
function runNode(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout));
  });
}

test.serial('neither the spare nor an idle Gofer keeps Node alive, and both die with their parent', async (t) => {
  const { root } = makeTree(t);
  const out = await runNode(`
    const { prestartGofer, spareGoferPid, startGofer } = await import(${JSON.stringify(CLIENT)});
    prestartGofer();
    const spare = spareGoferPid();
    const g = await startGofer({ mounts: [{ hostPath: ${JSON.stringify(root)}, writable: true }] });
    await g.stat((await g.attach(0)).handle);
    console.log(JSON.stringify([spare, g.pid]));
  `);
  const [spare, used] = JSON.parse(out) as number[];
  t.is(spare, used);
  t.true(await waitUntil(() => gone(used), 3000));
  const lone = await runNode(`
    const { prestartGofer, spareGoferPid } = await import(${JSON.stringify(CLIENT)});
    prestartGofer();
    console.log(spareGoferPid());
  `);
  t.true(await waitUntil(() => gone(Number(lone)), 3000));
});
