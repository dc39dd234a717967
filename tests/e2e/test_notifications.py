"""Keyspace notifications (CONFIG SET notify-keyspace-events KEA) seen through
python3-redis pubsub, side by side with redis-server 7.0 where Redis can do the same
thing, and against hand-written expectations for expiry, eviction and memcached writes."""
import socket
import time

import pytest
import redis as redis_lib


class Events:
    """A pattern subscriber on __key*__:* plus a sentinel channel: collect() runs an
    action and returns every (channel, data) event up to the sentinel it publishes."""

    def __init__(self, port, db=0):
        self.r = redis_lib.Redis(port=port, socket_timeout=10, db=db)
        self.ps = redis_lib.Redis(port=port, socket_timeout=10).pubsub()
        self.ps.psubscribe("__key*__:*")
        self.ps.subscribe("sentinel")
        for _ in range(2):
            assert self.ps.get_message(timeout=5) is not None

    def collect(self, action=None, timeout=5.0):
        if action:
            action(self.r)
        self.r.publish("sentinel", "end")
        out = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.ps.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if m is None:
                continue
            if m["channel"] == b"sentinel":
                return out
            out.append((m["channel"].decode(), m["data"].decode()))
        raise AssertionError("sentinel not seen; got %r" % out)

    def wait_for(self, want, timeout=5.0):
        """Events until `want` (a (channel, data) pair) has been seen (active expiry)."""
        out = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.ps.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if m is None or m["channel"] == b"sentinel":
                continue
            out.append((m["channel"].decode(), m["data"].decode()))
            if out[-1] == want:
                return out
        raise AssertionError("%r not seen; got %r" % (want, out))

    def close(self):
        self.ps.close()


def kspace(key, event, db=0):
    return [("__keyspace@%d__:%s" % (db, key), event), ("__keyevent@%d__:%s" % (db, event), key)]


def notify_on(port):
    r = redis_lib.Redis(port=port, socket_timeout=10)
    r.config_set("notify-keyspace-events", "KEA")
    return Events(port)


def module_missing(r, probe):
    try:
        r.execute_command(*probe)
    except redis_lib.ResponseError as e:
        if "unknown command" in str(e):
            return True
    return False


SIDE_BY_SIDE = [
    ("set", [("SET", "k", "v")], None),
    ("set_ex", [("SET", "k", "v", "EX", "100")], None),
    ("del", [("SET", "k", "v"), ("DEL", "k")], None),
    ("expire", [("SET", "k", "v"), ("EXPIRE", "k", "100"), ("PERSIST", "k")], None),
    ("incrby", [("INCRBY", "n", "5"), ("INCRBYFLOAT", "n", "1.5")], None),
    ("append", [("APPEND", "s", "x"), ("SETRANGE", "s", "3", "y")], None),
    ("rename", [("SET", "a", "1"), ("RENAME", "a", "b")], None),
    ("lpush", [("LPUSH", "l", "x", "y"), ("RPOP", "l"), ("LPOP", "l")], ("LLEN", "l")),
    ("hset", [("HSET", "h", "f", "v"), ("HDEL", "h", "f")], ("HLEN", "h")),
    ("sadd", [("SADD", "s1", "a"), ("SREM", "s1", "a")], ("SCARD", "s1")),
    ("zadd", [("ZADD", "z", "1", "a"), ("ZINCRBY", "z", "2", "a"), ("ZREM", "z", "a")],
     ("ZCARD", "z")),
]


@pytest.mark.parametrize("name,commands,probe", SIDE_BY_SIDE, ids=[c[0] for c in SIDE_BY_SIDE])
def test_events_match_redis(server, redis_server, name, commands, probe):
    results = []
    for port in (server.port, redis_server.port):
        ev = notify_on(port)
        if probe and module_missing(ev.r, probe):
            pytest.skip("the module serving %s is not loaded in ferrite-host" % probe[0])

        def run(r):
            for c in commands:
                r.execute_command(*c)

        results.append(ev.collect(run))
        ev.close()
    assert results[0] == results[1]
    assert results[0], "no events at all"


