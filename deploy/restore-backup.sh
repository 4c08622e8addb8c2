#!/usr/bin/env bash
# Restores a backup made by AdminService.BackupDatabase (mediationctl database backup) as the
# server's database.
#
#   deploy/restore-backup.sh <backup file> <db path>
#
# Stop the server first: the script refuses while any process has the database open. It checks
# the backup (PRAGMA integrity_check, and that it is a mediation database), moves the current
# database and its -wal/-shm files aside to <db path>.before-restore-<UTC time>, and installs a
# copy of the backup (mode 0600) in their place. The backup file itself is left as it is.
#
# The master key is not in a backup: start the server with the key file the backup was made with
# (--master_key_file; by default master.key beside the database). The admin token file is not in
# it either; tokens issued before the backup work again once it is restored.
set -euo pipefail

usage() {
  echo "usage: $0 <backup file> <db path>" >&2
  exit 2
}
fail() {
  echo "restore-backup: $*" >&2
  exit 1
}

[ $# -eq 2 ] || usage
backup=$1
db=$2
command -v sqlite3 >/dev/null || fail "the sqlite3 shell is missing: run deploy/install-deps.sh"
[ -f "$backup" ] || fail "no backup file $backup"
[ -r "$backup" ] || fail "cannot read $backup"
db_dir=$(dirname -- "$db")
[ -d "$db_dir" ] || fail "no directory $db_dir for the database"

# A server (or anything else) with the database open holds a shared lock on it: an exclusive
# lock is granted only when nobody else is connected.
if [ -e "$db" ]; then
  if ! sqlite3 -bail "$db" "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;" \
    >/dev/null 2>&1; then
    fail "$db is in use (is mediation-server running?); stop the server first"
  fi
fi

# Check a private copy, so the backup is never changed (opening a database can write to it).
umask 077
staging=$(mktemp "$db_dir/.restore-XXXXXX")
trap 'rm -f -- "$staging" "$staging-wal" "$staging-shm" "$staging-journal"' EXIT
cp -- "$backup" "$staging"
integrity=$(sqlite3 -bail "$staging" "PRAGMA integrity_check;" 2>&1) ||
  fail "$backup is not a readable SQLite database: $integrity"
[ "$integrity" = "ok" ] || fail "$backup fails its integrity check: $integrity"
version=$(sqlite3 -bail "$staging" "SELECT MAX(version) FROM schema_migrations;" 2>/dev/null) ||
  fail "$backup is not a mediation database (it has no schema_migrations table)"
[ -n "$version" ] || fail "$backup is not a mediation database (no schema version recorded)"
# Leave it as a single file: the checks may have created a write-ahead log beside it.
sqlite3 -bail "$staging" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
rm -f -- "$staging-wal" "$staging-shm"

aside=""
if [ -e "$db" ] || [ -e "$db-wal" ] || [ -e "$db-shm" ]; then
  aside="$db.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
  for suffix in "" -wal -shm; do
    if [ -e "$db$suffix" ]; then mv -- "$db$suffix" "$aside$suffix"; fi
  done
fi
chmod 600 "$staging"
sync -- "$staging"
mv -- "$staging" "$db"
sync -- "$db_dir"
trap - EXIT

echo "restore-backup: installed $backup as $db (schema version $version, integrity ok)"
if [ -n "$aside" ]; then echo "restore-backup: the previous database is now $aside"; fi
echo "restore-backup: start the server with the master key file the backup was made with"
