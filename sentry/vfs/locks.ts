// locks.ts: POSIX record locks (F_SETLK and friends) and open file
// description locks (F_OFD_SETLK), per file. A process's classic locks
// are owned by the process and dropped when it closes any fd of the file;
// an OFD lock is owned by its open file description. Locks of different
// owners conflict when they overlap and one of them is a write lock.
import { EAGAIN } from '../errno.js';
import type { FileDescription } from './file.js';
import type { VNode } from './node.js';

export const F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;

/** Owner is a process (its pid) or an open file description. */
export type Owner = number | FileDescription;

export interface Lock {
  owner: Owner;
  type: number;
  start: number;
  /** end is exclusive; Infinity for "to the end of the file and beyond". */
  end: number;
}

const byNode = new WeakMap<VNode, Lock[]>();

/** conflict returns a lock of another owner that `want` would conflict with. */
export function conflict(node: VNode, want: Lock): Lock | undefined {
  return (byNode.get(node) ?? []).find((l) => l.owner !== want.owner && l.start < want.end && want.start < l.end &&
    (l.type === F_WRLCK || want.type === F_WRLCK));
}

/** setLock sets (or with F_UNLCK clears) the owner's lock on a range; EAGAIN on conflict. */
export function setLock(node: VNode, want: Lock): void {
  if (want.type !== F_UNLCK && conflict(node, want)) throw EAGAIN;
  const kept: Lock[] = [];
  for (const l of byNode.get(node) ?? []) {
    if (l.owner !== want.owner || l.end <= want.start || want.end <= l.start) {
      kept.push(l);
      continue;
    }
    // Keep what lies outside the new range.
    if (l.start < want.start) kept.push({ ...l, end: want.start });
    if (l.end > want.end) kept.push({ ...l, start: want.end });
  }
  if (want.type !== F_UNLCK) kept.push(want);
  byNode.set(node, kept);
}

/** dropOwner removes every lock an owner holds on a file. */
export function dropOwner(node: VNode, owner: Owner): void {
  const locks = byNode.get(node);
  if (locks) byNode.set(node, locks.filter((l) => l.owner !== owner));
}
