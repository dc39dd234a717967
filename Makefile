# Thin wrapper over CMake presets; the README's two commands end here.
#   make run    build (release) and start ferrite-host with packaging/ferrite.toml
#   make test   build (release) and run every test: unit, family (in-process), e2e
#   make asan   build the debug preset (ASan + UBSan) and run the unit/family tests
#   make bench  side-by-side benchmarks against redis-server and memcached
PYTHON ?= /usr/bin/python3
JOBS ?= $(shell nproc)
CONFIG ?= packaging/ferrite.toml

.PHONY: build run test unit e2e asan bench clean

build:
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

run: build
	./build/release/ferrite-host --config $(CONFIG)

unit: build
	ctest --test-dir build/release --output-on-failure -j $(JOBS)

e2e: build
	FERRITE_HOST=$(CURDIR)/build/release/ferrite-host $(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e

test: unit e2e

asan:
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build/debug --output-on-failure -j $(JOBS)

bench: build
	bench/run_all.sh

clean:
	rm -rf build
