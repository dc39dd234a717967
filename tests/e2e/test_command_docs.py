"""COMMAND DOCS side by side with the real redis-server 7.0, for a sample of commands
of every family: summary, since, group, complexity, doc flags, deprecation and history
must be Redis' (RESP2 and RESP3, so the map and set types are compared too). Arguments
are not described by Ferrite and are left out of the comparison; a container's
subcommands are compared for those Ferrite declares (each must be one Redis has)."""
import pytest

from resp_compare import Conn

SAMPLE = [
    # strings, bitmaps, HyperLogLog
    "get", "set", "getset", "setrange", "incrbyfloat", "lcs", "setbit", "bitcount", "bitfield",
    "bitop", "pfadd", "pfcount", "pfmerge",
    # keys, DUMP/RESTORE, SORT, SWAPDB
    "del", "expire", "object", "dump", "restore", "migrate", "sort", "sort_ro", "swapdb",
    "scan", "copy",
    # lists, hashes, sets, sorted sets, geo, streams
    "lpush", "blmove", "rpoplpush", "hset", "hmset", "hrandfield", "sadd", "smismember",
    "zadd", "zrangebyscore", "zrange", "geoadd", "georadius", "geosearch", "xadd",
    "xautoclaim", "xreadgroup",
    # server, connection, scripting, pub/sub, transactions
    "config", "client", "command", "info", "debug", "slowlog", "ping", "hello", "auth",
    "eval", "function", "script", "subscribe", "publish", "multi", "watch",
]
OWN = {"subcommands"}  # compared separately
SKIP = {"arguments"}   # not described by Ferrite


def as_map(node):
    tag, items = node
    assert tag in ("*", "%"), node
    return {items[i][1].decode(): items[i + 1] for i in range(0, len(items), 2)}


def docs(conn, name):
    reply = as_map(conn.call("COMMAND", "DOCS", name))
    assert list(reply) == [name], reply.keys()
    return as_map(reply[name])


def compare(ours, theirs, where):
    """Fields of one command's docs; returns the differences."""
    bad = []
    for field in sorted((set(ours) | set(theirs)) - OWN - SKIP):
        if ours.get(field) != theirs.get(field):
            bad.append(f"{where} {field}: ours {ours.get(field)} theirs {theirs.get(field)}")
    return bad


@pytest.mark.parametrize("resp", [2, 3])
def test_command_docs_match_redis(server, redis_server, resp):
    a, b = Conn(server.port, resp), Conn(redis_server.port, resp)
    bad = []
    try:
        for name in SAMPLE:
            ours, theirs = docs(a, name), docs(b, name)
            bad += compare(ours, theirs, name)
            if "subcommands" in ours:
                mine, real = as_map(ours["subcommands"]), as_map(theirs["subcommands"])
                for sub in mine:
                    if sub not in real:
                        bad.append(f"{name}: subcommand {sub} unknown to Redis")
                    else:
                        bad += compare(as_map(mine[sub]), as_map(real[sub]), sub)
    finally:
        a.close()
        b.close()
    assert not bad, "\n".join(bad)


def test_since_is_redis_for_every_command_both_have(server, redis_server):
    """No command answers the placeholder 1.0.0 where Redis says otherwise."""
    a, b = Conn(server.port), Conn(redis_server.port)
    try:
        ours, theirs = as_map(a.call("COMMAND", "DOCS")), as_map(b.call("COMMAND", "DOCS"))
    finally:
        a.close()
        b.close()
    common = sorted(set(ours) & set(theirs))
    assert len(common) > 150
    bad = [n for n in common
           if as_map(ours[n]).get("since") != as_map(theirs[n]).get("since")]
    assert not bad, bad


def test_later_redis_commands_state_their_version(server):
    c = Conn(server.port)
    try:
        for name, since in (("hgetdel", b"8.0.0"), ("msetex", b"8.4.0"), ("hexpire", b"7.4.0")):
            assert docs(c, name)["since"] == ("$", since), name
    finally:
        c.close()
