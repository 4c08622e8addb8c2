// A plain HTTP/1.1 client for tests of the server's HTTP listener (Boost.Beast, one connection
// per request unless a Connection is kept): what a browser, curl or a Connect client sends.
#ifndef MEDIATION_TESTS_SUPPORT_HTTP_CLIENT_H_
#define MEDIATION_TESTS_SUPPORT_HTTP_CLIENT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mediation::testing {

struct HttpReply {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // Names in lower case.
  std::string body;

  // The first value of header `name` (lower case); empty when absent.
  std::string Header(const std::string& name) const;
};

struct HttpCall {
  std::string method = "POST";
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Sends `call` to 127.0.0.1:`port` on a new connection and reads the whole answer (a chunked
// stream to its end). UNAVAILABLE when the connection fails.
absl::StatusOr<HttpReply> SendHttp(int port, const HttpCall& call);

// A Connect unary call with JSON: POST /<method> with Content-Type application/json and
// Connect-Protocol-Version 1, and `Authorization: Bearer <token>` unless `token` is empty.
HttpReply ConnectJson(int port, const std::string& method, const std::string& json,
                      const std::string& token);

}  // namespace mediation::testing

#endif  // MEDIATION_TESTS_SUPPORT_HTTP_CLIENT_H_
