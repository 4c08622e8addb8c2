#!/usr/bin/env bash
# Creates DEVELOPMENT certificates for TLS and mutual TLS with openssl (Debian package openssl):
#
#   deploy/make-dev-certs.sh DIR [CLIENT_NAME [CLIENT_URI]]
#
# into DIR (created, mode 0700):
#   ca.crt, ca.key          a development CA (ECDSA P-256, 10 years)
#   server.crt, server.key  the server's certificate, SAN DNS:localhost and IP:127.0.0.1, ::1
#                           (add names with MEDIATION_CERT_SERVER_SANS="DNS:ppa.example,IP:10.0.0.5")
#   CLIENT_NAME.crt/.key    a client certificate (default name "mediationctl") with the URI SAN
#                           CLIENT_URI (default spiffe://ppa/CLIENT_NAME, so
#                           spiffe://ppa/mediationctl) and common name CLIENT_NAME
#
# Idempotent-ish: files that exist are kept, so running it again only adds what is missing (e.g.
# another client certificate signed by the same CA). Delete DIR to start again. Keys are 0600.
#
# Then, for example:
#   mediation-server --listen=127.0.0.1:50051 --tls_cert=DIR/server.crt --tls_key=DIR/server.key \
#     --tls_client_ca=DIR/ca.crt --client_identities=identities.txt
# with identities.txt holding 'uri:spiffe://ppa/mediationctl <token id>'.
#
# Never use these in production: the CA key sits next to the certificates, unprotected.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 3 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
dir=$1
client=${2:-mediationctl}
client_uri=${3:-spiffe://ppa/${client}}
server_sans="DNS:localhost,IP:127.0.0.1,IP:::1${MEDIATION_CERT_SERVER_SANS:+,${MEDIATION_CERT_SERVER_SANS}}"
case "$client" in
  ca | server | *[!A-Za-z0-9._-]*)
    echo "make-dev-certs: CLIENT_NAME must be letters, digits, '.', '_' or '-', and not ca or server" >&2
    exit 2
    ;;
esac
command -v openssl >/dev/null || {
  echo "make-dev-certs: openssl is not installed (apt-get install openssl)" >&2
  exit 1
}

umask 077
mkdir -p "$dir"
cd "$dir"

# new_key NAME: an ECDSA P-256 key in NAME.key, unless it exists.
new_key() {
  [ -f "$1.key" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
}

# sign NAME SUBJECT EXTENSIONS: NAME.crt for NAME.key, signed by the CA, unless it exists.
sign() {
  local name=$1 subject=$2 extensions=$3
  [ -f "$name.crt" ] && return 0
  new_key "$name"
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr"
  printf '%s\n' "$extensions" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
    -sha256 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
  echo "make-dev-certs: created $dir/$name.crt"
}

if [ ! -f ca.crt ]; then
  new_key ca
  openssl req -new -x509 -key ca.key -sha256 -days 3650 \
    -subj "/O=PPA mediation development/CN=PPA mediation development CA $(date +%s)" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt
  echo "make-dev-certs: created $dir/ca.crt"
fi

sign server "/O=PPA mediation development/CN=localhost" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=${server_sans}"

sign "$client" "/O=PPA mediation development/CN=${client}" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=URI:${client_uri}"

# The certificates are public; the keys stay 0600.
chmod 0644 ./*.crt
