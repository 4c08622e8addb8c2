// mediation-server: the assisted-mediation gRPC server. Run with --help for its flags.
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/core/validation.h"
#include "services/server/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to listen on. Plaintext is allowed only on loopback addresses unless "
          "--allow_insecure_remote is given.");
ABSL_FLAG(std::string, db, "var/mediation.db",
          "The database: a SQLite file (it and its directory are created on first start), or a "
          "PostgreSQL URI, postgresql://user@host[,host2]/dbname[?target_session_attrs=read-write] "
          "(the database must exist; see deploy/postgresql/README.md).");
ABSL_FLAG(std::string, admin_token_file, "",
          "Where the first ADMIN token's secret is written on first start "
          "(default: admin.token beside --db).");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain for TLS (with --tls_key).");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for TLS (with --tls_cert).");
ABSL_FLAG(bool, allow_insecure_remote, false,
          "Allow plaintext on a non-loopback address (only behind something that encrypts).");
ABSL_FLAG(std::string, tls_client_ca, "",
          "Mutual TLS: PEM CA bundle client certificates are verified against (needs --tls_cert). "
          "Clients are asked for a certificate; one that does not chain to this bundle fails the "
          "handshake. Without --require_client_cert a client may still connect without one.");
ABSL_FLAG(bool, require_client_cert, false,
          "Mutual TLS: refuse clients that present no valid certificate (needs --tls_client_ca).");
ABSL_FLAG(std::string, client_identities, "",
          "Mutual TLS: file mapping verified client-certificate identities to access tokens, one "
          "'<kind>:<value> <token id>' a line (kind uri, dns, email or cn; # starts a comment), "
          "e.g. 'uri:spiffe://ppa/mediationctl 3'. A call without a bearer token over such a "
          "connection acts as that token (its role and bindings; refused once it is revoked or "
          "expired). A call that sends a bearer token is authenticated by the token alone: the "
          "bearer wins, so a shared gateway certificate can carry each user's own token. Read at "
          "start-up (restart to apply changes). Needs --tls_client_ca.");
ABSL_FLAG(std::string, http_listen, "127.0.0.1:8080",
          "host:port of the HTTP listener: the Connect protocol (JSON or binary, for browsers, "
          "curl and Connect clients) for every RPC, browser sign-in, and the web console's "
          "files (--web_root). Empty turns it off. Uses --tls_cert/--tls_key when given; "
          "plaintext only on loopback unless --allow_insecure_remote.");
ABSL_FLAG(std::string, web_root, "",
          "Directory of the web console's files, served at / (index.html for paths below "
          "/app/). Empty: no files are served.");
ABSL_FLAG(int, http_max_connections, 512,
          "Most HTTP connections open at once; more are closed as soon as they are accepted. "
          "Checked at start against the descriptor limit (RLIMIT_NOFILE).");
ABSL_FLAG(int, grpc_max_connections, 1024,
          "Most gRPC connections open at once; more are closed as soon as they are accepted. "
          "Checked at start against the descriptor limit (RLIMIT_NOFILE) with "
          "--http_max_connections and --workers.");
ABSL_FLAG(int, grpc_handshake_timeout_ms, 5000,
          "A new gRPC connection that has not finished its TLS and HTTP/2 handshake this long "
          "after it was accepted (a silent or half-open one) is closed.");
ABSL_FLAG(int, grpc_idle_timeout_seconds, 300,
          "A gRPC connection with no call under way for this long is closed (GOAWAY); clients "
          "reconnect on their next call.");
ABSL_FLAG(int, http_threads, 2, "Threads that read and write HTTP (calls run on --workers).");
ABSL_FLAG(int, http_request_timeout_seconds, 10,
          "Longest an HTTP request may take to arrive once its first byte has (and the TLS "
          "handshake); a slower client is disconnected.");
ABSL_FLAG(int, http_idle_timeout_seconds, 60,
          "Longest an HTTP connection may wait, idle, for its next request.");
ABSL_FLAG(std::vector<std::string>, http_cors_origins, {},
          "Comma-separated origins (https://tool.example) whose pages may call the API with a "
          "bearer token (CORS). Calls with the browser session cookie are same-origin only.");
ABSL_FLAG(int, session_idle_minutes, 30,
          "A browser session ends after this many minutes without a call (and 12 hours after "
          "sign-in whatever the activity).");
ABSL_FLAG(std::string, log_format, "text", "Log line format: text or json.");
ABSL_FLAG(int, max_message_bytes, 4 * 1024 * 1024,
          "Largest request or response, in bytes (at least 1024). A larger request is refused "
          "with RESOURCE_EXHAUSTED before any handler sees it.");