def test_set_event_exact(server):
    ev = notify_on(server.port)
    assert ev.collect(lambda r: r.set("foo", "bar")) == kspace("foo", "set")
    ev.close()


def test_rename_from_to(server):
    ev = notify_on(server.port)
    ev.collect(lambda r: r.set("src", "1"))
    assert ev.collect(lambda r: r.rename("src", "dst")) == \
        kspace("src", "rename_from") + kspace("dst", "rename_to")
    ev.close()


def test_other_db_channel(server):
    ev = notify_on(server.port)
    r3 = redis_lib.Redis(port=server.port, db=3)
    r3.set("x", "1")
    assert ev.collect() == kspace("x", "set", db=3)
    ev.close()


def test_active_expiry_publishes_expired(server):
    ev = notify_on(server.port)
    ev.collect(lambda r: r.set("t", "v", px=50))
    got = ev.wait_for(("__keyevent@0__:expired", "t"))
    assert ("__keyspace@0__:t", "expired") in got
    ev.close()


def test_eviction_publishes_evicted(server):
    ev = notify_on(server.port)
    ev.r.config_set("maxmemory-policy", "allkeys-random")
    ev.collect(lambda r: r.set("victim", "x" * 1000))
    ev.r.config_set("maxmemory", "1")
    try:
        ev.r.set("another", "y")
    except redis_lib.ResponseError:
        pass  # OOM once everything is gone is fine; the eviction happened first
    got = ev.wait_for(("__keyevent@0__:evicted", "victim"))
    assert ("__keyspace@0__:victim", "evicted") in got
    ev.r.config_set("maxmemory", "0")
    ev.close()


def test_memcached_set_publishes_set(server_factory):
    s = server_factory({"compatibility.memcached_protocol": "true"})
    ev = notify_on(s.port)
    mc = socket.create_connection(("127.0.0.1", s.mc_port), timeout=5)
    mc.sendall(b"set mk 0 0 1\r\nv\r\n")
    assert mc.recv(100) == b"STORED\r\n"
    assert ev.collect() == kspace("mk", "set")
    mc.close()
    ev.close()


def test_classes_filter(server):
    r = server.redis()
    r.config_set("notify-keyspace-events", "Kg")  # keyspace channel, generic class only
    ev = Events(server.port)
    assert ev.collect(lambda r: (r.set("k", "v"), r.delete("k"))) == [("__keyspace@0__:k", "del")]
    r.config_set("notify-keyspace-events", "")
    assert ev.collect(lambda r: (r.set("k", "v"), r.delete("k"))) == []
    ev.close()


def test_new_key_event_matches_redis(server, redis_server):
    """Class `n`: creating a key fires `new` before the command's event (Redis' dbAdd):
    a SET of an existing key does not, RENAME/COPY/MOVE onto a name do (even over a
    deleted destination), every type's first write does."""
    commands = [("SET", "a", "1"), ("SET", "a", "2"), ("INCR", "n"), ("LPUSH", "l", "x"),
                ("LPUSH", "l", "y"), ("HSET", "h", "f", "v"), ("SADD", "s", "m"),
                ("ZADD", "z", "1", "m"), ("RENAME", "a", "b"), ("SET", "c", "1"),
                ("RENAME", "c", "b"), ("COPY", "b", "d"), ("MOVE", "d", "3"),
                ("APPEND", "e", "x")]
    results = []
    for port in (server.port, redis_server.port):
        r = redis_lib.Redis(port=port, socket_timeout=10)
        r.config_set("notify-keyspace-events", "KEAn")
        ev = Events(port)

        def run(r):
            for c in commands:
                r.execute_command(*c)

        results.append(ev.collect(run))
        ev.close()
    assert results[0] == results[1]
    assert ("__keyevent@0__:new", "a") in results[0]
