// vcpu-thread.ts: the host thread on which a vCPU runs KVM_RUN
// (native/kvm.cc's ThreadLoop), and the control block through which the
// Sentry commands it and learns of its exits, in a frame of the memory
// file that the guest never maps.
import { kvm } from './kvm.js';
import type { MemoryFile } from '../sentry/mm/memory-file.js';

/** Control names the words of the control block; native/kvm.cc has the same numbers. */
export const enum Control {
  Command = 0,
  Status = 1,
  /** Result is the errno of a failed or interrupted (EINTR) KVM_RUN, else 0. */
  Result = 2,
  Sleeping = 3,
  Waiting = 4,
  /**
   * Rest tells the thread to sleep at once after its coming exit instead
   * of spinning for the next command: the vCPU leaves a call that waits,
   * and the CPU is better left to the other vCPUs and the Sentry.
   */
  Rest = 5,
}
const COMMAND_RUN = 1;
export const STATUS_EXITED = 2;

export class VcpuThread {
  readonly control: Int32Array;
  /** onWake is called on the event loop after an exit that the Sentry said it waits for. */
  onWake: (() => void) | undefined;
  private readonly id: number;

  constructor(vcpuFd: number, runAddress: bigint, mem: MemoryFile, controlPhys: number) {
    const bytes = mem.bytesAt(controlPhys);
    this.control = new Int32Array(bytes.buffer, bytes.byteOffset + mem.offsetOf(controlPhys), 8);
    this.id = kvm.startThread(vcpuFd, runAddress, mem.hostAddress(controlPhys), () => this.onWake?.());
  }

  /** run tells the thread to enter the guest. */
  run(): void {
    Atomics.store(this.control, Control.Command, COMMAND_RUN);
    if (Atomics.load(this.control, Control.Sleeping)) kvm.wakeThread(this.id);
  }

  /** kick ends the thread's KVM_RUN now, or the next one at once. */
  kick(): void {
    kvm.kickThread(this.id);
  }

  /** ref makes the awaited wake-up keep Node's event loop alive. */
  ref(on: boolean): void {
    kvm.refThread(this.id, on);
  }

  stop(): void {
    kvm.stopThread(this.id);
  }
}
