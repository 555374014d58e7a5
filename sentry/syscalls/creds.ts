// creds.ts: the calls that read and change who a task is: user and group
// ids (real, effective, saved, filesystem), supplementary groups and
// capabilities, with Linux's permission rules (kernel/sys.c,
// kernel/capability.c). The credentials themselves and their capability
// rules are kernel/credentials.ts's.
import type { Task } from '../kernel/task.js';
import type { SyscallArgs } from './args.js';
import { full } from './table.js';
import { EINVAL, EPERM, ESRCH } from '../errno.js';
import { CAP_FULL, CAP_SETGID, CAP_SETPCAP, CAP_SETUID, NGROUPS_MAX, NO_ID, type Credentials } from '../kernel/credentials.js';

export const getuid = (t: Task) => t.creds.uid;
export const geteuid = (t: Task) => t.creds.euid;
export const getgid = (t: Task) => t.creds.gid;
export const getegid = (t: Task) => t.creds.egid;

/** setuid implements setuid(2): with CAP_SETUID every uid changes; without, the effective one, to the real or saved uid. */
export function setuid(t: Task, a: SyscallArgs): number {
  const uid = a.uint(0);
  if (uid === NO_ID) throw EINVAL;
  const c = t.creds;
  const old = { uid: c.uid, euid: c.euid, suid: c.suid };
  if (c.capable(CAP_SETUID)) c.uid = c.suid = uid;
  else if (uid !== c.uid && uid !== c.suid) throw EPERM;
  c.euid = c.fsuid = uid;
  c.changedUids(old);
  return 0;
}

/** setgid implements setgid(2), as setuid does for groups. */
export function setgid(t: Task, a: SyscallArgs): number {
  const gid = a.uint(0);
  if (gid === NO_ID) throw EINVAL;
  const c = t.creds;
  if (c.capable(CAP_SETGID)) c.gid = c.sgid = gid;
  else if (gid !== c.gid && gid !== c.sgid) throw EPERM;
  c.egid = c.fsgid = gid;
  return 0;
}

/**
 * Ids are one kind of id in a Credentials (user or group): the names of
 * its real, effective, saved and filesystem fields, and the capability
 * that lets a task set them freely.
 */
interface Ids {
  real: 'uid' | 'gid';
  effective: 'euid' | 'egid';
  saved: 'suid' | 'sgid';
  fs: 'fsuid' | 'fsgid';
  cap: number;
}
const UIDS: Ids = { real: 'uid', effective: 'euid', saved: 'suid', fs: 'fsuid', cap: CAP_SETUID };
const GIDS: Ids = { real: 'gid', effective: 'egid', saved: 'sgid', fs: 'fsgid', cap: CAP_SETGID };

/**
 * setRealEffective is setreuid(2) and setregid(2): without the
 * capability, the real id may become the effective one and the effective
 * id the real or saved one. Setting the real id, or an effective id other
 * than the old real one, makes the saved id the new effective one.
 */
function setRealEffective(t: Task, k: Ids, real: number, effective: number): number {
  const c = t.creds;
  const old = { uid: c.uid, euid: c.euid, suid: c.suid };
  const oldReal = c[k.real], oldEffective = c[k.effective], oldSaved = c[k.saved];
  const capable = c.capable(k.cap);
  if (real !== NO_ID && real !== oldReal && real !== oldEffective && !capable) throw EPERM;
  if (effective !== NO_ID && effective !== oldReal && effective !== oldEffective && effective !== oldSaved && !capable) throw EPERM;
  if (real !== NO_ID) c[k.real] = real;
  if (effective !== NO_ID) c[k.effective] = effective;
  if (real !== NO_ID || (effective !== NO_ID && effective !== oldReal)) c[k.saved] = c[k.effective];
  c[k.fs] = c[k.effective];
  if (k === UIDS) c.changedUids(old);
  return 0;
}

export const setreuid = (t: Task, a: SyscallArgs) => setRealEffective(t, UIDS, a.uint(0), a.uint(1));
export const setregid = (t: Task, a: SyscallArgs) => setRealEffective(t, GIDS, a.uint(0), a.uint(1));

/**
 * setAll is setresuid(2) and setresgid(2): each id not -1 is set; without
 * the capability, only to one of the old real, effective and saved ids.
 */
