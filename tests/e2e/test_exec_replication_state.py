"""EXEC after the replication state changed since queueing, side by side with
redis-server 7.0: a transaction with a write is aborted (EXECABORT with the NOREPLICAS
reason) once min-replicas-to-write cannot be met, one of reads only still runs; on a
replica whose link is down with replica-serve-stale-data no, a transaction with a
command that refuses stale data is aborted with MASTERDOWN."""
from conftest import free_port
from resp_compare import Conn


def min_replicas(port):
    a, b = Conn(port), Conn(port)
    out = [a.call("SET", "xx", "1"),
           a.call("MULTI"), a.call("INCR", "xx"),
           b.call("CONFIG", "SET", "min-replicas-to-write", "2"), a.call("EXEC"),
           a.call("MULTI"), a.call("GET", "xx"), a.call("EXEC"),
           b.call("CONFIG", "SET", "min-replicas-to-write", "0"), a.call("GET", "xx")]
    a.close()
    b.close()
    return out


def test_exec_with_a_write_aborts_without_enough_replicas(server, redis_server):
    ours = min_replicas(server.port)
    assert ours == min_replicas(redis_server.port)
    assert ours[4] == ("-", b"EXECABORT Transaction discarded because of: "
                            b"NOREPLICAS Not enough good replicas to write.")


def stale(port, nowhere):
    a, b = Conn(port), Conn(port)
    out = [a.call("CONFIG", "SET", "replica-serve-stale-data", "no"), a.call("SET", "xx", "1"),
           a.call("MULTI"), a.call("GET", "xx"),
           b.call("REPLICAOF", "127.0.0.1", str(nowhere)), a.call("EXEC"),
           b.call("REPLICAOF", "NO", "ONE"),
           a.call("MULTI"), a.call("PING"),
           b.call("REPLICAOF", "127.0.0.1", str(nowhere)), a.call("EXEC"),
           a.call("MULTI"), b.call("REPLICAOF", "NO", "ONE"), a.call("GET", "xx"),
           a.call("EXEC")]
    a.close()
    b.close()
    return out


def test_exec_on_a_stale_replica_aborts(server, redis_server):
    nowhere = free_port()  # nothing listens there: the link stays down
    ours = stale(server.port, nowhere)
    assert ours == stale(redis_server.port, nowhere)
    assert ours[5][1].startswith(b"EXECABORT Transaction discarded because of: MASTERDOWN")
