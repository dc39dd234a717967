"""Warm on a miss ([compatibility] warm_from / CONFIG memcached-warm-from) against a real
memcached 1.6.18: a get/gets/mg/binary GET miss fetches the item with its flags and TTL,
stores it and answers; concurrent misses on one key make one fetch; a source that is
slow (a delaying proxy) costs at most warm_timeout_ms, a source that is down answers
the miss at once; a write made in Ferrite first is never overwritten; the switch at run
time."""
import socket
import struct
import threading
import time

import pytest

from conftest import free_port, wait_for
from migrate_util import Memcached, load_items, mg_many


class DelayProxy:
    """Forwards 127.0.0.1:port to target, holding every reply chunk `delay` seconds."""

    def __init__(self, target_port, delay):
        self.delay = delay
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.target_port = target_port
        self.requests = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(c, u, 0), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, self.delay), daemon=True).start()

    def _pipe(self, src, dst, delay):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if delay == 0:
                    self.requests += data.count(b"\n")
                time.sleep(delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self):
        self.lsock.close()


@pytest.fixture
def old():
    m = Memcached(memory_mb=64)
    load_items(m.port, [(b"k1", b"hello", 7, 500), (b"k2", b"hi", 8, 0),
                        (b"k3", b"x" * 5000, 9, 0), (b"shared", b"once", 3, 0),
                        (b"local", b"old", 1, 0), (b"late", b"slowly", 4, 0),
                        (b"bin", b"binary", 5, 0), (b"m", b"meta", 6, 900)])
    yield m
    m.stop(hard=True)


def warm_server(server_factory, source, timeout_ms=1000):
    return server_factory({"compatibility.memcached_protocol": "true",
                           "compatibility.warm_from": source,
                           "compatibility.warm_timeout_ms": str(timeout_ms)})


