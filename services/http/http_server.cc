#include "services/http/http_server.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/core/descriptor_reserve.h"
#include "services/core/host_port.h"
#include "services/http/connect.h"
#include "services/http/event_stream.h"
#include "services/http/static_files.h"

namespace mediation::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

constexpr absl::string_view kSessionCookie = "mediation_session";

constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

std::chrono::steady_clock::duration ToSteady(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(d));
}

absl::string_view View(beast::string_view s) { return absl::string_view(s.data(), s.size()); }

// The value of cookie `name` in a Cookie header; empty when absent.
std::string CookieValue(absl::string_view header, absl::string_view name) {
  for (absl::string_view part : absl::StrSplit(header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    const size_t eq = part.find('=');
    if (eq != absl::string_view::npos && part.substr(0, eq) == name) {
      return std::string(part.substr(eq + 1));
    }
  }
  return "";
}

// The peer written as gRPC writes it, so refusals are counted alike on both listeners.
std::string PeerOf(const tcp::endpoint& endpoint) {
  const net::ip::address a = endpoint.address();
  if (a.is_v6() && !a.to_v6().is_v4_mapped()) {
    return absl::StrCat("ipv6:[", a.to_string(), "]:", endpoint.port());
  }
  const std::string v4 = a.is_v6()
                             ? net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6()).to_string()
                             : a.to_string();
  return absl::StrCat("ipv4:", v4, ":", endpoint.port());
}

}  // namespace

class ConnectionBase;

struct HttpServer::Impl {
  Impl(HttpOptions o, CallPipeline& p)
      : options(std::move(o)), pipeline(p), acceptor(net::make_strand(ioc)) {}

  HttpOptions options;
  CallPipeline& pipeline;
  // Declared before the context: a connection's destructor, run when the context drops its
  // handlers, counts itself out here.
  std::atomic<int> connections{0};
  std::atomic<bool> stopping{false};
  absl::Time last_accept_error_log = absl::InfinitePast();
  // Calls handed to the worker pool (or streams) and not yet answered.
  std::mutex mu;
  std::condition_variable idle;
  int in_flight = 0;                              // Guarded by mu.
  int threads_running = 0;                        // Guarded by mu.
  std::list<std::weak_ptr<ConnectionBase>> open;  // Guarded by mu.
  std::once_flag shutdown_once;
  int port = 0;
  // Connections taken off the listen queue, whatever became of them (served, closed at the
  // cap, drained for want of descriptors): accepting works while this grows.
  std::atomic<int64_t> taken{0};

  net::io_context ioc;
  std::optional<ssl::context> tls;
  // The acceptor, its retry timer and its handlers run on one strand, so Shutdown's close never
  // runs beside an accept.
  tcp::acceptor acceptor;
  tcp protocol = tcp::v4();
  std::unique_ptr<net::steady_timer> accept_retry;
  std::vector<std::thread> threads;

  void Accept();
  void OnReadable(beast::error_code ec);
  // Serves an accepted connection, or closes it at once when max_connections are open.
  void Serve(tcp::socket socket);
  void BeginCall() {
    std::lock_guard lock(mu);
    ++in_flight;
  }
  void EndCall() {
    std::lock_guard lock(mu);
    if (--in_flight == 0) idle.notify_all();
  }
};

// A connection, whatever its stream; the server keeps weak references to close them all.
class ConnectionBase : public std::enable_shared_from_this<ConnectionBase> {
 public:
  virtual ~ConnectionBase() = default;
  // Closes the socket (from any thread): every operation under way ends.
  virtual void Close() = 0;
};

namespace {

template <class Stream>
class Connection final : public ConnectionBase {
 public:
  Connection(HttpServer::Impl& server, Stream stream, std::string peer, bool tls)
      : server_(server), stream_(std::move(stream)), peer_(std::move(peer)), tls_(tls) {}

  ~Connection() override { server_.connections.fetch_sub(1); }

