"""Ferrite as a primary, the real redis-server 7.0 as its replica: full sync (disk and
diskless), the live stream for every data type, MULTI/EXEC, Lua, expiry, SELECT,
memcached writes, partial resync after CLIENT KILL TYPE master on the replica, a
backlog overrun forcing a full resync, WAIT, ROLE, INFO and REPLCONF errors."""
import socket
import time

import pytest

from repl_util import RedisProc, dump, info, wait_caught_up, wait_for, wait_link_up


@pytest.fixture
def primary(server_factory):
    return server_factory({"compatibility.memcached_protocol": "true",
                           "replication.repl_diskless_sync_delay": "0"})


@pytest.fixture
def replica_factory():
    made = []

    def make(primary_port, *args):
        r = RedisProc(["--replicaof", "127.0.0.1", str(primary_port), *args]).start()
        made.append(r)
        return r

    yield make
    for r in made:
        r.cleanup()


def fill(r):
    r.set("s1", "v1")
    r.set("n", 10)
    r.set("big", "x" * 70000)
    r.rpush("l", *[f"e{i}" for i in range(50)])
    r.hset("h", mapping={f"f{i}": i for i in range(20)})
    r.sadd("set", *range(30))
    r.sadd("iset", "a", "b")
    r.zadd("z", {f"m{i}": i / 3 for i in range(40)})
    r.set("ttl", "v", ex=1000)
    r.execute_command("SELECT", 5)
    r.set("in5", "five")
    r.execute_command("SELECT", 0)


def same(primary_r, replica_r, dbs=(0, 5)):
    # DEBUG DIGEST is Redis' algorithm on both sides: equal datasets, equal digests.
    assert primary_r.execute_command("DEBUG", "DIGEST") == replica_r.execute_command("DEBUG", "DIGEST")
    for db in dbs:
        a, b = dump(primary_r, db), dump(replica_r, db)
        assert a == b, f"db {db} differs: only primary {set(a) - set(b)}, only replica {set(b) - set(a)}"


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_redis_replica_full_sync_then_stream(server_factory, replica_factory, diskless):
    p = server_factory({"compatibility.memcached_protocol": "true",
                        "replication.repl_diskless_sync": diskless,
                        "replication.repl_diskless_sync_delay": "0"})
    pr = p.redis()
    fill(pr)
    rep = replica_factory(p.port)
    rr = rep.redis()
    wait_link_up(rr)
    wait_caught_up(pr, rr)
    same(pr, rr)
    assert rr.get("big") == b"x" * 70000
    assert 0 < rr.ttl("ttl") <= 1000

    # The live stream: every type, in several dbs, transactions, scripts, expiry.
    pr.incrby("n", 5)
    pr.append("s1", "+more")
    pr.lpush("l", "head")
    pr.rpop("l")
    pr.linsert("l", "BEFORE", "e3", "ins")
    pr.hincrby("h", "f1", 7)
    pr.hdel("h", "f2")
    pr.srem("set", 3)
    pr.zincrby("z", 2.5, "m1")
    pr.zrem("z", "m2")
    pr.expire("s1", 500)
    pr.persist("ttl")
    pr.delete("iset")
    tx = pr.pipeline(transaction=True)
    tx.set("tx1", "a").incr("tx2").lpush("tx3", "x", "y")
    tx.execute()
    pr.eval("redis.call('SET', KEYS[1], ARGV[1]); redis.call('RPUSH', KEYS[2], ARGV[1])",
            2, "lua1", "lua2", "from-lua")
    pr.execute_command("SELECT", 5)
    pr.set("in5b", "more")
    pr.execute_command("SELECT", 0)
    pr.set("short", "gone soon", px=150)
    wait_for(lambda: pr.get("short") is None, 5, "short key expired")
    time.sleep(0.3)  # the active cycle deletes it and propagates DEL
    wait_caught_up(pr, rr)
    same(pr, rr)
    assert rr.exists("short") == 0
    assert rr.ttl("ttl") == -1

    # memcached writes from the text protocol reach the redis-server replica: value and
    # TTL (flags have no place in Redis).
    s = socket.create_connection(("127.0.0.1", p.mc_port), timeout=5)
    s.sendall(b"set mc1 5 0 3\r\nabc\r\nset mc2 0 1000 2\r\nhi\r\nappend mc1 0 0 2\r\nde\r\n"
              b"prepend mc2 0 0 1\r\n>\r\nincr n 3\r\ndelete s1\r\n")
    got = b""
    while got.count(b"\r\n") < 6:
        got += s.recv(4096)
    s.close()
    wait_caught_up(pr, rr)
    same(pr, rr)
    assert rr.get("mc1") == b"abcde"
    assert rr.get("mc2") == b">hi"
    assert 0 < rr.ttl("mc2") <= 1000
    assert "CRITICAL" not in rep.log_text()


