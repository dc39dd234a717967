#!/usr/bin/env bash
# Runs every benchmark script present in bench/, each bounded by `timeout`, and prints
# their tables one after another. Scripts of other owners are called if they exist.
#
#   bench/run_all.sh [path/to/ferrite-host] [--quick]
#
# FERRITE_HOST may name the binary instead (default build/bench/ferrite-host).
# BENCH_TIMEOUT (seconds, default 900; 300 with --quick) bounds each script.
# MEMTIER_BENCHMARK: path to a memtier_benchmark binary for memtier.py (built from source;
# without it memtier.py prints how to build one and is skipped).
# Exit status: the number of scripts that failed or timed out (0 = all ran).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
host="${FERRITE_HOST:-$root/build/bench/ferrite-host}"
quick=""
for a in "$@"; do
  case "$a" in
    --quick) quick="--quick" ;;
    *) host="$a" ;;
  esac
done
host="$(realpath "$host")"
[ -x "$host" ] || { echo "run_all.sh: no ferrite-host at $host" >&2; exit 2; }
limit="${BENCH_TIMEOUT:-$([ -n "$quick" ] && echo 300 || echo 900)}"
py=/usr/bin/python3
export FERRITE_HOST="$host"

# The arguments each script takes; scripts not listed here get the host binary as their
# only argument. Libraries imported by other scripts are skipped.
args_for() {
  case "$1" in
    resp_bench.py|memcached_bench.py|memory_per_item.py) echo "--ferrite $host $quick" ;;
    memtier.py)  # skips itself (exit 0) unless MEMTIER_BENCHMARK names a built binary
      echo "--ferrite $host ${MEMTIER_BENCHMARK:+--memtier $MEMTIER_BENCHMARK} $quick" ;;
    persistence.py)
      if [ -n "$quick" ]; then echo "--ferrite $host -n 20000 --keys 100000"
      else echo "--ferrite $host"; fi ;;
    scripting.py)  # reads FERRITE_HOST
      if [ -n "$quick" ]; then echo "-n 20000"; else echo ""; fi ;;
    pubsub.py)
      if [ -n "$quick" ]; then echo "$host --seconds 1"; else echo "$host"; fi ;;
    *) echo "$host" ;;
  esac
}

echo "# ferrite benchmarks $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
failed=0
for script in "$here"/*.py; do
  name="$(basename "$script")"
  case "$name" in
    benchlib.py|memory_sets_zsets.py|test_*.py) continue ;;  # libraries and tests
  esac
  echo
  echo "## $name"
  # Each script runs in its own session so that servers it leaves behind (a script that
  # dies on an exception may not stop them) are stopped with its process group.
  # shellcheck disable=SC2046
  setsid timeout --kill-after=10 "$limit" "$py" "$script" $(args_for "$name") &
  pgid=$!
  wait "$pgid"
  rc=$?
  kill -TERM -- "-$pgid" 2>/dev/null && sleep 1 && kill -KILL -- "-$pgid" 2>/dev/null
  if [ $rc -ne 0 ]; then
    [ $rc -eq 124 ] && echo "!! $name timed out after ${limit}s" || echo "!! $name exited with $rc"
    failed=$((failed + 1))
  fi
done
exit $failed
