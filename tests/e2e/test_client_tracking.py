"""CLIENT TRACKING (client-side caching) side by side with redis-server 7.0: the same
sequence of commands on raw sockets to both servers, then the same replies and the
same invalidation pushes in the same order (RESP3 pushes; RESP2 through a client
subscribed to __redis__:invalidate). Client ids differ between the servers and are
replaced by a placeholder before comparing. Then what no peer does: a memcached write
invalidates a key a RESP client cached."""
import socket
import time

from resp_compare import Conn
from conftest import wait_for


def enc(v):
    return v if isinstance(v, bytes) else str(v).encode()


class Session:
    """Named connections to one server; `do(name, *cmd)` sends and reads one reply,
    `read(name)` the next message (a push) and `quiet(name)` checks nothing is pending
    (a PING's reply comes next). Every reply is recorded for the comparison."""

    def __init__(self, port):
        self.port = port
        self.conns = {}
        self.ids = {}
        self.log = []

    def open(self, name, resp=2):
        c = Conn(self.port, resp)
        self.conns[name] = c
        t, v = c.call("CLIENT", "ID")
        self.ids[name] = int(v)
        return c

    def norm(self, r):
        t, v = r
        if t == ":" and v is not None and int(v) in self.ids.values():
            return (":", b"<id>")
        if isinstance(v, list):
            return (t, [self.norm(x) for x in v])
        return r

    def do(self, name, *cmd):
        args = [str(self.ids[a[1:]]) if isinstance(a, str) and a.startswith("@") else a
                for a in cmd]
        r = self.norm(self.conns[name].call(*args))
        self.log.append((name, " ".join(map(str, cmd)), r))
        return r

    def read(self, name):
        r = self.norm(self.conns[name].read())
        self.log.append((name, "<read>", r))
        return r

    def quiet(self, name):
        r = self.conns[name].call("PING")
        self.log.append((name, "<quiet>", r))
        return r

    def close(self, name):
        self.conns.pop(name).close()

    def close_all(self):
        for c in self.conns.values():
            c.close()


def run_both(server, redis_server, scenario):
    out = []
    for port in (server.port, redis_server.port):
        s = Session(port)
        try:
            scenario(s)
        finally:
            s.close_all()
        out.append(s.log)
    ours, theirs = out
    for a, b in zip(ours, theirs):
        assert a == b, f"\n  ours:   {a}\n  theirs: {b}"
    assert len(ours) == len(theirs)
    return ours


def test_resp3_default_mode_pushes(server, redis_server):
    def scenario(s):
        s.open("t", 3)
        s.open("w")
        s.do("w", "FLUSHALL")
        s.do("t", "CLIENT", "TRACKING", "on")
        s.do("t", "GET", "k1")
        s.do("t", "MGET", "k2", "k3")
        s.do("w", "SET", "k1", "v")
        s.read("t")                       # invalidate [k1]
        s.do("w", "SET", "k1", "v2")      # not read again: no push
        s.quiet("t")
        s.do("w", "MSET", "k2", "a", "k3", "b")
        s.read("t")
        s.read("t")
        s.do("t", "GET", "k1")
        s.do("t", "SET", "k1", "mine")    # own write: the reply, then the push
        s.read("t")
        s.do("t", "HSET", "h", "f", "1")
        s.do("t", "HGET", "h", "f")
        s.do("t", "HDEL", "h", "f")
        s.read("t")
        s.do("t", "GET", "e")
        s.do("w", "SET", "e", "1", "PX", "300")  # a write too
        s.read("t")
        s.do("t", "GET", "e")
        s.read("t")                         # active expiry (hz 10) removed it
        s.do("t", "CLIENT", "TRACKINGINFO")
        s.do("t", "CLIENT", "GETREDIR")
        s.do("t", "CLIENT", "TRACKING", "off")
        s.do("t", "CLIENT", "TRACKINGINFO")
    run_both(server, redis_server, scenario)


