"""Scripting (EVAL / SCRIPT / FUNCTION / FCALL) against a real ferrite-host, side by side
with redis-server 7.0 where the reply must be byte-identical."""
import os
import socket
import threading
import time

import pytest
import redis

from resp_compare import compare
from test_scripting_busy import _line as _read_line, _send

S = "return redis.call('set', KEYS[1], ARGV[1])"

# Each case: argv. Run in order on both servers, replies compared exactly.
CASES = [
    ["FLUSHALL"],
    ["EVAL", "return 1", "0"],
    ["EVAL", "return 3.99", "0"],
    ["EVAL", "return -2.5", "0"],
    ["EVAL", "return 'hello'", "0"],
    ["EVAL", "return true", "0"],
    ["EVAL", "return false", "0"],
    ["EVAL", "return nil", "0"],
    ["EVAL", "return {}", "0"],
    ["EVAL", "return {1,2,3,'x',{4,{5}}}", "0"],
    ["EVAL", "return {1,2,nil,4}", "0"],
    ["EVAL", "return {ok='fine'}", "0"],
    ["EVAL", "return {err='MY bad'}", "0"],
    ["EVAL", "return redis.status_reply('PONG')", "0"],
    ["EVAL", "return redis.error_reply('bad thing')", "0"],
    ["EVAL", "return redis.error_reply('nospace')", "0"],
    ["EVAL", "return redis.error_reply('-CODE x')", "0"],
    ["EVAL", "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", "2", "k1", "k2", "a1", "a2"],
    ["EVAL", S, "1", "k", "v"],
    ["EVAL", "return redis.call('get', KEYS[1])", "1", "k"],
    ["EVAL", "return redis.call('get', 'missing')", "0"],
    ["EVAL", "return type(redis.call('get', 'missing'))", "0"],
    ["EVAL", "return redis.call('incrby', 'n', 5)", "0"],
    ["EVAL", "return redis.call('incrbyfloat', 'f', 1.5)", "0"],
    ["EVAL", "redis.call('set', 'f2', 0.1) return redis.call('get', 'f2')", "0"],
    ["EVAL", "redis.call('set', 'f3', 1e20) return redis.call('get', 'f3')", "0"],
    ["EVAL", "return redis.call('mget', 'k', 'missing', 'n')", "0"],
    ["EVAL", "return redis.call('set', 'k', 'v').ok", "0"],
    ["EVAL", "return redis.pcall('incr', 'k')", "0"],
    ["EVAL", "return redis.call('incr', 'k')", "0"],
    ["EVAL", "local r = redis.call('incr', 'k')\nreturn r", "0"],
    ["EVAL", "return redis.call('nosuch')", "0"],
    ["EVAL", "return redis.pcall('nosuch')", "0"],
    ["EVAL", "return redis.call('set')", "0"],
    ["EVAL", "return redis.pcall('get')", "0"],
    ["EVAL", "return redis.call()", "0"],
    ["EVAL", "return redis.call({})", "0"],
    ["EVAL", "return redis.call('config', 'get', 'x')", "0"],
    ["EVAL", "return redis.call('eval', 'return 1', '0')", "0"],
    ["EVAL", "return 1 +", "0"],
    ["EVAL", "x = 1", "0"],
    ["EVAL", "return y", "0"],
    ["EVAL", "return os", "0"],
    ["EVAL", "return io", "0"],
    ["EVAL", "return debug", "0"],
    ["EVAL", "return require", "0"],
    ["EVAL", "return loadfile", "0"],
    ["EVAL", "return setfenv", "0"],
    ["EVAL", "error('boom')", "0"],
    ["EVAL", "error({err='MY boom'})", "0"],
    ["EVAL", "local a = 1\nlocal b = 2\nerror('line3')", "0"],
    ["EVAL", "return 1", "-1"],
    ["EVAL", "return 1", "2", "a"],
    ["EVAL", "return 1", "x"],
    ["EVAL", "return 1"],
    ["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
    ["EVALSHA", "nope", "0"],
    ["SCRIPT", "LOAD", "return 'cached'"],
    ["EVALSHA", "a6b2d3d9a18d3c1b5d4aa0a3d4bd0fe1cbf4f4c3", "0"],
    ["SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0000000000000000000000000000000000000000"],
    ["SCRIPT", "KILL"],
    ["FUNCTION", "KILL"],
    ["SCRIPT", "FLUSH"],
    ["SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"],
    ["EVAL_RO", "return redis.call('get', 'k')", "0"],
    ["EVAL_RO", "return redis.call('set', 'a', 'b')", "0"],
    ["EVAL", "return redis.sha1hex('abc')", "0"],
    ["EVAL", "return redis.sha1hex()", "0"],
    ["EVAL", "return redis.setresp(4)", "0"],
    ["EVAL", "return cjson.encode({1, 2, 'a'})", "0"],
    ["EVAL", "return cjson.encode({a={b=1}})", "0"],
    ["EVAL", "return cjson.decode('[1,2,[3]]')[3][1]", "0"],
    ["EVAL", "return cjson.decode('[1,')", "0"],
    ["EVAL", "return cmsgpack.pack({1, 2, 'abc'})", "0"],
    ["EVAL", "return {cmsgpack.unpack(cmsgpack.pack(1, -1, 300, 'x'))}", "0"],
    ["EVAL", "return struct.pack('>I4', 16909060)", "0"],
    ["EVAL", "return {struct.unpack('<i2', struct.pack('<i2', -5))}", "0"],
    ["EVAL", "return bit.bxor(5, 3)", "0"],
    ["EVAL", "return bit.tohex(65535)", "0"],
    ["EVAL", "return tostring(math.huge)", "0"],
    ["EVAL", "return table.concat({'a','b'}, '-')", "0"],
    ["EVAL", "return string.format('%5.2f', 3.14159)", "0"],
    ["EVAL", "return redis.REDIS_VERSION ~= nil", "0"],
    ["EVAL", "return loadstring(string.dump(function() return 1 end))", "0"],
    ["EVAL", "redis.setresp(3) return {double=3.5}", "0"],
    ["EVAL", "redis.setresp(3) return true", "0"],
    ["EVAL", "redis.setresp(3) return false", "0"],
    ["EVAL", "#!lua flags=no-writes\nreturn redis.call('set','a','b')", "0"],
    ["EVAL_RO", "#!lua\nreturn 1", "0"],
    ["EVAL", "#!lua flags=bogus\nreturn 1", "0"],
    ["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function(k, a) return #k + #a end)"],
    ["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function(k, a) return 1 end)"],
    ["FCALL", "f", "1", "k", "a", "b"],
    ["FCALL_RO", "f", "0"],
    ["FCALL", "nope", "0"],
    ["FCALL", "f", "-1"],
    ["FUNCTION", "LOAD", "return 1"],
    ["FUNCTION", "LOAD", "#!lua name=l2\nx=1"],
    ["FUNCTION", "LOAD", "#!lua name=l3\nlocal a = redis.call('get','x')"],
    ["FUNCTION", "LOAD", "#!lua name=l4\nreturn 1"],
    ["FUNCTION", "LOAD", "#!lua name=l5\nredis.register_function{function_name='g', callback=function() return redis.call('set','a','b') end, flags={'no-writes'}}"],
    ["FCALL", "g", "0"],
    ["FUNCTION", "LIST"],
    ["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "l5"],
    ["FUNCTION", "DELETE", "nolib"],
    ["FUNCTION", "DELETE", "l5"],
    ["FUNCTION", "STATS"],
    ["FUNCTION", "FLUSH"],
    ["FUNCTION", "LIST"],
]


def test_side_by_side_with_redis(server, redis_server):
    assert len(CASES) >= 60
    # FUNCTION LIST order is Redis' dict order: compared order-insensitively.
    bad = compare(server.port, redis_server.port,
                  [(c, c[:2] == ["FUNCTION", "LIST"]) for c in CASES])
    assert not bad, "\n".join(bad)


def test_function_dump_restores_into_redis(server, redis_server):
    # Redis LZF-compresses long strings in its dumps, so bytes differ; the payload format
    # must still be accepted both ways for uncompressed payloads.
    ours, theirs = server.redis(), redis_server.redis()
    code = "#!lua name=xlib\nredis.register_function('xf', function(k, a) return 42 end)"
    ours.function_load(code)
    theirs.function_restore(ours.function_dump(), "REPLACE")
    assert theirs.fcall("xf", 0) == 42


def test_side_by_side_resp3(server, redis_server):
    cases = [["EVAL", "redis.setresp(3) return {map={a=1}}", "0"],
             ["EVAL", "redis.setresp(3) return {set={x=true}}", "0"],
             ["EVAL", "redis.setresp(3) return {double=1.5}", "0"],
             ["EVAL", "redis.setresp(3) return true", "0"],
             ["EVAL", "return false", "0"]]
    bad = compare(server.port, redis_server.port, [(c, False) for c in cases], resp=3)
    assert not bad, "\n".join(bad)


CAS = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
    return redis.call('SET', KEYS[1], ARGV[2])
else
    return nil
end
"""
PREPEND = "local v = redis.call('GET', KEYS[1]) or '' " \
          "redis.call('SET', KEYS[1], ARGV[1] .. v) return #ARGV[1] + #v"


def test_migration_guide_scripts_via_python_redis(server):
    r = server.redis()
    cas = r.register_script(CAS)
    r.set("key", "old")
    assert cas(keys=["key"], args=["old", "new"]) == b"OK"
    assert cas(keys=["key"], args=["old", "newer"]) is None
    assert r.get("key") == b"new"
    prepend = r.register_script(PREPEND)
    assert prepend(keys=["key"], args=["pre-"]) == 7
    assert r.get("key") == b"pre-new"
    r.script_flush()
    pipe = r.pipeline()
    for i in range(10):
        cas(keys=["p%d" % i], args=["", "x"], client=pipe)  # missing key: nil ~= ''
        prepend(keys=["p%d" % i], args=["a"], client=pipe)
    out = pipe.execute()
    assert out == [None, 1] * 10
    assert r.mget(["p0", "p9"]) == [b"a", b"a"]


def test_concurrent_scripts_are_atomic(server):
    body = ("local n = tonumber(redis.call('GET', KEYS[1]) or '0') + 1 "
            "redis.call('SET', KEYS[1], n) redis.call('SET', KEYS[2], n) return n")
    clients, per = 4, 200
    stop = threading.Event()
    torn = []

    def worker():
        r = server.redis()
        s = r.register_script(body)
        for _ in range(per):
            s(keys=["counter", "log"])

    def poller():
        r = server.redis()
        while not stop.is_set():
            a, b = r.mget(["counter", "log"])
            if a != b:
                torn.append((a, b))

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    p = threading.Thread(target=poller)
    p.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    stop.set()
    p.join(10)
    r = server.redis()
    assert r.get("counter") == str(clients * per).encode()
    assert r.get("log") == r.get("counter")
    assert not torn, torn[:5]




def test_script_kill_and_busy(server_factory):
    s = server_factory({"scripting.busy_reply_threshold": "100", "server.threads": "2"})
    r = s.redis(socket_timeout=10)
    assert r.execute_command("CONFIG", "GET", "busy-reply-threshold")
    # Two connections are spread over the two worker threads; try until one lands on a
    # thread other than the script's (the host posts connections round-robin).
    slow = _send(s.port, "EVAL", "while true do end", "0")
    time.sleep(0.4)
    other = None
    for _ in range(4):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=2)
        c.sendall(b"*1\r\n$4\r\nPING\r\n")
        try:
            line = _read_line(c)
        except socket.timeout:
            continue
        other = c
        break
    assert other is not None, "no connection got served while the script ran"
    assert line.startswith(b"-BUSY"), line
    other.sendall(b"*2\r\n$6\r\nSCRIPT\r\n$4\r\nKILL\r\n")
    assert _read_line(other) == b"+OK\r\n"
    reply = _read_line(slow)
    assert reply.startswith(b"-ERR Script killed by user with SCRIPT KILL... script: "), reply
    assert r.ping()
    # A script that wrote cannot be killed.
    slow = _send(s.port, "EVAL", "redis.call('set','w','1') local t = redis.call('time') "
                 "local i = 0 while i < 3e7 do i = i + 1 end return i", "0")
    time.sleep(0.3)
    other.sendall(b"*2\r\n$6\r\nSCRIPT\r\n$4\r\nKILL\r\n")
    line = _read_line(other)
    assert line.startswith(b"-UNKILLABLE") or line.startswith(b"-NOTBUSY"), line
    assert _read_line(slow).startswith(b":")
    other.sendall(b"*2\r\n$6\r\nSCRIPT\r\n$4\r\nKILL\r\n")
    assert _read_line(other) == b"-NOTBUSY No scripts in execution right now.\r\n"


def test_lua_heap_limit(server_factory):
    s = server_factory({"scripting.lua_heap_limit": "8mb"})
    r = s.redis()
    with pytest.raises(Exception) as e:
        r.eval("local t = {} for i = 1, 1e8 do t[i] = string.rep('x', 100) .. i end return 1", 0)
    assert "memory" in str(e.value)
    assert r.eval("return 1", 0) == 1


def test_effects_are_propagated_not_eval(server_factory):
    s = server_factory({"persistence.aof_enabled": "true"})
    r = s.redis()
    cfg = r.config_get("appendonly")
    if not cfg:
        pytest.skip("appendonly unknown to this host")
    r.eval("redis.call('set', KEYS[1], 'a') redis.call('incr', KEYS[2])", 2, "x", "y")
    time.sleep(1.5)
    aof = b""
    for root, _, files in os.walk(s.dir if hasattr(s, "dir") else s.workdir):
        for f in files:
            if "aof" in f and not f.endswith(".manifest"):
                aof += open(os.path.join(root, f), "rb").read()
    if not aof:
        pytest.skip("no AOF file written by this host yet")
    assert b"EVAL" not in aof.upper().replace(b"EVALSHA", b"")
    assert b"incr" in aof.lower() and b"multi" in aof.lower()


def test_script_calls_command_of_module_loaded_at_run_time(server):
    """redis.call reaches commands registered by MODULE LOAD after startup."""
    import os
    from conftest import host_binary
    plugin = os.path.join(os.path.dirname(host_binary()), "test-plugins", "abi_v1_frozen.so")
    r = server.redis()
    with pytest.raises(redis.ResponseError):
        r.eval("return redis.call('ABI.V1')", 0)
    assert r.execute_command("MODULE", "LOAD", plugin) == b"OK"
    assert r.eval("return redis.call('ABI.V1')", 0) == b"v1"
