#include "services/person_export.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/agreement_service.h"
#include "services/convert.h"
#include "services/core/principal.h"
#include "services/mediator_service.h"
#include "services/rules/identity.h"
#include "services/scheduling/session_view.h"
#include "services/screening_service.h"
#include "storage/agreements.h"
#include "storage/cases.h"
#include "storage/mediators.h"
#include "storage/organisations.h"
#include "storage/outbox.h"
#include "storage/screening.h"
#include "storage/sessions.h"
#include "storage/subject_access.h"

namespace mediation {

const char* const kNotesExclusion =
    "Session notes: the mediators' confidential working notes are not in this export. They mix "
    "both parties' accounts and the mediators' own impressions, and no administrator can read "
    "them (they are sealed for the case's mediators alone). A request for them goes to the "
    "case's mediators, who disclose what is the requester's own personal data and withhold what "
    "would reveal another person (Data Protection Act 2018, Schedule 2, Part 3, paragraph 16); "
    "see the README's data protection section.";
const char* const kOtherPeopleExclusion =
    "Other people's personal data in the same records: the other parties, the other parties' "
    "screening answers and individual meetings, the case summary and reasons recorded by staff "
    "(accounts of everyone involved), other people's signatures, and, in a mediator's record, "
    "the people named in their declared conflicts and the notes on them.";

namespace {

namespace v1 = ::ppa::mediation::v1;

absl::Status ExportParty(storage::Tx& tx, int64_t case_id, int64_t party_id,
                         v1::PartyRecordExport* out) {
  absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, case_id);
  if (!c.ok()) return c.status();
  out->set_case_id(c->id);
  out->set_case_reference(c->reference);
  out->set_case_state(c->state);
  ToProto(c->created_at, out->mutable_referred_at());
  for (const storage::PartyRecord& p : c->parties) {
    if (p.id != party_id) continue;
    ToProto(p, out->mutable_party());
    // Their own details' sealed texts that could not be given back.
    const std::string prefix = absl::StrCat("parties[", p.id, "].");
    for (const storage::WithheldField& w : c->withheld) {
      if (absl::StartsWith(w.field, prefix)) {
        v1::WithheldField* f = out->mutable_party_withheld()->Add();
        f->set_field(w.field);
        f->set_reason(w.reason == storage::WithheldField::Reason::kDestroyed
                          ? v1::WITHHELD_REASON_DESTROYED
                          : v1::WITHHELD_REASON_UNREADABLE);
      }
    }
  }
  absl::StatusOr<std::vector<storage::ScreeningAnswerRecord>> answers =
      storage::ListScreeningAnswers(tx, case_id, /*include_superseded=*/true);
  if (!answers.ok()) return answers.status();
  for (auto it = answers->rbegin(); it != answers->rend(); ++it) {  // Oldest first.
    if (it->party_id == party_id) ToProto(*it, out->add_screening_answers());
  }
  // The sessions as the party sees them.
  const Principal party{.role = v1::ROLE_PARTY, .case_id = case_id, .party_id = party_id};
  absl::StatusOr<std::vector<storage::SessionRecord>> sessions =
      storage::ListSessionsOfCase(tx, case_id, /*include_cancelled=*/true);
  if (!sessions.ok()) return sessions.status();
  for (const storage::SessionRecord& s : *sessions) {
    if (!MaySeeSession(party, s)) continue;
    if (absl::Status st = SessionView(tx, party, *c, s, out->add_sessions()); !st.ok()) return st;
  }
  absl::StatusOr<std::vector<storage::AgreementVersionRecord>> versions =
      storage::ListAgreementVersions(tx, case_id);
  if (!versions.ok()) return versions.status();
  for (storage::AgreementVersionRecord& v : *versions) {
    std::vector<storage::SignatureRecord> own;
    for (const storage::SignatureRecord& s : v.signatures) {
      if (s.party_id == party_id) own.push_back(s);
    }
    if (own.empty()) continue;
    v.signatures = own;
    (void)ToProto(v, out->add_signed_agreement_versions());  // Unreadable: marked withheld.
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status BuildPersonExport(storage::Tx& tx, absl::string_view email, absl::Time now,
                               v1::ExportPersonDataResponse& out) {
  out.set_email(absl::AsciiStrToLower(absl::StripAsciiWhitespace(email)));
  ToProto(now, out.mutable_generated_at());
  absl::StatusOr<storage::PersonRecords> found = storage::FindPerson(tx, email);
  if (!found.ok()) return found.status();
  for (const auto& [case_id, party_id] : found->parties) {
    if (absl::Status s = ExportParty(tx, case_id, party_id, out.add_as_party()); !s.ok()) return s;
  }
  for (const int64_t case_id : found->referred_cases) {
    absl::StatusOr<storage::CaseRecord> c = storage::GetCase(tx, case_id);
    if (!c.ok()) return c.status();
    v1::ReferrerRecordExport* r = out.add_as_referrer();
    r->set_case_id(c->id);
    r->set_case_reference(c->reference);
    r->set_case_state(c->state);
    ToProto(c->created_at, r->mutable_referred_at());
    ToProto(c->referrer, r->mutable_referrer());
  }
  for (const int64_t id : found->organisations) {
    absl::StatusOr<storage::OrganisationRecord> o = storage::GetOrganisation(tx, id);
    if (!o.ok()) return o.status();
    ToProto(*o, out.add_as_organisation_contact());
  }
  if (found->mediator_id != 0) {
    absl::StatusOr<storage::MediatorRecord> m = storage::GetMediator(tx, found->mediator_id);
    if (!m.ok()) return m.status();
    ToProto(*m, out.mutable_as_mediator());
    // Their declared conflicts name other people, and the notes on them may too.
    for (v1::Conflict& c : *out.mutable_as_mediator()->mutable_conflicts()) {
      c.clear_person_name();
      c.clear_person_email();
      c.clear_note();
    }
    out.mutable_as_mediator()->clear_withheld();
  }
  const std::string key = rules::EmailKey(email);
  if (!key.empty()) {
    absl::StatusOr<std::vector<storage::OutboxRecord>> messages =
        storage::ListOutboxMessagesTo(tx, key, 10000);
    if (!messages.ok()) return messages.status();
    for (const storage::OutboxRecord& m : *messages) ToProto(m, out.add_messages());
    absl::StatusOr<bool> wants = storage::WantsReminders(tx, key);
    if (!wants.ok()) return wants.status();
    out.set_reminders_off(!*wants);
  }
  out.add_exclusions(kNotesExclusion);
  out.add_exclusions(kOtherPeopleExclusion);
  return absl::OkStatus();
}

}  // namespace mediation
