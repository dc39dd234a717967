"""The "Migrating from Memcached" guide's Node.js adapter (ioredis), run as written.

node/memcached_adapter.js is the guide's code unchanged; node/adapter_scenario.js drives
each of its methods and prints every result. The scenario runs against ferrite-host and
against the real redis-server 7.0 in the same test and the two result lists must be equal
(TTLs within a second); each result is also checked against the value written below, with
a comment where the guide is wrong about what Redis does. The steps where the adapter
departs from memcached are then sent, as memcached commands, to memcached 1.6.18 and to
Ferrite's own memcached port, which must answer alike: the memcached port needs no adapter.

Setup: ioredis (pinned, IOREDIS below) is installed with npm from the npm registry into a
folder under the system temp directory, outside the repository, once per version; node and
npm come from packaging/install-deps.sh. Neither missing is a skip: the test fails and
says what to install.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile

import pytest

from conftest import transcript

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "node", "adapter_scenario.js")
# 5.x supports Node 12 and newer (Debian 12 ships 18); ioredis 6 needs Node 20.
IOREDIS = "5.9.3"


def _installed_version(node_modules):
    try:
        with open(os.path.join(node_modules, "ioredis", "package.json")) as f:
            return json.load(f).get("version")
    except (OSError, ValueError):
        return None


@pytest.fixture(scope="module")
def node_env():
    """(node binary, environment with NODE_PATH at an ioredis install outside the repo)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are needed to run the guide's Node.js adapter "
                    "(packaging/install-deps.sh installs them: Debian packages nodejs, npm)")
    dest = os.path.join(tempfile.gettempdir(), "ferrite-e2e-ioredis-" + IOREDIS)
    node_modules = os.path.join(dest, "node_modules")
    if _installed_version(node_modules) != IOREDIS:
        # Installed into a fresh folder, then renamed into place: a concurrent run never
        # sees a half-installed package.
        tmp = tempfile.mkdtemp(prefix="ferrite-e2e-ioredis-tmp-")
        try:
            p = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--no-package-lock",
                                "--no-save", "--prefer-offline", "--prefix", tmp, "ioredis@" + IOREDIS],
                               capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            shutil.rmtree(tmp, ignore_errors=True)
            pytest.fail("npm install ioredis@%s did not finish in 300 s (is the npm registry "
                        "reachable?)" % IOREDIS)
        if p.returncode != 0 or _installed_version(os.path.join(tmp, "node_modules")) != IOREDIS:
            shutil.rmtree(tmp, ignore_errors=True)
            pytest.fail("npm install ioredis@%s failed (exit %d); the test needs the npm "
                        "registry:\n%s" % (IOREDIS, p.returncode, (p.stderr or p.stdout)[-1500:]))
        shutil.rmtree(dest, ignore_errors=True)
        try:
            os.rename(tmp, dest)
        except OSError:  # another run put it there first
            shutil.rmtree(tmp, ignore_errors=True)
        assert _installed_version(node_modules) == IOREDIS
    return node, dict(os.environ, NODE_PATH=node_modules)


def run_scenario(node_env, port):
    node, env = node_env
    p = subprocess.run([node, SCENARIO, str(port)], capture_output=True, text=True,
                       timeout=60, env=env, cwd=HERE)
    assert p.returncode == 0, "scenario failed on port %d:\n%s" % (port, p.stderr)
    return [tuple(step) for step in json.loads(p.stdout)]


