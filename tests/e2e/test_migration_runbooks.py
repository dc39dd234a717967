"""The runbooks of docs/migration.md that route traffic or move Redis users, run end to
end: gradual routing with twemproxy (nutcracker) in front of a memcached and a Ferrite,
then the memcached removed after an import; and a takeover from a live redis-server with
REPLICAOF under a write load, then REPLICAOF NO ONE or FAILOVER on the Redis side, every
key and TTL checked. (The
import and mirror runbooks are tests/e2e/test_migrate_memcached.py and
test_mirror_writes.py.)"""
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import free_port, wait_for, wait_port
from migrate_util import Memcached, mg_many, run_migrate
from repl_util import RedisProc, wait_caught_up, wait_link_up


class Nutcracker:
    """twemproxy with one memcached pool over `servers` (host:port strings)."""

    def __init__(self, servers, port=None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="nutcracker-")
        conf = os.path.join(self.dir, "nutcracker.yml")
        with open(conf, "w") as f:
            f.write("cache:\n"
                    f"  listen: 127.0.0.1:{self.port}\n"
                    "  hash: fnv1a_64\n"
                    "  distribution: ketama\n"
                    "  timeout: 2000\n"
                    "  auto_eject_hosts: false\n"
                    "  servers:\n" +
                    "".join(f"   - {s}:1 {name}\n" for s, name in servers))
        exe = shutil.which("nutcracker")
        assert exe, "nutcracker (twemproxy) is not installed"
        self.proc = subprocess.Popen([exe, "-c", conf, "-o", os.path.join(self.dir, "log"),
                                      "-s", str(free_port()), "-a", "127.0.0.1"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def client(port):
    from pymemcache.client.base import Client
    return Client(("127.0.0.1", port), connect_timeout=5, timeout=10)


def test_twemproxy_routes_between_memcached_and_ferrite_then_memcached_is_removed(mc_server):
    old = Memcached(memory_mb=64)
    proxies = []
    try:
        both = Nutcracker([(f"127.0.0.1:{old.port}", "old"), (f"127.0.0.1:{mc_server.mc_port}", "ferrite")])
        proxies.append(both)
        c = client(both.port)
        keys = [b"user:%d" % i for i in range(2000)]
        for i, k in enumerate(keys):
            assert c.set(k, b"v%d" % i, expire=3600 if i % 2 else 0, flags=i % 7, noreply=False)
        # Consistent hashing splits the keys between the two; each key lives on one.
        on_old = mg_many(old.port, keys)
        on_ferrite = mg_many(mc_server.mc_port, keys)
        assert not set(on_old) & set(on_ferrite)
        assert len(on_old) + len(on_ferrite) == 2000
        assert 500 < len(on_old) < 1500, len(on_old)
        for i, k in enumerate(keys):
            assert c.get(k) == b"v%d" % i
        c.close()

        # Removal: import the old server's share into Ferrite, then route everything there.
        r = run_migrate("--from", f"memcached://127.0.0.1:{old.port}", "--to",
                        f"127.0.0.1:{mc_server.mc_port}")
        assert r.returncode == 0, r.stdout + r.stderr
        both.stop()
        proxies.remove(both)
        only = Nutcracker([(f"127.0.0.1:{mc_server.mc_port}", "ferrite")], port=both.port)
        proxies.append(only)
        old.stop(hard=True)
        c = client(only.port)
        for i, k in enumerate(keys):
            assert c.get(k) == b"v%d" % i, k
        got = mg_many(mc_server.mc_port, keys)
        for i, k in enumerate(keys):
            assert got[k][1] == i % 7 and ((got[k][2] == -1) if i % 2 == 0 else 3590 < got[k][2] <= 3600)
        c.close()
    finally:
        for p in proxies:
            p.stop()
        old.stop(hard=True)


class RedisWriter(threading.Thread):
    """An application writing to redis-server: strings with and without TTLs, counters,
    lists, hashes, sets, sorted sets, deletes; stops when told, or when the server
    answers READONLY (it became a replica: `demoted`)."""

    def __init__(self, port):
        super().__init__(daemon=True)
        import redis
        self.r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
        self.stop_event = threading.Event()
        self.rnd = random.Random(3)
        self.ops = 0
        self.error = None
        self.demoted = False

    def run(self):
        import redis
        try:
            while not self.stop_event.is_set():
                p = self.r.pipeline(transaction=False)
                for _ in range(20):
                    n = self.rnd.randrange(5000)
                    op = self.rnd.randrange(7)
                    if op == 0:
                        p.set(f"s:{n}", self.rnd.randbytes(self.rnd.randrange(200)), ex=self.rnd.randrange(100, 10_000))
                    elif op == 1:
                        p.incr(f"c:{n % 100}")
                    elif op == 2:
                        p.rpush(f"l:{n % 200}", n)
                    elif op == 3:
                        p.hset(f"h:{n % 200}", f"f{n}", n)
                    elif op == 4:
                        p.zadd(f"z:{n % 200}", {f"m{n}": n})
                    elif op == 5:
                        p.sadd(f"set:{n % 200}", n)
                    else:
                        p.delete(f"s:{n}")
                p.execute()
                self.ops += 20
        except redis.exceptions.ReadOnlyError:
            self.demoted = True
        except Exception as e:
            self.error = e


def snapshot(r):
    """{key: (type, value, absolute expiry in ms or -1)} of db 0, read with a pipeline.
    PEXPIRETIME, not PTTL: two snapshots taken a second apart then agree exactly."""
    keys = r.keys("*")
    p = r.pipeline(transaction=False)
    for k in keys:
        p.type(k)
        p.execute_command("PEXPIRETIME", k)
    meta = p.execute()
    p = r.pipeline(transaction=False)
    for i, k in enumerate(keys):
        t = meta[2 * i].decode()
        {"string": lambda: p.get(k), "list": lambda: p.lrange(k, 0, -1),
         "hash": lambda: p.hgetall(k), "set": lambda: p.smembers(k),
         "zset": lambda: p.zrange(k, 0, -1, withscores=True)}[t]()
    values = p.execute()
    return {k: (meta[2 * i], values[i], meta[2 * i + 1]) for i, k in enumerate(keys)}


def load_before_takeover(rp):
    p = rp.pipeline(transaction=False)
    for i in range(20_000):  # a data set before the takeover starts
        if i % 3 == 0:
            p.set(f"pre:{i}", f"v{i}", ex=1000 + i)
        else:
            p.set(f"pre:{i}", f"v{i}")
        if i % 1000 == 999:
            p.execute()
    p.hset("pre:hash", mapping={f"f{i}": i for i in range(500)})
    p.execute()


def test_redis_takeover_with_failover_under_write_load(server_factory):
    """The runbook's other switch: FAILOVER on the redis-server while the application
    still writes there. Redis pauses writes, waits for Ferrite to catch up, hands it the
    primary role (PSYNC FAILOVER) and follows it; the application's next write meets
    READONLY and moves to Ferrite. Redis keeps its data set and continues from Ferrite's
    stream (a partial resync), so equal data sets afterwards mean Ferrite lost nothing."""
    primary = RedisProc().start()
    try:
        rp = primary.redis()
        load_before_takeover(rp)
        writer = RedisWriter(primary.port)
        writer.start()
        ferrite = server_factory()
        f = ferrite.redis()
        try:
            wait_for(lambda: writer.ops > 200 or writer.error, timeout=20, what="writer running")
            assert f.execute_command("REPLICAOF", "127.0.0.1", str(primary.port)) == b"OK"
            wait_link_up(f)
            ops_at_link = writer.ops
            wait_for(lambda: writer.ops > ops_at_link + 2000 or writer.error, timeout=30,
                     what="writes while replicating")
            assert rp.execute_command("FAILOVER", "TO", "127.0.0.1", ferrite.port,
                                      "TIMEOUT", 10000) == b"OK"
            wait_for(lambda: writer.demoted or writer.error or not writer.is_alive(),
                     timeout=30, what="the application's writes refused by the old primary")
        finally:
            writer.stop_event.set()
            writer.join(30)
        assert writer.error is None and writer.demoted, writer.error
        info = lambda r, s="replication": r.info(s)
        wait_for(lambda: info(f)["role"] == "master" and info(rp)["role"] == "slave" and
                 info(rp).get("master_link_status") == "up" and
                 info(rp)["master_failover_state"] == "no-failover", 20, "roles swapped")
        assert f.set("after:promotion", "ok")
        wait_caught_up(f, rp)
        assert info(f, "stats")["sync_full"] == 0   # Redis continued: no full resync
        before, after = snapshot(rp), snapshot(f)
        assert len(after) > 20_000 and after == before
        assert sum(1 for _, _, at in after.values() if at > 0) > 6000
    finally:
        primary.cleanup()


def test_redis_takeover_with_replicaof_under_write_load(server_factory):
    primary = RedisProc().start()
    try:
        rp = primary.redis()
        load_before_takeover(rp)
        writer = RedisWriter(primary.port)
        writer.start()
        ferrite = server_factory()
        f = ferrite.redis()
        try:
            wait_for(lambda: writer.ops > 200 or writer.error, timeout=20, what="writer running")
            assert f.execute_command("REPLICAOF", "127.0.0.1", str(primary.port)) == b"OK"
            wait_link_up(f)
            ops_at_link = writer.ops
            wait_for(lambda: writer.ops > ops_at_link + 2000 or writer.error, timeout=30,
                     what="writes while replicating")
        finally:
            # The switch: the application stops writing to Redis ...
            writer.stop_event.set()
            writer.join(30)
        assert writer.error is None, writer.error
        wait_caught_up(rp, f)
        before = snapshot(rp)
        # ... Ferrite is promoted, and the application writes to it from now on.
        assert f.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
        assert f.execute_command("ROLE")[0] == b"master"
        after = snapshot(f)
        assert set(after) == set(before)
        assert len(before) > 20_000
        for k, (t, v, at) in before.items():
            assert after[k] == (t, v, at), k  # value and TTL (the same absolute deadline)
        assert sum(1 for _, _, at in before.values() if at > 0) > 6000
        assert f.set("after:promotion", "ok") and f.get("after:promotion") == b"ok"
    finally:
        primary.cleanup()
