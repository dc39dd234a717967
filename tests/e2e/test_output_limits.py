"""Output bounds, side by side with redis-server 7.0: the pub/sub soft limit fires on time
(not only on the next publish), a client that never authenticated cannot make the server
hold its unread replies, and CLIENT LIST reports the buffers' real sizes."""
import signal
import socket
import time

import pytest
import redis

from repl_util import RedisProc, wait_caught_up, wait_for, wait_link_up


def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def _numsub(r, channel):
    return r.execute_command("PUBSUB", "NUMSUB", channel)[1]


def _soft_limit_fires_when_quiet(port):
    """Fills a non-reading subscriber past the soft limit, then publishes nothing more:
    returns how many seconds it took the server to drop it (None: it never did)."""
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    slow = socket.create_connection(("127.0.0.1", port), timeout=5)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(enc("SUBSCRIBE", "quiet"))
    deadline = time.time() + 5
    while _numsub(r, "quiet") != 1 and time.time() < deadline:
        time.sleep(0.01)
    payload = b"q" * (256 << 10)
    for _ in range(40):  # 10 MB (the kernel takes a few): past the soft limit, under the hard
        r.publish("quiet", payload)
    stopped = time.time()
    while time.time() < stopped + 10:
        if _numsub(r, "quiet") == 0:
            slow.close()
            return time.time() - stopped
        time.sleep(0.05)
    slow.close()
    return None


def test_soft_limit_fires_without_another_publish(server_factory, redis_server):
    ours = server_factory({"limits.pubsub_output_hard_limit": "64mb",
                           "limits.pubsub_output_soft_limit": "1mb",
                           "limits.pubsub_output_soft_seconds": "2"})
    theirs = redis_server.redis()
    theirs.config_set("client-output-buffer-limit", "pubsub 64mb 1mb 2")
    took_theirs = _soft_limit_fires_when_quiet(redis_server.port)
    took_ours = _soft_limit_fires_when_quiet(ours.port)
    assert took_theirs is not None, "redis-server kept the subscriber"
    assert took_ours is not None, "the subscriber is still connected 10 s after the last publish"
    assert took_ours < 6
    assert ours.redis().info("stats")["pubsub_clients_killed_for_output_buffer"] == 1


