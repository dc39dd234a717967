"""Sets against a real ferrite-host: python3-redis usage, encodings, SSCAN, SPOP, and a
side-by-side comparison of replies (errors included) with the real redis-server 7.0."""
import pytest

from resp_compare import compare, parse_script

SCRIPT = parse_script(r"""
sadd s 3 1 2
sadd s 2 4
smembers s
object encoding s
scard s
sismember s 1
sismember s 9
smismember s 1 9 2
srem s 9 1
srem s
~ sadd t a b c 2
object encoding t
~ smembers t
sinter s t
~ sunion s t
sdiff s t
~ sdiff t s
sinterstore d s t
smembers d
object encoding d
sunionstore d s t
scard d
sdiffstore d s t
smembers d
sinterstore d s nokey
exists d
sintercard 2 s t
sintercard 2 s t limit 1
sintercard 1 s limit 0
sintercard 0 s
sintercard x s
sintercard 3 s t
sintercard 1 s limit -1
sintercard 1 s limit x
sintercard 1 s foo 1
smove s t 3
smove s t 99
smove nokey t 1
smove s s 2
smove s s 99
~ smembers t
set str x
sadd str a
srem str a
scard str
sismember str a
smismember str a
smembers str
spop str
srandmember str
smove str s 1
smove s str 2
smove s str 99
sinter s str
sinter nokey str
sunion nokey str
sdiff nokey str
sintercard 2 nokey str
sinterstore d str s
sscan str 0
spop s -1
spop s x
spop s 1 2
srandmember s -9223372036854775808
srandmember s x
srandmember s 1 2
spop nokey
spop nokey 3
srandmember nokey
srandmember nokey 3
smembers nokey
scard nokey
sismember nokey a
smismember nokey a b
sinter nokey
sunion nokey
sdiff nokey s
sscan nokey 0
sscan s x
sscan s 18446744073709551616
sscan s 0 count 0
sscan s 0 count x
sscan s 0 foo
sscan s 0 match
sscan s 0
sscan s 0 match 2*
sadd n 1 2 3
spop n 0
srandmember n 0
srandmember n 3
srandmember n 10
spop n 5
exists n
sadd
sadd s
srem s
scard
sismember s
smismember s
smembers
spop
srandmember
smove s t
sinter
sinterstore d
sintercard 1
sunion
sdiff
sscan s
del s t d n str
""")


def test_side_by_side_resp2(server, redis_server):
    assert compare(server.port, redis_server.port, SCRIPT, resp=2) == []


def test_side_by_side_resp3(server, redis_server):
    assert compare(server.port, redis_server.port, SCRIPT, resp=3) == []


def test_python_client_basics(server):
    r = server.redis(decode_responses=True)
    assert r.sadd("s", "a", "b", "c") == 3
    assert r.smembers("s") == {"a", "b", "c"}
    assert r.smismember("s", ["a", "x"]) == [1, 0]
    assert r.srem("s", "a") == 1
    assert r.smove("s", "t", "b") is True
    assert r.smembers("t") == {"b"}
    popped = r.spop("s", 5)
    assert popped == ["c"]
    assert r.exists("s") == 0
    r.sadd("x", *range(10))
    assert len(r.srandmember("x", -25)) == 25
    assert len(set(r.srandmember("x", 7))) == 7


def test_intset_to_hashtable_at_512(server):
    r = server.redis(decode_responses=True)
    r.sadd("s", *range(512))
    assert r.object("encoding", "s") == "intset"
    r.sadd("s", 512)
    assert r.object("encoding", "s") == "hashtable"
    r.srem("s", *range(10, 513))
    assert r.object("encoding", "s") == "hashtable"  # never converts back


def test_sscan_returns_every_member_while_set_grows(server):
    r = server.redis(decode_responses=True)
    r.sadd("s", *[f"m{i}" for i in range(1000)])
    seen, cursor, steps = set(), 0, 0
    while True:
        cursor, items = r.sscan("s", cursor, count=50)
        seen.update(items)
        steps += 1
        if steps == 3:
            r.sadd("s", *[f"n{i}" for i in range(5000)])
        if cursor == 0:
            break
    assert {f"m{i}" for i in range(1000)} <= seen


def test_spop_count_removes_what_it_returns(server):
    r = server.redis(decode_responses=True)
    r.sadd("s", *[f"m{i}" for i in range(100)])
    got = r.spop("s", 30)
    assert len(set(got)) == 30
    rest = r.smembers("s")
    assert len(rest) == 70 and not (set(got) & rest)


def test_store_drops_ttl_and_wrongtype_keeps_dst(server):
    r = server.redis(decode_responses=True)
    r.sadd("a", 1, 2)
    r.sadd("d", 9)
    r.expire("d", 100)
    assert r.sunionstore("d", "a") == 2
    assert r.ttl("d") == -1
    r.set("str", "x")
    with pytest.raises(Exception, match="WRONGTYPE"):
        r.sunionstore("d", "a", "str")
    assert r.smembers("d") == {"1", "2"}


# --- encoding thresholds on snapshot load and COPY (same answers as redis-server 7.0) ---

SET_FILL = [("SADD", "six", 1, 2, 3, 4, 5, 6), ("SADD", "strs", "a", "b")]
SET_STEPS = [("set-max-intset-entries", 4), ("set-max-intset-entries", 512)]
SET_WANT = [("hashtable", "hashtable"), ("intset", "hashtable")]


def test_reload_uses_the_live_intset_threshold(server):
    from encoding_reload import encodings
    r = server.redis(decode_responses=True)
    assert encodings(r, SET_FILL, SET_STEPS, ["six", "strs"]) == SET_WANT
    assert r.smembers("six") == {"1", "2", "3", "4", "5", "6"}


def test_reload_thresholds_match_redis():
    from encoding_reload import debug_redis, encodings
    with debug_redis() as peer:
        assert encodings(peer, SET_FILL, SET_STEPS, ["six", "strs"]) == SET_WANT


def test_copy_keeps_the_source_encoding_like_redis(server, redis_server):
    import redis
    for port in (server.port, redis_server.port):
        r = redis.Redis(port=port, socket_timeout=10, decode_responses=True)
        r.sadd("s", *range(6))
        r.config_set("set-max-intset-entries", 4)
        r.copy("s", "s2")
        assert r.object("encoding", "s2") == "intset"
        assert r.smembers("s2") == {str(i) for i in range(6)}
        r.config_set("set-max-intset-entries", 512)
