"""systemd integration: the notify protocol (Type=notify, WatchdogSec=) and the unit file.

The notify tests play the service manager: they bind a unix datagram socket, pass its
path to ferrite-host as $NOTIFY_SOCKET (and $WATCHDOG_USEC), and read what the server
sends, as systemd would. The unit tests run systemd-analyze on packaging/ferrite.service.
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

from conftest import ROOT, Server

UNIT = os.path.join(ROOT, "packaging", "ferrite.service")


class NotifyListener:
    """A unix datagram socket standing in for systemd's notify socket."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ferrite-notify-")
        self.path = os.path.join(self.dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []

    def read_until(self, pred, timeout=15.0):
        """Collects datagrams until pred(message) holds for one; returns it."""
        deadline = time.time() + timeout
        for m in self.messages:
            if pred(m):
                return m
        while time.time() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                m = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            self.messages.append(m)
            if pred(m):
                return m
        raise AssertionError(f"no matching notification in {timeout}s; got {self.messages}")

    def drain(self):
        """Forgets every datagram received so far (a previous server's)."""
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recv(4096)
        except BlockingIOError:
            pass
        self.sock.setblocking(True)
        self.messages.clear()

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def notify(monkeypatch):
    n = NotifyListener()
    monkeypatch.setenv("NOTIFY_SOCKET", n.path)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield n
    n.close()


def fields(message):
    return dict(line.split("=", 1) for line in message.split("\n") if "=" in line)


def test_ready_after_load_and_status_lines(notify):
    s = Server().start()
    try:
        ready = notify.read_until(lambda m: "READY=1" in m)
        assert fields(ready)["STATUS"] == "Ready to accept connections"
        before = notify.messages[:notify.messages.index(ready)]
        statuses = [fields(m).get("STATUS") for m in before]
        assert "Loading plugins" in statuses and "Loading the dataset" in statuses, statuses
        assert s.redis().ping()
    finally:
        s.proc.send_signal(signal.SIGTERM)
        stopping = notify.read_until(lambda m: "STOPPING=1" in m)
        assert fields(stopping)["STATUS"].startswith("Shutting down")
        assert s.proc.wait(15) == 0
        s.stop()


def test_final_save_is_reported_while_stopping(notify):
    s = Server({"persistence.save": "3600 1"}).start()
    s.redis().set("k", "v")
    s.proc.send_signal(signal.SIGTERM)
    notify.read_until(lambda m: fields(m).get("STATUS") == "Saving the final RDB snapshot")
    assert s.proc.wait(15) == 0
    s.stop()
    assert os.path.exists(os.path.join(s.dir, "dump.rdb"))


def test_watchdog_pings_at_half_the_interval(notify, monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "400000")  # 0.4 s: a ping every ~0.2 s
    s = Server().start()
    try:
        notify.read_until(lambda m: "READY=1" in m)
        t0 = time.time()
        for _ in range(3):
            notify.read_until(lambda m: m == "WATCHDOG=1" and time.time() > t0, timeout=10)
            notify.messages.clear()
        assert "watchdog every 400 ms" in open(s.log).read()
    finally:
        s.stop()


def test_watchdog_for_another_pid_is_ignored(notify, monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.setenv("WATCHDOG_PID", "1")
    s = Server().start()
    try:
        notify.read_until(lambda m: "READY=1" in m)
        with pytest.raises(AssertionError):
            notify.read_until(lambda m: m == "WATCHDOG=1", timeout=1.0)
    finally:
        s.stop()


def test_supervised_no_sends_nothing(notify):
    s = Server({"server.supervised": "no"}).start()
    try:
        assert s.redis().ping()
        with pytest.raises(AssertionError):
            notify.read_until(lambda m: True, timeout=0.5)
    finally:
        s.stop()


def test_abstract_notify_socket(monkeypatch):
    """$NOTIFY_SOCKET may name an abstract socket ("@name"), as systemd's own does."""
    name = f"ferrite-test-{os.getpid()}-{time.time_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sk:
        sk.bind("\0" + name)
        sk.settimeout(15)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        s = Server().start()
        try:
            deadline = time.time() + 15
            while time.time() < deadline:
                if "READY=1" in sk.recv(4096).decode():
                    break
            else:
                pytest.fail("no READY=1 on the abstract socket")
        finally:
            s.stop()


# ---------------------------------------------------------------------------------------
# The unit
# ---------------------------------------------------------------------------------------

def systemd_analyze():
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed: cannot check packaging/ferrite.service")
    return tool


def test_unit_security_exposure_at_most_2():
    out = subprocess.run([systemd_analyze(), "security", "--offline=true", "--no-pager", UNIT],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60).stdout.decode()
    m = re.search(r"Overall exposure level for ferrite\.service: (\d+\.\d+)", out)
    assert m, out
    assert float(m.group(1)) <= 2.0, out


def test_unit_verifies(tmp_path):
    """systemd-analyze verify checks the unit's syntax, dependencies and that its
    commands are executable: the copy checked names the built binary where the
    installed unit says /usr/bin/ferrite-host (nothing else differs)."""
    tool = systemd_analyze()
    binary = os.path.abspath(os.environ.get("FERRITE_HOST")
                             or os.path.join(ROOT, "build/release/ferrite-host"))
    text = open(UNIT).read()
    assert "ExecStart=/usr/bin/ferrite-host " in text
    unit = tmp_path / "ferrite.service"
    unit.write_text(text.replace("/usr/bin/ferrite-host", binary))
    p = subprocess.run([tool, "verify", "--man=no", str(unit)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode()
    assert p.returncode == 0, out
    assert "ferrite.service" not in out, out


def test_ready_only_after_the_dataset_is_loaded(notify):
    """With data to load, systemd hears READY=1 only once clients stop getting -LOADING,
    and a progress STATUS= line meanwhile."""
    s = Server({"persistence.save": "3600 1"}).start()
    r = s.redis()
    pipe = r.pipeline(transaction=False)
    for i in range(30000):
        pipe.set(f"k{i}", "v" * 50)
    pipe.execute()
    r.save()
    assert s.stop() == 0
    notify.drain()
    s.config["persistence.key_load_delay"] = "100"  # >= 3 s of loading
    s.start(wait_load=False)
    try:
        with s.sock() as sk:
            sk.sendall(b"GET k1\r\n")
            assert sk.recv(100).startswith(b"-LOADING")
        progress = notify.read_until(lambda m: "loading the snapshot:" in m)
        assert "READY=1" not in "".join(notify.messages)
        assert re.search(r"STATUS=loading the snapshot: \d+ keys, [\d.]+ MB of [\d.]+ MB", progress)
        notify.read_until(lambda m: "READY=1" in m, timeout=60)
        assert s.redis().get("k1") == b"v" * 50
    finally:
        s.stop()
