#!/usr/bin/env bash
# The PostgreSQL drill: servers keep writing while the database goes away, and nothing they
# acknowledged is lost.
#
#   failover-drill.sh [--mode=failover|restart] [--short] [--port=N] [--dir=DIR]
#                     [--drill=build/tests/pg_drill] [--keep]
#
# failover (the default): starts a primary on 127.0.0.1:N and a streaming standby on N+1 (made
#   with pg_basebackup, replicating synchronously: a commit returns once the standby has it), and
#   a database on them. Two mediation-server instances use both hosts in their --db URI with
#   target_session_attrs=read-write. While they take writes, the primary is stopped at once (as a
#   crash: -m immediate) and the standby promoted. The servers must find the new primary by
#   themselves, and every write they acknowledged, before or after, must be on it.
# restart: one cluster on N, stopped at once under the same writes and started again 3 s later.
#
# The client side is build/tests/pg_drill (see its header): it starts the servers, writes,
# runs the disruption, and checks every acknowledged write in the database and through each server.
# DIR, if given, must be this user's own (scripts in it run as this user); only what the drill
# makes in it is removed.
# --short is CI's form (2 s of writes either side); the full form writes 10 s either side.
# As root, the clusters run as the `postgres` user (PostgreSQL refuses root). Everything is made
# in DIR (default: a new temporary directory) and removed afterwards unless --keep.
set -euo pipefail

mode=failover short=0 port=55440 dir="" keep=0
drill="$(cd "$(dirname "$0")/../.." && pwd)/build/tests/pg_drill"
for arg in "$@"; do
  case "$arg" in
    --mode=*) mode=${arg#--mode=} ;;
    --short) short=1 ;;
    --port=*) port=${arg#--port=} ;;
    --dir=*) dir=${arg#--dir=} ;;
    --drill=*) drill=${arg#--drill=} ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--mode=failover|restart] [--short] [--port=N] [--dir=DIR] [--drill=PATH] [--keep]" >&2; exit 2 ;;
  esac
done
[[ "$mode" == failover || "$mode" == restart ]] || { echo "$0: --mode is failover or restart" >&2; exit 2; }
[[ -x "$drill" ]] || { echo "$0: $drill not found: build first (cmake --build build)" >&2; exit 1; }
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x "$bindir/initdb" ]] || { echo "$0: PostgreSQL is not installed (deploy/install-deps.sh)" >&2; exit 1; }

owner=()
[[ $(id -u) -eq 0 ]] && owner=(runuser -u postgres --)
made_dir=0
if [[ -z "$dir" ]]; then
  dir=$(mktemp -d /tmp/mediation-drill.XXXXXX)
  made_dir=1
else
  mkdir -p "$dir"
  # Scripts in it run as this user (and as root under CI): it must be this user's own.
  [[ -O "$dir" && ! -L "$dir" ]] || { echo "$0: $dir is not a directory of this user's own" >&2; exit 1; }
fi
dir=$(cd "$dir" && pwd)
chmod 755 "$dir"  # The clusters' user (postgres, under root) must reach its subdirectories.
standby_port=$((port + 1))

stop_all() {
  for data in "$dir"/primary/data "$dir"/standby/data; do
    [[ -f "$data/postmaster.pid" ]] && "${owner[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  done
}
cleanup() {
  local status=$?
  stop_all
  if [[ $status -ne 0 ]]; then
    echo "$0: failed; the clusters' and the servers' logs:" >&2
    tail -n 20 "$dir"/primary/server.log "$dir"/standby/server.log "$dir"/servers/server-*.log >&2 2>/dev/null || true
  fi
  if [[ $keep -eq 1 ]]; then
    echo "$0: kept $dir"
  elif [[ $made_dir -eq 1 ]]; then
    rm -rf "$dir"
  else  # Only what the drill made in a directory it was given.
    rm -rf "$dir"/primary "$dir"/standby "$dir"/servers "$dir"/disrupt.sh
  fi
}
trap cleanup EXIT
stop_all  # One left by an interrupted run.
rm -rf "$dir"/primary "$dir"/standby

