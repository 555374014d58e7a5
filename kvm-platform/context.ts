// context.ts: a task's context on the kvm platform is a vCPU of its own,
// so its FPU and vector state (AVX-512 included, which KVM_GET/SET_XSAVE
// do not carry on PVM) stays in the vCPU and is never swapped.
import * as abi from './abi.js';
import {
  kvm, layout, exitName,
  KVM_EXIT_INTR, KVM_EXIT_IO, KVM_SYNC_X86_REGS, KVM_SYNC_X86_SREGS,
} from './kvm.js';
import { ring3Sregs, segmentBytes, USER_CS, USER_SS } from './long-mode.js';
import type { KvmAddressSpace } from './address-space.js';
import type { Vcpu } from './platform.js';
import { Outcome, PlatformError, Reg, Registers, type FaultInfo, type PlatformContext } from '../sentry/platform.js';
import type { MemoryFile } from '../sentry/mm/memory-file.js';

/** KVM_REG_SLOTS maps each Reg to its slot in struct kvm_regs (the same order). */
const KVM_REG_SLOTS = Int32Array.from({ length: 18 }, (_, i) => i);
/** USER_RFLAGS are the flags a program may set; IF and bit 1 are always on. */
const USER_RFLAGS_MASK = 0x250fd5;
const RFLAGS_FIXED = 0x202;
/** PF_USER_FETCH is a page fault's error code for a ring-3 instruction fetch. */
const PF_USER_FETCH = 0x14;
/** Vectors that push an error code. */
const HAS_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);

const userCs = segmentBytes(USER_CS);
const userSs = segmentBytes(USER_SS);

export class KvmContext implements PlatformContext {
  readonly regs: Registers;
  readonly fault: FaultInfo = { vector: 0, errorCode: 0, addr: 0, exact: false };
  private readonly run32: Uint32Array;
  private readonly run8: Uint8Array;
  private readonly sregs32: Uint32Array;
  private readonly ioPort: Uint16Array;
  private current: KvmAddressSpace | undefined;
  /** inRing0 is true after an exit, until CS and SS are set back to ring 3. */
  private inRing0 = false;

  constructor(private readonly vcpu: Vcpu, private readonly mem: MemoryFile) {
    const buf = vcpu.run;
    this.run32 = new Uint32Array(buf);
    this.run8 = new Uint8Array(buf);
    this.regs = new Registers(new Uint32Array(buf, layout.syncRegs, layout.regsSize / 4), KVM_REG_SLOTS);
    this.sregs32 = new Uint32Array(buf, layout.syncSregs, layout.sregsSize / 4);
    this.ioPort = new Uint16Array(buf, layout.ioPort, 1);
    this.start();
  }

  /**
   * start puts the vCPU in ring 3 with all general registers zero; the
   * first switch loads the address space.
   */
  private start(): void {
    const sregs = new Uint8Array(layout.sregsSize);
    kvm.getSregs(this.vcpu.fd, sregs);
    ring3Sregs(sregs, 0, this.vcpu.osxsave);
    kvm.setSregs(this.vcpu.fd, sregs);
    const regs = new Uint8Array(layout.regsSize);
    new DataView(regs.buffer).setBigUint64(17 * 8, BigInt(RFLAGS_FIXED), true);
    kvm.setRegs(this.vcpu.fd, regs);
    // Fill the sync-regs area from the vCPU, then keep it current on every exit.
    this.run32[layout.validRegs / 4] = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
    this.run32[layout.dirtyRegs / 4] = 0;
    this.sregs32.set(new Uint32Array(sregs.buffer));
    kvm.getRegs(this.vcpu.fd, regs);
    new Uint8Array(this.run8.buffer, layout.syncRegs, layout.regsSize).set(regs);
  }

  get fsBase(): number {
    const i = layout.sregsFs / 4;
    return this.sregs32[i] + this.sregs32[i + 1] * 0x100000000;
  }

  set fsBase(v: number) {
    const i = layout.sregsFs / 4;
    this.sregs32[i] = v % 0x100000000;
    this.sregs32[i + 1] = Math.floor(v / 0x100000000);
    this.run32[layout.dirtyRegs / 4] |= KVM_SYNC_X86_SREGS;
  }

