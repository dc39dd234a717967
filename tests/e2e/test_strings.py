"""Black-box tests of the strings module against a live ferrite-host.

Two kinds:
  * python3-redis against ferrite (happy paths, options, expiry, limits);
  * side by side: the same command list sent over raw sockets to the real redis-server
    7.0 (fixture redis_server) and to ferrite, comparing the reply *bytes*, in RESP2 and
    in RESP3.
"""
import os
import socket
import time

import pytest
import redis


# ---------------------------------------------------------------------------------------
# Raw RESP client: exact bytes, so the comparison also covers framing and error text.
# ---------------------------------------------------------------------------------------

def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def read_reply(f):
    """Reads one whole reply and returns its raw bytes."""
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError(f"truncated reply: {line!r}")
    kind = line[:1]
    if kind in b"+-:_,#(":
        return line
    if kind in b"$!=":
        n = int(line[1:-2])
        return line if n < 0 else line + f.read(n + 2)
    if kind in b"*%~>|":
        n = int(line[1:-2])
        if n < 0:
            return line
        items = n * 2 if kind in b"%|" else n
        out = line
        for _ in range(items):
            out += read_reply(f)
        if kind == b"|":  # an attribute precedes the real reply
            out += read_reply(f)
        return out
    raise ValueError(f"unknown reply type: {line!r}")


class Raw:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.sock.makefile("rb")

    def call(self, *args):
        self.sock.sendall(encode(args))
        return read_reply(self.f)

    def close(self):
        self.f.close()
        self.sock.close()


