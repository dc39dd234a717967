"""COMMAND DOCS and COMMAND INFO side by side with the real redis-server 7.0, in RESP2 and
RESP3 (so map and set types are compared too).

COMMAND DOCS: the whole reply of a sample of commands of every family (summary, since,
group, complexity, doc flags, deprecation, history and the arguments with their nested
oneof/block arguments), then of every command and subcommand both servers have.
A container's subcommands come from a hash table in Redis, so their order is not
compared; each one Ferrite declares must be one Redis has, with the same docs.

COMMAND INFO: the ACL categories, the command tips and the key specs (with their notes),
then arity, flags and the first/last/step key, of every command and subcommand both
servers have."""
import pytest

from resp_compare import Conn

SAMPLE = [
    # strings, bitmaps, HyperLogLog
    "get", "set", "getset", "getex", "setrange", "incrbyfloat", "lcs", "setbit", "bitcount",
    "bitfield", "bitfield_ro", "bitop", "bitpos", "pfadd", "pfcount", "pfmerge",
    # keys, DUMP/RESTORE, SORT, SWAPDB
    "del", "expire", "object", "dump", "restore", "migrate", "sort", "sort_ro", "swapdb",
    "scan", "copy",
    # lists, hashes, sets, sorted sets, geo, streams
    "lpush", "blmove", "lmpop", "rpoplpush", "hset", "hmset", "hrandfield", "sadd",
    "smismember", "zadd", "zrangebyscore", "zrange", "zunionstore", "geoadd", "georadius",
    "geosearch", "geosearchstore", "xadd", "xtrim", "xautoclaim", "xreadgroup", "xclaim",
    "xgroup", "xinfo",
    # server, connection, scripting, pub/sub, transactions
    "config", "client", "client|kill", "client|list", "command", "info", "debug", "slowlog",
    "ping", "hello", "auth", "acl", "acl|setuser", "eval", "function", "script",
    "subscribe", "publish", "multi", "watch", "failover", "shutdown",
]
# Subcommands redis-server 7.0 has and Ferrite does not declare.
NOT_DECLARED = {"module|loadex", "script|debug"}


def as_map(node):
    tag, items = node
    assert tag in ("*", "%"), node
    return {items[i][1].decode(): items[i + 1] for i in range(0, len(items), 2)}


def docs(conn, name):
    reply = as_map(conn.call("COMMAND", "DOCS", name))
    assert list(reply) == [name], reply.keys()
    return reply[name]


def compare_docs(ours, theirs, where):
    """One command's COMMAND DOCS map, whole; subcommands by name. The differences."""
    mine, real = as_map(ours), as_map(theirs)
    bad = []
    if list(mine) != list(real):
        bad.append(f"{where}: fields {list(mine)} vs Redis {list(real)}")
    for field in real:
        if field == "subcommands" and field in mine:
            ms, rs = as_map(mine[field]), as_map(real[field])
            for sub in sorted(ms):
                if sub not in rs:
                    bad.append(f"{where}: subcommand {sub} unknown to Redis")
                else:
                    bad += compare_docs(ms[sub], rs[sub], sub)
            missing = set(rs) - set(ms) - NOT_DECLARED
            if missing:
                bad.append(f"{where}: subcommands missing {sorted(missing)}")
            if mine[field][0] != real[field][0]:
                bad.append(f"{where}: subcommands reply type {mine[field][0]} vs {real[field][0]}")
        elif mine.get(field) != real[field]:
            bad.append(f"{where} {field}:\n  ours   {mine.get(field)}\n  theirs {real[field]}")
    return bad


def docs_differences(server, redis_server, resp, names):
    """compare_docs for each name names(ours, theirs) gives."""
    a, b = Conn(server.port, resp), Conn(redis_server.port, resp)
    bad = []
    try:
        for name in names(a, b):
            bad += compare_docs(docs(a, name), docs(b, name), name)
    finally:
        a.close()
        b.close()
    return bad


@pytest.mark.parametrize("resp", [2, 3])
def test_command_docs_match_redis(server, redis_server, resp):
    bad = docs_differences(server, redis_server, resp, lambda a, b: SAMPLE)
    assert not bad, "\n".join(bad)


