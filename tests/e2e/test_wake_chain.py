"""A write's reply comes after every client it woke has been served, and after the
clients those woke in turn (a BLMOVE from list1 to list2 wakes a BLMOVE waiting on list2),
as in Redis, which serves them all before it reads anyone's next command. With several
worker threads the woken clients run on their own threads: the writer's next command
(and the woken client's own next command) must still see the end of the chain.

Each scenario runs side by side with redis-server 7.0, many rounds on a three-thread
ferrite-host, with idle connections moving the writer and the waiters across threads."""
import pytest
import redis

from blocking_util import read_reply, wait_blocked
from conftest import Server

ROUNDS = 40


def _read(conn, timeout=5.0):
    return read_reply(conn, timeout, "<no reply>")


class Round:
    """Waiters blocked one after another (each on its own connection), then a writer."""

    def __init__(self, port, spacers):
        self.port = port
        self.admin = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
        self.admin.flushall()
        # Idle connections shift which worker thread each connection below lands on.
        self.spacers = [redis.Redis(host="127.0.0.1", port=port) for _ in range(spacers)]
        for s in self.spacers:
            s.ping()
        self.waiters = []

    def block(self, *cmds):
        """One waiter sending `cmds` in one write (a blocking command first)."""
        c = redis.Connection(host="127.0.0.1", port=self.port, socket_timeout=10)
        c.connect()
        c.send_packed_command(c.pack_commands([list(x) for x in cmds]))
        self.waiters.append(c)
        wait_blocked(self.admin, len(self.waiters))
        return c

    def writer(self):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)

    def close(self):
        for c in self.waiters:
            c.disconnect()
        for s in self.spacers:
            s.close()
        self.admin.close()


def linked_blmoves(port, rnd, pipelined):
    """list0 -> list1 -> list2 -> list3 -> list4: four BLMOVE waiters; the writer's next
    command (sent after the reply, or pipelined behind the write) sees list4 only."""
    r = Round(port, rnd % 3)
    try:
        for i in range(4):
            r.block(("BLMOVE", f"list{i}", f"list{i + 1}", "RIGHT", "LEFT", 0))
        w = r.writer()
        lists = [f"list{i}" for i in range(5)]
        if pipelined:
            p = w.pipeline(transaction=False)
            p.rpush("list0", "foo")
            for k in lists:
                p.lrange(k, 0, -1)
            got = p.execute()
        else:
            got = [w.rpush("list0", "foo")] + [w.lrange(k, 0, -1) for k in lists]
        got += [_read(c) for c in r.waiters]
        w.close()
        return got
    finally:
        r.close()


def circular_brpoplpush(port, rnd):
    """Two BRPOPLPUSH waiters moving between list1 and list2: the element ends in list1."""
    r = Round(port, rnd % 3)
    try:
        r.block(("BRPOPLPUSH", "list1", "list2", 0))
        r.block(("BRPOPLPUSH", "list2", "list1", 0))
        w = r.writer()
        got = [w.rpush("list1", "foo"), w.lrange("list1", 0, -1), w.lrange("list2", 0, -1)]
        got += [_read(c) for c in r.waiters]
        w.close()
        return got
    finally:
        r.close()


def woken_clients_next_command(port, rnd):
    """The first waiter pipelines an LRANGE behind its BLMOVE: once served, its LRANGE
    runs after the waiter it woke in turn has moved the element on."""
    r = Round(port, rnd % 3)
    try:
        first = r.block(("BLMOVE", "a", "b", "RIGHT", "LEFT", 0), ("LRANGE", "c", 0, -1),
                        ("LRANGE", "b", 0, -1))
        r.block(("BLMOVE", "b", "c", "RIGHT", "LEFT", 0))
        w = r.writer()
        got = [w.lpush("a", "x")]
        got += [_read(first), _read(first), _read(first), _read(r.waiters[1])]
        w.close()
        return got
    finally:
        r.close()


def brpoplpush_wrongtype_hand_on(port, rnd):
    """The first waiter's destination is a string (WRONGTYPE): the element goes on to the
    second waiter before the writer's LRANGE runs."""
    r = Round(port, rnd % 3)
    try:
        r.admin.set("target1", "nolist")
        r.block(("BRPOPLPUSH", "blist", "target1", 0))
        r.block(("BRPOPLPUSH", "blist", "target2", 0))
        w = r.writer()
        got = [w.lpush("blist", "foo"), w.lrange("target2", 0, -1), w.lrange("blist", 0, -1)]
        got += [_read(c) for c in r.waiters]
        w.close()
        return got
    finally:
        r.close()


SCENARIOS = {
    "linked_blmoves": lambda port, rnd: linked_blmoves(port, rnd, False),
    "linked_blmoves_pipelined": lambda port, rnd: linked_blmoves(port, rnd, True),
    "circular_brpoplpush": circular_brpoplpush,
    "woken_clients_next_command": woken_clients_next_command,
    "brpoplpush_wrongtype_hand_on": brpoplpush_wrongtype_hand_on,
}


@pytest.fixture(scope="module")
def three_threads():
    srv = Server({"server.threads": "3"}).start()
    yield srv
    srv.stop()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_writer_sees_end_of_wake_chain(name, three_threads, redis_server):
    scenario = SCENARIOS[name]
    expected = scenario(redis_server.port, 0)
    for rnd in range(ROUNDS):
        assert scenario(three_threads.port, rnd) == expected, f"round {rnd}"


def test_unrelated_writes_not_held(three_threads):
    """A write that wakes nobody is answered at once, and one whose waiter is served is
    answered too: a pipeline of such writes on one connection completes."""
    r = redis.Redis(host="127.0.0.1", port=three_threads.port, socket_timeout=10)
    r.flushall()
    waiter = redis.Connection(host="127.0.0.1", port=three_threads.port, socket_timeout=10)
    waiter.connect()
    waiter.send_command("BLPOP", "q", 0)
    wait_blocked(r, 1)
    p = r.pipeline(transaction=False)
    for i in range(200):
        p.rpush("q", i)
        p.incr("n")
    got = p.execute()
    assert got[-1] == 200
    assert _read(waiter) == [b"q", b"0"]
    assert r.llen("q") == 199
    waiter.disconnect()
