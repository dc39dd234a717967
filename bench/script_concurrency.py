#!/usr/bin/python3
"""Scripts that lock only their keys, and what worker threads cost.

1. Other keys during a long EVAL (`--server.threads 2`): one connection runs
   `EVAL <busy loop of about --script-ms> 1 a`; the next connection (accepted onto the other
   worker: connections are dealt round-robin) sends pipelined GETs of another key b for
   --window-s seconds while the script is still running. Its ops/s is compared with the
   same load when no script runs. The EVAL's reply must not have arrived when the window
   ends (checked), so every counted reply was served during the script. Also run with
   the script declaring no key (it then holds every shard): the stalled case.
2. Cost of threads: server CPU microseconds per request (user + system from /proc, all
   threads) for the same redis-benchmark run (-c 50 -n N -d 100 SET/GET, -P 1) against
   `--server.threads 1` and `--server.threads 2`.

Servers are not pinned (part 1 needs both cores). Prints one table per part, medians of
--reps runs with their spread.

    FERRITE_HOST=build/release/ferrite-host /usr/bin/python3 bench/script_concurrency.py
"""
import argparse
import os
import re
import select
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

BUSY = "for i = 1, tonumber(ARGV[1]) do end return 1"  # TIME stands still in a script
PIPELINE = 32


def cmd(*args):
    args = [a.encode() if isinstance(a, str) else a for a in args]
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def start(host_bin, threads):
    d = __import__("tempfile").mkdtemp(prefix="bench-ferrite-")
    port = benchlib.free_port()
    argv = [host_bin, "--bind", "127.0.0.1", "--port", str(port), "--server.threads",
            str(threads), "--persistence.dir", d, "--persistence.save", ""]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    benchlib.wait_port(port, proc)
    srv = benchlib.Server.__new__(benchlib.Server)
    srv.name, srv.port, srv.mc_port, srv.workdir, srv.proc = "ferrite", port, None, d, proc
    return srv


