#!/usr/bin/env bash
# Profiles ferrite-host under one load with perf, as used for bench/PROFILE.md.
#
#   bench/profile.sh <mode> [out-prefix] [--callgraph]
#   modes: resp-get resp-set resp-get16 resp-set16 mc-text-get mc-text-set mc-text-get16
#          mc-text-mget mc-bin-get mc-bin-mget mc-bin-set16
#
# Starts ferrite-host (FERRITE_HOST, default build/bench/ferrite-host) pinned to core 0
# with --server.threads 1, drives it from core 1 with redis-benchmark or mcload
# (MCLOAD, default build/bench/bench/mcload or build/bench-main/bench/mcload), records
# 8 s of samples (6 s with DWARF call graphs) and writes <out>.data and <out>.txt
# (flat profile). Everything is bounded by timeouts; processes are stopped by pid.
set -u
mode="${1:?mode}"; out="${2:-/tmp/ferrite-prof-$1}"; cg="${3:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"
host="${FERRITE_HOST:-$root/build/bench/ferrite-host}"
ml="${MCLOAD:-}"
for c in "$root/build/bench/bench/mcload" "$root/build/bench-main/bench/mcload"; do
  [ -z "$ml" ] && [ -x "$c" ] && ml="$c"
done
port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
P=$(port); M=$(port); D=$(mktemp -d)
taskset -c 0 "$host" --bind 127.0.0.1 --port "$P" --server.threads 1 --persistence.dir "$D" \
  --persistence.save "" --compatibility.memcached_protocol true \
  --compatibility.memcached_port "$M" >/dev/null 2>&1 &
pid=$!
sleep 1.5
rb="redis-benchmark -h 127.0.0.1 -p $P -c 50 -d 100 -r 100000 -q"
case "$mode" in
  resp-get) load="$rb -P 1 -n 2000000 -t get" ;;
  resp-set) load="$rb -P 1 -n 2000000 -t set" ;;
  resp-get16) load="$rb -P 16 -n 20000000 -t get" ;;
  resp-set16) load="$rb -P 16 -n 20000000 -t set" ;;
  mc-text-get) load="$ml --port $M --proto text --seconds 20" ;;
  mc-text-set) load="$ml --port $M --proto text --set-ratio 1 --seconds 20" ;;
  mc-text-get16) load="$ml --port $M --proto text --pipeline 16 --seconds 20" ;;
  mc-text-mget) load="$ml --port $M --proto text --multiget 10 --seconds 20" ;;
  mc-bin-get) load="$ml --port $M --proto binary --seconds 20" ;;
  mc-bin-mget) load="$ml --port $M --proto binary --multiget 10 --seconds 20" ;;
  mc-bin-set16) load="$ml --port $M --proto binary --set-ratio 1 --pipeline 16 --seconds 20" ;;
  *) echo "unknown mode $mode" >&2; kill "$pid"; exit 2 ;;
esac
# shellcheck disable=SC2086
timeout 60 taskset -c 1 $load >"$out.load" 2>&1 &
lp=$!
sleep 3
if [ "$cg" = "--callgraph" ]; then
  timeout 30 perf record -F 499 --call-graph dwarf,32768 -p "$pid" -o "$out.data" -- sleep 6 >/dev/null 2>&1
else
  timeout 30 perf record -F 1999 -p "$pid" -o "$out.data" -- sleep 8 >/dev/null 2>&1
fi
kill "$lp" 2>/dev/null; wait "$lp" 2>/dev/null
kill "$pid"; wait "$pid" 2>/dev/null
rm -rf "$D"
perf report -i "$out.data" --no-children --sort dso,sym --percent-limit 0.5 --stdio 2>/dev/null \
  | grep -v '^#' | grep -v '^$' > "$out.txt"
echo "wrote $out.data and $out.txt"