def exchange(port, data, until, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    while not out.endswith(until):
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out


def info(server):
    return server.redis().info("warm")


def test_misses_are_fetched_with_flags_and_ttl(server_factory, old):
    f = warm_server(server_factory, f"127.0.0.1:{old.port}")
    out = exchange(f.mc_port, b"get k1 nothere k2\r\ngets k3\r\nmg m v f t\r\nmg absent v\r\nmn\r\n",
                   b"MN\r\n")
    lines = out.split(b"\r\n")
    assert lines[0] == b"VALUE k1 7 5" and lines[1] == b"hello"
    assert lines[2] == b"VALUE k2 8 2" and lines[3] == b"hi" and lines[4] == b"END"
    assert lines[5].startswith(b"VALUE k3 9 5000 ") and lines[6] == b"x" * 5000 and lines[7] == b"END"
    assert lines[8].startswith(b"VA 4 f6 t") and 895 <= int(lines[8].split(b"t")[-1]) <= 900
    assert lines[9:] == [b"meta", b"EN", b"MN", b""]
    # Stored in Ferrite: the next reads are local hits, TTLs as the source had them.
    got = mg_many(f.mc_port, [b"k1", b"k2", b"m"])
    assert got[b"k1"][:2] == (b"hello", 7) and 495 <= got[b"k1"][2] <= 500
    assert got[b"k2"] == (b"hi", 8, -1)
    i = info(f)
    assert i["warm_hits"] == 4 and i["warm_misses"] == 2 and i["warm_errors"] == 0
    # The binary protocol's GET too.
    s = socket.create_connection(("127.0.0.1", f.mc_port), timeout=10)
    s.sendall(struct.pack(">BBHBBHIIQ", 0x80, 0x00, 3, 0, 0, 0, 3, 0, 0) + b"bin")
    resp = b""
    while len(resp) < 24 + 4 + 6:
        resp += s.recv(1024)
    assert resp[6:8] == b"\x00\x00" and resp[24:28] == struct.pack(">I", 5) and resp[28:] == b"binary"
    s.close()


def test_a_write_made_in_ferrite_first_is_kept(server_factory, old):
    f = warm_server(server_factory, f"127.0.0.1:{old.port}")
    assert exchange(f.mc_port, b"set local 2 0 3\r\nnew\r\n", b"\r\n") == b"STORED\r\n"
    assert exchange(f.mc_port, b"get local\r\n", b"END\r\n") == b"VALUE local 2 3\r\nnew\r\nEND\r\n"
    assert info(f)["warm_fetches"] == 0


def test_concurrent_misses_make_one_fetch(server_factory, old):
    proxy = DelayProxy(old.port, 0.3)
    try:
        f = warm_server(server_factory, f"127.0.0.1:{proxy.port}", timeout_ms=3000)
        results = []

        def get():
            results.append(exchange(f.mc_port, b"get shared\r\n", b"END\r\n"))

        threads = [threading.Thread(target=get) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert results == [b"VALUE shared 3 4\r\nonce\r\nEND\r\n"] * 8
        i = info(f)
        assert i["warm_fetches"] == 1 and i["warm_hits"] == 1
        assert i["warm_joined"] >= 1  # the others waited on the same fetch (or hit after it)
        assert proxy.requests == 1
    finally:
        proxy.close()


def test_a_slow_source_costs_at_most_the_timeout(server_factory, old):
    proxy = DelayProxy(old.port, 1.5)
    try:
        f = warm_server(server_factory, f"127.0.0.1:{proxy.port}", timeout_ms=200)
        start = time.time()
        assert exchange(f.mc_port, b"get late\r\n", b"END\r\n") == b"END\r\n"
        took = time.time() - start
        assert 0.15 < took < 1.2, took
        # The fetch finishes later and stores the item: the next get hits locally.
        wait_for(lambda: info(f)["warm_hits"] == 1, timeout=10, what="late fetch stored")
        assert exchange(f.mc_port, b"get late\r\n", b"END\r\n") == b"VALUE late 4 6\r\nslowly\r\nEND\r\n"
    finally:
        proxy.close()


def test_a_source_that_is_down_answers_the_miss_at_once(server_factory):
    port = free_port()
    f = warm_server(server_factory, f"127.0.0.1:{port}", timeout_ms=2000)
    start = time.time()
    assert exchange(f.mc_port, b"get a\r\nget b\r\nmg c v\r\nmn\r\n", b"MN\r\n") == b"END\r\nEND\r\nEN\r\nMN\r\n"
    assert time.time() - start < 1.0
    i = info(f)
    assert i["warm_errors"] >= 1 and i["warm_skipped_source_down"] >= 1
    wait_for(lambda: "warm on a miss: cannot connect" in f.log_text(), timeout=5, what="log line")


def test_switched_at_run_time(server_factory, old):
    f = server_factory({"compatibility.memcached_protocol": "true"})
    assert exchange(f.mc_port, b"get k2\r\n", b"END\r\n") == b"END\r\n"
    c = f.redis()
    assert c.config_set("memcached-warm-from", f"127.0.0.1:{old.port}")
    assert exchange(f.mc_port, b"get k2\r\n", b"END\r\n") == b"VALUE k2 8 2\r\nhi\r\nEND\r\n"
    c.config_set("memcached-warm-from", "")
    assert exchange(f.mc_port, b"get k1\r\n", b"END\r\n") == b"END\r\n"
    assert info(f)["warm_from"] == ""


def test_resp_get_warms_only_when_asked_and_only_in_the_memcached_db(server_factory, old):
    f = warm_server(server_factory, f"127.0.0.1:{old.port}")
    c = f.redis()
    assert c.get("k2") is None  # RESP reads do not warm by default
    assert c.config_set("memcached-warm-resp", "1")
    assert c.config_get("memcached-warm-resp") == {"memcached-warm-resp": "1"}
    assert c.get("k1") == b"hello"
    assert 495 <= c.ttl("k1") <= 500
    # A transaction cannot wait: a miss inside MULTI stays a miss (and warms nothing).
    p = c.pipeline(transaction=True)
    p.get("k3")
    assert p.execute() == [None]
    c1 = f.redis(db=1)
    assert c1.get("m") is None  # db 1 is not the memcached db
    assert c.get("m") == b"meta"
    assert c.get("absent") is None
    i = info(f)
    assert i["warm_hits"] == 2 and i["warm_misses"] == 1 and i["warm_fetches"] == 3


def test_resp_mget_warms_every_missing_key_in_one_wait(server_factory, old):
    """MGET with memcached-warm-resp: its missing keys are fetched together (one wait),
    present keys read as they are, keys the old server lacks stay null; in MULTI it
    answers at once."""
    f = warm_server(server_factory, f"127.0.0.1:{old.port}")
    c = f.redis()
    c.set("local", "mine")
    assert c.mget("k2", "local") == [None, b"mine"]  # off by default: no fetch
    assert info(f)["warm_fetches"] == 0
    assert c.config_set("memcached-warm-resp", "1")
    assert c.mget("k1", "local", "absent", "k2", "m") == [b"hello", b"mine", None, b"hi", b"meta"]
    assert 495 <= c.ttl("k1") <= 500
    i = info(f)
    assert i["warm_fetches"] == 4 and i["warm_hits"] == 3 and i["warm_misses"] == 1
    p = c.pipeline(transaction=True)
    p.mget("k3", "k1")
    assert p.execute() == [[None, b"hello"]]



def test_get_and_touch_misses_are_warmed_then_touched(server_factory, old):
    """gat/gats, meta mg with T (no N) and the binary GAT are reads: a miss fetches the
    item from the old server first, then touches it with the request's exptime, and the
    client gets the value as the old server would have given it. A touch reads nothing
    and does not warm (NOT_FOUND), nor does mg N, which creates the item instead."""
    f = warm_server(server_factory, f"127.0.0.1:{old.port}")
    out = exchange(f.mc_port, b"gat 100 k1 nothere\r\ngats 200 k2\r\nmg m T300 v f t\r\n"
                              b"touch k3 50\r\nmg shared N30 v\r\nmn\r\n", b"MN\r\n")
    lines = out.split(b"\r\n")
    assert lines[:3] == [b"VALUE k1 7 5", b"hello", b"END"], out
    assert lines[3].startswith(b"VALUE k2 8 2 ") and lines[4:6] == [b"hi", b"END"], out
    assert lines[6:8] == [b"VA 4 f6 t300", b"meta"], out
    assert lines[8] == b"NOT_FOUND", out
    assert lines[9:] == [b"VA 0 W", b"", b"MN", b""], out
    s = socket.create_connection(("127.0.0.1", f.mc_port), timeout=10)
    gat = struct.pack(">BBHBBHIIQ", 0x80, 0x1d, 3, 4, 0, 0, 7, 0, 0) + struct.pack(">I", 60) + b"bin"
    touch = struct.pack(">BBHBBHIIQ", 0x80, 0x1c, 4, 4, 0, 0, 8, 0, 0) + struct.pack(">I", 60) + b"late"
    s.sendall(gat + touch)
    resp = b""
    while len(resp) < (24 + 4 + 6) + (24 + 9):  # GAT: flags + value; TOUCH: "Not found"
        resp += s.recv(1024)
    s.close()
    assert resp[6:8] == b"\x00\x00" and resp[24:28] == struct.pack(">I", 5) and resp[28:34] == b"binary"
    assert resp[34 + 6:34 + 8] == b"\x00\x01", resp  # TOUCH: key not found
    # Over RESP (which does not warm here), as a memcached read of k3 would fetch it now.
    assert f.redis().exists("k3", "late") == 0
    got = mg_many(f.mc_port, [b"k1", b"k2", b"m", b"bin"])
    assert got[b"k1"][:2] == (b"hello", 7) and 95 <= got[b"k1"][2] <= 100
    assert got[b"k2"][:2] == (b"hi", 8) and 195 <= got[b"k2"][2] <= 200
    assert got[b"m"][:2] == (b"meta", 6) and 295 <= got[b"m"][2] <= 300
    assert got[b"bin"][:2] == (b"binary", 5) and 55 <= got[b"bin"][2] <= 60
    i = info(f)
    assert i["warm_hits"] == 4 and i["warm_misses"] == 1 and i["warm_errors"] == 0
