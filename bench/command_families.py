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
REPLACE of a 10k-field hash; PING, the request path alone, as the floor of the cheap rows.
CPU ratio = redis-server CPU per request / Ferrite's (> 1: Ferrite cheaper), as the rate ratio.

Besides requests per second, each row reports the server's CPU time per request (user +
system, from /proc, median of --reps): on a shared machine the rate moves with the other
load, the CPU a request costs much less. /proc counts CPU time in clock ticks (10 ms), so
the CPU columns need rows of a few seconds (the default --n; not --n in the thousands).

    /usr/bin/python3 bench/command_families.py --ferrite build/release/ferrite-host \
        [--reps 3] [--rows PFCOUNT,PING]
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
    """{row: (callable returning one measurement in requests/s, requests it sends)} for
    the server on `port`."""
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
        "SETBIT 1 MB bitmap": (lambda: rb(port, n, "SETBIT", "bm", "4194301", "1"), n),
        "BITCOUNT 1 MB bitmap": (lambda: rb(port, n // 50, "BITCOUNT", "bm"), n // 50),
        "PFADD": (lambda: rb(port, n, "PFADD", "hll", "e:__rand_int__",
                             extra=("-r", "100000000")), n),
        "PFCOUNT (cached)": (pfcount, n),
        "PING (request path only)": (lambda: rb(port, n, "PING"), n),
        "GEOADD": (lambda: rb(port, n, "GEOADD", "geo2", "13.361389", "38.115556",
                              "m:__rand_int__", extra=("-r", "100000")), n),
        "GEOSEARCH 100k BYRADIUS": (lambda: rb(port, n // 10, "GEOSEARCH", "geo", "FROMLONLAT",
                                               "10", "45", "BYRADIUS", "50", "km", "COUNT",
                                               "10", "ASC"), n // 10),
        "SORT 10k list": (lambda: rb(port, n // 200, "SORT", "list10k", "LIMIT", "0", "10",
                                     clients=10), n // 200),
        "DUMP 10k hash": (lambda: rb(port, n // 200, "DUMP", "h10k", clients=10), n // 200),
        "RESTORE 10k hash (1 client)": (restore_rate, 200),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferrite", default=benchlib.default_host())
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--n", type=int, default=200000)
    ap.add_argument("--rows", default="", help="comma-separated words: only the rows whose "
                    "name contains one of them")
    a = ap.parse_args()
    words = [w.lower() for w in a.rows.split(",") if w]
    # Both servers run at once on the same pinned core and each repetition measures one
    # then the other, so load drift on a shared machine hits both alike.
    with benchlib.servers(lambda: benchlib.start_ferrite(os.path.abspath(a.ferrite),
                                                         memcached=False),
                          benchlib.start_redis) as (fer, red):
        servers = {"ferrite": fer, "redis": red}
        runs = {name: rows_for(s.port, prepare(s.port), a.n) for name, s in servers.items()}
        rows = [row for row in runs["ferrite"]
                if not words or any(w in row.lower() for w in words)]
        got = {name: {row: [] for row in rows} for name in runs}
        cpu = {name: {row: [] for row in rows} for name in runs}
        for row in rows:
            for _ in range(a.reps):
                for name, s in servers.items():
                    measure, requests = runs[name][row]
                    c0 = s.cpu_seconds()
                    got[name][row].append(measure())
                    cpu[name][row].append((s.cpu_seconds() - c0) * 1e6 / requests)
    print("| row | ferrite req/s | redis req/s | ratio | ferrite CPU us/req | "
          "redis CPU us/req | CPU ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    med = benchlib.median
    for row in rows:
        f, r = med(got["ferrite"][row]), med(got["redis"][row])
        fc, rc = med(cpu["ferrite"][row]), med(cpu["redis"][row])
        print(f"| {row} | {f:,.1f} | {r:,.1f} | {f / r:.2f} | {fc:.2f} | {rc:.2f} | "
              f"{benchlib.ratio(rc, fc):.2f} |")
    print(benchlib.load_note())


if __name__ == "__main__":
    main()
