"""An exptime over 30 days (2592000 s) is an absolute Unix time in memcached: every write
that takes one (text set/add/replace/cas/touch/gat/gats, meta ms/mg/ma/md, binary
SET/ADD/REPLACE/TOUCH/GAT/INCR) must give the item that very second as its expiry on
Ferrite's memcached port, as on memcached 1.6.18. Checked on both servers through what
each reports of the item's expiry: `lru_crawler metadump`'s exp= on both, and Ferrite's
PEXPIRETIME over RESP (the second to the millisecond). ferrite-migrate relies on it to
carry each item's expiry exactly (tests/e2e/test_migrate_memcached.py)."""
import struct
import socket
import time

from migrate_util import metadump, pexpiretimes, recv_until


def pkt(op, key=b"", extras=b"", value=b"", opaque=0, cas=0):
    return struct.pack(">BBHBBHIIQ", 0x80, op, len(key), len(extras), 0, 0,
                       len(extras) + len(key) + len(value), opaque, cas) + extras + key + value


def text_writes(a):
    """Each key is written, then given the absolute expiry `a` by one kind of write."""
    return {
        b"t:set": b"set t:set 1 %d 1\r\nx\r\n" % a,
        b"t:add": b"add t:add 1 %d 1\r\nx\r\n" % a,
        b"t:replace": b"set t:replace 1 0 1\r\nx\r\nreplace t:replace 1 %d 1\r\ny\r\n" % a,
        b"t:touch": b"set t:touch 1 0 1\r\nx\r\ntouch t:touch %d\r\n" % a,
        b"t:gat": b"set t:gat 1 0 1\r\nx\r\ngat %d t:gat\r\n" % a,
        b"t:gats": b"set t:gats 1 0 1\r\nx\r\ngats %d t:gats\r\n" % a,
        b"m:ms": b"ms m:ms 1 T%d\r\nx\r\n" % a,
        b"m:mg-touch": b"ms m:mg-touch 1\r\nx\r\nmg m:mg-touch T%d\r\n" % a,
        b"m:mg-vivify": b"mg m:mg-vivify N%d\r\n" % a,
        b"m:ma-vivify": b"ma m:ma-vivify N%d\r\n" % a,
        b"m:ma-touch": b"ms m:ma-touch 1\r\n1\r\nma m:ma-touch T%d\r\n" % a,
        b"m:md-stale": b"ms m:md-stale 1\r\nx\r\nmd m:md-stale I T%d\r\n" % a,
    }


def binary_writes(a):
    exp = struct.pack(">I", a)
    se = struct.pack(">I", 1) + exp
    return {
        b"b:set": pkt(0x11, b"b:set", se, b"x"),
        b"b:add": pkt(0x12, b"b:add", se, b"x"),
        b"b:replace": pkt(0x11, b"b:replace", struct.pack(">II", 1, 0), b"x") +
        pkt(0x13, b"b:replace", se, b"y"),
        b"b:touch": pkt(0x11, b"b:touch", struct.pack(">II", 1, 0), b"x") + pkt(0x1c, b"b:touch", exp),
        b"b:gat": pkt(0x11, b"b:gat", struct.pack(">II", 1, 0), b"x") + pkt(0x1d, b"b:gat", exp),
        b"b:incr": pkt(0x05, b"b:incr", struct.pack(">QQ", 1, 5) + exp),
    }


def write_all(port, a):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"".join(text_writes(a).values()) + b"mn\r\n")
        recv_until(s, b"MN\r\n", timeout=10)
        # cas: the unique this server gave the item, then the store with the expiry
        s.sendall(b"set t:cas 1 0 1\r\nx\r\ngets t:cas\r\n")
        unique = int(recv_until(s, b"END\r\n", timeout=10).split(b"\r\n")[1].split()[4])
        s.sendall(b"cas t:cas 1 %d 1 %d\r\ny\r\n" % (a, unique))
        assert recv_until(s, b"\r\n", timeout=10) == b"STORED\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        # the quiet stores (SETQ, ADDQ, REPLACEQ) answer only on error; a NOOP marks the end
        s.sendall(b"".join(binary_writes(a).values()) + pkt(0x0a, opaque=0xfeed))
        s.settimeout(10)
        data = b""
        while struct.pack(">I", 0xfeed) not in data[-12:]:
            chunk = s.recv(65536)
            assert chunk, data
            data += chunk


def keys():
    return list(text_writes(0)) + list(binary_writes(0)) + [b"t:cas"]


def test_absolute_exptimes_are_kept_to_the_second(mc_server, memcached_server):
    a = int(time.time()) + 40 * 86400 + 17
    write_all(memcached_server.port, a)
    write_all(mc_server.mc_port, a)
    want = {k: a for k in keys()}
    peer = metadump(memcached_server.port)
    assert {k: peer.get(k) for k in want} == want  # the fact, on memcached 1.6.18
    ours = metadump(mc_server.mc_port)
    assert {k: ours.get(k) for k in want} == want
    assert pexpiretimes(mc_server.port, keys()) == {k: a * 1000 for k in want}


def test_thirty_days_is_relative_and_a_past_absolute_time_expires(mc_server, memcached_server):
    """2592000 is still relative (now + 30 days); 2592001 and any other past Unix time
    expire the item at once, on both."""
    for port in (memcached_server.port, mc_server.mc_port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"set rel 0 2592000 1\r\nx\r\nset past 0 2592001 1\r\nx\r\n"
                      b"set past2 0 %d 1\r\nx\r\nget rel past past2\r\n" % (int(time.time()) - 5))
            out = recv_until(s, b"END\r\n", timeout=10)
            assert out == b"STORED\r\nSTORED\r\nSTORED\r\nVALUE rel 0 1\r\nx\r\nEND\r\n", (port, out)
    now = time.time()
    rel = pexpiretimes(mc_server.port, [b"rel"])[b"rel"]
    assert now + 2592000 - 5 < rel / 1000 <= now + 2592000
    mine = metadump(memcached_server.port)[b"rel"]
    assert now + 2592000 - 5 < mine <= now + 2592000 + 1
