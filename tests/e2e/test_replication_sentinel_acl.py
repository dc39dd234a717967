"""redis-sentinel 7.0 monitoring Ferrite as a restricted ACL user.

The sentinels authenticate with `sentinel auth-user` / `auth-pass` as the user Redis'
documentation gives Sentinel (ACL page, "ACL rules for Sentinel and Replicas"): all
channels, MULTI/EXEC, SLAVEOF, PING, SUBSCRIBE/PUBLISH (the hello channel the sentinels
find each other on), CONFIG REWRITE, ROLE, INFO, CLIENT SETNAME/KILL, SCRIPT KILL, and
nothing else. The default user has a password the sentinels do not know; the replicas
replicate as Redis' documented replication user (masteruser/masterauth). 1 primary,
1 replica, 3 sentinels: the sentinels discover the replica and each other, fail over when
the primary is killed, and make the restarted old primary a replica of the new one, all
without one ACL denial logged."""
import redis
import redis.sentinel

from repl_util import info, wait_for, wait_link_up
from sentinel_util import MASTER, Sentinel

ADMIN_PW = "adminpw"
SENTINEL_RULES = ("sentinel-user on >spw allchannels +multi +slaveof +ping +exec +subscribe "
                  "+config|rewrite +role +publish +info +client|setname +client|kill "
                  "+script|kill")
USERS = ",".join([f"default on >{ADMIN_PW} ~* &* +@all", SENTINEL_RULES,
                  "replica-user on >rpw +psync +replconf +ping"])
CONFIG = {"security.users": USERS, "replication.masteruser": "replica-user",
          "replication.masterauth": "rpw", "replication.repl_diskless_sync_delay": "0"}


def admin(node):
    return node.redis(password=ADMIN_PW)


def denials(node):
    return admin(node).execute_command("ACL", "LOG")


def test_sentinel_as_documented_restricted_user(server_factory):
    primary, replica = server_factory(dict(CONFIG)), server_factory(dict(CONFIG))
    nodes = {primary.port: primary, replica.port: replica}
    admin(primary).set("k0", "v0")
    admin(replica).execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_link_up(admin(replica))
    # The sentinel user may do only what it was given (the rules are in force).
    as_sentinel = primary.redis(username="sentinel-user", password="spw")
    assert as_sentinel.ping()
    try:
        as_sentinel.get("k0")
        raise AssertionError("GET allowed to the sentinel user")
    except redis.exceptions.NoPermissionError:
        pass
    admin(primary).execute_command("ACL", "LOG", "RESET")
    auth = [f"sentinel auth-user {MASTER} sentinel-user", f"sentinel auth-pass {MASTER} spw"]
    ss = []
    try:
        for _ in range(3):
            # down-after 2 s, not the helper's 1 s: with 1 s, the ping period, one reply a
            # few ms late on a loaded machine marked the just-promoted primary down and
            # started a second failover (seen once in CI: -sdown 75 ms later).
            ss.append(Sentinel(primary.port, quorum=2, down_after_ms=2000,
                               extra_lines=auth).start())
        wait_for(lambda: all(
            len(s.redis().execute_command("SENTINEL", "REPLICAS", MASTER)) == 1 and
            len(s.redis().execute_command("SENTINEL", "SENTINELS", MASTER)) == 2
            for s in ss), 30, "sentinels see the replica and each other")
        state = dict(zip(*[iter(ss[0].redis().execute_command("SENTINEL", "MASTER", MASTER))] * 2))
        assert b"s_down" not in state[b"flags"] and b"disconnected" not in state[b"flags"], state
        sentinel = redis.sentinel.Sentinel([("127.0.0.1", s.port) for s in ss], socket_timeout=2)
        assert denials(primary) == [], denials(primary)  # monitoring needed nothing more
        primary.kill9()
        wait_for(lambda: sentinel.discover_master(MASTER)[1] == replica.port, 40, "failover")
        wait_for(lambda: info(admin(replica))["role"] == "master", 20, "replica promoted")
        admin(replica).set("k1", "v1")
        # The old primary comes back; the sentinels make it a replica of the new one.
        primary.start()
        wait_for(lambda: info(admin(primary)).get("master_port") == str(replica.port), 60,
                 "old primary rejoins as a replica")
        wait_link_up(admin(primary), 30)
        wait_for(lambda: admin(primary).get("k1") == b"v1", 20, "the new primary's write")
        log = "".join(s.log_text() for s in ss)
        assert "+switch-master" in log, log[-3000:]
        for port, node in nodes.items():
            assert denials(node) == [], (port, denials(node))
    except AssertionError as e:
        tails = "\n".join(f"--- sentinel {s.port}\n" + s.log_text()[-3000:] for s in ss)
        raise AssertionError(f"{e}\n{tails}") from None
    finally:
        for s in ss:
            s.cleanup()
