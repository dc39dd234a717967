"""Ferrite as a replica: of the real redis-server 7.0 (full sync, live stream, partial
resync after CLIENT KILL TYPE master), of another Ferrite (memcached flags replicate
exactly, a chain of replicas), REPLICAOF / NO ONE and the [replication] config, READONLY
on every protocol, replica-serve-stale-data, and a corrupt stream."""
import socket

import pytest

from repl_util import RedisProc, dump, fake_primary, info, wait_caught_up, wait_for, wait_link_up


@pytest.fixture
def redis_primary():
    r = RedisProc().start()
    yield r
    r.cleanup()


def fill(r):
    r.set("s", "v")
    r.set("n", 42)
    r.rpush("l", *range(100))
    r.hset("h", mapping={f"f{i}": "x" * i for i in range(30)})
    r.sadd("set", *[f"m{i}" for i in range(20)])
    r.sadd("iset", *range(10))
    r.zadd("z", {f"m{i}": i * 1.5 for i in range(200)})
    r.set("ttl", "v", ex=3000)
    r.execute_command("SELECT", 2)
    r.set("db2", "two")
    r.execute_command("SELECT", 0)


def same(a, b, dbs=(0, 2)):
    assert a.execute_command("DEBUG", "DIGEST") == b.execute_command("DEBUG", "DIGEST")
    for db in dbs:
        da, dbb = dump(a, db), dump(b, db)
        assert da == dbb, f"db {db}: only primary {set(da) - set(dbb)}, only replica {set(dbb) - set(da)}"


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_ferrite_replica_of_redis(redis_primary, server_factory, diskless):
    pr = redis_primary.redis()
    pr.config_set("repl-diskless-sync", diskless)
    fill(pr)
    f = server_factory({"compatibility.memcached_protocol": "true"})
    fr = f.redis()
    assert fr.execute_command("REPLICAOF", "127.0.0.1", redis_primary.port) == b"OK"
    wait_link_up(fr)
    wait_caught_up(pr, fr)
    same(pr, fr)
    # the live stream
    pr.incr("n")
    pr.lpush("l", "new")
    pr.hset("h", "f1", "changed")
    pr.zadd("z", {"m1": 100})
    pr.srem("set", "m3")
    tx = pr.pipeline(transaction=True)
    tx.set("t1", 1).rpush("t2", "a").expire("t1", 100)
    tx.execute()
    pr.eval("redis.call('SET', KEYS[1], 'lua'); redis.call('DEL', KEYS[2])", 2, "lk", "s")
    pr.execute_command("SELECT", 2)
    pr.set("db2b", "x")
    pr.execute_command("SELECT", 0)
    pr.set("gone", "1", px=100)
    wait_for(lambda: pr.get("gone") is None, 5)
    wait_for(lambda: fr.exists("gone") == 0, 5, "expired key's DEL replicated")
    wait_caught_up(pr, fr)
    same(pr, fr)
    # READONLY for clients, on the RESP and the memcached ports
    with pytest.raises(Exception, match="You can't write against a read only replica."):
        fr.set("x", 1)
    s = socket.create_connection(("127.0.0.1", f.mc_port), timeout=5)
    s.sendall(b"set x 0 0 1\r\na\r\n")
    assert s.recv(200) == b"SERVER_ERROR READONLY You can't write against a read only replica.\r\n"
    s.close()
    i = info(fr)
    assert i["role"] == "slave" and i["master_port"] == str(redis_primary.port)
    assert i["master_replid"] == info(pr)["master_replid"]
    assert fr.execute_command("ROLE")[:4] == [b"slave", b"127.0.0.1", redis_primary.port, b"connected"]
    assert "M" in [ln for ln in fr.execute_command("CLIENT", "LIST").decode().splitlines()
                   if "flags=M" in ln][0]


def test_partial_resync_with_redis_primary(redis_primary, server_factory):
    pr = redis_primary.redis()
    fill(pr)
    f = server_factory()
    fr = f.redis()
    fr.execute_command("REPLICAOF", "127.0.0.1", redis_primary.port)
    wait_link_up(fr)
    wait_caught_up(pr, fr)
    assert fr.execute_command("CLIENT", "KILL", "TYPE", "master") == 1
    for i in range(50):
        pr.set(f"a{i}", i)
    wait_link_up(fr)
    wait_caught_up(pr, fr)
    same(pr, fr)
    st = info(pr, "stats")
    assert st["sync_full"] == "1" and st["sync_partial_ok"] == "1", st


