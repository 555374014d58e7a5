#!/usr/bin/env bash
# build-stub.sh assembles guest-stub/stub.S into the flat binary
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
