"""RSS after a change of value sizes under maxmemory: ferrite-host vs redis-server 7.0.

The scenario (issue 12, defect 11d): with maxmemory 50 MB and allkeys-lru, write 300 MB
of 1 KB values (the server evicts all along), FLUSHALL, then write 60 MB of 50-byte
values. The freed 1 KB slots are useless to the small values, so what the process keeps
is fragmentation: the row reports VmRSS / maxmemory once the writes are done (and after
the allocator had `--settle` seconds to return pages), plus INFO memory's own view.

    /usr/bin/python3 bench/memory_fragmentation.py [ferrite-host] [--scale 1.0] [--settle 12]

`run_scenario` is also the body of tests/e2e/test_memory.py's fragmentation test.
"""
import argparse
import socket
import threading
import time

MB = 1 << 20


def _pipeline_sets(port, prefix, value, count, conns=4, batch=1000):
    """SETs prefix:0..count-1 to `value` over `conns` raw sockets at once (as a load
    generator with several clients does: a multi-threaded server serves them from
    several threads), `batch` commands in flight on each; every reply must be +OK
    (eviction keeps room: no -OOM)."""
    errors = []

    def run(lo, hi):
        try:
            _pipeline_range(port, prefix, value, lo, hi, batch)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    step = (count + conns - 1) // conns
    threads = [threading.Thread(target=run, args=(lo, min(lo + step, count)))
               for lo in range(0, count, step)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    if errors:
        raise errors[0]


def _pipeline_range(port, prefix, value, lo, hi, batch):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = b"*3\r\n$3\r\nSET\r\n"
    tail = b"$%d\r\n%s\r\n" % (len(value), value)
    i = lo
    try:
        while i < hi:
            n = min(batch, hi - i)
            parts = []
            for j in range(i, i + n):
                k = b"%s:%d" % (prefix, j)
                parts.append(b"%s$%d\r\n%s\r\n%s" % (head, len(k), k, tail))
            s.sendall(b"".join(parts))
            want = 5 * n
            got = bytearray()
            while len(got) < want:
                chunk = s.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("server closed the connection")
                got += chunk
            if bytes(got) != b"+OK\r\n" * n:
                bad = bytes(got).replace(b"+OK\r\n", b"")
                raise RuntimeError("unexpected reply: %r" % bad[:200])
            i += n
    finally:
        s.close()


def _info_memory(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"*2\r\n$4\r\nINFO\r\n$6\r\nmemory\r\n")
    data = b""
    while b"\r\n" not in data:
        data += s.recv(65536)
    while len(data) < _bulk_len(data):
        data += s.recv(65536)
    s.close()
    out = {}
    for line in data.decode().splitlines()[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def _bulk_len(data):
    """Total bytes of a RESP2 bulk reply whose header is in `data`."""
    head, _, _ = data.partition(b"\r\n")
    return len(head) + 2 + int(head[1:]) + 2


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def run_scenario(port, pid, maxmemory, scale=1.0, settle=12.0, target=None):
    """Runs the scenario on a server already configured with `maxmemory` bytes and
    allkeys-lru. Returns (rss / maxmemory, INFO memory). With `target`, stops waiting
    for the allocator as soon as the ratio is at or under it."""
    big = int(300 * MB * scale) // 1024
    small = int(60 * MB * scale) // 50
    _pipeline_sets(port, b"big", b"B" * 1024, big)
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(b"*1\r\n$8\r\nFLUSHALL\r\n")
    assert s.recv(100) == b"+OK\r\n"
    s.close()
    _pipeline_sets(port, b"small", b"s" * 50, small)
    deadline = time.time() + settle
    ratio = rss_bytes(pid) / maxmemory
    while time.time() < deadline and (target is None or ratio > target):
        time.sleep(0.5)
        ratio = rss_bytes(pid) / maxmemory
    return ratio, _info_memory(port)


def main():
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from benchlib import default_host, start_ferrite, start_redis

    ap = argparse.ArgumentParser()
    ap.add_argument("host", nargs="?", default=default_host())
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--settle", type=float, default=12.0)
    a = ap.parse_args()
    maxmemory = 50 * MB
    rows = []
    for name in ("ferrite", "redis"):
        if name == "ferrite":
            srv = start_ferrite(a.host, memcached=False,
                                extra=["--storage.max_memory", "50mb",
                                       "--storage.eviction_policy", "allkeys-lru"])
        else:
            srv = start_redis()
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            s.sendall(b"*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$9\r\nmaxmemory\r\n$4\r\n50mb\r\n"
                      b"*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$16\r\nmaxmemory-policy\r\n"
                      b"$11\r\nallkeys-lru\r\n")
            time.sleep(0.2)
            s.close()
        try:
            t0 = time.time()
            ratio, info = run_scenario(srv.port, srv.pid, maxmemory, a.scale, a.settle)
            rows.append((name, ratio, info, time.time() - t0))
        finally:
            srv.stop()
    print("| server | RSS / maxmemory | used_memory MiB | mem_fragmentation_ratio | "
          "allocator_frag_ratio | allocator | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name, ratio, info, secs in rows:
        print("| %s | %.2f | %.1f | %s | %s | %s | %.0f |" % (
            name, ratio, int(info.get("used_memory", 0)) / MB,
            info.get("mem_fragmentation_ratio"), info.get("allocator_frag_ratio"),
            info.get("mem_allocator"), secs))


if __name__ == "__main__":
    main()
