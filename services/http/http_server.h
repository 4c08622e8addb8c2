// The HTTP/1.1 listener of mediation-server (Boost.Beast): the Connect protocol for every RPC of
// the method registry, browser sign-in, the web console's static files and the health probes.
//
//   POST /ppa.mediation.v1.<Service>/<Method>   Connect unary (application/json or
//                                               application/proto) or server streaming
//                                               (application/connect+json or +proto)
//   POST /auth/sign-in  {"token":"..."}         a browser session in an HttpOnly cookie
//   POST /auth/sign-out                         ends it
//   GET  /healthz, /readyz                      alive; the database answers
//   GET  /...                                   files of web_root (index.html below /app/)
//
// Calls run through the same CallPipeline as gRPC, on the same worker pool; the listener's own
// threads only read, route and write. Every connection has a deadline at every step: the TLS
// handshake, a whole request once its first byte arrives, and the idle wait between requests,
// so a slow or silent client holds a descriptor for a bounded time and never a thread.
// Connections beyond the cap are closed at once; accepting survives running out of
// descriptors.
//
// Thread-safe.
#ifndef MEDIATION_SERVICES_HTTP_HTTP_SERVER_H_
#define MEDIATION_SERVICES_HTTP_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/call_pipeline.h"

namespace mediation::http {

struct HttpOptions {
  // host:port; port 0 picks a free port (see HttpServer::port()).
  std::string listen = "127.0.0.1:8080";
  // PEM files (both or neither): HTTPS with them, else plain HTTP.
  std::string tls_cert_path;
  std::string tls_key_path;
  // As for gRPC: with a CA bundle a client certificate, when one is offered, must chain to it;
  // with require_client_cert a client without one is refused in the handshake. (A certificate
  // does not stand for a token over HTTP: calls still need a bearer token or a session.)
  std::string tls_client_ca_path;
  bool require_client_cert = false;
  // The most connections open at once; more are closed as soon as they are accepted.
  int max_connections = 512;
  // The largest request body; a larger one is refused (413) before it is read.
  size_t max_body_bytes = 4 * 1024 * 1024;
  size_t max_header_bytes = 16 * 1024;
  // From a request's first byte to its last; and the TLS handshake.
  absl::Duration request_timeout = absl::Seconds(10);
  // Between requests on a kept-alive connection (and before the first).
  absl::Duration idle_timeout = absl::Seconds(60);
  // Threads that read, route and write (calls run on the worker pool).
  int threads = 2;
  // The web console's files; empty: none served.
  std::string web_root;
  // Origins allowed to call with a bearer token from a browser page of another origin (CORS).
  // Cookie calls are same-origin only, whatever this says.
  std::vector<std::string> cors_origins;
};

class HttpServer {
 public:
  // `pipeline` must outlive the server. Binds and starts serving; UNAVAILABLE naming the
  // address when it cannot bind, INVALID_ARGUMENT for unusable options (TLS files).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpOptions options,
                                                           CallPipeline& pipeline);
  ~HttpServer();

  int port() const;

  // A new client's check that the listener answers: connects to `host`:port() (TLS when the
  // server uses it, without checking the certificate), sends GET /healthz and expects 200, all
  // within `timeout`.
  absl::Status Probe(const std::string& host, absl::Duration timeout) const;
  // Connections taken off the listen queue so far (served, closed at the cap, or drained for
  // want of descriptors): accepting works while this grows.
  int64_t taken() const;
  // Whether max_connections are open (a new one would be closed at once).
  bool full() const;

  // Stops accepting, lets calls under way finish for up to `grace`, then closes every
  // connection (streams end at once: the event hub is closed first by the caller) and joins
  // the threads. Idempotent.
  void Shutdown(absl::Duration grace);

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mediation::http

#endif  // MEDIATION_SERVICES_HTTP_HTTP_SERVER_H_
