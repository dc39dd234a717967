"""ferrite-migrate against a real memcached 1.6.18 and a real ferrite-host: a 100,000-item
import of mixed sizes, flags and TTLs while a client keeps writing to both sides, then
every item checked (value, flags, and its expiry to the second: see compare()); the source
killed mid-import (exit 1,
partial report) and the import resumed; the importer itself killed and resumed; a RESP
target (Ferrite and redis-server, flags dropped); authentication; too-large items and
--prefix; a source that is not there or answers garbage; the progress bar on a terminal and progress lines
elsewhere."""
import os
import pty
import random
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import free_port, wait_for
from migrate_util import (Memcached, load_items, metadump, metadump_keys, mg_many, migrate_binary,
                          pexpiretimes, run_migrate, summary, text_key)

MONTH = 30 * 86400


def dataset(n, seed, short_ttls=True, prefix=b"item:"):
    """n items: 90% of 0-300 B, 9.9% of 300 B-4 KB, 0.1% of 4-300 KB; flags 0, small or
    any 32-bit value; no TTL, a relative TTL, an absolute one past 30 days, and (with
    short_ttls) 2 s ones that expire during the import; 0.2% of keys only the binary
    protocol can write (a space, a control byte)."""
    rnd = random.Random(seed)
    now = int(time.time())
    items = []
    for i in range(n):
        r = rnd.random()
        size = (rnd.randint(0, 300) if r < 0.9 else rnd.randint(300, 4000) if r < 0.999
                else rnd.randint(4000, 300_000))
        flags = rnd.choice([0, 1, 2, rnd.getrandbits(32)])
        t = rnd.random()
        exp = (0 if t < 0.4 else rnd.randint(100, 100_000) if t < 0.9
               else now + 40 * 86400 + rnd.randint(0, 1000) if t < 0.97
               else (2 if short_ttls else 1000))
        key = (b"%sbin %d\x01" % (prefix, i)) if rnd.random() < 0.002 else (b"%s%d" % (prefix, i))
        items.append((key, rnd.randbytes(size), flags, exp))
    return items


def compare(src_port, dst, keys, batch=2000, drop_flags=False):
    """Checks every key of `keys` the source holds: value and flags read back to back from
    both sides with `mg`, and the expiry: memcached's own record of it (metadump's exp=, a
    Unix time) against the target's PEXPIRETIME over RESP, which must be that second to the
    millisecond. (memcached's `mg ... t` cannot be compared within 1 s: it counts from
    memcached's clock, which a once-a-second timer advances and which lags the wall clock
    by up to about 2 s.) Keys expiring within 2 s are skipped: one side may drop them
    between the reads. Returns the number of keys checked."""
    exps = metadump(src_port)
    deadline = time.time() + 2
    keys = [k for k in keys if k in exps and (exps[k] == -1 or exps[k] > deadline)]
    expiry = pexpiretimes(dst.port, keys)
    checked = 0
    for i in range(0, len(keys), batch):
        chunk = keys[i:i + batch]
        src = mg_many(src_port, chunk)
        dst_items = mg_many(dst.mc_port, chunk)
        for k, (value, flags, _) in src.items():
            assert k in dst_items, f"{k!r} missing from the target"
            dvalue, dflags, _ = dst_items[k]
            assert dvalue == value, k
            assert dflags == (0 if drop_flags else flags), k
            assert expiry[k] == (-1 if exps[k] == -1 else exps[k] * 1000), (k, exps[k], expiry[k])
            checked += 1
    return checked


class Writer(threading.Thread):
    """Keeps setting keys (existing and new) on both sides, as an application in
    dual-write mode does, until stopped."""

    def __init__(self, ports, keys, seed):
        super().__init__(daemon=True)
        self.ports, self.keys, self.rnd = ports, keys, random.Random(seed)
        self.stop_event = threading.Event()
        self.writes = 0
        self.error = None

    def run(self):
        try:
            socks = [socket.create_connection(("127.0.0.1", p), timeout=30) for p in self.ports]
            files = [s.makefile("rb") for s in socks]
            while not self.stop_event.is_set():
                batch = []
                for _ in range(50):
                    key = (self.rnd.choice(self.keys) if self.rnd.random() < 0.7
                           else b"new:%d" % self.rnd.getrandbits(40))
                    value = self.rnd.randbytes(self.rnd.randint(0, 500))
                    # An absolute expiry (over 30 days: a Unix time), so both sides hold
                    # the same deadline and the writer's items compare exactly too.
                    exp = self.rnd.choice([0, int(time.time()) + 5000])
                    batch.append(b"set %s %d %d %d\r\n%s\r\n" % (
                        key, self.rnd.getrandbits(16), exp, len(value), value))
                for s, f in zip(socks, files):
                    s.sendall(b"".join(batch))
                    for _ in batch:
                        assert f.readline() == b"STORED\r\n"
                self.writes += len(batch)
            for s in socks:
                s.close()
        except Exception as e:  # reported by the test, not lost in the thread
            self.error = e


