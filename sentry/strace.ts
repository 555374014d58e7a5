// strace.ts formats a system call the way strace prints it:
// name(args) = result, with errors as `-1 ENOENT (No such file...)`.
import type { Task } from './kernel/task.js';
import type { Entry } from './syscalls/table.js';
import { errnoName } from './errno.js';

const MAX_STRING = 32;

/** ERRNO_TEXT is strerror's text for the errnos the Sentry returns. */
const ERRNO_TEXT: Record<string, string> = {
  EPERM: 'Operation not permitted', ENOENT: 'No such file or directory', ESRCH: 'No such process',
  EINTR: 'Interrupted system call', EIO: 'Input/output error', ENOEXEC: 'Exec format error', EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable', ENOMEM: 'Cannot allocate memory', EACCES: 'Permission denied',
  EFAULT: 'Bad address', EEXIST: 'File exists', ENODEV: 'No such device', ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory', EINVAL: 'Invalid argument', EMFILE: 'Too many open files',
  ENOTTY: 'Inappropriate ioctl for device', ESPIPE: 'Illegal seek', EROFS: 'Read-only file system',
  EPIPE: 'Broken pipe', ERANGE: 'Numerical result out of range', ENAMETOOLONG: 'File name too long',
  ENOSYS: 'Function not implemented', ELOOP: 'Too many levels of symbolic links', EOPNOTSUPP: 'Operation not supported',
  ETIMEDOUT: 'Connection timed out', EBUSY: 'Device or resource busy', ENOPKG: 'Package not installed',
  ENOTSOCK: 'Socket operation on non-socket', EDESTADDRREQ: 'Destination address required', EMSGSIZE: 'Message too long',
  EPROTOTYPE: 'Protocol wrong type for socket', ENOPROTOOPT: 'Protocol not available',
  EPROTONOSUPPORT: 'Protocol not supported', ESOCKTNOSUPPORT: 'Socket type not supported',
  EAFNOSUPPORT: 'Address family not supported by protocol', EADDRINUSE: 'Address already in use',
  ECONNRESET: 'Connection reset by peer', ENOBUFS: 'No buffer space available',
  EISCONN: 'Transport endpoint is already connected', ENOTCONN: 'Transport endpoint is not connected',
  ECONNREFUSED: 'Connection refused', EXDEV: 'Invalid cross-device link', ENXIO: 'No such device or address',
};

/** NAMED gives symbolic names to some argument values, by argument kind. */
const NAMED: Record<string, Record<number, string>> = {
  a: { 0x1001: 'ARCH_SET_GS', 0x1002: 'ARCH_SET_FS', 0x1003: 'ARCH_GET_FS', 0x1004: 'ARCH_GET_GS' },
  i: { 0x5401: 'TCGETS', 0x5413: 'TIOCGWINSZ', 0x541b: 'FIONREAD', 0x5421: 'FIONBIO', 0x5450: 'FIONCLEX', 0x5451: 'FIOCLEX' },
  E: { 1: 'EPOLL_CTL_ADD', 2: 'EPOLL_CTL_DEL', 3: 'EPOLL_CTL_MOD' },
  k: { 0: 'CLOCK_REALTIME', 1: 'CLOCK_MONOTONIC', 7: 'CLOCK_BOOTTIME', 8: 'CLOCK_REALTIME_ALARM', 9: 'CLOCK_BOOTTIME_ALARM' },
  F: { 0: 'AF_UNSPEC', 1: 'AF_UNIX', 2: 'AF_INET', 10: 'AF_INET6', 16: 'AF_NETLINK', 17: 'AF_PACKET' },
  L: { 1: 'SOL_SOCKET' },
  O: {
    1: 'SO_DEBUG', 2: 'SO_REUSEADDR', 3: 'SO_TYPE', 4: 'SO_ERROR', 7: 'SO_SNDBUF', 8: 'SO_RCVBUF', 9: 'SO_KEEPALIVE',
    13: 'SO_LINGER', 15: 'SO_REUSEPORT', 16: 'SO_PASSCRED', 17: 'SO_PEERCRED', 20: 'SO_RCVTIMEO', 21: 'SO_SNDTIMEO',
    30: 'SO_ACCEPTCONN', 38: 'SO_PROTOCOL', 39: 'SO_DOMAIN',
  },
  H: { 0: 'SHUT_RD', 1: 'SHUT_WR', 2: 'SHUT_RDWR' },
};

