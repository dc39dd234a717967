"""Bytes of RSS per element for lists, hashes, sets and sorted sets: ferrite-host vs
redis-server 7.0, started fresh for each row (no persistence), same client, same keys.

memory_types.py / memory_sets_zsets.py compare INFO used_memory, which is each server's
own accounting; this script compares what the process really holds (VmRSS delta), which
also counts the allocator's rounding and the keyspace's bucket arrays.

    /usr/bin/python3 bench/memory_rss_types.py [ferrite-host] [--keys K] [--n N]
"""
import argparse
import os
import time

import redis

from benchlib import default_host, start_ferrite, start_redis


def fill(r, kind, keys, n):
    p = r.pipeline(transaction=False)
    for k in range(keys):
        key = f"bench:{k}"
        if kind == "set (intset)":
            p.sadd(key, *range(n))
        elif kind == "set (strings)":
            p.sadd(key, *[f"s{i}" for i in range(n)])
        elif kind == "zset":
            p.zadd(key, {f"m{i}": i for i in range(n)})
        elif kind == "hash":
            p.hset(key, mapping={f"f{i}": f"v{i}" for i in range(n)})
        else:
            p.rpush(key, *[f"e{i}" for i in range(n)])
        if k % 200 == 199:
            p.execute()
    p.execute()


def per_element(which, host_bin, kind, keys, n):
    srv = start_ferrite(host_bin, memcached=False) if which == "ferrite" else start_redis()
    try:
        r = redis.Redis(port=srv.port, socket_timeout=60)
        time.sleep(0.2)
        before = srv.rss_bytes()
        fill(r, kind, keys, n)
        time.sleep(0.3)
        return (srv.rss_bytes() - before) / (keys * n)
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ferrite", nargs="?", default=default_host())
    ap.add_argument("--keys", type=int, help="keys per row (default 100000 at n<=128, else 100)")
    ap.add_argument("--n", type=int, action="append", help="elements per key (repeatable)")
    a = ap.parse_args()
    a.ferrite = os.path.abspath(a.ferrite)  # servers run with their workdir as cwd
    print("| type | n | keys | ferrite B/elem | redis B/elem | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for n in a.n or [10, 10000]:
        keys = a.keys or (100000 if n <= 128 else 100)
        kinds = ["set (intset)", "zset", "hash", "list"] if n <= 128 else \
                ["set (strings)", "zset", "hash", "list"]
        for kind in kinds:
            f = per_element("ferrite", a.ferrite, kind, keys, n)
            x = per_element("redis", a.ferrite, kind, keys, n)
            print(f"| {kind} | {n} | {keys} | {f:.1f} | {x:.1f} | {f / x:.2f} |", flush=True)


if __name__ == "__main__":
    main()
