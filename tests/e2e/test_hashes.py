"""Hashes against a real ferrite-host: the guide's user example, HSCAN, HRANDFIELD,
Redis 7.4 field expiry, and a side-by-side comparison with the real redis-server 7.0
(field-expiry commands are 7.4-only, so they are checked against fixed expectations)."""
import os
import shutil
import struct
import time

import pytest

from persist_util import RedisPeer, listpack, rdb_file, rdb_string, wait_log
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


# --- active field expiry, notifications, AOF and RDB (field TTLs) ---------------------

def wait_until(pred, timeout=2.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def test_fully_expired_hash_disappears_without_being_touched(server):
    r = server.redis()
    r.hset("gone", mapping={"a": 1, "b": 2})
    r.hset("kept", mapping={"x": 1, "y": 2})
    assert r.execute_command("HPEXPIRE", "gone", 100, "FIELDS", 2, "a", "b") == [1, 1]
    assert r.execute_command("HPEXPIRE", "kept", 100, "FIELDS", 1, "x") == [1]
    # Only key-level commands from here: no hash command opens either key.
    assert wait_until(lambda: r.dbsize() == 1), r.keys("*")
    assert r.exists("gone") == 0
    assert r.keys("*") == [b"kept"]
    assert [k for k in r.scan_iter()] == [b"kept"]
    assert r.hgetall("kept") == {b"y": b"2"}


def test_active_field_expiry_publishes_hexpired_and_del(server):
    r = server.redis()
    r.config_set("notify-keyspace-events", "KEA")
    ps = server.redis().pubsub()
    ps.psubscribe("__keyevent@0__:*")
    assert ps.get_message(timeout=5)["type"] == "psubscribe"
    r.hset("part", mapping={"a": 1, "b": 2})
    r.hset("whole", mapping={"a": 1})
    r.execute_command("HPEXPIRE", "part", 100, "FIELDS", 1, "a")
    r.execute_command("HPEXPIRE", "whole", 100, "FIELDS", 1, "a")
    want = {("hexpired", "part"), ("hexpired", "whole"), ("del", "whole")}
    seen = []
    deadline = time.time() + 2.0
    while time.time() < deadline and not want <= set(seen):
        m = ps.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if m:
            seen.append((m["channel"].decode().split(":", 1)[1], m["data"].decode()))
    assert want <= set(seen), seen
    # Redis 7.4's order for a hash emptied by field expiry: hexpired, then del
    assert seen.index(("hexpired", "whole")) < seen.index(("del", "whole"))
    ps.close()


def test_aof_after_active_field_expiry_replays_to_the_same_state(server_factory):
    s = server_factory({"persistence.aof_enabled": "true", "persistence.aof_fsync": "always"})
    r = s.redis()
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    r.hset("g", mapping={"x": 1})
    r.execute_command("HPEXPIRE", "h", 100, "FIELDS", 2, "a", "b")
    r.execute_command("HPEXPIRE", "g", 100, "FIELDS", 1, "x")
    r.execute_command("HPEXPIRE", "h", 600_000, "FIELDS", 1, "c")
    assert wait_until(lambda: r.dbsize() == 1)
    aof = open(os.path.join(s.dir, "appendonly.aof"), "rb").read()
    for field in (b"a", b"b"):  # the active cycle propagated one HDEL per field
        assert b"HDEL\r\n$1\r\nh\r\n$1\r\n" + field + b"\r\n" in aof, aof
    assert b"HDEL\r\n$1\r\ng\r\n$1\r\nx\r\n" in aof
    ttl = r.execute_command("HPEXPIRETIME", "h", "FIELDS", 1, "c")
    s.kill9()
    s.start()
    r = s.redis()
    assert r.keys("*") == [b"h"]
    assert r.hgetall("h") == {b"c": b"3"}
    assert r.execute_command("HPEXPIRETIME", "h", "FIELDS", 1, "c") == ttl


def test_field_ttls_survive_debug_reload_and_restart(server_factory):
    s = server_factory()
    r = s.redis()
    r.hset("small", mapping={"a": 1, "b": 2, "c": 3})
    r.hset("big", mapping={f"f{i}": i for i in range(600)})  # > 512: a hashtable
    r.execute_command("HPEXPIRE", "small", 100_000, "FIELDS", 1, "a")
    r.execute_command("HPEXPIRE", "small", 300, "FIELDS", 1, "c")
    r.execute_command("HPEXPIRE", "big", 200_000, "FIELDS", 2, "f1", "f2")
    at = r.execute_command("HPEXPIRETIME", "small", "FIELDS", 1, "a")
    big_at = r.execute_command("HPEXPIRETIME", "big", "FIELDS", 2, "f1", "f2")
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    assert r.execute_command("HPEXPIRETIME", "small", "FIELDS", 3, "a", "b", "c")[:2] == [at[0], -1]
    assert r.execute_command("HPEXPIRETIME", "big", "FIELDS", 3, "f1", "f2", "f3") == big_at + [-1]
    assert r.object("encoding", "big") == b"hashtable"
    # Saved while c is alive; restarted after its TTL passed: c is dropped on load.
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    assert r.save()
    s.stop()
    time.sleep(0.4)
    s.start()
    r = s.redis()
    assert r.hgetall("small") == {b"a": b"1", b"b": b"2"}
    assert r.execute_command("HPEXPIRETIME", "small", "FIELDS", 2, "a", "c") == [at[0], -2]
    assert r.hlen("big") == 600
    assert r.execute_command("HPEXPIRETIME", "big", "FIELDS", 2, "f1", "f2") == big_at


def test_rdb_writes_redis_74_hash_metadata_only_for_hashes_with_ttls(server_factory):
    s = server_factory()
    r = s.redis()
    at = 4_000_000_000_000  # ms, year 2096
    r.hset("hx", mapping={"a": "v", "b": "w"})
    r.execute_command("HPEXPIREAT", "hx", at, "FIELDS", 1, "a")
    r.hset("hp", mapping={"a": "v"})
    r.execute_command("HPEXPIREAT", "hp", at, "FIELDS", 1, "a")
    r.execute_command("HPERSIST", "hp", "FIELDS", 1, "a")
    assert r.save()
    data = open(os.path.join(s.dir, "dump.rdb"), "rb").read()
    # RDB_TYPE_HASH_METADATA (24), key, min expire (8 bytes LE ms), 2 fields, then the
    # first field: ttl relative to the min plus one (1), name, value.
    head = bytes([24, 2]) + b"hx" + struct.pack("<Q", at) + b"\x02" + b"\x01" + b"\x01a"
    assert head in data
    assert bytes([4, 2]) + b"hp" in data  # no TTL left: the plain hash type


def test_redis_70_loads_a_snapshot_whose_hashes_have_no_ttls(server_factory):
    s = server_factory()
    r = s.redis()
    r.hset("plain", mapping={"a": "1", "b": "2"})
    r.hset("was", mapping={f"f{i}": i for i in range(200)})
    r.execute_command("HPEXPIRE", "was", 100_000, "FIELDS", 1, "f1")
    r.execute_command("HPERSIST", "was", "FIELDS", 1, "f1")
    assert r.save()
    peer = RedisPeer(extra=["--dbfilename", "dump.rdb"])
    try:
        shutil.copy(os.path.join(s.dir, "dump.rdb"), os.path.join(peer.dir, "dump.rdb"))
        peer.start()
        pr = peer.redis()
        assert pr.hgetall("plain") == {b"a": b"1", b"b": b"2"}
        assert pr.hlen("was") == 200
        assert "Done loading RDB" in open(peer.log).read()
    finally:
        peer.cleanup()


def listpack_ex_hash(key, triplets):
    """A key as Redis 7.4 saves a small hash with field TTLs: RDB_TYPE_HASH_LISTPACK_EX
    (25), the key, the min expire (8 bytes LE ms), then a listpack of (field, value, ttl)
    triplets, ttl the absolute expiry in ms or 0 for none."""
    min_expire = min([t for _, _, t in triplets if t] or [0])
    items = [x for triplet in triplets for x in triplet]
    return (bytes([25]) + rdb_string(key) + struct.pack("<Q", min_expire) +
            rdb_string(listpack(items)))


def test_hand_built_listpack_matches_the_bytes_redis_writes():
    """The type-25 files below are built by hand (no Redis 7.4 here): the listpack helper
    must produce exactly what redis-server writes (7.0's DUMP of a listpack hash; 7.4's
    listpackEx uses the same encoder, its TTLs are lpAppendInteger'd)."""
    items = [b"a", b"1", b"b", b"two", b"c", b"4000000000000", b"neg", b"-5000", b"m", b"70000",
             b"x" * 70, b"-7", b"y" * 300, b"2147483648", b"z", b"-129", b"w" * 5000, b"0"]
    peer = RedisPeer(extra=["--hash-max-listpack-value", "5000", "--rdbcompression", "no"])
    try:
        pr = peer.start().redis()
        pr.hset("h", mapping=dict(zip(items[::2], items[1::2])))
        dumped = pr.dump("h")
        assert dumped[0] == 16  # RDB_TYPE_HASH_LISTPACK
        assert listpack(items) in dumped
    finally:
        peer.cleanup()


def test_loads_a_redis_74_dump_with_listpack_ex_hashes(server_factory):
    now = int(time.time() * 1000)
    hour = now + 3_600_000
    body = (listpack_ex_hash(b"h", [(b"a", b"1", hour), (b"b", b"two", 0),
                                    (b"gone", b"x", now - 60_000)])
            + listpack_ex_hash(b"soon", [(b"s", b"1", now + 1_000)])
            + listpack_ex_hash(b"dead", [(b"d", b"1", now - 1)]))
    s = server_factory(start=False)
    with open(os.path.join(s.dir, "dump.rdb"), "wb") as f:
        f.write(rdb_file(body, version=12))  # REDIS0012, as Redis 7.4 writes
    s.start()
    r = s.redis()
    assert r.hgetall("h") == {b"a": b"1", b"b": b"two"}
    a_ttl, b_ttl, gone_ttl = r.execute_command("HTTL", "h", "FIELDS", 3, "a", "b", "gone")
    assert 3590 <= a_ttl <= 3600 and (b_ttl, gone_ttl) == (-1, -2)
    assert r.execute_command("HPEXPIRETIME", "h", "FIELDS", 1, "a") == [hour]
    assert r.object("encoding", "h") == b"listpackex"
    assert r.exists("dead") == 0  # every field expired on disk: no key
    # Loaded TTLs are actively expired: "soon" disappears without a hash command.
    assert wait_until(lambda: r.exists("soon") == 0, timeout=5.0)


def test_listpack_ex_hash_with_a_duplicate_field_stops_startup(server_factory):
    body = listpack_ex_hash(b"h", [(b"a", b"1", 0), (b"a", b"2", 0)])
    s = server_factory(start=False)
    with open(os.path.join(s.dir, "dump.rdb"), "wb") as f:
        f.write(rdb_file(body, version=12))
    with pytest.raises(RuntimeError):
        s.start()
    wait_log(s, "cannot load value of key 'h'")


def test_default_encoding_thresholds_match_redis(server, redis_server):
    """Redis 7.0 keeps a hash of up to 512 fields (hash-max-listpack-entries' default)
    compact; Ferrite defaulted to 128 and answered "hashtable" for 129..512 fields."""
    fields = " ".join(f"f{i} v{i}" for i in range(512))
    script = parse_script(f"""
CONFIG GET hash-max-listpack-entries
CONFIG GET hash-max-listpack-value
HSET h {fields}
OBJECT ENCODING h
HSET h one-more v
OBJECT ENCODING h
""")
    assert compare(server.port, redis_server.port, script) == []
