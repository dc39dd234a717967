"""DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE], side by side with redis-server 7.0 (Redis'
debug.c): NOSAVE loads the snapshot on disk without writing one first, NOFLUSH keeps the
dataset and loads the file on top of it, MERGE lets the file's keys replace those with
the same name. Each scenario's replies and final dataset are compared."""
import pytest
import redis

from encoding_reload import debug_redis


@pytest.fixture
def redis_debug():
    """redis-server 7.0 with DEBUG allowed (the plain fixture's default refuses it)."""
    with debug_redis() as r:
        yield r.connection_pool.connection_kwargs["port"]


def run(port, steps):
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    r.flushall()
    out = []
    for cmd in steps:
        try:
            out.append(r.execute_command(*cmd))
        except redis.exceptions.ResponseError as e:
            out.append(f"ERR:{e}")
    keys = sorted(r.keys("*"))
    out.append({k: r.get(k) for k in keys})
    r.close()
    return out


SCENARIOS = {
    "bad_option": [("DEBUG", "RELOAD", "NOSAVE", "FAST")],
    "bad_option_first": [("SET", "a", "1"), ("DEBUG", "RELOAD", "BOGUS", "NOSAVE")],
    # NOSAVE: what was written after the last save is gone.
    "nosave_loads_the_old_file": [
        ("SET", "a", "1"), ("DEBUG", "RELOAD"), ("SET", "a", "2"), ("SET", "b", "3"),
        ("DEBUG", "RELOAD", "NOSAVE")],
    # NOFLUSH with keys the file does not have: both sets end up loaded.
    "noflush_adds_the_file": [
        ("SET", "a", "1"), ("DEBUG", "RELOAD"), ("DEL", "a"), ("SET", "d", "4"),
        ("DEBUG", "RELOAD", "nosave", "noflush")],
    # MERGE: the file's value replaces the key's current one; other keys stay.
    "noflush_merge_replaces": [
        ("SET", "a", "1"), ("SET", "b", "2"), ("DEBUG", "RELOAD"), ("SET", "a", "10"),
        ("SET", "c", "5"), ("DEL", "b"), ("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE")],
    # MERGE alone: the dataset is flushed first, so it changes nothing.
    "merge_alone": [("SET", "a", "1"), ("DEBUG", "RELOAD", "MERGE"), ("SET", "a", "2"),
                    ("DEBUG", "RELOAD", "merge", "nosave")],
    # Options repeat freely, in any case.
    "repeated_options": [("SET", "a", "1"),
                         ("DEBUG", "RELOAD", "NoSave", "NOSAVE", "noflush", "merge", "MERGE")],
    # Saved, then the same file loaded onto an unchanged dataset with MERGE.
    "save_noflush_merge": [("SET", "a", "1"), ("DEBUG", "RELOAD", "NOFLUSH", "MERGE")],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_debug_reload_options_match_redis(name, server, redis_debug):
    steps = SCENARIOS[name]
    assert run(server.port, steps) == run(redis_debug, steps)


def test_noflush_without_merge_refuses_a_duplicate_key(server):
    """Redis stops the process on a key both in memory and in the file (serverPanic
    "Duplicated key found in RDB file"); Ferrite answers the load error instead and
    keeps serving. The key keeps its value in memory."""
    r = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=10)
    r.set("a", "1")
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    r.set("a", "2")
    with pytest.raises(redis.exceptions.ResponseError, match="^Error trying to load the RDB dump$"):
        r.execute_command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH")
    assert r.get("a") == b"2"
    assert r.ping()


def test_nosave_without_a_file(server, redis_debug):
    """No snapshot on disk: the dataset is flushed and the load fails, as in Redis."""
    steps = [("SET", "a", "1"), ("DEBUG", "RELOAD", "NOSAVE")]
    assert run(server.port, steps) == run(redis_debug, steps)
