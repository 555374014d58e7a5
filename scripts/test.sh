#!/usr/bin/env bash
# test.sh runs the ava suite twice: all of it, then the kvm tests again with
# TVISOR_NO_PATCH=1 (no call site patched, so every system call exits the
# VM), since both paths must give the same results. It ends with one plain
# summary line, "N passed, N failed", which CI reads; the exit status is
# non-zero when either pass failed.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
total_passed=0
total_failed=0
total_skipped=0
final=0
pass() {
  "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  local passed failed skipped
  # ava prints "N tests passed" only when none failed: count the ticks.
  passed=$(grep -cE '^ *✔' "$log" || true)
  failed=$(grep -oE '^ *[0-9]+ (tests?|known failures?|test) failed' "$log" | grep -oE '[0-9]+' | head -1)
  skipped=$(grep -oE '^ *[0-9]+ tests? skipped' "$log" | grep -oE '[0-9]+' | head -1)
  passed=${passed:-0}
  failed=${failed:-0}
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  total_skipped=$((total_skipped + ${skipped:-0}))
  if [ "$status" -ne 0 ]; then final=$status; fi
}
echo "== pass 1: every test, call sites patched (the default)"
pass npx ava "$@"
echo "== pass 2: the kvm tests with TVISOR_NO_PATCH=1 (every system call by exit)"
pass env TVISOR_NO_PATCH=1 npx ava --match 'kvm:*' "$@"
if [ "$total_skipped" -gt 0 ]; then
  echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
else
  echo "$total_passed passed, $total_failed failed"
fi
exit "$final"
