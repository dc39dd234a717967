"""The append-only file: restart after kill -9, crash rounds under load with
appendfsync always/everysec, BGREWRITEAOF, truncated and corrupt files, turning the AOF
on at run time, an unwritable dir and a full disk (MISCONF while reads keep working)."""
import os
import random
import subprocess
import threading
import time

import pytest
import redis

from conftest import transcript
from persist_util import wait_log, dump, populate

AOF = {"persistence.aof_enabled": "true"}


def aof_path(s):
    return os.path.join(s.dir, "appendonly.aof")


def wait_info(r, field, value, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if r.info("persistence").get(field) == value:
            return
        time.sleep(0.05)
    raise AssertionError(f"{field} never became {value}: {r.info('persistence')}")


def test_aof_restores_everything_after_kill9(server_factory):
    s = server_factory({**AOF, "persistence.aof_fsync": "always",
                        "compatibility.memcached_protocol": "true"})
    r = s.redis()
    populate(r, dbs=4, big=False)
    r.incr("counter")
    r.delete("s0")
    mc = s.sock(s.mc_port)
    mc.sendall(b"set flagged 77 0 1\r\nx\r\n")
    assert mc.recv(100) == b"STORED\r\n"
    before = dump(r, dbs=4)
    s.kill9()
    s.start()
    assert dump(s.redis(), dbs=4) == before
    wait_log(s, "DB loaded from append only file")
    mc = s.sock(s.mc_port)
    mc.sendall(b"get flagged\r\n")
    time.sleep(0.2)
    assert mc.recv(100) == b"VALUE flagged 77 1\r\nx\r\nEND\r\n"


def writer(port, tid, acked, stop):
    c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    i = 0
    while not stop.is_set():
        try:
            c.set(f"t{tid}:{i}", i)
            c.rpush(f"list{tid}", i)
        except (redis.ConnectionError, redis.TimeoutError, ConnectionResetError):
            return
        acked[tid].append(time.time())  # both writes of round i acknowledged
        i += 1


@pytest.mark.parametrize("policy", ["always", "everysec"])
def test_kill9_under_load_keeps_acknowledged_writes(server_factory, policy):
    s = server_factory({**AOF, "persistence.aof_fsync": policy, "server.threads": "2"})
    rng = random.Random(7)
    threads_n = 4
    for rnd in range(3):
        r = s.redis()
        # keys from earlier rounds must still be intact
        r.flushall()
        acked = [[] for _ in range(threads_n)]
        stop = threading.Event()
        ts = [threading.Thread(target=writer, args=(s.port, t, acked, stop)) for t in range(threads_n)]
        for t in ts:
            t.start()
        time.sleep(rng.uniform(0.5, 2.0))
        kill_at = time.time()
        s.kill9()
        stop.set()
        for t in ts:
            t.join(10)
        s.start()
        r = s.redis()
        for tid in range(threads_n):
            n = len(acked[tid])
            lst = [int(x) for x in r.lrange(f"list{tid}", 0, -1)]
            # no gaps, no duplicates, in order: nothing corrupted
            assert lst == list(range(len(lst))), (rnd, tid)
            if policy == "always":
                assert len(lst) >= n, (rnd, tid, len(lst), n)
                for i in range(0, n, max(1, n // 50)):
                    assert r.get(f"t{tid}:{i}") == str(i).encode()
            else:
                # everysec: at most ~1 s of acknowledged writes may be lost (a kill -9 of
                # the process alone keeps what reached the page cache, so usually none).
                due = sum(1 for t in acked[tid] if t <= kill_at - 1.0)
                assert len(lst) >= due, (rnd, tid, len(lst), due, n)
        assert r.info("persistence")["aof_enabled"] == 1


def test_bgrewriteaof_compacts_and_keeps_writes_made_during_it(server_factory):
    s = server_factory({**AOF, "compatibility.memcached_protocol": "true"})
    r = s.redis()
    for _ in range(2000):
        r.incr("counter")
    populate(r, dbs=2)
    mc = s.sock(s.mc_port)
    mc.sendall(b"set flagged 99 0 1\r\nx\r\n")
    assert mc.recv(100) == b"STORED\r\n"
    size_before = os.path.getsize(aof_path(s))
    assert r.bgrewriteaof()
    for i in range(200):  # concurrent with the child: these go to the rewrite buffer
        r.rpush("during", i)
    wait_info(r, "aof_rewrite_in_progress", 0)
    assert r.info("persistence")["aof_last_bgrewrite_status"] == "ok"
    r.set("after", "1")
    expected = dump(r, dbs=2)
    assert os.path.getsize(aof_path(s)) < size_before
    text = open(aof_path(s), "rb").read()
    assert b"FERRITE.SETFLAGS" in text
    s.kill9()
    s.start()
    assert dump(s.redis(), dbs=2) == expected
    mc = s.sock(s.mc_port)
    mc.sendall(b"get flagged\r\n")
    time.sleep(0.2)
    assert mc.recv(100) == b"VALUE flagged 99 1\r\nx\r\nEND\r\n"


def test_auto_rewrite_on_growth(server_factory):
    s = server_factory({**AOF, "persistence.auto_aof_rewrite_min_size": "20kb",
                        "persistence.auto_aof_rewrite_percentage": "100"})
    r = s.redis()
    for _ in range(3000):
        r.set("same", "x" * 20)
    deadline = time.time() + 10
    while time.time() < deadline and r.info("persistence")["aof_rewrites"] == 0:
        time.sleep(0.1)
    assert r.info("persistence")["aof_rewrites"] >= 1
    wait_log(s, "automatic rewriting")


def test_truncated_tail_is_repaired_on_start(server_factory):
    s = server_factory(AOF)
    r = s.redis()
    r.set("a", "1")
    r.set("b", "2")
    s.stop()
    size = os.path.getsize(aof_path(s))
    with open(aof_path(s), "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$10\r\n123")
    s.start()
    r = s.redis()
    assert (r.get("a"), r.get("b"), r.get("c")) == (b"1", b"2", None)
    assert os.path.getsize(aof_path(s)) == size
    wait_log(s, "truncated")
    r.set("d", "4")  # the repaired file keeps taking writes
    s.kill9()
    s.start()
    assert s.redis().get("d") == b"4"


def test_truncated_tail_refused_when_not_allowed(server_factory):
    s = server_factory({**AOF, "persistence.aof_load_truncated": "false"})
    s.redis().set("a", "1")
    s.stop()
    with open(aof_path(s), "ab") as f:
        f.write(b"*2\r\n$3\r\nGET")
    with pytest.raises(RuntimeError):
        s.start()
    wait_log(s, "truncated at byte offset")


def test_corruption_in_the_middle_stops_startup_naming_the_offset(server_factory):
    s = server_factory(AOF)
    r = s.redis()
    r.set("a", "1")
    s.stop()
    good = os.path.getsize(aof_path(s))
    with open(aof_path(s), "ab") as f:
        f.write(b"this is not RESP\r\n*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$1\r\n9\r\n")
    with pytest.raises(RuntimeError):
        s.start()
    assert f"byte offset {good}" in s.log_text()
    s.config["persistence.aof_load_corrupt"] = "true"
    s.start()
    assert s.redis().get("a") == b"1"


def test_aof_takes_precedence_over_the_snapshot(server_factory):
    s = server_factory()
    r = s.redis()
    r.set("k", "from-rdb")
    r.save()
    s.stop()
    s.config.update(AOF)
    s.start()  # no AOF yet: loads the RDB and writes it as the AOF base
    r = s.redis()
    assert r.get("k") == b"from-rdb"
    r.set("k", "from-aof")
    s.kill9()
    s.start()
    assert s.redis().get("k") == b"from-aof"


def test_debug_loadaof_replaces_the_dataset_with_the_file(server_factory):
    s = server_factory(AOF)
    r = s.redis()
    populate(r, dbs=2, big=False)
    expected = dump(r, dbs=2)
    assert r.execute_command("DEBUG", "LOADAOF") == b"OK"
    assert dump(r, dbs=2) == expected
    size = os.path.getsize(aof_path(s))
    r.execute_command("DEBUG", "LOADAOF")
    assert os.path.getsize(aof_path(s)) == size  # the replay is not written again
    r.set("after", "1")
    s.restart()
    assert s.redis().get("after") == b"1"


def test_debug_loadaof_with_appendonly_off_loads_the_rewritten_file(server_factory):
    """As Redis: with the AOF off, DEBUG LOADAOF replays the file BGREWRITEAOF wrote (the
    digest and the TTLs come back); with no such file the dataset is left alone."""
    s = server_factory()
    r = s.redis()
    with pytest.raises(redis.ResponseError, match="no append only file"):
        r.execute_command("DEBUG", "LOADAOF")
    populate(r, dbs=2, big=False)
    r.set("ttl", "v", ex=1000)
    digest = r.execute_command("DEBUG", "DIGEST")
    assert r.execute_command("BGREWRITEAOF")
    wait_info(r, "aof_rewrite_in_progress", 0)
    r.set("after-rewrite", "1")  # not in the file: gone after the load
    assert r.execute_command("DEBUG", "LOADAOF") == b"OK"
    assert r.execute_command("DEBUG", "DIGEST") == digest
    assert 900 < r.ttl("ttl") <= 1000
    assert r.get("after-rewrite") is None


def test_config_set_appendonly_at_run_time(server_factory):
    s = server_factory()
    r = s.redis()
    populate(r, dbs=2, big=False)
    assert r.config_set("appendonly", "yes")
    r.set("while-creating", "1")
    wait_info(r, "aof_rewrite_in_progress", 0)
    assert os.path.exists(aof_path(s))
    r.set("after", "2")
    expected = dump(r, dbs=2)
    s.kill9()
    s.config.update(AOF)
    s.start()
    assert dump(s.redis(), dbs=2) == expected


def test_unwritable_dir_refuses_writes_with_misconf_and_serves_reads(server_factory, tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    s = server_factory({"persistence.save": "3600 1", "persistence.dir": str(d)})
    r = s.redis()
    r.set("k", "v")
    # Replace the directory by a regular file: every open() below it fails with ENOTDIR,
    # even as root (chmod would not stop root).
    d.rmdir()
    d.write_text("not a directory")
    sock = s.sock()
    transcript(sock, b"SAVE\r\n", b"-ERR\r\n")  # Redis 7.0's exact reply to a failed SAVE
    assert r.bgsave()
    wait_info(r, "rdb_last_bgsave_status", "err")
    with pytest.raises(redis.ResponseError, match="MISCONF"):
        r.set("k2", "v")
    assert r.get("k") == b"v"  # reads keep working
    wait_log(s, "Background saving error")
    wait_log(s, "Not a directory")
    d.unlink()
    d.mkdir()
    assert r.bgsave()
    wait_info(r, "rdb_last_bgsave_status", "ok")
    assert r.set("k2", "v")


@pytest.fixture
def tiny_fs(tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    rc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                        capture_output=True, timeout=10).returncode
    if rc != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], timeout=10)


def test_disk_full_refuses_writes_until_space_returns(server_factory, tiny_fs):
    filler = tiny_fs / "filler"
    filler.write_bytes(b"\0" * 300_000)
    s = server_factory({**AOF, "persistence.aof_fsync": "everysec",
                        "persistence.dir": str(tiny_fs)})
    r = s.redis()
    refused = False
    for i in range(100):
        try:
            r.set(f"k{i}", "x" * 50_000)
        except redis.ResponseError as e:
            assert "MISCONF" in str(e)
            refused = True
            break
    assert refused
    assert r.info("persistence")["aof_last_write_status"] == "err"
    assert r.get("k0") == b"x" * 50_000
    wait_log(s, "Error writing to the AOF file")
    filler.unlink()
    # delete most of the data set so the pending tail fits, then writes come back
    wait_info(r, "aof_last_write_status", "ok", timeout=10)
    assert r.set("after", "1")
    s.kill9()
    s.start()
    r = s.redis()
    assert r.get("after") == b"1" and r.get("k0") == b"x" * 50_000
