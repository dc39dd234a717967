"""Scripts over maxmemory, side by side with redis-server 7.0 (scriptVerifyOOM): when the
server is over maxmemory as the script starts, its first write may not be a DENYOOM
command (an error a script can catch with pcall); reads run; once a WRITE command was
called (even one that changed nothing, or one that is not DENYOOM) the rest may write.
A script that declares flags (shebang, or a function) follows them instead: without
allow-oom or no-writes it does not start at all; with allow-oom it may write."""
from resp_compare import compare

CASES = [
    ["CONFIG", "SET", "maxmemory", "1"],
    ["EVAL", "redis.call('set','x',1)", "0"],
    ["EVAL", "return redis.pcall('set','x',1)", "0"],
    ["EVAL", "return redis.call('get','x')", "0"],
    ["EVAL", "redis.call('del','nokey') return redis.call('set','y',1)", "0"],
    ["EVAL", "return redis.pcall('lpush','l','a')", "0"],
    ["EXISTS", "x", "y", "l"],
    ["CONFIG", "SET", "maxmemory", "0"],
    ["EVAL", "return redis.call('set','x',1)", "0"],
]


def test_script_writes_over_maxmemory_match_redis(server, redis_server):
    bad = compare(server.port, redis_server.port, [(c, False) for c in CASES])
    assert not bad, "\n".join(bad)


LIB = """#!lua name=oomlib
redis.register_function('f_plain', function(keys) return redis.call('set', keys[1], 1) end)
redis.register_function{function_name='f_oom', flags={'allow-oom'},
  callback=function(keys) return redis.call('set', keys[1], 2) end}
redis.register_function{function_name='f_ro', flags={'no-writes'},
  callback=function(keys) return redis.call('get', keys[1]) end}
"""

FLAGGED = [
    ["FUNCTION", "LOAD", "REPLACE", LIB],
    ["SET", "x", "123"],
    ["CONFIG", "SET", "maxmemory", "1"],
    ["EVAL", "#!lua flags=\nreturn 1", "0"],
    ["EVAL", "#!lua\nreturn 1", "0"],
    ["EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','x',1)", "1", "x"],
    ["EVAL", "#!lua flags=allow-oom\nreturn redis.call('lpush','l','a')", "1", "l"],
    ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "0"],
    ["EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get','x')", "1", "x"],
    ["EVAL", "#!lua flags=no-writes\nreturn redis.pcall('set','x',5)", "1", "x"],
    ["FCALL", "f_plain", "1", "x"],
    ["FCALL", "f_oom", "1", "x"],
    ["FCALL", "f_ro", "1", "x"],
    ["FCALL_RO", "f_ro", "1", "x"],
    ["FCALL", "nosuch", "0"],
    ["CONFIG", "SET", "maxmemory", "0"],
    ["FCALL", "f_plain", "1", "y"],
    ["MGET", "x", "y", "l"],
    ["FUNCTION", "DELETE", "oomlib"],
]


def test_flagged_scripts_over_maxmemory_match_redis(server, redis_server):
    bad = compare(server.port, redis_server.port, [(c, False) for c in FLAGGED])
    assert not bad, "\n".join(bad)
