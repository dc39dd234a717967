"""ACL users and permissions, side by side with redis-server 7.0.

A seeded random trial gives the same ACL SETUSER rules to both servers, then runs the same
commands as that user: same refusals with the same error text, same ACL DRYRUN answers,
and the same ACL LOG entries (count, reason, context, object, username; not the age or the
client description, which name different ports). Specific cases follow: AUTH/HELLO, ACL
subcommand replies and errors, EXEC bodies, scripts, pub/sub disconnection, CLIENT
LIST/KILL USER, INFO counters, the aclfile and [security] users, memcached auth.
"""
import os
import random
import socket
import subprocess
import time

import pytest

from conftest import free_port, wait_for, wait_port
from resp_compare import Conn, encode

ADMIN_PW = "adminpw"

# Rules the random trials draw from (valid and invalid ones).
RULES = [
    "on", "off", ">pw1", ">pw2", "<pw1", "nopass", "resetpass", "#" + "a" * 64, "#xyz",
    "+@all", "-@all", "allcommands", "nocommands", "+@read", "-@read", "+@write", "-@write",
    "+@string", "-@string", "+@keyspace", "-@keyspace", "+@dangerous", "-@dangerous",
    "+@fast", "-@slow", "+@pubsub", "+@list", "+@hash", "+@connection", "+@admin", "+@bogus",
    "+get", "-get", "+set", "-set", "+mget", "+copy", "+del", "+publish", "+subscribe",
    "+config|get", "-config|set", "+select|0", "+client|id", "+nosuchcmd", "-config|get",
    "+get|x", "+config|", "~k*", "~*", "allkeys", "resetkeys", "%R~r*", "%W~w*", "%RW~b*",
    "%X~bad", "~a b", "&ch*", "&*", "allchannels", "resetchannels", "&other",
    "(~s* +set)", "(%R~x* +@read)", "(+get ~g*", "clearselectors", "reset",
]

# Commands run as the user (keys prefixed so the rules' patterns hit and miss).
COMMANDS = [
    ["GET", "k1"], ["GET", "r1"], ["GET", "w1"], ["GET", "b1"], ["GET", "s1"], ["GET", "x1"],
    ["SET", "k1", "v"], ["SET", "w1", "v"], ["SET", "r1", "v"], ["SET", "s1", "v"],
    ["SET", "w2", "v", "GET"], ["MGET", "k1", "r1", "w1"], ["COPY", "r1", "w3"],
    ["COPY", "w1", "r3"], ["DEL", "w1", "k2"], ["EXISTS", "x1"], ["INCR", "b2"],
    ["LPUSH", "kl", "a"], ["HSET", "kh", "f", "v"], ["PUBLISH", "ch1", "m"],
    ["PUBLISH", "other", "m"], ["CONFIG", "GET", "maxmemory"], ["CONFIG", "SET", "maxmemory", "0"],
    ["SELECT", "0"], ["SELECT", "1"], ["CLIENT", "ID"], ["FLUSHALL"], ["KEYS", "*"],
    ["SORT", "kl", "STORE", "w9"], ["SORT", "kl", "BY", "nosort"], ["PING"], ["ECHO", "hi"],
]


def is_error(r):
    return r[0] == "-"


def admin(port):
    c = Conn(port)
    r = c.call("AUTH", "admin", ADMIN_PW)
    assert r == ("+", b"OK"), r
    return c


def setup_admin(port):
    """An admin user, then the default user locked (as production configs do)."""
    c = Conn(port)
    assert c.call("ACL", "SETUSER", "admin", "on", ">" + ADMIN_PW, "~*", "&*", "+@all")[0] == "+"
    c.close()


def log_fields(reply):
    """ACL LOG entries without age-seconds and client-info."""
    t, entries = reply
    out = []
    for e in entries:
        kv = e[1]
        d = {kv[i][1]: kv[i + 1] for i in range(0, len(kv), 2)}
        out.append({k: d[k] for k in (b"count", b"reason", b"context", b"object", b"username")})
    return out


@pytest.fixture
def pair(server, redis_server):
    setup_admin(server.port)
    setup_admin(redis_server.port)
    return server, redis_server


