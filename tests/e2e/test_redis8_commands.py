"""Redis 8's compare-and-set and field-TTL commands over the wire: DIGEST, DELEX,
SET ... IFEQ/IFNE/IFDEQ/IFDNE, MSETEX (8.4) and HGETDEL, HGETEX, HSETEX (8.0).

redis-server 7.0 has none of them, so the expected replies are redis.io's own examples
for these commands (taken as given, RESP2 and RESP3), plus what replication must carry:
a Ferrite replica ends with the same values and the same absolute TTLs as its primary.
Exact error replies are Redis 8's texts (t_hash.c / t_string.c and the cases its suite
asserts), byte for byte. What is propagated is read back from the AOF: the deterministic
forms Redis 8 writes, and for SET IF*, MSETEX and HSETEX without a field TTL forms a
redis-server 7.0 replica applies, which one does here. The last tests are the issue's
migration story: a memcached client (gets/cas) and a Redis 8-style client (DIGEST + SET
IFDEQ / IFEQ, DELEX) doing compare-and-set on one key."""
import os
import re
import socket

import pytest

from conftest import transcript
from repl_stream import aof_argvs
from repl_util import RedisProc, dump, wait_caught_up, wait_link_up
from resp_compare import Conn, encode


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


ARITY = "-ERR wrong number of arguments for '%s' command\r\n"
FIELDS_MISSING = "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n"
WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
ERRORS = [
    (("HGETDEL", "h", "FIELDS", 0, "a"), "-ERR Number of fields must be a positive integer\r\n"),
    (("HGETDEL", "h", "FIELDS", 2, "a"),
     "-ERR The `numfields` parameter must match the number of arguments\r\n"),
    (("HGETDEL", "h", "XFIELDS", 1, "a"), FIELDS_MISSING),
    (("HGETDEL", "h", "FIELDS", 1), ARITY % "hgetdel"),
    (("HGETEX", "h", "EX", 10, "PERSIST", "FIELDS", 1, "a"), FIELDS_MISSING),
    (("HGETEX", "h", "PX", -1, "FIELDS", 1, "a"), "-ERR invalid expire time, must be >= 0\r\n"),
    (("HGETEX", "h", "PXAT", (1 << 46) + 100, "FIELDS", 1, "a"),
     "-ERR invalid expire time in 'hgetex' command\r\n"),
    (("HGETEX", "h", "EX", "bla", "FIELDS", 1, "a"),
     "-ERR value is not an integer or out of range\r\n"),
    (("HSETEX", "h", "nx", "FIELDS", 1, "a", "b"), "-ERR unknown argument: nx\r\n"),
    (("HSETEX", "h", "FNX", "FXX", "FIELDS", 1, "a", "b"),
     "-ERR Only one of FXX or FNX arguments can be specified\r\n"),
    (("HSETEX", "h", "EX", 1, "KEEPTTL", "FIELDS", 1, "a", "b"),
     "-ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified\r\n"),
    (("HSETEX", "h", "FIELDS", 0, "a", "b"), "-ERR invalid number of fields\r\n"),
    (("HSETEX", "h", "FIELDS", 2, "a", "b"), ARITY % "hsetex"),
    (("HSETEX", "h", "EX", "fields", 1, "a", "b"), "-ERR value is not an integer or out of range\r\n"),
    (("MSETEX", "x", "k", "v"), "-ERR invalid numkeys value\r\n"),
    (("MSETEX", 2, "k", "v", "k2"), "-ERR wrong number of key-value pairs\r\n"),
    (("MSETEX", 1, "k", "v", "NX", "XX"), "-ERR syntax error\r\n"),
    (("MSETEX", 1, "k", "v", "KEEPTTL", "EX", 10), "-ERR syntax error\r\n"),
    (("SET", "k", "v", "IFEQ", "a", "NX"), "-ERR syntax error\r\n"),
    (("SET", "k", "v", "IFEQ", "a", "IFNE", "b"), "-ERR syntax error\r\n"),
    (("SET", "str", "v", "IFDEQ", "abc"),
     "-ERR The digest must be exactly 16 hexadecimal characters\r\n"),
    (("DELEX", "str", "IFDNE", "0" * 17),
     "-ERR The digest must be exactly 16 hexadecimal characters\r\n"),
    (("DELEX", "k", "IF", "a"), "-ERR Invalid condition. Use IFEQ, IFNE, IFDEQ, or IFDNE\r\n"),
    (("DELEX", "k", "IFEQ"), ARITY % "delex"),
    (("DELEX", "k", "IFEQ", "a", "b"), ARITY % "delex"),
    (("DIGEST", "k", "k2"), ARITY % "digest"),
    # The hash commands that read look the key up first; HSETEX reads its arguments first.
    (("HGETDEL", "str", "XFIELDS", 0, "a"), WRONGTYPE),
    (("HGETEX", "str", "XFIELDS", 1, "a"), WRONGTYPE),
    (("HSETEX", "str", "nx", "FIELDS", 1, "a", "b"), "-ERR unknown argument: nx\r\n"),
    (("HSETEX", "str", "FIELDS", 1, "a", "b"), WRONGTYPE),
    (("DIGEST", "list"), WRONGTYPE),
    (("DELEX", "list", "IFEQ", "x"), WRONGTYPE),
    (("SET", "list", "v", "IFNE", "x"), WRONGTYPE),
]


