"""HELP of the container commands, against redis-server 7.0: the same header and footer,
and each line Ferrite prints is Redis' own line (Ferrite lists only the subcommands it
implements; where it implements them all the text is identical)."""
from resp_compare import Conn

IDENTICAL = ["CONFIG", "SLOWLOG", "LATENCY", "OBJECT", "XINFO", "PUBSUB", "CLIENT"]
SUBSET = ["COMMAND", "SCRIPT", "FUNCTION", "XGROUP"]


def help_lines(port, cmd):
    c = Conn(port)
    try:
        t, v = c.call(cmd, "HELP")
    finally:
        c.close()
    assert t == "*", (cmd, t, v)
    return [x[1] for x in v]


def test_help_texts_identical_to_redis(server, redis_server):
    for cmd in IDENTICAL:
        assert help_lines(server.port, cmd) == help_lines(redis_server.port, cmd), cmd


def test_help_texts_are_redis_lines(server, redis_server):
    for cmd in SUBSET:
        ours, theirs = help_lines(server.port, cmd), help_lines(redis_server.port, cmd)
        assert ours[0] == theirs[0] and ours[-2:] == theirs[-2:], cmd
        missing = [line for line in ours if line not in theirs]
        assert not missing, (cmd, missing)


def test_debug_and_module_help(server):
    debug = help_lines(server.port, "DEBUG")
    assert debug[0] == b"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    for sub in (b"DIGEST", b"POPULATE <count> [<prefix>] [<size>]", b"SLEEP <seconds>",
                b"PROTOCOL <type>", b"SET-ACTIVE-EXPIRE <0|1>", b"LOG <message>"):
        assert sub in debug
    assert debug[-2:] == [b"HELP", b"    Prints this help."]
    module = help_lines(server.port, "MODULE")
    assert module[1::2][:3] == [b"LIST", b"LOAD <path>", b"UNLOAD <name>"]


def test_debug_populate_error_log(server, redis_server):
    r = server.redis()
    assert r.execute_command("DEBUG", "POPULATE", "3") == b"OK"
    assert sorted(r.keys()) == [b"key:0", b"key:1", b"key:2"]
    assert r.get("key:1") == b"value:1"
    r.set("p:0", "mine")
    assert r.execute_command("DEBUG", "POPULATE", "2", "p", "10") == b"OK"
    assert r.get("p:0") == b"mine"                       # existing keys are left alone
    assert r.get("p:1") == b"value:1\0\0\0"              # padded to <size> bytes
    assert r.execute_command("DEBUG", "POPULATE", "2", "q", "3") == b"OK"
    assert r.get("q:1") == b"val"                        # or cut to it
    c = Conn(server.port)
    try:
        assert c.call("DEBUG", "POPULATE", "-1") == (
            "-", b"ERR value is out of range, must be positive")
        assert c.call("DEBUG", "POPULATE", "x") == (
            "-", b"ERR value is not an integer or out of range")
        assert c.call("DEBUG", "ERROR", "MYERR some\ntext") == ("-", b"MYERR some text")
        assert c.call("DEBUG", "LOG", "hello from the test") == ("+", b"OK")
    finally:
        c.close()
    assert "DEBUG LOG: hello from the test" in server.log_text()