def run_trial(rng, ports):
    """One random user: the same rules and commands on both servers. Returns mismatches."""
    rules = rng.sample(RULES, rng.randint(1, 6))
    # Mostly usable users: on, with a password.
    if rng.random() < 0.8:
        rules = ["on", ">pw1"] + rules
    bad = []
    results = []
    for port in ports:
        a = admin(port)
        a.call("FLUSHALL")
        a.call("ACL", "LOG", "RESET")
        a.call("ACL", "DELUSER", "u")
        for k in ("k1", "r1", "w1", "b1", "s1", "x1"):
            a.call("SET", k, "v" + k)
        a.call("RPUSH", "kl", "3", "1", "2")
        out = {"setuser": a.call("ACL", "SETUSER", "u", *rules)}
        getuser = a.call("ACL", "GETUSER", "u")
        if getuser[0] in ("%", "*") and getuser[1]:
            kv = getuser[1]
            d = {kv[i][1]: kv[i + 1] for i in range(0, len(kv), 2)}
            out["getuser"] = {k: d[k] for k in (b"flags", b"passwords", b"keys", b"channels")}
        else:
            out["getuser"] = getuser
        dry = []
        for cmd in COMMANDS:
            dry.append(a.call("ACL", "DRYRUN", "u", *cmd))
        out["dryrun"] = dry
        u = Conn(port)
        out["auth"] = u.call("AUTH", "u", "pw1")
        replies = []
        if out["auth"] == ("+", b"OK"):
            for cmd in COMMANDS:
                if cmd == ["FLUSHALL"]:
                    continue  # would wipe the keys the other commands need
                r = u.call(*cmd)
                replies.append(r if is_error(r) else "ok")
        out["replies"] = replies
        u.close()
        out["log"] = log_fields(a.call("ACL", "LOG"))
        a.close()
        results.append(out)
    ours, theirs = results
    for k in ours:
        if ours[k] != theirs[k]:
            if k in ("dryrun", "replies"):
                for i, (x, y) in enumerate(zip(ours[k], theirs[k])):
                    if x != y:
                        bad.append(f"rules {rules} {k} #{i}: ours {x} theirs {y}")
            else:
                bad.append(f"rules {rules} {k}:\n  ours   {ours[k]}\n  theirs {theirs[k]}")
    return bad


@pytest.mark.parametrize("seed", range(3))
def test_random_rules_match_redis(pair, seed):
    server, peer = pair
    rng = random.Random(1000 + seed)
    bad = []
    for _ in range(15):
        bad += run_trial(rng, (server.port, peer.port))
    assert not bad, "\n".join(bad[:20])


def both(pair, *cmds, conn_setup=None):
    """Runs the same raw commands on both servers (one connection each); returns both
    reply lists."""
    out = []
    for srv in pair:
        c = Conn(srv.port)
        if conn_setup:
            for s in conn_setup:
                c.call(*s)
        out.append([c.call(*cmd) for cmd in cmds])
        c.close()
    return out


