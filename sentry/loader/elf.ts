// elf.ts loads static x86-64 ELF executables (ET_EXEC and static PIE) into
// a fresh MM and builds the initial stack: argv, envp and the auxv.
import { readFileSync } from 'node:fs';
import { LoadError, readProgram, resolveProgram } from './program.js';
import type { Vfs } from '../vfs/vfs.js';
import { MM, PAGE_SIZE, USER_ADDRESS_LIMIT, pageDown, pageUp } from '../mm/mm.js';
import { Perm } from '../platform.js';
import { ENOMEM } from '../errno.js';
import { host } from '../native/host.js';
import type { Vdso } from '../vdso/vdso.js';
import type { FileMemory, PageCache } from '../mm/page-cache.js';

const PT_LOAD = 1;
const PT_INTERP = 3;
/** PATH_MAX bounds an interpreter's path, as Linux's loader does. */
const PATH_MAX = 4096;
const ET_EXEC = 2;
const ET_DYN = 3;
const EM_X86_64 = 62;
/** PREFAULT_CODE and PREFAULT_DATA bound how much of a segment is mapped at load (see mapAndBuild). */
const PREFAULT_CODE = 16 << 20;
const PREFAULT_DATA = 1 << 20;
/** PIE_BASE is where a static PIE is loaded, as Linux's ELF_ET_DYN_BASE. */
const PIE_BASE = 0x555555554000;
const STACK_SIZE = 8 << 20;
/** MAX_ARG_STRINGS is Linux's limit on argv and envp: a quarter of the 8 MiB stack. */
const MAX_ARG_STRINGS = STACK_SIZE / 4;
/** STACK_TOP leaves a guard gap below the end of the user address space. */
export const STACK_TOP = USER_ADDRESS_LIMIT - 16 * PAGE_SIZE;

const AT = {
  NULL: 0, PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, BASE: 7, FLAGS: 8, ENTRY: 9,
  UID: 11, EUID: 12, GID: 13, EGID: 14, PLATFORM: 15, HWCAP: 16, CLKTCK: 17,
  SECURE: 23, RANDOM: 25, HWCAP2: 26, EXECFN: 31, SYSINFO_EHDR: 33,
};

let hwcaps: { hwcap: bigint; hwcap2: bigint } | undefined;

/** hostHwcaps returns AT_HWCAP and AT_HWCAP2 as the host kernel gave them to Node, read once. */
function hostHwcaps(): { hwcap: bigint; hwcap2: bigint } {
  if (hwcaps) return hwcaps;
  const caps = { hwcap: 0n, hwcap2: 0n };
  try {
    const b = readFileSync('/proc/self/auxv');
    for (let i = 0; i + 16 <= b.length; i += 16) {
      const type = b.readBigUInt64LE(i);
      if (type === 16n) caps.hwcap = b.readBigUInt64LE(i + 8);
      if (type === 26n) caps.hwcap2 = b.readBigUInt64LE(i + 8);
    }
  } catch {
    // no auxv: programs get zero, which only disables optional fast paths
  }
  hwcaps = caps;
  return caps;
}

/** ExecIds are the ids the auxiliary vector gives a new program (AT_UID and the rest), and whether it runs as someone other than its real user (AT_SECURE). */
export interface ExecIds {
  uid: number;
  euid: number;
  gid: number;
  egid: number;
  secureExec: boolean;
}

export interface LoadedProgram {
  entry: number;
  stackPointer: number;
}

interface Segment {
  vaddr: number;
  offset: number;
  filesz: number;
  memsz: number;
  flags: number;
}

function perms(flags: number): Perm {
  return ((flags & 4 ? Perm.Read : 0) | (flags & 2 ? Perm.Write : 0) | (flags & 1 ? Perm.Exec : 0)) as Perm;
}

/**
 * parse validates the header and returns the program's segments. image
 * holds the file's first bytes, its program headers included; size is
 * the whole file's.
 */
