#!/usr/bin/env bash
# The console_browser test: the built web console (scripts/build-console.sh) in Debian's
# chromium, headless, through playwright-core, against the real server binary
# (test/console.test.ts). Exits with the test's status.
#
# Usage: scripts/console-test.sh <source_dir> <build_dir> <server_binary>
set -euo pipefail

if [ "$#" -ne 3 ]; then
  echo "usage: $0 <source_dir> <build_dir> <server_binary>" >&2
  exit 2
fi
source_dir=$(cd "$1" && pwd)
build_dir=$(cd "$2" && pwd)
server=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
web="$source_dir/clients/web"
out="$build_dir/clients/web"

if ! command -v chromium >/dev/null; then
  echo "$0: 'chromium' not found: run deploy/install-deps.sh" >&2
  exit 1
fi
# The console, its generated clients and the packages (npm ci when needed).
"$web/scripts/build-console.sh" "$source_dir" "$build_dir"

cat >"$out/tsconfig.console-test.json" <<JSON
{
  "extends": "$web/tsconfig.json",
  "compilerOptions": { "lib": ["ES2022", "DOM"], "paths": { "@gen/*": ["./gen/*"] } },
  "include": ["$web/test/console.test.ts", "$web/test/server_process.ts", "$web/test/transport.ts"]
}
JSON
"$web/node_modules/.bin/tsc" -p "$out/tsconfig.console-test.json"
bundle="$out/console.test.mjs"
"$web/node_modules/.bin/esbuild" "$web/test/console.test.ts" --bundle --platform=node \
  --format=esm --target=node18 --tsconfig="$out/tsconfig.console-test.json" --sourcemap \
  --packages=external --log-level=warning --outfile="$bundle"
# Bundled with its packages left external: they resolve from clients/web's node_modules, linked
# beside it by scripts/prepare.sh.

echo "console-test: node --test $bundle (server: $server)"
rm -rf "$out/screenshots"
MEDIATION_SERVER="$server" WEB_ROOT="$build_dir/web" CHROMIUM="$(command -v chromium)" \
  SCREENSHOTS="$out/screenshots" exec node --enable-source-maps --test --test-reporter=spec "$bundle"
