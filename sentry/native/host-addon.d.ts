// host.d.ts types the raw host addon (sentry/native/host.cc).
export interface HostAddon {
  close(fd: number): void;
  memfdCreate(name: string, size: number): number;
  mapShared(fd: number, size: number): bigint;
  view(address: bigint, offset: number, length: number): ArrayBuffer;
  unmap(address: bigint, size: number, buffers: ArrayBuffer[]): void;
  bufferAddress(buffer: ArrayBuffer): bigint;
  /** pidfdGetfd duplicates process pid's descriptor targetFd into this process; the new fd, or -errno. */
  pidfdGetfd(pid: number, targetFd: number): number;
  /**
   * preadvNowait reads at offset into base + pairs[2i] (pairs[2i+1] bytes), in order, only as far as
   * the page cache holds the data; bytes read, or -errno (-EAGAIN: none cached).
   */
  preadvNowait(fd: number, base: bigint, pairs: Float64Array, offset: number): number;
  punchHole(fd: number, offset: number, length: number): void;
  dropMappings(address: bigint, length: number): void;
  /** membarrier makes every thread of this process that runs now pass a full memory barrier. */
  membarrier(): void;
  populate(address: bigint, length: number): boolean;
  preemptInit(signal: number): void;
  preemptSet(periodMicroseconds: number): void;
  ttyIoctl(fd: number, request: number, buffer: Uint8Array): number;
  clockGettime(clockId: number, out: Float64Array): number;
  /** getrandom fills buffer from the host's CSPRNG. */
  getrandom(buffer: Uint8Array): void;
  /** clockSample fills out with the TSC (high, low) and CLOCK_MONOTONIC, _REALTIME, _BOOTTIME (sec, nsec each). */
  clockSample(out: Float64Array): void;
  /** yield gives the CPU to another thread ready to run on it, if any (sched_yield). */
  yield(): void;
  /** rdtsc reads the host's TSC. */
  rdtsc(): bigint;
  /** cpuid returns [eax, ebx, ecx, edx] of the host CPU's leaf and subleaf. */
  cpuid(leaf: number, subleaf: number): Uint32Array;
  /** xcr0 is the host's XCR0: the extended state it enables. */
  xcr0(): bigint;
}
