"""SLOWLOG and MONITOR against a real ferrite-host, side by side with redis-server 7.0
where the output is deterministic (HELP texts, errors, entry arguments, monitor lines
with the timestamp and client address masked), and memcached requests (text and binary)
recorded in their own words."""
import re
import socket
import struct
import time

from resp_compare import Conn, compare, parse_script


def _plain(tree):
    """A resp_compare reply tree as plain Python values."""
    t, v = tree
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if t == ":":
        return int(v)
    return v


def slowlog_get(port, count="-1"):
    c = Conn(port)
    try:
        return _plain(c.call("SLOWLOG", "GET", count))
    finally:
        c.close()


def test_slowlog_and_latency_replies_match_redis(server, redis_server):
    script = parse_script("""
        SLOWLOG HELP
        SLOWLOG LEN
        SLOWLOG foo
        SLOWLOG GET -2
        SLOWLOG GET notanumber
        SLOWLOG GET 1 2
        SLOWLOG LEN extra
        SLOWLOG
        SLOWLOG RESET
        LATENCY HELP
        LATENCY LATEST
        LATENCY HISTORY command
        LATENCY GRAPH command
        LATENCY RESET
        LATENCY RESET command fast-command
        LATENCY HISTORY
        LATENCY foo
        LATENCY LATEST extra
        MONITOR extra
        CONFIG GET slowlog-log-slower-than
        CONFIG GET slowlog-max-len
        CONFIG GET latency-monitor-threshold
        CONFIG SET slowlog-log-slower-than -2
        CONFIG SET slowlog-max-len -1
        CONFIG SET latency-monitor-threshold -1
    """)
    assert compare(server.port, redis_server.port, script) == []


def _slowlog_script(r):
    r.config_set("slowlog-log-slower-than", 0)
    r.config_set("slowlog-max-len", 128)
    r.slowlog_reset()
    r.client_setname("intro")
    r.set("foo", "bar")
    r.sadd("set", *range(3, 34))                  # 33 arguments: trimmed at 32
    r.sadd("set", "foo", "A" * 129)               # an argument cut at 128 bytes
    r.config_set("masterauth", "")                # redacted
    try:
        r.execute_command("AUTH", "not-real")     # redacted, and an error
    except Exception:
        pass
    p = r.pipeline(transaction=True)              # EXEC is not logged, its commands are
    p.incr("n")
    p.lpush("l", "x")
    p.execute()
    r.config_set("slowlog-log-slower-than", -1)   # off: nothing after this is logged
    r.get("foo")


def test_slowlog_entries_match_redis(server, redis_server):
    _slowlog_script(server.redis())
    _slowlog_script(redis_server.redis())
    ours, theirs = slowlog_get(server.port), slowlog_get(redis_server.port)
    # id, time, duration and the client's port differ; arguments and name must not.
    assert [(e[3], e[5]) for e in ours] == [(e[3], e[5]) for e in theirs]
    # The last logged is the transaction's LPUSH: EXEC is not logged, and the CONFIG SET
    # that turned the log off is judged by its new value.
    assert ours[0][3] == [b"LPUSH", b"l", b"x"]
    assert [b"exec"] not in [e[3] for e in ours]
    assert [b"CONFIG", b"SET", b"masterauth", b"(redacted)"] in [e[3] for e in ours]
    ids = [e[0] for e in ours]
    assert ids == sorted(ids, reverse=True)
    assert abs(ours[0][1] - time.time()) < 30
    assert ours[0][4].startswith(b"127.0.0.1:")


def test_slowlog_get_count_len_reset_and_max_len(server):
    r = server.redis()
    r.config_set("slowlog-log-slower-than", 0)
    r.config_set("slowlog-max-len", 10)
    for _ in range(30):
        r.ping()
    assert r.slowlog_len() == 10
    assert len(r.slowlog_get(5)) == 5
    assert len(slowlog_get(server.port, "0")) == 0
    assert len(slowlog_get(server.port, "-1")) == 10
    r.config_set("slowlog-log-slower-than", 100000)
    r.slowlog_reset()
    r.ping()
    assert r.slowlog_len() == 0
    r.execute_command("DEBUG", "SLEEP", "0.12")
    (e,) = slowlog_get(server.port)
    assert e[3] == [b"DEBUG", b"SLEEP", b"0.12"]
    assert e[2] >= 100000


