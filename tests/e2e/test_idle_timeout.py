"""Idle clients: Redis' `timeout` on the RESP port (subscribers and blocked clients are
exempt), memcached's idle_timeout (compatibility.memcached_idle_timeout) on the memcached
port. Compared with redis-server / memcached where they share the behaviour."""
import shutil
import socket
import subprocess
import time

import pytest

from conftest import free_port, wait_port

LIMIT = 10.0  # every wait is bounded; Redis closes after 1 < idle <= ~2 s with timeout 1


def closed_within(sock, seconds):
    """True if the server closes `sock` (EOF) within `seconds`, sending nothing first."""
    sock.settimeout(seconds)
    try:
        return sock.recv(100) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def scenario(port):
    """An idle client, a subscriber and a blocked client with `timeout 1` set."""
    def conn():
        return socket.create_connection(("127.0.0.1", port), timeout=LIMIT)
    admin = conn()
    admin.sendall(b"CONFIG SET timeout 1\r\n")
    assert admin.recv(100) == b"+OK\r\n"
    idle, sub, blocked = conn(), conn(), conn()
    sub.sendall(b"SUBSCRIBE ch\r\n")
    assert sub.recv(100).startswith(b"*3\r\n")
    blocked.sendall(b"BLPOP idle-list 0\r\n")
    result = {"idle_closed": closed_within(idle, LIMIT)}
    # The others have been idle as long: still there?
    sub.sendall(b"PING\r\n")
    result["subscriber_open"] = sub.recv(100).startswith(b"*2\r\n")
    pusher = conn()
    pusher.sendall(b"RPUSH idle-list x\r\n")
    assert pusher.recv(100) == b":1\r\n"
    blocked.settimeout(LIMIT)
    result["blocked_served"] = blocked.recv(100) == b"*2\r\n$9\r\nidle-list\r\n$1\r\nx\r\n"
    pusher.sendall(b"CONFIG SET timeout 0\r\n")
    pusher.recv(100)
    for s in (admin, idle, sub, blocked, pusher):
        s.close()
    return result


def test_timeout_closes_idle_clients_like_redis(server, redis_server):
    ours, theirs = scenario(server.port), scenario(redis_server.port)
    assert ours == theirs
    assert theirs == {"idle_closed": True, "subscriber_open": True, "blocked_served": True}


def test_active_client_is_not_closed(server_factory):
    s = server_factory({"server.timeout": "1"})
    c = socket.create_connection(("127.0.0.1", s.port), timeout=LIMIT)
    for _ in range(8):  # 4 s of traffic, each gap under the timeout
        c.sendall(b"PING\r\n")
        assert c.recv(100) == b"+PONG\r\n"
        time.sleep(0.5)
    c.close()


def test_timeout_zero_never_closes(server):
    c = socket.create_connection(("127.0.0.1", server.port), timeout=LIMIT)
    assert not closed_within(c, 3.0)
    c.sendall(b"PING\r\n")
    assert c.recv(100) == b"+PONG\r\n"


def test_memcached_idle_timeout(server_factory):
    s = server_factory({"compatibility.memcached_protocol": "true",
                        "compatibility.memcached_idle_timeout": "1"})
    mc = socket.create_connection(("127.0.0.1", s.mc_port), timeout=LIMIT)
    mc.sendall(b"version\r\n")
    assert mc.recv(100).startswith(b"VERSION ")
    resp = socket.create_connection(("127.0.0.1", s.port), timeout=LIMIT)
    assert closed_within(mc, LIMIT)  # closed silently, as memcached does
    resp.sendall(b"PING\r\n")  # server.timeout is 0: the RESP client stays
    assert resp.recv(100) == b"+PONG\r\n"


def test_memcached_idle_timeout_matches_memcached():
    exe = shutil.which("memcached")
    if not exe:
        pytest.fail("memcached is not installed")
    port = free_port()
    p = subprocess.Popen([exe, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-t", "1",
                          "-u", "root", "-o", "idle_timeout=1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, p)
        mc = socket.create_connection(("127.0.0.1", port), timeout=LIMIT)
        mc.sendall(b"version\r\n")
        assert mc.recv(100).startswith(b"VERSION ")
        assert closed_within(mc, LIMIT)
    finally:
        p.terminate()
        p.wait(10)
