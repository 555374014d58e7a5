#!/usr/bin/env bash
# setup-bench.sh installs what the benchmarks compare tvisor with: gVisor's
# runsc (Debian package runsc), when it is missing. It never fails the
# benchmarks: without root or without the package, it says so and the
# harness reports the runsc rows as "not installed".
set -uo pipefail

command -v runsc >/dev/null 2>&1 && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "setup-bench: runsc is not installed and this is not root; the runsc rows will say so" >&2
  exit 0
fi
echo "setup-bench: installing runsc (gVisor)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq runsc >/dev/null; }; then
  echo "setup-bench: could not install runsc; the runsc rows will say so" >&2
fi
exit 0
