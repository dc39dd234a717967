"""Declared lengths on the memcached port are judged before any body is read, as
memcached 1.6 does, so a header or command line claiming gigabytes never makes the
server buffer them. Side by side with the real memcached 1.6.18."""
import struct

import pytest

from conftest import exchange_until_quiet

NOOP_OPAQUE = 0x55667788


def hdr(op, keylen=0, extlen=0, bodylen=0, opaque=0x11223344):
    return struct.pack(">BBHBBHIIQ", 0x80, op, keylen, extlen, 0, 0, bodylen, opaque, 0)


NOOP = hdr(0x0A, opaque=NOOP_OPAQUE)
NOOP_REPLY = struct.pack(">BBHBBHIIQ", 0x81, 0x0A, 0, 0, 0, 0, 0, NOOP_OPAQUE, 0)

# Requests whose header declares a body their opcode cannot have: memcached answers
# "Invalid arguments" at once and closes, never waiting for the body.
BAD_SHAPES = {
    "get_4gb": hdr(0x00, keylen=1, bodylen=0xFFFFFFFF) + b"k",
    "get_body_beyond_key": hdr(0x00, keylen=1, bodylen=100) + b"k" + b"x" * 20,
    "set_without_extras_4gb": hdr(0x01, keylen=1, bodylen=0xFFFFFFFF) + b"k",
    "incr_4gb": hdr(0x05, keylen=1, extlen=20, bodylen=0xFFFFFFFF) + b"\0" * 20 + b"k",
    "noop_4gb": hdr(0x0A, bodylen=0xFFFFFFFF),
    "version_4gb": hdr(0x0B, bodylen=0xFFFFFFFF),
    "flush_4gb": hdr(0x08, extlen=4, bodylen=0xFFFFFFFF) + b"\0" * 4,
    "quit_4gb": hdr(0x07, bodylen=0xFFFFFFFF),
    "delete_4gb": hdr(0x04, keylen=1, bodylen=0xFFFFFFFF) + b"k",
}


@pytest.fixture
def mc_1mb(server_factory):
    # memcached's default item size, so "too large" falls at the same length on both.
    return server_factory({"compatibility.memcached_protocol": "true",
                           "compatibility.item_size_max": "1mb"})


@pytest.mark.parametrize("name", sorted(BAD_SHAPES))
def test_binary_bad_shape_is_refused_at_header_time(name, mc_1mb, memcached_server):
    data = BAD_SHAPES[name] + NOOP
    ours = exchange_until_quiet(mc_1mb.mc_port, data)
    theirs = exchange_until_quiet(memcached_server.port, data)
    assert ours == theirs
    assert theirs.endswith(b"Invalid arguments<CLOSED>")


def test_binary_stat_and_touch_read_only_key_and_extras(mc_1mb, memcached_server):
    # memcached reads extras and key of a STAT/TOUCH, not the body its header declares:
    # the bytes after them are the next request (here a NOOP).
    touch = hdr(0x1C, keylen=1, extlen=4, bodylen=0xFFFFFFFF) + b"\0" * 4 + b"k"
    ours = exchange_until_quiet(mc_1mb.mc_port, touch + NOOP)
    theirs = exchange_until_quiet(memcached_server.port, touch + NOOP)
    assert ours == theirs
    assert theirs.endswith(NOOP_REPLY)
    stat = hdr(0x10, bodylen=0xFFFFFFFF)
    assert exchange_until_quiet(mc_1mb.mc_port, stat + NOOP).endswith(NOOP_REPLY)
    assert exchange_until_quiet(memcached_server.port, stat + NOOP).endswith(NOOP_REPLY)


def test_binary_too_large_value_is_swallowed_not_buffered(mc_1mb, memcached_server):
    vlen = 2 * 1024 * 1024
    head = hdr(0x01, keylen=1, extlen=8, bodylen=9 + vlen) + b"\0" * 8 + b"k"
    data = head + b"x" * vlen + NOOP
    ours = exchange_until_quiet(mc_1mb.mc_port, data)
    theirs = exchange_until_quiet(memcached_server.port, data)
    assert ours == theirs
    assert b"Too large." in theirs and theirs.endswith(NOOP_REPLY)


def _rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_huge_declared_lengths_do_not_grow_memory(mc_1mb):
    import socket
    before = _rss_kb(mc_1mb.proc.pid)
    socks = []
    for head in (hdr(0x00, keylen=1, bodylen=0xFFFFFFF0) + b"k",
                 hdr(0x01, keylen=1, extlen=8, bodylen=0xFFFFFFF0) + b"\0" * 8 + b"k",
                 b"set k 0 0 2000000000\r\n"):
        s = socket.create_connection(("127.0.0.1", mc_1mb.mc_port), timeout=10)
        try:
            s.sendall(head + b"y" * (32 << 20))  # 32 MB of the declared body, then silence
        except OSError:
            pass  # the GET is refused and closed at its header, as memcached does
        socks.append(s)
    v = socket.create_connection(("127.0.0.1", mc_1mb.mc_port), timeout=10)
    v.sendall(b"version\r\n")
    assert v.recv(100).startswith(b"VERSION ")
    assert _rss_kb(mc_1mb.proc.pid) - before < 16 * 1024  # none of the 32 MB bodies kept
    for s in socks + [v]:
        s.close()


TEXT_CASES = [
    b"set k 0 0 2000000\r\n" + b"x" * 2000000 + b"\r\nversion\r\n",
    b"add k 0 0 1048577\r\n" + b"x" * 1048577 + b"\r\nversion\r\n",
    b"set k 0 0 2147483648\r\nversion\r\n",
    b"set k 0 0 -1\r\nversion\r\n",
]


@pytest.mark.parametrize("i", range(len(TEXT_CASES)))
def test_text_storage_length_checked_before_the_data(i, mc_1mb, memcached_server):
    data = TEXT_CASES[i]
    ours = exchange_until_quiet(mc_1mb.mc_port, data)
    theirs = exchange_until_quiet(memcached_server.port, data)
    assert ours == theirs
