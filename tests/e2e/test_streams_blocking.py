"""Blocked stream readers side by side with redis-server 7.0: consumers of one group are
served in the order they blocked whatever worker thread each is on, a reader blocked on
several keys is answered with the one stream that woke it, and group-only changes (PEL,
consumers) show in used_memory at once."""
import time

import pytest
import redis

from resp_compare import Conn, encode


def wait_blocked(r, n, timeout=10.0):
    deadline = time.time() + timeout
    while r.info("clients")["blocked_clients"] != n:
        assert time.time() < deadline, f"never {n} blocked clients"
        time.sleep(0.005)


def connect(port):
    c = redis.Connection(host="127.0.0.1", port=port, socket_timeout=15)
    c.connect()
    return c


def fifo_rounds(port, rounds, consumers, one_transaction=True):
    """Per round: `consumers` clients block in turn on XREADGROUP ... COUNT 1 >, one
    transaction (or as many XADDs back to back) adds as many entries; returns which entry
    each client got, by round."""
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=15)
    out = []
    for rnd in range(rounds):
        key = f"jobs{rnd}"
        r.delete(key)
        r.xgroup_create(key, "g", id="$", mkstream=True)
        conns = []
        for i in range(consumers):
            c = connect(port)
            c.send_command("XREADGROUP", "GROUP", "g", f"c{i}", "COUNT", "1", "BLOCK", "10000",
                           "STREAMS", key, ">")
            conns.append(c)
            wait_blocked(r, i + 1)  # c(i) blocked before c(i+1) sends
        if one_transaction:
            p = r.pipeline(transaction=True)
            for i in range(consumers):
                p.xadd(key, {"n": str(i)}, id=f"{i + 1}-0")
            p.execute()
        else:
            for i in range(consumers):
                r.xadd(key, {"n": str(i)}, id=f"{i + 1}-0")
        got = []
        for c in conns:
            reply = c.read_response()
            got.append(reply[0][1][0][0].decode())
            c.disconnect()
        out.append(got)
    return out


def test_group_readers_are_served_in_block_order_across_threads(server_factory, redis_server):
    """With four worker threads the twelve consumers are spread over all of them; each
    must still get the entry that matches its place in the queue, as Redis gives it."""
    f = server_factory({"server.threads": "4"})
    rounds, consumers = 6, 12
    expected = [[f"{i + 1}-0" for i in range(consumers)]] * rounds
    assert fifo_rounds(redis_server.port, rounds, consumers) == expected
    assert fifo_rounds(f.port, rounds, consumers) == expected


def test_group_readers_fifo_with_back_to_back_xadds(server_factory, redis_server):
    """Entries added one XADD at a time, each answered before the next is sent: a later
    XADD may signal the key while the first woken consumer's re-run is still going on its
    own thread; the next consumer in line must not overtake it."""
    f = server_factory({"server.threads": "3"})
    rounds, consumers = 20, 4
    expected = [[f"{i + 1}-0" for i in range(consumers)]] * rounds
    assert fifo_rounds(redis_server.port, 2, consumers, one_transaction=False) == expected[:2]
    assert fifo_rounds(f.port, rounds, consumers, one_transaction=False) == expected


def test_two_groups_and_a_reader_that_finds_nothing(server_factory, redis_server):
    """Waiters of two groups on one key: every waiter of a woken key gets its turn, also
    behind one that finds nothing left for its group (it keeps waiting, then times out)."""
    def run(port):
        r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=15)
        r.xgroup_create("k", "g1", id="$", mkstream=True)
        r.xgroup_create("k", "g2", id="$")
        # (group, consumer, count, block ms)
        order = [("g1", "a", 2, 10000), ("g1", "b", 1, 500), ("g2", "c", 1, 10000),
                 ("g2", "d", 1, 10000)]
        conns = []
        for i, (g, name, count, block) in enumerate(order):
            c = connect(port)
            c.send_command("XREADGROUP", "GROUP", g, name, "COUNT", count, "BLOCK", block,
                           "STREAMS", "k", ">")
            conns.append(c)
            wait_blocked(r, i + 1)
        p = r.pipeline(transaction=True)
        p.xadd("k", {"n": "1"}, id="1-0")
        p.xadd("k", {"n": "2"}, id="2-0")
        p.execute()
        got = [c.read_response() for c in conns]
        for c in conns:
            c.disconnect()
        return got, r.xinfo_groups("k")

    f = server_factory({"server.threads": "4"})
    mine, theirs = run(f.port), run(redis_server.port)
    assert mine == theirs
    assert mine[0][1] is None  # b found nothing and timed out


