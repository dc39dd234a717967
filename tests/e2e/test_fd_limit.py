"""maxclients against RLIMIT_NOFILE, as Redis' adjustOpenFilesLimit: with a low open-file
limit the server lowers maxclients at startup and says so, refuses clients beyond it
with Redis' (or memcached's) error line, and stays idle instead of spinning on EMFILE."""
import os
import re
import resource
import socket
import subprocess
import time

import pytest

from conftest import wait_loaded, wait_port

NOFILE = 200
CONNECTIONS = 300


def start_limited(server_factory, config):
    """A server under RLIMIT_NOFILE = NOFILE that cannot raise it (as root, the bounding
    set loses CAP_SYS_RESOURCE, so it is in the position of an unprivileged service)."""
    s = server_factory(config, start=False)
    cmd = s.command_line()
    if os.geteuid() == 0:
        cmd = ["setpriv", "--bounding-set", "-sys_resource", "--"] + cmd

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))

    s.logf = open(s.log, "ab")
    s.proc = subprocess.Popen(cmd, stdout=s.logf, stderr=subprocess.STDOUT, cwd=s.dir,
                              preexec_fn=limit)
    wait_port(s.port, s.proc, log=s.log)
    if config.get("compatibility.memcached_protocol") == "true":
        wait_port(s.mc_port, s.proc, log=s.log)
    # The port opens before the startup load ends: a first command could meet -LOADING.
    wait_loaded(s.port, s.proc, log=s.log)
    return s


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_many(port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        socks.append(s)
    return socks


def reply(sock, request):
    """The first line the server answers to `request`, or b"<closed>"."""
    try:
        sock.sendall(request)
    except OSError:
        return b"<closed>"
    buf = b""
    sock.settimeout(10)
    try:
        while not buf.endswith(b"\r\n"):
            chunk = sock.recv(200)
            if not chunk:
                return buf or b"<closed>"
            buf += chunk
    except ConnectionResetError:
        return buf or b"<closed>"
    return buf


def test_maxclients_is_lowered_to_fit_the_fd_limit(server_factory):
    s = start_limited(server_factory, {})
    log = s.log_text()
    m = re.search(r"maxclients has been reduced to (\d+) to compensate for low ulimit", log)
    assert m, log
    fitted = int(m.group(1))
    assert 0 < fitted <= NOFILE - 32
    assert "You requested maxclients of 10000 requiring at least" in log
    r = s.redis()  # stays connected: one of the maxclients
    assert r.config_get("maxclients") == {"maxclients": str(fitted)}

    socks = open_many(s.port, CONNECTIONS)
    try:
        replies = [reply(c, b"PING\r\n") for c in socks]
        served = replies.count(b"+PONG\r\n")
        refused = replies.count(b"-ERR max number of clients reached\r\n")
        assert served == fitted - 1  # every client up to maxclients, none beyond
        assert served + refused == CONNECTIONS, set(replies)
        # Holding every slot, the server is idle: no accept loop spinning on EMFILE.
        t0 = cpu_seconds(s.proc.pid)
        time.sleep(2.0)
        assert cpu_seconds(s.proc.pid) - t0 < 0.5
    finally:
        for c in socks:
            c.close()
        r.close()
    # Slots come back once clients leave.
    deadline = time.time() + 10
    while True:
        c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        got = reply(c, b"PING\r\n")
        c.close()
        if got == b"+PONG\r\n" or time.time() > deadline:
            break
        time.sleep(0.1)
    assert got == b"+PONG\r\n"


def test_memcached_port_refuses_with_memcached_text(server_factory):
    s = start_limited(server_factory, {"compatibility.memcached_protocol": "true"})
    socks = open_many(s.mc_port, CONNECTIONS)
    try:
        replies = [reply(c, b"version\r\n") for c in socks]
        assert replies.count(b"ERROR Too many open connections\r\n") > 0
        assert all(r.startswith(b"VERSION ") or r == b"ERROR Too many open connections\r\n"
                   for r in replies), set(replies)
    finally:
        for c in socks:
            c.close()


def test_config_set_maxclients_must_fit(server_factory):
    s = start_limited(server_factory, {})
    r = s.redis()
    fitted = int(r.config_get("maxclients")["maxclients"])
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    assert reply(c, b"CONFIG SET maxclients 10000\r\n") == (
        b"-ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating "
        b"system is not able to handle the specified number of clients, try with %d\r\n"
        % fitted)
    assert reply(c, b"CONFIG SET maxclients %d\r\n" % (fitted - 10)) == b"+OK\r\n"
    assert reply(c, b"CONFIG SET maxclients %d\r\n" % fitted) == b"+OK\r\n"
    c.close()
    r.close()


def test_emfile_backs_off_instead_of_spinning(server_factory):
    if os.environ.get("FERRITE_SANITIZER_LOGS"):
        # UBSan's vptr check tells a live object from freed memory by writing it to a
        # pipe (the sanitizers' IsAccessibleMemoryRange); with no descriptor left the
        # pipe fails and the first polymorphic object the server makes is reported as
        # "invalid vptr, memory cannot be printed", and the build aborts on reports.
        pytest.skip("sanitizer build: UBSan's vptr check needs a free descriptor")
    # Descriptors can still run out below maxclients (here the limit is lowered under
    # the running server); accept() then fails with EMFILE, and the server must wait
    # rather than retry at once.
    s = start_limited(server_factory, {})
    r = s.redis()
    assert r.ping() is True  # connected before the limit drops
    resource.prlimit(s.proc.pid, resource.RLIMIT_NOFILE, (60, 60))
    socks = open_many(s.port, CONNECTIONS)
    try:
        t0 = cpu_seconds(s.proc.pid)
        time.sleep(2.0)
        assert cpu_seconds(s.proc.pid) - t0 < 0.5
        assert "Accepting client connection: Too many open files" in s.log_text()
        assert r.ping() is True  # a connected client is still served
    finally:
        for c in socks:
            c.close()
        r.close()
