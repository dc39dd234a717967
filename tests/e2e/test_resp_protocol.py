"""RESP framing against a real ferrite-host, side by side with redis-server 7.0.

Raw sockets for exact bytes (protocol errors, inline commands, RESP3 after HELLO 3,
which python3-redis 4.3.4 cannot speak) and python3-redis for the RESP2 client path.
Where both servers are started, the same bytes go to each and the answers must match.
"""
import socket
import time

import pytest

from resp_compare import encode

PE = b"-ERR Protocol error: "


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def exchange(port, data, quiet=0.3, limit=10.0):
    """Sends data on a fresh connection; reads until EOF, or until nothing arrives for
    `quiet` seconds. Returns (reply bytes, closed by the server)."""
    s = connect(port)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    got, closed = read_all(s, quiet, limit)
    s.close()
    return got, closed


def read_all(s, quiet=0.3, limit=10.0):
    got = b""
    deadline = time.time() + limit
    s.settimeout(quiet)
    while time.time() < deadline:
        try:
            chunk = s.recv(1 << 20)
        except socket.timeout:
            return got, False
        except ConnectionResetError:
            return got, True
        if not chunk:
            return got, True
        got += chunk
    return got, False


def read_exact(s, n, limit=20.0):
    got = b""
    s.settimeout(limit)
    while len(got) < n:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        got += chunk
    return got


