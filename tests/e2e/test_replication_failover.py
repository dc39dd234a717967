"""FAILOVER (Redis 7.0's coordinated failover) between real processes: its errors side
by side with redis-server, Ferrite to Ferrite, Ferrite to a redis-server replica and a
redis-server primary to a Ferrite replica; the write pause (a write sent meanwhile is
held, then answered -READONLY by the demoted primary, or run after FAILOVER ABORT);
TIMEOUT without and with FORCE. A replica is held behind with SIGSTOP."""
import os
import signal
import threading
import time

import pytest
import redis

from repl_util import RedisProc, info, wait_caught_up, wait_for, wait_link_up

CFG = {"replication.repl_diskless_sync_delay": "0"}


class Group:
    """A primary and its replicas, all Ferrite or all redis-server."""

    def __init__(self, kind, server_factory, redis_nodes, n_replicas=1):
        self.kind = kind
        self.nodes = [self._node(server_factory, redis_nodes) for _ in range(1 + n_replicas)]
        for n in self.nodes[1:]:
            n.redis().execute_command("REPLICAOF", "127.0.0.1", self.nodes[0].port)
        for n in self.nodes[1:]:
            wait_link_up(n.redis())
        wait_for(lambda: int(info(self.primary)["connected_slaves"]) == n_replicas, 20,
                 "replicas attached")

    def _node(self, server_factory, redis_nodes):
        if self.kind == "redis":
            n = RedisProc().start()
            redis_nodes.append(n)
            return n
        return server_factory(CFG)

    @property
    def primary(self):
        return self.nodes[0].redis()


def err(r, *args):
    try:
        r.execute_command(*args)
    except redis.ResponseError as e:
        return str(e)
    return None


def test_failover_errors_match_redis(server_factory, redis_nodes):
    seen = {}
    for kind in ("redis", "ferrite"):
        alone = (RedisProc().start() if kind == "redis" else server_factory(CFG))
        if kind == "redis":
            redis_nodes.append(alone)
        g = Group(kind, server_factory, redis_nodes)
        p, rp = g.primary, g.nodes[1].port
        out = [
            err(alone.redis(), "FAILOVER"),
            err(alone.redis(), "FAILOVER", "ABORT"),
            err(p, "FAILOVER", "ABORT"),
            err(p, "FAILOVER", "BOGUS"),
            err(p, "FAILOVER", "TIMEOUT", "0"),
            err(p, "FAILOVER", "TIMEOUT", "-5"),
            err(p, "FAILOVER", "TIMEOUT", "x"),
            err(p, "FAILOVER", "TIMEOUT", "10", "TIMEOUT", "20"),
            err(p, "FAILOVER", "TO", "127.0.0.1"),
            err(p, "FAILOVER", "TO", "127.0.0.1", "nope"),
            err(p, "FAILOVER", "FORCE"),
            err(p, "FAILOVER", "TO", "127.0.0.1", rp, "FORCE"),
            err(p, "FAILOVER", "FORCE", "TIMEOUT", "100"),
            err(p, "FAILOVER", "TO", "127.0.0.1", "1", "TIMEOUT", "100"),
            err(p, "FAILOVER", "ABORT", "TIMEOUT", "100"),
            err(g.nodes[1].redis(), "FAILOVER"),
            err(g.nodes[1].redis(), "PSYNC", "0" * 40, "1", "FAILOVER"),
            err(p, "PSYNC", "0" * 40, "1", "FAILOVER"),
        ]
        seen[kind] = out
    assert seen["ferrite"] == seen["redis"]
    assert seen["ferrite"][0] == "FAILOVER requires connected replicas."


@pytest.mark.parametrize("kinds", [("ferrite", "ferrite"), ("ferrite", "redis"),
                                   ("redis", "ferrite")])
