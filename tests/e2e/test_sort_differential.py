"""SORT and SORT_RO side by side with the real redis-server 7.0: random lists, sets and
sorted sets (numbers, words, a mix that cannot be converted), weight keys, hash fields
and GET targets; random BY / LIMIT / GET / ASC|DESC / ALPHA / STORE combinations in
random order, over RESP2 and RESP3. Replies and STOREd lists must be identical.

Compared without order, because Redis leaves it to a hash table: an unsorted set (BY a
constant), and ALPHA BY a pattern that finds nothing for any element of a set or sorted
set (every weight ties, so the hash order shows). Every existing weight is distinct,
so no other comparison depends on tie order. Seeded, so a failure replays."""
import random

import pytest

from resp_compare import Conn, compare, sort_tree

NUMS = ["1", "2", "10", "-3", "3.5", "007", "1e2", "0", "-0.5", "42", " 5", "inf"]
WORDS = ["a", "b", "B", "aa", "ab", "z", "10", "2", "", "é", "a b"]
MIXED = ["1", "2", "x", "3"]
MISSING_BY = ["nokey_*", "h_*->nofield", "v_*"]  # v_* exists only for some elements


def fill_keyspace(conn, r):
    conn.call("FLUSHALL")
    pool = sorted(set(NUMS + WORDS + MIXED))
    weights = r.sample(range(1000), len(pool))
    for el, w in zip(pool, weights):
        conn.call("SET", "w_" + el, str(w))
        conn.call("HSET", "h_" + el, "f", "f%03d" % w, "n", str(w * 7 % 1000))
        if r.random() < 0.5:
            conn.call("SET", "v_" + el, "val-" + el)
    for name, kind, src in (("l_num", "list", NUMS), ("l_word", "list", WORDS),
                            ("l_mix", "list", MIXED), ("s_num", "set", NUMS),
                            ("s_word", "set", WORDS), ("z_word", "zset", WORDS),
                            ("z_num", "zset", NUMS)):
        els = [r.choice(src) for _ in range(r.randrange(1, 12))]
        if kind == "list":
            conn.call("RPUSH", name, *els)
        elif kind == "set":
            conn.call("SADD", name, *els)
        else:
            for i, e in enumerate(els):
                conn.call("ZADD", name, str(r.randrange(-5, 5) + i * 0.01), e)
    conn.call("SET", "str", "x")


def command(r):
    key = r.choice(["l_num", "l_word", "l_mix", "s_num", "s_word", "z_word", "z_num", "nokey",
                    "str"])
    ro = r.random() < 0.2
    opts = []
    by = None
    if r.random() < 0.5:
        by = r.choice(["w_*", "h_*->f", "h_*->n", "nosort", "w_"] + MISSING_BY)
        opts.append(["BY", by])
    alpha = r.random() < 0.5
    if alpha:
        opts.append(["ALPHA"])
    store = None
    if not ro and r.random() < 0.3:
        store = r.choice(["dst", "dst2", "l_num"])
    hashed = key.startswith("s_") or key.startswith("z_")
    # Where Redis' order comes from a hash table: an unsorted set (stored ones are
    # sorted ALPHA), and ALPHA by a weight some elements lack (equal weights keep the
    # iteration order). LIMIT would pick a hash-order-dependent subset there.
    unordered = (key.startswith("s_") and by in ("nosort", "w_") and store is None) or \
                (hashed and alpha and by in MISSING_BY)
    if r.random() < 0.4 and not (alpha and by in MISSING_BY) and not unordered:
        opts.append(["LIMIT", str(r.randrange(-2, 8)), str(r.randrange(-2, 8))])
    for _ in range(r.choice([0, 0, 1, 2])):
        opts.append(["GET", r.choice(["#", "v_*", "h_*->f", "w_*", "nostar", "h_*->"])])
    if r.random() < 0.4:
        opts.append([r.choice(["ASC", "DESC", "desc"])])
    if store:
        opts.append(["STORE", store])
    r.shuffle(opts)
    args = ["SORT_RO" if ro else "SORT", key] + [w for o in opts for w in o]
    if r.random() < 0.02:
        args.append(r.choice(["BOGUS", "LIMIT", "BY"]))
    return args, unordered, store


def run(ours, theirs, seed, resp, n):
    r = random.Random(seed)
    a, b = Conn(ours, resp), Conn(theirs, resp)
    bad = []
    try:
        state = r.getstate()
        for c in (a, b):
            r.setstate(state)
            fill_keyspace(c, r)
        for i in range(n):
            args, unordered, store = command(r)
            x, y = a.call(*args), b.call(*args)
            if unordered:
                x, y = sort_tree(x), sort_tree(y)
            if x != y:
                bad.append(f"#{i} {args}\n  ours:   {x}\n  theirs: {y}")
            elif store:
                x, y = a.call("LRANGE", store, "0", "-1"), b.call("LRANGE", store, "0", "-1")
                if unordered:
                    x, y = sort_tree(x), sort_tree(y)
                    for c in (a, b):  # its order must not reach later comparisons
                        c.call("DEL", store)
                if x != y:
                    bad.append(f"#{i} {args}: stored\n  ours:   {x}\n  theirs: {y}")
            if len(bad) >= 8:
                break
            if store == "l_num" and r.random() < 0.5:  # refill what STORE overwrote
                for c in (a, b):
                    c.call("DEL", "l_num")
                    c.call("RPUSH", "l_num", "5", "1", "3")
    finally:
        a.close()
        b.close()
    return bad


