#!/bin/bash
# Exact cost of the ACL check on the P1 GET path: instructions (callgrind Ir) per GET as
# the default user and as a user with 10 key patterns (the key matches the last one).
#
#   bench/acl_callgrind.sh <ferrite-host> [requests (20000)]
#
# For each user: ferrite-host under valgrind --tool=callgrind (--server.threads 1), SET of
# the benchmark's key, the user made (ACL SETUSER), a warm-up redis-benchmark -c 1 -P 1
# -n 1000 -r 1 -t get, counters zeroed, the measured run, counters dumped. Prints per
# request the program total and Host::Execute inclusive (dispatch + ACL check + command);
# the difference of the latter between the two users is the check. The dumps stay in the
# temp folder printed, for callgrind_annotate.
set -eu
host=$1 n=${2:-20000}
out=$(mktemp -d /tmp/acl-callgrind.XXXXXX)
echo "dumps in $out"
for who in default pat10; do
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$out/$who"
  valgrind --tool=callgrind --callgrind-out-file="$out/$who/cg" "$host" --bind 127.0.0.1 \
    --port "$port" --server.threads 1 --persistence.dir "$out/$who" --persistence.save "" \
    >"$out/$who/server.log" 2>&1 &
  vg=$!
  i=0
  until [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; do
    i=$((i + 1)); [ $i -lt 600 ] || { echo "server did not start" >&2; kill $vg; exit 1; }; sleep 0.2
  done
  redis-cli -p "$port" set key:000000000000 v >/dev/null
  auth=""
  if [ $who = pat10 ]; then
    redis-cli -p "$port" acl setuser u on '>p' '~app0:*' '~app1:*' '~app2:*' '~app3:*' \
      '~app4:*' '~app5:*' '~app6:*' '~app7:*' '~app8:*' '~key:*' '+@all' >/dev/null
    auth="--user u -a p"
  fi
  timeout 600 redis-benchmark -p "$port" $auth -c 1 -P 1 -n 1000 -r 1 -t get -q >/dev/null 2>&1
  callgrind_control -z $vg >/dev/null 2>&1
  timeout 600 redis-benchmark -p "$port" $auth -c 1 -P 1 -n "$n" -r 1 -t get -q >/dev/null 2>&1
  callgrind_control -d $vg >/dev/null 2>&1
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || kill $vg
  wait $vg 2>/dev/null || true
  dump=$(ls -t "$out/$who"/cg.* | head -1)
  total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
  exe=$(callgrind_annotate --inclusive=yes "$dump" 2>/dev/null |
        awk '/dispatch.cc:ferrite::host::Host::Execute/ {gsub(",", "", $1); print $1; exit}')
  echo "$who: total_Ir/request=$((total / n)) Execute_inclusive_Ir/request=$((exe / n)) dump=$dump"
done
