#!/usr/bin/env bash
# Installs mediation-server as a systemd service, idempotently:
#
#   sudo deploy/install-service.sh [BUILD_DIR]        (default BUILD_DIR: build)
#
# - creates the system user and group `mediation` (no login, home /var/lib/mediation);
# - installs build/services/mediation-server and build/clients/mediationctl to /usr/local/bin;
# - installs deploy/mediation-server.service to /etc/systemd/system (replacing an older copy);
# - installs deploy/mediation-server.conf.example as /etc/mediation/mediation-server.conf only
#   if there is none yet (an existing configuration is never overwritten; the new example goes
#   beside it), and an empty /etc/mediation/client-identities if there is none;
# - creates /etc/mediation/tls (root:mediation, 0750) for server.crt, server.key, client-ca.crt.
# Data is never touched: systemd creates /var/lib/mediation (StateDirectory) on the first start.
#
# DESTDIR=/some/dir installs into that tree instead, without creating the user, changing owners
# or calling systemctl (for packaging, or to look at what would be installed).
#
# Afterwards: put the TLS files in /etc/mediation/tls (deploy/make-dev-certs.sh makes
# development ones), review /etc/mediation/mediation-server.conf, then
#   systemctl enable --now mediation-server && journalctl -u mediation-server
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build}
destdir=${DESTDIR:-}
server_bin="$build/services/mediation-server"
cli_bin="$build/clients/mediationctl"
for f in "$server_bin" "$cli_bin"; do
  if [ ! -x "$f" ]; then
    echo "install-service: $f is missing: build first (deploy/run.sh or cmake --build $build)" >&2
    exit 1
  fi
done
if [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then
  echo "install-service: run as root (or set DESTDIR to install into a directory)" >&2
  exit 1
fi

# owner USER:GROUP PATH...: chown, unless installing into DESTDIR.
owner() {
  local who=$1
  shift
  [ -n "$destdir" ] || chown "$who" "$@"
}

if [ -z "$destdir" ]; then
  getent group mediation >/dev/null || groupadd --system mediation
  if ! getent passwd mediation >/dev/null; then
    useradd --system --gid mediation --home-dir /var/lib/mediation --no-create-home \
      --shell /usr/sbin/nologin --comment "Assisted-mediation server" mediation
    echo "install-service: created the system user mediation"
  fi
fi

install -d -m 0755 "$destdir/usr/local/bin" "$destdir/etc/systemd/system" \
  "$destdir/usr/local/share/doc/mediation-server"
install -m 0755 "$server_bin" "$cli_bin" "$destdir/usr/local/bin/"
install -m 0644 deploy/mediation-server.service "$destdir/etc/systemd/system/"
install -m 0644 README.md deploy/mediation-server.conf.example \
  "$destdir/usr/local/share/doc/mediation-server/"

install -d -m 0750 "$destdir/etc/mediation" "$destdir/etc/mediation/tls"
owner root:mediation "$destdir/etc/mediation" "$destdir/etc/mediation/tls"
conf="$destdir/etc/mediation/mediation-server.conf"
if [ -e "$conf" ]; then
  install -m 0640 deploy/mediation-server.conf.example "$conf.example"
  owner root:mediation "$conf.example"
  echo "install-service: kept $conf; the current example is $conf.example"
else
  install -m 0640 deploy/mediation-server.conf.example "$conf"
  owner root:mediation "$conf"
  echo "install-service: installed $conf: review it"
fi
identities="$destdir/etc/mediation/client-identities"
if [ ! -e "$identities" ]; then
  cat >"$identities" <<'IDENTITIES'
# Client-certificate identities that act as access tokens (mediation-server --client_identities).
# One '<kind>:<value> <token id>' a line; kind uri, dns, email or cn. For example:
#   uri:spiffe://ppa/mediationctl 3
# The token id comes from AdminService.IssueToken / ListTokens. Restart the server to apply.
IDENTITIES
  chmod 0640 "$identities"
  owner root:mediation "$identities"
fi

if [ -z "$destdir" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  echo "install-service: installed; start with: systemctl enable --now mediation-server"
else
  echo "install-service: installed into ${destdir:-/} (systemd is not running: no daemon-reload)"
fi
