#include "services/server/server.h"

#include <arpa/inet.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <malloc.h>
#include <netdb.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/admin_service.h"
#include "services/agreement_service.h"
#include "services/allocation_service.h"
#include "services/benchmark_service.h"
#include "services/case_service.h"
#include "services/charges_service.h"
#include "services/core/host_port.h"
#include "services/event_service.h"
#include "services/identity_keys.h"
#include "services/mediator_service.h"
#include "services/notes_service.h"
#include "services/notification_service.h"
#include "services/notifications/notifying_store.h"
#include "services/organisation_service.h"
#include "services/referral_service.h"
#include "services/retention.h"
#include "services/rules/london.h"
#include "services/scheduling/maintenance.h"
#include "services/scheduling_service.h"
#include "services/screening_service.h"
#include "services/server/bootstrap.h"
#include "services/server/key_rotation.h"
#include "services/server/key_setup.h"
#include "services/statistics_service.h"
#include "storage/audit.h"
#include "storage/browser_sessions.h"
#include "storage/data_keys.h"
#include "storage/database.h"
#include "storage/idempotency.h"
#include "storage/identity_keys.h"
#include "storage/notes.h"
#include "storage/pg_store.h"
#include "storage/refusals.h"
#include "storage/sealed_text.h"
#include "storage/tokens.h"

namespace mediation {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read ", what, " ", path));
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// Runs `batch` in write transactions of its own until it does nothing; returns how much it did.
// A stop in the middle loses nothing: the next start goes on.
absl::StatusOr<int64_t> RunInBatches(
    storage::Store& store, const std::function<absl::StatusOr<int>(storage::Tx&)>& batch) {
  int64_t total = 0;
  for (;;) {
    int n = 0;
    absl::Status wrote = store.Write([&](storage::Tx& tx) -> absl::Status {
      absl::StatusOr<int> done = batch(tx);
      if (!done.ok()) return done.status();
      n = *done;
      return absl::OkStatus();
    });
    if (!wrote.ok()) return wrote;
    total += n;
    if (n == 0) return total;
  }
}

// Identity keys written by an older computation (or before schema version 10) are recomputed.
absl::Status RefreshIdentityKeysAtStart(storage::Store& store, CallLog& log) {
  absl::StatusOr<int64_t> refreshed = RunInBatches(store, [](storage::Tx& tx) {
    return storage::RefreshIdentityKeys(tx, /*limit=*/500, IdentityKeysOf);
  });
  if (!refreshed.ok()) return refreshed.status();
  if (*refreshed > 0) {
    log.Info(absl::StrCat("identity keys computed for ", *refreshed,
                          " party, mediator and conflict record(s)"));
  }
  return absl::OkStatus();
}

absl::Status SealPlainTextAtStart(storage::EngineStore& store, const storage::DatabaseOptions& db,
                                  absl::Time now, CallLog& log) {
  absl::StatusOr<int64_t> done = RunInBatches(
      store, [now](storage::Tx& tx) { return storage::SealPlainText(tx, /*limit=*/500, now); });
  if (!done.ok()) return done.status();
  const int64_t sealed = *done;
  if (sealed == 0) return absl::OkStatus();
  // The plain text is overwritten in the file (secure_delete); the log's copies of those pages
  // go with the log.
  absl::StatusOr<bool> truncated = storage::MaintenanceFor(db)->ForgetDeletedRows();
  if (!truncated.ok()) return truncated.status();
  log.Info(absl::StrCat("sealed ", sealed,
                        " confidential text(s) stored in plain text by an "
                        "earlier version; the write-ahead log was ",
                        *truncated ? "truncated" : "not truncated (a reader held it)"));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> GrpcCredentials(const ServerOptions& o) {
  const bool tls = !o.tls_cert_path.empty() || !o.tls_key_path.empty();
  if (!tls) {
    if (!IsLoopbackAddress(o.listen) && !o.allow_insecure_remote) {
      return absl::FailedPreconditionError(
          absl::StrCat("refusing to serve plaintext on ", o.listen,
                       ", which is not a loopback address: give --tls_cert and --tls_key, or "
                       "--allow_insecure_remote if something else encrypts the traffic"));
    }
    return grpc::InsecureServerCredentials();
  }
  if (o.tls_cert_path.empty() || o.tls_key_path.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key must be given together");
  }
  if (o.tls_client_ca_path.empty() &&
      (o.require_client_cert || !o.client_identities_path.empty())) {
    return absl::InvalidArgumentError(
        "--require_client_cert and --client_identities need --tls_client_ca, the CA bundle "
        "client certificates are verified against");
  }
  absl::StatusOr<std::string> cert = ReadFile(o.tls_cert_path, "TLS certificate");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile(o.tls_key_path, "TLS key");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  if (!o.tls_client_ca_path.empty()) {
    absl::StatusOr<std::string> ca = ReadFile(o.tls_client_ca_path, "client CA bundle");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
    // Always verified: a certificate that does not chain to the bundle fails the handshake, so
    // any identity a call sees was checked (ClientIdentities relies on it).
    ssl.client_certificate_request =
        o.require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                              : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

absl::Status CheckTransportLimits(const ServerOptions& o) {
  if (o.max_message_bytes < 1024) {
    return absl::InvalidArgumentError("--max_message_bytes: at least 1024");
  }
  if (o.grpc_max_connections < 1) {
    return absl::InvalidArgumentError("--grpc_max_connections: at least 1");
  }
  if (o.grpc_handshake_timeout < absl::Milliseconds(100) ||
      o.grpc_idle_timeout < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        "--grpc_handshake_timeout_ms: at least 100; --grpc_idle_timeout_seconds: at least 1");
  }
  if (o.max_concurrent_streams < 1) {
    return absl::InvalidArgumentError("--max_concurrent_streams: at least 1");
  }
  if (o.keepalive_min_ping_interval < absl::ZeroDuration() ||
      o.keepalive_min_ping_interval > absl::Hours(24 * 24)) {
    return absl::InvalidArgumentError(
        "--keepalive_min_ping_interval_seconds: between 0 and 2073600 (24 days)");
  }
  if (o.keepalive_max_ping_strikes < 0) {
    return absl::InvalidArgumentError("--keepalive_max_ping_strikes: must not be negative");
  }
  if (o.settings.max_call <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--max_call_seconds: at least 1");
  }
  return absl::OkStatus();
}

// The descriptors the server may need at once must fit below the process's limit, or a flood of
// connections could leave it unable to open its database or accept at all. The soft limit is
// raised to the hard one first.
absl::Status CheckDescriptorLimit(const ServerOptions& o) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::OkStatus();
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  // Each worker holds the database, its write-ahead log and shared memory; gRPC, the logs and
  // the spare descriptors need some more.
  const int64_t reserved = 64 + 4 * static_cast<int64_t>(o.workers);
  const int64_t http = o.http_listen.empty() ? 0 : o.http_max_connections;
  const int64_t grpc = o.grpc_max_connections;
  if (limit.rlim_cur != RLIM_INFINITY &&
      reserved + http + grpc + 16 > static_cast<int64_t>(limit.rlim_cur)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the descriptor limit (ulimit -n) is ", limit.rlim_cur, ", but ", o.workers, " workers, ",
        grpc, " gRPC connections and ", http, " HTTP connections need about ",
        reserved + http + grpc + 16,
        ": lower --workers, --grpc_max_connections or --http_max_connections, or raise the "
        "limit"));
  }
  return absl::OkStatus();
}

