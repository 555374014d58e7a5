# stub.S is the whole program of a ptrace platform stub process. It never
# runs on its own: the tracer stops it at exec, unmaps everything else in
# its address space, and from then on uses the `syscall; int3` pair below
# only to make the stub map, unmap and protect the sandbox's memory file.
# The program itself runs in this process under PTRACE_SYSEMU, so the host
# kernel never executes the program's own system calls.
.section .text
.globl _start
_start:
    syscall
    int3
