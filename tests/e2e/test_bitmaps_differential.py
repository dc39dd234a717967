"""Random bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO)
sent to ferrite-host and to the real redis-server 7.0 side by side, over RESP2 and RESP3:
every reply, error text included, must be identical, and so must the keyspace events
both servers publish (a PSUBSCRIBEd connection on each side). Seeded, so a failure
replays. Redis 8.2's BITOP DIFF/DIFF1/ANDOR/ONE are not sent (7.0 does not know them;
they are covered by the family tests).

The generator leans on the edges: offsets around byte and word boundaries and past the
end, negative and huge range indexes, BIT/BYTE units, every BITFIELD width with '#'
offsets, values at and past each width's limits under WRAP, SAT and FAIL, malformed
types, offsets and overflow words, wrong-type keys and missing keys."""
import random

import pytest

from resp_compare import Conn

KEYS = ["b1", "b2", "b3", "nokey"]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def key(self):
        return self.r.choice(KEYS + ["l"] if self.r.random() < 0.03 else KEYS)

    def offset(self):
        r = self.r.random()
        if r < 0.6:
            return str(self.r.randrange(0, 300))
        if r < 0.8:
            return str(self.r.choice([0, 7, 8, 63, 64, 127, 128, 255, 256, 1023, 1024, 4095]))
        # Past the 512 MB limit, but never a valid huge offset: that would make both
        # servers allocate (and BITOP/BITCOUNT scan) half a gigabyte.
        return self.r.choice(["-1", "x", "", "1.5", "4294967296", "4294967297",
                              "9223372036854775807", str(self.r.randrange(1000, 40000))])

    def index(self):
        return str(self.r.choice([0, 1, 2, 3, -1, -2, -3, 5, 8, 9, 15, 16, 17, 31, 100, -100,
                                  self.r.randrange(-60, 60), 9223372036854775807,
                                  -9223372036854775808]))

    def unit(self):
        return self.r.choice(["BIT", "BYTE", "bit", "byte", "bits"])

    def ftype(self):
        r = self.r.random()
        if r < 0.45:
            return "i%d" % self.r.randrange(1, 65)
        if r < 0.9:
            return "u%d" % self.r.randrange(1, 64)
        return self.r.choice(["u64", "i65", "i0", "u0", "I8", "x8", "u", "i-1", "u08"])

    def foffset(self):
        if self.r.random() < 0.3:
            return "#" + self.r.choice([str(self.r.randrange(0, 12)), "-1", "x", ""])
        return self.offset()

    def fvalue(self, t):
        bits = int(t[1:]) if t[1:].isdigit() and 0 < int(t[1:]) <= 64 else 8
        signed = t.startswith("i")
        edges = [0, 1, -1, 2 ** (bits - 1) - 1, -(2 ** (bits - 1)), 2 ** bits - 1, 2 ** bits,
                 2 ** (bits - 1), 9223372036854775807, -9223372036854775808]
        if not signed:
            edges += [2 ** bits - 2, 2 ** bits + 5]
        v = self.r.choice(edges + [self.r.randrange(-300, 300)])
        v = max(-9223372036854775808, min(9223372036854775807, v))
        return self.r.choice([str(v)] * 20 + ["x", "1.5", ""])

    def bitfield(self, readonly):
        args = ["BITFIELD_RO" if readonly else "BITFIELD", self.key()]
        for _ in range(self.r.randrange(0, 5)):
            r = self.r.random()
            if r < 0.35 or (readonly and r < 0.9):
                args += ["GET", self.ftype(), self.foffset()]
            elif r < 0.6:
                t = self.ftype()
                args += ["SET", t, self.foffset(), self.fvalue(t)]
            elif r < 0.85:
                t = self.ftype()
                args += ["INCRBY", t, self.foffset(), self.fvalue(t)]
            else:
                args += ["OVERFLOW", self.r.choice(["WRAP", "SAT", "FAIL", "fail", "sat", "x"])]
        if self.r.random() < 0.03:
            args.append(self.r.choice(["GET", "GET i8", "SET", "OVERFLOW"]).split()[0])
        return args

    def command(self):
        r = self.r.random()
        k = self.key()
        if r < 0.22:
            return ["SETBIT", k, self.offset(), self.r.choice(["1", "0", "1", "0", "2", "-1", "x"])]
        if r < 0.32:
            return ["GETBIT", k, self.offset()]
        if r < 0.44:
            args = ["BITCOUNT", k]
            n = self.r.choice([0, 1, 2, 2, 3, 3, 4])
            if n >= 1:
                args.append(self.index())
            if n >= 2:
                args.append(self.index())
            if n >= 3:
                args.append(self.unit())
            if n >= 4:
                args.append("x")
            return args
        if r < 0.56:
            args = ["BITPOS", k, self.r.choice(["0", "1", "1", "0", "2", "x"])]
            for _ in range(self.r.choice([0, 1, 2, 2, 3, 3, 4])):
                args.append(self.index() if len(args) < 5 else self.unit())
            return args
        if r < 0.64:
            op = self.r.choice(["AND", "OR", "XOR", "NOT", "and", "nand"])
            n = 1 if op == "NOT" and self.r.random() < 0.8 else self.r.randrange(1, 4)
            return ["BITOP", op, self.key()] + [self.key() for _ in range(n)]
        if r < 0.88:
            return self.bitfield(readonly=False)
        if r < 0.93:
            return self.bitfield(readonly=True)
        if r < 0.96:
            return ["GET", k]
        if r < 0.98:
            return ["SET", k, self.r.choice(["", "foobar", "\x00\xff\xf0", "123", "\xff" * 9,
                                             "\x01" * 33])]
        return ["DEL", k]


