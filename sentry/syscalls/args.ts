// args.ts: a system call's arguments, decoded from the registers on demand.
import { Reg, type Registers } from '../platform.js';

const ARG_REGS = [Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8, Reg.R9];

export class SyscallArgs {
  constructor(private readonly regs: Registers) {}

  /** int returns argument i as a C int (the low 32 bits, signed). */
  int(i: number): number {
    return this.regs.getInt(ARG_REGS[i]);
  }

  /** uint returns argument i as a C unsigned int. */
  uint(i: number): number {
    return this.regs.getInt(ARG_REGS[i]) >>> 0;
  }

  /**
   * pointer returns argument i as an address. Values of 2^53 and above
   * (never a user address) come back as Infinity, which fails every
   * address check.
   */
  pointer(i: number): number {
    return this.regs.getHigh(ARG_REGS[i]) >= 0x200000 ? Infinity : this.regs.get(ARG_REGS[i]);
  }

  /** size returns argument i as a size_t, like pointer. */
  size(i: number): number {
    return this.pointer(i);
  }

  /** long returns argument i as a signed 64-bit value (exact within ±2^53). */
  long(i: number): number {
    return Number(BigInt.asIntN(64, this.regs.getBig(ARG_REGS[i])));
  }

  big(i: number): bigint {
    return this.regs.getBig(ARG_REGS[i]);
  }

  /** raw returns argument i as an unsigned number, for strace. */
  raw(i: number): number {
    return this.regs.get(ARG_REGS[i]);
  }
}
