"""TLS on the RESP port (tls.port / tls-port): real clients (redis-cli --tls,
python3-redis ssl=True, redis-benchmark --tls), client certificates (required, optional,
expired, from the wrong CA), pipelining, a half-open handshake that times out, the plain
and TLS ports side by side on one keyspace, and CONFIG GET/SET of the tls-* settings
compared with redis-server 7.0 started with the same files."""
import os
import shutil
import socket
import ssl
import subprocess
import time

import pytest
import redis

from conftest import free_port, wait_for, wait_port
from repl_util import RedisProc
from tls_util import make_certs


@pytest.fixture(scope="module")
def certs():
    c = make_certs()
    yield c
    shutil.rmtree(c.dir, ignore_errors=True)


def tls_server(server_factory, certs, extra=None):
    port = free_port()
    s = server_factory(certs.server_config({"tls.port": port, **(extra or {})}))
    s.tls_port = port
    wait_port(port, s.proc)
    return s


def cli(port, certs, *args, cert=True, timeout=20):
    cmd = ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--tls", "--cacert",
           certs.path("ca.crt")]
    if cert:
        cmd += ["--cert", certs.path("client.crt"), "--key", certs.path("client.key")]
    p = subprocess.run(cmd + list(args), capture_output=True, timeout=timeout)
    return (p.stdout + p.stderr).decode()


def tls_redis(port, certs, cert="client", **kw):
    kw.setdefault("socket_timeout", 10)
    if cert:
        kw.update(ssl_certfile=certs.path(f"{cert}.crt"), ssl_keyfile=certs.path(f"{cert}.key"))
    return redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=certs.path("ca.crt"),
                       **kw)


def read_replies(sock, count, timeout=20):
    """Reads `count` RESP simple/bulk/integer replies (no arrays) from a socket."""
    sock.settimeout(timeout)
    buf, out = b"", []
    while len(out) < count:
        while True:
            nl = buf.find(b"\r\n")
            if nl < 0:
                break
            if buf[:1] == b"$":
                n = int(buf[1:nl])
                if n < 0:
                    out.append(None)
                    buf = buf[nl + 2:]
                    continue
                if len(buf) < nl + 2 + n + 2:
                    break
                out.append(buf[nl + 2:nl + 2 + n])
                buf = buf[nl + 2 + n + 2:]
            else:
                out.append(buf[:nl])
                buf = buf[nl + 2:]
        if len(out) >= count:
            break
        chunk = sock.recv(1 << 20)
        assert chunk, f"connection closed after {len(out)} of {count} replies"
        buf += chunk
    return out


def test_redis_cli_python_and_plain_port_share_one_keyspace(server_factory, certs):
    s = tls_server(server_factory, certs)
    assert cli(s.tls_port, certs, "SET", "k", "over-tls").strip() == "OK"
    assert s.redis().get("k") == b"over-tls"  # the plain port sees it
    s.redis().set("p", "plain")
    r = tls_redis(s.tls_port, certs)
    assert r.get("p") == b"plain"
    big = os.urandom(3 << 20)  # many records each way
    r.set("big", big)
    assert r.get("big") == big
    assert s.redis().get("big") == big
    assert "tls-port" in cli(s.tls_port, certs, "CONFIG", "GET", "tls-port")