class Reader:
    """Minimal RESP2/RESP3 reply reader over a socket (for HELLO's map and friends)."""

    def __init__(self, sock):
        self.s, self.buf = sock, b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            assert chunk, f"connection closed, buffered {self.buf!r}"
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bytes(self, n):
        while len(self.buf) < n + 2:
            chunk = self.s.recv(65536)
            assert chunk, "connection closed"
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-", b"(", b","):
            return (t, rest)
        if t == b":":
            return (t, int(rest))
        if t == b"#":
            return (t, rest == b"t")
        if t == b"_":
            return (t, None)
        if t in (b"$", b"="):
            n = int(rest)
            return (t, None if n < 0 else self._bytes(n))
        if t in (b"*", b"~", b">"):
            n = int(rest)
            return (t, None if n < 0 else [self.read() for _ in range(n)])
        if t in (b"%", b"|"):
            n = int(rest)
            return (t, [(self.read(), self.read()) for _ in range(n)])
        raise AssertionError(f"bad reply line {line!r}")


def cmd(*args):
    return encode(args)


# --- pipelining ------------------------------------------------------------------------

def pipeline_bytes(n):
    req = b"".join(cmd("SET", f"k:{i}", f"v:{i}") for i in range(n // 2))
    req += b"".join(cmd("GET", f"k:{i}") for i in range(n // 2))
    want = b"+OK\r\n" * (n // 2)
    want += b"".join(b"$%d\r\n%s\r\n" % (len(f"v:{i}"), f"v:{i}".encode()) for i in range(n // 2))
    return req, want


def test_pipeline_10000_commands_in_one_write(server, redis_server):
    req, want = pipeline_bytes(10000)
    for port in (server.port, redis_server.port):
        s = connect(port)
        s.sendall(req)
        got = read_exact(s, len(want))
        s.close()
        assert got == want, f"port {port}: {len(got)} of {len(want)} bytes"


def test_pipeline_with_redis_py(server):
    r = server.redis()
    p = r.pipeline(transaction=False)
    for i in range(10000):
        p.set(f"p:{i}", i)
    for i in range(10000):
        p.get(f"p:{i}")
    res = p.execute()
    assert res[:10000] == [True] * 10000
    assert res[10000:] == [str(i).encode() for i in range(10000)]


def test_requests_split_at_every_byte(server, redis_server):
    req = cmd("SET", "split", "a\r\nb") + b"GET split\r\n" + cmd("ECHO", "") + b"PING\n"
    want = b"+OK\r\n$4\r\na\r\nb\r\n$0\r\n\r\n+PONG\r\n"
    for port in (server.port, redis_server.port):
        s = connect(port)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(req)):
            s.sendall(req[i:i + 1])
            time.sleep(0.001)
        assert read_exact(s, len(want)) == want
        s.close()


def test_large_value_arriving_in_small_pieces(server):
    value = bytes(range(256)) * 1200  # 300 KB, every byte value
    req = cmd("SET", "big", value)
    s = connect(server.port)
    for i in range(0, len(req), 1000):
        s.sendall(req[i:i + 1000])
    assert read_exact(s, 5) == b"+OK\r\n"
    s.sendall(cmd("GET", "big"))
    want = b"$%d\r\n" % len(value) + value + b"\r\n"
    assert read_exact(s, len(want)) == want
    s.close()


# --- inline commands ---------------------------------------------------------------------

INLINE = [
    b"PING\r\n",
    b"PING\n",
    b"\r\n\n\r\nPING\r\n",
    b"ECHO \"a b\\x41\\n\"\r\n",
    b"SET q 'it\\'s'\r\nGET q\r\n",
    b"  ECHO   spaced  \r\n",
    b"ECHO a\rb\r\n",
    b"ECHO \"\"\r\n",
    b"SET in \"x\"\nGET in\nDEL in\n",
]


@pytest.mark.parametrize("data", INLINE)
def test_inline_same_as_redis(server, redis_server, data):
    ours = exchange(server.port, data)
    theirs = exchange(redis_server.port, data)
    assert ours == theirs
    assert ours[0]


# --- protocol errors ---------------------------------------------------------------------

ERRORS = [
    (b"*abc\r\n", PE + b"invalid multibulk length\r\n"),
    (b"*2147483648\r\n", PE + b"invalid multibulk length\r\n"),
    (b"*1\r\n$-1\r\n", PE + b"invalid bulk length\r\n"),
    (b"*1\r\n$abc\r\n", PE + b"invalid bulk length\r\n"),
    (b"*1\r\n$536870913\r\n", PE + b"invalid bulk length\r\n"),
    (b"*1\r\nx3\r\n", PE + b"expected '$', got 'x'\r\n"),
    (b"*1\r\n$4\r\nPING\r\n*1\r\nPING\r\n", b"+PONG\r\n" + PE + b"expected '$', got 'P'\r\n"),
    (b"A" * 65537, PE + b"too big inline request\r\n"),
    (b"*" + b"1" * 65537, PE + b"too big mbulk count string\r\n"),
    (b"*1\r\n$" + b"1" * 65540, PE + b"too big bulk count string\r\n"),
    (b"PING \"a\r\n", PE + b"unbalanced quotes in request\r\n"),
    (b"ECHO \"a\"b\r\n", PE + b"unbalanced quotes in request\r\n"),
    (b"PING\r\nECHO 'x\r\nPING\r\n", b"+PONG\r\n" + PE + b"unbalanced quotes in request\r\n"),
]


@pytest.mark.parametrize("data,want", ERRORS, ids=[repr(e[1][21:50]) for e in ERRORS])
def test_protocol_error_text_and_close(server, redis_server, data, want):
    theirs = exchange(redis_server.port, data)
    assert theirs == (want, True), "expectation no longer matches redis-server"
    assert exchange(server.port, data) == (want, True)


def test_unauthenticated_limits(server_factory, redis_server):
    ours = server_factory({"security.requirepass": "pw"})
    redis_server.redis().config_set("requirepass", "pw")
    cases = [
        (b"*11\r\n", PE + b"unauthenticated multibulk length\r\n", True),
        (b"*1\r\n$16385\r\n", PE + b"unauthenticated bulk length\r\n", True),
        (b"*10\r\n", b"", False),
        (b"*1\r\n$16384\r\n", b"", False),
    ]
    for data, want, closed in cases:
        assert exchange(redis_server.port, data) == (want, closed), data
        assert exchange(ours.port, data) == (want, closed), data
    # After AUTH the normal limits apply again, on the same connection.
    for port in (ours.port, redis_server.port):
        s = connect(port)
        s.sendall(cmd("AUTH", "pw") + cmd("ECHO", "x" * 20000) + cmd(*["DEL"] + ["k"] * 11))
        want = b"+OK\r\n$20000\r\n" + b"x" * 20000 + b"\r\n:0\r\n"
        assert read_exact(s, len(want)) == want
        s.close()


def test_proto_max_bulk_len_at_and_over_the_limit(server_factory, redis_server):
    ours = server_factory({"limits.proto_max_bulk_len": "1mb"})
    redis_server.redis().config_set("proto-max-bulk-len", "1mb")
    at = cmd("SET", "k", b"v" * 1048576)
    over = cmd("SET", "k", b"v" * 1048577)
    for port in (ours.port, redis_server.port):
        assert exchange(port, at) == (b"+OK\r\n", False)
        assert exchange(port, over) == (PE + b"invalid bulk length\r\n", True)


def test_query_buffer_limit_closes_without_reply(server_factory):
    ours = server_factory({"limits.client_query_buffer_limit": "1mb",
                           "limits.proto_max_bulk_len": "8mb"})
    s = connect(ours.port)
    try:
        s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4000000\r\n")
        for _ in range(40):
            s.sendall(b"x" * 65536)
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert read_all(s, quiet=3.0) == (b"", True)
    s.close()
    assert ours.redis().ping()


# --- command errors keep the connection --------------------------------------------------

def test_connection_usable_after_command_errors(server, redis_server):
    data = cmd("ECHO") + b"ECHO\r\n" + cmd("SET", "s", "1") + cmd("PING")
    ours = exchange(server.port, data)
    assert ours == exchange(redis_server.port, data)
    assert ours == (b"-ERR wrong number of arguments for 'echo' command\r\n" * 2 +
                    b"+OK\r\n+PONG\r\n", False)


def test_redis_py_after_errors(server):
    r = server.redis()
    import redis
    with pytest.raises(redis.ResponseError):
        r.execute_command("NO-SUCH-COMMAND", "x")
    with pytest.raises(redis.ResponseError):
        r.execute_command("ECHO")
    assert r.set(b"bin\x00key", b"\x00\r\n\xff")
    assert r.get(b"bin\x00key") == b"\x00\r\n\xff"


# --- RESP3 ---------------------------------------------------------------------------------

def hello(reader, sock, version):
    sock.sendall(cmd("HELLO", version))
    return reader.read()


def test_resp3_after_hello_3_and_back(server, redis_server):
    for port in (server.port, redis_server.port):
        s = connect(port)
        rd = Reader(s)
        t, fields = hello(rd, s, 3)
        assert t == b"%", f"port {port}"
        info = {k[1]: v[1] for k, v in fields}
        assert info[b"proto"] == 3
        s.sendall(cmd("GET", "missing") + cmd("SET", "r3", "v") + cmd("GET", "r3"))
        assert read_exact(s, 3 + 5 + 7) == b"_\r\n+OK\r\n$1\r\nv\r\n"
        t, fields = hello(rd, s, 2)
        assert t == b"*"
        s.sendall(cmd("GET", "missing"))
        assert read_exact(s, 5) == b"$-1\r\n"
        s.close()


def test_resp3_null_and_error_bytes_match_redis(server, redis_server):
    data = (cmd("HELLO", "3") + cmd("DEL", "x") + cmd("GET", "x") + cmd("ECHO") +
            cmd("PING", "hi"))
    out = []
    for port in (server.port, redis_server.port):
        s = connect(port)
        s.sendall(data)
        rd = Reader(s)
        rd.read()  # HELLO's map differs (server name, version, id)
        tail = [rd.read() for _ in range(4)]
        out.append(tail)
        s.close()
    assert out[0] == out[1]
    assert out[0] == [(b":", 0), (b"_", None),
                      (b"-", b"ERR wrong number of arguments for 'echo' command"),
                      (b"$", b"hi")]


def test_error_text_never_breaks_framing(server, redis_server):
    # Redis turns CR/LF inside an error message into spaces; so must the encoder.
    data = cmd("NO-SUCH", "a\r\nb") + cmd("PING")
    ours = exchange(server.port, data)
    assert ours == exchange(redis_server.port, data)
    assert ours == (b"-ERR unknown command 'NO-SUCH', with args beginning with: 'a  b' \r\n"
                    b"+PONG\r\n", False)
