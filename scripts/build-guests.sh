#!/usr/bin/env bash
# Builds the guest test programs in test/guests/*.c into test/guests/bin/.
#   every NAME.c      -> bin/NAME            (musl-gcc -static -O2 -Wall)
#                        (native_pipes.c and no_ptrace.c are not guests but test
#                        helpers; native_pipes.c is the native-side
#                        runner used by test/helpers.ts runNative)
#                        but libplug.c and dlopen_test.c, below
#   hello, syscalls, getppid_loop, patchsite, sig_deliver, sig_wait, thr_pthread, thr_fork, thr_kernel
#                     -> bin/NAME.glibc      (gcc -static -O2, glibc)
#   hello             -> bin/hello.pie       (musl static-PIE)
#   hello, thr_pthread -> bin/NAME.dynamic   (dynamically linked glibc, the host's ld.so and libc)
#   libplug           -> bin/libplug.so      (a glibc shared library, gcc -shared -fPIC)
#   dlopen_test       -> bin/dlopen_test     (dynamically linked glibc; it dlopens bin/libplug.so)
#   hello             -> bin/badinterp       (dynamically linked, naming an interpreter that does not exist)
#   bin/elf32         -> a minimal 32-bit i386 ELF header (rejected by the loader)
#   bin/notelf        -> an executable text file that is not ELF
# test/guests/guest.h is the helpers' header that guests #include, and
# test/guests/fs.h, proc.h, desc.h and thr.h the ones the fs_*, proc_*, desc_* and
# thr_* guests add: not guests, never built on their
# own (only *.c are), but every target built from C is rebuilt when one changes.
# A target is skipped when it is newer than its source, the headers and this script.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/test/guests"
BIN="$SRC/bin"
SELF="$ROOT/scripts/build-guests.sh"
HEADERS=("$SRC/guest.h" "$SRC/fs.h" "$SRC/proc.h" "$SRC/desc.h" "$SRC/thr.h")
mkdir -p "$BIN"

# up_to_date TARGET SOURCE...: true when TARGET exists and is newer than every SOURCE.
up_to_date() {
  local target="$1"; shift
  [[ -e "$target" ]] || return 1
  local s
  for s in "$@"; do
    [[ "$target" -nt "$s" ]] || return 1
  done
  return 0
}

# build TARGET SOURCE COMPILER FLAGS...
# The source goes where an argument @SRC@ is, else at the end.
build() {
  local target="$1" source="$2"; shift 2
  if up_to_date "$target" "$source" "${HEADERS[@]}" "$SELF"; then
    return 0
  fi
  echo "  CC  ${target#"$ROOT"/}"
  local cmd=() placed=0 arg
  for arg in "$@"; do
    if [[ "$arg" == "@SRC@" ]]; then
      cmd+=("$source")
      placed=1
    else
      cmd+=("$arg")
    fi
  done
  (( placed )) || cmd+=("$source")
  # Compile to a temporary name so a failed build leaves no stale, newer binary.
  if ! "${cmd[@]}" -o "$target.tmp"; then
    rm -f "$target.tmp"
    echo "build-guests: failed to compile $source" >&2
    exit 1
  fi
  mv -f "$target.tmp" "$target"
}

shopt -s nullglob
sources=("$SRC"/*.c)
if (( ${#sources[@]} == 0 )); then
  echo "build-guests: no sources in $SRC" >&2
  exit 1
fi

for src in "${sources[@]}"; do
  name="$(basename "$src" .c)"
  [[ "$name" == libplug || "$name" == dlopen_test ]] && continue
  build "$BIN/$name" "$src" musl-gcc -static -O2 -Wall
done

for name in hello syscalls getppid_loop patchsite sig_deliver sig_wait thr_pthread thr_fork thr_kernel; do
  build "$BIN/$name.glibc" "$SRC/$name.c" gcc -static -O2 -Wall
done

# Static PIE with musl. Debian's musl-gcc.specs ignores -static-pie (it would link
# against libc.so with PT_INTERP /lib/ld-musl-x86_64.so.1), so spell it out:
# musl's self-relocating rcrt1.o, a static libc, and no dynamic linker.
MUSL_LIB=/usr/lib/x86_64-linux-musl
build "$BIN/hello.pie" "$SRC/hello.c" musl-gcc -fPIE -pie -O2 -Wall -nostartfiles \
  "$MUSL_LIB/rcrt1.o" "$MUSL_LIB/crti.o" "$(gcc -print-file-name=crtbeginS.o)" \
  @SRC@ "$(gcc -print-file-name=crtendS.o)" "$MUSL_LIB/crtn.o" \
  -Wl,-static -Wl,--no-dynamic-linker -Wl,-z,text
for name in hello thr_pthread; do
  build "$BIN/$name.dynamic" "$SRC/$name.c" gcc -O2 -Wall
done
build "$BIN/libplug.so" "$SRC/libplug.c" gcc -shared -fPIC -O2 -Wall
build "$BIN/dlopen_test" "$SRC/dlopen_test.c" gcc -O2 -Wall
build "$BIN/badinterp" "$SRC/hello.c" gcc -O2 -Wall -Wl,--dynamic-linker=/no/such/ld.so

# A minimal ELF32 header (52 bytes): ELFCLASS32, little endian, ET_EXEC, EM_386,
# version 1, entry 0x08048000, no program or section headers.
if ! up_to_date "$BIN/elf32" "$SELF"; then
  echo "  GEN ${BIN#"$ROOT"/}/elf32"
  {
    printf '\x7fELF\x01\x01\x01\x00'          # magic, ELFCLASS32, ELFDATA2LSB, EV_CURRENT, SYSV ABI
    printf '\x00\x00\x00\x00\x00\x00\x00\x00' # ABI version + padding
    printf '\x02\x00'                         # e_type = ET_EXEC
    printf '\x03\x00'                         # e_machine = EM_386
    printf '\x01\x00\x00\x00'                 # e_version
    printf '\x00\x80\x04\x08'                 # e_entry
    printf '\x00\x00\x00\x00'                 # e_phoff
    printf '\x00\x00\x00\x00'                 # e_shoff
    printf '\x00\x00\x00\x00'                 # e_flags
    printf '\x34\x00'                         # e_ehsize = 52
    printf '\x20\x00'                         # e_phentsize = 32
    printf '\x00\x00'                         # e_phnum
    printf '\x28\x00'                         # e_shentsize = 40
    printf '\x00\x00'                         # e_shnum
    printf '\x00\x00'                         # e_shstrndx
  } > "$BIN/elf32.tmp"
  chmod 755 "$BIN/elf32.tmp"
  mv -f "$BIN/elf32.tmp" "$BIN/elf32"
fi

if ! up_to_date "$BIN/notelf" "$SELF"; then
  echo "  GEN ${BIN#"$ROOT"/}/notelf"
  printf 'this is a text file, not an ELF executable\n' > "$BIN/notelf.tmp"
  chmod 755 "$BIN/notelf.tmp"
  mv -f "$BIN/notelf.tmp" "$BIN/notelf"
fi