def test_client_certificates(server_factory, certs):
    s = tls_server(server_factory, certs)  # tls-auth-clients yes (Redis' default)
    assert cli(s.tls_port, certs, "PING").strip() == "PONG"
    assert "PONG" not in cli(s.tls_port, certs, "PING", cert=False)
    wait_for(lambda: "peer did not return a certificate" in s.log_text(), 10,
             "the refused connection's log line")

    with pytest.raises((ssl.SSLError, OSError, redis.ConnectionError)):
        tls_redis(s.tls_port, certs, cert="expired").ping()
    wait_for(lambda: "certificate verify failed: certificate has expired" in s.log_text(), 10,
             "the expired certificate's log line")
    with pytest.raises((ssl.SSLError, OSError, redis.ConnectionError)):
        tls_redis(s.tls_port, certs, cert="wrongca").ping()
    wait_for(lambda: "certificate verify failed: unable to get local issuer certificate"
             in s.log_text(), 10, "the wrong CA's log line")

    assert s.redis().config_set("tls-auth-clients", "optional")
    assert tls_redis(s.tls_port, certs, cert=None).ping()
    assert tls_redis(s.tls_port, certs).ping()
    with pytest.raises((ssl.SSLError, OSError, redis.ConnectionError)):
        tls_redis(s.tls_port, certs, cert="wrongca").ping()
    assert s.redis().config_set("tls-auth-clients", "no")
    assert tls_redis(s.tls_port, certs, cert="wrongca").ping()  # not even looked at


def test_pipelining_over_tls(server_factory, certs):
    s = tls_server(server_factory, certs)
    n = 20000
    req = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$%d\r\nval:%d\r\n" %
                   (len(b"key:%d" % i), i, len(b"val:%d" % i), i) for i in range(n))
    req += b"".join(b"*2\r\n$3\r\nGET\r\n$%d\r\nkey:%d\r\n" % (len(b"key:%d" % i), i)
                    for i in range(n))
    with certs.connect(s.tls_port) as c:
        c.sendall(req)  # ~1 MB in one go: many records per read on the server
        got = read_replies(c, 2 * n)
    assert got[:n] == [b"+OK"] * n
    assert got[n:] == [b"val:%d" % i for i in range(n)]
    # The same commands one byte per write, so records and requests split everywhere.
    small = b"*2\r\n$4\r\nINCR\r\n$1\r\nc\r\n" * 20
    with certs.connect(s.tls_port) as c:
        for b in small:
            c.sendall(bytes([b]))
        assert read_replies(c, 20) == [b":%d" % i for i in range(1, 21)]


def test_half_open_handshake_times_out_without_stalling(server_factory, certs):
    s = tls_server(server_factory, certs, {"tls.handshake_timeout_ms": 500,
                                           "server.threads": 1})
    quiet = socket.create_connection(("127.0.0.1", s.tls_port), timeout=10)  # sends nothing
    half = socket.create_connection(("127.0.0.1", s.tls_port), timeout=10)
    half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello's start
    start = time.time()
    # Meanwhile the one worker serves others at once.
    assert cli(s.tls_port, certs, "PING", timeout=5).strip() == "PONG"
    assert time.time() - start < 3
    for sock in (quiet, half):
        sock.settimeout(10)
        assert sock.recv(100) == b""  # closed by the server
    assert time.time() - start < 5
    wait_for(lambda: s.log_text().count("timed out after 500 ms") >= 2, 10,
             "two handshake time-out log lines")
    quiet.close()
    half.close()
    assert s.redis().config_set("tls-handshake-timeout-ms", 0)  # never: the slot stays
    idle = socket.create_connection(("127.0.0.1", s.tls_port), timeout=1)
    with pytest.raises(socket.timeout):
        idle.recv(1)
    idle.close()


def test_plain_bytes_on_the_tls_port_are_refused(server_factory, certs):
    s = tls_server(server_factory, certs)
    with socket.create_connection(("127.0.0.1", s.tls_port), timeout=10) as c:
        c.sendall(b"PING\r\n")
        c.settimeout(10)
        data = c.recv(100)
        assert b"PONG" not in data
    wait_for(lambda: "Error accepting a client connection: " in s.log_text(), 10, "a log line")
    assert s.redis().ping()


