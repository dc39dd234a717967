"""What a replica asks of its full sync, side by side with redis-server 7.0 over raw
sockets: the payload's form (the "$EOF:<40 bytes>" mark for any replica with `capa eof`
while repl-diskless-sync is on, SYNC included, with no +FULLRESYNC line for SYNC),
`REPLCONF rdb-only 1` (the RDB, then the connection closes), `REPLCONF rdb-filter-only`
(only the parts named: "functions", or nothing), their errors, and redis-cli --rdb /
--functions-rdb files, which must match redis-server's."""
import os
import shutil
import socket
import subprocess

import pytest

from repl_util import RedisProc, info
from resp_compare import encode


def rdb_records(rdb):
    """The RDB after its AUX fields: (function records' raw bytes, whether any other
    record (a db) follows, the bytes from the first record to the end)."""
    assert rdb[:5] == b"REDIS", rdb[:20]
    i = 9

    def length():
        nonlocal i
        b = rdb[i]
        i += 1
        kind = b >> 6
        if kind == 0:
            return b & 0x3F, False
        if kind == 1:
            i += 1
            return ((b & 0x3F) << 8) | rdb[i - 1], False
        if kind == 3:
            return b & 0x3F, True
        n = 4 if b == 0x80 else 8
        i += n
        return int.from_bytes(rdb[i - n:i], "big"), False

    def skip_string():
        nonlocal i
        n, special = length()
        if not special:
            i += n
        elif n in (0, 1, 2):
            i += 1 << n
        else:  # LZF
            clen, _ = length()
            length()
            i += clen

    while rdb[i] == 0xFA:
        i += 1
        skip_string()
        skip_string()
    body_start = i
    functions = []
    while rdb[i] == 0xF5:
        start = i
        i += 1
        skip_string()
        functions.append(rdb[start:i])
    return functions, rdb[i] != 0xFF, rdb[body_start:]


class ReplicaSocket:
    """A raw connection playing a replica: REPLCONF pairs, then SYNC or PSYNC."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.sock.makefile("rb")

    def command(self, *args):
        self.sock.sendall(encode(args))
        return self.f.readline().rstrip(b"\r\n")

    def sync(self, *args):
        """Sends SYNC / PSYNC; returns (+FULLRESYNC seen, form, payload) where form is
        "eof" or "len" (or the error line)."""
        self.sock.sendall(encode(args))
        fullresync = False
        line = self.f.readline()
        while line in (b"\n", b"\r\n"):  # keep-alive newlines while the RDB is written
            line = self.f.readline()
        if line.startswith(b"+FULLRESYNC"):
            fullresync = True
            line = self.f.readline()
            while line in (b"\n", b"\r\n"):
                line = self.f.readline()
        line = line.rstrip(b"\r\n")
        if line.startswith(b"$EOF:"):
            mark = line[5:]
            assert len(mark) == 40, line
            data = b""
            while not data.endswith(mark):
                chunk = self.f.read1(65536)
                assert chunk, "closed before the EOF mark"
                data += chunk
            return fullresync, "eof", data[:-40]
        if line.startswith(b"$"):
            return fullresync, "len", self.f.read(int(line[1:]))
        return fullresync, line.decode(), b""

    def closed_soon(self, timeout=3.0):
        """True when the server closes the connection within `timeout`."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.f.read1(4096)
                if not chunk:
                    return True
                if chunk.strip(b"\r\n") not in (b"", b"*1\r\n$4\r\nPING"):
                    return f"unexpected bytes {chunk[:60]!r}"
        except (socket.timeout, TimeoutError):
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def lib(name):
    return (f"#!lua name={name}\nredis.register_function{{function_name='{name}', "
            f"callback=function() return '{name}' end, flags={{'no-writes'}}}}")


def fill(r):
    r.flushall()
    r.execute_command("FUNCTION", "FLUSH")
    r.execute_command("FUNCTION", "LOAD", lib("short"))
    r.execute_command("FUNCTION", "LOAD", lib("long" + "x" * 200))
    r.set("k", "v")
    r.rpush("l", *range(10))


SCENARIOS = {
    # name: (repl-diskless-sync, REPLCONF pairs, sync command, check close)
    "sync_plain": ("yes", [], ("SYNC",), False),
    "sync_capa_eof_diskless": ("yes", [("capa", "eof")], ("SYNC",), False),
    "sync_capa_eof_disk": ("no", [("capa", "eof")], ("SYNC",), False),
    "psync_capa_eof_diskless": ("yes", [("capa", "eof"), ("capa", "psync2")],
                                ("PSYNC", "?", "-1"), False),
    "psync_no_capa_diskless": ("yes", [], ("PSYNC", "?", "-1"), False),
    "rdb_only_diskless": ("yes", [("capa", "eof"), ("rdb-only", "1")], ("SYNC",), True),
    "rdb_only_disk": ("no", [("capa", "eof"), ("rdb-only", "1")], ("SYNC",), True),
    "rdb_only_off": ("yes", [("capa", "eof"), ("rdb-only", "1"), ("rdb-only", "0")],
                     ("SYNC",), False),
    "filter_functions_disk": ("no", [("capa", "eof"), ("rdb-filter-only", "functions")],
                              ("SYNC",), False),
    "filter_functions_rdb_only": ("yes", [("capa", "eof"), ("rdb-only", "1"),
                                          ("rdb-filter-only", "functions")], ("SYNC",), True),
    "filter_nothing": ("yes", [("capa", "eof"), ("rdb-filter-only", "")], ("SYNC",), False),
    "filter_without_eof": ("yes", [("rdb-filter-only", "functions")], ("SYNC",), False),
    "bad_options": ("yes", [("rdb-filter-only", "functions keys"), ("rdb-filter-only", "\"x"),
                            ("rdb-only", "2"), ("rdb-only", "x"), ("rdb-only", "-1")],
                    ("SYNC",), False),
}


