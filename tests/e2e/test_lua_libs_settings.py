"""The cjson settings and cmsgpack stream functions scripts call, side by side with
redis-server 7.0: cjson.encode_max_depth / decode_max_depth / encode_invalid_numbers /
encode_keep_buffer (their answers, their effect, their argument errors), cmsgpack
unpack_one / unpack_limit (values and next offsets, argument errors), and cmsgpack's
nesting limit on a table that refers to itself. Each script restores lua-cjson's
defaults, since the settings outlive it in both servers."""
from resp_compare import compare

RESTORE = ("cjson.encode_max_depth(1000) cjson.decode_max_depth(1000) "
           "cjson.encode_invalid_numbers(false) cjson.encode_keep_buffer(true) ")

SCRIPTS = [
    "return {cjson.encode_max_depth(), cjson.decode_max_depth(), "
    "tostring(cjson.encode_invalid_numbers()), tostring(cjson.encode_keep_buffer())}",
    "local r = {cjson.encode_max_depth(2), pcall(cjson.encode, {{1}}), "
    "pcall(cjson.encode, {{{1}}})} " + RESTORE + "return r",
    "local r = {cjson.decode_max_depth(2), pcall(cjson.decode, '[[1]]'), "
    "pcall(cjson.decode, '{\"a\":[[1]]}')} " + RESTORE + "return r",
    "local r = {tostring(cjson.encode_invalid_numbers('null')), cjson.encode({1, 0/0}), "
    "tostring(cjson.encode_invalid_numbers(true)), cjson.encode({1/0, -1/0}), "
    "tostring(cjson.encode_invalid_numbers('off')), pcall(cjson.encode, {1/0})} "
    + RESTORE + "return r",
    "local r = {tostring(cjson.encode_keep_buffer(false)), cjson.encode({a=1}), "
    "tostring(cjson.encode_keep_buffer('on'))} " + RESTORE + "return r",
    "return {pcall(cjson.encode_max_depth, 0)}",
    "return {pcall(cjson.encode_max_depth, 'x')}",
    "return {pcall(cjson.encode_invalid_numbers, 'maybe')}",
    "return {pcall(cjson.encode_keep_buffer, 1)}",
    # cmsgpack streams
    "local s = cmsgpack.pack('a', {1, 2}, 3) local out = {} local off = 0 "
    "while off ~= -1 do local o, v = cmsgpack.unpack_limit(s, 1, off) "
    "table.insert(out, o) off = o end return out",
    "local s = cmsgpack.pack('a', 'b', 'c') return {cmsgpack.unpack_limit(s, 2, 0)}",
    "local s = cmsgpack.pack('a', 'b', 'c') return {cmsgpack.unpack_limit(s, 0, 2)}",
    "local s = cmsgpack.pack('a', 'b') return {cmsgpack.unpack_one(s)}",
    "local s = cmsgpack.pack('a', 'b') return {cmsgpack.unpack_one(s, 2)}",
    "local s = cmsgpack.pack({x=1}) local o, v = cmsgpack.unpack_one(s, 0) return {o, v.x}",
    "return {pcall(cmsgpack.unpack_one, cmsgpack.pack('a'), 9)}",
    "return {pcall(cmsgpack.unpack_limit, cmsgpack.pack('a'), -1)}",
    "return {pcall(cmsgpack.unpack_one, cmsgpack.pack('a'), -1)}",
    "return {pcall(cmsgpack.unpack_limit, 'x')}",
    # a table that refers to itself: tables at nesting level 16 become nil
    "local a = {} a[1] = a local s = cmsgpack.pack(a) local d = 0 "
    "local t = cmsgpack.unpack(s) while type(t) == 'table' do d = d + 1 t = t[1] end "
    "return {#s, d}",
]


def test_lua_lib_settings_match_redis(server, redis_server):
    script = [(["EVAL", body, "0"], False) for body in SCRIPTS]
    bad = compare(server.port, redis_server.port, script)
    assert not bad, "\n".join(bad)
