"""memcached text protocol (classic + meta) against a real ferrite-host.

Raw-socket transcripts for exact bytes, the same transcripts side by side with the real
memcached 1.6 (cas uniques normalised), and pymemcache as a real client.
"""
import re
import socket
import time

import pytest

from conftest import exchange_until_quiet, transcript


def mc_sock(port):
    return socket.create_connection(("127.0.0.1", port), timeout=10)


exchange = exchange_until_quiet


def normalise(b):
    """Replaces cas uniques (gets VALUE lines, meta c<n> / cas=<n>) with a fixed token."""
    b = re.sub(rb"(VALUE \S+ \d+ \d+) \d+\r\n", rb"\1 CAS\r\n", b)
    b = re.sub(rb"(^|\r\n)((?:VA \d+|HD|NS|EX|NF|EN)(?: [^\r\n]*)?) c\d+", rb"\1\2 cCAS", b)
    return b


# Each case: request bytes; the reply must be byte-identical in memcached 1.6.18 and
# Ferrite (after normalise). Keys are unique per case so cases do not interact.
SIDE_BY_SIDE = [
    b"set sb1 5 0 1\r\nx\r\nget sb1 nokey\r\n",
    b"set sb2 0 0 3\r\nabc\r\ngets sb2\r\n",
    b"set sb3 0 0 1\r\nxyz\r\nget sb3\r\n",
    b"set sb4 0 0 -1\r\nx\r\n",
    b"set " + b"k" * 251 + b" 0 0 1\r\nx\r\n",
    b"GET sb5\r\n",
    b"\r\n",
    b"get\r\n",
    b"set sb6 b 0 1\r\nx\r\n",
    b"set sb7 +5 0 1\r\nx\r\nget sb7\r\n",
    b"set sb8 0 0 1 noreply\r\nx\r\nget sb8\r\n",
    b"set sb9 0 0 1 noreply\r\nxyz\r\n",
    b"set sb10 0 0 1\r\nx\r\nincr sb10 1\r\n",
    b"incr sb11 abc\r\nincr sb11 -1\r\nincr sb11 1\r\ndecr sb11 1\r\n",
    b"set sb12 0 0 2\r\n10\r\nincr sb12 5\r\nincr sb12 18446744073709551615\r\n",
    b"set sb13 0 0 1\r\n5\r\ndecr sb13 100\r\nget sb13\r\n",
    b"delete sb14 0\r\ndelete sb14 1\r\ndelete sb14 noreply\r\ndelete sb14\r\n",
    b"set sb15 0 0 1\r\nx\r\ndelete sb15\r\nget sb15\r\n",
    b"touch sb16 10\r\nset sb16 0 0 1\r\nx\r\ntouch sb16 10\r\ntouch sb16 x\r\ntouch sb16\r\n",
    b"flush_all x\r\nversion\r\nversion x\r\n",
    b"verbosity\r\nverbosity 1\r\nverbosity x\r\nverbosity 1 noreply\r\n",
    b"set sb17 0 0 1 x\r\nx\r\n",
    b"cas sb18 0 0 1\r\nx\r\n",
    b"cas sb18 0 0 1 abc\r\nx\r\n",
    b"cas sb18 0 0 1 5\r\nx\r\n",
    b"set sb19 0 0 1\r\nx\nget sb19\r\n",
    b"set sb20 0 -1 1\r\nx\r\nget sb20\r\n",
    b"get sb21 " + b"k" * 251 + b"\r\n",
    b"gat\r\ngat 10\r\ngat x sb22\r\n",
    b"set sb23 3 0 2\r\nhi\r\ngat 100 sb23\r\ngats 100 sb23\r\n",
    b"append sb24 0 0 1\r\nx\r\nset sb24 7 0 1\r\nb\r\nappend sb24 0 0 1\r\nc\r\nprepend sb24 0 0 1\r\na\r\nget sb24\r\n",
    b"add sb25 0 0 1\r\nx\r\nadd sb25 0 0 1\r\ny\r\nreplace sb26 0 0 1\r\nz\r\nreplace sb25 0 0 1\r\nz\r\nget sb25\r\n",
    b"get sb27\ttab\r\n",
    b"shutdown\r\n",
    b"stats detail\r\nstats foo\r\n",
    b"bogus\r\n",
    b"get sb28\n",
    # meta
    b"mn\r\nmg\r\nmg sb30 v\r\n",
    b"ms sb31 2\r\nhi\r\nmg sb31 v f t s k O123\r\n",
    b"ms sb32 2 T0 F5\r\nhi\r\nmg sb32 v f t\r\n",
    b"md sb33 q\r\nmd sb33\r\nmn\r\n",
    b"ma sb34\r\nma sb34 N0 J5\r\nma sb34 v\r\nma sb34 MD D10 v\r\n",
    b"mg sb35 zz\r\nmg sb35 v v\r\n",
    b"me sb36\r\n",
    b"ms sb37 1\r\n6\r\nmg sb37 s v q\r\nmg sb38 v q\r\nmn\r\n",
    b"ms sb39 2 q\r\nhi\r\nms sb39 2 MX\r\nhi\r\nms sb39 S2\r\nhi\r\n",
    b"ms sb40 2 CX\r\nhi\r\nmn\r\n",
    b"ms sb41 2 I\r\nhi\r\n",
    b"ms sb42\r\n",
    b"ms sb43 2\r\nhi\r\nma sb43\r\nma sb44 q\r\nma sb43 q\r\nmn\r\n",
    b"md sb45 y\r\n",  # x is a 1.6.19+ flag (test_memcached_meta_stale.py)
    b"mg c2I0Ng== b k v\r\nms c2I0Ng== 1 b k\r\nz\r\nmg c2I0Ng== b k v\r\nget sb46\r\n",
    b"ms sb47 2 ME\r\nhi\r\nms sb47 2 ME\r\nho\r\nms sb48 2 MR\r\nhi\r\nms sb47 1 MA\r\n!\r\nms sb47 1 MP\r\n<\r\nmg sb47 v\r\n",
    b"ms sb49 2 MA\r\nhi\r\nmg sb49 v\r\n",  # MA N<ttl>: 1.6.19+, tested there
    b"md sb50 C5\r\nms sb50 1\r\nx\r\nmd sb50 C5 k O9\r\nmd sb50 k O9\r\n",
    b"mg sb51 " + b"O" + b"x" * 40 + b"\r\n",
]