def test_noloop_optin_optout(server, redis_server):
    def scenario(s):
        s.open("t", 3)
        s.open("w")
        s.do("t", "CLIENT", "TRACKING", "on", "NOLOOP")
        s.do("t", "GET", "a")
        s.do("t", "SET", "a", "1")        # NOLOOP: own writes are not sent
        s.quiet("t")
        s.do("t", "CLIENT", "TRACKING", "off")
        s.do("t", "CLIENT", "TRACKING", "on", "OPTIN")
        s.do("t", "GET", "b")             # not cached without CACHING yes
        s.do("w", "SET", "b", "1")
        s.quiet("t")
        s.do("t", "CLIENT", "CACHING", "yes")
        s.do("t", "GET", "b")
        s.do("t", "CLIENT", "TRACKINGINFO")
        s.do("w", "SET", "b", "2")
        s.read("t")
        s.do("t", "CLIENT", "CACHING", "no")
        s.do("t", "CLIENT", "TRACKING", "on", "OPTOUT")
        s.do("t", "CLIENT", "TRACKING", "off")
        s.do("t", "CLIENT", "TRACKING", "on", "OPTOUT")
        s.do("t", "CLIENT", "CACHING", "no")
        s.do("t", "GET", "c")             # not cached: CACHING no
        s.do("t", "GET", "d")             # cached
        s.do("w", "MSET", "c", "1", "d", "1")
        s.read("t")
        s.quiet("t")
        s.do("t", "CLIENT", "TRACKING", "off")
    run_both(server, redis_server, scenario)


