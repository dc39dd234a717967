"""memcached introspection side by side with the real memcached 1.6.18: `stats items |
slabs | sizes | conns | cachedump`, `lru_crawler metadump | mgdump`, `watch`, the item
counters of plain `stats`, and libmemcached's memcdump / memcstat against both."""
import base64
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import exchange_until_quiet
from migrate_util import migrate_binary

MC = {"compatibility.memcached_protocol": "true"}


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def until(self, end):
        while not self.buf.endswith(end) and end not in self.buf:
            chunk = self.s.recv(1 << 20)
            assert chunk, self.buf[-200:]
            self.buf += chunk
        i = self.buf.index(end) + len(end)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def line(self):
        return self.until(b"\r\n")

    def cmd(self, data, end=b"\r\n"):
        self.send(data)
        return self.until(end)

    def close(self):
        self.s.close()


def stats(port, what=b""):
    c = Conn(port)
    out = c.cmd(b"stats" + (b" " + what if what else b"") + b"\r\n", b"END\r\n")
    c.close()
    rows = [line.split(b" ", 2) for line in out.split(b"\r\n")[:-2]]
    assert all(r[0] == b"STAT" for r in rows), out
    return {r[1].decode(): r[2].decode() for r in rows}


def fill(port, items):
    """items: [(key, value bytes, flags, exptime)]"""
    c = Conn(port)
    for k, v, f, e in items:
        assert c.cmd(b"set %s %d %d %d\r\n%s\r\n" % (k, f, e, len(v), v)) == b"STORED\r\n"
    c.close()


ITEMS = [(b"k%d" % i, b"v" * (i * 37 % 700), i, 0 if i % 3 else 1000) for i in range(300)]


def metadump(port, spec=b"all"):
    c = Conn(port)
    out = c.cmd(b"lru_crawler metadump " + spec + b"\r\n", b"END\r\n")
    c.close()
    rows = []
    for line in out.split(b"\n")[:-1]:
        if line == b"END\r":
            continue
        m = re.fullmatch(rb"key=(\S+) exp=(-?\d+) la=(\d+) cas=(\d+) fetch=(yes|no) cls=(\d+) size=(\d+)",
                         line)
        assert m, line
        rows.append(m.groups())
    return rows


def test_stats_items_slabs_sizes_describe_the_items(server_factory, memcached_server):
    s = server_factory(MC)
    for port in (s.mc_port, memcached_server.port):
        fill(port, ITEMS)
        items = stats(port, b"items")
        numbers = {k.split(":")[1]: int(v) for k, v in items.items() if k.endswith(":number")}
        assert sum(numbers.values()) == len(ITEMS), (port, items)
        for cls in numbers:
            for field in ("age", "mem_requested", "evicted", "evicted_nonzero",
                          "evicted_time", "evicted_unfetched"):
                assert f"items:{cls}:{field}" in items, (port, field)
        slabs = stats(port, b"slabs")
        for cls, n in numbers.items():
            assert int(slabs[f"{cls}:used_chunks"]) == n
            assert int(slabs[f"{cls}:total_pages"]) >= 1
            for field in ("chunk_size", "chunks_per_page", "total_chunks", "free_chunks",
                          "free_chunks_end"):
                assert f"{cls}:{field}" in slabs
        assert int(slabs["active_slabs"]) == len(numbers)
        assert int(slabs["total_malloced"]) > 0
    # Ferrite's classes are size classes: bigger values, bigger chunks, sizes by 32 bytes.
    sizes = stats(s.mc_port, b"sizes")
    assert sum(int(v) for v in sizes.values()) == len(ITEMS)
    assert all(int(k) % 32 == 0 for k in sizes)
    slabs = stats(s.mc_port, b"slabs")
    chunk = sorted(int(v) for k, v in slabs.items() if k.endswith(":chunk_size"))
    assert len(chunk) > 3 and chunk == sorted(set(chunk))


def test_memcached_tool_display_reads_ferrite(server_factory):
    tool = "/usr/share/memcached/scripts/memcached-tool"
    if not shutil.which("perl"):
        pytest.skip("no perl")
    s = server_factory(MC)
    fill(s.mc_port, ITEMS)
    out = subprocess.run(["perl", tool, f"127.0.0.1:{s.mc_port}", "display"],
                         capture_output=True, timeout=30, text=True)
    assert out.returncode == 0, out.stderr
    counts = [int(line.split()[4]) for line in out.stdout.splitlines()[1:]]
    assert sum(counts) == len(ITEMS), out.stdout


