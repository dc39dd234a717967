#!/usr/bin/python3
"""Persistence benchmark: ferrite-host vs redis-server 7.0 under the same settings.

1. Write throughput: redis-benchmark SET (-c 50, bounded -n) with the AOF off,
   appendfsync everysec and appendfsync always.
2. Startup load time of a 1,000,000-key snapshot (strings), both servers loading the
   same kind of file (each its own, written by itself), read from their logs/wall clock.
3. BGSAVE fork latency (latest_fork_usec) with that data set loaded.

Usage: bench/persistence.py [--ferrite build/persistence/ferrite-host] [-n 200000]
       [--keys 1000000]
Prints a table with Ferrite/Redis ratios. Binds 127.0.0.1 only; every step is bounded.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("server did not start")


class Srv:
    def __init__(self, kind, exe, workdir, aof, fsync, threads):
        self.kind, self.exe, self.dir = kind, exe, workdir
        self.port = free_port()
        self.aof, self.fsync, self.threads = aof, fsync, threads

    def start(self):
        if self.kind == "redis":
            cmd = [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--dir", self.dir, "--appendonly", "yes" if self.aof else "no",
                   "--appendfsync", self.fsync, "--logfile", os.path.join(self.dir, "log")]
        else:
            cmd = [self.exe, "--bind", "127.0.0.1", "--port", str(self.port),
                   "--persistence.dir", self.dir, "--persistence.save", "",
                   "--persistence.aof_enabled", "true" if self.aof else "false",
                   "--persistence.aof_fsync", self.fsync, "--server.threads", str(self.threads)]
        self.log = open(os.path.join(self.dir, "stdout"), "ab")
        t0 = time.time()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc)
        self.ready_s = time.time() - t0
        return self

    def stop(self):
        self.proc.terminate()
        self.proc.wait(60)
        self.log.close()


def bench_set(srv, n):
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(srv.port), "-t", "set",
                          "-c", "50", "-n", str(n), "-r", "100000", "-q"],
                         capture_output=True, text=True, timeout=600).stdout
    m = re.search(r"SET: ([\d.]+) requests per second", out.replace("\r", "\n"))
    return float(m.group(1)) if m else float("nan")


def fill(port, keys):
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=120)
    p = r.pipeline(transaction=False)
    for i in range(keys):
        p.set(f"key:{i:08d}", f"value-{i}-" + "x" * 20)
        if i % 10000 == 9999:
            p.execute()
    p.execute()
    return r


def wait_bgsave(r):
    deadline = time.time() + 300
    while time.time() < deadline:
        if r.info("persistence")["rdb_bgsave_in_progress"] == 0:
            return
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferrite", default=os.path.join(ROOT, "build", "persistence", "ferrite-host"))
    ap.add_argument("--redis", default=shutil.which("redis-server"))
    ap.add_argument("-n", type=int, default=200000)
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    rows = []
    for label, aof, fsync in [("SET, AOF off", False, "no"), ("SET, AOF everysec", True, "everysec"),
                              ("SET, AOF always", True, "always")]:
        res = {}
        for kind, exe in (("ferrite", a.ferrite), ("redis", a.redis)):
            d = tempfile.mkdtemp(prefix=f"bench-{kind}-")
            s = Srv(kind, exe, d, aof, fsync, a.threads).start()
            try:
                res[kind] = bench_set(s, a.n)
            finally:
                s.stop()
                shutil.rmtree(d, ignore_errors=True)
        rows.append((label + " (req/s)", res["ferrite"], res["redis"]))
        print(f"{rows[-1][0]:<40} {res['ferrite']:>14.1f} {res['redis']:>14.1f}", flush=True)
    res_load, res_fork, res_save = {}, {}, {}
    for kind, exe in (("ferrite", a.ferrite), ("redis", a.redis)):
        d = tempfile.mkdtemp(prefix=f"bench-{kind}-")
        try:
            s = Srv(kind, exe, d, False, "no", a.threads).start()
            r = fill(s.port, a.keys)
            t0 = time.time()
            r.bgsave()
            wait_bgsave(r)
            res_save[kind] = time.time() - t0
            res_fork[kind] = r.info("persistence").get("latest_fork_usec") or \
                r.info("stats").get("latest_fork_usec")
            s.stop()
            t0 = time.time()
            s = Srv(kind, exe, d, False, "no", a.threads).start()
            # redis-server accepts connections while loading (-LOADING): poll until done
            c = redis.Redis(host="127.0.0.1", port=s.port, socket_timeout=60)
            while True:
                try:
                    if c.dbsize() == a.keys:
                        break
                except redis.exceptions.BusyLoadingError:
                    pass
                if time.time() - t0 > 300:
                    raise RuntimeError("load did not finish")
                time.sleep(0.005)
            res_load[kind] = time.time() - t0
            s.stop()
        finally:
            shutil.rmtree(d, ignore_errors=True)
    rows.append((f"BGSAVE {a.keys} keys (s)", res_save["ferrite"], res_save["redis"]))
    rows.append((f"fork latency {a.keys} keys (us)", res_fork["ferrite"], res_fork["redis"]))
    rows.append((f"start+load {a.keys}-key RDB (s)", res_load["ferrite"], res_load["redis"]))
    print(f"{'metric':<40} {'ferrite':>14} {'redis 7.0':>14} {'ratio':>8}")
    for name, f, r in rows:
        ratio = f / r if r else float("nan")
        print(f"{name:<40} {f:>14.3f} {r:>14.3f} {ratio:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
