// context.ts: a task's context on the kvm platform is a vCPU of its own,
// so its FPU and vector state (AVX-512 included, which KVM_GET/SET_XSAVE
// do not carry on PVM) stays in the vCPU and is never swapped. The vCPU
// runs on a host thread of its own (native/kvm.cc); the context meets it
// in two places of shared memory: the thread's control block, where an
// exit is reported, and the vCPU's slot, where the trampoline posts system
// calls from patched call sites without any exit.
import * as abi from './abi.js';
import {
  kvm, layout, exitName,
  KVM_EXIT_INTR, KVM_EXIT_IO, KVM_SYNC_X86_REGS, KVM_SYNC_X86_SREGS,
} from './kvm.js';
import { Control, STATUS_EXITED } from './vcpu-thread.js';
import { NOTHING, RAN_ON, type Poller, type Polled } from './poller.js';
import { ring3Sregs, segmentBytes, USER_CS, USER_SS } from './long-mode.js';
import type { KvmAddressSpace } from './address-space.js';
import type { Vcpu } from './platform.js';
import { Outcome, PlatformError, Reg, Registers, type FaultInfo, type PlatformContext, type XstateLayout } from '../sentry/platform.js';
import type { MemoryFile } from '../sentry/mm/memory-file.js';
import type { RunQueue, Runnable } from '../sentry/run-queue.js';

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

const EINTR = 4;
/** REG_WORDS is the size of the register block (struct kvm_regs) in 32-bit words. */
const REG_WORDS = 36;
/** XSAVE_AREA is the size of struct kvm_xsave's region, which KVM_GET_XSAVE and KVM_SET_XSAVE move. */
const XSAVE_AREA = 4096;
/** XSTATE_BV is the offset of the XSAVE header's first word. */
const XSTATE_BV = 512;

export class KvmContext implements PlatformContext, Polled, Runnable {
  readonly regs: Registers;
  readonly fault: FaultInfo = { vector: 0, errorCode: 0, addr: 0, exact: false };
  /** exitless is true when the last Syscall outcome came through the slot, without an exit. */
  exitless = false;
  private readonly run32: Uint32Array;
  private readonly run8: Uint8Array;
  private readonly sregs32: Uint32Array;
  private readonly ioPort: Uint16Array;
  /** syncWords are the registers in kvm_run's sync area; slotWords the same block in the slot. */
  private readonly syncWords: Uint32Array;
  private readonly slotWords: Uint32Array;
  /** slot is the vCPU's slot as 32-bit words, for its state and polling flag. */
  private readonly slot: Int32Array;
  private readonly control: Int32Array;
  private current: KvmAddressSpace | undefined;
  /** target is the address space of the last switch, which the vCPU runs on after an exit. */
  private target: KvmAddressSpace | undefined;
  /** inRing0 is true after an exit, until CS and SS are set back to ring 3. */
  private inRing0 = false;
  /** running is true from a run command until its exit has been seen. */
  private running = false;
  /** taken is true while the Sentry serves a call it took from the slot. */
  private taken = false;
  /** resumeFromSlot: the trampoline's coming exit ends a call the Sentry already served. */
  private resumeFromSlot = false;
  /** holdAtResume: that exit returns Interrupted instead of resuming the program (see stop). */
  private holdAtResume = false;
  private readonly xsave = new Uint8Array(XSAVE_AREA);
  /** fsBaseNext is an FS base to load at the next entry, or -1. */
  private fsBaseNext = -1;
  private released = false;
  /** flushesSeen is the address space's flush count at this vCPU's last entry (see KvmAddressSpace.flushes). */
  private flushesSeen = 0;

  /** stopped is always true here: what an exitless call leaves running, getXstate and setXstate stop first. */
  readonly stopped = true;
  readonly xstate: XstateLayout;

