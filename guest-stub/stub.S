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
    .long trampoline - header
    .long trampoline_exit - header

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

# ---- The exitless trampoline (ring 3) ----
# The only user-accessible code of the kernel area, on a page of its own.
# A patched call site jumps here with the system call number in EAX and
# its return address in RCX (RCX and R11 are the syscall instruction's to
# clobber). GS points at this vCPU's slot. The trampoline saves the
# program's registers in the slot, posts the call, and spins until the
# Sentry answers (DONE: it loads the registers the Sentry left and returns
# to the program) or until it must exit (WITHDRAWN, by itself when the
# Sentry stops polling, or after SLOT_SPIN_TICKS, or SLOT_BUSY_TICKS for
# a call the Sentry took and works on, SLOT_SPIN_TICKS again if it says the
# call waits (HURRY); or by the Sentry's choice, as for a call that sleeps):
# then it restores the program's registers and executes a real `syscall`,
# whose exit the host recognizes by its address. It never
# touches the program's stack: it runs on a small stack in the slot.
# Flags are the program's again when it leaves, by either way.
.set R_RAX, SLOT_REGS + 0x00
.set R_RBX, SLOT_REGS + 0x08
.set R_RCX, SLOT_REGS + 0x10
.set R_RDX, SLOT_REGS + 0x18
.set R_RSI, SLOT_REGS + 0x20
.set R_RDI, SLOT_REGS + 0x28
.set R_RSP, SLOT_REGS + 0x30
.set R_RBP, SLOT_REGS + 0x38
.set R_R8, SLOT_REGS + 0x40
.set R_R9, SLOT_REGS + 0x48
.set R_R10, SLOT_REGS + 0x50
.set R_R11, SLOT_REGS + 0x58
.set R_R12, SLOT_REGS + 0x60
.set R_R13, SLOT_REGS + 0x68
.set R_R14, SLOT_REGS + 0x70
.set R_R15, SLOT_REGS + 0x78
.set R_RIP, SLOT_REGS + 0x80
.set R_RFLAGS, SLOT_REGS + 0x88

# load_program_registers loads the flags and every general register but
# RSP, RCX and R11 from the slot (its stack is still the slot's).
.macro load_program_registers
    pushq %gs:R_RFLAGS
    popfq
    mov %gs:R_RAX, %rax
    mov %gs:R_RBX, %rbx
    mov %gs:R_RDX, %rdx
    mov %gs:R_RSI, %rsi
    mov %gs:R_RDI, %rdi
    mov %gs:R_RBP, %rbp
    mov %gs:R_R8, %r8
    mov %gs:R_R9, %r9
    mov %gs:R_R10, %r10
    mov %gs:R_R12, %r12
    mov %gs:R_R13, %r13
    mov %gs:R_R14, %r14
    mov %gs:R_R15, %r15
.endm

.balign STUB_TRAMPOLINE_OFFSET
trampoline:
    mov %rax, %gs:R_RAX
    mov %rbx, %gs:R_RBX
    mov %rcx, %gs:R_RCX
    mov %rcx, %gs:R_RIP
    mov %rdx, %gs:R_RDX
    mov %rsi, %gs:R_RSI
    mov %rdi, %gs:R_RDI
    mov %rsp, %gs:R_RSP
    mov %rbp, %gs:R_RBP
    mov %r8, %gs:R_R8
    mov %r9, %gs:R_R9
    mov %r10, %gs:R_R10
    mov %r12, %gs:R_R12
    mov %r13, %gs:R_R13
    mov %r14, %gs:R_R14
    mov %r15, %gs:R_R15
    mov %gs:SLOT_SELF, %rsp
    lea SLOT_STACK_TOP(%rsp), %rsp
    pushfq
    popq %gs:R_RFLAGS
    # As after a real syscall, R11 reads back as the flags.
    mov %gs:R_RFLAGS, %rax
    mov %rax, %gs:R_R11
    movl $0, %gs:SLOT_HURRY
    movl $STATE_POSTED, %gs:SLOT_STATE
    # R8: until when to wait for the Sentry to take the call; R9: for its
    # answer once taken, unless the Sentry says the call waits (HURRY).
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, %r9
    add %gs:SLOT_SPIN_TICKS, %rax
    mov %rax, %r8
    add %gs:SLOT_BUSY_TICKS, %r9
1:  mov %gs:SLOT_STATE, %eax
    cmp $STATE_DONE, %eax
    je 3f
    cmp $STATE_WITHDRAWN, %eax
    je 2f
    cmpl $0, %gs:SLOT_POLLING
    je 4f
    mov %eax, %ecx
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    cmp %r8, %rax
    jb 6f
    cmp $STATE_TAKEN, %ecx
    jne 4f
    cmpl $0, %gs:SLOT_HURRY
    jne 4f
    cmp %r9, %rax
    jae 4f
6:  pause
    jmp 1b
    # Give up waiting: POSTED or TAKEN becomes WITHDRAWN, unless the
    # Sentry changed the state meanwhile.
4:  mov %gs:SLOT_STATE, %eax
    cmp $STATE_POSTED, %eax
    je 5f
    cmp $STATE_TAKEN, %eax
    jne 1b
5:  mov $STATE_WITHDRAWN, %ecx
    lock cmpxchg %ecx, %gs:SLOT_STATE
    jne 1b
    # Leave through an exit, with the program's registers.
2:  load_program_registers
    mov %gs:R_RSP, %rsp
    syscall
trampoline_exit:
    ud2
    # Answered: load what the Sentry left in the slot and return.
3:  load_program_registers
    mov %gs:R_RCX, %rcx
    mov %gs:R_R11, %r11
    mov %gs:R_RSP, %rsp
    movl $STATE_IDLE, %gs:SLOT_STATE
    jmp *%gs:R_RIP
