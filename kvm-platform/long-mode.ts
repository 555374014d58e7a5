// long-mode.ts lays out what the guest's ring 0 needs in the kernel area of
// the memory file (GDT, TSS, IDT, the stub, the kernel page tables) and the
// special registers that put a vCPU straight into 64-bit ring 3.
import { readFileSync } from 'node:fs';
import { buildOutput } from '../sentry/native/paths.js';
import * as abi from './abi.js';
import { layout } from './kvm.js';
import type { MemoryFile } from '../sentry/mm/memory-file.js';

/** kernelVirt returns the kernel virtual address of a kernel-area frame. */
export function kernelVirt(phys: number): bigint {
  return BigInt(abi.KERNEL_VIRT_BASE + phys);
}

// Page-table entry bits.
export const PTE_P = 1;
export const PTE_W = 2;
export const PTE_U = 4;
/** PTE_NX_HI is the no-execute bit (63) within the entry's high word. */
export const PTE_NX_HI = 0x80000000;

export class StubError extends Error {
  readonly code = 'E_STUB';
}

/** Stub is the loaded guest stub binary and its entry points. */
export interface Stub {
  image: Uint8Array;
  syscallEntry: number;
  vectors: number;
  unexpected: number;
  /** trampoline is the exitless trampoline's entry; trampolineExit the address after its `syscall`. */
  trampoline: number;
  trampolineExit: number;
}

let cachedStub: Stub | undefined;

/** loadStub reads build/guest-stub.bin and checks its magic and ABI version. */
export function loadStub(): Stub {
  if (cachedStub) return cachedStub;
  const path = buildOutput('guest-stub', 'guest-stub.bin');
  let image: Buffer;
  try {
    image = readFileSync(path);
  } catch {
    throw new StubError(`the guest stub ${path} is missing; run npm run build`);
  }
  const u32 = (o: number) => image.readUInt32LE(o);
  if (image.length < 20 || u32(abi.STUB_HDR_MAGIC) !== abi.STUB_MAGIC) throw new StubError(`${path} is not a tvisor guest stub`);
  if (u32(abi.STUB_HDR_VERSION) !== abi.ABI_VERSION) {
    throw new StubError(`${path} has ABI version ${u32(abi.STUB_HDR_VERSION)}, expected ${abi.ABI_VERSION}; run npm run build`);
  }
  if (image.length > abi.STUB_MAX_SIZE || u32(abi.STUB_HDR_TRAMPOLINE) !== abi.STUB_TRAMPOLINE_OFFSET) throw new StubError(`${path} is larger than ${abi.STUB_MAX_SIZE} bytes`);
  cachedStub = {
    image,
    syscallEntry: abi.PHYS_STUB + u32(abi.STUB_HDR_SYSCALL_ENTRY),
    vectors: abi.PHYS_STUB + u32(abi.STUB_HDR_VECTORS),
    unexpected: abi.PHYS_STUB + u32(abi.STUB_HDR_UNEXPECTED),
    trampoline: abi.PHYS_STUB + u32(abi.STUB_HDR_TRAMPOLINE),
    trampolineExit: abi.PHYS_STUB + u32(abi.STUB_HDR_TRAMPOLINE_EXIT),
  };
  return cachedStub;
}

function put64(view: DataView, off: number, v: bigint): void {
  view.setBigUint64(off, v, true);
}

