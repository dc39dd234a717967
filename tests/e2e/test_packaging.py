"""The Debian packages and the install tree, as an operator and a module author meet them.

The `debs` fixture packs the already-built tree (cpack -G DEB in the build folder of
$FERRITE_HOST: an install of what is built, no compilation), then the tests read the
packages with dpkg-deb, run lintian on them, unpack both into a scratch root (dpkg -x),
run the unpacked ferrite-host from there and build examples/hello_module against the
unpacked ferrite-dev with find_package. The unit's tests run systemd-analyze on it.

    FERRITE_HOST=<build>/ferrite-host /usr/bin/python3 -m pytest -q tests/e2e/test_packaging.py
"""
import glob
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import ROOT, Server, host_binary

UNIT = os.path.join(ROOT, "packaging", "ferrite.service")
EXAMPLE = os.path.join(ROOT, "examples", "hello_module")


def run(cmd, timeout, env=None, check=True):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                       env=env)
    out = p.stdout.decode(errors="replace")
    if check:
        assert p.returncode == 0, f"{' '.join(cmd)} failed ({p.returncode}):\n{out}"
    return out


def need(tool, why):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed: cannot {why}")


@pytest.fixture(scope="module")
def debs():
    """{'ferrite': path, 'ferrite-dev': path, 'root': scratch root with both unpacked}."""
    need("dpkg-deb", "build or inspect Debian packages")
    build = os.path.dirname(os.path.abspath(host_binary()))
    if not os.path.exists(os.path.join(build, "CPackConfig.cmake")):
        pytest.skip(f"{build} has no CPackConfig.cmake (not a CMake build of this tree)")
    work = tempfile.mkdtemp(prefix="ferrite-deb-")
    out = os.path.join(work, "out")
    run(["cpack", "-G", "DEB", "--config", os.path.join(build, "CPackConfig.cmake"), "-B", out],
        timeout=600)
    found = {}
    for deb in glob.glob(os.path.join(out, "*.deb")):
        name = run(["dpkg-deb", "-f", deb, "Package"], timeout=30).strip()
        found[name] = deb
    assert set(found) == {"ferrite", "ferrite-dev"}, found
    root = os.path.join(work, "root")
    for deb in found.values():
        run(["dpkg", "-x", deb, root], timeout=60)
    found["root"] = root
    yield found
    shutil.rmtree(work, ignore_errors=True)


def contents(deb):
    """{path: mode string} of a package's files, paths without the leading '.'."""
    files = {}
    for line in run(["dpkg-deb", "-c", deb], timeout=30).splitlines():
        parts = line.split()
        path = parts[5].lstrip(".")
        files[path.rstrip("/") or "/"] = parts[0]
    return files


# ---------------------------------------------------------------------------------------
# Contents
# ---------------------------------------------------------------------------------------

def test_server_package_contents(debs):
    files = contents(debs["ferrite"])
    for path in ["/usr/bin/ferrite-host", "/usr/bin/ferrite-migrate",
                 "/usr/lib/ferrite/plugins/resp.so", "/usr/lib/ferrite/plugins/strings.so",
                 "/usr/lib/ferrite/plugins/memcached_text.so",
                 "/usr/lib/ferrite/plugins/memcached_binary.so",
                 "/etc/ferrite/ferrite.toml", "/etc/logrotate.d/ferrite",
                 "/usr/lib/systemd/system/ferrite.service",
                 "/usr/lib/sysusers.d/ferrite.conf", "/usr/lib/tmpfiles.d/ferrite.conf",
                 "/usr/share/man/man8/ferrite-host.8.gz",
                 "/usr/share/doc/ferrite/copyright", "/usr/share/doc/ferrite/changelog.Debian.gz"]:
        assert path in files, f"{path} missing from the ferrite package"
    assert files["/usr/bin/ferrite-host"].startswith("-rwxr-xr-x")
    assert files["/usr/bin/ferrite-migrate"].startswith("-rwxr-xr-x")
    assert not any(p.startswith("/usr/etc") or p.startswith("/usr/include") for p in files)
    info = run(["dpkg-deb", "-I", debs["ferrite"]], timeout=30)
    conffiles = run(["dpkg-deb", "-I", debs["ferrite"], "conffiles"], timeout=30).split()
    assert conffiles == ["/etc/ferrite/ferrite.toml", "/etc/logrotate.d/ferrite"]
    depends = run(["dpkg-deb", "-f", debs["ferrite"], "Depends"], timeout=30)
    assert "libc6" in depends and "libluajit" in depends, depends  # dpkg-shlibdeps ran
    for script in ("postinst", "prerm", "postrm"):
        assert script in info


def test_dev_package_contents(debs):
    files = contents(debs["ferrite-dev"])
    for path in ["/usr/include/ferrite/module.h", "/usr/include/ferrite/module.hpp",
                 "/usr/include/ferrite/errors.h",
                 "/usr/share/cmake/Ferrite/FerriteConfig.cmake",
                 "/usr/share/cmake/Ferrite/FerriteConfigVersion.cmake",
                 "/usr/share/cmake/Ferrite/FerriteTargets.cmake",
                 "/usr/share/pkgconfig/ferrite-sdk.pc",
                 "/usr/share/doc/ferrite-dev/copyright"]:
        assert path in files, f"{path} missing from the ferrite-dev package"
    assert run(["dpkg-deb", "-f", debs["ferrite-dev"], "Architecture"], timeout=30).strip() == "all"
    assert not any(p.startswith("/usr/bin") or p.endswith(".so") for p in files)


