"""Shared by test_sets.py, test_zsets.py and test_lists.py: what OBJECT ENCODING a key
has after DEBUG RELOAD (snapshot save + load) under changed size thresholds, on
ferrite-host and on a real redis-server 7.0 started with DEBUG enabled."""
import contextlib
import shutil
import subprocess
import tempfile

import redis

from conftest import free_port, wait_port


@contextlib.contextmanager
def debug_redis():
    """redis-server 7.0 on a free loopback port, with DEBUG RELOAD allowed."""
    d = tempfile.mkdtemp(prefix="redis-debug-peer-")
    port = free_port()
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no", "--dir", d,
                          "--enable-debug-command", "yes"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, p)
        yield redis.Redis(port=port, socket_timeout=10, decode_responses=True)
    finally:
        p.terminate()
        p.wait(10)
        shutil.rmtree(d, ignore_errors=True)


def encodings(r, fill, steps, keys):
    """Runs `fill` (a list of commands), then for each (config, value) step: CONFIG SET,
    DEBUG RELOAD, and records OBJECT ENCODING of every key. Returns the list of
    per-step encoding tuples."""
    r.flushall()
    for cmd in fill:
        r.execute_command(*cmd)
    out = []
    for name, value in steps:
        assert r.config_set(name, value)
        assert r.execute_command("DEBUG", "RELOAD") in ("OK", b"OK", True)
        out.append(tuple(r.object("encoding", k) for k in keys))
    return out