  constructor(private readonly vcpu: Vcpu, private readonly mem: MemoryFile, private readonly poller: Poller, private readonly cpus: RunQueue) {
    this.xstate = vcpu.xstate;
    const buf = vcpu.run;
    this.run32 = new Uint32Array(buf);
    this.run8 = new Uint8Array(buf);
    this.syncWords = new Uint32Array(buf, layout.syncRegs, REG_WORDS);
    this.regs = new Registers(this.syncWords, KVM_REG_SLOTS);
    this.sregs32 = new Uint32Array(buf, layout.syncSregs, layout.sregsSize / 4);
    this.ioPort = new Uint16Array(buf, layout.ioPort, 1);
    const slotBytes = mem.bytesAt(vcpu.slotPhys);
    const slotOff = slotBytes.byteOffset + mem.offsetOf(vcpu.slotPhys);
    this.slot = new Int32Array(slotBytes.buffer, slotOff, abi.PAGE_SIZE / 4);
    this.slotWords = new Uint32Array(slotBytes.buffer, slotOff + abi.SLOT_REGS, REG_WORDS);
    this.control = vcpu.thread.control;
    vcpu.thread.onWake = () => poller.woken();
    this.start();
  }

  /**
   * start puts the vCPU in ring 3 with all general registers zero and GS
   * at its slot; the first switch loads the address space.
   */
  private start(): void {
    const sregs = new Uint8Array(layout.sregsSize);
    kvm.getSregs(this.vcpu.fd, sregs);
    ring3Sregs(sregs, 0, this.vcpu.osxsave, this.vcpu.pages);
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
    if (this.fsBaseNext >= 0) return this.fsBaseNext;
    const i = layout.sregsFs / 4;
    return this.sregs32[i] + this.sregs32[i + 1] * 0x100000000;
  }

  /** The FS base is loaded at the next entry: while the vCPU runs, its sync area is KVM's. */
  set fsBase(v: number) {
    this.fsBaseNext = v;
  }

  /**
   * switch runs the task until its next system call, fault or
   * interruption. A call served in place (exitless) leaves the vCPU
   * running in the trampoline; the answer is given here, on the next
   * switch, and polling goes on. The result is a promise when another
   * task's outcome came first, or when nothing happened for a while (then
   * the Sentry sleeps until an exit): see Poller.
   */
  switch(as: KvmAddressSpace): Outcome | Promise<Outcome> {
    if (this.taken) {
      this.taken = false;
      this.regs.rebind(this.syncWords);
      const inPlace = this.fsBaseNext < 0 && !this.stale(as) && as === this.current;
      if (!inPlace || Atomics.compareExchange(this.slot, abi.SLOT_STATE / 4, abi.STATE_TAKEN, abi.STATE_DONE) !== abi.STATE_TAKEN) {
        // The trampoline leaves through an exit (it withdrew, or is told
        // to now); the program resumes from the slot's registers then.
        Atomics.store(this.slot, abi.SLOT_STATE / 4, abi.STATE_WITHDRAWN);
        this.resumeFromSlot = true;
      }
    }
    this.target = as;
    // The program runs only on one of the sandbox's CPUs (--cpus): it may wait for a turn.
    const turn = this.cpus.acquire(this);
    // After a wait in line, a signal that came meanwhile is seen before the program runs.
    if (turn !== true) return turn.then(() => (this.running ? this.run(as) : Outcome.Interrupted));
    return this.run(as);
  }

  private run(as: KvmAddressSpace): Outcome | Promise<Outcome> {
    if (!this.running) this.enter(as);
    Atomics.store(this.slot, abi.SLOT_POLLING / 4, 1);
    return this.poller.next(this);
  }

  /**
   * stale says whether this vCPU must drop its cached translations of as
   * before it runs on: as has changes not flushed yet, or was flushed
   * (for another vCPU) since this one last entered it.
   */
  private stale(as: KvmAddressSpace): boolean {
    return as.hasStale || as.flushes !== this.flushesSeen;
  }

  /** preempt makes the vCPU leave the guest soon, its turn on a CPU over (RunQueue). */
  preempt(): void {
    this.interrupt();
  }

