// The access matrix: every RPC, called by every role (and by nobody), with the exact status code
// each cell must give. Requests are valid, so the code reflects access alone.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "services/core/policy.h"
#include "tests/support/test_database.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::ValidMediator;
using ::mediation::testing::ValidOrganisation;
using ::mediation::testing::ValidReferral;
using ::mediation::testing::Via;
using ::mediation::testing::WithToken;
using Code = grpc::StatusCode;

// The callers of the matrix: every role, plus a call without a token.
enum Caller { kNobody, kAdmin, kCaseSupport, kSeniorAdviser, kMediator, kOrganisation, kParty };
constexpr Caller kCallers[] = {kNobody,   kAdmin,        kCaseSupport, kSeniorAdviser,
                               kMediator, kOrganisation, kParty};
const char* CallerName(Caller c) {
  static const char* names[] = {"nobody",   "ADMIN",        "CASE_SUPPORT", "SENIOR_ADVISER",
                                "MEDIATOR", "ORGANISATION", "PARTY"};
  return names[c];
}

// Every test runs twice: through gRPC, and through the Connect protocol on the HTTP listener
// with the same stubs (tests/support/connect_forwarder.h), so the two transports must give
// the same code in every cell.
class AccessMatrixTest : public ::testing::TestWithParam<Via> {
 protected:
  // The real clock, plus an offset the fixtures move to let sessions start.
  AccessMatrixTest()
      : offset_(std::make_shared<std::atomic<int64_t>>(0)),
        server_(
            [offset = offset_](ServerOptions& o) {
              o.clock = [offset] { return absl::Now() + absl::Seconds(offset->load()); };
            },
            GetParam()) {}

  void SetUp() override {
    org_ = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    case_ = server_.CreateReferral(org_);
    tokens_[kNobody] = "";
    tokens_[kAdmin] = server_.admin_secret();
    tokens_[kCaseSupport] = server_.case_support();
    tokens_[kSeniorAdviser] = server_.senior_adviser();
    mediator_ = server_.RegisterMediator(ValidMediator("Morgan Ellis", "morgan.ellis@example.org"));
    tokens_[kMediator] = server_.IssueToken(v1::ROLE_MEDIATOR, mediator_);
    tokens_[kOrganisation] = server_.IssueToken(v1::ROLE_ORGANISATION, 0, org_);
    tokens_[kParty] = PartyToken(case_);

    // For scheduling: a case allocated to the matrix's mediator, a party of it, and a joint
    // session everyone concerned may read; free slots for the calls that book.
    sched_ = server_.AllocatedCase(org_, mediator_, tokens_[kMediator]);
    sched_party_ = PartyToken(sched_);
    v1::FindSlotsRequest find;
    find.set_case_id(sched_.id());
    find.set_kind(v1::SESSION_KIND_JOINT_MEETING);
    find.set_mode(v1::SESSION_MODE_VIDEO);
    find.set_duration_minutes(60);
    find.set_max_slots(50);
    while (free_slots_.size() < 100) {
      v1::FindSlotsResponse found;
      ASSERT_TRUE(server_.scheduling()
                      .FindSlots(WithToken(server_.case_support()).get(), find, &found)
                      .ok());
      ASSERT_GT(found.slots_size(), 0);
      // Every other slot, so neighbours are further apart than the buffer.
      for (int i = 0; i < found.slots_size(); i += 2) free_slots_.push_back(found.slots(i).start());
      // Go on from the day after the last slot found.
      const std::string last = found.slots(found.slots_size() - 1).local_start();
      v1::Date* first = find.mutable_window_first_day();
      first->set_year(std::stoi(last.substr(0, 4)));
      first->set_month(std::stoi(last.substr(5, 2)));
      first->set_day(std::stoi(last.substr(8, 2)) + 1);
      if (first->day() > 28) {  // Keep clear of month ends: continue from the next month.
        first->set_day(1);
        first->set_month(first->month() % 12 + 1);
        if (first->month() == 1) first->set_year(first->year() + 1);
      }
    }
    session_ = BookAsCaseSupport();

    // Notes and agreements: a note by the mediator, and a final agreement both parties agreed
    // to share, so every reader the policy admits finds something.
    v1::AddNoteRequest note;
    note.set_case_id(sched_.id());
    note.set_visibility(v1::NOTE_VISIBILITY_SHARED);
    note.set_text("Both parties keen to meet before the rota changes.");
    v1::AddNoteResponse added;
    ASSERT_TRUE(server_.notes().AddNote(WithToken(tokens_[kMediator]).get(), note, &added).ok());
    note_ = added.note().id();
    const v1::AgreementVersion draft = Draft();
    for (int p = 0; p < 2; ++p) {
      v1::SignAgreementRequest sign;
      sign.set_version_id(draft.id());
      sign.set_content_hash(draft.content_hash());
      sign.set_consent_to_share(true);
      v1::SignAgreementResponse signed_version;
      const std::string party = p == 0 ? sched_party_ : PartyToken(sched_, 1);
      ASSERT_TRUE(
          server_.agreements().SignAgreement(WithToken(party).get(), sign, &signed_version).ok());
    }
  }

  v1::AgreementVersion Draft() {
    v1::DraftAgreementRequest r;
    r.set_case_id(sched_.id());
    v1::AgreementItem* item = r.mutable_content()->add_items();
    item->set_commitment("We will raise rota concerns with each other first.");
    item->add_party_ids(sched_.parties(0).id());
    item->add_party_ids(sched_.parties(1).id());
    v1::DraftAgreementResponse out;
    EXPECT_TRUE(
        server_.agreements().DraftAgreement(WithToken(tokens_[kMediator]).get(), r, &out).ok());
    return out.version();
  }

  // A case of the matrix's mediator whose first session has started: IN_MEDIATION.
  v1::Case InMediationCase() {
    const v1::Case c = server_.AllocatedCase(org_, mediator_, tokens_[kMediator]);
    v1::BookSessionRequest book = BookRequest();
    book.set_case_id(c.id());
    v1::BookSessionResponse booked;
    EXPECT_TRUE(server_.scheduling()
                    .BookSession(WithToken(server_.case_support()).get(), book, &booked)
                    .ok());
    offset_->store(book.start().seconds() + 60 - absl::ToUnixSeconds(absl::Now()));
    EXPECT_TRUE(server_.server().RunMaintenance().ok());
    offset_->store(0);
    EXPECT_EQ(server_.StateOf(c.id()), v1::CASE_STATE_IN_MEDIATION);
    return c;
  }

  void RecordOutcomeOf(const v1::Case& c) {
    v1::RecordOutcomeRequest r;
    r.set_case_id(c.id());
    r.set_outcome(v1::OUTCOME_NO_AGREEMENT);  // These cases have no signed agreement.
    v1::RecordOutcomeResponse out;
    EXPECT_TRUE(
        server_.agreements().RecordOutcome(WithToken(tokens_[kMediator]).get(), r, &out).ok());
  }

  int64_t BookAsCaseSupport() {
    v1::BookSessionResponse out;
    EXPECT_TRUE(server_.scheduling()
                    .BookSession(WithToken(server_.case_support()).get(), BookRequest(), &out)
                    .ok());
    return out.session().id();
  }

