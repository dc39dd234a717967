"""The configuration snippets of the migration guide Ferrite grew from ("Migrating from
Memcached": binary protocol support, configuration migration, persistence, replication),
each written to a file as the guide prints it and given to ferrite-host: the server
starts with it and does what the snippet says. The test's own options (ports, folder)
come after the file on the command line and override it, as they would any file."""
import socket
import struct

from conftest import host_binary, wait_port

BINARY_PROTOCOL = """\
# ferrite.toml
[compatibility]
memcached_protocol = true
memcached_port = 11211
"""

CONFIGURATION = """\
# ferrite.toml
[storage]
max_memory = 1073741824 # 1GB

[server]
max_connections = 10000
"""

PERSISTENCE = """\
[persistence]
aof_enabled = true
"""

REPLICATION = """\
[replication]
role = "replica"
master_host = "primary.example.com"
"""


def start_with(server_factory, tmp_path, text, config=None):
    path = tmp_path / "ferrite.toml"
    path.write_text(text)
    s = server_factory(config, start=False)
    own = s.command_line
    s.command_line = lambda: [host_binary(), str(path)] + own()[1:]
    return s.start()


def test_binary_protocol_snippet(server_factory, tmp_path):
    # the file turns the memcached port on; its number comes from the test (11211 may be
    # taken on this machine)
    s = start_with(server_factory, tmp_path, BINARY_PROTOCOL)
    wait_port(s.mc_port, s.proc, log=s.log)
    with socket.create_connection(("127.0.0.1", s.mc_port), timeout=10) as c:
        c.sendall(b"get mykey\r\n")          # the guide's `echo "get mykey" | nc`
        assert c.recv(100) == b"END\r\n"
    with socket.create_connection(("127.0.0.1", s.mc_port), timeout=10) as c:
        key = b"mykey"
        c.sendall(struct.pack(">BBHBBHIIQ", 0x80, 0x01, len(key), 8, 0, 0, 8 + len(key) + 1, 0, 0)
                  + struct.pack(">II", 0, 0) + key + b"v")
        assert c.recv(24)[6:8] == b"\x00\x00"  # a binary-protocol SET: status 0
    assert s.redis().get("mykey") == b"v"


def test_configuration_migration_snippet(server_factory, tmp_path):
    r = start_with(server_factory, tmp_path, CONFIGURATION).redis()
    assert r.config_get("maxmemory") == {"maxmemory": "1073741824"}
    assert r.config_get("maxclients") == {"maxclients": "10000"}


def test_persistence_snippet(server_factory, tmp_path):
    r = start_with(server_factory, tmp_path, PERSISTENCE).redis()
    assert r.config_get("appendonly") == {"appendonly": "yes"}
    assert r.set("k", "v")
    assert r.info("persistence")["aof_enabled"] == 1


def test_replication_snippet(server_factory, tmp_path):
    r = start_with(server_factory, tmp_path, REPLICATION).redis()
    info = r.info("replication")
    assert info["role"] == "slave"
    assert (info["master_host"], info["master_port"]) == ("primary.example.com", 6379)
    assert info["master_link_status"] == "down"   # no such host here: it keeps retrying
