"""Memcached CAS across a failover, between real Ferrite processes: a `gets` token read on
the old primary never lets a `cas` overwrite a value on the promoted replica. The replica
versions in a CAS epoch past its primary's (docs/replication.md), so such a token fails
with EXISTS there, whether or not the item changed since; a token read on the promoted
node itself works as usual.

The changed-item case is built so that, without epochs, the replica's own version of the
key walks onto the old token: the primary wrote the key several times before the replica
attached (the replica's full sync versions it once), so the replica's counter trails the
primary's, and each later write moves both by one."""
import pytest
from pymemcache.client.base import Client

from repl_util import info, wait_caught_up, wait_for, wait_link_up

CFG = {"compatibility.memcached_protocol": "true",
       "replication.repl_diskless_sync_delay": "0"}


def mc(node):
    return Client(("127.0.0.1", node.mc_port), timeout=10, default_noreply=False)


def pair(server_factory):
    p = server_factory(dict(CFG))
    r = server_factory(dict(CFG))
    pm = mc(p)
    for i in range(6):  # the primary's version counter runs ahead of the replica's
        assert pm.set("changed", b"v%d" % i)
    assert pm.set("unchanged", b"u")
    r.redis().execute_command("REPLICAOF", "127.0.0.1", p.port)
    wait_link_up(r.redis())
    wait_caught_up(p.redis(), r.redis())
    return p, r, pm, mc(r)


def change_until_collision(p, r, pm, rm, token, key="changed", limit=40):
    """Writes `key` on the primary until the replica's own CAS unique for it equals
    `token` (which happens without epochs) or `limit` writes went by; the last value."""
    last = None
    for i in range(limit):
        last = b"w%d" % i
        assert pm.set(key, last)
        wait_caught_up(p.redis(), r.redis())
        value, rtok = rm.gets(key)
        assert value == last
        if rtok == token:
            break
    return last


@pytest.mark.parametrize("how", ["replicaof-no-one", "failover"])
def test_stale_cas_token_never_stores_after_failover(server_factory, how):
    p, r, pm, rm = pair(server_factory)
    value, token = pm.gets("changed")
    assert value == b"v5"
    uvalue, utoken = pm.gets("unchanged")
    assert uvalue == b"u"
    last = change_until_collision(p, r, pm, rm, token)
    if how == "replicaof-no-one":
        r.redis().execute_command("REPLICAOF", "NO", "ONE")
    else:
        assert p.redis().execute_command("FAILOVER", "TO", "127.0.0.1", r.port,
                                         "TIMEOUT", 10000) == b"OK"
        wait_for(lambda: info(r.redis())["role"] == "master" and
                 info(p.redis()).get("master_link_status") == "up", 20, "roles swapped")
    assert info(r.redis())["role"] == "master"
    # The item changed after the gets: the old token must not store.
    assert rm.cas("changed", b"stale", token) is False
    assert rm.get("changed") == last
    # Unchanged item: its old token fails too (EXISTS), the value stays.
    assert rm.cas("unchanged", b"stale", utoken) is False
    assert rm.get("unchanged") == b"u"
    # Tokens read on the promoted node work as usual.
    for key in ("changed", "unchanged"):
        _, fresh = rm.gets(key)
        assert rm.cas(key, b"new", fresh) is True
        assert rm.cas(key, b"again", fresh) is False
        assert rm.get(key) == b"new"


def test_sibling_moves_past_the_promoted_replicas_epoch(server_factory):
    """Two replicas of one primary share an epoch. When one is promoted, the other
    continues from it and reads its epoch at the start of the new history: it re-versions
    its keys past it, so a token from the promoted one never stores on it after a second
    failover. Replica A attached before the primary wrote `k` six times, replica B after,
    so B's counter trails A's as above."""
    p = server_factory(dict(CFG))
    a = server_factory(dict(CFG))
    b = server_factory(dict(CFG))
    a.redis().execute_command("REPLICAOF", "127.0.0.1", p.port)
    wait_link_up(a.redis())
    pm = mc(p)
    for i in range(6):
        assert pm.set("k", b"v%d" % i)
    wait_caught_up(p.redis(), a.redis())
    b.redis().execute_command("REPLICAOF", "127.0.0.1", p.port)
    wait_link_up(b.redis())
    wait_caught_up(p.redis(), b.redis())
    a.redis().execute_command("REPLICAOF", "NO", "ONE")
    b.redis().execute_command("REPLICAOF", "127.0.0.1", a.port)
    wait_link_up(b.redis())
    wait_caught_up(a.redis(), b.redis())
    assert int(info(a.redis(), "stats")["sync_partial_ok"]) >= 1
    am, bm = mc(a), mc(b)
    value, token = am.gets("k")
    assert value == b"v5"
    last = change_until_collision(a, b, am, bm, token, key="k")
    b.redis().execute_command("REPLICAOF", "NO", "ONE")
    assert bm.cas("k", b"stale", token) is False
    assert bm.get("k") == last
