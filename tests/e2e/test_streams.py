"""Streams against real processes: RDB files moving between redis-server 7.0 and Ferrite
both ways with consumer groups and pending entries, AOF rewrite and replay, blocking
reads over the wire, and consumer-group workers in separate processes."""
import multiprocessing
import os
import shutil
import struct
import subprocess
import time

import pytest
import redis

from persist_util import RedisPeer, listpack, rdb_file, rdb_string


def build_dataset(r):
    """A stream with tombstones, several nodes, groups with PELs and consumers, an empty
    stream with a group, and a stream trimmed to nothing."""
    r.config_set("stream-node-max-entries", "4")
    for i in range(1, 30):
        r.xadd("s", {"f": str(i), "other": "x" * (i % 3)}, id=f"{i}-{i % 2}")
    r.xadd("s", {"different": "fields", "n": "-12"}, id="30-0")
    r.xdel("s", "3-1", "10-0", "30-0")
    r.xgroup_create("s", "g1", id="0")
    r.xgroup_create("s", "g2", id="5-0")
    r.xreadgroup("g1", "alice", {"s": ">"}, count=5)
    r.xreadgroup("g1", "bob", {"s": ">"}, count=3)
    r.xreadgroup("g2", "carol", {"s": ">"}, count=2, noack=True)
    r.xgroup_createconsumer("s", "g1", "idle-one")
    r.xack("s", "g1", "2-0")
    r.xgroup_create("empty", "g", id="$", mkstream=True)
    r.xadd("gone", {"a": "b"}, id="7-7")
    r.xtrim("gone", maxlen=0)
    r.execute_command("XSETID", "gone", "9-9", "ENTRIESADDED", "5", "MAXDELETEDID", "8-0")


def full_info(r):
    out = {}
    for k in ("s", "empty", "gone"):
        out[k] = r.execute_command("XINFO", "STREAM", k, "FULL", "COUNT", "0")
        out[k + ":range"] = r.xrange(k)
        out[k + ":groups"] = r.xinfo_groups(k)
        out[k + ":type"] = r.type(k)
    return out


def test_redis_rdb_to_ferrite_to_redis(server_factory):
    peer = RedisPeer().start()
    peer2 = None
    try:
        pr = peer.redis()
        build_dataset(pr)
        expected = full_info(pr)
        assert pr.save()
        s = server_factory({"modules.streams.stream_node_max_entries": "4"}, start=False)
        shutil.copy(os.path.join(peer.dir, "dump.rdb"), os.path.join(s.dir, "dump.rdb"))
        s.start()
        fr = s.redis()
        assert full_info(fr) == expected
        # Ferrite saves; redis-server loads that file and sees the same streams.
        assert fr.save()
        peer2 = RedisPeer(extra=["--dbfilename", "dump.rdb"])
        shutil.copy(os.path.join(s.dir, "dump.rdb"), os.path.join(peer2.dir, "dump.rdb"))
        peer2.start()
        assert full_info(peer2.redis()) == expected
        if shutil.which("redis-check-rdb"):
            out = subprocess.run(["redis-check-rdb", os.path.join(peer2.dir, "dump.rdb")],
                                 capture_output=True, text=True, timeout=60)
            assert "RDB looks OK" in out.stdout, out.stdout
        # The loaded groups keep working: a new entry reaches g1, an ack clears a PEL row.
        fr.xadd("s", {"f": "new"}, id="40-0")
        got = fr.xreadgroup("g1", "alice", {"s": ">"})
        assert got[0][1][-1][0] == b"40-0"
        assert fr.xack("s", "g1", "1-1") == 1
    finally:
        peer.cleanup()
        if peer2:
            peer2.cleanup()


