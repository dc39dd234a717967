"""memcached's meta-protocol anti-stampede machinery: vivify on miss (`mg N`: `W` to the
first client, `Z` to the later ones), recache on a low TTL (`mg R`), invalidation
(`md I`: the item stays, `X` to every reader, `W` to one), stale stores (`ms I` with a CAS
below the item's), the hit-before flag (`mg h`, `me ... fetch=`), and what keeps or clears
those marks (a store, an append, an incr that fits in place).

The `side_by_side` tests send each sequence to ferrite-host and to the real memcached
1.6.18 and assert identical reply lines. CAS uniques differ between servers, so each
distinct value is replaced by the order in which that server first showed it (equal /
unequal relations are still checked), and a request names a CAS as `{C<i><+/-d>}`: the
i-th value that server showed, plus or minus d. TTLs are compared exactly except where a
second may tick over (`t+`: a positive TTL); `l` (last access) only by presence.

The `newer_` tests cover what memcached added after 1.6.18 (E<cas>, `md x`, `ms s`,
`ms MA N<ttl>`, `mg C<cas>`): 1.6.18 refuses or ignores those flags, so they are checked
against the newest doc/protocol.txt of memcached 1.6 (and its proto_parser.c for the
details the text leaves open), not against a running peer.
"""
import re
import socket
import time

import pytest

from conftest import Server

READ_TIMEOUT = 3.0


