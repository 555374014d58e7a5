// ring.ts is the one definition of the ring that the Sentry (client.ts)
// and the Gofer process share: the layout of the memfd both map, the words
// they synchronise on, the operations and the shape of every request and
// reply. The Gofer is a C program (native/server.c); it reads all of this
// from native/ring-abi.h, which scripts/gen-abi.ts generates from this file,
// so the two sides cannot disagree on a message.
//
// The memfd holds a header page of 32-bit words, then SLOT_COUNT message
// areas, then SLOT_COUNT data areas. A slot carries one call at a time:
//
//   FREE --Sentry writes a request--> REQUEST --Gofer writes the reply--> REPLY
//        <------------------ Sentry reads the reply ----------------------'
//
// The Sentry posts calls into slots in turn (0, 1, ..., SLOT_COUNT-1, 0, ...)
// and the Gofer serves them in that same order, so calls are answered in
// the order they were made. A request and its reply are msgpack arrays
// (as msgpackr encodes them with useRecords: false) in the slot's message
// area: [op, ...arguments] and [0, ...results], or [errno] for a failure.
// File contents move through the slot's data area only: a read's bytes are
// pread there by the Gofer, a write's are copied there by the Sentry.
//
// Waiting: the Gofer spins briefly on the next slot, then announces
// GOFER_SLEEPING and sleeps on a futex on DOORBELL, which the Sentry bumps
// after every request; the Sentry calls FUTEX_WAKE only when the Gofer
// sleeps. The Sentry spins briefly for a reply, then announces
// SENTRY_SLEEPING and returns to its event loop; the Gofer writes a wake
// byte to its stdout pipe only when it finds that flag set. A busy ring
// therefore costs no system call per request.
import { constants } from 'node:os';
import type { Packr, Unpackr } from 'msgpackr';

const { EINVAL, ENOENT, ENAMETOOLONG } = constants.errno;

/** RING_MAGIC marks a ring of this layout; the Gofer refuses any other. */
export const RING_MAGIC = 0x47565402;

/** SLOT_COUNT is how many calls can be in the ring at once. */
export const SLOT_COUNT = 8;
/** MESSAGE_SIZE bounds one encoded request or reply. */
export const MESSAGE_SIZE = 64 * 1024;
/** DATA_SIZE bounds the bytes of one read or write; larger ones are split by the client. */
export const DATA_SIZE = 1024 * 1024;

const HEADER_SIZE = 4096;
const MESSAGES_OFFSET = HEADER_SIZE;
const DATA_OFFSET = MESSAGES_OFFSET + SLOT_COUNT * MESSAGE_SIZE;
export const RING_SIZE = DATA_OFFSET + SLOT_COUNT * DATA_SIZE;

/** messageOffset is where slot's message area starts in the ring. */
export function messageOffset(slot: number): number {
  return MESSAGES_OFFSET + slot * MESSAGE_SIZE;
}

/** dataOffset is where slot's data area starts in the ring. */
export function dataOffset(slot: number): number {
  return DATA_OFFSET + slot * DATA_SIZE;
}

/** Header words (indices into the Int32Array over the header page). */
export const MAGIC = 0;
/** DOORBELL counts requests; the Gofer sleeps on it. */
export const DOORBELL = 1;
/** GOFER_SLEEPING is 1 while the Gofer sleeps (or is about to) on DOORBELL. */
export const GOFER_SLEEPING = 2;
/** SENTRY_SLEEPING is 1 while the Sentry waits for a wake byte. */
export const SENTRY_SLEEPING = 3;
const SLOT_WORDS_BASE = 16;
const WORDS_PER_SLOT = 4;

/** Slot states. */
export const FREE = 0;
export const REQUEST = 1;
export const REPLY = 2;

/** stateWord is the index of slot's state word. */
export function stateWord(slot: number): number {
  return SLOT_WORDS_BASE + slot * WORDS_PER_SLOT;
}

/** requestLengthWord is the index of the word holding the length of slot's encoded request. */
export function requestLengthWord(slot: number): number {
  return SLOT_WORDS_BASE + slot * WORDS_PER_SLOT + 1;
}

/** replyLengthWord is the index of the word holding the length of slot's encoded reply. */
export function replyLengthWord(slot: number): number {
  return SLOT_WORDS_BASE + slot * WORDS_PER_SLOT + 2;
}

/** RingView is one side's view of a mapped ring. */
export class RingView {
  readonly words: Int32Array;
  private readonly messages: Uint8Array[] = [];
  private readonly datas: Uint8Array[] = [];