ABSL_FLAG(int, max_concurrent_streams, 100,
          "Most calls one client connection may have open at once (HTTP/2 "
          "SETTINGS_MAX_CONCURRENT_STREAMS); further calls wait on the client until one ends.");
ABSL_FLAG(int, keepalive_min_ping_interval_seconds, 60,
          "Keepalive enforcement: a client pinging more often than this while it has calls open "
          "earns a strike (with no call open, more often than every 2 hours, unless "
          "--keepalive_permit_without_calls). Clients should keep their keepalive time above "
          "it.");
ABSL_FLAG(int, keepalive_max_ping_strikes, 2,
          "Keepalive enforcement: strikes after which the connection is closed with GOAWAY "
          "ENHANCE_YOUR_CALM (too_many_pings); its open calls end with UNAVAILABLE. 0: never.");
ABSL_FLAG(bool, keepalive_permit_without_calls, false,
          "Keepalive enforcement: allow keepalive pings on a connection with no open call.");
ABSL_FLAG(int, max_call_seconds, 300,
          "Ceiling on call duration: a call without a deadline, or with a later one, is treated "
          "as having this one. A unary call still waiting for a worker then is answered "
          "DEADLINE_EXCEEDED without running; a case-event stream ends with DEADLINE_EXCEEDED, "
          "and its client reconnects with after_position.");
ABSL_FLAG(int, workers, 64,
          "Threads that run database work, each with its own connection. A write waits for its "
          "commit on its thread, so this is also the most writes one commit can hold.");
ABSL_FLAG(bool, group_commit, true,
          "Batch concurrent writes into one commit (one fsync acknowledges many calls; none is "
          "acknowledged before its commit is on disk). false: one commit per write.");
ABSL_FLAG(bool, enable_benchmark_service, false,
          "Serve the benchmark-only echo service ppa.mediation.bench.v1.BenchmarkService.");
ABSL_FLAG(int, shutdown_grace_seconds, 20,
          "On SIGTERM or SIGINT, how long in-flight calls get to finish.");
ABSL_FLAG(int, session_buffer_minutes, 30, "Free time kept between one person's sessions.");
ABSL_FLAG(int, minimum_notice_hours, 48, "How far ahead sessions must be booked, at least.");
ABSL_FLAG(std::string, master_key_file, "",
          "The master key for confidential notes (default: master.key beside --db). Created on "
          "first start, mode 0600; never stored in the database. Back it up apart from the "
          "database.");
ABSL_FLAG(int, maintenance_interval_seconds, 60,
          "How often started sessions move their cases to IN_MEDIATION, notes past retention are "
          "destroyed and old idempotency keys are forgotten.");
ABSL_FLAG(std::string, backup_dir, "",
          "Where AdminService.BackupDatabase (mediationctl database backup) writes backups "
          "(default: backups/ beside --db; created mode 0700).");
ABSL_FLAG(int, anonymous_refusal_burst, 100,
          "Calls without a valid token one address may make at once before the next is refused "
          "with RESOURCE_EXHAUSTED (they are counted per address and minute, not audited one by "
          "one); calls with a valid token are never limited.");
ABSL_FLAG(double, anonymous_refusals_per_second, 10,
          "How fast an address regains calls without a valid token after its burst.");
ABSL_FLAG(int, key_rotation_batch, 200,
          "Data keys a master key rotation re-wraps per transaction (AdminService."
          "RotateMasterKey): smaller batches hold other writes up for less time.");
ABSL_FLAG(int, key_rotation_pause_ms, 0,
          "Milliseconds a master key rotation waits after each batch, to leave a busy database "
          "to the calls (a rotation of N data keys then takes at least N / batch x pause).");
ABSL_FLAG(int, personal_data_retention_days, 2190,
          "Days after a case is closed, withdrawn or found not suitable before its personal data "
          "(names, emails, job titles, needs and every confidential text) is removed; dates, "
          "states, nations, professions and the outcome stay for the statistics.");
ABSL_FLAG(int, reopen_period_days, 90,
          "Days after a case is closed, withdrawn or found not suitable during which case support "
          "or a Senior Adviser may reopen it (CaseService.ReopenCase).");
ABSL_FLAG(int, note_retention_days, 0,
          "Days a finished case's notes are kept before they are destroyed (0: at once).");

ABSL_FLAG(std::string, smtp_url, "",
          "The mail server for notifications: smtp://host:port (STARTTLS required unless "
          "--smtp_allow_plaintext) or smtps://host:port. Empty: messages are written to the "
          "outbox and marked 'not sent: no mail server configured' when due.");
