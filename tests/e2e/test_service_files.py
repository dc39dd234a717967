"""What an operator configures around the process: pidfile, unix sockets (RESP and
memcached, as redis-server's unixsocket and memcached -s), the log file and its reopening
on SIGHUP, --loglevel debug, the plugin list, and MODULE LOAD failures."""
import ast
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest
import redis
from pymemcache.client.base import Client as MemcacheClient

from conftest import Server, free_port, host_binary, wait_for, wait_port


def log_text(s):
    with open(s.log, errors="replace") as f:
        return f.read()


# ---------------------------------------------------------------------------------------
# pidfile
# ---------------------------------------------------------------------------------------

def test_pidfile_written_at_start_and_removed_at_exit(tmp_path):
    pidfile = tmp_path / "ferrite.pid"
    s = Server({"server.pidfile": str(pidfile)}).start()
    try:
        assert pidfile.read_text() == f"{s.proc.pid}\n"
    finally:
        assert s.stop() == 0
    assert not pidfile.exists()


def test_unwritable_pidfile_is_a_warning(tmp_path):
    s = Server({"server.pidfile": str(tmp_path / "missing-dir" / "ferrite.pid")}).start()
    try:
        assert s.redis().ping()
        assert "failed to write PID file" in log_text(s)
    finally:
        s.stop()


# ---------------------------------------------------------------------------------------
# unix sockets
# ---------------------------------------------------------------------------------------

def test_resp_over_unix_socket_with_permissions(tmp_path):
    path = str(tmp_path / "ferrite.sock")
    s = Server({"server.unixsocket": path, "server.unixsocketperm": "770"}).start()
    try:
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o770
        out = subprocess.run(["redis-cli", "-s", path, "set", "k", "over-unix"],
                             stdout=subprocess.PIPE, timeout=10).stdout
        assert out == b"OK\n"
        r = redis.Redis(unix_socket_path=path, socket_timeout=10, decode_responses=True)
        assert r.get("k") == "over-unix"
        # As Redis, a unix client's address is the socket path with port 0.
        me = r.client_info()
        assert me["addr"] == f"{path}:0" and me["laddr"] == f"{path}:0"
        assert s.redis().get("k") == b"over-unix"  # the TCP port still serves
    finally:
        s.stop()
    assert not os.path.exists(path)  # removed at exit


def test_stale_unix_socket_file_is_replaced(tmp_path):
    path = str(tmp_path / "ferrite.sock")
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(path)  # left behind, as after a crash
    s = Server({"server.unixsocket": path}).start()
    try:
        assert redis.Redis(unix_socket_path=path, socket_timeout=10).ping()
    finally:
        s.stop()


def test_memcached_over_unix_socket(tmp_path):
    path = str(tmp_path / "memcached.sock")
    s = Server({"compatibility.memcached_protocol": "true",
                "compatibility.memcached_unixsocket": path}).start()
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700  # memcached -a's default
        mc = MemcacheClient(path, timeout=10)
        assert mc.set("mk", b"v1", noreply=False)
        assert mc.get("mk") == b"v1"
        assert s.redis().get("mk") == b"v1"  # one keyspace
        mc.close()
        # Binary protocol on the same socket, chosen by the first byte as on the port.
        with socket.socket(socket.AF_UNIX) as sk:
            sk.settimeout(10)
            sk.connect(path)
            sk.sendall(bytes([0x80, 0x0b]) + bytes(22))  # binary VERSION
            hdr = sk.recv(24)
            assert hdr[0] == 0x81 and hdr[1] == 0x0b
    finally:
        s.stop()


