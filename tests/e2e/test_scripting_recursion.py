"""Scripts that recurse through C (coroutines, string.gsub, table.sort, load readers,
metamethods) get an error, as from redis-server 7.0, and never crash the server.

LuaJIT sets no limit on C-level recursion (PUC Lua stops at 200 nested C calls with
"C stack overflow"); Ferrite caps nested coroutine resumes at 200 and measures the C
stack from the instruction hook (modules/scripting/stack_guard.h).
"""
import pytest
import redis as redis_py

ISSUE_SCRIPT = ("local function f() local co=coroutine.create(f) "
                "return coroutine.resume(co) end return tostring(f())")

# Scripts whose reply (value or error text) is the same as redis-server 7.0's.
SAME_AS_REDIS = [
    ISSUE_SCRIPT,
    # The innermost resume fails with PUC Lua's message, the others succeed.
    "local function f() local co=coroutine.create(f) return coroutine.resume(co) end "
    "local r = {f()} return {tostring(r[#r - 1]), r[#r]}",
    "local function f(m) return (string.gsub('a', '.', f)) end return f('x')",
    "local n = 0 local function f() n = n + 1 local co = coroutine.wrap(f) return co() end "
    "local ok, e = pcall(f) return {tostring(ok), string.sub(e, -16)}",
    "local r = {coroutine.resume(1)} return r",
    "local r = {coroutine.wrap(redis.call)} return r",
    "local r = {coroutine.create(cjson.encode)} return r",
    "local function f() return pcall(f) end return tostring(f())",
]

# Scripts where LuaJIT and PUC Lua stop at different limits: an error (or a value), and
# a server that still answers.
SURVIVES = [
    "local function f(a, b) table.sort({3, 2, 1}, f) return a < b end return f(1, 2)",
    "local function f() return load(f) end return tostring(pcall(load, f))",
    "local t = setmetatable({}, {}) getmetatable(t).__tostring = "
    "function(s) return string.format('%s', s) end return tostring(t)",
    "local mt = {} mt.__index = function(t, k) return setmetatable({}, mt)[k] end "
    "return tostring(setmetatable({}, mt).x)",
    "local mt = {} mt.__lt = function(a, b) table.sort({setmetatable({}, mt), "
    "setmetatable({}, mt)}) return true end "
    "table.sort({setmetatable({}, mt), setmetatable({}, mt)}) return 1",
    # Deep C recursion inside every level of a coroutine chain.
    "local function g(m) return (string.gsub('a', '.', g)) end local function f() "
    "local co = coroutine.create(function() pcall(g, 'x') return f() end) "
    "return coroutine.resume(co) end return tostring(f())",
    "local function f() return xpcall(f, f) end return tostring(f())",
]


def _reply(client, script):
    try:
        return client.eval(script, 0)
    except redis_py.ResponseError as e:
        return "error: " + str(e)


@pytest.mark.parametrize("script", SAME_AS_REDIS)
def test_c_recursion_replies_like_redis(server, redis_server, script):
    mine = _reply(server.redis(socket_timeout=60), script)
    theirs = _reply(redis_server.redis(), script)
    assert mine == theirs
    assert server.redis().ping()


@pytest.mark.parametrize("script", SURVIVES)
def test_c_recursion_never_crashes(server, script):
    r = server.redis(socket_timeout=60)
    _reply(r, script)
    assert r.ping()
    assert server.proc.poll() is None


def test_function_library_recursion_is_guarded_too(server):
    r = server.redis(socket_timeout=60)
    lib = ("#!lua name=deep\n"
           "redis.register_function('deep', function() "
           "local function f(m) return (string.gsub('a', '.', f)) end return f('x') end)")
    r.function_load(lib)
    with pytest.raises(redis_py.ResponseError) as e:
        r.fcall("deep", 0)
    assert str(e.value).startswith("C stack overflow script: deep, on @user_function:2.")
    assert r.ping()
