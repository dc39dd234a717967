"""PUBLISH and SPUBLISH reach the replicas, as Redis 7.0 propagates them outside cluster
mode (alone, inside MULTI/EXEC, from a script), and a replica delivers them to its own
subscribers; the AOF never holds them. Checked side by side with redis-server: the
replication stream command for command, and every primary/replica pairing."""
import os
import queue
import threading
import time

import pytest
import redis

from repl_stream import aof_argvs, stream_of
from repl_util import RedisProc, wait_caught_up, wait_link_up

CFG = {"replication.repl_diskless_sync_delay": "0"}


SCRIPT = "redis.call('set', KEYS[1], 'v'); return redis.call('publish', 'ch', 'from-lua')"
CASES = {
    "alone": [("PUBLISH", "ch", "m1"), ("SPUBLISH", "sch", "m2")],
    # Redis' unit/multi "MULTI propagation of PUBLISH": one command, no MULTI/EXEC.
    "multi-one": [("MULTI",), ("PUBLISH", "bla", "bla"), ("EXEC",)],
    "multi-mixed": [("MULTI",), ("SET", "a", "1"), ("PUBLISH", "ch", "x"),
                    ("SPUBLISH", "sch", "y"), ("EXEC",)],
    "multi-publishes": [("MULTI",), ("PUBLISH", "ch", "1"), ("PUBLISH", "ch", "2"), ("EXEC",)],
    "script": [("EVAL", SCRIPT, 1, "k")],
    "publish-only-script": [("EVAL", "return redis.call('publish', 'ch', 'p')", 0)],
    "other-db": [("SELECT", 3), ("PUBLISH", "ch", "in3"), ("SELECT", 0)],
}
# How many commands each case propagates, end-marker and SELECTs included.
COUNTS = {"alone": 4, "multi-one": 3, "multi-mixed": 7, "multi-publishes": 6, "script": 6,
          "publish-only-script": 3, "other-db": 4}


@pytest.mark.parametrize("case", sorted(CASES))
def test_stream_matches_redis_server(server, redis_server, case):
    ours = stream_of(server.port, CASES[case], COUNTS[case])
    theirs = stream_of(redis_server.port, CASES[case], COUNTS[case])
    assert ours == theirs
    assert theirs[-1] == ["set", "end-marker", "1"]
    assert any(c[0] in ("publish", "spublish") for c in theirs)


@pytest.mark.parametrize("kind", ["ferrite", "redis"])
def test_publish_is_no_change(server, redis_server, kind):
    """PUBLISH changes no key: rdb_changes_since_last_save stays (Redis' dirty)."""
    r = redis.Redis(host="127.0.0.1", port=server.port if kind == "ferrite" else redis_server.port)
    r.flushall()
    r.save()
    changes = lambda: int(r.info("persistence")["rdb_changes_since_last_save"])
    assert changes() == 0
    r.publish("ch", "m")
    r.execute_command("SPUBLISH", "sch", "m")
    assert changes() == 0
    r.set("k", "v")
    assert changes() == 1


class Listener:
    """A subscriber (channel `ch`, pattern `p*`, shard channel `sch`) on one node, its
    messages collected by a thread."""

    def __init__(self, node):
        self.r = node.redis()
        self.ps = self.r.pubsub()
        self.ps.subscribe("ch")
        self.ps.psubscribe("p*")
        self.ps.execute_command("SSUBSCRIBE", "sch")
        # Subscribed once the three confirmations came back (else a message may pass
        # before its subscription).
        confirmed, deadline = 0, time.time() + 10
        while confirmed < 3 and time.time() < deadline:
            m = self.ps.get_message(timeout=0.5)
            if m and m["type"] in ("subscribe", "psubscribe", "ssubscribe"):
                confirmed += 1
        assert confirmed == 3
        self.got = queue.Queue()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                m = self.ps.get_message(timeout=0.1)
            except Exception:  # the connection closed at teardown
                return
            if m and m["type"] in ("message", "pmessage", "smessage"):
                self.got.put((m["type"], m["channel"], m["data"]))

    def take(self, n, timeout=10):
        """The next n messages; fewer when they do not come within `timeout` each."""
        out = []
        for _ in range(n):
            try:
                out.append(self.got.get(timeout=timeout))
            except queue.Empty:
                break
        return out

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.ps.close()


def node(kind, server_factory, redis_nodes):
    if kind == "redis":
        n = RedisProc().start()
        redis_nodes.append(n)
        return n
    return server_factory(CFG)


def publish_everything(pr):
    pr.publish("ch", "plain")
    pr.publish("pat", "by-pattern")
    pr.execute_command("SPUBLISH", "sch", "shard")
    tx = pr.pipeline(transaction=True)
    tx.set("k", "v")
    tx.publish("ch", "in-multi")
    tx.execute()
    pr.eval("return redis.call('publish', 'ch', 'from-lua')", 0)


EXPECTED = [("message", b"ch", b"plain"), ("pmessage", b"pat", b"by-pattern"),
            ("smessage", b"sch", b"shard"), ("message", b"ch", b"in-multi"),
            ("message", b"ch", b"from-lua")]


@pytest.mark.parametrize("primary_kind,replica_kind", [("ferrite", "ferrite"),
                                                       ("ferrite", "redis"),
                                                       ("redis", "ferrite"),
                                                       ("redis", "redis")])
def test_replica_subscribers_get_what_the_primary_publishes(server_factory, redis_nodes,
                                                            primary_kind, replica_kind):
    primary = node(primary_kind, server_factory, redis_nodes)
    replica = node(replica_kind, server_factory, redis_nodes)
    pr, rr = primary.redis(), replica.redis()
    rr.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_link_up(rr)
    wait_caught_up(pr, rr)
    sub = Listener(replica)
    try:
        publish_everything(pr)
        assert sub.take(len(EXPECTED)) == EXPECTED
        wait_caught_up(pr, rr)
        assert rr.get("k") == b"v"
    finally:
        sub.close()


def test_chained_replica_subscribers(server_factory):
    """primary -> replica -> replica of the replica: the middle one forwards the bytes."""
    primary, mid, leaf = server_factory(CFG), server_factory(CFG), server_factory(CFG)
    pr, mr, lr = primary.redis(), mid.redis(), leaf.redis()
    mr.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_link_up(mr)
    lr.execute_command("REPLICAOF", "127.0.0.1", mid.port)
    wait_link_up(lr)
    wait_caught_up(pr, lr)
    subs = [Listener(mid), Listener(leaf)]
    try:
        publish_everything(pr)
        for s in subs:
            assert s.take(len(EXPECTED)) == EXPECTED
    finally:
        for s in subs:
            s.close()


def test_aof_holds_no_publish(server_factory):
    """With a replica attached (the stream is built) the primary's AOF and the replica's
    get the writes but never a PUBLISH, as Redis 7.0's."""
    aof = {**CFG, "persistence.aof_enabled": "true", "persistence.aof_fsync": "always"}
    primary, replica = server_factory(aof), server_factory(aof)
    pr, rr = primary.redis(), replica.redis()
    rr.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_link_up(rr)
    sub = Listener(replica)
    try:
        publish_everything(pr)
        pr.set("last", "1")
        assert sub.take(len(EXPECTED)) == EXPECTED  # the stream did carry them
        wait_caught_up(pr, rr)
    finally:
        sub.close()
    for n in (primary, replica):
        names = [a[0].decode().upper() for a in aof_argvs(os.path.join(n.dir, "appendonly.aof"))]
        assert "SET" in names, names
        assert "PUBLISH" not in names and "SPUBLISH" not in names, names