def conn(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_exact(s, n):
    got = 0
    while got < n:
        chunk = s.recv(min(1 << 20, n - got))
        if not chunk:
            raise RuntimeError("connection closed")
        got += len(chunk)


def gets_for(s, key, seconds, script=None):
    """Pipelined GET `key` (value "v": a 7-byte reply) for `seconds`; returns ops/s. With
    `script` (a connection awaiting an EVAL reply) only batches answered while that reply
    has not arrived count, and the rate is over the time until the last of them."""
    batch = cmd("GET", key) * PIPELINE
    n = 0
    t0 = time.perf_counter()
    t_last = t0
    end = t0 + seconds
    while time.perf_counter() < end:
        s.sendall(batch)
        read_exact(s, 7 * PIPELINE)
        if script is not None and select.select([script], [], [], 0)[0]:
            break  # the script ended: this batch may have been served after it
        n += PIPELINE
        t_last = time.perf_counter()
    return n / max(t_last - t0, 1e-9) if n else 0.0


def turns_for(port, seconds):
    """Loop turns that keep this server's script busy for about `seconds`."""
    probe = 4_000_000
    s = conn(port)
    t0 = time.perf_counter()
    s.sendall(cmd("EVAL", BUSY, "0", str(probe)))
    if s.recv(100) != b":1\r\n":
        raise RuntimeError("unexpected EVAL reply")
    s.close()
    return int(probe * seconds / max(time.perf_counter() - t0, 1e-3))


def other_keys_row(port, keys_declared, turns, window_s):
    """(ops/s without a script, ops/s during it) for one fresh pair of connections."""
    script, load = conn(port), conn(port)  # consecutive accepts: different workers
    load.sendall(cmd("SET", "b", "v"))
    load.recv(100)
    base = gets_for(load, "b", window_s)
    nkeys = ["1", "a"] if keys_declared else ["0"]
    script.sendall(cmd("EVAL", BUSY, *nkeys, str(turns)))
    time.sleep(0.1)  # the script is running by then
    during = gets_for(load, "b", window_s, script)
    if script.recv(100) != b":1\r\n":
        raise RuntimeError("unexpected EVAL reply")
    script.close()
    load.close()
    return base, during


def part1(host_bin, reps, script_ms, window_s):
    srv = start(host_bin, 2)
    try:
        turns = turns_for(srv.port, script_ms / 1000.0)
        rows = {}
        for declared in (True, False):
            ratios = []
            for _ in range(reps):
                base, during = other_keys_row(srv.port, declared, turns, window_s)
                ratios.append((base, during, during / base if base else 0))
            rows[declared] = ratios
    finally:
        srv.stop()
    print("## GETs of another key on the other worker during a %d ms EVAL (--threads 2)"
          % script_ms)
    print("| script | ops/s without script | ops/s during script | ratio (median, min-max) |")
    print("|---|---|---|---|")
    for declared, rs in rows.items():
        rr = [r[2] for r in rs]
        print("| %s | %.0f | %.0f | %.2f (%.2f-%.2f) |" % (
            "EVAL ... 1 a (declared key)" if declared else "EVAL ... 0 (no declared key)",
            benchlib.median([r[0] for r in rs]), benchlib.median([r[1] for r in rs]),
            benchlib.median(rr), min(rr), max(rr)))


def context_switches(pid):
    """Voluntary + involuntary context switches of every thread of `pid` so far."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            for line in f:
                if "ctxt_switches:" in line:
                    total += int(line.split()[1])
    return total


def cpu_per_op(host_bin, threads, n):
    """(CPU us per request, ops/s, context switches per request) for one run."""
    srv = start(host_bin, threads)
    try:
        c0, s0 = srv.cpu_seconds(), context_switches(srv.pid)
        out = subprocess.run(["redis-benchmark", "-p", str(srv.port), "-c", "50", "-n", str(n),
                              "-d", "100", "-r", "100000", "-t", "set,get", "-q"],
                             capture_output=True, text=True, timeout=600).stdout
        cpu, switches = srv.cpu_seconds() - c0, context_switches(srv.pid) - s0
    finally:
        srv.stop()
    rates = [float(x) for x in re.findall(r"([\d.]+) requests per second", out)]
    return cpu * 1e6 / (2 * n), sum(rates) / len(rates) if rates else 0, switches / (2 * n)


def part2(host_bin, reps, n):
    res = {1: [], 2: []}
    for _ in range(reps):
        for t in (1, 2):
            res[t].append(cpu_per_op(host_bin, t, n))
    print("## Server CPU per request, redis-benchmark -c 50 -d 100 SET+GET, %d each" % n)
    print("| threads | CPU us/op (median, min-max) | ops/s (median) | context switches/op |")
    print("|---|---|---|---|")
    for t, rs in res.items():
        us = [r[0] for r in rs]
        print("| %d | %.2f (%.2f-%.2f) | %.0f | %.2f |" % (
            t, benchlib.median(us), min(us), max(us), benchlib.median([r[1] for r in rs]),
            benchlib.median([r[2] for r in rs])))
    m1, m2 = benchlib.median([r[0] for r in res[1]]), benchlib.median([r[0] for r in res[2]])
    print("threads 2 / threads 1 CPU per request: %.2f" % benchlib.ratio(m2, m1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferrite", default=benchlib.default_host())
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--script-ms", type=int, default=1500)
    ap.add_argument("--window-s", type=float, default=1.0)
    ap.add_argument("-n", type=int, default=200000)
    ap.add_argument("--part", choices=["1", "2", "both"], default="both")
    a = ap.parse_args()
    print(benchlib.load_note())
    if a.part in ("1", "both"):
        part1(a.ferrite, a.reps, a.script_ms, a.window_s)
    if a.part in ("2", "both"):
        part2(a.ferrite, a.reps, a.n)


if __name__ == "__main__":
    main()
