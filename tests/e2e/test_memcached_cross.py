"""One keyspace: memcached (text and binary) and RESP clients see each other's writes,
plus the migration guide's dual-write and cache-warming examples run against Ferrite."""
import re
import socket
import struct
import time

import pytest

from conftest import transcript


def mc(server):
    return socket.create_connection(("127.0.0.1", server.mc_port), timeout=10)


def set_and_gets(s, key, flags, value):
    """Stores `value` under `key` over memcached socket `s`; returns the item's CAS."""
    transcript(s, b"set %s %d 0 %d\r\n%s\r\n" % (key, flags, len(value), value), b"STORED\r\n")
    s.sendall(b"gets %s\r\n" % key)
    reply = re.match(rb"VALUE %s %d %d (\d+)\r\n" % (key, flags, len(value)), s.recv(1000))
    return int(reply.group(1))


def test_resp_set_is_a_memcached_item_with_flags_0(mc_server):
    r = mc_server.redis()
    r.set("rk", "hello")
    transcript(mc(mc_server), b"get rk\r\n", b"VALUE rk 0 5\r\nhello\r\nEND\r\n")


def test_memcached_set_is_a_plain_string_with_ttl(mc_server):
    transcript(mc(mc_server), b"set mk 42 100 5\r\nworld\r\n", b"STORED\r\n")
    r = mc_server.redis()
    assert r.get("mk") == b"world"
    assert r.type("mk") == b"string"
    assert 98 <= r.ttl("mk") <= 100
    transcript(mc(mc_server), b"set nottl 0 0 1\r\nx\r\n", b"STORED\r\n")
    assert r.ttl("nottl") == -1


def test_flags_survive_resp_reads_and_cas_sees_resp_writes(mc_server):
    s = mc(mc_server)
    cas = set_and_gets(s, b"ck", 7, b"a")
    r = mc_server.redis()
    assert r.get("ck") == b"a"                 # a read does not change the cas
    transcript(s, b"gets ck\r\n", b"VALUE ck 7 1 %d\r\na\r\nEND\r\n" % cas)
    r.set("ck", "b")                           # a RESP write does
    transcript(s, b"cas ck 0 0 1 %d\r\nc\r\n" % cas, b"EXISTS\r\n")
    transcript(s, b"get ck\r\n", b"VALUE ck 0 1\r\nb\r\nEND\r\n")


def test_memcached_write_aborts_resp_transaction(mc_server):
    r = mc_server.redis()
    r.set("wk", "0")
    pipe = r.pipeline()
    pipe.watch("wk")
    pipe.multi()
    pipe.set("wk", "from-resp")
    transcript(mc(mc_server), b"set wk 0 0 2\r\nmc\r\n", b"STORED\r\n")
    import redis
    with pytest.raises(redis.WatchError):
        pipe.execute()
    assert r.get("wk") == b"mc"


def test_memcached_touch_keeps_cas_but_aborts_resp_transaction(mc_server):
    # touch keeps the item's CAS (as memcached does), yet a WATCHing RESP client still
    # sees the TTL change, as it would an EXPIRE.
    s = mc(mc_server)
    cas = set_and_gets(s, b"tk", 0, b"a")
    r = mc_server.redis()
    pipe = r.pipeline()
    pipe.watch("tk")
    pipe.multi()
    pipe.set("tk", "from-resp")
    transcript(s, b"touch tk 100\r\n", b"TOUCHED\r\n")
    import redis
    with pytest.raises(redis.WatchError):
        pipe.execute()
    transcript(s, b"cas tk 0 0 1 %d\r\nb\r\n" % cas, b"STORED\r\n")


def watch_then(r, key, mc_writes, s):
    """WATCH key, MULTI, SET key; the memcached requests (request, reply) in between;
    returns True when EXEC ran, False when it aborted."""
    import redis
    pipe = r.pipeline()
    pipe.watch(key)
    pipe.multi()
    pipe.set(key, "from-resp")
    for req, reply in mc_writes:
        transcript(s, req, reply)
    try:
        pipe.execute()
        return True
    except redis.WatchError:
        return False


