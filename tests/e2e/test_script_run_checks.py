"""What a script may do given the server's state, side by side with redis-server 7.0.

A script that declares its flags (a shebang, or a function) is checked before it starts
(Redis' scriptPrepareForRun): without no-writes it is refused on a primary short of good
replicas. A script without a shebang is checked per write command it calls, until its
first write. A read-only run (EVAL_RO, FCALL_RO, no-writes) refuses write and
may-replicate commands, counted as the refused command's rejected call in INFO
commandstats.
"""
from resp_compare import Conn


def norm(reply):
    """Errors raised through redis.call carry the script's location in Redis' words."""
    t, v = reply
    if t == "-" and b" script:" in v:
        return (t, v.split(b" script:")[0])
    return reply


def run_both(ports, cmds):
    out = []
    for port in ports:
        c = Conn(port)
        out.append([norm(c.call(*cmd)) for cmd in cmds])
        c.close()
    return out


def cmdstat(port, name):
    c = Conn(port)
    info = c.call("INFO", "commandstats")[1].decode()
    c.close()
    for line in info.splitlines():
        if line.startswith("cmdstat_%s:" % name):
            fields = dict(kv.split("=") for kv in line.split(":", 1)[1].split(","))
            return {k: fields[k] for k in ("calls", "rejected_calls", "failed_calls")}
    return None


LIB = ("#!lua name=chk\n"
       "redis.register_function('rw', function(k) return redis.call('get', k[1]) end)\n"
       "redis.register_function{function_name='ro', callback=function(k) "
       "return redis.call('get', k[1]) end, flags={'no-writes'}}")


def test_too_few_good_replicas(server, redis_server):
    ports = (server.port, redis_server.port)
    cmds = [
        ("SET", "x", "v"), ("FUNCTION", "LOAD", "REPLACE", LIB),
        ("CONFIG", "SET", "min-replicas-to-write", "1"),
        ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", "x"),
        ("EVAL", "return redis.call('get', KEYS[1])", "1", "x"),
        ("EVAL", "#!lua\nreturn redis.call('get', KEYS[1])", "1", "x"),
        ("EVAL", "#!lua flags=allow-oom\nreturn 1", "0"),
        ("EVAL", "return redis.call('set', KEYS[1], '1')", "1", "x"),
        ("EVAL", "return redis.pcall('set', KEYS[1], '1')", "1", "x"),
        ("FCALL", "rw", "1", "x"), ("FCALL", "ro", "1", "x"), ("FCALL_RO", "ro", "1", "x"),
        ("GET", "x"),
        ("CONFIG", "SET", "min-replicas-to-write", "0"),
        ("EVAL", "#!lua\nreturn redis.call('set', KEYS[1], 'w')", "1", "x"),
        ("FCALL", "rw", "1", "x"),
    ]
    ours, theirs = run_both(ports, cmds)
    assert ours == theirs
    assert ours[5][0] == "-" and ours[5][1].startswith(b"NOREPLICAS")
    assert ours[12] == ("$", b"v") and ours[15] == ("$", b"w")


def test_read_only_runs_refuse_writes_as_rejected_calls(server, redis_server):
    ports = (server.port, redis_server.port)
    cmds = [
        ("SET", "x", "v"), ("FUNCTION", "LOAD", "REPLACE", LIB), ("CONFIG", "RESETSTAT"),
        ("EVAL_RO", "return redis.call('set', KEYS[1], 'y')", "1", "x"),
        ("EVAL_RO", "return redis.pcall('set', KEYS[1], 'y')", "1", "x"),
        ("EVAL", "#!lua flags=no-writes\nreturn redis.call('del', KEYS[1])", "1", "x"),
        ("EVAL_RO", "return redis.call('publish', 'ch', 'm')", "0"),
        ("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "x"),
        ("EVAL", "#!lua\nreturn redis.call('get', KEYS[1])", "1", "x"),
        ("EVAL_RO", "#!lua\nreturn 1", "0"),
        ("FCALL_RO", "rw", "1", "x"),
        ("GET", "x"),
    ]
    ours, theirs = run_both(ports, cmds)
    assert ours == theirs
    assert ours[3][1].startswith(b"ERR Write commands are not allowed from read-only scripts")
    for name in ("set", "del", "publish", "eval_ro", "get"):
        assert cmdstat(server.port, name) == cmdstat(redis_server.port, name), name
    assert cmdstat(server.port, "set") == {"calls": "0", "rejected_calls": "2", "failed_calls": "0"}
