// Writes a client saw acknowledged, and the check that the database holds each of them exactly:
// shared by the crash test (server processes killed) and the PostgreSQL drill (the database
// restarted, or failed over to its standby).
#ifndef MEDIATION_TESTS_SUPPORT_ACKED_WRITES_H_
#define MEDIATION_TESTS_SUPPORT_ACKED_WRITES_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ppa/mediation/v1/organisation.grpc.pb.h"
#include "ppa/mediation/v1/referral.grpc.pb.h"

namespace mediation::testing {

// One write, and once acknowledged what identifies it.
struct AckedWrite {
  enum Kind { kReferral, kOrganisation } kind = kReferral;
  int64_t id = 0;
  std::string reference;  // Referrals.
  std::string text;       // The referral's summary, or the organisation's name.
  std::string tag;        // Unique to the write: in the parties' names and the referrer's address.
};

// What the writers need, made through a server: the first ADMIN token (read from
// `admin_token_file`), a CASE_SUPPORT token issued with it, and an organisation to refer for.
struct Writers {
  std::string admin;
  std::string desk;
  int64_t organisation = 0;
};
absl::StatusOr<Writers> SetUpWriters(const std::shared_ptr<grpc::Channel>& channel,
                                     const std::string& admin_token_file);

// Makes write `tag` through one server: an organisation's registration when `organisation`,
// otherwise a referral for `organisation_id`. `write` holds what identifies it when it succeeded.
grpc::Status WriteTagged(::ppa::mediation::v1::ReferralService::Stub& referrals,
                         ::ppa::mediation::v1::OrganisationService::Stub& organisations,
                         const std::string& token, int64_t organisation_id, bool organisation,
                         const std::string& tag, AckedWrite& write);

// What the database holds, read directly on a connection of its own, against what was
// acknowledged.
struct StoredCheck {
  int64_t lost = 0;                   // Acknowledged but missing or changed.
  std::vector<std::string> problems;  // One line per lost write and per broken invariant.
};

// Checks on `db` (a SQLite path or a postgresql:// URI) that every write in `acked` is stored
// with exactly the content it was sent with, and that nothing is half-written: every case has
// both parties and its first state, every case and organisation has the audit row written in the
// same transaction, and (SQLite) PRAGMA integrity_check is ok. A problem reading the database is
// one of the problems.
StoredCheck CheckStored(const std::string& db, const std::vector<AckedWrite>& acked);

// Checks through a server that the audit chain verifies and that the last five referrals in
// `acked` read back with their summary and both parties (a referral that does not is lost).
StoredCheck CheckThroughServer(const std::shared_ptr<grpc::Channel>& channel,
                               const Writers& writers, const std::vector<AckedWrite>& acked);

}  // namespace mediation::testing

#endif  // MEDIATION_TESTS_SUPPORT_ACKED_WRITES_H_
