"""MEMORY USAGE / PURGE / MALLOC-STATS and INFO memory, side by side with redis-server 7.0,
and RSS after a change of value sizes under maxmemory (the allocator's fragmentation).

The fragmentation scenario (300 MB of 1 KB values under maxmemory 50 MB, FLUSHALL, 60 MB
of 50-byte values; 20-40 s per server) runs on ferrite-host in the normal suite and side
by side with redis-server with FERRITE_LONG=1 (`make test-long`). It is not scaled down:
at a smaller maxmemory the idle process (~10 MB of RSS for both servers) dominates."""
import os
import sys

import pytest
import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import memory_fragmentation  # noqa: E402
from resp_compare import compare  # noqa: E402

MB = 1 << 20


def _both(server, redis_server):
    return [("ferrite", server.redis()), ("redis", redis_server.redis())]


def test_memory_usage_replies_and_errors_match_redis(server, redis_server):
    script = [(cmd, False) for cmd in [
        ("SET", "k", "v"),
        ("MEMORY", "USAGE", "missing"),
        ("MEMORY", "USAGE"),
        ("MEMORY", "USAGE", "k", "SAMPLES"),
        ("MEMORY", "USAGE", "k", "SAMPLES", "-1"),
        ("MEMORY", "USAGE", "k", "SAMPLES", "x"),
        ("MEMORY", "USAGE", "k", "FOO", "1"),
        ("MEMORY", "USAGE", "missing", "SAMPLES", "0"),
        ("MEMORY", "NOSUCH"),
        ("MEMORY", "PURGE", "extra"),
        ("MEMORY", "MALLOC-STATS", "extra"),
        ("MEMORY", "HELP", "extra"),
        ("MEMORY",),
        ("MEMORY", "PURGE"),
        ("COMMAND", "GETKEYS", "MEMORY", "USAGE", "key"),
        ("MULTI",), ("MEMORY", "USAGE", "nothing"), ("EXEC",),
        ("EVAL", "return redis.call('memory', 'usage', 'missing')", "0"),
    ]]
    assert compare(server.port, redis_server.port, script) == []


def _fill(r, kind, n):
    r.delete("x")
    if kind == "string":
        r.set("x", "v" * n)
    elif kind == "list":
        r.rpush("x", *[f"element-{i}" for i in range(n)])
    elif kind == "hash":
        r.hset("x", mapping={f"field-{i}": f"value-{i}" for i in range(n)})
    elif kind == "set":
        r.sadd("x", *[f"member-{i}" for i in range(n)])
    elif kind == "zset":
        r.zadd("x", {f"member-{i}": i for i in range(n)})


@pytest.mark.parametrize("kind", ["string", "list", "hash", "set", "zset"])
def test_memory_usage_is_the_values_real_size(server, redis_server, kind):
    """Small and large values of each type: the figure grows with the value, and is
    within a factor of two of redis-server's own (SAMPLES 0: redis measures it all)."""
    figures = {}
    for name, r in _both(server, redis_server):
        sizes = []
        for n in (10, 5000):
            _fill(r, kind, n)
            sizes.append(r.execute_command("MEMORY", "USAGE", "x", "SAMPLES", "0"))
        figures[name] = sizes
        assert 0 < sizes[0] < sizes[1], (name, sizes)
    ours, theirs = figures["ferrite"][1], figures["redis"][1]
    assert theirs / 2 <= ours <= theirs * 2, figures


def test_memory_usage_adds_up_to_used_memory(server):
    """The keys' figures sum to what used_memory grew by when they were written."""
    r = server.redis()
    before = r.info("memory")["used_memory"]
    p = r.pipeline(transaction=False)
    for i in range(200):
        p.set(f"s{i}", "x" * (i * 7))
        p.rpush(f"l{i}", *range(i + 1))
        p.hset(f"h{i}", mapping={f"f{j}": j for j in range(i % 50 + 1)})
    p.execute()
    grown = r.info("memory")["used_memory"] - before
    total = sum(r.memory_usage(k) for k in r.scan_iter(count=1000))
    assert 0.8 * grown <= total <= 1.25 * grown, (total, grown)


def test_info_memory_reports_the_allocator(server):
    info = server.redis().info("memory")
    alloc = info["mem_allocator"]
    assert alloc.startswith("jemalloc-") or alloc == "libc"
    for field in ("allocator_allocated", "allocator_active", "allocator_resident"):
        assert info[field] > 0, field
    assert info["allocator_active"] >= info["allocator_allocated"]
    assert info["allocator_resident"] >= info["allocator_active"]
    assert info["allocator_frag_ratio"] == pytest.approx(
        info["allocator_active"] / info["allocator_allocated"], abs=0.011)
    assert info["mem_fragmentation_ratio"] == pytest.approx(
        info["used_memory_rss"] / info["used_memory"], abs=0.011)
    stats = server.redis().execute_command("MEMORY", "MALLOC-STATS")
    if alloc.startswith("jemalloc-"):
        assert "jemalloc" in (stats.decode() if isinstance(stats, bytes) else stats)


def _fragmentation(server_factory, maxmemory_mb, scale):
    if os.environ.get("FERRITE_SANITIZER_LOGS"):
        pytest.skip("sanitizer build: ASan's allocator and quarantine, not jemalloc")
    s = server_factory({"storage.max_memory": f"{maxmemory_mb}mb",
                        "storage.eviction_policy": "allkeys-lru"})
    ratio, info = memory_fragmentation.run_scenario(
        s.port, s.proc.pid, maxmemory_mb * MB, scale=scale, settle=15, target=1.3)
    print(f"RSS / maxmemory = {ratio:.2f}; INFO: {info['mem_fragmentation_ratio']}")
    return ratio


def test_rss_after_value_size_change_stays_near_maxmemory(server_factory):
    assert _fragmentation(server_factory, 50, 1.0) <= 1.3


@pytest.mark.long
def test_rss_after_value_size_change_full_scenario(server_factory, redis_server):
    r = redis_server.redis()
    r.config_set("maxmemory", "50mb")
    r.config_set("maxmemory-policy", "allkeys-lru")
    theirs, _ = memory_fragmentation.run_scenario(
        redis_server.port, redis_server.proc.pid, 50 * MB, settle=15, target=1.3)
    ours = _fragmentation(server_factory, 50, 1.0)
    print(f"RSS / maxmemory: ferrite {ours:.2f}, redis-server {theirs:.2f}")
    assert ours <= 1.3
