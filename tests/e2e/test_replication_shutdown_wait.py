"""A primary's SHUTDOWN (and SIGTERM) waiting for lagging replicas (shutdown-timeout,
NOW, ABORT, as Redis 7.0), WAIT counting the calling client's own last write rather
than the stream's end, and a replica pointed at itself or at a loop (A -> B -> A):
compared with redis-server where the behaviour is on the wire. Replicas are held
behind with SIGSTOP."""
import os
import signal
import threading
import time

import pytest
import redis

from repl_util import RedisProc, info, wait_caught_up, wait_link_up

CFG = {"replication.repl_diskless_sync_delay": "0"}


def pair(server_factory, redis_nodes, kind, primary_cfg=None):
    def make(cfg):
        if kind == "redis":
            args = [a for k, v in (cfg or {}).items() for a in (f"--{k}", str(v))]
            n = RedisProc(args).start()
            redis_nodes.append(n)
            return n
        return server_factory({**CFG, **{f"server.{k.replace('-', '_')}": v
                                         for k, v in (cfg or {}).items()}})
    p, r = make(primary_cfg), make(None)
    r.redis().execute_command("REPLICAOF", "127.0.0.1", p.port)
    wait_link_up(r.redis())
    wait_caught_up(p.redis(), r.redis())
    return p, r


def shutdown_in_thread(port, *args):
    out = []

    def run():
        try:
            c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)
            out.append(c.execute_command("SHUTDOWN", *args))
        except redis.ConnectionError as e:  # the server went away: shut down
            out.append(("closed", e))
        except redis.ResponseError as e:
            out.append(str(e))
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def proc_of(n):
    return n.proc


@pytest.mark.parametrize("kind", ["ferrite", "redis"])
def test_shutdown_waits_for_lagging_replica(server_factory, redis_nodes, kind):
    """The last write reaches the replica before the primary exits."""
    p, r = pair(server_factory, redis_nodes, kind)
    os.kill(r.proc.pid, signal.SIGSTOP)
    try:
        p.redis().set("last", "write")
        t, out = shutdown_in_thread(p.port, "NOSAVE")
        time.sleep(1.0)
        assert out == [] and proc_of(p).poll() is None  # waiting for the replica
        # Writes are paused meanwhile: this one is held.
        held = []

        def write():
            try:
                held.append(redis.Redis(host="127.0.0.1", port=p.port, socket_timeout=30).set("x", 1))
            except redis.RedisError as e:  # the server exits while it is held
                held.append(e)
        threading.Thread(target=write, daemon=True).start()
        time.sleep(0.3)
        assert held == []
        assert p.redis().get("last") == b"write"  # reads go on
    finally:
        os.kill(r.proc.pid, signal.SIGCONT)
    proc_of(p).wait(15)
    t.join(5)
    assert out and out[0][0] == "closed"
    assert r.redis().get("last") == b"write"


@pytest.mark.parametrize("kind", ["ferrite", "redis"])
def test_shutdown_abort_and_timeout_and_now(server_factory, redis_nodes, kind):
    p, r = pair(server_factory, redis_nodes, kind, {"shutdown-timeout": 2})
    pr = p.redis()
    assert str(pytest.raises(redis.ResponseError, pr.execute_command, "SHUTDOWN", "ABORT").value) \
        == "No shutdown in progress."
    for bad in (("ABORT", "NOW"), ("SAVE", "NOSAVE"), ("BOGUS",)):
        with pytest.raises(redis.ResponseError, match="syntax error"):
            pr.execute_command("SHUTDOWN", *bad)
    os.kill(r.proc.pid, signal.SIGSTOP)
    try:
        pr.set("k", "v")
        t, out = shutdown_in_thread(p.port, "NOSAVE")
        time.sleep(0.5)
        assert pr.execute_command("SHUTDOWN", "ABORT") in (True, b"OK")
        t.join(5)
        assert out == ["Errors trying to SHUTDOWN. Check logs."]
        assert pr.set("writable", "again")  # the pause ended
        # shutdown-timeout passes with the replica still behind: the primary exits.
        start = time.time()
        t, out = shutdown_in_thread(p.port, "NOSAVE")
        proc_of(p).wait(15)
        took = time.time() - start
        assert 1.5 <= took < 10, took
        if kind == "ferrite":
            assert "Lagging replica 127.0.0.1:" in p.log_text()
    finally:
        os.kill(r.proc.pid, signal.SIGCONT)
    # SHUTDOWN NOW does not wait, with the replica behind.
    p2, r2 = pair(server_factory, redis_nodes, kind)
    os.kill(r2.proc.pid, signal.SIGSTOP)
    try:
        p2.redis().set("k", "v")
        start = time.time()
        shutdown_in_thread(p2.port, "NOSAVE", "NOW")
        proc_of(p2).wait(10)
        assert time.time() - start < 1.5
    finally:
        os.kill(r2.proc.pid, signal.SIGCONT)


