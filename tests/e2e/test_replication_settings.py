"""The replication settings issue 13 names that no other test drives, each beside
redis-server 7.0 in the same role: repl-timeout on both sides, repl-backlog-ttl,
replica-priority / replica-announce-ip / replica-announce-port / replica-announced as a
primary and sentinel see them, and a full sync payload cut short."""
import os
import socket
import threading
import time

import pytest

from repl_util import RedisProc, fake_primary, info, wait_for, wait_link_up

CFG = {"replication.repl_diskless_sync_delay": "0"}


def node(kind, server_factory, redis_nodes, ferrite_cfg=None, redis_args=()):
    if kind == "redis":
        n = RedisProc(list(redis_args)).start()
        redis_nodes.append(n)
        return n
    return server_factory({**CFG, **(ferrite_cfg or {})})


def read_until(sock, what, timeout=15):
    sock.settimeout(timeout)
    buf = b""
    deadline = time.time() + timeout
    while what not in buf and time.time() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


@pytest.mark.parametrize("kind", ["ferrite", "redis"])
def test_repl_timeout_drops_a_replica_that_never_acks(server_factory, redis_nodes, kind):
    """A replica that took its full sync and then never sends REPLCONF ACK is dropped
    after repl-timeout seconds, with Redis' log line."""
    p = node(kind, server_factory, redis_nodes, {"replication.repl_timeout": "2",
                                                 "replication.repl_diskless_sync": "no"},
             ["--repl-timeout", "2", "--repl-diskless-sync", "no"])
    pr = p.redis()
    pr.set("k", "v")
    s = socket.create_connection(("127.0.0.1", p.port))
    try:
        s.sendall(b"REPLCONF listening-port 1\r\n")
        assert read_until(s, b"\r\n").startswith(b"+OK")
        s.sendall(b"PSYNC ? -1\r\n")
        head = read_until(s, b"+FULLRESYNC")
        assert b"+FULLRESYNC" in head
        wait_for(lambda: info(pr)["connected_slaves"] == "1", 10, "replica listed")
        wait_for(lambda: info(pr)["connected_slaves"] == "0", 15, "silent replica dropped")
        assert "Disconnecting timedout replica" in p.log_text()
    finally:
        s.close()