class Ttl:
    """A TTL that may have ticked down by one second between the write and the read."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __eq__(self, got):
        return got in (self.seconds, self.seconds - 1)

    def __repr__(self):
        return "Ttl(%d)" % self.seconds


# What the adapter returns, step by step, on redis-server 7.0 (and so on Ferrite).
EXPECTED = [
    ("flush", "OK"),
    # The guide's Python "Functional Testing" through the Node adapter: its assertions
    # `add(...) == True` / `== False` do not hold for this adapter either. Without a
    # lifetime add() is SETNX, which answers 1/0, and with one it is SET ... EX NX, which
    # answers "OK"/null: two return conventions in one method, neither true/false.
    ("set test_key 60", "OK"),
    ("get test_key", "test_value"),
    ("set counter 0", "OK"),
    ("incr counter", 1),
    ("decr counter", 0),
    ("add new_key", 1),
    ("add new_key again", 0),
    ("replace new_key", "OK"),
    ("replace missing", None),  # SET XX on a missing key: null, not false
    ("get missing", None),
    ("set k1", "OK"),
    ("set k2 100", "OK"),
    ("ttl k2", Ttl(100)),
    ("getMulti", {"k1": "v1", "k2": "v2", "nope": None}),
    ("add k3 100", "OK"),
    ("add k3 100 again", None),
    ("replace k3 50", "OK"),
    ("ttl k3", Ttl(50)),
    ("replace k2 no lifetime", "OK"),
    ("ttl k2 after replace", -1),  # SET without KEEPTTL drops the TTL (as memcached's 0)
    ("replace missing 50", None),
    ("touch k1 100", 1),
    ("touch nope 100", 0),
    ("delete k3", 1),
    ("delete k3 again", 0),
    # Flaw: the guide's table calls `touch <key> <exptime>` -> EXPIRE "Identical", but
    # EXPIRE with 0 deletes the key at once, where memcached's `touch k 0` makes the item
    # never expire.
    ("touch k1 0", 1),
    ("get k1 after touch 0", None),
    # Flaw: INCRBY on a missing key creates it (memcached: NOT_FOUND, no key made).
    ("incr absent 5", 5),
    # Flaw: DECRBY goes below zero (memcached's decr stops at 0).
    ("set d 1", "OK"),
    ("decr d 5", -4),
    # Both reject a non-number, each with its own error text; the promise rejects.
    ("set s abc", "OK"),
    ("incr s", {"error": "ERR value is not an integer or out of range"}),
    # Flaw: a negative lifetime fails `lifetime > 0`, so the item is stored with no expiry
    # (memcached: a negative exptime stores an item that is already expired).
    ("set neg -1", "OK"),
    ("get neg", "v"),
    ("ttl neg", -1),
    # Flaw: memcached reads an exptime over 30 days (2592000 s) as an absolute Unix time;
    # SETEX always counts seconds from now, so an application passing absolute times
    # gets items that live for decades (and one passing 2592001 meant "already expired").
    ("set abs 2592001", "OK"),
    ("ttl abs", Ttl(2592001)),
    # Flaw: get() returns ioredis' UTF-8 decoded string, so a binary value comes back
    # with U+FFFD in place of its bytes; the bytes themselves are stored intact
    # (getBuffer). memcached clients hand back the bytes.
    ("set bin ff fe", "OK"),
    ("get bin", "\ufffd\ufffd"),
    ("getBuffer bin", [255, 254]),
    # Unlike the guide's Python adapter, an empty value reads back as "" (not null).
    ("set empty", "OK"),
    ("get empty", ""),
    ("set num 42", "OK"),
    ("get num", "42"),  # strings come back, never numbers
    ("flush at the end", "OK"),
    ("get test_key after flush", None),
]


def test_node_adapter_same_results_on_ferrite_and_redis(node_env, server, redis_server):
    ferrite = run_scenario(node_env, server.port)
    redis = run_scenario(node_env, redis_server.port)
    assert [label for label, _ in ferrite] == [label for label, _ in EXPECTED]
    assert [label for label, _ in redis] == [label for label, _ in EXPECTED]
    for (label, want), (_, f), (_, r) in zip(EXPECTED, ferrite, redis):
        assert r == want, "redis-server, step %r: %r, expected %r" % (label, r, want)
        assert f == want, "ferrite, step %r: %r, expected %r" % (label, f, want)
        if not isinstance(want, Ttl):
            assert f == r, "step %r: ferrite %r, redis-server %r" % (label, f, r)


def test_node_adapter_as_written_keeps_node_running(node_env, server):
    """Flaw: the adapter has no close(); ioredis keeps its connection open, so a script
    that uses it as a drop-in replacement never exits on its own (the scenario above calls
    adapter.client.quit() itself)."""
    node, env = node_env
    p = subprocess.Popen([node, SCENARIO, str(server.port), "hang"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, cwd=HERE, text=True)
    try:
        out, err = p.communicate(timeout=3)
        pytest.fail("node exited (%s) although the connection was never closed: %s %s"
                    % (p.returncode, out, err))
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate(timeout=10)
    assert out.strip() == "null"  # it did run: the GET of a missing key answered


# The adapter steps flagged above, as memcached commands, and memcached 1.6.18's answers.
MEMCACHED_STEPS = [
    (b"set k1 0 0 2\r\nv1\r\ntouch k1 0\r\nget k1\r\n",
     b"STORED\r\nTOUCHED\r\nVALUE k1 0 2\r\nv1\r\nEND\r\n"),            # kept, no expiry
    (b"incr absent 5\r\nget absent\r\n", b"NOT_FOUND\r\nEND\r\n"),      # not created
    (b"set d 0 0 1\r\n1\r\ndecr d 5\r\n", b"STORED\r\n0\r\n"),           # stops at 0
    (b"set s 0 0 3\r\nabc\r\nincr s 1\r\n",
     b"STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
    (b"set neg 0 -1 1\r\nv\r\nget neg\r\n", b"STORED\r\nEND\r\n"),      # already expired
    (b"set abs 0 2592001 1\r\nv\r\nget abs\r\n", b"STORED\r\nEND\r\n"),  # 1970: expired
    (b"set bin 0 0 2\r\n\xff\xfe\r\nget bin\r\n",
     b"STORED\r\nVALUE bin 0 2\r\n\xff\xfe\r\nEND\r\n"),                 # the bytes
    (b"set empty 0 0 0\r\n\r\nget empty\r\n", b"STORED\r\nVALUE empty 0 0\r\n\r\nEND\r\n"),
]


def test_memcached_and_ferrites_memcached_port_answer_those_steps_alike(mc_server,
                                                                        memcached_server):
    for port in (memcached_server.port, mc_server.mc_port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            transcript(s, b"flush_all\r\n", b"OK\r\n")
            for send, expect in MEMCACHED_STEPS:
                transcript(s, send, expect)
