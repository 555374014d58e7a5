// platform.ts: the kvm platform. One VM per sandbox, its guest-physical
// memory the sandbox's memory file; one vCPU per running task.
import { close as fsClose } from 'node:fs';
import * as abi from './abi.js';
import {
  kvm,
  KVM_API_VERSION, KVM_CAP_SET_TSS_ADDR, KVM_CAP_SYNC_REGS, KVM_CAP_USER_MEMORY, KVM_CAP_EXT_CPUID,
  KVM_SYNC_X86_REGS, KVM_SYNC_X86_SREGS, MSR_CSTAR, MSR_IA32_TSC, MSR_KERNEL_GS_BASE, MSR_LSTAR, MSR_STAR, MSR_SYSCALL_MASK,
} from './kvm.js';
import { kernelVirt, loadStub, vcpuPages, writeKernelArea, type VcpuPages } from './long-mode.js';
import { VcpuThread } from './vcpu-thread.js';
import { KvmAddressSpace } from './address-space.js';
import { KvmContext } from './context.js';
import { Poller } from './poller.js';
import { host, xstateLayout } from '../sentry/native/host.js';
import { tscPerNs } from '../sentry/vdso/time-page.js';
import { PlatformError } from '../sentry/platform.js';
import { MemoryFile } from '../sentry/mm/memory-file.js';
import type { Platform, XstateLayout } from '../sentry/platform.js';
import { RunQueue } from '../sentry/run-queue.js';

/** KvmUnavailableError says /dev/kvm cannot be used, and why. */
export class KvmUnavailableError extends Error {
  readonly code = 'E_NO_KVM';
}

/**
 * GUEST_SPIN_NS is how long the trampoline waits for the Sentry's answer
 * before it gives up and exits: long enough to cover a handler and a turn
 * of the event loop, short enough that a blocking call burns little.
 */
const GUEST_SPIN_NS = 100_000;
/**
 * GUEST_BUSY_NS is how long it waits for a call the Sentry took and works
 * on without waiting (a large read from the page cache takes ~150 µs; an
 * exit costs 30-70 µs on PVM), unless the Sentry says the call waits.
 */
const GUEST_BUSY_NS = 2_000_000;

/** The identity-map and TSS pages that VMX needs sit just below 4 GiB, above the memory slot. */
const TSS_ADDR = 0xfffbd000;
/** MAX_MEMORY_FILE keeps the memory slot below those pages. */
export const MAX_MEMORY_FILE = 0xfffbc000;

let kvmFd = -1;
let vcpuMmapSize = 0;
let supportedCpuid: Uint32Array;
let xsaveMask = 0n;

