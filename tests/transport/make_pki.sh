#!/usr/bin/env bash
# The transport tests' certificates, made with deploy/make-dev-certs.sh into DIR (emptied first):
# DIR/ours (the server's certificate and clients mediationctl, stranger and ghost) and DIR/other
# (another CA with its own mediationctl certificate).
set -euo pipefail
dir=${1:?usage: make_pki.sh DIR}
script="$(dirname "$0")/../../deploy/make-dev-certs.sh"
rm -rf "$dir/ours" "$dir/other"
"$script" "$dir/ours"
"$script" "$dir/ours" stranger
"$script" "$dir/ours" ghost
"$script" "$dir/other"
