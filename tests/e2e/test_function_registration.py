"""Function libraries side by side with redis-server 7.0: redis.register_function's
argument checks (positional and named forms, Redis' texts and order), what a library's
top-level code may reach while FUNCTION LOAD runs it (`redis` and nothing else),
function names compared without case, FCALL's numkeys errors, FUNCTION LIST / FLUSH /
RESTORE argument errors, RESTORE all or nothing, and a SELECT inside a script that stays
the script's own."""
from resp_compare import compare

REGISTRATIONS = [
    "redis.register_function()",
    "redis.register_function('f1')",
    "redis.register_function('f1', 1)",
    "redis.register_function(1, function() return 1 end)",
    "redis.register_function({}, function() return 1 end)",
    "redis.register_function('a-b', function() return 1 end)",
    "redis.register_function('', function() return 1 end)",
    "redis.register_function('f1', function() end, 3)",
    "redis.register_function{function_name='f1'}",
    "redis.register_function{callback=function() return 1 end}",
    "redis.register_function{function_name=function() end, callback=function() end}",
    "redis.register_function{function_name='f1', callback=1}",
    "redis.register_function{function_name='f1', callback=function() end, foo='x'}",
    "redis.register_function{function_name='f1', callback=function() end, flags='no-writes'}",
    "redis.register_function{function_name='f1', callback=function() end, flags={1}}",
    "redis.register_function{function_name='f1', callback=function() end, flags={'bogus'}}",
    "redis.register_function{function_name='f1', callback=function() end, description=1}",
    "redis.register_function{function_name='f1', callback=function() end, description={}}",
    "redis.register_function{FUNCTION_NAME='F1', Callback=function() return 2 end,"
    " flags={'NO-WRITES', 'allow-oom', 'no-writes'}}",
    # top-level code sees `redis` alone
    "return math.random()",
    "local x = string.rep('a', 2)",
    "mt = getmetatable(_G)",
    "return redis.call('ping')",
    "return redis.setresp(3)",
    "return redis.REPL_ALL",
    "return redis.REDIS_VERSION_NUM + redis.LOG_WARNING",
    "local v = redis.REDIS_VERSION_NUM redis.register_function('f1', function() "
    "return {v, redis.REDIS_VERSION_NUM, redis.REDIS_VERSION} end)",
    "redis.math.random()",
    "redis.log(redis.LOG_NOTICE, 'loading') redis.register_function('f1', function() "
    "return math.floor(2.5) end)",
]


def test_register_function_matches_redis(server, redis_server):
    script = [(["FUNCTION", "FLUSH"], False)]
    for code in REGISTRATIONS:
        script.append((["FUNCTION", "LOAD", "REPLACE", "#!lua name=lib\n" + code], False))
        script.append((["FUNCTION", "LIST"], True))
        script.append((["FCALL", "f1", "0"], False))
    bad = compare(server.port, redis_server.port, script)
    assert not bad, "\n".join(bad)


LIB1 = "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)\n" \
       "redis.register_function('f2', function() return 2 end)"
LIB1_OTHER = "#!lua name=lib1\nredis.register_function('f6', function() return 6 end)"
LIB2 = "#!lua name=lib2\nredis.register_function('f5', function() return 5 end)\n" \
       "redis.register_function('F2', function() return 22 end)"


def test_function_commands_match_redis(server, redis_server):
    script = [
        (["FUNCTION", "FLUSH"], False),
        (["FUNCTION", "LOAD", LIB1], False),
        (["FCALL", "F1", "0"], False),
        (["FCALL", "f1", "bad"], False),
        (["FCALL", "nosuch", "bad"], False),
        (["FCALL", "f1", "-1"], False),
        (["FCALL", "f1", "3", "a"], False),
        (["EVAL", "return 1", "bad"], False),
        (["FUNCTION", "LIST", "LIBRARYNAME"], False),
        (["FUNCTION", "LIST", "WITHCODE", "WITHCODE"], False),
        (["FUNCTION", "LIST", "LIBRARYNAME", "x", "LIBRARYNAME", "y"], False),
        (["FUNCTION", "LIST", "libraryname", "lib*", "withcode"], True),
        (["FUNCTION", "FLUSH", "bad"], False),
        (["FUNCTION", "FLUSH", "SYNC", "extra"], False),
        (["SCRIPT", "FLUSH", "SYNC", "extra"], False),
        (["FUNCTION", "RESTORE", "a", "b", "c"], False),
    ]
    bad = compare(server.port, redis_server.port, script)
    assert not bad, "\n".join(bad)


