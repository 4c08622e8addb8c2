#!/usr/bin/env bash
# Measures the console (not run by ctest): the size of its JavaScript and CSS as served
# (gzip), and how long the work-queue page takes to show on loopback with 5,000 cases in the
# database (test/console_bench.ts). Prints the figures.
#
# Usage: scripts/console-bench.sh <source_dir> <build_dir> <server_binary> [cases]
set -euo pipefail

if [ "$#" -lt 3 ] || [ "$#" -gt 4 ]; then
  echo "usage: $0 <source_dir> <build_dir> <server_binary> [cases]" >&2
  exit 2
fi
export BENCH_CASES="${4:-5000}"
CONSOLE_FILES="test/console_bench.ts" exec "$(dirname "$0")/console-test.sh" "$1" "$2" "$3"
