"""repl-diskless-load on a replica, side by side with a redis-server replica: `disabled`
(the default) streams the primary's RDB to a temp file renamed over dbfilename before
loading it; `on-empty-db` (when the replica has no key) and `swapdb` parse the payload
from the socket as it arrives; `swapdb` loads beside the current dataset, serves it
meanwhile when the sync continues the same history (async loading) and keeps it when
the payload cannot be loaded (a fake primary sends one) or the primary dies
mid-transfer."""
import os
import socket

import pytest
import redis

from repl_util import (NotYet, RedisProc, fake_primary, info, wait_caught_up, wait_for,
                       wait_link_up)

CFG = {"replication.repl_diskless_sync_delay": "0"}


def replica_dir_has_rdb(node):
    return os.path.exists(os.path.join(node.dir, "dump.rdb"))


@pytest.mark.parametrize("kind", ["ferrite", "redis"])
@pytest.mark.parametrize("mode,keys_before,on_disk", [("disabled", False, True),
                                                      ("on-empty-db", False, False),
                                                      ("on-empty-db", True, True),
                                                      ("swapdb", True, False)])
def test_sync_payload_on_disk_as_redis(server_factory, redis_nodes, kind, mode, keys_before,
                                       on_disk):
    primary = server_factory(CFG)
    pr = primary.redis()
    for i in range(50):
        pr.set(f"k{i}", i)
    if kind == "redis":
        rep = RedisProc(["--repl-diskless-load", mode]).start()
        redis_nodes.append(rep)
    else:
        rep = server_factory({**CFG, "replication.repl_diskless_load": mode})
    rr = rep.redis()
    if keys_before:
        rr.set("old", "data")
    rr.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_link_up(rr)
    wait_caught_up(pr, rr)
    assert rr.dbsize() == 50 and rr.get("old") is None
    assert replica_dir_has_rdb(rep) == on_disk
    if on_disk:
        with open(os.path.join(rep.dir, "dump.rdb"), "rb") as f:
            assert f.read(5) == b"REDIS"


# An empty RDB: the EOF opcode and a zero checksum (not checked, as Redis' rdbchecksum no).
EMPTY_RDB = b"REDIS0010" + b"\xff" + b"\0" * 8
MARK = b"m" * 40


@pytest.mark.parametrize("mode,kept,payload,logged", [
    ("swapdb", True, "junk", "Failed trying to load the MASTER synchronization DB"),
    ("disabled", False, "junk", "Failed trying to load the MASTER synchronization DB"),
    ("swapdb", True, "bad-mark", "EOF marker is broken"),
    ("swapdb", True, "short", "Failed trying to load the MASTER synchronization DB"),
])
def test_unloadable_payload(server_factory, mode, kept, payload, logged):
    """A payload that is not a loadable RDB (junk, a broken EOF mark, a bulk length
    shorter than the RDB): swapdb keeps the replica's data,
    disabled has flushed it (Redis would exit here; Ferrite logs and keeps serving)."""
    bad = b"REDIS0010" + b"\xf0" + b"junk" * 10
    head = b"+FULLRESYNC " + b"b" * 40 + b" 0\r\n"
    if payload == "junk":
        body = b"$" + str(len(bad)).encode() + b"\r\n" + bad
    elif payload == "bad-mark":
        body = b"$EOF:" + MARK + b"\r\n" + EMPTY_RDB + b"x" * 40
    else:
        body = b"$12\r\n" + EMPTY_RDB[:12]  # the RDB runs past the bulk length
    srv = fake_primary(head + body)
    f = server_factory({**CFG, "replication.repl_diskless_load": mode})
    fr = f.redis()
    fr.set("mine", "1")
    fr.execute_command("REPLICAOF", "127.0.0.1", srv.getsockname()[1])
    wait_for(lambda: logged in f.log_text(), 15, "load failure logged")
    fr.execute_command("REPLICAOF", "NO", "ONE")
    srv.close()
    assert fr.ping()
    assert (fr.get("mine") == b"1") == kept
    assert info(fr)["role"] == "master"


def fill(r, n, prefix="k", size=100):
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.set(f"{prefix}{i}", str(i).rjust(size, "x"))
    p.execute()


