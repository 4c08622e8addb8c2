#include "services/core/client_identities.h"

#include <grpc/grpc_security_constants.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace mediation {
namespace {

constexpr absl::string_view kKinds[] = {"uri", "dns", "email", "cn"};

// `kind:value` as compared: DNS names are case-insensitive (RFC 4343), the rest exact.
std::string Normalise(absl::string_view kind, absl::string_view value) {
  return kind == "dns" ? absl::StrCat(kind, ":", absl::AsciiStrToLower(value))
                       : absl::StrCat(kind, ":", value);
}

absl::Status LineError(int line, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", problem));
}

}  // namespace

absl::StatusOr<ClientIdentities> ClientIdentities::Parse(absl::string_view text) {
  ClientIdentities result;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() > 2 && words[2].front() == '#') words.resize(2);
    if (words.size() != 2) {
      return LineError(number,
                       "expected '<kind>:<value> <token id>', e.g. 'uri:spiffe://ppa/mediationctl "
                       "3' (values cannot contain spaces; a comment after the id starts with #)");
    }
    const size_t colon = words[0].find(':');
    const absl::string_view kind =
        colon == absl::string_view::npos ? words[0] : words[0].substr(0, colon);
    if (std::find(std::begin(kKinds), std::end(kKinds), kind) == std::end(kKinds) ||
        colon == absl::string_view::npos) {
      return LineError(
          number, absl::StrCat("'", words[0], "' does not start with uri:, dns:, email: or cn:"));
    }
    const absl::string_view value = words[0].substr(colon + 1);
    if (value.empty()) return LineError(number, absl::StrCat("'", words[0], "' has no value"));
    int64_t token_id = 0;
    if (!absl::SimpleAtoi(words[1], &token_id) || token_id <= 0) {
      return LineError(number, absl::StrCat("'", words[1],
                                            "' is not a token id (a positive number, as "
                                            "AdminService.ListTokens shows it)"));
    }
    const std::string identity = Normalise(kind, value);
    if (!result.tokens_.emplace(identity, token_id).second) {
      return LineError(number, absl::StrCat("'", identity, "' is mapped twice"));
    }
  }
  return result;
}

absl::StatusOr<ClientIdentities> ClientIdentities::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat("--client_identities: cannot read ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<ClientIdentities> parsed = Parse(text.str());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--client_identities: ", path, ": ", parsed.status().message()));
  }
  return parsed;
}

absl::StatusOr<int64_t> ClientIdentities::TokenFor(
    const std::vector<std::string>& peer_identities) const {
  int64_t token_id = 0;
  std::vector<std::string> matched;
  for (const std::string& identity : peer_identities) {
    const size_t colon = identity.find(':');
    if (colon == std::string::npos) continue;
    auto it = tokens_.find(Normalise(identity.substr(0, colon), identity.substr(colon + 1)));
    if (it == tokens_.end()) continue;
    if (token_id != 0 && it->second != token_id) {
      return absl::UnauthenticatedError(absl::StrCat(
          "the client certificate's identities ", absl::StrJoin(matched, ", "), " and ", identity,
          " are mapped to different tokens in the server's client identity file; the operator "
          "must map only one of them"));
    }
    token_id = it->second;
    matched.push_back(identity);
  }
  if (token_id == 0) return absl::NotFoundError("no mapped identity");
  return token_id;
}

std::vector<int64_t> ClientIdentities::token_ids() const {
  std::vector<int64_t> ids;
  for (const auto& [identity, id] : tokens_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::vector<std::string> PeerIdentities(const grpc::AuthContext& context) {
  std::vector<std::string> identities;
  auto type = context.FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
  if (type.empty() || type.front() != GRPC_SSL_TRANSPORT_SECURITY_TYPE) return identities;
  const std::pair<const char*, absl::string_view> kProperties[] = {
      {GRPC_PEER_URI_PROPERTY_NAME, "uri"},
      {GRPC_PEER_DNS_PROPERTY_NAME, "dns"},
      {GRPC_PEER_EMAIL_PROPERTY_NAME, "email"},
      {GRPC_X509_CN_PROPERTY_NAME, "cn"}};
  for (const auto& [property, kind] : kProperties) {
    for (const grpc::string_ref& value : context.FindPropertyValues(property)) {
      identities.push_back(absl::StrCat(kind, ":", absl::string_view(value.data(), value.size())));
    }
  }
  return identities;
}

}  // namespace mediation