def test_slowlog_records_memcached_requests_in_their_own_words(server_factory):
    s = server_factory({"compatibility.memcached_protocol": "true",
                        "server.slowlog_log_slower_than": "0"})
    r = s.redis()
    r.slowlog_reset()
    with socket.create_connection(("127.0.0.1", s.mc_port), timeout=10) as m:
        m.sendall(b"set k1 5 0 2\r\nv1\r\nget k1 k2 k3\r\n")
        buf = b""
        while not buf.endswith(b"END\r\n"):
            buf += m.recv(4096)
    # binary GET k1 (a connection's first byte picks its protocol: a new connection)
    with socket.create_connection(("127.0.0.1", s.mc_port), timeout=10) as m:
        hdr = struct.pack(">BBHBBHIIQ", 0x80, 0x00, 2, 0, 0, 0, 2, 0, 0)
        m.sendall(hdr + b"k1")
        got = b""
        while len(got) < 24 + 4 + 2:
            got += m.recv(4096)
    entries = slowlog_get(s.port)
    words = [e[3] for e in entries]
    assert words[:3] == [[b"get", b"k1"], [b"get", b"k1", b"k2", b"k3"],
                         [b"set", b"k1", b"5", b"0", b"2"]]
    assert entries[0][4].startswith(b"127.0.0.1:")


# ------------------------------- MONITOR ---------------------------------------------

LINE = re.compile(rb"^\+(\d+)\.(\d{6}) \[(\d+) ([^\]]+)\] (.*)$")


class Monitor:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s.sendall(b"MONITOR\r\n")
        self.buf = b""
        assert self.line() == b"+OK"

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("monitor closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def masked(self, n):
        """n lines with the timestamp and client address replaced."""
        out = []
        for _ in range(n):
            line = self.line()
            m = LINE.match(line)
            assert m, line
            assert abs(int(m.group(1)) - time.time()) < 30
            who = m.group(4)
            assert who == b"lua" or who.startswith(b"127.0.0.1:"), line
            out.append(b"[%s %s] %s" % (m.group(3), b"lua" if who == b"lua" else b"client",
                                         m.group(5)))
        return out


def _monitor_script(port):
    c = Conn(port)
    c.call("SET", "foo", "bar")
    c.call("GET", "foo")
    c.call("SET", b"bin\n\"\\\x01\xff", b"tab\there")
    c.call("EVAL", "redis.call('set',KEYS[1],ARGV[1])", "1", "foo", "bar")
    c.call("MULTI")
    c.call("SET", "foo", "bar")
    c.call("EXEC")
    c.call("MULTI")
    c.call("syntax", "error")
    c.call("EXEC")
    c.call("AUTH", "not-real")
    c.call("AUTH", "not-real", "not-a-password")
    c.call("HELLO", "2", "AUTH", "not-real", "not-a-password")
    c.call("CONFIG", "SET", "slowlog-max-len", "128")  # admin: never shown
    c.call("SELECT", "3")
    c.call("PING")
    c.close()


def test_monitor_lines_match_redis(server, redis_server):
    seen = []
    for port in (server.port, redis_server.port):
        mon = Monitor(port)
        _monitor_script(port)
        seen.append(mon.masked(15))
    assert seen[0] == seen[1]
    assert seen[0][0] == b'[0 client] "SET" "foo" "bar"'
    assert seen[0][2] == b'[0 client] "SET" "bin\\n\\"\\\\\\x01\\xff" "tab\\there"'
    assert seen[0][4] == b'[0 lua] "set" "foo" "bar"'


def test_monitor_shows_memcached_requests_and_stops_on_reset(server_factory):
    s = server_factory({"compatibility.memcached_protocol": "true"})
    mon = Monitor(s.port)
    with socket.create_connection(("127.0.0.1", s.mc_port), timeout=10) as m:
        m.sendall(b"set k 0 0 1\r\nv\r\n")
        assert m.recv(100) == b"STORED\r\n"
        m.sendall(b"gets k nokey\r\n")
        buf = b""
        while not buf.endswith(b"END\r\n"):
            buf += m.recv(4096)
    lines = mon.masked(2)
    assert lines == [b'[0 client] "set" "k" "0" "0" "1"', b'[0 client] "gets" "k" "nokey"']
    # CLIENT LIST shows the monitor with flag O; RESET ends monitoring.
    r = s.redis()
    assert any("flags=O" in c for c in r.execute_command("CLIENT", "LIST").decode().split("\n"))
    mon.s.sendall(b"RESET\r\n")
    assert mon.line() == b"+RESET"
    r.set("after", "reset")
    mon.s.sendall(b"PING\r\n")
    assert mon.line() == b"+PONG"  # nothing was fed in between
