#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for tests and drills, on this machine, from Debian's packages.
#
#   test-cluster.sh start DIR [PORT]   initdb in DIR/data (C locale, UTF8, trust on loopback),
#                                      start it on 127.0.0.1:PORT (default 55432) with its socket
#                                      in DIR, and print its URI (also written to DIR/uri)
#   test-cluster.sh stop DIR           stop it (fast) and remove DIR
#
# PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user the
# package made, and DIR is made theirs. The cluster is for tests: fsync stays on (the crash and
# failover tests count on it), it listens on loopback only, and it keeps 512 MB of write-ahead
# log (wal_keep_size) so that the tests that look for secrets on disk read every segment written
# since they began (tests/support/test_server.h, DiskBytes).
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x "$bindir/initdb" ]] || { echo "test-cluster.sh: PostgreSQL is not installed (deploy/install-deps.sh)" >&2; exit 1; }

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=${1:-}; dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2; }

case "$cmd" in
  start)
    port=${3:-55432}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir" && chmod 700 "$dir"
    # Always a fresh cluster: one left by an interrupted run is stopped and removed first.
    if [[ -f "$dir/data/PG_VERSION" ]]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
      rm -rf "$dir/data"
    fi
    as_owner "$bindir/initdb" -D "$dir/data" --locale=C -E UTF8 -A trust -U postgres >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=128MB -c wal_keep_size=512MB" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    uri="postgresql://postgres@127.0.0.1:$port/postgres"
    echo "$uri" | as_owner tee "$dir/uri"
    ;;
  stop)
    [[ -d "$dir/data" ]] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac
