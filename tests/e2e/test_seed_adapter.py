"""The RESP-side Python examples of seed/migrating-from-memcached.md, run as written.

Every test runs twice: against ferrite-host and against the real redis-server 7.0
(fixture redis_server), so a claim that an example is wrong is proved on Redis itself,
not only on Ferrite. Where an example is wrong against any Redis, the test asserts
that it fails as written and then checks the nearest correct form; the comment names
the flaw.
"""
import pickle
import struct
import warnings

import pytest
import redis


# --- verbatim from the seed ("Python Adapter"); only the host/port of the instance differ
class MemcachedAdapter:
    """Ferrite adapter with Memcached-compatible API"""

    def __init__(self, host='localhost', port=6379):
        self.client = redis.Redis(host=host, port=port)

    def get(self, key):
        value = self.client.get(key)
        return value.decode() if value else None

    def get_multi(self, keys):
        values = self.client.mget(keys)
        return {k: v.decode() if v else None
                for k, v in zip(keys, values)}

    def set(self, key, value, time=0):
        if time > 0:
            return self.client.setex(key, time, value)
        return self.client.set(key, value)

    def add(self, key, value, time=0):
        if time > 0:
            return self.client.set(key, value, ex=time, nx=True)
        return self.client.setnx(key, value)

    def replace(self, key, value, time=0):
        if time > 0:
            return self.client.set(key, value, ex=time, xx=True)
        return self.client.set(key, value, xx=True)

    def delete(self, key):
        return self.client.delete(key)

    def incr(self, key, delta=1):
        return self.client.incrby(key, delta)

    def decr(self, key, delta=1):
        return self.client.decrby(key, delta)

    def touch(self, key, time):
        return self.client.expire(key, time)

    def flush_all(self):
        return self.client.flushall()

    def stats(self):
        return self.client.info()


# --- verbatim from the seed ("Flag Handling")
class FlagAwareAdapter(MemcachedAdapter):
    """Adapter that preserves Memcached-style flags"""

    FLAG_PICKLE = 1
    FLAG_INTEGER = 2
    FLAG_LONG = 4

    def set(self, key, value, time=0):
        # Store value with flag prefix
        if isinstance(value, int):
            data = struct.pack('>I', self.FLAG_INTEGER) + str(value).encode()
        elif isinstance(value, bytes):
            data = struct.pack('>I', 0) + value
        else:
            data = struct.pack('>I', self.FLAG_PICKLE) + pickle.dumps(value)

        return super().set(key, data, time)

    def get(self, key):
        data = super().get(key)
        if not data:
            return None

        flags = struct.unpack('>I', data[:4])[0]
        value = data[4:]

        if flags == self.FLAG_INTEGER:
            return int(value)
        elif flags == self.FLAG_PICKLE:
            return pickle.loads(value)
        return value


# --- verbatim from the seed ("Functional Testing"); it reads a global named `adapter`
def test_compatibility():
    # Test basic operations
    adapter.set("test_key", "test_value", time=60)
    assert adapter.get("test_key") == "test_value"

    # Test increment
    adapter.set("counter", "0")
    assert adapter.incr("counter") == 1
    assert adapter.decr("counter") == 0

    # Test add (only if not exists)
    assert adapter.add("new_key", "value") == True
    assert adapter.add("new_key", "other") == False

    # Test replace (only if exists)
    assert adapter.replace("new_key", "updated") == True
    assert adapter.replace("missing", "value") == False

    print("All tests passed!")


test_compatibility.__test__ = False  # run below against both servers, not on its own
adapter = None


# ---------------------------------------------------------------------------------------

@pytest.fixture(params=["ferrite", "redis"])
def port(request):
    if request.param == "ferrite":
        return request.getfixturevalue("server").port
    return request.getfixturevalue("redis_server").port


def test_seed_functional_test_fails_only_at_replace_missing(port):
    """Flaw: `replace("missing", ...) == False` cannot hold on any Redis. SET ... XX on a
    missing key replies a null bulk, which redis-py returns as None, and None != False.
    Every assertion before it passes as written."""
    global adapter
    adapter = MemcachedAdapter('127.0.0.1', port)
    adapter.flush_all()
    with pytest.raises(AssertionError) as failure:
        test_compatibility()
    assert failure.traceback[-1].statement.lines[0].strip() == \
        'assert adapter.replace("missing", "value") == False'
    # The nearest correct form of that last assertion:
    assert adapter.replace("missing", "value") is None
    assert adapter.get("missing") is None
    assert adapter.get("new_key") == "updated"


