"""CLUSTER, READONLY, READWRITE and ASKING on a server without cluster mode, side by side
with redis-server 7.0 started the same way: the "cluster support disabled" error for every
known subcommand, the unknown-subcommand and arity errors, and CLUSTER RESET refused
inside a script (noscript) while CLUSTER INFO reaches the disabled error there. Their
COMMAND INFO flags are compared with the rest in test_command_flags.py."""
from resp_compare import compare, parse_script

SCRIPT = """
CLUSTER INFO
CLUSTER NODES
CLUSTER SLOTS
CLUSTER SHARDS
CLUSTER MYID
CLUSTER KEYSLOT foo
CLUSTER COUNTKEYSINSLOT 1
CLUSTER GETKEYSINSLOT 1 1
CLUSTER RESET
CLUSTER RESET HARD
CLUSTER HELP
cluster info
CLUSTER FOO
CLUSTER INFO extra
CLUSTER KEYSLOT
CLUSTER
READONLY
READWRITE
ASKING
READONLY extra
"""


def test_cluster_commands_answer_as_redis_without_cluster_mode(server, redis_server):
    script = parse_script(SCRIPT) + [
        (["EVAL", "return redis.call('cluster','reset')", "0"], False),
        (["EVAL", "return redis.call('cluster','info')", "0"], False),
        (["EVAL", "return redis.pcall('readonly')", "0"], False),
        (["MULTI"], False), (["CLUSTER", "INFO"], False), (["EXEC"], False),
    ]
    bad = compare(server.port, redis_server.port, script)
    assert not bad, "\n".join(bad)

