"""CLIENT PAUSE / UNPAUSE side by side with redis-server 7.0: under WRITE, writes and
may-replicate commands (PUBLISH, PFCOUNT, EVAL of a script that may write) wait while
reads, no-writes scripts and read-only transactions run; under ALL everything waits; the
waiting clients show in blocked_clients and run, in order, once the pause is lifted or
runs out; expiry stands still meanwhile. memcached-protocol writes wait the same way
(Ferrite's own: no peer serves both protocols)."""
import re
import socket
import time

from resp_compare import Conn, encode


def send(conn, *args):
    conn.s.sendall(encode(args))


def info_field(conn, section, name):
    text = conn.call("INFO", section)[1].decode()
    m = re.search(r"^%s:(\S+)" % re.escape(name), text, re.M)
    return m.group(1) if m else None


def wait_blocked(admin, n, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if info_field(admin, "clients", "blocked_clients") == str(n):
            return
        time.sleep(0.01)
    raise AssertionError("blocked_clients never reached %d" % n)


def pause_scenario(port):
    admin = Conn(port)
    out = []
    admin.call("FLUSHALL")
    admin.call("PFADD", "hll", "a")
    admin.call("FUNCTION", "LOAD", "REPLACE",
               "#!lua name=pauselib\nredis.register_function{function_name='ro', "
               "callback=function() return 'ro' end, flags={'no-writes'}}\n"
               "redis.register_function('rw', function() return 'rw' end)")
    # Errors, as Redis words them.
    out.append(admin.call("CLIENT", "PAUSE", "100", "READ"))
    out.append(admin.call("CLIENT", "PAUSE", "abc"))
    out.append(admin.call("CLIENT", "PAUSE", "-1", "WRITE"))
    out.append(admin.call("CLIENT", "PAUSE"))
    out.append(admin.call("CLIENT", "UNPAUSE", "x"))
    out.append(admin.call("CLIENT", "PAUSE", "0"))  # ends at once
    out.append(admin.call("PING"))

    # WRITE: what runs at once, and what waits.
    out.append(admin.call("CLIENT", "PAUSE", "60000", "WRITE"))
    r = Conn(port)
    out.append(r.call("GET", "k"))
    out.append(r.call("EVAL", "#!lua flags=no-writes\nreturn 1", "0"))
    out.append(r.call("EVAL_RO", "return 2", "0"))
    out.append(r.call("FCALL", "ro", "0"))
    out.append(r.call("MULTI"))
    out.append(r.call("GET", "k"))
    out.append(r.call("EXEC"))
    out.append(r.call("SET", "k"))  # an arity error answers at once
    out.append(info_field(admin, "clients", "blocked_clients"))
    waiting = []
    for cmd in (["SET", "k", "v"], ["PUBLISH", "ch", "m"], ["PFCOUNT", "hll"],
                ["EVAL", "return redis.call('get', 'k')", "0"],
                ["EVAL", "#!lua\nreturn 3", "0"], ["FCALL", "rw", "0"]):
        w = Conn(port)
        send(w, *cmd)
        waiting.append(w)
        wait_blocked(admin, len(waiting))
    # A transaction that writes waits as a whole at its EXEC.
    t = Conn(port)
    admin.call("CLIENT", "UNPAUSE")
    for w in waiting:
        out.append(w.read())
    out.append(t.call("MULTI"))
    out.append(t.call("INCR", "n"))
    out.append(admin.call("CLIENT", "PAUSE", "60000", "WRITE"))
    send(t, "EXEC")
    wait_blocked(admin, 1)
    out.append(admin.call("GET", "n"))
    out.append(admin.call("CLIENT", "UNPAUSE"))
    out.append(t.read())

    # ALL: even PING waits; the pause runs out by itself.
    out.append(admin.call("CLIENT", "PAUSE", "300", "ALL"))
    p = Conn(port)
    t0 = time.time()
    out.append(p.call("PING"))  # answered when the 300 ms have run out
    out.append(time.time() - t0 > 0.1)
    out.append(info_field(admin, "clients", "blocked_clients"))

    # Expiry stands still: the keys read as gone but are not deleted until the end.
    admin.call("CONFIG", "RESETSTAT")
    admin.call("MULTI")
    admin.call("SET", "e1", "x", "PX", "10")
    admin.call("SET", "e2", "x", "PX", "10")
    admin.call("CLIENT", "PAUSE", "60000", "WRITE")
    out.append(admin.call("EXEC"))
    time.sleep(0.3)
    out.append(admin.call("GET", "e1"))
    out.append(admin.call("EXISTS", "e2"))
    out.append(info_field(admin, "stats", "expired_keys"))
    out.append(admin.call("CLIENT", "UNPAUSE"))
    admin.call("GET", "e1")
    admin.call("GET", "e2")
    out.append(info_field(admin, "stats", "expired_keys"))
    for c in waiting + [admin, r, t, p]:
        c.close()
    return out


def test_client_pause_matches_redis(server, redis_server):
    assert pause_scenario(server.port) == pause_scenario(redis_server.port)


def test_pause_holds_writes_in_arrival_order(server):
    admin = Conn(server.port)
    admin.call("CLIENT", "PAUSE", "60000", "WRITE")
    writers = []
    for i in range(5):
        w = Conn(server.port)
        send(w, "RPUSH", "order", str(i))
        writers.append(w)
        wait_blocked(admin, i + 1)
    assert admin.call("LLEN", "order") == (":", b"0")
    admin.call("CLIENT", "UNPAUSE")
    assert [w.read() for w in writers] == [(":", str(i + 1).encode()) for i in range(5)]
    assert admin.call("LRANGE", "order", "0", "-1")[1] == [("$", str(i).encode())
                                                          for i in range(5)]


def mc_request(sock, data, expect_end, timeout=10.0):
    sock.settimeout(timeout)
    sock.sendall(data)
    buf = b""
    while not buf.endswith(expect_end):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def test_memcached_writes_wait_for_the_pause(server_factory):
    s = server_factory({"compatibility.memcached_protocol": "true"})
    admin = Conn(s.port)
    mc = socket.create_connection(("127.0.0.1", s.mc_port), timeout=10)
    assert mc_request(mc, b"set a 0 0 1\r\nx\r\n", b"\r\n") == b"STORED\r\n"
    admin.call("CLIENT", "PAUSE", "60000", "WRITE")
    # A read passes a write pause.
    assert mc_request(mc, b"get a\r\n", b"END\r\n") == b"VALUE a 0 1\r\nx\r\nEND\r\n"
    # A write waits: no answer while paused, nothing written; the request pipelined
    # behind it waits too.
    mc.sendall(b"set a 0 0 1\r\ny\r\nincr n 1\r\nget a\r\n")
    wait_blocked(admin, 1)
    mc.settimeout(0.3)
    try:
        early = mc.recv(65536)
    except socket.timeout:
        early = b""
    assert early == b""
    assert admin.call("GET", "a") == ("$", b"x")
    admin.call("CLIENT", "UNPAUSE")
    rest = b""
    mc.settimeout(10)
    while not rest.endswith(b"END\r\n"):
        rest += mc.recv(65536)
    assert rest == b"STORED\r\nNOT_FOUND\r\nVALUE a 0 1\r\ny\r\nEND\r\n"
    # A meta-protocol write waits the same way.
    admin.call("CLIENT", "PAUSE", "60000", "WRITE")
    mc.sendall(b"ms m 1\r\nz\r\nmg m v\r\n")
    wait_blocked(admin, 1)
    assert admin.call("EXISTS", "m") == (":", b"0")
    admin.call("CLIENT", "UNPAUSE")
    assert mc_request(mc, b"", b"VA 1\r\nz\r\n") == b"HD\r\nVA 1\r\nz\r\n"
    # ALL holds reads too (and CLIENT UNPAUSE itself, as in Redis: it runs out instead).
    admin.call("CLIENT", "PAUSE", "300", "ALL")
    t0 = time.time()
    assert mc_request(mc, b"get a\r\n", b"END\r\n") == b"VALUE a 0 1\r\ny\r\nEND\r\n"
    assert time.time() - t0 > 0.1
    mc.close()


def test_memcached_binary_write_waits(server_factory):
    import struct
    s = server_factory({"compatibility.memcached_protocol": "true"})
    admin = Conn(s.port)
    mc = socket.create_connection(("127.0.0.1", s.mc_port), timeout=10)
    key, val = b"bk", b"vv"
    extras = struct.pack(">II", 0, 0)
    body = extras + key + val
    req = struct.pack(">BBHBBHIIQ", 0x80, 0x01, len(key), len(extras), 0, 0, len(body), 7,
                      0) + body
    admin.call("CLIENT", "PAUSE", "60000", "WRITE")
    mc.sendall(req)
    wait_blocked(admin, 1)
    assert admin.call("EXISTS", "bk") == (":", b"0")
    admin.call("CLIENT", "UNPAUSE")
    mc.settimeout(10)
    head = b""
    while len(head) < 24:
        head += mc.recv(24 - len(head))
    magic, opcode, _, _, _, status, blen, opaque, _ = struct.unpack(">BBHBBHIIQ", head)
    assert (magic, opcode, status, opaque) == (0x81, 0x01, 0, 7)
    assert admin.call("GET", "bk") == ("$", b"vv")
    mc.close()


def test_paused_replica_holds_its_primary_stream(server_factory):
    from repl_util import info, wait_caught_up, wait_for, wait_link_up
    p = server_factory({"replication.repl_diskless_sync_delay": "0",
                        "replication.repl_ping_replica_period": "3600"})
    r = server_factory({"replication.role": "replica", "replication.master_host": "127.0.0.1",
                        "replication.master_port": str(p.port)})
    pr, rr = p.redis(), r.redis()
    wait_link_up(rr)
    pr.set("foo", "bar")
    wait_caught_up(pr, rr)
    applied = info(rr)["slave_repl_offset"]
    rr.execute_command("CLIENT", "PAUSE", "100000", "WRITE")
    pr.set("foo2", "bar2")
    # Read and acknowledged, not applied.
    wait_for(lambda: info(rr)["slave_read_repl_offset"] == info(pr)["master_repl_offset"], 10,
             "replica read the write")
    time.sleep(0.3)
    assert info(rr)["slave_repl_offset"] == applied
    assert rr.get("foo2") is None
    assert rr.get("foo") == b"bar"  # reads on the replica go on
    rr.execute_command("CLIENT", "UNPAUSE")
    wait_caught_up(pr, rr)
    assert rr.get("foo2") == b"bar2"