def test_aof_rewrite_rebuilds_groups_and_pels(server_factory):
    # The node limit is configuration, not data: the restarted server needs it too.
    s = server_factory({"persistence.aof_enabled": "true",
                        "modules.streams.stream_node_max_entries": "4"})
    r = s.redis()
    build_dataset(r)
    before = full_info(r)
    r.bgrewriteaof()
    deadline = time.time() + 30
    while r.info("persistence")["aof_rewrite_in_progress"] and time.time() < deadline:
        time.sleep(0.05)
    r.xadd("s", {"after": "rewrite"}, id="50-0")
    before = full_info(r)
    s.restart()
    after = full_info(s.redis())
    # Seen times are not in the AOF, and replayed XADDs pack the live entries into fresh
    # nodes (tombstones are not rewritten): Redis' rewrite loses both too.
    for k in ("s", "empty", "gone"):
        for info in (before[k], after[k]):
            strip_seen(info)
            for field in (b"radix-tree-keys", b"radix-tree-nodes"):
                info[info.index(field) + 1] = 0
    assert after == before


def strip_seen(info):
    for i, x in enumerate(info):
        if x == b"groups":
            for g in info[i + 1]:
                for j, y in enumerate(g):
                    if y == b"consumers":
                        for c in g[j + 1]:
                            c[c.index(b"seen-time") + 1] = 0


def test_replayed_commands_give_identical_pels(server_factory):
    """XREADGROUP propagates XCLAIM / XGROUP SETID / CREATECONSUMER: replaying the AOF
    (no rewrite) ends with the same PELs, owners, delivery counts and last IDs."""
    s = server_factory({"persistence.aof_enabled": "true", "persistence.aof_fsync": "always"})
    r = s.redis()
    r.xgroup_create("q", "g", id="$", mkstream=True)
    for i in range(20):
        r.xadd("q", {"n": str(i)}, id=f"{i + 1}-0")
    r.xreadgroup("g", "a", {"q": ">"}, count=7)
    r.xreadgroup("g", "b", {"q": ">"}, count=5, noack=True)
    # (A history read, XREADGROUP ... 0, is left out: it moves delivery counts and times,
    # and Redis does not propagate that either.)
    r.xclaim("q", "g", "c", 0, ["1-0", "2-0"])
    r.xautoclaim("q", "g", "d", 0, "0", count=2)
    r.xadd("q", {"n": "x"}, maxlen=15, approximate=True)
    before = r.execute_command("XINFO", "STREAM", "q", "FULL")
    s.restart()
    after = s.redis().execute_command("XINFO", "STREAM", "q", "FULL")
    strip_seen(before)
    strip_seen(after)
    for i, (x, y) in enumerate(zip(before, after)):
        assert x == y, (i, x, y)
    assert after == before


def test_blocking_reads_over_the_wire(server):
    r = server.redis()
    r.xadd("s", {"f": "v"}, id="1-0")
    r2 = server.redis()
    t0 = time.time()
    assert not r2.xread({"s": "$"}, block=150)  # times out after ~150 ms
    assert time.time() - t0 >= 0.14
    import threading
    got = {}

    def reader(name):
        got[name] = server.redis().xread({"s": "$"}, block=5000)

    threads = [threading.Thread(target=reader, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    deadline = time.time() + 5
    while r.info("clients")["blocked_clients"] < 2 and time.time() < deadline:
        time.sleep(0.01)
    r.xadd("s", {"f": "w"}, id="2-0")
    for t in threads:
        t.join(10)
    for n in ("a", "b"):
        assert got[n] == [[b"s", [(b"2-0", {b"f": b"w"})]]], n
    # Scripts may not block; MULTI makes BLOCK a plain read.
    with pytest.raises(redis.ResponseError, match="XREAD command is not allowed with BLOCK"):
        r.eval("return redis.call('XREAD','BLOCK','0','STREAMS','s','$')", 0)
    p = r.pipeline(transaction=True)
    p.xread({"s": "$"}, block=0)
    assert not p.execute()[0]


def _worker(port, name, count_file, stop_after):
    """Reads from group g, acks each entry after recording it; exits (without acking
    its last batch) after `stop_after` entries when that is set."""
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)
    seen = 0
    with open(count_file, "a") as out:
        while True:
            got = r.xreadgroup("g", name, {"jobs": ">"}, count=50, block=200)
            if not got:
                if r.get("producer-done") and r.xpending("jobs", "g")["pending"] == 0:
                    return
                # Take over pending entries idle for more than 300 ms (a dead worker's).
                _, claimed, _ = r.xautoclaim("jobs", "g", name, 300, "0", count=100)
                entries = claimed
            else:
                entries = got[0][1]
            for eid, fields in entries:
                if stop_after and seen >= stop_after:
                    os._exit(0)  # dies holding un-acked entries
                out.write(fields[b"n"].decode() + "\n")
                out.flush()
                r.xack("jobs", "g", eid)
                seen += 1


def test_consumer_group_workers_ack_every_message_once(server, tmp_path):
    r = server.redis()
    r.xgroup_create("jobs", "g", id="$", mkstream=True)
    n = 10000
    files = [str(tmp_path / f"w{i}.txt") for i in range(3)]
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(server.port, f"w{i}", files[i],
                                                1000 if i == 0 else 0)) for i in range(3)]
    for p in procs:
        p.start()
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.xadd("jobs", {"n": str(i)})
        if i % 500 == 499:
            pipe.execute()
    pipe.execute()
    r.set("producer-done", "1")
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    done = []
    for f in files:
        done += [int(x) for x in open(f).read().split()]
    assert sorted(done) == list(range(n))  # every message acknowledged exactly once
    assert r.xpending("jobs", "g")["pending"] == 0
    info = {c["name"]: c for c in r.xinfo_consumers("jobs", "g")}
    assert info[b"w0"]["pending"] == 0  # its entries were claimed by the others


