"""The connection I/O path (host/net.cc, host/readiness.*): replies larger than the socket
buffer go out through the EPOLLOUT path intact and in order, a client that stops reading
or leaves mid-reply does not disturb others, and data + FIN in one go gets its reply
before the server closes (as `printf 'PING\\r\\n' | nc` expects)."""
import socket

BIG = bytes(range(256)) * (30 * 4096)  # 30 MiB: far more than a loopback socket buffer


def recv_exactly(sock, n):
    got = bytearray()
    while len(got) < n:
        chunk = sock.recv(min(1 << 20, n - len(got)))
        assert chunk, f"connection closed after {len(got)} of {n} bytes"
        got += chunk
    return bytes(got)


def test_pipelined_replies_larger_than_the_socket_buffer(server):
    r = server.redis(socket_timeout=60)
    r.set("big", BIG)
    one = b"$%d\r\n" % len(BIG) + BIG + b"\r\n"
    s = server.sock()
    s.settimeout(60)
    # Four big replies and a PING queued at once; nothing is read until all are sent, so
    # the server must park the rest and continue on writability.
    s.sendall(b"GET big\r\n" * 4 + b"PING\r\n")
    assert recv_exactly(s, 4 * len(one) + 7) == one * 4 + b"+PONG\r\n"
    s.sendall(b"PING\r\n")
    assert recv_exactly(s, 7) == b"+PONG\r\n"


def test_client_leaving_mid_reply_does_not_disturb_others(server):
    r = server.redis(socket_timeout=60)
    r.set("big", BIG)
    s = server.sock()
    s.sendall(b"GET big\r\n")
    s.recv(1000)
    s.close()
    assert r.ping()
    assert r.strlen("big") == len(BIG)


def _send_then_fin(s, data):
    """Sends a request and half-closes in one go; returns everything until the close."""
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    out = b""
    while chunk := s.recv(100):
        out += chunk
    return out


def test_request_and_fin_together_get_the_reply_then_close(server):
    data = _send_then_fin(server.sock(), b"PING\r\nECHO hi\r\n")
    assert data == b"+PONG\r\n$2\r\nhi\r\n"


def test_memcached_request_and_fin_together(mc_server):
    data = _send_then_fin(mc_server.sock(mc_server.mc_port), b"set k 0 0 1\r\nx\r\nget k\r\n")
    assert data == b"STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n"
