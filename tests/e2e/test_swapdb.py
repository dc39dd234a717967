"""SWAPDB and LOLWUT side by side with the real redis-server 7.0: replies and errors,
the data each db holds afterwards (TTLs included), WATCH (a transaction watching a key
that exists in either db fails; one watching a key missing from both runs), and a
client blocked on a key of one db served by the swap."""
import socket
import threading
import time

from resp_compare import Conn


def both(ours, theirs, *args):
    x, y = ours.call(*args), theirs.call(*args)
    assert x == y, f"{args}\n  ours:   {x}\n  theirs: {y}"
    return x


def test_swapdb_replies_and_data_match_redis(server, redis_server):
    a, b = Conn(server.port), Conn(redis_server.port)
    try:
        for c in (a, b):
            c.call("FLUSHALL")
        both(a, b, "SET", "k0", "zero", "EX", "1000")
        both(a, b, "RPUSH", "l0", "x")
        both(a, b, "SELECT", "1")
        both(a, b, "SET", "k1", "one")
        both(a, b, "SELECT", "0")
        for args in (["SWAPDB", "0", "1"], ["SWAPDB", "0", "0"], ["SWAPDB", "x", "1"],
                     ["SWAPDB", "0", "y"], ["SWAPDB", "0", "16"], ["SWAPDB", "-1", "0"],
                     ["SWAPDB", "9999999999", "0"], ["SWAPDB", "0"]):
            both(a, b, *args)
        both(a, b, "SWAPDB", "1", "0")
        both(a, b, "SWAPDB", "0", "1")
        both(a, b, "GET", "k1")
        both(a, b, "EXISTS", "k0", "l0")
        both(a, b, "SELECT", "1")
        both(a, b, "GET", "k0")
        assert a.call("TTL", "k0")[1] == b.call("TTL", "k0")[1]
        both(a, b, "LRANGE", "l0", "0", "-1")
        both(a, b, "DBSIZE")
    finally:
        a.close()
        b.close()


def test_swapdb_touches_watched_keys_like_redis(server, redis_server):
    for port in (server.port, redis_server.port):
        c, other = Conn(port), Conn(port)
        try:
            c.call("FLUSHALL")
            c.call("SET", "present", "1")  # db 0
            other.call("SELECT", "1")
            other.call("SET", "elsewhere", "1")  # db 1
            outcomes = []
            for key in ("present", "elsewhere", "nowhere"):
                c.call("WATCH", key)
                other.call("SWAPDB", "0", "1")
                c.call("MULTI")
                c.call("PING")
                outcomes.append(c.call("EXEC"))
            assert outcomes[0] == ("*", None), port
            assert outcomes[1] == ("*", None), port
            assert outcomes[2] == ("*", [("+", b"PONG")]), port
        finally:
            c.close()
            other.close()


def test_swapdb_serves_a_blocked_client(server):
    c, other = Conn(server.port), Conn(server.port)
    try:
        c.call("FLUSHALL")
        other.call("SELECT", "1")
        other.call("RPUSH", "q", "job")
        c.s.sendall(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$2\r\n10\r\n")
        time.sleep(0.2)
        assert other.call("SWAPDB", "0", "1") == ("+", b"OK")
        c.s.settimeout(5)
        assert c.read() == ("*", [("$", b"q"), ("$", b"job")])
    finally:
        c.close()
        other.close()


def test_lolwut_version_line(server, redis_server):
    a, b = Conn(server.port), Conn(redis_server.port)
    try:
        both(a, b, "LOLWUT")
        both(a, b, "LOLWUT", "VERSION", "x")
    finally:
        a.close()
        b.close()
