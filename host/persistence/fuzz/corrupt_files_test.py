"""Out-of-process robustness of the loaders: ferrite-host started on corrupted snapshot
and AOF files (every committed seed, truncated at several offsets and with seeded random
byte flips) must either start and answer PING, or exit with an error status and a log
line naming the problem -- never die on a signal (a crash, an ASan/UBSan abort) and never
hang. Point FERRITE_HOST at a sanitizer build (the FERRITE_FUZZ build's ferrite-host) to
turn memory errors into failures.

  FERRITE_HOST=build/fuzz-persist/ferrite-host /usr/bin/python3 -m pytest -q \
      host/persistence/fuzz/corrupt_files_test.py
"""
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CORPUS = os.path.join(HERE, "corpus")
START_TIMEOUT = 20  # seconds for the host to either listen or exit


def host_binary():
    b = os.environ.get("FERRITE_HOST") or os.path.join(ROOT, "build", "release", "ferrite-host")
    if not os.path.exists(b):
        pytest.skip(f"no ferrite-host at {b}")
    return b


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seeds(kind):
    d = os.path.join(CORPUS, kind)
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.startswith("seed-"))


def variants(data, rng):
    """(name, bytes) corruptions of one file: truncations and byte flips."""
    n = len(data)
    for cut in sorted({9, n // 3, n // 2, n - 9, n - 1}):
        if 0 < cut < n:
            yield f"cut{cut}", data[:cut]
    for k in range(3):
        b = bytearray(data)
        for _ in range(1 + k):
            i = rng.randrange(9, n) if n > 9 else rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
        yield f"flip{k}", bytes(b)


def run_host(workdir, fname, data, extra):
    with open(os.path.join(workdir, fname), "wb") as f:
        f.write(data)
    port, mc_port = free_port(), free_port()
    cmd = [host_binary(), "--bind", "127.0.0.1", "--port", str(port),
           "--compatibility.memcached_port", str(mc_port), "--persistence.dir", workdir,
           "--persistence.save", "", "--server.threads", "1"] + extra
    log_path = os.path.join(workdir, "ferrite.log")
    with open(log_path, "wb") as log:
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
        deadline = time.time() + START_TIMEOUT
        listening = False
        while time.time() < deadline and p.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.settimeout(5)
                    s.sendall(b"PING\r\n")
                    listening = s.recv(64).startswith(b"+PONG")
                    break
            except OSError:
                time.sleep(0.05)
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                pytest.fail("ferrite-host ignored SIGTERM after loading a corrupt file")
            hung = not listening
        else:
            hung = False
    with open(log_path, "rb") as f:
        text = f.read().decode(errors="replace")
    return p.returncode, listening, hung, text


def check(kind, fname, extra):
    rng = random.Random(0xF0221)
    cases = 0
    for seed in seeds(kind):
        data = open(seed, "rb").read()
        for name, bad in variants(data, rng):
            cases += 1
            workdir = tempfile.mkdtemp(prefix="ferrite-corrupt-")
            try:
                rc, listening, hung, log = run_host(workdir, fname, bad, extra)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            what = f"{os.path.basename(seed)} {name}"
            assert not hung, f"{what}: neither listening nor exited in {START_TIMEOUT}s\n{log[-2000:]}"
            assert "Sanitizer" not in log and "runtime error" not in log, f"{what}:\n{log[-3000:]}"
            if listening:
                continue  # loaded (the damage hit a value the loader may accept) and served
            assert rc is not None and rc > 0, f"{what}: exit status {rc}\n{log[-2000:]}"
            assert ("RDB" in log or "append-only" in log or "AOF" in log), \
                f"{what}: exited {rc} without naming the file problem\n{log[-2000:]}"
    assert cases >= 20


def test_corrupt_snapshots_never_crash_the_host():
    check("rdb", "dump.rdb", [])


def test_corrupt_aofs_never_crash_the_host():
    check("aof", "appendonly.aof", ["--persistence.aof_enabled", "yes"])