// A mapping to a token that does not work would refuse that certificate on every call: say so
// at start-up, without refusing to start (the token may be revoked on purpose).
void WarnAboutMappedTokens(storage::Store& store, const ClientIdentities& identities,
                           absl::Time now, CallLog& log) {
  std::vector<std::string> problems;
  absl::Status read = store.Read([&](storage::Tx& tx) -> absl::Status {
    for (const int64_t id : identities.token_ids()) {
      absl::StatusOr<storage::TokenRecord> token = storage::GetToken(tx, id);
      if (absl::IsNotFound(token.status())) {
        problems.push_back(absl::StrCat("token ", id, " does not exist"));
      } else if (!token.ok()) {
        return token.status();
      } else if (token->revoked_at.has_value() ||
                 (token->expires_at.has_value() && *token->expires_at <= now)) {
        problems.push_back(absl::StrCat("token ", id, " is revoked or expired"));
      }
    }
    return absl::OkStatus();
  });
  if (!read.ok()) problems.push_back(absl::StrCat("cannot check the tokens: ", read.message()));
  log.Info(absl::StrCat("client certificates: ", identities.size(), " identities mapped to ",
                        identities.token_ids().size(), " token(s)"));
  for (const std::string& problem : problems) {
    log.Info(
        absl::StrCat("client certificates: ", problem, "; certificates mapped to it are refused"));
  }
}

}  // namespace

