// signal-frame.ts: the x86-64 rt signal frame, which Linux builds on the
// user stack to run a handler and reads back in rt_sigreturn(2). The
// layout and the rules were learned from Linux (arch/x86/kernel/signal.c,
// signal_64.c, fpu/signal.c); the code is written here. From the
// handler's stack pointer up:
//
//   frame + 0     pretcode: the handler's return address (sa_restorer)
//   frame + 8     struct ucontext: uc_flags, uc_link, uc_stack,
//                 uc_mcontext (struct sigcontext), uc_sigmask
//   frame + 312   siginfo_t (written with SA_SIGINFO only)
//   fpstate       the XSAVE image, 64-byte aligned, its software-reserved
//                 bytes describing it, FP_XSTATE_MAGIC2 after it
//   ...           the interrupted stack, past its 128-byte red zone
import { Reg, type XstateLayout } from '../platform.js';
import { EINVAL, ENOMEM, EPERM, type SyscallError } from '../errno.js';
import { SigSet, SIGINFO_SIZE, type SigInfo } from './signals.js';
import type { SigAction, Task } from './task.js';

export const SA_SIGINFO = 4, SA_ONSTACK = 0x08000000, SA_RESTART = 0x10000000, SA_NODEFER = 0x40000000,
  SA_RESETHAND = 0x80000000, SA_RESTORER = 0x04000000;
export const SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 1 << 31;
/** MINSIGSTKSZ is the smallest alternate stack sigaltstack(2) takes. */
export const MINSIGSTKSZ = 2048;

const UC = 8;
const UC_FLAGS = UC, UC_LINK = UC + 8, UC_STACK = UC + 16, SIGCONTEXT = UC + 40, UC_SIGMASK = UC + 296, INFO = UC + 304;
/** FRAME_SIZE is sizeof(struct rt_sigframe). */
const FRAME_SIZE = INFO + SIGINFO_SIZE;
/** SIGCONTEXT_REGS are struct sigcontext's general registers and their offsets. */
const SIGCONTEXT_REGS: readonly (readonly [Reg, number])[] = [
  [Reg.R8, 0], [Reg.R9, 8], [Reg.R10, 16], [Reg.R11, 24], [Reg.R12, 32], [Reg.R13, 40], [Reg.R14, 48], [Reg.R15, 56],
  [Reg.RDI, 64], [Reg.RSI, 72], [Reg.RBP, 80], [Reg.RBX, 88], [Reg.RDX, 96], [Reg.RAX, 104], [Reg.RCX, 112],
  [Reg.RSP, 120], [Reg.RIP, 128],
];
const SC_EFLAGS = 136, SC_CS = 144, SC_SS = 150, SC_ERR = 152, SC_TRAPNO = 160, SC_OLDMASK = 168, SC_CR2 = 176,
  SC_FPSTATE = 184;
const UC_FP_XSTATE = 1, UC_SIGCONTEXT_SS = 2, UC_STRICT_RESTORE_SS = 4;
/** The selectors a 64-bit program runs with (Linux's __USER_CS and __USER_DS); tvisor offers no others. */
const USER_CS = 0x33, USER_DS = 0x2b;
const RED_ZONE = 128;

// The XSAVE image: the legacy (FXSAVE) area, its software-reserved bytes, the header.
const FCW = 0, MXCSR = 24, MXCSR_MASK = 28, SW_RESERVED = 464, XSTATE_BV = 512, HEADER_RESERVED = 520;
const LEGACY_SIZE = 512, MIN_XSTATE_SIZE = 576;
const FP_XSTATE_MAGIC1 = 0x46505853, FP_XSTATE_MAGIC2 = 0x46505845, MAGIC2_SIZE = 4;
const XFEATURES_FP_SSE = 3n, XFEATURES_SSE_AVX = 6n;
const FCW_INIT = 0x37f, MXCSR_INIT = 0x1f80;
/** MXCSR_RESERVED are the MXCSR bits that make XRSTOR and FXRSTOR fault (all CPUs with DAZ). */
const MXCSR_RESERVED = 0xffff0000;

const EFLAGS_CF = 0x1, EFLAGS_PF = 0x4, EFLAGS_AF = 0x10, EFLAGS_ZF = 0x40, EFLAGS_SF = 0x80, EFLAGS_TF = 0x100,
  EFLAGS_DF = 0x400, EFLAGS_OF = 0x800, EFLAGS_RF = 0x10000, EFLAGS_AC = 0x40000;
/** FIX_EFLAGS are the flags rt_sigreturn takes from the frame; the others stay as they are. */
const FIX_EFLAGS = EFLAGS_AC | EFLAGS_OF | EFLAGS_DF | EFLAGS_TF | EFLAGS_SF | EFLAGS_ZF | EFLAGS_AF | EFLAGS_PF |
  EFLAGS_CF | EFLAGS_RF;