def test_unit_sysusers_and_tmpfiles_agree(debs):
    root = debs["root"]
    unit = open(os.path.join(root, "usr/lib/systemd/system/ferrite.service")).read()
    sysusers = open(os.path.join(root, "usr/lib/sysusers.d/ferrite.conf")).read()
    tmpfiles = open(os.path.join(root, "usr/lib/tmpfiles.d/ferrite.conf")).read()
    assert "User=ferrite" in unit and "Type=notify" in unit
    assert re.search(r"^u ferrite ", sysusers, re.M)
    assert re.search(r"^d /var/lib/ferrite +0750 ferrite ferrite", tmpfiles, re.M)
    assert re.search(r"^d /run/ferrite +\d+ ferrite ferrite", tmpfiles, re.M)
    exec_start = re.search(r"^ExecStart=(\S+) (\S+)", unit, re.M)
    assert exec_start.group(1) == "/usr/bin/ferrite-host"
    assert os.path.exists(os.path.join(root, exec_start.group(2).lstrip("/")))


def test_lintian_reports_no_errors(debs):
    need("lintian", "check the packages against Debian policy")
    for name in ("ferrite", "ferrite-dev"):
        out = run(["lintian", "--no-tag-display-limit", debs[name]], timeout=600, check=False)
        errors = [l for l in out.splitlines() if l.startswith("E:")]
        assert not errors, f"lintian {name}:\n{out}"


# ---------------------------------------------------------------------------------------
# Running what the packages installed
# ---------------------------------------------------------------------------------------

def test_installed_server_runs_with_the_installed_config(debs, monkeypatch):
    root = debs["root"]
    binary = os.path.join(root, "usr/bin/ferrite-host")
    assert run([binary, "--version"], timeout=30).startswith("ferrite-host ")
    monkeypatch.setenv("FERRITE_HOST", binary)
    s = Server({"compatibility.memcached_protocol": "true"},
               args=["--config", os.path.join(root, "etc/ferrite/ferrite.toml")])
    # The installed tree's plugins, found relative to the binary, not the build's.
    plugin_dir = os.path.realpath(os.path.join(root, "usr/lib/ferrite/plugins"))
    s.start()
    try:
        r = s.redis(decode_responses=True)
        assert r.ping()
        paths = {m[5] if isinstance(m, list) else m["path"]
                 for m in r.execute_command("MODULE", "LIST")}
        assert paths and all(os.path.realpath(p).startswith(plugin_dir) for p in paths), paths
        with s.sock(s.mc_port) as sk:
            sk.sendall(b"set k 5 0 2\r\nhi\r\nget k\r\n")
            data = b""
            while not data.endswith(b"END\r\n"):
                chunk = sk.recv(4096)
                assert chunk
                data += chunk
        assert data == b"STORED\r\nVALUE k 5 2\r\nhi\r\nEND\r\n"
        assert r.get("k") == "hi"
    finally:
        s.stop()


def test_out_of_tree_module_builds_against_installed_dev_package(debs, monkeypatch):
    need("cmake", "build the example module")
    root = debs["root"]
    work = tempfile.mkdtemp(prefix="ferrite-oot-deb-")
    try:
        build = os.path.join(work, "build")
        run(["cmake", "-S", EXAMPLE, "-B", build, f"-DCMAKE_PREFIX_PATH={root}/usr",
             "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], timeout=120)
        cache = open(os.path.join(build, "CMakeCache.txt")).read()
        assert f"Ferrite_DIR:PATH={root}/usr/share/cmake/Ferrite" in cache
        run(["cmake", "--build", build, "-j1"], timeout=600)
        so = os.path.join(build, "hello.so")
        monkeypatch.setenv("FERRITE_HOST", os.path.join(root, "usr/bin/ferrite-host"))
        s = Server().start()
        try:
            r = s.redis(decode_responses=True)
            assert r.execute_command("MODULE", "LOAD", so) == "OK"
            assert r.execute_command("HELLO.SET", "greeting", "hi") == "OK"
            assert r.execute_command("HELLO.GET", "greeting") == "hi"
        finally:
            s.stop()
        # pkg-config finds the same headers, relocated into the scratch root.
        if shutil.which("pkg-config"):
            env = dict(os.environ, PKG_CONFIG_PATH=f"{root}/usr/share/pkgconfig")
            cflags = run(["pkg-config", "--cflags", "ferrite-sdk"], timeout=30, env=env).split()
            assert [os.path.realpath(f[2:]) for f in cflags] == [
                os.path.realpath(f"{root}/usr/include")]
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# cmake --install --prefix /usr lays out the same tree
# ---------------------------------------------------------------------------------------

def test_cmake_install_prefix_usr_puts_the_config_in_etc():
    build = os.path.dirname(os.path.abspath(host_binary()))
    if not os.path.exists(os.path.join(build, "cmake_install.cmake")):
        pytest.skip(f"{build} is not a CMake build folder")
    dest = tempfile.mkdtemp(prefix="ferrite-destdir-")
    try:
        run(["cmake", "--install", build, "--prefix", "/usr"], timeout=300,
            env=dict(os.environ, DESTDIR=dest))
        assert os.path.isfile(os.path.join(dest, "etc/ferrite/ferrite.toml"))
        assert os.path.isfile(os.path.join(dest, "etc/logrotate.d/ferrite"))
        assert not os.path.exists(os.path.join(dest, "usr/etc"))
        for path in ["usr/bin/ferrite-host", "usr/lib/ferrite/plugins/resp.so",
                     "usr/lib/systemd/system/ferrite.service", "usr/include/ferrite/module.h",
                     "usr/share/cmake/Ferrite/FerriteConfig.cmake",
                     "usr/share/pkgconfig/ferrite-sdk.pc"]:
            assert os.path.exists(os.path.join(dest, path)), path
    finally:
        shutil.rmtree(dest, ignore_errors=True)