def test_explicit_cas_write_aborts_resp_transaction(mc_server):
    """A meta write that sets the item's CAS itself (E<cas>; md x keeps the CAS) changes
    the key even when the CAS it leaves is the one WATCH saw: EXEC aborts."""
    s, r = mc(mc_server), mc_server.redis()
    transcript(s, b"ms ek 1 E5000\r\na\r\n", b"HD\r\n")
    assert not watch_then(r, "ek", [(b"ms ek 1 E5000\r\nb\r\n", b"HD\r\n")], s)
    transcript(s, b"mg ek v c\r\n", b"VA 1 c5000\r\nb\r\n")       # memcached's write won
    assert not watch_then(r, "ek", [(b"ms ek 1 E5001\r\nc\r\n", b"HD\r\n"),
                                    (b"ms ek 1 E5000\r\nd\r\n", b"HD\r\n")], s)
    assert not watch_then(r, "ek", [(b"md ek\r\n", b"HD\r\n"),   # deleted, made again
                                    (b"ms ek 1 E5000\r\ne\r\n", b"HD\r\n")], s)
    assert not watch_then(r, "ek", [(b"md ek x\r\n", b"HD\r\n")], s)  # keeps c5000
    transcript(s, b"mg ek v c\r\n", b"VA 0 c5000\r\n\r\n")
    transcript(s, b"ms ek 1 E5000\r\n5\r\n", b"HD\r\n")
    assert not watch_then(r, "ek", [(b"ma ek E5000\r\n", b"HD\r\n")], s)
    # explicit CAS writes to other keys leave the transaction alone
    transcript(s, b"ms ek 1 E5000\r\nf\r\n", b"HD\r\n")
    assert watch_then(r, "ek", [(b"ms other 1 E5000\r\ng\r\n", b"HD\r\n")], s)
    assert r.get("ek") == b"from-resp"


def test_counters_cross_protocol(mc_server):
    r = mc_server.redis()
    r.set("cnt", 10)
    transcript(mc(mc_server), b"incr cnt 5\r\n", b"15\r\n")
    assert r.incr("cnt") == 16
    transcript(mc(mc_server), b"decr cnt 20\r\nget cnt\r\n", b"0\r\nVALUE cnt 0 1\r\n0\r\nEND\r\n")


def test_non_string_key_is_a_miss_and_set_replaces_it(mc_server):
    r = mc_server.redis()
    r.rpush("lst", "a", "b")
    s = mc(mc_server)
    transcript(s, b"get lst\r\nmg lst v\r\n", b"END\r\nEN\r\n")
    transcript(s, b"append lst 0 0 1\r\nx\r\nincr lst 1\r\nadd lst 0 0 1\r\nx\r\n",
               b"NOT_STORED\r\nNOT_FOUND\r\nNOT_STORED\r\n")
    assert r.type("lst") == b"list"
    transcript(s, b"set lst 3 0 2\r\nhi\r\nget lst\r\n", b"STORED\r\nVALUE lst 3 2\r\nhi\r\nEND\r\n")
    assert r.type("lst") == b"string"
    r.sadd("st", "m")
    transcript(s, b"delete st\r\n", b"DELETED\r\n")
    assert r.exists("st") == 0


def test_flush_all_and_delete_are_visible_to_resp(mc_server):
    r = mc_server.redis()
    r.set("a", 1)
    r.hset("h", "f", "v")
    transcript(mc(mc_server), b"delete a\r\n", b"DELETED\r\n")
    assert r.get("a") is None
    transcript(mc(mc_server), b"flush_all\r\n", b"OK\r\n")
    assert r.dbsize() == 0


def test_touch_and_gat_update_resp_ttl(mc_server):
    r = mc_server.redis()
    r.set("t", "v")
    transcript(mc(mc_server), b"touch t 50\r\n", b"TOUCHED\r\n")
    assert 48 <= r.ttl("t") <= 50
    transcript(mc(mc_server), b"gat 0 t\r\n", b"VALUE t 0 1\r\nv\r\nEND\r\n")
    assert r.ttl("t") == -1
    r.expire("t", 30)
    s = mc(mc_server)
    s.sendall(b"mg t t\r\n")
    assert re.fullmatch(rb"HD t(29|30)\r\n", s.recv(100))