  constructor(readonly buffer: ArrayBuffer) {
    this.words = new Int32Array(buffer, 0, HEADER_SIZE / 4);
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      this.messages.push(new Uint8Array(buffer, messageOffset(slot), MESSAGE_SIZE));
      this.datas.push(new Uint8Array(buffer, dataOffset(slot), DATA_SIZE));
    }
  }

  /** message is slot's message area. */
  message(slot: number): Uint8Array {
    return this.messages[slot];
  }

  /** data is slot's data area. */
  data(slot: number): Uint8Array {
    return this.datas[slot];
  }
}

/** Op numbers the operations of api.ts's Gofer, plus Echo for tests. */
export const Op = {
  Attach: 1,
  Lookup: 2,
  Stat: 3,
  Open: 4,
  Create: 5,
  Read: 6,
  Write: 7,
  Readdir: 8,
  Readlink: 9,
  Mkdir: 10,
  Symlink: 11,
  Link: 12,
  Unlink: 13,
  Rename: 14,
  Truncate: 15,
  Chmod: 16,
  Chown: 17,
  Utimens: 18,
  Statfs: 19,
  Fsync: 20,
  Close: 21,
  /** Echo makes the Gofer reply with the given bytes, unchecked, as the raw reply: tests feed the client malformed replies with it. */
  Echo: 22,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

/**
 * KINDS are the shapes a value in a message can have:
 * - u32: an integer in [0, 2^32); handle: one in [1, 2^31)
 * - i32: an integer in [-2^31, 2^31)
 * - size: a safe integer >= 0 (offsets, lengths)
 * - string, bool, bytes (Uint8Array), cookie (bigint: a directory position)
 * - time: a bigint (nanoseconds) or null
 * - stat: STAT_FIELDS safe integers; statfs: STATFS_FIELDS safe integers
 * - entries: an array of [name: string, ino: size, type: u32]
 */
export const KINDS = [
  'u32', 'handle', 'i32', 'size', 'string', 'bool', 'bytes', 'cookie', 'time', 'stat', 'statfs', 'entries',
] as const;
export type Kind = (typeof KINDS)[number];

/** STAT_ORDER names the fields of a stat, in the order a reply carries them. */
export const STAT_ORDER = [
  'dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blksize', 'blocks',
  'atimeSec', 'atimeNsec', 'mtimeSec', 'mtimeNsec', 'ctimeSec', 'ctimeNsec',
] as const;
export const STAT_FIELDS = STAT_ORDER.length;
/** STATFS_ORDER names the fields of a statfs, in the order a reply carries them. */
export const STATFS_ORDER = ['type', 'bsize', 'blocks', 'bfree', 'bavail', 'files', 'ffree', 'namelen', 'frsize', 'flags'] as const;
export const STATFS_FIELDS = STATFS_ORDER.length;

const WALKED: Kind[] = ['handle', 'stat'];

/** MESSAGES gives, per operation, the kinds of the request's arguments and of the reply's results. */
export const MESSAGES: Record<Op, { request: Kind[]; reply: Kind[] }> = {
  [Op.Attach]: { request: ['u32'], reply: WALKED },
  [Op.Lookup]: { request: ['handle', 'string'], reply: WALKED },
  [Op.Stat]: { request: ['handle'], reply: ['stat'] },
  [Op.Open]: { request: ['handle', 'u32'], reply: ['handle', 'u32'] },
  [Op.Create]: { request: ['handle', 'string', 'u32', 'u32'], reply: WALKED },
  // Read and Write move [offset, offset+length) through the data area; length <= DATA_SIZE.
  [Op.Read]: { request: ['handle', 'size', 'size'], reply: ['size'] },
  [Op.Write]: { request: ['handle', 'size', 'size'], reply: ['size'] },
  // Readdir continues from a cookie (0n at the start); it replies with entries, the next cookie, and whether it reached the end.
  [Op.Readdir]: { request: ['handle', 'cookie'], reply: ['entries', 'cookie', 'bool'] },
  [Op.Readlink]: { request: ['handle'], reply: ['string'] },
  [Op.Mkdir]: { request: ['handle', 'string', 'u32'], reply: WALKED },
  [Op.Symlink]: { request: ['handle', 'string', 'string'], reply: WALKED },
  [Op.Link]: { request: ['handle', 'handle', 'string'], reply: [] },
  [Op.Unlink]: { request: ['handle', 'string', 'bool'], reply: [] },
  [Op.Rename]: { request: ['handle', 'string', 'handle', 'string', 'u32'], reply: [] },
  [Op.Truncate]: { request: ['handle', 'size'], reply: [] },
  [Op.Chmod]: { request: ['handle', 'u32'], reply: [] },
  [Op.Chown]: { request: ['handle', 'i32', 'i32'], reply: [] },
  [Op.Utimens]: { request: ['handle', 'time', 'time'], reply: [] },
  [Op.Statfs]: { request: ['handle'], reply: ['statfs'] },
  [Op.Fsync]: { request: ['handle'], reply: [] },
  [Op.Close]: { request: ['handle'], reply: [] },
  // Echo's arguments are the raw reply frame and the length to put in the reply's length word.
  [Op.Echo]: { request: ['bytes', 'u32'], reply: [] },
};

/** OP_NAMES names each operation, for diagnostics. */
export const OP_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Op).map(([name, op]) => [op, name.toLowerCase()]),
);

