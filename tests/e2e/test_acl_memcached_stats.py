"""memcached `stats` under ACL: every `stats` form is checked as Redis' INFO (the command
it maps to), so a user without that permission is refused with the same error form as
any other refused memcached request (text: `SERVER_ERROR NOPERM ...`, binary: status
0x20 with the text) and an ACL LOG entry, instead of counters it may not read."""
import socket
import struct

from resp_compare import Conn

ADMIN_PW = "dpw"
USERS = ["noinfo on >npw ~* +@all -info", "noflush on >fpw ~* +@all -flushall",
         "withinfo on >ipw ~* +@all"]


def start(server_factory):
    srv = server_factory({"compatibility.memcached_protocol": "true"})
    c = Conn(srv.port)
    for u in USERS:
        assert c.call("ACL", "SETUSER", *u.split()) == ("+", b"OK"), u
    assert c.call("ACL", "SETUSER", "default", "resetpass", ">" + ADMIN_PW) == ("+", b"OK")
    c.close()
    return srv


def text_login(port, user, pw):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    data = f"{user} {pw}".encode()
    s.sendall(b"set auth 0 0 %d\r\n%s\r\n" % (len(data), data))
    assert s.recv(100) == b"STORED\r\n"
    return s


def read_until(s, end):
    buf = b""
    while not buf.endswith(end):
        chunk = s.recv(65536)
        assert chunk, ("connection closed", buf)
        buf += chunk
    return buf


def acl_log(port, n):
    r = Conn(port)
    assert r.call("AUTH", ADMIN_PW) == ("+", b"OK")
    reply = r.call("ACL", "LOG", str(n))
    r.close()
    out = []
    for entry in reply[1]:
        fields = entry[1]
        out.append({fields[i][1]: fields[i + 1][1] for i in range(0, len(fields), 2)})
    return out


def test_text_stats_refused_without_info(server_factory):
    srv = start(server_factory)
    s = text_login(srv.mc_port, "noinfo", "npw")
    want = b"SERVER_ERROR NOPERM this user has no permissions to run the 'info' command\r\n"
    for form in (b"stats", b"stats settings", b"stats items", b"stats slabs", b"stats conns"):
        s.sendall(form + b"\r\n")
        assert read_until(s, b"\r\n") == want, form
    # The same user's data commands still run.
    s.sendall(b"set k 0 0 1\r\nv\r\n")
    assert s.recv(100) == b"STORED\r\n"
    s.close()
    log = acl_log(srv.port, 1)
    assert log[0][b"reason"] == b"command" and log[0][b"object"] == b"info", log
    assert log[0][b"username"] == b"noinfo" and log[0][b"count"] == b"5", log


def test_text_stats_refusal_has_the_form_of_other_refusals(server_factory):
    srv = start(server_factory)
    s = text_login(srv.mc_port, "noflush", "fpw")
    s.sendall(b"flush_all\r\n")
    flush = read_until(s, b"\r\n")
    assert flush == b"SERVER_ERROR NOPERM this user has no permissions to run the 'flushall' command\r\n"
    s.close()
    s = text_login(srv.mc_port, "noinfo", "npw")
    s.sendall(b"stats\r\n")
    assert read_until(s, b"\r\n") == flush.replace(b"'flushall'", b"'info'")
    s.close()


def test_text_stats_served_with_info(server_factory):
    srv = start(server_factory)
    s = text_login(srv.mc_port, "withinfo", "ipw")
    s.sendall(b"set k 0 0 1\r\nv\r\nget k\r\n")
    read_until(s, b"END\r\n")
    s.sendall(b"stats\r\n")
    rows = dict(l.split(b" ")[1:3] for l in read_until(s, b"END\r\n").split(b"\r\n")
                if l.startswith(b"STAT "))
    assert int(rows[b"cmd_get"]) >= 1 and int(rows[b"curr_items"]) >= 1, rows
    s.close()


def test_binary_stat_refused_without_info(server_factory):
    srv = start(server_factory)

    def pkt(op, key=b"", value=b""):
        body = key + value
        return struct.pack(">BBHBBHIIQ", 0x80, op, len(key), 0, 0, 0, len(body), 0, 0) + body

    s = socket.create_connection(("127.0.0.1", srv.mc_port), timeout=5)
    s.sendall(pkt(0x21, b"PLAIN", b"\0noinfo\0npw") + pkt(0x10) + pkt(0x0a))
    got, buf = [], b""
    while not got or got[-1][0] != 0x0a:
        chunk = s.recv(65536)
        assert chunk, "connection closed"
        buf += chunk
        while len(buf) >= 24:
            total = struct.unpack(">I", buf[8:12])[0]
            if len(buf) < 24 + total:
                break
            got.append((buf[1], struct.unpack(">H", buf[6:8])[0], buf[24:24 + total]))
            buf = buf[24 + total:]
    s.close()
    # authenticated, one refused STAT (not a stream of counters), noop
    assert [(op, st) for op, st, _ in got] == [(0x21, 0), (0x10, 0x20), (0x0a, 0)], got
    assert got[1][2] == b"NOPERM this user has no permissions to run the 'info' command", got
