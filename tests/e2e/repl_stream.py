"""A replication-stream reader, as Redis' own suite attaches one: a plain connection sends
SYNC, skips the snapshot, then reads the commands the primary propagates (PINGs left
out). Used to compare what Ferrite and redis-server 7.0 replicate for the same commands."""
import socket
import time

import redis


class ReplStream:
    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.sock.sendall(b"SYNC\r\n")
        # Keep-alive newlines may come before the snapshot's $<length> header.
        line = self._line()
        while line == b"":
            line = self._line()
        assert line.startswith(b"$"), line
        self._take(int(line[1:]))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("replication stream closed")
        self.buf += chunk

    def _line(self):
        while b"\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _command(self):
        line = self._line()
        while line == b"":
            line = self._line()
        assert line.startswith(b"*"), line
        args = []
        for _ in range(int(line[1:])):
            head = self._line()
            assert head.startswith(b"$"), head
            args.append(self._take(int(head[1:]) + 2)[:-2].decode())
        return args

    def read(self, n, timeout=10.0):
        """The next n propagated commands (PINGs skipped), command names lower-cased."""
        deadline = time.time() + timeout
        out = []
        while len(out) < n:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            cmd = self._command()
            cmd[0] = cmd[0].lower()
            if cmd[0] != "ping":
                out.append(cmd)
        return out

    def close(self):
        self.sock.close()


def stream_of(port, commands, n):
    """The first n commands propagated after SYNC while `commands` run on one client."""
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, single_connection_client=True)
    r.flushall()
    s = ReplStream(port)
    try:
        for c in commands:
            r.execute_command(*c)
        r.execute_command("SET", "end-marker", "1")  # anything not propagated shows up here
        return s.read(n)
    finally:
        s.close()
        r.close()


def aof_argvs(path):
    """Every command of a plain (preamble-less) AOF file, as lists of bytes."""
    data = open(path, "rb").read()
    out, i = [], 0
    while i < len(data):
        assert data[i:i + 1] == b"*", data[i:i + 40]
        j = data.index(b"\r\n", i)
        n, i = int(data[i + 1:j]), j + 2
        argv = []
        for _ in range(n):
            j = data.index(b"\r\n", i)
            ln, i = int(data[i + 1:j]), j + 2
            argv.append(data[i:i + ln])
            i += ln + 2
        out.append(argv)
    return out
