"""redis-sentinel processes for the failover tests: a generated sentinel.conf per
sentinel on a loopback port, monitoring one primary under the name "mymaster"."""
import os
import shutil
import subprocess
import tempfile

from conftest import free_port, wait_port

MASTER = "mymaster"


class Sentinel:
    def __init__(self, primary_port, quorum=2, down_after_ms=1000, failover_timeout_ms=6000,
                 extra_lines=()):
        exe = shutil.which("redis-sentinel")
        assert exe, "redis-sentinel is not installed"
        self.exe = exe
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="sentinel-")
        self.conf = os.path.join(self.dir, "sentinel.conf")
        self.log = os.path.join(self.dir, "sentinel.log")
        with open(self.conf, "w") as f:
            f.write(f"port {self.port}\nbind 127.0.0.1\ndir {self.dir}\nlogfile {self.log}\n"
                    f"sentinel monitor {MASTER} 127.0.0.1 {primary_port} {quorum}\n"
                    f"sentinel down-after-milliseconds {MASTER} {down_after_ms}\n"
                    f"sentinel failover-timeout {MASTER} {failover_timeout_ms}\n"
                    f"sentinel parallel-syncs {MASTER} 1\n")
            for line in extra_lines:  # e.g. sentinel auth-user / auth-pass
                f.write(line + "\n")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.exe, self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc)
        return self

    def redis(self):
        import redis
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def master_addr(self):
        return tuple(self.redis().execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER))

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