/** SOCKET_TYPES names a socket's type; SOCKET_FLAGS the flags socket(2) takes with it. */
const SOCKET_TYPES: Record<number, string> = { 1: 'SOCK_STREAM', 2: 'SOCK_DGRAM', 3: 'SOCK_RAW', 5: 'SOCK_SEQPACKET' };
const SOCKET_FLAGS: [number, string][] = [[0x800, 'SOCK_NONBLOCK'], [0x80000, 'SOCK_CLOEXEC']];

/** socketType renders socket(2)'s type argument as strace does: SOCK_STREAM|SOCK_CLOEXEC. */
function socketType(v: number): string {
  const parts = [SOCKET_TYPES[v & 0xf] ?? String(v & 0xf)];
  let rest = v & ~0xf;
  for (const [bit, name] of SOCKET_FLAGS) {
    if (rest & bit) parts.push(name);
    rest &= ~bit;
  }
  if (rest) parts.push('0x' + rest.toString(16));
  return parts.join('|');
}

/** NO_RETURN are the calls strace shows as `= ?`: they never return. */
const NO_RETURN = new Set(['exit', 'exit_group']);

function quote(b: Uint8Array, truncated: boolean): string {
  let s = '"';
  for (const c of b) {
    if (c === 0x0a) s += '\\n';
    else if (c === 0x09) s += '\\t';
    else if (c === 0x22) s += '\\"';
    else if (c === 0x5c) s += '\\\\';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\' + c.toString(8);
  }
  return s + '"' + (truncated ? '...' : '');
}

function peek(t: Task, addr: number, len: number): string {
  try {
    const n = Math.min(len, MAX_STRING);
    return quote(t.mm.copyIn(addr, n), len > MAX_STRING);
  } catch {
    return '0x' + addr.toString(16);
  }
}

/** formatCall renders one completed syscall; values are the argument registers before the call. */
export function formatCall(t: Task, e: Entry, nr: number, values: number[], result: number): string {
  const spec = e.args ? e.args.split(',') : [];
  const parts = spec.map((kind, i) => {
    const v = values[i];
    switch (kind) {
      case 'd': return String(v >= 0x80000000 && v < 0x100000000 ? v - 0x100000000 : v > 2 ** 53 ? -1 : v);
      case 'u': return String(v);
      case 'x': return '0x' + v.toString(16);
      case 'p': return v === 0 ? 'NULL' : '0x' + v.toString(16);
      case 's': {
        try {
          const s = t.mm.readString(v, 4096);
          return s === undefined ? '0x' + v.toString(16) : JSON.stringify(s);
        } catch {
          return '0x' + v.toString(16);
        }
      }
      case 'w': return peek(t, v, values[i + 1]);
      case 'v': return iovecs(t, v, values[i + 1]);
      case 'a':
      case 'i':
      case 'E':
      case 'F':
      case 'L':
      case 'O':
      case 'H':
      case 'k': return NAMED[kind][v] ?? '0x' + v.toString(16);
      case 'T': return socketType(v);
      case 'r': return result >= 0 ? peek(t, v, result) : '0x' + v.toString(16);
      default: return String(v);
    }
  });
  const name = e.name || `syscall_${nr}`;
  let res: string;
  if (NO_RETURN.has(name)) {
    res = '?';
  } else if (result < 0 && result > -4096) {
    const code = errnoName(-result);
    res = `-1 ${code}` + (ERRNO_TEXT[code] ? ` (${ERRNO_TEXT[code]})` : '');
  } else {
    res = result > 0xffff ? '0x' + result.toString(16) : String(result);
  }
  return `${name}(${parts.join(', ')}) = ${res}`;
}

/** iovecs renders an iovec array as strace does. */
function iovecs(t: Task, addr: number, count: number): string {
  try {
    const raw = t.mm.copyIn(addr, Math.min(count, 8) * 16);
    const v = new DataView(raw.buffer);
    const items = [];
    for (let i = 0; i < Math.min(count, 8); i++) {
      const base = Number(v.getBigUint64(i * 16, true));
      const len = Number(v.getBigUint64(i * 16 + 8, true));
      items.push(`{iov_base=${len === 0 ? '""' : peek(t, base, len)}, iov_len=${len}}`);
    }
    return `[${items.join(', ')}${count > 8 ? ', ...' : ''}]`;
  } catch {
    return '0x' + addr.toString(16);
  }
}
