"""Bytes of RSS per element for lists, hashes, sets and sorted sets: ferrite-host vs
redis-server 7.0, started fresh for each row (no persistence), same client, same keys.

memory_types.py / memory_sets_zsets.py compare INFO used_memory, which is each server's
own accounting; this script compares what the process really holds (VmRSS delta), which
also counts the allocator's rounding and the keyspace's bucket arrays.

    /usr/bin/python3 bench/memory_rss_types.py [ferrite-host] [--keys K] [--n N]
"""
import argparse
import os
import socket
import subprocess
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def start(which, host_bin):
    port = free_port()
    if which == "ferrite":
        cmd = [host_bin, "--port", str(port), "--loglevel", "warning",
               "--persistence.dir", tempfile.mkdtemp(prefix="rss-"), "--persistence.save", ""]
    else:
        cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", tempfile.mkdtemp(prefix="rss-")]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r = redis.Redis(port=port, socket_timeout=60)
    for _ in range(200):
        try:
            r.ping()
            return p, r
        except redis.ConnectionError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError(f"{which} did not start")


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
    p, r = start(which, host_bin)
    try:
        time.sleep(0.2)
        before = rss(p.pid)
        fill(r, kind, keys, n)
        time.sleep(0.3)
        return (rss(p.pid) - before) / (keys * n)
    finally:
        p.terminate()
        p.wait(30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ferrite", nargs="?", default=os.path.join(ROOT, "build/release/ferrite-host"))
    ap.add_argument("--keys", type=int, help="keys per row (default 100000 at n<=128, else 100)")
    ap.add_argument("--n", type=int, action="append", help="elements per key (repeatable)")
    a = ap.parse_args()
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