def test_acl_subcommand_replies_match_redis(pair):
    admin_auth = [("AUTH", "admin", ADMIN_PW)]
    cmds = [
        ("ACL", "SETUSER", "bad user"),
        ("ACL", "SETUSER", "x", "(+get"),
        ("ACL", "SETUSER", "x", "+nosuch"),
        ("ACL", "SETUSER", "x", "~*", "~k"),
        ("ACL", "SETUSER", "x", "&*", "&k"),
        ("ACL", "SETUSER", "x", "<nope"),
        ("ACL", "SETUSER", "x", "#bad"),
        ("ACL", "SETUSER", "x", "+config|get|x"),
        ("ACL", "SETUSER", "x", "bogus"),
        ("ACL", "SETUSER", "x", "on", "#" + "b" * 64, "~k1", "%R~r*", "&c1", "-@all", "+get"),
        ("ACL", "GETUSER", "x"),
        ("ACL", "GETUSER", "nobody"),
        ("ACL", "SETUSER", "y", "(~a* +get)", "(%W~b* +set)"),
        ("ACL", "GETUSER", "y"),
        ("ACL", "LIST"),
        ("ACL", "USERS"),
        ("ACL", "WHOAMI"),
        ("ACL", "CAT", "nope"),
        ("ACL", "DELUSER", "default"),
        ("ACL", "DELUSER", "y", "nobody"),
        ("ACL", "DRYRUN", "nobody", "get", "k"),
        ("ACL", "DRYRUN", "x", "nosuch"),
        ("ACL", "DRYRUN", "x", "get"),
        ("ACL", "DRYRUN", "x", "get", "k1"),
        ("ACL", "DRYRUN", "x", "get", "zz"),
        ("ACL", "DRYRUN", "x", "set", "k1", "v"),
        ("ACL", "GENPASS", "0"),
        ("ACL", "GENPASS", "x"),
        ("ACL", "GENPASS", "4097"),
        ("ACL", "LOG", "x"),
        # declared subcommands given arguments none of their forms takes
        ("ACL", "CAT", "a", "b"),
        ("ACL", "Cat", "a", "b"),
        ("ACL", "LOG", "RESET", "x"),
        ("ACL", "LOG", "1", "2"),
        ("ACL", "GENPASS", "1", "2"),
        ("ACL", "LOAD"),
        ("ACL", "SAVE"),
        ("ACL", "NOSUCH"),
        ("ACL", "GETUSER"),
        ("ACL", "HELP"),
        ("AUTH", "a", "b", "c"),
    ]
    ours, theirs = both(pair, *cmds, conn_setup=admin_auth)
    bad = [f"{c}\n  ours   {x}\n  theirs {y}" for c, x, y in zip(cmds, ours, theirs) if x != y]
    assert not bad, "\n".join(bad)
    # GENPASS lengths, CAT as sets (Redis lists them in its hash table's order).
    for srv in pair:
        c = admin(srv.port)
        assert len(c.call("ACL", "GENPASS")[1]) == 64
        assert len(c.call("ACL", "GENPASS", "5")[1]) == 2
        c.close()
    o, t = both(pair, ("ACL", "CAT"), ("ACL", "CAT", "string"), ("ACL", "CAT", "dangerous"),
                conn_setup=admin_auth)
    assert o[0] == t[0]
    for x, y in zip(o[1:], t[1:]):
        ours_set, theirs_set = {e[1] for e in x[1]}, {e[1] for e in y[1]}
        # Ferrite lacks a few of Redis' commands; it must not list any Redis does not.
        assert ours_set <= theirs_set, ours_set - theirs_set


def test_auth_and_hello_match_redis(pair):
    admin_auth = [("AUTH", "admin", ADMIN_PW)]
    both(pair, ("ACL", "SETUSER", "alice", "on", ">secret", "~*", "+@all"),
         ("ACL", "SETUSER", "bob", "off", ">secret", "~*", "+@all"), ("ACL", "LOG", "RESET"),
         conn_setup=admin_auth)
    cmds = [("AUTH", "alice", "wrong"), ("AUTH", "bob", "secret"), ("AUTH", "nobody", "x"),
            ("HELLO", "2", "AUTH", "alice", "nope"), ("AUTH", "alice", "secret"),
            ("ACL", "WHOAMI"), ("AUTH", "onlypass")]
    ours, theirs = both(pair, *cmds)
    assert ours == theirs
    o, t = both(pair, ("ACL", "LOG"), conn_setup=admin_auth)
    assert log_fields(o[0]) == log_fields(t[0])
    # requirepass sets the default user's password; AUTH <pass> then works.
    o, t = both(pair, ("CONFIG", "SET", "requirepass", "pp"), conn_setup=admin_auth)
    assert o == t
    ours, theirs = both(pair, ("GET", "x"), ("AUTH", "pp"), ("ACL", "WHOAMI"),
                        ("ACL", "GETUSER", "default"))
    assert ours[:3] == theirs[:3]


def test_denials_in_multi_exec_and_scripts_match_redis(pair):
    admin_auth = [("AUTH", "admin", ADMIN_PW)]
    both(pair, ("ACL", "SETUSER", "m", "on", ">p", "~k*", "+@all", "-flushall"),
         ("ACL", "LOG", "RESET"), conn_setup=admin_auth)
    user = [("AUTH", "m", "p")]
    cmds = [("MULTI",), ("SET", "k1", "v"), ("SET", "z1", "v"), ("EXEC",),
            ("MULTI",), ("SET", "k1", "v"), ("FLUSHALL",), ("EXEC",),
            ("EVAL", "return redis.call('get', 'z9')", "0"),
            ("EVAL", "return redis.pcall('flushall')", "0"),
            ("EVAL", "return redis.pcall('get', 'k9')", "0")]
    ours, theirs = both(pair, *cmds, conn_setup=user)
    # EVAL errors carry Redis' script location; compare up to it.
    def norm(r):
        if r[0] == "-" and b" script:" in r[1]:
            return ("-", r[1].split(b" script:")[0])
        return r
    assert [norm(r) for r in ours] == [norm(r) for r in theirs]
    o, t = both(pair, ("ACL", "LOG"), conn_setup=admin_auth)
    assert log_fields(o[0]) == log_fields(t[0])


