"""Signals an operator's tools send: SIGHUP (a closed terminal, logrotate's postrotate)
never ends the server, as with redis-server and memcached; it reopens logging.file."""
import os
import signal
import time


def _wait(pred, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_sighup_keeps_serving_and_reopens_the_log_file(server_factory, tmp_path):
    log = tmp_path / "ferrite.log"
    s = server_factory({"logging.file": str(log)})
    r = s.redis()
    r.set("k", "v")

    s.proc.send_signal(signal.SIGHUP)
    assert _wait(lambda: "reopened the log file" in log.read_text())
    assert s.proc.poll() is None
    assert r.get("k") == b"v"

    # logrotate: move the file away, then SIGHUP; the server writes to a new file at the
    # configured path and nothing more to the moved one.
    rotated = tmp_path / "ferrite.log.1"
    os.rename(log, rotated)
    s.proc.send_signal(signal.SIGHUP)
    assert _wait(lambda: log.exists() and "reopened the log file" in log.read_text())
    before = rotated.read_text()
    r.config_set("loglevel", "debug")
    r.config_set("loglevel", "notice")
    assert s.proc.poll() is None
    assert r.ping() is True
    assert r.get("k") == b"v"
    assert rotated.read_text() == before


def test_sighup_with_stderr_logging_is_harmless(server):
    r = server.redis()
    for n in range(1, 4):  # one at a time: signals sent together may be coalesced
        server.proc.send_signal(signal.SIGHUP)
        assert _wait(lambda: server.log_text().count("received SIGHUP") == n)
    assert server.proc.poll() is None
    assert r.ping() is True