/** openKvm opens /dev/kvm once per process and checks what the platform relies on. */
function openKvm(): number {
  if (kvmFd >= 0) return kvmFd;
  // TVISOR_KVM_DEVICE names another device node (a test, or an unusual host).
  const device = process.env.TVISOR_KVM_DEVICE || '/dev/kvm';
  let fd: number;
  try {
    fd = kvm.openDevice(device);
  } catch (err) {
    const e = err as { errno?: number };
    const why = e.errno === 2 ? 'does not exist' : e.errno === 13 || e.errno === 1 ? 'is not accessible (permission denied)' : `cannot be opened (errno ${e.errno})`;
    throw new KvmUnavailableError(`${device} ${why}; use --platform=ptrace to run without KVM`);
  }
  const version = kvm.getApiVersion(fd);
  if (version !== KVM_API_VERSION) throw new KvmUnavailableError(`/dev/kvm has API version ${version}, expected ${KVM_API_VERSION}`);
  for (const [cap, name] of [[KVM_CAP_USER_MEMORY, 'KVM_CAP_USER_MEMORY'], [KVM_CAP_EXT_CPUID, 'KVM_CAP_EXT_CPUID']] as const) {
    if (kvm.checkExtension(fd, cap) <= 0) throw new KvmUnavailableError(`/dev/kvm lacks ${name}`);
  }
  const sync = kvm.checkExtension(fd, KVM_CAP_SYNC_REGS);
  if ((sync & (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) !== (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) {
    throw new KvmUnavailableError('/dev/kvm lacks KVM_CAP_SYNC_REGS for registers and special registers');
  }
  vcpuMmapSize = kvm.getVcpuMmapSize(fd);
  supportedCpuid = kvm.getSupportedCpuid(fd);
  xsaveMask = enableXsave(supportedCpuid);
  kvmFd = fd;
  return fd;
}

/** XCR0_AMX are the AMX state bits, which need a permission KVM_SET_CPUID2 checks (EPERM). */
const XCR0_AMX = 0x60000n;
const CPUID_XSAVE = 1 << 26;

/**
 * enableXsave makes the guest's CPUID say what ring 3 really runs with,
 * and returns the XCR0 to give the vCPU. Hardware KVM offers XSAVE and its
 * features, and its XCR0 is the guest's own. PVM offers neither, yet ring-3
 * code runs natively with the host's XCR0, AVX-512 included; without XSAVE
 * in CPUID the guest cannot set CR4.OSXSAVE, so programs would read
 * OSXSAVE=0 and wrongly decide they have no AVX. There, XSAVE and the host's
 * XCR0 (less AMX) are advertised so CR4.OSXSAVE and XCR0 can be set.
 * Nothing relies on CPUID to limit what programs execute.
 */
function enableXsave(cpuid: Uint32Array): bigint {
  const leaf1 = findCpuid(1, 0);
  const leafD = findCpuid(0xd, 0);
  if (leaf1 < 0 || leafD < 0) return 0n;
  if ((cpuid[leaf1 + 5] & CPUID_XSAVE) === 0) {
    if ((host.cpuid(1, 0)[2] & CPUID_XSAVE) === 0) return 0n;
    const xcr0 = host.xcr0() & ~XCR0_AMX;
    const hostD = host.cpuid(0xd, 0);
    cpuid[leaf1 + 5] |= CPUID_XSAVE;
    cpuid[leafD + 3] = Number(xcr0 & 0xffffffffn);
    cpuid[leafD + 4] = hostD[1];
    cpuid[leafD + 5] = hostD[2];
    cpuid[leafD + 6] = Number(xcr0 >> 32n);
  }
  // Entries are {function, index, flags, eax, ebx, ecx, edx, padding[3]}.
  return BigInt(cpuid[leafD + 3]) | (BigInt(cpuid[leafD + 6]) << 32n);
}

function findCpuid(fn: number, index: number): number {
  for (let i = 0; i < supportedCpuid.length; i += 10) {
    if (supportedCpuid[i] === fn && supportedCpuid[i + 1] === index) return i;
  }
  return -1;
}

/** XFEATURES_FP_SSE are the x87 and SSE state, which a vCPU without XSAVE has. */
const XFEATURES_FP_SSE = 3n;

/** INIT_XSAVE is an XSAVE area in the initial state: the default FPU control word and MXCSR, XSTATE_BV 0. */
const INIT_XSAVE = (() => {
  const x = new Uint8Array(4096);
  const v = new DataView(x.buffer);
  v.setUint16(0, 0x37f, true); // FCW
  v.setUint32(24, 0x1f80, true); // MXCSR
  v.setUint32(28, 0xffff, true); // MXCSR_MASK
  return x;
})();

function closeVcpu(v: Vcpu): void {
  v.thread.stop();
  host.unmap(host.bufferAddress(v.run), vcpuMmapSize, [v.run]);
  host.close(v.fd);
}

/** Vcpu is a vCPU of the platform's VM, lent to one context at a time. */
export interface Vcpu {
  fd: number;
  run: ArrayBuffer;
  osxsave: boolean;
  /** xstate is the layout of the vCPU's extended state: the features of its XCR0. */
  xstate: XstateLayout;
  /** syscallEntry is LSTAR, as a number. */
  syscallEntry: number;
  /** trampoline is the exitless trampoline's entry, at the start of its page; trampolineExit is where its own `syscall` leaves RCX. */
  trampoline: number;
  trampolineExit: number;
  /** slotPhys is the vCPU's slot in the memory file; kernelPhys its kernel page. */
  slotPhys: number;
  kernelPhys: number;
  pages: VcpuPages;
  thread: VcpuThread;
  release(): void;
}

export class KvmPlatform implements Platform {
  readonly name = 'kvm';
  readonly memoryFile: MemoryFile;
  private readonly vmFd: number;
  private readonly live = new Set<Vcpu>();
  /** idle vCPUs wait for a context, their extended state reset. */
  private readonly idle: Vcpu[] = [];
  /** poller is the loop in which the Sentry waits for every vCPU at once. */
  private readonly poller = new Poller();
  /** runQueue lets at most `cpus` vCPUs run programs at once; the others wait for a turn. */
  private readonly runQueue: RunQueue;
  readonly tscOffset: bigint;
  readonly syscallTrampoline = Number(kernelVirt(loadStub().trampoline));
  private nextVcpuId = 0;
  private closed = false;

  /** create makes a VM whose programs may commit `memoryLimit` bytes, and run on `cpus` vCPUs at once. */
  static create(memoryLimit: number, cpus: number): KvmPlatform {
    const fd = openKvm();
    const mem = MemoryFile.create(memoryLimit, abi.KERNEL_RESERVED);
    let vmFd = -1;
    try {
      if (mem.size > MAX_MEMORY_FILE) throw new RangeError('memory limit too large for the kvm platform');
      vmFd = kvm.createVm(fd);
      if (kvm.checkExtension(fd, KVM_CAP_SET_TSS_ADDR) > 0) kvm.setTssAddr(vmFd, TSS_ADDR);
      // Guest-physical memory is the memory file, registered a slot at a time as it is used.
      let slot = 0;
      const vm = vmFd;
      mem.onGrow = (from, to) => kvm.setUserMemoryRegion(vm, slot++, 0, from, to - from, mem.address + BigInt(from));
      mem.start();
      writeKernelArea(mem, loadStub());
      return new KvmPlatform(vmFd, mem, cpus);
    } catch (err) {
      if (vmFd >= 0) host.close(vmFd);
      mem.close();
      throw err;
    }
  }

  private constructor(vmFd: number, mem: MemoryFile, readonly cpus: number) {
    this.runQueue = new RunQueue(cpus);
    this.vmFd = vmFd;
    this.memoryFile = mem;
    // The first vCPU is made now, to learn the VM's TSC offset; the first context gets it.
    const first = this.newVcpu();
    this.tscOffset = this.measureTscOffset(first);
    this.idle.push(first);
  }

  newAddressSpace(): KvmAddressSpace {
    return new KvmAddressSpace(this.memoryFile);
  }

  /**
   * newContext gives a context a vCPU of its own: an idle one, or a new
   * one. A vCPU is reused only after its whole extended state (x87, SSE,
   * AVX, AVX-512, PKRU) was reset, so no task sees another's registers;
   * KVM allows only so many vCPUs per VM (4096 ids here), and a sandbox
   * may run many programs.
   */
  newContext(): KvmContext {
    return new KvmContext(this.idle.pop() ?? this.newVcpu(), this.memoryFile, this.poller, this.runQueue);
  }

  /**
   * measureTscOffset compares a vCPU's TSC (KVM_GET_MSRS) with the host's,
   * keeping the reading taken in the narrowest window.
   */
  private measureTscOffset(vcpu: Vcpu): bigint {
    let best = -1n;
    let offset = 0n;
    for (let i = 0; i < 5; i++) {
      const before = host.rdtsc();
      const guest = kvm.getMsr(vcpu.fd, MSR_IA32_TSC);
      const after = host.rdtsc();
      if (best < 0n || after - before < best) {
        best = after - before;
        offset = guest - (before + after) / 2n;
      }
    }
    return offset;
  }

  private newVcpu(): Vcpu {
    const id = this.nextVcpuId++;
    const fd = kvm.createVcpu(this.vmFd, id);
    const run = kvm.mapRun(fd, vcpuMmapSize);
    const mem = this.memoryFile;
    const slotPhys = mem.allocFrame();
    const kernelPhys = mem.allocFrame();
    if (slotPhys < 0 || kernelPhys < 0) throw new PlatformError('out of memory for a vCPU');
    const pages = vcpuPages(mem, id, slotPhys, kernelPhys);
    const slot = new DataView(mem.bytesAt(slotPhys).buffer, mem.bytesAt(slotPhys).byteOffset + mem.offsetOf(slotPhys), abi.PAGE_SIZE);
    slot.setBigUint64(abi.SLOT_SELF, BigInt(pages.slotVirt), true);
    slot.setBigUint64(abi.SLOT_SPIN_TICKS, BigInt(Math.round(GUEST_SPIN_NS * tscPerNs())), true);
    slot.setBigUint64(abi.SLOT_BUSY_TICKS, BigInt(Math.round(GUEST_BUSY_NS * tscPerNs())), true);
    kvm.setCpuid2(fd, supportedCpuid);
    const stub = loadStub();
    const msrs = [
      [MSR_STAR, (BigInt(abi.SEL_USER_CS32 & ~3) << 48n) | (BigInt(abi.SEL_KERNEL_CS) << 32n)],
      [MSR_LSTAR, kernelVirt(stub.syscallEntry)],
      [MSR_CSTAR, kernelVirt(stub.syscallEntry)],
      // Entering the stub clears TF, IF, DF, IOPL, NT and AC.
      [MSR_SYSCALL_MASK, 0x47700n],
      [MSR_KERNEL_GS_BASE, 0n],
    ] as const;
    const n = kvm.setMsrs(fd, Uint32Array.from(msrs.map((m) => m[0])), BigUint64Array.from(msrs.map((m) => m[1])));
    if (n !== msrs.length) throw new KvmUnavailableError(`KVM_SET_MSRS set ${n} of ${msrs.length} MSRs`);
    const osxsave = xsaveMask !== 0n;
    if (osxsave) kvm.setXcr0(fd, xsaveMask);
    const vcpu: Vcpu = {
      fd, run, osxsave, slotPhys, kernelPhys, pages,
      xstate: xstateLayout(osxsave ? xsaveMask : XFEATURES_FP_SSE),
      syscallEntry: Number(kernelVirt(stub.syscallEntry)),
      trampoline: Number(kernelVirt(stub.trampoline)),
      trampolineExit: Number(kernelVirt(stub.trampolineExit)),
      thread: new VcpuThread(fd, host.bufferAddress(run), mem, kernelPhys),
      release: () => {
        if (this.closed || !this.live.has(vcpu)) return;
        // XSTATE_BV 0 puts every component in its initial state. This holds
        // on PVM too, now that the guest CPUID offers XSAVE and the host's
        // XCR0 (see enableXsave), so KVM_SET_XSAVE covers AVX-512.
        kvm.setXsave(vcpu.fd, INIT_XSAVE);
        this.idle.push(vcpu);
      },
    };
    this.live.add(vcpu);
    return vcpu;
  }

  /**
   * preempt does nothing here: vCPUs run on threads of their own, so the
   * Sentry's event loop never waits in KVM_RUN; a context is stopped by
   * `interrupt` instead.
   */
  preempt(): void {}

  /**
   * close releases the vCPUs, the memory and the VM. Tearing a VM down
   * takes KVM about a millisecond, so the last close runs on libuv's
   * thread pool rather than on the event loop.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const v of this.live) closeVcpu(v);
    this.live.clear();
    this.idle.length = 0;
    this.memoryFile.close();
    await new Promise<void>((resolve) => fsClose(this.vmFd, () => resolve()));
  }
}