def test_function_restore_is_all_or_nothing_like_redis(server, redis_server):
    """A payload with lib1 (f1, f2) restored over lib1 (f6) and lib2 (f5, F2): APPEND
    refuses the existing library by name, REPLACE meets F2 (function names compare
    without case) and leaves everything as it was; FLUSH replaces it all."""
    import redis
    dumps = []
    for port in (server.port, redis_server.port):
        r = redis.Redis(port=port, socket_timeout=10)
        r.function_flush()
        r.function_load(LIB1)
        dumps.append(r.function_dump())
    script = [(["FUNCTION", "FLUSH"], False), (["FUNCTION", "LOAD", LIB1_OTHER], False),
              (["FUNCTION", "LOAD", LIB2], False)]
    for policy in ([], ["APPEND"], ["REPLACE"], ["FLUSH"]):
        script.append((["FUNCTION", "RESTORE", "<dump>"] + policy, False))
        script.append((["FUNCTION", "LIST"], True))
    ours, theirs = [], []
    for (args, unordered) in script:
        ours.append(([dumps[0] if a == "<dump>" else a for a in args], unordered))
        theirs.append(([dumps[1] if a == "<dump>" else a for a in args], unordered))
    from resp_compare import Conn, sort_tree
    a, b = Conn(server.port, 2), Conn(redis_server.port, 2)
    bad = []
    try:
        for (x_args, unordered), (y_args, _) in zip(ours, theirs):
            x, y = a.call(*x_args), b.call(*y_args)
            if unordered:
                x, y = sort_tree(x), sort_tree(y)
            if x != y:
                bad.append(f"{x_args[:3]}\n  ours:   {x}\n  theirs: {y}")
    finally:
        a.close()
        b.close()
    assert not bad, "\n".join(bad)


def test_select_inside_a_script_stays_the_scripts_like_redis(server, redis_server):
    script = [
        (["SELECT", "10"], False),
        (["SET", "mykey", "db10"], False),
        (["SELECT", "9"], False),
        (["SET", "mykey", "db9"], False),
        (["SELECT", "10"], False),
        (["EVAL", "redis.call('select', 9) return redis.call('get', 'mykey')", "0"], False),
        (["GET", "mykey"], False),
        (["EVAL", "return redis.pcall('select', 'x')", "0"], False),
        (["EVAL", "redis.call('select', 9) error('boom')", "0"], False),
        (["GET", "mykey"], False),
        (["MULTI"], False),
        (["EVAL", "redis.call('select', 9) return 1", "0"], False),
        (["GET", "mykey"], False),
        (["EXEC"], False),
        (["SELECT", "9"], False),
        (["DEL", "mykey"], False),
        (["SELECT", "10"], False),
        (["DEL", "mykey"], False),
    ]
    bad = compare(server.port, redis_server.port, script)
    assert not bad, "\n".join(bad)


def test_names_differing_in_case_only_collide(server):
    """One library registering 'f1' and 'F1': function names compare without case, so the
    second is a duplicate. (redis-server 7.0.15 stops on an assertion here -- its
    library's function table compares with case, the global one without -- so this is
    checked on Ferrite alone.)"""
    r = server.redis(decode_responses=True)
    code = ("#!lua name=caselib\nredis.register_function('f1', function() return 1 end)\n"
            "redis.register_function('F1', function() return 2 end)")
    import redis
    try:
        r.function_load(code)
        raise AssertionError("loaded")
    except redis.ResponseError as e:
        assert str(e) == "Error registering functions: ERR Function already exists in the library"
    assert r.function_list(library="caselib") == []
