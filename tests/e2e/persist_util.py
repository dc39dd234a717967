"""Helpers for the persistence e2e tests: dataset builders and a canonical dump."""
import os
import shutil
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