def tcp_refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_memcached_unix_socket_replaces_the_tcp_port_as_memcached_s(tmp_path):
    """memcached -s disables its TCP port; Ferrite's memcached_unixsocket does the same
    for the memcached listener, side by side with memcached 1.6 given -s and -p."""
    exe = shutil.which("memcached")
    if not exe:
        pytest.fail("memcached is not installed (packaging/install-deps.sh installs it)")
    peer_path, peer_port = str(tmp_path / "peer.sock"), free_port()
    peer = subprocess.Popen([exe, "-s", peer_path, "-p", str(peer_port), "-U", "0", "-t", "1",
                             "-u", "root"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = str(tmp_path / "memcached.sock")
    s = Server({"compatibility.memcached_protocol": "true",
                "compatibility.memcached_unixsocket": path}).start()
    try:
        wait_for(lambda: os.path.exists(peer_path), what="memcached's unix socket")
        for sock_path in (peer_path, path):
            mc = MemcacheClient(sock_path, timeout=10)
            assert mc.set("mk", b"v1", noreply=False) and mc.get("mk") == b"v1"
            mc.close()
        assert tcp_refused(peer_port)  # memcached: -s turned -p off
        assert tcp_refused(s.mc_port)  # ours: the same
        assert s.redis().get("mk") == b"v1"  # the RESP port still serves beside it
        assert "memcached TCP port not opened: memcached_unixsocket is set" in log_text(s)
    finally:
        s.stop()
        peer.terminate()
        peer.wait(10)


def test_bad_unixsocketperm_is_a_startup_error(tmp_path):
    s = Server({"server.unixsocket": str(tmp_path / "s.sock"), "server.unixsocketperm": "999"})
    p = subprocess.run(s.command_line(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    assert p.returncode == 2
    assert b"unixsocketperm" in p.stdout and b"octal" in p.stdout


# ---------------------------------------------------------------------------------------
# log file, SIGHUP, level
# ---------------------------------------------------------------------------------------

def test_sighup_reopens_the_log_file(tmp_path):
    logfile = tmp_path / "ferrite.log"
    s = Server({"logging.file": str(logfile)}).start()
    try:
        wait_for(lambda: "ready to accept connections" in logfile.read_text(), what="log")
        rotated = tmp_path / "ferrite.log.1"
        os.rename(logfile, rotated)  # what logrotate does before its postrotate
        s.proc.send_signal(signal.SIGHUP)
        wait_for(logfile.exists, what="a new log file")
        wait_for(lambda: "received SIGHUP, reopened the log file" in logfile.read_text(),
                 what="the SIGHUP line in the new file")
        assert s.redis().ping()  # still serving
        s.redis().execute_command("CONFIG", "SET", "loglevel", "debug")
        s.redis().ping()
        wait_for(lambda: "CONFIG SET loglevel debug" in logfile.read_text(),
                 what="lines after the reopen going to the new file")
        assert "received SIGHUP" not in rotated.read_text()
    finally:
        assert s.stop() == 0


def test_loglevel_debug_logs_connections_config_and_loading(tmp_path):
    s = Server(args=["--loglevel", "debug"]).start()
    try:
        r = s.redis()
        r.config_set("maxmemory-policy", "allkeys-lru")
        r.config_set("requirepass", "sekret")
        r.connection_pool.disconnect()
        wait_for(lambda: "closing client" in log_text(s), what="close line")
        text = log_text(s)
        for line in ["plugin search path:", "opened ", "looking for data:", "accepted client id=",
                     "CONFIG SET maxmemory-policy allkeys-lru", "CONFIG SET requirepass (hidden)"]:
            assert line in text, line
        assert "sekret" not in text
    finally:
        s.stop()


def test_loglevel_info_has_no_debug_lines():
    s = Server().start()
    try:
        s.redis().ping()
        s.redis().connection_pool.disconnect()
        time.sleep(0.2)
        assert "accepted client" not in log_text(s)
    finally:
        s.stop()


# ---------------------------------------------------------------------------------------
# plugins
# ---------------------------------------------------------------------------------------

def test_load_list_without_protocols_gets_them_added():
    s = Server({"modules.load": "strings,keys",
                "compatibility.memcached_protocol": "true"}).start()
    try:
        r = s.redis(decode_responses=True)
        r.set("k", "v")
        names = {m[1] if isinstance(m, list) else m["name"]
                 for m in r.execute_command("MODULE", "LIST")}
        assert names == {"strings", "keys", "resp", "memcached_text", "memcached_binary"}
        text = log_text(s)
        assert 'no protocol plugin for the main listener: loaded "resp" as well' in text
        assert ('no protocol plugin for the memcached listener: loaded "memcached_text", '
                '"memcached_binary" as well') in text
    finally:
        s.stop()


def start_redis_with_module_command(workdir):
    """redis-server 7.0 refuses MODULE by default (enable-module-command no); the
    comparison needs it on, as Ferrite's MODULE is."""
    exe = shutil.which("redis-server")
    if not exe:
        pytest.fail("redis-server is not installed (packaging/install-deps.sh installs it)")
    port = free_port()
    p = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--enable-module-command", "yes", "--dir", str(workdir)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, p)
    return p, port


def raw_call(port, *args):
    """One command on a fresh connection; the reply line exactly as sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sk:
        req = b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
        sk.sendall(req)
        buf = b""
        while not buf.endswith(b"\r\n"):
            chunk = sk.recv(4096)
            assert chunk, "connection closed before the reply"
            buf += chunk
        return buf


def test_failed_module_load_answers_as_redis_and_logs_the_reason(tmp_path):
    """The reply is redis-server 7.0's, byte for byte (no reason in it); the reason is
    logged as Redis logs it ("Module <path> failed to load: <why>")."""
    not_elf = tmp_path / "notes.so"
    not_elf.write_text("not a shared object\n")
    missing = str(tmp_path / "missing.so")
    # A real shared object that is neither a Redis module nor a Ferrite plugin.
    not_module = next(p for p in ("/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1",
                                  "/lib/aarch64-linux-gnu/libz.so.1") if os.path.exists(p))
    rp, rport = start_redis_with_module_command(tmp_path)
    s = Server().start()
    try:
        for path in (missing, str(not_elf), not_module, str(tmp_path)):
            theirs = raw_call(rport, "MODULE", "LOAD", path)
            ours = raw_call(s.port, "MODULE", "LOAD", path)
            assert ours == theirs, (path, ours, theirs)
        assert ours == b"-ERR Error loading the extension. Please check the server logs.\r\n"
        text = log_text(s)
        assert f"Module {missing} failed to load: " in text
        assert "No such file or directory" in text
        assert f"Module {not_elf} failed to load: " in text
        assert "invalid ELF header" in text or "too short" in text
        assert f"Module {not_module} failed to load: " in text and "not a Ferrite plugin" in text
        assert "Bad file descriptor" not in text
        assert s.redis().ping()
    finally:
        s.stop()
        rp.terminate()
        rp.wait(10)


# ---------------------------------------------------------------------------------------
# syslog
# ---------------------------------------------------------------------------------------

def test_syslog_gets_the_log_with_ident_facility_and_pid(tmp_path):
    """syslog_enabled/ident/facility: the datagrams /dev/log receives (in a private mount
    namespace, so the machine's /dev/log, if any, is not touched)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) to give the server a private /dev/log")
    probe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "syslog_probe.py")
    p = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, probe,
                        host_binary(), str(free_port()), str(tmp_path)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if p.returncode != 0 and b"Operation not permitted" in p.stdout:
        pytest.skip("mount namespaces are not permitted here")
    assert p.returncode == 0, p.stdout.decode(errors="replace")
    msgs = [ast.literal_eval(line) for line in p.stdout.decode().splitlines() if line.startswith("'")]
    # <158> = facility local3 (19) * 8 + severity info (6); RFC 3164 form from syslog(3).
    ready = [m for m in msgs if "ready to accept connections" in m]
    assert ready and re.match(r"<158>\w{3} [ \d]\d \d\d:\d\d:\d\d ferrite-test\[\d+\]: "
                              r"\[host\] ready to accept connections$", ready[0]), msgs
    assert any("[host.loader] loaded plugin resp" in m for m in msgs)
