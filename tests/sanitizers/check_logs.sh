#!/bin/sh
# Fails when any sanitizer report was written under $1 (the log_path folder that
# `make asan` gives ASAN_OPTIONS/UBSAN_OPTIONS for the e2e run). A ferrite-host started
# by pytest writes its reports there, not to the test's output, so without this check
# a use-after-free or leak in a server process would go unnoticed.
dir=${1:?usage: check_logs.sh <sanitizer log dir>}
found=0
for f in "$dir"/*; do
  [ -f "$f" ] || continue
  found=$((found + 1))
  echo "==== $f"
  head -n 60 "$f"
done
if [ "$found" -gt 0 ]; then
  echo "check_logs: $found sanitizer report(s) in $dir" >&2
  exit 1
fi
echo "check_logs: no sanitizer reports in $dir"