void TuneProcessForServing() {
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

absl::StatusOr<std::unique_ptr<MediationServer>> MediationServer::Start(ServerOptions options) {
  if (absl::Status checked = CheckOptions(options); !checked.ok()) return checked;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = GrpcCredentials(options);
  if (!credentials.ok()) return credentials.status();

  std::unique_ptr<MediationServer> server(new MediationServer());
  server->log_ = std::make_unique<CallLog>(options.log_format, options.log_stream);
  if (!options.client_identities_path.empty()) {
    absl::StatusOr<ClientIdentities> identities =
        ClientIdentities::Load(options.client_identities_path);
    if (!identities.ok()) return identities.status();
    server->client_identities_ = std::make_unique<ClientIdentities>(*std::move(identities));
    options.settings.client_identities = server->client_identities_.get();
  }
  absl::StatusOr<std::optional<storage::KeyRotationRecord>> interrupted_rotation =
      server->PrepareDatabase(options);
  if (!interrupted_rotation.ok()) return interrupted_rotation.status();
  if (absl::Status started = server->StartWorkers(options, *interrupted_rotation); !started.ok()) {
    return started;
  }
  server->AddServices(options.benchmark_service);
  server->options_ = std::move(options);
  // Catch up before answering anyone: cases whose sessions started while the server was down are
  // IN_MEDIATION, and notes past retention are gone, by the time the first call arrives.
  // RunMaintenance logs any job that fails; the server serves anyway, and retries each interval.
  // It runs before the port is bound: if another process holds the port and this start fails,
  // the work done was due anyway (it is the same work whichever server does it).
  (void)server->RunMaintenance();
  if (absl::Status listening = server->Listen(*credentials); !listening.ok()) return listening;
  if (absl::Status listening = server->ListenHttp(); !listening.ok()) return listening;
  server->StartMaintenanceThread();
  if (server->options_.delivery.enabled) server->delivery_->Start();
  const ServerOptions& opts = server->options_;
  server->log_->Info(absl::StrCat("serving ppa.mediation.v1 on port ", server->port_,
                                  opts.tls_cert_path.empty()        ? " (plaintext)"
                                  : opts.tls_client_ca_path.empty() ? " (TLS)"
                                  : opts.require_client_cert
                                      ? " (mutual TLS, client certificate required)"
                                      : " (mutual TLS, client certificate optional)",
                                  opts.benchmark_service ? ", with the benchmark service" : ""));
  if (server->http_ != nullptr) {
    server->log_->Info(absl::StrCat("serving HTTP (Connect) on port ", server->http_->port(),
                                    opts.tls_cert_path.empty() ? " (plaintext)" : " (TLS)",
                                    opts.web_root.empty() ? "" : ", with the web console"));
  }
  return server;
}

int MediationServer::http_port() const { return http_ != nullptr ? http_->port() : 0; }

namespace {

// The host a probe connects to for a listener on `listen`: a wildcard address means loopback.
std::string ProbeHost(absl::string_view listen) {
  absl::StatusOr<HostPort> parsed = ParseHostPort(listen, "");
  const std::string host = parsed.ok() ? parsed->host : "";
  if (host.empty() || host == "0.0.0.0") return "127.0.0.1";
  if (host == "::") return "::1";
  return host;
}

// A new TCP connection to host:port (each address the name has, as the listener binds them),
// closed at once; whether one connected within `timeout`.
absl::Status TcpConnect(const std::string& host, int port, absl::Duration timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", host));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(found, ::freeaddrinfo);
  int error = ENOENT;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      error = errno;
      continue;
    }
    error = 0;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) {
        pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
        socklen_t length = sizeof(error);
        error = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) == 1
                    ? (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length), error)
                    : ETIMEDOUT;
      }
    }
    ::close(fd);
    if (error == 0) return absl::OkStatus();
  }
  return absl::UnavailableError(absl::StrCat("connect: ", std::strerror(error)));
}