ABSL_FLAG(bool, smtp_allow_plaintext, false,
          "Allow smtp:// without STARTTLS; only to a loopback host (a local relay).");
ABSL_FLAG(std::string, smtp_from, "mediation@localhost",
          "The service's mailbox: the From of every message and the ORGANIZER of invitations.");
ABSL_FLAG(std::string, smtp_from_name, "Practitioner Performance Advice",
          "The display name of --smtp_from.");
ABSL_FLAG(std::string, smtp_credentials_file, "",
          "A file (mode 0600) holding one line, username:password, for the mail server.");
ABSL_FLAG(std::string, case_support_email, "",
          "The case support team's mailbox (answers to allocation offers). Default: --smtp_from.");
ABSL_FLAG(std::string, public_url, "",
          "The web console's address as people reach it, for links in messages "
          "(https://mediation.example.nhs.uk). Default: http:// and --http_listen.");
ABSL_FLAG(std::string, reminder_hours, "48,2",
          "Reminders before each session, in hours (decimals allowed); empty: none.");
ABSL_FLAG(int, smtp_max_attempts, 8,
          "Tries before a message is given up (DEAD_LETTER, for an administrator to resend).");
ABSL_FLAG(int, smtp_retry_seconds, 30,
          "The wait after a message's first failed try; it doubles after each, with jitter.");
ABSL_FLAG(int, smtp_retry_max_seconds, 3600, "The longest wait between two tries of a message.");
ABSL_FLAG(int, smtp_timeout_seconds, 30, "How long one message may take to send.");
ABSL_FLAG(int, outbox_poll_seconds, 5,
          "How often the delivery worker looks for due messages when nothing new wakes it.");

namespace {

// --help lists this program's flags (they live in services/server/), not the libraries'.
bool OwnFlags(absl::string_view file) { return absl::StrContains(file, "services/server/"); }

// The email flags into `options` (after --http_listen); INVALID_ARGUMENT naming the flag.
absl::Status EmailOptions(mediation::ServerOptions& options) {
  namespace n = mediation::notifications;
  n::NotificationSettings& mail = options.notifications;
  mail.from = {absl::GetFlag(FLAGS_smtp_from_name), absl::GetFlag(FLAGS_smtp_from)};
  // A local part and a domain (a single-label one, such as localhost, is allowed here).
  const size_t at = mail.from.email.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == mail.from.email.size() ||
      mail.from.email.find_first_of(" \t\r\n<>\",;:") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--smtp_from: '", mail.from.email, "' is not an email address"));
  }
  mail.case_support_email = absl::GetFlag(FLAGS_case_support_email);
  if (!mail.case_support_email.empty() && !mediation::IsPlausibleEmail(mail.case_support_email)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--case_support_email: '", mail.case_support_email, "' is not an email address"));
  }
  mail.public_url = absl::GetFlag(FLAGS_public_url);
  if (mail.public_url.empty()) {
    mail.public_url = absl::StrCat(
        "http://", options.http_listen.empty() ? "127.0.0.1:8080" : options.http_listen);
  }
  if (!absl::StartsWith(mail.public_url, "https://") &&
      !absl::StartsWith(mail.public_url, "http://")) {
    return absl::InvalidArgumentError(absl::StrCat("--public_url: '", mail.public_url,
                                                   "' must start with https:// (or http://)"));
  }
  while (absl::EndsWith(mail.public_url, "/")) mail.public_url.pop_back();
  absl::StatusOr<std::vector<absl::Duration>> leads =
      n::ParseReminderHours(absl::GetFlag(FLAGS_reminder_hours));
  if (!leads.ok()) return absl::InvalidArgumentError(absl::StrCat("--", leads.status().message()));
  mail.reminder_leads = *std::move(leads);

