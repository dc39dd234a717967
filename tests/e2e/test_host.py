"""Black-box tests of host behaviour: connection commands, auth, config, introspection,
transactions, concurrency across worker threads, limits.  Each test starts a real
ferrite-host on a free loopback port."""
import os
import socket
import subprocess
import threading
import time

import pytest
import redis

from conftest import Server, host_binary, transcript


def raw(server, data, expect):
    with server.sock() as s:
        return transcript(s, data, expect)


# ---------------------------------------------------------------- connection commands

def test_ping_echo_time(server):
    r = server.redis()
    assert r.ping() is True
    assert r.echo("hello") == b"hello"
    secs, usecs = r.time()
    assert abs(secs - time.time()) < 5 and 0 <= usecs < 1_000_000
    raw(server, b"PING hi\r\n", b"$2\r\nhi\r\n")
    raw(server, b"*3\r\n$4\r\nPING\r\n$1\r\na\r\n$1\r\nb\r\n",
        b"-ERR wrong number of arguments for 'ping' command\r\n")


def test_unknown_command_text_matches_redis(server, redis_server):
    req = b"*3\r\n$6\r\nFOOBAR\r\n$1\r\na\r\n$2\r\nbc\r\n"
    with redis_server.sock() as s:
        s.sendall(req)
        want = s.recv(4096)
    raw(server, req, want)


def test_hello_resp3_map_and_back(server):
    with server.sock() as s:
        s.sendall(b"HELLO 3\r\n")
        time.sleep(0.2)
        data = s.recv(65536)
        assert data.startswith(b"%7\r\n")
        assert b"$5\r\nproto\r\n:3\r\n" in data
        s.sendall(b"HELLO 2\r\n")
        time.sleep(0.2)
        assert s.recv(65536).startswith(b"*14\r\n")
        transcript(s, b"HELLO 4\r\n", b"-NOPROTO unsupported protocol version\r\n")


def test_resp3_null_and_double(server):
    with server.sock() as s:
        s.sendall(b"HELLO 3\r\n")
        time.sleep(0.2)
        s.recv(65536)
        transcript(s, b"GET nosuchkey\r\n", b"_\r\n")


def test_select_and_databases(server):
    r = server.redis()
    r.set("k", "db0")
    r2 = server.redis(db=15)
    assert r2.get("k") is None
    r2.set("k", "db15")
    assert r.get("k") == b"db0"
    raw(server, b"SELECT 16\r\n", b"-ERR DB index is out of range\r\n")
    raw(server, b"SELECT x\r\n", b"-ERR value is not an integer or out of range\r\n")


def test_quit_closes_after_ok(server):
    with server.sock() as s:
        s.sendall(b"QUIT\r\n")
        assert s.recv(100) == b"+OK\r\n"
        assert s.recv(100) == b""


def test_reset(server):
    with server.sock() as s:
        transcript(s, b"SELECT 3\r\nMULTI\r\n", b"+OK\r\n+OK\r\n")
        transcript(s, b"RESET\r\n", b"+RESET\r\n")
        transcript(s, b"EXEC\r\n", b"-ERR EXEC without MULTI\r\n")


# ---------------------------------------------------------------- auth

def test_requirepass(server_factory):
    s = server_factory({"security.requirepass": "sekret"})
    raw(s, b"GET k\r\n", b"-NOAUTH Authentication required.\r\n")
    raw(s, b"AUTH wrong\r\n", b"-WRONGPASS invalid username-password pair or user is disabled.\r\n")
    r = s.redis(password="sekret")
    assert r.set("k", "v") and r.get("k") == b"v"
    with s.sock() as c:
        c.sendall(b"HELLO 3 AUTH default sekret\r\n")
        time.sleep(0.2)
        assert c.recv(65536).startswith(b"%7")
        transcript(c, b"GET k\r\n", b"$1\r\nv\r\n")


def test_auth_without_password_configured(server):
    raw(server, b"AUTH x\r\n", b"-ERR AUTH <password> called without any password configured "
                               b"for the default user. Are you sure your configuration is correct?\r\n")


# ---------------------------------------------------------------- config & introspection

def test_config_get_set(server):
    r = server.redis()
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    r.config_set("maxmemory", "1mb")
    assert r.config_get("maxmemory") == {"maxmemory": "1048576"}
    assert "maxmemory-policy" in r.config_get("maxmemory*")
    with pytest.raises(redis.ResponseError):
        r.config_set("nosuchsetting", "1")


def test_info_sections(server):
    r = server.redis()
    r.set("a", "1")
    info = r.info()
    for field in ("redis_version", "uptime_in_seconds", "connected_clients", "used_memory",
                  "total_commands_processed", "keyspace_hits", "expired_keys"):
        assert field in info, field
    assert info["db0"]["keys"] == 1
    assert "used_memory" in r.info("memory")
    assert "cmdstat_set" in r.info("commandstats")