  void Start() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      Lowest().expires_after(ToSteady(server_.options.request_timeout));
      stream_.async_handshake(ssl::stream_base::server, [self = Self()](beast::error_code ec) {
        ec ? self->Shut() : self->WaitForRequest();
      });
    } else {
      WaitForRequest();
    }
  }

  void Close() override {
    net::post(stream_.get_executor(), [self = Self()] {
      beast::error_code ignored;
      self->Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->Lowest().close();
    });
  }

 private:
  std::shared_ptr<Connection> Self() {
    return std::static_pointer_cast<Connection>(shared_from_this());
  }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  // Waits, up to the idle timeout, for a request's first byte; from then on the whole request
  // has the request timeout.
  void WaitForRequest() {
    if (server_.stopping.load()) return Shut();
    if (buffer_.size() > 0) return ReadHeader();
    Lowest().expires_after(ToSteady(server_.options.idle_timeout));
    stream_.async_read_some(buffer_.prepare(4096), [self = Self()](beast::error_code ec, size_t n) {
      if (ec) return self->Shut();
      self->buffer_.commit(n);
      self->ReadHeader();
    });
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.options.max_header_bytes));
    parser_->body_limit(server_.options.max_body_bytes);
    Lowest().expires_after(ToSteady(server_.options.request_timeout));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = Self()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == bhttp::error::header_limit) {
      return SendError(431, absl::InvalidArgumentError("the request's headers are too large"),
                       /*close=*/true);
    }
    // A Content-Length over the limit is refused as the header is parsed.
    if (ec == bhttp::error::body_limit) return SendTooLarge();
    if (ec) return Shut();
    const auto& header = parser_->get();
    if (parser_->content_length().has_value() &&
        *parser_->content_length() > server_.options.max_body_bytes) {
      return SendTooLarge();
    }
    if (absl::EqualsIgnoreCase(View(header[bhttp::field::expect]), "100-continue")) {
      auto proceed = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                          header.version());
      bhttp::async_write(stream_, *proceed, [self = Self(), proceed](beast::error_code ec, size_t) {
        if (ec) return self->Shut();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_, [self = Self()](beast::error_code ec, size_t) {
      if (ec == bhttp::error::body_limit) return self->SendTooLarge();
      if (ec) return self->Shut();
      self->Lowest().expires_never();
      self->request_ = self->parser_->release();
      self->Route();
    });
  }

  void SendTooLarge() {
    SendError(
        413,
        absl::ResourceExhaustedError(absl::StrCat(
            "the request body is larger than the server's limit of ",
            server_.options.max_body_bytes, " bytes (--max_message_bytes); nothing was done")),
        /*close=*/true);
  }

  // The scheme and host this request was sent to: what a same-origin page's Origin is.
  std::string OwnOrigin() const {
    return absl::StrCat(tls_ ? "https://" : "http://", View(request_[bhttp::field::host]));
  }

  void Route() {
    const absl::string_view target = View(request_.target());
    const absl::string_view path = target.substr(0, target.find('?'));
    const bhttp::verb verb = request_.method();
    if (path == "/healthz" && (verb == bhttp::verb::get || verb == bhttp::verb::head)) {
      return SendText(200, "ok\n");
    }
    if (path == "/readyz" && (verb == bhttp::verb::get || verb == bhttp::verb::head)) {
      return Ready();
    }
    if (verb == bhttp::verb::options) return Preflight();
    if (absl::StartsWith(path, "/auth/")) {
      if (verb != bhttp::verb::post) return SendMethodNotAllowed("POST");
      if (path == "/auth/sign-in") return SignIn();
      if (path == "/auth/party-link") return PartyLink();
      if (path == "/auth/sign-out") return SignOut();
      return SendError(404, absl::NotFoundError(absl::StrCat("no such page: ", path)), false);
    }
    if (const MethodEntry* entry = Methods().Find(path); entry != nullptr) {
      if (verb != bhttp::verb::post) return SendMethodNotAllowed("POST");
      return Call(*entry);
    }
    if (absl::StartsWith(path, "/ppa.")) {
      return SendError(
          404,
          absl::UnimplementedError(absl::StrCat("no method ", path,
                                                ": the path is /<package>.<Service>/<Method>, e.g. "
                                                "/ppa.mediation.v1.ReferralService/GetCase")),
          false);
    }
    if (verb == bhttp::verb::get || verb == bhttp::verb::head) return Static(path);
    return SendError(404, absl::NotFoundError(absl::StrCat("no such page: ", path)), false);
  }

  // A request's browser-facing checks: a foreign Origin is refused unless it is listed for
  // CORS (and never with the cookie); a call authenticated by the session cookie must look like
  // one the console's own script makes (a Connect header and a JSON body), which a form post or
  // a cross-site request cannot.
  absl::Status CheckOrigin(bool by_cookie, bool json) {
    const absl::string_view origin = View(request_[bhttp::field::origin]);
    if (!origin.empty() && origin != OwnOrigin()) {
      if (by_cookie || !CorsAllowed(origin)) {
        return absl::PermissionDeniedError(
            absl::StrCat("a request from a page of ", origin, " may not call this server",
                         by_cookie ? " with its session" : "", "; nothing was done"));
      }
    }
    if (by_cookie) {
      if (View(request_["connect-protocol-version"]) != "1") {
        return absl::PermissionDeniedError(
            "a call made with the session cookie must send the header "
            "'Connect-Protocol-Version: 1'; nothing was done");
      }
      if (!json) {
        return absl::PermissionDeniedError(
            "a call made with the session cookie must send a JSON body (Content-Type: "
            "application/json); nothing was done");
      }
    }
    return absl::OkStatus();
  }

  bool CorsAllowed(absl::string_view origin) const {
    for (const std::string& allowed : server_.options.cors_origins) {
      if (allowed == origin) return true;
    }
    return false;
  }

  void Preflight() {
    const absl::string_view origin = View(request_[bhttp::field::origin]);
    if (origin.empty() || !CorsAllowed(origin)) {
      return SendError(403,
                       absl::PermissionDeniedError(absl::StrCat(
                           "cross-origin calls from ", origin.empty() ? "this page" : origin,
                           " are not allowed (--http_cors_origins)")),
                       false);
    }
    Response res{bhttp::status::no_content, request_.version()};
    res.set(bhttp::field::access_control_allow_methods, "POST");
    res.set(bhttp::field::access_control_allow_headers,
            "authorization, content-type, connect-protocol-version, connect-timeout-ms");
    res.set(bhttp::field::access_control_max_age, "600");
    Send(std::move(res), false);
  }

  Credentials CredentialsOf(bool* by_cookie) const {
    Credentials c;
    c.authorization = std::string(View(request_[bhttp::field::authorization]));
    if (c.authorization.empty()) {
      c.browser_session = CookieValue(View(request_[bhttp::field::cookie]), kSessionCookie);
    }
    *by_cookie = c.authorization.empty() && !c.browser_session.empty();
    return c;
  }

  CallInput InputFor(absl::string_view method, Credentials credentials) const {
    return CallInput{.method = method,
                     .transport = Transport::kHttp,
                     .credentials = std::move(credentials),
                     .peer = peer_,
                     .received = absl::Now()};
  }

  void Call(const MethodEntry& entry) {
    const absl::string_view content_type = View(request_[bhttp::field::content_type]);
    const std::optional<Codec> codec =
        entry.server_streaming ? StreamCodec(content_type) : UnaryCodec(content_type);
    if (!codec.has_value()) {
      Response res = ErrorResponse(
          415, absl::InvalidArgumentError(absl::StrCat(
                   "Content-Type '", content_type, "' is not one this method takes: send ",
                   entry.server_streaming ? "application/connect+json or application/connect+proto"
                                          : "application/json or application/proto")));
      res.set("accept-post", entry.server_streaming
                                 ? "application/connect+json, application/connect+proto"
                                 : "application/json, application/proto");
      return Send(std::move(res), false);
    }
    const absl::string_view version = View(request_["connect-protocol-version"]);
    if (!version.empty() && version != "1") {
      return SendError(
          400,
          absl::InvalidArgumentError(absl::StrCat(
              "Connect-Protocol-Version: this server speaks version 1, not '", version, "'")),
          false);
    }
    bool by_cookie = false;
    Credentials credentials = CredentialsOf(&by_cookie);
    if (absl::Status s = CheckOrigin(by_cookie, *codec == Codec::kJson); !s.ok()) {
      return SendError(403, s, false);
    }
    CallInput input = InputFor(entry.name, std::move(credentials));
    if (const absl::string_view timeout = View(request_["connect-timeout-ms"]); !timeout.empty()) {
      absl::StatusOr<absl::Duration> parsed = ParseTimeout(timeout);
      if (!parsed.ok()) return SendError(400, parsed.status(), false);
      input.deadline = input.received + *parsed;
    }
    if (entry.server_streaming) return StreamCall(std::move(input), *codec);
    Unary(entry, *codec, std::move(input));
  }

  // Runs `work` on a worker (it may use the database), then sends the answer it makes; the
  // call counts as under way until then. 503 when the server is stopping.
  void Offload(std::function<Response(storage::Store&)> work) {
    server_.BeginCall();
    const unsigned version = request_.version();
    const bool queued = server_.pipeline.pool().Submit(
        [self = Self(), work = std::move(work), version](storage::Store& store) {
          Response res = Guarded(self->server_.pipeline, work, store, version);
          net::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
            self->server_.EndCall();
            self->Send(std::move(res), false);
          });
        });
    if (!queued) {
      server_.EndCall();
      SendError(503, absl::UnavailableError("the server is shutting down"), true);
    }
  }

  // `work`'s answer; an exception it lets escape is logged under a new call id and answered 500
  // INTERNAL naming only that id.
  static Response Guarded(CallPipeline& pipeline,
                          const std::function<Response(storage::Store&)>& work,
                          storage::Store& store, unsigned version) {
    std::string what;
    try {
      return work(store);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      what = "an exception that is not a std::exception";
    }
    const absl::Status status = pipeline.Public(
        absl::InternalError(absl::StrCat("uncaught exception: ", what)), pipeline.NextCallId());
    return ErrorResponse(500, status, version);
  }

  void Unary(const MethodEntry& entry, Codec codec, CallInput input) {
    auto body = std::make_shared<std::string>(std::move(request_.body()));
    const unsigned version = request_.version();
    CallPipeline& pipeline = server_.pipeline;
    Offload([&entry, &pipeline, codec, input, body, version](storage::Store& store) {
      std::unique_ptr<google::protobuf::Message> request = entry.new_request();
      std::unique_ptr<google::protobuf::Message> response = entry.new_response();
      CallOutcome outcome;
      absl::Status status = pipeline.Run(
          store, entry, input,
          [&]() -> absl::StatusOr<const google::protobuf::Message*> {
            if (absl::Status s = ParseMessage(codec, *body, *request); !s.ok()) return s;
            return request.get();
          },
          *response, &outcome);
      Response res{bhttp::status::ok, version};
      if (status.ok()) {
        absl::StatusOr<std::string> encoded = SerializeMessage(codec, *response);
        if (encoded.ok()) {
          res.set(bhttp::field::content_type, std::string(ContentType(codec, false)));
          res.body() = *std::move(encoded);
        } else {
          status = pipeline.Public(encoded.status(), outcome.call_id);
        }
      }
      if (!status.ok()) res = ErrorResponse(HttpStatusOf(status.code()), status, version);
      if (outcome.retry_after_seconds > 0) {
        res.set(bhttp::field::retry_after, std::to_string(outcome.retry_after_seconds));
      }
      return res;
    });
  }

  // Server streaming: the response is sent as it comes, as chunks of envelopes, the last one
  // the end-of-stream message. The connection is used for nothing else until it ends.
  void StreamCall(CallInput input, Codec codec) {
    auto res =
        std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::ok, request_.version());
    AddCommonHeaders(*res);
    res->set(bhttp::field::cache_control, "no-store");
    res->set(bhttp::field::content_type, std::string(ContentType(codec, true)));
    res->chunked(true);
    res->keep_alive(false);
    auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*res);
    std::string body = std::move(request_.body());
    server_.BeginCall();
    stream_counted_ = true;
    const net::any_io_executor executor = stream_.get_executor();
    // The stream's writer holds the connection until Shut breaks the cycle (the stream ended,
    // or the client went away: the read below notices).
    streaming_ = std::make_shared<EventStreamCall>(
        server_.pipeline, codec, std::move(input), std::move(body), executor,
        [executor, self = Self()](std::string chunk, bool last, std::function<void(bool)> written) {
          net::post(executor,
                    [self, chunk = std::move(chunk), last, written = std::move(written)]() mutable {
                      self->WriteChunk(std::move(chunk), last, std::move(written));
                    });
        });
    Lowest().expires_after(ToSteady(server_.options.request_timeout));
    bhttp::async_write_header(stream_, *serializer,
                              [self = Self(), res, serializer](beast::error_code ec, size_t) {
                                self->Lowest().expires_never();
                                if (ec) return self->Shut();
                                self->streaming_->Start();
                                self->WatchForClose();
                              });
  }

  // A stream's client sends nothing after its request: a read that completes means it went
  // away (or broke the protocol), and the stream ends.
  void WatchForClose() {
    stream_.async_read_some(buffer_.prepare(512),
                            [self = Self()](beast::error_code, size_t) { self->Shut(); });
  }

  // Writes the stream's chunks in order: EventStreamCall has at most one write outstanding.
  void WriteChunk(std::string chunk, bool last, std::function<void(bool)> written) {
    if (shut_) return written(false);
    auto data = std::make_shared<std::string>(std::move(chunk));
    Lowest().expires_after(ToSteady(server_.options.request_timeout));
    net::async_write(stream_, bhttp::make_chunk(net::buffer(*data)),
                     [self = Self(), data, last, written](beast::error_code ec, size_t) {
                       if (ec || !last) {
                         self->Lowest().expires_never();
                         written(!ec);
                         if (ec) self->Shut();
                         return;
                       }
                       net::async_write(self->stream_, bhttp::make_chunk_last(),
                                        [self, written](beast::error_code ec, size_t) {
                                          written(!ec);
                                          self->EndStream();
                                          self->Shut();
                                        });
                     });
  }

  void EndStream() {
    if (!stream_counted_) return;
    stream_counted_ = false;
    server_.EndCall();
  }

  // Sign-in and sign-out take JSON only, from this server's own pages (or a tool).
  absl::Status CheckAuthRequest() {
    if (absl::Status s = CheckOrigin(false, true); !s.ok()) return s;
    const std::optional<Codec> codec = UnaryCodec(View(request_[bhttp::field::content_type]));
    if (!codec.has_value() || *codec != Codec::kJson) {
      return absl::InvalidArgumentError(
          "send Content-Type: application/json (signing in, with {\"token\":\"...\"})");
    }
    return absl::OkStatus();
  }

  // The JSON body's string field `field`, or a 400 sent and nullopt.
  std::optional<std::string> AuthField(absl::string_view field, absl::string_view example) {
    if (absl::Status s = CheckAuthRequest(); !s.ok()) {
      SendError(absl::IsPermissionDenied(s) ? 403 : 415, s, false);
      return std::nullopt;
    }
    const nlohmann::json body = nlohmann::json::parse(request_.body(), nullptr, false);
    const std::string key(field);
    if (body.is_discarded() || !body.is_object() || !body.contains(key) || !body[key].is_string() ||
        body[key].get<std::string>().empty()) {
      SendError(
          400, absl::InvalidArgumentError(absl::StrCat(field, ": required: the body is ", example)),
          false);
      return std::nullopt;
    }
    return body[key].get<std::string>();
  }

  // The answer to a sign-in: who, until when, and the session cookie.
  static Response SignedInResponse(const absl::StatusOr<CallPipeline::SignedIn>& in,
                                   const CallOutcome& outcome, const CallPipeline& pipeline,
                                   unsigned version, bool tls) {
    if (!in.ok()) {
      Response res = ErrorResponse(HttpStatusOf(in.status().code()), in.status(), version);
      if (outcome.retry_after_seconds > 0) {
        res.set(bhttp::field::retry_after, std::to_string(outcome.retry_after_seconds));
      }
      return res;
    }
    nlohmann::json answer;
    answer["tokenId"] = std::to_string(in->principal.token_id);
    answer["role"] = v1::Role_Name(in->principal.role);
    answer["expiresAt"] =
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", in->expires_at, absl::UTCTimeZone());
    answer["idleMinutes"] = absl::ToInt64Minutes(pipeline.settings().browser_session_idle);
    Response res{bhttp::status::ok, version};
    res.set(bhttp::field::content_type, "application/json");
    res.set(bhttp::field::cache_control, "no-store");
    res.set(bhttp::field::set_cookie,
            absl::StrCat(kSessionCookie, "=", in->session, "; HttpOnly; SameSite=Strict; Path=/",
                         tls ? "; Secure" : ""));
    res.body() = answer.dump();
    return res;
  }

  void SignIn() {
    std::optional<std::string> token = AuthField("token", "{\"token\":\"<your access token>\"}");
    if (!token.has_value()) return;
    auto secret = std::make_shared<std::string>(*std::move(token));
    const CallInput input = InputFor("/auth/sign-in", {});
    const unsigned version = request_.version();
    const bool tls = tls_;
    CallPipeline& pipeline = server_.pipeline;
    Offload([&pipeline, secret, input, version, tls](storage::Store& store) {
      CallOutcome outcome;
      return SignedInResponse(pipeline.SignIn(store, *secret, input, &outcome), outcome, pipeline,
                              version, tls);
    });
  }

  // A party's one-time sign-in link (CaseService.IssuePartySignInLink): the code for a session.
  void PartyLink() {
    std::optional<std::string> field =
        AuthField("code", "{\"code\":\"<the code after # in your sign-in link>\"}");
    if (!field.has_value()) return;
    auto code = std::make_shared<std::string>(*std::move(field));
    const CallInput input = InputFor("/auth/party-link", {});
    const unsigned version = request_.version();
    const bool tls = tls_;
    CallPipeline& pipeline = server_.pipeline;
    Offload([&pipeline, code, input, version, tls](storage::Store& store) {
      CallOutcome outcome;
      return SignedInResponse(pipeline.SignInWithPartyLink(store, *code, input, &outcome), outcome,
                              pipeline, version, tls);
    });
  }

  void SignOut() {
    if (absl::Status s = CheckAuthRequest(); !s.ok()) {
      return SendError(absl::IsPermissionDenied(s) ? 403 : 415, s, false);
    }
    auto session = std::make_shared<std::string>(
        CookieValue(View(request_[bhttp::field::cookie]), kSessionCookie));
    const CallInput input = InputFor("/auth/sign-out", {});
    const unsigned version = request_.version();
    const bool tls = tls_;
    CallPipeline& pipeline = server_.pipeline;
    Offload([&pipeline, session, input, version, tls](storage::Store& store) {
      CallOutcome outcome;
      const absl::Status status = pipeline.SignOut(store, *session, input, &outcome);
      Response res{bhttp::status::ok, version};
      if (status.ok()) {
        res.set(bhttp::field::content_type, "application/json");
        res.body() = "{}";
      } else {
        res = ErrorResponse(HttpStatusOf(status.code()), status, version);
      }
      // The browser forgets the cookie whatever happened.
      res.set(bhttp::field::set_cookie,
              absl::StrCat(kSessionCookie, "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
                           tls ? "; Secure" : ""));
      return res;
    });
  }

  void Ready() {
    const unsigned version = request_.version();
    Offload([version](storage::Store& store) {
      const absl::Status status =
          store.Read([](storage::Tx&) -> absl::Status { return absl::OkStatus(); });
      Response res{status.ok() ? bhttp::status::ok : bhttp::status::service_unavailable, version};
      res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
      res.body() = status.ok() ? "ready\n" : "the database does not answer\n";
      return res;
    });
  }

  void Static(absl::string_view path) {
    if (server_.options.web_root.empty()) {
      return SendError(404, absl::NotFoundError(absl::StrCat("no such page: ", path)), false);
    }
    absl::StatusOr<StaticFile> file = ResolveStatic(server_.options.web_root, path);
    if (!file.ok()) {
      const int status = absl::IsPermissionDenied(file.status()) ? 403 : 404;
      return SendError(status, file.status(), false);
    }
    Response res{bhttp::status::ok, request_.version()};
    res.set(bhttp::field::content_type, file->content_type);
    res.set(bhttp::field::cache_control, file->cache_control);
    res.body() = std::move(file->content);
    Send(std::move(res), false, /*api=*/false);
  }

  void SendText(int status, std::string text) {
    Response res{static_cast<bhttp::status>(status), request_.version()};
    res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    res.body() = std::move(text);
    Send(std::move(res), false);
  }

  void SendMethodNotAllowed(absl::string_view allow) {
    Response res = ErrorResponse(
        405, absl::InvalidArgumentError(absl::StrCat("method not allowed here: use ", allow)));
    res.set(bhttp::field::allow, std::string(allow));
    Send(std::move(res), false);
  }

  Response ErrorResponse(int status, const absl::Status& error) {
    return ErrorResponse(status, error, request_.version());
  }
  static Response ErrorResponse(int status, const absl::Status& error, unsigned version) {
    Response res{static_cast<bhttp::status>(status), version};
    res.set(bhttp::field::content_type, "application/json");
    res.body() = ErrorJson(error);
    return res;
  }

  void SendError(int status, const absl::Status& error, bool close) {
    Send(ErrorResponse(status, error), close);
  }

  template <class Message>
  void AddCommonHeaders(Message& res) const {
    res.set("content-security-policy", kContentSecurityPolicy);
    res.set("x-content-type-options", "nosniff");
    res.set("referrer-policy", "no-referrer");
    res.set("x-frame-options", "DENY");
    if (tls_) res.set(bhttp::field::strict_transport_security, "max-age=31536000");
    const absl::string_view origin = View(request_[bhttp::field::origin]);
    if (!origin.empty() && origin != OwnOrigin() && CorsAllowed(origin)) {
      res.set(bhttp::field::access_control_allow_origin, std::string(origin));
      res.set(bhttp::field::vary, "Origin");
    }
  }

  // Writes `res` with the headers every answer has; then reads the next request, or closes.
  void Send(Response res, bool close, bool api = true) {
    AddCommonHeaders(res);
    if (api) res.set(bhttp::field::cache_control, "no-store");
    if (close || server_.stopping.load() || !request_.keep_alive()) res.keep_alive(false);
    res.prepare_payload();
    // A HEAD answer says how long the body would be, and sends none.
    if (request_.method() == bhttp::verb::head) res.body().clear();
    auto shared = std::make_shared<Response>(std::move(res));
    Lowest().expires_after(ToSteady(server_.options.request_timeout));
    bhttp::async_write(stream_, *shared, [self = Self(), shared](beast::error_code ec, size_t) {
      if (ec || !shared->keep_alive()) return self->Shut(/*linger=*/!ec);
      self->request_ = {};
      self->WaitForRequest();
    });
  }

  // Ends the connection (TLS with its close_notify, when it can be sent in time). With
  // `linger`, what the client still sends (the rest of a refused body) is read and dropped for a
  // moment first, so closing does not reset the connection before it has read the answer.
  void Shut(bool linger = false) {
    if (shut_) return;
    shut_ = true;
    if (streaming_ != nullptr) {
      streaming_->Cancel();
      streaming_.reset();
    }
    EndStream();
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      Lowest().expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = Self()](beast::error_code) { self->Lowest().close(); });
    } else {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      if (linger) return Drain();
      Lowest().close();
    }
  }

  void Drain() {
    buffer_.consume(buffer_.size());
    Lowest().expires_after(std::chrono::seconds(1));
    stream_.async_read_some(buffer_.prepare(64 * 1024),
                            [self = Self()](beast::error_code ec, size_t) {
                              if (ec) return self->Lowest().close();
                              self->Drain();
                            });
  }

  HttpServer::Impl& server_;
  Stream stream_;
  const std::string peer_;
  const bool tls_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request request_;
  std::shared_ptr<EventStreamCall> streaming_;
  bool stream_counted_ = false;  // The stream is counted among the calls under way.
  bool shut_ = false;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_wait(tcp::acceptor::wait_read, [this](beast::error_code ec) { OnReadable(ec); });
}

