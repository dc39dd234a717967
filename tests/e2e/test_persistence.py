"""Snapshots (RDB) against real redis-server 7.0 files both ways, restarts, SAVE/BGSAVE/
LASTSAVE, DEBUG RELOAD, SHUTDOWN SAVE/NOSAVE, INFO persistence, memcached flags."""
import os
import shutil
import time

import pytest
import redis

from persist_util import wait_log, RedisPeer, dump, populate


def wait_bgsave(r, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = r.info("persistence")
        if info["rdb_bgsave_in_progress"] == 0:
            return info
        time.sleep(0.05)
    raise AssertionError("BGSAVE did not finish")


def test_redis_dump_loads_into_ferrite_with_identical_contents(server_factory):
    peer = RedisPeer().start()
    try:
        r = peer.redis()
        populate(r)
        # A key with memcached-style use is irrelevant to Redis; check int/LZF encodings
        assert r.object("encoding", "biglist0") == b"quicklist"
        assert r.object("encoding", "iset0") == b"intset"
        assert r.object("encoding", "hs0") == b"listpack"
        assert r.object("encoding", "h0") == b"hashtable"
        assert r.object("encoding", "z0") == b"listpack"
        assert r.object("encoding", "bigzset0") == b"skiplist"
        expected = dump(r)
        assert r.save()
        s = server_factory(start=False)
        shutil.copy(os.path.join(peer.dir, "dump.rdb"), os.path.join(s.dir, "dump.rdb"))
        s.start()
        assert dump(s.redis()) == expected
        wait_log(s, "DB loaded from disk")
        wait_log(s, "written by redis 7.0")
    finally:
        peer.cleanup()


def test_ferrite_snapshot_loads_into_redis_with_identical_contents(server_factory):
    s = server_factory({"compatibility.memcached_protocol": "true"})
    r = s.redis()
    populate(r)
    # memcached flags travel as an AUX field that redis-server must skip
    mc = s.sock(s.mc_port)
    mc.sendall(b"set mckey 12345 0 5\r\nhello\r\n")
    assert mc.recv(100) == b"STORED\r\n"
    expected = dump(r)
    assert r.save()
    peer = RedisPeer(extra=["--dbfilename", "dump.rdb"])
    try:
        shutil.copy(os.path.join(s.dir, "dump.rdb"), os.path.join(peer.dir, "dump.rdb"))
        peer.start()
        assert dump(peer.redis()) == expected
        log = open(peer.log).read()
        assert "Done loading RDB" in log, log
        assert "redis-check-rdb" not in log
        # and redis-check-rdb agrees the file is sound
        if shutil.which("redis-check-rdb"):
            import subprocess
            out = subprocess.run(["redis-check-rdb", os.path.join(peer.dir, "dump.rdb")],
                                 capture_output=True, text=True, timeout=60)
            assert "RDB looks OK" in out.stdout, out.stdout
    finally:
        peer.cleanup()


def test_memcached_flags_survive_restart(server_factory):
    s = server_factory({"compatibility.memcached_protocol": "true"})
    mc = s.sock(s.mc_port)
    mc.sendall(b"set k1 4294967295 0 3\r\nabc\r\nset k2 0 0 1\r\nx\r\n")
    assert mc.recv(100) == b"STORED\r\nSTORED\r\n"
    assert s.redis().save()
    s.restart()
    mc = s.sock(s.mc_port)
    mc.sendall(b"get k1 k2\r\n")
    time.sleep(0.2)
    got = mc.recv(1000)
    assert got == b"VALUE k1 4294967295 3\r\nabc\r\nVALUE k2 0 1\r\nx\r\nEND\r\n"


def test_bgsave_lastsave_and_info_fields(server):
    r = server.redis()
    info = r.info("persistence")
    for f in ("loading", "rdb_changes_since_last_save", "rdb_bgsave_in_progress",
              "rdb_last_save_time", "rdb_last_bgsave_status", "aof_enabled",
              "aof_rewrite_in_progress", "aof_last_write_status", "latest_fork_usec",
              "aof_last_bgrewrite_status", "rdb_saves"):
        assert f in info, f
    assert info["aof_enabled"] == 0 and info["loading"] == 0
    r.mset({"a": 1, "b": 2})
    r.incr("a")
    assert r.info("persistence")["rdb_changes_since_last_save"] == 2
    before = r.lastsave()
    time.sleep(1.1)
    assert r.bgsave()
    info = wait_bgsave(r)
    assert info["rdb_last_bgsave_status"] == "ok"
    assert info["rdb_changes_since_last_save"] == 0
    assert r.lastsave() > before
    assert os.path.exists(os.path.join(server.dir, "dump.rdb"))
    assert not [f for f in os.listdir(server.dir) if f.startswith("temp-")]


def test_bgsave_twice_reports_in_progress(server):
    r = server.redis()
    r.set("x", "y" * 1000)
    p = r.pipeline(transaction=False)
    for i in range(20000):
        p.set(f"k{i}", "v" * 100)
    p.execute()
    assert r.bgsave()
    try:
        r.bgsave()
        second = "started"
    except redis.ResponseError as e:
        second = str(e)
    assert second in ("started", "Background save already in progress")
    wait_bgsave(r)


def slow_bgsave(r):
    """A BGSAVE of 3 keys at rdb-key-save-delay 1 s per key: still running when asked
    again right away, then done with the file written."""
    r.flushall()
    r.mset({"a": "1", "b": "2", "c": "3"})
    r.config_set("rdb-key-save-delay", 1000000)
    try:
        r.bgsave()
        running = r.info("persistence")["rdb_bgsave_in_progress"]
        try:
            r.bgsave()
            again = "started"
        except redis.ResponseError as e:
            again = str(e)
    finally:
        r.config_set("rdb-key-save-delay", 0)
    return running, again, wait_bgsave(r)["rdb_last_bgsave_status"]


def test_rdb_key_save_delay_slows_the_snapshot_child(server, redis_server):
    ours = slow_bgsave(server.redis())
    assert ours == slow_bgsave(redis_server.redis())
    assert ours == (1, "Background save already in progress", "ok")


def test_debug_reload_keeps_the_dataset(server):
    r = server.redis()
    populate(r, dbs=3, big=False)
    before = dump(r)
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    assert dump(r) == before


def test_shutdown_save_and_nosave(server_factory):
    s = server_factory()
    r = s.redis()
    r.set("k", "saved")
    r.shutdown(save=True)  # redis-py swallows the closed connection
    assert s.proc.wait(15) == 0
    s.start()
    r = s.redis()
    assert r.get("k") == b"saved"
    r.set("k", "lost")
    r.shutdown(nosave=True)
    assert s.proc.wait(15) == 0
    s.start()
    assert s.redis().get("k") == b"saved"


def test_save_schedule_triggers_bgsave(server_factory):
    s = server_factory({"persistence.save": "1 3"})
    r = s.redis()
    for i in range(5):
        r.set(f"k{i}", i)
    deadline = time.time() + 10
    while time.time() < deadline and r.info("persistence")["rdb_saves"] == 0:
        time.sleep(0.1)
    assert r.info("persistence")["rdb_saves"] >= 1
    wait_log(s, "changes since the last save")


def test_expired_keys_are_not_loaded(server_factory):
    s = server_factory()
    r = s.redis()
    r.set("short", "v", px=300)
    r.set("long", "v", ex=1000)
    assert r.save()
    s.stop()
    time.sleep(0.5)
    s.start()
    r = s.redis()
    assert r.get("short") is None
    assert r.ttl("long") > 990


def test_unloadable_type_stops_startup_with_a_clear_message(server_factory):
    peer = RedisPeer().start()
    try:
        r = peer.redis()
        r.xadd("mystream", {"f": "v"})
        assert r.save()
        # Without the streams module the stream cannot be loaded.
        s = server_factory({"modules.load": "strings,keys,lists,hashes,sets,zsets"}, start=False)
        shutil.copy(os.path.join(peer.dir, "dump.rdb"), os.path.join(s.dir, "dump.rdb"))
        with pytest.raises(RuntimeError):
            s.start()
        log = s.log_text()
        assert "type 19 (stream)" in log and "'mystream'" in log, log
    finally:
        peer.cleanup()


def test_corrupt_snapshot_stops_startup_naming_the_offset(server_factory):
    s = server_factory()
    r = s.redis()
    populate(r, dbs=1, big=False)
    assert r.save()
    s.stop()
    path = os.path.join(s.dir, "dump.rdb")
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0x40
    open(path, "wb").write(bytes(data))
    with pytest.raises(RuntimeError):
        s.start()
    wait_log(s, "byte offset")
