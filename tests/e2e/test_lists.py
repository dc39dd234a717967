"""Lists against a real ferrite-host: the guide's queue example, blocking pops across
connections (including a push from inside MULTI), and a side-by-side comparison of ~100
replies (errors included) with the real redis-server 7.0."""
import threading
import time

import redis

from resp_compare import compare, parse_script

SCRIPT = parse_script(r"""
rpush l a b c a
lpush l z
lrange l 0 -1
lrange l -2 100
lrange l 5 1
lrange l x 1
llen l
llen nokey
lindex l 0
lindex l -1
lindex l 99
lindex l x
lindex nokey x
lset l 0 Z
lset l 99 x
lset nokey 0 x
lset l x y
linsert l before a A
linsert l after a B
linsert l before zz y
linsert l middle a b
linsert nokey before a b
lrange l 0 -1
lrem l 1 a
lrem l -1 a
lrem l 0 zz
lrem l x a
lrem nokey 0 a
lpos l B
lpos l c rank -1
lpos l c count 0
lpos l c rank 0
lpos l c count -1
lpos l c maxlen -1
lpos l c foo
lpos l c rank 1 count 2 maxlen 10
lpos nokey a
lpos nokey a count 2
lpop l 0
lpop l -1
lpop l x
lpop l 1 2
lpop nokey
lpop nokey 2
rpop l 2
lpop l
rpush m 1 2 3 4 5 6
ltrim m 1 -2
lrange m 0 -1
ltrim m x 1
ltrim m 10 20
exists m
ltrim nokey 0 1
rpush src a b c
rpoplpush src dst
rpoplpush nokey dst
lmove src dst left right
lmove src dst up left
lmove dst dst left right
lrange dst 0 -1
lmpop 1 src left
lmpop 2 nokey dst right count 10
lmpop 0 src left
lmpop x src left
lmpop 1 src up
lmpop 2 src left
lmpop 1 src left count 0
lmpop 1 src left count -1
lmpop 1 src left count 1 count 2
lmpop 1 nokey left
lpushx nokey a
rpushx nokey a
rpush px a
lpushx px b c
rpushx px d
lrange px 0 -1
set s v
lpush s a
rpush s a
lpushx s a
lpop s
llen s
lrange s 0 1
lindex s 0
lset s 0 a
linsert s before a b
lrem s 0 a
ltrim s 0 1
lpos s a
rpoplpush s d
rpoplpush px s
lmove px s left left
lmpop 1 s left
blpop s 0.01
blpop nokey x
blpop nokey -1
blpop nokey inf
blpop nokey 0.01
brpop nokey 0.01
brpoplpush nokey d 0.01
blmove nokey d left left 0.01
blmove nokey d up left 0.01
blmpop 0.01 1 nokey left
blmpop 0.01 0 nokey left
blmpop x 1 nokey left
blpop px 0
brpop px nokey 0
brpoplpush px d2 0
lrange d2 0 -1
lpush
lrange l 0
type px
""")


def test_guide_queue_example(server):
    r = server.redis()
    assert r.lpush("queue", "task1", "task2") == 2
    assert r.rpop("queue") == b"task1"
    assert r.rpop("queue") == b"task2"
    assert r.rpop("queue") is None


def test_side_by_side_with_redis(server, redis_server):
    assert compare(server.port, redis_server.port, SCRIPT) == []


def test_side_by_side_resp3(server, redis_server):
    assert compare(server.port, redis_server.port, SCRIPT, resp=3) == []


def test_blpop_woken_by_other_connection(server):
    waiter, pusher = server.redis(), server.redis()
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", waiter.blpop(["q1", "q2"], 5)))
    t.start()
    time.sleep(0.2)
    pusher.rpush("q2", "hello")
    t.join(10)
    assert out["r"] == (b"q2", b"hello")


def test_blocking_fifo_and_fractional_timeout(server):
    clients = [server.redis() for _ in range(3)]
    results = [None] * 3

    def wait(i):
        results[i] = clients[i].brpop("fifo", 5)

    threads = []
    for i in range(3):
        t = threading.Thread(target=wait, args=(i,))
        t.start()
        threads.append(t)
        time.sleep(0.15)  # arrival order
    p = server.redis()
    for v in ("1", "2", "3"):
        p.lpush("fifo", v)
    for t in threads:
        t.join(10)
    assert [r[1] for r in results] == [b"1", b"2", b"3"]
    start = time.time()
    assert p.blpop("empty", 0.3) is None
    assert 0.25 < time.time() - start < 3


def test_push_inside_multi_wakes_waiter(server):
    waiter = server.redis()
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", waiter.blmove("src", "dst", 5, "RIGHT", "LEFT")))
    t.start()
    time.sleep(0.2)
    pipe = server.redis().pipeline(transaction=True)
    pipe.rpush("src", "a", "b")
    pipe.execute()
    t.join(10)
    assert out["r"] == b"b"
    r = server.redis()
    assert r.lrange("dst", 0, -1) == [b"b"]
    assert r.lrange("src", 0, -1) == [b"a"]


def test_blocking_not_allowed_in_multi(server):
    pipe = server.redis().pipeline(transaction=True)
    pipe.blpop("nothing", 0)
    assert pipe.execute() == [None]


def test_encodings_match_redis(server, redis_server):
    """Redis 7.0 names every list "quicklist", a one-element list as a 10000-element one
    (the single-listpack list encoding came with 7.2)."""
    got = []
    for port in (server.port, redis_server.port):
        r = redis.Redis(port=port, socket_timeout=10)
        r.delete("small", "big")
        r.rpush("small", *range(10))
        r.rpush("big", *range(10000))
        got.append((r.object("encoding", "small"), r.object("encoding", "big"),
                    r.lrange("big", 5000, 5002), r.lindex("big", -1)))
    assert got[0] == got[1] == (b"quicklist", b"quicklist",
                                [b"5000", b"5001", b"5002"], b"9999")


# --- list-max-listpack-size on snapshot load ---------------------------------------

LIST_FILL = [("RPUSH", "l", *[f"v{i}" for i in range(10)])]
LIST_STEPS = [("list-max-listpack-size", 4), ("list-max-listpack-size", -2)]


def test_reload_under_changed_listpack_size(server):
    from encoding_reload import debug_redis, encodings
    r = server.redis(decode_responses=True)
    got = encodings(r, LIST_FILL, LIST_STEPS, ["l"])
    assert r.lrange("l", 0, -1) == [f"v{i}" for i in range(10)]
    with debug_redis() as peer:
        assert got == encodings(peer, LIST_FILL, LIST_STEPS, ["l"]) == [("quicklist",)] * 2


def test_lmpop_and_blmpop_argument_errors_match_redis(server, redis_server):
    """LMPOP and BLMPOP share one argument parser (ParseMPopArgs)."""
    script = [(("RPUSH", "a", "1", "2", "3"), False)]
    for pre in (("LMPOP",), ("BLMPOP", "0.01")):
        for rest in (("0", "a", "LEFT"), ("-1", "a", "LEFT"), ("x", "a", "LEFT"),
                     ("2", "a", "LEFT"), ("1", "a", "MIDDLE"), ("1", "a", "LEFT", "COUNT", "0"),
                     ("1", "a", "LEFT", "COUNT"), ("1", "a", "LEFT", "COUNT", "1", "COUNT", "2"),
                     ("1", "a", "LEFT", "FOO"), ("1", "a", "LEFT", "COUNT", "x"),
                     ("2", "missing", "a", "RIGHT", "COUNT", "2"), ("1", "a", "left")):
            script.append((pre + rest, False))
    assert compare(server.port, redis_server.port, script) == []

