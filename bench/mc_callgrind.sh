#!/bin/sh
# Exact server-side cost of one memcached request: instructions (callgrind Ir) that
# ferrite-host executes per request, for one mcload row, independent of machine noise.
#
#   bench/mc_callgrind.sh <ferrite-host> <mcload> <text|binary> <ops> [mcload row args...]
#   e.g. bench/mc_callgrind.sh build/rel/ferrite-host build/rel/bench/mcload text 20000 \
#          --multiget 1 --pipeline 1
#   bench/mc_callgrind.sh <ferrite-host> redis-benchmark resp <ops> [redis-benchmark args...]
#   e.g. bench/mc_callgrind.sh build/rel/ferrite-host redis-benchmark resp 20000 -t set -P 16
#
# The resp form runs redis-benchmark (50 clients, 100-byte values, one test per run: pass
# one -t) against the main port instead, since the host path is shared by both protocols.
#
# The server runs under valgrind --tool=callgrind with --server.threads 1; 10,000 keys are
# preloaded, the counters are zeroed, mcload sends <ops> requests over 50 connections
# (16-byte keys, 100-byte values), and the counters are dumped. Prints Ir/request and
# keeps the callgrind file (path printed) for callgrind_annotate. Kernel time is not
# counted: this measures only what user space does per request.
#
# Environment: SERVER_ARGS (extra ferrite-host arguments, word-split, e.g.
# "--latency-monitor-threshold 100"); MONITOR_CLIENT=1 attaches a redis-cli MONITOR
# client (its output discarded) before the counters are zeroed.
set -eu
host=$1 mcload=$2 proto=$3 ops=$4
shift 4
out=$(mktemp -d /tmp/mc-callgrind.XXXXXX)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mcport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
  "$host" --bind 127.0.0.1 --port "$port" --server.threads 1 --persistence.dir "$out" \
  --persistence.save "" --compatibility.memcached_protocol true \
  --compatibility.memcached_port "$mcport" ${SERVER_ARGS:-} >"$out/server.log" 2>&1 &
vg=$!
trap 'kill $vg 2>/dev/null || true' EXIT
i=0
until /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $mcport), 1)" 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 300 ] || { echo "server did not start" >&2; exit 1; }; sleep 0.2
done
# Under valgrind the startup load takes a while: wait until commands are served (not
# -LOADING) before loading it.
i=0
until [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; do
  i=$((i + 1)); [ $i -lt 300 ] || { echo "server did not finish loading" >&2; exit 1; }; sleep 0.2
done
mon=
if [ "${MONITOR_CLIENT:-0}" = 1 ]; then
  redis-cli -p "$port" monitor >/dev/null 2>&1 &
  mon=$!
  trap 'kill $vg $mon 2>/dev/null || true' EXIT
fi
common="--port $mcport --key-size 16 --value-size 100 --keys 10000"
if [ "$proto" = resp ]; then
  timeout 300 "$mcload" -p "$port" -t set -n 10000 -r 10000 -d 100 -q >/dev/null
  callgrind_control -z $vg >/dev/null 2>&1
  timeout 600 "$mcload" -p "$port" -n "$ops" -r 10000 -d 100 -c 50 -q "$@" >/dev/null
  res="requests=$ops"
else
  timeout 300 "$mcload" $common --preload-only >/dev/null
  callgrind_control -z $vg >/dev/null 2>&1
  res=$(timeout 600 "$mcload" $common --no-preload --proto "$proto" --conns 50 --ops "$ops" "$@")
fi
callgrind_control -d $vg >/dev/null 2>&1
[ -z "$mon" ] || kill $mon 2>/dev/null || true
kill -INT $vg; wait $vg 2>/dev/null || true
trap - EXIT
dump=$(ls -t "$out"/callgrind.out* | grep -v '\.out$' | head -1)
ir=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
keys=$(echo "$res" | tr " " "\n" | awk -F= '$1 == "requests" {print $2}')
echo "$res"
echo "requests=$keys Ir=$ir Ir_per_request=$(( ir / keys )) dump=$dump"