def test_script_acl_check_cmd_matches_redis(pair):
    """redis.acl_check_cmd answers for the script's caller: true, false (command, key,
    subcommand refused) or an error for an unknown command; nothing goes to ACL LOG."""
    admin_auth = [("AUTH", "admin", ADMIN_PW)]
    both(pair, ("ACL", "SETUSER", "sc", "on", ">p", "~x*", "+@all", "-hset", "-config|set"),
         ("ACL", "LOG", "RESET"), conn_setup=admin_auth)
    check = "return redis.acl_check_cmd(unpack(ARGV))"
    cmds = [("EVAL", check, "0", *args) for args in (
        ("set", "xx", "1"), ("hset", "xx", "f", "1"), ("set", "yy", "1"), ("GET", "x1"),
        ("config", "get", "maxmemory"), ("config", "set", "maxmemory", "0"),
        ("config", "nosuch"), ("invalid-cmd", "arg"), ("get",))]
    cmds += [("EVAL", "return redis.acl_check_cmd()", "0"),
             ("EVAL", "return redis.acl_check_cmd('get', {})", "0"),
             ("EVAL", "return redis.acl_check_cmd('get', 5)", "0")]
    ours, theirs = both(pair, *cmds, conn_setup=[("AUTH", "sc", "p")])

    def norm(r):  # errors carry the script's location in Redis' own words
        if r[0] == "-" and b" script:" in r[1]:
            return ("-", r[1].split(b" script:")[0])
        return r
    assert [norm(r) for r in ours] == [norm(r) for r in theirs]
    assert ours[0] == (":", b"1") and ours[1] == ("$", None)
    o, t = both(pair, ("ACL", "LOG"), conn_setup=admin_auth)
    assert log_fields(o[0]) == log_fields(t[0]) == []
    # As a function too (the same redis table).
    lib = "#!lua name=acl\nredis.register_function('chk', function(k, a) return redis.acl_check_cmd(unpack(a)) end)"
    both(pair, ("FUNCTION", "LOAD", "REPLACE", lib), conn_setup=admin_auth)
    ours, theirs = both(pair, ("FCALL", "chk", "0", "set", "xa", "1"), ("FCALL", "chk", "0", "set", "ya", "1"),
                        conn_setup=[("AUTH", "sc", "p")])
    assert ours == theirs and ours == [(":", b"1"), ("$", None)]


def test_acl_errors_count_in_errorstats_as_redis(pair):
    """ACL's own error replies are error replies like any other: INFO errorstats and
    total_error_replies move as on redis-server."""
    admin_auth = [("AUTH", "admin", ADMIN_PW)]
    cmds = [("CONFIG", "RESETSTAT"), ("ACL", "SETUSER", "x", "+nosuch"),
            ("ACL", "DELUSER", "default"), ("ACL", "CAT", "nosuch"), ("ACL", "NOPE"),
            ("INFO", "errorstats")]
    ours, theirs = both(pair, *cmds, conn_setup=admin_auth)
    assert ours[:-1] == theirs[:-1]
    assert ours[-1] == theirs[-1] and b"errorstat_ERR:count=4" in ours[-1][1], ours[-1]