/** writeKernelArea fills the kernel area of a fresh memory file. */
export function writeKernelArea(mem: MemoryFile, stub: Stub): void {
  const bytes = mem.bytesAt(0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, abi.KERNEL_RESERVED);

  // GDT, laid out as Linux's so that programs see the selectors they expect.
  const gdt = abi.PHYS_GDT;
  put64(view, gdt + abi.SEL_KERNEL_CS, 0x00af9b000000ffffn);
  put64(view, gdt + abi.SEL_KERNEL_DS, 0x00cf93000000ffffn);
  put64(view, gdt + (abi.SEL_USER_CS32 & ~3), 0x00cffb000000ffffn);
  put64(view, gdt + (abi.SEL_USER_DS & ~3), 0x00cff3000000ffffn);
  put64(view, gdt + (abi.SEL_USER_CS & ~3), 0x00affb000000ffffn);
  const tssBase = kernelVirt(abi.PHYS_TSS);
  const tssLimit = 0x67n;
  const tssLow = tssLimit | ((tssBase & 0xffffffn) << 16n) | (0x8bn << 40n) | (((tssBase >> 24n) & 0xffn) << 56n);
  put64(view, gdt + abi.SEL_TSS, tssLow);
  put64(view, gdt + abi.SEL_TSS + 8, tssBase >> 32n);

  // The GDT's TSS: the ring-0 stack for entries from ring 3, and IST1 for
  // #DF and NMI. Each vCPU's TR points at a TSS of its own instead (see
  // mapVcpuPages); this one only gives the descriptor something to describe.
  writeTss(new DataView(bytes.buffer, bytes.byteOffset + abi.PHYS_TSS, 0x68), kernelVirt(abi.PHYS_STACK0_TOP));

  // IDT: every vector enters the stub. int3 and into may be raised from
  // ring 3 (gate DPL 3), as on Linux; any other `int N` faults (#GP on
  // hardware, #UD on PVM).
  for (let v = 0; v < 256; v++) {
    const target = kernelVirt(v < 32 ? stub.vectors + v * abi.STUB_VECTOR_STRIDE : stub.unexpected);
    const gate = abi.PHYS_IDT + v * 16;
    const dpl3 = v === 3 || v === 4;
    const ist = v === 2 || v === 8 ? 1 : 0;
    view.setUint16(gate, Number(target & 0xffffn), true);
    view.setUint16(gate + 2, abi.SEL_KERNEL_CS, true);
    view.setUint8(gate + 4, ist);
    view.setUint8(gate + 5, dpl3 ? 0xee : 0x8e);
    view.setUint16(gate + 6, Number((target >> 16n) & 0xffffn), true);
    view.setUint32(gate + 8, Number((target >> 32n) & 0xffffffffn), true);
    view.setUint32(gate + 12, 0, true);
  }

  bytes.set(stub.image, abi.PHYS_STUB);

  // Kernel page tables: PD[0] -> PT mapping the kernel area, supervisor-
  // only but for the trampoline's page (user, read and execute); only the
  // stub is executable. The upper levels allow user access, so each leaf
  // decides. Every address space links the PD from its own PDPT (see
  // KvmAddressSpace, which copies it); each vCPU's slot and kernel page
  // are mapped only in the address space the vCPU runs (VcpuPages.entries).
  put64(view, abi.PHYS_KERNEL_PD, BigInt(abi.PHYS_KERNEL_PT | PTE_P | PTE_W | PTE_U));
  for (let phys = abi.PAGE_SIZE; phys < abi.KERNEL_RESERVED; phys += abi.PAGE_SIZE) {
    const isStub = phys >= abi.PHYS_STUB && phys < abi.PHYS_STUB + abi.STUB_MAX_SIZE;
    const isTable = phys >= abi.PHYS_KERNEL_PD && phys <= abi.PHYS_KERNEL_PT;
    const user = phys === abi.PHYS_STUB + abi.STUB_TRAMPOLINE_OFFSET ? PTE_U : 0;
    const entry = BigInt(phys | PTE_P | user | (isStub || isTable ? 0 : PTE_W)) | (isStub ? 0n : 1n << 63n);
    put64(view, abi.PHYS_KERNEL_PT + (phys / abi.PAGE_SIZE) * 8, entry);
  }
}

