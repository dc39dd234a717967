"""HyperLogLog side by side with the real redis-server 7.0.

* Random PFADD / PFCOUNT (one and many keys) / PFMERGE / PFDEBUG sequences, with
  hll-sparse-max-bytes changed now and then, sent to both servers over RESP2 and
  RESP3: every reply must be identical, and so must the HLL strings themselves (GET
  after each write), which proves the same hashing, sparse opcode edits, promotions
  to dense and cached-cardinality bytes.
* HLL strings move between the servers with GET/SET in both directions and PFCOUNT,
  PFMERGE and PFADD then agree (a key written by one server is read by the other).
* Corrupt HLL strings (bytes flipped in the header and the sparse body) get the same
  answers (INVALIDOBJ, the HLL WRONGTYPE, or a count) from both.
Seeded, so a failure replays."""
import random

import pytest

from resp_compare import Conn

KEYS = ["h1", "h2", "h3", "nokey"]


def elements(r):
    n = r.choice([0, 1, 1, 2, 5, 20, 100, 400])
    pool = r.choice([50, 1000, 100000])
    return ["e%d" % r.randrange(pool) for _ in range(n)]


def command(r):
    x = r.random()
    if x < 0.45:
        return ["PFADD", r.choice(KEYS)] + elements(r)
    if x < 0.65:
        return ["PFCOUNT"] + [r.choice(KEYS) for _ in range(r.choice([1, 1, 2, 3]))]
    if x < 0.8:
        return ["PFMERGE", r.choice(KEYS)] + [r.choice(KEYS) for _ in range(r.randrange(0, 3))]
    if x < 0.88:
        return ["PFDEBUG", r.choice(["ENCODING", "DECODE", "TODENSE", "encoding", "BAD"]),
                r.choice(KEYS)]
    if x < 0.9:
        return ["CONFIG", "SET", "hll-sparse-max-bytes", str(r.choice([0, 50, 300, 3000, 10000]))]
    if x < 0.93:
        return ["DEL", r.choice(KEYS)]
    if x < 0.95:
        return ["SET", r.choice(KEYS), r.choice(["x", "HYLL", "HYLL\x02" + "\x00" * 20])]
    return ["PFCOUNT", r.choice(KEYS)]


def run(ours, theirs, seed, resp, n):
    r = random.Random(seed)
    a, b = Conn(ours, resp), Conn(theirs, resp)
    bad = []
    try:
        for c in (a, b):
            c.call("FLUSHALL")
            c.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
        for i in range(n):
            args = command(r)
            x, y = a.call(*args), b.call(*args)
            if x != y:
                bad.append(f"#{i} {args[:6]}...\n  ours:   {x}\n  theirs: {y}")
            elif args[0] in ("PFADD", "PFMERGE", "PFCOUNT", "PFDEBUG"):
                for k in KEYS:
                    if a.call("GET", k) != b.call("GET", k):
                        bad.append(f"#{i} {args[:6]}...: the strings of {k} differ")
                        break
            if len(bad) >= 5:
                break
        for c in (a, b):
            c.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
    finally:
        a.close()
        b.close()
    return bad


@pytest.mark.parametrize("seed,resp", [(1, 2), (2, 3), (3, 2)])
def test_random_hll_commands_match_redis(server, redis_server, seed, resp):
    bad = run(server.port, redis_server.port, seed, resp, 400)
    assert not bad, "\n".join(bad)


@pytest.mark.long
@pytest.mark.parametrize("seed", range(100, 106))
def test_random_hll_commands_match_redis_long(server, redis_server, seed):
    bad = run(server.port, redis_server.port, seed, 2, 4000)
    assert not bad, "\n".join(bad)


def test_hll_strings_move_both_ways(server, redis_server):
    a, b = Conn(server.port), Conn(redis_server.port)
    r = random.Random(7)
    try:
        for src, dst in ((a, b), (b, a)):
            for c in (a, b):
                c.call("FLUSHALL")
            for k, n in (("s", 50), ("d", 5000)):
                for i in range(0, n, 500):
                    src.call("PFADD", k, *["x%d" % r.randrange(10 ** 6) for _ in range(min(500, n))])
                _, v = src.call("GET", k)
                assert dst.call("SET", k, v) == ("+", b"OK")
                assert dst.call("PFCOUNT", k) == src.call("PFCOUNT", k)
                assert dst.call("PFDEBUG", "ENCODING", k) == src.call("PFDEBUG", "ENCODING", k)
            for c in (a, b):
                assert c.call("PFMERGE", "m", "s", "d") == ("+", b"OK")
                c.call("PFADD", "s", "more", "elements")
            assert a.call("PFCOUNT", "m") == b.call("PFCOUNT", "m")
            assert a.call("PFCOUNT", "s", "d") == b.call("PFCOUNT", "s", "d")
            assert a.call("GET", "m") == b.call("GET", "m")
            assert a.call("GET", "s") == b.call("GET", "s")
    finally:
        a.close()
        b.close()


def test_corrupt_hll_strings_answer_the_same(server, redis_server):
    a, b = Conn(server.port), Conn(redis_server.port)
    r = random.Random(11)
    try:
        b.call("FLUSHALL")
        b.call("PFADD", "sparse", *["v%d" % i for i in range(40)])
        b.call("PFADD", "dense", *["v%d" % i for i in range(3000)])
        originals = {k: b.call("GET", k)[1] for k in ("sparse", "dense")}
        for trial in range(300):
            k = r.choice(["sparse", "dense"])
            v = bytearray(originals[k])
            for _ in range(r.randrange(1, 4)):
                pos = r.randrange(len(v)) if r.random() < 0.7 else r.randrange(min(len(v), 20))
                v[pos] = r.randrange(256)
            if r.random() < 0.2:
                v = v[:r.randrange(len(v))]
            v = bytes(v)
            for c in (a, b):
                c.call("SET", "c", v)
                c.call("SET", "c2", v)
            for args in (["PFCOUNT", "c"], ["PFCOUNT", "c", "nokey"], ["PFMERGE", "m", "c"],
                         ["PFDEBUG", "ENCODING", "c2"], ["PFADD", "c2", "z%d" % trial]):
                x, y = a.call(*args), b.call(*args)
                assert x == y, f"trial {trial} {args}: {v!r}\n  ours:   {x}\n  theirs: {y}"
            if a.call("GET", "c2") != b.call("GET", "c2"):
                pytest.fail(f"trial {trial}: strings differ after PFADD on {v!r}")
    finally:
        a.close()
        b.close()