def test_memcached_binary_sasl_as_acl_user(server_factory):
    """Binary SASL PLAIN authenticates an ACL user (authcid); its key patterns then apply,
    a refusal is memcached's auth-error status and an ACL LOG entry."""
    import struct
    srv = server_factory({"compatibility.memcached_protocol": "true",
                          "security.users": "bin on >bpw ~m* +@all"})
    r = Conn(srv.port)
    r.call("ACL", "SETUSER", "default", "resetpass", ">dpw")
    r.close()

    def pkt(op, key=b"", extras=b"", value=b""):
        body = extras + key + value
        return struct.pack(">BBHBBHIIQ", 0x80, op, len(key), len(extras), 0, 0, len(body), 0, 0) + body

    def status_of(sock, n):
        out = []
        buf = b""
        while len(out) < n:
            chunk = sock.recv(4096)
            assert chunk, "connection closed"
            buf += chunk
            while len(buf) >= 24:
                total = struct.unpack(">I", buf[8:12])[0]
                if len(buf) < 24 + total:
                    break
                out.append((buf[1], struct.unpack(">H", buf[6:8])[0]))
                buf = buf[24 + total:]
        return out

    s = socket.create_connection(("127.0.0.1", srv.mc_port), timeout=5)
    set_extras = struct.pack(">II", 0, 0)
    s.sendall(pkt(0x21, b"PLAIN", b"", b"\0bin\0wrong") + pkt(0x21, b"PLAIN", b"", b"\0bin\0bpw") +
              pkt(0x01, b"m1", set_extras, b"v") + pkt(0x00, b"m1") + pkt(0x01, b"z1", set_extras, b"v") +
              pkt(0x0a))
    got = status_of(s, 6)
    # auth failure, authenticated, set ok, get ok, set refused (auth error), noop
    assert got == [(0x21, 0x20), (0x21, 0), (0x01, 0), (0x00, 0), (0x01, 0x20), (0x0a, 0)], got
    s.close()
    r = Conn(srv.port)
    r.call("AUTH", "dpw")
    log = log_fields(r.call("ACL", "LOG"))
    assert {b"reason": ("$", b"key"), b"context": ("$", b"toplevel"), b"object": ("$", b"z1"),
            b"username": ("$", b"bin"), b"count": (":", b"1")} in log, log
    assert any(e[b"reason"] == ("$", b"auth") and e[b"username"] == ("$", b"bin") for e in log), log
    r.close()


def test_exec_recheck_after_rules_change_matches_redis(pair):
    out = []
    for srv in pair:
        a = admin(srv.port)
        a.call("ACL", "SETUSER", "e", "on", ">p", "~*", "+@all")
        u = Conn(srv.port)
        u.call("AUTH", "e", "p")
        u.call("MULTI")
        u.call("SET", "k", "v")
        u.call("GET", "k")
        a.call("ACL", "SETUSER", "e", "-set")
        out.append(u.call("EXEC"))
        out.append(log_fields(a.call("ACL", "LOG", "1")))
        u.close()
        a.close()
    assert out[0] == out[2] and out[1] == out[3], out


# Subscribers of user "ps" (and two others), each: (name, resp, user, subscribe commands).
SUBSCRIBERS = [
    ("A", 2, "ps", [("SUBSCRIBE", "news.1")]),
    ("B", 2, "ps", [("SUBSCRIBE", "sports")]),
    ("C", 2, "ps", [("PSUBSCRIBE", "news.*")]),
    ("D", 2, "ps", [("SSUBSCRIBE", "shard:1")]),
    ("E", 2, "ps", [("SUBSCRIBE", "audit")]),
    ("F", 2, "ps", [("SUBSCRIBE", "news.2", "sports")]),
    ("G", 3, "ps", [("SUBSCRIBE", "alerts.x"), ("PSUBSCRIBE", "alerts.?")]),
    ("H", 2, "ps", []),  # no subscription: never a pub/sub client
    ("K", 2, "ps", [("SUBSCRIBE", "sports"), ("UNSUBSCRIBE",)]),  # none left
    ("I", 2, "other", [("SUBSCRIBE", "news.1", "sports")]),  # another user
]

# The rule changes, in order, with whom Redis 7.0 disconnects at each (checked below, so
# the scenario is known to exercise what it means to).
STEPS = [
    (["&more"], ""),                                                      # a superset
    (["resetchannels", "&news.*", "&sports", "&alerts.?", "&alerts.x"], ""),  # all still allowed
    (["resetchannels", "&news.[12]", "&sports", "&alerts.?", "&alerts.x"], "C"),  # pattern: literal
    (["clearselectors", "(~* +@all &shard:1)"], "E"),                  # selector rules count
    (["resetchannels", "&news.[12]", "&alerts.?"], "BF"),              # channels: glob
    (["resetchannels", "&news.[12]", "&alerts.x"], "G"),
    (["clearselectors", "(~* +@all allchannels)"], ""),                 # a selector with all
    (["resetchannels", "clearselectors"], "AD"),
]

PUBLISHES = [("PUBLISH", "news.1", "m1"), ("PUBLISH", "news.2", "m2"),
             ("PUBLISH", "sports", "m3"), ("PUBLISH", "audit", "m4"),
             ("PUBLISH", "alerts.x", "m5"), ("SPUBLISH", "shard:1", "m6")]


