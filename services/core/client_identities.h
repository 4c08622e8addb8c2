// Mutual TLS: which verified client-certificate identity acts as which access token.
//
// The mapping file (--client_identities) has one entry a line:
//
//   # mediationctl on the case support team's jump host
//   uri:spiffe://ppa/mediationctl   3
//   dns:gateway.ppa.example         7   # trailing comments after the token id are allowed
//   email:ops@ppa.example           9
//   cn:reporting-robot              12
//
// <kind>:<value> names a certificate identity: `uri`, `dns` and `email` are subject alternative
// names, `cn` the subject's common name. The value runs to the first blank, so it cannot contain
// spaces (a common name with spaces cannot be mapped: use a SAN). The number is the id of an
// existing access token (AdminService.IssueToken, ListTokens): a call over a connection whose
// certificate carries that identity is authenticated as that token, with its role and bindings,
// and stops working when the token is revoked or expires. DNS names compare case-insensitively,
// everything else exactly.
//
// The identities come only from the TLS peer as gRPC verified it against --tls_client_ca
// (grpc::AuthContext), never from request metadata.
//
// Thread-safe: immutable after construction.
#ifndef MEDIATION_SERVICES_CORE_CLIENT_IDENTITIES_H_
#define MEDIATION_SERVICES_CORE_CLIENT_IDENTITIES_H_

#include <grpcpp/security/auth_context.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mediation {

class ClientIdentities {
 public:
  // Parses the file's text; INVALID_ARGUMENT naming the line and what is wrong with it.
  static absl::StatusOr<ClientIdentities> Parse(absl::string_view text);
  // Reads and parses `path`; errors name the file.
  static absl::StatusOr<ClientIdentities> Load(const std::string& path);

  // The token the peer's identities ("uri:...", as PeerIdentities returns them) map to:
  // NOT_FOUND when none is mapped; UNAUTHENTICATED when they map to different tokens (the file
  // is ambiguous for this certificate, so it authenticates as nobody).
  absl::StatusOr<int64_t> TokenFor(const std::vector<std::string>& peer_identities) const;

  size_t size() const { return tokens_.size(); }
  // Every mapped token id, for a start-up check.
  std::vector<int64_t> token_ids() const;

 private:
  absl::flat_hash_map<std::string, int64_t> tokens_;  // Normalised identity -> token id.
};

// The verified certificate identities of the call's TLS peer, as "uri:...", "dns:...",
// "email:..." and "cn:..." (SANs first, then the common name); empty when the peer sent no
// certificate or the connection is not TLS. REQUIRES: the server verifies every client
// certificate it receives (it never asks for one without verifying it).
std::vector<std::string> PeerIdentities(const grpc::AuthContext& context);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_CLIENT_IDENTITIES_H_
