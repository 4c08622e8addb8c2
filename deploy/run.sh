#!/usr/bin/env bash
# Installs what is missing, builds (Release) and starts mediation-server on 127.0.0.1:50051 with
# its SQLite database under var/ (created on first start). Extra arguments go to the server, e.g.
#   deploy/run.sh --listen=127.0.0.1:50052 --log_format=json
# The web console (clients/web, built into build/web) is served on the HTTP listener,
# http://127.0.0.1:8080/. Stop it with Ctrl-C (or SIGTERM): it drains in-flight calls and closes
# the database cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)" --target mediation-server mediationctl python_stubs web_console
echo "run: the web console will be at http://127.0.0.1:8080/ (or --http_listen's address);" \
  "sign in with an access token, such as the one in var/admin.token"
exec ./build/services/mediation-server --db=var/mediation.db --web_root=build/web "$@"
