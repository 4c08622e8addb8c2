#include "tests/support/http_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace mediation::testing {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

std::string HttpReply::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

absl::StatusOr<HttpReply> SendHttp(int port, const HttpCall& call) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(
      net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
      ec);
  if (ec) return absl::UnavailableError(absl::StrCat("connect: ", ec.message()));
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(call.method), call.target, 11};
  req.set(bhttp::field::host, absl::StrCat("127.0.0.1:", port));
  for (const auto& [name, value] : call.headers) req.set(name, value);
  req.body() = call.body;
  req.prepare_payload();
  bhttp::write(stream, req, ec);
  // A server may answer and close before reading a body it refuses: read its answer anyway.
  const beast::error_code write_error = ec;
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (call.method == "HEAD") parser.skip(true);
  bhttp::read(stream, buffer, parser, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "read: ", ec.message(), write_error ? " (write: " + write_error.message() + ")" : ""));
  }
  HttpReply reply;
  const auto& res = parser.get();
  reply.status = res.result_int();
  for (const auto& field : res) {
    reply.headers.emplace(absl::AsciiStrToLower(std::string(field.name_string())),
                          std::string(field.value()));
  }
  reply.body = res.body();
  return reply;
}

HttpReply ConnectJson(int port, const std::string& method, const std::string& json,
                      const std::string& token) {
  HttpCall call{.target = method, .body = json};
  call.headers = {{"Content-Type", "application/json"}, {"Connect-Protocol-Version", "1"}};
  if (!token.empty()) call.headers.emplace_back("Authorization", "Bearer " + token);
  absl::StatusOr<HttpReply> reply = SendHttp(port, call);
  return reply.ok() ? *reply : HttpReply{.status = -1, .body = reply.status().ToString()};
}

}  // namespace mediation::testing
