"""Streams side by side with redis-server 7.0, both pinned to one core (benchlib).

Rows (requests per second, median of --reps runs, redis-benchmark -c 50 on the client
core): XADD with `*` IDs, XADD MAXLEN ~ 1000, XRANGE of 100 entries, and XREADGROUP
COUNT 1 / XACK pairs from a pipelined python client (a consumer's loop). Memory: bytes
per entry for --entries entries of 3 small fields (used_memory and RSS deltas).

    /usr/bin/python3 bench/streams.py --ferrite build/release/ferrite-host [--reps 3]
"""
import argparse
import subprocess
import time

import redis

import benchlib


def rb(port, n, *cmd, clients=50, pipeline=1):
    out = subprocess.run(["taskset", "-c", str(benchlib.CLIENT_CORE), "redis-benchmark", "-p",
                          str(port), "-n", str(n), "-c", str(clients), "-P", str(pipeline),
                          "-q", "--csv"] + list(cmd), capture_output=True, text=True, timeout=600)
    line = [x for x in out.stdout.strip().splitlines() if x and not x.startswith('"test"')][-1]
    return float(line.split(",")[1].strip('"'))


def group_consumer(port, n):
    r = redis.Redis(host="127.0.0.1", port=port)
    r.delete("gq")
    r.xgroup_create("gq", "g", id="$", mkstream=True)
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.xadd("gq", {"a": "1", "b": "2", "c": "3"})
        if i % 1000 == 999:
            p.execute()
    p.execute()
    t0 = time.perf_counter()
    done = 0
    while done < n:
        got = r.xreadgroup("g", "c", {"gq": ">"}, count=100)
        ids = [eid for eid, _ in got[0][1]]
        p = r.pipeline(transaction=False)
        p.xack("gq", "g", *ids)
        p.execute()
        done += len(ids)
    return n / (time.perf_counter() - t0)


def memory(port, entries):
    r = redis.Redis(host="127.0.0.1", port=port)
    r.flushall()
    used0 = r.info("memory")["used_memory"]
    p = r.pipeline(transaction=False)
    for i in range(1, entries + 1):
        p.xadd("mem", {"f1": "v1", "f2": "v2", "f3": "v3"}, id=f"{i}-0")
        if i % 5000 == 0:
            p.execute()
    p.execute()
    return (r.info("memory")["used_memory"] - used0) / entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferrite", default=benchlib.default_host())
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--n", type=int, default=200000)
    ap.add_argument("--entries", type=int, default=1000000)
    a = ap.parse_args()
    rows = {}
    for name, start in (("ferrite", lambda: benchlib.start_ferrite(a.ferrite, memcached=False)),
                        ("redis", benchlib.start_redis)):
        srv = start()
        try:
            port = srv.port
            res = {}
            xadd = ["XADD", "s", "*", "f1", "v1", "f2", "v2", "f3", "v3"]
            res["XADD"] = benchlib.median([rb(port, a.n, *xadd) for _ in range(a.reps)])
            capped = ["XADD", "c", "MAXLEN", "~", "1000", "*", "f1", "v1", "f2", "v2", "f3", "v3"]
            res["XADD MAXLEN ~ 1000"] = benchlib.median([rb(port, a.n, *capped)
                                                         for _ in range(a.reps)])
            res["XRANGE 100"] = benchlib.median([rb(port, a.n // 10, "XRANGE", "s", "-", "+",
                                                    "COUNT", "100") for _ in range(a.reps)])
            res["XREADGROUP+XACK (entries/s)"] = benchlib.median(
                [group_consumer(port, 50000) for _ in range(a.reps)])
            rows[name] = res
        finally:
            srv.stop()
        srv = start()  # memory on a fresh server: RSS freed by FLUSHALL is not given back
        try:
            before = srv.rss_bytes()
            res["bytes/entry (used_memory)"] = memory(srv.port, a.entries)
            res["bytes/entry (RSS)"] = (srv.rss_bytes() - before) / a.entries
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
