#!/usr/bin/env bash
# Sums the counters of every .trx in a folder and prints "N passed, N failed, N skipped".
# Fails when any test was skipped or not executed, or when no test ran at all.
set -euo pipefail
dir=$1
passed=0 failed=0 skipped=0 total=0
for f in "$dir"/*.trx; do
  [ -e "$f" ] || continue
  line=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  get() { echo "$line" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  total=$((total + $(get total)))
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted) + $(get inconclusive)))
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$total" -gt 0 ] || { echo "no test ran" >&2; exit 1; }
[ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ]
