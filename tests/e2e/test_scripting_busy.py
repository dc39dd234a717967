"""Busy scripts (lua-time-limit / busy-reply-threshold), side by side with redis 7.0.

With `server.threads = 1` every connection shares the script's worker thread: the host
must serve them from inside the running script (script_yield) so they get -BUSY, and
SCRIPT KILL / FUNCTION KILL / SHUTDOWN NOSAVE reach the server at all. Every socket has
a timeout, every script is either killed or bounded, and the threshold is 100 ms.
"""
import socket
import time

import pytest

BUSY = (b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
        b"SHUTDOWN NOSAVE.\r\n")
SPIN_LIB = "#!lua name=busylib\nredis.register_function('spin', function() while true do end end)"


def _conn(port):
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def _cmd(*args):
    args = [a.encode() if isinstance(a, str) else a for a in args]
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def _send(port, *args):
    s = _conn(port)
    s.sendall(_cmd(*args))
    return s


def _line(s):
    buf = b""
    while not buf.endswith(b"\r\n"):
        chunk = s.recv(1)
        if not chunk:
            break
        buf += chunk
    return buf


def _ask(s, *args):
    s.sendall(_cmd(*args))
    return _line(s)


def _wait_busy(port, deadline_s=5.0):
    """Polls with fresh connections until the server answers BUSY; returns that line."""
    end = time.time() + deadline_s
    while time.time() < end:
        c = _conn(port)
        line = _ask(c, "PING")
        c.close()
        if line != b"+PONG\r\n":
            return line
        time.sleep(0.02)
    return b"(never busy)"


def _start_busy(port, *run, timeout=None, busy=BUSY):
    """Sends `run` (a script that keeps the server busy) on its own connection and waits
    until other clients get `busy`; returns the script's connection."""
    slow = _send(port, *run)
    if timeout:
        slow.settimeout(timeout)
    assert _wait_busy(port) == busy
    return slow


def _kill_transcript(port, run, kill):
    """Runs `run` on one connection, then PING and `kill` from fresh connections while it
    is busy; returns every line seen, and checks the server serves normally after."""
    slow = _send(port, *run)
    busy = _wait_busy(port)
    killer = _conn(port)
    killed = _ask(killer, *kill)
    reply = _line(slow)
    after = _ask(slow, "PING")
    again = _ask(killer, *kill)
    return [busy, killed, reply, after, again]


def _ferrite(server_factory, threads):
    s = server_factory({"server.threads": str(threads)})
    r = s.redis()
    r.config_set("lua-time-limit", 100)
    return s, r


def _redis(redis_server):
    r = redis_server.redis()
    r.config_set("lua-time-limit", 100)
    return r


def test_script_kill_threads1_matches_redis(server_factory, redis_server):
    s, _ = _ferrite(server_factory, 1)
    _redis(redis_server)
    run, kill = ("EVAL", "while true do end", "0"), ("SCRIPT", "KILL")
    mine = _kill_transcript(s.port, run, kill)
    theirs = _kill_transcript(redis_server.port, run, kill)
    assert mine == theirs
    assert mine[0] == BUSY and mine[1] == b"+OK\r\n" and mine[3] == b"+PONG\r\n"


def test_function_kill_threads1_matches_redis(server_factory, redis_server):
    s, r = _ferrite(server_factory, 1)
    _redis(redis_server).function_load(SPIN_LIB)
    r.function_load(SPIN_LIB)
    run, kill = ("FCALL", "spin", "0"), ("FUNCTION", "KILL")
    mine = _kill_transcript(s.port, run, kill)
    theirs = _kill_transcript(redis_server.port, run, kill)
    assert mine == theirs
    assert mine[0] == BUSY.replace(b"SCRIPT KILL", b"FUNCTION KILL")
    assert mine[1] == b"+OK\r\n" and mine[3] == b"+PONG\r\n"


def test_wrong_kill_command_and_allowed_commands_while_busy(server_factory, redis_server):
    """FUNCTION KILL for an EVAL, WATCH, MULTI/DISCARD and FUNCTION STATS while busy: the
    nested connection runs them without deadlocking on the script's shard locks."""
    s, _ = _ferrite(server_factory, 1)
    _redis(redis_server)
    seen = []
    for port in (s.port, redis_server.port):
        slow = _start_busy(port, "EVAL", "while true do end", "0")
        c = _conn(port)
        lines = [_ask(c, "FUNCTION", "KILL"), _ask(c, "WATCH", "k"), _ask(c, "MULTI"),
                 _ask(c, "DISCARD"), _ask(c, "UNWATCH"), _ask(c, "GET", "k"),
                 _ask(c, "SCRIPT", "FLUSH"), _ask(c, "FUNCTION", "STATS"),
                 _ask(c, "SCRIPT", "KILL")]
        lines.append(_line(slow))
        seen.append(lines)
    assert seen[0] == seen[1]
    assert seen[0][1] == b"+OK\r\n" and seen[0][5] == BUSY


