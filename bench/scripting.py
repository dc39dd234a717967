#!/usr/bin/python3
"""EVALSHA throughput: ferrite-host vs redis-server 7.0, side by side.

Each server is pinned to one core with taskset (ferrite with --server.threads 1);
redis-benchmark runs on the other core. Prints ops/s for both and the ratio.

    FERRITE_HOST=build/<you>/ferrite-host /usr/bin/python3 bench/scripting.py [-n 200000]
"""
import argparse
import os
import re
import socket
import subprocess
import tempfile
import time

SCRIPT = "return redis.call('INCR', KEYS[1])"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait(port, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} not up")


def run_bench(port, n, clients, pipeline):
    sha = subprocess.check_output(["redis-cli", "-p", str(port), "SCRIPT", "LOAD", SCRIPT],
                                  text=True).strip()
    out = subprocess.check_output(
        ["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-n", str(n), "-c",
         str(clients), "-P", str(pipeline), "-q", "EVALSHA", sha, "1", "bench:counter"],
        text=True, timeout=600)
    m = re.findall(r"([\d.]+) requests per second", out)
    return float(m[-1]) if m else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200000)
    ap.add_argument("-c", type=int, default=50)
    ap.add_argument("-P", type=int, default=1)
    a = ap.parse_args()
    host = os.environ.get("FERRITE_HOST", "build/release/ferrite-host")
    d = tempfile.mkdtemp(prefix="ferrite-bench-")
    fp, rp = free_port(), free_port()
    procs = [
        subprocess.Popen(["taskset", "-c", "0", host, "--bind", "127.0.0.1", "--port", str(fp),
                          "--server.threads", "1", "--persistence.dir", d,
                          "--persistence.save", "", "--compatibility.memcached_port",
                          str(free_port())], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen(["taskset", "-c", "0", "redis-server", "--port", str(rp), "--bind",
                          "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", d],
                         stdout=subprocess.DEVNULL),
    ]
    try:
        wait(fp)
        wait(rp)
        f = run_bench(fp, a.n, a.c, a.P)
        r = run_bench(rp, a.n, a.c, a.P)
        print(f"EVALSHA INCR  n={a.n} c={a.c} P={a.P}")
        print(f"  ferrite-host : {f:12.0f} ops/s")
        print(f"  redis-server : {r:12.0f} ops/s")
        print(f"  ratio        : {f / r if r else 0:12.2f}")
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


if __name__ == "__main__":
    main()