/** CANONICAL_LIMIT bounds the lower half; a RIP at or above it cannot be entered (a VM entry would fail). */
const CANONICAL_LIMIT = 2 ** 47;

// ---- the alternate signal stack (sigaltstack(2)) ----

/** AltStack is a task's sigaltstack: base, size, and the flags as the program set them (SS_DISABLE when none). */
export interface AltStack {
  sp: number;
  size: number;
  flags: number;
}

/** onAltStack is true when sp lies on the alternate stack: above its base, up to its top. */
export function onAltStack(s: AltStack, sp: number): boolean {
  return sp > s.sp && sp - s.sp <= s.size;
}

/**
 * onSigStack is onAltStack for the program's own stack pointer, which is
 * never said to be on a stack set with SS_AUTODISARM: a handler may then
 * run on it from the top again.
 */
export function onSigStack(s: AltStack, sp: number): boolean {
  return (s.flags & SS_AUTODISARM) === 0 && onAltStack(s, sp);
}

/** altStackFlags is what sigaltstack(2) reports for a program at sp: SS_DISABLE, SS_ONSTACK or 0. */
export function altStackFlags(s: AltStack, sp: number): number {
  if (s.size === 0) return SS_DISABLE;
  return onSigStack(s, sp) ? SS_ONSTACK : 0;
}

/**
 * setAltStack changes the alternate stack as sigaltstack(2) does for a
 * program at sp, and returns the error when it does not: EPERM while on
 * it, EINVAL for an unknown mode, ENOMEM below MINSIGSTKSZ.
 */
export function setAltStack(t: Task, sp: number, next: AltStack): SyscallError | undefined {
  const cur = t.altStack;
  const mode = next.flags & ~SS_AUTODISARM;
  if (onSigStack(cur, sp)) return EPERM;
  if (mode !== SS_DISABLE && mode !== SS_ONSTACK && mode !== 0) return EINVAL;
  if (cur.sp === next.sp && cur.size === next.size && cur.flags === next.flags) return undefined;
  if (mode === SS_DISABLE) {
    t.altStack = { sp: 0, size: 0, flags: next.flags };
    return undefined;
  }
  if (next.size < MINSIGSTKSZ) return ENOMEM;
  t.altStack = { ...next };
  return undefined;
}

/** encodeStack writes a stack_t {ss_sp, ss_flags, ss_size} at off. */
export function encodeStack(v: DataView, off: number, s: AltStack): void {
  v.setBigUint64(off, BigInt(s.sp), true);
  v.setInt32(off + 8, s.flags, true);
  v.setBigUint64(off + 16, BigInt(s.size), true);
}

export function decodeStack(v: DataView, off: number): AltStack {
  return { sp: Number(v.getBigUint64(off, true)), flags: v.getInt32(off + 8, true), size: Number(v.getBigUint64(off + 16, true)) };
}

// ---- delivery ----

const alignDown = (a: number, n: number) => Math.floor(a / n) * n;

/**
 * setupFrame builds the frame for a handler of sig and points the task's
 * registers at it: RDI the signal, RSI the siginfo, RDX the ucontext, RAX
 * 0, RSP the frame, RIP the handler, DF, TF and RF clear, and the FPU and
 * vector state in its initial state. `saved` is the mask the frame keeps
 * for rt_sigreturn. It returns false, having changed nothing, when the
 * frame cannot be written: no SA_RESTORER (which x86-64 requires), a
 * handler at an address no program runs at, a stack that is not writable
 * or an alternate stack that overflows.
 */