def test_config_set_cert_reload_keeps_live_connections(server_factory, certs):
    s = tls_server(server_factory, certs, {"tls.auth_clients": "no"})
    live = tls_redis(s.tls_port, certs, cert=None)
    live.set("before", "1")
    live_id = live.client_id()
    # A new certificate from another CA: existing sessions keep theirs.
    ok = s.redis().execute_command("CONFIG", "SET", "tls-cert-file", certs.path("server2.crt"),
                                   "tls-key-file", certs.path("server2.key"))
    assert ok in (b"OK", True, "OK")
    assert live.get("before") == b"1"
    assert live.client_id() == live_id  # the same connection, not a reconnect
    # New clients get the new certificate: trusted through the other CA only.
    ctx = certs.client_context(cert=None, ca="otherca")
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", s.tls_port), timeout=10)) as c:
        c.sendall(b"PING\r\n")
        c.settimeout(10)
        assert c.recv(100) == b"+PONG\r\n"
    with pytest.raises(ssl.SSLError):
        certs.connect(s.tls_port, cert=None)  # the old CA no longer matches


def test_config_set_cert_alone_fails_and_keeps_the_old_one(server_factory, certs):
    s = tls_server(server_factory, certs, {"tls.auth_clients": "no"})
    r = s.redis()
    # server2.crt with server.key: a mismatch, refused as a whole, old values kept.
    with pytest.raises(redis.ResponseError) as e:
        r.config_set("tls-cert-file", certs.path("server2.crt"))
    assert str(e.value) == ("CONFIG SET failed (possibly related to argument 'tls-cert-file') - "
                            "Unable to update TLS configuration. Check server logs.")
    assert r.config_get("tls-cert-file")["tls-cert-file"] == certs.path("server.crt")
    assert tls_redis(s.tls_port, certs, cert=None).ping()


def test_config_set_tls_port_opens_moves_and_closes(server_factory, certs):
    s = server_factory(certs.server_config({"tls.auth_clients": "no"}))  # no TLS port yet
    r = s.redis()
    p1, p2 = free_port(), free_port()
    assert r.config_set("tls-port", p1)
    live = tls_redis(p1, certs, cert=None)
    assert live.ping()
    assert r.config_set("tls-port", p2)
    assert tls_redis(p2, certs, cert=None).ping()
    with pytest.raises(redis.ConnectionError):
        tls_redis(p1, certs, cert=None, socket_connect_timeout=2).ping()
    assert live.ping()  # accepted on the old port: still served
    assert r.config_set("tls-port", 0)
    with pytest.raises(redis.ConnectionError):
        tls_redis(p2, certs, cert=None, socket_connect_timeout=2).ping()
    assert live.ping()
    # A port in use: refused, the setting stays.
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(redis.ResponseError) as e:
            r.config_set("tls-port", busy.getsockname()[1])
        assert "Unable to listen on this port. Check server logs." in str(e.value)
    assert r.config_get("tls-port")["tls-port"] == "0"


def side_by_side(server_factory, redis_nodes, certs):
    """A ferrite-host and a redis-server 7.0, each with a TLS port and the same files."""
    s = tls_server(server_factory, certs)
    rp = RedisProc(["--tls-port", str(free_port()), *certs.redis_args()])
    rp.tls_port = int(rp.cmd[rp.cmd.index("--tls-port") + 1])
    redis_nodes.append(rp)
    rp.start()
    wait_port(rp.tls_port, rp.proc)
    return s, rp