# Every command is run on a fresh keyspace (FLUSHALL first) in this order. Replies must
# not depend on the clock beyond whole seconds far from a boundary.
SIDE_BY_SIDE = [
    # GET / SET and options
    ("GET", "nokey"),
    ("SET", "k", "v"),
    ("GET", "k"),
    ("SET", "k", "v2", "GET"),
    ("SET", "k", "v3", "GET", "GET"),
    ("SET", "new", "x", "GET"),
    ("SET", "k", "x", "NX"),
    ("SET", "k", "x", "NX", "GET"),
    ("SET", "nokey2", "x", "XX"),
    ("SET", "nokey2", "x", "XX", "GET"),
    ("SET", "k", "y", "XX"),
    ("SET", "k", "y", "NX", "NX"),
    ("SET", "k", "y", "NX", "XX"),
    ("SET", "k", "y", "XX", "NX"),
    ("SET", "k", "y", "EX", "100", "PX", "100"),
    ("SET", "k", "y", "KEEPTTL", "EX", "100"),
    ("SET", "k", "y", "EX", "100", "KEEPTTL"),
    ("SET", "k", "y", "EX"),
    ("SET", "k", "y", "EX", "0"),
    ("SET", "k", "y", "EX", "-1"),
    ("SET", "k", "y", "PX", "0"),
    ("SET", "k", "y", "EXAT", "0"),
    ("SET", "k", "y", "EX", "abc"),
    ("SET", "k", "y", "EX", "1.5"),
    ("SET", "k", "y", "EX", "9223372036854775807"),
    ("SET", "k", "y", "EX", "9223372036854775"),
    ("SET", "k", "y", "PX", "9223372036854775807"),
    ("SET", "k", "y", "PERSIST"),
    ("SET", "k", "y", "FOO"),
    ("SET", "k", "y", "ex", "100"),
    ("TTL", "k"),
    ("SET", "k", "y", "KEEPTTL"),
    ("TTL", "k"),
    ("SET", "k", "y"),
    ("TTL", "k"),
    ("SET", "k", "y", "EX", "100", "EX", "200"),
    ("TTL", "k"),
    ("SET", "past", "y", "PXAT", "1"),
    ("GET", "past"),
    ("SET", "far", "y", "EXAT", "9223372036854775"),
    ("GET", "far"),
    ("SET", "k"),
    ("SETNX", "k", "z"),
    ("SETNX", "snx", "z"),
    ("GET", "snx"),
    ("SETEX", "sx", "100", "v"),
    ("TTL", "sx"),
    ("SETEX", "sx", "0", "v"),
    ("SETEX", "sx", "abc", "v"),
    ("PSETEX", "psx", "100000", "v"),
    ("TTL", "psx"),
    ("PSETEX", "psx", "-5", "v"),
    # GETSET / GETDEL / GETEX
    ("GETSET", "psx", "w"),
    ("TTL", "psx"),
    ("GETSET", "nokey3", "w"),
    ("GETDEL", "nokey3"),
    ("GETDEL", "nokey3"),
    ("GETEX", "nokey"),
    ("GETEX", "nokey", "EX", "0"),
    ("GETEX", "nokey", "FOO"),
    ("GETEX", "k", "EX", "100"),
    ("TTL", "k"),
    ("GETEX", "k", "PERSIST"),
    ("TTL", "k"),
    ("GETEX", "k", "EX", "0"),
    ("GETEX", "k", "PERSIST", "EX", "10"),
    ("GETEX", "k", "KEEPTTL"),
    ("GETEX", "k", "GET"),
    ("GETEX", "k", "PXAT", "1"),
    ("EXISTS", "k"),
    # MGET / MSET / MSETNX
    ("MSET", "a", "1", "b", "2", "c", "3"),
    ("MGET", "a", "b", "nokey", "c"),
    ("MSET", "a"),
    ("MSET", "a", "1", "b"),
    ("MSETNX", "a", "1", "d", "4"),
    ("MSETNX", "d", "4", "e", "5"),
    ("MSETNX", "d"),
    ("MGET", "d", "e"),
    # APPEND / STRLEN / SETRANGE / GETRANGE / SUBSTR
    ("APPEND", "s", "Hello"),
    ("APPEND", "s", " World"),
    ("APPEND", "empty", ""),
    ("EXISTS", "empty"),
    ("STRLEN", "s"),
    ("STRLEN", "nokey"),
    ("GETRANGE", "s", "0", "4"),
    ("GETRANGE", "s", "-5", "-1"),
    ("GETRANGE", "s", "-1", "-5"),
    ("GETRANGE", "s", "5", "3"),
    ("GETRANGE", "s", "0", "1000"),
    ("GETRANGE", "s", "abc", "1"),
    ("GETRANGE", "nokey", "0", "-1"),
    ("SUBSTR", "s", "6", "-1"),
    ("SETRANGE", "s", "6", "Redis"),
    ("SETRANGE", "s", "20", "!"),
    ("GET", "s"),
    ("SETRANGE", "s", "-1", "x"),
    ("SETRANGE", "s", "abc", "x"),
    ("SETRANGE", "s", "0", ""),
    ("SETRANGE", "nokey4", "0", ""),
    ("EXISTS", "nokey4"),
    ("SETRANGE", "nokey4", "3", "abc"),
    ("GET", "nokey4"),
    ("SETRANGE", "s", "536870912", "x"),
    ("SETRANGE", "s", "9223372036854775807", "x"),
    # counters
    ("INCR", "n"),
    ("INCRBY", "n", "10"),
    ("DECR", "n"),
    ("DECRBY", "n", "-5"),
    ("DECRBY", "n", "-9223372036854775808"),
    ("INCRBY", "n", "abc"),
    ("INCRBY", "n", "1.5"),
    ("INCR", "s"),
    ("SET", "big", "9223372036854775807"),
    ("INCR", "big"),
    ("SET", "small", "-9223372036854775808"),
    ("DECR", "small"),
    ("SET", "sp", " 1"),
    ("INCR", "sp"),
    ("SET", "ttl", "1", "EX", "100"),
    ("INCR", "ttl"),
    ("TTL", "ttl"),
    ("INCRBYFLOAT", "f", "10.5"),
    ("INCRBYFLOAT", "f", "0.1"),
    ("INCRBYFLOAT", "f", "-5.0e3"),
    ("INCRBYFLOAT", "f", "0x10"),
    ("INCRBYFLOAT", "f", "abc"),
    ("INCRBYFLOAT", "f", "inf"),
    ("INCRBYFLOAT", "s", "1"),
    ("INCRBYFLOAT", "ttl", "1.5"),
    ("TTL", "ttl"),
    ("INCRBYFLOAT", "n", "3"),
    # LCS
    ("MSET", "x1", "ohmytext", "x2", "mynewtext"),
    ("LCS", "x1", "x2"),
    ("LCS", "x1", "x2", "LEN"),
    ("LCS", "x1", "x2", "IDX"),
    ("LCS", "x1", "x2", "IDX", "WITHMATCHLEN"),
    ("LCS", "x1", "x2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
    ("LCS", "x1", "x2", "IDX", "MINMATCHLEN", "-4"),
    ("LCS", "x1", "x2", "LEN", "IDX"),
    ("LCS", "x1", "x2", "FOO"),
    ("LCS", "x1", "x2", "MINMATCHLEN"),
    ("LCS", "x1", "x2", "MINMATCHLEN", "x"),
    ("LCS", "x1", "nokey"),
    ("LCS", "nokey", "nokey", "IDX"),
    # arity
    ("GET",),
    ("GET", "a", "b"),
    ("SET", "a"),
    ("SETNX", "a"),
    ("SETEX", "a", "1"),
    ("GETDEL",),
    ("MGET",),
    ("MSET",),
    ("APPEND", "a"),
    ("INCRBYFLOAT", "a"),
    ("GETRANGE", "a", "0"),
    ("SUBSTR", "a", "0", "1", "2"),
    ("LCS", "a"),
]

# Commands against a key of another type (needs the lists module in ferrite).
WRONGTYPE = [
    ("RPUSH", "list", "x"),
    ("GET", "list"),
    ("SET", "list", "v", "GET"),
    ("SET", "list", "v", "NX", "GET"),
    ("GETSET", "list", "v"),
    ("GETDEL", "list"),
    ("GETEX", "list"),
    ("GETEX", "list", "EX", "0"),
    ("GETEX", "list", "FOO"),
    ("MGET", "list", "nokey"),
    ("SETNX", "list", "v"),
    ("MSETNX", "list", "v"),
    ("APPEND", "list", "x"),
    ("STRLEN", "list"),
    ("INCR", "list"),
    ("INCRBY", "list", "abc"),
    ("DECRBY", "list", "1"),
    ("INCRBYFLOAT", "list", "1"),
    ("GETRANGE", "list", "0", "1"),
    ("GETRANGE", "list", "a", "1"),
    ("SETRANGE", "list", "0", ""),
    ("SETRANGE", "list", "-1", "a"),
    ("LCS", "list", "nokey"),
    ("LCS", "nokey", "list", "FOO"),
    ("TYPE", "list"),
    ("SET", "list", "v"),
    ("TYPE", "list"),
]


def run_script(port, commands, resp3=False):
    c = Raw(port)
    try:
        if resp3:
            hello = c.call("HELLO", "3")  # its content differs between servers
            assert hello.startswith(b"%"), f"HELLO 3 refused: {hello[:200]!r}"
        assert c.call("FLUSHALL") == b"+OK\r\n"
        return [c.call(*cmd) for cmd in commands]
    finally:
        c.close()


def assert_same(ferrite_port, redis_port, commands, resp3=False):
    got = run_script(ferrite_port, commands, resp3)
    want = run_script(redis_port, commands, resp3)
    diffs = [f"{cmd}\n  redis:   {w!r}\n  ferrite: {g!r}"
             for cmd, w, g in zip(commands, want, got) if w != g]
    assert not diffs, f"{len(diffs)} of {len(commands)} replies differ:\n" + "\n".join(diffs)


def test_side_by_side_resp2(server, redis_server):
    assert_same(server.port, redis_server.port, SIDE_BY_SIDE)


def test_side_by_side_resp3(server, redis_server):
    assert_same(server.port, redis_server.port, SIDE_BY_SIDE, resp3=True)


def has_command(port, name):
    c = Raw(port)
    try:
        return not c.call(name).startswith(b"-ERR unknown command")
    finally:
        c.close()


def test_side_by_side_wrongtype(server, redis_server):
    if not has_command(server.port, "RPUSH"):
        pytest.skip("no list module loaded in ferrite: cannot create a non-string key")
    assert_same(server.port, redis_server.port, WRONGTYPE)


# ---------------------------------------------------------------------------------------
# python3-redis against ferrite
# ---------------------------------------------------------------------------------------

def test_get_set_roundtrip_binary(server):
    r = server.redis()
    value = bytes(range(256)) * 4
    assert r.set("bin", value) is True
    assert r.get("bin") == value
    assert r.strlen("bin") == 1024
    assert r.get("missing") is None


def test_set_options(server):
    r = server.redis()
    assert r.set("k", "v", nx=True) is True
    assert r.set("k", "w", nx=True) is None
    assert r.set("k", "w", xx=True) is True
    assert r.set("other", "w", xx=True) is None
    assert r.set("k", "x", get=True) == b"w"
    assert r.set("k", "y", ex=100) is True
    assert 99 <= r.ttl("k") <= 100
    assert r.set("k", "z", keepttl=True) is True
    assert 99 <= r.ttl("k") <= 100
    assert r.set("k", "z") is True
    assert r.ttl("k") == -1
    with pytest.raises(redis.ResponseError, match="invalid expire time in 'set' command"):
        r.set("k", "v", ex=0)
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SET", "k", "v", "NX", "XX")


def test_expiry_relative_and_absolute(server):
    r = server.redis()
    r.set("px", "v", px=150)
    r.setex("ex", 100, "v")
    r.set("pxat", "v", pxat=int(time.time() * 1000) + 100000)
    assert r.get("px") == b"v"
    deadline = time.time() + 5
    while r.get("px") is not None and time.time() < deadline:
        time.sleep(0.05)
    assert r.get("px") is None
    assert 99 <= r.ttl("ex") <= 100
    assert 99 <= r.ttl("pxat") <= 100


def test_getex_and_getdel(server):
    r = server.redis()
    r.set("k", "v")
    assert r.getex("k", ex=100) == b"v"
    assert 99 <= r.ttl("k") <= 100
    assert r.getex("k", persist=True) == b"v"
    assert r.ttl("k") == -1
    assert r.getex("k", pxat=1) == b"v"
    assert r.exists("k") == 0
    r.set("d", "gone")
    assert r.getdel("d") == b"gone"
    assert r.getdel("d") is None


def test_counters(server):
    r = server.redis()
    assert r.incr("c") == 1
    assert r.incrby("c", 41) == 42
    assert r.decr("c") == 41
    assert r.decrby("c", 40) == 1
    assert r.incrbyfloat("c", 0.5) == 1.5
    assert r.get("c") == b"1.5"
    r.set("big", str(2**63 - 1))
    with pytest.raises(redis.ResponseError, match="increment or decrement would overflow"):
        r.incr("big")
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.incr("c")


def test_mset_mget_msetnx(server):
    r = server.redis()
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "c") == [b"1", b"2", None]
    assert r.msetnx({"c": "3", "a": "x"}) is False
    assert r.get("c") is None
    assert r.msetnx({"c": "3", "d": "4"}) is True