def test_binary_and_text_share_items(mc_server):
    s = mc(mc_server)
    transcript(s, b"set shared 9 0 3\r\nabc\r\n", b"STORED\r\n")
    b = mc(mc_server)
    b.sendall(struct.pack(">BBHBBHIIQ", 0x80, 0, 6, 0, 0, 0, 6, 0, 0) + b"shared")
    hdr = b.recv(24)
    assert hdr[6:8] == b"\x00\x00"
    body = b""
    while len(body) < 7:
        body += b.recv(100)
    assert body == b"\x00\x00\x00\x09abc"


def test_memcached_db_setting(server_factory):
    srv = server_factory({"compatibility.memcached_protocol": "true", "compatibility.memcached_db": "3"})
    transcript(mc(srv), b"set dbk 0 0 1\r\nx\r\n", b"STORED\r\n")
    r = srv.redis()
    assert r.get("dbk") is None
    assert srv.redis(db=3).get("dbk") == b"x"


def test_text_requires_auth_when_requirepass_is_set(server_factory):
    srv = server_factory({"compatibility.memcached_protocol": "true", "security.requirepass": "pw"})
    s = mc(srv)
    transcript(s, b"get k\r\n", b"CLIENT_ERROR unauthenticated\r\n")
    # memcached's ASCII auth form: a set whose data is "<user> <password>"
    transcript(s, b"set auth 0 0 11\r\ndefault bad\r\n", b"CLIENT_ERROR authentication failure\r\n")
    transcript(s, b"set auth 0 0 10\r\ndefault pw\r\n", b"STORED\r\n")
    transcript(s, b"set k 0 0 1\r\nv\r\nget k\r\n", b"STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n")


def test_memcached_writes_propagate_to_aof(server_factory):
    srv = server_factory({"compatibility.memcached_protocol": "true", "persistence.aof_enabled": "true",
                          "persistence.aof_fsync": "always"})
    s = mc(srv)
    transcript(s, b"set pk 5 100 3\r\nabc\r\nappend pk 0 0 1\r\nd\r\nincr n 1\r\n", b"STORED\r\nSTORED\r\nNOT_FOUND\r\n")
    transcript(s, b"set n 0 0 1\r\n1\r\nincr n 4\r\n", b"STORED\r\n5\r\n")
    srv.redis().set("resp-probe", "1")
    srv.restart()
    r = srv.redis()
    if r.get("resp-probe") is None:
        pytest.skip("the host does not replay its AOF yet (a RESP SET is lost too)")
    assert r.get("pk") == b"abcd" and r.get("n") == b"5"
    assert 95 <= r.ttl("pk") <= 100
    transcript(mc(srv), b"get pk\r\n", b"VALUE pk 5 4\r\nabcd\r\nEND\r\n")


# ---------------------------------------------------------------------------------------
# The migration guide's examples (seed/migrating-from-memcached.md), with pylibmc against
# Ferrite's memcached port in the "memcached" role and redis-py against its RESP port.
# ---------------------------------------------------------------------------------------

def test_seed_dual_write(mc_server):
    import pylibmc
    import redis

    memcached = pylibmc.Client([f"127.0.0.1:{mc_server.mc_port}"])
    ferrite = redis.Redis(host="127.0.0.1", port=mc_server.port)

    def set_value(key, value, ttl=None):
        # Write to both
        memcached.set(key, value, time=ttl or 0)
        if ttl:
            ferrite.setex(key, ttl, value)
        else:
            ferrite.set(key, value)

    def get_value(key):
        # Read from Ferrite, fallback to Memcached
        value = ferrite.get(key)
        if value is None:
            value = memcached.get(key)
            # NOTE (flaw in the guide): `if value:` skips empty values, and the backfill
            # below drops the TTL; with one keyspace the fallback is never needed.
            if value:
                # Backfill to Ferrite
                ferrite.set(key, value)
        return value

    set_value("session:1", b"alice", ttl=60)
    set_value("config", b"on")
    assert get_value("session:1") == b"alice"
    assert get_value("config") == b"on"
    assert 58 <= ferrite.ttl("session:1") <= 60
    assert memcached.get("session:1") == b"alice"      # one keyspace: both views agree
    memcached.set("legacy", b"only-in-memcached")
    assert get_value("legacy") == b"only-in-memcached"