function parse(path: string, image: Buffer, size: number) {
  if (image.length < 16 || image.readUInt32BE(0) !== 0x7f454c46) throw new LoadError(`${path}: not an ELF executable`, 8);
  if (image[4] === 1) throw new LoadError(`${path}: is a 32-bit program; only x86-64 programs are supported`, 8);
  if (image[4] !== 2 || image[5] !== 1 || image.length < 64) throw new LoadError(`${path}: not a little-endian 64-bit ELF file`, 8);
  const type = image.readUInt16LE(16);
  if (image.readUInt16LE(18) !== EM_X86_64) throw new LoadError(`${path}: not an x86-64 program`, 8);
  if (type !== ET_EXEC && type !== ET_DYN) throw new LoadError(`${path}: not an executable (ELF type ${type})`, 8);
  const entry = Number(image.readBigUInt64LE(24));
  const phoff = Number(image.readBigUInt64LE(32));
  const phentsize = image.readUInt16LE(54);
  const phnum = image.readUInt16LE(56);
  if (phentsize !== 56 || phoff + phnum * 56 > image.length || phnum === 0) throw new LoadError(`${path}: malformed program headers`, 8);
  const segments: Segment[] = [];
  let interp: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * 56;
    const ptype = image.readUInt32LE(o);
    if (ptype === PT_INTERP) {
      interp = { offset: Number(image.readBigUInt64LE(o + 8)), size: Number(image.readBigUInt64LE(o + 32)) };
      if (interp.size < 2 || interp.size > PATH_MAX || interp.offset + interp.size > size) throw new LoadError(`${path}: malformed interpreter path`, 8);
      continue;
    }
    if (ptype !== PT_LOAD) continue;
    const seg = {
      flags: image.readUInt32LE(o + 4),
      offset: Number(image.readBigUInt64LE(o + 8)),
      vaddr: Number(image.readBigUInt64LE(o + 16)),
      filesz: Number(image.readBigUInt64LE(o + 32)),
      memsz: Number(image.readBigUInt64LE(o + 40)),
    };
    if (seg.filesz > seg.memsz || seg.offset + seg.filesz > size || seg.vaddr % PAGE_SIZE !== seg.offset % PAGE_SIZE) {
      throw new LoadError(`${path}: malformed loadable segment`, 8);
    }
    segments.push(seg);
  }
  if (segments.length === 0) throw new LoadError(`${path}: has nothing to load`, 8);
  return { type, entry, phoff, phnum, segments, interp };
}

type Elf = ReturnType<typeof parse>;

/**
 * interpreterOf returns the program interpreter (the dynamic loader) that
 * a program file names in its PT_INTERP header, if any; LoadError when
 * the file is not a program it can load.
 */
export function interpreterOf(path: string, image: FileMemory): string | undefined {
  const { interp } = parse(path, headerOf(image), image.size);
  if (!interp) return undefined;
  const name = image.read(interp.offset, interp.size);
  const nul = name.indexOf(0);
  if (nul !== interp.size - 1) throw new LoadError(`${path}: malformed interpreter path`, 8);
  return name.subarray(0, nul).toString('utf8');
}

/**
 * load maps the program into mm and builds its initial stack. execfn is
 * the path the program was started as (AT_EXECFN and argv[0]'s origin).
 */
/** VDSO_AREA is where the vDSO's time page goes, the vDSO right above it: in the gap above the stack. */
const VDSO_AREA = STACK_TOP + 2 * PAGE_SIZE;

/** headerOf reads a file's ELF header and program headers (the file's first bytes up to their end). */
function headerOf(image: FileMemory): Buffer {
  const head = image.read(0, PAGE_SIZE);
  if (head.length < 64 || head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) return head;
  const end = Number(head.readBigUInt64LE(32)) + 56 * head.readUInt16LE(56);
  return end <= head.length ? head : image.read(0, end);
}

/** Interpreter is the dynamic loader a program names, read in. */
export interface Interpreter {
  path: string;
  image: FileMemory;
}

/**
 * readInterpreter reads in the dynamic loader that a program names, found
 * from the sandbox's root, or returns undefined for a static program. The
 * caller drops the reference to its image when the program is loaded.
 */
