"""Command policy flags as Redis 7.0 defines them (no-multi, noscript, allow-busy, loading,
stale), per subcommand for containers, checked side by side with redis-server:
COMMAND INFO, refusal inside MULTI (EXEC then aborts), refusal from scripts."""
from resp_compare import Conn, compare

# Flags Redis reports that Ferrite has no equivalent for (no cluster, no modules of Redis'
# kind); no_mandatory_keys and no_async_loading are compared in test_command_docs.py.
# Arities Ferrite widened on purpose: ZRANK/ZREVRANK take Redis 7.2's WITHSCORE.
WIDER_ARITY = {"zrank", "zrevrank"}
UNMODELLED = {b"asking", b"no_mandatory_keys",
              b"no_async_loading", b"module", b"may_replicate"}


def _info(port, names):
    c = Conn(port)
    try:
        _, rows = c.call("COMMAND", "INFO", *names)
    finally:
        c.close()
    out = {}
    for name, row in zip(names, rows):
        if row[1] is None:
            continue
        fields = row[1]
        flags = {f[1] for f in fields[2][1]} - UNMODELLED
        subs = {s[1][0][1]: ({f[1] for f in s[1][2][1]} - UNMODELLED, s[1][1][1])
                for s in fields[9][1]}
        out[name] = (flags, fields[1][1], subs)
    return out


def test_command_info_flags_match_redis(server, redis_server):
    c = Conn(server.port)
    try:
        _, count = c.call("COMMAND", "COUNT")
        _, rows = c.call("COMMAND")
    finally:
        c.close()
    names = [row[1][0][1].decode() for row in rows]
    assert len(names) == int(count)
    ours, theirs = _info(server.port, names), _info(redis_server.port, names)
    bad = []
    for name in names:
        if name not in theirs:
            continue  # a Ferrite-only command (none in Redis to compare with)
        (f1, a1, s1), (f2, a2, s2) = ours[name], theirs[name]
        if f1 != f2:
            bad.append(f"{name}: flags ours {sorted(f1)} redis {sorted(f2)}")
        if a1 != a2 and name not in WIDER_ARITY:
            bad.append(f"{name}: arity ours {a1} redis {a2}")
        for sub, (flags, arity) in s1.items():
            if sub not in s2:
                bad.append(f"{sub}: not a Redis 7.0 subcommand")
            elif s2[sub] != (flags, arity):
                bad.append(f"{sub}: ours {sorted(flags)} {arity} redis {sorted(s2[sub][0])} "
                           f"{s2[sub][1]}")
    assert not bad, "\n".join(bad)


MULTI_SCRIPT = """
MULTI
SET k v
SHUTDOWN NOSAVE
EXEC
GET k
MULTI
SAVE
EXEC
MULTI
CONFIG GET
EXEC
MULTI
CONFIG GET maxmemory
EXEC
CONFIG SET
CONFIG HELP extra
"""


def test_no_multi_commands_are_refused_at_queue_time(server, redis_server):
    from resp_compare import parse_script
    bad = compare(server.port, redis_server.port, parse_script(MULTI_SCRIPT))
    assert not bad, "\n".join(bad)
    assert server.proc.poll() is None  # EXEC did not run the queued SHUTDOWN
    assert server.redis().ping() is True


SCRIPT_CALLS = [
    ("blpop", "l", "0"), ("brpop", "l", "0"), ("bzpopmin", "z", "0"),
    ("client", "list"), ("client", "id"),
    ("config", "get", "maxmemory"), ("config", "help"),
    ("script", "help"), ("script", "exists", "x"), ("function", "stats"),
    ("multi",), ("exec",), ("watch", "k"), ("subscribe", "c"), ("shutdown",),
    ("save",), ("bgsave",), ("select", "0"), ("echo", "x"), ("ping",),
    ("object", "help"), ("pubsub", "numpat"), ("command", "count"),
]


def test_noscript_commands_are_refused_from_scripts(server, redis_server):
    script = []
    for call in SCRIPT_CALLS:
        args = ", ".join(f"'{a}'" for a in call)
        # pcall returns the error as a table; the text is what the two must agree on.
        lua = (f"local r = redis.pcall({args}) "
               "if type(r) == 'table' and r.err then return r.err end return 'ok'")
        script.append((["EVAL", lua, "0"], False))
    bad = compare(server.port, redis_server.port, script)
    assert not bad, "\n".join(bad)
