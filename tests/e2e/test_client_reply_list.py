"""CLIENT REPLY, CLIENT LIST / INFO fields, CLIENT SETINFO and CLIENT HELP, side by side
with redis-server 7.0 where 7.0 has them (SETINFO, NO-TOUCH and the lib-name / lib-ver
fields are Redis 7.2's)."""
import re
import socket
import time

from resp_compare import Conn, encode


def raw_exchange(port, payload, settle=0.3):
    """Sends raw bytes and returns every byte the server answered within `settle`."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(payload)
    s.settimeout(settle)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        pass
    s.close()
    return out


def reply_script():
    cmds = [
        ["CLIENT", "REPLY", "OFF"], ["PING", "a"], ["SET", "k", "v"], ["GET", "nokey", "x"],
        ["CLIENT", "REPLY", "ON"], ["PING", "b"],
        ["CLIENT", "REPLY", "SKIP"], ["PING", "c"], ["PING", "d"],
        ["CLIENT", "REPLY", "SKIP"], ["CLIENT", "REPLY", "ON"], ["PING", "e"],
        ["CLIENT", "REPLY", "MAYBE"], ["CLIENT", "REPLY"],
        ["CLIENT", "REPLY", "OFF"], ["CLIENT", "REPLY", "SKIP"], ["PING", "f"],
        ["CLIENT", "REPLY", "ON"], ["PING", "g"],
    ]
    return b"".join(encode(c) for c in cmds)


def test_client_reply_matches_redis(server, redis_server):
    ours = raw_exchange(server.port, reply_script())
    theirs = raw_exchange(redis_server.port, reply_script())
    assert ours == theirs
    assert ours.startswith(b"+OK\r\n$1\r\nb\r\n$1\r\nd\r\n+OK\r\n$1\r\ne\r\n")


def subscribe_script(resp):
    cmds = ([["HELLO", "3"]] if resp == 3 else []) + [
        ["CLIENT", "REPLY", "OFF"], ["SUBSCRIBE", "ch"], ["PSUBSCRIBE", "c*"],
        ["PING"], ["PUBLISH", "ch", "self"], ["UNSUBSCRIBE", "ch"], ["PUNSUBSCRIBE", "c*"],
        ["CLIENT", "REPLY", "ON"], ["PING", "x"],
    ]
    return b"".join(encode(c) for c in cmds)


def test_pushes_pass_while_replies_are_off(server, redis_server):
    for resp in (2, 3):
        ours = raw_exchange(server.port, subscribe_script(resp))
        theirs = raw_exchange(redis_server.port, subscribe_script(resp))
        # HELLO's map differs (server name, version, id): compare what follows it.
        if resp == 3:
            ours, theirs = ours[ours.index(b"+OK") - 0:], theirs[theirs.index(b"+OK"):]
            ours = ours[ours.index(b">"):] if b">" in ours else ours
            theirs = theirs[theirs.index(b">"):] if b">" in theirs else theirs
        assert ours == theirs, resp


def fields(line):
    return dict(kv.split("=", 1) for kv in line.strip().split(" "))


def test_client_list_fields_are_real(server, redis_server):
    for port, ours in ((server.port, True), (redis_server.port, False)):
        c = Conn(port)
        other = Conn(port)
        info = fields(c.call("CLIENT", "INFO")[1].decode())
        assert info["cmd"] == "client|info"
        # "*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n": the query buffer still holds the command.
        assert info["qbuf"] == "26"
        assert info["argv-mem"] == "10"  # "CLIENT" + "INFO"
        assert info["flags"] == "N" and info["events"] == "r" and info["resp"] == "2"
        assert int(info["fd"]) > 2
        oid = str(other.call("CLIENT", "ID")[1].decode())
        lines = c.call("CLIENT", "LIST")[1].decode().strip().split("\n")
        by_id = {f["id"]: f for f in map(fields, lines)}
        me = by_id[info["id"]]
        them = by_id[oid]
        assert me["cmd"] == "client|list" and me["argv-mem"] == "10"
        assert them["cmd"] == "client|id" and them["argv-mem"] == "0"
        assert them["fd"] != me["fd"]
        assert them["qbuf"] == "0"
        other.call("MULTI")
        other.call("SET", "k", "a-value-longer-than-fifteen-bytes")
        them = fields(c.call("CLIENT", "LIST", "ID", oid)[1].decode())
        assert them["flags"] == "x" and them["multi"] == "1" and int(them["multi-mem"]) > 0
        other.call("DISCARD")
        other.call("CLIENT", "NO-EVICT", "ON")
        them = fields(c.call("CLIENT", "LIST", "ID", oid)[1].decode())
        assert them["flags"] == "e"
        if ours:  # Redis 7.2's fields
            assert "lib-name" in me and me["lib-name"] == "" and me["lib-ver"] == ""
        c.close()
        other.close()


def test_client_setinfo(server):
    c = Conn(server.port)
    assert c.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == ("+", b"OK")
    assert c.call("CLIENT", "SETINFO", "lib-ver", "5.0.1") == ("+", b"OK")
    info = fields(c.call("CLIENT", "INFO")[1].decode())
    assert (info["lib-name"], info["lib-ver"]) == ("redis-py", "5.0.1")
    assert c.call("CLIENT", "SETINFO", "LIB-NAME", "a b") == (
        "-", b"ERR LIB-NAME cannot contain spaces, newlines or special characters.")
    assert c.call("CLIENT", "SETINFO", "lib-ver", "1\n") == (
        "-", b"ERR lib-ver cannot contain spaces, newlines or special characters.")
    assert c.call("CLIENT", "SETINFO", "color", "red") == (
        "-", b"ERR Unrecognized option 'color'")
    assert c.call("CLIENT", "SETINFO", "LIB-NAME") == (
        "-", b"ERR wrong number of arguments for 'client|setinfo' command")
    assert c.call("CLIENT", "SETINFO", "LIB-NAME", "") == ("+", b"OK")
    info = fields(c.call("CLIENT", "INFO")[1].decode())
    assert (info["lib-name"], info["lib-ver"]) == ("", "5.0.1")


def test_client_errors_match_redis(server, redis_server):
    def run(port):
        c = Conn(port)
        out = [c.call("CLIENT", "KILL", "SKIPME", "maybe"),
               c.call("CLIENT", "KILL", "ID", "10", "extra"),
               c.call("CLIENT", "REPLY", "ON", "x"),
               c.call("CLIENT", "PAUSE", "10", "WRITE", "x")]
        c.close()
        return out
    assert run(server.port) == run(redis_server.port)


def test_client_no_touch_keeps_idle_time(server):
    c = Conn(server.port)
    c.call("SET", "k", "v")
    assert c.call("CLIENT", "NO-TOUCH", "ON") == ("+", b"OK")
    time.sleep(1.2)
    c.call("GET", "k")
    assert int(c.call("OBJECT", "IDLETIME", "k")[1]) >= 1  # the GET did not touch it
    c.call("TOUCH", "k")  # TOUCH still does, as in Redis 7.2
    assert c.call("OBJECT", "IDLETIME", "k") == (":", b"0")
    time.sleep(1.2)
    c.call("CLIENT", "NO-TOUCH", "OFF")
    c.call("GET", "k")
    assert c.call("OBJECT", "IDLETIME", "k") == (":", b"0")
    assert c.call("CLIENT", "NO-TOUCH", "MAYBE") == ("-", b"ERR syntax error")
    assert c.call("CLIENT", "NO-TOUCH") == (
        "-", b"ERR wrong number of arguments for 'client|no-touch' command")


def test_client_list_subscription_counts_match_redis(server, redis_server):
    """sub=, psub= and ssub= count channels, patterns and shard channels apart."""
    seen = []
    for port in (server.port, redis_server.port):
        c, sub = Conn(port), Conn(port)
        sid = sub.call("CLIENT", "ID")[1].decode()
        sub.call("SUBSCRIBE", "a", "b")
        sub.read()  # the second confirmation
        sub.call("PSUBSCRIBE", "p*")
        sub.call("SSUBSCRIBE", "s1")
        sub.call("SSUBSCRIBE", "s2")
        sub.call("SSUBSCRIBE", "s3")
        f = fields(c.call("CLIENT", "LIST", "ID", sid)[1].decode())
        first = (f["sub"], f["psub"], f["ssub"], f["flags"])
        sub.call("SUNSUBSCRIBE", "s2")
        sub.call("UNSUBSCRIBE", "a")
        f = fields(c.call("CLIENT", "LIST", "ID", sid)[1].decode())
        seen.append((first, (f["sub"], f["psub"], f["ssub"])))
        c.close()
        sub.close()
    assert seen[0] == seen[1]
    assert seen[0] == (("2", "1", "3", "P"), ("1", "1", "2"))


def test_client_list_dirty_cas_flag_matches_redis(server, redis_server):
    """`d`: a key the client WATCHes was modified, so its EXEC will fail."""
    seen = []
    for port in (server.port, redis_server.port):
        c, w = Conn(port), Conn(port)
        wid = w.call("CLIENT", "ID")[1].decode()
        c.call("SET", "wk", "1")
        w.call("WATCH", "wk", "missing")
        flags = [fields(c.call("CLIENT", "LIST", "ID", wid)[1].decode())["flags"]]
        c.call("SET", "wk", "2")
        flags.append(fields(c.call("CLIENT", "LIST", "ID", wid)[1].decode())["flags"])
        w.call("MULTI")
        flags.append(fields(c.call("CLIENT", "LIST", "ID", wid)[1].decode())["flags"])
        assert w.call("EXEC") == ("*", None)
        flags.append(fields(c.call("CLIENT", "LIST", "ID", wid)[1].decode())["flags"])
        # A key missing at WATCH, then created.
        w.call("WATCH", "missing")
        c.call("SET", "missing", "x")
        flags.append(fields(c.call("CLIENT", "LIST", "ID", wid)[1].decode())["flags"])
        w.call("UNWATCH")
        flags.append(fields(c.call("CLIENT", "LIST", "ID", wid)[1].decode())["flags"])
        # Its own CLIENT INFO too.
        w.call("WATCH", "wk")
        c.call("DEL", "wk")
        flags.append(fields(w.call("CLIENT", "INFO")[1].decode())["flags"])
        c.call("FLUSHALL")
        seen.append(flags)
        c.close()
        w.close()
    assert seen[0] == seen[1]
    assert seen[0] == ["N", "d", "xd", "N", "d", "N", "d"]
