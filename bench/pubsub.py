"""PUBLISH throughput to 1, 10 and 1,000 subscribers: ferrite vs redis-server 7.0.

Each server is pinned with taskset to one core (ferrite with --server.threads 1); the
publisher and the subscriber reader run on the other core. For each row the publisher
sends pipelined PUBLISH batches for a fixed time; a separate process holds every
subscriber socket and counts delivered messages by bytes (every message has the same
size). Prints ops/s (PUBLISH replies) and delivered msgs/s, with ferrite/redis ratios.

    /usr/bin/python3 bench/pubsub.py [path/to/ferrite-host] [--seconds 3]

Starts both servers itself on free 127.0.0.1 ports and stops them at the end.
"""
import argparse
import multiprocessing as mp
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAYLOAD = b"p" * 32
CHANNEL = b"bench"


def enc(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


MSG = enc(b"message", CHANNEL, PAYLOAD)  # the bytes a RESP2 subscriber receives


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d did not open" % port)


def start_servers(host_bin, core):
    d = tempfile.mkdtemp(prefix="bench-pubsub-")
    fp, rp = free_port(), free_port()
    ferrite = subprocess.Popen(
        ["taskset", "-c", str(core), host_bin, "--bind", "127.0.0.1", "--port", str(fp),
         "--server.threads", "1", "--persistence.dir", d, "--persistence.save", "",
         "--compatibility.memcached_port", str(free_port())],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=d)
    redis = subprocess.Popen(
        ["taskset", "-c", str(core), shutil.which("redis-server"), "--port", str(rp),
         "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", d],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(fp)
    wait_port(rp)
    return [("ferrite", fp, ferrite), ("redis", rp, redis)], d


def reader(port, n_subs, ready, stop, result):
    """Holds n_subs subscriber sockets; counts received bytes after the confirmations."""
    sel = selectors.DefaultSelector()
    socks = []
    confirm = enc(b"subscribe", CHANNEL)  # prefix; the count follows
    for _ in range(n_subs):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(enc(b"SUBSCRIBE", CHANNEL))
        got = b""
        while not got.endswith(b"\r\n") or got.count(b"\r\n") < 6:
            got += s.recv(100)
        assert got.startswith(b"*3\r\n$9\r\nsubscribe"), got
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    ready.set()
    total = 0
    closed = 0
    idle_since = None
    first = last = None
    while True:
        events = sel.select(timeout=0.2)
        if not events and stop.is_set():
            if idle_since is None:
                idle_since = time.time()
            if time.time() - idle_since > 0.5:
                break
            continue
        idle_since = None
        for key, _ in events:
            try:
                data = key.fileobj.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(key.fileobj)
                closed += 1
                continue
            total += len(data)
            last = time.time()
            first = first or last
    span = (last - first) if first and last and last > first else 1.0
    result.put((total // len(MSG), closed, span))
    for s in socks:
        s.close()


def publish_for(port, seconds, batch=200):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    req = enc(b"PUBLISH", CHANNEL, PAYLOAD) * batch
    n = 0
    buf = b""
    t0 = time.time()
    while time.time() - t0 < seconds:
        s.sendall(req)
        need = batch
        while need:
            buf += s.recv(1 << 16)
            lines = buf.count(b"\r\n")
            if lines >= need:
                # replies are ":<n>\r\n"; keep any tail
                parts = buf.split(b"\r\n")
                buf = b"\r\n".join(parts[need:])
                need = 0
        n += batch
    elapsed = time.time() - t0
    s.close()
    return n, elapsed


def run_row(port, n_subs, seconds):
    ready, stop = mp.Event(), mp.Event()
    result = mp.Queue()
    p = mp.Process(target=reader, args=(port, n_subs, ready, stop, result))
    p.start()
    if not ready.wait(60):
        raise RuntimeError("subscribers did not connect")
    n, elapsed = publish_for(port, seconds)
    stop.set()
    delivered, closed, span = result.get(timeout=120)
    p.join(30)
    # Delivered messages per second over the span from the first to the last byte the
    # subscribers received (deliveries may trail the publisher).
    return n / elapsed, delivered / span, closed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host", nargs="?", default=os.path.join(ROOT, "build", "release", "ferrite-host"))
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--subs", default="1,10,1000")
    args = ap.parse_args()
    args.host = os.path.abspath(args.host)
    ncpu = os.cpu_count() or 1
    server_core, client_core = 0, (1 if ncpu > 1 else 0)
    os.sched_setaffinity(0, {client_core})
    servers, d = start_servers(args.host, server_core)
    rows = []
    try:
        for n_subs in [int(x) for x in args.subs.split(",")]:
            row = {"subs": n_subs}
            for name, port, _ in servers:
                row[name] = run_row(port, n_subs, args.seconds)
            rows.append(row)
    finally:
        for _, _, proc in servers:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(d, ignore_errors=True)
    print("PUBLISH throughput, %d-byte payload, %.1fs per run, servers pinned to core %d"
          % (len(PAYLOAD), args.seconds, server_core))
    print("%6s | %12s %12s %6s | %14s %14s %6s | %s" % (
        "subs", "ferrite op/s", "redis op/s", "ratio", "ferrite msg/s", "redis msg/s",
        "ratio", "disconnected (f/r)"))
    for row in rows:
        f, r = row["ferrite"], row["redis"]
        print("%6d | %12.0f %12.0f %6.2f | %14.0f %14.0f %6.2f | %d/%d" % (
            row["subs"], f[0], r[0], f[0] / r[0] if r[0] else 0, f[1], r[1],
            f[1] / r[1] if r[1] else 0, f[2], r[2]))


if __name__ == "__main__":
    sys.exit(main())