// Whether a listener's accept loop takes a new connection off its queue: connects to
// host:port and waits up to `timeout` for `taken()` (the loop's count) to grow.
absl::Status ProbeAccepting(const std::string& host, int port,
                            const std::function<int64_t()>& taken, absl::Duration timeout,
                            absl::string_view listener) {
  const int64_t before = taken();
  if (absl::Status connected = TcpConnect(host, port, timeout); !connected.ok()) {
    return connected;
  }
  const absl::Time deadline = absl::Now() + timeout;
  while (taken() <= before) {
    if (absl::Now() > deadline) {
      return absl::UnavailableError(
          absl::StrCat("a new ", listener, " connection was not taken off the listen queue"));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MediationServer::ProbeListeners(absl::Duration timeout) {
  auto stopping = [this] {
    std::lock_guard lock(maintenance_mu_);
    return stopping_;
  };
  if (stopping()) return absl::UnavailableError("the server is shutting down");
  // First that each accept loop takes a new connection off its queue (served, or closed at the
  // cap: a server that is full is working as it should); then, when there is room, a real
  // exchange over a connection of its own.
  const std::string host = ProbeHost(options_.listen);
  absl::Status grpc_status = ProbeAccepting(
      host, port_, [this] { return grpc_acceptor_->stats().taken(); }, timeout, "gRPC");
  if (grpc_status.ok() && options_.tls_cert_path.empty() &&
      grpc_acceptor_->stats().open < options_.grpc_max_connections) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // A connection of its own.
    const std::string target = absl::StrContains(host, ':') ? absl::StrCat("[", host, "]:", port_)
                                                            : absl::StrCat(host, ":", port_);
    auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    grpc::health::v1::HealthCheckResponse health;
    const grpc::Status checked = grpc::health::v1::Health::NewStub(channel)->Check(
        &context, grpc::health::v1::HealthCheckRequest(), &health);
    if (!checked.ok()) {
      grpc_status =
          absl::UnavailableError(absl::StrCat("gRPC health check: ", checked.error_message()));
    } else if (health.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
      grpc_status = absl::UnavailableError("gRPC health check: not SERVING");
    }
  }
  absl::Status http_status;
  if (http_ != nullptr) {
    const std::string http_host = ProbeHost(options_.http_listen);
    http_status = ProbeAccepting(
        http_host, http_->port(), [this] { return http_->taken(); }, timeout, "HTTP");
    // Under required mutual TLS the probe has no certificate to offer: taken is the check.
    if (http_status.ok() && !http_->full() && !options_.require_client_cert) {
      http_status = http_->Probe(http_host, timeout);
    }
  }
  if ((!grpc_status.ok() || !http_status.ok()) && !stopping()) {
    log_->Error("probe", absl::StrCat("a new client is not being served: ",
                                      grpc_status.ok() ? "" : grpc_status.message(),
                                      !grpc_status.ok() && !http_status.ok() ? "; " : "",
                                      http_status.ok() ? "" : http_status.message()));
  }
  return grpc_status.ok() ? http_status : grpc_status;
}

absl::Status MediationServer::ListenHttp() {
  const ServerOptions& o = options_;
  if (o.http_listen.empty()) return absl::OkStatus();
  if (o.tls_cert_path.empty() && !IsLoopbackAddress(o.http_listen) && !o.allow_insecure_remote) {
    return absl::FailedPreconditionError(
        absl::StrCat("refusing to serve plaintext HTTP on ", o.http_listen,
                     ", which is not a loopback address: give --tls_cert and --tls_key, or "
                     "--allow_insecure_remote if something else encrypts the traffic"));
  }
  absl::StatusOr<std::unique_ptr<http::HttpServer>> started =
      http::HttpServer::Start({.listen = o.http_listen,
                               .tls_cert_path = o.tls_cert_path,
                               .tls_key_path = o.tls_key_path,
                               .tls_client_ca_path = o.tls_client_ca_path,
                               .require_client_cert = o.require_client_cert,
                               .max_connections = o.http_max_connections,
                               .max_body_bytes = static_cast<size_t>(o.max_message_bytes),
                               .request_timeout = o.http_request_timeout,
                               .idle_timeout = o.http_idle_timeout,
                               .threads = o.http_threads,
                               .web_root = o.web_root,
                               .cors_origins = o.http_cors_origins},
                              *pipeline_);
  if (!started.ok()) return started.status();
  http_ = *std::move(started);
  return absl::OkStatus();
}

std::filesystem::path StateDirectory(const std::string& db) {
  if (storage::IsPostgresUri(db)) return "var";
  return std::filesystem::path(db).parent_path();
}

absl::Status MediationServer::CheckOptions(ServerOptions& options) {
  if (options.db_path.empty()) return absl::InvalidArgumentError("--db: required");
  const std::filesystem::path dir = StateDirectory(options.db_path);
  if (options.admin_token_path.empty()) options.admin_token_path = (dir / "admin.token").string();
  if (options.master_key_path.empty()) options.master_key_path = (dir / "master.key").string();
  if (options.backup_dir.empty()) options.backup_dir = (dir / "backups").string();
  options.settings.backup_dir = options.backup_dir;
  options.settings.shared_database = storage::IsPostgresUri(options.db_path);
  if (!options.clock) options.clock = [] { return absl::Now(); };
  if (options.workers < 1) return absl::InvalidArgumentError("--workers: at least 1");
  // A malformed address is named as such, not as "not loopback" when credentials are chosen.
  if (absl::StatusOr<HostPort> listen = ParseHostPort(options.listen, "--listen"); !listen.ok()) {
    return listen.status();
  }
  if (!options.http_listen.empty()) {
    if (absl::StatusOr<HostPort> http = ParseHostPort(options.http_listen, "--http_listen");
        !http.ok()) {
      return http.status();
    }
  }
  if (absl::Status limits = CheckTransportLimits(options); !limits.ok()) return limits;
  if (absl::Status descriptors = CheckDescriptorLimit(options); !descriptors.ok()) {
    return descriptors;
  }
  return rules::CheckLondonTimeZone();
}

absl::StatusOr<std::optional<storage::KeyRotationRecord>> MediationServer::PrepareDatabase(
    const ServerOptions& options) {
  CallLog& log = *log_;
  // Migrate and bootstrap on a connection of their own, closed before the workers open theirs.
  std::optional<storage::KeyRotationRecord> interrupted_rotation;
  absl::StatusOr<std::unique_ptr<storage::EngineStore>> store =
      storage::OpenDatabase({.db = options.db_path});
  if (!store.ok()) return store.status();
  absl::StatusOr<storage::MigrationResult> migrated = (*store)->MigrateToLatest();
  if (!migrated.ok()) return migrated.status();
  log.Info(absl::StrCat("database ", storage::HidePassword(options.db_path, options.db_path),
                        " at schema version ", migrated->to_version,
                        migrated->from_version == migrated->to_version
                            ? std::string()
                            : absl::StrCat(" (migrated from ", migrated->from_version, ")")));
  // The master key (or, during a rotation, both keys) and the service's data keys: a missing
  // or wrong key stops the server here, before it could serve anything it cannot decrypt.
  absl::StatusOr<KeySetup> keys = SetUpKeys(**store, options.master_key_path, options.clock(), log);
  if (!keys.ok()) return keys.status();
  keys_ = *std::move(keys);
  if (keys_.next_master_key_id != 0) {
    absl::Status read = (*store)->Read([&](storage::Tx& tx) -> absl::Status {
      absl::StatusOr<std::optional<storage::KeyRotationRecord>> latest =
          storage::LatestKeyRotation(tx);
      if (!latest.ok()) return latest.status();
      interrupted_rotation = *std::move(latest);
      return absl::OkStatus();
    });
    if (!read.ok()) return read;
  }
  // Confidential text written before it was sealed (schema versions up to 8) is sealed now,
  // in batches, each its own transaction, so a stop in the middle loses nothing and the next
  // start goes on.
  if (absl::Status sealed =
          SealPlainTextAtStart(**store, {.db = options.db_path}, options.clock(), log);
      !sealed.ok()) {
    return sealed;
  }
  if (absl::Status refreshed = RefreshIdentityKeysAtStart(**store, log); !refreshed.ok()) {
    return refreshed;
  }
  absl::Status linked = (*store)->Write(
      [](storage::Tx& tx) -> absl::Status { return storage::LinkUnchainedAuditRows(tx).status(); });
  if (!linked.ok()) return linked;
  absl::StatusOr<bool> created =
      BootstrapAdminToken(**store, options.admin_token_path, options.clock());
  if (!created.ok()) return created.status();
  if (*created) {
    log.Info(absl::StrCat("first start: created an ADMIN token; its secret is in ",
                          options.admin_token_path, " (readable only by this user)"));
  }
  if (client_identities_ != nullptr) {
    WarnAboutMappedTokens(**store, *client_identities_, options.clock(), log);
  }
  return interrupted_rotation;
}

absl::Status MediationServer::StartWorkers(
    ServerOptions& options, const std::optional<storage::KeyRotationRecord>& interrupted_rotation) {
  // Without group commit, writes still queue in the process (in arrival order) rather than
  // poll SQLite's lock, but each commits on its own.
  commit_group_ =
      std::make_shared<storage::CommitGroup>(options.group_commit ? SIZE_MAX : size_t{1});
  const storage::DatabaseOptions database{
      .db = options.db_path,
      .audit_key = keys_.audit_key,
      .master_keys = keys_.master_keys,
      .busy_timeout = absl::ToChronoMilliseconds(options.busy_timeout),
      .commit_group = commit_group_,
      .max_page_count = options.max_page_count};
  storage::StoreFactory sqlite = storage::DatabaseStoreFactory(database);
  storage::StoreFactory factory = sqlite;
  maintenance_db_ = storage::MaintenanceFor(database);
  if (options.store_wrapper) {
    factory = [sqlite,
               wrap = options.store_wrapper]() -> absl::StatusOr<std::unique_ptr<storage::Store>> {
      absl::StatusOr<std::unique_ptr<storage::Store>> inner = sqlite();
      if (!inner.ok()) return inner.status();
      return wrap(*std::move(inner));
    };
  }
  // Every write writes the messages its changes cause, in its own transaction.
  notifier_ = std::make_unique<notifications::Notifier>(options.notifications);
  options.settings.notifier = notifier_.get();
  factory = [inner_factory = factory, notifier = notifier_.get(), clock = options.clock,
             this]() -> absl::StatusOr<std::unique_ptr<storage::Store>> {
    absl::StatusOr<std::unique_ptr<storage::Store>> inner = inner_factory();
    if (!inner.ok()) return inner.status();
    return std::make_unique<notifications::NotifyingStore>(
        *std::move(inner), *notifier, clock, [this] {
          if (notifications::DeliveryWorker* d = delivery_wake_.load()) d->Wake();
        });
  };
  absl::StatusOr<std::unique_ptr<WorkerPool>> pool = WorkerPool::Start(options.workers, factory);
  if (!pool.ok()) return pool.status();
  pool_ = *std::move(pool);
  rotator_ = std::make_unique<KeyRotator>(*pool_, keys_.master_keys, options.master_key_path,
                                          options.clock, *log_, options.key_rotation_batch,
                                          options.key_rotation_pause);
  options.settings.key_rotation = rotator_.get();
  instances_ = storage::RegisterInstance(database, kInstancesLock);
  rotation_lock_ = storage::InstanceLockFor(database, kKeyRotationLock);
  if (instances_ != nullptr) {
    rotator_->ShareDatabase(
        {.count_others = [registry = instances_.get()] { return registry->CountOthers(); },
         .hold_lock = [lock = rotation_lock_.get()] { return lock->TryHold(); },
         .release_lock = [lock = rotation_lock_.get()] { lock->Release(); }});
  }
  if (interrupted_rotation.has_value() && !interrupted_rotation->completed_at.has_value()) {
    log_->Info(absl::StrCat("master key rotation ", interrupted_rotation->id,
                            " was under way at the last stop: resuming"));
    rotator_->Resume(*interrupted_rotation);
  }
  pipeline_ = std::make_unique<CallPipeline>(*pool_, *log_, options.clock, options.settings, &hub_);
  runner_ = std::make_unique<RpcRunner>(*pipeline_);
  std::optional<notifications::SmtpMailer> mailer;
  if (options.smtp.has_value()) {
    absl::StatusOr<notifications::SmtpMailer> created =
        notifications::SmtpMailer::Create(*options.smtp);
    if (!created.ok()) return created.status();
    mailer = *std::move(created);
  }
  // Server processes sharing a database deliver, and maintain it, one at a time.
  delivery_lock_ = storage::InstanceLockFor(database, kDeliveryLock);
  maintenance_lock_ = storage::InstanceLockFor(database, kMaintenanceLock);
  notifications::DeliverySettings delivery = options.delivery;
  if (delivery_lock_ != nullptr) {
    delivery.may_run = [lock = delivery_lock_.get()] { return lock->TryHold(); };
  }
  delivery_ = std::make_unique<notifications::DeliveryWorker>(*pool_, *notifier_, std::move(mailer),
                                                              delivery, options.clock, *log_);
  // Writes through other server processes wake this one's event streams.
  changes_ = storage::ListenForChanges(database, [this] { hub_.Notify(); });
  delivery_wake_ = delivery_.get();
  return absl::OkStatus();
}

void MediationServer::AddServices(bool benchmark_service) {
  RpcRunner& runner = *runner_;
  services_.push_back(std::make_unique<AdminServiceImpl>(runner));
  services_.push_back(std::make_unique<IdentityServiceImpl>(runner));
  services_.push_back(std::make_unique<OrganisationServiceImpl>(runner));
  services_.push_back(std::make_unique<ReferralServiceImpl>(runner));
  services_.push_back(std::make_unique<ScreeningServiceImpl>(runner));
  services_.push_back(std::make_unique<CaseServiceImpl>(runner));
  services_.push_back(std::make_unique<ChargesServiceImpl>(runner));
  services_.push_back(std::make_unique<MediatorServiceImpl>(runner));
  services_.push_back(std::make_unique<AllocationServiceImpl>(runner));
  services_.push_back(std::make_unique<SchedulingServiceImpl>(runner));
  services_.push_back(std::make_unique<NotesServiceImpl>(runner));
  services_.push_back(std::make_unique<AgreementServiceImpl>(runner));
  services_.push_back(std::make_unique<CaseEventServiceImpl>(runner));
  services_.push_back(std::make_unique<StatisticsServiceImpl>(runner));
  services_.push_back(std::make_unique<NotificationServiceImpl>(runner));
  if (benchmark_service) services_.push_back(std::make_unique<BenchmarkServiceImpl>());
}

absl::Status MediationServer::Listen(const std::shared_ptr<grpc::ServerCredentials>& credentials) {
  const ServerOptions& opts = options_;
  // Why the callback API: it is the gRPC team's recommendation for new C++ servers, and an empty
  // callback-API server answers about three times the calls per second of a sync-API one on this
  // machine. Its one rule is that nothing may block inside a reaction, so every handler runs on
  // the WorkerPool (each worker with its own SQLite connection) and finishes its reactor there.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Link the health protocol's descriptors so reflection can describe grpc.health.v1.Health.
  grpc::health::v1::HealthCheckRequest::descriptor();

  // The server accepts connections itself (see grpc_acceptor.h) and hands them to gRPC.
  absl::StatusOr<std::unique_ptr<GrpcAcceptor>> acceptor =
      GrpcAcceptor::Bind(opts.listen, opts.grpc_max_connections, *log_);
  if (!acceptor.ok()) {
    rotator_->Stop();
    pool_->Stop();
    return acceptor.status();
  }
  grpc::ServerBuilder builder;
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> handoff =
      builder.experimental().AddExternalConnectionAcceptor(
          grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD, credentials);
  builder.SetMaxReceiveMessageSize(opts.max_message_bytes);
  builder.SetMaxSendMessageSize(opts.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, opts.max_concurrent_streams);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      static_cast<int>(absl::ToInt64Milliseconds(opts.keepalive_min_ping_interval)));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, opts.keepalive_max_ping_strikes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                             opts.keepalive_permit_without_calls ? 1 : 0);
  // A connection that has not sent its HTTP/2 preface and settings (after TLS) by then is
  // closed; one with no call under way for grpc_idle_timeout is sent GOAWAY and closed; and one
  // with a call under way (an event stream) is pinged every minute, so a peer that vanished
  // without closing is found within 80 s.
  builder.AddChannelArgument(
      GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(opts.grpc_handshake_timeout)));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(opts.grpc_idle_timeout)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  for (auto& service : services_) builder.RegisterService(service.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr) {
    rotator_->Stop();
    pool_->Stop();
    return absl::UnavailableError(absl::StrCat("could not start the gRPC server on ", opts.listen));
  }
  grpc_acceptor_ = *std::move(acceptor);
  port_ = grpc_acceptor_->port();
  grpc_acceptor_->Start(std::move(handoff));
  return absl::OkStatus();
}