def read_until_pong(c):
    """What a subscriber reads up to its PING's answer, or "closed"."""
    got = []
    try:
        c.s.sendall(b"*1\r\n$4\r\nPING\r\n")
        while True:
            r = c.read()
            got.append(r)
            if r == ("+", b"PONG") or r == ("*", [("$", b"pong"), ("$", b"")]):
                return got
    except OSError:  # ConnectionError included
        return "closed"


def pubsub_revocation_transcript(port):
    a = admin(port)
    a.call("ACL", "SETUSER", "ps", "on", ">p", "~*", "+@all", "resetchannels", "&news.*",
           "&sports", "&alerts.?", "&alerts.x", "&extra", "(~* +@all &shard:* &audit)")
    a.call("ACL", "SETUSER", "other", "on", ">p", "~*", "+@all", "&*")
    subs = {}
    for name, resp, user, cmds in SUBSCRIBERS:
        c = Conn(port, resp=resp)
        c.s.settimeout(5)
        assert c.call("AUTH", user, "p") == ("+", b"OK"), name
        for cmd in cmds:
            c.s.sendall(encode(cmd))
            for _ in range(max(1, len(cmd) - 1)):
                r = c.read()
                assert r[0] in ("*", ">"), (name, cmd, r)
        subs[name] = c
    out = []
    for rules, _ in STEPS:
        step = {"setuser": a.call("ACL", "SETUSER", "ps", *rules)}
        # Who is still connected: a PING reaches each subscriber after the disconnection
        # SETUSER posted to its thread (Ferrite closes a client on its own thread, as
        # CLIENT KILL does; Redis before replying).
        step["alive"] = {n: read_until_pong(c) for n, c in subs.items()}
        for n in [n for n, r in step["alive"].items() if r == "closed"]:
            subs.pop(n).close()
        # ... and gone from the server (its subscriptions dropped) before publishing.
        wait_for(lambda: len(a.call("CLIENT", "LIST")[1].splitlines()) == len(subs) + 1,
                 timeout=5, what="closed clients gone from CLIENT LIST")
        step["receivers"] = [a.call(*p) for p in PUBLISHES]
        step["read"] = {n: read_until_pong(c) for n, c in subs.items()}
        out.append(step)
    for c in subs.values():
        c.close()
    a.close()
    return out


def test_subscribers_disconnected_as_redis_when_channels_revoked(pair):
    """ACL SETUSER disconnects exactly the subscribers of the user whose channels, shard
    channels (glob against every selector's rules) or patterns (literally one of them) the
    new rules refuse, as Redis 7.0's ACLKillPubsubClientsIfNeeded."""
    server, peer = pair
    ours = pubsub_revocation_transcript(server.port)
    theirs = pubsub_revocation_transcript(peer.port)
    for i, ((rules, expect), o, t) in enumerate(zip(STEPS, ours, theirs)):
        closed = "".join(sorted(n for n, r in t["alive"].items() if r == "closed"))
        assert closed == expect, f"step {i} {rules}: redis-server closed {closed!r}"
        assert o == t, f"step {i} {rules}:\n  ours   {o}\n  theirs {t}"


ACLFILE_BEFORE = """user default on nopass ~* &* +@all
user admin on >adminpw ~* &* +@all
user ps on >p ~* &* +@all
user q on >p ~* &* +@all
"""
# The default user keeps fewer channels; "q" is gone.
ACLFILE_AFTER = """user default on nopass ~* +@all resetchannels &news.*
user admin on >adminpw ~* &* +@all
user ps on >p ~* &* +@all
"""


def deluser_and_load_transcript(port, aclfile):
    """ACL DELUSER and ACL LOAD with subscribers connected: who is disconnected."""
    clients = {}
    for name, user, cmd in [("D1", "default", ("SUBSCRIBE", "sports")),
                            ("D2", "default", ("PSUBSCRIBE", "sp*")),
                            ("P1", "ps", ("SUBSCRIBE", "news.1")), ("P2", "ps", None),
                            ("Q1", "q", ("SUBSCRIBE", "news.1")), ("Q2", "q", None)]:
        c = Conn(port)
        c.s.settimeout(5)
        if user != "default":
            assert c.call("AUTH", user, "p") == ("+", b"OK")
        if cmd:
            assert c.call(*cmd)[0] == "*"
        clients[name] = c
    a = admin(port)
    out = {"deluser": a.call("ACL", "DELUSER", "q")}
    out["after_deluser"] = {n: read_until_pong(c) for n, c in clients.items()}
    aclfile.write_text(ACLFILE_AFTER)
    out["load"] = a.call("ACL", "LOAD")
    out["after_load"] = {n: read_until_pong(c) for n, c in clients.items()}
    out["admin_after_load"] = read_until_pong(a)
    for c in list(clients.values()) + [a]:
        c.close()
    return out


