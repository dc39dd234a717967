"""Side-by-side helpers for the sets/zsets e2e tests: send the same raw commands to
ferrite and to the real redis-server and compare the replies.

A reply is read as a parsed tree (type tag kept, so RESP3 doubles/sets/maps compare by
kind too) and, for commands whose element order Redis leaves unspecified (hash-table
sets), compared after sorting."""
import socket


def encode(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, port, resp=2):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        if resp == 3:
            self.call("HELLO", "3")

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-", b":", b",", b"(", b"#"):
            return (t.decode(), rest)
        if t == b"_":
            return ("_", None)
        if t in (b"$", b"="):
            n = int(rest)
            return ("$", None) if n < 0 else ("$", self._exact(n))
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return ("*", None)
            return (t.decode(), [self.read() for _ in range(n)])
        if t in (b"%", b"|"):  # a map, or an attribute (kept as its own element)
            n = int(rest)
            return (t.decode(), [self.read() for _ in range(2 * n)])
        raise ValueError(f"bad reply line {line!r}")

    def call(self, *args):
        self.s.sendall(encode(args))
        return self.read()

    def close(self):
        self.s.close()


def sort_tree(r):
    """Sorts aggregate elements (recursively) for order-insensitive comparison."""
    t, v = r
    if isinstance(v, list):
        return (t, sorted((sort_tree(x) for x in v), key=repr))
    return r


def compare(ours_port, theirs_port, script, resp=2):
    """script: list of (args, unordered). Returns a list of mismatch descriptions."""
    a, b = Conn(ours_port, resp), Conn(theirs_port, resp)
    bad = []
    try:
        for args, unordered in script:
            x, y = a.call(*args), b.call(*args)
            if unordered:
                x, y = sort_tree(x), sort_tree(y)
            if x != y:
                bad.append(f"{' '.join(map(str, args))}\n  ours:   {x}\n  theirs: {y}")
    finally:
        a.close()
        b.close()
    return bad


def parse_script(text):
    """One command per line; a leading '~ ' marks an order-insensitive reply."""
    out = []
    for line in text.strip().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        unordered = line.startswith("~ ")
        if unordered:
            line = line[2:]
        out.append((line.split(), unordered))
    return out