def _unauth_flood(port, password_first):
    """Pipelines 100k PINGs (~1.4 MB of -NOAUTH replies) without reading any; returns
    True when the server closed the connection."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    if password_first:
        s.sendall(enc("AUTH", "pw"))
    chunk = enc("PING") * 1000
    closed = False
    try:
        for _ in range(100):
            s.sendall(chunk)
    except OSError:
        closed = True
    if not closed:
        s.settimeout(3)
        try:
            while True:  # drain: EOF or a reset means the server gave up on us
                if not s.recv(1 << 16):
                    closed = True
                    break
        except ConnectionResetError:
            closed = True
        except socket.timeout:
            pass
    s.close()
    return closed


def test_unauthenticated_client_output_is_bounded(server_factory, redis_server):
    ours = server_factory({"security.requirepass": "pw"})
    redis_server.redis().config_set("requirepass", "pw")
    for port in (redis_server.port, ours.port):
        assert _unauth_flood(port, password_first=False), port
        r = redis.Redis(host="127.0.0.1", port=port, password="pw", socket_timeout=10)
        assert r.ping()
    # An authenticated client that reads late is not cut off by this bound.
    assert not _unauth_flood(ours.port, password_first=True)


def _client_line(r, name):
    for c in r.client_list():
        if c.get("name") == name:
            return c
    raise AssertionError(f"no client named {name}")


def test_client_list_shows_real_buffer_sizes(server, redis_server):
    for port in (server.port, redis_server.port):
        r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
        me = [line for line in
              r.execute_command("CLIENT", "LIST").decode().splitlines() if "cmd=client" in line]
        assert len(me) == 1
        # The running command's own bytes are in the query buffer, nothing is pending out.
        assert " qbuf=26 " in me[0] and " obl=0 oll=0 omem=0 " in me[0], (port, me[0])

        # A command half received: its bytes wait in the query buffer.
        half = socket.create_connection(("127.0.0.1", port), timeout=5)
        half.sendall(enc("CLIENT", "SETNAME", "half"))
        half.recv(100)
        half.sendall(b"*2\r\n$4\r\nECHO\r\n$100000\r\n" + b"h" * 60000)
        deadline = time.time() + 5
        while int(_client_line(r, "half")["qbuf"]) < 60000 and time.time() < deadline:
            time.sleep(0.02)
        line = _client_line(r, "half")
        assert int(line["qbuf"]) >= 60000, (port, line)
        assert int(line["tot-mem"]) > int(line["qbuf"]) + int(line["qbuf-free"]), (port, line)

        # A subscriber that does not read: what waits for it is output memory.
        slow = socket.create_connection(("127.0.0.1", port), timeout=5)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(enc("CLIENT", "SETNAME", "slow") + enc("SUBSCRIBE", "ch"))
        deadline = time.time() + 5
        while _numsub(r, "ch") != 1 and time.time() < deadline:
            time.sleep(0.01)
        for _ in range(24):  # 6 MB: more than the kernel's socket buffers take
            r.publish("ch", b"p" * (256 << 10))
        deadline = time.time() + 5
        while int(_client_line(r, "slow")["omem"]) < (1 << 20) and time.time() < deadline:
            time.sleep(0.02)
        line = _client_line(r, "slow")
        assert int(line["omem"]) >= 1 << 20, (port, line)
        assert int(line["oll"]) >= 1 and int(line["tot-mem"]) >= int(line["omem"]), (port, line)

        # Queued MULTI commands are counted in multi-mem.
        m = socket.create_connection(("127.0.0.1", port), timeout=5)
        m.sendall(enc("CLIENT", "SETNAME", "multi") + enc("MULTI") +
                  enc("SET", "k", "v" * 1000))
        m.recv(100)
        deadline = time.time() + 5
        while int(_client_line(r, "multi")["multi-mem"]) == 0 and time.time() < deadline:
            time.sleep(0.02)
        assert int(_client_line(r, "multi")["multi-mem"]) >= 1000, port
        for s in (half, slow, m):
            s.close()


def _pipelined_gets_dropped(port, value_size=100 * 1024, gets=600, patience=10.0):
    """A client pipelines large GETs and reads none of the replies (60 MB in all, far
    more than the kernel's socket buffers take). Returns True when the server closed
    it, False when it still serves the connection afterwards."""
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    r.set("big", "x" * value_size)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(enc("CLIENT", "SETNAME", "piper"))
    assert s.recv(100) == b"+OK\r\n"
    try:
        for _ in range(gets // 100):
            s.sendall(enc("GET", "big") * 100)
            time.sleep(0.01)
    except OSError:
        s.close()
        return True
    deadline = time.time() + patience
    while time.time() < deadline:
        if not any(c.get("name") == "piper" for c in r.client_list()):
            s.close()
            return True
        time.sleep(0.05)
    s.close()
    return False


def test_normal_class_hard_limit(server, redis_server):
    for port in (server.port, redis_server.port):
        r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
        # No limit by default: the server holds what the client does not read.
        assert not _pipelined_gets_dropped(port, gets=100, patience=1.0), port
        r.config_set("client-output-buffer-limit", "normal 4mb 0 0")
        assert _pipelined_gets_dropped(port), port
        # A client that reads its replies is not concerned: each one is below the limit.
        for _ in range(50):
            assert len(r.get("big")) == 100 * 1024
    info = server.redis().info("stats")
    assert info["client_output_buffer_limit_disconnections"] == 1
    assert info["pubsub_clients_killed_for_output_buffer"] == 0
    log = server.log_text()
    assert "closed for overcoming of output buffer limits." in log and " name=piper " in log


def test_normal_class_soft_limit_fires_on_time(server, redis_server):
    """Over the soft limit and nothing more queued: the cron drops it once the seconds
    have passed."""
    for port in (server.port, redis_server.port):
        r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
        r.config_set("client-output-buffer-limit", "normal 0 1mb 1")
        r.set("big", "x" * (100 * 1024))
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(enc("CLIENT", "SETNAME", "soft"))
        assert s.recv(100) == b"+OK\r\n"
        s.sendall(enc("GET", "big") * 150)  # 15 MB
        stopped = time.time()
        gone = None
        while time.time() < stopped + 8:
            if not any(c.get("name") == "soft" for c in r.client_list()):
                gone = time.time() - stopped
                break
            time.sleep(0.05)
        s.close()
        assert gone is not None and 0.9 <= gone < 5, (port, gone)


def _replica_dropped_and_resyncs(primary_port, primary_log):
    """A redis-server replica of `primary_port` is stopped (SIGSTOP) while 40 MB are
    written: its link passes the replica limit and the primary drops it. Once resumed,
    the replica reconnects, resyncs and holds the primary's data."""
    p = redis.Redis(host="127.0.0.1", port=primary_port, socket_timeout=10)
    p.config_set("client-output-buffer-limit", "replica 2mb 0 0")
    rep = RedisProc(["--replicaof", "127.0.0.1", str(primary_port)]).start()
    try:
        rr = rep.redis()
        wait_link_up(rr)
        p.set("before", "1")
        wait_caught_up(p, rr)
        syncs = p.info("stats")["sync_full"]
        rep.proc.send_signal(signal.SIGSTOP)
        try:
            for i in range(400):
                p.set(f"k{i % 20}", "v" * (100 * 1024))
            wait_for(lambda: p.info("replication")["connected_slaves"] == 0, timeout=20,
                     what="the primary to drop the stopped replica")
        finally:
            rep.proc.send_signal(signal.SIGCONT)
        p.set("after", "2")
        wait_link_up(rr)
        wait_caught_up(p, rr)
        assert rr.get("after") == b"2" and rr.get("k19") == p.get("k19")
        assert p.info("stats")["sync_full"] == syncs + 1  # the backlog was overrun
        assert "for overcoming of output buffer limits" in primary_log()
    finally:
        rep.cleanup()


def test_replica_class_limit_drops_the_link(server_factory):
    """Ferrite as the primary, side by side with redis-server as the primary."""
    ours = server_factory({"replication.repl_diskless_sync_delay": "0"})
    _replica_dropped_and_resyncs(ours.port, ours.log_text)
    assert ours.redis().info("stats")["client_output_buffer_limit_disconnections"] == 1
    theirs = RedisProc().start()
    try:
        _replica_dropped_and_resyncs(theirs.port, theirs.log_text)
    finally:
        theirs.cleanup()
