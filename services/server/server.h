// The mediation server: storage, worker pool, services, health and reflection, assembled and
// started on one listening address. main() and the in-process tests both use this class, so the
// tests exercise exactly what runs in production.
#ifndef MEDIATION_SERVICES_SERVER_SERVER_H_
#define MEDIATION_SERVICES_SERVER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/call_log.h"
#include "services/core/client_identities.h"
#include "services/core/event_hub.h"
#include "services/core/rpc_runner.h"
#include "services/http/http_server.h"
#include "services/notifications/delivery.h"
#include "services/notifications/notifier.h"
#include "services/server/grpc_acceptor.h"
#include "services/server/key_rotation.h"
#include "services/server/key_setup.h"
#include "storage/commit_group.h"
#include "storage/database.h"
#include "storage/store.h"

namespace mediation {

struct ServerOptions {
  // host:port; port 0 picks a free port (see MediationServer::port()).
  std::string listen = "127.0.0.1:50051";
  // The SQLite database file; created, with its schema, on first start.
  std::string db_path;
  // Where the first ADMIN token is written on first start. Default: admin.token beside db_path.
  std::string admin_token_path;
  // PEM files. Both or neither. Without them the server speaks plaintext, which it allows only
  // on a loopback address unless allow_insecure_remote is set.
  std::string tls_cert_path;
  std::string tls_key_path;
  bool allow_insecure_remote = false;
  // Mutual TLS (needs the two above). With a CA bundle the server asks every client for a
  // certificate and refuses one that does not chain to it; with require_client_cert it also
  // refuses clients without one. client_identities_path maps certificate identities to tokens
  // (services/core/client_identities.h); a bearer token, when a call sends one, takes precedence.
  std::string tls_client_ca_path;
  bool require_client_cert = false;
  std::string client_identities_path;
  int max_message_bytes = 4 * 1024 * 1024;
  // The HTTP listener (services/http/http_server.h): the Connect protocol for every RPC,
  // browser sign-in and the web console. host:port (port 0 picks a free port); empty: none.
  // It uses the TLS certificate and key above when they are given, and like gRPC serves
  // plaintext only on loopback unless allow_insecure_remote. Its body limit is
  // max_message_bytes.
  std::string http_listen;
  // The web console's files (served at /); empty: none.
  std::string web_root;
  int http_max_connections = 512;
  int http_threads = 2;
  absl::Duration http_request_timeout = absl::Seconds(10);
  absl::Duration http_idle_timeout = absl::Seconds(60);
  std::vector<std::string> http_cors_origins;
  // HTTP/2 limits per connection: concurrent calls (more wait on the client), and keepalive
  // enforcement: a client pinging more often than min_ping_interval (or at all between calls,
  // unless permitted) earns a strike, and after max_ping_strikes (0: no limit) its connection is
  // closed with GOAWAY ENHANCE_YOUR_CALM. The ceiling on call duration is settings.max_call.
  int max_concurrent_streams = 100;
  // gRPC connections: the most open at once (more are closed as soon as they are accepted;
  // checked at start against the descriptor limit), how long a new connection has to finish
  // its TLS and HTTP/2 handshake (a silent or half-open one is closed then), and how long one
  // may stay open with no call under way before the server closes it (GOAWAY; clients
  // reconnect on their next call). See services/server/grpc_acceptor.h.
  int grpc_max_connections = 1024;
  absl::Duration grpc_handshake_timeout = absl::Seconds(5);
  absl::Duration grpc_idle_timeout = absl::Seconds(300);
  absl::Duration keepalive_min_ping_interval = absl::Seconds(60);
  int keepalive_max_ping_strikes = 2;
  bool keepalive_permit_without_calls = false;
  // Threads that run database work. A write waits for its commit on its worker, so this is also
  // the most writes one commit can hold.
  int workers = 64;
  // Batch concurrent write transactions into one commit (storage/commit_group.h). Off: one
  // commit, and one fsync, per write, the writes queued in arrival order.
  bool group_commit = true;
  // Serve the benchmark-only echo service (proto/ppa/mediation/bench/v1/bench.proto).
  bool benchmark_service = false;
  // How long shutdown waits for in-flight calls before cancelling them.
  absl::Duration shutdown_grace = absl::Seconds(20);
  LogFormat log_format = LogFormat::kText;
  std::FILE* log_stream = stderr;  // Not owned.
  // The source of "now" for every call. Default: the system clock.
  Clock clock;
  // Session buffer, minimum notice and note retention.
  ServiceSettings settings;
  // The master key file for notes. Default: master.key beside db_path. Created on first start;
  // afterwards it must be the key the database was used with.
  std::string master_key_path;
  // Data keys re-wrapped per transaction by a master key rotation.
  int key_rotation_batch = 200;
  // The wait after each batch of a rotation (throttles it on a busy server).
  absl::Duration key_rotation_pause = absl::ZeroDuration();
  // How often cases whose first session has started move to IN_MEDIATION.
  absl::Duration maintenance_interval = absl::Minutes(1);
  // Online backups (AdminService.BackupDatabase) go here. Default: backups/ beside db_path.
  std::string backup_dir;
  // How long a worker's connection waits for another's write lock before the call fails with
  // UNAVAILABLE.
  absl::Duration busy_timeout = absl::Seconds(5);
  // For tests: if positive, the most pages the database may grow to through the workers'
  // connections, so a write past it meets a real SQLITE_FULL (a full disk).
  int64_t max_page_count = 0;
  // Email (services/notifications/): what messages say and link to, and how they are sent.
  // Without smtp, messages are written and marked NOT_SENT when due.
  notifications::NotificationSettings notifications;
  std::optional<notifications::SmtpSettings> smtp;
  notifications::DeliverySettings delivery;
  // Wraps each worker's store (a SQLite connection to db_path). Tests use it to inject faults.
  std::function<std::unique_ptr<storage::Store>(std::unique_ptr<storage::Store>)> store_wrapper;
};

class MediationServer {
 public:
  // Opens and migrates the database, creates the first ADMIN token if the database has none, and
  // starts serving. Fails with a message an operator can act on.
  static absl::StatusOr<std::unique_ptr<MediationServer>> Start(ServerOptions options);