  v1::BookSessionRequest BookRequest() {
    v1::BookSessionRequest r;
    r.set_case_id(sched_.id());
    r.set_kind(v1::SESSION_KIND_JOINT_MEETING);
    r.set_mode(v1::SESSION_MODE_VIDEO);
    r.set_video_link("https://video.example/matrix");
    r.set_duration_minutes(60);
    *r.mutable_start() = free_slots_.at(next_slot_++);
    return r;
  }

  std::string PartyToken(const v1::Case& c, int index = 0) {
    return server_.IssueToken(v1::ROLE_PARTY, 0, 0, c.id(), c.parties(index).id());
  }

  // A case of the organisation for a call that changes its state, so every cell starts alike.
  // The PARTY caller gets a token for it.
  int64_t CurrentRevision(int64_t case_id) {
    v1::GetCaseRequest r;
    r.set_case_id(case_id);
    v1::GetCaseResponse out;
    EXPECT_TRUE(server_.referrals().GetCase(WithToken(server_.case_support()).get(), r, &out).ok());
    return out.case_().revision();
  }

  v1::Case FreshCase(Caller caller, std::string& token) {
    v1::Case c = server_.CreateReferral(org_);
    if (caller == kParty) token = PartyToken(c);
    return c;
  }

  // Calls the RPC named `method` as `caller`, with a valid request.
  grpc::Status Call(const std::string& method, Caller caller) {
    std::string token = tokens_[caller];
    const std::string svc = "/ppa.mediation.v1.";
    auto ctx = [&] { return WithToken(token); };
    if (method == svc + "AdminService/IssueToken") {
      v1::IssueTokenRequest r;
      r.set_role(v1::ROLE_SENIOR_ADVISER);
      r.set_label("matrix");
      v1::IssueTokenResponse out;
      return server_.admin().IssueToken(ctx().get(), r, &out);
    }
    if (method == svc + "AdminService/ListTokens") {
      v1::ListTokensResponse out;
      return server_.admin().ListTokens(ctx().get(), {}, &out);
    }
    if (method == svc + "AdminService/RevokeToken") {
      // A fresh token each time, so every allowed call has something to revoke.
      v1::IssueTokenRequest issue;
      issue.set_role(v1::ROLE_CASE_SUPPORT);
      issue.set_label("to revoke");
      v1::IssueTokenResponse issued;
      EXPECT_TRUE(
          server_.admin().IssueToken(WithToken(server_.admin_secret()).get(), issue, &issued).ok());
      v1::RevokeTokenRequest r;
      r.set_token_id(issued.token().id());
      v1::RevokeTokenResponse out;
      return server_.admin().RevokeToken(ctx().get(), r, &out);
    }
    if (method == svc + "AdminService/ListAuditEvents") {
      v1::ListAuditEventsResponse out;
      return server_.admin().ListAuditEvents(ctx().get(), {}, &out);
    }
    if (method == svc + "AdminService/BackupDatabase") {
      v1::BackupDatabaseRequest r;
      r.set_label("matrix");
      v1::BackupDatabaseResponse out;
      return server_.admin().BackupDatabase(ctx().get(), r, &out);
    }
    if (method == svc + "AdminService/RotateMasterKey") {
      v1::RotateMasterKeyResponse out;
      return server_.admin().RotateMasterKey(ctx().get(), {}, &out);
    }
    if (method == svc + "AdminService/GetKeyRotation") {
      v1::GetKeyRotationResponse out;
      return server_.admin().GetKeyRotation(ctx().get(), {}, &out);
    }
    if (method == svc + "AdminService/ExportPersonData") {
      v1::ExportPersonDataRequest r;
      r.set_email("alex.morgan@example.nhs.uk");
      v1::ExportPersonDataResponse out;
      return server_.admin().ExportPersonData(ctx().get(), r, &out);
    }
    if (method == svc + "IdentityService/WhoAmI") {
      v1::WhoAmIResponse out;
      return server_.identity().WhoAmI(ctx().get(), {}, &out);
    }
    if (method == svc + "OrganisationService/RegisterOrganisation") {
      v1::RegisterOrganisationRequest r;
      *r.mutable_organisation() = ValidOrganisation("Matrix Practice");
      v1::RegisterOrganisationResponse out;
      return server_.organisations().RegisterOrganisation(ctx().get(), r, &out);
    }
    if (method == svc + "OrganisationService/GetOrganisation") {
      v1::GetOrganisationRequest r;
      r.set_organisation_id(org_);
      v1::GetOrganisationResponse out;
      return server_.organisations().GetOrganisation(ctx().get(), r, &out);
    }
    if (method == svc + "OrganisationService/ListOrganisations") {
      v1::ListOrganisationsResponse out;
      return server_.organisations().ListOrganisations(ctx().get(), {}, &out);
    }
    if (method == svc + "ReferralService/CreateReferral") {
      v1::CreateReferralResponse out;
      return server_.referrals().CreateReferral(ctx().get(), ValidReferral(org_), &out);
    }
    if (method == svc + "ReferralService/UpdateReferral") {
      v1::UpdateReferralRequest r;
      r.set_case_id(case_.id());
      r.set_expected_revision(CurrentRevision(case_.id()));
      r.mutable_update_mask()->add_paths("summary");
      r.set_summary("Updated by " + std::string(CallerName(caller)));
      r.set_reason("matrix");
      v1::UpdateReferralResponse out;
      return server_.referrals().UpdateReferral(ctx().get(), r, &out);
    }
    if (method == svc + "ReferralService/GetCase") {
      v1::GetCaseRequest r;
      r.set_case_id(case_.id());
      v1::GetCaseResponse out;
      return server_.referrals().GetCase(ctx().get(), r, &out);
    }
    if (method == svc + "ReferralService/ListCases") {
      v1::ListCasesResponse out;
      grpc::Status status = server_.referrals().ListCases(ctx().get(), {}, &out);
      if (caller == kMediator) {
        for (const v1::Case& c : out.cases()) EXPECT_NE(c.id(), case_.id()) << "not allocated";
      }
      return status;
    }
    if (method == svc + "ScreeningService/RecordScreeningAnswer") {
      const v1::Case c = FreshCase(caller, token);
      v1::RecordScreeningAnswerRequest r;
      r.set_case_id(c.id());
      r.set_criterion(v1::CRITERION_NOT_CONTRACTUAL);
      r.set_answer(v1::CRITERION_ANSWER_MET);
      v1::RecordScreeningAnswerResponse out;
      return server_.screening().RecordScreeningAnswer(ctx().get(), r, &out);
    }
    if (method == svc + "ScreeningService/ListScreeningAnswers") {
      v1::ListScreeningAnswersRequest r;
      r.set_case_id(case_.id());
      v1::ListScreeningAnswersResponse out;
      return server_.screening().ListScreeningAnswers(ctx().get(), r, &out);
    }
    if (method == svc + "ScreeningService/EvaluateScreening") {
      v1::EvaluateScreeningRequest r;
      r.set_case_id(case_.id());
      v1::EvaluateScreeningResponse out;
      return server_.screening().EvaluateScreening(ctx().get(), r, &out);
    }
    if (method == svc + "ScreeningService/RecordScreeningDecision") {
      const v1::Case c = FreshCase(caller, token);
      server_.AnswerAll(c, v1::CRITERION_ANSWER_MET);
      v1::RecordScreeningDecisionRequest r;
      r.set_case_id(c.id());
      v1::RecordScreeningDecisionResponse out;
      return server_.screening().RecordScreeningDecision(ctx().get(), r, &out);
    }
    if (method == svc + "ScreeningService/ListScreeningDecisions") {
      v1::ListScreeningDecisionsRequest r;
      r.set_case_id(case_.id());
      v1::ListScreeningDecisionsResponse out;
      return server_.screening().ListScreeningDecisions(ctx().get(), r, &out);
    }
    if (method == svc + "CaseService/HoldCase") {
      const v1::Case c = FreshCase(caller, token);
      v1::HoldCaseRequest r;
      r.set_case_id(c.id());
      r.set_reason("matrix");
      v1::HoldCaseResponse out;
      return server_.cases().HoldCase(ctx().get(), r, &out);
    }
    if (method == svc + "CaseService/ResumeCase") {
      const v1::Case c = FreshCase(caller, token);
      v1::HoldCaseRequest hold;
      hold.set_case_id(c.id());
      hold.set_reason("matrix");
      v1::HoldCaseResponse held;
      EXPECT_TRUE(
          server_.cases().HoldCase(WithToken(server_.case_support()).get(), hold, &held).ok());
      v1::ResumeCaseRequest r;
      r.set_case_id(c.id());
      v1::ResumeCaseResponse out;
      return server_.cases().ResumeCase(ctx().get(), r, &out);
    }
    if (method == svc + "CaseService/ReopenCase") {
      const v1::Case c = FreshCase(caller, token);
      v1::WithdrawCaseRequest withdraw;
      withdraw.set_case_id(c.id());
      withdraw.set_reason("matrix");
      withdraw.set_withdrawn_by(v1::WITHDRAWN_BY_SERVICE);
      v1::WithdrawCaseResponse withdrawn;
      EXPECT_TRUE(server_.cases()
                      .WithdrawCase(WithToken(server_.case_support()).get(), withdraw, &withdrawn)
                      .ok());
      v1::ReopenCaseRequest r;
      r.set_case_id(c.id());
      r.set_reason("the parties asked to try again");
      v1::ReopenCaseResponse out;
      return server_.cases().ReopenCase(ctx().get(), r, &out);
    }
    if (method == svc + "CaseService/WithdrawCase") {
      const v1::Case c = FreshCase(caller, token);
      v1::WithdrawCaseRequest r;
      r.set_case_id(c.id());
      r.set_reason("matrix");
      if (caller != kOrganisation && caller != kParty) {
        r.set_withdrawn_by(v1::WITHDRAWN_BY_SERVICE);
      }
      v1::WithdrawCaseResponse out;
      return server_.cases().WithdrawCase(ctx().get(), r, &out);
    }
    if (method == svc + "CaseService/GetCaseHistory") {
      v1::GetCaseHistoryRequest r;
      r.set_case_id(case_.id());
      v1::GetCaseHistoryResponse out;
      return server_.cases().GetCaseHistory(ctx().get(), r, &out);
    }
    if (method == svc + "CaseService/IssuePartySignInLink") {
      v1::IssuePartySignInLinkRequest r;
      r.set_case_id(case_.id());
      r.set_party_id(case_.parties(0).id());
      v1::IssuePartySignInLinkResponse out;
      return server_.cases().IssuePartySignInLink(ctx().get(), r, &out);
    }
    if (method == svc + "CaseService/ListPartySignInLinks") {
      v1::ListPartySignInLinksRequest r;
      r.set_case_id(case_.id());
      v1::ListPartySignInLinksResponse out;
      return server_.cases().ListPartySignInLinks(ctx().get(), r, &out);
    }
    if (method == svc + "ChargesService/GetFeeSchedule") {
      v1::GetFeeScheduleResponse out;
      return server_.charges().GetFeeSchedule(ctx().get(), {}, &out);
    }
    if (method == svc + "ChargesService/SetFeeSchedule") {
      v1::SetFeeScheduleRequest r;
      v1::FeeSchedule* f = r.mutable_schedule();
      f->mutable_mediation_day()->set_pence(100000);
      f->mutable_individual_meeting()->set_pence(30000);
      f->mutable_co_mediation_day()->set_pence(50000);
      f->mutable_venue_day()->set_pence(20000);
      f->mutable_travel_per_mediator_day()->set_pence(8000);
      f->set_vat_basis_points(2000);
      v1::SetFeeScheduleResponse out;
      return server_.charges().SetFeeSchedule(ctx().get(), r, &out);
    }
    if (method == svc + "ChargesService/IndicateCharges") {
      v1::IndicateChargesRequest r;
      r.set_case_id(case_.id());
      r.set_days(1);
      r.set_mode(v1::SESSION_MODE_VIDEO);
      v1::IndicateChargesResponse out;
      return server_.charges().IndicateCharges(ctx().get(), r, &out);
    }
    if (method == svc + "ChargesService/ListChargeIndications") {
      v1::ListChargeIndicationsRequest r;
      r.set_case_id(case_.id());
      v1::ListChargeIndicationsResponse out;
      return server_.charges().ListChargeIndications(ctx().get(), r, &out);
    }
    if (method == svc + "MediatorService/RegisterMediator") {
      v1::RegisterMediatorRequest r;
      *r.mutable_mediator() =
          ValidMediator("New Mediator", "new." + std::to_string(++counter_) + "@example.org");
      v1::RegisterMediatorResponse out;
      return server_.mediators().RegisterMediator(ctx().get(), r, &out);
    }
    if (method == svc + "MediatorService/UpdateMediator") {
      v1::GetMediatorRequest get;
      get.set_mediator_id(mediator_);
      v1::GetMediatorResponse read;
      EXPECT_TRUE(server_.mediators()
                      .GetMediator(WithToken(server_.admin_secret()).get(), get, &read)
                      .ok());
      v1::UpdateMediatorRequest r;
      r.mutable_mediator()->set_id(mediator_);
      r.mutable_mediator()->set_etag(read.mediator().etag());
      r.mutable_mediator()->set_cpd_hours_last_12_months(14);
      v1::UpdateMediatorResponse out;
      return server_.mediators().UpdateMediator(ctx().get(), r, &out);
    }
    if (method == svc + "MediatorService/GetMediator") {
      v1::GetMediatorRequest r;
      r.set_mediator_id(mediator_);
      v1::GetMediatorResponse out;
      return server_.mediators().GetMediator(ctx().get(), r, &out);
    }
    if (method == svc + "MediatorService/ListMediators") {
      v1::ListMediatorsResponse out;
      return server_.mediators().ListMediators(ctx().get(), {}, &out);
    }
    if (method == svc + "MediatorService/SetWorkingPattern") {
      v1::SetWorkingPatternRequest r;
      r.set_mediator_id(mediator_);
      for (int day = 1; day <= 5; ++day) {
        v1::WorkingHours* h = r.add_hours();
        h->set_weekday(day);
        h->mutable_start()->set_hours(9);
        h->mutable_end()->set_hours(17);
      }
      v1::SetWorkingPatternResponse out;
      return server_.mediators().SetWorkingPattern(ctx().get(), r, &out);
    }
    if (method == svc + "MediatorService/AddLeave" ||
        method == svc + "MediatorService/RemoveLeave") {
      v1::AddLeaveRequest add;
      add.set_mediator_id(mediator_);
      add.mutable_leave()->mutable_first_day()->set_year(2031);
      add.mutable_leave()->mutable_first_day()->set_month(1);
      add.mutable_leave()->mutable_first_day()->set_day(5);
      *add.mutable_leave()->mutable_last_day() = add.leave().first_day();
      v1::AddLeaveResponse added;
      if (method == svc + "MediatorService/AddLeave") {
        return server_.mediators().AddLeave(ctx().get(), add, &added);
      }
      EXPECT_TRUE(
          server_.mediators().AddLeave(WithToken(server_.admin_secret()).get(), add, &added).ok());
      v1::RemoveLeaveRequest r;
      r.set_mediator_id(mediator_);
      r.set_leave_id(added.leave().id());
      v1::RemoveLeaveResponse out;
      return server_.mediators().RemoveLeave(ctx().get(), r, &out);
    }
    if (method == svc + "MediatorService/DeclareConflict" ||
        method == svc + "MediatorService/RemoveConflict") {
      v1::DeclareConflictRequest declare;
      declare.set_mediator_id(mediator_);
      declare.mutable_conflict()->set_kind(v1::CONFLICT_KIND_PERSON);
      declare.mutable_conflict()->set_person_name("Someone Unrelated");
      v1::DeclareConflictResponse declared;
      if (method == svc + "MediatorService/DeclareConflict") {
        return server_.mediators().DeclareConflict(ctx().get(), declare, &declared);
      }
      EXPECT_TRUE(server_.mediators()
                      .DeclareConflict(WithToken(server_.admin_secret()).get(), declare, &declared)
                      .ok());
      v1::RemoveConflictRequest r;
      r.set_mediator_id(mediator_);
      r.set_conflict_id(declared.conflict().id());
      v1::RemoveConflictResponse out;
      return server_.mediators().RemoveConflict(ctx().get(), r, &out);
    }
    if (method == svc + "AllocationService/ProposeAllocation") {
      const v1::Case c = FreshCase(caller, token);
      server_.MakeSuitable(c);
      v1::ProposeAllocationRequest r;
      r.set_case_id(c.id());
      v1::ProposeAllocationResponse out;
      return server_.allocation().ProposeAllocation(ctx().get(), r, &out);
    }
    if (method == svc + "AllocationService/AllocateMediator") {
      const v1::Case c = FreshCase(caller, token);
      server_.MakeSuitable(c);
      v1::AllocateMediatorRequest r;
      r.set_case_id(c.id());
      r.set_mediator_id(mediator_);
      r.set_role(v1::ALLOCATION_ROLE_LEAD);
      v1::AllocateMediatorResponse out;
      return server_.allocation().AllocateMediator(ctx().get(), r, &out);
    }
    if (method == svc + "AllocationService/RespondToAllocation") {
      const v1::Case c = FreshCase(caller, token);
      server_.MakeSuitable(c);
      const int64_t allocation = server_.Allocate(c.id(), mediator_, v1::ALLOCATION_ROLE_LEAD);
      v1::RespondToAllocationRequest r;
      r.set_allocation_id(allocation);
      r.set_accept(true);
      v1::RespondToAllocationResponse out;
      return server_.allocation().RespondToAllocation(ctx().get(), r, &out);
    }
    if (method == svc + "AllocationService/ListAllocations") {
      v1::ListAllocationsRequest r;
      r.set_mediator_id(mediator_);
      v1::ListAllocationsResponse out;
      return server_.allocation().ListAllocations(ctx().get(), r, &out);
    }
    if (method == svc + "AllocationService/SetMediatorsRequired") {
      const v1::Case c = FreshCase(caller, token);
      server_.MakeSuitable(c);
      v1::SetMediatorsRequiredRequest r;
      r.set_case_id(c.id());
      r.set_count(1);
      v1::SetMediatorsRequiredResponse out;
      return server_.allocation().SetMediatorsRequired(ctx().get(), r, &out);
    }
    if (absl::StartsWith(method, svc + "SchedulingService/") && caller == kParty) {
      token = sched_party_;  // A party of the scheduled case.
    }
    if (method == svc + "SchedulingService/CreateVenue") {
      v1::CreateVenueRequest r;
      r.mutable_venue()->set_name("Matrix Venue");
      r.mutable_venue()->set_address("1 Test Street");
      v1::Room* room = r.mutable_venue()->add_rooms();
      room->set_name("Room 1");
      room->set_kind(v1::ROOM_KIND_PRIVATE);
      v1::CreateVenueResponse out;
      return server_.scheduling().CreateVenue(ctx().get(), r, &out);
    }
    if (method == svc + "SchedulingService/ListVenues") {
      v1::ListVenuesResponse out;
      return server_.scheduling().ListVenues(ctx().get(), {}, &out);
    }
    if (method == svc + "SchedulingService/SetPartyAvailability") {
      v1::SetPartyAvailabilityRequest r;
      r.set_case_id(sched_.id());
      r.set_party_id(sched_.parties(1).id());
      v1::SetPartyAvailabilityResponse out;
      return server_.scheduling().SetPartyAvailability(ctx().get(), r, &out);
    }
    if (method == svc + "SchedulingService/FindSlots") {
      v1::FindSlotsRequest r;
      r.set_case_id(sched_.id());
      r.set_kind(v1::SESSION_KIND_JOINT_MEETING);
      r.set_mode(v1::SESSION_MODE_VIDEO);
      r.set_duration_minutes(60);
      v1::FindSlotsResponse out;
      return server_.scheduling().FindSlots(ctx().get(), r, &out);
    }
    if (method == svc + "SchedulingService/BookSession") {
      v1::BookSessionResponse out;
      return server_.scheduling().BookSession(ctx().get(), BookRequest(), &out);
    }
    if (method == svc + "SchedulingService/RescheduleSession") {
      const int64_t session = BookAsCaseSupport();
      v1::RescheduleSessionRequest r;
      r.set_session_id(session);
      *r.mutable_start() = free_slots_.at(next_slot_++);
      r.set_reason("matrix");
      v1::RescheduleSessionResponse out;
      return server_.scheduling().RescheduleSession(ctx().get(), r, &out);
    }
    if (method == svc + "SchedulingService/CancelSession") {
      v1::CancelSessionRequest r;
      r.set_session_id(BookAsCaseSupport());
      r.set_reason("matrix");
      v1::CancelSessionResponse out;
      return server_.scheduling().CancelSession(ctx().get(), r, &out);
    }
    if (method == svc + "SchedulingService/GetSession") {
      v1::GetSessionRequest r;
      r.set_session_id(session_);
      v1::GetSessionResponse out;
      return server_.scheduling().GetSession(ctx().get(), r, &out);
    }
    if (method == svc + "SchedulingService/ListSessions") {
      v1::ListSessionsRequest r;
      r.set_case_id(sched_.id());
      v1::ListSessionsResponse out;
      return server_.scheduling().ListSessions(ctx().get(), r, &out);
    }
    if (method == svc + "SchedulingService/ExportSessionCalendar") {
      v1::ExportSessionCalendarRequest r;
      r.set_session_id(session_);
      v1::ExportSessionCalendarResponse out;
      return server_.scheduling().ExportSessionCalendar(ctx().get(), r, &out);
    }
    if (method == svc + "SchedulingService/ExportMediatorCalendar") {
      v1::ExportMediatorCalendarRequest r;
      r.set_mediator_id(mediator_);
      v1::ExportMediatorCalendarResponse out;
      return server_.scheduling().ExportMediatorCalendar(ctx().get(), r, &out);
    }
    if ((absl::StartsWith(method, svc + "NotesService/") ||
         absl::StartsWith(method, svc + "AgreementService/")) &&
        caller == kParty) {
      token = sched_party_;
    }
    if (method == svc + "AdminService/VerifyAuditChain") {
      v1::VerifyAuditChainResponse out;
      return server_.admin().VerifyAuditChain(ctx().get(), {}, &out);
    }
    if (method == svc + "NotesService/AddNote") {
      v1::AddNoteRequest r;
      r.set_case_id(sched_.id());
      r.set_visibility(v1::NOTE_VISIBILITY_PRIVATE);
      r.set_text("matrix note");
      v1::AddNoteResponse out;
      return server_.notes().AddNote(ctx().get(), r, &out);
    }
    if (method == svc + "NotesService/ListNotes") {
      v1::ListNotesRequest r;
      r.set_case_id(sched_.id());
      v1::ListNotesResponse out;
      return server_.notes().ListNotes(ctx().get(), r, &out);
    }
    if (method == svc + "NotesService/GetNote") {
      v1::GetNoteRequest r;
      r.set_note_id(note_);
      v1::GetNoteResponse out;
      return server_.notes().GetNote(ctx().get(), r, &out);
    }
    if (method == svc + "AgreementService/DraftAgreement") {
      v1::DraftAgreementRequest r;
      r.set_case_id(sched_.id());
      r.mutable_content()->set_free_text("matrix draft");
      v1::DraftAgreementResponse out;
      return server_.agreements().DraftAgreement(ctx().get(), r, &out);
    }
    if (method == svc + "AgreementService/GetAgreement") {
      v1::GetAgreementRequest r;
      r.set_case_id(sched_.id());
      v1::GetAgreementResponse out;
      return server_.agreements().GetAgreement(ctx().get(), r, &out);
    }
    if (method == svc + "AgreementService/SignAgreement") {
      const v1::AgreementVersion draft = Draft();
      v1::SignAgreementRequest r;
      r.set_version_id(draft.id());
      r.set_content_hash(draft.content_hash());
      if (caller == kMediator) r.set_party_id(sched_.parties(1).id());  // On paper.
      v1::SignAgreementResponse out;
      return server_.agreements().SignAgreement(ctx().get(), r, &out);
    }
    if (method == svc + "AgreementService/RecordOutcome") {
      const v1::Case c = InMediationCase();
      v1::RecordOutcomeRequest r;
      r.set_case_id(c.id());
      r.set_outcome(v1::OUTCOME_ENDED_BY_MEDIATOR);
      v1::RecordOutcomeResponse out;
      return server_.agreements().RecordOutcome(ctx().get(), r, &out);
    }
    if (method == svc + "AgreementService/ScheduleFollowUp") {
      const v1::Case c = InMediationCase();
      RecordOutcomeOf(c);
      v1::ScheduleFollowUpRequest r;
      r.set_case_id(c.id());
      v1::ScheduleFollowUpResponse out;
      return server_.agreements().ScheduleFollowUp(ctx().get(), r, &out);
    }
    if (method == svc + "AgreementService/RecordFollowUpReview") {
      const v1::Case c = InMediationCase();
      RecordOutcomeOf(c);
      v1::ScheduleFollowUpRequest follow;
      follow.set_case_id(c.id());
      v1::ScheduleFollowUpResponse scheduled;
      EXPECT_TRUE(server_.agreements()
                      .ScheduleFollowUp(WithToken(tokens_[kMediator]).get(), follow, &scheduled)
                      .ok());
      v1::RecordFollowUpReviewRequest r;
      r.set_case_id(c.id());
      v1::RecordFollowUpReviewResponse out;
      return server_.agreements().RecordFollowUpReview(ctx().get(), r, &out);
    }
    if (method == svc + "AgreementService/GetOutcome") {
      v1::GetOutcomeRequest r;
      r.set_case_id(sched_.id());
      v1::GetOutcomeResponse out;
      return server_.agreements().GetOutcome(ctx().get(), r, &out);
    }
    if (method == svc + "CaseEventService/StreamCaseEvents") {
      if (caller == kParty) token = sched_party_;  // A party of the scheduled case.
      v1::StreamCaseEventsRequest r;
      r.set_case_id(sched_.id());
      r.set_stop_at_end(true);
      auto context = ctx();
      std::unique_ptr<grpc::ClientReader<v1::CaseEvent>> reader =
          server_.events().StreamCaseEvents(context.get(), r);
      v1::CaseEvent event;
      int received = 0;
      while (reader->Read(&event)) ++received;
      grpc::Status status = reader->Finish();
      if (status.ok()) {
        EXPECT_GT(received, 0) << CallerName(caller);
      }
      return status;
    }
    if (method == svc + "NotificationService/ListNotifications") {
      v1::ListNotificationsResponse out;
      grpc::Status status = server_.notifications().ListNotifications(ctx().get(), {}, &out);
      if (status.ok()) {
        EXPECT_GT(out.notifications_size(), 0);
      }
      return status;
    }
    if (method == svc + "NotificationService/GetNotification") {
      v1::GetNotificationRequest r;
      r.set_notification_id(1);
      v1::GetNotificationResponse out;
      grpc::Status status = server_.notifications().GetNotification(ctx().get(), r, &out);
      if (status.ok()) {
        EXPECT_EQ(out.notification().kind(), v1::NOTIFICATION_KIND_CASE_STATE_CHANGED);
      }
      return status;
    }
    if (method == svc + "NotificationService/ResendNotification") {
      // A message the worker marked NOT_SENT (no mail server here), a new one for each caller.
      v1::ResendNotificationRequest r;
      r.set_notification_id(NotSentMessage());
      v1::ResendNotificationResponse out;
      grpc::Status status = server_.notifications().ResendNotification(ctx().get(), r, &out);
      if (status.ok()) {
        EXPECT_EQ(out.notification().state(), v1::NOTIFICATION_STATE_PENDING);
      }
      return status;
    }
    if (method == svc + "NotificationService/SetReminderPreference") {
      v1::SetReminderPreferenceRequest r;
      r.set_reminders(true);
      if (caller != kMediator && caller != kParty) r.set_email("someone@example.org");
      v1::SetReminderPreferenceResponse out;
      return server_.notifications().SetReminderPreference(ctx().get(), r, &out);
    }
    if (method == svc + "NotificationService/GetReminderPreference") {
      v1::GetReminderPreferenceRequest r;
      if (caller != kMediator && caller != kParty) r.set_email("someone@example.org");
      v1::GetReminderPreferenceResponse out;
      grpc::Status status = server_.notifications().GetReminderPreference(ctx().get(), r, &out);
      if (status.ok()) {
        EXPECT_TRUE(out.reminders());
      }
      return status;
    }
    if (method == svc + "StatisticsService/GetStatistics") {
      v1::GetStatisticsResponse out;
      grpc::Status status = server_.statistics().GetStatistics(ctx().get(), {}, &out);
      if (status.ok()) {
        EXPECT_GT(out.referrals(), 0);
      }
      return status;
    }
    ADD_FAILURE() << "the matrix does not know how to call " << method;
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "");
  }

  // The id of a NOT_SENT message not resent yet (waiting for the delivery worker to mark one).
  int64_t NotSentMessage() {
    for (int tries = 0; tries < 100; ++tries) {
      v1::ListNotificationsRequest r;
      r.set_state(v1::NOTIFICATION_STATE_NOT_SENT);
      r.set_page_size(500);
      v1::ListNotificationsResponse out;
      EXPECT_TRUE(server_.notifications()
                      .ListNotifications(WithToken(server_.admin_secret()).get(), r, &out)
                      .ok());
      for (const v1::Notification& n : out.notifications()) {
        if (resent_.insert(n.id()).second) return n.id();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no NOT_SENT message to resend";
    return 0;
  }

  std::shared_ptr<std::atomic<int64_t>> offset_;
  std::set<int64_t> resent_;
  TestServer server_;
  int64_t org_ = 0;
  int64_t mediator_ = 0;
  int counter_ = 0;
  v1::Case case_;
  v1::Case sched_;
  std::string sched_party_;
  std::vector<google::protobuf::Timestamp> free_slots_;
  size_t next_slot_ = 0;
  int64_t session_ = 0;
  int64_t note_ = 0;
  std::map<Caller, std::string> tokens_;
};

constexpr Code OK = Code::OK;
constexpr Code UNAUTH = Code::UNAUTHENTICATED;
constexpr Code DENIED = Code::PERMISSION_DENIED;
constexpr Code NOT_FOUND = Code::NOT_FOUND;

struct Row {
  const char* method;
  // nobody, ADMIN, CASE_SUPPORT, SENIOR_ADVISER, MEDIATOR, ORGANISATION (own), PARTY (own case)
  Code expected[7];
};

// A mediator sees only cases allocated to it; the matrix's case is not, so its reads are
// NOT_FOUND.
const Row kMatrix[] = {
    {"/ppa.mediation.v1.AdminService/IssueToken",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.AdminService/ListTokens",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.AdminService/RevokeToken",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.AdminService/ListAuditEvents",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.AdminService/VerifyAuditChain",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.AdminService/BackupDatabase",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.AdminService/RotateMasterKey",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.AdminService/GetKeyRotation",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.AdminService/ExportPersonData",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.IdentityService/WhoAmI", {UNAUTH, OK, OK, OK, OK, OK, OK}},
    {"/ppa.mediation.v1.OrganisationService/RegisterOrganisation",
     {UNAUTH, OK, OK, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.OrganisationService/GetOrganisation",
     {UNAUTH, OK, OK, OK, DENIED, OK, DENIED}},
    {"/ppa.mediation.v1.OrganisationService/ListOrganisations",
     {UNAUTH, OK, OK, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.ReferralService/CreateReferral",
     {UNAUTH, DENIED, OK, DENIED, DENIED, OK, DENIED}},
    {"/ppa.mediation.v1.ReferralService/UpdateReferral",
     {UNAUTH, DENIED, OK, DENIED, DENIED, OK, DENIED}},
    {"/ppa.mediation.v1.ReferralService/GetCase", {UNAUTH, DENIED, OK, OK, NOT_FOUND, OK, OK}},
    {"/ppa.mediation.v1.ReferralService/ListCases", {UNAUTH, DENIED, OK, OK, OK, OK, DENIED}},
    {"/ppa.mediation.v1.ScreeningService/RecordScreeningAnswer",
     {UNAUTH, DENIED, OK, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.ScreeningService/ListScreeningAnswers",
     {UNAUTH, DENIED, OK, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.ScreeningService/EvaluateScreening",
     {UNAUTH, DENIED, OK, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.ScreeningService/RecordScreeningDecision",
     {UNAUTH, DENIED, DENIED, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.ScreeningService/ListScreeningDecisions",
     {UNAUTH, DENIED, OK, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.CaseService/HoldCase", {UNAUTH, DENIED, OK, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.CaseService/ResumeCase", {UNAUTH, DENIED, OK, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.CaseService/WithdrawCase", {UNAUTH, DENIED, OK, OK, DENIED, OK, OK}},
    {"/ppa.mediation.v1.CaseService/ReopenCase", {UNAUTH, DENIED, OK, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.CaseService/GetCaseHistory",
     {UNAUTH, DENIED, OK, OK, NOT_FOUND, OK, DENIED}},
    {"/ppa.mediation.v1.CaseService/IssuePartySignInLink",
     {UNAUTH, DENIED, OK, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.CaseService/ListPartySignInLinks",
     {UNAUTH, DENIED, OK, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.ChargesService/GetFeeSchedule",
     {UNAUTH, OK, OK, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.ChargesService/SetFeeSchedule",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.ChargesService/IndicateCharges",
     {UNAUTH, DENIED, DENIED, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.ChargesService/ListChargeIndications",
     {UNAUTH, DENIED, OK, OK, DENIED, OK, DENIED}},
    {"/ppa.mediation.v1.MediatorService/RegisterMediator",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.MediatorService/UpdateMediator",
     {UNAUTH, OK, DENIED, DENIED, DENIED, DENIED, DENIED}},
    // The mediator reads its own record.
    {"/ppa.mediation.v1.MediatorService/GetMediator", {UNAUTH, OK, OK, OK, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.MediatorService/ListMediators",
     {UNAUTH, OK, OK, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.MediatorService/SetWorkingPattern",
     {UNAUTH, OK, DENIED, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.MediatorService/AddLeave",
     {UNAUTH, OK, DENIED, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.MediatorService/RemoveLeave",
     {UNAUTH, OK, DENIED, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.MediatorService/DeclareConflict",
     {UNAUTH, OK, DENIED, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.MediatorService/RemoveConflict",
     {UNAUTH, OK, DENIED, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.AllocationService/ProposeAllocation",
     {UNAUTH, DENIED, OK, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.AllocationService/AllocateMediator",
     {UNAUTH, DENIED, OK, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.AllocationService/RespondToAllocation",
     {UNAUTH, DENIED, DENIED, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.AllocationService/ListAllocations",
     {UNAUTH, DENIED, OK, OK, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.AllocationService/SetMediatorsRequired",
     {UNAUTH, DENIED, OK, OK, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.SchedulingService/CreateVenue",
     {UNAUTH, DENIED, OK, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.SchedulingService/ListVenues",
     {UNAUTH, DENIED, OK, OK, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.SchedulingService/SetPartyAvailability",
     {UNAUTH, DENIED, OK, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.SchedulingService/FindSlots",
     {UNAUTH, DENIED, OK, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.SchedulingService/BookSession",
     {UNAUTH, DENIED, OK, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.SchedulingService/RescheduleSession",
     {UNAUTH, DENIED, OK, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.SchedulingService/CancelSession",
     {UNAUTH, DENIED, OK, DENIED, OK, DENIED, DENIED}},
    // The organisation sees the joint session's date; the party takes part in it.
    {"/ppa.mediation.v1.SchedulingService/GetSession", {UNAUTH, DENIED, OK, OK, OK, OK, OK}},
    {"/ppa.mediation.v1.SchedulingService/ListSessions", {UNAUTH, DENIED, OK, OK, OK, OK, OK}},
    {"/ppa.mediation.v1.SchedulingService/ExportSessionCalendar",
     {UNAUTH, DENIED, OK, DENIED, OK, DENIED, OK}},
    {"/ppa.mediation.v1.SchedulingService/ExportMediatorCalendar",
     {UNAUTH, DENIED, OK, DENIED, OK, DENIED, DENIED}},
    // Notes: the case's accepted mediators only. Nobody else, the administrator included.
    {"/ppa.mediation.v1.NotesService/AddNote",
     {UNAUTH, DENIED, DENIED, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.NotesService/ListNotes",
     {UNAUTH, DENIED, DENIED, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.NotesService/GetNote",
     {UNAUTH, DENIED, DENIED, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.AgreementService/DraftAgreement",
     {UNAUTH, DENIED, DENIED, DENIED, OK, DENIED, DENIED}},
    // The agreement is final and shared, so case support, the adviser and the organisation
    // may read it (see AgreementServiceTest for the unshared case).
    {"/ppa.mediation.v1.AgreementService/GetAgreement", {UNAUTH, DENIED, OK, OK, OK, OK, OK}},
    {"/ppa.mediation.v1.AgreementService/SignAgreement",
     {UNAUTH, DENIED, DENIED, DENIED, OK, DENIED, OK}},
    {"/ppa.mediation.v1.AgreementService/RecordOutcome",
     {UNAUTH, DENIED, DENIED, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.AgreementService/ScheduleFollowUp",
     {UNAUTH, DENIED, OK, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.AgreementService/RecordFollowUpReview",
     {UNAUTH, DENIED, OK, DENIED, OK, DENIED, DENIED}},
    {"/ppa.mediation.v1.AgreementService/GetOutcome", {UNAUTH, DENIED, OK, OK, OK, OK, OK}},
    // Events of a case the caller may see; statistics for the service's staff.
    {"/ppa.mediation.v1.CaseEventService/StreamCaseEvents", {UNAUTH, DENIED, OK, OK, OK, OK, OK}},
    {"/ppa.mediation.v1.StatisticsService/GetStatistics",
     {UNAUTH, OK, OK, OK, DENIED, DENIED, DENIED}},
    // The outbox for administrators and case support; reminder preferences for the people
    // who get reminders, and for staff acting on their behalf.
    {"/ppa.mediation.v1.NotificationService/ListNotifications",
     {UNAUTH, OK, OK, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.NotificationService/GetNotification",
     {UNAUTH, OK, OK, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.NotificationService/ResendNotification",
     {UNAUTH, OK, OK, DENIED, DENIED, DENIED, DENIED}},
    {"/ppa.mediation.v1.NotificationService/SetReminderPreference",
     {UNAUTH, OK, OK, DENIED, OK, DENIED, OK}},
    {"/ppa.mediation.v1.NotificationService/GetReminderPreference",
     {UNAUTH, OK, OK, DENIED, OK, DENIED, OK}},
};

TEST_P(AccessMatrixTest, EveryRpcGivesTheExpectedCodeForEveryRole) {
  for (const Row& row : kMatrix) {
    for (Caller caller : kCallers) {
      grpc::Status status = Call(row.method, caller);
      grpc::StatusCode expected = row.expected[caller];
      // PostgreSQL is backed up with its own tools: an administrator's backup is refused there.
      if (testing::OnPostgres() && row.method == "/ppa.mediation.v1.AdminService/BackupDatabase" &&
          expected == grpc::StatusCode::OK) {
        expected = grpc::StatusCode::FAILED_PRECONDITION;
      }
      EXPECT_EQ(status.error_code(), expected)
          << row.method << " called by " << CallerName(caller) << ": " << status.error_message();
    }
  }
  // Every call went by the transport under test.
  const bool grpc = GetParam() == Via::kGrpc;
  EXPECT_EQ(server_.CountRows("audit_events", grpc ? "transport = 'http'" : "transport = 'grpc'"),
            0);
  EXPECT_GT(server_.CountRows("audit_events", grpc ? "transport = 'grpc'" : "transport = 'http'"),
            500);
}

TEST_P(AccessMatrixTest, TheMatrixCoversEveryRpcInThePolicy) {
  std::set<std::string> in_matrix, in_policy;
  for (const Row& row : kMatrix) in_matrix.insert(row.method);
  for (const MethodPolicy& p : MethodPolicies()) in_policy.insert(std::string(p.method));
  EXPECT_EQ(in_matrix, in_policy);
}

TEST_P(AccessMatrixTest, TheMatrixAgreesWithThePolicyTable) {
  // Where the policy admits a role, the cell is not PERMISSION_DENIED, and the other way round.
  for (const Row& row : kMatrix) {
    const MethodPolicy* policy = FindMethodPolicy(row.method);
    ASSERT_NE(policy, nullptr) << row.method;
    for (Caller caller : kCallers) {
      if (caller == kNobody) continue;
      const v1::Role role = static_cast<v1::Role>(caller);
      EXPECT_EQ(policy->roles.Contains(role), row.expected[caller] != DENIED)
          << row.method << " for " << CallerName(caller);
    }
  }
}

// The error-code rule's other half: a caller whose role may make a call, on a case whose state
// forbids it now, gets FAILED_PRECONDITION (never PERMISSION_DENIED), and nothing changes. The
// case here is WITHDRAWN; a case the caller may not see stays NOT_FOUND.
struct StateRow {
  const char* method;
  Code expected[std::size(kCallers)];
};

constexpr Code FAILED = Code::FAILED_PRECONDITION;

const StateRow kStateMatrix[] = {
    {"ReferralService/UpdateReferral", {UNAUTH, DENIED, FAILED, DENIED, DENIED, FAILED, DENIED}},
    {"CaseService/HoldCase", {UNAUTH, DENIED, FAILED, FAILED, DENIED, DENIED, DENIED}},
    {"CaseService/ResumeCase", {UNAUTH, DENIED, FAILED, FAILED, DENIED, DENIED, DENIED}},
    {"CaseService/WithdrawCase", {UNAUTH, DENIED, FAILED, FAILED, DENIED, FAILED, FAILED}},
    {"ScreeningService/RecordScreeningAnswer",
     {UNAUTH, DENIED, FAILED, FAILED, DENIED, DENIED, DENIED}},
    {"ScreeningService/RecordScreeningDecision",
     {UNAUTH, DENIED, DENIED, FAILED, DENIED, DENIED, DENIED}},
    {"SchedulingService/BookSession", {UNAUTH, DENIED, FAILED, DENIED, NOT_FOUND, DENIED, DENIED}},
};

TEST_P(AccessMatrixTest, AStateThatForbidsACallIsFailedPreconditionForEveryRoleThatMayMakeIt) {
  const v1::Case c = server_.CreateReferral(org_);
  v1::WithdrawCaseRequest withdraw;
  withdraw.set_case_id(c.id());
  withdraw.set_reason("matrix");
  withdraw.set_withdrawn_by(v1::WITHDRAWN_BY_SERVICE);
  v1::WithdrawCaseResponse withdrawn;
  ASSERT_TRUE(server_.cases()
                  .WithdrawCase(WithToken(server_.case_support()).get(), withdraw, &withdrawn)
                  .ok());
  std::string tokens[std::size(kCallers)];
  for (Caller caller : kCallers) tokens[caller] = tokens_[caller];
  tokens[kParty] = PartyToken(c);
  const int64_t history = server_.CountRows("case_state_history");
  const int64_t audit_ok = server_.CountRows("audit_events", "outcome = 'OK'");

  for (const StateRow& row : kStateMatrix) {
    const std::string method = row.method;
    for (Caller caller : kCallers) {
      auto ctx = [&] { return WithToken(tokens[caller]); };
      grpc::Status status;
      if (method == "ReferralService/UpdateReferral") {
        v1::UpdateReferralRequest r;
        r.set_case_id(c.id());
        r.set_expected_revision(c.revision());
        r.mutable_update_mask()->add_paths("summary");
        r.set_summary("A change after the case ended");
        r.set_reason("matrix");
        v1::UpdateReferralResponse out;
        status = server_.referrals().UpdateReferral(ctx().get(), r, &out);
      } else if (method == "CaseService/HoldCase") {
        v1::HoldCaseRequest r;
        r.set_case_id(c.id());
        r.set_reason("matrix");
        v1::HoldCaseResponse out;
        status = server_.cases().HoldCase(ctx().get(), r, &out);
      } else if (method == "CaseService/ResumeCase") {
        v1::ResumeCaseRequest r;
        r.set_case_id(c.id());
        v1::ResumeCaseResponse out;
        status = server_.cases().ResumeCase(ctx().get(), r, &out);
      } else if (method == "CaseService/WithdrawCase") {
        v1::WithdrawCaseRequest r;
        r.set_case_id(c.id());
        r.set_reason("again");
        if (caller != kOrganisation && caller != kParty) {
          r.set_withdrawn_by(v1::WITHDRAWN_BY_SERVICE);
        }
        v1::WithdrawCaseResponse out;
        status = server_.cases().WithdrawCase(ctx().get(), r, &out);
      } else if (method == "ScreeningService/RecordScreeningAnswer") {
        v1::RecordScreeningAnswerRequest r;
        r.set_case_id(c.id());
        r.set_criterion(v1::CRITERION_NOT_CONTRACTUAL);
        r.set_answer(v1::CRITERION_ANSWER_MET);
        v1::RecordScreeningAnswerResponse out;
        status = server_.screening().RecordScreeningAnswer(ctx().get(), r, &out);
      } else if (method == "ScreeningService/RecordScreeningDecision") {
        v1::RecordScreeningDecisionRequest r;
        r.set_case_id(c.id());
        v1::RecordScreeningDecisionResponse out;
        status = server_.screening().RecordScreeningDecision(ctx().get(), r, &out);
      } else if (method == "SchedulingService/BookSession") {
        v1::BookSessionRequest r = BookRequest();
        r.set_case_id(c.id());
        v1::BookSessionResponse out;
        status = server_.scheduling().BookSession(ctx().get(), r, &out);
      } else {
        FAIL() << "no call for " << method;
      }
      EXPECT_EQ(status.error_code(), row.expected[caller])
          << method << " called by " << CallerName(caller) << ": " << status.error_message();
      if (status.error_code() == FAILED) {
        EXPECT_TRUE(absl::StrContains(status.error_message(), "WITHDRAWN"))
            << method << ": the refusal names the state: " << status.error_message();
      }
    }
  }
  EXPECT_EQ(server_.StateOf(c.id()), v1::CASE_STATE_WITHDRAWN);
  EXPECT_EQ(server_.CountRows("case_state_history"), history);
  EXPECT_EQ(server_.CountRows("audit_events", "outcome = 'OK'"), audit_ok);
}

TEST_P(AccessMatrixTest, AnotherOrganisationCannotReadOrListThisOrganisationsCases) {
  const int64_t other_org = server_.RegisterOrganisation("Southshire Community Pharmacy");
  const std::string other = server_.IssueToken(v1::ROLE_ORGANISATION, 0, other_org);

  v1::GetCaseRequest get;
  get.set_case_id(case_.id());
  v1::GetCaseResponse got;
  grpc::Status status = server_.referrals().GetCase(WithToken(other).get(), get, &got);
  EXPECT_EQ(status.error_code(), NOT_FOUND);
  EXPECT_EQ(status.error_message(), "case " + std::to_string(case_.id()) + " not found");

  v1::GetOrganisationRequest get_org;
  get_org.set_organisation_id(org_);
  v1::GetOrganisationResponse got_org;
  EXPECT_EQ(server_.organisations()
                .GetOrganisation(WithToken(other).get(), get_org, &got_org)
                .error_code(),
            NOT_FOUND);

  v1::ListCasesResponse listed;
  ASSERT_TRUE(server_.referrals().ListCases(WithToken(other).get(), {}, &listed).ok());
  EXPECT_EQ(listed.cases_size(), 0);

  v1::ListCasesRequest filtered;
  filtered.set_organisation_id(org_);
  EXPECT_EQ(server_.referrals().ListCases(WithToken(other).get(), filtered, &listed).error_code(),
            DENIED);

  const int64_t cases_before = server_.CountRows("cases");
  v1::CreateReferralResponse created;
  EXPECT_EQ(server_.referrals()
                .CreateReferral(WithToken(other).get(), ValidReferral(org_), &created)
                .error_code(),
            DENIED);
  EXPECT_EQ(server_.CountRows("cases"), cases_before);
}

TEST_P(AccessMatrixTest, AHiddenCaseAndAMissingCaseGiveTheSameAnswer) {
  const int64_t other_org = server_.RegisterOrganisation("Westshire Dental Practice");
  const std::string other = server_.IssueToken(v1::ROLE_ORGANISATION, 0, other_org);
  v1::GetCaseRequest hidden, missing;
  hidden.set_case_id(case_.id());
  missing.set_case_id(case_.id() + 1000);
  v1::GetCaseResponse out;
  grpc::Status a = server_.referrals().GetCase(WithToken(other).get(), hidden, &out);
  grpc::Status b = server_.referrals().GetCase(WithToken(other).get(), missing, &out);
  EXPECT_EQ(a.error_code(), b.error_code());
  EXPECT_EQ(a.error_message(), "case " + std::to_string(hidden.case_id()) + " not found");
  EXPECT_EQ(b.error_message(), "case " + std::to_string(missing.case_id()) + " not found");
  EXPECT_EQ(a.error_details(), b.error_details());
}

INSTANTIATE_TEST_SUITE_P(BothTransports, AccessMatrixTest,
                         ::testing::Values(Via::kGrpc, Via::kConnect),
                         [](const ::testing::TestParamInfo<Via>& info) {
                           return info.param == Via::kGrpc ? "Grpc" : "Connect";
                         });

}  // namespace
}  // namespace mediation
