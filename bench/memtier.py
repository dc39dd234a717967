#!/usr/bin/python3
"""memtier_benchmark against ferrite-host, memcached 1.6 and redis-server 7.0 in the same run.

memtier_benchmark is not a Debian package, so the binary is an argument. Without
--memtier this script prints how to build it and exits 0 (a skip):

    git clone https://github.com/RedisLabs/memtier_benchmark /tmp/memtier && cd /tmp/memtier
    apt-get install autoconf automake libtool pkg-config libevent-dev libssl-dev zlib1g-dev
    autoreconf -ivf && ./configure && make -j2

    /usr/bin/python3 bench/memtier.py --memtier /tmp/memtier/memtier_benchmark \\
        [--ferrite build/bench/ferrite-host] [--reps 3] [--test-time 5 | --requests N]

All three servers run at once, each pinned to core 0 with taskset (ferrite with
--server.threads 1 and its memcached port on, memcached -t 1, redis is single-threaded);
memtier_benchmark runs pinned to core 1. Ferrite's RESP port is compared with redis-server,
its memcached port with memcached. Each row runs `--reps` times; in every rep the two
servers run back to back (alternating which goes first, so load drift hits both alike) and
the rep's ratio ferrite/peer is taken, so a ratio compares two runs a few seconds apart.

Two groups of rows:
  guide   the migration guide's commands as written (`-P memcache_text --ratio=1:1 -c 50
          -t 4 --data-size=100`, its `-P redis` twin, and a `-P memcache_binary` twin):
          memtier's default key space (10M keys, uniform random), servers flushed before
          every run, so most GETs miss; the hit rate is reported.
  core    50 connections (-c 50 -t 1), 100-byte values, SET:GET 1:10, 100,000 keys
          preloaded into each server before the row, so every GET hits: RESP pipeline 1 and
          16, memcached text and binary pipeline 1, memcached text multi-get of 10 keys
          (`--multi-key-get=10`: one SET, then one `get` of 10 keys). A miss or an error
          in a core run fails the run: a wrong answer never counts as a fast one.
  TLS     the same core setup through memtier `--tls --cacert` (the server certificate
          is verified): ferrite's tls-port vs redis-server's --tls-port at pipeline 1 and
          16, ferrite's memcached-tls-port vs a memcached -Z (its own process, TLS on its
          one port) at pipeline 1. One certificate (RSA 2048, made by the openssl CLI for
          the run), tls-auth-clients no; the servers' TLS ports are only opened when a
          TLS row is selected.

Per row: median ops/s (min-max), server CPU microseconds per request (utime+stime of the
server process from /proc/<pid>/stat over the run, divided by memtier's request count; a
10-key multi-get is one request), p99 latency in ms (memtier's HdrHistogram, all requests),
and the ratios ferrite/peer as the median of the per-rep ratios with their min-max.
CPU ratio < 1 means ferrite needs less CPU per request than the peer.

Exits 1 if a run failed (memtier error, unexpected miss, timeout), never on a slow ratio.
"""
import argparse
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import tls_bench  # noqa: E402

BUILD_HINT = """memtier_benchmark is not a Debian package: build it from source outside the
repository, then pass it with --memtier:
  git clone https://github.com/RedisLabs/memtier_benchmark /tmp/memtier && cd /tmp/memtier
  apt-get install autoconf automake libtool pkg-config libevent-dev libssl-dev zlib1g-dev
  autoreconf -ivf && ./configure && make -j2
  /usr/bin/python3 bench/memtier.py --memtier /tmp/memtier/memtier_benchmark"""

GUIDE = ["--ratio=1:1", "-c", "50", "-t", "4", "--data-size=100"]
CORE_KEYS = 100000
CORE = ["-c", "50", "-t", "1", "--data-size=100", "--ratio=1:10", "--key-pattern=R:R",
        "--key-minimum=1", "--key-maximum=%d" % CORE_KEYS]

