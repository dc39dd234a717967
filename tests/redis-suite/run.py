#!/usr/bin/python3
"""Run units of Redis' own TCL test suite against ferrite-host (or, for reference, against
redis-server) and print per-unit pass/fail counts.

    tests/redis-suite/run.py /path/to/redis-7.0.15                # the default units
    tests/redis-suite/run.py /path/to/redis-7.0.15 unit/type/list unit/expire
    tests/redis-suite/run.py /path/to/redis-7.0.15 --peer         # same units on redis-server

The Redis tree is copied into a private work folder first (the suite writes tests/tmp), so
several runs can share one extracted tree. Each unit runs in external-server mode
(`--host/--port`, as Redis' own "External Server Tests" CI job does) under a timeout, on a
freshly started server: the figures of one unit never depend on what an earlier unit left
behind (config changes, keys, a crash). `--reuse-server` keeps one server for all units and
starts a new one only when a unit killed it.

Flags passed to the suite and why:
  --durable    a TCL exception inside a test (e.g. an unknown command) fails that test
               instead of aborting the whole unit, so every test gets a verdict;
  --tags -needs:repl ...  tests that need a capability an external Ferrite cannot offer
               (see DENY_TAGS); `external:skip` tests are skipped by the suite itself.
Counts: "ok" and "err" are the suite's own [ok] / [err] verdicts; "ign" the tests it did
not run (tags, external:skip); a unit that timed out or lost its server is marked so and
counts only the verdicts printed before that.
"""
import argparse
import os
import random
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DEFAULT_UNITS = [
    "unit/type/string", "unit/type/incr", "unit/type/list", "unit/type/list-3",
    "unit/type/hash", "unit/type/set", "unit/type/zset",
    "unit/expire", "unit/keyspace", "unit/scan", "unit/protocol", "unit/quit",
    "unit/info-command", "unit/multi", "unit/pubsub", "unit/scripting", "unit/functions",
    "unit/introspection", "unit/introspection-2", "unit/other", "unit/info",
    "unit/bitops", "unit/bitfield", "unit/hyperloglog", "unit/geo", "unit/sort", "unit/dump",
]

# Tags denied on every run, each naming a capability of the whole server that Ferrite
# lacks (none today: `needs:repl` tests attach to the replication stream with SYNC,
# which Ferrite serves). --deny-tag adds to it.
DENY_TAGS = []

