// relocatable.ts decodes the few kinds of x86-64 instruction that compilers
// place between loading a system call's arguments and its `syscall`: moves
// between registers, moves of constants, loads and stores through a base
// register, `lea`, sign and zero extensions, and register-to-register
// arithmetic. Each of them does the same wherever it is placed (none is
// RIP-relative or a branch), so the patcher may copy a run of them into a
// stub. Anything else is refused: the decoder need not know x86, only
// enough of it to be sure.

/** Decoded is one instruction: its length, and whether it writes RAX (or EAX, AX, AL). */
export interface Decoded {
  length: number;
  writesRax: boolean;
}

/** ALU_REG_RM are the `op r/m, r` opcodes (add, or, and, sub, xor) whose destination is r/m. */
const ALU_TO_RM = new Set([0x01, 0x09, 0x21, 0x29, 0x31]);
/** ALU_TO_REG are the `op r, r/m` opcodes whose destination is the reg field. */
const ALU_TO_REG = new Set([0x03, 0x0b, 0x23, 0x2b, 0x33]);

/**
 * modrmLength is the length of a ModRM byte with its SIB and displacement,
 * or -1 for a RIP-relative operand (its meaning depends on where it is).
 */
function modrmLength(code: Uint8Array, at: number): number {
  if (at >= code.length) return -1;
  const modrm = code[at];
  const mod = modrm >> 6;
  const rm = modrm & 7;
  if (mod === 3) return 1;
  let n = 1;
  if (rm === 4) {
    if (at + 1 >= code.length) return -1;
    const base = code[at + 1] & 7;
    n++;
    if (mod === 0 && base === 5) return n + 4; // disp32 with no base: absolute
  } else if (mod === 0 && rm === 5) {
    return -1; // RIP-relative
  }
  if (mod === 1) n += 1;
  if (mod === 2) n += 4;
  return n;
}

/**
 * decode reads the instruction at code[at], returning undefined for
 * anything outside the relocatable set (or cut off by the end of code).
 */
export function decode(code: Uint8Array, at: number): Decoded | undefined {
  let i = at;
  let rex = 0;
  if (code[i] >= 0x40 && code[i] <= 0x4f) rex = code[i++];
  if (i >= code.length) return undefined;
  const op = code[i++];
  const rexR = (rex >> 2) & 1;
  const rexB = rex & 1;
  const regOf = (): number => ((code[i] >> 3) & 7) | (rexR << 3);
  const rmRegOf = (): number => ((code[i] >> 6) === 3 ? (code[i] & 7) | (rexB << 3) : -1);
  const finish = (extra: number, writesRax: boolean): Decoded | undefined => {
    const end = i + extra;
    return end <= code.length ? { length: end - at, writesRax } : undefined;
  };
  if (op === 0x90 && rex === 0) return { length: i - at, writesRax: false };
  if (op >= 0xb8 && op <= 0xbf) {
    const dst = (op & 7) | (rexB << 3);
    return finish(rex & 8 ? 8 : 4, dst === 0);
  }
  if (op === 0x89 || op === 0x8b || op === 0x8d || op === 0x63 || ALU_TO_RM.has(op) || ALU_TO_REG.has(op) || op === 0x85 || op === 0xc7) {
    const m = modrmLength(code, i);
    if (m < 0) return undefined;
    const register = (code[i] >> 6) === 3;
    if (op === 0x8d && register) return undefined; // lea takes a memory operand
    if ((ALU_TO_RM.has(op) || ALU_TO_REG.has(op) || op === 0x85) && !register) return undefined;
    if (op === 0x63 && !(rex & 8)) return undefined;
    if (op === 0xc7 && ((code[i] >> 3) & 7) !== 0) return undefined;
    let writesRax: boolean;
    if (op === 0x89 || op === 0xc7 || ALU_TO_RM.has(op)) writesRax = rmRegOf() === 0;
    else if (op === 0x85) writesRax = false;
    else writesRax = regOf() === 0;
    return finish(m + (op === 0xc7 ? 4 : 0), writesRax);
  }
  if (op === 0x0f) {
    if (i >= code.length) return undefined;
    const op2 = code[i++];
    if (op2 !== 0xb6 && op2 !== 0xb7 && op2 !== 0xbe && op2 !== 0xbf) return undefined;
    const m = modrmLength(code, i);
    if (m < 0) return undefined;
    return finish(m, regOf() === 0);
  }
  return undefined;
}

/**
 * straightRun decodes code[from..to) as relocatable instructions and
 * tells whether they end exactly at `to`; `raxAfterFirst` is whether an
 * instruction after the first writes RAX.
 */
export function straightRun(code: Uint8Array, from: number, to: number): { raxAfterFirst: boolean } | undefined {
  let at = from;
  let raxAfterFirst = false;
  while (at < to) {
    const d = decode(code.subarray(0, to), at);
    if (!d) return undefined;
    if (at !== from && d.writesRax) raxAfterFirst = true;
    at += d.length;
  }
  return at === to ? { raxAfterFirst } : undefined;
}
