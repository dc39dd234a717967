"""Helpers for the persistence e2e tests: dataset builders and a canonical dump."""
import os
import shutil
import struct
import subprocess
import tempfile
import time

import redis

from conftest import free_port, wait_port


def wait_log(server, text, timeout=10):
    """The server log is flushed asynchronously: poll it for `text`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in server.log_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in the log:\n{server.log_text()[-3000:]}")


def populate(r, dbs=16, big=True):
    """Every type Redis 7.0 writes, small (listpack/intset) and large encodings, with
    expiries, in every db. Values are deterministic."""
    for db in range(dbs):
        c = redis.Redis(host=r.connection_pool.connection_kwargs["host"],
                        port=r.connection_pool.connection_kwargs["port"], db=db)
        p = c.pipeline(transaction=False)
        p.set(f"s{db}", f"hello-{db}")
        p.set(f"int{db}", 12345 + db)
        p.set(f"neg{db}", -7)
        p.set(f"big{db}", 9223372036854775807)
        p.set(f"lzf{db}", "abc" * 200)
        p.set(f"bin{db}", b"\x00\xff\r\n" * 3)
        p.set(f"ttl{db}", "v", px=50_000_000 + db)
        p.rpush(f"l{db}", "a", "b", "1", "-2", "x" * 100)
        p.sadd(f"iset{db}", 1, 2, 3, -4)
        p.sadd(f"sset{db}", "x", "y", "z")
        p.hset(f"h{db}", mapping={"f1": "v1", "f2": "2", "f3": "x" * 70})
        p.hset(f"hs{db}", mapping={"a": "1", "b": "two"})
        p.zadd(f"z{db}", {"a": 1.5, "b": -2, "c": float("inf"), "d": 3})
        p.pexpire(f"h{db}", 60_000_000)
        if big and db in (0, 5, 15):
            p.rpush(f"biglist{db}", *[f"e{i}" for i in range(3000)])
            p.rpush(f"hugeelem{db}", "y" * 20000, "small")
            p.sadd(f"bigiset{db}", *range(1000))
            p.sadd(f"bigset{db}", *[f"m{i}" for i in range(500)])
            p.hset(f"bighash{db}", mapping={f"f{i}": f"v{i}" for i in range(500)})
            p.zadd(f"bigzset{db}", {f"m{i}": i * 0.5 for i in range(500)})
            p.set(f"bigstr{db}", "q" * 100_000)
        p.execute()


def dump(r, dbs=16):
    """{(db, key): (type, value, pexpiretime)} for every key."""
    out = {}
    host = r.connection_pool.connection_kwargs["host"]
    port = r.connection_pool.connection_kwargs["port"]
    for db in range(dbs):
        c = redis.Redis(host=host, port=port, db=db, socket_timeout=30)
        for k in c.keys("*"):
            t = c.type(k).decode()
            if t == "string":
                v = c.get(k)
            elif t == "list":
                v = c.lrange(k, 0, -1)
            elif t == "set":
                v = sorted(c.smembers(k))
            elif t == "hash":
                v = sorted(c.hgetall(k).items())
            elif t == "zset":
                v = c.zrange(k, 0, -1, withscores=True)
            else:
                v = None
            out[(db, k)] = (t, v, c.pexpiretime(k))
    return out


class RedisPeer:
    """redis-server 7.0 in its own directory, so tests control its dump.rdb."""

    def __init__(self, workdir=None, extra=()):
        self.dir = workdir or tempfile.mkdtemp(prefix="redis-persist-")
        self.port = free_port()
        self.extra = list(extra)
        self.proc = None

    def start(self):
        self.log = os.path.join(self.dir, "redis.log")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--logfile", self.log] + self.extra,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)
        return self

    def redis(self, db=0):
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- hand-built RDB files (for encodings our writer never produces) ------------------------

def _crc64_table():
    poly = 0x95AC9329AC4BC9B5  # Redis' crc64 (Jones, 0xad93d23594c935a9), reflected
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC64 = _crc64_table()


def crc64(data, crc=0):
    """Redis' RDB checksum (src/crc64.c): crc64(b"123456789") == 0xe9c6d914c4b8d9ca."""
    for b in data:
        crc = _CRC64[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def _lp_entry(item):
    """One listpack entry as Redis' lpAppend stores it: canonical integers as integers."""
    s = item if isinstance(item, bytes) else str(item).encode()
    try:
        v = int(s)
        is_int = str(v).encode() == s and -2**63 <= v < 2**63
    except ValueError:
        is_int = False
    if is_int and 0 <= v <= 127:
        e = bytes([v])
    elif is_int and -4096 <= v <= 4095:
        u = v & 0x1FFF
        e = bytes([0xC0 | (u >> 8), u & 0xFF])
    elif is_int:
        for code, width in ((0xF1, 2), (0xF2, 3), (0xF3, 4), (0xF4, 8)):
            if -2**(8 * width - 1) <= v < 2**(8 * width - 1):
                e = bytes([code]) + (v & (2**(8 * width) - 1)).to_bytes(width, "little")
                break
    elif len(s) < 64:
        e = bytes([0x80 | len(s)]) + s
    elif len(s) < 4096:
        e = bytes([0xE0 | (len(s) >> 8), len(s) & 0xFF]) + s
    else:
        e = b"\xf0" + struct.pack("<I", len(s)) + s
    n, back = len(e), []
    while True:  # backlen: 7-bit groups, read backwards by the listpack's reverse walk
        back.append(n & 0x7F)
        n >>= 7
        if not n:
            break
    back = [b | (0x80 if i < len(back) - 1 else 0) for i, b in enumerate(back)][::-1]
    return e + bytes(back)


def listpack(items):
    body = b"".join(_lp_entry(i) for i in items)
    return struct.pack("<IH", 6 + len(body) + 1, min(len(items), 65535)) + body + b"\xff"


def rdb_string(s):
    """A raw RDB string (length-prefixed, never int- or LZF-encoded)."""
    n = len(s)
    if n < 64:
        head = bytes([n])
    elif n < 16384:
        head = bytes([0x40 | (n >> 8), n & 0xFF])
    else:
        head = b"\x80" + struct.pack(">I", n)
    return head + s


def rdb_file(body, version=12):
    """REDIS<version>, db 0, `body` (type/key/value records), EOF and the CRC64."""
    data = b"REDIS%04d" % version + b"\xfe\x00" + body + b"\xff"
    return data + struct.pack("<Q", crc64(data))
