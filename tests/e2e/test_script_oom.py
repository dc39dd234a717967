"""Scripts over maxmemory, side by side with redis-server 7.0 (scriptVerifyOOM): when the
server is over maxmemory as the script starts, its first write may not be a DENYOOM
command (an error a script can catch with pcall); reads run; once a WRITE command was
called (even one that changed nothing, or one that is not DENYOOM) the rest may write."""
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
