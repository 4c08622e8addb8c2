#!/bin/sh
# Generates the TypeScript messages and service descriptors of ppa.mediation.v1 with
# protoc-gen-es (installed by `npm ci` in clients/web) into <out_dir>, a build directory: the
# generated code is never committed.
#
# Usage: scripts/generate.sh <proto_root> <out_dir>
# Well-known types (google/protobuf/*.proto) come from protoc's own include directory.
set -eu

if [ "$#" -ne 2 ]; then
  echo "usage: $0 <proto_root> <out_dir>" >&2
  exit 2
fi
proto_root=$1
out_dir=$2
web_dir=$(cd "$(dirname "$0")/.." && pwd)
plugin="$web_dir/node_modules/.bin/protoc-gen-es"
protoc=${PROTOC:-/usr/bin/protoc}

if [ ! -x "$plugin" ]; then
  echo "$0: $plugin is missing: run 'npm ci' in $web_dir" >&2
  exit 1
fi

# Start from an empty directory so that a proto file removed from the API leaves no stale code.
rm -rf "$out_dir"
mkdir -p "$out_dir"
"$protoc" -I "$proto_root" \
  --plugin=protoc-gen-es="$plugin" \
  --es_out="$out_dir" --es_opt=target=ts \
  "$proto_root"/ppa/mediation/v1/*.proto