def test_sigterm_waits_for_lagging_replica(server_factory):
    p, r = pair(server_factory, [], "ferrite")
    os.kill(r.proc.pid, signal.SIGSTOP)
    try:
        p.redis().set("sig", "term")
        p.proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert p.proc.poll() is None
    finally:
        os.kill(r.proc.pid, signal.SIGCONT)
    p.proc.wait(15)
    assert r.redis().get("sig") == b"term"
    assert "Waiting for replicas before shutting down." in p.log_text()


@pytest.mark.parametrize("kind", ["ferrite", "redis"])
def test_wait_counts_the_clients_own_write(server_factory, redis_nodes, kind):
    """WAIT waits for the offset after this client's last command: another client's
    later write, which the (stopped) replica has not acknowledged, does not count."""
    p, r = pair(server_factory, redis_nodes, kind)
    a = p.redis()
    b = p.redis()
    a.set("mine", 1)
    assert a.execute_command("WAIT", 1, 5000) == 1
    a.get("mine")  # any command: the offset is the stream's end after it
    time.sleep(1.2)  # the replica's periodic ACK covers the GETACK of the first WAIT
    os.kill(r.proc.pid, signal.SIGSTOP)
    try:
        b.set("theirs", 2)
        start = time.time()
        assert a.execute_command("WAIT", 1, 1000) == 1
        assert time.time() - start < 0.9
        assert b.execute_command("WAIT", 1, 300) == 0
    finally:
        os.kill(r.proc.pid, signal.SIGCONT)


@pytest.mark.parametrize("kind", ["ferrite", "redis"])
def test_replica_of_itself_and_loop(server_factory, redis_nodes, kind):
    """REPLICAOF its own address: every PSYNC is refused with -NOMASTERLINK (the
    would-be primary is a replica not connected), the link stays down, the data stays.
    A -> B -> A: no crash, no data lost. REPLICAOF NO ONE gets a primary back."""
    def make():
        if kind == "redis":
            n = RedisProc().start()
            redis_nodes.append(n)
            return n
        return server_factory(CFG)

    a = make()
    ra = a.redis()
    ra.set("a", "1")
    assert ra.execute_command("REPLICAOF", "127.0.0.1", a.port) == b"OK"
    time.sleep(2.5)
    i = info(ra)
    assert i["role"] == "slave" and i["master_link_status"] == "down"
    assert ra.get("a") == b"1"
    role = ra.execute_command("ROLE")
    assert role[0] == b"slave" and role[2] == a.port
    assert role[3] in (b"connect", b"connecting", b"handshake")
    if kind == "ferrite":
        assert "NOMASTERLINK Can't SYNC while not connected with my master" in a.log_text()
    assert ra.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    assert ra.set("a", "2")

    b = make()
    rb = b.redis()
    rb.execute_command("REPLICAOF", "127.0.0.1", a.port)
    wait_link_up(rb)
    wait_caught_up(ra, rb)
    # A -> B -> A. Whether a link comes up depends on who reconnects first (redis-server
    # too: B may still count as connected when A's PSYNC arrives); nothing is lost and
    # both keep serving.
    ra.execute_command("REPLICAOF", "127.0.0.1", b.port)
    time.sleep(2.5)
    for r in (ra, rb):
        assert info(r)["role"] == "slave"
        assert r.get("a") == b"2"
    assert ra.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    wait_link_up(rb)
    ra.set("c", "3")
    wait_caught_up(ra, rb)
    assert rb.get("c") == b"3"
