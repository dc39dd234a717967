"""Fixtures for black-box tests: a real ferrite-host on a free loopback port.

    def test_x(server):                 # a fresh ferrite-host with default config
        r = server.redis()              # python3-redis client (RESP2); server.redis(protocol=3)
        ...

    def test_y(server_factory):         # custom config: TOML address -> value
        s = server_factory({"compatibility.memcached_protocol": "true"})
        s.mc_port                       # the memcached port (free port chosen for you)

    def test_z(redis_server):           # the real redis-server 7.0, for side-by-side checks
    def test_w(memcached_server):       # the real memcached 1.6

Servers bind 127.0.0.1 only, run in a temporary directory (persistence.dir) and are
killed at the end of the test.  The binary is $FERRITE_HOST or build/release/ferrite-host.

Tests marked `@pytest.mark.long` (long random trials) run only with FERRITE_LONG=1
(`make test-long`), so `make test` stays short.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

def pytest_configure(config):
    config.addinivalue_line("markers", "long: long trial, run by `make test-long` only")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("FERRITE_LONG") == "1":
        return
    skip = pytest.mark.skip(reason="long trial: FERRITE_LONG=1 (make test-long) runs it")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def host_binary():
    b = os.environ.get("FERRITE_HOST") or os.path.join(ROOT, "build", "release", "ferrite-host")
    if not os.path.exists(b):
        raise RuntimeError(f"ferrite-host not built: {b}")
    return b


_handed_out = set()


def free_port():
    """A free loopback port not handed out before in this test run: two calls in a row
    (a server's RESP and memcached ports) can otherwise get the same port back from the
    kernel, and the second listener then fails with EADDRINUSE."""
    for _ in range(1000):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no fresh free loopback port")


def _fail_if_exited(proc, log):
    if proc is not None and proc.poll() is not None:
        msg = open(log).read() if log and os.path.exists(log) else ""
        raise RuntimeError(f"server exited with {proc.returncode}:\n{msg}")


def wait_for(pred, timeout=10.0, what="condition"):
    """Polls pred() until it is true; AssertionError naming `what` after `timeout` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def wait_port(port, proc, timeout=15.0, log=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        _fail_if_exited(proc, log)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"port {port} did not open in {timeout}s")


def wait_loaded(port, proc, timeout=120.0, log=None, password=None):
    """The port opens before the dataset is loaded (meanwhile clients get -LOADING, as
    from Redis): waits until INFO persistence says loading:0. Raises RuntimeError with
    the log if the server exits first (a file that cannot be loaded). With requirepass,
    INFO needs AUTH (before it every command answers -NOAUTH, loading or not)."""
    auth = b""
    if password:
        pw = str(password).encode()
        auth = b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(pw), pw)
    deadline = time.time() + timeout
    while time.time() < deadline:
        _fail_if_exited(proc, log)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(auth + b"INFO persistence\r\n")
                data = b""
                while True:  # one whole reply: an error line or a bulk string
                    if auth and data.startswith(b"+OK\r\n"):
                        data, auth = data[5:], b""  # AUTH's reply, then INFO's
                    m = re.match(rb"\$(\d+)\r\n", data)
                    if (m and len(data) >= m.end() + int(m.group(1)) + 2) or \
                            re.match(rb"-[^\r]*\r\n", data):
                        break
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            if b"\nloading:0\r\n" in data or (not password and data.startswith(b"-NOAUTH")):
                return  # (a password given on the command line only: cannot wait)
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"the server on port {port} was still loading after {timeout}s")