@pytest.mark.parametrize("seed,resp", [(1, 2), (2, 3), (3, 2), (4, 3)])
def test_random_sort_matches_redis(server, redis_server, seed, resp):
    bad = run(server.port, redis_server.port, seed, resp, 800)
    assert not bad, "\n".join(bad)


@pytest.mark.long
@pytest.mark.parametrize("seed", range(100, 110))
def test_random_sort_matches_redis_long(server, redis_server, seed):
    bad = run(server.port, redis_server.port, seed, 2 + seed % 2, 8000)
    assert not bad, "\n".join(bad)


def test_limit_with_tied_alpha_weights_comes_out_in_redis_order(server, redis_server):
    """SORT ... BY ... ALPHA LIMIT where many elements share a weight: Redis sorts a
    LIMIT narrower than the whole with its pqsort, which is not stable, so only the same
    algorithm puts the tied elements in the same order (a full sort is stable)."""
    r = random.Random(7)
    script = [(["FLUSHALL"], False)]
    for n in range(80):
        script.append((["RPUSH", "l", "e%02d" % n], False))
        script.append((["SET", "w_e%02d" % n, r.choice(["a", "b", "c", "d"])], False))
    for start, count in [(0, 1), (0, 5), (3, 7), (10, 20), (40, 30), (0, 79), (0, 80),
                         (75, 10), (0, 45), (20, 41)]:
        for extra in ([], ["DESC"], ["GET", "#", "GET", "w_*"]):
            script.append((["SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", str(start), str(count)]
                           + extra, False))
    script.append((["SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", "5", "9", "STORE", "dst"], False))
    script.append((["LRANGE", "dst", "0", "-1"], False))
    bad = compare(server.port, redis_server.port, script)
    assert not bad, "\n".join(bad)


def test_unsorted_set_from_a_script_is_alphabetical_like_redis(server, redis_server):
    """A set sorted BY a constant comes out in hash order, except from a script (and with
    STORE): a script's effects must not depend on the order, so Redis sorts ALPHA."""
    from resp_compare import compare
    members = ["z", "c", "d", "r", "u", "h", "l", "e", "a", "n", "b", "o", "s", "azz", "aa"]
    script = [(["DEL", "myset"], False), (["SADD", "myset", *members], False),
              (["EVAL", "return redis.call('sort', KEYS[1], 'by', 'nokey')", "1", "myset"],
               False),
              (["EVAL", "return redis.call('sort', KEYS[1], 'by', 'nokey', 'desc')", "1",
                "myset"], False),
              (["EVAL", "return redis.call('sort', KEYS[1], 'by', 'nokey', 'get', 'nokey*')",
                "1", "myset"], False),
              (["EVAL", "return redis.call('sort_ro', KEYS[1], 'by', 'nokey', 'limit', 2, 3)",
                "1", "myset"], False)]
    bad = compare(server.port, redis_server.port, script)
    assert not bad, "\n".join(bad)


# Numbers around SORT's integer fast path (up to 15 digits, an optional '-') and what it
# must leave to strtod: 16+ digits (rounded), signs, spaces, hex, exponents, "-0".
EDGE_NUMS = ["0", "-0", "7", "007", "-7", "123456789012345", "-123456789012345",
             "999999999999999", "1234567890123456", "12345678901234567", "99999999999999999",
             "-1234567890123456789", "+8", " 9", "0x1A", "1e3", "1.5", "-", "",
             "18446744073709551617"]


def test_numeric_edges_match_redis(server, redis_server):
    for resp in (2, 3):
        a, b = Conn(server.port, resp), Conn(redis_server.port, resp)
        try:
            for c in (a, b):
                c.call("DEL", "edges", "bad", "wts")
                c.call("RPUSH", "edges", *[e for e in EDGE_NUMS if e != "-"])
                c.call("RPUSH", "bad", "1", "-")
                c.call("RPUSH", "wts", "a", "b", "c")
                c.call("MSET", "w_a", "123456789012345", "w_b", "-0", "w_c", "1234567890123456")
            for args in (["SORT", "edges"], ["SORT", "edges", "DESC"],
                         ["SORT", "edges", "LIMIT", "2", "5"], ["SORT", "bad"],
                         ["SORT", "wts", "BY", "w_*"], ["SORT", "wts", "BY", "w_*", "DESC"]):
                assert a.call(*args) == b.call(*args), args
        finally:
            a.close()
            b.close()