# --- stream RDB types other than 7.0's, built by hand --------------------------------------

def _rdb_len(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n < 2**32:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def _raw_id(ms, seq):
    return struct.pack(">QQ", ms, seq)


def _node(master, entries):
    """A stream node listpack as Redis builds it. entries: (ms, seq, deleted, [(f, v)])."""
    mfields = [f for f, _ in entries[0][3]]
    live = sum(1 for e in entries if not e[2])
    items = [live, len(entries) - live, len(mfields)] + mfields + [0]
    for ms, seq, deleted, fv in entries:
        same = [f for f, _ in fv] == mfields
        flags = (1 if deleted else 0) | (2 if same else 0)
        items += [flags, ms - master[0], seq - master[1]]
        if same:
            items += [v for _, v in fv]
            items.append(len(fv) + 3)
        else:
            items += [len(fv)] + [x for f, v in fv for x in (f, v)]
            items.append(2 * len(fv) + 4)
    return listpack(items)


def stream_value(rdb_type):
    """The value of a stream with two nodes (one tombstone), a group with two pending
    entries owned by 'alice' and an idle consumer 'bob', as RDB type 15, 19 or 21."""
    n1 = [(1, 0, False, [("f", "a"), ("g", "1")]), (1, 1, True, [("f", "b"), ("g", "2")]),
          (2, 0, False, [("f", "c"), ("g", "3")])]
    n2 = [(5, 0, False, [("other", "x")]), (6, 0, False, [("f", "d"), ("g", "-4")])]
    out = _rdb_len(2)
    for master, entries in (((1, 0), n1), ((5, 0), n2)):
        out += rdb_string(_raw_id(*master)) + rdb_string(_node(master, entries))
    out += _rdb_len(4) + _rdb_len(6) + _rdb_len(0)  # length, last ID
    if rdb_type != 15:
        out += _rdb_len(1) + _rdb_len(0)  # first ID
        out += _rdb_len(1) + _rdb_len(1)  # max deleted ID
        out += _rdb_len(5)  # entries added
    out += _rdb_len(1) + rdb_string(b"grp") + _rdb_len(2) + _rdb_len(0)
    if rdb_type != 15:
        out += _rdb_len(2)  # entries read
    out += _rdb_len(2)
    for ms in (1, 2):
        out += _raw_id(ms, 0) + struct.pack("<Q", 1700000000000 + ms) + _rdb_len(ms)
    out += _rdb_len(2)
    for name, pel in ((b"alice", [(1, 0), (2, 0)]), (b"bob", [])):
        out += rdb_string(name) + struct.pack("<Q", 1700000000123)
        if rdb_type == 21:
            out += struct.pack("<Q", 1700000000456)  # 7.2's active time
        out += _rdb_len(len(pel)) + b"".join(_raw_id(*i) for i in pel)
    return out


@pytest.mark.parametrize("rdb_type,version", [(15, 9), (19, 10), (21, 11)])
def test_stream_rdb_types_of_other_redis_versions_load(server_factory, rdb_type, version):
    body = bytes([rdb_type]) + rdb_string(b"s") + stream_value(rdb_type)
    s = server_factory(start=False)
    with open(os.path.join(s.dir, "dump.rdb"), "wb") as f:
        f.write(rdb_file(body, version))
    s.start()
    r = s.redis()
    assert r.xrange("s") == [(b"1-0", {b"f": b"a", b"g": b"1"}), (b"2-0", {b"f": b"c", b"g": b"3"}),
                             (b"5-0", {b"other": b"x"}), (b"6-0", {b"f": b"d", b"g": b"-4"})]
    info = r.execute_command("XINFO", "STREAM", "s", "FULL")
    d = dict(zip(info[::2], info[1::2]))
    assert d[b"last-generated-id"] == b"6-0"
    assert d[b"recorded-first-entry-id"] == b"1-0"
    # 5.0-6.2 files have no counters: entries-added is the length, no tombstone is known.
    assert d[b"entries-added"] == (4 if rdb_type == 15 else 5)
    assert d[b"max-deleted-entry-id"] == (b"0-0" if rdb_type == 15 else b"1-1")
    g = dict(zip(d[b"groups"][0][::2], d[b"groups"][0][1::2]))
    assert g[b"pending"] == [[b"1-0", b"alice", 1700000000001, 1],
                             [b"2-0", b"alice", 1700000000002, 2]]
    # 7.0 and 7.2 files carry the read counter; a 6.2 one gets it derived (2-0 is in the
    # middle of the stream, so it is unknown there, as Redis computes it).
    assert g[b"entries-read"] == (None if rdb_type == 15 else 2)
    consumers = {c[1]: dict(zip(c[::2], c[1::2])) for c in g[b"consumers"]}
    assert consumers[b"alice"][b"seen-time"] == 1700000000123
    assert consumers[b"bob"][b"pel-count"] == 0
    # Saved again as 7.0's type and still the same data.
    assert r.save()
    s.restart()
    assert s.redis().xrange("s") == r.xrange("s")


def test_keyspace_commands_on_streams(server):
    r = server.redis()
    r.xgroup_create("s", "g", id="$", mkstream=True)
    r.xadd("s", {"f": "v"}, id="1-0")
    r.xreadgroup("g", "c", {"s": ">"})
    r.set("str", "x")
    assert r.type("s") == b"stream"
    assert r.object("encoding", "s") == b"stream"
    assert r.scan(0, _type="stream", count=1000) == (0, [b"s"])
    assert r.move("s", 3)
    r3 = server.redis(db=3)
    assert r3.xpending("s", "g")["pending"] == 1
    assert r3.copy("s", "s2")
    assert r3.xinfo_groups("s2")[0]["pending"] == 1
    assert r3.rename("s2", "s3")
    assert r3.xrange("s3") == [(b"1-0", {b"f": b"v"})]
    assert r3.expire("s3", 100) and 0 < r3.ttl("s3") <= 100


@pytest.mark.parametrize("trim", [["MAXLEN", "~", "50"], ["MAXLEN", "~", "50", "LIMIT", "10"],
                                  ["MINID", "~", "60"], ["MAXLEN", "200"]])
def test_trimming_xadd_replays_to_the_same_stream(server_factory, trim):
    """XADD with an approximate trim propagates the exact result (Redis' rewrite of the
    trim argument), so replaying the AOF gives the same entries."""
    s = server_factory({"persistence.aof_enabled": "true",
                        "modules.streams.stream_node_max_entries": "7"})
    r = s.redis()
    for i in range(1, 101):
        r.xadd("s", {"x": "v"}, id=f"{i}-0")
    r.execute_command("XADD", "s", *trim, "*", "x", "v")
    before = r.xrange("s")
    assert r.execute_command("DEBUG", "LOADAOF") == b"OK"
    assert r.xrange("s") == before