def test_partial_resync_after_client_kill_master(primary, replica_factory):
    pr = primary.redis()
    fill(pr)
    rep = replica_factory(primary.port)
    rr = rep.redis()
    wait_link_up(rr)
    wait_caught_up(pr, rr)
    assert info(pr, "stats")["sync_full"] == "1"
    rr.execute_command("CLIENT", "KILL", "TYPE", "master")
    for i in range(100):
        pr.set(f"after{i}", i)
    wait_link_up(rr)
    wait_caught_up(pr, rr)
    same(pr, rr)
    st = info(pr, "stats")
    assert st["sync_full"] == "1"
    assert st["sync_partial_ok"] == "1"
    assert "Partial resynchronization request from" in primary.log_text()


def test_backlog_overrun_forces_full_resync(server_factory, replica_factory):
    p = server_factory({"replication.repl_diskless_sync_delay": "0",
                        "replication.repl_backlog_size": "16kb"})
    pr = p.redis()
    pr.set("a", 1)
    rep = replica_factory(p.port)
    rr = rep.redis()
    wait_link_up(rr)
    wait_caught_up(pr, rr)
    rr.execute_command("REPLICAOF", "NO", "ONE")  # keeps its offset, link down
    for i in range(300):
        pr.set(f"k{i}", "v" * 200)  # ~70kb: more than the backlog holds
    rr.execute_command("REPLICAOF", "127.0.0.1", p.port)
    wait_link_up(rr)
    wait_caught_up(pr, rr)
    same(pr, rr, dbs=(0,))
    st = info(pr, "stats")
    assert st["sync_full"] == "2", st
    assert "Unable to partial resync" in p.log_text() or "Partial resynchronization not accepted" in p.log_text()


def test_wait_role_info(primary, replica_factory):
    pr = primary.redis()
    assert pr.execute_command("ROLE") == [b"master", 0, []]
    assert pr.execute_command("WAIT", 0, 0) == 0
    assert pr.execute_command("WAIT", 1, 100) == 0  # no replica: times out with 0
    rep = replica_factory(primary.port)
    rr = rep.redis()
    wait_link_up(rr)
    pr.set("w", 1)
    assert pr.execute_command("WAIT", 1, 5000) == 1
    role = pr.execute_command("ROLE")
    assert role[0] == b"master" and len(role[2]) == 1
    assert role[2][0][1] == str(rep.port).encode()
    i = info(pr)
    assert i["role"] == "master" and i["connected_slaves"] == "1"
    assert i["slave0"].startswith(f"ip=127.0.0.1,port={rep.port},state=online,offset=")
    for field in ("master_failover_state", "master_replid", "master_replid2", "master_repl_offset",
                  "second_repl_offset", "repl_backlog_active", "repl_backlog_size",
                  "repl_backlog_first_byte_offset", "repl_backlog_histlen"):
        assert field in i, field
    assert i["master_replid"] == info(rr)["master_replid"]
    with pytest.raises(Exception, match="timeout is negative"):
        pr.execute_command("WAIT", 1, -1)
    with pytest.raises(Exception, match="Unrecognized REPLCONF option: bogus"):
        pr.execute_command("REPLCONF", "bogus", "1")
    with pytest.raises(Exception, match="syntax error"):
        pr.execute_command("REPLCONF", "listening-port")
    # An ACK from a connection that is not a replica is ignored without a reply.
    s = primary.sock()
    s.sendall(b"REPLCONF ACK 5\r\nPING\r\n")
    assert s.recv(100) == b"+PONG\r\n"
    s.close()
    # min-replicas-to-write: refused with NOREPLICAS when not enough good replicas.
    pr.config_set("min-replicas-to-write", 2)
    wait_for(lambda: _refused(pr), 5, "NOREPLICAS")
    pr.config_set("min-replicas-to-write", 0)
    wait_for(lambda: pr.set("ok", 1), 5, "writes accepted again")


def _refused(r):
    try:
        r.set("x", 1)
        return False
    except Exception as e:
        assert str(e) == "NOREPLICAS Not enough good replicas to write."
        return True


def test_replica_disconnecting_mid_rdb_leaves_primary_healthy(server_factory):
    p = server_factory({"replication.repl_diskless_sync_delay": "0",
                        "replication.repl_diskless_sync": "no"})
    pr = p.redis()
    pipe = pr.pipeline(transaction=False)
    for i in range(20000):
        pipe.set(f"key:{i}", "v" * 100)
    pipe.execute()
    for _ in range(3):
        s = p.sock()
        s.sendall(b"PSYNC ? -1\r\n")
        s.recv(10)  # part of +FULLRESYNC or a keepalive newline, then gone
        s.close()
    wait_for(lambda: info(pr)["connected_slaves"] == "0", 10, "replicas dropped")
    assert pr.dbsize() == 20000
    assert pr.ping()


