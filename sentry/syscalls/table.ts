// table.ts: the syscall table, one entry per x86-64 syscall number: name,
// handler and how it is supported. The same table feeds --strace and is the
// compatibility list (see `tvisorSupport()`).
import { SYSCALL_NAMES } from './names.js';
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';

/** Handler implements one syscall; it returns the result or throws a SyscallError. */
export type Handler = (t: Task, a: SyscallArgs) => number | Promise<number>;

export type Support = 'full' | 'partial' | 'none';

/**
 * ArgFormat tells strace how to print each argument: d int, u unsigned,
 * x hex, p pointer, s string, w buffer written by the program (length in
 * the next argument), r buffer read back (length is the result), v
 * iovecs; named values: a arch_prctl code, i ioctl request, E epoll_ctl
 * op, k clock, F address family, T socket type, L socket option level,
 * O socket option, H shutdown's how.
 */
export interface Entry {
  name: string;
  handler: Handler | undefined;
  support: Support;
  note: string;
  args: string;
}

export const table: Entry[] = SYSCALL_NAMES.map((name) => ({ name, handler: undefined, support: 'none', note: '', args: '' }));

/** full registers a handler with Linux semantics. */
export function full(nr: number, handler: Handler, args = ''): void {
  table[nr] = { name: SYSCALL_NAMES[nr], handler, support: 'full', note: '', args };
}

/** partial registers a handler that covers part of Linux's behaviour, and says which. */
export function partial(nr: number, handler: Handler, note: string, args = ''): void {
  table[nr] = { name: SYSCALL_NAMES[nr], handler, support: 'partial', note, args };
}

/** unsupported records why a syscall answers ENOSYS. */
export function unsupported(nr: number, note: string): void {
  table[nr] = { ...table[nr], note };
}
