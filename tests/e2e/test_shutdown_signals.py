"""SIGTERM / SIGINT always end ferrite-host in bounded time: during a busy script,
during the startup load, during a long command; a second signal exits at once."""
import os
import signal
import socket
import subprocess
import time

from conftest import Server, free_port


def _cmd(*args):
    args = [a.encode() if isinstance(a, str) else a for a in args]
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def _wait_exit(proc, seconds):
    try:
        return proc.wait(seconds)
    except subprocess.TimeoutExpired:
        return None


def _busy(port, body):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(_cmd("EVAL", body, "0"))
    deadline = time.time() + 10
    while time.time() < deadline:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
            c.sendall(_cmd("PING"))
            if c.recv(100).startswith(b"-BUSY"):
                return s
        time.sleep(0.02)
    raise AssertionError("the script never turned busy")


def test_sigterm_stops_an_unkillable_script_without_saving_its_half(server_factory):
    """The script wrote, then spins: SIGTERM stops it, and neither the final RDB save nor
    the AOF keeps the half-done script (Redis never propagates an unfinished script)."""
    s = server_factory({"server.threads": "2", "persistence.save": "3600 1",
                        "persistence.aof_enabled": "true"})
    r = s.redis()
    r.config_set("lua-time-limit", 100)
    r.set("before", "1")
    _busy(s.port, "redis.call('set','half','1') while true do end")
    t0 = time.time()
    s.proc.send_signal(signal.SIGTERM)
    assert _wait_exit(s.proc, 10) == 0
    assert time.time() - t0 < 10
    assert "not saving the final RDB snapshot" in s.log_text()
    assert not os.path.exists(os.path.join(s.dir, "dump.rdb"))
    s.proc = None
    s.start()
    r = s.redis()
    assert r.get("before") == b"1" and r.get("half") is None


def test_sigterm_stops_a_killable_script_and_saves(server_factory):
    s = server_factory({"server.threads": "2", "persistence.save": "3600 1"})
    r = s.redis()
    r.config_set("lua-time-limit", 100)
    r.set("before", "1")
    _busy(s.port, "while true do end")
    s.proc.send_signal(signal.SIGTERM)
    assert _wait_exit(s.proc, 10) == 0
    assert os.path.exists(os.path.join(s.dir, "dump.rdb"))


def test_second_sigterm_ends_a_long_command_at_once(server_factory):
    s = server_factory({"server.threads": "2"})
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    c.sendall(_cmd("DEBUG", "SLEEP", "60"))
    time.sleep(0.3)
    s.proc.send_signal(signal.SIGTERM)
    assert _wait_exit(s.proc, 1) is None  # the first waits for the command
    t0 = time.time()
    s.proc.send_signal(signal.SIGTERM)
    assert _wait_exit(s.proc, 5) == 1
    assert time.time() - t0 < 5
    assert "received SIGTERM during shutdown: exiting now" in s.log_text()


def test_sigint_twice_during_a_script_stuck_in_c_exits(server_factory):
    """A pattern match that backtracks for ever runs no Lua instruction, so the hook that
    stops scripts never fires (Redis cannot stop it either); the second signal does."""
    s = server_factory({"server.threads": "2"})
    s.redis().config_set("lua-time-limit", 100)
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    c.sendall(_cmd("EVAL", "return string.find(string.rep('a', 60) .. 'b', "
                   "string.rep('a?', 60) .. string.rep('a', 60))", "0"))
    time.sleep(0.5)
    s.proc.send_signal(signal.SIGINT)
    assert _wait_exit(s.proc, 1) is None
    s.proc.send_signal(signal.SIGINT)
    assert _wait_exit(s.proc, 5) == 1


def test_sigterm_during_the_startup_load_exits_at_once(tmp_path):
    """Redis: "Received shutdown signal during loading", exit 0 without saving. (The ports
    are open during the load: Server runs, and the loader stops at the shutdown.)"""
    d = str(tmp_path)
    with open(os.path.join(d, "appendonly.aof"), "wb") as f:
        chunk = b"".join(_cmd("SET", "key:%d" % i, "v" * 16) for i in range(100000))
        for _ in range(10):
            f.write(chunk)
    srv = Server({"persistence.aof_enabled": "true", "server.threads": "2"}, workdir=d)
    srv.logf = open(srv.log, "ab")
    srv.proc = subprocess.Popen(srv.command_line(), stdout=srv.logf, stderr=subprocess.STDOUT,
                                cwd=d)
    deadline = time.time() + 30
    while "loading the append only file" not in srv.log_text() and time.time() < deadline:
        time.sleep(0.01)
    srv.proc.send_signal(signal.SIGTERM)
    rc = _wait_exit(srv.proc, 10)
    srv.logf.close()
    log = srv.log_text()
    assert "ready to accept connections" not in log, "the load finished first: grow the AOF"
    assert rc == 0, log
    assert "received SIGTERM, shutting down" in log
    assert "exiting without saving" in log