class Server:
    """A ferrite-host process. config: {"section.key": "value"} passed as --section.key."""

    def __init__(self, config=None, args=None, workdir=None):
        self.config = dict(config or {})
        self.args = list(args or [])
        self.dir = workdir or tempfile.mkdtemp(prefix="ferrite-e2e-")
        self.port = int(self.config.pop("server.port", 0)) or free_port()
        self.mc_port = int(self.config.pop("compatibility.memcached_port", 0)) or free_port()
        self.proc = None
        self.log = os.path.join(self.dir, "ferrite.log")

    def command_line(self):
        cmd = [host_binary(), "--bind", "127.0.0.1", "--port", str(self.port),
               "--compatibility.memcached_port", str(self.mc_port),
               "--persistence.dir", self.dir]
        cfg = {"server.threads": "2", "persistence.save": ""}
        cfg.update(self.config)
        for k, v in cfg.items():
            cmd += [f"--{k}", str(v)]
        return cmd + self.args

    def start(self, wait_load=True):
        """Starts the server; returns once it serves, after its startup load unless
        wait_load is False (tests of the loading state)."""
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.command_line(), stdout=self.logf, stderr=subprocess.STDOUT,
                                     cwd=self.dir)
        wait_port(self.port, self.proc, log=self.log)
        if str(self.config.get("compatibility.memcached_protocol", "false")).lower() == "true":
            mc_path = self.config.get("compatibility.memcached_unixsocket")
            if mc_path:  # replaces the memcached TCP port, as memcached -s
                wait_for(lambda: os.path.exists(mc_path), timeout=15.0,
                         what=f"memcached unix socket {mc_path}")
            else:
                wait_port(self.mc_port, self.proc, log=self.log)
        if wait_load:
            wait_loaded(self.port, self.proc, log=self.log, password=self.config.get("security.requirepass"))
        return self

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logf.close()
            self.keep_sanitizer_report()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def keep_sanitizer_report(self):
        """GCC's UBSan, linked with ASan, writes to stderr whatever log_path says, and a
        server's stderr is this log, deleted with the test's folder: `make asan` sets
        FERRITE_SANITIZER_LOGS so such a report is copied where check_logs.sh looks."""
        out_dir = os.environ.get("FERRITE_SANITIZER_LOGS")
        if not out_dir:
            return
        text = self.log_text()
        if "runtime error:" in text or "Sanitizer" in text:
            name = f"server-{self.port}-{self.proc.pid}.log"
            with open(os.path.join(out_dir, name), "w") as f:
                f.write(text)

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    def redis(self, **kw):
        import redis
        kw.setdefault("socket_timeout", 10)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def sock(self, port=None):
        s = socket.create_connection(("127.0.0.1", port or self.port), timeout=10)
        return s

    def log_text(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")


@pytest.fixture
def server_factory():
    started = []

    def make(config=None, args=None, workdir=None, start=True):
        s = Server(config, args, workdir)
        started.append(s)
        return s.start() if start else s

    yield make
    for s in started:
        s.stop()
        shutil.rmtree(s.dir, ignore_errors=True)


@pytest.fixture
def redis_nodes():
    """redis-server processes a test started (repl_util.RedisProc): cleaned up after it."""
    made = []
    yield made
    for n in made:
        n.cleanup()


@pytest.fixture
def server(server_factory):
    return server_factory()


@pytest.fixture
def mc_server(server_factory):
    """ferrite-host with the memcached port on."""
    return server_factory({"compatibility.memcached_protocol": "true"})


class Peer:
    def __init__(self, proc, port, workdir):
        self.proc, self.port, self.dir = proc, port, workdir

    def redis(self, **kw):
        import redis
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10, **kw)

    def sock(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


@pytest.fixture
def redis_server():
    """The real redis-server 7.0 from Debian, for side-by-side comparisons."""
    exe = shutil.which("redis-server")
    if not exe:
        pytest.fail("redis-server is not installed (packaging/install-deps.sh installs it)")
    port = free_port()
    d = tempfile.mkdtemp(prefix="redis-peer-")
    p = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", d], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_port(port, p)
    yield Peer(p, port, d)
    p.terminate()
    p.wait(10)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def memcached_server():
    """The real memcached 1.6 from Debian."""
    exe = shutil.which("memcached")
    if not exe:
        pytest.fail("memcached is not installed (packaging/install-deps.sh installs it)")
    port = free_port()
    p = subprocess.Popen([exe, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-t", "1", "-u", "root"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, p)
    yield Peer(p, port, None)
    p.terminate()
    p.wait(10)


def exchange_until_quiet(port, data, settle=0.3, limit=5.0):
    """Sends `data` on a fresh connection and returns every byte until the server goes
    quiet for `settle` seconds (or closes: b"<CLOSED>" is appended). For memcached
    transcripts compared side by side with the real memcached."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    out = b""
    deadline = time.time() + limit
    s.settimeout(settle)
    while time.time() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            out += b"<CLOSED>"
            break
        out += chunk
    s.close()
    return out


def transcript(sock, send, expect, timeout=5.0):
    """Sends bytes and asserts the exact bytes that come back (reads until len(expect))."""
    if send:
        sock.sendall(send)
    sock.settimeout(timeout)
    got = b""
    while len(got) < len(expect):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    assert got == expect, f"sent {send!r}\nexpected {expect!r}\ngot      {got!r}"
    return got
