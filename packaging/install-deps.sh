#!/bin/sh
# Installs what building, testing and fuzzing Ferrite needs on Debian/Ubuntu.
# Idempotent: packages dpkg reports as installed are skipped, and `apt-get update`
# runs only when something is missing. Run as root or as a user with sudo.
set -eu

PACKAGES="
  build-essential cmake ninja-build pkg-config
  libboost-dev libtoml11-dev libspdlog-dev libluajit-5.1-dev libxxhash-dev
  libgtest-dev libgmock-dev libjemalloc-dev libssl-dev openssl
  redis-server redis-tools redis-sentinel memcached libmemcached-tools nutcracker
  python3-redis python3-pymemcache python3-pylibmc python3-pytest
  dpkg-dev lintian systemd prometheus-redis-exporter
  clang nodejs tcl tcl-tls
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
# npm (tests/e2e/test_seed_adapter_node.py installs ioredis with it): Debian packages it
# apart from nodejs, while NodeSource's nodejs package bundles it and conflicts with
# Debian's npm, so ask for the package only when no npm command exists.
if ! command -v npm >/dev/null 2>&1; then
  missing="$missing npm"
fi

if [ -z "$missing" ]; then
  echo "install-deps: everything is already installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "install-deps: missing:$missing" >&2
  echo "install-deps: run as root or install sudo" >&2
  exit 1
fi

echo "install-deps: installing:$missing"
$SUDO apt-get update
# shellcheck disable=SC2086  # word splitting of the package list is intended
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
