// abi.ts is the one definition of the guest layout and the exit ports that
// the host (TypeScript), the guest stub (assembly, through the generated
// guest-stub/abi.inc) and the kvm-floor benchmark (C, through the generated
// benchmarks/abi.h) share. scripts/gen-abi.ts writes the other two.

/** ABI_VERSION is stamped into the stub binary and checked when it loads. */
export const ABI_VERSION = 4;
/** STUB_MAGIC opens the stub binary: "TVSB" little-endian. */
export const STUB_MAGIC = 0x42535654;

import { PAGE_SIZE as SENTRY_PAGE_SIZE, USER_ADDRESS_LIMIT } from '../sentry/platform.js';

/** PAGE_SIZE is the size of a guest page and of a memory-file frame. */
export const PAGE_SIZE = SENTRY_PAGE_SIZE;

// Guest-physical layout of the reserved kernel area at the start of the
// memory file. Guest-physical addresses are memory-file offsets.
export const PHYS_GDT = 0x1000;
export const PHYS_TSS = 0x1800;
export const PHYS_IDT = 0x2000;
export const PHYS_STUB = 0x3000;
export const STUB_MAX_SIZE = 0x2000;
export const PHYS_KERNEL_PD = 0x6000;
export const PHYS_KERNEL_PT = 0x7000;
/** PHYS_STACK0_TOP is the ring-0 stack used on entry from ring 3 (TSS.RSP0). */
export const PHYS_STACK0_TOP = 0x9000;
/** PHYS_STACK_IST1_TOP is the stack for double faults and NMIs. */
export const PHYS_STACK_IST1_TOP = 0xa000;
/** KERNEL_RESERVED is where the frames the Sentry allocates begin. */
export const KERNEL_RESERVED = 0x10000;

/**
 * The kernel area is mapped supervisor-only at KERNEL_VIRT_BASE + phys, in
 * the top gigabyte of the lower half (PML4 slot 255, PDPT slot 511), which
 * programs cannot map: the Sentry's USER_ADDRESS_LIMIT ends their address
 * space below it. It is not in the upper half because PVM runs guest code only at
 * lower-half addresses and in a window of the upper half that it chooses
 * and publishes only through a paravirtual MSR; the top of the lower half
 * behaves the same on PVM and on hardware KVM.
 */
export const KERNEL_VIRT_BASE = USER_ADDRESS_LIMIT;
export const KERNEL_PML4_INDEX = 255;
export const KERNEL_PDPT_INDEX = 511;

// GDT selectors, laid out as Linux does so programs see the same values.
export const SEL_KERNEL_CS = 0x10;
export const SEL_KERNEL_DS = 0x18;
export const SEL_USER_CS32 = 0x23;
export const SEL_USER_DS = 0x2b;
export const SEL_USER_CS = 0x33;
export const SEL_TSS = 0x40;

// Exit ports: the stub's syscall entry and each exception vector execute a
// single `out %al, $port` as their first instruction.
export const PORT_SYSCALL = 0x10;
/** PORT_EXCEPTION + vector, for vectors 0 to 31. */
export const PORT_EXCEPTION = 0x40;
/** PORT_UNEXPECTED is used by vectors 32 to 255, which nothing should raise. */
export const PORT_UNEXPECTED = 0x60;

// Offsets in the stub binary's header (little-endian u32 fields).
export const STUB_HDR_MAGIC = 0;
export const STUB_HDR_VERSION = 4;
export const STUB_HDR_SYSCALL_ENTRY = 8;
export const STUB_HDR_VECTORS = 12;
export const STUB_HDR_UNEXPECTED = 16;
export const STUB_HDR_TRAMPOLINE = 20;
export const STUB_HDR_TRAMPOLINE_EXIT = 24;
/** STUB_TRAMPOLINE_OFFSET is where the trampoline's page starts in the stub binary. */
export const STUB_TRAMPOLINE_OFFSET = 0x1000;
/** STUB_VECTOR_STRIDE is the distance between two exception entries. */
export const STUB_VECTOR_STRIDE = 16;

// Per-vCPU pages. vCPU `id` has two pages at SLOT_VIRT_BASE + id * 2
// pages: its slot (user-accessible; below) and its kernel page
// (supervisor-only): the host's control block for the vCPU's thread at
// offset 0, its TSS at VCPU_TSS, and its ring-0 stack below the page's
// end, so that vCPUs running at once never share an interrupt frame.
export const VCPU_TSS = 0x80;

// Exitless system calls. Each vCPU has a slot: one page, user-accessible,
// which is also the vCPU's GS base. A
// patched call site enters the trampoline (in the stub binary's second
// page, the only user-executable page of the kernel area), which saves
// the program's registers in the slot, posts the call, and spins until
// the Sentry answers; or it leaves through a real `syscall` (an exit).

/** SLOT_VIRT_BASE is the first slot's address: the kernel area's second 2 MiB. */
export const SLOT_VIRT_BASE = KERNEL_VIRT_BASE + 0x200000;
/** SLOT_PD_FIRST is the kernel PD entry whose page table maps the pages of vCPUs 0 to 255. */
export const SLOT_PD_FIRST = 1;
// Slot layout (byte offsets).
/** SLOT_STATE is one of STATE_*. */
export const SLOT_STATE = 0x0;
/** SLOT_POLLING is 1 while the Sentry polls this slot; the guest waits only then. */
export const SLOT_POLLING = 0x4;
/** SLOT_SPIN_TICKS is how long (TSC ticks) the guest waits for the Sentry to take a call before it exits. */
export const SLOT_SPIN_TICKS = 0x8;
/** SLOT_REGS holds the registers in struct kvm_regs order (rax ... r15, rip, rflags). */
export const SLOT_REGS = 0x10;
/** SLOT_SELF is the slot's own address, from which the trampoline finds its stack. */
export const SLOT_SELF = 0xa0;
/**
 * SLOT_BUSY_TICKS is how long (TSC ticks, from the post) the guest waits
 * for the answer to a call the Sentry took and is working on; SLOT_HURRY,
 * set by the Sentry when the call has to wait for something (a Gofer
 * request), shortens that to SLOT_SPIN_TICKS again. The guest clears
 * SLOT_HURRY as it posts. A call that sleeps until another task or a timer
 * ends it does not keep its vCPU at all: the Sentry withdraws it at once
 * (TAKEN->WITHDRAWN), and the guest leaves through an exit.
 */
export const SLOT_BUSY_TICKS = 0xa8;
export const SLOT_HURRY = 0xb0;
/** SLOT_STACK_TOP is the top of the trampoline's stack, inside the slot page. */
export const SLOT_STACK_TOP = 0x1000;
// Slot states. The guest moves IDLE->POSTED, POSTED|TAKEN->WITHDRAWN and
// DONE->IDLE; the Sentry POSTED->TAKEN, TAKEN->DONE and TAKEN->WITHDRAWN,
// and, with the vCPU stopped, WITHDRAWN->IDLE once it has the trampoline's
// exit and DONE->IDLE when it finishes the trampoline's return itself.
export const STATE_IDLE = 0;
export const STATE_POSTED = 1;
export const STATE_TAKEN = 2;
export const STATE_DONE = 3;
export const STATE_WITHDRAWN = 4;