def test_ranges_and_append(server):
    r = server.redis()
    assert r.append("s", "Hello") == 5
    assert r.append("s", " World") == 11
    assert r.getrange("s", 0, 4) == b"Hello"
    assert r.setrange("s", 6, "Redis") == 11
    assert r.get("s") == b"Hello Redis"
    assert r.setrange("z", 2, "x") == 3
    assert r.get("z") == b"\x00\x00x"


def test_lcs(server):
    r = server.redis()
    r.mset({"a": "ohmytext", "b": "mynewtext"})
    assert r.execute_command("LCS", "a", "b") == b"mytext"
    assert r.execute_command("LCS", "a", "b", "LEN") == 6


def test_proto_max_bulk_len_limits_growth(server, redis_server):
    """With a 1 MB limit, APPEND and SETRANGE refuse to grow past it, as Redis does."""
    limit = 1024 * 1024
    for port in (server.port, redis_server.port):
        c = Raw(port)
        try:
            assert c.call("CONFIG", "SET", "proto-max-bulk-len", str(limit)) == b"+OK\r\n"
            assert c.call("SETRANGE", "k", str(limit - 1), "x") == b":%d\r\n" % limit
            err = b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
            assert c.call("SETRANGE", "k", str(limit), "x") == err
            assert c.call("APPEND", "k", "y") == err
            assert c.call("STRLEN", "k") == b":%d\r\n" % limit
        finally:
            c.close()


