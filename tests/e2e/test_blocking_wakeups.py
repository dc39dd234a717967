"""Blocked clients woken by writes made inside MULTI, scripts and several keys at once,
side by side with redis-server 7.0: every waiter Redis serves must be served with the
same reply (nobody left hanging), and the same waiters must stay blocked."""

import pytest
import redis

from blocking_util import read_reply, wait_blocked

PENDING = "<still blocked>"


def _read(conn, timeout):
    return read_reply(conn, timeout, PENDING)


def _snapshot(r, keys):
    out = {}
    for k in keys:
        t = r.type(k).decode()
        if t == "list":
            out[k] = r.lrange(k, 0, -1)
        elif t == "zset":
            out[k] = r.zrange(k, 0, -1, withscores=True)
        elif t == "string":
            out[k] = r.get(k)
        else:
            out[k] = t
    return out


def run_scenario(port, setup, waiters, trigger, keys):
    """Sends each waiter's command on its own connection (in order, each one blocked
    before the next), runs `trigger` (a list of commands on one connection) and returns
    what each waiter got within a bounded wait, plus the keys' final contents."""
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    r.flushall()
    for cmd in setup:
        r.execute_command(*cmd)
    conns = []
    for i, cmd in enumerate(waiters):
        c = redis.Connection(host="127.0.0.1", port=port, socket_timeout=10)
        c.connect()
        c.send_command(*cmd)
        conns.append(c)
        wait_blocked(r, i + 1)
    t = redis.Connection(host="127.0.0.1", port=port, socket_timeout=10)
    t.connect()
    trigger_replies = []
    for cmd in trigger:
        t.send_command(*cmd)
        trigger_replies.append(_read(t, 5))
    got = []
    for c in conns:
        got.append(_read(c, 2.0 if not got or got[-1] != PENDING else 0.3))
    for c in conns:
        c.disconnect()
    t.disconnect()
    return trigger_replies, got, _snapshot(r, keys)


