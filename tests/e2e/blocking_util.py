"""Helpers of the blocking-command tests: wait for clients to block, read one reply."""
import time

import redis


def wait_blocked(r, n, timeout=5.0):
    """Until INFO counts at least n blocked clients; AssertionError after `timeout` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if r.info("clients")["blocked_clients"] >= n:
            return
        time.sleep(0.005)
    raise AssertionError(f"{n} clients never blocked")


def read_reply(conn, timeout, pending):
    """One reply on a raw redis.Connection: an error as "ERR:<text>", `pending` when none
    came within `timeout` s."""
    conn._sock.settimeout(timeout)
    try:
        return conn.read_response()
    except redis.exceptions.ResponseError as e:
        return f"ERR:{e}"
    except redis.exceptions.TimeoutError:
        return pending
