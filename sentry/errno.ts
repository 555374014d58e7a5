// errno.ts: Linux errno values as preallocated SyscallError singletons,
// compared by identity and never built on a hot path.

/** SyscallError is the one kind of error a syscall handler throws. */
export class SyscallError extends Error {
  constructor(readonly errno: number, readonly code: string) {
    super(code);
  }
}

function e(errno: number, code: string): SyscallError {
  const err = new SyscallError(errno, code);
  byNumber[errno] = err;
  return err;
}
const byNumber: SyscallError[] = [];

export const EPERM = e(1, 'EPERM');
export const ENOENT = e(2, 'ENOENT');
export const ESRCH = e(3, 'ESRCH');
export const EINTR = e(4, 'EINTR');
export const EIO = e(5, 'EIO');
export const ENXIO = e(6, 'ENXIO');
export const E2BIG = e(7, 'E2BIG');
export const ENOEXEC = e(8, 'ENOEXEC');
export const EBADF = e(9, 'EBADF');
export const ECHILD = e(10, 'ECHILD');
export const EAGAIN = e(11, 'EAGAIN');
export const ENOMEM = e(12, 'ENOMEM');
export const EACCES = e(13, 'EACCES');
export const EFAULT = e(14, 'EFAULT');
export const EBUSY = e(16, 'EBUSY');
export const EEXIST = e(17, 'EEXIST');
export const EXDEV = e(18, 'EXDEV');
export const ENODEV = e(19, 'ENODEV');
export const ENOTDIR = e(20, 'ENOTDIR');
export const EISDIR = e(21, 'EISDIR');
export const EINVAL = e(22, 'EINVAL');
export const EMFILE = e(24, 'EMFILE');
export const ENOTTY = e(25, 'ENOTTY');
export const EFBIG = e(27, 'EFBIG');
export const ENOSPC = e(28, 'ENOSPC');
export const ESPIPE = e(29, 'ESPIPE');
export const EROFS = e(30, 'EROFS');
export const EMLINK = e(31, 'EMLINK');
export const EPIPE = e(32, 'EPIPE');
export const ERANGE = e(34, 'ERANGE');
export const EDEADLK = e(35, 'EDEADLK');
export const ENAMETOOLONG = e(36, 'ENAMETOOLONG');
export const ENOLCK = e(37, 'ENOLCK');
export const ENOSYS = e(38, 'ENOSYS');
export const ENOTEMPTY = e(39, 'ENOTEMPTY');
export const ELOOP = e(40, 'ELOOP');
export const ENODATA = e(61, 'ENODATA');
export const ENOPKG = e(65, 'ENOPKG');
export const EOVERFLOW = e(75, 'EOVERFLOW');
export const ENOTSOCK = e(88, 'ENOTSOCK');
export const EDESTADDRREQ = e(89, 'EDESTADDRREQ');
export const EMSGSIZE = e(90, 'EMSGSIZE');
export const EPROTOTYPE = e(91, 'EPROTOTYPE');
export const ENOPROTOOPT = e(92, 'ENOPROTOOPT');
export const EPROTONOSUPPORT = e(93, 'EPROTONOSUPPORT');
export const ESOCKTNOSUPPORT = e(94, 'ESOCKTNOSUPPORT');
export const EOPNOTSUPP = e(95, 'EOPNOTSUPP');
export const EAFNOSUPPORT = e(97, 'EAFNOSUPPORT');
export const EADDRINUSE = e(98, 'EADDRINUSE');
export const ECONNRESET = e(104, 'ECONNRESET');
export const ENOBUFS = e(105, 'ENOBUFS');
export const EISCONN = e(106, 'EISCONN');
export const ENOTCONN = e(107, 'ENOTCONN');
export const ETIMEDOUT = e(110, 'ETIMEDOUT');
export const ECONNREFUSED = e(111, 'ECONNREFUSED');

// The restart codes: a blocking call that a signal interrupted fails with
// one of these, and the return to user mode (kernel/deliver.ts) makes it
// EINTR or restarts it, as Linux does. Programs never see them.
/** ERESTARTSYS: restart if the handler has SA_RESTART (or there is no handler), else EINTR. */
export const ERESTARTSYS = e(512, 'ERESTARTSYS');
/** ERESTARTNOINTR: always restart. */
export const ERESTARTNOINTR = e(513, 'ERESTARTNOINTR');
/** ERESTARTNOHAND: restart only when no handler runs (pause, sigsuspend, poll), else EINTR. */
export const ERESTARTNOHAND = e(514, 'ERESTARTNOHAND');
/** ERESTART_RESTARTBLOCK: EINTR when a handler runs, else restart_syscall(2) runs the task's restart function. */
export const ERESTART_RESTARTBLOCK = e(516, 'ERESTART_RESTARTBLOCK');

/** errnoName returns the symbolic name of an errno, for strace output. */
export function errnoName(errno: number): string {
  return byNumber[errno]?.code ?? `E${errno}`;
}

/** fromErrno returns the error for an errno number (from the host or the Gofer). */
export function fromErrno(errno: number): SyscallError {
  return byNumber[errno] ?? new SyscallError(errno, `E${errno}`);
}
