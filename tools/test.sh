#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test:
#   1. clang ASan+UBSan build: the unit tests (pure code, deterministic actor tests, fuzz corpora);
#   2. release build: the integration tests (real processes on loopback) and benchmark smoke runs.
# CI (.ci/run) calls exactly this. Build folders: build/asan and build/release.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start=$(date +%s)
"$root/tools/install-deps.sh"

jobs="${TANDEM_JOBS:-$(nproc)}"
generator=(-G Ninja)
common=(-DCMAKE_CXX_COMPILER=clang++ -DTANDEM_WERROR=ON)

stage() { echo; echo "== $* ($(( $(date +%s) - start )) s)"; }

stage "ASan+UBSan build: unit tests"
cmake -S . -B build/asan "${generator[@]}" "${common[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTANDEM_SANITIZE=ON -DTANDEM_BENCH=OFF >/dev/null
cmake --build build/asan --target unit_tests -j "$jobs"
export UBSAN_OPTIONS="suppressions=$root/tests/ubsan.supp:print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
ctest --test-dir build/asan -L unit --output-on-failure -j "$jobs" --timeout 300

stage "Release build: integration tests and benchmark smoke runs"
cmake -S . -B build/release "${generator[@]}" "${common[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTANDEM_UNIT_TESTS=OFF >/dev/null
cmake --build build/release -j "$jobs"
ctest --test-dir build/release -L 'integration|bench_smoke' --output-on-failure -j "$jobs" --timeout 600

stage "done"
