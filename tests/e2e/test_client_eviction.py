"""maxmemory-clients (client eviction, Redis 7.0), side by side with redis-server 7.0: the
setting's forms and errors, a client whose query buffer, output buffer or MULTI queue
passes the limit is closed, CLIENT NO-EVICT protects one, the largest clients go first
and only until the rest fit, and INFO counts the evictions."""
import socket
import time

import pytest
import redis

MB = 1 << 20


def client_list(r):
    out = {}
    for line in r.execute_command("CLIENT", "LIST").decode().splitlines():
        fields = dict(kv.split("=", 1) for kv in line.split(" ") if "=" in kv)
        if fields.get("name"):
            out[fields["name"]] = fields
    return out


def named_socket(port, name, no_evict=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"CLIENT SETNAME %s\r\n" % name.encode())
    assert s.recv(100) == b"+OK\r\n"
    if no_evict:
        s.sendall(b"CLIENT NO-EVICT on\r\n")
        assert s.recv(100) == b"+OK\r\n"
    return s


def fill_query_buffer(s, n):
    """Sends the start of a command whose bulk string of n bytes never ends: the server
    holds it in the client's query buffer. Returns False if the server closed it."""
    try:
        s.sendall(b"*2\r\n$%d\r\n" % (n + 10) + b"v" * n)
        return True
    except OSError:
        return False


