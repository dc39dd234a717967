"""Bytes per element of each data type, ferrite vs redis-server 7.0, side by side.

Each row fills K keys of N elements and divides the INFO memory `used_memory` delta by
K*N (so per-key overhead is spread over the elements, as a user would see it).
List and hash rows live here (owner: lists-hashes); set and zset rows come from
bench/memory_sets_zsets.py (owner: sets-zsets) -- keep one function per type.

    /usr/bin/python3 bench/memory_types.py [path/to/ferrite-host]

Starts both servers itself on free 127.0.0.1 ports and stops them at the end.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port, proc, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


def used_memory(r):
    return int(r.info("memory")["used_memory"])


def _fill(r, keys, n, one):
    p = r.pipeline(transaction=False)
    for k in range(keys):
        one(p, f"bench:{k}", n)
        if k % 50 == 49:
            p.execute()
    p.execute()


# --- lists (lists-hashes) ------------------------------------------------------------

def _list(p, key, n):
    for i in range(0, n, 1000):
        p.rpush(key, *[f"value:{j}" for j in range(i, min(n, i + 1000))])


# --- hashes (lists-hashes) -----------------------------------------------------------

def _hash(p, key, n):
    for i in range(0, n, 1000):
        p.hset(key, mapping={f"field:{j}": f"value:{j}" for j in range(i, min(n, i + 1000))})


LIST_HASH_ROWS = [
    ("list listpack    n=10", _list, 10, 2000),
    ("list quicklist   n=10000", _list, 10000, 10),
    ("hash listpack    n=10", _hash, 10, 2000),
    ("hash hashtable   n=10000", _hash, 10000, 10),
]


def all_rows():
    rows = list(LIST_HASH_ROWS)
    try:
        from memory_sets_zsets import SET_ZSET_ROWS
        rows += SET_ZSET_ROWS
    except ImportError:
        pass
    return rows


def measure(r, fill, n, keys):
    r.flushall()
    time.sleep(0.05)
    before = used_memory(r)
    _fill(r, keys, n, fill)
    after = used_memory(r)
    enc = r.object("encoding", "bench:0")
    r.flushall()
    return (after - before) / (keys * n), enc.decode() if enc else "?"


def main():
    host_bin = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "FERRITE_HOST", os.path.join(HERE, "..", "build", "release", "ferrite-host"))
    d = tempfile.mkdtemp(prefix="memtypes-")
    fp, rp = _free_port(), _free_port()
    ferrite = subprocess.Popen([host_bin, "--bind", "127.0.0.1", "--port", str(fp),
                                "--compatibility.memcached_port", str(_free_port()),
                                "--persistence.dir", d, "--persistence.save", ""],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=d)
    peer = subprocess.Popen(["redis-server", "--port", str(rp), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", d],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(fp, ferrite)
        _wait(rp, peer)
        fr = redis.Redis(port=fp, socket_timeout=60)
        rr = redis.Redis(port=rp, socket_timeout=60)
        print(f"{'row':26} {'ferrite B/elem':>15} {'redis B/elem':>13} {'ratio':>6}  encodings")
        for name, fill, n, keys in all_rows():
            fb, fe = measure(fr, fill, n, keys)
            rb, re_ = measure(rr, fill, n, keys)
            print(f"{name:26} {fb:15.1f} {rb:13.1f} {fb / rb:6.2f}  {fe} / {re_}")
    finally:
        for p in (ferrite, peer):
            p.terminate()
            p.wait(10)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