def run(port, name):
    diskless, pairs, sync, check_close = SCENARIOS[name]
    import redis
    r = redis.Redis(port=port, socket_timeout=10)
    r.config_set("repl-diskless-sync", diskless)
    fill(r)
    rs = ReplicaSocket(port)
    try:
        replies = [rs.command("REPLCONF", k, v) for k, v in pairs]
        fullresync, form, payload = rs.sync(*sync)
        out = {"replies": replies, "fullresync": fullresync, "form": form}
        if payload:
            functions, has_keys, _ = rdb_records(payload)
            out["functions"] = len(functions)
            out["keys"] = has_keys
        if check_close:
            out["closed"] = rs.closed_soon()
        return out
    finally:
        rs.close()


@pytest.fixture(scope="module")
def peers(tmp_path_factory):
    """One Ferrite and one redis-server for every scenario (each starts from FLUSHALL)."""
    from conftest import Server
    f = Server({"replication.repl_diskless_sync_delay": "0"}).start()
    red = RedisProc().start()
    yield f, red
    f.stop()
    shutil.rmtree(f.dir, ignore_errors=True)
    red.cleanup()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_sync_requests_match_redis(peers, name):
    f, red = peers
    want = run(red.port, name)
    got = run(f.port, name)
    assert got == want


def test_rdb_only_replica_is_not_fed_the_stream(peers):
    """An rdb-only replica never turns online (Redis' RDB_TRANSMITTED): not in ROLE, and
    it leaves the replica list once its payload is sent."""
    f, _ = peers
    import redis
    r = redis.Redis(port=f.port, socket_timeout=10)
    r.config_set("repl-diskless-sync", "yes")
    rs = ReplicaSocket(f.port)
    rs.command("REPLCONF", "capa", "eof")
    rs.command("REPLCONF", "rdb-only", "1")
    rs.sync("SYNC")
    assert rs.closed_soon() is True
    rs.close()
    assert r.execute_command("ROLE")[2] == []
    assert info(r)["connected_slaves"] == "0"


def redis_cli(port, mode, path):
    cli = shutil.which("redis-cli")
    p = subprocess.run([cli, "-p", str(port), mode, str(path)], capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert b"Transfer finished with success" in p.stdout + p.stderr
    with open(path, "rb") as fh:
        return fh.read()


def loaded(server_factory, data):
    """A fresh Ferrite started on `data` as its dump.rdb: (libraries, digest, dbsize)."""
    s = server_factory(start=False)
    with open(os.path.join(s.dir, "dump.rdb"), "wb") as fh:
        fh.write(data)
    s.start()
    r = s.redis()
    libs = sorted(dict(zip(l[::2], l[1::2]))[b"library_name"] if isinstance(l, list)
                  else l[b"library_name"] for l in r.execute_command("FUNCTION", "LIST"))
    out = (libs, r.execute_command("DEBUG", "DIGEST"), r.dbsize())
    s.stop()
    return out


@pytest.mark.parametrize("diskless", ["yes", "no"])
def test_redis_cli_functions_rdb_and_rdb_match_redis(peers, server_factory, tmp_path, diskless):
    f, red = peers
    files = {}
    for name, port in (("ferrite", f.port), ("redis", red.port)):
        import redis
        r = redis.Redis(port=port, socket_timeout=10)
        r.config_set("repl-diskless-sync", diskless)
        fill(r)
        files[name] = (redis_cli(port, "--functions-rdb", tmp_path / f"{name}-functions.rdb"),
                       redis_cli(port, "--rdb", tmp_path / f"{name}.rdb"))
    (ff, fr), (rf, rr) = files["ferrite"], files["redis"]
    # The functions-only files: the same records, byte for byte (the library order is
    # each server's own), nothing else; only their AUX fields differ.
    f_funcs, f_keys, f_body = rdb_records(ff)
    r_funcs, r_keys, r_body = rdb_records(rf)
    assert sorted(f_funcs) == sorted(r_funcs) and len(f_funcs) == 2
    assert not f_keys and not r_keys
    assert len(f_body) == len(r_body)
    assert loaded(server_factory, ff) == loaded(server_factory, rf)
    libs, _, dbsize = loaded(server_factory, ff)
    assert len(libs) == 2 and dbsize == 0
    # The whole-dataset files load to the same libraries and keys.
    assert loaded(server_factory, fr) == loaded(server_factory, rr)
    assert loaded(server_factory, fr)[2] == 2