def make_replica(kind, mode, server_factory, redis_nodes, extra_ferrite=None, extra_redis=()):
    if kind == "redis":
        # A redis-server loading from the socket serves clients only every
        # loading-process-events-interval-bytes (2 MB): these payloads are smaller.
        rep = RedisProc(["--repl-diskless-load", mode, "--loading-process-events-interval-bytes",
                         "1024", *extra_redis]).start()
        redis_nodes.append(rep)
    else:
        rep = server_factory({**CFG, "replication.repl_diskless_load": mode,
                              **(extra_ferrite or {})})
    return rep


def temp_rdbs(node):
    return [f for f in os.listdir(node.dir) if f.startswith("temp-") and f.endswith(".rdb")]


@pytest.mark.parametrize("kind", ["ferrite", "redis"])
@pytest.mark.parametrize("mode", ["swapdb", "disabled", "on-empty-db"])
def test_redis_primary_killed_mid_transfer_keeps_old_data(server_factory, redis_nodes, kind,
                                                          mode):
    """A redis-server primary (diskless sync) dies while the payload streams: the replica
    keeps serving its old dataset, whole, and leaves no temp file, in every mode (a
    disk-based payload is flushed in only once complete; swapdb's temporary db is
    discarded). The redis-server replica is the reference."""
    primary = RedisProc(["--repl-diskless-sync", "yes"]).start()
    redis_nodes.append(primary)
    pr = primary.redis()
    fill(pr, 3000)
    pr.config_set("rdb-key-save-delay", 2000)  # 2 ms a key: a ~6 s transfer
    rep = make_replica(kind, mode, server_factory, redis_nodes)
    rr = rep.redis()
    fill(rr, 200, prefix="old")
    before = rr.execute_command("DEBUG", "DIGEST")
    rr.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_for(lambda: info(rr).get("master_sync_in_progress") == "1", 15, "transfer started")
    if mode != "swapdb":  # to disk as it arrives (on-empty-db: the replica has keys)
        wait_for(lambda: len(temp_rdbs(rep)) == 1 and os.path.getsize(
            os.path.join(rep.dir, temp_rdbs(rep)[0])) > 0, 15, "payload bytes in a temp file")
        # The payload is on disk: the old data is served meanwhile.
        assert rr.get("old7") == b"7".rjust(100, b"x") and rr.dbsize() == 200
    else:
        # Parsed from the socket into a temporary db; a first sync (another history)
        # answers -LOADING meanwhile.
        wait_for(lambda: int(info(rr, "persistence").get("loading_loaded_bytes", 0)) > 0, 15,
                 "payload bytes parsed")
        with pytest.raises(redis.exceptions.BusyLoadingError):
            rr.get("old7")
        assert temp_rdbs(rep) == []
    primary.kill9()
    wait_for(lambda: info(rr).get("master_sync_in_progress") == "0", 15, "transfer abandoned")
    assert rr.dbsize() == 200
    assert rr.execute_command("DEBUG", "DIGEST") == before
    assert temp_rdbs(rep) == []
    wait_for(lambda: any(w in rep.log_text() for w in (
        "connection lost", "Lost connection", "I/O error", "Failed trying to load")), 10,
        "the cut transfer logged")


