"""MIGRATE from ferrite to redis-server 7.0, from redis-server to ferrite, and between
two ferrites: single key and KEYS, COPY, REPLACE, AUTH and AUTH2 (a target with
requirepass), TTLs carried over, the target's errors relayed as Redis words them,
NOKEY, and IOERR for a target that is not listening. The same MIGRATE sent by
redis-server to the same kind of target gives the same reply."""
import random

from conftest import free_port
from resp_compare import Conn


def fill(c):
    c.call("FLUSHALL")
    c.call("SET", "s", "v", "PX", "100000")
    c.call("RPUSH", "l", "a", "b")
    c.call("HSET", "h", "f", "1")
    c.call("ZADD", "z", "1", "m")
    c.call("SADD", "st", "x")


def snapshot(c, keys):
    out = {}
    for k in keys:
        t = c.call("TYPE", k)[1]
        v = {b"string": ["GET", k], b"list": ["LRANGE", k, "0", "-1"], b"hash": ["HGETALL", k],
             b"zset": ["ZRANGE", k, "0", "-1", "WITHSCORES"], b"set": ["SMEMBERS", k]}.get(t)
        out[k] = (t, c.call(*v) if v else None)
    return out


KEYS = ["s", "l", "h", "z", "st"]


def migrate_all(src, dst, dst_port):
    fill(src)
    dst.call("FLUSHALL")
    before = snapshot(src, KEYS)
    assert src.call("MIGRATE", "127.0.0.1", str(dst_port), "s", "0", "5000") == ("+", b"OK")
    assert src.call("MIGRATE", "127.0.0.1", str(dst_port), "", "0", "5000", "KEYS",
                    "l", "h", "nokey", "z", "st") == ("+", b"OK")
    assert src.call("EXISTS", *KEYS) == (":", b"0")
    assert snapshot(dst, KEYS) == before
    ttl = int(dst.call("PTTL", "s")[1])
    assert 90000 < ttl <= 100000


def test_migrate_ferrite_to_redis_and_back(server, redis_server):
    ours, theirs = Conn(server.port), Conn(redis_server.port)
    try:
        migrate_all(ours, theirs, redis_server.port)
        migrate_all(theirs, ours, server.port)
    finally:
        ours.close()
        theirs.close()


def test_migrate_between_two_ferrites(server_factory):
    a, b = server_factory(), server_factory()
    ca, cb = Conn(a.port), Conn(b.port)
    try:
        migrate_all(ca, cb, b.port)
    finally:
        ca.close()
        cb.close()


def test_migrate_options_and_errors_match_redis(server, redis_server):
    """Each MIGRATE is sent by ferrite and by redis-server to the other server, whose
    state is reset between the two, so both see the same target."""
    ours, theirs = Conn(server.port), Conn(redis_server.port)
    dead = free_port()
    try:
        cases = [
            ["MIGRATE", "127.0.0.1", "{port}", "k", "0", "5000"],
            ["MIGRATE", "127.0.0.1", "{port}", "k", "0", "5000", "COPY"],
            ["MIGRATE", "127.0.0.1", "{port}", "k", "0", "5000", "COPY", "REPLACE"],
            ["MIGRATE", "127.0.0.1", "{port}", "nokey", "0", "5000"],
            ["MIGRATE", "127.0.0.1", "{port}", "k", "0", "5000", "KEYS", "k"],
            ["MIGRATE", "127.0.0.1", "{port}", "", "0", "5000", "KEYS", "nokey", "k"],
            ["MIGRATE", "127.0.0.1", "{port}", "k", "x", "5000"],
            ["MIGRATE", "127.0.0.1", "{port}", "k", "0", "y"],
            ["MIGRATE", "127.0.0.1", "{port}", "k", "0", "5000", "AUTH"],
            ["MIGRATE", "127.0.0.1", "{port}", "k", "0", "5000", "AUTH2", "u"],
            ["MIGRATE", "127.0.0.1", "{port}", "k", "0", "5000", "BOGUS"],
            ["MIGRATE", "127.0.0.1", "{port}", "k", "99", "5000"],
            ["MIGRATE", "127.0.0.1", str(dead), "k", "0", "500"],
            ["MIGRATE", "127.0.0.1", "{port}", "k", "0", "5000", "AUTH", "secret"],
            ["MIGRATE", "127.0.0.1", "{port}", "k", "0", "5000", "AUTH2", "default", "nope"],
        ]
        for case in cases:
            replies = []
            for src, dst, port in ((ours, theirs, redis_server.port),
                                   (theirs, ours, server.port)):
                for c in (src, dst):
                    c.call("FLUSHALL")
                src.call("SET", "k", "mine")
                dst.call("SET", "k", "theirs")  # BUSYKEY unless REPLACE
                args = [a.replace("{port}", str(port)) for a in case]
                replies.append((src.call(*args), src.call("EXISTS", "k"), dst.call("GET", "k")))
            assert replies[0] == replies[1], f"{case}\n  ours:   {replies[0]}\n  theirs: {replies[1]}"
    finally:
        ours.close()
        theirs.close()


def test_migrate_auth_to_a_protected_target(server, redis_server):
    ours, theirs = Conn(server.port), Conn(redis_server.port)
    try:
        theirs.call("FLUSHALL")
        assert theirs.call("CONFIG", "SET", "requirepass", "pw") == ("+", b"OK")
        try:
            ours.call("FLUSHALL")
            ours.call("SET", "k", "v")
            r = ours.call("MIGRATE", "127.0.0.1", str(redis_server.port), "k", "0", "5000")
            assert r[0] == "-" and r[1].startswith(b"ERR Target instance replied with error: NOAUTH")
            assert ours.call("MIGRATE", "127.0.0.1", str(redis_server.port), "k", "0", "5000",
                             "AUTH", "pw") == ("+", b"OK")
            ours.call("SET", "k2", "v2")
            assert ours.call("MIGRATE", "127.0.0.1", str(redis_server.port), "k2", "3", "5000",
                             "AUTH2", "default", "pw") == ("+", b"OK")
            theirs.call("AUTH", "pw")
            assert theirs.call("GET", "k") == ("$", b"v")
            theirs.call("SELECT", "3")
            assert theirs.call("GET", "k2") == ("$", b"v2")
        finally:
            theirs.call("CONFIG", "SET", "requirepass", "")
    finally:
        ours.close()
        theirs.close()