  n::DeliverySettings& delivery = options.delivery;
  delivery.max_attempts = absl::GetFlag(FLAGS_smtp_max_attempts);
  delivery.retry_base = absl::Seconds(absl::GetFlag(FLAGS_smtp_retry_seconds));
  delivery.retry_max = absl::Seconds(absl::GetFlag(FLAGS_smtp_retry_max_seconds));
  delivery.poll = absl::Seconds(absl::GetFlag(FLAGS_outbox_poll_seconds));
  if (delivery.max_attempts < 1 || delivery.retry_base < absl::Seconds(1) ||
      delivery.retry_max < delivery.retry_base || delivery.poll < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        "--smtp_max_attempts, --smtp_retry_seconds and --outbox_poll_seconds must be at least 1, "
        "and --smtp_retry_max_seconds at least --smtp_retry_seconds");
  }
  const std::string url = absl::GetFlag(FLAGS_smtp_url);
  if (url.empty()) return absl::OkStatus();
  n::SmtpSettings smtp{.url = url,
                       .allow_plaintext = absl::GetFlag(FLAGS_smtp_allow_plaintext),
                       .timeout = absl::Seconds(absl::GetFlag(FLAGS_smtp_timeout_seconds))};
  if (const std::string path = absl::GetFlag(FLAGS_smtp_credentials_file); !path.empty()) {
    if (absl::Status s = n::SmtpMailer::ReadCredentials(path, smtp); !s.ok()) return s;
  }
  // The URL and the plaintext rule, checked now rather than after the database is opened.
  if (absl::Status s = n::SmtpMailer::Create(smtp).status(); !s.ok()) return s;
  options.smtp = std::move(smtp);
  return absl::OkStatus();
}

