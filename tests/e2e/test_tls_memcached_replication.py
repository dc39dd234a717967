"""TLS beyond the RESP port: the memcached protocols on memcached_tls_port (pymemcache
with tls_context, the binary protocol over a raw TLS socket, one keyspace with RESP),
opened and closed by CONFIG SET, and replication over TLS (tls-replication): a Ferrite
replica of a Ferrite primary and of redis-server, and redis-server as a replica of
Ferrite, each through the primary's TLS port."""
import shutil
import struct

import pytest
import redis
from pymemcache.client.base import Client as MemcacheClient

from conftest import free_port, wait_for, wait_port
from repl_util import RedisProc
from tls_util import make_certs


@pytest.fixture(scope="module")
def certs():
    c = make_certs()
    yield c
    shutil.rmtree(c.dir, ignore_errors=True)


def tls_redis(port, certs, **kw):
    return redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=certs.path("ca.crt"),
                       ssl_certfile=certs.path("client.crt"), ssl_keyfile=certs.path("client.key"),
                       socket_timeout=10, **kw)


def test_memcached_text_and_binary_over_tls(server_factory, certs):
    mport, tport = free_port(), free_port()
    s = server_factory(certs.server_config({"compatibility.memcached_protocol": "true",
                                            "compatibility.memcached_tls_port": mport,
                                            "tls.port": tport}))
    wait_port(mport, s.proc)
    mc = MemcacheClient(("127.0.0.1", mport), tls_context=certs.client_context(), timeout=10,
                        connect_timeout=10)
    assert mc.set("greeting", b"hello", expire=0, noreply=False)
    assert mc.get("greeting") == b"hello"
    assert mc.get_many(["greeting", "missing"]) == {"greeting": b"hello"}
    assert mc.incr("n", 1) is None  # memcached: NOT_FOUND
    mc.set("n", b"41", noreply=False)
    assert mc.incr("n", 1) == 42
    # One keyspace: the plain memcached port, RESP over TLS and RESP in the clear.
    plain = MemcacheClient(("127.0.0.1", s.mc_port), timeout=10)
    assert plain.get("greeting") == b"hello"
    assert tls_redis(tport, certs).get("greeting") == b"hello"
    assert s.redis().get("n") == b"42"
    # The binary protocol on the same TLS port (the first decrypted byte picks it).
    with certs.connect(mport) as c:
        key = b"greeting"
        c.sendall(struct.pack(">BBHBBHIIQ", 0x80, 0x00, len(key), 0, 0, 0, len(key), 7, 0) + key)
        hdr = b""
        while len(hdr) < 24:
            hdr += c.recv(24 - len(hdr))
        magic, op, klen, elen, _, status, blen, opaque, cas = struct.unpack(">BBHBBHIIQ", hdr)
        body = b""
        while len(body) < blen:
            body += c.recv(blen - len(body))
        assert (magic, op, status, opaque) == (0x81, 0x00, 0, 7)
        assert body[elen + klen:] == b"hello"
    # Client certificates are asked for as on the RESP port (tls-auth-clients yes).
    with pytest.raises(Exception):
        MemcacheClient(("127.0.0.1", mport), tls_context=certs.client_context(cert=None),
                       timeout=5, connect_timeout=5).get("greeting")


def test_config_set_memcached_tls_port(server_factory, certs):
    s = server_factory(certs.server_config({"compatibility.memcached_protocol": "true",
                                            "tls.auth_clients": "no"}))
    r = s.redis()
    assert r.config_get("memcached-tls-port") == {"memcached-tls-port": "0"}
    port = free_port()
    assert r.config_set("memcached-tls-port", port)
    mc = MemcacheClient(("127.0.0.1", port), tls_context=certs.client_context(cert=None),
                        timeout=10, connect_timeout=10)
    assert mc.set("k", b"v", noreply=False) and mc.get("k") == b"v"
    assert r.config_set("memcached-tls-port", 0)
    assert mc.get("k") == b"v"  # the open connection stays
    with pytest.raises(Exception):
        MemcacheClient(("127.0.0.1", port), tls_context=certs.client_context(cert=None),
                       timeout=3, connect_timeout=3).get("k")


def _tls_repl(certs):
    return certs.server_config({"tls.replication": "yes", "replication.repl_diskless_sync_delay": 0})


def test_ferrite_replica_of_ferrite_over_tls(server_factory, certs):
    pport = free_port()
    primary = server_factory({**_tls_repl(certs), "tls.port": pport})
    wait_port(pport, primary.proc)
    primary.redis().set("before", "1")
    replica = server_factory(_tls_repl(certs))
    rr = replica.redis()
    assert rr.execute_command("REPLICAOF", "127.0.0.1", pport) == b"OK"
    wait_for(lambda: rr.info("replication").get("master_link_status") == "up", 30, "link up")
    primary.redis().set("after", "2")
    wait_for(lambda: rr.get("after") == b"2", 20, "the stream over TLS")
    assert rr.get("before") == b"1"  # the full sync over TLS
    # The primary saw its replica arrive on the TLS port.
    info = primary.redis().info("replication")
    assert info["connected_slaves"] == 1


def test_ferrite_replica_of_redis_over_tls(server_factory, redis_nodes, certs):
    rport = free_port()
    rp = RedisProc(["--tls-port", str(rport), "--tls-replication", "yes", *certs.redis_args()])
    redis_nodes.append(rp)
    rp.start()
    rp.redis().set("from-redis", "x")
    replica = server_factory(_tls_repl(certs))
    rr = replica.redis()
    rr.execute_command("REPLICAOF", "127.0.0.1", rport)
    wait_for(lambda: rr.info("replication").get("master_link_status") == "up", 30, "link up")
    wait_for(lambda: rr.get("from-redis") == b"x", 20, "the full sync")
    rp.redis().rpush("l", "a", "b")
    wait_for(lambda: rr.lrange("l", 0, -1) == [b"a", b"b"], 20, "the stream")


def test_redis_replica_of_ferrite_over_tls(server_factory, redis_nodes, certs):
    pport = free_port()
    primary = server_factory({**_tls_repl(certs), "tls.port": pport})
    wait_port(pport, primary.proc)
    primary.redis().set("k1", "v1")
    rp = RedisProc(["--tls-port", "0", "--tls-replication", "yes", *certs.redis_args(),
                    "--replicaof", "127.0.0.1", str(pport)])
    redis_nodes.append(rp)
    rp.start()
    r = rp.redis()
    wait_for(lambda: r.info("replication").get("master_link_status") == "up", 30, "link up")
    wait_for(lambda: r.get("k1") == b"v1", 20, "the full sync")
    primary.redis().hset("h", "f", "v")
    wait_for(lambda: r.hget("h", "f") == b"v", 20, "the stream")


def test_startup_without_certificates_fails_with_redis_lines(server_factory):
    s = server_factory({"tls.replication": "yes"}, start=False)
    with pytest.raises(RuntimeError) as e:
        s.start()
    assert "No tls-cert-file configured!" in str(e.value)
    assert "Failed to configure TLS. Check logs for more info." in str(e.value)