# ---------------------------------------------------------------------------------------
# Keyspace events: the same event names, in the same order, as Redis.
# ---------------------------------------------------------------------------------------

EVENT_SCRIPT = [
    ("SET", "e1", "v", "EX", "100"),
    ("SET", "e1", "v", "KEEPTTL"),
    ("SET", "e1", "v", "NX"),  # no event: nothing written
    ("SETRANGE", "e1", "1", "x"),
    ("APPEND", "e1", "z"),
    ("APPEND", "e2", ""),
    ("INCR", "n"),
    ("DECRBY", "n", "5"),
    ("INCRBYFLOAT", "n", "1.5"),
    ("GETDEL", "n"),
    ("GETEX", "e1", "PX", "100000"),
    ("GETEX", "e1", "PERSIST"),
    ("GETEX", "e1", "PERSIST"),  # no event: no expiry to remove
    ("GETSET", "e1", "q"),
    ("MSET", "m1", "1", "m2", "2"),
    ("MSETNX", "m3", "1", "m4", "2"),
    ("SETNX", "m5", "1"),
    ("SETEX", "m6", "10", "x"),
    ("PSETEX", "m7", "10000", "x"),
    ("GETEX", "m6", "PXAT", "1"),
    ("SET", "done", "1"),
]


def collect_events(port):
    sub = Raw(port)
    cmd = Raw(port)
    try:
        assert cmd.call("FLUSHALL") == b"+OK\r\n"
        assert cmd.call("CONFIG", "SET", "notify-keyspace-events", "KEA") == b"+OK\r\n"
        sub.call("PSUBSCRIBE", "__keyevent@0__:*")
        for c in EVENT_SCRIPT:
            cmd.call(*c)
        events = []
        while True:
            msg = read_reply(sub.f)
            parts = msg.split(b"\r\n")
            channel, key = parts[6], parts[8]
            events.append((channel.decode(), key.decode()))
            if key == b"done":
                return events
    finally:
        sub.close()
        cmd.close()


