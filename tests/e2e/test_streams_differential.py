"""Random stream and consumer-group commands sent to ferrite-host and to the real
redis-server 7.0 side by side, over RESP2 and RESP3, with the default node limits and with
tiny ones (so entries spread over many nodes and approximate trims remove whole nodes):
every reply, errors included, must be identical. Seeded, so a failure replays.

IDs are explicit, or `*` / `ms-*` on streams whose top ID lies far in the future (then
Redis derives the new ID from the top ID, not from the clock), so both servers produce
the same IDs. What depends on the clock is masked: idle times and delivery / seen times
(XPENDING's idle column, XINFO's idle, seen-time and delivery times). XCLAIM and
XAUTOCLAIM use a min-idle-time of 0 or one no entry can reach. BLOCK is covered by
test_streams.py (a blocking read would stall this loop); `XREAD ... +` and XDELEX /
XACKDEL are Redis 7.4 / 8.2 commands that 7.0 does not have.
"""
import random

import pytest

from resp_compare import Conn

KEYS = ["s1", "s2", "s3"]
FUTURE = 99999999999990  # ms far in the future: `*` then follows the top ID


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.n = 0

    def k(self):
        return self.r.choice(KEYS + ["str"] if self.r.random() < 0.05 else KEYS)

    def ms(self):
        return str(self.r.choice([1, 2, 3, 5, 8, 13, FUTURE, FUTURE + 1, FUTURE + 2,
                                  FUTURE + 3, FUTURE + 5]))

    def id(self):
        return self.r.choice([
            lambda: f"{self.ms()}-{self.r.randint(0, 3)}",
            lambda: self.ms(),
            lambda: self.r.choice(["0-0", "0", "0-1", "18446744073709551615-18446744073709551615",
                                   "x", "1-x", "-1", "", "007-1"]),
        ])()

    def add_id(self):
        self.n += 1  # mostly growing IDs, so most XADDs succeed
        grow = f"{FUTURE + 6 + self.n // 7}-{self.n % 7}"
        return self.r.choice(["*", "*", f"{self.ms()}-*", self.id(), grow, grow, grow, grow])

    def range_id(self):
        return self.r.choice(["-", "+", self.id(), "(" + self.id(), "(-", "(+"])

    def num(self):
        return self.r.choice(["0", "1", "2", "3", "5", "10", "-1", "x", "100"])

    def field(self):
        return self.r.choice(["f", "g", "h", "1", "-5", "007", "a" * 70, ""])

    def value(self):
        return self.r.choice(["v", "1", "123456", "-7", "x" * 80, "", "3.14"])

    def group(self):
        return self.r.choice(["g1", "g1", "g2", "g2", "nog"])

    def consumer(self):
        return self.r.choice(["alice", "bob", "carol"])

    def pick(self, *options):
        return list(self.r.choice(options))

    def fields(self):
        n = self.r.choice([1, 1, 2, 3])
        if self.r.random() < 0.5:
            return [x for f in ["f", "g", "h"][:n] for x in (f, self.value())]
        return [x for _ in range(n) for x in (self.field(), self.value())]

    def trim(self):
        return self.pick(["MAXLEN", self.num()], ["MAXLEN", "~", self.num()],
                         ["MAXLEN", "=", self.num()], ["MINID", self.id()],
                         ["MINID", "~", self.id()], ["MAXLEN", "~", self.num(), "LIMIT", self.num()],
                         ["MAXLEN", "2", "LIMIT", "1"], ["MINID", "1", "MAXLEN", "1"],
                         ["LIMIT", "2"])

    def plain(self):
        k, p = self.k, self.pick
        add = lambda: ["XADD", k(), self.add_id()] + self.fields()  # noqa: E731
        return self.r.choice([
            lambda: ["XADD", k()] + p([], [], ["NOMKSTREAM"]) + p([], [], self.trim()) +
            [self.add_id()] + self.fields(),
            add, add, add, add,
            lambda: ["XADD", k(), self.add_id(), "f"],
            lambda: ["XLEN", k()],
            lambda: [self.r.choice(["XRANGE", "XREVRANGE"]), k(), self.range_id(),
                     self.range_id()] + p([], [], ["COUNT", self.num()], ["COUNT"], ["X", "1"]),
            lambda: ["XDEL", k()] + [self.id() for _ in range(self.r.randint(1, 3))],
            lambda: ["XTRIM", k()] + self.trim(),
            lambda: ["XSETID", k(), self.id()] + p([], ["ENTRIESADDED", self.num()],
                                                   ["MAXDELETEDID", self.id()],
                                                   ["ENTRIESADDED", "100", "MAXDELETEDID", "1-0"]),
            lambda: ["XREAD"] + p([], ["COUNT", self.num()]) + ["STREAMS", k(),
                                                                self.r.choice([self.id(), "$"])],
            lambda: ["XREAD", "STREAMS", "s1", "s2", self.id(), self.r.choice([self.id(), "$"])],
            lambda: ["XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "s3"],
            lambda: ["XREAD", self.r.choice(["NOACK", "GROUP", "BLOCK"]), "STREAMS", "s1", "0"],
        ])()

    def groups(self):
        k, g, c, p = self.k, self.group, self.consumer, self.pick
        read = lambda: ["XREADGROUP", "GROUP", g(), c(), "COUNT", "2", "STREAMS", k(),  # noqa
                        self.r.choice([">", ">", "0"])]
        create = lambda: ["XGROUP", "CREATE", k(), g(), "0", "MKSTREAM"]  # noqa: E731
        claim = lambda: ["XCLAIM", k(), g(), c(), "0", self.id(), self.id()]  # noqa: E731
        auto = lambda: ["XAUTOCLAIM", k(), g(), c(), "0", "0", "COUNT", "3"]  # noqa: E731
        pend = lambda: ["XPENDING", k(), g(), "-", "+", "10"]  # noqa: E731
        return self.r.choice([
            read, read, read, read, create, create, claim, claim, auto, auto, pend, pend,
            lambda: ["XGROUP", "CREATE", k(), g(), self.r.choice(["$", "0", "0", self.id()])] +
            p(["MKSTREAM"], ["MKSTREAM"], [], ["ENTRIESREAD", self.num()],
              ["MKSTREAM", "ENTRIESREAD", "3"], ["BAD"]),
            lambda: ["XGROUP", "SETID", k(), g(), self.r.choice(["$", "0", self.id()])] +
            p([], ["ENTRIESREAD", self.num()]),
            lambda: ["XGROUP", "DESTROY", k(), g()],
            lambda: ["XGROUP", self.r.choice(["CREATECONSUMER", "DELCONSUMER"]), k(), g(), c()],
            lambda: ["XGROUP", self.r.choice(["HELP", "create", "FOO"])] + p([], ["k"], ["k", "g"]),
            lambda: ["XREADGROUP", "GROUP", g(), c()] + p([], ["COUNT", self.num()], ["NOACK"],
                                                          ["COUNT", "2", "NOACK"]) +
            ["STREAMS", k(), self.r.choice([">", ">", ">", "0", "0", self.id(), "$"])],
            lambda: ["XREADGROUP", "GROUP", g(), c(), "STREAMS", "s1", "s2", ">", ">"],
            lambda: ["XREADGROUP", "STREAMS", k(), ">"],
            lambda: ["XACK", k(), g()] + [self.id() for _ in range(self.r.randint(1, 3))],
            lambda: ["XPENDING", k(), g()],
            lambda: ["XPENDING", k(), g()] + p([], ["IDLE", self.r.choice(["0", "1000000000"])]) +
            [self.range_id(), self.range_id(), self.num()] + p([], [c()]),
            lambda: ["XPENDING", k(), g(), "-", "+"],
            lambda: ["XCLAIM", k(), g(), c(), self.r.choice(["0", "1000000000", "x", "-5"])] +
            [self.id() for _ in range(self.r.randint(1, 3))] +
            p([], ["JUSTID"], ["FORCE"], ["RETRYCOUNT", self.num()], ["LASTID", self.id()],
              ["FORCE", "JUSTID", "RETRYCOUNT", "7"], ["IDLE", "x"], ["BOGUS"],
              ["TIME", "12345"], ["IDLE", "1000000000000"]),
            lambda: ["XAUTOCLAIM", k(), g(), c(), self.r.choice(["0", "1000000000", "x"]),
                     self.range_id()] + p([], ["COUNT", self.num()], ["JUSTID"],
                                          ["COUNT", "1", "JUSTID"], ["BOGUS"]),
        ])()

    def info(self):
        k, g, p = self.k, self.group, self.pick
        return self.r.choice([
            lambda: ["XINFO", "STREAM", k()] + p([], ["FULL"], ["FULL", "COUNT", self.num()],
                                                 ["FULL", "COUNT"], ["BAD"]),
            lambda: ["XINFO", "GROUPS", k()],
            lambda: ["XINFO", "CONSUMERS", k(), g()],
            lambda: ["XINFO", self.r.choice(["HELP", "FOO", "STREAM"])],
        ])()

    def generic(self):
        k, p = self.k, self.pick
        return self.r.choice([
            lambda: ["TYPE", k()],
            lambda: ["DEL", k()],
            lambda: ["SET", "str", "x"],
            lambda: ["COPY", k(), k()] + p([], ["REPLACE"]),
            lambda: ["RENAME", k(), k()],
            lambda: ["OBJECT", "ENCODING", k()],
            lambda: ["EXISTS", k()],
        ])()

    def next(self):
        roll = self.r.random()
        if roll < 0.40:
            return self.plain()
        if roll < 0.85:
            return self.groups()
        if roll < 0.95:
            return self.info()
        return self.generic()


def mask(args, reply):
    """Replaces what depends on the clock: idle and delivery / seen times."""
    cmd = args[0].upper()
    sub = args[1].upper() if len(args) > 1 else ""

    def walk(r, key=None):
        t, v = r
        if t == ":" and key in (b"seen-time", b"idle", "time"):
            return (":", "T")
        if isinstance(v, list):
            out, prev = [], None
            for x in v:
                out.append(walk(x, prev[1] if prev and prev[0] == "$" else None))
                prev = x
            return (t, out)
        return r

    t, v = reply
    if cmd == "XPENDING" and len(args) > 3 and isinstance(v, list):
        return (t, [(rt, rv[:2] + [(":", "T")] + rv[3:]) if isinstance(rv, list) else (rt, rv)
                    for rt, rv in v])
    if cmd == "XINFO" and sub in ("CONSUMERS", "STREAM"):
        r = walk(reply)
        if sub == "STREAM":
            r = mask_times(r)
        return r
    return reply


def mask_times(r):
    """XINFO STREAM FULL: delivery times in the PELs (integers > 10^12) are clock values."""
    t, v = r
    if t == ":" and isinstance(v, bytes) and len(v) >= 13 and v.isdigit():
        return (":", "T")
    if isinstance(v, list):
        return (t, [mask_times(x) for x in v])
    return r


# stream-node-max-entries 3 / max-bytes 100: entries spread over many nodes.
SMALL = [("stream-node-max-entries", "3"), ("stream-node-max-bytes", "100")]


@pytest.mark.parametrize("seed,resp,small", [(1, 2, False), (2, 3, False), (3, 2, True),
                                             (4, 3, True), (5, 2, True), (6, 3, True)])
def test_random_stream_commands_match_redis(server, redis_server, seed, resp, small):
    gen = Gen(seed)
    ours, theirs = Conn(server.port, resp), Conn(redis_server.port, resp)
    mismatches = []
    try:
        for name, value in SMALL if small else []:
            assert ours.call("CONFIG", "SET", name, value) == ("+", b"OK")
            assert theirs.call("CONFIG", "SET", name, value) == ("+", b"OK")
        for i in range(3000):
            args = gen.next()
            if args[0] == "XADD" and "*" in args:
                # `*` is only deterministic on a stream whose top ID is in the future.
                info = theirs.call("XINFO", "STREAM", args[1])
                top = dict(zip(info[1][::2], info[1][1::2])).get(("$", b"last-generated-id")) \
                    if isinstance(info[1], list) else None
                if not top or int(top[1].split(b"-")[0]) < FUTURE:
                    args[args.index("*")] = f"{FUTURE + 4}-*"
            x, y = mask(args, ours.call(*args)), mask(args, theirs.call(*args))
            if x != y:
                mismatches.append(f"#{i} {args}\n  ours:   {x}\n  theirs: {y}")
                ours.call("FLUSHALL")
                theirs.call("FLUSHALL")
                if len(mismatches) >= 10:
                    break
    finally:
        ours.close()
        theirs.close()
    assert not mismatches, "\n".join(mismatches)