void MediationServer::StartMaintenanceThread() {
  maintenance_ = std::thread([this] {
    std::unique_lock lock(maintenance_mu_);
    while (!maintenance_wake_.wait_for(lock,
                                       absl::ToChronoMilliseconds(options_.maintenance_interval),
                                       [this] { return stopping_; })) {
      lock.unlock();
      (void)RunMaintenance();
      lock.lock();
    }
  });
}

MediationServer::~MediationServer() { Shutdown(); }

storage::CommitGroup::Stats MediationServer::commit_stats() const {
  return commit_group_ == nullptr ? storage::CommitGroup::Stats{} : commit_group_->stats();
}

absl::StatusOr<int> MediationServer::RunMaintenance() {
  // Every process, whichever runs the maintenance: its mark among the servers holds.
  if (instances_ != nullptr) instances_->Refresh();
  // Another server process on the same database holds the maintenance lock: it maintains.
  if (maintenance_lock_ != nullptr && !maintenance_lock_->TryHold()) return -1;
  struct Report {
    int started = 0;
    int destroyed = 0;
    int anonymised = 0;
    int forgotten = 0;
    bool log_truncated = false;
    absl::Status first_error;
  };
  auto result = std::make_shared<std::promise<Report>>();
  std::future<Report> done = result->get_future();
  const absl::Time now = options_.clock();
  const absl::Duration retention = options_.settings.note_retention;
  const absl::Duration personal_retention = options_.settings.personal_data_retention;
  // Each job runs whatever the others did: a failure in one must not hold back retention.
  const bool queued =
      pool_ != nullptr &&
      pool_->Submit([this, result, now, retention, personal_retention](storage::Store& store) {
        Report report;
        auto note = [&](const absl::Status& s, absl::string_view job) {
          if (s.ok()) return;
          log_->Error("maintenance", absl::StrCat(job, " failed: ", s.ToString()));
          if (report.first_error.ok()) report.first_error = s;
        };
        absl::StatusOr<int> started = AdvanceCasesWithStartedSessions(store, now);
        note(started.status(), "moving started cases to IN_MEDIATION");
        if (started.ok()) report.started = *started;
        absl::StatusOr<int> destroyed = DestroyExpiredNotes(store, now, retention);
        note(destroyed.status(), "destroying notes after retention");
        if (destroyed.ok()) report.destroyed = *destroyed;
        absl::StatusOr<int> anonymised = AnonymiseExpiredCases(store, now, personal_retention);
        note(anonymised.status(), "removing personal data after retention");
        if (anonymised.ok()) report.anonymised = *anonymised;
        // Calls refused without a token: their counts, and the counts' own retention.
        note(WriteRefusalCounts(store, now), "writing the counts of calls refused without a token");
        // Responses kept for idempotency keys are answered again for a day.
        absl::Status forgotten = store.Write([&](storage::Tx& tx) -> absl::Status {
          absl::StatusOr<int> n = storage::ForgetIdempotentCallsBefore(tx, now - absl::Hours(24));
          if (n.ok()) report.forgotten = *n;
          return n.status();
        });
        note(forgotten, "forgetting old idempotency keys");
        // Browser sessions that ended (or reached their absolute end) a day ago and more.
        note(store.Write([&](storage::Tx& tx) -> absl::Status {
          return storage::DeleteFinishedBrowserSessions(tx, now - absl::Hours(24)).status();
        }),
             "removing finished browser sessions");
        // Erased keys and deleted ciphertexts must not live on in the log's
        // copies of their pages: truncate it (retried next time if a reader
        // is in the way).
        if (report.destroyed > 0 || report.anonymised > 0 || report.forgotten > 0) {
          truncate_log_pending_ = true;
        }
        if (truncate_log_pending_) {
          absl::StatusOr<bool> truncated = maintenance_db_->ForgetDeletedRows();
          note(truncated.status(), "truncating the write-ahead log");
          if (truncated.ok() && *truncated) {
            truncate_log_pending_ = false;
            report.log_truncated = true;
          }
        }
        result->set_value(std::move(report));
      });
  if (!queued) return absl::UnavailableError("the server is shutting down");
  const Report report = done.get();
  if (report.started + report.destroyed > 0) hub_.Notify();  // New case events to stream.
  if (report.started + report.destroyed + report.anonymised + report.forgotten > 0) {
    log_->Info(absl::StrCat("maintenance: ", report.started, " case(s) moved to IN_MEDIATION, ",
                            report.destroyed, " case(s) had their notes destroyed, ",
                            report.anonymised, " case(s) had their personal data removed, ",
                            report.forgotten, " idempotency key(s) forgotten",
                            report.log_truncated ? "; write-ahead log truncated" : ""));
  }
  if (!report.first_error.ok()) return report.first_error;
  return report.started + report.destroyed + report.anonymised;
}

