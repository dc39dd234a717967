"""memcached `stats` and `stats settings` tell the truth about this server: the memory
limit, the worker threads, whether it evicts (memcached 1.6 field names and order)."""
import socket


def stats(port, what=b""):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"stats" + (b" " + what if what else b"") + b"\r\n")
        buf = b""
        while not buf.endswith(b"END\r\n"):
            chunk = s.recv(65536)
            assert chunk, buf
            buf += chunk
    rows = [line.split(b" ", 2) for line in buf.split(b"\r\n")[:-2]]
    assert all(r[0] == b"STAT" for r in rows), buf
    return {r[1].decode(): r[2].decode() for r in rows}


def test_stats_limit_threads_and_evictions(server_factory):
    s = server_factory({"compatibility.memcached_protocol": "true",
                        "storage.max_memory": "64mb", "server.threads": "3",
                        "storage.eviction_policy": "noeviction"})
    st = stats(s.mc_port)
    assert st["limit_maxbytes"] == str(64 * 1024 * 1024)
    assert st["threads"] == "3"
    settings = stats(s.mc_port, b"settings")
    assert settings["maxbytes"] == str(64 * 1024 * 1024)
    assert settings["num_threads"] == "3"
    assert settings["evictions"] == "off"
    assert settings["tcpport"] == str(s.mc_port)
    r = s.redis()
    r.config_set("maxmemory-policy", "allkeys-lru")
    assert stats(s.mc_port, b"settings")["evictions"] == "on"
    r.config_set("maxmemory", "0")   # no limit: the machine's memory, never 0
    assert int(stats(s.mc_port)["limit_maxbytes"]) > 64 * 1024 * 1024