@pytest.mark.parametrize("case", SIDE_BY_SIDE, ids=lambda c: c[:30].decode(errors="replace"))
def test_side_by_side_with_memcached(mc_server, memcached_server, case):
    want = normalise(exchange(memcached_server.port, case))
    got = normalise(exchange(mc_server.mc_port, case))
    assert got == want, f"request {case!r}"


def test_long_line_without_newline_closes(mc_server, memcached_server):
    for port in (memcached_server.port, mc_server.mc_port):
        assert exchange(port, b"x" * 3000) == b"<CLOSED>"


def test_long_multiget_line_is_served(mc_server):
    keys = b" ".join(b"key%d" % i for i in range(800))
    s = mc_sock(mc_server.mc_port)
    transcript(s, b"set key7 0 0 1\r\nv\r\n", b"STORED\r\n")
    transcript(s, b"get " + keys + b"\r\n", b"VALUE key7 0 1\r\nv\r\nEND\r\n")


def test_pipelined_in_one_write(mc_server):
    s = mc_sock(mc_server.mc_port)
    req = b"".join(b"set p%d 0 0 2\r\nv%d\r\n" % (i, i % 10) for i in range(200))
    req += b"get " + b" ".join(b"p%d" % i for i in range(200)) + b"\r\n"
    want = b"STORED\r\n" * 200 + b"".join(b"VALUE p%d 0 2\r\nv%d\r\n" % (i, i % 10) for i in range(200)) + b"END\r\n"
    transcript(s, req, want)


