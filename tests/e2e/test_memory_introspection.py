"""MEMORY STATS / DOCTOR and redis-cli's --memkeys / --bigkeys, side by side with
redis-server 7.0: the same reply shape (fields, order, kinds; RESP2 and RESP3) and
figures that follow the data."""
import re
import shutil
import subprocess

import pytest
import redis
from resp_compare import Conn, compare

MB = 1 << 20


def _stats(port, resp=2):
    c = Conn(port, resp)
    try:
        kind, items = c.call("MEMORY", "STATS")
    finally:
        c.close()
    return kind, items


def _shape(kind, items):
    """[(field, reply kind)] with a nested map's own shape; the values left out."""
    out = []
    for name, value in zip(items[0::2], items[1::2]):
        assert name[0] == "$", name
        if value[0] in ("*", "%"):
            out.append((name[1], value[0], tuple(_shape(value[0], value[1]))))
        else:
            out.append((name[1], value[0]))
    return out


def _as_dict(items):
    d = {}
    for name, value in zip(items[0::2], items[1::2]):
        if value[0] in ("*", "%"):
            d[name[1].decode()] = _as_dict(value[1])
        else:
            v = value[1]
            d[name[1].decode()] = int(v) if value[0] == ":" else float(v)
    return d


def _fill(r, scale=1):
    p = r.pipeline(transaction=False)
    for i in range(50 * scale):
        p.set(f"s{i}", "v" * (100 + i))
    p.rpush("l", *range(300))
    p.hset("h", mapping={f"f{i}": i for i in range(300)})
    p.sadd("set", *range(300))
    p.zadd("z", {f"m{i}": i for i in range(300)})
    for i in range(300):
        p.xadd("st", {"a": i, "b": "x" * 20})
    p.set("e", "v", ex=1000)
    p.execute()


@pytest.mark.parametrize("resp", [2, 3])
def test_memory_stats_has_redis_shape(server, redis_server, resp):
    for port in (server.port, redis_server.port):
        r = Conn(port)
        for cmd in (("SET", "a", "1"), ("SET", "b", "2", "EX", "100"), ("SELECT", "3"),
                    ("SET", "c", "3")):
            r.call(*cmd)
        r.close()
    ours, theirs = _stats(server.port, resp), _stats(redis_server.port, resp)
    assert ours[0] == theirs[0]
    assert _shape(*ours) == _shape(*theirs)


def test_memory_stats_figures_follow_the_data(server):
    r = server.redis()
    empty = _as_dict(_stats(server.port)[1])
    assert empty["keys.count"] == 0 and not any(k.startswith("db.") for k in empty)
    assert empty["startup.allocated"] > 0
    assert empty["clients.normal"] > 0  # this connection's buffers
    _fill(r)
    full = _as_dict(_stats(server.port)[1])
    info = r.info("memory")
    assert full["keys.count"] == r.dbsize()
    assert full["startup.allocated"] == empty["startup.allocated"]
    assert full["total.allocated"] == pytest.approx(info["used_memory"], rel=0.05)
    assert full["peak.allocated"] >= full["total.allocated"]
    grown = full["total.allocated"] - empty["total.allocated"]
    assert full["dataset.bytes"] - empty["dataset.bytes"] > 0.5 * grown
    db0 = full["db.0"]
    assert db0["overhead.hashtable.main"] > 0 and db0["overhead.hashtable.expires"] > 0
    assert full["keys.bytes-per-key"] == (full["total.allocated"] -
                                         full["startup.allocated"]) // full["keys.count"]
    assert 0 < full["dataset.percentage"] <= 100
    assert full["allocator.allocated"] > 0
    assert full["fragmentation"] == pytest.approx(
        (full["total.allocated"] + full["fragmentation.bytes"]) / full["total.allocated"],
        rel=0.01)
    # Deleting keys lowers the figures; the peak stays.
    r.flushall()
    after = _as_dict(_stats(server.port)[1])
    assert after["keys.count"] == 0
    assert after["total.allocated"] < full["total.allocated"]
    assert after["peak.allocated"] >= full["total.allocated"]
    assert after["peak.percentage"] < 100


def test_memory_stats_and_doctor_errors_match_redis(server, redis_server):
    script = [(cmd, False) for cmd in [
        ("MEMORY", "STATS", "extra"), ("MEMORY", "DOCTOR", "extra"), ("MEMORY", "HELP"),
        ("MEMORY", "DOCTOR"),  # both are nearly empty: the same "too little memory" text
    ]]
    assert compare(server.port, redis_server.port, script) == []


def test_memory_doctor_reports_a_past_peak(server, redis_server):
    """40 MB written, then 3/4 of it deleted: both servers see a peak over 150% of the
    memory in use and say so (each in its own words after the same heading)."""
    reports = []
    for port in (server.port, redis_server.port):
        r = redis.Redis(port=port, socket_timeout=30)
        value = "x" * 4000
        for batch in range(10):
            p = r.pipeline(transaction=False)
            for i in range(1000):
                p.set(f"k{batch}:{i}", value)
            p.execute()
        for batch in range(8):
            r.delete(*[f"k{batch}:{i}" for i in range(1000)])
        reports.append(r.execute_command("MEMORY", "DOCTOR").decode())
    ours, theirs = reports
    assert theirs.startswith("Sam, I detected a few issues"), theirs
    assert ours.startswith("Sam, I detected a few issues"), ours
    assert " * Peak memory:" in ours and " * Peak memory:" in theirs