def test_exact_error_replies(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    transcript(s, encode(["SET", "str", "v"]), b"+OK\r\n")
    transcript(s, encode(["RPUSH", "list", "x"]), b":1\r\n")
    for args, expect in ERRORS:
        transcript(s, encode(args), expect.encode())
    # None of them wrote anything.
    transcript(s, encode(["DBSIZE"]), b":2\r\n")
    s.close()


def aof_commands(path):
    """The commands of a plain (preamble-less) AOF file, SELECT left out."""
    argvs = [[x.decode() for x in a] for a in aof_argvs(path)]
    return [a for a in argvs if a[0].upper() != "SELECT"]


def state(r):
    """Every key's value and absolute expiry times (key and fields), for comparisons."""
    out = {}
    for k in sorted(r.execute_command("KEYS", "*")):
        t = r.execute_command("TYPE", k)
        if t == b"string":
            out[k] = (r.get(k), r.execute_command("PEXPIRETIME", k))
        else:
            flat = r.execute_command("HGETALL", k)
            fields = sorted(flat) if isinstance(flat, dict) else sorted(flat[::2])
            times = r.execute_command("HPEXPIRETIME", k, "FIELDS", len(fields), *fields)
            out[k] = (sorted(flat.items()) if isinstance(flat, dict) else flat,
                      dict(zip(fields, times)), r.execute_command("PEXPIRETIME", k))
    return out


def test_aof_holds_the_propagated_forms_and_reloads_to_the_same_state(server_factory):
    s = server_factory({"persistence.aof_enabled": "true", "persistence.aof_fsync": "always"})
    r = s.redis()
    aof = os.path.join(s.dir, "appendonly.aof")

    def clock():
        sec, usec = r.execute_command("TIME")
        return int(sec) * 1000 + int(usec) // 1000

    wrote = []  # (expected argv with "T+<ms>" for an absolute time, [lo, hi] of the clock)

    def run(args, *expected):
        lo = clock()
        r.execute_command(*args)
        hi = clock() + 1
        for e in expected:
            wrote.append((e, lo, hi))
        return lo, hi

    run(("SET", "s", "v1"), ["SET", "s", "v1"])
    run(("SET", "s", "v2", "IFEQ", "v1"), ["SET", "s", "v2"])
    digest = r.execute_command("DIGEST", "s").decode()
    run(("SET", "s", "v3", "IFDEQ", digest, "EX", 100), ["SET", "s", "v3", "PXAT", "T+100000"])
    run(("SET", "s", "zz", "IFEQ", "nope"))
    run(("SET", "s", "v4", "IFNE", "nope", "KEEPTTL"), ["SET", "s", "v4", "KEEPTTL"])
    run(("SET", "gone", "x"), ["SET", "gone", "x"])
    run(("DELEX", "gone", "IFDNE", "0" * 16), ["DEL", "gone"])
    run(("MSETEX", 2, "m1", "a", "m2", "b", "PX", 500000),
        ["MULTI"], ["SET", "m1", "a", "PXAT", "T+500000"], ["SET", "m2", "b", "PXAT", "T+500000"],
        ["EXEC"])
    run(("MSETEX", 1, "m3", "c"), ["MSET", "m3", "c"])
    run(("HSETEX", "h", "FIELDS", 2, "f1", "1", "f2", "2"), ["HSET", "h", "f1", "1", "f2", "2"])
    # HSETEX with field TTLs reaches replicas and the AOF as HSET + HPEXPIREAT (a
    # redis-server 7.0 replica runs the HSET; docs/replication.md).
    fxx = run(("HSETEX", "h", "FXX", "EX", 1000, "FIELDS", 1, "f1", "x"),
              ["MULTI"], ["HSET", "h", "f1", "x"],
              ["HPEXPIREAT", "h", "T+1000000", "FIELDS", "1", "f1"], ["EXEC"])
    run(("HGETEX", "h", "PX", 700000, "FIELDS", 2, "f2", "nofield"),
        ["HPEXPIREAT", "h", "T+700000", "FIELDS", "2", "f2", "nofield"])
    run(("HGETEX", "h", "PERSIST", "FIELDS", 1, "f2"), ["HPERSIST", "h", "FIELDS", "1", "f2"])
    run(("HGETDEL", "h", "FIELDS", 2, "f2", "nofield"), ["HDEL", "h", "f2", "nofield"])
    run(("HSET", "h", "g", "1", "k", "2"), ["HSET", "h", "g", "1", "k", "2"])
    run(("HGETEX", "h", "PXAT", 1, "FIELDS", 2, "g", "k"),
        ["MULTI"], ["HDEL", "h", "g"], ["HDEL", "h", "k"], ["EXEC"])
    run(("HSETEX", "h2", "PX", 0, "FIELDS", 1, "a", "b"), ["HDEL", "h2", "a"])
    # KEEPTTL keeps f1's deadline, set by the FXX write above: its window applies.
    r.execute_command("HSETEX", "h", "KEEPTTL", "FIELDS", 1, "f1", "y")
    for e in (["MULTI"], ["HSET", "h", "f1", "y"],
              ["HPEXPIREAT", "h", "T+1000000", "FIELDS", "1", "f1"], ["EXEC"]):
        wrote.append((e, *fxx))

    got = aof_commands(aof)
    assert len(got) == len(wrote), got
    for argv, (exp, lo, hi) in zip(got, wrote):
        assert len(argv) == len(exp), (argv, exp)
        for a, e in zip(argv, exp):
            if e.startswith("T+"):
                assert lo + int(e[2:]) <= int(a) <= hi + int(e[2:]), (argv, exp, lo, hi)
            else:
                assert a == e, (argv, exp)

    before = state(r)
    assert set(before) == {b"s", b"m1", b"m2", b"m3", b"h"}
    assert r.execute_command("DEBUG", "LOADAOF") == b"OK"
    assert state(r) == before


def test_redis70_replica_applies_what_ferrite_propagates(server_factory):
    """SET IF*, DELEX, MSETEX, HGETDEL, and HSETEX / HGETEX without field TTLs reach a
    redis-server 7.0 replica in forms it executes: it ends with the same keys, values and
    absolute expiry times, and never answers its primary with an error."""
    p = server_factory({"replication.repl_diskless_sync_delay": "0"})
    red = RedisProc(["--replicaof", "127.0.0.1", str(p.port)]).start()
    try:
        pr, rr = p.redis(), red.redis()
        wait_link_up(rr)
        pr.execute_command("SET", "s", "v1")
        d = pr.execute_command("DIGEST", "s")
        assert pr.execute_command("SET", "s", "v2", "IFDEQ", d, "EX", 1000)
        assert pr.execute_command("SET", "s", "v3", "IFEQ", "v2", "KEEPTTL")
        assert pr.execute_command("SET", "t", "v", "IFNE", "x")
        pr.execute_command("SET", "t", "w", "IFDNE", "0" * 16, "GET")  # redis-py: a bool
        assert pr.get("t") == b"w"
        pr.execute_command("SET", "gone", "x")
        assert pr.execute_command("DELEX", "gone", "IFEQ", "x") == 1
        assert pr.execute_command("MSETEX", 2, "m1", "a", "m2", "b", "PX", 500000) == 1
        assert pr.execute_command("MSETEX", 2, "m1", "c", "m2", "d", "XX", "KEEPTTL") == 1
        assert pr.execute_command("MSETEX", 2, "m3", "e", "m4", "f", "NX") == 1
        assert pr.execute_command("HSETEX", "h", "FNX", "FIELDS", 3, "f1", "1", "f2", "2",
                                  "f3", "3") == 1
        assert pr.execute_command("HSETEX", "h", "FXX", "FIELDS", 1, "f1", "11") == 1
        assert pr.execute_command("HGETDEL", "h", "FIELDS", 2, "f2", "nofield") == [b"2", None]
        assert pr.execute_command("HGETEX", "h", "PX", 0, "FIELDS", 1, "f3") == [b"3"]
        assert pr.execute_command("HSETEX", "h2", "PXAT", 1, "FIELDS", 1, "a", "b") == 1
        wait_caught_up(pr, rr)
        assert dump(rr) == dump(pr)
        assert pr.execute_command("KEYS", "h2") == []
        for k in ("s", "t", "m1", "m2", "m3", "m4"):
            assert rr.execute_command("PEXPIRETIME", k) == pr.execute_command("PEXPIRETIME", k)
        assert rr.execute_command("PEXPIRETIME", "m1") > 0
        assert rr.hgetall("h") == {b"f1": b"11"}
        assert "CRITICAL" not in red.log_text(), red.log_text()[-2000:]
    finally:
        red.cleanup()


def test_keyspace_events_over_the_wire(server):
    """The sequences Redis 8's suite (unit/pubsub.tcl) asserts for these commands."""
    r = server.redis()
    r.config_set("notify-keyspace-events", "KEA")
    ps = r.pubsub()
    ps.psubscribe("__keyspace@0__:*")
    assert ps.get_message(timeout=5)["type"] == "psubscribe"
    r.execute_command("HSETEX", "h", "FIELDS", 2, "f5", "v5", "f6", "v6")
    r.execute_command("HGETDEL", "h", "FIELDS", 1, "f5")
    r.execute_command("HSETEX", "h", "EXAT", 4000000000, "FIELDS", 1, "f6", "v6")
    r.execute_command("HGETEX", "h", "PERSIST", "FIELDS", 1, "f6")
    r.execute_command("HSETEX", "h", "PX", 0, "FIELDS", 1, "f6", "v6")
    r.execute_command("SET", "k", "v")
    r.execute_command("SET", "k", "w", "IFEQ", "nope")  # not written: no event
    r.execute_command("SET", "k", "w", "IFEQ", "v")
    r.execute_command("DELEX", "k", "IFEQ", "w")
    r.execute_command("MSETEX", 1, "m", "v", "EX", 100)
    seen = []
    while len(seen) < 13:
        m = ps.get_message(timeout=5)
        assert m is not None, seen
        if m["type"] == "pmessage":
            seen.append((m["channel"].decode().split(":", 1)[1], m["data"].decode()))
    assert seen == [("h", "hset"), ("h", "hdel"), ("h", "hset"), ("h", "hexpire"),
                    ("h", "hpersist"), ("h", "hset"), ("h", "hdel"), ("h", "del"),
                    ("k", "set"), ("k", "set"), ("k", "del"), ("m", "set"), ("m", "expire")]
    assert ps.get_message(timeout=0.2) is None
    ps.close()


def test_pymemcache_gets_cas_and_set_ifeq_ifdeq_see_each_others_writes(mc_server):
    """pymemcache's gets/cas and SET ... IFEQ / IFDEQ on one key: a RESP write makes the
    memcached CAS token stale, a memcached write makes the RESP value and digest stale."""
    from pymemcache.client.base import Client
    mc = Client(("127.0.0.1", mc_server.mc_port), timeout=10, default_noreply=False)
    r = mc_server.redis()
    assert mc.set("k", b"1") is True
    value, cas = mc.gets("k")
    assert value == b"1"
    assert r.execute_command("SET", "k", "2", "IFEQ", "1") is True
    assert mc.cas("k", b"x", cas) is False          # the RESP write moved the CAS unique
    value, cas = mc.gets("k")
    assert value == b"2"
    digest = r.execute_command("DIGEST", "k")
    assert mc.cas("k", b"3", cas) is True
    assert r.execute_command("SET", "k", "4", "IFEQ", "2") is None      # stale value
    assert r.execute_command("SET", "k", "4", "IFDEQ", digest) is None  # stale digest
    assert r.get("k") == b"3"
    assert r.execute_command("SET", "k", "4", "IFDEQ", r.execute_command("DIGEST", "k")) is True
    assert mc.cas("k", b"5", cas) is False
    assert mc.get("k") == b"4"
    mc.close()