void HttpServer::Impl::OnReadable(beast::error_code ec) {
  if (stopping.load() || ec == net::error::operation_aborted) return;
  // Every accept goes through the process's descriptor reserve (services/core/
  // descriptor_reserve.h), which never stops accepting: out of descriptors it closes what is
  // waiting, so the queue drains instead of filling.
  for (int n = 0; n < 64 && !stopping.load(); ++n) {
    const DescriptorReserve::Accepted accepted =
        DescriptorReserve::Process().Accept(acceptor.native_handle());
    if (accepted.fd >= 0) {
      taken.fetch_add(1);
      tcp::socket socket(net::make_strand(ioc));
      socket.assign(protocol, accepted.fd, ec);
      if (ec) {
        ::close(accepted.fd);
        continue;
      }
      Serve(std::move(socket));
      continue;
    }
    const int error = accepted.error;
    if (error == EAGAIN || error == EWOULDBLOCK) break;
    if (error == EINTR || error == ECONNABORTED || error == EPROTO) continue;
    taken.fetch_add(accepted.drained);
    const absl::Time now = absl::Now();
    if (now - last_accept_error_log > absl::Seconds(10)) {
      last_accept_error_log = now;
      pipeline.log().Error("http", absl::StrCat("accept failed: ", std::strerror(error),
                                                "; connections are being refused"));
    }
    // Out of descriptors with the queue drained: go on. Otherwise (nothing could be taken off
    // the queue, or another failure) try again shortly rather than spin.
    if ((error == EMFILE || error == ENFILE) && accepted.drained > 0) break;
    accept_retry->expires_after(std::chrono::milliseconds(50));
    accept_retry->async_wait([this](beast::error_code wait) {
      if (!wait && !stopping.load()) Accept();
    });
    return;
  }
  if (!stopping.load()) Accept();
}