def wait(pred, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def control(port):
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    r.execute_command("CLIENT", "SETNAME", "control")
    r.execute_command("CLIENT", "NO-EVICT", "on")
    return r


@pytest.fixture
def both(server, redis_server):
    return [server.port, redis_server.port]


def test_setting_forms_and_errors(both):
    seen = []
    for port in both:
        r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
        answers = [r.config_get("maxmemory-clients")]
        for v in ("7%", "3mb", "100%", "0"):
            r.config_set("maxmemory-clients", v)
            answers.append(r.config_get("maxmemory-clients"))
        for bad in ("101%", "-1%", "abc", "1.5%", "-3"):
            try:
                r.config_set("maxmemory-clients", bad)
                answers.append("accepted " + bad)
            except redis.ResponseError as e:
                answers.append(str(e))
        # All or nothing: the bad percentage names itself and maxmemory keeps its value.
        r.config_set("maxmemory", "10000002")
        try:
            r.execute_command("CONFIG", "SET", "maxmemory", "10000001", "maxmemory-clients",
                              "200%", "client-query-buffer-limit", "invalid")
        except redis.ResponseError as e:
            answers.append(str(e))
        answers.append(r.config_get("maxmemory"))
        answers.append("maxmemory-clients" in r.config_get("maxmemory*"))
        seen.append(answers)
    assert seen[0] == seen[1]
    assert seen[0][1] == {"maxmemory-clients": "7%"}


def _query_buffer_eviction(port):
    r = control(port)
    r.config_set("maxmemory-clients", "1mb")
    small = named_socket(port, "small")
    big = named_socket(port, "big")
    fill_query_buffer(small, 100 * 1024)
    fill_query_buffer(big, 2 * MB)
    gone = wait(lambda: "big" not in client_list(r))
    listed = client_list(r)
    evicted = r.info("stats")["evicted_clients"]
    small.close()
    big.close()
    r.config_set("maxmemory-clients", "0")
    return gone, "small" in listed, evicted


def test_query_buffer_over_the_limit_is_evicted(both):
    # The client holding 2 MB of an unfinished command goes; the small one stays.
    for port in both:
        assert _query_buffer_eviction(port) == (True, True, 1), port


def _no_evict(port):
    r = control(port)
    r.config_set("maxmemory-clients", "1mb")
    kept = named_socket(port, "kept", no_evict=True)
    fill_query_buffer(kept, 2 * MB)
    assert wait(lambda: int(client_list(r)["kept"]["qbuf"]) >= 2 * MB), port
    time.sleep(0.3)  # a cron pass or two
    line = client_list(r).get("kept")
    kept.close()
    r.config_set("maxmemory-clients", "0")
    return line is not None and int(line["tot-mem"]) > MB and "e" in line["flags"]


def test_no_evict_client_is_kept(both):
    for port in both:
        assert _no_evict(port), port


def _largest_first(port):
    """Three sizes of clients; lowering the limit to what the two smaller sizes and the
    control client hold evicts exactly the largest ones."""
    r = control(port)
    r.config_set("maxmemory-clients", "0")
    socks = []
    sizes = {"c128k": 128 * 1024, "c1m": MB, "c3m": 3 * MB}
    for name, n in sizes.items():
        for i in range(2):
            s = named_socket(port, f"{name}-{i}")
            fill_query_buffer(s, n)
            socks.append(s)
    assert wait(lambda: all(int(l["qbuf"]) >= sizes[n.split("-")[0]]
                            for n, l in client_list(r).items() if n != "control")
                and len(client_list(r)) == 7), port
    listed = client_list(r)
    mem = {n: int(l["tot-mem"]) for n, l in listed.items()}
    keep = sum(v for n, v in mem.items() if not n.startswith("c3m"))
    r.config_set("maxmemory-clients", str(keep + 64 * 1024))
    wait(lambda: not any(n.startswith("c3m") for n in client_list(r)))
    left = sorted(n for n in client_list(r))
    evicted = r.info("stats")["evicted_clients"]
    for s in socks:
        s.close()
    r.config_set("maxmemory-clients", "0")
    return left, evicted


def test_largest_clients_go_first_and_only_until_below(both):
    expect = (["c128k-0", "c128k-1", "c1m-0", "c1m-1", "control"], 2)
    for port in both:
        assert _largest_first(port) == expect, port


def _output_buffer_eviction(port):
    r = control(port)
    r.set("k", "x" * 200000)
    r.config_set("maxmemory-clients", "3mb")
    s = named_socket(port, "reader")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    highest = 0
    try:
        for _ in range(200):  # 40 MB of replies the client never reads
            s.sendall(b"GET k\r\n")
            line = client_list(r).get("reader")
            if line is None:
                break
            highest = max(highest, int(line["tot-mem"]))
    except OSError:
        pass
    gone = wait(lambda: "reader" not in client_list(r))
    s.close()
    r.config_set("maxmemory-clients", "0")
    return gone, highest < 3 * MB


def test_output_buffer_over_the_limit_is_evicted(both):
    # CLIENT LIST never shows the client over the limit: it is gone first.
    for port in both:
        assert _output_buffer_eviction(port) == (True, True), port


def _multi_eviction(port):
    r = control(port)
    r.config_set("maxmemory-clients", "1mb")
    s = named_socket(port, "multi")
    s.sendall(b"MULTI\r\n")
    assert s.recv(100) == b"+OK\r\n"
    closed = False
    value = b"v" * 250000
    for _ in range(10):  # 2.5 MB queued
        try:
            s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\n" % (len(value), value))
            reply = s.recv(100)
        except OSError:
            reply = b""
        if reply != b"+QUEUED\r\n":
            closed = reply == b""
            break
    gone = wait(lambda: "multi" not in client_list(r))
    s.close()
    r.config_set("maxmemory-clients", "0")
    return closed, gone


def test_multi_queue_over_the_limit_is_evicted(both):
    for port in both:
        assert _multi_eviction(port) == (True, True), port


def test_percentage_of_maxmemory_and_log(server):
    r = control(server.port)
    r.config_set("maxmemory", "6mb")
    r.config_set("maxmemory-clients", "10%")  # 629145 bytes
    half = named_socket(server.port, "half")
    fill_query_buffer(half, 250000)
    assert wait(lambda: int(client_list(r)["half"]["qbuf"]) >= 250000)
    time.sleep(0.3)
    assert "half" in client_list(r)
    half.close()
    over = named_socket(server.port, "over")
    fill_query_buffer(over, 700000)
    assert wait(lambda: "over" not in client_list(r))
    # Without maxmemory a percentage means no limit.
    r.config_set("maxmemory", "0")
    again = named_socket(server.port, "again")
    fill_query_buffer(again, 2 * MB)
    assert wait(lambda: int(client_list(r)["again"]["qbuf"]) >= 2 * MB)
    log = server.log_text()
    assert "Evicting client: id=" in log and " name=over " in log
    for s in (over, again):
        s.close()
