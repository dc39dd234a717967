"""Helpers for the migration tests: a real memcached with chosen options, bulk loads over
raw sockets, side-by-side reads of value, flags and TTL, and ferrite-migrate runs."""
import os
import shutil
import socket
import struct
import subprocess
import time

from conftest import ROOT, free_port, wait_port


def migrate_binary():
    host = os.environ.get("FERRITE_HOST") or os.path.join(ROOT, "build", "release", "ferrite-host")
    return os.path.join(os.path.dirname(host), "ferrite-migrate")


class Memcached:
    """memcached 1.6 on a free loopback port; stop() kills it (SIGKILL with hard=True)."""

    def __init__(self, *args, port=None, memory_mb=256):
        self.port = port or free_port()
        self.args = list(args)
        self.memory_mb = memory_mb
        self.proc = None
        self.start()

    def start(self):
        exe = shutil.which("memcached")
        self.proc = subprocess.Popen([exe, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0",
                                      "-t", "2", "-m", str(self.memory_mb), "-u", "root"] + self.args,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)
        return self

    def stop(self, hard=False):
        if self.proc and self.proc.poll() is None:
            self.proc.kill() if hard else self.proc.terminate()
            self.proc.wait(10)


def recv_until(sock, end, timeout=30):
    sock.settimeout(timeout)
    data = b""
    while not data.endswith(end):
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError(f"closed after {data[-200:]!r}")
        data += chunk
    return data


def text_key(key):
    return all(32 < b < 127 for b in key)


def load_items(port, items):
    """items: [(key bytes, value bytes, flags, exptime)]. Text keys go through pipelined
    `set ... noreply` on one connection, others through binary-protocol SETQ on another
    (memcached picks a connection's protocol by its first byte)."""
    text = [i for i in items if text_key(i[0])]
    binary = [i for i in items if not text_key(i[0])]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        for n in range(0, len(text), 2000):
            s.sendall(b"".join(b"set %s %d %d %d noreply\r\n%s\r\n" % (k, f, e, len(v), v)
                               for k, v, f, e in text[n:n + 2000]))
        s.sendall(b"mn\r\n")
        assert recv_until(s, b"MN\r\n") == b"MN\r\n"  # no error before it
    if binary:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            buf = []
            for key, value, flags, exp in binary:
                body = struct.pack(">II", flags, exp) + key + value
                buf.append(struct.pack(">BBHBBHIIQ", 0x80, 0x11, len(key), 8, 0, 0, len(body), 0, 0)
                           + body)
            # NOOP answers after every quiet set before it, which answer only on error.
            s.sendall(b"".join(buf) + struct.pack(">BBHBBHIIQ", 0x80, 0x0a, 0, 0, 0, 0, 0, 0, 0))
            data = b""
            s.settimeout(30)
            while len(data) < 24:
                data += s.recv(65536)
            assert data[1] == 0x0a and len(data) == 24, data[:200]


def b64(key):
    import base64
    return base64.b64encode(key)


def mg_many(port, keys, batch=1000):
    """{key: (value, flags, ttl)} for the keys present (ttl -1 = none), read with
    `mg <key> v f t` in pipelined batches."""
    out = {}
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.settimeout(30)
        f = s.makefile("rb")
        for i in range(0, len(keys), batch):
            chunk = keys[i:i + batch]
            s.sendall(b"".join(b"mg %s v f t\r\n" % k if text_key(k) else b"mg %s b v f t\r\n" % b64(k)
                               for k in chunk))
            for k in chunk:
                line = f.readline()
                if line == b"EN\r\n":
                    continue
                parts = line.split()
                assert parts[0] == b"VA", line
                size = int(parts[1])
                flags = ttl = None
                for p in parts[2:]:
                    if p.startswith(b"f"):
                        flags = int(p[1:])
                    elif p.startswith(b"t"):
                        ttl = int(p[1:])
                value = f.read(size + 2)[:-2]
                out[k] = (value, flags, ttl)
    return out


def metadump(port):
    """{key: exp} from memcached's `lru_crawler metadump all`: each item's expiry as memcached
    records it, a Unix time (-1: none)."""
    from urllib.parse import unquote_to_bytes
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"lru_crawler metadump all\r\n")
        data = recv_until(s, b"END\r\n")
    out = {}
    for line in data.split(b"\n"):
        if line.startswith(b"key="):
            fields = dict(f.split(b"=", 1) for f in line.split(b" ") if b"=" in f)
            out[unquote_to_bytes(fields[b"key"])] = int(fields[b"exp"])
    return out


def metadump_keys(port):
    return list(metadump(port))


def pexpiretimes(resp_port, keys, batch=2000):
    """{key: PEXPIRETIME} over RESP (-1: no expiry, -2: no key)."""
    import redis
    r = redis.Redis(host="127.0.0.1", port=resp_port, socket_timeout=30)
    out = {}
    for i in range(0, len(keys), batch):
        p = r.pipeline(transaction=False)
        for k in keys[i:i + batch]:
            p.execute_command("PEXPIRETIME", k)
        out.update(zip(keys[i:i + batch], p.execute()))
    r.close()
    return out


def run_migrate(*args, timeout=300, **kw):
    return subprocess.run([migrate_binary()] + [str(a) for a in args], capture_output=True,
                          timeout=timeout, **kw)


def summary(stdout):
    """The summary's counters: {"copied": n, "skipped, present": n, ...}."""
    import re
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^  (\S.*?)\s{2,}(\d+)", stdout.decode(), re.M)}
