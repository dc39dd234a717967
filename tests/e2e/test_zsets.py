"""Sorted sets against a real ferrite-host: python3-redis usage, encodings, blocking
pops, float formatting, and a side-by-side comparison of ~150 replies (errors
included) with the real redis-server 7.0 in RESP2 and RESP3."""
import threading
import time

import pytest

from resp_compare import Conn, compare, parse_script

SCRIPT = parse_script(r"""
zadd z 1.1 a 2 b 3 c
zscore z a
zadd z xx nx 1 a
zadd z gt lt 1 a
zadd z gt nx 1 a
zadd z incr 1 a 2 b
zadd z 1 a 2
zadd z x a
zadd z nan a
zadd z incr 1 a
zadd z nx incr 1 a
zadd z xx incr 1 nokey
zadd zn xx 1 a
exists zn
zadd z ch 5 a 2 b 3 c
zadd z gt ch 1 a 6 b
zadd z lt incr -1 a
zadd z gt incr -1 a
zadd z lt ch 0 c 100 d
zadd z inf e -inf f
zincrby z 1 b
zincrby z -inf e
zincrby z x a
zincrby nokey2 2.5 m
zrange z 0 -1 withscores
zrange z 0 -1
zrange z -2 -1 withscores
zrange z 1 3 rev
zrange z 5 2
zrange z 0 -1 byscore rev
zrange z (1 +inf byscore withscores
zrange z +inf (1 byscore rev withscores
zrange z 0 1 limit 0 1
zrange z 0 1 limit 5 -1
zrange z -inf +inf byscore limit 1 2
zrange z -inf +inf byscore limit -1 2
zrange z -inf +inf byscore limit 10 1
zrange z - + bylex withscores
zrange z 0 -1 bylex
zrange z byscore 1 2
zrange z 0 -1 rev rev
zrevrange z 0 1 withscores
zrevrange z 0 1 limit 0 1
zrangebyscore z 1 2 byscore
zrangebyscore z -inf +inf withscores limit 1 1
zrangebyscore z -inf +inf limit 0
zrangebyscore z (1 x
zrangebyscore z 2 (3x
zrangebyscore z 1 5 limit 0 2 withscores
zrangebyscore z 1 2 limit 0 1 limit 1 1
zrevrangebyscore z 4 2
zrevrangebyscore z +inf -inf withscores limit 1 2
zcount z -inf +inf
zcount z (1 3
zcount z (1 x
zcount z 5 1
zadd lx 0 a 0 b 0 c 0 d 0 e
zrangebylex lx - +
zrangebylex lx (a [c
zrangebylex lx [b (d
zrangebylex lx - + limit 1 2
zrangebylex lx - + limit -1 2
zrangebylex lx a b
zrangebylex lx [a x
zrangebylex lx - + withscores
zrevrangebylex lx + -
zrevrangebylex lx [c (a
zlexcount lx - +
zlexcount lx (a [c
zlexcount lx a b
zlexcount lx + -
zrank z c
zrank z x
zrevrank z c
zrank nokey a
zrank z a foo bar
zmscore z a x c
zmscore nokey a
zscore z x
zscore nokey x
zcard z
zcard nokey
zrem z x c
zrem nokey a
zrandmember z x
zrandmember z -9223372036854775808
zrandmember z 1 foo
zrandmember z 1 withscores foo
zrandmember nokey
zrandmember nokey 2
zrandmember z 0
zrandmember z 100 withscores
zpopmin z -1
zpopmin z x
zpopmin z 1 2
zpopmin z
zpopmax z 2
zpopmin nokey
zpopmin nokey 2
zpopmin z 0
zadd z 1 a 2 b 3 c 4 d
zmpop 1 z min
zmpop 1 z max count 2
zmpop 1 nokey min
zmpop 2 nokey z max
zmpop 0 z min
zmpop x z min
zmpop 1 z foo
zmpop 1 z min count 0
zmpop 1 z min count x
zmpop 1 z min count 1 count 2
zmpop 2 z min
zmpop 3 z min
zmpop 1 z count 1 min
bzpopmin z x
bzpopmin z -1
bzpopmin z -0.5
bzpopmin z inf
bzmpop x 1 z min
zadd z 5 e 6 f 7 g
bzpopmin z 0
bzpopmax nokey z 0
bzmpop 0 1 z min count 5
zadd z 1 a 2 b 3 c
sadd s a x
zunion 1 z withscores
zunion 2 z s withscores
zinter 2 z s withscores
zdiff 2 z s withscores
zunion 2 z s weights 2 3 withscores
zunion 2 z s aggregate max withscores
zunion 2 z s aggregate min withscores
zinter 2 z s weights 1 0.5 aggregate max withscores
zunion 1 z aggregate max aggregate min withscores
zunion 1 z weights 2 weights 3 withscores
zunionstore d 0 z
zunionstore d 2 z
zunionstore d x z
zunionstore d 1 z weights x
zunionstore d 1 z weights 1 2
zunionstore d 1 z aggregate foo
zunion 1 z weights 1 aggregate
zdiff 1 z weights 1
zinter 0 z
zunionstore d 2 z s
zrange d 0 -1 withscores
object encoding d
zinterstore d 2 z s
zrange d 0 -1 withscores
zdiffstore d 2 z s
zrange d 0 -1 withscores
zinterstore d 2 z nokey
exists d
zintercard 2 z s
zintercard 1 z limit 1
zintercard 1 z limit 0
zintercard 1 z limit 1 limit 2
zintercard 1 z limit -1
zintercard 2 z
zintercard 0 z
zadd inf1 inf a
zadd inf2 -inf a
zunion 2 inf1 inf2 withscores
zunion 2 inf1 inf2 weights 0 1 withscores
zincrby inf1 -inf a
zrangestore d z 0 -1
zrange d 0 -1 withscores
zrangestore d z 0 -1 withscores
zrangestore d nokey 0 -1
exists d
zrangestore d z (1 +inf byscore limit 0 1
zrange d 0 -1 withscores
zrangestore d z [b + bylex rev
zremrangebyscore z 5 5
zremrangebyrank z x 1
zremrangebylex lx - (b
zrange lx 0 -1
zremrangebyscore z (1 x
zremrangebylex lx x y
zremrangebyrank z -100 100
exists z
zscan lx 0
zscan lx x
zscan lx 0 count 0
zscan lx 0 match c*
zscan nokey 0
zadd fl 1.5 half 0.1 tenth 3 three -0 negzero 1e20 big
zrange fl 0 -1 withscores
zscan fl 0
set str x
zadd str 1 a
zincrby str 1 a
zrem str a
zcard str
zscore str a
zmscore str a
zrank str a
zcount str 0 1
zlexcount str - +
zrange str 0 -1
zrangebyscore str 0 1
zrangebylex str - +
zremrangebyrank str 0 1
zpopmin str
zmpop 1 str min
bzpopmin str 0
zrandmember str
zscan str 0
zunion 2 fl str
zunionstore d 2 fl str
zintercard 2 fl str
zrangestore d str 0 -1
zadd
zadd z 1
zincrby z 1
zrem z
zcard
zscore z
zmscore z
zrank z
zcount z 1
zlexcount z 1
zrange z 1
zrangestore d z 1
zrangebyscore z 1
zremrangebyrank z 1
zpopmin
zmpop 1
bzpopmin z
bzmpop 0 1
zrandmember
zunion 1
zunionstore d 1
zintercard 1
zscan z
""")


