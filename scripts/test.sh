#!/usr/bin/env bash
# test.sh runs the ava suite and ends with one plain summary line,
# "N passed, N failed", which CI reads; the exit status is ava's.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
npx ava "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -oE '^ *[0-9]+ (tests?|test) passed' "$log" | grep -oE '[0-9]+' | head -1)
failed=$(grep -oE '^ *[0-9]+ (tests?|known failures?|test) failed' "$log" | grep -oE '[0-9]+' | head -1)
skipped=$(grep -oE '^ *[0-9]+ tests? skipped' "$log" | grep -oE '[0-9]+' | head -1)
passed=${passed:-0}
failed=${failed:-0}
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ -n "${skipped:-}" ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$status"
