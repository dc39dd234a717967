"""Redis 8's compare-and-set and field-TTL commands over the wire: DIGEST, DELEX,
SET ... IFEQ/IFNE/IFDEQ/IFDNE, MSETEX (8.4) and HGETDEL, HGETEX, HSETEX (8.0).

redis-server 7.0 has none of them, so the expected replies are redis.io's own examples
for these commands (taken as given, RESP2 and RESP3), plus what replication must carry:
a Ferrite replica ends with the same values and the same absolute TTLs as its primary.
The last test is the issue's migration story: a memcached client (gets/cas) and a Redis
8-style client (DIGEST + SET IFDEQ, DELEX IFEQ) doing compare-and-set on one key."""
import re
import socket

import pytest

from conftest import transcript
from repl_util import wait_caught_up, wait_link_up
from resp_compare import Conn


class Plain:
    """A raw RESP2/RESP3 connection whose replies read as plain Python values."""

    def __init__(self, port, resp):
        self.c = Conn(port, resp)

    @staticmethod
    def _plain(tree):
        t, v = tree
        if t == "-":
            raise RuntimeError(v.decode())
        if t == ":":
            return int(v)
        if isinstance(v, list):
            return [Plain._plain(x) for x in v]
        return v

    def execute_command(self, *args):
        return self._plain(self.c.call(*args))


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_io_examples(server, protocol):
    r = Plain(server.port, protocol)
    # DIGEST page
    assert r.execute_command("SET", "key1", "Hello world") == b"OK"
    assert r.execute_command("DIGEST", "key1") == b"b6acb9d84a38ff74"
    assert r.execute_command("DIGEST", "nokey") is None
    # HGETDEL page
    assert r.execute_command("HSET", "mykey", "field1", "Hello", "field2", "World",
                             "field3", "!") == 3
    assert r.execute_command("HGETDEL", "mykey", "FIELDS", 2, "field3", "field4") == [b"!", None]
    assert r.execute_command("HGETDEL", "mykey", "FIELDS", 2, "field1", "field2") == \
        [b"Hello", b"World"]
    assert r.execute_command("KEYS", "*") == [b"key1"]
    # HGETEX page
    r.execute_command("HSET", "mykey", "field1", "Hello", "field2", "World")
    assert r.execute_command("HGETEX", "mykey", "EX", 120, "FIELDS", 1, "field1") == [b"Hello"]
    assert r.execute_command("HGETEX", "mykey", "EX", 100, "FIELDS", 1, "field2") == [b"World"]
    ttls = r.execute_command("HTTL", "mykey", "FIELDS", 3, "field1", "field2", "field3")
    assert 119 <= ttls[0] <= 120 and 99 <= ttls[1] <= 100 and ttls[2] == -2, ttls
    # HSETEX page (a time 10 days ahead instead of the page's fixed date)
    r.execute_command("DEL", "mykey")
    at = int(r.execute_command("TIME")[0]) + 864000
    assert r.execute_command("HSETEX", "mykey", "EXAT", at, "FIELDS", 2, "field1", "Hello",
                             "field2", "World") == 1
    assert r.execute_command("HEXPIRETIME", "mykey", "FIELDS", 2, "field1", "field2") == [at, at]
    assert r.execute_command("HSETEX", "mykey", "FNX", "EX", 60, "FIELDS", 2, "field1", "Hello",
                             "field2", "World") == 0
    with pytest.raises(RuntimeError, match="Only one of EX, PX, EXAT, PXAT or KEEPTTL"):
        r.execute_command("HSETEX", "mykey", "FXX", "EX", 60, "KEEPTTL", "FIELDS", 2,
                          "field1", "hello", "field2", "world")
    assert r.execute_command("HSETEX", "mykey", "FXX", "KEEPTTL", "FIELDS", 2, "field1",
                             "hello", "field2", "world") == 1
    assert r.execute_command("HEXPIRETIME", "mykey", "FIELDS", 2, "field1", "field2") == [at, at]
    # MSETEX page: NX / XX over the whole group
    assert r.execute_command("MSETEX", 2, "a", "1", "b", "2", "NX", "EX", 100) == 1
    assert r.execute_command("MSETEX", 2, "a", "1", "c", "3", "NX") == 0
    assert r.execute_command("EXISTS", "c") == 0
    assert 99 <= r.execute_command("TTL", "b") <= 100
    # SET ... IF* and DELEX pages
    assert r.execute_command("SET", "lock", "token-1", "NX", "EX", 30) == b"OK"
    assert r.execute_command("SET", "lock", "token-2", "IFEQ", "other") is None
    assert r.execute_command("SET", "lock", "token-1", "IFEQ", "token-1", "EX", 60) == b"OK"
    assert r.execute_command("DELEX", "lock", "IFEQ", "token-2") == 0
    assert r.execute_command("DELEX", "lock", "IFEQ", "token-1") == 1


