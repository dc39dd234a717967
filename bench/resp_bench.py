#!/usr/bin/python3
"""redis-benchmark SET/GET against ferrite-host and redis-server 7.0 in the same run.

Both servers are pinned to core 0 with taskset (ferrite with --server.threads 1, so this is
a per-core comparison); redis-benchmark runs pinned to core 1. Every row uses -c 50 -d 100
-r 100000 and a bounded -n; each measurement is repeated (default 3 times, interleaving the
two servers so load drift hits both alike) and the median ops/s is reported.

    /usr/bin/python3 bench/resp_bench.py [--ferrite build/bench/ferrite-host] [--reps 3]
    /usr/bin/python3 bench/resp_bench.py --quick      # one short rep: a smoke run

Prints a table: rows SET/GET x P1/P16, columns ferrite ops/s, redis ops/s, ratio.
Exits 1 if a run failed (redis-benchmark error or timeout), never on a slow ratio.
"""
import argparse
import csv
import io
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

ROWS = [("SET", 1), ("GET", 1), ("SET", 16), ("GET", 16)]


def redis_benchmark(port, test, pipeline, n, timeout):
    """One redis-benchmark run; returns requests per second."""
    argv = ["taskset", "-c", str(benchlib.CLIENT_CORE), shutil.which("redis-benchmark"),
            "-h", "127.0.0.1", "-p", str(port), "-c", "50", "-P", str(pipeline), "-d", "100",
            "-r", "100000", "-n", str(n), "-t", test.lower(), "--csv"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=True)
    for row in csv.reader(io.StringIO(out.stdout)):
        if row and row[0] == test:
            return float(row[1])
    raise RuntimeError("no %s row in redis-benchmark output: %r" % (test, out.stdout[-300:]))


def measure(servers, reps, n_p1, n_p16, timeout):
    """Returns {(test, pipeline): {server name: [(ops/s, server CPU us per op) per rep]}}.
    CPU per op comes from the server's /proc utime+stime over the run, so it does not
    depend on how much of the core the (shared, noisy) machine left the server."""
    results = {row: {s.name: [] for s in servers} for row in ROWS}
    for _ in range(reps):
        for test, pipeline in ROWS:
            n = n_p1 if pipeline == 1 else n_p16
            for s in servers:
                cpu0 = s.cpu_seconds()
                ops = redis_benchmark(s.port, test, pipeline, n, timeout)
                cpu_us = (s.cpu_seconds() - cpu0) * 1e6 / n
                results[(test, pipeline)][s.name].append((ops, cpu_us))
    return results


def print_table(results, reps):
    print("redis-benchmark -c 50 -d 100 -r 100000, servers pinned to core %d, client to "
          "core %d, median of %d" % (benchlib.SERVER_CORE, benchlib.CLIENT_CORE, reps))
    print("| row | ferrite ops/s | redis ops/s | ratio | ferrite CPU us/op | redis CPU us/op "
          "| CPU ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for test, pipeline in ROWS:
        r = results[(test, pipeline)]
        f = benchlib.median([x[0] for x in r["ferrite"]])
        o = benchlib.median([x[0] for x in r["redis"]])
        fc = benchlib.median([x[1] for x in r["ferrite"]])
        oc = benchlib.median([x[1] for x in r["redis"]])
        print("| %s P%d | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |" % (
            test, pipeline, f, o, benchlib.ratio(f, o), fc, oc, benchlib.ratio(oc, fc)))
    print("ratio = ferrite/redis ops/s; CPU ratio = redis/ferrite server CPU per op "
          "(>= 1.0: ferrite needs no more CPU per request than redis)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ferrite", default=benchlib.default_host())
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--n-p1", type=int, default=200000, help="-n for the -P 1 rows")
    ap.add_argument("--n-p16", type=int, default=1000000, help="-n for the -P 16 rows")
    ap.add_argument("--quick", action="store_true", help="1 rep, small -n (smoke run)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per redis-benchmark")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.n_p1, args.n_p16, args.timeout = 1, 20000, 100000, 60
    print(benchlib.load_note())
    with benchlib.servers(lambda: benchlib.start_ferrite(os.path.abspath(args.ferrite),
                                                         memcached=False),
                          benchlib.start_redis) as started:
        results = measure(started, args.reps, args.n_p1, args.n_p16, args.timeout)
    print_table(results, args.reps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