def test_deluser_and_load_disconnect_as_redis(server_factory, tmp_path):
    """ACL DELUSER closes every client of the user; ACL LOAD every client of a user other
    than default (the caller's after its reply), and leaves the default user's
    subscribers connected even when the loaded rules refuse their channels: Redis 7.0."""
    results = []
    for side in ("ferrite", "redis"):
        path = tmp_path / f"{side}.acl"
        path.write_text(ACLFILE_BEFORE)
        if side == "ferrite":
            srv = server_factory({"security.aclfile": str(path)})
            results.append(deluser_and_load_transcript(srv.port, path))
            continue
        port = free_port()
        p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--aclfile", str(path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port, p)
            results.append(deluser_and_load_transcript(port, path))
        finally:
            p.terminate()
            p.wait(10)
    ours, theirs = results
    assert theirs["after_deluser"]["Q1"] == "closed" and theirs["after_load"]["D1"] != "closed"
    assert ours == theirs, f"\n  ours   {ours}\n  theirs {theirs}"


def test_client_list_user_and_kill_user(server):
    setup_admin(server.port)
    a = admin(server.port)
    a.call("ACL", "SETUSER", "k", "on", ">p", "~*", "+@all")
    u = Conn(server.port)
    u.call("AUTH", "k", "p")
    listing = a.call("CLIENT", "LIST")[1].decode()
    assert " user=k " in listing and " user=admin " in listing
    assert a.call("CLIENT", "KILL", "USER", "nobody") == ("-", b"ERR No such user 'nobody'")
    assert a.call("CLIENT", "KILL", "USER", "k") == (":", b"1")
    u.s.settimeout(5)
    with pytest.raises((ConnectionError, OSError)):
        u.call("PING")
    a.close()


def test_info_acl_counters(server):
    setup_admin(server.port)
    a = admin(server.port)
    a.call("ACL", "SETUSER", "c", "on", ">p", "~k*", "&ch", "+get", "+publish")
    u = Conn(server.port)
    u.call("AUTH", "c", "bad")
    u.call("AUTH", "c", "p")
    u.call("SET", "k", "v")
    u.call("GET", "z")
    u.call("PUBLISH", "nope", "x")
    info = a.call("INFO", "stats")[1].decode()
    for field, n in (("auth", 1), ("cmd", 1), ("key", 1), ("channel", 1)):
        assert f"acl_access_denied_{field}:{n}\r\n" in info, info
    a.close()


def test_aclfile_load_save_and_errors(server_factory, tmp_path):
    path = tmp_path / "users.acl"
    path.write_text("user default on nopass ~* &* +@all\nuser ro on >r ~* -@all +@read\n")
    srv = server_factory({"security.aclfile": str(path)})
    c = Conn(srv.port)
    assert c.call("ACL", "USERS") == ("*", [("$", b"default"), ("$", b"ro")])
    assert c.call("ACL", "SETUSER", "w", "on", ">w", "~*", "+set")[0] == "+"
    assert c.call("ACL", "SAVE") == ("+", b"OK")
    text = path.read_text()
    assert "user w on #" in text and "+set" in text
    path.write_text("user default on nopass ~* &* +@all\nuser bad on +nosuch\nfoo\n")
    err = c.call("ACL", "LOAD")
    assert err[0] == "-"
    assert (f"{path}:2: Error in applying operation '+nosuch': Unknown command or category "
            f"name in ACL. ").encode() in err[1]
    assert f"{path}:3 should start with user keyword".encode() in err[1]
    assert err[1].endswith(b"WARNING: ACL errors detected, no change to the previously active "
                           b"ACL rules was performed")
    assert c.call("ACL", "USERS")[1][-1] == ("$", b"w")  # unchanged
    c.close()


