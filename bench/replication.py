#!/usr/bin/python3
"""Replication benchmark: ferrite-host vs redis-server 7.0, each replicating to its own
kind, in the same run.

1. Primary write throughput: redis-benchmark SET (-c 50 -d 100 -r 100000, -P 1) with 0
   and with 2 replicas attached.
2. Full sync of --keys 100-byte strings: seconds from REPLICAOF to the replica caught
   up, disk and diskless, and the primary's peak RSS (the server plus its fork child,
   sampled every 10 ms) during the sync, over its RSS before.
3. Partial resync: seconds from CLIENT KILL TYPE master on the replica to its link up
   again (+CONTINUE).

The primary is pinned to core 0, replicas and the load generator to core 1 (this
machine has two). Usage: bench/replication.py [--ferrite PATH] [-n 200000]
[--keys 1000000]. Binds 127.0.0.1 only; every wait is bounded.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import default_host, free_port, wait_port  # noqa: E402


class Node:
    def __init__(self, kind, exe, core, extra=()):
        self.kind, self.exe = kind, exe
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"replbench-{kind}-")
        if kind == "redis":
            cmd = [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", self.dir, "--repl-diskless-sync-delay", "0",
                   *extra]
        else:
            cmd = [exe, "--bind", "127.0.0.1", "--port", str(self.port), "--persistence.dir",
                   self.dir, "--persistence.save", "", "--server.threads", "1",
                   "--replication.repl_diskless_sync_delay", "0", *extra]
        self.proc = subprocess.Popen(["taskset", "-c", str(core)] + cmd,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)
        self.r = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=120)

    def info(self, section="replication"):
        return self.r.info(section)

    def rss_with_children(self):
        total = 0
        pids = [self.proc.pid]
        # A child is listed under the thread that forked it (ferrite forks from a
        # sender thread, redis from its main thread): every task's list is read.
        try:
            for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
                with open(f"/proc/{self.proc.pid}/task/{tid}/children") as f:
                    pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        for pid in pids:
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total

    def set_diskless(self, on):
        self.r.config_set("repl-diskless-sync", "yes" if on else "no")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.01)
    raise RuntimeError(f"timed out: {what}")


def caught_up(primary, replica):
    i = replica.info()
    return (i.get("master_link_status") == "up" and
            int(i.get("slave_repl_offset", -1)) >= int(primary.info()["master_repl_offset"]))


def set_throughput(port, n):
    out = subprocess.run(["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-t", "set",
                          "-n", str(n), "-c", "50", "-d", "100", "-r", "100000", "-q"],
                         capture_output=True, text=True, timeout=600).stdout
    m = re.search(r"SET: ([\d.]+) requests per second", out)
    return float(m.group(1)) if m else 0.0


def load_keys(r, keys):
    pipe = r.pipeline(transaction=False)
    val = "v" * 100
    for i in range(keys):
        pipe.set(f"key:{i}", val)
        if i % 10000 == 9999:
            pipe.execute()
    pipe.execute()


def bench_kind(kind, exe, n, keys):
    res = {}
    p = Node(kind, exe, 0)
    try:
        res["set_0_replicas"] = set_throughput(p.port, n)
        reps = [Node(kind, exe, 1) for _ in range(2)]
        try:
            for rep in reps:
                rep.r.execute_command("REPLICAOF", "127.0.0.1", p.port)
            for rep in reps:
                wait(lambda: caught_up(p, rep), 120, "replica up")
            res["set_2_replicas"] = set_throughput(p.port, n)
        finally:
            for rep in reps:
                rep.stop()
        p.r.flushall()
        load_keys(p.r, keys)
        for diskless in (False, True):
            p.set_diskless(diskless)
            rep = Node(kind, exe, 1)
            try:
                base = p.rss_with_children()
                peak = [base]
                stop = threading.Event()

                def sample():
                    while not stop.is_set():
                        peak[0] = max(peak[0], p.rss_with_children())
                        time.sleep(0.01)
                t = threading.Thread(target=sample, daemon=True)
                t.start()
                t0 = time.time()
                rep.r.execute_command("REPLICAOF", "127.0.0.1", p.port)
                wait(lambda: caught_up(p, rep), 600, "full sync")
                secs = time.time() - t0
                stop.set()
                t.join()
                name = "diskless" if diskless else "disk"
                res[f"full_sync_s_{name}"] = secs
                res[f"sync_peak_extra_mb_{name}"] = (peak[0] - base) / 1e6
                if diskless:
                    p.r.set("marker", 1)
                    wait(lambda: caught_up(p, rep), 60, "caught up")
                    t0 = time.time()
                    rep.r.execute_command("CLIENT", "KILL", "TYPE", "master")
                    time.sleep(0.05)
                    wait(lambda: caught_up(p, rep), 60, "partial resync")
                    res["partial_resync_s"] = time.time() - t0
            finally:
                rep.stop()
    finally:
        p.stop()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferrite", default=default_host())
    ap.add_argument("-n", type=int, default=200000)
    ap.add_argument("--keys", type=int, default=1000000)
    a = ap.parse_args()
    redis_exe = shutil.which("redis-server")
    f = bench_kind("ferrite", a.ferrite, a.n, a.keys)
    r = bench_kind("redis", redis_exe, a.n, a.keys)
    print(f"{'metric':28} {'ferrite':>12} {'redis':>12} {'ratio':>8}")
    for k in f:
        ratio = f[k] / r[k] if r.get(k) else float("nan")
        print(f"{k:28} {f[k]:12.2f} {r[k]:12.2f} {ratio:8.2f}")
    print("(set_*: requests/s, higher is better; *_s and *_mb: lower is better)")


if __name__ == "__main__":
    main()
