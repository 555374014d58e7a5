#!/usr/bin/env bash
# build-bench.sh builds the benchmark programs into benchmarks/bin/: the
# workloads (static, musl-gcc), kvm-floor and ptrace-floor (gcc -O2).
# kvm-floor includes benchmarks/abi.h and loads dist/guest-stub/guest-stub.bin
# at run time; npm run build makes both, and they are remade here when out
# of date.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -e benchmarks/abi.h ] || [ kvm-platform/abi.ts -nt benchmarks/abi.h ]; then
  # tsc emits even when files elsewhere do not type-check; gen-abi needs
  # only dist/kvm-platform/abi.js, checked below.
  npx tsc -p tsconfig.json >/dev/null || true
  if [ kvm-platform/abi.ts -nt dist/kvm-platform/abi.js ]; then
    echo "build-bench: tsc did not compile kvm-platform/abi.ts" >&2
    exit 1
  fi
  node dist/scripts/gen-abi.js
fi
stub=dist/guest-stub/guest-stub.bin
if [ ! -e "$stub" ] || [ guest-stub/stub.S -nt "$stub" ] || [ guest-stub/abi.inc -nt "$stub" ]; then
  bash scripts/build-stub.sh
fi
mkdir -p benchmarks/bin
for src in benchmarks/workloads/*.c; do
  musl-gcc -static -O2 -Wall -Wextra -o "benchmarks/bin/$(basename "$src" .c)" "$src"
done
gcc -O2 -Wall -Wextra -o benchmarks/bin/kvm-floor benchmarks/kvm-floor.c
gcc -O2 -Wall -Wextra -o benchmarks/bin/ptrace-floor benchmarks/ptrace-floor.c
