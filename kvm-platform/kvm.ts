// kvm.ts loads the KVM addon and names the constants of <linux/kvm.h> that
// the platform uses.
import type { KvmAddon } from './native.js';
import { loadAddon } from '../sentry/native/paths.js';

export const kvm = loadAddon<KvmAddon>('tvisor_kvm');
export const layout = kvm.layout();

export const KVM_API_VERSION = 12;
export const KVM_CAP_SET_TSS_ADDR = 4;
export const KVM_CAP_USER_MEMORY = 3;
export const KVM_CAP_EXT_CPUID = 7;
export const KVM_CAP_SYNC_REGS = 74;
export const KVM_CAP_IMMEDIATE_EXIT = 136;

export const KVM_SYNC_X86_REGS = 1;
export const KVM_SYNC_X86_SREGS = 2;

export const KVM_EXIT_IO = 2;
export const KVM_EXIT_HLT = 5;
export const KVM_EXIT_MMIO = 6;
export const KVM_EXIT_SHUTDOWN = 8;
export const KVM_EXIT_FAIL_ENTRY = 9;
export const KVM_EXIT_INTR = 10;
export const KVM_EXIT_INTERNAL_ERROR = 17;

export const MSR_IA32_TSC = 0x10;
export const MSR_STAR = 0xc0000081;
export const MSR_LSTAR = 0xc0000082;
export const MSR_CSTAR = 0xc0000083;
export const MSR_SYSCALL_MASK = 0xc0000084;
export const MSR_KERNEL_GS_BASE = 0xc0000102;

/** exitName names a KVM exit reason for error messages. */
export function exitName(reason: number): string {
  const names: Record<number, string> = {
    [KVM_EXIT_IO]: 'KVM_EXIT_IO', [KVM_EXIT_HLT]: 'KVM_EXIT_HLT', [KVM_EXIT_MMIO]: 'KVM_EXIT_MMIO',
    [KVM_EXIT_SHUTDOWN]: 'KVM_EXIT_SHUTDOWN (triple fault)', [KVM_EXIT_FAIL_ENTRY]: 'KVM_EXIT_FAIL_ENTRY',
    [KVM_EXIT_INTR]: 'KVM_EXIT_INTR', [KVM_EXIT_INTERNAL_ERROR]: 'KVM_EXIT_INTERNAL_ERROR',
  };
  return names[reason] ?? `exit reason ${reason}`;
}