def test_keyspace_events_match_redis(server, redis_server):
    if not has_command(server.port, "PSUBSCRIBE"):
        pytest.skip("no pub/sub module loaded in ferrite: events cannot be observed over RESP "
                    "(the family test StringsEvents checks them in process)")
    assert collect_events(server.port) == collect_events(redis_server.port)


# ---------------------------------------------------------------------------------------
# Propagation: what reaches the AOF is deterministic (absolute expiry, SET for
# INCRBYFLOAT and GETSET, DEL for GETDEL, no GET tokens).
# ---------------------------------------------------------------------------------------

def parse_commands(data):
    """All RESP arrays in an AOF byte stream, as lists of str."""
    out, i = [], 0
    while i < len(data):
        assert data[i:i + 1] == b"*", data[i:i + 40]
        j = data.index(b"\r\n", i)
        n = int(data[i + 1:j])
        i = j + 2
        args = []
        for _ in range(n):
            j = data.index(b"\r\n", i)
            ln = int(data[i + 1:j])
            args.append(data[j + 2:j + 2 + ln].decode(errors="replace"))
            i = j + 2 + ln + 2
        out.append(args)
    return out


PROPAGATION_SCRIPT = [
    ("SET", "p1", "v", "EX", "100", "NX", "GET"),
    ("SET", "p2", "v", "GET"),
    ("SET", "p2", "w", "GET", "XX", "GET"),
    ("SET", "p3", "v", "XX"),
    ("SETEX", "p4", "100", "v"),
    ("PSETEX", "p5", "100000", "v"),
    ("GETSET", "p5", "x"),
    ("GETEX", "p5", "EX", "100"),
    ("GETEX", "p5", "PERSIST"),
    ("GETEX", "p5", "PERSIST"),
    ("GETEX", "p5"),
    ("INCRBYFLOAT", "f", "1.5"),
    ("GETDEL", "f"),
    ("GETDEL", "f"),
    ("SETNX", "f", "1"),
    ("SETNX", "f", "1"),
    ("MSETNX", "f", "1", "g", "2"),
    ("APPEND", "a", ""),
    ("SETRANGE", "b", "0", ""),
    ("GETEX", "p4", "PXAT", "1"),
    ("SET", "end", "1"),
]