def test_failover_to_replica_swaps_roles(server_factory, redis_nodes, kinds):
    """FAILOVER TO the replica: it is promoted by PSYNC ... FAILOVER (a partial resync,
    no full sync), the old primary follows it, the data and history carry over."""
    def make(kind):
        if kind == "redis":
            n = RedisProc().start()
            redis_nodes.append(n)
            return n
        return server_factory(CFG)

    old, new = make(kinds[0]), make(kinds[1])
    new.redis().execute_command("REPLICAOF", "127.0.0.1", old.port)
    wait_link_up(new.redis())
    p = old.redis()
    for i in range(200):
        p.set(f"k{i}", i)
    p.rpush("l", *range(50))
    wait_caught_up(p, new.redis())
    replid = info(p)["master_replid"]
    full_before = int(info(new.redis(), "stats")["sync_full"])
    assert p.execute_command("FAILOVER", "TO", "127.0.0.1", new.port, "TIMEOUT", 10000) == b"OK"
    wait_for(lambda: info(new.redis())["role"] == "master" and
             info(p)["role"] == "slave" and info(p).get("master_link_status") == "up", 20,
             "roles swapped")
    wait_for(lambda: info(p)["master_failover_state"] == "no-failover", 10, "failover done")
    i_new = info(new.redis())
    assert i_new["master_replid2"] == replid  # the old history continues (PSYNC2)
    assert info(p)["master_port"] == str(new.port)
    assert int(info(new.redis(), "stats")["sync_full"]) == full_before  # partial, no RDB
    assert new.redis().set("after", "x")
    wait_caught_up(new.redis(), p)
    assert p.get("after") == b"x"
    assert p.execute_command("DEBUG", "DIGEST") == new.redis().execute_command("DEBUG", "DIGEST")
    with pytest.raises(redis.exceptions.ReadOnlyError):
        p.set("k0", "no")


def _held_write(port, results, key="held"):
    """SET from a thread: a write pause keeps it waiting."""
    def run():
        try:
            c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)
            results.append(c.set(key, "v"))
        except redis.RedisError as e:
            results.append(e)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_failover_pauses_writes_then_readonly(server_factory):
    """While FAILOVER waits for the (stopped) replica, writes are held; reads are not.
    Once the replica caught up the roles swap and the held write gets -READONLY."""
    old, new = server_factory(CFG), server_factory(CFG)
    new.redis().execute_command("REPLICAOF", "127.0.0.1", old.port)
    wait_link_up(new.redis())
    p = old.redis()
    p.set("a", 1)
    wait_caught_up(p, new.redis())
    os.kill(new.proc.pid, signal.SIGSTOP)
    try:
        p.set("b", 2)  # the replica has not acknowledged this one
        assert p.execute_command("FAILOVER", "TO", "127.0.0.1", new.port) == b"OK"
        assert info(p)["master_failover_state"] == "waiting-for-sync"
        results = []
        t = _held_write(old.port, results)
        time.sleep(0.5)
        assert results == []  # held by the pause
        assert p.get("a") == b"1"  # reads go on
        assert err(p, "REPLICAOF", "NO", "ONE") == "REPLICAOF not allowed while failing over."
        assert err(p, "FAILOVER") == "FAILOVER already in progress."
    finally:
        os.kill(new.proc.pid, signal.SIGCONT)
    t.join(20)
    assert len(results) == 1 and isinstance(results[0], redis.exceptions.ReadOnlyError), results
    wait_for(lambda: info(new.redis())["role"] == "master", 10, "replica promoted")
    assert new.redis().get("b") == b"2"
    assert new.redis().get("held") is None


def test_failover_abort_and_timeout(server_factory):
    """FAILOVER ABORT and a TIMEOUT without FORCE give the role back: the held write
    runs on the primary. With FORCE the failover goes on after the timeout."""
    old, new = server_factory(CFG), server_factory(CFG)
    new.redis().execute_command("REPLICAOF", "127.0.0.1", old.port)
    wait_link_up(new.redis())
    p = old.redis()
    wait_caught_up(p, new.redis())
    os.kill(new.proc.pid, signal.SIGSTOP)
    try:
        p.set("x", 1)
        assert p.execute_command("FAILOVER") == b"OK"
        results = []
        t = _held_write(old.port, results, "after_abort")
        time.sleep(0.3)
        assert results == []
        assert p.execute_command("FAILOVER", "ABORT") == b"OK"
        t.join(10)
        assert results == [True]
        assert info(p)["master_failover_state"] == "no-failover"
        assert info(p)["role"] == "master"

        assert p.execute_command("FAILOVER", "TIMEOUT", 300) == b"OK"
        wait_for(lambda: info(p)["master_failover_state"] == "no-failover", 10, "timed out")
        assert info(p)["role"] == "master"
        assert p.set("still", "primary")

        assert p.execute_command("FAILOVER", "TO", "127.0.0.1", new.port, "TIMEOUT", 300,
                                 "FORCE") == b"OK"
        wait_for(lambda: info(p)["master_failover_state"] == "failover-in-progress", 10,
                 "forced after the timeout")
        assert info(p)["role"] == "slave"
    finally:
        os.kill(new.proc.pid, signal.SIGCONT)
    wait_for(lambda: info(new.redis())["role"] == "master" and
             info(p)["master_failover_state"] == "no-failover", 20, "forced failover done")
    wait_link_up(p)
    wait_caught_up(new.redis(), p)
    assert p.execute_command("DEBUG", "DIGEST") == new.redis().execute_command("DEBUG", "DIGEST")
