"""COMMAND GETKEYS, GETKEYSANDFLAGS and LIST [FILTERBY ...] side by side with
redis-server 7.0: the same keys with the same key-spec flags, the same errors in the
same order, and the same commands under each filter (for the commands both servers
have)."""
from resp_compare import Conn

GETKEYS_CASES = [
    ["set", "k1", "v1"],
    ["set", "k1", "v1", "GET"],
    ["mset", "k1", "v1", "k2", "v2"],
    ["LMOVE", "k1", "k2", "left", "right"],
    ["sort", "k1", "store", "k2"],
    ["sort", "k1"],
    ["get", "k"],
    ["del", "a", "b", "c"],
    ["zunionstore", "dst", "2", "a", "b", "WEIGHTS", "1", "2"],
    ["eval", "return 1", "2", "x", "y", "arg"],
    ["eval", "return 1", "0"],
    ["fcall", "f", "0"],
    ["memory", "usage", "key"],
    ["xgroup", "create", "key", "g", "$"],
    ["lcs", "key1", "key2"],
    ["bitfield", "k", "GET", "u8", "0"],
    ["bitfield", "k", "SET", "u8", "0", "1"],
    ["blpop", "a", "b", "0"],
    ["rename", "a", "b"],
    ["georadius", "k", "0", "0", "1", "km", "STORE", "dst"],
    ["xread", "STREAMS", "s1", "s2", "0", "0"],
    ["migrate", "h", "1", "", "0", "5", "KEYS", "a", "b"],
    ["zunionstore", "dst", "0"],  # no key where one is required
    ["ping"],  # no key arguments at all
    ["get"],  # arity
    ["nosuchcommand", "a"],
    ["config", "get", "x"],
    ["config", "nosuchsub", "x"],
    ["spublish", "ch", "m"],
]


def test_getkeys_and_flags_match_redis(server, redis_server):
    ours, theirs = Conn(server.port), Conn(redis_server.port)
    for case in GETKEYS_CASES:
        for sub in ("GETKEYS", "GETKEYSANDFLAGS"):
            a = ours.call("COMMAND", sub, *case)
            b = theirs.call("COMMAND", sub, *case)
            assert a == b, (sub, case, a, b)
    # RESP3: the flags are a set of simple strings.
    ours3, theirs3 = Conn(server.port, resp=3), Conn(redis_server.port, resp=3)
    case = ["LMOVE", "k1", "k2", "left", "right"]
    assert ours3.call("COMMAND", "GETKEYSANDFLAGS", *case) == \
        theirs3.call("COMMAND", "GETKEYSANDFLAGS", *case)
    assert ours.call("COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1") == (
        "*", [("*", [("$", b"k1"), ("*", [("+", b"OW"), ("+", b"update")])])])


def names(reply):
    kind, items = reply
    assert kind == "*"
    return {v for _, v in items}


def test_command_list_filters_match_redis(server, redis_server):
    ours, theirs = Conn(server.port), Conn(redis_server.port)
    all_ours = names(ours.call("COMMAND", "LIST"))
    all_theirs = names(theirs.call("COMMAND", "LIST"))
    assert {b"set", b"client|list", b"config|get", b"command|getkeysandflags"} <= all_ours
    both = all_ours & all_theirs
    assert len(both) > 200
    for cat in ("scripting", "keyspace", "read", "write", "fast", "slow", "dangerous",
                "pubsub", "connection", "string", "list", "hash", "set", "sortedset",
                "stream", "admin", "blocking", "transaction", "bitmap", "geo",
                "hyperloglog", "SCRIPTING", "non_existing_category"):
        a = names(ours.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", cat)) & both
        b = names(theirs.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", cat)) & both
        assert a == b, (cat, sorted(a ^ b)[:10])
    for pattern in ("set", "config*", "config|*re*", "cl*help", "non_exists*", "*|help",
                    "x*", "[gs]et"):
        a = names(ours.call("COMMAND", "LIST", "FILTERBY", "PATTERN", pattern)) & both
        b = names(theirs.call("COMMAND", "LIST", "FILTERBY", "PATTERN", pattern)) & both
        assert a == b, (pattern, sorted(a ^ b)[:10])
    for bad in (["bad_arg"], ["filterby", "bad_arg"], ["filterby", "bad_arg", "bad_arg2"],
                ["filterby", "pattern"], ["filterby", "pattern", "a", "b"]):
        assert ours.call("COMMAND", "LIST", *bad) == theirs.call("COMMAND", "LIST", *bad), bad
    assert ours.call("COMMAND", "LIST", "FILTERBY", "MODULE", "non_existing_module") == ("*", [])


def test_command_list_filterby_module_names_a_plugin(server):
    c = Conn(server.port)
    mine = names(c.call("COMMAND", "LIST", "FILTERBY", "MODULE", "hashes"))
    assert b"hset" in mine and b"hget" in mine and b"get" not in mine
    # A host command belongs to no module, as Redis' own commands.
    assert b"config" not in names(c.call("COMMAND", "LIST", "FILTERBY", "MODULE", "scripting"))
    assert b"script|flush" in names(c.call("COMMAND", "LIST", "FILTERBY", "MODULE", "scripting"))


def test_command_help_lists_getkeysandflags(server, redis_server):
    assert Conn(server.port).call("COMMAND", "HELP") == Conn(redis_server.port).call("COMMAND", "HELP")
