#!/usr/bin/env bash
# The connect_node test: the generated TypeScript clients against the real server over the
# Connect protocol (test/connect_node.test.ts). Prepares clients/web (scripts/prepare.sh:
# packages, generated clients), type-checks, bundles the test with esbuild and runs it under
# `node --test`. Exits with the test's status (or non-zero when a step before it fails).
#
# Usage: scripts/connect-node-test.sh <source_dir> <build_dir> <server_binary>
set -euo pipefail

if [ "$#" -ne 3 ]; then
  echo "usage: $0 <source_dir> <build_dir> <server_binary>" >&2
  exit 2
fi
source_dir=$(cd "$1" && pwd)
mkdir -p "$2"
build_dir=$(cd "$2" && pwd)
server=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
web="$source_dir/clients/web"
out="$build_dir/clients/web"

"$web/scripts/prepare.sh" "$source_dir" "$build_dir"

# The generated code and the link to the packages are in $out ("@gen/*" through a tsconfig that
# extends clients/web's); tsc and esbuild both read it.
cat >"$out/tsconfig.json" <<EOF
{
  "extends": "$web/tsconfig.json",
  "compilerOptions": { "paths": { "@gen/*": ["./gen/*"] } },
  "include": ["$web/test/connect_node.test.ts", "$web/test/server_process.ts", "$web/test/transport.ts"]
}
EOF

echo "connect-node-test: type-checking"
"$web/node_modules/.bin/tsc" -p "$out/tsconfig.json"

bundle="$out/connect_node.test.mjs"
"$web/node_modules/.bin/esbuild" "$web/test/connect_node.test.ts" --bundle --platform=node \
  --format=esm --target=node18 --tsconfig="$out/tsconfig.json" --sourcemap \
  --log-level=warning --outfile="$bundle"

echo "connect-node-test: node --test $bundle (server: $server)"
MEDIATION_SERVER="$server" exec node --enable-source-maps --test --test-reporter=spec "$bundle"