  ~MediationServer();

  // The port actually listened on.
  int port() const { return port_; }
  // The HTTP listener's port; 0 without one.
  int http_port() const;

  // Whether the listeners still take new clients, the way a new client finds out, each step
  // within `timeout`: a new TCP connection to each listener must be taken off its queue by the
  // accept loop (served, or closed at once when the server is full: that is working as
  // designed); and when the listener has room, a real exchange over a new connection (a gRPC
  // health check, plaintext only: the probe has no client certificate to offer; GET /healthz).
  // Failures are logged. Systemd's watchdog (deploy/mediation-server.service) is fed only while
  // this passes.
  absl::Status ProbeListeners(absl::Duration timeout);
  const ServerOptions& options() const { return options_; }

  // The master keys the server holds (they unwrap the database's data keys). For tools and
  // tests that read sealed data through storage/ on a connection of their own.
  std::shared_ptr<const storage::MasterKeys> master_keys() const { return keys_.master_keys; }

  // How many writes shared how many commits (all zero without group commit).
  storage::CommitGroup::Stats commit_stats() const;

  // Runs the periodic work now and waits for it: cases whose first session has started move to
  // IN_MEDIATION, notes of cases finished longer ago than their retention period are destroyed,
  // and so is the personal data of cases finished longer ago than its retention period. Returns
  // how many cases changed, or -1 when another server process on the same database holds the
  // maintenance lock (it runs maintenance, and this process does not). The server also runs it
  // every maintenance_interval.
  absl::StatusOr<int> RunMaintenance();

  // Graceful shutdown: health turns NOT_SERVING, no new calls are accepted, in-flight calls get
  // up to shutdown_grace to finish, then the workers drain and the database closes. Idempotent
  // and thread-safe.
  void Shutdown();

 private:
  MediationServer() = default;

