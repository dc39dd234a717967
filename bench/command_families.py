"""Bitmaps, HyperLogLog, geo, SORT and DUMP/RESTORE side by side with redis-server 7.0,
both pinned to one core (benchlib).

Rows (requests per second, median of --reps runs, redis-benchmark -c 50 on the client
core, the two servers measured in turn within each repetition): SETBIT at one offset of
a 1 MB bitmap (redis-benchmark's __rand_int__ is zero-padded to 12 digits, which both
servers refuse as a bit offset; after the first call the bit already holds the value,
which both treat as no write) and BITCOUNT of it; PFADD of random elements and PFCOUNT
of a dense HLL (cached: the cache is refreshed before each PFCOUNT round, as in real
use); GEOADD of random points and GEOSEARCH BYRADIUS 50 km COUNT 10 on a 100k-member geo
set; SORT of a 10k-element list (numeric); DUMP and RESTORE ...
REPLACE of a 10k-field hash.

    /usr/bin/python3 bench/command_families.py --ferrite build/release/ferrite-host [--reps 3]
"""
import argparse
import os
import random
import subprocess
import time

import redis

import benchlib


def rb(port, n, *cmd, clients=50, extra=()):
    out = subprocess.run(["taskset", "-c", str(benchlib.CLIENT_CORE), "redis-benchmark", "-p",
                          str(port), "-n", str(n), "-c", str(clients), "-q", "--csv", *extra]
                         + list(cmd), capture_output=True, text=True, timeout=600)
    lines = [x for x in out.stdout.strip().splitlines() if x and not x.startswith('"test"')]
    if out.returncode != 0 or not lines:
        raise RuntimeError("redis-benchmark %s: %s%s" % (" ".join(cmd), out.stdout, out.stderr))
    line = lines[-1]
    return float(line.split(",")[1].strip('"'))


def prepare(port):
    r = redis.Redis(host="127.0.0.1", port=port)
    r.flushall()
    r.setbit("bm", 8 * 1024 * 1024 - 1, 1)  # 1 MB
    rnd = random.Random(1)
    p = r.pipeline(transaction=False)
    for i in range(100000):
        p.geoadd("geo", (rnd.uniform(-20, 40), rnd.uniform(30, 60), "m%d" % i))
        if i % 5000 == 4999:
            p.execute()
    p.execute()
    r.pfadd("hll", *["e%d" % i for i in range(20000)])
    r.rpush("list10k", *[str(rnd.randrange(10 ** 9)) for _ in range(10000)])
    r.hset("h10k", mapping={"f%d" % i: "v%d" % i for i in range(10000)})
    return r


def rows_for(port, r, n):
    """{row: callable returning one measurement (requests/s)} for the server on `port`."""
    payload = r.dump("h10k")

    def restore_rate():
        t0 = time.perf_counter()
        for _ in range(200):
            r.restore("h10k:copy", 0, payload, replace=True)
        return 200 / (time.perf_counter() - t0)

    def pfcount():
        r.pfcount("hll")  # PFADD rounds invalidate the cached cardinality: refresh it
        return rb(port, n, "PFCOUNT", "hll")

    return {
        "SETBIT 1 MB bitmap": lambda: rb(port, n, "SETBIT", "bm", "4194301", "1"),
        "BITCOUNT 1 MB bitmap": lambda: rb(port, n // 50, "BITCOUNT", "bm"),
        "PFADD": lambda: rb(port, n, "PFADD", "hll", "e:__rand_int__",
                            extra=("-r", "100000000")),
        "PFCOUNT (cached)": pfcount,
        "GEOADD": lambda: rb(port, n, "GEOADD", "geo2", "13.361389", "38.115556",
                             "m:__rand_int__", extra=("-r", "100000")),
        "GEOSEARCH 100k BYRADIUS": lambda: rb(port, n // 10, "GEOSEARCH", "geo", "FROMLONLAT",
                                              "10", "45", "BYRADIUS", "50", "km", "COUNT", "10",
                                              "ASC"),
        "SORT 10k list": lambda: rb(port, n // 200, "SORT", "list10k", "LIMIT", "0", "10",
                                    clients=10),
        "DUMP 10k hash": lambda: rb(port, n // 200, "DUMP", "h10k", clients=10),
        "RESTORE 10k hash (1 client)": restore_rate,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferrite", default=benchlib.default_host())
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--n", type=int, default=200000)
    a = ap.parse_args()
    # Both servers run at once on the same pinned core and each repetition measures one
    # then the other, so load drift on a shared machine hits both alike.
    with benchlib.servers(lambda: benchlib.start_ferrite(os.path.abspath(a.ferrite),
                                                         memcached=False),
                          benchlib.start_redis) as (fer, red):
        runs = {name: rows_for(s.port, prepare(s.port), a.n)
                for name, s in (("ferrite", fer), ("redis", red))}
        got = {name: {row: [] for row in runs[name]} for name in runs}
        for row in runs["ferrite"]:
            for _ in range(a.reps):
                for name in ("ferrite", "redis"):
                    got[name][row].append(runs[name][row]())
    print("| row | ferrite | redis | ratio |")
    print("|---|---:|---:|---:|")
    for row in got["ferrite"]:
        f, r = benchlib.median(got["ferrite"][row]), benchlib.median(got["redis"][row])
        print(f"| {row} | {f:,.1f} | {r:,.1f} | {f / r:.2f} |")
    print(benchlib.load_note())


if __name__ == "__main__":
    main()
