"""Shared helpers for resp_bench.py, memcached_bench.py and memory_per_item.py.

Starts ferrite-host, redis-server and memcached pinned to one core on free 127.0.0.1
ports, waits for them, and stops them again (by pid, never by name). Not a benchmark
itself; run_all.sh skips it.
"""
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER_CORE = 0
CLIENT_CORE = 1 if (os.cpu_count() or 1) > 1 else 0


def default_host():
    return os.environ.get("FERRITE_HOST") or os.path.join(ROOT, "build", "bench", "ferrite-host")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server on port %d exited with %s" % (port, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d did not open within %ds" % (port, timeout))


class Server:
    """One pinned server process. `port` is the RESP port (ferrite, redis) or the memcached
    port (memcached); `mc_port` is ferrite's memcached port."""

    def __init__(self, name, argv, port, mc_port=None, workdir=None):
        self.name, self.port, self.mc_port, self.workdir = name, port, mc_port, workdir
        self.proc = subprocess.Popen(["taskset", "-c", str(SERVER_CORE)] + argv,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     cwd=workdir)
        wait_port(port, self.proc)
        if mc_port:
            wait_port(mc_port, self.proc)

    @property
    def pid(self):
        return self.proc.pid

    def rss_bytes(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS for pid %d" % self.pid)

    def cpu_seconds(self):
        """User + system CPU time the server process (all threads) has used so far."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def start_ferrite(host_bin, memcached=True, extra=()):
    d = tempfile.mkdtemp(prefix="bench-ferrite-")
    port, mc_port = free_port(), free_port()
    argv = [host_bin, "--bind", "127.0.0.1", "--port", str(port), "--server.threads", "1",
            "--persistence.dir", d, "--persistence.save", ""]
    if memcached:
        argv += ["--compatibility.memcached_protocol", "true",
                 "--compatibility.memcached_port", str(mc_port)]
    return Server("ferrite", argv + list(extra), port, mc_port if memcached else None, d)


def start_redis():
    d = tempfile.mkdtemp(prefix="bench-redis-")
    port = free_port()
    argv = [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", d]
    return Server("redis", argv, port, workdir=d)


def start_memcached(memory_mb=1024):
    port = free_port()
    argv = [shutil.which("memcached"), "-l", "127.0.0.1", "-p", str(port), "-U", "0",
            "-t", "1", "-m", str(memory_mb), "-c", "4096"]
    if os.geteuid() == 0:
        argv += ["-u", "root"]  # memcached refuses to run as root without it
    return Server("memcached", argv, port)


@contextlib.contextmanager
def servers(*starters):
    started = []
    try:
        for s in starters:
            started.append(s())
        yield started
    finally:
        for s in started:
            s.stop()


def median(xs):
    return statistics.median(xs) if xs else 0.0


def load_note():
    with open("/proc/loadavg") as f:
        return "load average at start: " + " ".join(f.read().split()[:3])


def ratio(a, b):
    return a / b if b else 0.0
