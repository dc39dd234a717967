#!/usr/bin/env python3
"""Moving off memcached: ferrite-migrate's import rate, its effect on Ferrite's serving
throughput while it runs, and the latency warm on a miss adds to a miss.

  /usr/bin/python3 bench/migrate_import.py [--ferrite build/release/ferrite-host]
      [--mcload PATH] [--items 1000000] [--value-size 100] [--seconds 5] [--samples 2000]

memcached (-t 1) and ferrite-host (--server.threads 1) are pinned to core 0 as in every
bench/ script; ferrite-migrate and the load generator run on core 1. The source is filled
by mcload --preload-only (keys of 16 bytes); the serving load is mcload gets of 100 B
values on 50 connections against keys of 20 bytes, so it never touches imported keys.
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402
import memcached_bench  # noqa: E402


def import_run(migrate, src, dst):
    argv = ["taskset", "-c", str(benchlib.CLIENT_CORE), migrate, "--from",
            f"memcached://127.0.0.1:{src}", "--to", f"127.0.0.1:{dst}", "--progress", "none"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError("ferrite-migrate failed: " + out.stdout + out.stderr)
    m = re.search(r"elapsed\s+([\d.]+) s \((\d+) items/s, ([\d.]+) MB/s\)", out.stdout)
    copied = int(re.search(r"copied\s+(\d+)", out.stdout).group(1))
    return float(m.group(1)), int(m.group(2)), float(m.group(3)), copied


def serving_load(mcload, port, seconds):
    argv = ["taskset", "-c", str(benchlib.CLIENT_CORE), mcload, "--port", str(port), "--conns", "50",
            "--seconds", str(seconds), "--keys", "10000", "--key-size", "20", "--value-size", "100"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def load_result(p):
    out, err = p.communicate(timeout=600)
    fields = dict(kv.split("=", 1) for kv in out.split())
    return float(fields["req_per_sec"])


def flush(port):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"flush_all\r\n")
        assert s.recv(100) == b"OK\r\n"


def get_latency_us(port, keys):
    """Median and p99 of one `get` round trip over one connection (python client: the
    absolute numbers include its overhead; compare the rows with one another)."""
    times = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        f = s.makefile("rb")
        for k in keys:
            t = time.perf_counter()
            s.sendall(b"get %s\r\n" % k)
            line = f.readline()
            if line.startswith(b"VALUE"):
                f.read(int(line.split()[3]) + 2)
                line = f.readline()
            assert line == b"END\r\n", line
            times.append((time.perf_counter() - t) * 1e6)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferrite", default=os.environ.get("FERRITE_HOST") or
                    os.path.join(benchlib.ROOT, "build", "release", "ferrite-host"))
    ap.add_argument("--mcload")
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--samples", type=int, default=2000)
    a = ap.parse_args()
    migrate = os.path.join(os.path.dirname(os.path.abspath(a.ferrite)), "ferrite-migrate")
    mcload, _ = memcached_bench.find_mcload(a.mcload)
    print(benchlib.load_note())
    with benchlib.servers(lambda: benchlib.start_memcached(2048),
                          lambda: benchlib.start_ferrite(a.ferrite)) as (mc, fe):
        subprocess.run([mcload, "--port", str(mc.port), "--preload-only", "--keys", str(a.items),
                        "--value-size", str(a.value_size)], check=True, timeout=900)
        secs, rate, mbs, copied = import_run(migrate, mc.port, fe.mc_port)
        print(f"import alone: {copied} items of {a.value_size} B in {secs:.2f} s: "
              f"{rate} items/s, {mbs:.2f} MB/s (values)")
        subprocess.run([mcload, "--port", str(fe.mc_port), "--preload-only", "--keys", "10000",
                        "--key-size", "20", "--value-size", "100"], check=True, timeout=300)
        base = load_result(serving_load(mcload, fe.mc_port, a.seconds))
        flush(fe.mc_port)
        subprocess.run([mcload, "--port", str(fe.mc_port), "--preload-only", "--keys", "10000",
                        "--key-size", "20", "--value-size", "100"], check=True, timeout=300)
        p = serving_load(mcload, fe.mc_port, a.seconds)
        secs2, rate2, mbs2, _ = import_run(migrate, mc.port, fe.mc_port)
        during = load_result(p)
        print(f"serving gets, 50 conns, {a.seconds} s: {base:.0f} req/s alone, {during:.0f} req/s "
              f"while an import runs ({during / base:.2f}x; the import then ran at {rate2} items/s, "
              f"{secs2:.2f} s, overlapping the load for up to {a.seconds} s)")
    with benchlib.servers(lambda: benchlib.start_memcached(256)) as (mc,):
        keys = [b"warm:%d" % i for i in range(a.samples)]
        with socket.create_connection(("127.0.0.1", mc.port), timeout=30) as s:
            s.sendall(b"".join(b"set %s 0 0 100 noreply\r\n%s\r\n" % (k, b"v" * 100) for k in keys)
                      + b"mn\r\n")
            assert s.makefile("rb").readline() == b"MN\r\n"
        with benchlib.servers(lambda: benchlib.start_ferrite(a.ferrite)) as (plain,):
            p50, p99 = get_latency_us(plain.mc_port, keys)
        warm_args = ["--compatibility.warm_from", f"127.0.0.1:{mc.port}"]
        with benchlib.servers(lambda: benchlib.start_ferrite(a.ferrite, extra=warm_args)) as (fw,):
            w50, w99 = get_latency_us(fw.mc_port, keys)
            h50, h99 = get_latency_us(fw.mc_port, keys)  # now stored: local hits
            n50, n99 = get_latency_us(fw.mc_port, [b"absent:%d" % i for i in range(a.samples)])
        print(f"get latency, {a.samples} sequential gets (median / p99 us): plain miss "
              f"{p50:.0f} / {p99:.0f}; miss warmed from memcached {w50:.0f} / {w99:.0f}; "
              f"the same keys again (local hits) {h50:.0f} / {h99:.0f}; miss absent at the "
              f"source too {n50:.0f} / {n99:.0f}")


if __name__ == "__main__":
    main()
