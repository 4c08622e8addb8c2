#!/usr/bin/env bash
# Builds the web console into <build_dir>/web (served by mediation-server --web_root): installs
# clients/web's npm packages when they are missing or older than package-lock.json, generates the
# API clients from proto/, type-checks and bundles (scripts/build-console.mjs).
#
# Usage: scripts/build-console.sh <source_dir> <build_dir>
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 <source_dir> <build_dir>" >&2
  exit 2
fi
source_dir=$(cd "$1" && pwd)
mkdir -p "$2"
build_dir=$(cd "$2" && pwd)
web="$source_dir/clients/web"
out="$build_dir/clients/web"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "$0: '$tool' not found: run deploy/install-deps.sh" >&2
    exit 1
  fi
done
if [ ! -f "$web/node_modules/.package-lock.json" ] ||
  [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
  echo "build-console: npm ci in $web"
  (cd "$web" && npm ci --no-audit --no-fund --prefer-offline)
fi

mkdir -p "$out"
"$web/scripts/generate.sh" "$source_dir/proto" "$out/gen"
ln -sfn "$web/node_modules" "$out/node_modules"
cat >"$out/tsconfig.console.json" <<JSON
{
  "extends": "$web/tsconfig.json",
  "compilerOptions": {
    "lib": ["ES2022", "DOM", "DOM.Iterable"],
    "types": [],
    "paths": { "@gen/*": ["./gen/*"] }
  },
  "include": ["$web/src/**/*.ts"]
}
JSON
"$web/node_modules/.bin/tsc" -p "$out/tsconfig.console.json"
node "$web/scripts/build-console.mjs" "$out/gen" "$build_dir/web"
