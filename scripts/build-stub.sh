#!/usr/bin/env bash
# build-stub.sh builds what runs inside a sandbox besides the program: the
# kvm guest stub (guest-stub/stub.S, a flat binary), the ptrace platform's
# stub and the vDSO. First the guest stub, into the flat binary
# dist/guest-stub/guest-stub.bin that the kvm platform copies into every guest.
# guest-stub/abi.inc must exist (npm run build generates it first).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p dist/guest-stub/obj
as --64 -I guest-stub -o dist/guest-stub/obj/stub.o guest-stub/stub.S
ld -m elf_x86_64 -T guest-stub/stub.ld -o dist/guest-stub/obj/stub.elf dist/guest-stub/obj/stub.o
objcopy -O binary dist/guest-stub/obj/stub.elf dist/guest-stub/guest-stub.bin
size=$(stat -c %s dist/guest-stub/guest-stub.bin)
if [ "$size" -gt 8192 ]; then
  echo "build-stub: stub is $size bytes, more than STUB_MAX_SIZE" >&2
  exit 1
fi

# The ptrace platform's stub: a static ELF of one page.
mkdir -p dist/ptrace-platform/obj
as --64 -o dist/ptrace-platform/obj/stub.o ptrace-platform/stub.S
ld -m elf_x86_64 -static -z max-page-size=4096 -T ptrace-platform/stub.ld -o dist/ptrace-platform/ptrace-stub dist/ptrace-platform/obj/stub.o

# The vDSO every program gets: position-independent, no relocations.
mkdir -p dist/vdso
gcc -O2 -fPIC -fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables -nostdlib -shared \
  -Wl,-T,sentry/vdso/vdso.lds -Wl,--hash-style=both -Wl,-soname=linux-vdso.so.1 -Wl,--no-undefined \
  -Wl,--build-id=none -o dist/vdso/vdso.so sentry/vdso/vdso.c
if [ "$(stat -c %s dist/vdso/vdso.so)" -gt 8192 ]; then
  echo "build-stub: the vDSO is larger than two pages" >&2
  exit 1
fi
