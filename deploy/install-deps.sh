#!/usr/bin/env bash
# Installs every Debian 12 package the server, its tests and its clients need, and nothing else.
# Idempotent: packages already installed are left alone; `apt-get update` runs only when something
# has to be installed. Run as root or with sudo available.
set -euo pipefail

packages=(
  # Toolchain.
  build-essential cmake pkg-config ccache clang-format
  # gRPC and Protocol Buffers (C++ libraries, compilers and the gRPC plugin).
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  # Storage: SQLite (the embedded default) and PostgreSQL (the second engine, through libpqxx;
  # the tests start a throw-away PostgreSQL cluster of their own, and btree_gist comes with it).
  libsqlitecpp-dev libsqlite3-dev libpqxx-dev postgresql
  # The sqlite3 shell: deploy/restore-backup.sh checks and installs backups with it.
  sqlite3
  # Time zones: Howard Hinnant's date with tz, reading the system tz database.
  libhowardhinnant-date-dev tzdata
  # Hashing and random tokens.
  libssl-dev
  # Authenticated encryption of confidential notes (XChaCha20-Poly1305).
  libsodium-dev
  # Recognising a person across records: Unicode normalisation and confusable skeletons (ICU).
  libicu-dev
  # JSON log lines.
  nlohmann-json3-dev
  # The HTTP listener (the Connect protocol, browser sessions, the web console): Boost.Beast and
  # Boost.Asio, header-only, with OpenSSL for HTTPS.
  libboost-dev
  # Readiness and the watchdog under systemd (sd_notify).
  libsystemd-dev
  # gRPC health and reflection protocol definitions (for reflection and test clients).
  grpc-proto
  # Tests and benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev
  # iCalendar export is checked with a standards-following parser in the tests.
  libical-dev
  # Email (the notification outbox sends over SMTP with libcurl); the tests record what is sent
  # with a real SMTP server on loopback (aiosmtpd).
  libcurl4-openssl-dev python3-aiosmtpd
  # The Python client: Debian's gRPC and protobuf runtimes (stubs come from grpc_python_plugin,
  # which protobuf-compiler-grpc ships).
  python3 python3-grpcio python3-protobuf
  # The end-to-end walkthrough lets days pass by restarting the server with a shifted clock.
  faketime
  # deploy/make-dev-certs.sh (development TLS certificates; the transport tests use it).
  openssl
  # The README's HTTP examples call the API with curl.
  curl
  # The web console's browser tests drive Debian's Chromium headless (playwright-core).
  chromium
  # Fuzzing (deploy/fuzz.sh): clang with libFuzzer and the ASan/UBSan runtimes, and llvm's tools.
  clang libclang-rt-14-dev llvm
)

# The web clients and their test (clients/web): Node.js and npm, from Debian only when the
# commands are missing, so a Node.js installed some other way (NodeSource's nodejs bundles npm)
# is left alone.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
