"""EXEC over maxmemory side by side with redis-server 7.0: a transaction whose queued
commands include a DENYOOM one is aborted at EXEC when memory passed the limit after
queueing (EXECABORT with the OOM reason); one of reads only still runs."""
from resp_compare import Conn


def run(port):
    a, b = Conn(port), Conn(port)
    out = [a.call("MULTI"), a.call("SET", "x", "1"), a.call("GET", "x"),
           b.call("CONFIG", "SET", "maxmemory", "1"), a.call("EXEC"),
           a.call("MULTI"), a.call("GET", "x"), a.call("EXEC"),
           b.call("CONFIG", "SET", "maxmemory", "0"), a.call("EXISTS", "x")]
    a.close()
    b.close()
    return out


def test_exec_aborts_over_maxmemory_like_redis(server, redis_server):
    assert run(server.port) == run(redis_server.port)
