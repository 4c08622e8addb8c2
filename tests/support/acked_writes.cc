#include "tests/support/acked_writes.h"

#include <chrono>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "storage/database.h"
#include "storage/sql.h"
#include "tests/support/server_process.h"
#include "tests/support/test_server.h"

namespace mediation::testing {
namespace {

namespace v1 = ::ppa::mediation::v1;

// The referrer's address, in plain text in the database (the summary is sealed), names the write.
std::string ReferrerEmail(const std::string& tag) {
  return absl::StrCat("sam.okafor+", absl::AsciiStrToLower(tag), "@example.nhs.uk");
}

// ValidReferral, with `tag` in the parties' names, the summary and the referrer's address.
v1::CreateReferralRequest TaggedReferral(int64_t organisation_id, const std::string& tag) {
  v1::CreateReferralRequest r = ValidReferral(organisation_id);
  r.mutable_referrer()->set_email(ReferrerEmail(tag));
  r.set_summary(absl::StrCat("Crash test referral ", tag, ": a breakdown on the ward rota."));
  r.mutable_parties(0)->mutable_contact()->set_name("Dr Alex " + tag);
  r.mutable_parties(1)->mutable_contact()->set_name("Dr Jo " + tag);
  return r;
}

struct StoredCase {
  std::string reference;
  std::string referrer_email;
  std::vector<std::string> parties;
};

}  // namespace

absl::StatusOr<Writers> SetUpWriters(const std::shared_ptr<grpc::Channel>& channel,
                                     const std::string& admin_token_file) {
  Writers writers{.admin = std::string(absl::StripAsciiWhitespace(ReadAll(admin_token_file)))};
  v1::IssueTokenRequest issue;
  issue.set_role(v1::ROLE_CASE_SUPPORT);
  issue.set_label("writers' desk");
  v1::IssueTokenResponse issued;
  grpc::Status s = v1::AdminService::NewStub(channel)->IssueToken(WithToken(writers.admin).get(),
                                                                  issue, &issued);
  if (!s.ok()) return absl::UnavailableError("could not issue a token: " + s.error_message());
  writers.desk = issued.secret();
  v1::RegisterOrganisationRequest org;
  *org.mutable_organisation() = ValidOrganisation("Northshire Hospitals NHS Trust");
  v1::RegisterOrganisationResponse registered;
  s = v1::OrganisationService::NewStub(channel)->RegisterOrganisation(WithToken(writers.desk).get(),
                                                                      org, &registered);
  if (!s.ok()) {
    return absl::UnavailableError("could not register the organisation: " + s.error_message());
  }
  writers.organisation = registered.organisation().id();
  return writers;
}

grpc::Status WriteTagged(v1::ReferralService::Stub& referrals,
                         v1::OrganisationService::Stub& organisations, const std::string& token,
                         int64_t organisation_id, bool organisation, const std::string& tag,
                         AckedWrite& write) {
  if (organisation) {
    v1::RegisterOrganisationRequest request;
    *request.mutable_organisation() = ValidOrganisation("Trust " + tag);
    v1::RegisterOrganisationResponse response;
    grpc::Status status =
        organisations.RegisterOrganisation(WithToken(token).get(), request, &response);
    write = {AckedWrite::kOrganisation, response.organisation().id(), "",
             request.organisation().name(), tag};
    return status;
  }
  const v1::CreateReferralRequest request = TaggedReferral(organisation_id, tag);
  v1::CreateReferralResponse response;
  grpc::Status status = referrals.CreateReferral(WithToken(token).get(), request, &response);
  write = {AckedWrite::kReferral, response.case_().id(), response.case_().reference(),
           request.summary(), tag};
  return status;
}

StoredCheck CheckStored(const std::string& db, const std::vector<AckedWrite>& acked) {
  StoredCheck check;
  absl::StatusOr<std::unique_ptr<storage::EngineStore>> store = storage::OpenDatabase({.db = db});
  if (!store.ok()) {
    check.problems.push_back(absl::StrCat("cannot open the database: ", store.status().message()));
    return check;
  }
  std::map<int64_t, StoredCase> cases;
  std::map<int64_t, std::string> organisations;
  std::map<std::string, int64_t> counts;
  absl::Status read = (*store)->Read([&](storage::Tx& tx) -> absl::Status {
    if (tx.engine() == storage::Engine::kSqlite) {
      storage::Statement integrity(tx, "PRAGMA integrity_check");
      integrity.executeStep();
      if (const std::string result = integrity.getColumn(0).getString(); result != "ok") {
        check.problems.push_back("integrity_check: " + result);
      }
    }
    storage::Statement all_cases(tx, "SELECT id, reference, referrer_email FROM cases");
    while (all_cases.executeStep()) {
      cases[all_cases.getColumn(0).getInt64()] = {
          all_cases.getColumn(1).getString(), all_cases.getColumn(2).getString(), {}};
    }
    storage::Statement parties(tx, "SELECT case_id, name FROM parties ORDER BY case_id, position");
    while (parties.executeStep()) {
      cases[parties.getColumn(0).getInt64()].parties.push_back(parties.getColumn(1).getString());
    }
    storage::Statement orgs(tx, "SELECT id, name FROM organisations");
    while (orgs.executeStep()) {
      organisations[orgs.getColumn(0).getInt64()] = orgs.getColumn(1).getString();
    }
    const std::pair<const char*, const char*> queries[] = {
        {"cases without their first state",
         "SELECT COUNT(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_state_history h "
         "WHERE h.case_id = c.id)"},
        {"audited referrals",
         "SELECT COUNT(*) FROM audit_events WHERE method = "
         "'/ppa.mediation.v1.ReferralService/CreateReferral' AND outcome = 'OK'"},
        {"audited registrations",
         "SELECT COUNT(*) FROM audit_events WHERE method = "
         "'/ppa.mediation.v1.OrganisationService/RegisterOrganisation' AND outcome = 'OK'"},
    };
    for (const auto& [name, sql] : queries) counts[name] = storage::SelectInt64(tx, sql);
    return absl::OkStatus();
  });
  if (!read.ok()) {
    check.problems.push_back(absl::StrCat("cannot read the database: ", read.message()));
    return check;
  }

  for (const AckedWrite& a : acked) {
    bool same = false;
    if (a.kind == AckedWrite::kReferral) {
      auto it = cases.find(a.id);
      same = it != cases.end() && it->second.reference == a.reference &&
             it->second.referrer_email == ReferrerEmail(a.tag) &&
             it->second.parties == std::vector<std::string>{"Dr Alex " + a.tag, "Dr Jo " + a.tag};
    } else {
      auto it = organisations.find(a.id);
      same = it != organisations.end() && it->second == a.text;
    }
    if (!same) {
      ++check.lost;
      check.problems.push_back(
          absl::StrCat("acknowledged write ", a.tag, " (",
                       a.kind == AckedWrite::kReferral ? "case " : "organisation ", a.id,
                       ") is missing or changed"));
    }
  }
  int64_t without_parties = 0;
  for (const auto& [id, c] : cases) without_parties += c.parties.size() == 2 ? 0 : 1;
  if (without_parties != 0) {
    check.problems.push_back(absl::StrCat(without_parties, " case(s) without both parties"));
  }
  if (const int64_t n = counts["cases without their first state"]; n != 0) {
    check.problems.push_back(absl::StrCat(n, " case(s) without their first state"));
  }
  if (const int64_t n = counts["audited referrals"]; n != static_cast<int64_t>(cases.size())) {
    check.problems.push_back(absl::StrCat(cases.size(), " cases but ", n, " audited referrals"));
  }
  if (const int64_t n = counts["audited registrations"];
      n != static_cast<int64_t>(organisations.size())) {
    check.problems.push_back(
        absl::StrCat(organisations.size(), " organisations but ", n, " audited registrations"));
  }
  return check;
}

StoredCheck CheckThroughServer(const std::shared_ptr<grpc::Channel>& channel,
                               const Writers& writers, const std::vector<AckedWrite>& acked) {
  StoredCheck check;
  v1::VerifyAuditChainResponse chain;
  grpc::Status s = v1::AdminService::NewStub(channel)->VerifyAuditChain(
      WithToken(writers.admin).get(), {}, &chain);
  if (!s.ok() || !chain.intact()) {
    check.problems.push_back(absl::StrCat("audit chain: ", s.error_message(), chain.problem()));
  }
  auto referrals = v1::ReferralService::NewStub(channel);
  int checked = 0;
  for (auto it = acked.rbegin(); it != acked.rend() && checked < 5; ++it) {
    if (it->kind != AckedWrite::kReferral) continue;
    ++checked;
    v1::GetCaseRequest get;
    get.set_case_id(it->id);
    v1::GetCaseResponse got;
    s = referrals->GetCase(WithToken(writers.desk).get(), get, &got);
    if (!s.ok() || got.case_().summary() != it->text || got.case_().parties_size() != 2) {
      ++check.lost;
      check.problems.push_back(absl::StrCat(
          "case ", it->id, " does not read back through the server: ", s.error_message()));
    }
  }
  return check;
}

}  // namespace mediation::testing