int Run() {
  // The database, its WAL and the token file hold personal data: readable by this user only.
  ::umask(077);
  mediation::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.db_path = absl::GetFlag(FLAGS_db);
  options.admin_token_path = absl::GetFlag(FLAGS_admin_token_file);
  options.tls_cert_path = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_path = absl::GetFlag(FLAGS_tls_key);
  options.allow_insecure_remote = absl::GetFlag(FLAGS_allow_insecure_remote);
  options.tls_client_ca_path = absl::GetFlag(FLAGS_tls_client_ca);
  options.require_client_cert = absl::GetFlag(FLAGS_require_client_cert);
  options.client_identities_path = absl::GetFlag(FLAGS_client_identities);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.http_listen = absl::GetFlag(FLAGS_http_listen);
  options.web_root = absl::GetFlag(FLAGS_web_root);
  options.http_max_connections = absl::GetFlag(FLAGS_http_max_connections);
  options.http_threads = absl::GetFlag(FLAGS_http_threads);
  options.http_request_timeout = absl::Seconds(absl::GetFlag(FLAGS_http_request_timeout_seconds));
  options.http_idle_timeout = absl::Seconds(absl::GetFlag(FLAGS_http_idle_timeout_seconds));
  options.http_cors_origins = absl::GetFlag(FLAGS_http_cors_origins);
  options.settings.browser_session_idle = absl::Minutes(absl::GetFlag(FLAGS_session_idle_minutes));
  if (absl::GetFlag(FLAGS_session_idle_minutes) < 1 ||
      absl::GetFlag(FLAGS_http_request_timeout_seconds) < 1 ||
      absl::GetFlag(FLAGS_http_idle_timeout_seconds) < 1) {
    std::cerr << "mediation-server: --session_idle_minutes, --http_request_timeout_seconds and "
                 "--http_idle_timeout_seconds must be at least 1\n";
    return 2;
  }
  options.grpc_max_connections = absl::GetFlag(FLAGS_grpc_max_connections);
  options.grpc_handshake_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_grpc_handshake_timeout_ms));
  options.grpc_idle_timeout = absl::Seconds(absl::GetFlag(FLAGS_grpc_idle_timeout_seconds));
  options.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  options.keepalive_min_ping_interval =
      absl::Seconds(absl::GetFlag(FLAGS_keepalive_min_ping_interval_seconds));
  options.keepalive_max_ping_strikes = absl::GetFlag(FLAGS_keepalive_max_ping_strikes);
  options.keepalive_permit_without_calls = absl::GetFlag(FLAGS_keepalive_permit_without_calls);
  options.settings.max_call = absl::Seconds(absl::GetFlag(FLAGS_max_call_seconds));
  options.workers = absl::GetFlag(FLAGS_workers);
  options.group_commit = absl::GetFlag(FLAGS_group_commit);
  options.benchmark_service = absl::GetFlag(FLAGS_enable_benchmark_service);
  options.shutdown_grace = absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds));
  options.settings.session_buffer = absl::Minutes(absl::GetFlag(FLAGS_session_buffer_minutes));
  options.settings.minimum_notice = absl::Hours(absl::GetFlag(FLAGS_minimum_notice_hours));
  options.settings.note_retention = absl::Hours(24 * absl::GetFlag(FLAGS_note_retention_days));
  options.settings.reopen_period = absl::Hours(24 * absl::GetFlag(FLAGS_reopen_period_days));
  options.settings.personal_data_retention =
      absl::Hours(24 * absl::GetFlag(FLAGS_personal_data_retention_days));
  options.master_key_path = absl::GetFlag(FLAGS_master_key_file);
  options.key_rotation_batch = absl::GetFlag(FLAGS_key_rotation_batch);
  options.key_rotation_pause = absl::Milliseconds(absl::GetFlag(FLAGS_key_rotation_pause_ms));
  if (absl::GetFlag(FLAGS_key_rotation_batch) < 1 ||
      absl::GetFlag(FLAGS_key_rotation_pause_ms) < 0) {
    std::cerr << "mediation-server: --key_rotation_batch must be at least 1 and "
                 "--key_rotation_pause_ms at least 0\n";
    return 2;
  }
  options.settings.anonymous_refusal_burst = absl::GetFlag(FLAGS_anonymous_refusal_burst);
  options.settings.anonymous_refusals_per_second =
      absl::GetFlag(FLAGS_anonymous_refusals_per_second);
  if (options.settings.anonymous_refusal_burst < 1 ||
      options.settings.anonymous_refusals_per_second <= 0) {
    std::cerr << "mediation-server: --anonymous_refusal_burst must be at least 1 and "
                 "--anonymous_refusals_per_second above 0\n";
    return 2;
  }
  options.backup_dir = absl::GetFlag(FLAGS_backup_dir);
  options.maintenance_interval = absl::Seconds(absl::GetFlag(FLAGS_maintenance_interval_seconds));
  if (absl::GetFlag(FLAGS_maintenance_interval_seconds) < 1) {
    std::cerr << "mediation-server: --maintenance_interval_seconds must be at least 1\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_personal_data_retention_days) < 0) {
    std::cerr << "mediation-server: --personal_data_retention_days must not be negative\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_reopen_period_days) < 0) {
    std::cerr << "mediation-server: --reopen_period_days must not be negative\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_note_retention_days) < 0) {
    std::cerr << "mediation-server: --note_retention_days must not be negative\n";
    return 2;
  }
  if (options.settings.session_buffer < absl::ZeroDuration() ||
      options.settings.minimum_notice < absl::ZeroDuration()) {
    std::cerr << "mediation-server: --session_buffer_minutes and --minimum_notice_hours must not "
                 "be negative\n";
    return 2;
  }
  if (absl::Status s = EmailOptions(options); !s.ok()) {
    std::cerr << "mediation-server: " << s.message() << "\n";
    return 2;
  }
  absl::StatusOr<mediation::LogFormat> format =
      mediation::ParseLogFormat(absl::GetFlag(FLAGS_log_format));
  if (!format.ok()) {
    std::cerr << "mediation-server: " << format.status().message() << "\n";
    return 2;
  }
  options.log_format = *format;

  const std::filesystem::path dir = mediation::StateDirectory(options.db_path);
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::cerr << "mediation-server: cannot create " << dir << ": " << ec.message() << "\n";
    return 1;
  }

  // Block the shutdown signals in every thread (gRPC's included, which inherit this mask) so
  // that only the sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<mediation::MediationServer>> server =
      mediation::MediationServer::Start(options);
  if (!server.ok()) {
    std::cerr << "mediation-server: " << server.status().message() << "\n";
    return 1;
  }
  // Under systemd (Type=notify): ready now; and with WatchdogSec, "still serving" only while a
  // new client is served on each listener, so a server that stops accepting is restarted.
  sd_notify(0, "READY=1");
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::thread watchdog;
  uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    const absl::Duration every = absl::Microseconds(watchdog_usec) / 3;
    watchdog = std::thread([&] {
      std::unique_lock lock(stop_mu);
      while (!stopping) {
        lock.unlock();
        if ((*server)->ProbeListeners(std::min(every, absl::Seconds(2))).ok()) {
          sd_notify(0, "WATCHDOG=1");
        }
        lock.lock();
        stop_cv.wait_for(lock, absl::ToChronoNanoseconds(every), [&] { return stopping; });
      }
    });
  }
  int received = 0;
  sigwait(&signals, &received);
  std::fprintf(stderr, "mediation-server: received %s\n",
               received == SIGTERM ? "SIGTERM" : "SIGINT");
  sd_notify(0, "STOPPING=1");
  {
    std::lock_guard lock(stop_mu);
    stopping = true;
  }
  stop_cv.notify_all();
  (*server)->Shutdown();  // Not held up by a probe under way; the server outlives the join.
  if (watchdog.joinable()) watchdog.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = OwnFlags;
  config.contains_helpshort_flags = OwnFlags;
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(
      "The assisted-mediation gRPC server (package ppa.mediation.v1).\n"
      "Usage: mediation-server [--listen=127.0.0.1:50051] [--db=var/mediation.db] [flags]");
  absl::ParseCommandLine(argc, argv);
  mediation::TuneProcessForServing();
  return Run();
}
