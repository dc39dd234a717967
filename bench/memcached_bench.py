#!/usr/bin/python3
"""memcached text and binary throughput: ferrite-host vs memcached 1.6 (-t 1), side by side.

Both servers are pinned to core 0 (ferrite with --server.threads 1 serving its memcached
port, memcached with -t 1); the load generator bench/mcload (epoll, one thread) runs pinned
to core 1. 50 connections, 16-byte keys, 100-byte values, 10,000 preloaded keys. Rows:
single get, multi-get of 10 keys, pipelines of 16 gets, single set, pipelines of 16 sets,
for each protocol. Each cell is the median of --reps timed runs, interleaving the servers.

    /usr/bin/python3 bench/memcached_bench.py [--ferrite build/bench/ferrite-host]
        [--mcload build/bench/bench/mcload] [--reps 3] [--seconds 3] [--quick]

If no mcload binary is found it is compiled from bench/mcload.cc with c++ into a temp dir.
Prints keys/s (a multi-get of 10 counts 10) per row and the ferrite/memcached ratio. Exits
1 if any run reported misses or protocol errors -- a wrong answer is not a fast one.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402

# (label, mcload arguments)
ROWS = [
    ("get", ["--multiget", "1", "--pipeline", "1"]),
    ("get x10 keys", ["--multiget", "10", "--pipeline", "1"]),
    ("get P16", ["--multiget", "1", "--pipeline", "16"]),
    ("set", ["--set-ratio", "1", "--pipeline", "1"]),
    ("set P16", ["--set-ratio", "1", "--pipeline", "16"]),
]
PROTOS = ["text", "binary"]


def find_mcload(explicit):
    builds = [os.path.join(benchlib.ROOT, "build", d, "bench", "mcload")
              for d in ("bench", "bench-main")]
    for cand in [explicit] + builds:
        if cand and os.access(cand, os.X_OK):
            return cand, None
    tmp = tempfile.mkdtemp(prefix="bench-mcload-")
    out = os.path.join(tmp, "mcload")
    subprocess.run(["c++", "-std=c++20", "-O2", "-o", out, os.path.join(HERE, "mcload.cc"),
                    "-lpthread"], check=True, timeout=300)
    return out, tmp


COMMON = ["--key-size", "16", "--value-size", "100", "--keys", "10000"]


def preload(mcload, port):
    subprocess.run([mcload, "--port", str(port), "--preload-only"] + COMMON, check=True,
                   timeout=120)


def run_mcload(mcload, port, proto, extra, seconds):
    # The keys were preloaded once per server, so the timed run (and its CPU window) is
    # only the load itself.
    argv = ["taskset", "-c", str(benchlib.CLIENT_CORE), mcload, "--port", str(port),
            "--proto", proto, "--conns", "50", "--seconds", str(seconds), "--no-preload"]
    argv += COMMON + extra
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    fields = dict(kv.split("=", 1) for kv in out.stdout.split())
    if out.returncode != 0 or not fields:
        raise RuntimeError("mcload failed (%d): %s %s" % (out.returncode, out.stdout, out.stderr))
    keys = float(fields["keys_per_sec"]) * float(fields["seconds"])
    return float(fields["keys_per_sec"]), keys, int(fields["misses"]), int(fields["errors"])


def measure(mcload, targets, reps, seconds):
    """targets: [(name, port, server)]. Returns {(proto, label): {name: [(keys/s, server
    CPU us per key)]}} and the number of runs with misses or errors. CPU per key is the
    server's /proc utime+stime over the run / keys."""
    for _, port, _ in targets:
        preload(mcload, port)
    results, bad = {}, 0
    for _ in range(reps):
        for proto in PROTOS:
            for label, extra in ROWS:
                cell = results.setdefault((proto, label), {n: [] for n, _, _ in targets})
                for name, port, server in targets:
                    cpu0 = server.cpu_seconds()
                    kps, keys, misses, errors = run_mcload(mcload, port, proto, extra, seconds)
                    cpu_us = (server.cpu_seconds() - cpu0) * 1e6 / max(keys, 1)
                    if misses or errors:
                        print("WARNING: %s %s %s: %d misses, %d errors"
                              % (name, proto, label, misses, errors))
                        bad += 1
                    cell[name].append((kps, cpu_us))
    return results, bad


def print_table(results, reps, seconds):
    print("mcload, 50 conns, 100-byte values, servers pinned to core %d, client to core %d, "
          "median of %d x %.1fs" % (benchlib.SERVER_CORE, benchlib.CLIENT_CORE, reps, seconds))
    print("| protocol | row | ferrite keys/s | memcached keys/s | ratio | ferrite CPU us/key "
          "| memcached CPU us/key | CPU ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for proto in PROTOS:
        for label, _ in ROWS:
            r = results[(proto, label)]
            f = benchlib.median([x[0] for x in r["ferrite"]])
            m = benchlib.median([x[0] for x in r["memcached"]])
            fc = benchlib.median([x[1] for x in r["ferrite"]])
            mc = benchlib.median([x[1] for x in r["memcached"]])
            print("| %s | %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |" % (
                proto, label, f, m, benchlib.ratio(f, m), fc, mc, benchlib.ratio(mc, fc)))
    print("ratio = ferrite/memcached keys/s; CPU ratio = memcached/ferrite server CPU per key "
          "(>= 1.0: ferrite needs no more CPU per key than memcached)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ferrite", default=benchlib.default_host())
    ap.add_argument("--mcload")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--quick", action="store_true", help="1 rep of 0.5s per cell (smoke run)")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.seconds = 1, 0.5
    mcload, tmp = find_mcload(args.mcload)
    print(benchlib.load_note())
    try:
        with benchlib.servers(lambda: benchlib.start_ferrite(os.path.abspath(args.ferrite)),
                              benchlib.start_memcached) as (ferrite, memcached):
            targets = [("ferrite", ferrite.mc_port, ferrite),
                       ("memcached", memcached.port, memcached)]
            results, bad = measure(mcload, targets, args.reps, args.seconds)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print_table(results, args.reps, args.seconds)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
