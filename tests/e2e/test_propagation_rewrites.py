"""Commands Redis 7.0 replicates in another shape than the client sent them: the
replication stream of Ferrite and of redis-server must be the same command for command.
Lazy expiry is one such case: SCAN deletes the expired keys it meets, each a plain DEL."""
import time

import redis

from repl_stream import ReplStream, stream_of
from repl_util import RedisProc


ZMPOP = [
    ("ZADD", "z1", 1, "one", 2, "two", 3, "three"),
    ("ZMPOP", 1, "z1", "MIN"),
    ("ZMPOP", 1, "z1", "MAX", "COUNT", 1),
    ("ZMPOP", 2, "z1", "z2", "MIN", "COUNT", 10),  # one left: propagated with count 1
    ("ZMPOP", 2, "z1", "z2", "MAX", "COUNT", 10),  # nothing popped: nothing propagated
    ("ZADD", "z2", 4, "four", 5, "five"),
    ("BZMPOP", 0, 2, "z1", "z2", "MAX", "COUNT", 10),
]


def test_zmpop_propagates_the_popped_count(server, redis_server):
    ours = stream_of(server.port, ZMPOP, 7)
    theirs = stream_of(redis_server.port, ZMPOP, 7)
    assert ours == theirs
    assert theirs[1:] == [
        ["zadd", "z1", "1", "one", "2", "two", "3", "three"],
        ["zpopmin", "z1", "1"], ["zpopmax", "z1", "1"], ["zpopmin", "z1", "1"],
        ["zadd", "z2", "4", "four", "5", "five"], ["zpopmax", "z2", "2"]]


LMPOP = [
    ("RPUSH", "l1", "a", "b", "c"),
    ("LMPOP", 2, "l0", "l1", "LEFT", "COUNT", 10),
    ("RPUSH", "l1", "d"),
    ("BLMPOP", 0, 1, "l1", "RIGHT", "COUNT", 5),
]


def test_lmpop_propagates_the_popped_count(server, redis_server):
    ours = stream_of(server.port, LMPOP, 6)
    theirs = stream_of(redis_server.port, LMPOP, 6)
    assert ours == theirs
    assert theirs[2] == ["lpop", "l1", "3"] and theirs[4] == ["rpop", "l1", "1"]


def scan_stream(port):
    """What SCAN over two expired keys propagates (active expiry off: SCAN meets them)."""
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    r.flushall()
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        r.set("foo1", "bar", px=1)
        r.set("foo2", "bar", px=1)
        time.sleep(0.01)
        s = ReplStream(port)
        try:
            keys = r.scan(0)[1]
            r.set("end-marker", "1")
            out = s.read(4)
        finally:
            s.close()
        return keys, sorted(out[1:3]), out[3], r.dbsize()
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_scan_deletes_expired_keys_with_plain_dels(server, redis_nodes):
    peer = RedisProc().start()
    redis_nodes.append(peer)
    ours = scan_stream(server.port)
    assert ours == scan_stream(peer.port)
    assert ours == ([], [["del", "foo1"], ["del", "foo2"]], ["set", "end-marker", "1"], 1)