def test_replica_applies_them_with_the_same_results(server_factory):
    p = server_factory({"replication.repl_diskless_sync_delay": "0"})
    rep = server_factory({"replication.repl_diskless_sync_delay": "0",
                          "replication.role": "replica",
                          "replication.master_host": "127.0.0.1",
                          "replication.master_port": str(p.port)})
    pr, rr = p.redis(), rep.redis()
    wait_link_up(rr)
    pr.execute_command("SET", "s", "v1")
    d = pr.execute_command("DIGEST", "s").decode()
    assert pr.execute_command("SET", "s", "v2", "IFDEQ", d, "EX", 1000)
    assert pr.execute_command("SET", "s", "v3", "IFNE", "nope", "KEEPTTL")
    pr.execute_command("SET", "gone", "x")
    assert pr.execute_command("DELEX", "gone", "IFEQ", "x") == 1
    assert pr.execute_command("MSETEX", 2, "m1", "a", "m2", "b", "PX", 500000) == 1
    pr.execute_command("HSETEX", "h", "EX", 1000, "FIELDS", 2, "f1", "1", "f2", "2")
    pr.execute_command("HSETEX", "h", "FNX", "FIELDS", 1, "f3", "3")
    assert pr.execute_command("HGETEX", "h", "PX", 700000, "FIELDS", 1, "f3") == [b"3"]
    assert pr.execute_command("HGETEX", "h", "PERSIST", "FIELDS", 1, "f1") == [b"1"]
    assert pr.execute_command("HGETDEL", "h", "FIELDS", 1, "f2") == [b"2"]
    pr.execute_command("HSET", "h2", "a", "1")
    assert pr.execute_command("HGETEX", "h2", "PXAT", 1, "FIELDS", 1, "a") == [b"1"]
    wait_caught_up(pr, rr)
    assert sorted(rr.execute_command("KEYS", "*")) == sorted(pr.execute_command("KEYS", "*")) == \
        [b"h", b"m1", b"m2", b"s"]
    for k in ("s", "m1", "m2"):
        assert rr.get(k) == pr.get(k)
        assert rr.execute_command("PEXPIRETIME", k) == pr.execute_command("PEXPIRETIME", k) > 0
    assert rr.execute_command("HGETALL", "h") == pr.execute_command("HGETALL", "h")
    fields = ("FIELDS", 2, "f1", "f3")
    assert rr.execute_command("HPEXPIRETIME", "h", *fields) == \
        pr.execute_command("HPEXPIRETIME", "h", *fields)
    assert pr.execute_command("HPEXPIRETIME", "h", *fields)[0] == -1


def gets(s, key):
    """(value, cas) of `key` over memcached socket `s`."""
    s.sendall(b"gets %s\r\n" % key)
    data = b""
    while not data.endswith(b"END\r\n"):
        data += s.recv(1000)
    m = re.match(rb"VALUE %s \d+ (\d+) (\d+)\r\n(.*)\r\nEND\r\n" % key, data, re.S)
    return m.group(3), int(m.group(2))


def test_memcached_cas_and_redis8_compare_and_set_share_one_key(mc_server):
    """Both kinds of optimistic client on one key: each sees the other's write as a
    conflict, and each succeeds once it has re-read the current state."""
    mc = socket.create_connection(("127.0.0.1", mc_server.mc_port), timeout=10)
    r = mc_server.redis()
    transcript(mc, b"set counter 0 0 1\r\n1\r\n", b"STORED\r\n")

    # memcached reads (value, cas); a Redis 8 client reads (value, digest).
    value, cas = gets(mc, b"counter")
    digest = r.execute_command("DIGEST", "counter")
    assert value == b"1" and r.get("counter") == b"1"

    # The Redis client wins the race with compare-and-set on the digest...
    assert r.execute_command("SET", "counter", "2", "IFDEQ", digest) is True
    # ...so the memcached client's cas is stale.
    transcript(mc, b"cas counter 0 0 1 %d\r\n2\r\n" % cas, b"EXISTS\r\n")
    # It re-reads and retries: now it wins.
    value, cas = gets(mc, b"counter")
    assert value == b"2"
    transcript(mc, b"cas counter 0 0 1 %d\r\n3\r\n" % cas, b"STORED\r\n")
    # The Redis client's old digest and old value no longer match.
    assert r.execute_command("SET", "counter", "3", "IFDEQ", digest) is None
    assert r.execute_command("SET", "counter", "3", "IFEQ", "2") is None
    assert r.get("counter") == b"3"
    # It re-reads: compare-and-set on the value works, and memcached's cas moved.
    assert r.execute_command("SET", "counter", "4", "IFEQ", "3") is True
    transcript(mc, b"cas counter 0 0 1 %d\r\n9\r\n" % cas, b"EXISTS\r\n")
    # A memcached delete and a Redis compare-and-delete guard the same way.
    value, cas = gets(mc, b"counter")
    digest = r.execute_command("DIGEST", "counter")
    transcript(mc, b"set counter 0 0 1\r\n5\r\n", b"STORED\r\n")
    assert r.execute_command("DELEX", "counter", "IFDEQ", digest) == 0
    assert r.execute_command("DELEX", "counter", "IFEQ", "5") == 1
    transcript(mc, b"cas counter 0 0 1 %d\r\n6\r\n" % cas, b"NOT_FOUND\r\n")
    mc.close()