def test_config_replies_match_redis(server_factory, redis_nodes, certs):
    """The same CONFIG SET/GET of TLS settings against redis-server with the same files."""
    s, rp = side_by_side(server_factory, redis_nodes, certs)
    port, rport = s.tls_port, rp.tls_port
    f, r = s.redis(), rp.redis()
    cases = [
        ["CONFIG", "SET", "tls-cert-file", "/nonexistent.crt"],
        ["CONFIG", "SET", "tls-protocols", "TLSv9"],
        ["CONFIG", "SET", "tls-auth-clients", "maybe"],
        ["CONFIG", "SET", "tls-ciphers", "NO-SUCH-CIPHER"],
        ["CONFIG", "SET", "tls-port", "70000"],
        ["CONFIG", "SET", "tls-session-cache-size", "-1"],
        ["CONFIG", "SET", "tls-protocols", "TLSv1.2", "tls-protocols", "TLSv1.3"],
        ["CONFIG", "SET", "tls-protocols", "TLSv1.2 TLSv1.3"],
        ["CONFIG", "GET", "tls-protocols"],
        ["CONFIG", "SET", "tls-auth-clients", "optional"],
        ["CONFIG", "GET", "tls-auth-clients"],
        ["CONFIG", "GET", "tls-session-cach*"],
        ["CONFIG", "GET", "tls-replication"],
        ["CONFIG", "GET", "tls-prefer-server-ciphers"],
        ["CONFIG", "GET", "tls-key-file-pass"],
    ]
    for cmd in cases:
        def run(c):
            try:
                out = c.execute_command(*cmd)
                if isinstance(out, list):  # CONFIG GET's pairs, in no set order
                    return sorted(zip(out[::2], out[1::2]))
                return sorted(out.items()) if isinstance(out, dict) else out
            except redis.ResponseError as e:
                return "ERR " + str(e)
        assert run(f) == run(r), cmd
    # Both still serve TLS with the files they started with.
    assert tls_redis(port, certs).ping() and tls_redis(rport, certs).ping()


def test_replies_over_tls_match_redis(server_factory, redis_nodes, certs):
    s, rp = side_by_side(server_factory, redis_nodes, certs)
    port, rport = s.tls_port, rp.tls_port
    script = (b"SET a 1\r\nINCR a\r\nGET a\r\nLPUSH l x y\r\nLRANGE l 0 -1\r\nNOSUCH\r\n"
              b"GET\r\nHELLO 3\r\nHGETALL nokey\r\nDEL a l\r\nQUIT\r\n")
    answers = []
    for p in (port, rport):
        with certs.connect(p) as c:
            c.sendall(script)
            c.settimeout(10)
            data = b""
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
        answers.append(data.replace(b"\r\n", b"\n"))
    # HELLO's map differs by server identity (version, id): compare around it.
    f, r = answers
    fh, rh = f.index(b"%7"), r.index(b"%7")
    assert f[:fh] == r[:rh]
    assert f[f.index(b"*0\n", fh):] == r[r.index(b"*0\n", rh):]


def test_redis_benchmark_tls(server_factory, certs):
    s = tls_server(server_factory, certs)
    out = subprocess.run(
        ["redis-benchmark", "-h", "127.0.0.1", "-p", str(s.tls_port), "--tls", "--cacert",
         certs.path("ca.crt"), "--cert", certs.path("client.crt"), "--key",
         certs.path("client.key"), "-t", "set,get", "-n", "20000", "-P", "16", "-c", "4",
         "-q", "--csv"], capture_output=True, timeout=120)
    text = out.stdout.decode()
    assert out.returncode == 0, out.stderr.decode()
    assert '"SET"' in text and '"GET"' in text, text
    assert s.redis().dbsize() == 1  # key:__rand_int__ written by SET, read by GET


def test_port_0_serves_resp_over_tls_only(server_factory, certs):
    s = server_factory(certs.server_config({"tls.auth_clients": "no"}), start=False)
    s.tls_port = free_port()
    cmd = s.command_line()
    cmd[cmd.index("--port") + 1] = "0"
    cmd += ["--tls.port", str(s.tls_port)]
    s.logf = open(s.log, "ab")
    s.proc = subprocess.Popen(cmd, stdout=s.logf, stderr=subprocess.STDOUT, cwd=s.dir)
    wait_port(s.tls_port, s.proc, log=s.log)
    assert tls_redis(s.tls_port, certs, cert=None).ping()
    assert "(main)" not in s.log_text()  # no plain RESP listener
    assert "(main, TLS)" in s.log_text()