VERDICT = re.compile(r"^\[(ok|err|exception|skip|ignore)\]: (.*)$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TLS_CONTEXT = None  # set by --tls: the client side of every ping


def ping(port, timeout=1.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
            s = TLS_CONTEXT.wrap_socket(raw) if TLS_CONTEXT else raw
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except (OSError, ssl.SSLError):
        return False


def make_certs(tls_dir):
    """What the suite's --tls mode reads from tests/tls: a CA, and a server and a client
    certificate signed by it (made with the openssl command, as Redis' own script does)."""
    os.makedirs(tls_dir, exist_ok=True)

    def run(*cmd):
        subprocess.run(cmd, cwd=tls_dir, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)
    run("openssl", "req", "-x509", "-new", "-nodes", "-sha256", "-newkey", "rsa:2048",
        "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj", "/O=Ferrite suite/CN=CA")
    for name in ("redis", "client", "server"):
        run("openssl", "req", "-new", "-nodes", "-sha256", "-newkey", "rsa:2048",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/O=Ferrite suite/CN=" + name)
        run("openssl", "x509", "-req", "-sha256", "-in", name + ".csr", "-CA", "ca.crt",
            "-CAkey", "ca.key", "-CAcreateserial", "-days", "30", "-out", name + ".crt")


class Server:
    """One server process on a free loopback port, logging into `log`."""

    def __init__(self, args, workdir):
        self.args, self.dir = args, workdir
        self.proc = None
        self.port = 0
        self.log = os.path.join(workdir, "server.log")
        self.starts = 0

    def tls_args(self, ferrite):
        """--tls: the suite's port is the TLS port (the plain one is closed), with the
        certificates the suite's client presents checked against the same CA."""
        if not self.args.tls:
            return []
        d = self.args.tls_dir
        names = ["tls.port", "tls.cert_file", "tls.key_file", "tls.ca_cert_file"] if ferrite \
            else ["tls-port", "tls-cert-file", "tls-key-file", "tls-ca-cert-file"]
        values = [str(self.port), os.path.join(d, "redis.crt"), os.path.join(d, "redis.key"),
                  os.path.join(d, "ca.crt")]
        out = ["--port", "0"]
        for n, v in zip(names, values):
            out += ["--" + n, v]
        return out

    def command_line(self):
        if self.args.peer:
            return [self.args.peer_binary, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", self.dir,
                    "--enable-debug-command", "yes", "--enable-protected-configs", "yes",
                    "--enable-module-command", "yes"] + self.tls_args(False) + self.args.server_arg
        # The suite expects Redis' defaults: 16 databases, no snapshots on its own
        # schedule (it calls SAVE/BGSAVE itself), DEBUG available (always, in Ferrite).
        # Later options win, so --tls's "--port 0" closes the plain port.
        return [self.args.host_binary, "--bind", "127.0.0.1", "--port", str(self.port),
                "--persistence.dir", self.dir, "--persistence.save", "",
                "--storage.databases", "16",
                "--server.threads", str(self.args.threads)] + self.tls_args(True) + \
            self.args.server_arg

    def start(self):
        self.port = free_port()
        self.starts += 1
        logf = open(self.log, "ab")
        logf.write(f"\n==== start {self.starts}: {' '.join(self.command_line())}\n".encode())
        logf.flush()
        self.proc = subprocess.Popen(self.command_line(), stdout=logf, stderr=subprocess.STDOUT,
                                     cwd=self.dir, stdin=subprocess.DEVNULL)
        logf.close()
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log}")
            if ping(self.port, 0.2):
                return
            time.sleep(0.05)
        raise RuntimeError(f"server did not answer PING in 20 s; see {self.log}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None and ping(self.port, 5.0)

    def exit_code(self):
        return None if self.proc is None else self.proc.poll()

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


class UnitResult:
    def __init__(self, unit):
        self.unit = unit
        self.ok = self.err = self.ignored = 0
        self.failed = []          # names of [err] / [exception] tests
        self.status = "done"
        self.seconds = 0.0


def parse(result, line):
    m = VERDICT.match(ANSI.sub("", line).rstrip("\n"))
    if not m:
        return
    kind, text = m.groups()
    if kind == "ok":
        result.ok += 1
    elif kind in ("err", "exception"):
        result.err += 1
        result.failed.append(text.split("\n")[0])
        if kind == "exception":
            result.status = "exception"
    else:
        result.ignored += 1


def run_unit(args, tree, server, unit, log_dir):
    result = UnitResult(unit)
    tags = " ".join("-" + t for t in DENY_TAGS + args.deny_tag) + \
        "".join(" " + t for t in args.allow_tag)
    cmd = ["tclsh", LINE_BUFFERED, "--host", "127.0.0.1", "--port", str(server.port),
           "--single", unit, "--tags", tags, "--durable", "--clients", "1",
           "--timeout", str(args.timeout),
           # The suite's own control socket: a random range, so that runs side by side
           # (other worktrees, --peer) do not collide on the default 21079.
           "--baseport", str(random.randrange(20000, 45000))]
    if not args.slow:
        cmd[cmd.index("--tags") + 1] += " -slow"
    if args.tls:
        cmd.append("--tls")
    for name in args.only:
        cmd += ["--only", name]
    for name in args.skiptest:
        cmd += ["--skiptest", name]
    log_path = os.path.join(log_dir, unit.replace("/", "_") + ".log")
    start = time.time()
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        # Own process group: test_helper starts a second tclsh (the test client), and a
        # time-out must stop both.
        env = dict(os.environ)
        if args.run_external_skip:
            env["FERRITE_SUITE_EXTERNAL_SKIP"] = "1"
        proc = subprocess.Popen(cmd, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        deadline = start + args.timeout
        timed_out = False
        pending = ""
        fd = proc.stdout.fileno()
        while True:
            ready, _, _ = select.select([fd], [], [], 0.5)
            chunk = os.read(fd, 65536).decode(errors="replace") if ready else ""
            if chunk:
                log.write(chunk)
                pending += chunk
                *lines, pending = pending.split("\n")
                for line in lines:
                    parse(result, line)
                    if args.verbose and VERDICT.match(ANSI.sub("", line)):
                        print(f"  {unit}: {ANSI.sub('', line)}", flush=True)
            elif ready or proc.poll() is not None:
                break              # end of output
            if time.time() > deadline:
                timed_out = True
                break
        try:
            os.killpg(proc.pid, signal.SIGKILL)   # the group: leftovers of a finished run too
        except ProcessLookupError:
            pass
        proc.wait()
        proc.stdout.close()
        if pending:
            parse(result, pending)
    result.seconds = time.time() - start
    if timed_out:
        result.status = "timeout"
    if not server.alive():
        code = server.exit_code()
        result.status = f"server died ({code})" if code is not None else "server hung"
    return result


# Tcl buffers stdout fully when it is a pipe: a unit killed at its time-out would lose the
# verdicts it had printed. This wrapper line-buffers stdout, then runs the suite as usual
# (test_helper.tcl starts its test client with [info script], which names the sourced file).
LINE_BUFFERED = "tests/line_buffered_helper.tcl"
LINE_BUFFERED_TEXT = """fconfigure stdout -buffering line
""" + r"""if {[info exists ::env(FERRITE_SUITE_EXTERNAL_SKIP)]} {
    # --run-external-skip: once support/server.tcl has defined tags_acceptable, wrap it
    # so that the tag external:skip no longer skips a test in external mode.
    proc ::ferrite_after_source {cmd code result op} {
        if {![string match *support/server.tcl [lindex $cmd end]]} return
        if {[info procs ::ferrite_tags_acceptable] ne ""} return
        rename ::tags_acceptable ::ferrite_tags_acceptable
        proc ::tags_acceptable {tags err_return} {
            upvar $err_return err
            set i [lsearch -exact $tags external:skip]
            if {$i >= 0} { set tags [lreplace $tags $i $i] }
            return [::ferrite_tags_acceptable $tags err]
        }
    }
    trace add execution source leave ::ferrite_after_source
    # test_helper starts its test clients as `tclsh [info script]`: evaluated here rather
    # than sourced, [info script] names this file, so the clients are wrapped too.
    set ferrite_f [open tests/test_helper.tcl]
    set ferrite_code [read $ferrite_f]
    close $ferrite_f
    eval $ferrite_code
} else {
    source tests/test_helper.tcl
}
"""


def prepare_tree(src, work):
    """Copy the Redis tree (without build products or old tests/tmp) into work/redis."""
    if not os.path.exists(os.path.join(src, "tests", "test_helper.tcl")):
        sys.exit(f"{src}: not a Redis source tree (no tests/test_helper.tcl)")
    dst = os.path.join(work, "redis")
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst, symlinks=True,
                    ignore=shutil.ignore_patterns("*.o", "*.a", "tmp"))
    os.makedirs(os.path.join(dst, "tests", "tmp"), exist_ok=True)
    with open(os.path.join(dst, LINE_BUFFERED), "w") as f:
        f.write(LINE_BUFFERED_TEXT)
    return dst


def print_table(results):
    width = max([len("unit")] + [len(r.unit) for r in results])
    print(f"\n{'unit':<{width}}  {'ok':>4}  {'err':>4}  {'ign':>4}  {'secs':>6}  status")
    for r in results:
        print(f"{r.unit:<{width}}  {r.ok:>4}  {r.err:>4}  {r.ignored:>4}  {r.seconds:>6.1f}  "
              f"{r.status}")
    passed = sum(r.ok for r in results)
    failed = sum(r.err for r in results)
    print(f"\n{passed} passed, {failed} failed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("redis_tree", help="an extracted Redis source tree (e.g. redis-7.0.15)")
    ap.add_argument("units", nargs="*", help="units to run (default: the list in this script)")
    ap.add_argument("--host-binary", default=os.environ.get("FERRITE_HOST") or
                    os.path.join(ROOT, "build", "release", "ferrite-host"))
    ap.add_argument("--peer", action="store_true",
                    help="run against redis-server instead (reference figures)")
    ap.add_argument("--peer-binary", default=shutil.which("redis-server") or "redis-server")
    ap.add_argument("--work", help="work folder (default: a new folder under $TMPDIR)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per unit (default 600)")
    ap.add_argument("--threads", type=int, default=2, help="ferrite-host worker threads")
    ap.add_argument("--slow", action=argparse.BooleanOptionalAction, default=True,
                    help="run tests tagged 'slow' (default yes; Redis' external CI skips them)")
    ap.add_argument("--deny-tag", action="append", default=[], metavar="TAG",
                    help="also skip tests with this tag")
    ap.add_argument("--allow-tag", action="append", default=[], metavar="TAG",
                    help="run only tests with this tag")
    ap.add_argument("--only", action="append", default=[], metavar="TEST",
                    help="run only this test (name, or /regexp), passed to the suite")
    ap.add_argument("--skiptest", action="append", default=[], metavar="TEST",
                    help="skip this test (name, or /regexp), passed to the suite")
    ap.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                    help="extra server command-line argument (repeatable)")
    ap.add_argument("--run-external-skip", action="store_true",
                    help="run tests tagged external:skip too (unit/info is tagged so as a "
                         "whole); those that restart the server or read its log fail")
    ap.add_argument("--reuse-server", action="store_true",
                    help="one server for all units, restarted only when a unit killed it")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every verdict")
    ap.add_argument("--failures", action="store_true", help="list failed tests per unit")
    ap.add_argument("--tls", action="store_true",
                    help="the suite's --tls mode: certificates made with openssl, the server "
                         "on a TLS port only (needs the Tcl tls package, Debian's tcl-tls)")
    args = ap.parse_args()

    if shutil.which("tclsh") is None:
        sys.exit("tclsh not found (Debian package tcl)")
    if not args.peer and not os.access(args.host_binary, os.X_OK):
        sys.exit(f"ferrite-host not found: {args.host_binary} (build it, or --host-binary)")
    work = args.work or tempfile.mkdtemp(prefix="ferrite-redis-suite-")
    os.makedirs(work, exist_ok=True)
    tree = prepare_tree(os.path.abspath(args.redis_tree), work)
    if args.tls:
        global TLS_CONTEXT
        args.tls_dir = os.path.join(tree, "tests", "tls")
        make_certs(args.tls_dir)
        TLS_CONTEXT = ssl.create_default_context(cafile=os.path.join(args.tls_dir, "ca.crt"))
        TLS_CONTEXT.check_hostname = False
        TLS_CONTEXT.load_cert_chain(os.path.join(args.tls_dir, "client.crt"),
                                    os.path.join(args.tls_dir, "client.key"))
    log_dir = os.path.join(work, "logs")
    server_dir = os.path.join(work, "server")
    os.makedirs(log_dir, exist_ok=True)
    os.makedirs(server_dir, exist_ok=True)
    print(f"work folder: {work} (unit logs in logs/, server log in server/server.log)",
          flush=True)

    units = args.units or DEFAULT_UNITS
    server = Server(args, server_dir)
    results = []
    try:
        for unit in units:
            if not os.path.exists(os.path.join(tree, "tests", unit + ".tcl")):
                sys.exit(f"no such unit: {unit}")
            if not args.reuse_server or not server.alive():
                server.stop()
                server.start()
            r = run_unit(args, tree, server, unit, log_dir)
            results.append(r)
            print(f"{unit}: {r.ok} ok, {r.err} err, {r.ignored} ignored, {r.status} "
                  f"({r.seconds:.1f} s)", flush=True)
            if args.failures:
                for name in r.failed:
                    print(f"    FAIL {name}")
    finally:
        server.stop()
    print_table(results)
    return 1 if any(r.err or r.status != "done" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