void HttpServer::Impl::Serve(tcp::socket socket) {
  if (connections.fetch_add(1) >= options.max_connections) {
    connections.fetch_sub(1);
    beast::error_code ignored;
    socket.close(ignored);
    return;
  }
  beast::error_code peer_ec;
  const tcp::endpoint endpoint = socket.remote_endpoint(peer_ec);
  const std::string peer = peer_ec ? "unknown" : PeerOf(endpoint);
  std::shared_ptr<ConnectionBase> connection;
  if (tls.has_value()) {
    auto c = std::make_shared<Connection<beast::ssl_stream<beast::tcp_stream>>>(
        *this, beast::ssl_stream<beast::tcp_stream>(std::move(socket), *tls), peer, true);
    c->Start();
    connection = c;
  } else {
    auto c = std::make_shared<Connection<beast::tcp_stream>>(
        *this, beast::tcp_stream(std::move(socket)), peer, false);
    c->Start();
    connection = c;
  }
  {
    std::lock_guard lock(mu);
    open.remove_if([](const std::weak_ptr<ConnectionBase>& w) { return w.expired(); });
    open.push_back(connection);
  }
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(absl::ZeroDuration()); }

int HttpServer::port() const { return impl_->port; }

int64_t HttpServer::taken() const { return impl_->taken.load(); }