def test_cachedump_format_and_errors_match_memcached(server_factory, memcached_server):
    s = server_factory(MC)
    errors = (b"stats cachedump 64 0\r\nstats cachedump 1\r\nstats cachedump x 1\r\n"
              b"stats cachedump 0 0\r\nstats cachedump 200 0\r\n")
    assert exchange_until_quiet(s.mc_port, errors) == \
        exchange_until_quiet(memcached_server.port, errors)
    fill(s.mc_port, ITEMS)
    seen = {}
    for cls in range(64):
        c = Conn(s.mc_port)
        out = c.cmd(b"stats cachedump %d 0\r\n" % cls, b"END\r\n")
        c.close()
        for line in out.split(b"\r\n")[:-2]:
            m = re.fullmatch(rb"ITEM (\S+) \[(\d+) b; (\d+) s\]", line)
            assert m, line
            seen[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    want = {k: len(v) for k, v, f, e in ITEMS}
    assert {k: n for k, (n, _) in seen.items()} == want
    now = time.time()
    for k, v, f, e in ITEMS:
        exp = seen[k][1]
        assert exp == 0 if e == 0 else abs(exp - (now + e)) < 5
    c = Conn(s.mc_port)  # a limit stops the dump
    out = c.cmd(b"stats cachedump 9 2\r\n", b"END\r\n")
    assert out.count(b"ITEM ") <= 2


def test_memcdump_lists_every_key(server_factory, memcached_server):
    exe = shutil.which("memcdump")
    if not exe:
        pytest.fail("libmemcached-tools is not installed")
    s = server_factory(MC)
    many = [(b"key:%d" % i, b"x" * (i % 900), 0, 0) for i in range(5000)]
    for port in (s.mc_port, memcached_server.port):
        fill(port, many)
        out = subprocess.run([exe, f"--servers=127.0.0.1:{port}"], capture_output=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        keys = set(out.stdout.split())
        assert keys <= {k for k, *_ in many}
        if port == s.mc_port:  # memcached lists only its cold LRU; Ferrite every key
            assert keys == {k for k, *_ in many}


def test_memcstat_reads_true_figures(server_factory, memcached_server):
    exe = shutil.which("memcstat")
    s = server_factory(dict(MC, **{"server.threads": "2", "storage.max_memory": "32mb"}))
    got = {}
    for port in (s.mc_port, memcached_server.port):
        out = subprocess.run([exe, f"--servers=127.0.0.1:{port}"], capture_output=True,
                             timeout=30, text=True)
        assert out.returncode == 0, out.stderr
        got[port] = dict(line.strip().split(": ", 1) for line in out.stdout.splitlines()
                         if ": " in line)
    f, m = got[s.mc_port], got[memcached_server.port]
    assert f["threads"] == "2" and f["limit_maxbytes"] == str(32 << 20)
    # every field Ferrite reports is one memcached 1.6.18 reports, under the same name
    assert set(f) <= set(m), set(f) - set(m)
    for name in ("curr_items", "total_items", "get_expired", "expired_unfetched",
                 "evicted_unfetched", "reclaimed", "cmd_touch", "curr_connections"):
        assert name in f


def test_metadump_side_by_side(server_factory, memcached_server):
    s = server_factory(MC)
    bad = (b"lru_crawler metadump 0\r\nlru_crawler metadump x\r\nlru_crawler metadump 64\r\n"
           b"lru_crawler metadump\r\nlru_crawler foo\r\nlru_crawler\r\n"
           b"lru_crawler sleep 2000000\r\nlru_crawler tocrawl x\r\n")
    assert exchange_until_quiet(s.mc_port, bad) == exchange_until_quiet(memcached_server.port, bad)
    dumps = {}
    for port in (s.mc_port, memcached_server.port):
        fill(port, ITEMS + [(b"sp%ce", b"1", 0, 0)])
        c = Conn(port)
        assert c.cmd(b"get k1 k2 k3\r\n", b"END\r\n").count(b"VALUE") == 3
        assert c.cmd(b"set k2 0 0 1\r\nx\r\n") == b"STORED\r\n"  # a new value: unfetched
        assert c.cmd(b"gat 100 k4\r\n", b"END\r\n").count(b"VALUE") == 1
        c.close()
        dumps[port] = {r[0]: r for r in metadump(port)}
    f, m = dumps[s.mc_port], dumps[memcached_server.port]
    assert set(f) == set(m) and b"sp%25ce" in f
    now = time.time()
    for key, row in f.items():
        assert row[4] == m[key][4], key                       # fetch=
        exp_f, exp_m = int(row[1]), int(m[key][1])
        assert (exp_f == -1) == (exp_m == -1) and abs(exp_f - exp_m) < 5, key
        assert abs(int(row[2]) - now) < 10                    # la= is a unix time
    # one class asked for: only its items
    cls = next(iter(f.values()))[5]
    rows = metadump(s.mc_port, cls)
    assert rows and all(r[5] == cls for r in rows)
    assert len(metadump(s.mc_port, b"hash")) == len(f)


def test_mgdump_and_binary_keys(server_factory):
    s = server_factory(MC)
    fill(s.mc_port, ITEMS[:50])
    s.redis().set("has space", "v")
    c = Conn(s.mc_port)
    out = c.cmd(b"lru_crawler mgdump all\r\n", b"EN\r\n")
    lines = out.split(b"\r\n")[:-2]
    keys = set()
    for line in lines:
        parts = line.split(b" ")
        assert parts[0] == b"mg"
        keys.add(base64.b64decode(parts[1]) if parts[2:] == [b"b"] else parts[1])
    assert keys == {k for k, *_ in ITEMS[:50]} | {b"has space"}
    # every line is a meta get the client can send back as it is
    assert c.cmd(lines[0] + b" v\r\n").startswith(b"VA ")


def test_pipelined_dump_is_refused_as_memcached_does(server_factory, memcached_server):
    s = server_factory(MC)
    req = b"version\r\nlru_crawler metadump all\r\n"
    assert exchange_until_quiet(s.mc_port, req) == exchange_until_quiet(memcached_server.port, req)


def test_dump_streams_without_buffering_it_all(server_factory):
    """A client that does not read its dump holds back the walk (conn_resume), not the
    server's memory; other clients on the same worker are served meanwhile."""
    s = server_factory(dict(MC, **{"server.threads": "1"}))
    n = 300_000
    r = s.redis()
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"key:{i:07d}", "v" * 20)
        if i % 10000 == 9999:
            pipe.execute()
    pipe.execute()
    slow = Conn(s.mc_port)
    slow.send(b"lru_crawler metadump all\r\n")
    other = Conn(s.mc_port)
    for i in range(50):  # answered while the dump waits for its reader
        assert other.cmd(b"get key:%07d\r\n" % i, b"END\r\n").startswith(b"VALUE")
    time.sleep(0.5)
    omem = [int(re.search(r"omem=(\d+)", line).group(1)) for line in
            r.execute_command("CLIENT", "LIST").decode().splitlines() if "cmd=" in line]
    # the whole dump is ~26 MB; the kernel's socket buffers hold at most ~10 MB of it
    assert max(omem) < 4 << 20, omem
    out = slow.until(b"END\r\n")
    assert out.count(b"\n") == n + 1


def test_stats_conns_lists_memcached_clients(server_factory):
    s = server_factory(MC)
    a, b = Conn(s.mc_port), Conn(s.mc_port)
    a.cmd(b"version\r\n")
    out = b.cmd(b"stats conns\r\n", b"END\r\n")
    rows = [line.split(b" ", 2) for line in out.split(b"\r\n")[:-2]]
    fds = {}
    for _, name, value in rows:
        fd, field = name.split(b":")
        fds.setdefault(fd, {})[field] = value
    assert len(fds) == 2
    for f in fds.values():
        assert re.fullmatch(rb"tcp:127\.0\.0\.1:\d+", f[b"addr"])
        assert f[b"listen_addr"] == b"tcp:127.0.0.1:%d" % s.mc_port
        assert f[b"secs_since_last_cmd"].isdigit()
    assert sorted(f[b"state"] for f in fds.values()) == [b"conn_parse_cmd", b"conn_waiting"]


WATCH_LINE = re.compile(rb"ts=\d+\.\d+ gid=(\d+) type=(\w+) (.*)")


def watch_lines(w, count, timeout=10):
    w.s.settimeout(timeout)
    lines = []
    while len(lines) < count:
        line = w.until(b"\n")
        m = WATCH_LINE.fullmatch(line[:-1])
        assert m, line
        fields = dict(kv.split(b"=", 1) for kv in m.group(3).split(b" "))
        lines.append((int(m.group(1)), m.group(2).decode(), fields))
    return lines


SCRIPT = [b"set foo 5 0 3\r\nbar\r\n", b"get foo nope\r\n", b"add foo 0 0 1\r\nx\r\n",
          b"cas foo 0 0 1 99\r\nx\r\n", b"touch foo 10\r\n", b"delete foo\r\n",
          b"append nope 0 0 1\r\nx\r\n", b"set sp%ce 0 100 2\r\nhi\r\n", b"gat 100 sp%ce\r\n",
          b"mg sp%ce v\r\n", b"replace foo 0 0 1\r\nx\r\n"]


def test_watch_fetchers_and_mutations_match_memcached(server_factory, memcached_server):
    s = server_factory(MC)
    seen = {}
    for port in (s.mc_port, memcached_server.port):
        w = Conn(port)
        assert w.cmd(b"watch fetchers mutations\r\n") == b"OK\r\n"
        c = Conn(port)
        for req in SCRIPT:
            c.send(req)
            c.line()
            if req.startswith((b"get", b"gat")):
                c.until(b"END\r\n")
            if req.startswith(b"mg"):
                c.line()
        lines = watch_lines(w, 16)
        gids = [g for g, _, _ in lines]
        assert gids == sorted(gids) and len(set(gids)) == len(gids)
        seen[port] = [(t, f[b"key"], f[b"status"], f.get(b"cmd"), f.get(b"ttl"),
                       f.get(b"size") if f[b"status"] in (b"found", b"stored") else None)
                      for _, t, f in lines]
        for _, t, f in lines:
            assert set(f) == ({b"key", b"status", b"clsid", b"cfd", b"size"} if t == "item_get"
                              else {b"key", b"status", b"cmd", b"ttl", b"clsid", b"cfd", b"size"})
        w.close()
    assert seen[s.mc_port] == seen[memcached_server.port]


def test_watch_evictions(server_factory):
    s = server_factory(dict(MC, **{"storage.max_memory": "4mb",
                                   "storage.eviction_policy": "allkeys-lru"}))
    w = Conn(s.mc_port)
    assert w.cmd(b"watch evictions\r\n") == b"OK\r\n"
    c = Conn(s.mc_port)
    value = b"x" * 1000
    for i in range(6000):
        c.send(b"set e%d 0 0 %d noreply\r\n%s\r\n" % (i, len(value), value))
    c.cmd(b"version\r\n")
    lines = watch_lines(w, 3)
    for _, t, f in lines:
        assert t == "eviction"
        assert set(f) == {b"key", b"fetch", b"ttl", b"la", b"clsid", b"size"}
        assert f[b"fetch"] == b"no" and f[b"ttl"] == b"-1" and f[b"size"] == b"1000"
    st = stats(s.mc_port)
    assert int(st["evictions"]) > 0 and st["evicted_unfetched"] == st["evictions"]
    items = stats(s.mc_port, b"items")
    assert sum(int(v) for k, v in items.items() if k.endswith(":evicted")) == int(st["evictions"])


def test_watch_errors_match_memcached(server_factory, memcached_server):
    s = server_factory(MC)
    req = b"watch bogus\r\nversion\r\nwatch fetchers\r\n"
    assert exchange_until_quiet(s.mc_port, req) == exchange_until_quiet(memcached_server.port, req)


def test_item_counters_side_by_side(server_factory, memcached_server):
    s = server_factory(MC)
    script = (b"set a 0 1 1\r\nx\r\nset b 0 1 1\r\nx\r\nset c 0 0 1\r\nx\r\nget a\r\n"
              b"touch c 100\r\n")
    later = b"get a b zz\r\nset c2 0 0 1\r\nx\r\n"
    r = s.redis()
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")  # expired keys wait for the gets
    base = {}
    for port in (s.mc_port, memcached_server.port):
        base[port] = stats(port)
        exchange_until_quiet(port, script)
    time.sleep(2.2)
    # get_expired is not compared: memcached's LRU crawler may reclaim a and b before the
    # gets (then they are plain misses there); Ferrite's active expiry is held off.
    keys = ("get_hits", "get_misses", "get_flushed", "cmd_touch", "touch_hits",
            "expired_unfetched", "cmd_get", "cmd_set")
    delta = {}
    for port in (s.mc_port, memcached_server.port):
        exchange_until_quiet(port, later)
        st = stats(port)
        delta[port] = {k: int(st[k]) - int(base[port][k]) for k in keys}
        if port == s.mc_port:
            assert int(st["get_expired"]) - int(base[port]["get_expired"]) == 2
    assert delta[s.mc_port] == delta[memcached_server.port]
    # Ferrite's own counters for the rest: a write over an expired key reclaims it, the
    # active expiry cycle (memcached's crawler) removes what nobody touches.
    before = stats(s.mc_port)
    exchange_until_quiet(s.mc_port, b"set r 0 1 1\r\nx\r\nset idle 0 1 1\r\nx\r\n")
    time.sleep(1.2)
    exchange_until_quiet(s.mc_port, b"set r 0 0 1\r\ny\r\n")
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    deadline = time.time() + 10
    while time.time() < deadline:
        after = stats(s.mc_port)
        if int(after["crawler_reclaimed"]) > int(before["crawler_reclaimed"]):
            break
        time.sleep(0.1)
    assert int(after["reclaimed"]) - int(before["reclaimed"]) == 1
    assert int(after["crawler_reclaimed"]) - int(before["crawler_reclaimed"]) >= 1
    assert int(after["expired_unfetched"]) - int(before["expired_unfetched"]) == 2


def test_verbosity_version_quit_side_by_side(server_factory, memcached_server):
    s = server_factory(MC)
    req = (b"verbosity\r\nverbosity 1\r\nverbosity x\r\nverbosity 1 noreply\r\n"
           b"version\r\nshutdown\r\nquit\r\nversion\r\n")
    assert exchange_until_quiet(s.mc_port, req) == exchange_until_quiet(memcached_server.port, req)


def test_ferrite_migrate_uses_ferrite_as_a_source(server_factory):
    exe = migrate_binary()
    src, dst = server_factory(MC), server_factory(MC)
    fill(src.mc_port, ITEMS)
    for listing in ("metadump", "mgdump"):
        out = subprocess.run([exe, "--from", f"memcached://127.0.0.1:{src.mc_port}",
                              "--to", f"memcached://127.0.0.1:{dst.mc_port}",
                              "--listing", listing, "--progress", "none"],
                             capture_output=True, timeout=60, text=True)
        assert out.returncode == 0, out.stderr + out.stdout
    c = Conn(dst.mc_port)
    for k, v, f, e in ITEMS:
        assert c.cmd(b"get %s\r\n" % k, b"END\r\n") == \
            b"VALUE %s %d %d\r\n%s\r\nEND\r\n" % (k, f, len(v), v)


def test_me_reports_the_class_metadump_and_stats_use(server_factory, memcached_server):
    """`me`'s cls= is the item's size class, the one lru_crawler metadump and stats items
    file it under (a 1 KiB value is not in the same class as a 10-byte one)."""
    s = server_factory(MC)
    items = [(b"small", b"v" * 10, 0, 0), (b"mid", b"v" * 1000, 0, 0),
             (b"big", b"v" * 100000, 0, 0)]
    fill(s.mc_port, items)
    dump = {r[0]: r[5] for r in metadump(s.mc_port)}
    c = Conn(s.mc_port)
    classes = {}
    for k, *_ in items:
        m = re.fullmatch(rb"ME (\S+) exp=-1 la=\d+ cas=\d+ fetch=no cls=(\d+) size=\d+\r\n",
                         c.cmd(b"me " + k + b"\r\n"))
        assert m, k
        classes[k] = m.group(2)
        assert classes[k] == dump[k], k
    assert len(set(classes.values())) == 3
    items_stats = stats(s.mc_port, b"items")
    for cls in classes.values():
        assert f"items:{cls.decode()}:number" in items_stats
    # memcached 1.6 answers the same shape (its own slab class numbers).
    fill(memcached_server.port, items)
    m = Conn(memcached_server.port)
    assert re.fullmatch(rb"ME big exp=-1 la=\d+ cas=\d+ fetch=no cls=\d+ size=\d+\r\n",
                        m.cmd(b"me big\r\n"))
    c.close()
    m.close()