@pytest.mark.parametrize("kind", ["ferrite", "redis"])
def test_swapdb_async_load_serves_old_data(server_factory, redis_nodes, kind):
    """swapdb and a full sync of the history the replica already holds (its backlog was
    overrun): the old dataset is served while the new one loads (async_loading:1,
    loading:0); BGSAVE and CLUSTER FLUSHSLOTS answer -LOADING; then the new dataset
    replaces it."""
    primary = RedisProc(["--repl-diskless-sync", "yes", "--repl-backlog-size", "16384"]).start()
    redis_nodes.append(primary)
    pr = primary.redis()
    fill(pr, 3000)
    pr.set("marker", "old")
    rep = make_replica(kind, "swapdb", server_factory, redis_nodes,
                       extra_ferrite={"persistence.key_load_delay": "500"},
                       extra_redis=["--key-load-delay", "500"])
    rr = rep.redis()
    rr.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_link_up(rr, 30)
    wait_caught_up(pr, rr, 30)
    assert rr.get("marker") == b"old"
    # Drop the replica and write past the backlog, in one transaction so that the
    # replica cannot reconnect in between: it comes back with PSYNC on the same replid
    # and gets a full resync.
    tx = pr.pipeline(transaction=True)
    tx.execute_command("CLIENT", "KILL", "TYPE", "replica")
    tx.set("marker", "new")
    tx.set("big", "z" * 40000)
    tx.execute()
    seen = {}

    def async_loading():
        p = info(rr, "persistence")
        if p.get("async_loading") != "1":
            return NotYet(p.get("async_loading"), p.get("loading"))
        seen["loading"] = p["loading"]
        seen["marker"] = rr.get("marker")
        try:
            rr.bgsave()
            seen["bgsave"] = "ok"
        except redis.exceptions.BusyLoadingError:  # redis-py's -LOADING
            seen["bgsave"] = "LOADING"
        try:  # a subcommand Redis flags no-async-loading
            rr.execute_command("CLUSTER", "FLUSHSLOTS")
            seen["flushslots"] = "ok"
        except redis.exceptions.BusyLoadingError:
            seen["flushslots"] = "LOADING"
        except redis.exceptions.ResponseError as e:
            seen["flushslots"] = str(e)
        return True
    wait_for(async_loading, 30, "async loading", step=0.01)
    assert seen["loading"] == "0"
    assert seen["marker"] == b"old"  # the old dataset, served during the load
    assert seen["bgsave"].startswith("LOADING")
    assert seen["flushslots"] == "LOADING"
    wait_for(lambda: info(rr, "persistence")["async_loading"] == "0", 30, "load done")
    wait_link_up(rr, 30)
    wait_caught_up(pr, rr, 30)
    assert rr.get("marker") == b"new"
    assert rr.execute_command("DEBUG", "DIGEST") == pr.execute_command("DEBUG", "DIGEST")
    assert int(info(pr, "stats")["sync_full"]) == 2


@pytest.mark.parametrize("kind", ["ferrite", "redis"])
def test_swapdb_first_sync_answers_loading(server_factory, redis_nodes, kind):
    """swapdb from a primary of another history (the first sync): clients get -LOADING
    while the payload loads, as from Redis, and the old data is gone after it."""
    primary = RedisProc(["--repl-diskless-sync", "yes"]).start()
    redis_nodes.append(primary)
    pr = primary.redis()
    fill(pr, 3000)
    rep = make_replica(kind, "swapdb", server_factory, redis_nodes,
                       extra_ferrite={"persistence.key_load_delay": "500"},
                       extra_redis=["--key-load-delay", "500"])
    rr = rep.redis()
    rr.set("mine", "1")
    rr.execute_command("REPLICAOF", "127.0.0.1", primary.port)

    def loading_error():
        try:
            rr.get("mine")
        except redis.exceptions.BusyLoadingError:  # redis-py's -LOADING
            return True
        return NotYet("served")
    wait_for(loading_error, 30, "-LOADING during the load", step=0.01)
    wait_link_up(rr, 30)
    wait_caught_up(pr, rr, 30)
    assert rr.get("mine") is None and rr.dbsize() == 3000


@pytest.mark.parametrize("kind", ["ferrite", "redis"])
@pytest.mark.parametrize("mode", ["swapdb", "on-empty-db"])
def test_socket_modes_parse_while_the_payload_arrives(server_factory, redis_nodes, kind, mode):
    """swapdb and on-empty-db (no key) parse the payload from the socket: keys are loaded
    (INFO loading_loaded_bytes moves) while the primary's child is still writing it, and
    no temp file is made. A replica holding the payload until it is whole would load
    nothing before the child ended."""
    primary = RedisProc(["--repl-diskless-sync", "yes"]).start()
    redis_nodes.append(primary)
    pr = primary.redis()
    fill(pr, 4000)
    pr.config_set("rdb-key-save-delay", 1000)  # 1 ms a key: a ~4 s transfer
    rep = make_replica(kind, mode, server_factory, redis_nodes)
    rr = rep.redis()
    rr.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    seen = {}

    def parsing_while_sent():
        p = info(rr, "persistence")
        loaded = int(p.get("loading_loaded_bytes", 0))
        if p.get("loading") != "1" or loaded == 0:
            return NotYet(p.get("loading"), loaded)
        seen["child"] = info(pr, "persistence")["rdb_bgsave_in_progress"]
        seen["temp"] = temp_rdbs(rep)
        return True
    wait_for(parsing_while_sent, 20, "keys parsed during the transfer", step=0.02)
    assert seen["child"] == "1"  # the primary was still producing the payload
    assert seen["temp"] == []
    pr.config_set("rdb-key-save-delay", 0)
    wait_link_up(rr, 30)
    wait_caught_up(pr, rr, 30)
    assert rr.execute_command("DEBUG", "DIGEST") == pr.execute_command("DEBUG", "DIGEST")


