// index.ts fills the syscall table from every subsystem's file.
import { register as file } from './file.js';
import { register as fs } from './fs.js';
import { register as futex } from './futex.js';
import { register as mm } from './mm.js';
import { register as process } from './process.js';
import { register as signal } from './signal.js';
import { register as time } from './time.js';
import { unsupported } from './table.js';

export function registerAll(): void {
  file();
  fs();
  futex();
  mm();
  process();
  signal();
  time();
  for (const nr of [56, 57, 58, 435]) unsupported(nr, 'processes and threads come with issues 6 and 7');
  unsupported(59, 'execve comes with issue 6');
}
