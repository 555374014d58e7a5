// strace.ts formats a system call the way strace prints it:
// name(args) = result, with errors as `-1 ENOENT (No such file...)`.
import type { Task } from './kernel/task.js';
import type { Entry } from './syscalls/table.js';
import { errnoName } from './errno.js';

const MAX_STRING = 32;

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
      case 'r': return result >= 0 ? peek(t, v, result) : '0x' + v.toString(16);
      default: return String(v);
    }
  });
  const name = e.name || `syscall_${nr}`;
  const res = result < 0 && result > -4096 ? `-1 ${errnoName(-result)}` : result > 0xffff ? '0x' + result.toString(16) : String(result);
  return `${name}(${parts.join(', ')}) = ${res}`;
}