# (row name, group, memtier protocol, ferrite port attribute, peer, extra memtier arguments)
ROWS = [
    ("guide memcache_text 1:1 -c 50 -t 4", "guide", "memcache_text", "mc_port", "memcached",
     GUIDE),
    ("guide redis 1:1 -c 50 -t 4", "guide", "redis", "port", "redis", GUIDE),
    ("guide memcache_binary 1:1 -c 50 -t 4", "guide", "memcache_binary", "mc_port",
     "memcached", GUIDE),
    ("RESP P1", "core", "redis", "port", "redis", CORE + ["--pipeline=1"]),
    ("RESP P16", "core", "redis", "port", "redis", CORE + ["--pipeline=16"]),
    ("memcached text P1", "core", "memcache_text", "mc_port", "memcached",
     CORE + ["--pipeline=1"]),
    ("memcached binary P1", "core", "memcache_binary", "mc_port", "memcached",
     CORE + ["--pipeline=1"]),
    ("memcached text multi-get x10", "core", "memcache_text", "mc_port", "memcached",
     CORE + ["--pipeline=1", "--multi-key-get=10"]),
    # memtier --tls: ferrite's tls-port vs redis-server's, its memcached-tls-port vs
    # memcached -Z (a second memcached, TLS on its one port); same certificate for all.
    ("RESP P1 TLS", "core", "redis", "tls_port", "redis", CORE + ["--pipeline=1"]),
    ("RESP P16 TLS", "core", "redis", "tls_port", "redis", CORE + ["--pipeline=16"]),
    ("memcached text P1 TLS", "core", "memcache_text", "mc_tls_port", "memcached_tls",
     CORE + ["--pipeline=1"]),
]


def is_tls(port_attr):
    return port_attr.endswith("tls_port")


def make_certs(d):
    """tls_bench's CA and server certificate for 127.0.0.1 (openssl CLI), for this run."""
    tls_bench.make_certs(d)
    return {k: os.path.join(d, v) for k, v in
            (("cert", "server.crt"), ("key", "server.key"), ("ca", "ca.crt"))}


def starters(ferrite_bin, certs):
    """Server starters; with `certs`, ferrite and redis-server also serve TLS ports
    (tls-auth-clients no) and a memcached -Z is started for the memcached TLS row."""
    def ferrite():
        if not certs:
            return benchlib.start_ferrite(ferrite_bin)
        tls_port, mc_tls_port = benchlib.free_port(), benchlib.free_port()
        s = benchlib.start_ferrite(ferrite_bin, extra=[
            "--tls.port", str(tls_port), "--compatibility.memcached_tls_port", str(mc_tls_port),
            "--tls.cert_file", certs["cert"], "--tls.key_file", certs["key"],
            "--tls.ca_cert_file", certs["ca"], "--tls.auth_clients", "no"])
        benchlib.wait_port(tls_port, s.proc)
        benchlib.wait_port(mc_tls_port, s.proc)
        s.tls_port, s.mc_tls_port = tls_port, mc_tls_port
        return s

    def redis():
        if not certs:
            return benchlib.start_redis()
        d = tempfile.mkdtemp(prefix="bench-redis-")
        port, tls_port = benchlib.free_port(), benchlib.free_port()
        argv = [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", d, "--tls-port", str(tls_port),
                "--tls-cert-file", certs["cert"], "--tls-key-file", certs["key"],
                "--tls-ca-cert-file", certs["ca"], "--tls-auth-clients", "no"]
        s = benchlib.Server("redis", argv, port, workdir=d)
        benchlib.wait_port(tls_port, s.proc)
        s.tls_port = tls_port
        return s

    def memcached_tls():
        port = benchlib.free_port()
        argv = [shutil.which("memcached"), "-l", "127.0.0.1", "-p", str(port), "-U", "0",
                "-t", "1", "-m", "1024", "-c", "4096", "-Z", "-o",
                "ssl_chain_cert=%s,ssl_key=%s" % (certs["cert"], certs["key"])]
        if os.geteuid() == 0:
            argv += ["-u", "root"]
        s = benchlib.Server("memcached", argv, port)
        s.tls_port = port
        return s

    return ferrite, redis, memcached_tls