def test_unkillable_then_shutdown_nosave_threads1(server_factory, redis_server):
    s, _ = _ferrite(server_factory, 1)
    _redis(redis_server)
    seen = []
    for port in (s.port, redis_server.port):
        slow = _start_busy(port, "EVAL", "redis.call('set','w','1') while true do end", "0")
        c = _conn(port)
        # Plain SHUTDOWN (it would save) is refused with BUSY; only NOSAVE stops it.
        lines = [_ask(c, "SCRIPT", "KILL"), _ask(c, "SHUTDOWN")]
        c.sendall(_cmd("SHUTDOWN", "NOSAVE"))
        c.settimeout(10)
        lines.append(c.recv(100))  # the server goes away without a reply
        seen.append(lines)
        slow.settimeout(10)
        # Redis exits from inside the script: the script's client gets no reply. Ferrite
        # ends the script first, so its "killed" error may still go out before the close.
        last = slow.recv(200)
        assert last == b"" or last.startswith(b"-ERR Script killed by user"), last
    assert seen[0] == seen[1]
    assert seen[0][0].startswith(b"-UNKILLABLE Sorry the script already executed write")
    assert seen[0][1] == BUSY
    assert s.proc.wait(10) == 0
    redis_server.proc.wait(10)


def test_many_clients_threads4(server_factory):
    """Some of the clients land on the script's worker: every one must still get BUSY."""
    s, _ = _ferrite(server_factory, 4)
    slow = _start_busy(s.port, "EVAL", "while true do end", "0")
    clients = [_conn(s.port) for _ in range(12)]
    for c in clients:
        c.sendall(_cmd("PING"))
    assert [_line(c) for c in clients] == [BUSY] * 12
    assert _ask(clients[5], "SCRIPT", "KILL") == b"+OK\r\n"
    assert _line(slow).startswith(b"-ERR Script killed by user with SCRIPT KILL...")
    assert [_ask(c, "PING") for c in clients] == [b"+PONG\r\n"] * 12


def test_blocked_client_is_not_answered_busy_threads1(server_factory):
    """A BLPOP woken by the script's own write (or timing out) while the script still runs
    is served after the script, not with -BUSY from inside it."""
    s, r = _ferrite(server_factory, 1)
    waiter = _send(s.port, "BLPOP", "q", "0")
    timer = _send(s.port, "BLPOP", "nothing", "0.2")
    time.sleep(0.1)
    # Unkillable (it wrote) and bounded: a fixed number of instructions, about 2 s here;
    # it only needs to outlast 100 ms plus one BUSY reply. Sanitizer builds are slower.
    body = "redis.call('lpush','q','x') local i = 0 while i < 1e8 do i = i + 1 end return i"
    slow = _start_busy(s.port, "EVAL", body, "0", timeout=120)
    assert _line(slow) == b":100000000\r\n"
    assert waiter.recv(100) == b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n"
    assert timer.recv(100) == b"*-1\r\n"
    assert r.ping()


def test_script_and_function_help_match_redis(server, redis_server):
    r, peer = server.redis(), redis_server.redis()
    for cmd in (("SCRIPT", "HELP"), ("FUNCTION", "HELP")):
        assert r.execute_command(*cmd) == peer.execute_command(*cmd)
        with pytest.raises(Exception) as mine:
            r.execute_command(*cmd, "x")
        with pytest.raises(Exception) as theirs:
            peer.execute_command(*cmd, "x")
        assert str(mine.value) == str(theirs.value)


def test_pairs_over_globals_matches_redis(server, redis_server):
    script = "local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t) return t"
    mine = set(server.redis().eval(script, 0))
    theirs = set(redis_server.redis().eval(script, 0))
    # Redis' error-handler global is an implementation detail Ferrite keeps in the registry.
    assert mine == theirs - {b"__redis__err__handler"}
    nxt = "return next(_G) ~= nil and next(string) ~= nil and next({}) == nil"
    assert server.redis().eval(nxt, 0) == 1
    # Iterating hands out nothing writable: the tables stay read-only.
    for body in ("for k, v in pairs(_G) do if k == 'string' then v.x = 1 end end",
                 "local k, v = next(_G, nil) rawset(_G, 'x', 1)"):
        with pytest.raises(Exception) as e:
            server.redis().eval(body, 0)
        assert "readonly table" in str(e.value)