@pytest.mark.parametrize("kind", ["ferrite"])
def test_swapdb_async_load_cut_keeps_the_old_data(server_factory, redis_nodes, kind):
    """swapdb, async loading (the same history), and the primary dies mid-payload: the
    old dataset was served all along and stays, whole; the temporary db is dropped.
    (A redis-server replica is no reliable reference here: its primary may still send
    it the transaction's SET after the CLIENT KILL in it, through 7.0's shared
    replication buffer, so its old dataset sometimes has `big`.)"""
    primary = RedisProc(["--repl-diskless-sync", "yes", "--repl-backlog-size", "16384"]).start()
    redis_nodes.append(primary)
    pr = primary.redis()
    fill(pr, 3000)
    rep = make_replica(kind, "swapdb", server_factory, redis_nodes)
    rr = rep.redis()
    rr.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_link_up(rr, 30)
    wait_caught_up(pr, rr, 30)
    before = rr.execute_command("DEBUG", "DIGEST")
    pr.config_set("rdb-key-save-delay", 2000)  # the next payload takes ~6 s
    # As test_swapdb_async_load_serves_old_data: a full resync of the same history.
    tx = pr.pipeline(transaction=True)
    tx.execute_command("CLIENT", "KILL", "TYPE", "replica")
    tx.set("big", "z" * 40000)
    tx.execute()
    wait_for(lambda: info(rr, "persistence").get("async_loading") == "1", 30, "async loading",
             step=0.01)
    # Parsed as it arrives (Redis shows the loading_* fields with async loading too).
    wait_for(lambda: int(info(rr, "persistence").get("loading_loaded_bytes", 0)) > 0, 15,
             "payload bytes parsed")
    assert info(rr, "persistence").get("async_loading") == "1"
    assert rr.get("k7") == b"7".rjust(100, b"x") and rr.get("big") is None
    primary.kill9()
    wait_for(lambda: info(rr, "persistence").get("async_loading") == "0", 15, "load abandoned")
    assert rr.dbsize() == 3000
    assert rr.execute_command("DEBUG", "DIGEST") == before
    assert temp_rdbs(rep) == []


@pytest.mark.parametrize("kind", ["ferrite", "redis"])
def test_transfer_fields_before_the_payload(server_factory, redis_nodes, kind):
    """+FULLRESYNC came but no "$" line yet: INFO replication's transfer fields, byte for
    byte as redis-server's (a size of -1 makes master_sync_perc -0.00)."""
    srv = fake_primary(b"+FULLRESYNC " + b"c" * 40 + b" 0\r\n")
    if kind == "redis":
        rep = RedisProc().start()
        redis_nodes.append(rep)
    else:
        rep = server_factory(CFG)
    rr = rep.redis()
    rr.execute_command("REPLICAOF", "127.0.0.1", srv.getsockname()[1])
    wait_for(lambda: info(rr).get("master_sync_in_progress") == "1", 15, "transfer state")
    with socket.create_connection(("127.0.0.1", rep.port), timeout=10) as s:  # INFO's bytes
        s.sendall(b"INFO replication\r\n")
        text = b""
        while b"master_repl_offset" not in text:
            text += s.recv(65536)
        text = text.decode()
    fields = [line for line in text.split("\r\n") if line.startswith(
        ("master_sync_total_bytes", "master_sync_read_bytes", "master_sync_left_bytes",
         "master_sync_perc"))]
    srv.close()
    assert fields == ["master_sync_total_bytes:-1", "master_sync_read_bytes:0",
                      "master_sync_left_bytes:-1", "master_sync_perc:-0.00"]