def test_request_split_byte_by_byte(mc_server):
    s = mc_sock(mc_server.mc_port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for b in b"set split 9 0 5\r\nhello\r\n":
        s.sendall(bytes([b]))
        time.sleep(0.001)
    transcript(s, b"get split\r\n", b"STORED\r\nVALUE split 9 5\r\nhello\r\nEND\r\n")


def test_too_large_is_swallowed_and_connection_stays_in_sync(server_factory):
    srv = server_factory({"compatibility.memcached_protocol": "true",
                          "compatibility.item_size_max": "1024"})
    s = mc_sock(srv.mc_port)
    transcript(s, b"set big 0 0 1\r\nx\r\n", b"STORED\r\n")
    transcript(s, b"set big 0 0 5000\r\n" + b"x" * 5000 + b"\r\nget big\r\n",
               b"SERVER_ERROR object too large for cache\r\nEND\r\n")
    transcript(s, b"ms big 5000 T0\r\n" + b"x" * 5000 + b"\r\nmn\r\n",
               b"SERVER_ERROR object too large for cache\r\nMN\r\n")


def test_cas_flow(mc_server, memcached_server):
    for port in (memcached_server.port, mc_server.mc_port):
        s = mc_sock(port)
        transcript(s, b"set c 0 0 1\r\n1\r\n", b"STORED\r\n")
        s.sendall(b"gets c\r\n")
        line = s.recv(1000)
        cas = int(re.match(rb"VALUE c 0 1 (\d+)\r\n1\r\nEND\r\n", line).group(1))
        transcript(s, b"cas c 0 0 1 %d\r\n2\r\n" % (cas + 1), b"EXISTS\r\n")
        transcript(s, b"cas c 0 0 1 %d\r\n2\r\n" % cas, b"STORED\r\n")
        transcript(s, b"cas c 0 0 1 %d\r\n3\r\n" % cas, b"EXISTS\r\n")
        transcript(s, b"cas nokey 0 0 1 %d\r\n3\r\n" % cas, b"NOT_FOUND\r\n")
        # meta: c returns the cas, C compares it
        s.sendall(b"mg c c v\r\n")
        m = re.match(rb"VA 1 c(\d+)\r\n2\r\n", s.recv(1000))
        mcas = int(m.group(1))
        transcript(s, b"ms c 1 C%d\r\n9\r\n" % (mcas + 1), b"EX\r\n")
        transcript(s, b"ms c 1 C%d\r\n9\r\n" % mcas, b"HD\r\n")
        transcript(s, b"md c C%d q\r\nmg c v\r\n" % mcas, b"EX\r\nVA 1\r\n9\r\n")


def test_expiry_relative_absolute_negative(mc_server):
    s = mc_sock(mc_server.mc_port)
    now = int(time.time())
    transcript(s, b"set rel 0 1 1\r\nx\r\nset abs 0 %d 1\r\ny\r\nset past 0 %d 1\r\nz\r\n" % (now + 100, now - 100),
               b"STORED\r\nSTORED\r\nSTORED\r\n")
    transcript(s, b"get rel abs past\r\n", b"VALUE rel 0 1\r\nx\r\nVALUE abs 0 1\r\ny\r\nEND\r\n")
    s.sendall(b"mg abs t\r\n")
    assert re.fullmatch(rb"HD t(99|100)\r\n", s.recv(100))
    time.sleep(2.1)
    transcript(s, b"get rel abs\r\n", b"VALUE abs 0 1\r\ny\r\nEND\r\n")
    transcript(s, b"touch abs -1\r\nget abs\r\n", b"TOUCHED\r\nEND\r\n")
    transcript(s, b"set t 0 0 1\r\nx\r\ngat -1 t\r\nget t\r\n", b"STORED\r\nVALUE t 0 1\r\nx\r\nEND\r\nEND\r\n")


def test_flush_all_delay(mc_server):
    s = mc_sock(mc_server.mc_port)
    transcript(s, b"set f 0 0 1\r\nx\r\nflush_all 1\r\nget f\r\n", b"STORED\r\nOK\r\nVALUE f 0 1\r\nx\r\nEND\r\n")
    time.sleep(1.6)
    transcript(s, b"get f\r\nflush_all noreply\r\nmn\r\n", b"END\r\nMN\r\n")


def test_meta_touch_and_vivify(mc_server):
    s = mc_sock(mc_server.mc_port)
    s.sendall(b"mg viv N30 t v\r\n")
    assert s.recv(1000) == b"VA 0 t30 W\r\n\r\n"
    transcript(s, b"ms tt 1 T0\r\nx\r\nmg tt T50 t\r\n", b"HD\r\nHD t50\r\n")
    transcript(s, b"ma cnt N0 J10 v t\r\nma cnt v\r\nma cnt MD D3 v\r\n", b"VA 2 t-1\r\n10\r\nVA 2\r\n11\r\nVA 1\r\n8\r\n")


def test_stats(mc_server):
    s = mc_sock(mc_server.mc_port)
    transcript(s, b"set st 0 0 1\r\nx\r\nget st\r\nget nost\r\n", b"STORED\r\nVALUE st 0 1\r\nx\r\nEND\r\nEND\r\n")
    s.sendall(b"stats\r\n")
    buf = b""
    while not buf.endswith(b"END\r\n"):
        buf += s.recv(65536)
    stats = dict(l.split(b" ")[1:3] for l in buf.split(b"\r\n") if l.startswith(b"STAT "))
    for name in (b"pid", b"uptime", b"time", b"version", b"curr_connections", b"total_connections",
                 b"cmd_get", b"cmd_set", b"get_hits", b"get_misses", b"curr_items", b"total_items",
                 b"bytes", b"limit_maxbytes", b"evictions", b"threads"):
        assert name in stats, name
    assert int(stats[b"get_hits"]) >= 1 and int(stats[b"get_misses"]) >= 1
    assert int(stats[b"curr_items"]) >= 1
    assert stats[b"version"] == b"1.6.18"
    s.sendall(b"stats settings\r\n")
    buf = b""
    while not buf.endswith(b"END\r\n"):
        buf += s.recv(65536)
    assert b"STAT item_size_max 536870912\r\n" in buf


def test_quit_closes(mc_server):
    assert exchange(mc_server.mc_port, b"version\r\nquit\r\nversion\r\n") == b"VERSION 1.6.18\r\n<CLOSED>"


def test_pymemcache(mc_server):
    from pymemcache.client.base import Client
    c = Client(("127.0.0.1", mc_server.mc_port), timeout=10, default_noreply=False)
    assert c.set("pk", b"v1", expire=100, flags=3)
    assert c.get("pk") == b"v1"
    value, cas = c.gets("pk")
    assert value == b"v1"
    assert c.cas("pk", b"v2", cas) is True
    assert c.cas("pk", b"v3", cas) is False
    assert c.add("pk", b"x") is False
    assert c.replace("pk", b"v4") is True
    assert c.append("pk", b"!") and c.prepend("pk", b"<")
    assert c.get("pk") == b"<v4!"
    assert c.set("n", b"10") and c.incr("n", 5) == 15 and c.decr("n", 20) == 0
    assert c.get_many(["pk", "n", "missing"]) == {"pk": b"<v4!", "n": b"0"}
    assert c.touch("pk", 100) is True and c.touch("missing", 100) is False
    assert c.delete("pk") and c.get("pk") is None
    assert c.set("nr", b"x", noreply=True) is True and c.get("nr") == b"x"
    assert c.version() == b"1.6.18"
    assert c.flush_all()
    assert c.get("n") is None
    assert c.stats()[b"version"] == b"1.6.18"