/** VcpuPages are where a vCPU's slot and kernel page are, in the guest. */
export interface VcpuPages {
  slotVirt: number;
  kernelVirt: number;
  /** stackTop is the ring-0 stack's top, which the TSS gives the CPU. */
  stackTop: number;
  tssVirt: number;
  /** slotPhys and kernelPhys are the two pages' frames. */
  slotPhys: number;
  kernelPhys: number;
  /**
   * entries are the two pages' page-table entries (four 32-bit words: the
   * slot, user read-write; the kernel page, supervisor), at entry `ptIndex`
   * of the page table that kernel PD entry `pdIndex` names.
   */
  entries: Uint32Array;
  pdIndex: number;
  ptIndex: number;
}

/**
 * vcpuPages places vCPU `id`'s slot frame (user read-write) and kernel
 * frame (supervisor read-write) in the kernel area, and writes the vCPU's
 * TSS into its kernel frame. An address space maps them while the vCPU
 * runs it (KvmAddressSpace.attach), so that no program can reach the slot
 * of a vCPU running another.
 */
export function vcpuPages(mem: MemoryFile, id: number, slotPhys: number, kernelPhys: number): VcpuPages {
  const pdIndex = abi.SLOT_PD_FIRST + Math.floor(id / 256);
  if (pdIndex >= 512) throw new RangeError('too many vCPUs for their pages');
  const entries = Uint32Array.of(
    ((slotPhys % 0x100000000) | PTE_P | PTE_W | PTE_U) >>> 0, (Math.floor(slotPhys / 0x100000000) | PTE_NX_HI) >>> 0,
    ((kernelPhys % 0x100000000) | PTE_P | PTE_W) >>> 0, (Math.floor(kernelPhys / 0x100000000) | PTE_NX_HI) >>> 0,
  );
  const slotVirt = abi.SLOT_VIRT_BASE + id * 2 * abi.PAGE_SIZE;
  const kernel = slotVirt + abi.PAGE_SIZE;
  const pages = {
    slotVirt, kernelVirt: kernel, stackTop: kernel + abi.PAGE_SIZE, tssVirt: kernel + abi.VCPU_TSS,
    slotPhys, kernelPhys, entries, pdIndex, ptIndex: (id % 256) * 2,
  };
  const bytes = mem.bytesAt(kernelPhys);
  const tss = new DataView(bytes.buffer, bytes.byteOffset + mem.offsetOf(kernelPhys) + abi.VCPU_TSS, 0x68);
  writeTss(tss, BigInt(pages.stackTop));
  return pages;
}

/** writeTss fills a 64-bit TSS: RSP0, IST1 (the shared stack for #DF and NMI), no I/O bitmap. */
function writeTss(tss: DataView, rsp0: bigint): void {
  put64(tss, 4, rsp0);
  put64(tss, 36, kernelVirt(abi.PHYS_STACK_IST1_TOP));
  tss.setUint16(102, 0x68, true);
}

// kvm_segment field offsets.
const SEG_BASE = 0, SEG_LIMIT = 8, SEG_SELECTOR = 12, SEG_TYPE = 14, SEG_PRESENT = 15, SEG_DPL = 16,
  SEG_DB = 17, SEG_S = 18, SEG_L = 19, SEG_G = 20, SEG_UNUSABLE = 22;

interface Segment { selector: number; type: number; dpl: number; db: number; s: number; l: number; g: number; present: number; base?: bigint; limit?: number; unusable?: number }

function writeSegment(view: DataView, off: number, seg: Segment): void {
  for (let i = 0; i < layout.segmentSize; i++) view.setUint8(off + i, 0);
  view.setBigUint64(off + SEG_BASE, seg.base ?? 0n, true);
  view.setUint32(off + SEG_LIMIT, seg.limit ?? 0xffffffff, true);
  view.setUint16(off + SEG_SELECTOR, seg.selector, true);
  view.setUint8(off + SEG_TYPE, seg.type);
  view.setUint8(off + SEG_PRESENT, seg.present);
  view.setUint8(off + SEG_DPL, seg.dpl);
  view.setUint8(off + SEG_DB, seg.db);
  view.setUint8(off + SEG_S, seg.s);
  view.setUint8(off + SEG_L, seg.l);
  view.setUint8(off + SEG_G, seg.g);
  view.setUint8(off + SEG_UNUSABLE, seg.unusable ?? 0);
}

