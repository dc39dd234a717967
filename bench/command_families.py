"""Bitmaps, HyperLogLog, geo, SORT and DUMP/RESTORE side by side with redis-server 7.0,
both pinned to one core (benchlib).

Rows (requests per second, median of --reps runs, redis-benchmark -c 50 on the client
core): SETBIT at random offsets of a 1 MB bitmap and BITCOUNT of it; PFADD of random
elements and PFCOUNT of a dense HLL (cached: the cache is refreshed after each PFADD
round, as in real use); GEOADD of random points and GEOSEARCH BYRADIUS 50 km COUNT 10
on a 100k-member geo set; SORT of a 10k-element list (numeric); DUMP and RESTORE ...
REPLACE of a 10k-field hash.

    /usr/bin/python3 bench/command_families.py --ferrite build/release/ferrite-host [--reps 3]
"""
import argparse
import random
import subprocess

import redis

import benchlib


def rb(port, n, *cmd, clients=50, extra=()):
    out = subprocess.run(["taskset", "-c", str(benchlib.CLIENT_CORE), "redis-benchmark", "-p",
                          str(port), "-n", str(n), "-c", str(clients), "-q", "--csv", *extra]
                         + list(cmd), capture_output=True, text=True, timeout=600)
    line = [x for x in out.stdout.strip().splitlines() if x and not x.startswith('"test"')][-1]
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferrite", default=benchlib.default_host())
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--n", type=int, default=200000)
    a = ap.parse_args()
    rows = {}
    for name, start in (("ferrite", lambda: benchlib.start_ferrite(a.ferrite, memcached=False)),
                        ("redis", benchlib.start_redis)):
        srv = start()
        try:
            port = srv.port
            r = prepare(port)
            res = {}
            med = lambda f: benchlib.median([f() for _ in range(a.reps)])
            res["SETBIT 1 MB bitmap"] = med(lambda: rb(port, a.n, "SETBIT", "bm",
                                                       "__rand_int__", "1",
                                                       extra=("-r", "8388607")))
            res["BITCOUNT 1 MB bitmap"] = med(lambda: rb(port, a.n // 50, "BITCOUNT", "bm"))
            res["PFADD"] = med(lambda: rb(port, a.n, "PFADD", "hll", "e:__rand_int__",
                                          extra=("-r", "100000000")))
            r.pfcount("hll")
            res["PFCOUNT (cached)"] = med(lambda: rb(port, a.n, "PFCOUNT", "hll"))
            res["GEOADD"] = med(lambda: rb(port, a.n, "GEOADD", "geo2", "13.361389", "38.115556",
                                           "m:__rand_int__", extra=("-r", "100000")))
            res["GEOSEARCH 100k BYRADIUS"] = med(lambda: rb(
                port, a.n // 10, "GEOSEARCH", "geo", "FROMLONLAT", "10", "45", "BYRADIUS", "50",
                "km", "COUNT", "10", "ASC"))
            res["SORT 10k list"] = med(lambda: rb(port, a.n // 200, "SORT", "list10k",
                                                  "LIMIT", "0", "10", clients=10))
            payload = r.dump("h10k")
            res["DUMP 10k hash"] = med(lambda: rb(port, a.n // 200, "DUMP", "h10k", clients=10))
            rr = redis.Redis(host="127.0.0.1", port=port)
            import time

            def restore_rate():
                t0 = time.perf_counter()
                for _ in range(200):
                    rr.restore("h10k:copy", 0, payload, replace=True)
                return 200 / (time.perf_counter() - t0)
            res["RESTORE 10k hash (1 client)"] = med(restore_rate)
            rows[name] = res
        finally:
            srv.stop()
    print("| row | ferrite | redis | ratio |")
    print("|---|---:|---:|---:|")
    for k in rows["ferrite"]:
        f, r = rows["ferrite"][k], rows["redis"][k]
        print(f"| {k} | {f:,.1f} | {r:,.1f} | {f / r:.2f} |")
    print(benchlib.load_note())


if __name__ == "__main__":
    main()
