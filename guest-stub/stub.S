# stub.S is the whole of the guest's ring-0 code. It runs as few ring-0
# instructions as possible: every entry exits to the host on its first
# instruction with an `out` whose port says why, and the host returns to
# ring 3 itself by writing RIP, RFLAGS, CS and SS through KVM's sync regs.
# Nothing here executes sysretq or iretq. The `hlt` after each `out` is
# only reached if the host resumed the stub by mistake: it exits again with
# KVM_EXIT_HLT, which the host reports as an internal error.
.include "abi.inc"

.code64
.section .text
.globl header
header:
    .long STUB_MAGIC
    .long ABI_VERSION
    .long syscall_entry - header
    .long vectors - header
    .long unexpected_entry - header

# syscall_entry is LSTAR. RCX holds the program's RIP, R11 its RFLAGS.
.balign 16
syscall_entry:
    out %al, $PORT_SYSCALL
    hlt

# vectors: one entry per exception vector 0 to 31, STUB_VECTOR_STRIDE apart.
# The CPU has pushed the interrupt frame (and an error code for some
# vectors) on the ring-0 stack; the host reads it from there.
.balign 256
vectors:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
.balign STUB_VECTOR_STRIDE
    out %al, $(PORT_EXCEPTION + \v)
    hlt
.endr

.balign STUB_VECTOR_STRIDE
unexpected_entry:
    out %al, $PORT_UNEXPECTED
    hlt
