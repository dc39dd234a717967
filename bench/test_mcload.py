"""Checks that bench/mcload counts what the server really answered, against memcached and
(if built) ferrite-host, so memcached_bench.py's numbers are for correct replies.

    /usr/bin/python3 -m pytest -q bench/test_mcload.py

Needs a built mcload (build/bench*/bench/mcload, or MCLOAD=path; otherwise it is compiled
into a temp dir). The ferrite cases use FERRITE_HOST or build/bench/ferrite-host and are
skipped when neither exists. run_all.sh does not run this file.
"""
import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import memcached_bench  # noqa: E402


@pytest.fixture(scope="module")
def mcload():
    path, tmp = memcached_bench.find_mcload(os.environ.get("MCLOAD"))
    yield path
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


def _servers():
    out = [("memcached", benchlib.start_memcached, "port")]
    host = benchlib.default_host()
    if os.access(host, os.X_OK):
        out.append(("ferrite", lambda: benchlib.start_ferrite(host), "mc_port"))
    return out


@pytest.fixture(params=_servers(), ids=lambda p: p[0])
def port(request):
    _, start, attr = request.param
    server = start()
    yield getattr(server, attr)
    server.stop()


def run(mcload, port, *args):
    out = subprocess.run([mcload, "--port", str(port), "--conns", "4", "--keys", "200",
                          "--seconds", "0.3"] + list(args),
                         capture_output=True, text=True, timeout=60)
    fields = dict(kv.split("=", 1) for kv in out.stdout.split())
    return out.returncode, {k: fields[k] for k in ("requests", "hits", "misses", "errors")}


@pytest.mark.parametrize("proto", ["text", "binary"])
@pytest.mark.parametrize("shape", [("1", "1"), ("10", "1"), ("1", "16"), ("10", "4")],
                         ids=lambda s: "mget%s-p%s" % s)
def test_preloaded_gets_all_hit(mcload, port, proto, shape):
    rc, f = run(mcload, port, "--proto", proto, "--multiget", shape[0], "--pipeline", shape[1])
    assert rc == 0, f
    assert int(f["requests"]) > 0
    assert int(f["hits"]) == int(f["requests"]) * int(shape[0])
    assert f["misses"] == "0" and f["errors"] == "0"


@pytest.mark.parametrize("proto", ["text", "binary"])
def test_empty_server_counts_misses(mcload, port, proto):
    rc, f = run(mcload, port, "--proto", proto, "--multiget", "3", "--no-preload")
    assert rc == 0, f
    assert f["hits"] == "0"
    assert int(f["misses"]) == int(f["requests"]) * 3 > 0


@pytest.mark.parametrize("proto", ["text", "binary"])
def test_sets_then_gets_hit(mcload, port, proto):
    rc, f = run(mcload, port, "--proto", proto, "--set-ratio", "1", "--pipeline", "8",
                "--no-preload", "--keys", "50")
    assert rc == 0 and int(f["requests"]) > 0 and f["errors"] == "0", f
    # 0.3 s of random sets over 50 keys covers all of them; now every get must hit.
    rc, f = run(mcload, port, "--proto", proto, "--no-preload", "--keys", "50")
    assert rc == 0 and f["misses"] == "0" and int(f["hits"]) > 0, f