def test_bcast_prefixes_and_errors(server, redis_server):
    def scenario(s):
        s.open("t", 3)
        s.open("w")
        s.do("t", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:", "PREFIX", "b:")
        s.do("w", "MSET", "a:1", "x", "b:2", "y", "c:3", "z", "a:4", "w")
        s.read("t")                       # a: keys, sorted
        s.read("t")                       # b: keys
        s.quiet("t")
        s.do("t", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:x")
        s.do("t", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c", "PREFIX", "cd")
        s.do("t", "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c:")
        s.do("t", "CLIENT", "TRACKINGINFO")
        s.do("t", "CLIENT", "TRACKING", "on")
        s.do("t", "CLIENT", "TRACKING", "on", "BCAST", "OPTIN")
        s.do("t", "CLIENT", "TRACKING", "off")
        s.do("t", "CLIENT", "TRACKING", "on", "PREFIX", "x")
        s.do("t", "CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT")
        s.do("t", "CLIENT", "TRACKING", "on", "REDIRECT", "999999")
        s.do("t", "CLIENT", "TRACKING", "on", "REDIRECT", "abc")
        s.do("t", "CLIENT", "TRACKING", "maybe")
        s.do("t", "CLIENT", "CACHING", "yes")
        s.do("t", "CLIENT", "TRACKING", "on", "BCAST", "NOLOOP")
        s.do("t", "SET", "mine", "1")      # own write left out under NOLOOP
        s.quiet("t")
        s.do("w", "SET", "theirs", "1")
        s.read("t")
    run_both(server, redis_server, scenario)


def test_resp2_redirect_and_flush(server, redis_server):
    def scenario(s):
        s.open("r")                        # RESP2, receives the invalidations
        s.open("t")
        s.open("w")
        s.do("w", "FLUSHALL")
        s.do("r", "SUBSCRIBE", "__redis__:invalidate")
        s.do("t", "CLIENT", "TRACKING", "on", "REDIRECT", "@r")
        s.do("t", "CLIENT", "GETREDIR")
        s.do("t", "GET", "k")
        s.do("t", "INCR", "k")             # read -> written by itself: redirected
        s.read("r")
        s.do("t", "GET", "k")
        s.do("w", "DEL", "k")
        s.read("r")
        s.do("t", "GET", "k")
        s.do("w", "FLUSHDB")
        s.read("r")                        # a null for "everything"
        s.do("t", "GET", "k")
        s.do("t", "MULTI")
        s.do("t", "SET", "k", "1")
        s.do("t", "GET", "k")
        s.do("t", "EXEC")
        s.read("r")
        s.do("t", "CLIENT", "TRACKING", "off")
    run_both(server, redis_server, scenario)


def test_redirect_broken_and_info(server, redis_server):
    def scenario(s):
        s.open("r", 3)
        s.open("t", 3)
        s.open("w")
        s.do("w", "FLUSHALL")
        s.do("w", "CONFIG", "RESETSTAT")
        s.do("t", "CLIENT", "TRACKING", "on", "REDIRECT", "@r")
        s.do("t", "GET", "x")
        s.do("t", "GET", "y")
        s.do("w", "SET", "x", "1")
        s.read("r")
        s.close("r")
        time.sleep(0.2)
        s.do("w", "SET", "y", "1")
        s.read("t")                        # tracking-redir-broken <id>
        s.do("t", "CLIENT", "TRACKINGINFO")
        info = s.conns["w"].call("INFO", "clients")[1].decode() + \
            s.conns["w"].call("INFO", "stats")[1].decode()
        fields = sorted(line for line in info.split("\r\n") if line.startswith("tracking_"))
        s.log.append(("w", "<info>", fields))
        s.do("t", "CLIENT", "TRACKING", "off")
    run_both(server, redis_server, scenario)


def test_script_reads_track_declared_keys(server, redis_server):
    def scenario(s):
        s.open("t", 3)
        s.open("w")
        s.do("t", "CLIENT", "TRACKING", "on")
        s.do("t", "EVAL", "return redis.call('get', KEYS[1])", "1", "sk")
        s.do("w", "SET", "sk", "1")
        s.read("t")
        s.do("t", "EVAL", "return 1", "1", "nr")  # reads nothing: not remembered
        s.do("w", "SET", "nr", "1")
        s.quiet("t")
    run_both(server, redis_server, scenario)


def test_table_max_keys_evicts_with_invalidations(server):
    c = Conn(server.port, 3)
    w = Conn(server.port)
    w.call("CONFIG", "SET", "tracking-table-max-keys", "2")
    c.call("CLIENT", "TRACKING", "on")
    got = set()

    def take(push):
        assert push[0] == ">" and push[1][0] == ("$", b"invalidate"), push
        got.update(x[1] for x in push[1][1][1])

    # As in Redis (trackingLimitUsedSlots in processCommand), the limit applies before
    # each command: from the fourth GET on, a key's invalidation precedes the reply.
    for k in ("a", "b", "c", "d", "e"):
        reply = c.call("GET", k)
        while reply[0] == ">":
            take(reply)
            reply = c.read()
        assert reply == ("_", None), reply
    assert len(got) == 2  # before the fourth and the fifth GET
    while len(got) < 3:  # the cron brings the table back to 2
        t, v = c.read()                   # bounded by the socket's 10 s timeout
        assert t == ">" and v[0] == ("$", b"invalidate")
        got.update(x[1] for x in v[1][1])
    assert got <= {b"a", b"b", b"c", b"d", b"e"}
    info = w.call("INFO", "stats")[1].decode()
    assert "tracking_total_keys:2\r\n" in info
    w.call("CONFIG", "SET", "tracking-table-max-keys", "0")
    c.close()
    w.close()


def test_memcached_writes_invalidate_resp_cache(mc_server):
    """No peer does this: a RESP3 client caches keys, memcached clients change them."""
    c = Conn(mc_server.port, 3)
    c.call("CLIENT", "TRACKING", "on")
    mc = socket.create_connection(("127.0.0.1", mc_server.mc_port), timeout=10)
    buf = b""

    def mc_do(req, lines=1):
        nonlocal buf
        mc.sendall(req)
        while buf.count(b"\r\n") < lines:
            chunk = mc.recv(4096)
            assert chunk
            buf += chunk
        out, buf = buf.split(b"\r\n", 1)
        return out

    def cached(key):
        c.call("GET", key)

    def expect_invalidation(key):
        assert c.read() == (">", [("$", b"invalidate"), ("*", [("$", key.encode())])])

    mc_do(b"set n 0 0 1\r\n5\r\n")
    for req, reply in [(b"set n 0 0 1\r\n7\r\n", b"STORED"), (b"incr n 3\r\n", b"10"),
                       (b"touch n 100\r\n", b"TOUCHED"), (b"append n 0 0 1\r\n0\r\n", b"STORED"),
                       (b"delete n\r\n", b"DELETED")]:
        cached("n")
        assert mc_do(req) == reply
        expect_invalidation("n")
    # The binary protocol's set (opcode 0x01, key "b", value "1", no flags / expiry).
    cached("b")
    hdr = bytes([0x80, 0x01, 0, 1, 8, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0]) + bytes(8)
    mb = socket.create_connection(("127.0.0.1", mc_server.mc_port), timeout=10)
    mb.sendall(hdr + bytes(8) + b"b1")
    resp = mb.recv(24)
    assert resp[:2] == b"\x81\x01" and resp[6:8] == b"\x00\x00"
    expect_invalidation("b")
    mb.close()
    # Nothing more is pending.
    assert c.call("PING") == ("+", b"PONG")
    mc.close()
    c.close()
