"""Scripts lock only their keys' shards (docs/architecture.md, "Locking"), two workers.

A long script on key `a` must not stall a client of key `b` on the other worker, yet stay
atomic: no client sees its intermediate writes, to declared or undeclared keys. Every
socket has a timeout and every script is bounded (a loop calibrated to about 1 s, under
the default busy-reply-threshold of 5 s).
"""
import socket
import threading
import time

# Busy for ARGV[1] loop turns (TIME does not move inside a script), then the value of
# ARGV[2], a key it did not declare.
LONG = "for i = 1, tonumber(ARGV[1]) do end return redis.call('GET', ARGV[2])"

# Writes an intermediate value to a declared and an undeclared key, stays busy, then
# writes the final ones.
HALFWAY = ("redis.call('SET', KEYS[1], 'mid') redis.call('SET', ARGV[2], 'mid') "
           "for i = 1, tonumber(ARGV[1]) do end "
           "redis.call('SET', KEYS[1], 'end') redis.call('SET', ARGV[2], 'end') return 1")


def _turns_for(port, seconds):
    """Loop turns that keep this server's script busy for about `seconds`."""
    probe = 2_000_000
    s, f = _connect(port)
    t0 = time.perf_counter()
    s.sendall(_cmd("EVAL", "for i = 1, tonumber(ARGV[1]) do end return 1", "0", str(probe)))
    assert _reply(f) == 1
    took = max(time.perf_counter() - t0, 1e-3)
    s.close()
    return str(int(probe * seconds / took))


def _cmd(*args):
    args = [a.encode() if isinstance(a, str) else a for a in args]
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def _reply(f):
    """One RESP2 reply from a socket file (an array as a list)."""
    line = f.readline()
    if line.startswith(b"*"):
        n = int(line[1:])
        return None if n < 0 else [_reply(f) for _ in range(n)]
    if line.startswith(b"$"):
        n = int(line[1:])
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if line.startswith(b":"):
        return int(line[1:])
    return line.rstrip(b"\r\n")  # +simple / -error, kept with its first byte


class Looper(threading.Thread):
    """Sends one command again and again on its own connection, keeping each reply."""

    def __init__(self, port, *args):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.f = self.sock.makefile("rb")
        self.req = _cmd(*args)
        self.replies = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.sock.sendall(self.req)
            self.replies.append(_reply(self.f))

    def finish(self):
        self.stop.set()
        self.join(30)
        assert not self.is_alive()
        self.sock.close()


def _connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    return s, s.makefile("rb")


def test_long_script_on_one_key_leaves_other_keys_served(server):
    r = server.redis()
    r.set("b", 0)
    # Connections are dealt to the two workers in turn: of the two loopers opened right
    # after the script's connection, the first is on the other worker.
    script, sf = _connect(server.port)
    loopers = [Looper(server.port, "INCR", "b"), Looper(server.port, "INCR", "b")]
    turns = _turns_for(server.port, 1.0)
    script.sendall(_cmd("EVAL", LONG, "1", "a", turns, "b"))
    time.sleep(0.2)  # the script runs by now: it answers after about 1 s
    for lp in loopers:
        lp.start()
    # The script reads b after its busy loop: the INCRs answered while it ran.
    during = int(_reply(sf))
    for lp in loopers:
        lp.finish()
    script.close()
    assert during > 0, "no client of another key was served while the script ran"
    assert sum(len(lp.replies) for lp in loopers) >= during


def test_blocked_client_of_another_key_is_served_during_the_script(server):
    turns = _turns_for(server.port, 1.5)
    # Dealt in turn to the two workers: the script's connection on one, the BLPOP's and
    # the RPUSH's (with a filler between them) on the other.
    script, sf = _connect(server.port)
    waiter, wf = _connect(server.port)
    filler, _ = _connect(server.port)
    pusher, pf = _connect(server.port)
    waiter.sendall(_cmd("BLPOP", "b", "10"))
    time.sleep(0.1)  # parked by now
    # The script reads b's length after its busy loop: 1 if the push and the pop of one
    # of the two elements were both served while it ran.
    script.sendall(_cmd("EVAL", "for i = 1, tonumber(ARGV[1]) do end "
                                "return redis.call('LLEN', ARGV[2])", "1", "a", turns, "b"))
    time.sleep(0.2)  # the script runs by now
    pusher.sendall(_cmd("RPUSH", "b", "x", "y"))
    assert _reply(pf) == 2
    assert _reply(wf) == [b"b", b"x"]
    assert _reply(sf) == 1, "the blocked client was not served while the script ran"
    for s in (script, waiter, filler, pusher):
        s.close()


def test_script_writes_stay_invisible_until_it_ends(server):
    r = server.redis()
    r.mset({"a": "init", "c": "init"})
    turns = _turns_for(server.port, 0.6)
    script, sf = _connect(server.port)
    readers = [Looper(server.port, "GET", "a"), Looper(server.port, "GET", "c")]
    for lp in readers:
        lp.start()
    script.sendall(_cmd("EVAL", HALFWAY, "1", "a", turns, "c"))
    assert _reply(sf) == 1
    time.sleep(0.05)
    for lp in readers:
        lp.finish()
    for lp in readers:
        assert b"mid" not in lp.replies
        assert lp.replies[-1] == b"end"
    assert r.mget("a", "c") == [b"end", b"end"]


def test_undeclared_and_undeclared_only_keys_like_redis(server, redis_server):
    cases = [
        ("EVAL", "redis.call('SET', 'u1', 'v') return redis.call('GET', 'u1')", "1", "a"),
        ("EVAL", "redis.call('SET', 'u2', 'v') return redis.call('GET', 'u2')", "0"),
        ("EVAL", "redis.call('SET', KEYS[1], 'v') return redis.call('DBSIZE')", "1", "a"),
        ("EVAL", "#!lua flags=no-writes\nreturn redis.call('GET', 'u1')", "1", "a"),
        ("EVAL", "#!lua flags=no-writes\nreturn redis.call('SET', 'u3', 'x')", "1", "a"),
        ("EVAL", "#!lua flags=allow-cross-slot-keys\n"
                 "redis.call('SET', KEYS[1], 'x') return redis.call('MGET', KEYS[1], KEYS[2], 'u1')",
         "2", "k1", "k2"),
    ]
    for target in (server, redis_server):
        target.redis().flushall()
    for c in cases:
        got = []
        for target in (server, redis_server):
            s, f = _connect(target.port)
            s.sendall(_cmd(*c))
            got.append(_reply(f))
            s.close()
        assert got[0] == got[1], c