def test_command_introspection(server):
    r = server.redis()
    assert r.command_count() > 50
    info = r.execute_command("COMMAND", "INFO", "get")  # redis-py parses it into a dict
    assert info["get"]["arity"] == 2 and info["get"]["first_key_pos"] == 1
    # redis-py applies its COMMAND parser to every COMMAND subcommand: use raw bytes.
    raw(server, b"COMMAND GETKEYS MSET a 1 b 2\r\n", b"*2\r\n$1\r\na\r\n$1\r\nb\r\n")
    with server.sock() as s:
        s.sendall(b"COMMAND LIST\r\n")
        time.sleep(0.3)
        names = s.recv(1 << 20)
    assert b"$3\r\nset\r\n" in names and b"mc." not in names.lower()


def test_client_commands(server):
    r = server.redis()
    r.client_setname("me")
    assert r.client_getname() == "me"
    cid = r.client_id()
    clients = r.client_list()
    assert any(c["name"] == "me" and int(c["id"]) == cid for c in clients)
    with server.sock() as other:
        other.sendall(b"CLIENT ID\r\n")
        victim = int(other.recv(100)[1:-2])
        assert r.execute_command("CLIENT", "KILL", "ID", victim) == 1
        other.settimeout(5)
        assert other.recv(100) == b""


def test_module_list(server):
    r = server.redis()
    names = {m[b"name"] for m in r.module_list()}
    assert {b"resp", b"strings", b"keys"} <= names


# ---------------------------------------------------------------- transactions

def test_multi_exec_and_errors(server):
    r = server.redis()
    p = r.pipeline()
    p.set("a", 1).incr("a").get("a")
    assert p.execute() == [True, 2, b"2"]
    with server.sock() as s:
        transcript(s, b"MULTI\r\n", b"+OK\r\n")
        transcript(s, b"SET a\r\n", b"-ERR wrong number of arguments for 'set' command\r\n")
        transcript(s, b"EXEC\r\n", b"-EXECABORT Transaction discarded because of previous errors.\r\n")
        # runtime errors are reported per command, without rollback
        transcript(s, b"SET s abc\r\nMULTI\r\nINCR s\r\nSET t 1\r\nEXEC\r\n",
                   b"+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n-ERR value is not an integer or out of range\r\n+OK\r\n")


def test_watch_aborts_on_foreign_write(server):
    r = server.redis()
    other = server.redis()
    r.set("w", "1")
    with r.pipeline() as p:
        p.watch("w")
        other.set("w", "2")
        p.multi()
        p.set("w", "3")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get("w") == b"2"


@pytest.mark.parametrize("peer", ["ferrite", "redis"])
def test_watch_missing_key_created_and_deleted_aborts(peer, server, redis_server):
    # The key does not exist at WATCH and does not exist at EXEC, but another client
    # created and deleted it in between: Redis aborts (the creation touched the key).
    port = server.port if peer == "ferrite" else redis_server.port
    r, other = redis.Redis(port=port), redis.Redis(port=port)
    r.delete("ghost")
    with r.pipeline() as p:
        p.watch("ghost")
        other.set("ghost", "1")
        other.delete("ghost")
        p.multi()
        p.set("marker", "1")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get("marker") is None
    # Untouched missing keys and unrelated keys do not abort.
    with r.pipeline() as p:
        p.watch("ghost")
        other.set("unrelated", "1")
        other.delete("unrelated")
        p.multi()
        p.set("marker", "2")
        assert p.execute() == [True]
    # A rename onto the watched name counts as a creation too.
    with r.pipeline() as p:
        p.watch("ghost")
        other.set("src", "1")
        other.rename("src", "ghost")
        other.delete("ghost")
        p.multi()
        p.set("marker", "3")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get("marker") == b"2"


def test_watch_aborts_on_expiry(server):
    r = server.redis()
    r.set("e", "1", px=100)
    with r.pipeline() as p:
        p.watch("e")
        time.sleep(0.3)
        p.multi()
        p.set("x", "1")
        with pytest.raises(redis.WatchError):
            p.execute()


def _watch_incr_worker(port, n):
    # The migration guide's retry loop in its correct form: the guide calls
    # ferrite.watch() on the client instead of the pipeline, which does not watch on
    # the connection the transaction runs on (a flaw against any Redis).
    r = redis.Redis(port=port)
    for _ in range(n):
        pipe = r.pipeline()
        while True:
            try:
                pipe.watch("counter")
                value = int(pipe.get("counter") or 0)
                pipe.multi()
                pipe.set("counter", value + 1)
                pipe.execute()
                break
            except redis.WatchError:
                continue
            finally:
                pipe.reset()


