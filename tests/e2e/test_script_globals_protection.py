"""The read-only globals of scripts and functions, side by side with redis-server 7.0:
reaching the globals' metatable (getmetatable(_G)) or replacing it (setmetatable) meets
"Attempt to modify a readonly table", as in Redis; a returned table's metamethods never
run while its reply is built (`return _G`, an __index that raises or calls redis)."""
from resp_compare import compare

EVALS = [
    "setmetatable(_G, {})",
    "setmetatable(_G, nil)",
    "local g = getmetatable(_G) g.__index = {}",
    "return type(getmetatable(_G))",
    "return type(getmetatable(_G).__index)",
    "return _G",
    "local a = {} setmetatable(a, {__index=function() foo() end}) return a",
    "local a = {} setmetatable(a, {__index=function() redis.call('set', 'x', '1') end}) "
    "return a",
    "local t = setmetatable({}, {__index = function() return 1 end}) return t.x",
]

LIB = """#!lua name=protlib
redis.register_function('swap_redis', function()
  local mt = getmetatable(_G)
  local original_globals = mt.__index
  original_globals['redis'] = function() return 1 end
end)
redis.register_function('set_mt', function() setmetatable(_G, {}) end)
redis.register_function('mt_type', function() return type(getmetatable(_G).__index) end)
"""


def test_globals_protection_matches_redis(server, redis_server):
    script = [(["DEL", "x"], False)]
    script += [(["EVAL", body, "0"], False) for body in EVALS]
    script += [(["GET", "x"], False), (["FUNCTION", "LOAD", "REPLACE", LIB], False)]
    script += [(["FCALL", f, "0"], False) for f in ("swap_redis", "set_mt", "mt_type")]
    script += [(["FUNCTION", "DELETE", "protlib"], False)]
    bad = compare(server.port, redis_server.port, script)
    assert not bad, "\n".join(bad)
