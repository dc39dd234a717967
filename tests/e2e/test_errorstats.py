"""INFO errorstats, total_error_replies and commandstats' rejected_calls / failed_calls,
side by side with redis-server 7.0: the same commands on both, then the same figures.

Redis' rules: a command refused before it ran (unknown, arity, NOAUTH, OOM, queued in a
MULTI...) is a rejected call; one that ran and replied an error a failed call; EXEC is
failed only for its own error (EXECABORT, EXEC without MULTI), never for the errors of
the commands it ran; an error a script got from redis.call/pcall is counted once, when
the called command replied it, and the script passing it on makes EVAL failed without
counting the error again."""
import re

from resp_compare import Conn
from conftest import wait_for

# Each line one command (split on spaces); errors are expected on both sides.
SCENARIO = [
    ["CONFIG", "RESETSTAT"],
    ["asdf", "x"],                                   # unknown: no command to charge
    ["SET", "k"],                                    # arity: set rejected
    ["HSET", "h", "f", "v"],
    ["GET", "h"],                                    # WRONGTYPE: get failed
    ["INCR", "h"],
    ["CONFIG", "GET"],                               # subcommand arity: config|get rejected
    ["XGROUP", "CREATECONSUMER", "nos", "g", "c"],   # a subcommand's own failure
    ["EVALSHA", "0000000000000000000000000000000000000000", "0"],  # NOSCRIPT
    ["AUTH", "nopass"],                              # ran and failed
    ["EXEC"],                                        # EXEC without MULTI: exec failed
    ["MULTI"], ["SET", "a"], ["EXEC"],               # queued arity error, then EXECABORT
    ["MULTI"], ["SET", "a", "1"], ["INCR", "h"], ["LPUSH", "a", "x"], ["EXEC"],
    ["EVAL", "redis.pcall('XGROUP', 'CREATECONSUMER', 's1', 'g', 'c') return 1", "0"],
    ["EVAL", "return redis.call('GET', 'h')", "0"],   # raised from redis.call
    ["EVAL", "return redis.pcall('GET', 'h')", "0"],  # returned from redis.pcall
    ["EVAL", "return redis.call('nosuchcmd')", "0"],  # refused by call(): counted once
    ["EVAL", "return redis.call('get')", "0"],        # wrong arity from a script
    ["EVAL", "return redis.error_reply('MYERR custom')", "0"],
    ["EVAL", "return redis.error_reply('-OTHER code')", "0"],
    ["EVAL", "return {err='NOSPACEHERE'}", "0"],
    ["EVAL", "error('raised')", "0"],
    ["EVAL", "return redis.call('SET', 'k', 'v')", "0"],
    ["CONFIG", "SET", "maxmemory", "1"],
    ["SET", "k2", "v"],                              # OOM: rejected
    ["CONFIG", "SET", "maxmemory", "0"],
    ["SET", "k2", "v"],
]


def info(conn, section):
    t, body = conn.call("INFO", section)
    assert t == "$"
    return body.decode()


def errorstats(text):
    return dict(re.findall(r"^errorstat_([^:]+):count=(\d+)\r$", text, re.M))


def cmdstats(text):
    out = {}
    for m in re.finditer(r"^cmdstat_([^:]+):calls=(\d+),usec=\d+,usec_per_call=[\d.]+,"
                         r"rejected_calls=(\d+),failed_calls=(\d+)\r$", text, re.M):
        out[m.group(1)] = tuple(int(x) for x in m.groups()[1:])
    return out


def figures(port):
    c = Conn(port)
    replies = [c.call(*cmd) for cmd in SCENARIO]
    stats = info(c, "stats")
    errs = info(c, "errorstats")
    cmds = info(c, "commandstats")
    c.close()
    total = int(re.search(r"total_error_replies:(\d+)", stats).group(1))
    return replies, total, errorstats(errs), cmdstats(cmds)


def test_error_accounting_matches_redis(server, redis_server):
    ours = figures(server.port)
    theirs = figures(redis_server.port)
    # The replies themselves: same kind (error or not) and the same error kind.
    def kind(r):
        return ("-", r[1].split(b" ")[0]) if r[0] == "-" else (r[0],)
    assert [kind(r) for r in ours[0]] == [kind(r) for r in theirs[0]]
    assert ours[1] == theirs[1], "total_error_replies"
    assert ours[2] == theirs[2], "INFO errorstats"
    assert ours[3] == theirs[3], "INFO commandstats (calls, rejected_calls, failed_calls)"


def test_noauth_is_rejected_and_counted(server_factory, redis_server):
    srv = server_factory()

    def run(port):
        admin = Conn(port)
        admin.call("CONFIG", "RESETSTAT")
        admin.call("CONFIG", "SET", "requirepass", "pw")
        c = Conn(port)
        r = c.call("GET", "x")
        c.call("AUTH", "pw")
        admin.call("AUTH", "pw")
        admin.call("CONFIG", "SET", "requirepass", "")
        out = (r[0], r[1].split(b" ")[0], errorstats(info(admin, "errorstats")),
               cmdstats(info(admin, "commandstats")).get("get"))
        c.close()
        admin.close()
        return out

    assert run(srv.port) == run(redis_server.port)


def test_errorstats_section_in_default_info_and_reset(server):
    c = Conn(server.port)
    c.call("CONFIG", "RESETSTAT")
    c.call("GET")
    default = info(c, "default")
    assert "# Errorstats\r\nerrorstat_ERR:count=1\r\n" in default
    assert "errorstat_ERR:count=1" in info(c, "everything")
    c.call("CONFIG", "RESETSTAT")
    assert info(c, "errorstats") == "# Errorstats\r\n"
    assert "total_error_replies:0\r\n" in info(c, "stats")
    c.close()


def test_kinds_capped_at_128_with_a_log_line(server):
    """Redis >= 7.2 (redis-server 7.0 keeps every kind): the 129th distinct kind empties
    the table into ERRORSTATS_DISABLED and logs the kinds seen; total_error_replies goes
    on counting; CONFIG RESETSTAT files kinds again."""
    c = Conn(server.port)
    c.call("CONFIG", "RESETSTAT")
    script = "return redis.error_reply(string.format('%s my error message', ARGV[1]))"
    for j in range(1, 201):
        t, _ = c.call("EVAL", script, "0", f"E{j}")
        assert t == "-"
    assert errorstats(info(c, "errorstats")) == {"ERRORSTATS_DISABLED": "1"}
    assert "total_error_replies:200\r\n" in info(c, "stats")
    wait_for(lambda: "Errorstats stopped adding new errors" in server.log_text(), timeout=5,
             what="the errorstats log line")
    log = server.log_text()
    assert log.count("Errorstats stopped adding new errors") == 1
    assert "Current errors code list: E1, E10, E100," in log
    c.call("CONFIG", "RESETSTAT")
    c.call("GET")
    assert errorstats(info(c, "errorstats")) == {"ERR": "1"}
    c.close()

