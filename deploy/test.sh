#!/usr/bin/env bash
# Installs what is missing, builds everything (Release) and runs every test with ctest.
# .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 600
cd ..
# A short fuzzing run: each libFuzzer harness for 5 seconds with ASan and UBSan (see
# deploy/fuzz.sh; run it longer by hand).
./deploy/fuzz.sh --seconds=5
