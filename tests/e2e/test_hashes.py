"""Hashes against a real ferrite-host: the guide's user example, HSCAN, HRANDFIELD,
Redis 7.4 field expiry, and a side-by-side comparison with the real redis-server 7.0
(field-expiry commands are 7.4-only, so they are checked against fixed expectations)."""
import time

from resp_compare import compare, parse_script

SCRIPT = parse_script(r"""
hset h a 1 b 2
hset h a 10 c 3
hset h a
hset h a 1 b
hmset h d 4
hmset h d
hsetnx h a x
hsetnx h e 5
hget h a
hget h zz
hget nokey a
~ hmget h a zz e
hmget nokey a b
hlen h
hlen nokey
hstrlen h a
hstrlen h zz
hexists h a
hexists h zz
~ hkeys h
~ hvals h
~ hgetall h
hgetall nokey
hdel h zz
hdel h a b
hdel nokey a
hincrby h n 5
hincrby h n -7
hincrby h n x
hset h s abc f 1.5 big 9223372036854775800
hincrby h s 1
hincrby h big 100
hincrbyfloat h f 0.1
hincrbyfloat h f x
hincrbyfloat h f inf
hincrbyfloat h s 1
hincrbyfloat h g 3.0e3
hincrbyfloat h f -1.6
hrandfield nokey
hrandfield nokey 3
hrandfield h x
hrandfield h 1 foo
hrandfield h 1 withvalues x
hrandfield h -9223372036854775807 withvalues
hrandfield h 0
hset one only 1
hrandfield one
hrandfield one 5
hrandfield one -3
hrandfield one -2 withvalues
hrandfield one 2 withvalues
hscan h x
hscan h 0 count 0
hscan h 0 count x
hscan h 0 foo
hscan nokey 0
hscan one 0
hscan one 0 match o*
hscan one 0 match x*
object encoding h
hset long f 01234567890123456789012345678901234567890123456789012345678901234
object encoding long
set s v
hset s a 1
hget s a
hgetall s
hincrby s a 1
hincrbyfloat s a 1
hrandfield s
hscan s 0
hlen s
hdel s a
type h
hget
""")


def test_guide_user_example(server):
    r = server.redis()
    assert r.hset("user:1", mapping={"name": "Alice", "email": "alice@example.com"}) == 2
    assert r.hget("user:1", "name") == b"Alice"
    assert r.hgetall("user:1") == {b"name": b"Alice", b"email": b"alice@example.com"}


def test_side_by_side_with_redis(server, redis_server):
    assert compare(server.port, redis_server.port, SCRIPT) == []


def test_side_by_side_resp3(server, redis_server):
    assert compare(server.port, redis_server.port, SCRIPT, resp=3) == []


def test_hscan_big_hash(server):
    r = server.redis()
    r.hset("big", mapping={f"f{i}": i for i in range(5000)})
    assert r.object("encoding", "big") == b"hashtable"
    seen = dict(r.hscan_iter("big", count=100))
    assert len(seen) == 5000 and seen[b"f4999"] == b"4999"


def test_field_expiry(server):
    r = server.redis()
    r.hset("h", mapping={"a": 1, "b": 2})
    assert r.execute_command("HPEXPIRE", "h", 200, "FIELDS", 1, "a") == [1]
    assert r.execute_command("HTTL", "h", "FIELDS", 2, "a", "b") == [1, -1]
    assert r.execute_command("HPEXPIRE", "h", 100, "NX", "FIELDS", 1, "a") == [0]
    time.sleep(0.35)
    assert r.hget("h", "a") is None
    assert r.hgetall("h") == {b"b": b"2"}
    assert r.execute_command("HEXPIRE", "h", 0, "FIELDS", 2, "b", "zz") == [2, -2]
    assert r.exists("h") == 0


def test_field_ttl_survives_aof_rewrite_order(server):
    r = server.redis()
    r.hset("h", mapping={"a": 1})
    assert r.execute_command("HEXPIRE", "h", 100, "FIELDS", 1, "a") == [1]
    assert r.execute_command("HPERSIST", "h", "FIELDS", 1, "a") == [1]
    assert r.execute_command("HPERSIST", "h", "FIELDS", 1, "a") == [-1]