def flush(port, protocol, tls=None):
    """Empties a server through the port under test (ferrite's two ports share one
    keyspace, so either empties it); `tls`: the CA file of a TLS port."""
    req, ok = (b"FLUSHALL\r\n", b"+OK\r\n") if protocol == "redis" else \
        (b"flush_all\r\n", b"OK\r\n")
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    if tls:
        raw = ssl.create_default_context(cafile=tls).wrap_socket(raw, server_hostname="127.0.0.1")
    with raw as s:
        s.sendall(req)
        got = b""
        while not got.endswith(b"\r\n"):
            chunk = s.recv(64)
            if not chunk:
                break
            got += chunk
    if got != ok:
        raise RuntimeError("flush on port %d answered %r" % (port, got))


def memtier(binary, port, protocol, args, bound, timeout, tls=None):
    """One memtier_benchmark run pinned to the client core; returns its 'ALL STATS' dict.
    `tls`: the CA file, for a TLS port (memtier --tls verifies the server with it).
    Raises on a non-zero exit or an error reply logged by memtier."""
    with tempfile.TemporaryDirectory(prefix="bench-memtier-") as d:
        out = os.path.join(d, "out.json")
        argv = ["taskset", "-c", str(benchlib.CLIENT_CORE), binary, "-s", "127.0.0.1",
                "-p", str(port), "-P", protocol, *args, *bound, "--hide-histogram",
                "--json-out-file=" + out]
        if tls:
            argv += ["--tls", "--cacert=" + tls]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        errors = [ln for ln in p.stderr.splitlines() if "error" in ln.lower()]
        if p.returncode != 0 or errors:
            raise RuntimeError("memtier_benchmark failed (exit %d): %s\n%s" % (
                p.returncode, " ".join(argv), "\n".join(errors[:5]) or p.stderr[-500:]))
        with open(out) as f:
            return json.load(f)["ALL STATS"]


def preload(binary, port, protocol, timeout, tls=None):
    """Writes every key of the core key space once (each of the 50 connections its own
    slice of the range)."""
    memtier(binary, port, protocol,
            ["-c", "50", "-t", "1", "--data-size=100", "--ratio=1:0", "--key-pattern=P:P",
             "--key-minimum=1", "--key-maximum=%d" % CORE_KEYS], ["--requests=allkeys"],
            timeout, tls)


def one_run(binary, server, port, protocol, group, args, bound, timeout, tls=None):
    """Returns (ops/s, server CPU us per request, p99 ms, hit rate) of one run."""
    if group == "guide":
        flush(port, protocol, tls)
    cpu0 = server.cpu_seconds()
    stats = memtier(binary, port, protocol, args, bound, timeout, tls)
    cpu = server.cpu_seconds() - cpu0
    total = stats["Totals"]
    count = total["Count"]
    if not count:
        raise RuntimeError("memtier made no requests on port %d" % port)
    hits, misses = stats["Gets"]["Hits/sec"], stats["Gets"]["Misses/sec"]
    if group == "core" and misses:
        raise RuntimeError("%d misses/s on port %d after the preload" % (misses, port))
    hit_rate = hits / (hits + misses) if hits + misses else 0.0
    return (total["Ops/sec"], cpu * 1e6 / count, total["Percentile Latencies"]["p99.00"],
            hit_rate)


def selected(only):
    return [r for r in ROWS if not only or any(o.lower() in r[0].lower() for o in only)]


def measure(binary, ferrite, peers, reps, bound, timeout, only, ca=None):
    results = {}
    for name, group, protocol, fport, peer_name, args in selected(only):
        peer = peers[peer_name]
        tls = ca if is_tls(fport) else None
        pair = [("ferrite", ferrite, getattr(ferrite, fport)),
                (peer_name, peer, peer.tls_port if tls else peer.port)]
        if group == "core":
            for _, _, port in pair:
                flush(port, protocol, tls)
                preload(binary, port, protocol, timeout, tls)
        runs = {"ferrite": [], "peer": []}
        load_before = benchlib.load_note().split(": ")[1]
        for rep in range(reps):
            order = pair if rep % 2 == 0 else pair[::-1]
            for label, server, port in order:
                r = one_run(binary, server, port, protocol, group, args, bound, timeout, tls)
                runs["ferrite" if label == "ferrite" else "peer"].append(r)
        with open("/proc/loadavg") as f:
            load_after = " ".join(f.read().split()[:3])
        results[name] = (peer_name, runs, load_before, load_after)
        print("done: %s (load %s -> %s)" % (name, load_before, load_after), flush=True)
    return results


