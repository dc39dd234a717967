"""What CONFIG GET lists and CONFIG SET accepts, side by side with redis-server 7.0:
`replicaof` / `slaveof` as Redis' special (immutable) parameter that REPLICAOF changes,
and every parameter a pattern lists settable to its own value, as a Redis client may
assume (Ferrite's own immutable settings answer only when named, as Redis' hidden
ones)."""
import pytest
import redis

# Redis 7.0's immutable parameters and the ones whose value cannot be written back as
# read, which a client setting "everything CONFIG GET * lists" must leave out.
SKIP = {
    "rdbchecksum", "daemonize", "io-threads-do-reads", "tcp-backlog", "always-show-logo",
    "syslog-enabled", "cluster-enabled", "disable-thp", "aclfile", "unixsocket", "pidfile",
    "syslog-ident", "appendfilename", "appenddirname", "supervised", "syslog-facility",
    "databases", "io-threads", "logfile", "unixsocketperm", "replicaof", "slaveof",
    "requirepass", "server_cpulist", "bio_cpulist", "aof_rewrite_cpulist", "bgsave_cpulist",
    "set-proc-title", "cluster-config-file", "cluster-port", "oom-score-adj",
    "oom-score-adj-values", "enable-protected-configs", "enable-debug-command",
    "enable-module-command", "dbfilename", "dir", "socket-mark-id",
    "tls-prefer-server-ciphers", "tls-session-cache-timeout", "tls-session-cache-size",
    "tls-session-caching", "tls-cert-file", "tls-key-file", "tls-client-cert-file",
    "tls-client-key-file", "tls-dh-params-file", "tls-ca-cert-file", "tls-ca-cert-dir",
    "tls-protocols", "tls-ciphers", "tls-ciphersuites", "tls-port",
}


def client(port):
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, decode_responses=True)


def err(fn):
    try:
        return ("ok", fn())
    except redis.exceptions.ResponseError as e:
        return ("err", str(e))


def test_every_listed_parameter_takes_its_own_value(server):
    r = client(server.port)
    before = {k: v for k, v in r.config_get("*").items() if k not in SKIP}
    refused = {}
    for k, v in before.items():
        try:
            r.execute_command("CONFIG", "SET", k, v)
        except redis.exceptions.ResponseError as e:
            refused[k] = str(e)
    assert refused == {}
    after = {k: v for k, v in r.config_get("*").items() if k not in SKIP}
    assert after == before


def test_own_immutable_settings_answer_when_named(server):
    r = client(server.port)
    listed = r.config_get("*")
    for name in ("shards", "role", "master-host", "memcached-port"):
        assert name not in listed
        got = r.config_get(name)
        assert list(got) == [name]
        assert err(lambda: r.execute_command("CONFIG", "SET", name, got[name])) == (
            "err", f"CONFIG SET failed (possibly related to argument '{name}') - "
                   "can't set immutable config")
    # Redis' own immutable parameters stay listed, as in Redis.
    assert "databases" in listed and "daemonize" in listed


def replicaof_view(port, other_port):
    r = client(port)
    out = [r.config_get("replicaof"), r.config_get("SLAVEOF"),
           sorted(k for k in r.config_get("*of") if k in ("replicaof", "slaveof")),
           err(lambda: r.execute_command("CONFIG", "SET", "replicaof", f"127.0.0.1 {other_port}")),
           err(lambda: r.execute_command("CONFIG", "SET", "slaveof", "no one")),
           err(lambda: r.execute_command("CONFIG", "SET", "maxmemory", "0", "replicaof", "x 1"))]
    r.execute_command("REPLICAOF", "127.0.0.1", other_port)
    out.append(r.config_get("replicaof"))
    out.append(r.config_get("slaveof"))
    r.execute_command("REPLICAOF", "NO", "ONE")
    out.append(r.config_get("replicaof"))
    return out


def test_replicaof_is_a_config_parameter(server, redis_server):
    from conftest import free_port
    unused = free_port()  # nobody listens: the link just keeps trying
    assert replicaof_view(server.port, unused) == replicaof_view(redis_server.port, unused)