def test_config_users_and_memcached_auth(server_factory):
    srv = server_factory({"compatibility.memcached_protocol": "true",
                          "security.users": "mc on >mcpw ~m* +@all"})
    c = Conn(srv.port)
    assert c.call("ACL", "GETUSER", "mc")[0] in ("*", "%")
    c.close()
    # A text-protocol `set` of "user pass" authenticates (memcached's --auth-file mode)
    # only when auth is needed: lock the default user first.
    c = Conn(srv.port)
    c.call("ACL", "SETUSER", "default", "resetpass", ">dpw")
    c.close()
    s = socket.create_connection(("127.0.0.1", srv.mc_port), timeout=5)
    data = b"mc mcpw"
    s.sendall(b"set auth 0 0 %d\r\n%s\r\n" % (len(data), data))
    assert s.recv(100) == b"STORED\r\n"
    s.sendall(b"set m1 0 0 1\r\nx\r\n")
    assert s.recv(100) == b"STORED\r\n"
    s.sendall(b"set z1 0 0 1\r\nx\r\n")
    reply = s.recv(200)
    assert reply.startswith(b"SERVER_ERROR NOPERM"), reply
    s.close()
    r = Conn(srv.port)
    r.call("AUTH", "dpw")
    log = log_fields(r.call("ACL", "LOG", "1"))
    assert log == [{b"count": (":", b"1"), b"reason": ("$", b"key"), b"context": ("$", b"toplevel"),
                    b"object": ("$", b"z1"), b"username": ("$", b"mc")}]
    r.close()


def test_sort_by_get_patterns_match_redis(pair):
    admin_auth = [("AUTH", "admin", ADMIN_PW)]
    both(pair, ("ACL", "SETUSER", "so", "on", ">p", "~k*", "+@all"),
         ("ACL", "SETUSER", "sr", "on", ">p", "%R~*", "~k*", "+@all"),
         ("RPUSH", "klist", "2", "1"), conn_setup=admin_auth)
    cmds = [("SORT", "klist", "BY", "w_*"), ("SORT", "klist", "GET", "#"),
            ("SORT", "klist", "BY", "nosort"), ("SORT", "klist"), ("SORT", "klist", "STORE", "z")]
    ours, theirs = both(pair, *cmds, conn_setup=[("AUTH", "so", "p")])
    assert ours == theirs
    ours, theirs = both(pair, *cmds[:2], conn_setup=[("AUTH", "sr", "p")])
    assert ours == theirs


def test_replica_authenticates_as_replication_user(server_factory):
    """Redis' documented replication user: +psync +replconf +ping and nothing else."""
    primary = server_factory({"security.users": "default on >dpw ~* &* +@all"})
    a = Conn(primary.port)
    a.call("AUTH", "dpw")
    assert a.call("ACL", "SETUSER", "repl", "on", ">rpw", "+psync", "+replconf", "+ping") == ("+", b"OK")
    a.call("SET", "k", "v")
    replica = server_factory({"replication.masteruser": "repl", "replication.masterauth": "rpw"})
    r = Conn(replica.port)
    r.call("REPLICAOF", "127.0.0.1", str(primary.port))
    deadline = time.time() + 20
    while time.time() < deadline:
        if r.call("GET", "k") == ("$", b"v"):
            break
        time.sleep(0.1)
    assert r.call("GET", "k") == ("$", b"v")
    # No denials on the way (the link needs nothing beyond those three commands).
    assert a.call("ACL", "LOG") == ("*", [])
    r.close()
    a.close()


def test_startup_users_may_name_service_commands(server_factory):
    """[security] users load once the replication and persistence commands exist: Redis'
    documented replication user names +psync +replconf, and a category covers SLAVEOF and
    BGSAVE as at run time (the server refused to start, then left them out)."""
    srv = server_factory({"security.users": "default on >dpw ~* &* +@all,"
                          "repl on >rpw +psync +replconf +ping,ops on >opw -@all +@admin"})
    c = Conn(srv.port)
    assert c.call("AUTH", "dpw") == ("+", b"OK")
    for user, cmd in (("repl", ["PSYNC", "?", "-1"]), ("repl", ["REPLCONF", "listening-port", "1"]),
                      ("ops", ["SLAVEOF", "NO", "ONE"]), ("ops", ["BGSAVE"]),
                      ("ops", ["DEBUG", "SLEEP", "0"])):
        assert c.call("ACL", "DRYRUN", user, *cmd) == ("+", b"OK"), (user, cmd)
    c.close()