def spread(xs, fmt):
    return (fmt + " (" + fmt + "-" + fmt + ")") % (benchlib.median(xs), min(xs), max(xs))


def print_tables(results, reps, bound):
    print()
    print("memtier_benchmark, servers pinned to core %d, memtier to core %d, %d reps, %s; "
          "median (min-max)" % (benchlib.SERVER_CORE, benchlib.CLIENT_CORE, reps,
                                " ".join(bound)))
    print()
    print("| row | peer | ferrite ops/s | peer ops/s | ops ratio | ferrite CPU us/op "
          "| peer CPU us/op | CPU ratio | ferrite p99 ms | peer p99 ms | p99 ratio "
          "| GET hits % f/p | load |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, (peer_name, runs, lb, la) in results.items():
        f, p = runs["ferrite"], runs["peer"]

        def col(i, fmt, side):
            return spread([r[i] for r in side], fmt)

        def rat(i):
            return spread([benchlib.ratio(a[i], b[i]) for a, b in zip(f, p)], "%.2f")

        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f / %.1f | %s -> %s |"
              % (name, peer_name, col(0, "%.0f", f), col(0, "%.0f", p), rat(0),
                 col(1, "%.2f", f), col(1, "%.2f", p), rat(1), col(2, "%.3f", f),
                 col(2, "%.3f", p), rat(2), 100 * benchlib.median([r[3] for r in f]),
                 100 * benchlib.median([r[3] for r in p]), lb, la))
    print()
    print("ratios are ferrite/peer per rep (median, min-max): ops ratio > 1 = ferrite "
          "faster; CPU and p99 ratios < 1 = ferrite cheaper / lower latency")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memtier", help="path to a memtier_benchmark binary")
    ap.add_argument("--ferrite", default=benchlib.default_host())
    ap.add_argument("--reps", type=int, default=3)
    bound = ap.add_mutually_exclusive_group()
    bound.add_argument("--test-time", type=int, help="seconds per run (default 5)")
    bound.add_argument("--requests", type=int, help="requests per connection per run")
    ap.add_argument("--only", action="append",
                    help="run only rows whose name contains this (repeatable)")
    ap.add_argument("--quick", action="store_true", help="1 rep of 2 s (a smoke run)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per memtier run")
    args = ap.parse_args()
    if not args.memtier:
        print("memtier.py: skipped, no --memtier given.\n" + BUILD_HINT)
        return 0
    binary = os.path.abspath(args.memtier)
    if not os.access(binary, os.X_OK):
        print("memtier.py: %s is not an executable\n%s" % (binary, BUILD_HINT), file=sys.stderr)
        return 1
    if args.quick:
        args.reps, args.test_time, args.requests = 1, 2, None
    run_bound = (["--requests=%d" % args.requests] if args.requests else
                 ["--test-time=%d" % (args.test_time or 5)])
    version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             timeout=10).stdout.splitlines()
    print(benchlib.load_note())
    print("memtier: " + (version[0] if version else "?"))
    ferrite_bin = os.path.abspath(args.ferrite)
    want_tls = any(is_tls(r[3]) for r in selected(args.only))
    with tempfile.TemporaryDirectory(prefix="bench-memtier-certs-") as certs_dir:
        certs = make_certs(certs_dir) if want_tls else None
        ferrite_start, redis_start, memcached_tls_start = starters(ferrite_bin, certs)
        extra = [memcached_tls_start] if want_tls else []
        with benchlib.servers(ferrite_start, benchlib.start_memcached, redis_start,
                              *extra) as started:
            ferrite, memcached, redis = started[:3]
            peers = {"memcached": memcached, "redis": redis}
            if want_tls:
                peers["memcached_tls"] = started[3]
            try:
                results = measure(binary, ferrite, peers, args.reps, run_bound, args.timeout,
                                  args.only, certs["ca"] if certs else None)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print("memtier.py: run failed: %s" % e, file=sys.stderr)
                return 1
    print_tables(results, args.reps, run_bound)
    return 0


if __name__ == "__main__":
    sys.exit(main())
