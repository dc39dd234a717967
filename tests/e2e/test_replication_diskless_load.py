"""repl-diskless-load on a replica: `disabled` (the default) puts the primary's RDB in
the replica's dbfilename before loading it, as redis-server does; `on-empty-db` loads
straight from memory when the replica has no key; `swapdb` loads beside the current
dataset and keeps it when the payload cannot be loaded (a fake primary sends one)."""
import os

import pytest

from repl_util import RedisProc, fake_primary, info, wait_caught_up, wait_for, wait_link_up

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


@pytest.mark.parametrize("mode,kept", [("swapdb", True), ("disabled", False)])
def test_unloadable_payload(server_factory, mode, kept):
    """A whole payload that is not a loadable RDB: swapdb keeps the replica's data,
    disabled has flushed it (Redis would exit here; Ferrite logs and keeps serving)."""
    bad = b"REDIS0010" + b"\xf0" + b"junk" * 10
    srv = fake_primary(b"+FULLRESYNC " + b"b" * 40 + b" 0\r\n$" + str(len(bad)).encode() +
                       b"\r\n" + bad)
    f = server_factory({**CFG, "replication.repl_diskless_load": mode})
    fr = f.redis()
    fr.set("mine", "1")
    fr.execute_command("REPLICAOF", "127.0.0.1", srv.getsockname()[1])
    wait_for(lambda: "Failed trying to load the MASTER synchronization DB" in f.log_text(), 15,
             "load failure logged")
    fr.execute_command("REPLICAOF", "NO", "ONE")
    srv.close()
    assert fr.ping()
    assert (fr.get("mine") == b"1") == kept
    assert info(fr)["role"] == "master"