class Side:
    """One connection; every request is followed by `mn` so the reply's end is known."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
        self.cas_index, self.cas_values = {}, []

    def send(self, req):
        def cas_ref(m):
            i, d = int(m.group(1)), int(m.group(2) or 0)
            return b"%d" % (self.cas_values[i] + d)
        req = re.sub(rb"\{C(\d+)([+-]\d+)?\}", cas_ref, req)
        self.s.sendall(req + b"\r\nmn\r\n")
        out = b""
        deadline = time.time() + READ_TIMEOUT
        while not out.endswith(b"MN\r\n"):
            self.s.settimeout(max(0.01, deadline - time.time()))
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                return out + b"<TIMEOUT>"
            if not chunk:
                return out + b"<CLOSED>"
            out += chunk
        out = out[:-4]
        return self.norm(out[:-2] if out.endswith(b"\r\n") else out)

    def cas(self, raw):
        v = int(raw)
        if v not in self.cas_index:
            self.cas_index[v] = len(self.cas_values)
            self.cas_values.append(v)
        return b"%d" % self.cas_index[v]

    def norm(self, out):
        lines = out.split(b"\r\n")
        res = []
        for line in lines:
            toks = []
            for t in line.split(b" "):
                if re.fullmatch(rb"c\d+", t):
                    t = b"c#" + self.cas(t[1:])
                elif re.fullmatch(rb"cas=\d+", t):
                    t = b"cas=#" + self.cas(t[4:])
                elif re.fullmatch(rb"l\d+", t):
                    t = b"l*"
                elif re.fullmatch(rb"t\d+", t) and int(t[1:]) > 0:
                    t = b"t+"
                toks.append(t)
            res.append(b" ".join(toks))
        return b"\r\n".join(res)


def side_by_side(ferrite_port, memcached_port, requests):
    got, want = Side(ferrite_port), Side(memcached_port)
    for req in requests:
        req = req.encode() if isinstance(req, str) else req
        g, w = got.send(req), want.send(req)
        assert g == w, f"request {req!r}\nmemcached {w!r}\nferrite   {g!r}"


# ---------------------------------------------------------------------------------------
# against memcached 1.6.18


def test_vivify_hands_one_win_then_z_side_by_side(mc_server, memcached_server):
    side_by_side(mc_server.mc_port, memcached_server.port, [
        "mg v1 N30 s t v",          # miss: created, this client recaches (W)
        "mg v1 N30 s t v c",        # the others see Z until the item is written
        "mg v1 s v",
        "mg v1 N30 q k",
        "ms v1 2 T60\r\nhi",        # the winner stores: no mark left
        "mg v1 s v N30",
        "mg v1 N30 t",
        "mg v2 N0 v",
        "mg v2 N0 v",
        "mg v3 N30 q",              # q hides a miss, not the created item
    ])


def test_invalidate_marks_stale_and_hands_one_win_side_by_side(mc_server, memcached_server):
    side_by_side(mc_server.mc_port, memcached_server.port, [
        "ms a 3 T100\r\nold",
        "mg a c",
        "md a I",                   # kept, stale, a new CAS
        "mg a v c t",               # X W: serve the stale value, recache it
        "mg a v c t",               # Z X: someone else is on it
        "mg a X",                   # (an unknown flag is still an error)
        "md a I T30",               # invalidate again: the token is back, TTL 30
        "mg a v c t",
        "mg a c",
        "md a I q",                 # q hides HD
        "md a I C1",                # CAS mismatch: EX, nothing changes
        "mg a c",
        "md nokey I",
        "ms a 3\r\nnew",            # a store clears the marks
        "mg a v t c",
        "md a",                     # a plain md still deletes
        "mg a v",
    ])


def test_stale_store_with_a_lower_cas_side_by_side(mc_server, memcached_server):
    side_by_side(mc_server.mc_port, memcached_server.port, [
        "ms st 2\r\nv0",           # so that the CAS below is not 1 (C0 compares nothing)
        "ms st 2 T100\r\nv1",
        "mg st c",                  # {C0}
        "ms st 2 C{C0-1} I T5 c\r\nv2",   # lower CAS with I: stored stale, TTL kept
        "mg st v t c",              # X W
        "mg st v t c",              # Z X
        "ms st 2 C{C0-1} c\r\nv3",  # lower CAS without I: EX
        "ms st 2 C{C1} I c\r\nv4",  # the current CAS with I: a normal store
        "mg st v t c",
        "ms st 2 C0 I\r\nv5",       # C0 never compares lower
        "md st I T20",              # invalidated; its first reader wins
        "mg st c t",
        "ms st 2 C{C2-1} I c k\r\nv6",    # stale store keeps the token already out: Z X
        "mg st c t v",
        "ms st 2 I c k MA\r\nv6",   # append: a new item, no marks, TTL kept
        "mg st c t v",
        "ms st 2 I\r\nv7",          # I without C: a plain set
        "mg st v",
        "ms nost 2 C5 I\r\nv8",     # nothing to compare with: NF
    ])


def test_recache_when_ttl_below_side_by_side(mc_server, memcached_server):
    side_by_side(mc_server.mc_port, memcached_server.port, [
        "ms r 2 T100\r\nhi",
        "mg r R30 t",               # TTL above the token: no win
        "mg r R200 t",              # below: W
        "mg r R200 t v",            # token out: Z
        "ms r 2\r\nyo",             # no TTL: R never wins
        "mg r R200 t",
        "mg r R0 T50 t",            # R0 never wins
        "mg r T50 R60 t",           # T first: R sees the new TTL
        "mg r T500 R60 t",          # token out: Z, whatever the TTL
        "ms r 2 T100\r\nhi",
        "mg r R-5 t",               # a negative token never wins
        "mg r R2592001 t",          # an absolute time in 1970: never
    ])


def test_hit_before_flag_side_by_side(mc_server, memcached_server):
    side_by_side(mc_server.mc_port, memcached_server.port, [
        "ms h1 2\r\nhi",
        "mg h1 h u",                # u: not bumped, not marked fetched
        "mg h1 h u",
        "mg h1 h",                  # h reports the state before this request
        "mg h1 h",
        "ms h1 2\r\nho",            # a store makes a new item: not fetched
        "get h1",
        "mg h1 h",
        "ms h2 2\r\nhi",
        "touch h2 100",             # touch, gat fetch too
        "mg h2 h u",
        "ms h3 2\r\nhi",
        "gat 100 h3",
        "mg h3 h u",
        "ms h4 2\r\nhi",
        "mg h4 T100 h",
        "mg h4 h",
        "ms h4 1 MA\r\nx",          # append: a new item
        "mg h4 h",
        "mg h5 N30 h",              # the created item counts as fetched
        "mg h5 h",
        "ms h6 2\r\n10",
        "mg h6 h",
        "ma h6",                    # fits in place: the item (and its marks) stay
        "mg h6 h",
        "ma h6 D1000",              # grows: a new item
        "mg h6 h",
    ])


def test_me_reports_fetched_side_by_side(mc_server, memcached_server):
    got, want = Side(mc_server.mc_port), Side(memcached_server.port)

    def fetch(side, req):
        out = side.send(req)
        m = re.search(rb"fetch=(\w+)", out)
        return m.group(1) if m else out

    for req in [b"ms m 2\r\nhi", b"me m", b"mg m u", b"me m", b"get m", b"me m",
                b"ms m 2\r\nho", b"me m"]:
        assert fetch(got, req) == fetch(want, req), req


def test_arith_keeps_marks_in_place_side_by_side(mc_server, memcached_server):
    side_by_side(mc_server.mc_port, memcached_server.port, [
        "ms n 2\r\n10",
        "md n I",
        "ma n",                     # 11 fits in place: still stale, no token out
        "mg n v",
        "mg n v",
        "ma n D100",                # 111 does not: a new item
        "mg n v",
        "mg n2 N30 v",
        "ma n2 v",                  # "" is not a number
        "mg n2 v",
    ])


# ---------------------------------------------------------------------------------------
# memcached 1.6.19+ (doc/protocol.txt): ferrite alone


def run(port, requests):
    side = Side(port)
    return [side.send(r.encode()) for r in requests]


def test_newer_explicit_cas(mc_server):
    """E<cas>: "use token as new CAS value" on ms, md I, ma and the item mg N creates."""
    out = run(mc_server.mc_port, [
        "ms e 2 E5000 c\r\nhi", "mg e c",
        "ms e 1 MA E5001 c\r\nx", "mg e v c",
        "md e I E5002", "mg e c",
        "ms e 2 C5002 E5003 c\r\nyo", "mg e c",
        "ma en N0 J7 E5004 c v", "ma en E5005 c v", "mg en c",
        "mg ev N30 E5006 c", "mg ev c",
        "ms e 2 Exx\r\nzz",
    ])
    assert out == [
        b"HD c#0", b"HD c#0",                      # c5000
        b"HD c#1", b"VA 3 c#1\r\nhix",              # c5001
        b"HD", b"HD c#2 X W",                       # c5002, stale
        b"HD c#3", b"HD c#3",                       # CAS compared, then set to 5003
        b"VA 1 c#4\r\n7", b"VA 1 c#5\r\n8", b"HD c#5",
        b"HD c#6 W", b"HD c#6 Z",
        b"CLIENT_ERROR bad token in command line format",
    ]
    side = Side(mc_server.mc_port)
    assert side.send(b"mg e c").startswith(b"HD c#")
    assert side.cas_values == [5003]


def test_newer_md_x_leaves_an_empty_item(mc_server):
    """md x: "removes the item value, but leaves the item"; with I a stale tombstone.
    The emptied item takes the F and T sent (none: flags 0, no TTL) and keeps its CAS
    (memcached's process_mdelete_cmd stores it with the old CAS unless E is given)."""
    out = run(mc_server.mc_port, [
        "ms x 5 F7 T100\r\nvalue", "mg x c",
        "md x x", "mg x v f t c s",
        "ms x 5 F7\r\nvalue",
        "md x x F9 T100 q", "mg x v f t",
        "md x x I", "mg x v f c", "mg x v",
        "md nox x",
        "ms x 1\r\nz", "md x x C1",
    ])
    assert out == [
        b"HD", b"HD c#0",
        b"HD", b"VA 0 f0 t-1 c#0 s0\r\n",
        b"HD",
        b"", b"VA 0 f9 t+\r\n",
        b"HD", b"VA 0 f0 c#1 X W\r\n", b"VA 0 Z X\r\n",
        b"NF",
        b"HD", b"EX",
    ]


def test_newer_ms_size_flag(mc_server):
    """ms s: "return the size of the stored item on success (ie; new size on append)"."""
    out = run(mc_server.mc_port, [
        "ms s 3 s\r\nabc", "ms s 2 MA s k\r\nde", "ms s 1 MP s\r\nz",
        "ms s 4 ME s\r\nnope", "ms s 2 s q\r\nhi", "mg s v",
    ])
    assert out == [b"HD s3", b"HD s5 ks", b"HD s6", b"NS s4", b"", b"VA 2\r\nhi"]


def test_newer_append_autovivify(mc_server):
    """ms MA/MP N<ttl>: "if in append mode, autovivify on miss with supplied TTL" (N's TTL,
    not T's); without N an append to a missing item stays NS."""
    out = run(mc_server.mc_port, [
        "ms av 2 MA\r\nab", "ms av 2 MA N100 T5 F3\r\nab", "mg av v t f",
        "ms av 2 MA N100\r\ncd", "mg av v t",
        "ms pv 2 MP N0\r\nxy", "mg pv v t",
    ])
    assert out == [b"NS", b"HD", b"VA 2 t+ f3\r\nab", b"HD", b"VA 4 t+\r\nabcd",
                   b"HD", b"VA 2 t-1\r\nxy"]


def test_newer_mg_conditional_value(mc_server):
    """mg C<cas>: "if ... a 'v' flag is supplied, only return the value if the CAS flag does
    NOT match"; T still applies either way."""
    side = Side(mc_server.mc_port)
    assert side.send(b"ms c 3 T100\r\nabc") == b"HD"
    assert side.send(b"mg c c") == b"HD c#0"
    assert side.send(b"mg c v C{C0} c") == b"HD c#0"
    assert side.send(b"mg c v C{C0+1} c") == b"VA 3 c#0\r\nabc"
    assert side.send(b"mg c v C{C0} T0 t") == b"HD t-1"
    assert side.send(b"mg c C{C0+1} s") == b"HD s3"


def test_stale_mark_survives_aof_replay(tmp_path):
    """md I and a stale ms I propagate as MC.DELETE key STALE after the write, so an AOF
    replay brings the stale mark back (the token and fetched marks are not persisted)."""
    s = Server({"compatibility.memcached_protocol": "true",
                "persistence.aof_enabled": "true", "persistence.aof_fsync": "always"},
               workdir=str(tmp_path)).start()
    try:
        before = run(s.mc_port, [
            "ms a 3 T1000\r\nold", "md a I", "mg a v",
            "ms b 3\r\nold", "mg b c",
            "ms b 3 C{C0-1} I\r\nnew", "mg b v",
            "ms c 3\r\nold", "md c I", "ms c 3\r\nnew",
        ])
        assert before[2] == b"VA 3 X W\r\nold"
        assert before[6] == b"VA 3 X W\r\nnew"
        s.stop()
        s.start()
        after = run(s.mc_port, ["mg a v t", "mg a v", "mg b v", "mg c v"])
        assert after == [b"VA 3 t+ X W\r\nold", b"VA 3 Z X\r\nold", b"VA 3 X W\r\nnew",
                         b"VA 3\r\nnew"]
    finally:
        s.stop()


def test_stale_mark_reaches_replicas(server_factory, redis_nodes):
    """The stream carries the stale mark as `PUBLISH __ferrite__:mcstale <key>`: a Ferrite
    replica marks the key stale (its first reader wins the token), a redis-server replica
    keeps the value and applies the rest of the stream without an error."""
    from repl_util import RedisProc, wait_caught_up, wait_link_up
    cfg = {"compatibility.memcached_protocol": "true",
           "replication.repl_diskless_sync_delay": "0"}
    p, r = server_factory(dict(cfg)), server_factory(dict(cfg))
    rs = RedisProc(["--replicaof", "127.0.0.1", str(p.port)]).start()
    redis_nodes.append(rs)
    r.redis().execute_command("REPLICAOF", "127.0.0.1", p.port)
    wait_link_up(r.redis())
    wait_link_up(rs.redis())
    out = run(p.mc_port, ["ms a 3 T1000\r\nold", "md a I", "ms b 3\r\nnew", "mg b c",
                          "ms b 3 C{C0-1} I\r\nstl", "ms c 3\r\nyes"])
    assert out[1] == b"HD" and out[4] == b"HD"
    wait_caught_up(p.redis(), r.redis())
    wait_caught_up(p.redis(), rs.redis())
    assert run(r.mc_port, ["mg a v t", "mg a v", "mg b v", "mg c v"]) == [
        b"VA 3 t+ X W\r\nold", b"VA 3 Z X\r\nold", b"VA 3 X W\r\nstl", b"VA 3\r\nyes"]
    red = rs.redis()
    assert red.mget("a", "b", "c") == [b"old", b"stl", b"yes"]
    assert 0 < red.ttl("a") <= 1000
    # a command redis-server does not know would count as an error reply there
    assert red.info("stats")["total_error_replies"] == 0


def test_binary_get_marks_fetched_side_by_side(mc_server, memcached_server):
    """A binary-protocol get is a fetch too: a text `mg h` afterwards reads h1 on both."""
    import struct

    def binary_get(port, key):
        s = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
        s.sendall(struct.pack(">BBHBBHIIQ", 0x80, 0x00, len(key), 0, 0, 0, len(key), 0, 0) + key)
        head = b""
        while len(head) < 24:
            head += s.recv(24 - len(head))
        body = struct.unpack(">I", head[8:12])[0]
        rest = b""
        while len(rest) < body:
            rest += s.recv(body - len(rest))
        s.close()
        return struct.unpack(">H", head[6:8])[0]  # status

    for port in (mc_server.mc_port, memcached_server.port):
        assert run(port, ["ms bg 2\r\nhi", "mg bg h u"]) == [b"HD", b"HD h0"]
        assert binary_get(port, b"bg") == 0
        assert run(port, ["mg bg h"]) == [b"HD h1"], port
