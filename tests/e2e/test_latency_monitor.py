"""LATENCY against a real ferrite-host: events over latency-monitor-threshold (a slow
command, a fast one), LATEST/HISTORY/GRAPH/DOCTOR/RESET, and per-command HISTOGRAM.
Replies that do not depend on time are compared with redis-server 7.0 in
test_slowlog_monitor.py."""
import time

from resp_compare import Conn


def call(port, *args):
    c = Conn(port)
    try:
        return c.call(*args)
    finally:
        c.close()


def test_latency_events_latest_history_graph_reset(server):
    r = server.redis()
    # Off by default: a slow command records nothing.
    r.execute_command("DEBUG", "SLEEP", "0.03")
    assert r.execute_command("LATENCY", "LATEST") == []
    doctor = call(server.port, "LATENCY", "DOCTOR")[1]
    assert b"disabled" in doctor
    r.config_set("latency-monitor-threshold", 20)
    r.execute_command("DEBUG", "SLEEP", "0.05")   # not FAST: event "command"
    r.ping()                                      # fast, and far under the threshold
    latest = r.execute_command("LATENCY", "LATEST")
    assert len(latest) == 1
    name, when, ms, worst = latest[0]
    assert name == b"command"
    assert abs(when - time.time()) < 30
    assert 50 <= ms < 5000 and worst == ms
    hist = r.execute_command("LATENCY", "HISTORY", "command")
    assert hist == [[when, ms]]
    graph = call(server.port, "LATENCY", "GRAPH", "command")[1]
    assert graph.startswith(b"command - high %d ms, low %d ms (all time high %d ms)\n" % (ms, ms, ms))
    doctor = call(server.port, "LATENCY", "DOCTOR")[1]
    assert b"1. command: 1 latency spikes (average %dms" % ms in doctor
    assert r.execute_command("LATENCY", "RESET", "nosuch") == 0
    assert r.execute_command("LATENCY", "RESET") == 1
    assert r.execute_command("LATENCY", "LATEST") == []
    assert call(server.port, "LATENCY", "GRAPH", "command") == (
        "-", b"ERR No samples available for event 'command'")


def test_latency_histogram(server):
    r = server.redis()
    for _ in range(5):
        r.set("k", "v")
    r.get("k")
    t, body = call(server.port, "LATENCY", "HISTOGRAM", "set", "get", "nosuchcommand")
    assert t == "%" or t == "*"
    flat = body
    names = [flat[i][1] for i in range(0, len(flat), 2)]
    assert names == [b"set", b"get"]
    set_info = flat[1][1]
    assert set_info[0][1] == b"calls" and int(set_info[1][1]) == 5
    assert set_info[2][1] == b"histogram_usec"
    buckets = set_info[3][1]
    counts = [int(buckets[i][1]) for i in range(1, len(buckets), 2)]
    bounds = [int(buckets[i][1]) for i in range(0, len(buckets), 2)]
    assert counts == sorted(counts) and counts[-1] == 5    # cumulative, ends at calls
    assert bounds == sorted(bounds) and all(b & (b - 1) == 0 or b in (65, 131, 262, 524)
                                            or b > 1000 for b in bounds)
    everything = call(server.port, "LATENCY", "HISTOGRAM")[1]
    all_names = [everything[i][1] for i in range(0, len(everything), 2)]
    assert b"set" in all_names and b"get" in all_names and b"del" not in all_names
