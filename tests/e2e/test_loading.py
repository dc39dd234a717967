"""Startup with data: the ports open at once, the dataset loads behind them.

Each test generates a dataset (a snapshot or an AOF of LOAD_KEYS keys written through
ferrite-host itself), then restarts the server on it with Redis' `key-load-delay` (a
sleep per key) so the load lasts a few seconds whatever the machine's speed, and
checks what clients, INFO and the log see meanwhile.
"""
import os
import re
import signal
import socket
import struct
import time

import pytest

from conftest import Server, wait_for

LOAD_KEYS = 30000
DELAY_US = 100  # per key: >= 3 s of loading
LOADING = b"-LOADING Redis is loading the dataset in memory\r\n"


def fill(server, n):
    r = server.redis()
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"key:{i:06d}", "v" * 100)
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    assert r.dbsize() == n


def exchange(sock, request, expect_end):
    sock.sendall(request)
    data = b""
    while not data.endswith(expect_end):
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    return data


def info_persistence(sock):
    reply = exchange(sock, b"INFO persistence\r\n", b"\r\n\r\n")
    return dict(line.split(":", 1) for line in reply.decode().split("\r\n")
                if ":" in line and not line.startswith("$"))


@pytest.fixture
def rdb_dataset():
    """A stopped server whose folder holds a snapshot of LOAD_KEYS keys."""
    s = Server({"persistence.save": "3600 1"}).start()
    fill(s, LOAD_KEYS)
    s.redis().save()
    assert s.stop() == 0
    return s


def slow_restart(s, extra=None):
    s.config.update({"persistence.key_load_delay": str(DELAY_US)})
    s.config.update(extra or {})
    return s.start(wait_load=False)


def test_resp_and_memcached_clients_while_the_snapshot_loads(rdb_dataset):
    s = slow_restart(rdb_dataset, {"compatibility.memcached_protocol": "true"})
    try:
        with s.sock() as sk, s.sock(s.mc_port) as mc:
            assert exchange(sk, b"GET key:000001\r\n", b"\r\n") == LOADING
            # Commands flagged `loading` still run.
            assert exchange(sk, b"CLIENT ID\r\n", b"\r\n").startswith(b":")
            assert exchange(mc, b"get key:000001\r\n", b"\r\n") == (
                b"SERVER_ERROR LOADING Redis is loading the dataset in memory\r\n")
            # Binary protocol: memcached's "temporary failure" status (0x86), same text.
            with s.sock(s.mc_port) as mcb:
                mcb.sendall(struct.pack(">BBHBBHIIQ", 0x80, 0x00, 2, 0, 0, 0, 2, 0, 0) + b"k1")
                reply = b""
                while len(reply) < 24 or len(reply) < 24 + struct.unpack(">I", reply[8:12])[0]:
                    chunk = mcb.recv(4096)
                    assert chunk
                    reply += chunk
                assert reply[0] == 0x81 and struct.unpack(">H", reply[6:8])[0] == 0x86
                assert reply[24:] == b"SERVER_ERROR LOADING Redis is loading the dataset in memory"
            info = info_persistence(sk)
            assert info["loading"] == "1"
            size = os.path.getsize(os.path.join(s.dir, "dump.rdb"))
            assert int(info["loading_total_bytes"]) == size
            assert 0 <= float(info["loading_loaded_perc"]) <= 100
            assert int(info["loading_eta_seconds"]) >= 0
            assert int(info["loading_start_time"]) > 0
            # Progress moves, and the load ends.
            wait_for(lambda: int(info_persistence(sk)["loading_loaded_bytes"]) > 0,
                     what="loading_loaded_bytes to grow")
            wait_for(lambda: info_persistence(sk)["loading"] == "0", timeout=60,
                     what="the load to end")
            assert "loading_total_bytes" not in info_persistence(sk)
            assert exchange(sk, b"DBSIZE\r\n", b"\r\n") == f":{LOAD_KEYS}\r\n".encode()
            assert exchange(mc, b"get key:000001\r\n", b"END\r\n").startswith(b"VALUE key:000001 ")
        log = open(s.log).read()
        assert re.search(r"loading the snapshot .*dump\.rdb \(\d+\.\d MB\)", log)
        assert re.search(r"loading the snapshot: \d+ keys, \d+\.\d MB of \d+\.\d MB "
                         r"\(\d+\.\d%\)", log), log[-3000:]
        assert re.search(rf"DB loaded from disk .*: {LOAD_KEYS} keys .* \d+ keys/s", log)
    finally:
        s.stop()


def test_multi_while_loading_is_refused_per_command(rdb_dataset):
    s = slow_restart(rdb_dataset)
    try:
        with s.sock() as sk:
            assert exchange(sk, b"SET k v\r\n", b"\r\n") == LOADING
            assert exchange(sk, b"DBSIZE\r\n", b"\r\n") == LOADING
    finally:
        s.stop()


def test_sigterm_during_load_exits_without_saving(rdb_dataset):
    path = os.path.join(rdb_dataset.dir, "dump.rdb")
    before = open(path, "rb").read()
    s = slow_restart(rdb_dataset)
    with s.sock() as sk:
        assert exchange(sk, b"GET x\r\n", b"\r\n") == LOADING
    t0 = time.time()
    s.proc.send_signal(signal.SIGTERM)
    s.proc.wait(30)
    assert s.proc.returncode == 0
    assert time.time() - t0 < 10  # not after loading everything (>= 3 s) and saving
    assert open(path, "rb").read() == before  # the partial keyspace was not saved
    log = open(s.log).read()
    assert "shutdown requested while loading the dataset: exiting without saving" in log
    s.stop()


def test_aof_load_reports_progress_and_refuses_commands(tmp_path):
    s = Server({"persistence.aof_enabled": "yes"}).start()
    fill(s, LOAD_KEYS)
    assert s.stop() == 0
    s = slow_restart(s)
    try:
        with s.sock() as sk:
            assert exchange(sk, b"GET key:000001\r\n", b"\r\n") == LOADING
            assert info_persistence(sk)["loading"] == "1"
            wait_for(lambda: info_persistence(sk)["loading"] == "0", timeout=60,
                     what="the AOF load to end")
            assert exchange(sk, b"DBSIZE\r\n", b"\r\n") == f":{LOAD_KEYS}\r\n".encode()
        log = open(s.log).read()
        assert re.search(r"loading the append only file .*\(\d+\.\d MB\)", log)
        assert re.search(r"loading the AOF: \d+ commands, \d+\.\d MB of", log), log[-3000:]
        # The AOF also holds the SELECT before the first write.
        assert re.search(r"DB loaded from append only file .*: 300\d\d commands.* keys/s", log)
    finally:
        s.stop()