function isInt(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function isIntArray(v: unknown, length: number): boolean {
  return Array.isArray(v) && v.length === length && v.every((x) => Number.isSafeInteger(x));
}

function isEntry(v: unknown): boolean {
  return Array.isArray(v) && v.length === 3 && typeof v[0] === 'string' && v[0] !== ''
    && isInt(v[1], 0, Number.MAX_SAFE_INTEGER) && isInt(v[2], 0, 0xffffffff);
}

/** conforms reports whether value has the given kind. */
export function conforms(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'u32': return isInt(value, 0, 0xffffffff);
    case 'handle': return isInt(value, 1, 0x7fffffff);
    case 'i32': return isInt(value, -0x80000000, 0x7fffffff);
    case 'size': return isInt(value, 0, Number.MAX_SAFE_INTEGER);
    case 'string': return typeof value === 'string';
    case 'bool': return typeof value === 'boolean';
    case 'bytes': return value instanceof Uint8Array;
    case 'cookie': return typeof value === 'bigint';
    case 'time': return value === null || typeof value === 'bigint';
    case 'stat': return isIntArray(value, STAT_FIELDS);
    case 'statfs': return isIntArray(value, STATFS_FIELDS);
    case 'entries': return Array.isArray(value) && value.every(isEntry);
  }
}

/** conformsAll reports whether values[first...] are exactly the given kinds. */
export function conformsAll(values: unknown[], first: number, kinds: Kind[]): boolean {
  if (values.length !== first + kinds.length) return false;
  for (let i = 0; i < kinds.length; i++) if (!conforms(values[first + i], kinds[i])) return false;
  return true;
}

/** NAME_MAX is the longest name a directory entry may have, in bytes. */
export const NAME_MAX = 255;
/** SYMLINK_MAX is the longest symlink target, in bytes (PATH_MAX less its NUL). */
export const SYMLINK_MAX = 4095;

/**
 * nameError returns the errno for a name that is not one directory entry's
 * name ("", ".", "..", with "/" or NUL, too long), or 0. The Gofer refuses
 * such a name before any system call: it is what keeps every walk to one
 * step down from a directory it holds.
 */
export function nameError(name: string): number {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) return EINVAL;
  if (Buffer.byteLength(name) > NAME_MAX) return ENAMETOOLONG;
  return 0;
}

/** targetError returns the errno for a symlink target that symlink(2) would refuse, or 0. */
export function targetError(target: string): number {
  if (target === '') return ENOENT;
  if (target.includes('\0')) return EINVAL;
  if (Buffer.byteLength(target) > SYMLINK_MAX) return ENAMETOOLONG;
  return 0;
}

/**
 * The configuration pipe: before it serves the ring, the Gofer reads one
 * frame from its stdin, [RING_MAGIC, [[hostPath, writable], ...]], and
 * answers on its stdout with [0] or [errno, index of the failed mount].
 * A frame is a 32-bit little-endian length, then a msgpackr value.
 */
export const MAX_FRAME = 1024 * 1024;

/** encodeFrame frames a value for the configuration pipe. */
export function encodeFrame(packr: Packr, value: unknown): Buffer {
  const body = packr.pack(value);
  const frame = Buffer.alloc(4 + body.length);
  frame.writeUInt32LE(body.length, 0);
  frame.set(body, 4);
  return frame;
}

/**
 * takeFrame decodes the frame at the start of bytes, or returns undefined
 * while it is incomplete. It throws on a frame longer than MAX_FRAME or
 * one that does not decode.
 */
export function takeFrame(unpackr: Unpackr, bytes: Buffer): { value: unknown } | undefined {
  if (bytes.length < 4) return undefined;
  const length = bytes.readUInt32LE(0);
  if (length > MAX_FRAME) throw new Error(`frame of ${length} bytes`);
  if (bytes.length < 4 + length) return undefined;
  return { value: unpackr.unpack(bytes.subarray(4, 4 + length)) };
}
