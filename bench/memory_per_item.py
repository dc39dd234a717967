#!/usr/bin/python3
"""Bytes of RSS per stored item: ferrite vs memcached (memcached protocol) and ferrite vs
redis-server 7.0 (RESP).

Each server is started fresh, pinned to core 0 (ferrite --server.threads 1, memcached
-m 4096 -t 1), and filled with --items items (default 1,000,000) of 16-byte keys and
100-byte values by pipelined `set` (memcached text) or `SET` (RESP) over one socket; every
reply is checked. Bytes per item = (VmRSS after - VmRSS before) / items, VmRSS read from
/proc/<pid>/status. The servers run one at a time so they do not compete for memory.

    /usr/bin/python3 bench/memory_per_item.py [--ferrite build/bench/ferrite-host]
        [--items 1000000] [--quick]
"""
import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

VALUE = b"v" * 100
BATCH = 1000


def key(i):
    return b"k%015d" % i  # 16 bytes


def mc_batch(start, n):
    return b"".join(b"set %s 0 0 %d\r\n%s\r\n" % (key(i), len(VALUE), VALUE)
                    for i in range(start, start + n))


def resp_batch(start, n):
    return b"".join(b"*3\r\n$3\r\nSET\r\n$16\r\n%s\r\n$%d\r\n%s\r\n" % (key(i), len(VALUE), VALUE)
                    for i in range(start, start + n))


def fill(port, items, make_batch, ok_reply):
    """Pipelined fill; raises unless every reply is exactly `ok_reply`."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        for start in range(0, items, BATCH):
            n = min(BATCH, items - start)
            s.sendall(make_batch(start, n))
            want = len(ok_reply) * n
            buf = b""
            while len(buf) < want:
                chunk = s.recv(want - len(buf))
                if not chunk:
                    raise RuntimeError("server closed the connection during the fill")
                buf += chunk
            if buf != ok_reply * n:
                raise RuntimeError("unexpected reply during the fill: %r" % buf[:200])
    finally:
        s.close()


def count_items_mc(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"stats\r\n")
    buf = b""
    while not buf.endswith(b"END\r\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    for line in buf.split(b"\r\n"):
        if line.startswith(b"STAT curr_items "):
            return int(line.split()[2])
    return -1


def measure(server, port, items, make_batch, ok_reply):
    time.sleep(0.3)  # let startup allocations settle before the baseline
    before = server.rss_bytes()
    t0 = time.time()
    fill(port, items, make_batch, ok_reply)
    elapsed = time.time() - t0
    time.sleep(0.3)
    after = server.rss_bytes()
    return (after - before) / items, before, after, elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ferrite", default=benchlib.default_host())
    ap.add_argument("--items", type=int, default=1000000)
    ap.add_argument("--quick", action="store_true", help="100,000 items (smoke run)")
    args = ap.parse_args()
    if args.quick:
        args.items = 100000
    host = os.path.abspath(args.ferrite)
    cases = [  # (label, starter, port attribute, batch maker, reply)
        ("ferrite (memcached text)", lambda: benchlib.start_ferrite(host), "mc_port",
         mc_batch, b"STORED\r\n"),
        ("memcached -m 4096 -t 1", lambda: benchlib.start_memcached(4096), "port",
         mc_batch, b"STORED\r\n"),
        ("ferrite (RESP)", lambda: benchlib.start_ferrite(host, memcached=False), "port",
         resp_batch, b"+OK\r\n"),
        ("redis-server 7.0", benchlib.start_redis, "port", resp_batch, b"+OK\r\n"),
    ]
    print(benchlib.load_note())
    rows = []
    for label, starter, attr, make_batch, ok in cases:
        with benchlib.servers(starter) as (server,):
            per, before, after, elapsed = measure(server, getattr(server, attr), args.items,
                                                  make_batch, ok)
            if "memcached" in label and attr == "port":
                stored = count_items_mc(server.port)
                if stored != args.items:
                    raise RuntimeError("memcached holds %d items, not %d" % (stored, args.items))
            rows.append((label, per, before, after, elapsed))
    print("%d items, 16-byte keys, 100-byte values; bytes = VmRSS delta / items" % args.items)
    print("| server | RSS before MiB | RSS after MiB | bytes/item | fill s |")
    print("|---|---:|---:|---:|---:|")
    for label, per, before, after, elapsed in rows:
        print("| %s | %.1f | %.1f | %.1f | %.1f |" % (label, before / 2**20, after / 2**20, per,
                                                    elapsed))
    by = {r[0]: r[1] for r in rows}
    print("ratio ferrite/memcached (memcached protocol): %.2f" % benchlib.ratio(
        by["ferrite (memcached text)"], by["memcached -m 4096 -t 1"]))
    print("ratio ferrite/redis (RESP): %.2f" % benchlib.ratio(by["ferrite (RESP)"],
                                                             by["redis-server 7.0"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
