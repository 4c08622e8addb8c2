#!/usr/bin/env bash
# Installs what is missing, builds (Release) and starts mediation-server on 127.0.0.1:50051 with
# its SQLite database under var/ (created on first start). Extra arguments go to the server, e.g.
#   deploy/run.sh --listen=127.0.0.1:50052 --log_format=json
# Stop it with Ctrl-C (or SIGTERM): it drains in-flight calls and closes the database cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)" --target mediation-server mediationctl python_stubs
exec ./build/services/mediation-server --db=var/mediation.db "$@"
