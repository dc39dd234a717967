#!/usr/bin/python3
"""redis-benchmark --tls SET/GET against ferrite-host and redis-server 7.0 in the same run.

Both servers get the same certificate (made by the `openssl` CLI for this run), a TLS
port with tls-auth-clients no and default protocols/ciphers (TLSv1.3 is negotiated), and
are pinned to core 0 (ferrite with --server.threads 1: a per-core comparison);
redis-benchmark runs pinned to core 1 with -c 50 -d 100 -r 100000. The two servers are
interleaved rep by rep so load drift hits both alike. Reports per row the median ops/s,
server CPU microseconds per request (/proc utime+stime of the server over the run), the
median p99 latency, and the spread (min-max) of ops/s over the reps.

    /usr/bin/python3 bench/tls_bench.py [--ferrite build/bench/ferrite-host] [--reps 3]
    /usr/bin/python3 bench/tls_bench.py --quick      # one short rep: a smoke run

Exits 1 if a run failed (redis-benchmark error or timeout), never on a slow ratio.
"""
import argparse
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

ROWS = [("SET", 1), ("GET", 1), ("SET", 16), ("GET", 16)]


def make_certs(d):
    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-days", "2", "-subj", "/CN=bench CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=localhost")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext")


def start_servers(ferrite_bin, certs):
    files = {k: os.path.join(certs, v) for k, v in
             (("cert", "server.crt"), ("key", "server.key"), ("ca", "ca.crt"))}

    def ferrite():
        port = benchlib.free_port()
        s = benchlib.start_ferrite(ferrite_bin, memcached=False, extra=[
            "--tls.port", str(port), "--tls.cert_file", files["cert"], "--tls.key_file",
            files["key"], "--tls.ca_cert_file", files["ca"], "--tls.auth_clients", "no"])
        benchlib.wait_port(port, s.proc)
        s.tls_port = port
        return s

    def redis():
        d = tempfile.mkdtemp(prefix="bench-redis-")
        port, tls_port = benchlib.free_port(), benchlib.free_port()
        argv = [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", d, "--tls-port", str(tls_port),
                "--tls-cert-file", files["cert"], "--tls-key-file", files["key"],
                "--tls-ca-cert-file", files["ca"], "--tls-auth-clients", "no"]
        s = benchlib.Server("redis", argv, port, workdir=d)
        benchlib.wait_port(tls_port, s.proc)
        s.tls_port = tls_port
        return s

    return ferrite, redis


def redis_benchmark(port, ca, test, pipeline, n, timeout):
    """One run; returns (requests per second, p99 ms)."""
    argv = ["taskset", "-c", str(benchlib.CLIENT_CORE), shutil.which("redis-benchmark"),
            "-h", "127.0.0.1", "-p", str(port), "--tls", "--cacert", ca, "-c", "50",
            "-P", str(pipeline), "-d", "100", "-r", "100000", "-n", str(n), "-t", test.lower(),
            "--csv"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=True)
    rows = list(csv.reader(io.StringIO(out.stdout)))
    header = rows[0]
    for row in rows[1:]:
        if row and row[0] == test:
            return float(row[1]), float(row[header.index("p99_latency_ms")])
    raise RuntimeError("no %s row in redis-benchmark output: %r" % (test, out.stdout[-300:]))


def measure(servers, ca, reps, n_p1, n_p16, timeout):
    results = {row: {s.name: [] for s in servers} for row in ROWS}
    for _ in range(reps):
        for test, pipeline in ROWS:
            n = n_p1 if pipeline == 1 else n_p16
            for s in servers:
                cpu0 = s.cpu_seconds()
                ops, p99 = redis_benchmark(s.tls_port, ca, test, pipeline, n, timeout)
                cpu_us = (s.cpu_seconds() - cpu0) * 1e6 / n
                results[(test, pipeline)][s.name].append((ops, cpu_us, p99))
    return results


def print_table(results, reps):
    print("redis-benchmark --tls -c 50 -d 100 -r 100000, servers pinned to core %d, client "
          "to core %d, median of %d (spread = min-max ops/s)" %
          (benchlib.SERVER_CORE, benchlib.CLIENT_CORE, reps))
    print("| row | ferrite ops/s (spread) | redis ops/s (spread) | ratio | ferrite CPU us/op "
          "| redis CPU us/op | CPU ratio | ferrite p99 ms | redis p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for test, pipeline in ROWS:
        r = results[(test, pipeline)]
        med = {k: [benchlib.median([x[i] for x in r[k]]) for i in range(3)] for k in r}
        spread = {k: (min(x[0] for x in r[k]), max(x[0] for x in r[k])) for k in r}
        f, o = med["ferrite"], med["redis"]
        print("| %s P%d | %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) | %.2f | %.2f | %.2f | %.2f | "
              "%.3f | %.3f |" % (
                  test, pipeline, f[0], *spread["ferrite"], o[0], *spread["redis"],
                  benchlib.ratio(f[0], o[0]), f[1], o[1], benchlib.ratio(o[1], f[1]), f[2],
                  o[2]))
    print("ratio = ferrite/redis ops/s; CPU ratio = redis/ferrite server CPU per op "
          "(>= 1.0: ferrite needs no more CPU per request than redis)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ferrite", default=benchlib.default_host())
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--n-p1", type=int, default=100000, help="-n for the -P 1 rows")
    ap.add_argument("--n-p16", type=int, default=500000, help="-n for the -P 16 rows")
    ap.add_argument("--quick", action="store_true", help="1 rep, small -n (smoke run)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per redis-benchmark")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.n_p1, args.n_p16, args.timeout = 1, 10000, 50000, 60
    print(benchlib.load_note())
    certs = tempfile.mkdtemp(prefix="bench-tls-")
    try:
        make_certs(certs)
        ferrite, redis = start_servers(os.path.abspath(args.ferrite), certs)
        with benchlib.servers(ferrite, redis) as started:
            results = measure(started, os.path.join(certs, "ca.crt"), args.reps, args.n_p1,
                              args.n_p16, args.timeout)
    finally:
        shutil.rmtree(certs, ignore_errors=True)
    print_table(results, args.reps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
