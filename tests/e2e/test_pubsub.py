"""Pub/sub against a real ferrite-host: python3-redis pubsub objects, raw RESP2/RESP3
transcripts side by side with redis-server 7.0, redis-cli, many subscribers across worker
threads, ordering, glob patterns (differential against Redis) and slow subscribers."""
import os
import random
import shutil
import socket
import subprocess
import threading
import time

import pytest


# ------------------------------------------------------------------ raw RESP helpers

def enc(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Raw:
    """A raw socket that returns exactly the bytes of n complete top-level replies."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        self.buf += chunk

    def _skip_one(self, i):
        """Returns the offset after the reply starting at i (raises IndexError if short)."""
        end = self.buf.index(b"\r\n", i)
        t, rest = self.buf[i:i + 1], self.buf[i + 1:end]
        i = end + 2
        if t in (b"$", b"=", b"!") and int(rest) >= 0:
            i += int(rest) + 2
            if i > len(self.buf):
                raise IndexError
        elif t in (b"*", b">", b"~", b"%", b"|") and int(rest) > 0:
            n = int(rest) * (2 if t in (b"%", b"|") else 1)
            for _ in range(n):
                i = self._skip_one(i)
        return i

    def read(self, n=1):
        while True:
            try:
                i = 0
                for _ in range(n):
                    i = self._skip_one(i)
                out, self.buf = self.buf[:i], self.buf[i:]
                return out
            except (ValueError, IndexError):
                self._fill()

    def call(self, *args, n=1):
        self.s.sendall(enc(*args))
        return self.read(n)

    def close(self):
        self.s.close()


def side_by_side(ferrite_port, redis_port, script, resp=2):
    """Runs `script` (list of (conn_name, args, n_replies)) on both servers; returns the
    two lists of raw reply bytes."""
    results = []
    for port in (ferrite_port, redis_port):
        conns, out = {}, []
        for name, args, n in script:
            if name not in conns:
                conns[name] = Raw(port)
                if resp == 3:
                    conns[name].call("HELLO", "3")
            c = conns[name]
            if args is None:  # read only (a message delivered to this connection)
                out.append((name, c.read(n)))
            else:
                out.append((name, args, c.call(*args, n=n)))
        for c in conns.values():
            c.close()
        results.append(out)
    return results


# ------------------------------------------------------------------ python3-redis

def wait_message(ps, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = ps.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if m is not None:
            return m
    raise AssertionError("no message within %ss" % timeout)


def test_subscribe_publish_with_python_redis(server):
    r = server.redis()
    ps = r.pubsub()
    ps.subscribe("news")
    assert ps.get_message(timeout=5) == {"type": "subscribe", "pattern": None,
                                         "channel": b"news", "data": 1}
    assert r.publish("news", "hello") == 1
    m = wait_message(ps)
    assert m == {"type": "message", "pattern": None, "channel": b"news", "data": b"hello"}
    assert r.publish("nobody", "x") == 0
    ps.unsubscribe("news")
    assert ps.get_message(timeout=5)["type"] == "unsubscribe"
    assert r.publish("news", "again") == 0
    ps.close()


def test_patterns_with_python_redis(server):
    r = server.redis()
    ps = r.pubsub()
    ps.psubscribe("news.*")
    assert ps.get_message(timeout=5)["type"] == "psubscribe"
    assert r.publish("news.tech", "a") == 1
    assert r.publish("sport", "b") == 0
    assert wait_message(ps) == {"type": "pmessage", "pattern": b"news.*",
                                "channel": b"news.tech", "data": b"a"}
    assert r.pubsub_numpat() == 1
    assert r.execute_command("PUBSUB", "NUMSUB", "news.tech") == [b"news.tech", 0]
    ps.close()


def test_close_drops_subscriptions(server):
    r = server.redis()
    ps = r.pubsub()
    ps.subscribe("a", "b")
    ps.psubscribe("p*")
    for _ in range(3):
        ps.get_message(timeout=5)
    assert r.execute_command("PUBSUB", "NUMSUB", "a") == [b"a", 1]
    ps.close()
    deadline = time.time() + 5
    while time.time() < deadline and (r.execute_command("PUBSUB", "NUMSUB", "a")[1] != 0
                                      or r.pubsub_numpat() != 0):
        time.sleep(0.02)
    assert r.execute_command("PUBSUB", "NUMSUB", "a", "b") == [b"a", 0, b"b", 0]
    assert r.pubsub_numpat() == 0
    assert r.publish("a", "x") == 0


def test_reset_drops_subscriptions(server):
    c = Raw(server.port)
    c.call("SUBSCRIBE", "a")
    c.call("SSUBSCRIBE", "s")
    assert c.call("RESET") == b"+RESET\r\n"
    # After RESET the connection is out of subscribed mode and has no subscriptions.
    assert c.call("GET", "k") == b"$-1\r\n"
    r = server.redis()
    assert r.execute_command("PUBSUB", "NUMSUB", "a") == [b"a", 0]
    assert r.publish("a", "x") == 0
    assert r.execute_command("SPUBLISH", "s", "x") == 0
    # Subscribing again works and counts from zero.
    assert c.call("SUBSCRIBE", "b") == b"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:1\r\n"
    assert r.publish("b", "y") == 1
    assert c.read() == b"*3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$1\r\ny\r\n"


def test_many_subscribers_across_threads(server_factory):
    s = server_factory({"server.threads": "4"})
    r = s.redis()
    n_subs, n_msgs = 40, 200
    subs = []
    for i in range(n_subs):
        ps = s.redis().pubsub()
        ps.subscribe("fan")
        ps.psubscribe("f*")
        assert ps.get_message(timeout=5)["type"] == "subscribe"
        assert ps.get_message(timeout=5)["type"] == "psubscribe"
        subs.append(ps)
    # Two publishers on their own connections (likely other worker threads).
    results = {}

    def publish(tag):
        pr = s.redis()
        results[tag] = [pr.publish("fan", "%s:%d" % (tag, i)) for i in range(n_msgs)]

    threads = [threading.Thread(target=publish, args=(t,)) for t in ("x", "y")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results["x"] == [2 * n_subs] * n_msgs and results["y"] == [2 * n_subs] * n_msgs
    for ps in subs:
        got = {"message": {"x": [], "y": []}, "pmessage": {"x": [], "y": []}}
        for _ in range(4 * n_msgs):
            m = wait_message(ps)
            tag, i = m["data"].decode().split(":")
            got[m["type"]][tag].append(int(i))
        # Per publisher, per subscription kind: every message, in publish order.
        for kind in got:
            for tag in ("x", "y"):
                assert got[kind][tag] == list(range(n_msgs))
        ps.close()


def test_ten_thousand_messages_keep_order(server):
    r = server.redis()
    ps = server.redis().pubsub()
    ps.subscribe("ord")
    ps.get_message(timeout=5)
    pipe = r.pipeline(transaction=False)
    for i in range(10000):
        pipe.publish("ord", str(i))
    assert pipe.execute() == [1] * 10000
    for i in range(10000):
        m = wait_message(ps)
        assert m["data"] == str(i).encode()
    ps.close()


def test_resp3_client_runs_commands_while_subscribed(server):
    c = Raw(server.port)
    c.call("HELLO", "3")
    c.call("SUBSCRIBE", "a")
    assert c.call("SET", "k", "v") == b"+OK\r\n"
    assert c.call("GET", "k") == b"$1\r\nv\r\n"
    r = server.redis()
    assert r.publish("a", "m") == 1
    assert c.read() == b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n"


def test_redis_cli_subscribe(server):
    exe = shutil.which("redis-cli")
    if not exe:
        pytest.skip("redis-cli not installed")
    p = subprocess.Popen([exe, "-p", str(server.port), "subscribe", "cli"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        r = server.redis()
        deadline = time.time() + 5
        while time.time() < deadline and r.execute_command("PUBSUB", "NUMSUB", "cli")[1] != 1:
            time.sleep(0.02)
        assert r.publish("cli", "hello from python") == 1
        lines = []
        deadline = time.time() + 5
        while len(lines) < 6 and time.time() < deadline:
            lines.append(p.stdout.readline().decode().rstrip("\n"))
        assert lines == ["subscribe", "cli", "1", "message", "cli", "hello from python"]
    finally:
        p.kill()
        p.wait(5)


# ------------------------------------------------------------------ side by side

def test_resp2_transcript_matches_redis(server, redis_server):
    script = [
        ("sub", ("SUBSCRIBE", "a", "b", "a"), 3),
        ("sub", ("PSUBSCRIBE", "a*"), 1),
        ("sub", ("SSUBSCRIBE", "s1"), 1),
        ("sub", ("GET", "k"), 1),
        ("sub", ("PING",), 1),
        ("sub", ("PING", "hi"), 1),
        ("pub", ("PUBLISH", "a", "one"), 1),
        ("sub", None, 2),
        ("pub", ("PUBLISH", "b", ""), 1),
        ("sub", None, 1),
        ("pub", ("SPUBLISH", "s1", "sm"), 1),
        ("sub", None, 1),
        ("pub", ("PUBSUB", "NUMSUB", "a", "b", "zz"), 1),
        ("pub", ("PUBSUB", "NUMPAT"), 1),
        ("pub", ("PUBSUB", "SHARDNUMSUB", "s1"), 1),
        ("pub", ("PUBSUB", "SHARDCHANNELS"), 1),
        ("pub", ("PUBSUB", "CHANNELS", "b"), 1),
        ("sub", ("UNSUBSCRIBE", "b"), 1),
        ("sub", ("UNSUBSCRIBE", "nope"), 1),
        ("sub", ("PUNSUBSCRIBE",), 1),
        ("sub", ("PUNSUBSCRIBE",), 1),
        ("sub", ("SUNSUBSCRIBE",), 1),
        ("sub", ("UNSUBSCRIBE",), 1),
        ("sub", ("UNSUBSCRIBE",), 1),
        ("sub", ("GET", "k"), 1),
        ("sub", ("PING",), 1),
    ]
    ours, theirs = side_by_side(server.port, redis_server.port, script)
    for a, b in zip(ours, theirs):
        assert a == b


def test_resp2_errors_match_redis(server, redis_server):
    script = [(("c", args, 1)) for args in [
        ("PUBSUB",), ("PUBSUB", "foo"), ("PUBSUB", "NUMPAT", "x"), ("PUBSUB", "channels", "a", "b"),
        ("PUBSUB", "SHARDCHANNELS", "a", "b"), ("PUBSUB", "HELP"), ("PUBSUB", "help", "x"),
        ("PUBLISH", "a"), ("SPUBLISH", "a"), ("SUBSCRIBE",), ("PSUBSCRIBE",), ("SSUBSCRIBE",),
        ("PUBSUB", "NUMSUB"), ("PUBSUB", "SHARDNUMSUB"),
    ]]
    ours, theirs = side_by_side(server.port, redis_server.port, script)
    for a, b in zip(ours, theirs):
        assert a == b


def test_resp3_messages_match_redis(server, redis_server):
    script = [
        ("sub", ("SUBSCRIBE", "a"), 1),
        ("sub", ("PSUBSCRIBE", "*"), 1),
        ("pub", ("PUBLISH", "a", "m"), 1),
        ("sub", None, 2),
        ("sub", ("PING",), 1),
        ("sub", ("SET", "k", "v"), 1),
        ("pub", ("PUBSUB", "NUMSUB", "a"), 1),
        # A RESP3 subscriber publishing to itself: pushes first, then the count.
        ("sub", ("PUBLISH", "a", "me"), 3),
        ("sub", ("SPUBLISH", "a", "none"), 1),
        ("sub", ("SSUBSCRIBE", "s"), 1),
        ("sub", ("SPUBLISH", "s", "me"), 2),
    ]
    ours, theirs = side_by_side(server.port, redis_server.port, script, resp=3)
    for a, b in zip(ours, theirs):
        assert a == b


def test_resp3_confirmations_are_pushes(server, redis_server):
    # UNSUBSCRIBE with no argument lists channels in Redis' dict order: one channel left.
    script = [
        ("sub", ("SUBSCRIBE", "a", "b"), 2),
        ("sub", ("PSUBSCRIBE", "p*"), 1),
        ("sub", ("SSUBSCRIBE", "s"), 1),
        ("sub", ("UNSUBSCRIBE", "b"), 1),
        ("sub", ("UNSUBSCRIBE",), 1),
        ("sub", ("UNSUBSCRIBE",), 1),
        ("sub", ("PUNSUBSCRIBE",), 1),
        ("sub", ("SUNSUBSCRIBE", "s", "t"), 2),
    ]
    ours, theirs = side_by_side(server.port, redis_server.port, script, resp=3)
    assert ours == theirs


def test_subscribed_mode_error_matches_redis(server, redis_server):
    script = [
        ("sub", ("SUBSCRIBE", "a"), 1),
        ("sub", ("SET", "k", "v"), 1),
        ("sub", ("get", "k"), 1),
        ("sub", ("QUIT",), 1),
    ]
    ours, theirs = side_by_side(server.port, redis_server.port, script)
    for a, b in zip(ours, theirs):
        assert a == b


def test_glob_patterns_match_redis(server, redis_server):
    """Differential: the same channels subscribed on both servers, then PUBSUB CHANNELS
    with random glob patterns must select the same channels."""
    rnd = random.Random(7)
    alphabet = "ab[]^-*?\\c"
    channels = set([""])
    while len(channels) < 150:
        channels.add("".join(rnd.choice("abc[]*?\\-^") for _ in range(rnd.randint(1, 6))))
    patterns = ["*", "", "**", "[", "[^", "[a-]", "[]a]", "\\", "a\\"]
    while len(patterns) < 400:
        patterns.append("".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 7))))
    holders = []
    for port in (server.port, redis_server.port):
        c = Raw(port)
        c.call("SUBSCRIBE", *sorted(channels), n=len(channels))
        holders.append(c)
    import redis
    clients = [redis.Redis(port=server.port), redis.Redis(port=redis_server.port)]
    for p in patterns:
        ours, theirs = (sorted(c.execute_command("PUBSUB", "CHANNELS", p)) for c in clients)
        assert ours == theirs, "pattern %r" % p
    for c in holders:
        c.close()


# ------------------------------------------------------------------ slow subscribers

def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_slow_subscriber_is_disconnected_and_memory_stays_bounded(server_factory):
    s = server_factory({"limits.pubsub_output_hard_limit": "32mb",
                        "limits.pubsub_output_soft_limit": "8mb",
                        "limits.pubsub_output_soft_seconds": "60"})
    slow = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(enc("SUBSCRIBE", "big"))
    time.sleep(0.2)  # the subscriber never reads again
    r = s.redis()
    assert r.execute_command("PUBSUB", "NUMSUB", "big") == [b"big", 1]
    payload = b"x" * (1 << 20)
    peak = 0
    sent = 0
    for i in range(1024):  # up to 1 GB in total
        n = r.publish("big", payload)
        sent += 1
        peak = max(peak, rss_kb(s.proc.pid))
        if n == 0:
            break
    print("slow subscriber: disconnected after %d MB, peak RSS %d kB" % (sent, peak))
    assert n == 0, "subscriber still connected after %d MB" % sent
    assert sent < 200, "disconnected only after %d MB" % sent
    assert peak < 200 * 1024, "server RSS reached %d kB" % peak
    # The publisher keeps working and the server counted the kill.
    assert r.ping()
    assert r.publish("big", "x") == 0
    info = r.info("stats")
    assert info.get("pubsub_clients_killed_for_output_buffer", 1) >= 1
    slow.close()


def test_client_output_buffer_limit_config_applies(server):
    r = server.redis()
    r.config_set("client-output-buffer-limit", "pubsub 1mb 0 0")
    slow = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(enc("SUBSCRIBE", "c"))
    time.sleep(0.2)
    payload = b"y" * (256 << 10)
    n = 1
    for i in range(400):  # 100 MB at most
        n = r.publish("c", payload)
        if n == 0:
            break
    assert n == 0 and i < 100, "not disconnected after %d x 256 kB" % (i + 1)
    slow.close()


def read_until_quiet(sock, want_prefix_len, timeout=5.0):
    """Reads until `want_prefix_len` bytes arrived, then 0.2 s more for any excess."""
    sock.settimeout(timeout)
    got = b""
    while len(got) < want_prefix_len:
        chunk = sock.recv(65536)
        if not chunk:
            return got
        got += chunk
    sock.settimeout(0.2)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        pass
    return got


@pytest.mark.parametrize("pipeline", [
    b"MULTI\r\nSUBSCRIBE a b\r\nEXEC\r\nPING\r\n",
    b"SUBSCRIBE a\r\nPUBLISH a x\r\nHELLO 3\r\nPUBLISH a y\r\n",
    b"EVAL \"return redis.call('subscribe','a')\" 0\r\n"
    b"EVAL \"return redis.call('publish','a','b')\" 0\r\n",
    b"SUBSCRIBE a\r\nSUBSCRIBE a\r\nPSUBSCRIBE a\r\nUNSUBSCRIBE a a\r\nPING x\r\nQUIT\r\n",
], ids=["multi", "subscribed-pipeline", "script", "duplicates"])
def test_pipelines_match_redis(server, redis_server, pipeline):
    """Inline pipelines, byte for byte: the reply of one server tells how much to read
    from the other."""
    theirs_sock = socket.create_connection(("127.0.0.1", redis_server.port), timeout=5)
    theirs_sock.sendall(pipeline)
    theirs = read_until_quiet(theirs_sock, 1)
    ours_sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    ours_sock.sendall(pipeline)
    ours = read_until_quiet(ours_sock, len(theirs))
    assert ours == theirs


def test_soft_limit_disconnects_after_its_seconds(server_factory):
    """Hard limit off: a subscriber that stays over the soft limit for longer than its
    seconds is closed (bounded: at most ~10 s of publishing)."""
    s = server_factory({"limits.pubsub_output_hard_limit": "0",
                        "limits.pubsub_output_soft_limit": "1mb",
                        "limits.pubsub_output_soft_seconds": "1"})
    slow = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(enc("SUBSCRIBE", "soft"))
    time.sleep(0.2)
    r = s.redis()
    payload = b"z" * (64 << 10)
    deadline = time.time() + 10
    n = 1
    while time.time() < deadline and n:
        n = r.publish("soft", payload)
        time.sleep(0.01)
    assert n == 0, "still subscribed after 10 s over the soft limit"
    slow.close()