def test_ferrite_chain_with_memcached_flags(server_factory):
    p = server_factory({"compatibility.memcached_protocol": "true",
                        "replication.repl_diskless_sync_delay": "0"})
    r1 = server_factory({"compatibility.memcached_protocol": "true",
                         "replication.repl_diskless_sync_delay": "0",
                         "replication.role": "replica",
                         "replication.master_host": "127.0.0.1",
                         "replication.master_port": str(p.port)})
    r2 = server_factory({"compatibility.memcached_protocol": "true"})
    pr, r1r, r2r = p.redis(), r1.redis(), r2.redis()
    mc = socket.create_connection(("127.0.0.1", p.mc_port), timeout=5)
    mc.sendall(b"set f1 12345 0 2\r\nab\r\nset f2 7 1000 1\r\nc\r\n")
    assert mc.recv(100) == b"STORED\r\nSTORED\r\n"
    fill(pr)
    wait_link_up(r1r)
    r2r.execute_command("REPLICAOF", "127.0.0.1", r1.port)  # a replica of a replica
    wait_link_up(r2r)
    mc.sendall(b"set f3 99 0 1\r\nd\r\nprepend f1 0 0 1\r\n<\r\nappend f2 0 0 1\r\n>\r\n")
    got = b""
    while got.count(b"\r\n") < 3:
        got += mc.recv(100)
    pr.set("plain", "p")
    wait_caught_up(pr, r1r)
    wait_caught_up(pr, r2r)
    for rr in (r1r, r2r):
        same(pr, rr)
    for srv in (r1, r2):
        c = socket.create_connection(("127.0.0.1", srv.mc_port), timeout=5)
        c.sendall(b"get f1 f2 f3\r\n")
        out = b""
        while not out.endswith(b"END\r\n"):
            out += c.recv(1000)
        assert out == (b"VALUE f1 12345 3\r\n<ab\r\nVALUE f2 7 2\r\nc>\r\n"
                       b"VALUE f3 99 1\r\nd\r\nEND\r\n"), out
        c.close()
    # The chain shares one history: same id and offset all the way down.
    assert info(r2r)["master_replid"] == info(pr)["master_replid"]
    # Promotion: the middle one becomes a primary; the last continues from it.
    r1r.execute_command("REPLICAOF", "NO", "ONE")
    r1r.set("after-promotion", 1)
    wait_link_up(r2r)
    wait_for(lambda: r2r.get("after-promotion") == b"1", 10, "stream from the promoted replica")
    assert int(info(r1r, "stats")["sync_partial_ok"]) >= 1
    assert info(r2r)["master_replid2"] == info(pr)["master_replid"]


def test_replicaof_no_one_and_errors(server_factory):
    f = server_factory()
    fr = f.redis()
    assert fr.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    with pytest.raises(Exception, match="Invalid master port"):
        fr.execute_command("REPLICAOF", "127.0.0.1", "99999")
    with pytest.raises(Exception, match="wrong number of arguments"):
        fr.execute_command("REPLICAOF", "127.0.0.1")
    # A primary that is not there: the link stays down, reads still served.
    fr.set("k", "v")
    fr.execute_command("SLAVEOF", "127.0.0.1", 1)
    assert fr.execute_command("REPLICAOF", "127.0.0.1", 1) == b"OK Already connected to specified master"
    i = info(fr)
    assert i["role"] == "slave" and i["master_link_status"] == "down"
    assert "master_link_down_since_seconds" in i
    assert fr.get("k") == b"v"
    fr.config_set("replica-serve-stale-data", "no")
    wait_for(lambda: _masterdown(fr), 5, "MASTERDOWN")
    assert fr.echo("e") == b"e"  # stale-flagged commands still answer (not PING: Redis' isn't)
    assert fr.info("replication")["role"] == "slave"
    fr.execute_command("REPLICAOF", "NO", "ONE")
    assert fr.get("k") == b"v"
    fr.set("k2", "w")  # writable again


def _masterdown(r):
    try:
        r.get("k")
        return False
    except Exception as e:
        assert "MASTERDOWN Link with MASTER is down" in str(e)
        return True


def test_corrupt_stream_from_primary_drops_link(server_factory):
    """A fake primary sends a valid empty RDB then garbage: the replica logs it, drops
    the link and keeps serving."""
    empty_rdb = bytes.fromhex("524544495330303130ff") + b"\x00" * 8  # REDIS0010, EOF, no checksum
    srv = fake_primary(b"+FULLRESYNC " + b"a" * 40 + b" 0\r\n$" + str(len(empty_rdb)).encode() +
                       b"\r\n" + empty_rdb + b"*1\r\n$3\r\nSET\r\n*garbage\r\n")
    port = srv.getsockname()[1]
    f = server_factory()
    fr = f.redis()
    fr.execute_command("REPLICAOF", "127.0.0.1", port)
    wait_for(lambda: "Protocol error from MASTER" in f.log_text(), 10, "protocol error logged")
    assert fr.ping()
    fr.execute_command("REPLICAOF", "NO", "ONE")
    srv.close()


def test_sibling_promotion_partial_resync_keeps_every_write(server_factory):
    """Sentinel's sequence: promote one replica, write to it, then point its sibling at
    it. The sibling continues with a partial resync and must get the writes made in
    between (the promoted node's stream starts at the promotion, not at its first
    replica)."""
    cfg = {"replication.repl_diskless_sync_delay": "0"}
    p = server_factory(cfg)
    a, b = server_factory(cfg), server_factory(cfg)
    pr = p.redis()
    pr.set("before", 1)
    for n in (a, b):
        n.redis().execute_command("REPLICAOF", "127.0.0.1", p.port)
        wait_link_up(n.redis())
        wait_caught_up(pr, n.redis())
    p.kill9()
    ar, br = a.redis(), b.redis()
    ar.execute_command("REPLICAOF", "NO", "ONE")
    for i in range(50):
        ar.set(f"promoted{i}", i)
    br.execute_command("REPLICAOF", "127.0.0.1", a.port)
    wait_link_up(br)
    wait_caught_up(ar, br)
    assert info(ar, "stats")["sync_partial_ok"] == "1"
    assert dump(ar) == dump(br)
    assert br.dbsize() == 51
