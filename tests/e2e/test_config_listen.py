"""CONFIG SET port and bind at run time, side by side with redis-server 7.0: the
listening socket moves (connections already open stay), a port or address that cannot
be bound answers Redis' error, and the rollback leaves the old socket listening."""
import socket

from conftest import free_port
from resp_compare import Conn


def can_connect(port, host="127.0.0.1"):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


def busy_port():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, s.getsockname()[1]


def exercise(port):
    """The same steps on either server; returns what a client sees at each step."""
    out = []
    c = Conn(port)
    holder, taken = busy_port()
    try:
        # A port in use: Redis' apply error, everything in the call rolled back.
        out.append(c.call("CONFIG", "SET", "maxmemory", "10000001", "port", str(taken)))
        out.append(c.call("CONFIG", "GET", "maxmemory"))
        out.append(can_connect(port))
    finally:
        holder.close()
    # An address that cannot be bound (TEST-NET-1 is on no interface here).
    out.append(c.call("CONFIG", "SET", "bind", "192.0.2.1"))
    out.append(can_connect(port))
    out.append(c.call("CONFIG", "GET", "bind"))
    # Setting the current values changes nothing.
    out.append(c.call("CONFIG", "SET", "port", str(port), "bind", "127.0.0.1"))
    out.append(can_connect(port))
    # A move: the new port listens, the old one does not, this connection stays.
    new = free_port()
    out.append(c.call("CONFIG", "SET", "port", str(new)))
    out.append(can_connect(new))
    out.append(can_connect(port))
    out.append(c.call("PING"))
    d = Conn(new)
    out.append(d.call("CONFIG", "GET", "port") == ("*", [("$", b"port"), ("$", str(new).encode())]))
    # Optional addresses: "-" skips one that cannot be bound.
    out.append(d.call("CONFIG", "SET", "bind", "127.0.0.1 -192.0.2.1"))
    out.append(can_connect(new))
    out.append(d.call("CONFIG", "SET", "port", str(port), "bind", "127.0.0.1"))
    out.append(can_connect(port))
    out.append(can_connect(new))
    c.close()
    d.close()
    return out


def test_config_set_port_and_bind_match_redis(server, redis_server):
    ours = exercise(server.port)
    theirs = exercise(redis_server.port)
    assert ours == theirs
    assert ours[0] == ("-", b"ERR CONFIG SET failed (possibly related to argument 'port') - "
                            b"Unable to listen on this port. Check server logs.")
    assert ours[3] == ("-", b"ERR CONFIG SET failed (possibly related to argument 'bind') - "
                            b"Failed to bind to specified addresses.")
    assert ours[2] and ours[4] and ours[7] and ours[9] and not ours[10]
