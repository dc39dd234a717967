"""FUNCTION LOAD's library metadata line ("#!<engine> name=<lib>") side by side with
redis-server 7.0: engine names are case-insensitive, `name=` too, quoting follows
sdssplitargs, and each bad line gets Redis' error in Redis' order of checks."""
from resp_compare import compare

BODY = "\nredis.register_function('f%d', function() return %d end)"

SHEBANGS = [
    "#!lua name=l0", "#!LUA name=l1", "#!Lua NAME=l2", "#!lua name=\"l3\"",
    "#!lua   name=l4  ", "#!lua name=l5 name=l6", "#!lua name=", "#!lua name=bad-name",
    "#!js name=l7", "#!js name=bad-name", "#!lua", "#!lua foo=bar", "#!lua name=\"l8",
    "#!", "#!lua name=l9 \"unterminated",
]


def test_library_metadata_matches_redis(server, redis_server):
    script = []
    for i, line in enumerate(SHEBANGS):
        script.append((["FUNCTION", "LOAD", line + BODY % (i, i)], False))
        script.append((["FCALL", "f%d" % i, "0"], False))
    script.append((["FUNCTION", "LOAD", "#!lua name=nonewline"], False))
    script.append((["FUNCTION", "LIST"], True))
    bad = compare(server.port, redis_server.port, script)
    assert not bad, "\n".join(bad)


EVAL_SHEBANGS = [
    "#!lua", "#!lua flags=no-writes", "#!lua flags=no-writes,allow-oom", "#!not-lua",
    "#!LUA", "#!lua foo=bar", "#!lua flags=bogus", "#!lua flags=no-writes,",
    "#!lua flags=", "#!lua \"flags=no-writes\"", "#!lua flags=a,,b", "#!lua 'x",
]


def test_eval_shebang_matches_redis(server, redis_server):
    """EVAL's "#!lua flags=..." line as Redis' evalExtractShebangFlags reads it."""
    script = [(["EVAL", line + "\nreturn 1", "0"], False) for line in EVAL_SHEBANGS]
    script.append((["EVAL", "#!lua", "0"], False))  # no newline
    script.append((["EVAL", "#!lua flags=no-writes\nreturn redis.call('set','k','v')", "0"],
                   False))
    bad = compare(server.port, redis_server.port, script)
    assert not bad, "\n".join(bad)
