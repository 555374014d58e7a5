// native.d.ts types the raw KVM addon (kvm-platform/native/kvm.cc): one
// function per ioctl. File descriptors are numbers owned by the caller.
export interface KvmLayout {
  exitReason: number;
  ioDirection: number;
  ioSize: number;
  ioPort: number;
  failEntryReason: number;
  internalSuberror: number;
  validRegs: number;
  dirtyRegs: number;
  syncRegs: number;
  syncSregs: number;
  sregsSize: number;
  regsSize: number;
  segmentSize: number;
  sregsFs: number;
  sregsGs: number;
  sregsCs: number;
  sregsSs: number;
  sregsCr2: number;
  sregsCr3: number;
  xsaveSize: number;
  immediateExit: number;
}
export interface KvmAddon {
  openDevice(path: string): number;
  getApiVersion(kvmFd: number): number;
  checkExtension(fd: number, cap: number): number;
  createVm(kvmFd: number, type?: number): number;
  getVcpuMmapSize(kvmFd: number): number;
  createVcpu(vmFd: number, id: number): number;
  setTssAddr(vmFd: number, addr: number): number;
  setUserMemoryRegion(vmFd: number, slot: number, flags: number, guestPhys: number, size: number, hostAddr: bigint): void;
  mapRun(vcpuFd: number, size: number): ArrayBuffer;
  getRegs(vcpuFd: number, out: Uint8Array): void;
  setRegs(vcpuFd: number, regs: Uint8Array): void;
  getSregs(vcpuFd: number, out: Uint8Array): void;
  setSregs(vcpuFd: number, sregs: Uint8Array): void;
  getXsave(vcpuFd: number, out: Uint8Array): void;
  setXsave(vcpuFd: number, xsave: Uint8Array): void;
  setXcr0(vcpuFd: number, value: bigint): void;
  setMsrs(vcpuFd: number, indices: Uint32Array, values: BigUint64Array): number;
  getSupportedCpuid(kvmFd: number): Uint32Array;
  setCpuid2(vcpuFd: number, entries: Uint32Array): void;
  layout(): KvmLayout;
  getMsr(vcpuFd: number, index: number): bigint;
  /** startThread starts the host thread that runs a vCPU; it returns the thread's id. */
  startThread(vcpuFd: number, runAddress: bigint, controlAddress: bigint, onWake: () => void): number;
  wakeThread(id: number): void;
  kickThread(id: number): void;
  refThread(id: number, on: boolean): void;
  stopThread(id: number): void;
}
