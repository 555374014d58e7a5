// host-program.ts is the one place where the Sentry reads a file from the
// host itself: the program to run. The Gofer (issue 5) replaces it; until
// then nothing else in the Sentry opens host files.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** LoadError is a program that cannot be run, with a message for the user. */
export class LoadError extends Error {
  constructor(message: string, readonly errno: number) {
    super(message);
  }
}

/**
 * findHostProgram resolves a program name as execvp would: a name with a
 * slash is a path (relative to the host's cwd); otherwise it is searched
 * in the PATH given.
 */
export function findHostProgram(name: string, path: string): string {
  if (name.includes('/')) return isAbsolute(name) ? name : resolve(name);
  for (const dir of path.split(':')) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new LoadError(`${name}: command not found`, 2);
}

/** readHostProgram reads a program file from the host. */
export function readHostProgram(path: string): Buffer {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new LoadError(`${path}: no such file or directory`, 2);
    throw new LoadError(`${path}: cannot be read (${code})`, 13);
  }
  if (st.isDirectory()) throw new LoadError(`${path}: is a directory`, 21);
  if (!st.isFile()) throw new LoadError(`${path}: is not a regular file`, 13);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new LoadError(`${path}: permission denied (not executable)`, 13);
  }
  return readFileSync(path);
}