@pytest.fixture
def mc_source():
    started = []

    def make(*args, **kw):
        m = Memcached(*args, **kw)
        started.append(m)
        return m

    yield make
    for m in started:
        m.stop(hard=True)


def test_import_100k_mixed_items_while_a_client_writes_to_both_sides(mc_server, mc_source):
    src = mc_source()
    items = dataset(100_000, seed=19)
    load_items(src.port, items)
    writer = Writer([src.port, mc_server.mc_port],
                    [k for k, _, _, _ in items if text_key(k)], seed=7)
    writer.start()
    try:
        wait_for(lambda: writer.writes > 500 or writer.error, timeout=30, what="writer running")
        # A rate a little under what the copy reaches alone keeps the writer busy through it.
        r = run_migrate("--from", f"memcached://127.0.0.1:{src.port}",
                        "--to", f"127.0.0.1:{mc_server.mc_port}", "--rate", "40000")
    finally:
        writer.stop_event.set()
        writer.join(30)
    assert writer.error is None, writer.error
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith(b"import complete"), r.stdout
    s = summary(r.stdout)
    short = sum(1 for _, _, _, e in items if e == 2)  # may expire before the listing
    assert s["listed"] >= 100_000 - short
    assert s["copied"] + s["skipped, present"] + s["skipped, expired"] + s["skipped, gone"] \
        == s["listed"]
    assert s["not reached"] == 0 and s["refused by target"] == 0
    assert s["skipped, present"] > 0, "the writer's keys were not met: no overlap"
    assert s["copied"] > 10_000 and s["copied"] + s["skipped, present"] > 95_000
    assert writer.writes > 1000
    keys = metadump_keys(src.port)
    assert len(keys) >= 100_000 - short
    assert compare(src.port, mc_server, keys) > 90_000


