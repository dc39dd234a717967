"""CLIENT UNBLOCK side by side with redis-server 7.0: a client blocked on keys is
answered as on its timeout, or with -UNBLOCKED (then its command counts as failed and
the error under UNBLOCKED); anything else answers 0."""
import re
import time

from resp_compare import Conn


def blocked(admin, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        info = admin.call("INFO", "clients")[1].decode()
        if "blocked_clients:1\r\n" in info:
            return
        time.sleep(0.02)
    raise AssertionError("the client did not block")


def scenario(port):
    admin, b = Conn(port), Conn(port)
    out = []
    admin.call("CONFIG", "RESETSTAT")
    bid = b.call("CLIENT", "ID")[1]
    out.append(admin.call("CLIENT", "UNBLOCK", bid))          # not blocked: 0
    out.append(admin.call("CLIENT", "UNBLOCK", bid, "MAYBE"))
    out.append(admin.call("CLIENT", "UNBLOCK", "x"))
    out.append(admin.call("CLIENT", "UNBLOCK", "999999"))
    for reason, cmd in (("TIMEOUT", ["BLPOP", "l", "0"]), ("ERROR", ["BLPOP", "l", "0"]),
                        (None, ["BZPOPMIN", "z", "0"]), ("TIMEOUT", ["XREAD", "BLOCK", "0",
                                                                     "STREAMS", "s", "$"])):
        b.s.sendall(("*%d\r\n" % len(cmd) + "".join(
            "$%d\r\n%s\r\n" % (len(a), a) for a in cmd)).encode())
        blocked(admin)
        args = ["CLIENT", "UNBLOCK", bid] + ([reason] if reason else [])
        out.append(admin.call(*args))
        out.append(b.read())
    out.append(b.call("PING"))
    info = admin.call("INFO", "errorstats")[1].decode()
    out.append(sorted(re.findall(r"errorstat_\S+", info)))
    stats = admin.call("INFO", "commandstats")[1].decode()
    out.append(sorted(re.findall(r"cmdstat_(blpop|bzpopmin|xread):calls=(\d+),.*?"
                                 r"rejected_calls=(\d+),failed_calls=(\d+)", stats)))
    admin.close()
    b.close()
    return out


def test_client_unblock_matches_redis(server, redis_server):
    assert scenario(server.port) == scenario(redis_server.port)
