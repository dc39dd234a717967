# Thin wrapper over CMake presets; the README's two commands end here.
#   make run    build (release) and start ferrite-host with packaging/ferrite.toml; its
#               snapshots and AOF go to build/run (RUN_DIR), never into the source tree
#   make test   build (release) and run every test: unit, family (in-process), e2e
#   make asan   build the debug preset (ASan + UBSan), run unit/family and e2e tests, fail on any report
#   make bench  side-by-side benchmarks against redis-server and memcached
#   make test-long  the long trials: 20 sentinel kill/failover cycles (the normal suite runs 1)
#               and the e2e tests marked `long` (long random differential trials)
#   make deb    build (release) and pack the Debian packages ferrite and ferrite-dev
#               into build/release/deb (CPack's DEB generator, packaging/install.cmake)
PYTHON ?= /usr/bin/python3
JOBS ?= $(shell nproc)
CONFIG ?= packaging/ferrite.toml
RUN_DIR ?= $(CURDIR)/build/run

.PHONY: build run test test-long unit e2e asan bench deb clean

build:
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

run: build
	mkdir -p $(RUN_DIR)
	./build/release/ferrite-host --config $(CONFIG) --persistence.dir $(RUN_DIR)

unit: build
	ctest --test-dir build/release --output-on-failure -j $(JOBS)

e2e: build
	FERRITE_HOST=$(CURDIR)/build/release/ferrite-host $(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e

test: unit e2e

FAILOVER_TRIALS ?= 20
# FAILOVER_REPORT=file.jsonl: one JSON line of figures per failover trial
FAILOVER_REPORT ?=
test-long: build
	FERRITE_FAILOVER_TRIALS=$(FAILOVER_TRIALS) FERRITE_FAILOVER_REPORT=$(FAILOVER_REPORT) FERRITE_HOST=$(CURDIR)/build/release/ferrite-host \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e/test_replication_sentinel.py
	FERRITE_LONG=1 FERRITE_HOST=$(CURDIR)/build/release/ferrite-host $(PYTHON) -m pytest -q -p no:cacheprovider -m long tests/e2e

# ASAN_BUILD=build/debug is the "debug" preset's folder; override it to reuse another
# sanitizer build. The e2e servers write their reports to files (their stderr goes to a
# per-test log, and UBSan's reports, which ignore log_path, are copied out of it by
# conftest.Server.stop), which tests/sanitizers/check_logs.sh then turns into a failure.
# A small quarantine keeps a server's RSS near its real size (test_pubsub bounds it at
# 200 MB).
ASAN_BUILD ?= build/debug
ASAN_LOGS = $(CURDIR)/$(ASAN_BUILD)/sanitizer-logs
asan:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFERRITE_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)
	rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS)
	ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=16:log_path=$(ASAN_LOGS)/asan \
	UBSAN_OPTIONS=print_stacktrace=1:log_path=$(ASAN_LOGS)/ubsan \
	FERRITE_SANITIZER_LOGS=$(ASAN_LOGS) FERRITE_HOST=$(CURDIR)/$(ASAN_BUILD)/ferrite-host \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e; rc=$$?; \
	  tests/sanitizers/check_logs.sh $(ASAN_LOGS) && exit $$rc

bench: build
	bench/run_all.sh

deb: build
	cd build/release && cpack -G DEB

clean:
	rm -rf build
