"""Run inside a private mount namespace (unshare -m) by test_service_files: puts a fresh
/dev (tmpfs with /dev/null) over the real one, binds /dev/log as syslog's socket, runs
ferrite-host with syslog on, and prints the datagrams up to "ready to accept
connections", one per line, so the test sees exactly what syslog would receive.

    unshare -m --propagation private python3 syslog_probe.py <ferrite-host> <port> <dir>
"""
import os
import socket
import subprocess
import sys

host, port, workdir = sys.argv[1:4]
fakedev = os.path.join(workdir, "dev")
os.makedirs(fakedev, exist_ok=True)
subprocess.run(["mount", "-t", "tmpfs", "none", fakedev], check=True)
os.mknod(os.path.join(fakedev, "null"), 0o666 | 0o020000, os.makedev(1, 3))
subprocess.run(["mount", "--bind", fakedev, "/dev"], check=True)
log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
log.bind("/dev/log")
log.settimeout(20)
proc = subprocess.Popen([host, "--port", port, "--persistence.save", "", "--persistence.dir",
                         workdir, "--logging.syslog_enabled", "yes", "--logging.syslog_ident",
                         "ferrite-test", "--logging.syslog_facility", "local3"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    while True:
        msg = log.recv(65536).decode()
        print(repr(msg), flush=True)
        if "ready to accept connections" in msg:
            break
finally:
    proc.terminate()
    proc.wait(10)