export function setupFrame(t: Task, info: SigInfo, act: SigAction, saved: SigSet): boolean {
  if (!(act.flags & SA_RESTORER) || !(act.handler < CANONICAL_LIMIT)) return false;
  const ctx = t.ctx;
  // The extended state first: on kvm, reading it ends an exitless call's
  // spin, and the registers are the sync area's from then on.
  const xstate = ctx.getXstate();
  const layout = ctx.xstate;
  const regs = ctx.regs;
  const rsp = regs.get(Reg.RSP);
  const nested = onSigStack(t.altStack, rsp);
  let sp = rsp - RED_ZONE;
  let entering = false;
  if ((act.flags & SA_ONSTACK) && altStackFlags(t.altStack, sp) === 0) {
    sp = t.altStack.sp + t.altStack.size;
    entering = true;
  }
  const fpstate = alignDown(sp - (layout.size + MAGIC2_SIZE), 64);
  const frame = alignDown(fpstate - FRAME_SIZE, 16) - 8;
  if ((nested || entering) && !onAltStack(t.altStack, frame)) return false;

  const b = new Uint8Array(FRAME_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(act.restorer), true);
  v.setBigUint64(UC_FLAGS, BigInt(UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS), true);
  v.setBigUint64(UC_LINK, 0n, true);
  encodeStack(v, UC_STACK, t.altStack);
  for (const [r, off] of SIGCONTEXT_REGS) v.setBigUint64(SIGCONTEXT + off, regs.getBig(r), true);
  v.setBigUint64(SIGCONTEXT + SC_EFLAGS, regs.getBig(Reg.RFLAGS), true);
  v.setUint16(SIGCONTEXT + SC_CS, USER_CS, true);
  v.setUint16(SIGCONTEXT + SC_SS, USER_DS, true);
  v.setBigUint64(SIGCONTEXT + SC_ERR, BigInt(t.signals.trap.errorCode), true);
  v.setBigUint64(SIGCONTEXT + SC_TRAPNO, BigInt(t.signals.trap.trapNo), true);
  v.setUint32(SIGCONTEXT + SC_OLDMASK, saved.lo, true);
  v.setUint32(SIGCONTEXT + SC_OLDMASK + 4, saved.hi, true);
  v.setBigUint64(SIGCONTEXT + SC_CR2, BigInt(t.signals.trap.cr2), true);
  v.setBigUint64(SIGCONTEXT + SC_FPSTATE, BigInt(fpstate), true);
  v.setUint32(UC_SIGMASK, saved.lo, true);
  v.setUint32(UC_SIGMASK + 4, saved.hi, true);
  // Without SA_SIGINFO the siginfo is not written: the stack keeps what it held.
  const written = act.flags & SA_SIGINFO ? FRAME_SIZE : INFO;
  if (written === FRAME_SIZE) b.set(info.bytes, INFO);
  try {
    t.mm.copyOut(fpstate, frameXstate(xstate, layout));
    t.mm.copyOut(frame, b.subarray(0, written));
  } catch {
    return false;
  }

  regs.set(Reg.RDI, info.signo);
  regs.set(Reg.RSI, frame + INFO);
  regs.set(Reg.RDX, frame + UC);
  regs.set(Reg.RAX, 0);
  regs.set(Reg.RSP, frame);
  regs.set(Reg.RIP, act.handler);
  regs.set(Reg.RFLAGS, regs.get(Reg.RFLAGS) & ~(EFLAGS_DF | EFLAGS_RF | EFLAGS_TF));
  // A handler starts with the FPU and vector state in its initial state.
  ctx.setXstate(initXstate(layout, xstate));
  return true;
}

/**
 * frameXstate is the fpstate a frame holds: the image with XSTATE_BV's x87
 * and SSE bits set (so a program that edits the legacy area has its
 * changes restored), software-reserved bytes describing the image
 * (struct _fpx_sw_bytes: FP_XSTATE_MAGIC1, the size with the trailing
 * magic, the features, the size), and FP_XSTATE_MAGIC2 after it.
 */
function frameXstate(image: Uint8Array, layout: XstateLayout): Uint8Array {
  const out = new Uint8Array(layout.size + MAGIC2_SIZE);
  out.set(image);
  const v = new DataView(out.buffer);
  v.setBigUint64(XSTATE_BV, v.getBigUint64(XSTATE_BV, true) | XFEATURES_FP_SSE, true);
  out.fill(0, SW_RESERVED, LEGACY_SIZE);
  v.setUint32(SW_RESERVED, FP_XSTATE_MAGIC1, true);
  v.setUint32(SW_RESERVED + 4, layout.size + MAGIC2_SIZE, true);
  v.setBigUint64(SW_RESERVED + 8, layout.features, true);
  v.setUint32(SW_RESERVED + 16, layout.size, true);
  v.setUint32(layout.size, FP_XSTATE_MAGIC2, true);
  return out;
}

/**
 * initXstate is the extended state a handler or a new program starts
 * with: x87 and SSE in their initial state written out (control word
 * 0x37f, MXCSR 0x1f80, every register empty or zero), every other
 * component initial by XSTATE_BV. MXCSR_MASK is the CPU's, taken from a
 * saved image.
 */
export function initXstate(layout: XstateLayout, saved: Uint8Array): Uint8Array {
  const out = new Uint8Array(layout.size);
  const v = new DataView(out.buffer);
  v.setUint16(FCW, FCW_INIT, true);
  v.setUint32(MXCSR, MXCSR_INIT, true);
  v.setUint32(MXCSR_MASK, new DataView(saved.buffer, saved.byteOffset).getUint32(MXCSR_MASK, true), true);
  v.setBigUint64(XSTATE_BV, XFEATURES_FP_SSE, true);
  return out;
}

