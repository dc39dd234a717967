"""A stranger's module: examples/hello_module built against the *installed* SDK only.

The module fixture installs this build (`cmake --install <build> --prefix <tmp>`),
configures and builds examples/hello_module with -DCMAKE_PREFIX_PATH=<tmp> (its
find_package(Ferrite)) in a scratch directory, and hands the tests the path of the
resulting hello.so. Each test then
MODULE LOADs it into a fresh ferrite-host and drives it with python3-redis.

    FERRITE_HOST=<build>/ferrite-host /usr/bin/python3 -m pytest -q tests/e2e/test_out_of_tree_module.py
"""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

import pytest
import redis

from conftest import ROOT, host_binary

EXAMPLE = os.path.join(ROOT, "examples", "hello_module")
ABI_MSG = "was built for SDK ABI 99.0, this host speaks ABI 1."


def run(cmd, timeout):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    assert p.returncode == 0, f"{' '.join(cmd)} failed:\n{p.stdout.decode(errors='replace')}"
    return p.stdout.decode(errors="replace")


@pytest.fixture(scope="module")
def sdk():
    """{'prefix', 'so', 'build'}: the installed tree and the out-of-tree hello.so."""
    build = os.path.dirname(os.path.abspath(host_binary()))
    work = tempfile.mkdtemp(prefix="ferrite-oot-")
    prefix = os.path.join(work, "prefix")
    run(["cmake", "--install", build, "--prefix", prefix], timeout=180)
    mod_build = os.path.join(work, "hello-build")
    run(["cmake", "-S", EXAMPLE, "-B", mod_build, f"-DCMAKE_PREFIX_PATH={prefix}",
         "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON", "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], timeout=120)
    run(["cmake", "--build", mod_build, "-j1"], timeout=600)
    so = os.path.join(mod_build, "hello.so")
    assert os.path.exists(so)
    yield {"prefix": prefix, "so": so, "build": mod_build, "host_build": build}
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def hello(server, sdk):
    """A ferrite-host with hello.so MODULE LOADed; returns (server, client)."""
    r = server.redis(decode_responses=True)
    assert r.execute_command("MODULE", "LOAD", sdk["so"]) == "OK"
    return server, r


def module_list(r):
    """MODULE LIST as {name: {field: value}} (RESP2 gives flat [k, v, ...] lists)."""
    out = {}
    for m in r.execute_command("MODULE", "LIST"):
        d = m if isinstance(m, dict) else dict(zip(m[::2], m[1::2]))
        out[d["name"]] = d
    return out


def info(r, field):
    return r.info()[field]


# ---------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------

def test_install_ships_the_sdk_headers(sdk):
    inc = os.path.join(sdk["prefix"], "include", "ferrite")
    src = os.path.join(os.path.dirname(__file__), "..", "..", "sdk", "include", "ferrite")
    assert sorted(os.listdir(src))  # every header of the SDK, and nothing of the host
    assert sorted(os.listdir(inc)) == sorted(os.listdir(src))


def test_module_compiles_against_installed_headers_only(sdk):
    """No -I into the source tree (sdk/, host/): only <prefix>/include."""
    with open(os.path.join(sdk["build"], "compile_commands.json")) as f:
        cmds = json.load(f)
    assert {os.path.basename(c["file"]) for c in cmds} == {"hello_module.cc", "hello_type.cc"}
    for c in cmds:
        words = c["command"].split()
        incs = [w[2:] for w in words if w.startswith("-I")]
        incs += [words[i + 1] for i, w in enumerate(words) if w in ("-isystem", "-I")]
        assert incs and all(os.path.realpath(i) == os.path.realpath(
            os.path.join(sdk["prefix"], "include")) for i in incs), incs
        assert ROOT + "/sdk" not in c["command"] and ROOT + "/host" not in c["command"]


def test_module_exports_only_the_three_entry_points(sdk):
    out = run(["nm", "-D", "--defined-only", sdk["so"]], timeout=30)
    text = sorted(l.split()[-1] for l in out.splitlines() if " T " in l)
    assert text == ["ferrite_plugin_describe", "ferrite_plugin_load", "ferrite_plugin_unload"]


# ---------------------------------------------------------------------------------------
# Commands and the type
# ---------------------------------------------------------------------------------------

def test_set_get_type_and_encoding(hello):
    _, r = hello
    assert r.execute_command("HELLO.GET", "k") is None
    assert r.execute_command("HELLO.SET", "k", "world") == "OK"
    assert r.execute_command("HELLO.GET", "k") == "world"
    assert r.type("k") == "hellotype"
    assert r.object("encoding", "k") == "short"
    assert r.execute_command("HELLO.APPEND", "k", "x" * 40) == 45
    assert r.object("encoding", "k") == "long"
    assert r.execute_command("HELLO.APPEND", "new", "ab") == 2
    assert r.type("new") == "hellotype"
    meta = r.execute_command("HELLO.INFO", "k")
    meta = dict(zip(meta[::2], meta[1::2]))
    assert meta["type"] == "hellotype" and meta["encoding"] == "long" and meta["writes"] == 2


def test_errors_are_redis_shaped(hello):
    _, r = hello
    r.set("s", "plain")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE Operation against a key"):
        r.execute_command("HELLO.GET", "s")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.execute_command("HELLO.SET", "s", "v")
    with pytest.raises(redis.ResponseError,
                       match="wrong number of arguments for 'hello.set' command"):
        r.execute_command("HELLO.SET", "k")
    r.execute_command("HELLO.SET", "h", "v")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.get("h")  # the strings module refuses our type, too


def test_copy_rename_del_move_the_value(hello):
    _, r = hello
    r.execute_command("HELLO.SET", "a", "one")
    assert r.copy("a", "b") == 1
    r.execute_command("HELLO.APPEND", "b", "+two")
    assert r.execute_command("HELLO.GET", "a") == "one"  # copy() is deep
    assert r.execute_command("HELLO.GET", "b") == "one+two"
    assert r.type("b") == "hellotype"
    assert r.rename("b", "c") == 1
    assert r.exists("b") == 0 and r.execute_command("HELLO.GET", "c") == "one+two"
    assert r.delete("a", "c") == 2
    assert r.exists("a", "c") == 0
    assert r.execute_command("HELLO.GET", "a") is None


def test_expiry_applies_to_module_keys(hello):
    _, r = hello
    r.execute_command("HELLO.SET", "t", "v")
    assert r.pexpire("t", 50)
    time.sleep(0.2)
    assert r.execute_command("HELLO.GET", "t") is None and r.exists("t") == 0


def test_mem_usage_feeds_memory_accounting(hello):
    _, r = hello
    before = info(r, "used_memory_dataset")
    r.execute_command("HELLO.SET", "big", "x" * 200_000)
    grown = info(r, "used_memory_dataset") - before
    assert 200_000 <= grown < 300_000
    r.delete("big")
    assert info(r, "used_memory_dataset") - before < 10_000


def test_debug_reload_keeps_values_via_save_and_load(hello):
    _, r = hello
    rb = hello[0].redis()  # bytes: the value is binary
    blob = bytes(range(256)) * 3
    rb.execute_command("HELLO.SET", "bin", blob)
    r.execute_command("HELLO.SET", "w", "1")
    r.execute_command("HELLO.APPEND", "w", "2")
    r.execute_command("HELLO.APPEND", "w", "3")
    r.execute_command("HELLO.SET", "ttl", "soon")
    r.pexpire("ttl", 600_000)
    r.execute_command("SELECT", "3")
    r.execute_command("HELLO.SET", "db3", "three")
    r.execute_command("SELECT", "0")
    assert r.execute_command("DEBUG", "RELOAD") == "OK"
    assert rb.execute_command("HELLO.GET", "bin") == blob
    assert r.type("w") == "hellotype" and r.execute_command("HELLO.GET", "w") == "123"
    meta = r.execute_command("HELLO.INFO", "w")
    assert dict(zip(meta[::2], meta[1::2]))["writes"] == 3  # saved with the value
    assert 0 < r.pttl("ttl") <= 600_000
    r.execute_command("SELECT", "3")
    assert r.execute_command("HELLO.GET", "db3") == "three"


def test_aof_rewrite_and_replay_at_startup(server_factory, sdk):
    """BGREWRITEAOF calls aof_rewrite; a restart with the module configured replays it."""
    bundled = sorted(os.path.splitext(os.path.basename(p))[0]
                     for p in glob.glob(os.path.join(sdk["host_build"], "plugins", "*.so")))
    cfg = {"persistence.aof_enabled": "true",
           "modules.load": ",".join(bundled + [sdk["so"]]),
           "modules.hello.hello_max_len": "1000"}
    s = server_factory(cfg)
    r = s.redis(decode_responses=True)
    assert r.config_get("hello-max-len") == {"hello-max-len": "1000"}
    r.execute_command("HELLO.SET", "k", "before")
    r.execute_command("HELLO.APPEND", "k", "-rewrite")
    r.bgrewriteaof()
    deadline = time.time() + 30
    while time.time() < deadline and (r.info("persistence")["aof_rewrite_in_progress"]
                                      or r.info("persistence")["aof_rewrite_scheduled"]):
        time.sleep(0.05)
    r.execute_command("HELLO.APPEND", "k", "+after")  # lands in the new AOF's tail
    with open(os.path.join(s.dir, "appendonly.aof"), "rb") as f:
        aof = f.read()
    # The rewritten base holds one HELLO.SET from aof_rewrite, not the original commands.
    assert b"*3\r\n$9\r\nHELLO.SET\r\n$1\r\nk\r\n$14\r\nbefore-rewrite\r\n" in aof
    assert b"-rewrite\r\n" not in aof.replace(b"before-rewrite\r\n", b"")
    assert b"+after" in aof
    s.restart()
    r = s.redis(decode_responses=True)
    assert r.type("k") == "hellotype"
    assert r.execute_command("HELLO.GET", "k") == "before-rewrite+after"


# ---------------------------------------------------------------------------------------
# Blocking, option, events
# ---------------------------------------------------------------------------------------

def wait_blocked(r, n, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if info(r, "blocked_clients") == n:
            return
        time.sleep(0.01)
    raise AssertionError(f"blocked_clients never reached {n}")


def test_blocking_get_is_woken_by_a_write_from_another_connection(hello):
    server, r = hello
    waiter = server.redis(decode_responses=True)
    got = {}
    t = threading.Thread(target=lambda: got.setdefault("v", waiter.execute_command(
        "HELLO.BGET", "q", "10")))
    t.start()
    wait_blocked(r, 1)
    assert r.execute_command("HELLO.SET", "q", "wake") == "OK"
    t.join(10)
    assert not t.is_alive() and got["v"] == "wake"
    assert info(r, "blocked_clients") == 0


def test_blocking_get_is_woken_by_an_in_place_change(hello):
    server, r = hello
    r.execute_command("HELLO.SET", "other", "x")
    waiter = server.redis(decode_responses=True)
    got = {}
    t = threading.Thread(target=lambda: got.setdefault("v", waiter.execute_command(
        "HELLO.BGET", "p", "10")))
    t.start()
    wait_blocked(r, 1)
    r.execute_command("HELLO.APPEND", "p", "appended")
    t.join(10)
    assert got["v"] == "appended"


def test_blocking_get_times_out_and_refuses_to_block_in_multi(hello):
    _, r = hello
    t0 = time.time()
    assert r.execute_command("HELLO.BGET", "none", "0.2") is None
    assert time.time() - t0 >= 0.15
    p = r.pipeline(transaction=True)
    p.execute_command("HELLO.BGET", "none", "0")
    assert p.execute() == [None]
    with pytest.raises(redis.ResponseError, match="timeout is negative"):
        r.execute_command("HELLO.BGET", "none", "-1")


def test_module_option_through_config(hello):
    _, r = hello
    assert r.config_get("hello-max-len") == {"hello-max-len": str(1 << 20)}
    assert r.config_set("hello-max-len", 4)
    with pytest.raises(redis.ResponseError, match="longer than hello-max-len"):
        r.execute_command("HELLO.SET", "k", "12345")
    assert r.execute_command("HELLO.SET", "k", "1234") == "OK"
    with pytest.raises(redis.ResponseError, match="longer than hello-max-len"):
        r.execute_command("HELLO.APPEND", "k", "5")
    with pytest.raises(redis.ResponseError):
        r.config_set("hello-max-len", -1)
    assert r.config_get("hello-max-len") == {"hello-max-len": "4"}


def test_keyspace_event_subscription(hello):
    server, r = hello
    r.execute_command("HELLO.SET", "quiet", "v")  # events are off by default
    assert r.execute_command("HELLO.EVENTS") == []
    r.config_set("notify-keyspace-events", "KEA")
    sub = server.redis(decode_responses=True).pubsub()
    sub.psubscribe("__keyspace@0__:*")
    sub.get_message(timeout=5)
    r.execute_command("HELLO.SET", "e", "1")
    r.execute_command("HELLO.APPEND", "e", "2")
    r.rename("e", "f")
    r.delete("f")
    r.set("string", "not ours: class $ is not in our mask")
    ev = r.execute_command("HELLO.EVENTS")
    ev = dict(zip(ev[::2], ev[1::2]))
    assert ev == {"hello.set": 1, "hello.append": 1, "rename_from": 1, "rename_to": 1,
                  "del": 1}
    # The module's own events also reach ordinary subscribers.
    msg = sub.get_message(timeout=5)
    assert msg and msg["channel"] == "__keyspace@0__:e" and msg["data"] == "hello.set"
    sub.close()


# ---------------------------------------------------------------------------------------
# Loading rules
# ---------------------------------------------------------------------------------------

def test_module_list_and_double_load(hello, sdk):
    s, r = hello
    mods = module_list(r)
    assert mods["hello"]["path"] == sdk["so"] and mods["hello"]["ver"] == 1
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("MODULE", "LOAD", sdk["so"])
    assert str(e.value) == "Error loading the extension. Please check the server logs."
    assert "plugin 'hello' is already loaded" in s.log_text()


def test_unload_is_refused_while_the_module_exports_a_type(hello):
    _, r = hello
    r.execute_command("HELLO.SET", "k", "v")
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("MODULE", "UNLOAD", "hello")
    assert str(e.value) == ("Error unloading module: the module exports one or more "
                            "module-side data types, can't unload")
    r.delete("k")  # no keys left: still refused, the type stays registered
    with pytest.raises(redis.ResponseError, match="module-side data types"):
        r.execute_command("MODULE", "UNLOAD", "hello")
    assert r.execute_command("HELLO.SET", "k", "still here") == "OK"
    assert r.ping()


def test_wrong_abi_major_is_refused_and_the_server_keeps_serving(server, sdk):
    r = server.redis(decode_responses=True)
    bad = os.path.join(sdk["host_build"], "test-plugins", "abi_wrong_major.so")
    assert os.path.exists(bad), "build the abi_wrong_major target (tests/abi)"
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command("MODULE", "LOAD", bad)
    # Redis' fixed reply; the reason is in the log only.
    assert str(e.value) == "Error loading the extension. Please check the server logs."
    assert ABI_MSG in server.log_text()
    assert "abi_wrong_major" not in module_list(r) and "strings" in module_list(r)
    assert r.ping() and r.set("k", "v") and r.get("k") == "v"
    assert r.execute_command("MODULE", "LOAD", sdk["so"]) == "OK"  # a good one still loads