export async function readInterpreter(vfs: Vfs, cache: PageCache, path: string, image: FileMemory): Promise<Interpreter | undefined> {
  const name = interpreterOf(path, image);
  if (name === undefined) return undefined;
  try {
    const d = await resolveProgram(vfs, vfs.root, name);
    return { path: name, image: await readProgram(vfs, cache, d, name) };
  } catch (err) {
    if (err instanceof LoadError) throw new LoadError(`${path}: its interpreter ${err.message}`, err.errno);
    throw err;
  }
}

export function load(mm: MM, path: string, image: FileMemory, argv: string[], envp: string[], id: ExecIds, vdso: Vdso, interp?: Interpreter): LoadedProgram {
  const elf = parse(path, headerOf(image), image.size);
  const ld = interp && parse(interp.path, headerOf(interp.image), interp.image.size);
  if (ld && ld.type !== ET_DYN) throw new LoadError(`${interp!.path}: the program's interpreter is not a shared object`, 8);
  if (ld?.interp) throw new LoadError(`${interp!.path}: the program's interpreter names an interpreter of its own`, 8);
  const strings = [...argv, ...envp].reduce((n, s) => n + Buffer.byteLength(s) + 1, 0);
  if (strings > MAX_ARG_STRINGS) throw new LoadError(`${path}: argument list too long`, 7);
  try {
    return mapAndBuild(mm, path, image, elf, argv, envp, id, vdso, ld && { ...interp!, elf: ld });
  } catch (err) {
    if (err === ENOMEM) throw new LoadError(`${path}: needs more memory than the sandbox allows`, 12);
    throw err;
  }
}

/**
 * span is the pages an ELF file's segments cover, from the lowest one's
 * page: what a loader must find room for.
 */
function span(elf: Elf): { low: number; size: number } {
  const low = pageDown(Math.min(...elf.segments.map((s) => s.vaddr)));
  return { low, size: pageUp(Math.max(...elf.segments.map((s) => s.vaddr + s.memsz))) - low };
}

/**
 * mapSegments maps an ELF file's loadable segments at `bias` and returns
 * where they end and where its program headers are, if loaded.
 */
function mapSegments(mm: MM, path: string, image: FileMemory, elf: Elf, bias: number): { end: number; phdr: number } {
  let end = 0;
  let phdr = 0;
  for (const seg of elf.segments) {
    const start = pageDown(seg.vaddr + bias);
    const stop = pageUp(seg.vaddr + bias + seg.memsz);
    if (stop > USER_ADDRESS_LIMIT || start < PAGE_SIZE) throw new LoadError(`${path}: loads outside the address space`, 8);
    // The pages that hold the segment's bytes are the file's own pages
    // (copied on a write), the rest of its memory is zeroed memory, and
    // the file's bytes past the segment's in its last page are zeroed,
    // as Linux's loader does.
    const fileEnd = seg.vaddr + bias + seg.filesz;
    const fileStop = seg.filesz > 0 ? Math.min(stop, pageUp(fileEnd)) : start;
    if (fileStop > start) {
      mm.mapFile(start, fileStop - start, perms(seg.flags), image, pageDown(seg.offset) / PAGE_SIZE, path);
      // Mapped now rather than at the program's faults, which cost an
      // exit each: all of the code, and the data (copied) up to a bound.
      const write = (seg.flags & 2) !== 0;
      mm.prefault(start, Math.min(fileStop, start + (write ? PREFAULT_DATA : PREFAULT_CODE)), write);
    }
    if (stop > fileStop) mm.map(fileStop, stop - fileStop, perms(seg.flags), false, path);
    if (seg.memsz > seg.filesz && fileEnd < fileStop) mm.poke(fileEnd, new Uint8Array(fileStop - fileEnd));
    if (elf.phoff >= seg.offset && elf.phoff < seg.offset + seg.filesz) phdr = seg.vaddr + bias + (elf.phoff - seg.offset);
    end = Math.max(end, stop);
  }
  return { end, phdr };
}