  /** enter loads what changed into the sync area and tells the vCPU's thread to run. */
  private enter(as: KvmAddressSpace): void {
    let dirty = KVM_SYNC_X86_REGS;
    if (as !== this.current) {
      // The vCPU's slot and kernel page move with it: a program sees only
      // the slots of the vCPUs that run its own address space.
      this.current?.detach(this.vcpu.pages);
      as.attach(this.vcpu.pages);
    }
    if (as !== this.current || this.stale(as)) {
      // Writing CR3, even unchanged, makes KVM drop the vCPU's cached translations.
      const i = layout.sregsCr3 / 4;
      this.sregs32[i] = as.root % 0x100000000;
      this.sregs32[i + 1] = Math.floor(as.root / 0x100000000);
      this.current = as;
      dirty |= KVM_SYNC_X86_SREGS;
    }
    if (this.fsBaseNext >= 0) {
      const i = layout.sregsFs / 4;
      this.sregs32[i] = this.fsBaseNext % 0x100000000;
      this.sregs32[i + 1] = Math.floor(this.fsBaseNext / 0x100000000);
      this.fsBaseNext = -1;
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
    this.flushesSeen = as.flushes;
    this.run32[layout.dirtyRegs / 4] = dirty;
    this.run8[layout.immediateExit] = 0;
    this.running = true;
    this.vcpu.thread.run();
  }

  /** look returns an outcome that is ready (a call posted in the slot, an exit), without waiting. */
  look(): Outcome | typeof NOTHING | typeof RAN_ON {
    if (Atomics.load(this.slot, abi.SLOT_STATE / 4) === abi.STATE_POSTED && this.take()) return Outcome.Syscall;
    if (Atomics.load(this.control, Control.Status) !== STATUS_EXITED) return NOTHING;
    const o = this.exited(this.target!);
    if (o === undefined) return RAN_ON;
    // The program has stopped: its CPU goes to the next in line until it runs again.
    this.cpus.release(this);
    return o;
  }

  /**
   * sleep stops the guest's waiting: a call posted from now on is withdrawn
   * (the guest sees polling off) and arrives as an exit, which the thread
   * reports to the poller.
   */
  sleep(): void {
    Atomics.store(this.slot, abi.SLOT_POLLING / 4, 0);
    Atomics.store(this.control, Control.Waiting, 1);
    this.vcpu.thread.ref(true);
  }

  unsleep(): void {
    Atomics.store(this.slot, abi.SLOT_POLLING / 4, 1);
    // If the thread took the flag, its wake-up is on its way and finds the poller awake.
    Atomics.store(this.control, Control.Waiting, 0);
    this.vcpu.thread.ref(false);
  }

  /** take moves a posted call to TAKEN; the registers are then the slot's. */
  private take(): boolean {
    if (Atomics.compareExchange(this.slot, abi.SLOT_STATE / 4, abi.STATE_POSTED, abi.STATE_TAKEN) !== abi.STATE_POSTED) return false;
    this.taken = true;
    this.exitless = true;
    this.regs.rebind(this.slotWords);
    return true;
  }

  /** exited reads the exit the vCPU's thread reported; undefined when the vCPU runs on by itself. */
  private exited(as: KvmAddressSpace): Outcome | undefined {
    this.running = false;
    Atomics.store(this.control, Control.Status, 0);
    const err = this.control[Control.Result];
    this.run32[layout.dirtyRegs / 4] = 0;
    // A kick: KVM may not have entered the guest, and kept the last exit reason.
    if (err === EINTR) return this.kicked(as);
    if (err !== 0) throw new PlatformError(`KVM_RUN failed: errno ${err}`);
    const reason = this.run32[layout.exitReason / 4];
    if (reason === KVM_EXIT_IO) {
      const port = this.ioPort[0];
      this.inRing0 = true;
      if (port === abi.PORT_SYSCALL) return this.syscall(as);
      if (port >= abi.PORT_EXCEPTION && port < abi.PORT_EXCEPTION + 32) return this.exception(as, port - abi.PORT_EXCEPTION);
      throw new PlatformError(`unexpected interrupt in the guest (port ${port})`);
    }
    if (reason === KVM_EXIT_INTR) return Outcome.Interrupted;
    throw new PlatformError(`the guest stopped with ${exitName(reason)} at rip 0x${this.regs.getBig(Reg.RIP).toString(16)}`);
  }

  /**
   * syscall finishes a system call's entry: the syscall instruction left
   * the program's RIP in RCX and its RFLAGS in R11. From the trampoline's
   * exit, the program's registers are the slot's: either the call was
   * withdrawn before the Sentry took it, and it is served now as any
   * other, or the Sentry served it already and the program resumes.
   */
  private syscall(as: KvmAddressSpace): Outcome | undefined {
    const regs = this.regs;
    this.exitless = false;
    if (regs.get(Reg.RCX) === this.vcpu.trampolineExit) return this.trampolineLeft(as);
    regs.set(Reg.RIP, regs.get(Reg.RCX));
    regs.set(Reg.RFLAGS, (regs.getInt(Reg.R11) & USER_RFLAGS_MASK) | RFLAGS_FIXED);
    return Outcome.Syscall;
  }

  /**
   * trampolineLeft is the outcome of the trampoline's exit: the call it
   * withdrew, to serve now, or (resumeFromSlot) the program resuming after
   * a call the Sentry served already.
   */
  private trampolineLeft(as: KvmAddressSpace): Outcome | undefined {
    this.fromSlot();
    // The program's next call must not find this WITHDRAWN: a kick while
    // its trampoline saves registers would take them for a withdrawn call's.
    Atomics.store(this.slot, abi.SLOT_STATE / 4, abi.STATE_IDLE);
    if (!this.resumeFromSlot) return Outcome.Syscall;
    this.resumeFromSlot = false;
    if (this.holdAtResume) {
      this.holdAtResume = false;
      return Outcome.Interrupted;
    }
    this.enter(as);
    return undefined;
  }

  /** fromSlot makes the program's registers the ones the trampoline keeps in the slot, as it leaves them. */
  private fromSlot(): void {
    this.syncWords.set(this.slotWords);
    this.regs.set(Reg.RFLAGS, (this.regs.getInt(Reg.RFLAGS) & USER_RFLAGS_MASK) | RFLAGS_FIXED);
  }

  /**
   * kicked is the outcome of a kick (EINTR). In the program's own code it
   * is Interrupted. In the trampoline the program's registers are the
   * slot's, and the sync area holds the trampoline's own: the host does
   * what the trampoline was doing, its return with a call's answer (DONE)
   * or its exit (WITHDRAWN), so that a signal's frame is built from the
   * program's state. Anywhere else in the kernel area (a call being
   * posted, the stub's first instruction) the vCPU runs on; the signal
   * comes after the call under way.
   */
  private kicked(as: KvmAddressSpace): Outcome | undefined {
    const rip = this.regs.get(Reg.RIP);
    if (rip < abi.KERNEL_VIRT_BASE) return Outcome.Interrupted;
    const inTrampoline = rip >= this.vcpu.trampoline && rip < this.vcpu.trampoline + abi.PAGE_SIZE;
    const state = Atomics.load(this.slot, abi.SLOT_STATE / 4);
    if (inTrampoline && state === abi.STATE_DONE) {
      this.fromSlot();
      Atomics.store(this.slot, abi.SLOT_STATE / 4, abi.STATE_IDLE);
      return Outcome.Interrupted;
    }
    if (inTrampoline && state === abi.STATE_WITHDRAWN) {
      this.holdAtResume = this.resumeFromSlot;
      return this.trampolineLeft(as);
    }
    this.enter(as);
    return undefined;
  }

  /** exception reads the interrupt frame the CPU pushed on the ring-0 stack. */
  private exception(as: KvmAddressSpace, vector: number): Outcome | undefined {
    const regs = this.regs;
    const rsp = regs.get(Reg.RSP);
    const { kernelVirt, stackTop } = this.vcpu.pages;
    if (!(rsp >= kernelVirt + abi.VCPU_TSS + 0x68 && rsp + 40 <= stackTop)) {
      throw new PlatformError(`exception ${vector} with ring-0 stack at 0x${rsp.toString(16)}`);
    }
    let phys = this.vcpu.kernelPhys + (rsp - kernelVirt);
    const words = this.mem.wordsAt(phys);
    phys = this.mem.offsetOf(phys);
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
      return this.syscall(as);
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

  /** waits lets the guest spinning for the call just taken give up at its shorter limit. */
  waits(): void {
    if (!this.taken) return;
    Atomics.store(this.slot, abi.SLOT_HURRY / 4, 1);
    // The guest leaves the CPU soon; another task may have it meanwhile.
    this.cpus.release(this);
  }

  /**
   * sleeps makes the guest leave the call just taken, which sleeps until
   * another task or a timer ends it: its vCPU leaves the CPU (an exit)
   * rather than spin there, so that the task that will end the wait (the
   * other end of a pipe) and the Sentry can run. The program resumes from
   * the slot's registers when the call is done (switch).
   */
  sleeps(): void {
    if (!this.taken) return;
    Atomics.store(this.control, Control.Rest, 1);
    Atomics.compareExchange(this.slot, abi.SLOT_STATE / 4, abi.STATE_TAKEN, abi.STATE_WITHDRAWN);
    this.cpus.release(this);
  }

  /**
   * stop brings a vCPU that spins in the trampoline, for the answer to an
   * exitless call the Sentry has served, out of KVM_RUN (which
   * KVM_GET_XSAVE and KVM_SET_XSAVE need): the call is withdrawn, and the
   * trampoline leaves through its exit with the registers the Sentry left
   * in the slot, which become the sync area's. The wait is one exit, taken
   * synchronously; a kick that ended KVM_RUN first is run through again.
   */
  private stop(): void {
    if (!this.taken) return;
    const as = this.current!;
    this.taken = false;
    this.regs.rebind(this.syncWords);
    Atomics.store(this.slot, abi.SLOT_STATE / 4, abi.STATE_WITHDRAWN);
    this.resumeFromSlot = true;
    this.holdAtResume = true;
    while (this.holdAtResume) {
      if (!this.running) this.enter(as);
      while (Atomics.load(this.control, Control.Status) !== STATUS_EXITED) { /* the trampoline exits at once */ }
      this.exited(as);
    }
    this.cpus.release(this);
  }

  leave(): void {
    this.stop();
  }

  /** getXstate reads the vCPU's extended state (KVM_GET_XSAVE gives the standard format). */
  getXstate(): Uint8Array {
    this.stop();
    kvm.getXsave(this.vcpu.fd, this.xsave);
    const image = this.xsave.slice(0, this.xstate.size);
    const bv = new DataView(image.buffer);
    bv.setBigUint64(XSTATE_BV, bv.getBigUint64(XSTATE_BV, true) & this.xstate.features, true);
    return image;
  }

  setXstate(image: Uint8Array): void {
    this.stop();
    this.xsave.fill(0);
    this.xsave.set(image);
    kvm.setXsave(this.vcpu.fd, this.xsave);
  }

  /** interrupt makes a running vCPU stop soon with Outcome.Interrupted (a signal arrived). */
  interrupt(): void {
    if (this.running) this.vcpu.thread.kick();
  }

  /** release stops the vCPU if it still runs (the task ended in a call it made) and gives it back. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.running) {
      this.vcpu.thread.kick();
      while (Atomics.load(this.control, Control.Status) !== STATUS_EXITED) { /* the kick ends KVM_RUN at once */ }
      Atomics.store(this.control, Control.Status, 0);
      this.running = false;
    }
    this.poller.remove(this);
    this.cpus.release(this);
    this.vcpu.thread.ref(false);
    this.vcpu.thread.onWake = undefined;
    Atomics.store(this.slot, abi.SLOT_STATE / 4, abi.STATE_IDLE);
    Atomics.store(this.slot, abi.SLOT_POLLING / 4, 0);
    this.current?.detach(this.vcpu.pages);
    this.current = undefined;
    this.vcpu.release();
  }
}
