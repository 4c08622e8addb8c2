#!/usr/bin/env bash
# Builds the web console into <build_dir>/web (served by mediation-server --web_root): prepares
# clients/web (scripts/prepare.sh: packages, generated API clients), type-checks and bundles
# (scripts/build-console.mjs).
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

"$web/scripts/prepare.sh" "$source_dir" "$build_dir"
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