def test_guide_watch_loop_under_contention(server):
    import multiprocessing
    procs = [multiprocessing.Process(target=_watch_incr_worker, args=(server.port, 200))
             for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert int(server.redis().get("counter")) == 800


def test_exec_is_atomic_across_shards(server):
    """A reader never sees half of a transaction that writes keys in different shards."""
    r = server.redis()
    keys = [f"k{i}" for i in range(32)]
    r.mset({k: 0 for k in keys})
    stop = threading.Event()
    torn = []

    def writer():
        w = server.redis()
        v = 0
        while not stop.is_set():
            v += 1
            p = w.pipeline(transaction=True)
            for k in keys:
                p.set(k, v)
            p.execute()

    def reader():
        rd = server.redis()
        while not stop.is_set():
            p = rd.pipeline(transaction=True)
            p.mget(keys)
            vals = p.execute()[0]
            if len(set(vals)) != 1:
                torn.append(vals)

    ts = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in ts:
        t.start()
    time.sleep(2)
    stop.set()
    for t in ts:
        t.join(30)
    assert not torn


# ---------------------------------------------------------------- concurrency

def test_incr_hammer_exact_counts(server_factory):
    """Many connections across worker threads INCR shared keys; totals are exact."""
    s = server_factory({"server.threads": "4"})
    n_threads, per = 16, 500
    keys = ["c0", "c1", "c2"]

    def work(i):
        r = s.redis()
        p = r.pipeline(transaction=False)
        for j in range(per):
            p.incr(keys[(i + j) % len(keys)])
            if j % 50 == 49:
                p.execute()
        p.execute()

    ts = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    r = s.redis()
    total = sum(int(r.get(k)) for k in keys)
    assert total == n_threads * per
    expected = {k: 0 for k in keys}
    for i in range(n_threads):
        for j in range(per):
            expected[keys[(i + j) % len(keys)]] += 1
    assert {k: int(r.get(k)) for k in keys} == expected


# ---------------------------------------------------------------- limits and bad input

def test_big_values_near_and_over_limit(server_factory):
    s = server_factory({"limits.proto_max_bulk_len": "1mb"})
    r = s.redis()
    big = b"x" * (1024 * 1024)
    assert r.set("big", big)
    assert r.get("big") == big
    with s.sock() as c:
        c.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n")
        assert c.recv(200) == b"-ERR Protocol error: invalid bulk length\r\n"
        assert c.recv(100) == b""


def test_pipeline_of_thousands(server):
    with server.sock() as s:
        n = 5000
        s.sendall(b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\nk%d\r\n$1\r\nv\r\n" % (len(str(i)) + 1, i)
                           for i in range(n)))
        want = b"+OK\r\n" * n
        transcript(s, None, want, timeout=30)
    assert server.redis().dbsize() == 5000


def test_garbage_does_not_crash(server):
    import random
    rnd = random.Random(7)
    for _ in range(30):
        with server.sock() as s:
            s.sendall(bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300))) + b"\r\n")
            s.settimeout(0.5)
            try:
                s.recv(4096)
            except socket.timeout:
                pass
    assert server.redis().ping()


# ---------------------------------------------------------------- expiry

def test_active_expiry_frees_untouched_keys(server):
    r = server.redis()
    for i in range(200):
        r.set(f"t{i}", "v", px=50)
    deadline = time.time() + 5
    while time.time() < deadline and r.info("stats")["expired_keys"] < 200:
        time.sleep(0.1)
    assert r.info("stats")["expired_keys"] == 200
    assert r.dbsize() == 0


# ---------------------------------------------------------------- process

def test_version_and_help():
    out = subprocess.run([host_binary(), "--version"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and "ferrite-host" in out.stdout
    out = subprocess.run([host_binary(), "--help"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and "--port" in out.stdout and "aof_fsync" in out.stdout


def test_bad_config_names_file_line_key(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[server]\nport = 6379\n\n[storage]\nmax_memmory = 10\n")
    out = subprocess.run([host_binary(), "--config", str(cfg)], capture_output=True, text=True,
                         timeout=10)
    assert out.returncode != 0
    assert f"{cfg}:5" in out.stderr and "storage.max_memmory" in out.stderr


def test_sigterm_shuts_down_cleanly(server):
    assert server.stop() == 0


def test_shutdown_command(server):
    r = server.redis()
    r.shutdown(nosave=True)  # redis-py treats the closed connection as success
    server.proc.wait(10)
    assert server.proc.returncode == 0


def test_runs_from_install_prefix(tmp_path):
    """An installed ferrite-host finds its bundled plugins with no config."""
    build = os.path.dirname(host_binary())
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", build, "--prefix", str(prefix)], check=True,
                   capture_output=True, timeout=120)
    s = Server(workdir=str(tmp_path))
    cmd = s.command_line()
    cmd[0] = str(prefix / "bin" / "ferrite-host")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from conftest import wait_loaded, wait_port
        wait_port(s.port, proc)
        wait_loaded(s.port, proc)  # the port opens before the (empty) load ends: -LOADING
        r = redis.Redis(port=s.port)
        assert r.set("k", "v") and r.get("k") == b"v"
    finally:
        proc.terminate()
        proc.wait(10)
