"""Hash field TTLs (Redis 7.4's HEXPIRE family, Redis 8's HSETEX / HGETEX) in a mixed
topology: a Ferrite primary with a Ferrite replica and a redis-server 7.0 replica.

The Ferrite replica holds the same TTLs as the primary. The 7.0 replica, which has no
field TTLs, gets every value (HSETEX as HSET; the TTL commands as a script it runs as a
no-op, so no transaction around them is discarded there and it logs no error) and the
same data once the primary expires the fields (HDEL). A full sync gives the 7.0 replica
a plain hash it can load (Ferrite's RDB type for a hash with field TTLs is Redis 7.4's
type 24, on which redis-server 7.0 exits)."""
import time

import pytest

from repl_util import RedisProc, dump, info, wait_caught_up, wait_for, wait_link_up

CFG = {"replication.repl_diskless_sync_delay": "0"}
# A 7.0 replica that would panic on any error its primary's stream caused.
STRICT = ["--propagation-error-behavior", "panic-on-replicas"]


def field_times(r, key, fields):
    return r.execute_command("HPEXPIRETIME", key, "FIELDS", len(fields), *fields)


def assert_no_stream_errors(rep):
    text = rep.log_text()
    assert "CRITICAL" not in text and "panicked" not in text, text[-3000:]


def attach(primary, replica):
    replica.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_link_up(replica)


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_full_sync_of_field_ttls_to_redis_and_ferrite(server_factory, redis_nodes, diskless):
    primary = server_factory({**CFG, "replication.repl_diskless_sync": diskless})
    pr = primary.redis()
    pr.hset("h", mapping={"short": "1", "long": "2", "plain": "3"})
    pr.execute_command("HPEXPIRE", "h", 1500, "FIELDS", 1, "short")
    pr.execute_command("HEXPIRE", "h", 1000, "FIELDS", 1, "long")
    pr.hset("gone", mapping={"a": "1"})
    pr.execute_command("HPEXPIRE", "gone", 1500, "FIELDS", 1, "a")
    pr.set("s", "v")
    want_times = field_times(pr, "h", ["short", "long", "plain"])

    red = RedisProc(STRICT).start()
    redis_nodes.append(red)
    rr = red.redis()
    attach(primary, rr)
    wait_caught_up(pr, rr)
    assert red.proc.poll() is None, red.log_text()[-3000:]
    # Loaded as a plain hash: every field, no TTL (7.0 has no HPEXPIRETIME).
    assert rr.hgetall("h") == {b"short": b"1", b"long": b"2", b"plain": b"3"}
    assert rr.hgetall("gone") == {b"a": b"1"} and rr.get("s") == b"v"

    fer = server_factory(CFG)
    fr = fer.redis()
    attach(primary, fr)
    wait_caught_up(pr, fr)
    assert field_times(fr, "h", ["short", "long", "plain"]) == want_times
    # The primary expires the short fields and sends HDEL: both replicas converge.
    wait_for(lambda: pr.hgetall("h") == {b"long": b"2", b"plain": b"3"}, 10, "primary expiry")
    wait_for(lambda: dump(rr) == dump(pr), 10, "redis replica converged")
    wait_for(lambda: dump(fr) == dump(pr), 10, "ferrite replica converged")
    assert rr.exists("gone") == 0
    assert rr.execute_command("DEBUG", "DIGEST") == pr.execute_command("DEBUG", "DIGEST")
    assert_no_stream_errors(red)


def test_stream_of_field_ttls_to_redis_and_ferrite(server_factory, redis_nodes):
    primary = server_factory(CFG)
    pr = primary.redis()
    red = RedisProc(STRICT).start()
    redis_nodes.append(red)
    rr = red.redis()
    fer = server_factory(CFG)
    fr = fer.redis()
    attach(primary, rr)
    attach(primary, fr)

    pr.hset("h", mapping={"a": "1", "b": "2", "c": "3", "d": "4"})
    pr.execute_command("HPEXPIRE", "h", 1500, "FIELDS", 1, "a")
    pr.execute_command("HPEXPIRE", "h", 1000, "FIELDS", 2, "b", "c")
    pr.execute_command("HPERSIST", "h", "FIELDS", 1, "c")
    # A transaction and a script with a field TTL command: their other writes must reach
    # the 7.0 replica too (an unknown command would discard the whole EXEC there).
    tx = pr.pipeline(transaction=True)
    tx.set("tx", "1")
    tx.execute_command("HPEXPIRE", "h", 1000000, "FIELDS", 1, "d")
    tx.incr("counter")
    tx.execute()
    pr.eval("redis.call('SET', KEYS[1], 'x'); "
            "redis.call('HPEXPIRE', KEYS[2], 1500, 'FIELDS', 1, 'd'); "
            "redis.call('SET', KEYS[3], 'y')", 3, "s1", "h", "s2")
    # Redis 8's HSETEX / HGETEX (7.0 knows neither): the values still arrive.
    pr.execute_command("HSETEX", "x", "PX", 1500, "FIELDS", 2, "f", "1", "g", "2")
    pr.execute_command("HSETEX", "y", "FIELDS", 1, "f", "1")
    pr.execute_command("HPEXPIRE", "y", 1000000, "FIELDS", 1, "f")
    pr.execute_command("HSETEX", "y", "KEEPTTL", "FIELDS", 1, "f", "new")
    pr.hset("z", mapping={"f": "1", "g": "2"})
    pr.execute_command("HGETEX", "z", "PX", 1500, "FIELDS", 1, "f")
    # Many fields at once (the stream splits them into chunks a Lua unpack() takes).
    big = {f"f{i}": str(i) for i in range(2500)}
    pr.hset("big", mapping=big)
    pr.execute_command("HPEXPIRE", "big", 1500, "FIELDS", len(big), *big)
    wait_caught_up(pr, fr)
    wait_caught_up(pr, rr)

    # The Ferrite replica holds the primary's field TTLs.
    for key, fields in [("h", ["a", "b", "c", "d"]), ("x", ["f", "g"]), ("y", ["f"]),
                        ("z", ["f", "g"]), ("big", ["f0", "f1999", "f2499"])]:
        assert field_times(fr, key, fields) == field_times(pr, key, fields), key
    assert dump(fr) == dump(pr)
    # The 7.0 replica has every value (fields without TTLs) and every transaction write.
    assert rr.get("tx") == b"1" and rr.get("counter") == b"1"
    assert rr.get("s1") == b"x" and rr.get("s2") == b"y"
    assert rr.hgetall("y") == {b"f": b"new"} and rr.hgetall("x") == {b"f": b"1", b"g": b"2"}
    assert rr.hlen("big") == 2500
    assert red.proc.poll() is None
    assert_no_stream_errors(red)

    # Once the primary expires the fields (HDEL in the stream) the data is the same.
    wait_for(lambda: not pr.exists("x") and not pr.exists("big"), 10, "primary expiry")
    wait_caught_up(pr, rr)
    wait_for(lambda: dump(rr) == dump(pr), 10, "redis replica converged")
    assert rr.hgetall("h") == {b"c": b"3"}
    assert rr.execute_command("DEBUG", "DIGEST") == pr.execute_command("DEBUG", "DIGEST")
    wait_caught_up(pr, fr)
    assert dump(fr) == dump(pr)
    assert_no_stream_errors(red)
    assert int(info(rr, "stats").get("unexpected_error_replies", 0)) == 0