def test_seed_cache_warming(mc_server, tmp_path):
    import pylibmc
    import redis

    memcached = pylibmc.Client([f"127.0.0.1:{mc_server.mc_port}"])
    ferrite = redis.Redis(host="127.0.0.1", port=mc_server.port)
    for i in range(5):
        memcached.set(f"page:{i}", f"<html>{i}</html>".encode())

    copied = []

    def warm_cache(keys):
        """Copy keys from Memcached to Ferrite"""
        for key in keys:
            value = memcached.get(key)
            if value:
                ferrite.set(key, value)
                copied.append(key)      # the guide prints f"Copied: {key}"

    # NOTE (flaw in the guide): extract_keys is never defined and the log path is
    # memcached's; we read keys from a log written here, one "GET <key>" per line.
    def extract_keys(f):
        return [line.split()[1] for line in f if line.startswith("GET ")]

    log = tmp_path / "access.log"
    log.write_text("".join(f"GET page:{i}\n" for i in range(5)) + "GET page:missing\n")
    with open(log) as f:
        keys = extract_keys(f)
        warm_cache(keys)

    assert copied == [f"page:{i}" for i in range(5)]
    assert [ferrite.get(f"page:{i}") for i in range(5)] == [f"<html>{i}</html>".encode() for i in range(5)]


def test_oom_maps_to_memcached_errors(server_factory):
    srv = server_factory({"compatibility.memcached_protocol": "true", "storage.max_memory": "3mb",
                          "storage.eviction_policy": "noeviction"})
    s = mc(srv)
    blob = b"x" * 500000
    replies = b""
    for i in range(40):
        s.sendall(b"set big%d 0 0 %d\r\n%s\r\n" % (i, len(blob), blob))
        line = b""
        while not line.endswith(b"\r\n"):
            line += s.recv(100)
        replies += line
    assert b"SERVER_ERROR out of memory storing object\r\n" in replies
    transcript(s, b"get big0\r\n", b"VALUE big0 0 %d\r\n%s\r\nEND\r\n" % (len(blob), blob))
    import struct as st
    b = mc(srv)
    key = b"bigbin"
    b.sendall(st.pack(">BBHBBHIIQ", 0x80, 1, len(key), 8, 0, 0, 8 + len(key) + len(blob), 0, 0) +
              st.pack(">II", 0, 0) + key + blob)
    hdr = b""
    while len(hdr) < 24:
        hdr += b.recv(24 - len(hdr))
    assert hdr[6:8] == b"\x00\x82"     # binary ENOMEM


def test_large_values_both_protocols(mc_server):
    import pylibmc
    from pymemcache.client.base import Client
    big = bytes(range(256)) * 12000   # ~3 MB, many reads on both sides
    c = Client(("127.0.0.1", mc_server.mc_port), timeout=10, default_noreply=False)
    assert c.set("big", big)
    assert c.get("big") == big
    b = pylibmc.Client([f"127.0.0.1:{mc_server.mc_port}"], binary=True)
    assert b.get("big") == big
    assert b.set("big2", big)
    assert mc_server.redis().strlen("big2") == len(big)


def test_recommended_cache_settings_evict_instead_of_failing(server_factory):
    srv = server_factory({"compatibility.memcached_protocol": "true", "storage.max_memory": "3mb",
                          "storage.eviction_policy": "allkeys-lru"})
    s = mc(srv)
    blob = b"y" * 200000
    for i in range(60):
        s.sendall(b"set e%d 0 0 %d\r\n%s\r\n" % (i, len(blob), blob))
        line = b""
        while not line.endswith(b"\r\n"):
            line += s.recv(100)
        assert line == b"STORED\r\n", f"set e{i}: {line!r}"
    assert srv.redis().dbsize() < 60
    # The LRU clock counts seconds, as Redis' does: keys written in the same second tie, and
    # sampling may take any of them. A key written a second later is the most recent one.
    time.sleep(1.1)
    s.sendall(b"set last 0 0 %d\r\n%s\r\n" % (len(blob), blob))
    transcript(s, b"", b"STORED\r\n")
    transcript(s, b"get last\r\n", b"VALUE last 0 %d\r\n%s\r\nEND\r\n" % (len(blob), blob))
    assert int(srv.redis().info("stats")["evicted_keys"]) > 0