def test_pushes_posted_by_a_busy_script_arrive_in_order_threads1(server_factory):
    """The script's PUBLISHes are posted to a subscriber on the same worker before the
    script yields; they must wait for the script, arrive in order, and the worker must
    survive the nested processing (the io_context must not run out of counted work)."""
    s, r = _ferrite(server_factory, 1)
    sub = _send(s.port, "SUBSCRIBE", "ch")
    assert _line(sub) == b"*3\r\n"
    for _ in range(5):
        _line(sub)
    body = ("for i = 1, 50 do redis.call('publish', 'ch', i) end "
            "local i = 0 while i < 1e8 do i = i + 1 end return i")
    slow = _start_busy(s.port, "EVAL", body, "0", timeout=120)
    assert _line(slow) == b":100000000\r\n"
    got = []
    for _ in range(50):
        assert _line(sub) == b"*3\r\n"
        _line(sub), _line(sub), _line(sub), _line(sub)  # $7 message $2 ch
        _line(sub)  # $n
        got.append(int(_line(sub)))
    assert got == list(range(1, 51))
    assert r.ping()


def test_function_stats_names_the_running_function_threads1(server_factory, redis_server):
    """FUNCTION STATS during a busy FCALL shows its name and the command as sent."""
    s, r = _ferrite(server_factory, 1)
    seen = []
    for port, client in ((s.port, r), (redis_server.port, _redis(redis_server))):
        client.function_load(SPIN_LIB)
        slow = _start_busy(port, "FCALL", "spin", "0",
                           busy=BUSY.replace(b"SCRIPT KILL", b"FUNCTION KILL"))
        import redis as redis_py
        stats = redis_py.Redis(port=port, socket_timeout=10).execute_command("FUNCTION", "STATS")
        running = dict(zip(stats[1][0::2], stats[1][1::2]))
        assert running[b"duration_ms"] >= 0
        seen.append((running[b"name"], running[b"command"]))
        assert _ask(_conn(port), "FUNCTION", "KILL") == b"+OK\r\n"
        assert _line(slow).startswith(b"-ERR Script killed by user")
    assert seen[0] == seen[1] == (b"spin", [b"FCALL", b"spin", b"0"])


LOOP_LIB = "#!lua name=looplib\nlocal a = 1 while 1 do a = a + 1 end"
# A library that registers its function first, then spins in a nested function.
LATE_LOOP_LIB = ("#!lua name=looplib\n"
                 "redis.register_function('f', function() return 1 end)\n"
                 "local function spin(n) while n > 0 do n = n + 1 end end\n"
                 "spin(1)")


@pytest.mark.parametrize("code", [LOOP_LIB, LATE_LOOP_LIB], ids=["plain", "registered-first"])
def test_function_load_with_endless_top_level_code_times_out(server, redis_server, code):
    """Redis runs a library's top-level code under a 500 ms load timeout."""
    seen = []
    for port in (server.port, redis_server.port):
        c = _conn(port)
        t0 = time.time()
        seen.append(_ask(c, "FUNCTION", "LOAD", code))
        assert time.time() - t0 < 5
        assert _ask(c, "FCALL", "f", "0").startswith(b"-ERR Function not found")
        assert _ask(c, "PING") == b"+PONG\r\n"
    assert seen[0] == seen[1] == b"-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n"


def _multi_transcript(port, before_busy, during_busy, after_kill):
    """MULTI on one connection, a busy EVAL on another: `before_busy` commands are sent
    before the script starts, `during_busy` while it is busy, `after_kill` after SCRIPT
    KILL. Returns every reply line of the transaction's connection, and the counter."""
    c, admin = _conn(port), _conn(port)
    assert _ask(admin, "SET", "xx", "1") == b"+OK\r\n"
    lines = [_ask(c, *cmd) for cmd in before_busy]
    slow = _start_busy(port, "EVAL", "while true do end", "0")
    lines += [_ask(c, *cmd) for cmd in during_busy]
    assert _ask(admin, "SCRIPT", "KILL") == b"+OK\r\n"
    assert _line(slow).startswith(b"-ERR Script killed by user")
    lines += [_ask(c, *cmd) for cmd in after_kill]
    lines.append(_ask(c, "PING"))  # no longer in MULTI
    lines.append(_ask(admin, "GET", "xx"))
    lines.append(_line(admin))
    return lines


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case", [
    # Queued while busy: refused with BUSY, and EXEC then aborts (Redis' flagTransaction).
    ([("MULTI",)], [("INCR", "xx")], [("EXEC",)]),
    ([("MULTI",), ("INCR", "xx")], [("INCR", "xx")], [("EXEC",)]),
    ([], [("MULTI",), ("INCR", "xx")], [("INCR", "xx"), ("EXEC",)]),
    # EXEC while busy: EXECABORT naming BUSY, and the transaction is gone.
    ([("MULTI",), ("INCR", "xx")], [("EXEC",)], []),
], ids=["queue-busy", "queue-before-and-busy", "multi-busy", "exec-busy"])
def test_multi_during_busy_script_aborts_exec_like_redis(server_factory, redis_server, threads,
                                                         case):
    s, _ = _ferrite(server_factory, threads)
    _redis(redis_server)
    mine = _multi_transcript(s.port, *case)
    theirs = _multi_transcript(redis_server.port, *case)
    assert mine == theirs
    assert mine[-2:] == [b"$1\r\n", b"1\r\n"]  # nothing of the transaction ran