def test_adapter_methods_as_written(port):
    a = MemcachedAdapter('127.0.0.1', port)
    assert a.flush_all() is True
    assert a.set("k1", "v1") is True
    assert a.set("k2", "v2", time=100) is True
    assert a.client.ttl("k2") in (99, 100)
    assert a.get_multi(["k1", "k2", "nope"]) == {"k1": "v1", "k2": "v2", "nope": None}
    assert a.add("k3", "v3", time=100) is True
    assert a.add("k3", "v3", time=100) is None  # SET NX EX on a present key: null
    assert a.replace("k3", "v4", time=50) is True
    assert a.client.ttl("k3") in (49, 50)
    assert a.get("k3") == "v4"
    assert a.touch("k1", 100) is True
    assert a.touch("nope", 100) is False
    assert a.incr("n", 5) == 5
    assert a.decr("n", 2) == 3
    assert a.delete("k1") == 1
    assert a.delete("k1") == 0
    assert isinstance(a.stats(), dict)


def test_adapter_get_treats_empty_value_as_missing(port):
    """Flaw (minor): `value.decode() if value else None` turns a stored empty string into
    None, where memcached returns an empty value. Correct form: test `is not None`."""
    a = MemcachedAdapter('127.0.0.1', port)
    a.flush_all()
    a.set("empty", "")
    assert a.get("empty") is None                    # as written
    raw = a.client.get("empty")
    assert (raw.decode() if raw is not None else None) == ""  # nearest correct form


class FixedFlagAwareAdapter(FlagAwareAdapter):
    """The seed's get() with the raw bytes from the server instead of the adapter's
    already-decoded str."""

    def get(self, key):
        data = self.client.get(key)
        if not data:
            return None
        flags = struct.unpack('>I', data[:4])[0]
        value = data[4:]
        if flags == self.FLAG_INTEGER:
            return int(value)
        elif flags == self.FLAG_PICKLE:
            return pickle.loads(value)
        return value


def test_flag_aware_adapter_get_is_broken_as_written(port):
    """Flaw: FlagAwareAdapter.get() calls super().get(), which already decoded the bytes
    to str, then struct.unpack()s that str (TypeError); values that are not valid UTF-8
    (a pickle, arbitrary bytes) fail even earlier, in decode()."""
    a = FlagAwareAdapter('127.0.0.1', port)
    a.flush_all()
    assert a.set("i", 42) is True
    with pytest.raises(TypeError):
        a.get("i")
    assert a.set("b", b"\xff\xfe") is True
    with pytest.raises(UnicodeDecodeError):
        a.get("b")
    assert a.set("o", {"x": 1}) is True
    with pytest.raises((UnicodeDecodeError, TypeError)):
        a.get("o")


def test_flag_aware_adapter_fixed(port):
    a = FixedFlagAwareAdapter('127.0.0.1', port)
    a.flush_all()
    assert a.set("i", 42) is True
    assert a.get("i") == 42
    assert a.set("b", b"\xff\xfe") is True
    assert a.get("b") == b"\xff\xfe"
    assert a.set("o", {"x": [1, 2]}, time=100) is True
    assert a.get("o") == {"x": [1, 2]}
    assert a.client.ttl("o") in (99, 100)
    assert a.client.get("i") == b"\x00\x00\x00\x0242"  # the stored layout
    assert a.get("missing") is None


def test_seed_cas_example_does_not_watch(port):
    """Flaw in "Ferrite approach with WATCH": it calls ferrite.watch() on the client, which
    in redis-py only emits a DeprecationWarning and sends nothing, so a concurrent write
    between the GET and EXEC is silently overwritten. pipe.watch() is the correct form."""
    ferrite = redis.Redis(host='127.0.0.1', port=port)
    other = redis.Redis(host='127.0.0.1', port=port)
    ferrite.flushall()
    ferrite.set("counter", "10")

    # As written (with a concurrent write injected between GET and EXEC):
    pipe = ferrite.pipeline()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ferrite.watch("counter")
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    value = int(ferrite.get("counter") or 0)
    other.set("counter", "100")
    pipe.multi()
    pipe.set("counter", value + 1)
    pipe.execute()  # no WatchError: the concurrent write is lost
    pipe.reset()
    assert ferrite.get("counter") == b"11"

    # Correct form: WATCH on the pipeline's connection aborts EXEC.
    ferrite.set("counter", "10")
    pipe = ferrite.pipeline()
    attempts = 0
    while True:
        attempts += 1
        try:
            pipe.watch("counter")
            value = int(pipe.get("counter") or 0)
            if attempts == 1:
                other.set("counter", "100")
            pipe.multi()
            pipe.set("counter", value + 1)
            pipe.execute()
            break
        except redis.WatchError:
            assert attempts < 5
            continue
        finally:
            pipe.reset()
    assert attempts == 2
    assert ferrite.get("counter") == b"101"