def silent_primary(payload):
    """Plays a primary that answers the handshake, sends `payload` after PSYNC, then
    reads (ACKs) and never writes again. Close the returned socket when done."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(20)

    def serve():
        try:
            c, _ = srv.accept()
        except OSError:
            return
        with c:
            c.settimeout(1)
            sent = False  # the replica sends one command per reply it reads
            deadline = time.time() + 30
            while time.time() < deadline:
                try:
                    chunk = c.recv(1000)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                if sent:
                    continue  # REPLCONF ACKs: never answered
                if b"PSYNC" in chunk:
                    c.sendall(payload)
                    sent = True
                else:
                    c.sendall(b"+OK\r\n")
    threading.Thread(target=serve, daemon=True).start()
    return srv


def test_repl_timeout_drops_a_silent_primary(server_factory):
    """A primary that sends its payload and then nothing (no PING) is given up after
    repl-timeout seconds ("MASTER timeout"), as redis-server does."""
    rdb = bytes.fromhex("524544495330303130ff") + b"\0" * 8  # REDIS0010, EOF, no checksum
    srv = silent_primary(b"+FULLRESYNC " + b"c" * 40 + b" 0\r\n$" + str(len(rdb)).encode() +
                         b"\r\n" + rdb)
    try:
        f = server_factory({**CFG, "replication.repl_timeout": "2"})
        fr = f.redis()
        fr.execute_command("REPLICAOF", "127.0.0.1", srv.getsockname()[1])
        wait_link_up(fr, 15)
        wait_for(lambda: "MASTER timeout: no data nor PING received" in f.log_text(), 15,
                 "timeout logged")
        fr.execute_command("REPLICAOF", "NO", "ONE")
    finally:
        srv.close()


@pytest.mark.parametrize("kind", ["ferrite", "redis"])
def test_repl_backlog_ttl_frees_the_backlog(server_factory, redis_nodes, kind):
    """With no replica for repl-backlog-ttl seconds the primary frees its backlog and
    takes a new replication id, so a replica coming back later resyncs in full."""
    p = node(kind, server_factory, redis_nodes, {"replication.repl_backlog_ttl": "1"},
             ["--repl-backlog-ttl", "1"])
    pr = p.redis()
    r = server_factory(CFG)
    rr = r.redis()
    rr.execute_command("REPLICAOF", "127.0.0.1", p.port)
    wait_link_up(rr)
    assert info(pr)["repl_backlog_active"] == "1"
    old_id = info(pr)["master_replid"]
    rr.execute_command("REPLICAOF", "NO", "ONE")
    wait_for(lambda: info(pr)["repl_backlog_active"] == "0", 15, "backlog freed")
    assert info(pr)["master_replid"] != old_id
    assert "Replication backlog freed after 1 seconds without connected replicas." in p.log_text()


@pytest.mark.parametrize("primary_kind", ["ferrite", "redis"])
@pytest.mark.parametrize("replica_kind", ["ferrite", "redis"])
def test_replica_priority_and_announce(server_factory, redis_nodes, primary_kind, replica_kind):
    """What a replica announces is what its primary lists (INFO slaveN, ROLE) and what
    sentinel reads from the replica's INFO (slave_priority, replica_announced)."""
    p = node(primary_kind, server_factory, redis_nodes)
    pr = p.redis()
    r = node(replica_kind, server_factory, redis_nodes,
             {"replication.replica_priority": "7", "replication.replica_announce_ip": "10.9.8.7",
              "replication.replica_announce_port": "4321",
              "replication.replica_announced": "no"},
             ["--replica-priority", "7", "--replica-announce-ip", "10.9.8.7",
              "--replica-announce-port", "4321", "--replica-announced", "no"])
    rr = r.redis()
    rr.execute_command("REPLICAOF", "127.0.0.1", p.port)
    wait_link_up(rr)
    wait_for(lambda: "state=online" in info(pr).get("slave0", ""), 10, "replica online")
    assert info(pr)["slave0"].startswith("ip=10.9.8.7,port=4321,state=online")
    role = pr.execute_command("ROLE")
    assert list(role[2][0][:2]) == [b"10.9.8.7", b"4321"]
    ri = info(rr)
    assert ri["slave_priority"] == "7" and ri["replica_announced"] == "0"
    # CONFIG SET moves what the next handshake announces.
    rr.config_set("replica-announce-port", "4322")
    rr.execute_command("CLIENT", "KILL", "TYPE", "master")
    wait_for(lambda: info(pr).get("slave0", "").startswith("ip=10.9.8.7,port=4322,state=online"),
             15, "new announced port")


@pytest.mark.parametrize("mode", ["disabled", "swapdb"])
def test_payload_cut_short_keeps_data(server_factory, mode):
    """A primary that closes the link after part of the announced payload: the replica
    logs it, keeps its data and leaves no temp file, then retries."""
    srv = fake_primary(b"+FULLRESYNC " + b"d" * 40 + b" 0\r\n$100000\r\nREDIS0010" +
                       b"\xfa" * 500)
    try:
        f = server_factory({**CFG, "replication.repl_diskless_load": mode})
        fr = f.redis()
        fr.set("mine", "1")
        fr.execute_command("REPLICAOF", "127.0.0.1", srv.getsockname()[1])
        # swapdb parses the payload as it arrives: it fails on what came (the 0xfa bytes
        # are no RDB) or on the cut, whichever it meets first.
        logged = ("I/O error trying to sync with MASTER: connection lost" if mode == "disabled"
                  else "Failed trying to load the MASTER synchronization DB from socket")
        wait_for(lambda: logged in f.log_text(), 20, "cut transfer logged")
        wait_for(lambda: info(fr).get("master_sync_in_progress") != "1", 20, "transfer over")
        assert fr.get("mine") == b"1"
        assert [x for x in os.listdir(f.dir) if x.startswith("temp-")] == []
        fr.execute_command("REPLICAOF", "NO", "ONE")
    finally:
        srv.close()