  switch(as: KvmAddressSpace): Outcome {
    let dirty = KVM_SYNC_X86_REGS | this.run32[layout.dirtyRegs / 4];
    if (as !== this.current) {
      const i = layout.sregsCr3 / 4;
      this.sregs32[i] = as.root % 0x100000000;
      this.sregs32[i + 1] = Math.floor(as.root / 0x100000000);
      this.current = as;
      dirty |= KVM_SYNC_X86_SREGS;
    }
    if (this.inRing0) {
      // Return to ring 3 without sysretq or iretq: load CS and SS directly.
      this.run8.set(userCs, layout.syncSregs + layout.sregsCs);
      this.run8.set(userSs, layout.syncSregs + layout.sregsSs);
      this.inRing0 = false;
      dirty |= KVM_SYNC_X86_SREGS;
    }
    as.flushStale();
    this.run32[layout.dirtyRegs / 4] = dirty;
    const err = kvm.run(this.vcpu.fd);
    this.run32[layout.dirtyRegs / 4] = 0;
    if (err !== 0) throw new PlatformError(`KVM_RUN failed: errno ${err}`);
    const reason = this.run32[layout.exitReason / 4];
    if (reason === KVM_EXIT_IO) {
      const port = this.ioPort[0];
      this.inRing0 = true;
      if (port === abi.PORT_SYSCALL) return this.syscall();
      if (port >= abi.PORT_EXCEPTION && port < abi.PORT_EXCEPTION + 32) return this.exception(port - abi.PORT_EXCEPTION);
      throw new PlatformError(`unexpected interrupt in the guest (port ${port})`);
    }
    if (reason === KVM_EXIT_INTR) return Outcome.Interrupted;
    throw new PlatformError(`the guest stopped with ${exitName(reason)} at rip 0x${this.regs.getBig(Reg.RIP).toString(16)}`);
  }

  /**
   * syscall finishes a system call's entry: the syscall instruction left
   * the program's RIP in RCX and its RFLAGS in R11.
   */
  private syscall(): Outcome {
    const regs = this.regs;
    regs.set(Reg.RIP, regs.get(Reg.RCX));
    regs.set(Reg.RFLAGS, (regs.getInt(Reg.R11) & USER_RFLAGS_MASK) | RFLAGS_FIXED);
    return Outcome.Syscall;
  }

  /** exception reads the interrupt frame the CPU pushed on the ring-0 stack. */
  private exception(vector: number): Outcome {
    const regs = this.regs;
    const rsp = regs.get(Reg.RSP);
    if (regs.getHigh(Reg.RSP) !== abi.KERNEL_VIRT_BASE_HI) throw new PlatformError(`exception ${vector} with a bad ring-0 stack`);
    let phys = (regs.getInt(Reg.RSP) >>> 0) - abi.KERNEL_VIRT_BASE_LO;
    if (phys < 0 || phys + 48 > abi.KERNEL_RESERVED) throw new PlatformError(`exception ${vector} with ring-0 stack at ${rsp}`);
    const words = this.mem.wordsAt(0);
    let errorCode = 0;
    if (HAS_ERROR_CODE.has(vector)) {
      errorCode = words[phys >> 2];
      phys += 8;
    }
    const w = phys >> 2;
    const cs = words[w + 2];
    if ((cs & 3) !== 3) {
      throw new PlatformError(`exception ${vector} in the guest stub at rip 0x${words[w + 1].toString(16)}${words[w].toString(16).padStart(8, '0')}`);
    }
    const rip = words[w] + words[w + 1] * 0x100000000;
    regs.set(Reg.RSP, words[w + 6] + words[w + 7] * 0x100000000);
    if (vector === 14 && rip === this.vcpu.syscallEntry && (errorCode & PF_USER_FETCH) === PF_USER_FETCH) {
      // On PVM, `syscall` from ring 3 reaches LSTAR without leaving ring 3,
      // so the stub's supervisor-only page faults on its first fetch. That
      // fault is the system call (RCX and R11 are already set by it).
      return this.syscall();
    }
    regs.set(Reg.RIP, rip);
    regs.set(Reg.RFLAGS, (words[w + 4] & USER_RFLAGS_MASK) | RFLAGS_FIXED);
    this.fault.vector = vector;
    this.fault.errorCode = errorCode;
    if (vector === 14) {
      const i = layout.sregsCr2 / 4;
      this.fault.addr = this.sregs32[i] + this.sregs32[i + 1] * 0x100000000;
    } else {
      this.fault.addr = 0;
    }
    return Outcome.Fault;
  }

  release(): void {
    this.current = undefined;
    this.vcpu.release();
  }
}