absl::Status MediationServer::WriteRefusalCounts(storage::Store& store, absl::Time now) {
  std::vector<AnonymousRefusals::Count> drained = pipeline_->anonymous_refusals().Drain();
  if (drained.empty()) return absl::OkStatus();
  std::vector<storage::RefusedCallCount> counts;
  int64_t calls = 0;
  const AnonymousRefusals::Count* most = &drained.front();
  for (const AnonymousRefusals::Count& c : drained) {
    counts.push_back({c.peer, c.minute, c.calls, c.last_method});
    calls += c.calls;
    if (c.calls > most->calls) most = &c;
  }
  absl::Status wrote = store.Write([&](storage::Tx& tx) -> absl::Status {
    if (absl::Status s = storage::AddRefusedCalls(tx, counts); !s.ok()) return s;
    return storage::ForgetRefusedCallsBefore(tx,
                                             absl::ToUnixSeconds(now - absl::Hours(24 * 90)) / 60)
        .status();
  });
  if (!wrote.ok()) {
    pipeline_->anonymous_refusals().Restore(std::move(drained));
    return wrote;
  }
  // One line, however many addresses.
  std::set<std::string> peers;
  for (const AnonymousRefusals::Count& c : drained) peers.insert(c.peer);
  log_->Info(absl::StrCat("refused ", calls, " call(s) without a valid token from ", peers.size(),
                          " address(es); the most, ", most->calls, ", from ", most->peer,
                          " (the last to ", most->last_method, "); see refused_anonymous_calls"));
  return absl::OkStatus();
}