class Subscriber:
    """A PSUBSCRIBEd connection collecting every keyspace event."""

    def __init__(self, port):
        self.c = Conn(port)
        self.c.call("PSUBSCRIBE", "__key*__:*")

    def drain_until(self, key):
        out = []
        while True:
            msg = self.c.read()
            kind, parts = msg
            channel, payload = parts[2][1], parts[3][1]
            if payload == key.encode() or channel.endswith(b":" + key.encode()):
                if channel.startswith(b"__keyspace"):
                    return out
                continue
            out.append((channel, payload))


def run(ours, theirs, seed, resp, n):
    g = Gen(seed)
    a, b = Conn(ours, resp), Conn(theirs, resp)
    subs = []
    mismatches = []
    try:
        for c in (a, b):
            assert c.call("CONFIG", "SET", "notify-keyspace-events", "KEA") == ("+", b"OK")
            c.call("FLUSHALL")
            c.call("RPUSH", "l", "x")
        subs = [Subscriber(ours), Subscriber(theirs)]
        for i in range(n):
            args = g.command()
            x, y = a.call(*args), b.call(*args)
            if x != y:
                mismatches.append(f"#{i} {args}\n  ours:   {x}\n  theirs: {y}")
                if len(mismatches) >= 10:
                    break
        for k in KEYS:
            x, y = a.call("GET", k), b.call("GET", k)
            if x != y:
                mismatches.append(f"final GET {k}\n  ours:   {x}\n  theirs: {y}")
        for c in (a, b):
            c.call("SET", "__end", "1")
        ev_ours, ev_theirs = subs[0].drain_until("__end"), subs[1].drain_until("__end")
        if ev_ours != ev_theirs:
            for j, (x, y) in enumerate(zip(ev_ours + [None] * len(ev_theirs),
                                           ev_theirs + [None] * len(ev_ours))):
                if x != y:
                    mismatches.append(f"event #{j}: ours {x}, theirs {y}")
                    break
    finally:
        for c in [a, b] + [s.c for s in subs]:
            c.close()
    return mismatches


@pytest.mark.parametrize("seed,resp", [(1, 2), (2, 2), (3, 3), (4, 3)])
def test_random_bitmap_commands_match_redis(server, redis_server, seed, resp):
    mismatches = run(server.port, redis_server.port, seed, resp, 3000)
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.long
@pytest.mark.parametrize("seed", range(100, 110))
def test_random_bitmap_commands_match_redis_long(server, redis_server, seed):
    mismatches = run(server.port, redis_server.port, seed, 2 + seed % 2, 30000)
    assert not mismatches, "\n".join(mismatches)
