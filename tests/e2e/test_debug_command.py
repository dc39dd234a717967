"""DEBUG subcommands side by side with redis-server 7.0 (started with
--enable-debug-command yes): DIGEST and DIGEST-VALUE follow Redis' algorithm, so the
same data gives the same 40 hex digits on both servers; PROTOCOL sends one reply of
each RESP3 kind as Redis does, in RESP2 and RESP3."""
import shutil
import subprocess
import tempfile

import pytest

from conftest import free_port, wait_port
from resp_compare import compare, parse_script


@pytest.fixture
def debug_peer():
    d = tempfile.mkdtemp(prefix="redis-debug-peer-")
    port = free_port()
    p = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind",
                          "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", d,
                          "--enable-debug-command", "yes"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, p)
    yield port
    p.terminate()
    p.wait(10)
    shutil.rmtree(d, ignore_errors=True)


DATA = [
    ["SET", "s", "hello"], ["SET", "n", "12345"], ["SET", "e", ""],
    ["SET", "ttl", "v", "EX", "1000"],
    ["RPUSH", "l", "a", "b", "c", "1", "2"], ["RPUSH", "l2", "c", "b", "a"],
    ["SADD", "si", "1", "2", "3"], ["SADD", "sh", "x", "y", "zz"],
    ["ZADD", "z", "1", "a", "1.5", "b", "-3", "c", "inf", "d", "0.1", "e"],
    ["HSET", "h", "f1", "v1", "f2", "2"],
    ["XADD", "x", "1-1", "f", "v", "g", "w"], ["XADD", "x", "2-0", "a", "b"],
    ["SELECT", "3"], ["SET", "s", "other db"], ["RPUSH", "l", "x"], ["SELECT", "0"],
]
KEYS = ["s", "n", "e", "ttl", "l", "l2", "si", "sh", "z", "h", "x", "missing"]


def test_digests_match_redis(server, debug_peer):
    script = [(["DEBUG", "DIGEST"], False)]  # an empty dataset: 40 zeros
    script += [(c, False) for c in DATA]
    script += [(["DEBUG", "DIGEST-VALUE"] + KEYS, False), (["DEBUG", "DIGEST"], False),
               (["DEBUG", "DIGEST-VALUE"], False)]
    bad = compare(server.port, debug_peer, script)
    assert not bad, "\n".join(bad)
    # the digest sees values: a changed element changes it
    script = [(c, False) for c in DATA] + [(["LSET", "l", "0", "A"], False),
                                           (["DEBUG", "DIGEST"], False)]
    bad = compare(server.port, debug_peer, script)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("resp", [2, 3])
def test_protocol_replies_match_redis(server, debug_peer, resp):
    kinds = ["string", "integer", "double", "bignum", "null", "array", "set", "map",
             "attrib", "push", "verbatim", "true", "false", "nope"]
    script = [(["DEBUG", "PROTOCOL", k], False) for k in kinds]
    if resp == 3:  # attrib and push are followed by a real reply: one more read each
        script.insert(kinds.index("push") + 1, (["PING"], False))
        script.insert(kinds.index("attrib") + 1, (["PING"], False))
    bad = compare(server.port, debug_peer, script, resp=resp)
    assert not bad, "\n".join(bad)


def _debug_object(port, key):
    import redis
    r = redis.Redis(port=port)
    try:
        line = r.execute_command("DEBUG", "OBJECT", key)
    except redis.ResponseError as e:
        return str(e)
    line = line.decode() if isinstance(line, bytes) else line
    return dict(f.split(":", 1) for f in line.split()[1:])


def test_debug_object_fields_as_redis(server, debug_peer):
    """DEBUG OBJECT: Redis' fields in Redis' order; the encoding and (for values that are
    not compressed and whose RDB form is the same) serializedlength equal redis-server's;
    the address stays put across an in-place INCR (the suite's 'INCR can modify objects
    in-place'); a missing key and bad arity give Redis' errors. (A list's line lacks
    Redis' ql_* quicklist figures: the lists module does not report them to the host.)"""
    cmds = [["SET", "n", "20000"], ["INCR", "n"], ["SET", "s", "hello"],
            ["SET", "r", "x" * 100], ["RPUSH", "l", "a", "b"], ["SADD", "si", "1", "2"],
            ["ZADD", "z", "1", "a"], ["HSET", "hbig", "f", "v" * 100]]
    for port in (server.port, debug_peer):
        import redis
        r = redis.Redis(port=port)
        for c in cmds:
            r.execute_command(*c)
    assert _debug_object(server.port, "l")["encoding"] == _debug_object(debug_peer, "l")["encoding"]
    for key in ("n", "s", "si", "z", "hbig"):
        ours, theirs = _debug_object(server.port, key), _debug_object(debug_peer, key)
        assert list(ours) == list(theirs), key
        assert ours["encoding"] == theirs["encoding"], key
        assert ours["refcount"] == "1" and ours["lru_seconds_idle"] == "0", key
        assert ours["at"].startswith("0x"), key
    for key in ("n", "s"):
        assert _debug_object(server.port, key)["serializedlength"] == \
            _debug_object(debug_peer, key)["serializedlength"], key
    before = _debug_object(server.port, "n")["at"]
    redis.Redis(port=server.port).incr("n")
    assert _debug_object(server.port, "n")["at"] == before
    bad = compare(server.port, debug_peer, [(["DEBUG", "OBJECT", "missing"], False),
                                           (["DEBUG", "OBJECT"], False),
                                           (["DEBUG", "NOPE", "x"], False)])
    assert not bad, "\n".join(bad)


def test_set_disable_deny_scripts_as_redis(server, debug_peer):
    """DEBUG SET-DISABLE-DENY-SCRIPTS 1 lets scripts call no-script commands (the Redis
    suite's hook for CLIENT LIST inside a script); 0 restores the refusal."""
    from resp_compare import Conn
    script = "return type(redis.call('client', 'id'))"
    out = []
    for port in (server.port, debug_peer):
        c = Conn(port)
        replies = [c.call("EVAL", script, "0"), c.call("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1"),
                   c.call("EVAL", script, "0"), c.call("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0"),
                   c.call("EVAL", script, "0")]
        c.close()
        # refusals carry the script's location in Redis' words: compare up to it
        out.append([(t, v.split(b" script:")[0]) if t == "-" else (t, v) for t, v in replies])
    assert out[0] == out[1]
    assert out[0][2] == ("$", b"number") and out[0][0][0] == "-"


PLAIN_SCRIPT = parse_script(r"""
del pl
debug quicklist-packed-threshold 5gb
debug quicklist-packed-threshold abc
debug quicklist-packed-threshold -1
debug quicklist-packed-threshold 4b
rpush pl a bb ccccc dd eeeeeeee f
lset pl 1 BBBBBBBBB
linsert pl before dd XXXXXXXXXX
linsert pl after a y
lrange pl 0 -1
lpos pl XXXXXXXXXX
lrem pl 1 ccccc
ltrim pl 1 -2
lrange pl 0 -1
lmove pl pl LEFT RIGHT
lrange pl 0 -1
debug quicklist-packed-threshold 0
lset pl 0 z
lrange pl 0 -1
""")


def test_packed_threshold_matches_redis(server, debug_peer):
    """DEBUG QUICKLIST-PACKED-THRESHOLD: elements above it are kept in nodes of their own;
    every edit around them answers as redis-server 7.0, and so do the size errors."""
    bad = compare(server.port, debug_peer, PLAIN_SCRIPT)
    assert not bad, "\n".join(bad)