@pytest.mark.parametrize("cmd", ["XREADGROUP", "XREAD"])
@pytest.mark.parametrize("protocol", [2, 3])
def test_blocked_reader_on_two_keys_gets_the_key_that_woke_it(server, redis_server, cmd,
                                                                protocol):
    """Redis 7.0 answers a blocked reader with the one stream whose write woke it, even
    when the same transaction wrote to its other key too."""
    def run(port):
        r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=15)
        for k in ("k1", "k2"):
            r.xadd(k, {"a": "0"}, id="1-0")
            r.xgroup_create(k, "g", id="$")
        c = Conn(port, protocol)
        head = ["XREADGROUP", "GROUP", "g", "c1"] if cmd == "XREADGROUP" else ["XREAD"]
        ids = [">", ">"] if cmd == "XREADGROUP" else ["$", "$"]
        c.s.sendall(encode([*head, "BLOCK", "10000", "STREAMS", "k1", "k2", *ids]))
        wait_blocked(r, 1)
        p = r.pipeline(transaction=True)
        p.xadd("k2", {"x": "1"}, id="5-0")
        p.xadd("k1", {"y": "1"}, id="6-0")
        p.execute()
        got = c.read()
        c.close()
        return got, r.xpending("k1", "g")["pending"], r.xpending("k2", "g")["pending"]

    mine, theirs = run(server.port), run(redis_server.port)
    assert mine == theirs
    kind, streams = mine[0]
    assert len(streams) == (2 if kind == "%" else 1)  # one stream (a RESP3 map: key, value)


def dataset_bytes(r):
    return int(r.info("memory")["used_memory_dataset"])


def test_group_only_changes_show_in_used_memory_at_once(server):
    r = server.redis()
    r.xadd("s", {"f": "v"}, id="1-0")
    m0 = dataset_bytes(r)
    r.xgroup_create("s", "g", id="0")
    m1 = dataset_bytes(r)
    assert m1 > m0
    for i in range(300):
        r.xgroup_createconsumer("s", "g", f"consumer-{i}")
    m2 = dataset_bytes(r)
    assert m2 - m1 >= 300 * 64  # each consumer costs at least its map node
    for i in range(300):
        r.xgroup_delconsumer("s", "g", f"consumer-{i}")
    assert dataset_bytes(r) == m1

    for i in range(2, 502):
        r.xadd("s", {"f": "v"}, id=f"{i}-0")
    m3 = dataset_bytes(r)
    r.xreadgroup("g", "alice", {"s": ">"}, count=500)  # 500 pending entries
    m4 = dataset_bytes(r)
    assert m4 - m3 >= 500 * 64
    r.xclaim("s", "g", "bob", 0, [f"{i}-0" for i in range(2, 102)])  # a new consumer
    m5 = dataset_bytes(r)
    assert m5 > m4
    r.xautoclaim("s", "g", "carol", 0, "0-0", count=10)
    assert dataset_bytes(r) > m5
    r.xack("s", "g", *[f"{i}-0" for i in range(1, 502)])
    m6 = dataset_bytes(r)
    assert m4 - m6 >= 500 * 64
    r.xgroup_setid("s", "g", id="0")
    assert dataset_bytes(r) == m6  # the same group, the same size

    # Not a write for WATCH (Redis 7.0 does not signal them), though the size changed.
    w = server.redis()
    p = w.pipeline(transaction=True)
    p.watch("s")
    r.xgroup_createconsumer("s", "g", "late")
    p.multi()
    p.xlen("s")
    assert p.execute() == [501]


def test_a_blocked_read_is_one_call_in_commandstats(server, redis_server):
    """Redis counts a command that blocked once, whether it is later served or fails."""
    def run(port):
        r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=15)
        r.config_resetstat()
        r.xgroup_create("s", "g", id="$", mkstream=True)
        replies = []
        for wake in (lambda: r.xadd("s", {"f": "v"}), lambda: r.xgroup_destroy("s", "g")):
            c = Conn(port)
            c.s.sendall(encode(["XREADGROUP", "GROUP", "g", "c", "BLOCK", "10000", "STREAMS",
                                "s", ">"]))
            wait_blocked(r, 1)
            wake()
            replies.append(c.read()[0])
            c.close()
        st = r.info("commandstats")["cmdstat_xreadgroup"]
        return replies, st["calls"], st["failed_calls"], st["rejected_calls"]

    mine, theirs = run(server.port), run(redis_server.port)
    assert mine == theirs == (["*", "-"], 2, 1, 0)