def _busy_transcript(port, clients):
    """`clients` connections opened before an unkillable script starts send GET at once
    (before the threshold) and again while it is busy; a new connection pings, WATCHes,
    MULTIs; every reply line, then SHUTDOWN NOSAVE from yet another connection."""
    conns = [_conn(port) for _ in range(clients)]
    for c in conns:
        assert _ask(c, "PING") == b"+PONG\r\n"
    slow = _send(port, "EVAL", "redis.call('set','w','1') while true do end", "0")
    time.sleep(0.02)  # the script runs: these GETs wait for it, then get BUSY
    for c in conns:
        c.sendall(_cmd("GET", "w"))
    lines = [_line(c) for c in conns]
    lines += [_ask(c, "GET", "w") for c in conns]
    late = _conn(port)
    lines += [_ask(late, "PING"), _ask(late, "WATCH", "w"), _ask(late, "MULTI"),
              _ask(late, "GET", "w"), _ask(late, "EXEC"), _ask(late, "SCRIPT", "KILL")]
    stopper = _conn(port)
    stopper.sendall(_cmd("SHUTDOWN", "NOSAVE"))
    lines.append(stopper.recv(100))  # the server goes away without a reply
    return lines, slow


@pytest.mark.parametrize("threads", [2, 4])
def test_busy_script_answers_every_worker_like_redis(server_factory, redis_server, threads):
    """Clients of the other workers used to block on the shard locks the script holds:
    no reply at all, and a new connection's PING hung behind them on its worker."""
    s, _ = _ferrite(server_factory, threads)
    _redis(redis_server)
    seen = []
    for port, proc in ((s.port, s.proc), (redis_server.port, redis_server.proc)):
        t0 = time.time()
        lines, slow = _busy_transcript(port, 2 * threads)
        assert proc.wait(10) == 0
        assert time.time() - t0 < 10
        seen.append(lines)
    assert seen[0] == seen[1]
    assert seen[0][:4 * threads] == [BUSY] * (4 * threads)
    assert seen[0][4 * threads + 1:4 * threads + 3] == [b"+OK\r\n", b"+OK\r\n"]


def test_blocked_client_of_another_worker_is_served_after_the_script(server_factory):
    """A BLPOP woken by the script's write on another worker is neither answered BUSY nor
    lost: it is served when the script ends."""
    s, r = _ferrite(server_factory, 4)
    waiters = [_send(s.port, "BLPOP", "q", "0") for _ in range(4)]
    time.sleep(0.1)
    body = ("redis.call('rpush','q','a','b','c','d') "
            "local i = 0 while i < 1e8 do i = i + 1 end return i")
    slow = _start_busy(s.port, "EVAL", body, "0", timeout=120)
    assert _line(slow) == b":100000000\r\n"
    got = sorted(w.recv(100) for w in waiters)
    assert got == sorted(b"*2\r\n$1\r\nq\r\n$1\r\n%s\r\n" % x for x in (b"a", b"b", b"c", b"d"))
    assert r.llen("q") == 0


def test_watch_from_another_worker_during_busy_script(server_factory, redis_server):
    """WATCH is ALLOW_BUSY: served while the script runs (by the script's thread for a
    client of another worker); the script's later write then aborts the EXEC."""
    s, _ = _ferrite(server_factory, 4)
    _redis(redis_server)
    seen = []
    for port in (s.port, redis_server.port):
        watcher = _conn(port)
        body = ("local i = 0 while i < 1e8 do i = i + 1 end "
                "redis.call('set','k','2') return i")
        slow = _start_busy(port, "EVAL", body, "0", timeout=120)
        lines = [_ask(watcher, "WATCH", "k")]
        slow.settimeout(120)
        lines.append(_line(slow))
        lines += [_ask(watcher, "MULTI"), _ask(watcher, "SET", "k", "3"), _ask(watcher, "EXEC")]
        seen.append(lines)
    assert seen[0] == seen[1]
    assert seen[0][0] == b"+OK\r\n" and seen[0][-1] == b"*-1\r\n"