export const USER_CS: Segment = { selector: abi.SEL_USER_CS, type: 11, dpl: 3, db: 0, s: 1, l: 1, g: 1, present: 1 };
export const USER_SS: Segment = { selector: abi.SEL_USER_DS, type: 3, dpl: 3, db: 1, s: 1, l: 0, g: 1, present: 1 };
const USER_DATA_NULL: Segment = { selector: 0, type: 3, dpl: 3, db: 1, s: 1, l: 0, g: 1, present: 1 };

/** segmentBytes encodes a kvm_segment, for copying into sync regs in place. */
export function segmentBytes(seg: Segment): Uint8Array {
  const b = new Uint8Array(layout.segmentSize);
  writeSegment(new DataView(b.buffer), 0, seg);
  return b;
}

const CR0_PE = 1, CR0_MP = 2, CR0_ET = 0x10, CR0_NE = 0x20, CR0_WP = 0x10000, CR0_AM = 0x40000, CR0_PG = 0x80000000;
const CR4_PAE = 0x20, CR4_OSFXSR = 0x200, CR4_OSXMMEXCPT = 0x400, CR4_OSXSAVE = 0x40000;
const EFER_SCE = 1, EFER_LME = 0x100, EFER_LMA = 0x400, EFER_NXE = 0x800;

/**
 * ring3Sregs fills a kvm_sregs (read from the vCPU first) for 64-bit ring
 * 3 with paging rooted at cr3, GS at the vCPU's slot and TR at its TSS.
 */
export function ring3Sregs(sregs: Uint8Array, cr3: number, osxsave: boolean, pages: VcpuPages): void {
  const view = new DataView(sregs.buffer, sregs.byteOffset, sregs.byteLength);
  const seg = layout.segmentSize;
  const cs = layout.sregsCs;
  writeSegment(view, cs, USER_CS);
  writeSegment(view, cs + seg, USER_DATA_NULL); // ds
  writeSegment(view, cs + 2 * seg, USER_DATA_NULL); // es
  writeSegment(view, layout.sregsFs, USER_DATA_NULL);
  writeSegment(view, layout.sregsGs, { ...USER_DATA_NULL, base: BigInt(pages.slotVirt) });
  writeSegment(view, layout.sregsSs, USER_SS);
  writeSegment(view, cs + 6 * seg, { selector: abi.SEL_TSS, type: 11, dpl: 0, db: 0, s: 0, l: 0, g: 0, present: 1, base: BigInt(pages.tssVirt), limit: 0x67 });
  writeSegment(view, cs + 7 * seg, { selector: 0, type: 2, dpl: 0, db: 0, s: 0, l: 0, g: 0, present: 0, unusable: 1, limit: 0 });
  const gdt = cs + 8 * seg;
  view.setBigUint64(gdt, kernelVirt(abi.PHYS_GDT), true);
  view.setUint16(gdt + 8, abi.SEL_TSS + 16 - 1, true);
  view.setBigUint64(gdt + 16, kernelVirt(abi.PHYS_IDT), true);
  view.setUint16(gdt + 24, 256 * 16 - 1, true);
  const cr0 = layout.sregsCr2 - 8;
  view.setBigUint64(cr0, BigInt((CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG) >>> 0), true);
  view.setBigUint64(layout.sregsCr3, BigInt(cr3), true);
  view.setBigUint64(layout.sregsCr3 + 8, BigInt(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | (osxsave ? CR4_OSXSAVE : 0)), true);
  view.setBigUint64(layout.sregsCr3 + 24, BigInt(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE), true);
}
