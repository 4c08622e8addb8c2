#include "tests/support/acked_writes.h"

#include <chrono>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "storage/database.h"
#include "storage/sql.h"

namespace mediation::testing {
namespace {

namespace v1 = ::ppa::mediation::v1;

// The referrer's address, in plain text in the database (the summary is sealed), names the write.
std::string ReferrerEmail(const std::string& tag) {
  return absl::StrCat("sam.okafor+", absl::AsciiStrToLower(tag), "@example.nhs.uk");
}

v1::CreateReferralRequest TestReferral(int64_t organisation_id, const std::string& tag) {
  v1::CreateReferralRequest r;
  r.set_organisation_id(organisation_id);
  r.mutable_referrer()->set_name("Sam Okafor");
  r.mutable_referrer()->set_email(ReferrerEmail(tag));
  r.set_summary(absl::StrCat("Crash test referral ", tag, ": a breakdown on the ward rota."));
  r.set_concern_level(v1::CONCERN_LEVEL_MID);
  r.set_concern_type(v1::CONCERN_TYPE_ACTIVE);
  for (const char* who : {"Alex", "Jo"}) {
    v1::Party* p = r.add_parties();
    p->mutable_contact()->set_name(absl::StrCat("Dr ", who, " ", tag));
    p->mutable_contact()->set_email(absl::StrCat(absl::AsciiStrToLower(who), "@example.nhs.uk"));
    p->set_profession(v1::PROFESSION_DOCTOR);
  }
  return r;
}

struct StoredCase {
  std::string reference;
  std::string referrer_email;
  std::vector<std::string> parties;
};

}  // namespace

std::unique_ptr<grpc::ClientContext> WithBearer(const std::string& secret, int seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + secret);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

v1::Organisation TestOrganisation(const std::string& name) {
  v1::Organisation o;
  o.set_name(name);
  o.set_kind(v1::ORGANISATION_KIND_NHS_TRUST);
  o.set_nation(v1::NATION_ENGLAND);
  o.set_care_setting(v1::CARE_SETTING_SECONDARY);
  o.set_sector(v1::SECTOR_PUBLIC);
  o.mutable_contact()->set_name("Priya Shah");
  o.mutable_contact()->set_email("priya.shah@example.nhs.uk");
  return o;
}

grpc::Status WriteTagged(v1::ReferralService::Stub& referrals,
                         v1::OrganisationService::Stub& organisations, const std::string& token,
                         int64_t organisation_id, bool organisation, const std::string& tag,
                         AckedWrite& write) {
  if (organisation) {
    v1::RegisterOrganisationRequest request;
    *request.mutable_organisation() = TestOrganisation("Trust " + tag);
    v1::RegisterOrganisationResponse response;
    grpc::Status status =
        organisations.RegisterOrganisation(WithBearer(token).get(), request, &response);
    write = {AckedWrite::kOrganisation, response.organisation().id(), "",
             request.organisation().name(), tag};
    return status;
  }
  const v1::CreateReferralRequest request = TestReferral(organisation_id, tag);
  v1::CreateReferralResponse response;
  grpc::Status status = referrals.CreateReferral(WithBearer(token).get(), request, &response);
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

}  // namespace mediation::testing