def test_nested_arguments_are_redis_shape(server):
    """SET's expiration: a optional oneof whose members carry their tokens and 'since'."""
    c = Conn(server.port, 3)
    try:
        args = as_map(docs(c, "set"))["arguments"][1]
        names = [as_map(a)["name"][1] for a in args]
        assert names == [b"key", b"value", b"condition", b"get", b"expiration"]
        expiration = as_map(args[4])
        assert expiration["type"] == ("$", b"oneof")
        assert expiration["flags"] == ("~", [("+", b"optional")])
        tokens = [as_map(a)["token"][1] for a in expiration["arguments"][1]]
        assert tokens == [b"EX", b"PX", b"EXAT", b"PXAT", b"KEEPTTL"]
        assert as_map(args[0])["key_spec_index"] == (":", b"0")
    finally:
        c.close()


def common_names(a, b):
    ours = {n[1].decode() for n in a.call("COMMAND", "LIST")[1]}
    theirs = {n[1].decode() for n in b.call("COMMAND", "LIST")[1]}
    both = sorted(ours & theirs)
    assert len(both) > 350, len(both)
    return both


@pytest.mark.parametrize("resp", [2, 3])
def test_every_command_docs_match_redis(server, redis_server, resp):
    bad = docs_differences(server, redis_server, resp, common_names)
    assert not bad, "\n".join(bad[:40])


def info_pairs(server, redis_server, resp):
    """(name, our COMMAND INFO entry, Redis') for every name both have."""
    a, b = Conn(server.port, resp), Conn(redis_server.port, resp)
    try:
        for name in common_names(a, b):
            (ours,), (theirs,) = a.call("COMMAND", "INFO", name)[1], b.call("COMMAND", "INFO", name)[1]
            yield name, ours[1], theirs[1]
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("resp", [2, 3])
def test_command_info_categories_tips_key_specs_match_redis(server, redis_server, resp):
    """Elements 7-9 of COMMAND INFO (categories, tips, key specs), and that a leaf's
    subcommand list has Redis' type (an empty set in RESP3)."""
    bad = []
    for name, ours, theirs in info_pairs(server, redis_server, resp):
        for i, what in ((6, "categories"), (7, "tips"), (8, "key specs")):
            if ours[i] != theirs[i]:
                bad.append(f"{name} {what}:\n  ours   {ours[i]}\n  theirs {theirs[i]}")
        if theirs[9] == ("~", []) and ours[9] != theirs[9]:
            bad.append(f"{name} subcommands: {ours[9]} vs {theirs[9]}")
    assert not bad, "\n".join(bad[:40])


# The known difference in COMMAND INFO's first elements: ZRANK and ZREVRANK take Redis
# 7.2's WITHSCORE (arity -3).
ARITY_DIFFERS = {"zrank", "zrevrank"}


@pytest.mark.parametrize("resp", [2, 3])
def test_command_info_arity_flags_key_range_match_redis(server, redis_server, resp):
    """Elements 2-6 (arity, flags, first/last/step key, which Redis derives from the key
    specs: ZUNIONSTORE 1 1 1, XGROUP CREATE 2 2 1, SPUBLISH 1 1 1)."""
    bad = []
    for name, ours, theirs in info_pairs(server, redis_server, resp):
        if name not in ARITY_DIFFERS and ours[1] != theirs[1]:
            bad.append(f"{name} arity {ours[1]} vs {theirs[1]}")
        if ours[2] != theirs[2]:
            bad.append(f"{name} flags {ours[2]} vs {theirs[2]}")
        if ours[3:6] != theirs[3:6]:
            bad.append(f"{name} first/last/step {ours[3:6]} vs {theirs[3:6]}")
    assert not bad, "\n".join(bad[:40])


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


def test_later_redis_commands_state_their_version_and_arguments(server):
    c = Conn(server.port)
    try:
        for name, since in (("hgetdel", b"8.0.0"), ("msetex", b"8.4.0"), ("hexpire", b"7.4.0"),
                            ("xackdel", b"8.2.0")):
            d = as_map(docs(c, name))
            assert d["since"] == ("$", since), name
            first = as_map(d["arguments"][1][0])
            assert first["type"] == ("$", b"integer" if name == "msetex" else b"key"), name
        fields = as_map(as_map(docs(c, "hsetex"))["arguments"][1][3])
        assert fields["token"] == ("$", b"FIELDS") and fields["type"] == ("$", b"block")
    finally:
        c.close()
