#!/usr/bin/python3
"""The cost of the ACL check on the P1 GET/SET path, in one run.

Servers, each pinned to core 0 with one worker thread (redis-benchmark on core 1):
  before      --before binary (a build without ACL), default user
  default     the binary under test, default user (every permission: the one-branch path)
  10 patterns the binary under test, a user with 10 key patterns (the key matches the
              last one) and +@all, as redis-benchmark's client after AUTH
  100 users   the same user among 100 users with 1,000 key patterns in all

    /usr/bin/python3 bench/acl_bench.py --ferrite build/release/ferrite-host \\
        [--before /path/to/baseline/ferrite-host] [--reps 5]

Each rep runs every server once per row, interleaved, so load drift hits all alike;
prints the median ops/s and server CPU us/op with their spread (min-max), and each one's
ratio to `default` taken within each rep (median and min-max of the per-rep ratios).
"""
import argparse
import csv
import io
import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

ROWS = [("SET", 1), ("GET", 1)]
PATTERNS = ["app%d:*" % i for i in range(9)] + ["key:*"]


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def call(port, *cmds):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        for c in cmds:
            s.sendall(resp(*c))
            reply = s.recv(65536)
            if reply.startswith(b"-"):
                raise RuntimeError("%s: %r" % (c[:3], reply))


def make_users(port, extra_users):
    rules = ["on", ">pw", "+@all"] + ["~" + p for p in PATTERNS]
    cmds = [("ACL", "SETUSER", "bench", *rules)]
    for u in range(extra_users):
        cmds.append(("ACL", "SETUSER", "other%d" % u, "on", ">x", "+@all",
                     *["~u%d:%d:*" % (u, i) for i in range(10)]))
    call(port, *cmds)


def redis_benchmark(port, test, n, timeout, user):
    argv = ["taskset", "-c", str(benchlib.CLIENT_CORE), shutil.which("redis-benchmark"),
            "-h", "127.0.0.1", "-p", str(port), "-c", "50", "-P", "1", "-d", "100",
            "-r", "100000", "-n", str(n), "-t", test.lower(), "--csv"]
    if user:
        argv += ["--user", "bench", "-a", "pw"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=True)
    for row in csv.reader(io.StringIO(out.stdout)):
        if row and row[0] == test:
            return float(row[1])
    raise RuntimeError("no %s row: %r %r" % (test, out.stdout[-300:], out.stderr[-300:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ferrite", default=benchlib.default_host())
    ap.add_argument("--before", help="a ferrite-host built without the ACL check")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("-n", type=int, default=200000)
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    print(benchlib.load_note())
    setups = []  # (label, starter, user, extra users)
    if args.before:
        setups.append(("before", os.path.abspath(args.before), False, None))
    after = os.path.abspath(args.ferrite)
    setups += [("default", after, False, None), ("10 patterns", after, True, 0),
               ("100 users", after, True, 99)]
    servers = []
    try:
        for label, binary, user, extra in setups:
            s = benchlib.start_ferrite(binary, memcached=False)
            if extra is not None:
                make_users(s.port, extra)
            servers.append((label, s, user))
        results = {(t, p): {label: [] for label, _, _ in servers} for t, p in ROWS}
        # redis-benchmark's keys are key:__rand_int__: the bench user's last pattern.
        for _ in range(args.reps):
            for test, pipeline in ROWS:
                for label, s, user in servers:
                    cpu0 = s.cpu_seconds()
                    ops = redis_benchmark(s.port, test, args.n, args.timeout, user)
                    results[(test, pipeline)][label].append(
                        (ops, (s.cpu_seconds() - cpu0) * 1e6 / args.n))
    finally:
        for _, s, _ in servers:
            s.stop()
    print("redis-benchmark -c 50 -P 1 -d 100 -r 100000 -n %d, server core %d, client core %d,"
          " %d reps; median (min-max); ratios are per rep (the server's run / default's run"
          " of the same rep), median (min-max)" % (args.n, benchlib.SERVER_CORE,
                                                    benchlib.CLIENT_CORE, args.reps))
    print("| row | server | ops/s | ops vs default | CPU us/op | CPU vs default |")
    print("|---|---|---:|---:|---:|---:|")

    def spread(xs, fmt):
        return (fmt + " (" + fmt + "-" + fmt + ")") % (benchlib.median(xs), min(xs), max(xs))

    for test, pipeline in ROWS:
        r = results[(test, pipeline)]
        for label, _, _ in servers:
            ops = [x[0] for x in r[label]]
            cpu = [x[1] for x in r[label]]
            ops_ratio = [benchlib.ratio(a[0], b[0]) for a, b in zip(r[label], r["default"])]
            cpu_ratio = [benchlib.ratio(a[1], b[1]) for a, b in zip(r[label], r["default"])]
            print("| %s P%d | %s | %s | %s | %s | %s |" % (
                test, pipeline, label, spread(ops, "%.0f"), spread(ops_ratio, "%.3f"),
                spread(cpu, "%.2f"), spread(cpu_ratio, "%.3f")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
