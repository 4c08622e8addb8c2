#!/usr/bin/env bash
# What every clients/web step needs first: node and npm, clients/web's npm packages (npm ci when
# they are missing or older than package-lock.json), and the API clients generated from proto/
# into <build_dir>/clients/web/gen, beside a link to the packages so the generated code resolves
# its imports (@bufbuild/protobuf) from there.
#
# Usage: scripts/prepare.sh <source_dir> <build_dir>
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

# npm writes node_modules/.package-lock.json on every install: older than package-lock.json
# means the lockfile changed since.
if [ ! -f "$web/node_modules/.package-lock.json" ] ||
  [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
  echo "prepare: npm ci in $web"
  (cd "$web" && npm ci --no-audit --no-fund --prefer-offline)
fi

mkdir -p "$out"
"$web/scripts/generate.sh" "$source_dir/proto" "$out/gen"
ln -sfn "$web/node_modules" "$out/node_modules"