def test_side_by_side_resp2(server, redis_server):
    assert compare(server.port, redis_server.port, SCRIPT, resp=2) == []


def test_side_by_side_resp3(server, redis_server):
    assert compare(server.port, redis_server.port, SCRIPT, resp=3) == []


def test_python_client_basics(server):
    r = server.redis(decode_responses=True)
    assert r.zadd("z", {"a": 1, "b": 2, "c": 3}) == 3
    assert r.zscore("z", "b") == 2.0
    assert r.zrange("z", 0, -1, withscores=True) == [("a", 1.0), ("b", 2.0), ("c", 3.0)]
    assert r.zrangebyscore("z", "(1", "+inf") == ["b", "c"]
    assert r.zincrby("z", 5, "a") == 6.0
    assert r.zrank("z", "a") == 2
    assert r.zpopmin("z") == [("b", 2.0)]
    assert r.zunionstore("u", {"z": 2}) == 2
    assert r.zrange("u", 0, -1, withscores=True) == [("c", 6.0), ("a", 12.0)]


def test_zscore_uses_17_digit_formatting(server):
    c = Conn(server.port)
    c.call("ZADD", "z", "1.1", "a")
    assert c.call("ZSCORE", "z", "a") == ("$", b"1.1000000000000001")
    c3 = Conn(server.port, resp=3)
    assert c3.call("ZSCORE", "z", "a") == (",", b"1.1000000000000001")


