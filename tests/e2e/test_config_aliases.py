"""Redis 7.0's legacy config names (src/config.c: configs with an alias) in CONFIG GET/SET,
side by side with redis-server, and in ferrite.toml's [modules.<plugin>] options."""
import subprocess

import redis

from conftest import host_binary
from resp_compare import compare, parse_script

SCRIPT = """
CONFIG SET hash-max-ziplist-entries 100
CONFIG GET hash-max-ziplist-entries
CONFIG GET hash-max-listpack-entries
CONFIG SET hash-max-listpack-value 70
CONFIG GET hash-max-ziplist-value
CONFIG SET zset-max-ziplist-entries 99
CONFIG GET zset-max-listpack-entries
CONFIG SET zset-max-ziplist-value 33
CONFIG GET zset-max-listpack-value
CONFIG SET list-max-ziplist-size -3
CONFIG GET list-max-listpack-size
CONFIG GET LIST-MAX-ZIPLIST-SIZE
CONFIG SET lua-time-limit 4000
CONFIG GET busy-reply-threshold
CONFIG GET lua-time-limit
CONFIG SET slave-read-only no
CONFIG GET replica-read-only
CONFIG GET slave-read-only
CONFIG SET list-compress-depth 2
CONFIG GET list-compress-depth
CONFIG SET set-max-intset-entries 100
CONFIG GET set-max-intset-entries
CONFIG SET hash-max-ziplist-entries notanumber
CONFIG GET loglevel
CONFIG SET loglevel warning
CONFIG GET loglevel
CONFIG SET loglevel debug
CONFIG GET loglevel
CONFIG SET loglevel notice
CONFIG GET loglevel
~ CONFIG GET *ziplist*
~ CONFIG GET hash-max-*
~ CONFIG GET *-read-only
~ CONFIG GET busy-*
"""


def test_legacy_names_behave_as_in_redis(server, redis_server):
    bad = compare(server.port, redis_server.port, parse_script(SCRIPT))
    assert not bad, "\n".join(bad)


def test_legacy_names_in_module_options(server_factory, tmp_path):
    cfg = tmp_path / "ferrite.toml"
    cfg.write_text("[modules.hashes]\nhash_max_ziplist_entries = 300\n"
                   "[modules.zsets]\n\"zset-max-ziplist-value\" = 20\n"
                   "[modules.lists]\nlist_max_ziplist_size = -4\n")
    s = server_factory(args=["--config", str(cfg),
                             "--modules.hashes.hash-max-ziplist-value", "90"])
    r = s.redis()
    assert r.config_get("hash-max-listpack-entries") == {"hash-max-listpack-entries": "300"}
    assert r.config_get("hash-max-listpack-value") == {"hash-max-listpack-value": "90"}
    assert r.config_get("zset-max-listpack-value") == {"zset-max-listpack-value": "20"}
    assert r.config_get("list-max-listpack-size") == {"list-max-listpack-size": "-4"}


def test_both_names_of_one_option_is_an_error(tmp_path):
    cfg = tmp_path / "ferrite.toml"
    cfg.write_text("[modules.hashes]\nhash_max_ziplist_entries = 300\n"
                   "hash_max_listpack_entries = 200\n")
    out = subprocess.run([host_binary(), "--config", str(cfg), "--port", "0"],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode != 0
    assert "hash_max_ziplist_entries" in out.stderr + out.stdout


def test_hidden_config_answers_only_when_named(server, redis_server):
    # Redis' HIDDEN_CONFIG: key-load-delay and rdb-key-save-delay are left out of a
    # pattern's answer.
    for port in (server.port, redis_server.port):
        r = redis.Redis(port=port)
        assert "key-load-delay" not in r.config_get("*")
        assert "key-load-delay" not in r.config_get("key-*")
        assert r.config_get("key-load-delay") == {"key-load-delay": "0"}
        assert "rdb-key-save-delay" not in r.config_get("*")
        assert r.config_get("rdb-key-save-delay") == {"rdb-key-save-delay": "0"}