// ---- rt_sigreturn ----

/**
 * restoreFrame reads back the frame of the handler that just returned
 * (its `ret` popped pretcode, so the frame is at RSP - 8) and puts back
 * the signal mask, the registers (the flags only as far as a program may
 * change them), the extended state and the alternate stack. It returns
 * false for a frame that cannot be read or holds what the CPU would
 * refuse to load; the caller then sends SIGSEGV, as Linux does.
 */
export function restoreFrame(t: Task): boolean {
  const regs = t.ctx.regs;
  const frame = regs.get(Reg.RSP) - 8;
  let b: Uint8Array;
  try {
    b = t.mm.copyIn(frame, INFO);
  } catch {
    return false;
  }
  const v = new DataView(b.buffer);
  t.mask = SigSet.of(v.getUint32(UC_SIGMASK, true), v.getUint32(UC_SIGMASK + 4, true)).blockable();
  const rip = Number(v.getBigUint64(SIGCONTEXT + 128, true));
  if (!(rip < CANONICAL_LIMIT)) return false;
  // The extended state first, as in setupFrame: it may move the registers.
  if (!restoreXstate(t, Number(v.getBigUint64(SIGCONTEXT + SC_FPSTATE, true)))) return false;
  for (const [r, off] of SIGCONTEXT_REGS) regs.setBig(r, v.getBigUint64(SIGCONTEXT + off, true));
  const flags = v.getUint32(SIGCONTEXT + SC_EFLAGS, true);
  regs.set(Reg.RFLAGS, ((regs.get(Reg.RFLAGS) & ~FIX_EFLAGS) | (flags & FIX_EFLAGS)) >>> 0);
  // Like Linux's restore_altstack: errors other than a fault are ignored
  // (a handler returning to code that runs on the alternate stack).
  setAltStack(t, regs.get(Reg.RSP), decodeStack(v, UC_STACK));
  return true;
}

/**
 * restoreXstate loads the extended state from a frame's fpstate, as
 * Linux's fpu__restore_sig: none (a null pointer) puts every component in
 * its initial state; an image whose software-reserved bytes or trailing
 * magic do not check out is taken as a legacy FXSAVE image (x87 and SSE,
 * the rest initial); otherwise the components the image's features name
 * and its XSTATE_BV marks are loaded, the rest initial. False when the
 * image cannot be read or XRSTOR would fault on it.
 */
function restoreXstate(t: Task, fp: number): boolean {
  const ctx = t.ctx;
  const layout = ctx.xstate;
  const current = ctx.getXstate();
  if (fp === 0) {
    ctx.setXstate(initXstate(layout, current));
    return true;
  }
  const out = new Uint8Array(layout.size);
  const v = new DataView(out.buffer);
  try {
    const sw = new DataView(t.mm.copyIn(fp + SW_RESERVED, LEGACY_SIZE - SW_RESERVED).buffer);
    const size = sw.getUint32(16, true);
    const full = sw.getUint32(0, true) === FP_XSTATE_MAGIC1 && size >= MIN_XSTATE_SIZE && size <= layout.size &&
      size <= sw.getUint32(4, true) && t.mm.readU32(fp + size) === FP_XSTATE_MAGIC2;
    if (full) {
      const image = t.mm.copyIn(fp, size);
      const iv = new DataView(image.buffer);
      const bv = iv.getBigUint64(XSTATE_BV, true);
      // XRSTOR's #GP: components the CPU does not enable, a compacted or
      // reserved header (bytes 8-23 in the standard form).
      if (bv & ~layout.features || iv.getBigUint64(HEADER_RESERVED, true) !== 0n || iv.getBigUint64(HEADER_RESERVED + 8, true) !== 0n) return false;
      const rfbm = sw.getBigUint64(8, true) & layout.features;
      if (rfbm & XFEATURES_SSE_AVX && iv.getUint32(MXCSR, true) & MXCSR_RESERVED) return false;
      out.set(image);
      out.fill(0, SW_RESERVED, MIN_XSTATE_SIZE);
      v.setBigUint64(XSTATE_BV, bv & rfbm, true);
    } else {
      out.set(t.mm.copyIn(fp, LEGACY_SIZE));
      if (v.getUint32(MXCSR, true) & MXCSR_RESERVED) return false;
      out.fill(0, SW_RESERVED, LEGACY_SIZE);
      v.setBigUint64(XSTATE_BV, XFEATURES_FP_SSE, true);
    }
  } catch {
    return false;
  }
  v.setUint32(MXCSR_MASK, new DataView(current.buffer).getUint32(MXCSR_MASK, true), true);
  ctx.setXstate(out);
  return true;
}