def test_listpack_to_skiplist(server):
    r = server.redis(decode_responses=True)
    r.zadd("z", {f"m{i}": i for i in range(128)})
    assert r.object("encoding", "z") == "listpack"
    r.zadd("z", {"m128": 128})
    assert r.object("encoding", "z") == "skiplist"
    r.zadd("long", {"x" * 64: 1})
    assert r.object("encoding", "long") == "listpack"
    r.zadd("long", {"y" * 65: 1})
    assert r.object("encoding", "long") == "skiplist"


def test_big_set_ranks_and_ranges(server):
    r = server.redis(decode_responses=True)
    n = 5000
    r.zadd("z", {f"m{i:05d}": i for i in range(n)})
    assert r.zcard("z") == n
    assert r.zrank("z", "m04321") == 4321
    assert r.zrevrank("z", "m04321") == n - 1 - 4321
    assert r.zrange("z", 2500, 2502) == ["m02500", "m02501", "m02502"]
    assert r.zcount("z", 100, "(200") == 100
    assert r.zremrangebyrank("z", 0, 999) == 1000
    assert r.zrange("z", 0, 0) == ["m01000"]


def test_bzpopmin_served_by_zadd_from_another_client(server):
    waiter = server.redis(decode_responses=True)
    writer = server.redis(decode_responses=True)
    got = {}

    def wait():
        got["v"] = waiter.bzpopmin(["k1", "k2"], timeout=5)

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.2)
    writer.zadd("k2", {"m": 7})
    t.join(10)
    assert got["v"] == ("k2", "m", 7.0)
    assert writer.exists("k2") == 0


def test_bzmpop_times_out_with_null(server):
    r = server.redis(decode_responses=True)
    t0 = time.time()
    assert r.execute_command("BZMPOP", "0.1", "1", "nokey", "MIN") is None
    assert time.time() - t0 < 5


def test_bzpopmax_in_multi_does_not_block(server):
    r = server.redis(decode_responses=True)
    p = r.pipeline(transaction=True)
    p.bzpopmax("nokey", timeout=0)
    assert p.execute() == [None]


def test_zscan_full_iteration_while_growing(server):
    r = server.redis(decode_responses=True)
    r.zadd("z", {f"m{i}": i for i in range(1000)})
    seen, cursor, steps = set(), 0, 0
    while True:
        cursor, items = r.zscan("z", cursor, count=50)
        seen.update(m for m, _ in items)
        steps += 1
        if steps == 3:
            r.zadd("z", {f"n{i}": i for i in range(4000)})
        if cursor == 0:
            break
    assert {f"m{i}" for i in range(1000)} <= seen


# --- encoding thresholds on snapshot load and COPY (same answers as redis-server 7.0) ---

ZSET_FILL = [("ZADD", "six", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e", 6, "f"),
             ("ZADD", "long", 1, "abcdefghij")]
ZSET_STEPS = [("zset-max-listpack-entries", 4), ("zset-max-listpack-entries", 128),
              ("zset-max-listpack-value", 5), ("zset-max-listpack-value", 64)]
ZSET_WANT = [("skiplist", "listpack"), ("listpack", "listpack"),
             ("listpack", "skiplist"), ("listpack", "listpack")]


def test_reload_uses_the_live_listpack_thresholds(server):
    from encoding_reload import encodings
    r = server.redis(decode_responses=True)
    assert encodings(r, ZSET_FILL, ZSET_STEPS, ["six", "long"]) == ZSET_WANT
    assert r.zrange("six", 0, -1, withscores=True)[-1] == ("f", 6.0)


def test_reload_thresholds_match_redis():
    from encoding_reload import debug_redis, encodings
    with debug_redis() as peer:
        got = encodings(peer, ZSET_FILL, ZSET_STEPS, ["six", "long"])
    # Same as ferrite, except one known difference: Redis 7.0 reloads a zset it saved
    # as a listpack without checking zset-max-listpack-value (only -entries), so "long"
    # stays a listpack there. Ferrite saves the plain ZSET_2 form and so applies both
    # thresholds, as Redis does for a ZSET_2 (or to a ZADD).
    assert got == ZSET_WANT[:2] + [("listpack", "listpack")] + ZSET_WANT[3:]


def test_copy_keeps_the_source_encoding_like_redis(server, redis_server):
    want = None
    for port in (server.port, redis_server.port):
        import redis
        r = redis.Redis(port=port, socket_timeout=10, decode_responses=True)
        r.zadd("z", {c: i for i, c in enumerate("abcdef")})
        r.config_set("zset-max-listpack-entries", 4)
        r.copy("z", "z2")
        got = (r.object("encoding", "z2"), r.zrange("z2", 0, -1))
        r.config_set("zset-max-listpack-entries", 128)
        want = want or got
        assert got == want == ("listpack", list("abcdef"))