def test_source_killed_mid_import_then_resumed(mc_server, mc_source, tmp_path):
    src = mc_source()
    # Relative TTLs as absolute times: the source is loaded again below, seconds later,
    # and must give each item the deadline it had when the first run copied it.
    now = int(time.time())
    items = [(k, v, f, now + e if 0 < e <= MONTH else e)
             for k, v, f, e in dataset(30_000, seed=5, short_ttls=False)]
    load_items(src.port, items)
    state = tmp_path / "import.state"
    args = ["--from", f"memcached://127.0.0.1:{src.port}", "--to", f"127.0.0.1:{mc_server.mc_port}",
            "--resume", state, "--batch", "100", "--timeout", "5"]
    p = subprocess.Popen([migrate_binary()] + [str(a) for a in args] + ["--rate", "10000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    src.stop(hard=True)  # SIGKILL: the source is gone mid-import
    out, err = p.communicate(timeout=60)
    assert p.returncode == 1, out + err
    assert out.startswith(b"import INCOMPLETE: source failed"), out
    first = summary(out)
    assert 0 < first["copied"] < 30_000 and first["not reached"] > 0, out
    settled = first["listed"] - first["not reached"]

    # The source comes back with its data (here: reloaded); one key the first run copied
    # was deleted from Ferrite since, and must stay deleted.
    src.start()
    load_items(src.port, items)
    copied = [k for k in mg_many(mc_server.mc_port, [k for k, _, _, _ in items if text_key(k)])]
    victim = copied[0]
    with socket.create_connection(("127.0.0.1", mc_server.mc_port), timeout=10) as s:
        s.sendall(b"delete %s\r\n" % victim)
        assert s.recv(100) == b"DELETED\r\n"

    r = run_migrate(*args)
    assert r.returncode == 0, r.stdout + r.stderr
    second = summary(r.stdout)
    assert second["skipped, earlier run"] == settled
    assert second["copied"] == 30_000 - settled
    assert victim not in mg_many(mc_server.mc_port, [victim])
    keys = [k for k, _, _, _ in items if k != victim]
    assert compare(src.port, mc_server, keys) == len(keys)


def test_importer_killed_then_resumed(mc_server, mc_source, tmp_path):
    src = mc_source()
    items = dataset(20_000, seed=6, short_ttls=False)
    load_items(src.port, items)
    args = ["--from", f"memcached://127.0.0.1:{src.port}", "--to", f"127.0.0.1:{mc_server.mc_port}",
            "--resume", tmp_path / "s", "--batch", "50"]
    p = subprocess.Popen([migrate_binary()] + [str(a) for a in args] + ["--rate", "5000"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    p.send_signal(signal.SIGKILL)
    p.wait(10)
    r = run_migrate(*args)
    assert r.returncode == 0, r.stdout + r.stderr
    s = summary(r.stdout)
    assert 0 < s["skipped, earlier run"] < 20_000
    # What the killed run stored but had not yet recorded is found present: add semantics.
    assert s["skipped, earlier run"] + s["copied"] + s["skipped, present"] == 20_000
    assert s["skipped, present"] <= 50
    assert compare(src.port, mc_server, [k for k, _, _, _ in items]) == 20_000


@pytest.mark.parametrize("peer", ["ferrite", "redis-server"])
def test_redis_target_keeps_values_and_ttls_and_drops_flags(peer, server, redis_server, mc_source):
    src = mc_source()
    items = dataset(3000, seed=8, short_ttls=False)
    load_items(src.port, items)
    port = server.port if peer == "ferrite" else redis_server.port
    r = run_migrate("--from", f"memcached://127.0.0.1:{src.port}", "--to", f"redis://127.0.0.1:{port}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert summary(r.stdout)["copied"] == 3000
    import redis
    c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    src_items = mg_many(src.port, [k for k, _, _, _ in items])
    exps = metadump(src.port)
    pipe = c.pipeline(transaction=False)
    for k in src_items:
        pipe.get(k)
        pipe.execute_command("PEXPIRETIME", k)
    got = pipe.execute()
    for i, (k, (value, _, _)) in enumerate(src_items.items()):
        assert got[2 * i] == value, k
        # SET ... EXAT: memcached's expiry (metadump's exp=) to the second.
        assert got[2 * i + 1] == (-1 if exps[k] == -1 else exps[k] * 1000), (k, exps[k], got[2 * i + 1])
    # Run again: everything is present now (SET NX), nothing overwritten.
    c.set(b"item:0", b"newer")
    r = run_migrate("--from", f"memcached://127.0.0.1:{src.port}", "--to", f"redis://127.0.0.1:{port}")
    assert summary(r.stdout)["skipped, present"] == 3000
    assert c.get(b"item:0") == b"newer"


def test_authenticated_source(mc_server, mc_source, tmp_path):
    auth = tmp_path / "auth"
    auth.write_text("migrator:s3cret\n")
    src = mc_source("-Y", str(auth))
    with socket.create_connection(("127.0.0.1", src.port), timeout=10) as s:
        s.sendall(b"set a 0 0 15\r\nmigrator s3cret\r\nset k 9 0 2\r\nhi\r\n")
        time.sleep(0.3)
        assert s.recv(100) == b"STORED\r\nSTORED\r\n"
    base = ["--from", f"memcached://127.0.0.1:{src.port}", "--to", f"127.0.0.1:{mc_server.mc_port}"]
    r = run_migrate(*base)
    assert r.returncode == 1 and b"source failed" in r.stdout, r.stdout + r.stderr
    r = run_migrate(*base, "--from-auth", "migrator:wrong")
    assert r.returncode == 1 and b"refused the credentials" in r.stdout, r.stdout
    r = run_migrate(*base, "--from-auth", "migrator:s3cret")
    assert r.returncode == 0, r.stdout + r.stderr
    assert mg_many(mc_server.mc_port, [b"k"]) == {b"k": (b"hi", 9, -1)}


def test_too_large_items_and_prefix(server_factory, mc_source):
    dst = server_factory({"compatibility.memcached_protocol": "true",
                          "compatibility.item_size_max": "1024"})
    src = mc_source()
    load_items(src.port, [(b"app:small", b"x" * 10, 1, 0), (b"app:big", b"y" * 2000, 2, 0),
                          (b"other:small", b"z", 3, 0)])
    r = run_migrate("--from", f"memcached://127.0.0.1:{src.port}", "--to", f"127.0.0.1:{dst.mc_port}",
                    "--prefix", "app:")
    assert r.returncode == 0, r.stdout + r.stderr
    s = summary(r.stdout)
    assert (s["listed"], s["copied"], s["skipped, too large"], s["skipped, other prefix"]) == (3, 1, 1, 1)
    assert mg_many(dst.mc_port, [b"app:small", b"app:big", b"other:small"]) == \
        {b"app:small": (b"x" * 10, 1, -1)}


def test_source_not_listening_and_bad_arguments(mc_server):
    port = free_port()
    r = run_migrate("--from", f"memcached://127.0.0.1:{port}", "--to", f"127.0.0.1:{mc_server.mc_port}")
    assert r.returncode == 1
    assert r.stdout.startswith(b"import INCOMPLETE: source failed: source: cannot connect"), r.stdout
    r = run_migrate("--from", "127.0.0.1:1", "--to", "127.0.0.1:2")
    assert r.returncode == 2 and b"--from must be memcached://" in r.stderr


def test_progress_bar_on_a_terminal_and_lines_elsewhere(mc_server, mc_source):
    src = mc_source()
    load_items(src.port, dataset(4000, seed=9, short_ttls=False))
    args = [migrate_binary(), "--from", f"memcached://127.0.0.1:{src.port}",
            "--to", f"127.0.0.1:{mc_server.mc_port}", "--rate", "2000", "--progress-interval", "1"]
    start = time.monotonic()
    r = subprocess.run(args, capture_output=True, timeout=60)
    elapsed = time.monotonic() - start
    assert r.returncode == 0
    # --rate 2000 over 4000 items: no less than 2 s (unlimited, the copy takes a fraction
    # of that), and the summary's rate no higher than asked.
    assert summary(r.stdout)["copied"] == 4000
    assert elapsed >= 2.0, elapsed
    assert float(re.search(rb"\(([\d.]+) items/s", r.stdout).group(1)) <= 2000, r.stdout
    lines = [l for l in r.stderr.decode().splitlines() if "progress:" in l]
    assert len(lines) >= 2 and all(w in lines[0] for w in ("items/s", "MB/s", "ETA")), r.stderr
    assert b"\r[" not in r.stderr

    master, slave = pty.openpty()
    p = subprocess.Popen(args + ["--prefix", "none-of-them"], stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out, _ = p.communicate(timeout=60)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        tty += chunk
    os.close(master)
    assert p.returncode == 0
    assert all(w in tty for w in (b"\r[", b"items/s", b"MB/s", b"ETA", b"100.0%")), tty


@pytest.mark.parametrize("time_stat, error", [
    (b"1796679812", b"1099511627776-byte value"),
    (b"x", b"the source's `stats` has no number for `time`"),
])
def test_a_source_answering_garbage_fails_cleanly(mc_server, time_stat, error):
    """A fake source whose item count is not a number and whose mg reply announces a 1 TB
    value, or whose clock is not a number (every expiry is computed from it): exit 1 with
    a report, nothing allocated for the claimed size."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)

    def one(c):
        f = c.makefile("rb")
        while True:
            line = f.readline()
            if not line:
                break
            if line.startswith(b"version"):
                c.sendall(b"VERSION 1.6.18\r\n")
            elif line.startswith(b"stats"):
                c.sendall(b"STAT curr_items lots\r\nSTAT time %s\r\nEND\r\n" % time_stat)
            elif line.startswith(b"lru_crawler"):
                c.sendall(b"key=a exp=-1 la=1 cas=1 fetch=no cls=1 size=1\nEND\r\n")
            elif line.startswith(b"mg "):
                c.sendall(b"VA 1099511627776 f0 t-1\r\n")

    def serve():
        for _ in range(2):  # the importer's two connections, served at once
            c, _ = lsock.accept()
            threading.Thread(target=one, args=(c,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    r = run_migrate("--from", f"memcached://127.0.0.1:{lsock.getsockname()[1]}",
                    "--to", f"127.0.0.1:{mc_server.mc_port}", "--timeout", "3", timeout=60)
    lsock.close()
    assert r.returncode == 1, r.stdout + r.stderr
    assert b"source failed" in r.stdout and error in r.stdout, r.stdout
    # The key was listed and not reached; a source with no clock fails before the listing.
    assert summary(r.stdout)["not reached"] == (1 if time_stat.isdigit() else 0)


class TickingSource:
    """A fake memcached whose clock (`stats` time) ticks while the importer fetches: once,
    at the `mg` of `tick_once`, and at every `mg` of `tick_always` (an item whose fetch
    the clock always runs through). Each item expires at a fixed Unix time; `mg ... t`
    answers the seconds from the fake's clock to it, as memcached does; metadump lists
    the times in `listed` as exp= (an item changed since the listing has another)."""

    def __init__(self, expiries, listed, tick_once=None, tick_always=None, clock_offset=0):
        self.expiries, self.listed = expiries, listed
        self.tick_once, self.tick_always = tick_once, tick_always
        self.clock = int(time.time()) + clock_offset
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        for _ in range(2):  # the importer's two connections
            c, _ = self.sock.accept()
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        f = c.makefile("rb")
        for line in iter(f.readline, b""):
            with self.lock:
                if line.startswith(b"version"):
                    c.sendall(b"VERSION 1.6.18\r\n")
                elif line.startswith(b"stats"):
                    c.sendall(b"STAT curr_items %d\r\nSTAT time %d\r\nEND\r\n" % (len(self.expiries), self.clock))
                elif line.startswith(b"lru_crawler metadump"):
                    c.sendall(b"".join(b"key=%s exp=%d la=1 cas=1 fetch=no cls=1 size=1\n" % (k, e)
                                       for k, e in self.listed.items()) + b"END\r\n")
                elif line.startswith(b"mg "):
                    key = line.split()[1]
                    if key == self.tick_once or key == self.tick_always:
                        self.clock += 1
                        self.tick_once = None if key == self.tick_once else self.tick_once
                    c.sendall(b"VA 1 f7 t%d\r\nv\r\n" % (self.expiries[key] - self.clock))


def test_expiry_is_exact_when_the_source_clock_ticks_during_a_fetch(mc_server):
    """An expiry is the source's clock plus `mg`'s t, read at one tick of that clock: a
    fetch the clock ticked through is fetched again in halves, and an item whose fetch it
    always runs through takes the listing's exp= (which lies in the range the two reads
    allow). The k items changed since the listing (their exp= is stale), so only a fetch
    with no tick gives their expiry. Every copy must expire at the fake source's time
    exactly; adding t to the clock read before a fetch the clock ticked through would
    make the items fetched after the tick a second early."""
    base = int(time.time()) + 1000
    expiries = {b"slow": base + 50}
    expiries.update({b"k%d" % i: base + i for i in range(10)})
    listed = {k: (e if k == b"slow" else e - 100) for k, e in expiries.items()}
    src = TickingSource(expiries, listed, tick_once=b"k5", tick_always=b"slow")
    r = run_migrate("--from", f"memcached://127.0.0.1:{src.port}", "--to", f"127.0.0.1:{mc_server.mc_port}",
                    "--timeout", "5", timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert summary(r.stdout)["copied"] == 11
    got = pexpiretimes(mc_server.port, list(expiries))
    assert got == {k: e * 1000 for k, e in expiries.items()}
    assert {k: v[:2] for k, v in mg_many(mc_server.mc_port, list(expiries)).items()} == \
        {k: (b"v", 7) for k in expiries}


def test_a_source_clock_ten_minutes_behind_keeps_each_remaining_ttl(mc_server):
    """Hosts whose clocks disagree (here the source's runs 600 s behind): the import says
    so and moves every expiry by the difference it measured between the source's `stats`
    time and the target's, so each item keeps its remaining TTL (to within the second the
    measurement allows) instead of expiring ten minutes early."""
    base = int(time.time()) - 600 + 1000
    expiries = {b"k%d" % i: base + i for i in range(5)}
    src = TickingSource(expiries, expiries, clock_offset=-600)
    r = run_migrate("--from", f"memcached://127.0.0.1:{src.port}", "--to", f"127.0.0.1:{mc_server.mc_port}",
                    "--timeout", "5", timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert b"clock and the target's differ by 60" in r.stderr, r.stderr
    got = pexpiretimes(mc_server.port, list(expiries))
    shift = {(got[k] - e * 1000) // 1000 for k, e in expiries.items()}
    assert len(shift) == 1 and shift <= {600, 601}, got
