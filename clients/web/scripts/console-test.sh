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

# Every test/console*.test.ts file, or those whose name holds $CONSOLE_TESTS (e.g.
# CONSOLE_TESTS=admin runs console_admin.test.ts only).
# $CONSOLE_FILES (paths below clients/web, space-separated) runs those instead: see
# scripts/console-bench.sh.
tests=()
if [ -n "${CONSOLE_FILES:-}" ]; then
  for file in $CONSOLE_FILES; do tests+=("$web/$file"); done
else
  for file in "$web"/test/console*.test.ts; do
    case "$(basename "$file")" in *"${CONSOLE_TESTS:-}"*) tests+=("$file") ;; esac
  done
fi
if [ "${#tests[@]}" -eq 0 ]; then
  echo "$0: no test/console*.test.ts matches '${CONSOLE_TESTS:-}'" >&2
  exit 1
fi
include=$(printf '"%s", ' "${tests[@]}" "$web/test/console_support.ts" "$web/test/server_process.ts")
cat >"$out/tsconfig.console-test.json" <<JSON
{
  "extends": "$web/tsconfig.json",
  "compilerOptions": { "lib": ["ES2022", "DOM"], "paths": { "@gen/*": ["./gen/*"] } },
  "include": [$include "$web/test/transport.ts"]
}
JSON
"$web/node_modules/.bin/tsc" -p "$out/tsconfig.console-test.json"
# Bundled with their packages left external: they resolve from clients/web's node_modules,
# linked beside them by scripts/prepare.sh.
bundles=()
rm -rf "$out/console-tests"
for file in "${tests[@]}"; do
  bundle="$out/console-tests/$(basename "$file" .ts).mjs"
  "$web/node_modules/.bin/esbuild" "$file" --bundle --platform=node --format=esm \
    --target=node18 --tsconfig="$out/tsconfig.console-test.json" --sourcemap \
    --packages=external --log-level=warning --outfile="$bundle"
  bundles+=("$bundle")
done
ln -sfn "$web/node_modules" "$out/console-tests/node_modules"

echo "console-test: node --test ${bundles[*]} (server: $server)"
rm -rf "$out/screenshots"
MEDIATION_SERVER="$server" WEB_ROOT="$build_dir/web" CHROMIUM="$(command -v chromium)" \
  SCREENSHOTS="$out/screenshots" exec node --enable-source-maps --test --test-reporter=spec \
  "${bundles[@]}"