function setAll(t: Task, k: Ids, real: number, effective: number, saved: number): number {
  const c = t.creds;
  const olds = [c[k.real], c[k.effective], c[k.saved]];
  const unchanged = (real === NO_ID || real === c[k.real]) &&
    (effective === NO_ID || (effective === c[k.effective] && effective === c[k.fs])) &&
    (saved === NO_ID || saved === c[k.saved]);
  if (unchanged) return 0;
  const fresh = (id: number) => id !== NO_ID && !olds.includes(id);
  if ((fresh(real) || fresh(effective) || fresh(saved)) && !c.capable(k.cap)) throw EPERM;
  const old = { uid: c.uid, euid: c.euid, suid: c.suid };
  if (real !== NO_ID) c[k.real] = real;
  if (effective !== NO_ID) c[k.effective] = effective;
  if (saved !== NO_ID) c[k.saved] = saved;
  c[k.fs] = c[k.effective];
  if (k === UIDS) c.changedUids(old);
  return 0;
}

export const setresuid = (t: Task, a: SyscallArgs) => setAll(t, UIDS, a.uint(0), a.uint(1), a.uint(2));
export const setresgid = (t: Task, a: SyscallArgs) => setAll(t, GIDS, a.uint(0), a.uint(1), a.uint(2));

/** getAll is getresuid(2) and getresgid(2): the real, effective and saved ids, written one after the other. */
function getAll(t: Task, k: Ids, a: SyscallArgs): number {
  const c = t.creds;
  t.mm.writeU32(a.pointer(0), c[k.real]);
  t.mm.writeU32(a.pointer(1), c[k.effective]);
  t.mm.writeU32(a.pointer(2), c[k.saved]);
  return 0;
}

export const getresuid = (t: Task, a: SyscallArgs) => getAll(t, UIDS, a);
export const getresgid = (t: Task, a: SyscallArgs) => getAll(t, GIDS, a);

/**
 * setFs is setfsuid(2) and setfsgid(2): the filesystem id becomes one of
 * the real, effective, saved or filesystem ids (any id with the
 * capability); the call returns the old one whether it changed or not.
 */
function setFs(t: Task, k: Ids, id: number): number {
  const c = t.creds;
  const old = c[k.fs];
  if (id === NO_ID || id === old) return old;
  if (![c[k.real], c[k.effective], c[k.saved]].includes(id) && !c.capable(k.cap)) return old;
  c[k.fs] = id;
  if (k === UIDS) c.changedFsuid(old);
  return old;
}

export const setfsuid = (t: Task, a: SyscallArgs) => setFs(t, UIDS, a.uint(0));
export const setfsgid = (t: Task, a: SyscallArgs) => setFs(t, GIDS, a.uint(0));

/** getgroups implements getgroups(2): the count for size 0, else EINVAL unless all fit. */
export function getgroups(t: Task, a: SyscallArgs): number {
  const size = a.int(0);
  const groups = t.creds.groups;
  if (size < 0) throw EINVAL;
  if (size === 0) return groups.length;
  if (size < groups.length) throw EINVAL;
  const b = new Uint8Array(groups.length * 4);
  const v = new DataView(b.buffer);
  groups.forEach((g, i) => v.setUint32(i * 4, g, true));
  t.mm.copyOut(a.pointer(1), b);
  return groups.length;
}

/** setgroups implements setgroups(2): CAP_SETGID is needed; the list is kept sorted. */
export function setgroups(t: Task, a: SyscallArgs): number {
  const size = a.uint(0);
  if (!t.creds.capable(CAP_SETGID)) throw EPERM;
  if (size > NGROUPS_MAX) throw EINVAL;
  const groups: number[] = [];
  if (size > 0) {
    const v = new DataView(t.mm.copyIn(a.pointer(1), size * 4).buffer);
    for (let i = 0; i < size; i++) groups.push(v.getUint32(i * 4, true));
  }
  if (groups.includes(NO_ID)) throw EINVAL;
  t.creds.groups = groups.sort((x, y) => x - y);
  return 0;
}

/** The versions of capget's and capset's header: version 1 moves 32 bits of each set, 2 and 3 all 64. */
const CAP_V1 = 0x19980330, CAP_V2 = 0x20071026, CAP_V3 = 0x20080522;

