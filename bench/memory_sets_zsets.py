"""Set and sorted-set rows for bench/memory_types.py (owner: sets-zsets).

Each row fills K keys of N elements in a server and reports the INFO memory
`used_memory` delta per element; memory_types.py runs the same rows against ferrite
and redis-server 7.0 and prints them side by side. Run standalone too:

    /usr/bin/python3 bench/memory_sets_zsets.py <ferrite-port> <redis-port> [reps]
"""
import sys


def used_memory(r):
    return int(r.info("memory")["used_memory"])


def _fill(r, keys, n, one):
    p = r.pipeline(transaction=False)
    for k in range(keys):
        one(p, f"bench:{k}", n)
        if k % 50 == 49:
            p.execute()
    p.execute()


def _set_ints(p, key, n):
    for i in range(0, n, 1000):
        p.sadd(key, *range(i, min(n, i + 1000)))


def _set_strings(p, key, n):
    for i in range(0, n, 1000):
        p.sadd(key, *[f"member:{j}" for j in range(i, min(n, i + 1000))])


def _zset(p, key, n):
    for i in range(0, n, 1000):
        p.zadd(key, {f"member:{j}": j for j in range(i, min(n, i + 1000))})


# (row name, fill function, elements per key, keys)
# The n=512/513 and n=128/129 rows sit on either side of the default conversion
# thresholds (set-max-intset-entries, zset-max-listpack-entries); "set intset n=10000"
# is all-integer but past the threshold, so a hash table in both servers.
SET_ZSET_ROWS = [
    ("set intset       n=10", _set_ints, 10, 2000),
    ("set intset       n=512", _set_ints, 512, 200),
    ("set hashtable    n=513", _set_ints, 513, 200),
    ("set intset       n=10000", _set_ints, 10000, 10),
    ("set hashtable    n=10", _set_strings, 10, 2000),
    ("set hashtable    n=10000", _set_strings, 10000, 10),
    ("zset listpack    n=10", _zset, 10, 2000),
    ("zset listpack    n=128", _zset, 128, 200),
    ("zset skiplist    n=129", _zset, 129, 200),
    ("zset skiplist    n=10000", _zset, 10000, 10),
]


def measure(r, fill, n, keys):
    """Bytes per element for `keys` keys of `n` elements (after FLUSHALL)."""
    r.flushall()
    before = used_memory(r)
    _fill(r, keys, n, fill)
    after = used_memory(r)
    r.flushall()
    return (after - before) / float(keys * n)


def set_zset_rows(ours, theirs, reps=1):
    """[(name, ferrite bytes/elem, redis bytes/elem, ratio)] for the set/zset rows.
    With reps > 1 each side keeps its lowest of `reps` fills (the first fill of a row
    can include one-off growth, e.g. redis-server's first n=10 intset row reads ~12%
    higher than the following ones)."""
    out = []
    for name, fill, n, keys in SET_ZSET_ROWS:
        a = min(measure(ours, fill, n, keys) for _ in range(reps))
        b = min(measure(theirs, fill, n, keys) for _ in range(reps))
        out.append((name, a, b, a / b if b else float("nan")))
    return out


def print_rows(rows):
    print(f"{'row':28} {'ferrite B/elem':>15} {'redis B/elem':>13} {'ratio':>7}")
    for name, a, b, ratio in rows:
        print(f"{name:28} {a:15.1f} {b:13.1f} {ratio:7.2f}")


if __name__ == "__main__":
    import redis
    ours = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), socket_timeout=60)
    theirs = redis.Redis(host="127.0.0.1", port=int(sys.argv[2]), socket_timeout=60)
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    print_rows(set_zset_rows(ours, theirs, reps))
