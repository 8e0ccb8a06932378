#!/usr/bin/env bash
# Installs the dependencies, then builds and runs every test:
#  1. a plain build with warnings as errors: all unit and integration tests,
#     including the memory cases, which need an uninstrumented server;
#  2. libFuzzer targets built with clang, each run for a few seconds;
#  3. an AddressSanitizer + UndefinedBehaviorSanitizer build: every test but
#     the memory cases. Its ctest summary is the last thing printed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${SATELLITE_SKIP_DEPS:-0}" != 1 ]; then
    scripts/install-deps.sh
fi
jobs=$(nproc)

echo "== plain build"
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAT_WERROR=ON
cmake --build build-test -j"$jobs"
ctest --test-dir build-test -j"$jobs" --output-on-failure

echo "== fuzz targets"
CC=clang cmake -S . -B build-fuzz -DSAT_FUZZ=ON -DSAT_BUILD_TESTS=OFF -DSAT_WERROR=ON \
    -DSAT_FUZZ_SECONDS="${SAT_FUZZ_SECONDS:-10}"
cmake --build build-fuzz -j"$jobs"
ctest --test-dir build-fuzz -L fuzz --output-on-failure

echo "== sanitizer build (address, undefined)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSAT_WERROR=ON \
    -DSAT_SANITIZE="address;undefined"
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan -j"$jobs" --output-on-failure -E '^integration\.memory_limits$'