/**
 * capWords reads the header's version: how many 32-bit words of each set
 * the call moves. An unknown one fails with EINVAL, and the header is
 * given the version the kernel prefers.
 */
function capWords(t: Task, header: number): number {
  const version = t.mm.readU32(header);
  if (version === CAP_V1) return 1;
  if (version === CAP_V2 || version === CAP_V3) return 2;
  t.mm.writeU32(header, CAP_V3);
  throw EINVAL;
}

/** capTarget finds whose capabilities capget reads: the caller (pid 0 or its own), or another process of the sandbox. */
function capTarget(t: Task, pid: number): Credentials {
  if (pid < 0) throw EINVAL;
  if (pid === 0 || pid === t.tid) return t.creds;
  const p = t.proc.ns.get(pid);
  if (!p) throw ESRCH;
  return p.task.creds;
}

/**
 * capget implements capget(2): each word is {effective, permitted,
 * inheritable}. A null data pointer only checks the version: an unknown
 * one is then answered with 0, after the preferred version is written.
 */
export function capget(t: Task, a: SyscallArgs): number {
  const header = a.pointer(0);
  const data = a.pointer(1);
  let words;
  try {
    words = capWords(t, header);
  } catch (err) {
    if (data === 0 && err === EINVAL) return 0;
    throw err;
  }
  if (data === 0) return 0;
  const c = capTarget(t, new DataView(t.mm.copyIn(header + 4, 4).buffer).getInt32(0, true));
  const b = new Uint8Array(12 * words);
  const v = new DataView(b.buffer);
  for (let i = 0; i < words; i++) {
    const word = (set: bigint) => Number((set >> BigInt(32 * i)) & 0xffffffffn);
    v.setUint32(i * 12, word(c.effective), true);
    v.setUint32(i * 12 + 4, word(c.permitted), true);
    v.setUint32(i * 12 + 8, word(c.inheritable), true);
  }
  t.mm.copyOut(data, b);
  return 0;
}

/**
 * capset implements capset(2) for the caller (another pid: EPERM). The new
 * permitted set may only shrink, the effective set stays within it, and
 * the inheritable set may gain only what is permitted (anything with
 * CAP_SETPCAP) and within the bounding set.
 */
export function capset(t: Task, a: SyscallArgs): number {
  const header = a.pointer(0);
  const words = capWords(t, header);
  const pid = new DataView(t.mm.copyIn(header + 4, 4).buffer).getInt32(0, true);
  if (pid !== 0 && pid !== t.tid) throw EPERM;
  const v = new DataView(t.mm.copyIn(a.pointer(1), 12 * words).buffer);
  const set = (field: number) => {
    let s = 0n;
    for (let i = 0; i < words; i++) s |= BigInt(v.getUint32(i * 12 + field, true)) << BigInt(32 * i);
    return s & CAP_FULL;
  };
  const effective = set(0), permitted = set(4), inheritable = set(8);
  const c = t.creds;
  const within = (s: bigint, of: bigint) => (s & ~of) === 0n;
  if (!c.capable(CAP_SETPCAP) && !within(inheritable, c.inheritable | c.permitted)) throw EPERM;
  if (!within(inheritable, c.inheritable | c.bounding)) throw EPERM;
  if (!within(permitted, c.permitted)) throw EPERM;
  if (!within(effective, permitted)) throw EPERM;
  c.effective = effective;
  c.permitted = permitted;
  c.inheritable = inheritable;
  return 0;
}

export function register(): void {
  full(102, getuid);
  full(104, getgid);
  full(107, geteuid);
  full(108, getegid);
  full(105, setuid, 'u');
  full(106, setgid, 'u');
  full(113, setreuid, 'd,d');
  full(114, setregid, 'd,d');
  full(117, setresuid, 'd,d,d');
  full(119, setresgid, 'd,d,d');
  full(118, getresuid, 'p,p,p');
  full(120, getresgid, 'p,p,p');
  full(122, setfsuid, 'u');
  full(123, setfsgid, 'u');
  full(115, getgroups, 'd,p');
  full(116, setgroups, 'd,p');
  full(125, capget, 'p,p');
  full(126, capset, 'p,p');
}