void MediationServer::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    {
      std::lock_guard lock(maintenance_mu_);
      stopping_ = true;
    }
    maintenance_wake_.notify_all();
    if (maintenance_.joinable()) maintenance_.join();
    if (server_ != nullptr) {
      log_->Info("shutting down: refusing new calls, draining in-flight calls");
      // Event streams never end by themselves: end them now (UNAVAILABLE, resume later).
      if (changes_ != nullptr) changes_->Stop();  // Nothing notifies the hub after it closes.
      hub_.Close();
      if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
        health->Shutdown();
      }
      // No new connections: a connection handed to gRPC after its shutdown would be leaked.
      grpc_acceptor_->Stop();
      // Both listeners drain at once, each for up to the grace.
      std::thread http_drain;
      if (http_ != nullptr) {
        http_drain = std::thread([this] { http_->Shutdown(options_.shutdown_grace); });
      }
      server_->Shutdown(std::chrono::system_clock::now() +
                        absl::ToChronoMilliseconds(options_.shutdown_grace));
      server_->Wait();
      if (http_drain.joinable()) http_drain.join();
    }
    if (rotator_ != nullptr) rotator_->Stop();  // Before the workers it runs on stop.
    if (delivery_ != nullptr) {                 // Likewise; a send under way is abandoned.
      delivery_wake_ = nullptr;
      delivery_->Stop();
    }
    // The counts of calls refused without a token since the last maintenance.
    if (pool_ != nullptr && runner_ != nullptr) {
      auto written = std::make_shared<std::promise<void>>();
      std::future<void> done = written->get_future();
      if (pool_->Submit([this, written](storage::Store& store) {
            (void)WriteRefusalCounts(store, options_.clock());
            written->set_value();
          })) {
        done.wait();
      }
    }
    if (pool_ != nullptr) pool_->Stop();
    pool_.reset();  // Closes every worker's database connection.
    if (const storage::CommitGroup::Stats s = commit_stats(); s.batches > 0 && log_ != nullptr) {
      log_->Info(absl::StrCat("group commit: ", s.writes, " write(s) in ", s.batches,
                              " batch(es), at most ", s.largest, " in one"));
    }
    if (log_ != nullptr && server_ != nullptr) log_->Info("stopped cleanly");
  });
}

}  // namespace mediation
