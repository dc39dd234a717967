"""Helpers for the replication tests: a redis-server started with extra arguments (as a
replica of something), waiting for a link, and reading a whole dataset back so two
servers' data can be compared key by key (type, value, TTL presence)."""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from conftest import free_port, wait_port


class RedisProc:
    """A redis-server 7.0 process with its own folder and log."""

    def __init__(self, args=()):
        exe = shutil.which("redis-server")
        assert exe, "redis-server is not installed"
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="redis-repl-")
        self.log = os.path.join(self.dir, "redis.log")
        self.cmd = [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", self.dir, "--logfile", self.log,
                    "--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes", *args]
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)
        return self

    def redis(self, **kw):
        import redis
        kw.setdefault("socket_timeout", 10)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def info(r, section="replication"):
    """INFO as {field: text} (redis-py parses numbers and the slaveN lines: undone)."""
    out = {}
    for k, v in r.info(section).items():
        if isinstance(v, dict):
            out[k] = ",".join(f"{a}={b}" for a, b in v.items())
        else:
            out[k] = str(v)
    return out


class NotYet:
    """A falsy answer that says why (shown when wait_for times out)."""

    def __init__(self, *why):
        self.why = why

    def __bool__(self):
        return False

    def __repr__(self):
        return f"NotYet{self.why!r}"


def wait_for(pred, timeout=20.0, what="condition", step=0.05):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # a server restarting, a connection refused
            last = e
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def wait_link_up(replica, timeout=20.0):
    wait_for(lambda: info(replica).get("master_link_status") == "up", timeout, "master link up")


def wait_caught_up(primary, replica, timeout=20.0):
    """Until the replica processed everything the primary streamed so far."""
    def done():
        p = int(info(primary)["master_repl_offset"])
        r = int(info(replica).get("slave_repl_offset", -1))
        return r >= p or NotYet("primary", p, "replica", r)
    wait_for(done, timeout, "replica caught up")


def dump(r, db=0):
    """{key: (type, value, has_ttl)} for every key of db."""
    r.execute_command("SELECT", db)
    out = {}
    for k in r.execute_command("KEYS", "*"):
        t = r.execute_command("TYPE", k).decode()
        if t == "string":
            v = r.execute_command("GET", k)
        elif t == "list":
            v = tuple(r.execute_command("LRANGE", k, 0, -1))
        elif t == "hash":
            flat = r.execute_command("HGETALL", k)
            v = tuple(sorted(flat.items())) if isinstance(flat, dict) else tuple(
                sorted(zip(flat[::2], flat[1::2])))
        elif t == "set":
            v = tuple(sorted(r.execute_command("SMEMBERS", k)))
        elif t == "zset":
            v = tuple(r.execute_command("ZRANGE", k, 0, -1, "WITHSCORES"))
        else:
            v = None
        ttl = r.execute_command("PTTL", k)
        out[k] = (t, v, ttl > 0)
    r.execute_command("SELECT", 0)
    return out


def fake_primary(after_psync):
    """A listening socket that plays a primary for one replica: +OK to each handshake
    command, then `after_psync` (a +FULLRESYNC line and what follows) once PSYNC came.
    Close it when done."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(20)

    def serve():
        try:
            c, _ = srv.accept()
        except OSError:
            return
        c.settimeout(5)
        buf = b""
        try:
            while b"PSYNC" not in buf:  # the replica sends one command per reply it reads
                chunk = c.recv(1000)
                if not chunk:
                    return
                buf += chunk
                if b"PSYNC" not in chunk:
                    c.sendall(b"+OK\r\n")
            c.sendall(after_psync)
            c.recv(1000)
        except OSError:
            pass
        finally:
            c.close()
    threading.Thread(target=serve, daemon=True).start()
    return srv