function mapAndBuild(mm: MM, path: string, image: FileMemory, elf: Elf, argv: string[], envp: string[], id: ExecIds, vdso: Vdso,
  interp: (Interpreter & { elf: Elf }) | undefined): LoadedProgram {
  const bias = elf.type === ET_DYN ? PIE_BASE - span(elf).low : 0;
  const { end, phdr } = mapSegments(mm, path, image, elf, bias);
  mm.brkStart = end;
  mm.brk = end;
  // The interpreter goes where a mapping of its size would, as Linux's
  // loader places it, and the program starts in it.
  let base = 0;
  let entry = elf.entry + bias;
  if (interp) {
    const { low, size } = span(interp.elf);
    const at = mm.findFree(size);
    if (at < 0) throw ENOMEM;
    base = at - low;
    mapSegments(mm, interp.path, interp.image, interp.elf, base);
    entry = interp.elf.entry + base;
  }

  mm.map(STACK_TOP - STACK_SIZE, STACK_SIZE, Perm.Read | Perm.Write, false, '[stack]');
  const vdsoBase = vdso.map(mm, VDSO_AREA);
  const sp = buildStack(mm, path, argv, envp, [
    [AT.SYSINFO_EHDR, vdsoBase],
    [AT.PHDR, phdr], [AT.PHENT, 56], [AT.PHNUM, elf.phnum], [AT.PAGESZ, PAGE_SIZE], [AT.BASE, base], [AT.FLAGS, 0],
    [AT.ENTRY, elf.entry + bias], [AT.UID, id.uid], [AT.EUID, id.euid], [AT.GID, id.gid], [AT.EGID, id.egid],
    [AT.HWCAP, hostHwcaps().hwcap], [AT.HWCAP2, hostHwcaps().hwcap2], [AT.CLKTCK, 100], [AT.SECURE, id.secureExec ? 1 : 0],
  ]);
  return { entry, stackPointer: sp };
}

/** buildStack lays out strings, AT_RANDOM bytes, auxv, envp, argv and argc from STACK_TOP down. */
function buildStack(mm: MM, execfn: string, argv: string[], envp: string[], aux: [number, number | bigint][]): number {
  let sp = STACK_TOP;
  const pushBytes = (b: Uint8Array): number => {
    sp -= b.length;
    mm.poke(sp, b);
    return sp;
  };
  const pushString = (s: string) => pushBytes(Buffer.from(s + '\0', 'utf8'));
  const execfnAddr = pushString(execfn);
  const envAddrs = envp.map(pushString);
  const argAddrs = argv.map(pushString);
  const platform = pushString('x86_64');
  const randomBytes = new Uint8Array(16);
  host.getrandom(randomBytes);
  const random = pushBytes(randomBytes);
  const auxv = [...aux, [AT.PLATFORM, platform], [AT.RANDOM, random], [AT.EXECFN, execfnAddr], [AT.NULL, 0]] as [number, number | bigint][];
  const words = 1 + argAddrs.length + 1 + envAddrs.length + 1 + auxv.length * 2;
  sp = Math.floor((sp - words * 8) / 16) * 16;
  const table = Buffer.alloc(words * 8);
  let i = 0;
  const put = (v: number | bigint) => table.writeBigUInt64LE(BigInt(v), 8 * i++);
  put(argAddrs.length);
  argAddrs.forEach(put);
  put(0);
  envAddrs.forEach(put);
  put(0);
  for (const [k, v] of auxv) {
    put(k);
    put(v);
  }
  mm.poke(sp, table);
  return sp;
}

/**
 * readAuxv reads back the auxiliary vector the loader put on the initial
 * stack, above argc, argv and envp, up to and including AT_NULL.
 */
export function readAuxv(mm: MM, sp: number, argc: number, envc: number): Uint8Array {
  const start = sp + 8 * (argc + envc + 3);
  for (let n = 1; n <= 64; n++) {
    const pairs = mm.peek(start, 16 * n);
    if (new DataView(pairs.buffer).getBigUint64(16 * (n - 1), true) === 0n) return pairs;
  }
  return new Uint8Array(0);
}
