"""Function libraries travel in the RDB (one RDB_OPCODE_FUNCTION2 record per library,
after the AUX fields, as redis-server 7.0 writes them): SAVE / BGSAVE and a restart,
BGREWRITEAOF and a restart, DEBUG RELOAD with its options (side by side with
redis-server), snapshot files exchanged with redis-server both ways, and full syncs
between Ferrite and redis-server in every direction. FCALL is the proof each time."""
import os
import shutil

import pytest
import redis

from encoding_reload import debug_redis
from persist_util import RedisPeer
from repl_util import RedisProc, info, wait_caught_up, wait_for, wait_link_up


def lib(name, reply, fname=None):
    """A library whose one function reads only (FCALL works on a read-only replica)."""
    return (f"#!lua name={name}\n"
            f"redis.register_function{{function_name='{fname or name}', "
            f"callback=function() return '{reply}' end, flags={{'no-writes'}}}}")


def libraries(r):
    return sorted(l[b"library_name"].decode() if isinstance(l, dict) else
                  dict(zip(l[::2], l[1::2]))[b"library_name"].decode()
                  for l in r.execute_command("FUNCTION", "LIST"))


def fill(r):
    r.execute_command("FUNCTION", "LOAD", lib("mylib", "hello"))
    # A body long enough to be LZF-compressed in the file.
    r.execute_command("FUNCTION", "LOAD", lib("biglib", "x" * 300, "big"))
    r.set("k", "v")


def check(r):
    assert r.execute_command("FCALL", "mylib", 0) == b"hello"
    assert r.execute_command("FCALL_RO", "big", 0) == b"x" * 300
    assert libraries(r) == ["biglib", "mylib"]
    assert r.get("k") == b"v"


@pytest.mark.parametrize("save", ["SAVE", "BGSAVE", "SHUTDOWN"])
def test_snapshot_and_restart_keep_the_libraries(server_factory, save):
    s = server_factory()
    r = s.redis()
    fill(r)
    if save == "BGSAVE":
        r.execute_command("BGSAVE")
        wait_for(lambda: info(r, "persistence")["rdb_bgsave_in_progress"] == "0" and
                 info(r, "persistence")["rdb_last_bgsave_status"] == "ok", 20, "bgsave done")
        s.restart()
    elif save == "SAVE":
        r.execute_command("SAVE")
        s.restart()
    else:
        try:
            r.execute_command("SHUTDOWN", "SAVE")
        except redis.exceptions.ConnectionError:
            pass
        s.proc.wait(15)
        s.stop()
        s.start()
    check(s.redis())
    assert info(s.redis(), "persistence")["rdb_changes_since_last_save"] == "0"


def test_aof_rewrite_keeps_the_libraries(server_factory):
    s = server_factory({"persistence.aof_enabled": "true"})
    r = s.redis()
    fill(r)
    r.execute_command("BGREWRITEAOF")
    wait_for(lambda: info(r, "persistence")["aof_rewrite_in_progress"] == "0" and
             "Background AOF rewrite finished" in s.log_text(), 20, "rewrite done")
    s.restart()
    check(s.redis())


def test_ferrite_snapshot_loads_into_redis_and_back(server_factory, tmp_path):
    s = server_factory()
    fill(s.redis())
    s.redis().execute_command("SAVE")
    red = RedisPeer(str(tmp_path / "r"))
    os.makedirs(red.dir, exist_ok=True)
    shutil.copy(os.path.join(s.dir, "dump.rdb"), os.path.join(red.dir, "dump.rdb"))
    red.start()
    try:
        check(red.redis())
        # ... and redis-server's own snapshot of them loads into Ferrite.
        red.redis().execute_command("SAVE")
        f = server_factory(start=False)
        shutil.copy(os.path.join(red.dir, "dump.rdb"), os.path.join(f.dir, "dump.rdb"))
        f.start()
        check(f.redis())
    finally:
        red.cleanup()


def debug_reload_steps(r):
    """Redis' unit/functions 'test debug reload different options' and 'with nosave and
    noflush', plus a plain reload dropping a library made after the save."""
    out = []

    def run(*cmd):
        try:
            out.append(r.execute_command(*cmd))
        except redis.exceptions.ResponseError as e:
            out.append(f"ERR:{e}")

    r.execute_command("FUNCTION", "FLUSH")
    r.flushall()
    run("FUNCTION", "LOAD", lib("test", "hello"))
    run("DEBUG", "RELOAD", "NOFLUSH")
    run("DEBUG", "RELOAD", "NOFLUSH", "MERGE")
    run("FCALL", "test", 0)
    run("FUNCTION", "DELETE", "test")
    run("SET", "x", "1")
    run("FUNCTION", "LOAD", lib("test1", "hello"))
    run("DEBUG", "RELOAD")
    run("FUNCTION", "LOAD", lib("test2", "hello"))
    run("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE")
    run("FCALL", "test1", 0)
    run("FCALL", "test2", 0)
    out.append(libraries(r))
    run("DEBUG", "RELOAD", "NOSAVE")
    out.append(libraries(r))
    run("FUNCTION", "LOAD", lib("test3", "hello"))
    run("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH")
    out.append(libraries(r))
    return out


def test_debug_reload_options_match_redis(server):
    with debug_redis() as red:
        want = debug_reload_steps(redis.Redis(port=red.connection_pool.connection_kwargs["port"],
                                              socket_timeout=10))
    got = debug_reload_steps(server.redis())
    assert got == want
    assert want[1].startswith("ERR:Error trying to load the RDB")


@pytest.mark.parametrize("diskless", ["yes", "no"])
@pytest.mark.parametrize("load", ["disabled", "swapdb"])
def test_ferrite_to_ferrite_full_sync_replaces_the_replicas_libraries(server_factory, diskless,
                                                                      load):
    p = server_factory({"replication.repl_diskless_sync": diskless,
                        "replication.repl_diskless_sync_delay": "0"})
    fill(p.redis())
    f = server_factory({"replication.repl_diskless_load": load})
    fr = f.redis()
    fr.execute_command("FUNCTION", "LOAD", lib("replicaonly", "gone"))
    fr.execute_command("REPLICAOF", "127.0.0.1", p.port)
    wait_link_up(fr, 30)
    wait_caught_up(p.redis(), fr)
    check(fr)
    # Libraries loaded afterwards arrive through the stream, as before.
    p.redis().execute_command("FUNCTION", "LOAD", lib("later", "late"))
    wait_caught_up(p.redis(), fr)
    assert fr.execute_command("FCALL", "later", 0) == b"late"


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_redis_primary_to_ferrite_replica(server_factory, redis_nodes, diskless):
    red = RedisProc(["--repl-diskless-sync", diskless]).start()
    redis_nodes.append(red)
    fill(red.redis())
    f = server_factory()
    fr = f.redis()
    fr.execute_command("REPLICAOF", "127.0.0.1", red.port)
    wait_link_up(fr, 30)
    wait_caught_up(red.redis(), fr)
    check(fr)


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_ferrite_primary_to_redis_replica(server_factory, redis_nodes, diskless):
    p = server_factory({"replication.repl_diskless_sync": diskless,
                        "replication.repl_diskless_sync_delay": "0"})
    fill(p.redis())
    red = RedisProc(["--replicaof", "127.0.0.1", str(p.port)]).start()
    redis_nodes.append(red)
    rr = red.redis()
    wait_link_up(rr, 30)
    wait_caught_up(p.redis(), rr)
    check(rr)