def aof_commands(directory):
    found = []
    for root, _, files in os.walk(directory):
        for name in sorted(files):
            if name.endswith(".aof"):
                with open(os.path.join(root, name), "rb") as f:
                    found += parse_commands(f.read())
    return found


def normalise(cmds):
    """Replaces absolute ms timestamps (which differ run to run) by a marker."""
    out = []
    for c in cmds:
        c = [a.upper() if i == 0 else a for i, a in enumerate(c)]
        if c[0] in ("SELECT", "MULTI", "EXEC"):
            continue
        if c[0] == "SET" and len(c) == 5 and c[3].upper() == "PXAT":
            c[4] = "<abs>"
        if c[0] == "PEXPIREAT":
            c[2] = "<abs>"
        out.append(c)
    return out


def propagated(port, directory):
    c = Raw(port)
    try:
        for cmd in PROPAGATION_SCRIPT:
            c.call(*cmd)
    finally:
        c.close()
    cmds = []
    deadline = time.time() + 10
    while time.time() < deadline:
        if not any(n.endswith(".aof") for _, _, fs in os.walk(directory) for n in fs):
            time.sleep(0.05)
            continue
        cmds = normalise(aof_commands(directory))
        if cmds and cmds[-1] == ["SET", "end", "1"]:
            return cmds
        time.sleep(0.05)
    if not any(n.endswith(".aof") for _, _, fs in os.walk(directory) for n in fs):
        return None
    raise AssertionError(f"AOF never showed the last command: {cmds[-3:]}")


def test_propagation_matches_redis(server_factory, redis_server):
    f = server_factory({"persistence.aof_enabled": "true", "persistence.aof_fsync": "always"})
    peer = Raw(redis_server.port)
    try:
        assert peer.call("CONFIG", "SET", "appendonly", "yes") == b"+OK\r\n"
        deadline = time.time() + 10
        while b"aof_rewrite_in_progress:0" not in peer.call("INFO", "persistence") or \
                b"aof_enabled:1" not in peer.call("INFO", "persistence"):
            assert time.time() < deadline
            time.sleep(0.05)
    finally:
        peer.close()
    expected = [
        ["SET", "p1", "v", "PXAT", "<abs>"],
        ["SET", "p2", "v"],
        ["SET", "p2", "w", "XX"],
        ["SET", "p4", "v", "PXAT", "<abs>"],
        ["SET", "p5", "v", "PXAT", "<abs>"],
        ["SET", "p5", "x"],
        ["PEXPIREAT", "p5", "<abs>"],
        ["PERSIST", "p5"],
        ["SET", "f", "1.5", "KEEPTTL"],
        ["DEL", "f"],
        ["SETNX", "f", "1"],
        ["APPEND", "a", ""],
        ["DEL", "p4"],
        ["SET", "end", "1"],
    ]
    assert propagated(redis_server.port, redis_server.dir) == expected
    got = propagated(f.port, f.dir)
    if got is None:
        pytest.skip("ferrite wrote no AOF file with persistence.aof_enabled=true (no AOF "
                    "writer in the host yet; the family test StringsPropagation checks the "
                    "propagated forms in process)")
    assert got == expected
