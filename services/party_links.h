// One-time sign-in links for the parties (CaseService.IssuePartySignInLink): what state a link
// is in, how it reads in the API, and its use, which turns the code into a PARTY token.
#ifndef MEDIATION_SERVICES_PARTY_LINKS_H_
#define MEDIATION_SERVICES_PARTY_LINKS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ppa/mediation/v1/case.pb.h"
#include "storage/party_links.h"
#include "storage/records.h"
#include "storage/tx.h"

namespace mediation {

namespace v1 = ::ppa::mediation::v1;

// How long a link can be used after it is issued.
inline constexpr absl::Duration kPartyLinkLifetime = absl::Hours(72);

// The refusal of a code that no link has.
inline constexpr char kUnknownPartyLink[] =
    "this sign-in link is not one the service issued: check that the whole link was copied";

// The link's path: the code goes after '#', which browsers never send to a server.
inline constexpr char kPartyLinkPath[] = "/app/join#";

v1::PartySignInLinkState PartyLinkState(const storage::PartyLinkRecord& link, absl::Time now);

void ToProto(const storage::PartyLinkRecord& link, absl::Time now, v1::PartySignInLink* out);

struct UsedPartyLink {
  storage::PartyLinkRecord link;
  storage::TokenRecord token;  // The new PARTY token; its secret was never kept.
};

// Issues a link for the party: earlier unused links are revoked, and so are the PARTY tokens
// that earlier links became (ending the sessions they hold), so only the newest link lets the
// party in. REQUIRES: a write transaction.
absl::StatusOr<storage::PartyLinkRecord> IssuePartyLink(storage::Tx& tx,
                                                        storage::PartyLinkRecord link);

// Uses the link whose code is `code` at `now`: a new PARTY token bound to its case and party,
// expiring after `token_lifetime`, and the link marked used, in the caller's write transaction.
// UNAUTHENTICATED for a code never issued; FAILED_PRECONDITION, saying what to do, for a link
// used, expired or replaced, or a case whose personal data was removed. `*link_id` is set to
// the link's id whenever one was found. REQUIRES: a write transaction.
absl::StatusOr<UsedPartyLink> UsePartyLink(storage::Tx& tx, absl::string_view code, absl::Time now,
                                           absl::Duration token_lifetime, int64_t* link_id);

}  // namespace mediation

#endif  // MEDIATION_SERVICES_PARTY_LINKS_H_