SCENARIOS = {
    # Issue 12 #13a: the first waiter's destination is a string.
    "brpoplpush_wrongtype_then_next": (
        [("SET", "dst1", "x")],
        [("BRPOPLPUSH", "src", "dst1", 0), ("BRPOPLPUSH", "src", "dst2", 0)],
        [("LPUSH", "src", "foo")],
        ["src", "dst1", "dst2"]),
    "blmove_wrongtype_then_next": (
        [("SET", "dst1", "x")],
        [("BLMOVE", "src", "dst1", "LEFT", "RIGHT", 0),
         ("BLMOVE", "src", "dst2", "RIGHT", "LEFT", 0)],
        [("RPUSH", "src", "a", "b")],
        ["src", "dst1", "dst2"]),
    # Issue 12 #13b: four BZMPOP waiters, both keys filled inside one MULTI.
    "bzmpop_four_waiters_multi": (
        [],
        [("BZMPOP", 0, 2, "z1", "z2", "MIN", "COUNT", 1),
         ("BZMPOP", 0, 2, "z1", "z2", "MAX", "COUNT", 10),
         ("BZMPOP", 0, 2, "z1", "z2", "MIN", "COUNT", 10),
         ("BZMPOP", 0, 2, "z1", "z2", "MAX", "COUNT", 1)],
        [("MULTI",), ("ZADD", "z1", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"),
         ("ZADD", "z2", 1, "a", 2, "b", 3, "c", 4, "d", 5, "e"), ("EXEC",)],
        ["z1", "z2"]),
    "blmpop_four_waiters_multi": (
        [],
        [("BLMPOP", 0, 2, "l1", "l2", "LEFT", "COUNT", 1),
         ("BLMPOP", 0, 2, "l1", "l2", "RIGHT", "COUNT", 10),
         ("BLMPOP", 0, 2, "l1", "l2", "LEFT", "COUNT", 10),
         ("BLMPOP", 0, 2, "l1", "l2", "RIGHT", "COUNT", 1)],
        [("MULTI",), ("LPUSH", "l1", "a", "b", "c", "d", "e"),
         ("LPUSH", "l2", 1, 2, 3, 4, 5), ("EXEC",)],
        ["l1", "l2"]),
    # The key that became ready first is served, not the first key in argument order.
    "blpop_serves_ready_key_first": (
        [],
        [("BLPOP", "a", "b", 0)],
        [("MULTI",), ("RPUSH", "b", "x"), ("RPUSH", "a", "y"), ("EXEC",)],
        ["a", "b"]),
    "brpop_several_waiters_several_keys": (
        [],
        [("BRPOP", "a", "b", 0), ("BRPOP", "b", "a", 0), ("BRPOP", "a", 0),
         ("BRPOP", "b", 0)],
        [("MULTI",), ("RPUSH", "b", "b1", "b2"), ("RPUSH", "a", "a1"), ("EXEC",)],
        ["a", "b"]),
    "bzpopmin_serves_ready_key_first": (
        [],
        [("BZPOPMIN", "z1", "z2", 0), ("BZPOPMAX", "z1", "z2", 0),
         ("BZPOPMIN", "z2", 0)],
        [("MULTI",), ("ZADD", "z2", 1, "a", 2, "b"), ("ZADD", "z1", 3, "c"), ("EXEC",)],
        ["z1", "z2"]),
    "bzpopmax_variadic_zadd_serves_all": (
        [],
        [("BZPOPMAX", "z", 0), ("BZPOPMAX", "z", 0), ("BZPOPMIN", "z", 0)],
        [("ZADD", "z", 1, "a", 2, "b", 3, "c")],
        ["z"]),
    "blmpop_wrongtype_first_key_after_blocking": (
        [],
        [("BLMPOP", 0, 2, "a", "b", "LEFT"), ("BLPOP", "b", 0)],
        [("MULTI",), ("SET", "a", "str"), ("RPUSH", "b", "1", "2"), ("EXEC",)],
        ["a", "b"]),
    "script_fills_several_keys": (
        [],
        [("BLPOP", "l1", "l2", 0), ("BLMPOP", 0, 2, "l1", "l2", "RIGHT", "COUNT", 5),
         ("BRPOPLPUSH", "l2", "out", 0), ("BLPOP", "l1", 0)],
        [("EVAL", "redis.call('rpush','l2','x','y') redis.call('rpush','l1','a','b','c') "
          "return 1", 0)],
        ["l1", "l2", "out"]),
    "push_then_delete_in_multi_keeps_waiting": (
        [],
        [("BLPOP", "q", 0), ("BZPOPMIN", "z", 0)],
        [("MULTI",), ("RPUSH", "q", "a"), ("DEL", "q"), ("ZADD", "z", 1, "m"), ("DEL", "z"),
         ("EXEC",)],
        ["q", "z"]),
    # A woken waiter whose key now holds another type stays blocked (no WRONGTYPE), and
    # is served by the next push once the key is a list again.
    "push_del_set_in_multi_keeps_waiting": (
        [],
        [("BLPOP", "q", 0), ("BLMPOP", 0, 1, "q", "LEFT"), ("BZPOPMIN", "z", 0),
         ("BRPOPLPUSH", "q", "out", 0)],
        [("MULTI",), ("LPUSH", "q", "a"), ("DEL", "q"), ("SET", "q", "foo"),
         ("ZADD", "z", 1, "m"), ("DEL", "z"), ("SET", "z", "bar"), ("EXEC",),
         ("DEL", "q", "z"), ("LPUSH", "q", "b", "c", "d"), ("ZADD", "z", 2, "n")],
        ["q", "z", "out"]),
    "linked_blmoves": (
        [],
        [("BLMOVE", "a", "b", "LEFT", "RIGHT", 0), ("BLMOVE", "b", "c", "LEFT", "RIGHT", 0),
         ("BLPOP", "c", 0)],
        [("RPUSH", "a", "v")],
        ["a", "b", "c"]),
    "circular_brpoplpush": (
        [],
        [("BRPOPLPUSH", "a", "b", 0), ("BRPOPLPUSH", "b", "a", 0)],
        [("RPUSH", "a", "1", "2")],
        ["a", "b"]),
    "more_waiters_than_elements": (
        [],
        [("BRPOP", "q", 0), ("BLPOP", "q", 0), ("BRPOP", "q", 0)],
        [("RPUSH", "q", "1", "2")],
        ["q"]),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_wakeups_match_redis(name, server, redis_server):
    setup, waiters, trigger, keys = SCENARIOS[name]
    ours = run_scenario(server.port, setup, waiters, trigger, keys)
    theirs = run_scenario(redis_server.port, setup, waiters, trigger, keys)
    assert ours == theirs



@pytest.mark.parametrize("waiter,push,key", [
    (("brpop", "fifo", 5), ("lpush", "fifo"), "fifo"),
    (("bzpopmin", "zfifo", 5), ("zadd", "zfifo"), "zfifo"),
])
def test_fifo_across_worker_threads(waiter, push, key):
    """Waiters of one key, spread over three worker threads, are served in the order they
    blocked when single-element writes come back to back, as in Redis: the first waiter
    gets the first element even when the second write signals the key while the first
    waiter's wake-up is still running on its own thread (before the fix, 1 round in 5
    served the second and third waiters the wrong way round)."""
    from conftest import Server
    srv = Server({"server.threads": "3"}).start()
    try:
        r = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
        for rnd in range(60):
            # Idle connections shift which worker thread each waiter and the writer land on.
            spacers = [redis.Redis(host="127.0.0.1", port=srv.port) for _ in range(rnd % 3)]
            for s in spacers:
                s.ping()
            writer = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=10)
            conns = []
            for i in range(4):
                c = redis.Connection(host="127.0.0.1", port=srv.port, socket_timeout=10)
                c.connect()
                c.send_command(*waiter)
                conns.append(c)
                wait_blocked(r, i + 1)
            for v in range(4):
                if push[0] == "zadd":
                    writer.execute_command("zadd", key, v, str(v))
                else:
                    writer.execute_command(*push, str(v))
            got = []
            for c in conns:
                reply = _read(c, 5)
                got.append(reply[1] if isinstance(reply, list) else reply)
                c.disconnect()
            for s in spacers + [writer]:
                s.close()
            assert got == [b"0", b"1", b"2", b"3"], f"round {rnd}"
    finally:
        srv.stop()
