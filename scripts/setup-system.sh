#!/usr/bin/env bash
# setup-system.sh installs the Debian packages that building the guest
# programs and running the tests need, when they are missing.
set -euo pipefail

need=()
command -v musl-gcc >/dev/null 2>&1 || need+=(musl-tools)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v as >/dev/null 2>&1 || need+=(binutils)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
# Dynamically linked programs the tests run from the host's own root.
[ -x /usr/bin/python3 ] || need+=(python3)
[ -x /usr/bin/perl ] || need+=(perl)
[ -x /usr/bin/sqlite3 ] || need+=(sqlite3)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "tvisor: these Debian packages are needed: ${need[*]} (run as root or install them)" >&2
    exit 1
  fi
  echo "tvisor: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
