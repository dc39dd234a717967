"""Mirror writes ([compatibility] mirror_to / CONFIG memcached-mirror-to): every write on
Ferrite's memcached port reaches a real memcached 1.6.18 (set/add/replace/append/prepend/
cas/incr/decr/touch/gat/delete/flush_all, meta and binary protocol, flags and TTLs); the
switch at run time; RESP string writes only with memcached-mirror-resp (SET as itself,
the others as the item they leave); a target that never reads
(the queue fills, writes are dropped and counted, clients are not slowed); a target that
is down, then comes up."""
import socket
import struct
import threading
import time

import pytest

from conftest import free_port, wait_for
from migrate_util import Memcached, mg_many


def mc(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s, s.makefile("rb")


def call(s, f, data, lines=1):
    s.sendall(data)
    return b"".join(f.readline() for _ in range(lines))


def info_mirror(server):
    text = server.redis().info("mirror")
    return text


def drained(server):
    i = info_mirror(server)
    return i["mirror_queue_length"] == 0 and i["mirror_sent"] + i["mirror_dropped"] == i["mirror_queued"]


@pytest.fixture
def old():
    m = Memcached(memory_mb=64)
    yield m
    m.stop(hard=True)


def mirrored_server(server_factory, target, **extra):
    cfg = {"compatibility.memcached_protocol": "true", "compatibility.mirror_to": target}
    cfg.update(extra)
    return server_factory(cfg)


def test_every_memcached_write_reaches_the_old_server(server_factory, old):
    f = mirrored_server(server_factory, f"127.0.0.1:{old.port}")
    s, r = mc(f.mc_port)
    assert call(s, r, b"set a 5 0 1\r\n1\r\n") == b"STORED\r\n"
    assert call(s, r, b"set t 6 1000 2\r\nhi\r\n") == b"STORED\r\n"
    assert call(s, r, b"add b 7 0 1\r\nx\r\n") == b"STORED\r\n"
    assert call(s, r, b"add b 7 0 1\r\ny\r\n") == b"NOT_STORED\r\n"
    assert call(s, r, b"replace b 8 0 2\r\nbb\r\n") == b"STORED\r\n"
    assert call(s, r, b"append b 0 0 2\r\n>>\r\n") == b"STORED\r\n"
    assert call(s, r, b"prepend b 0 0 2\r\n<<\r\n") == b"STORED\r\n"
    cas = int(call(s, r, b"gets b\r\n", 3).split(b"\r\n")[0].split()[4])
    assert call(s, r, b"cas b 9 0 3 %d\r\ncas\r\n" % cas) == b"STORED\r\n"
    assert call(s, r, b"incr a 41\r\n") == b"42\r\n"
    assert call(s, r, b"decr a 2\r\n") == b"40\r\n"
    assert call(s, r, b"set gone 0 0 1\r\nx\r\n") == b"STORED\r\n"
    assert call(s, r, b"delete gone\r\n") == b"DELETED\r\n"
    assert call(s, r, b"set touched 1 0 1\r\nx\r\n") == b"STORED\r\n"
    assert call(s, r, b"touch touched 500\r\n") == b"TOUCHED\r\n"
    assert call(s, r, b"gat 700 t\r\n", 3).startswith(b"VALUE t 6 2")
    assert call(s, r, b"ms meta 3 F11 T900\r\nmmm\r\n") == b"HD\r\n"
    # A key only the binary protocol can write.
    key = b"bin key\x01"
    body = struct.pack(">II", 3, 0) + key + b"binval"
    with socket.create_connection(("127.0.0.1", f.mc_port), timeout=10) as b:
        b.sendall(struct.pack(">BBHBBHIIQ", 0x80, 0x01, len(key), 8, 0, 0, len(body), 0, 0) + body)
        assert b.recv(24)[6:8] == b"\x00\x00"
    keys = [b"a", b"t", b"b", b"gone", b"touched", b"meta", key]
    wait_for(lambda: drained(f), timeout=10, what="mirror queue drained")
    want = mg_many(f.mc_port, keys)
    got = mg_many(old.port, keys)
    assert set(got) == set(want) == {b"a", b"t", b"b", b"touched", b"meta", key}
    for k in want:
        assert got[k][:2] == want[k][:2], k
        assert (got[k][2] == -1) if want[k][2] == -1 else abs(got[k][2] - want[k][2]) <= 2, k
    assert want[b"b"] == (b"cas", 9, -1) and want[b"a"][0] == b"40"
    assert info_mirror(f)["mirror_link_status"] == "up"
    assert info_mirror(f)["mirror_refused"] == 0
    assert call(s, r, b"flush_all\r\n") == b"OK\r\n"
    wait_for(lambda: drained(f), timeout=10, what="mirror queue drained")
    wait_for(lambda: mg_many(old.port, keys) == {}, timeout=10, what="flush_all mirrored")


def test_a_load_is_mirrored_in_order(server_factory, old):
    f = mirrored_server(server_factory, f"127.0.0.1:{old.port}")
    s = socket.create_connection(("127.0.0.1", f.mc_port), timeout=30)
    # 20,000 writes, every key written several times: the last value must win there too.
    cmds = []
    for i in range(20_000):
        k = i % 3000
        cmds.append(b"set load:%d %d 0 %d noreply\r\n%s\r\n" % (k, i, len(b"v%d" % i), b"v%d" % i))
    s.sendall(b"".join(cmds) + b"mn\r\n")
    assert s.makefile("rb").readline() == b"MN\r\n"
    wait_for(lambda: drained(f), timeout=30, what="mirror queue drained")
    keys = [b"load:%d" % k for k in range(3000)]
    want = mg_many(f.mc_port, keys)
    assert len(want) == 3000
    # "sent" counts writes handed to the socket: the old server may still be reading them.
    differing = []

    def same():
        got = mg_many(old.port, keys)
        differing[:] = [k for k in keys if got.get(k) != want.get(k)]
        return not differing

    try:
        wait_for(same, timeout=30, what="the old server holding the same 3000 items")
    except AssertionError:
        raise AssertionError(f"{len(differing)} items differ, first {differing[:5]}") from None
    i = info_mirror(f)
    assert i["mirror_dropped"] == 0 and i["mirror_sent"] >= 20_000


def test_switched_at_run_time_and_resp_strings_only_when_asked(server_factory, old):
    f = server_factory({"compatibility.memcached_protocol": "true"})
    c = f.redis()
    assert info_mirror(f)["mirror_link_status"] == "off"
    s, r = mc(f.mc_port)
    call(s, r, b"set before 0 0 1\r\nx\r\n")
    assert c.config_set("memcached-mirror-to", f"127.0.0.1:{old.port}")
    assert c.config_get("memcached-mirror-to") == {"memcached-mirror-to": f"127.0.0.1:{old.port}"}
    call(s, r, b"set during 0 0 1\r\nx\r\n")
    c.set("resp-off", "x")
    wait_for(lambda: b"during" in mg_many(old.port, [b"during"]), timeout=10, what="mirrored")
    c.config_set("memcached-mirror-resp", "yes")
    c.set("resp-on", "y", ex=100)
    wait_for(lambda: b"resp-on" in mg_many(old.port, [b"resp-on"]), timeout=10, what="RESP SET mirrored")
    assert mg_many(old.port, [b"before", b"resp-off"]) == {}
    assert 98 <= mg_many(old.port, [b"resp-on"])[b"resp-on"][2] <= 100
    c.config_set("memcached-mirror-to", "")
    call(s, r, b"set after 0 0 1\r\nx\r\n")
    time.sleep(0.5)
    assert mg_many(old.port, [b"after"]) == {}
    assert info_mirror(f)["mirror_link_status"] == "off"


def test_every_resp_string_write_leaves_the_old_server_the_same_item(server_factory, old):
    """mirror_resp: RESP string writes with no memcached form of their own (INCR, APPEND,
    SETRANGE, MSET, SET KEEPTTL, INCRBYFLOAT, RENAME...) send the item they leave: its
    value, flags and TTL, or a delete when it is gone."""
    f = mirrored_server(server_factory, f"127.0.0.1:{old.port}")
    c = f.redis()
    s, r = mc(f.mc_port)
    c.set("pre", "1")
    c.incr("pre")                   # mirror_resp off: not forwarded
    assert call(s, r, b"set marker 0 0 1\r\nx\r\n") == b"STORED\r\n"
    wait_for(lambda: b"marker" in mg_many(old.port, [b"marker"]), timeout=10, what="mirrored")
    assert mg_many(old.port, [b"pre"]) == {}
    c.config_set("memcached-mirror-resp", "yes")
    c.set("n", "10")
    c.incr("n")
    c.incrby("n", 5)
    c.decr("n")                     # 15
    c.append("s", "ab")
    c.append("s", "cd")
    c.setrange("s", 1, "XY")        # aXYd
    c.mset({"m1": "a", "m2": "b"})
    c.set("t", "v", ex=100)
    c.set("t", "w", keepttl=True)   # w, TTL still ~100
    c.incrbyfloat("fl", 1.5)
    c.rename("m1", "m3")            # m1 gone there too
    assert call(s, r, b"set flagged 42 0 2\r\nab\r\n") == b"STORED\r\n"
    c.append("flagged", "c")        # keeps the client flags
    c.rpush("list", "x")            # no memcached item for a list
    keys = [b"n", b"s", b"m1", b"m2", b"m3", b"t", b"fl", b"flagged", b"list"]
    wait_for(lambda: drained(f), timeout=10, what="mirror queue drained")
    want, got = mg_many(f.mc_port, keys), mg_many(old.port, keys)
    assert set(got) == set(want) == {b"n", b"s", b"m2", b"m3", b"t", b"fl", b"flagged"}
    for k in want:
        assert got[k][:2] == want[k][:2], k
        assert (got[k][2] == -1) if want[k][2] == -1 else abs(got[k][2] - want[k][2]) <= 2, k
    assert (want[b"n"][0], want[b"s"][0], want[b"fl"][0]) == (b"15", b"aXYd", b"1.5")
    assert want[b"flagged"][:2] == (b"abc", 42) and 95 <= want[b"t"][2] <= 100
    assert info_mirror(f)["mirror_refused"] == 0


def test_a_target_that_never_reads_fills_the_queue_and_writes_are_dropped(server_factory, old):
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(1)
    accepted = []
    threading.Thread(target=lambda: accepted.append(hole.accept()), daemon=True).start()
    f = mirrored_server(server_factory, f"127.0.0.1:{hole.getsockname()[1]}",
                        **{"compatibility.mirror_queue_bytes": "64kb"})
    s = socket.create_connection(("127.0.0.1", f.mc_port), timeout=30)
    value = b"x" * 10_000
    start = time.time()
    for batch in range(10):  # 4,000 writes of 10 KB: far more than socket buffers + queue
        s.sendall(b"".join(b"set full:%d 0 0 %d noreply\r\n%s\r\n" % (batch * 400 + i, len(value), value)
                           for i in range(400)) + b"mn\r\n")
        assert s.makefile("rb").readline() == b"MN\r\n"
    assert time.time() - start < 20  # clients are not held up by the stuck mirror
    i = info_mirror(f)
    assert i["mirror_dropped"] > 0 and i["mirror_queue_bytes"] <= 64 * 1024
    wait_for(lambda: "writes dropped" in f.log_text(), timeout=15, what="drop log line")
    # Pointing the mirror elsewhere starts afresh.
    f.redis().config_set("memcached-mirror-to", f"127.0.0.1:{old.port}")
    s.sendall(b"set fresh 0 0 1\r\nz\r\n")
    wait_for(lambda: b"fresh" in mg_many(old.port, [b"fresh"]), timeout=10, what="mirrored after switch")
    hole.close()


def test_a_target_that_is_down_then_comes_up(server_factory):
    port = free_port()
    f = mirrored_server(server_factory, f"127.0.0.1:{port}",
                        **{"compatibility.mirror_queue_bytes": "1kb"})
    s, r = mc(f.mc_port)
    for i in range(50):
        call(s, r, b"set d%d 0 0 100\r\n%s\r\n" % (i, b"d" * 100))
    wait_for(lambda: info_mirror(f)["mirror_link_errors"] > 0, timeout=10, what="link errors")
    assert info_mirror(f)["mirror_link_status"] == "down"
    assert info_mirror(f)["mirror_dropped"] > 0
    wait_for(lambda: "cannot connect to the mirror target" in f.log_text(), timeout=10, what="log")
    m = Memcached(port=port, memory_mb=64)
    try:
        wait_for(lambda: info_mirror(f)["mirror_link_status"] == "up", timeout=15, what="link up")
        call(s, r, b"set later 0 0 1\r\nl\r\n")
        wait_for(lambda: b"later" in mg_many(port, [b"later"]), timeout=10, what="mirrored once up")
    finally:
        m.stop(hard=True)
