"""Invalidations Redis sends before a command's reply, side by side with redis-server
7.0: those of keys the command's own pre-run eviction removes, and those of keys the
tracking table's limit (tracking-table-max-keys) drops when the next command arrives,
with the cron held by DEBUG PAUSE-CRON (Redis' regression test for #11715)."""
from repl_util import RedisProc
from resp_compare import Conn


def info_field(c, name):
    text = c.call("INFO", "memory")[1].decode()
    for line in text.split("\r\n"):
        if line.startswith(name + ":"):
            return int(line.split(":", 1)[1])
    raise AssertionError(name)


def eviction_steps(port):
    c = Conn(port, resp=3)
    c.call("CLIENT", "TRACKING", "ON")
    used = info_field(c, "used_memory") - info_field(c, "mem_not_counted_for_evict")
    c.call("CONFIG", "SET", "maxmemory", str(used + 100 * 1024))
    c.call("CONFIG", "SET", "maxmemory-policy", "volatile-random")
    out = [c.call("SETEX", "volatile-key", "10000", "x"), c.call("GET", "volatile-key"),
           c.call("SETBIT", "big-key", "1600000", "0")]
    # The next command evicts volatile-key first: its invalidation comes before the reply.
    out.append(c.call("GETBIT", "big-key", "0"))
    out.append(c.read())
    c.call("CONFIG", "SET", "maxmemory", "0")
    c.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
    c.close()
    return out


def test_eviction_invalidation_comes_before_the_reply(server):
    redis = RedisProc().start()
    try:
        ours, theirs = eviction_steps(server.port), eviction_steps(redis.port)
    finally:
        redis.cleanup()
    assert ours == theirs
    assert ours[3] == (">", [("$", b"invalidate"), ("*", [("$", b"volatile-key")])])
    assert ours[4] == (":", b"0")


def limit_steps(port):
    r, rd = Conn(port), Conn(port, resp=3)
    out = [r.call("CONFIG", "SET", "tracking-table-max-keys", "2"),
           r.call("DEBUG", "PAUSE-CRON", "1")]
    rd.call("CLIENT", "TRACKING", "ON")
    out.append(rd.call("MGET", "1{tag}", "2{tag}"))
    out.append(rd.call("MULTI"))
    out.append(r.call("CONFIG", "SET", "tracking-table-max-keys", "1"))
    # The queued PING: one key goes first (either one: Redis picks at random).
    push = rd.call("PING")
    assert push[0] == ">" and push[1][0] == ("$", b"invalidate"), push
    assert push[1][1][1][0][1] in (b"1{tag}", b"2{tag}")
    out.append(rd.read())
    out.append(rd.call("EXEC"))
    out.append(r.call("DEBUG", "PAUSE-CRON", "0"))
    r.call("CONFIG", "SET", "tracking-table-max-keys", "1000000")
    r.close()
    rd.close()
    return out


def test_tracking_table_limit_applies_before_the_next_command(server):
    redis = RedisProc().start()
    try:
        ours, theirs = limit_steps(server.port), limit_steps(redis.port)
    finally:
        redis.cleanup()
    assert ours == theirs
    assert ours[5] == ("+", b"QUEUED")


def test_debug_pause_cron_holds_active_expiry(server):
    c = Conn(server.port)
    assert c.call("DEBUG", "PAUSE-CRON", "1") == ("+", b"OK")
    c.call("PSETEX", "k", "50", "v")
    import time
    time.sleep(0.5)
    # Only the cron's active expiry could have removed it: DBSIZE does not look at it.
    assert c.call("DBSIZE") == (":", b"1")
    assert c.call("DEBUG", "PAUSE-CRON", "0") == ("+", b"OK")
    deadline = time.time() + 10
    while c.call("DBSIZE") != (":", b"0"):
        assert time.time() < deadline
        time.sleep(0.05)
    c.close()