def test_debug_digest_matches_redis_server(server_factory):
    """The same writes on Ferrite and on redis-server give the same DEBUG DIGEST and
    DEBUG DIGEST-VALUE (Redis' algorithm), for every type, small and large encodings,
    with and without TTLs, in two dbs."""
    f = server_factory()
    red = RedisProc().start()
    try:
        fr, rr = f.redis(), red.redis()
        empty = fr.execute_command("DEBUG", "DIGEST")
        assert empty == rr.execute_command("DEBUG", "DIGEST") == b"0" * 40
        for r in (fr, rr):
            fill(r)
            r.sadd("bigset", *[f"m{i}" for i in range(300)])
            r.zadd("bigz", {f"m{i}": i * 0.1 for i in range(300)})
            r.hset("bigh", mapping={f"f{i}": "v" * (i % 70) for i in range(300)})
            r.rpush("bigl", *[str(i) for i in range(1000)])
            r.set("intval", 12345)
        keys = ["s1", "n", "big", "l", "h", "set", "iset", "z", "ttl", "bigset", "bigz", "bigh",
                "bigl", "intval", "missing"]
        assert (fr.execute_command("DEBUG", "DIGEST-VALUE", *keys) ==
                rr.execute_command("DEBUG", "DIGEST-VALUE", *keys))
        assert fr.execute_command("DEBUG", "DIGEST") == rr.execute_command("DEBUG", "DIGEST")
        fr.expire("s1", 100)
        assert fr.execute_command("DEBUG", "DIGEST") != rr.execute_command("DEBUG", "DIGEST")
    finally:
        red.cleanup()


def test_redis_cli_rdb_and_replica(server_factory, tmp_path):
    """redis-cli --rdb saves Ferrite's dataset through SYNC; redis-server loads that file
    to the same digest. redis-cli --replica prints the live stream."""
    import shutil
    import subprocess
    cli = shutil.which("redis-cli")
    p = server_factory()
    pr = p.redis()
    fill(pr)
    out = tmp_path / "dump.rdb"
    r = subprocess.run([cli, "-p", str(p.port), "--rdb", str(out)], capture_output=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert b"Transfer finished with success" in r.stdout + r.stderr
    shutil.copy(out, tmp_path / "copy.rdb")
    red = RedisProc(["--dbfilename", "copy.rdb"])
    red.dir = str(tmp_path)
    red.cmd[red.cmd.index("--dir") + 1] = str(tmp_path)
    red.start()
    try:
        assert red.redis().execute_command("DEBUG", "DIGEST") == pr.execute_command("DEBUG", "DIGEST")
    finally:
        red.stop()
    import threading
    # stdbuf: redis-cli's stdout is a pipe here, fully buffered otherwise.
    proc = subprocess.Popen(["stdbuf", "-o0", cli, "-p", str(p.port), "--replica"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    got = bytearray()
    reader = threading.Thread(target=lambda: [got.extend(c) for c in iter(lambda: proc.stdout.read1(4096), b"")],
                              daemon=True)
    reader.start()
    try:
        wait_for(lambda: "online" in info(pr).get("slave0", ""), 10, "redis-cli online")
        pr.set("streamed-key", "streamed-value")
        wait_for(lambda: b'"SET","streamed-key","streamed-value"' in got, 10, "the SET printed")
    finally:
        proc.kill()
        proc.wait(10)


def test_replicas_asking_together_share_one_diskless_sync(server_factory, replica_factory):
    """Replicas that ask for a full sync during repl-diskless-sync-delay get the same RDB
    from one child (a redis-server and a Ferrite replica here); one asking later gets its
    own. With repl-diskless-sync-max-replicas reached, the sync starts before the delay."""
    p = server_factory({"replication.repl_diskless_sync_delay": "2"})
    pr = p.redis()
    for i in range(100):
        pr.set(f"k{i}", i)
    r1 = replica_factory(p.port)
    f = server_factory()
    f.redis().execute_command("REPLICAOF", "127.0.0.1", p.port)
    for r in (r1.redis(), f.redis()):
        wait_link_up(r, 30)
        wait_caught_up(pr, r)
        assert r.execute_command("DEBUG", "DIGEST") == pr.execute_command("DEBUG", "DIGEST")
    starts = lambda: p.log_text().count("Starting BGSAVE for SYNC with target: replicas sockets")
    assert starts() == 1
    assert "2 replicas" in p.log_text()
    assert int(info(pr, "stats")["sync_full"]) == 2
    r3 = replica_factory(p.port)
    wait_link_up(r3.redis(), 30)
    assert starts() == 2

    q = server_factory({"replication.repl_diskless_sync_delay": "60",
                        "replication.repl_diskless_sync_max_replicas": "2"})
    q.redis().set("x", "y")
    a, b = replica_factory(q.port), replica_factory(q.port)
    for r in (a.redis(), b.redis()):
        wait_link_up(r, 20)  # well before the 60 s delay
        assert r.get("x") == b"y"