# The options a cluster in $1 (primary or standby) runs with on port $2.
options() { echo "-p $2 -k $dir/$1 -c listen_addresses=127.0.0.1 -c max_connections=200 -c wal_level=replica -c max_wal_senders=5 -c hot_standby=on"; }
start() {  # start NAME PORT
  "${owner[@]}" "$bindir/pg_ctl" -D "$dir/$1/data" -l "$dir/$1/server.log" -w -t 60 -o "$(options "$1" "$2")" start >/dev/null
}
sql() {  # sql PORT STATEMENT
  "${owner[@]}" "$bindir/psql" -X -q -A -t -h 127.0.0.1 -p "$1" -U postgres -d postgres -v ON_ERROR_STOP=1 -c "$2"
}

for node in primary standby; do
  mkdir -p "$dir/$node"
  [[ ${#owner[@]} -gt 0 ]] && chown postgres "$dir/$node"
  chmod 700 "$dir/$node"
done
"${owner[@]}" "$bindir/initdb" -D "$dir/primary/data" --locale=C -E UTF8 -A trust -U postgres >"$dir/primary/initdb.log" 2>&1 ||
  { cat "$dir/primary/initdb.log" >&2; exit 1; }
start primary "$port"
sql "$port" "CREATE DATABASE mediation TEMPLATE template0 LOCALE 'C' ENCODING 'UTF8'"
uri="postgresql://postgres@127.0.0.1:$port/mediation?connect_timeout=5"

if [[ "$mode" == failover ]]; then
  "${owner[@]}" "$bindir/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$dir/standby/data" -X stream -c fast -R
  echo "primary_conninfo = 'host=127.0.0.1 port=$port user=postgres application_name=standby1'" |
    "${owner[@]}" tee -a "$dir/standby/data/postgresql.auto.conf" >/dev/null
  start standby "$standby_port"
  # Synchronous from here on: the standby's copy of the configuration was taken before, so once
  # promoted it does not wait for a standby of its own.
  sql "$port" "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" >/dev/null
  sql "$port" "SELECT pg_reload_conf()" >/dev/null
  for _ in $(seq 1 100); do
    [[ $(sql "$port" "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'") == sync ]] && break
    sleep 0.1
  done
  [[ $(sql "$port" "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'") == sync ]] ||
    { echo "$0: the standby did not start replicating synchronously" >&2; exit 1; }
  echo "failover-drill: primary on $port, synchronous standby on $standby_port"
  uri="postgresql://postgres@127.0.0.1:$port,127.0.0.1:$standby_port/mediation?target_session_attrs=read-write&connect_timeout=5"
  cat >"$dir/disrupt.sh" <<SCRIPT
#!/usr/bin/env bash
set -e
${owner[*]} "$bindir/pg_ctl" -D "$dir/primary/data" -m immediate -w stop >/dev/null
${owner[*]} "$bindir/pg_ctl" -D "$dir/standby/data" -w -t 60 promote >/dev/null
SCRIPT
else
  echo "failover-drill: one cluster on $port, to be stopped at once and started again"
  cat >"$dir/disrupt.sh" <<SCRIPT
#!/usr/bin/env bash
set -e
${owner[*]} "$bindir/pg_ctl" -D "$dir/primary/data" -m immediate -w stop >/dev/null
sleep 3
${owner[*]} "$bindir/pg_ctl" -D "$dir/primary/data" -l "$dir/primary/server.log" -w -t 60 -o "$(options primary "$port")" start >/dev/null
SCRIPT
fi
chmod 755 "$dir/disrupt.sh"

seconds=10 writers=16
[[ $short -eq 1 ]] && seconds=2 writers=6
mkdir -p "$dir/servers"
"$drill" --db="$uri" --disrupt="$dir/disrupt.sh" --work_dir="$dir/servers" --instances=2 \
  --writers=$writers --before_seconds=$seconds --after_seconds=$seconds --recover_seconds=60

if [[ "$mode" == failover ]]; then
  [[ $(sql "$standby_port" "SELECT pg_is_in_recovery()") == f ]] ||
    { echo "$0: the standby is not the primary after the drill" >&2; exit 1; }
  echo "failover-drill: the standby on $standby_port is the primary now; nothing acknowledged was lost"
else
  echo "failover-drill: the cluster on $port restarted; nothing acknowledged was lost"
fi