def _cli(port, flag):
    exe = shutil.which("redis-cli")
    if not exe:
        pytest.fail("redis-cli is not installed (packaging/install-deps.sh installs it)")
    out = subprocess.run([exe, "-p", str(port), flag], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    summary = out.stdout.split("-------- summary -------", 1)[1]
    return summary


BIGGEST = re.compile(r"Biggest\s+(\w+) found '\"([^\"]+)\"' has (\d+) (\w+)")


def _biggest(summary):
    return {m[0]: (m[1], int(m[2]), m[3]) for m in BIGGEST.findall(summary)}


def _fill_types(r):
    """Of each type a small key and a big one, so "biggest" has a choice to make."""
    r.set("s-small", "v")
    r.set("s-big", "v" * 3000)
    r.rpush("l-small", "a")
    r.rpush("l-big", *[f"element-{i}" for i in range(500)])
    r.hset("h-small", "f", "v")
    r.hset("h-big", mapping={f"field-{i}": f"value-{i}" for i in range(500)})
    r.sadd("set-small", "a")
    r.sadd("set-big", *[f"member-{i}" for i in range(500)])
    r.zadd("z-small", {"a": 1})
    r.zadd("z-big", {f"member-{i}": i for i in range(500)})
    r.xadd("x-small", {"a": "1"})
    for i in range(500):
        r.xadd("x-big", {"field": f"value-{i}"})


def test_redis_cli_memkeys_reports_real_sizes(server, redis_server):
    figures = {}
    for name, port in (("ferrite", server.port), ("redis", redis_server.port)):
        _fill_types(redis.Redis(port=port, socket_timeout=10))
        figures[name] = _biggest(_cli(port, "--memkeys"))
    ours, theirs = figures["ferrite"], figures["redis"]
    assert set(ours) == set(theirs) == {"string", "list", "hash", "set", "zset", "stream"}
    for kind, (key, size, unit) in theirs.items():
        assert ours[kind][0] == key, (kind, ours, theirs)
        assert ours[kind][2] == unit == "bytes"
        assert size / 2 <= ours[kind][1] <= size * 2, (kind, ours[kind], theirs[kind])


def test_redis_cli_bigkeys_matches_redis(server, redis_server):
    summaries = []
    for port in (server.port, redis_server.port):
        _fill_types(redis.Redis(port=port, socket_timeout=10))
        summaries.append(sorted(line for line in _cli(port, "--bigkeys").splitlines()
                                if line.strip()))
    assert summaries[0] == summaries[1]


SCRIPT_FIELDS = ["used_memory_lua", "used_memory_vm_eval", "used_memory_lua_human",
                 "used_memory_scripts_eval", "number_of_cached_scripts", "number_of_functions",
                 "number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total",
                 "used_memory_vm_total_human", "used_memory_functions", "used_memory_scripts",
                 "used_memory_scripts_human"]


def _memory_info(port):
    c = Conn(port)
    try:
        text = c.call("INFO", "memory")[1].decode()
    finally:
        c.close()
    return [line.split(":", 1) for line in text.split("\r\n") if line and ":" in line]


def test_info_memory_scripting_fields_match_redis(server, redis_server):
    """INFO memory's scripting fields, where and in the order Redis 7.0 prints them, with
    counts that follow SCRIPT LOAD / FLUSH and FUNCTION LOAD / DELETE."""
    lib = "#!lua name=mylib\nredis.register_function('f1', function() return 1 end)\n" \
          "redis.register_function('f2', function() return 2 end)"
    counts = {}
    for port in (server.port, redis_server.port):
        names = [k for k, _ in _memory_info(port)]
        start = names.index("total_system_memory_human") + 1
        assert names[start:start + len(SCRIPT_FIELDS)] == SCRIPT_FIELDS, port
        assert names[start + len(SCRIPT_FIELDS)] == "maxmemory"
        c = Conn(port)
        seen = []
        def snap():
            f = dict(_memory_info(port))
            seen.append((int(f["number_of_cached_scripts"]), int(f["number_of_functions"]),
                         int(f["number_of_libraries"])))
            return f
        before = snap()
        c.call("EVAL", "return 1", "0")
        c.call("SCRIPT", "LOAD", "return 2")
        c.call("SCRIPT", "LOAD", "return 2")  # the same script: still two
        after = snap()
        assert int(after["used_memory_scripts_eval"]) > int(before["used_memory_scripts_eval"])
        c.call("FUNCTION", "LOAD", lib)
        f = snap()
        assert int(f["used_memory_functions"]) > int(after["used_memory_functions"])
        assert int(f["used_memory_scripts"]) == \
            int(f["used_memory_scripts_eval"]) + int(f["used_memory_functions"])
        assert int(f["used_memory_vm_total"]) > 0
        c.call("SCRIPT", "FLUSH")
        snap()
        c.call("FUNCTION", "DELETE", "mylib")
        snap()
        c.close()
        counts[port] = seen
    assert counts[server.port] == counts[redis_server.port]
    assert counts[server.port] == [(0, 0, 0), (2, 0, 0), (2, 2, 1), (0, 2, 1), (0, 0, 0)]
