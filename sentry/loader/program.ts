// program.ts finds and reads the program to run, in the sandbox's own
// file tree (through the VFS, so through the Gofer): the Sentry opens no
// host file itself.
import { S_IFDIR, S_IFMT, S_IFREG } from '../vfs/node.js';
import { O_RDONLY } from '../vfs/file.js';
import { SyscallError } from '../errno.js';
import type { Dentry, Vfs } from '../vfs/vfs.js';
import type { FileMemory, PageCache } from '../mm/page-cache.js';

/** LoadError is a program that cannot be run, with a message for the user. */
export class LoadError extends Error {
  constructor(message: string, readonly errno: number) {
    super(message);
  }
}

/** MAX_INTERPRETERS bounds how many #! scripts may lead to one another (Linux's is 4 levels, then ELOOP). */
export const MAX_INTERPRETERS = 4;

/** Script is what a #! line says: the interpreter, and the argument list it is run with. */
export interface Script {
  interpreter: string;
  /** argv is the interpreter's argument list for a script named `path` and run with `argv`. */
  argv(path: string, argv: string[]): string[];
}

/**
 * scriptOf reads a file's #! line: undefined when the file does not start
 * with #!, 'malformed' when the line names no interpreter (ENOEXEC).
 */
export function scriptOf(image: FileMemory): Script | 'malformed' | undefined {
  const head = image.read(0, 256);
  if (head.length < 2 || head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  const line = head.subarray(2).toString('latin1').split('\n')[0].replace(/^[ \t]+/, '');
  const m = /^(\S+)(?:[ \t]+(.*?))?[ \t]*$/.exec(line);
  if (!m) return 'malformed';
  const [, interpreter, arg] = m;
  return { interpreter, argv: (path, argv) => [interpreter, ...(arg ? [arg] : []), path, ...argv.slice(1)] };
}

/** MAX_PROGRAM is the largest program file the loader reads (1 GiB). */
const MAX_PROGRAM = 1 << 30;

/**
 * findProgram resolves a program name as execvp would: a name with a
 * slash is a path (relative to cwd); otherwise it is searched in the PATH
 * given. It returns the path that names it and its dentry.
 */
export async function findProgram(vfs: Vfs, cwd: Dentry, name: string, path: string): Promise<{ path: string; dentry: Dentry }> {
  if (name.includes('/')) {
    const abs = name.startsWith('/') ? name : (cwd.path === '/' ? '' : cwd.path) + '/' + name;
    return { path: abs, dentry: await resolveProgram(vfs, cwd, abs) };
  }
  for (const dir of path.split(':')) {
    if (!dir) continue;
    const candidate = `${dir.replace(/\/$/, '')}/${name}`;
    try {
      const d = await vfs.resolve(cwd, candidate, { follow: true });
      if (((await d.node.attr()).mode & S_IFMT) === S_IFREG) return { path: candidate, dentry: d };
    } catch {
      // not in this directory
    }
  }
  throw new LoadError(`${name}: command not found`, 2);
}

export async function resolveProgram(vfs: Vfs, cwd: Dentry, path: string): Promise<Dentry> {
  try {
    return await vfs.resolve(cwd, path, { follow: true });
  } catch (err) {
    const code = err instanceof SyscallError ? err.code : String(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new LoadError(`${path}: no such file or directory`, 2);
    throw new LoadError(`${path}: cannot be read (${code})`, 13);
  }
}

/**
 * readProgram gives a program file's contents, through the page cache,
 * with a reference the caller drops (FileMemory.unref) once it has mapped
 * them; it checks that the file is a regular, executable file.
 */
export async function readProgram(vfs: Vfs, cache: PageCache, d: Dentry, path: string): Promise<FileMemory> {
  const a = await d.node.attr();
  const type = a.mode & S_IFMT;
  if (type === S_IFDIR) throw new LoadError(`${path}: is a directory`, 21);
  if (type !== S_IFREG) throw new LoadError(`${path}: is not a regular file`, 13);
  if ((a.mode & 0o111) === 0) throw new LoadError(`${path}: permission denied (not executable)`, 13);
  if (a.size > MAX_PROGRAM) throw new LoadError(`${path}: is larger than 1 GiB`, 7);
  let image: FileMemory | undefined;
  try {
    image = cache.get(await d.node.contentKey(), a.size);
    await image.ensure(async () => {
      const file = await vfs.openDentry(d, O_RDONLY);
      return { file, close: () => file.release() };
    });
    return image;
  } catch (err) {
    image?.unref();
    const code = err instanceof SyscallError ? err.code : String(err);
    if (code === 'ENOMEM') throw new LoadError(`${path}: needs more memory than the sandbox allows`, 12);
    throw new LoadError(`${path}: cannot be read (${code})`, 13);
  }
}