bool HttpServer::full() const {
  return impl_->connections.load() >= impl_->options.max_connections;
}

absl::Status HttpServer::Probe(const std::string& host, absl::Duration timeout) const {
  net::io_context ioc;
  beast::error_code ec;
  tcp::resolver resolver(ioc);
  const auto resolved = resolver.resolve(host, std::to_string(impl_->port), ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot resolve ", host, ": ", ec.message()));
  Request request(bhttp::verb::get, "/healthz", 11);
  request.set(bhttp::field::host, host);
  Response response;
  beast::flat_buffer buffer;
  const auto deadline = absl::ToChronoNanoseconds(timeout);
  // Connect, (TLS handshake,) write the request, read the answer: each step only after the last
  // succeeded, all within the deadline the stream enforces.
  auto exchange = [&](auto& stream) {
    bhttp::async_write(stream, request, [&](beast::error_code e, size_t) {
      if (e) {
        ec = e;
        return;
      }
      bhttp::async_read(stream, buffer, response, [&](beast::error_code e, size_t) { ec = e; });
    });
  };
  auto connect_then = [&](auto& stream, auto next) {
    beast::get_lowest_layer(stream).expires_after(deadline);
    beast::get_lowest_layer(stream).async_connect(resolved, [&, next](beast::error_code e, auto) {
      if (e) {
        ec = e;
        return;
      }
      next();
    });
    ioc.run();
  };
  if (impl_->tls.has_value()) {
    ssl::context client(ssl::context::tls_client);
    client.set_verify_mode(ssl::verify_none);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, client);
    connect_then(stream, [&] {
      stream.async_handshake(ssl::stream_base::client, [&](beast::error_code e) {
        if (e) {
          ec = e;
          return;
        }
        exchange(stream);
      });
    });
  } else {
    beast::tcp_stream stream(ioc);
    connect_then(stream, [&] { exchange(stream); });
  }
  if (ec) return absl::UnavailableError(absl::StrCat("GET /healthz: ", ec.message()));
  if (response.result_int() != 200) {
    return absl::UnavailableError(absl::StrCat("GET /healthz answered ", response.result_int()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpOptions options,
                                                              CallPipeline& pipeline) {
  auto impl = std::make_unique<Impl>(std::move(options), pipeline);
  const HttpOptions& o = impl->options;
  if (o.max_connections < 1 || o.threads < 1) {
    return absl::InvalidArgumentError(
        "--http_max_connections and --http_threads must be at least 1");
  }
  if (!o.tls_cert_path.empty() || !o.tls_key_path.empty()) {
    impl->tls.emplace(ssl::context::tls_server);
    impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1);
    beast::error_code ec;
    impl->tls->use_certificate_chain_file(o.tls_cert_path, ec);
    if (!ec) impl->tls->use_private_key_file(o.tls_key_path, ssl::context::pem, ec);
    if (!ec && !o.tls_client_ca_path.empty()) {
      impl->tls->load_verify_file(o.tls_client_ca_path, ec);
      if (!ec) {
        impl->tls->set_verify_mode(
            ssl::verify_peer | (o.require_client_cert ? ssl::verify_fail_if_no_peer_cert : 0), ec);
      }
    }
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("--http_listen: cannot use the TLS certificate and key (", o.tls_cert_path,
                       ", ", o.tls_key_path, "): ", ec.message()));
    }
  }
  absl::StatusOr<HostPort> parsed = ParseHostPort(o.listen, "--http_listen");
  if (!parsed.ok()) return parsed.status();
  const std::string& host = parsed->host;
  const int port = parsed->port;
  beast::error_code ec;
  tcp::resolver resolver(impl->ioc);
  const auto resolved = resolver.resolve(
      host, std::to_string(port), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || resolved.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http_listen: cannot resolve '", host, "': ", ec.message()));
  }
  const tcp::endpoint endpoint = resolved.begin()->endpoint();
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", o.listen, ": ",
                                               ec.message(),
                                               " (is another server using the port?)"));
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->protocol = endpoint.protocol();
  impl->acceptor.non_blocking(true, ec);  // So a drain never waits.
  DescriptorReserve::Process();           // Takes its spare now, while descriptors are plenty.
  impl->accept_retry = std::make_unique<net::steady_timer>(impl->acceptor.get_executor());
  impl->Accept();
  Impl* raw = impl.get();
  impl->threads_running = o.threads;
  for (int i = 0; i < o.threads; ++i) {
    impl->threads.emplace_back([raw] {
      raw->ioc.run();
      std::lock_guard lock(raw->mu);
      if (--raw->threads_running == 0) raw->idle.notify_all();
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::Shutdown(absl::Duration grace) {
  Impl& s = *impl_;
  std::call_once(s.shutdown_once, [&] {
    s.stopping.store(true);
    net::post(s.acceptor.get_executor(), [&s] {
      beast::error_code ignored;
      s.acceptor.close(ignored);
      s.accept_retry->cancel();
    });
    {
      std::unique_lock lock(s.mu);
      s.idle.wait_for(lock, absl::ToChronoNanoseconds(grace), [&s] { return s.in_flight == 0; });
    }
    std::list<std::weak_ptr<ConnectionBase>> open;
    {
      std::lock_guard lock(s.mu);
      open.swap(s.open);
    }
    for (const auto& weak : open) {
      if (std::shared_ptr<ConnectionBase> c = weak.lock()) c->Close();
    }
    // With the acceptor and every connection closed the threads run out of work; a call that
    // outlived the grace may still hold one, so they get a moment and are then stopped (its
    // answer is dropped with the context).
    {
      std::unique_lock lock(s.mu);
      s.idle.wait_for(lock, std::chrono::seconds(2), [&s] { return s.threads_running == 0; });
    }
    s.ioc.stop();
    for (std::thread& t : s.threads) t.join();
  });
}

}  // namespace mediation::http
