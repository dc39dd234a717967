"""Certificates for the TLS tests, made at test time with the `openssl` CLI: a CA, a
server certificate for 127.0.0.1/localhost, a client certificate, an expired client
certificate, and a second CA with a client certificate of its own (the wrong CA)."""
import os
import socket
import ssl
import subprocess
import tempfile


def _run(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Certs:
    def __init__(self, d):
        self.dir = d

    def path(self, name):
        return os.path.join(self.dir, name)

    def server_config(self, extra=None):
        """TOML-address settings of a ferrite-host serving TLS with these files."""
        cfg = {"tls.cert_file": self.path("server.crt"), "tls.key_file": self.path("server.key"),
               "tls.ca_cert_file": self.path("ca.crt")}
        cfg.update(extra or {})
        return cfg

    def redis_args(self):
        """The same settings for redis-server."""
        return ["--tls-cert-file", self.path("server.crt"), "--tls-key-file",
                self.path("server.key"), "--tls-ca-cert-file", self.path("ca.crt")]

    def client_context(self, cert="client", ca="ca"):
        """A Python client context trusting `ca`, presenting `cert` (None: no cert)."""
        ctx = ssl.create_default_context(cafile=self.path(f"{ca}.crt"))
        ctx.check_hostname = False
        if cert:
            ctx.load_cert_chain(self.path(f"{cert}.crt"), self.path(f"{cert}.key"))
        return ctx

    def connect(self, port, cert="client", ca="ca", timeout=10):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        return self.client_context(cert, ca).wrap_socket(raw)


def _issue(d, name, ca, cn, days="2", ext=None):
    _run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
         "-subj", f"/CN={cn}", cwd=d)
    args = ["x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.crt", "-days", days]
    if ext:
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(ext)
        args += ["-extfile", f"{name}.ext"]
    _run(*args, cwd=d)


def make_certs(d=None):
    d = d or tempfile.mkdtemp(prefix="ferrite-tls-")
    for ca in ("ca", "otherca"):
        _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out",
             f"{ca}.crt", "-days", "2", "-subj", f"/CN=Ferrite test {ca}", cwd=d)
    san = "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
    _issue(d, "server", "ca", "localhost", ext=san)
    _issue(d, "server2", "otherca", "localhost", ext=san)  # the reloaded certificate
    _issue(d, "client", "ca", "client")
    _issue(d, "expired", "ca", "expired-client", days="-1")  # notAfter in the past
    _issue(d, "wrongca", "otherca", "wrong-ca-client")
    return Certs(d)