  // The steps of Start, in order.
  // Fills in the paths that default beside the database and checks what needs no I/O.
  static absl::Status CheckOptions(ServerOptions& options);
  // Migrates the database, sets up the keys, seals old plain text, refreshes identity keys, links
  // the audit chain and creates the first ADMIN token, on a connection of its own. Returns the
  // master key rotation the last stop interrupted, if any.
  absl::StatusOr<std::optional<storage::KeyRotationRecord>> PrepareDatabase(
      const ServerOptions& options);
  // The worker pool (a connection each), the key rotator (resuming `interrupted_rotation`) and
  // the call runner; sets options.settings.key_rotation.
  absl::Status StartWorkers(ServerOptions& options,
                            const std::optional<storage::KeyRotationRecord>& interrupted_rotation);
  // Every service of the API (and the benchmark service when asked for).
  void AddServices(bool benchmark_service);
  // Binds the port with options_ and starts gRPC; UNAVAILABLE naming the address if it cannot.
  absl::Status Listen(const std::shared_ptr<grpc::ServerCredentials>& credentials);
  // Starts the HTTP listener when options_.http_listen names one.
  absl::Status ListenHttp();
  // Runs RunMaintenance every options_.maintenance_interval until Shutdown.
  void StartMaintenanceThread();

  // Writes down (and logs) the counts of calls refused without a token since the last time.
  absl::Status WriteRefusalCounts(storage::Store& store, absl::Time now);

  ServerOptions options_;
  std::unique_ptr<CallLog> log_;
  KeySetup keys_;
  std::unique_ptr<KeyRotator> rotator_;
  std::unique_ptr<ClientIdentities> client_identities_;
  EventHub hub_;
  std::shared_ptr<storage::CommitGroup> commit_group_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<notifications::Notifier> notifier_;
  std::unique_ptr<notifications::DeliveryWorker> delivery_;
  // What the workers' stores wake after a commit that wrote messages (null until it starts).
  std::atomic<notifications::DeliveryWorker*> delivery_wake_{nullptr};
  std::unique_ptr<CallPipeline> pipeline_;
  std::unique_ptr<RpcRunner> runner_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<GrpcAcceptor> grpc_acceptor_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<http::HttpServer> http_;
  int port_ = 0;
  std::once_flag shutdown_once_;

  std::mutex maintenance_mu_;
  std::condition_variable maintenance_wake_;
  // Set when notes were destroyed or responses forgotten but the write-ahead log could not be
  // truncated yet. Touched only by maintenance, which runs one job at a time.
  std::atomic<bool> truncate_log_pending_{false};
  // Forgets deleted rows' bytes (storage::DatabaseMaintenance), for maintenance.
  std::unique_ptr<storage::DatabaseMaintenance> maintenance_db_;
  // Held by one server process at a time on a shared database (null on SQLite): the one that
  // delivers the outbox, and the one that runs maintenance.
  std::unique_ptr<storage::InstanceLock> delivery_lock_;
  std::unique_ptr<storage::InstanceLock> maintenance_lock_;
  // Shared databases: this process counted among the servers, and the key rotation's lock.
  std::unique_ptr<storage::InstanceRegistry> instances_;
  std::unique_ptr<storage::InstanceLock> rotation_lock_;
  // Wakes the event streams on writes through other server processes (null on SQLite).
  std::unique_ptr<storage::ChangeListener> changes_;
  bool stopping_ = false;  // Guarded by maintenance_mu_.
  std::thread maintenance_;
};

// The InstanceLock keys (PostgreSQL advisory locks) of the outbox's delivery and of maintenance.
inline constexpr int64_t kDeliveryLock = 0x64656c69;     // "deli"
inline constexpr int64_t kMaintenanceLock = 0x6d61696e;  // "main"
inline constexpr int64_t kInstancesLock = 0x73727672;    // "srvr"
inline constexpr int64_t kKeyRotationLock = 0x726f7461;  // "rota"

// The directory files default to beside the database (admin.token, master.key, backups/): the
// SQLite file's own, or var/ for a PostgreSQL database.
std::filesystem::path StateDirectory(const std::string& db);

// Process-wide tuning for serving; call once at start-up, before any thread starts.
// - Keeps large, short-lived allocations (an allocation proposal holds facts about every
//   mediator: megabytes with a large roster) on the heap instead of fresh mmap'd pages, so they
//   are reused instead of faulted in, and unmapped with a TLB shootdown, on every call.
// - Turns off Abseil's mutex deadlock detection, which Debian's Abseil leaves on: it keeps a
//   global graph of every lock gRPC takes, on every call.
void TuneProcessForServing();

}  // namespace mediation

#endif  // MEDIATION_SERVICES_SERVER_SERVER_H_
