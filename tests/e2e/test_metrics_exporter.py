"""Prometheus: Debian's prometheus-redis-exporter, unchanged, scraping a ferrite-host.

The exporter reads INFO ALL (and CONFIG GET, CLIENT LIST, ...) and turns Redis' fields
into metrics; the test starts it on loopback against a ferrite-host that served some
traffic and checks the series a Redis dashboard is built from.
"""
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request

import pytest

from conftest import ROOT, Server, free_port

EXPORTER = "prometheus-redis-exporter"


def scrape(port, timeout=15.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
                return resp.read().decode()
        except OSError as e:
            last = e
            time.sleep(0.1)
    raise AssertionError(f"exporter did not answer on {port}: {last}")


def series(text, name):
    """{labels string: value} of metric `name` in the exposition text."""
    out = {}
    for m in re.finditer(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", text, re.M):
        out[m.group(1) or ""] = float(m.group(2))
    return out


@pytest.fixture
def exporter_for():
    if shutil.which(EXPORTER) is None:
        pytest.skip(f"{EXPORTER} is not installed (Debian package prometheus-redis-exporter)")
    procs = []

    def start(server):
        port = free_port()
        p = subprocess.Popen([EXPORTER, "-redis.addr", f"redis://127.0.0.1:{server.port}",
                              "-web.listen-address", f"127.0.0.1:{port}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(p)
        return port

    yield start
    for p in procs:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def test_exporter_scrapes_ferrite(exporter_for):
    s = Server().start()
    try:
        r = s.redis()
        for i in range(20):
            r.set(f"k{i}", "v")
        r.expire("k0", 1000)
        for i in range(30):
            r.get(f"k{i}")  # 20 hits, 10 misses
        r.select(2)
        r.set("other", "x")
        port = exporter_for(s)
        text = scrape(port)
        assert series(text, "redis_up") == {"": 1.0}, text[:2000]
        assert series(text, "redis_connected_clients")[""] >= 1
        assert series(text, "redis_memory_used_bytes")[""] > 0
        assert series(text, "redis_keyspace_hits_total")[""] == 20
        assert series(text, "redis_keyspace_misses_total")[""] == 10
        keys = series(text, "redis_db_keys")
        assert keys['{db="db0"}'] == 20 and keys['{db="db2"}'] == 1, keys
        assert series(text, "redis_db_keys_expiring")['{db="db0"}'] == 1
        calls = series(text, "redis_commands_total")
        assert calls['{cmd="get"}'] == 30 and calls['{cmd="set"}'] == 21, calls
        durations = series(text, "redis_commands_duration_seconds_total")
        assert durations['{cmd="get"}'] > 0, durations
        # Per-command latency percentiles (INFO latencystats).
        pct = series(text, "redis_latency_percentiles_usec")
        assert any('cmd="get"' in k for k in pct), sorted(pct)[:10]
        assert series(text, "redis_uptime_in_seconds")[""] >= 0
        assert "redis_instance_info{" in text and 'redis_mode="standalone"' in text
    finally:
        s.stop()


def test_exporter_reports_down_when_ferrite_stops(exporter_for):
    s = Server().start()
    port = exporter_for(s)
    assert series(scrape(port), "redis_up") == {"": 1.0}
    s.stop()
    assert series(scrape(port), "redis_up") == {"": 0.0}


def test_grafana_dashboard_uses_only_series_the_exporter_gives(exporter_for):
    """packaging/grafana/ferrite-dashboard.json: every redis_* series a panel queries is
    one the exporter produces from Ferrite (a renamed metric would leave a panel empty)."""
    dashboard = os.path.join(ROOT, "packaging", "grafana", "ferrite-dashboard.json")
    with open(dashboard) as f:
        exprs = [t["expr"] for p in json.load(f)["panels"] for t in p["targets"]]
    wanted = {m for e in exprs for m in re.findall(r"\bredis_[a-z_]+", e)}
    assert len(wanted) > 10, wanted
    s = Server().start()
    try:
        r = s.redis()
        r.set("k", "v")
        r.get("k")
        r.get("missing")
        with pytest.raises(Exception):
            r.execute_command("LPUSH", "k", "x")  # WRONGTYPE: a failed call
        r.expire("k", 100)
        text = scrape(exporter_for(s))
        produced = set(re.findall(r"^(redis_[a-z_]+)", text, re.M))
        assert wanted <= produced, sorted(wanted - produced)
    finally:
        s.stop()
