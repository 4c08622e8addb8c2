#include "services/allocation_service.h"

#include <algorithm>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/case_access.h"
#include "services/case_transitions.h"
#include "services/convert.h"
#include "services/core/validation.h"
#include "services/identity_keys.h"
#include "services/rules/allocation.h"
#include "services/rules/london.h"
#include "storage/allocations.h"
#include "storage/cases.h"
#include "storage/mediators.h"
#include "storage/organisations.h"

namespace mediation {
namespace {

constexpr int kDefaultWindowDays = 90;
constexpr int kMaxWindowDays = 366;
constexpr int kDefaultCandidates = 50;
constexpr int kMaxCandidates = 10000;

void ToProto(const storage::AllocationRecord& a, v1::Allocation* out) {
  out->set_id(a.id);
  out->set_case_id(a.case_id);
  out->set_mediator_id(a.mediator_id);
  out->set_role(a.role);
  out->set_state(a.state);
  mediation::ToProto(a.offered_at, out->mutable_offered_at());
  out->set_offered_by_token_id(a.offered_by_token_id);
  if (a.responded_at) mediation::ToProto(*a.responded_at, out->mutable_responded_at());
  out->set_decline_reason(a.decline_reason);
  out->set_response_note(a.response_note);
  mediation::ToProto(a.withheld, out->mutable_withheld());
  if (a.window_first_day && a.window_last_day) {
    DayToProto(*a.window_first_day, out->mutable_proposed_first_day());
    DayToProto(*a.window_last_day, out->mutable_proposed_last_day());
  }
}

// The mediation window from a request's optional dates: default today (London) to 90 days on.
absl::StatusOr<rules::DayRange> Window(absl::Time now, bool has_first, const v1::Date& first,
                                       bool has_last, const v1::Date& last) {
  Validator v;
  rules::DayRange window;
  window.first = rules::LondonDay(now);
  if (has_first) {
    std::optional<int32_t> day = DayFromProto(first);
    if (!day) v.Fail("window_first_day", "not a valid date");
    window.first = day.value_or(0);
  }
  window.last = window.first + kDefaultWindowDays;
  if (has_last) {
    std::optional<int32_t> day = DayFromProto(last);
    if (!day) v.Fail("window_last_day", "not a valid date");
    window.last = day.value_or(0);
  }
  if (v.ok() && window.first < rules::LondonDay(now)) {
    // A window in the past would let expired accreditation or insurance pass.
    v.Fail("window_first_day", "must not be before today (Europe/London)");
  } else if (v.ok() && window.last < window.first) {
    v.Fail("window_last_day", "must not be before window_first_day");
  } else if (v.ok() && window.last - window.first >= kMaxWindowDays) {
    v.Fail("window_last_day", absl::StrCat("the window is at most ", kMaxWindowDays, " days"));
  }
  if (!v.ok()) return v.status();
  return window;
}

// Everything about one case that allocation needs, read in one transaction.
struct CaseContext {
  storage::CaseRecord c;
  storage::OrganisationRecord org;
  std::vector<storage::AllocationRecord> allocations;  // Including closed ones.

  const storage::AllocationRecord* OpenIn(v1::AllocationRole role) const {
    for (const auto& a : allocations) {
      if (a.role == role &&
          (a.state == v1::ALLOCATION_STATE_PENDING || a.state == v1::ALLOCATION_STATE_ACCEPTED)) {
        return &a;
      }
    }
    return nullptr;
  }
};

absl::StatusOr<CaseContext> LoadCaseContext(storage::Tx& tx, const Principal& who,
                                            int64_t case_id) {
  CaseContext ctx;
  absl::StatusOr<storage::CaseRecord> c = LoadCaseFor(tx, who, case_id);
  if (!c.ok()) return c.status();
  ctx.c = *std::move(c);
  absl::StatusOr<storage::OrganisationRecord> org =
      storage::GetOrganisation(tx, ctx.c.organisation_id);
  if (!org.ok()) return org.status();
  ctx.org = *std::move(org);
  absl::StatusOr<std::vector<storage::AllocationRecord>> allocations =
      storage::ListAllocationsOfCase(tx, case_id, /*include_closed=*/true);
  if (!allocations.ok()) return allocations.status();
  ctx.allocations = *std::move(allocations);
  return ctx;
}

absl::Status RequireSuitable(const storage::CaseRecord& c) {
  if (c.state == v1::CASE_STATE_SUITABLE) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("case ", c.id, " is ", v1::CaseState_Name(c.state),
                   "; mediators are allocated only to a SUITABLE case"));
}

// The role to fill: `requested`, or the first unfilled one. For a proposal (`planning`), a role
// whose offer is still pending counts as unfilled, after the unfilled ones: case support can
// line up the next candidate in case of a decline.
absl::StatusOr<v1::AllocationRole> RoleToFill(const CaseContext& ctx, v1::AllocationRole requested,
                                              bool planning = false) {
  auto pending = [&](v1::AllocationRole role) {
    const auto* a = ctx.OpenIn(role);
    return planning && a != nullptr && a->state == v1::ALLOCATION_STATE_PENDING;
  };
  const bool two = ctx.c.mediators_required >= 2;
  if (requested == v1::ALLOCATION_ROLE_CO_MEDIATOR && !two) {
    return FieldError("role", absl::StrCat("case ", ctx.c.id,
                                           " needs one mediator only; there is no co-mediator"));
  }
  if (requested != v1::ALLOCATION_ROLE_UNSPECIFIED) {
    if (const auto* a = ctx.OpenIn(requested); a != nullptr && !pending(requested)) {
      return absl::FailedPreconditionError(
          absl::StrCat(v1::AllocationRole_Name(requested), " of case ", ctx.c.id,
                       " is already offered to or held by mediator ", a->mediator_id));
    }
    return requested;
  }
  if (ctx.OpenIn(v1::ALLOCATION_ROLE_LEAD) == nullptr) return v1::ALLOCATION_ROLE_LEAD;
  if (two && ctx.OpenIn(v1::ALLOCATION_ROLE_CO_MEDIATOR) == nullptr) {
    return v1::ALLOCATION_ROLE_CO_MEDIATOR;
  }
  if (pending(v1::ALLOCATION_ROLE_LEAD)) return v1::ALLOCATION_ROLE_LEAD;
  if (two && pending(v1::ALLOCATION_ROLE_CO_MEDIATOR)) return v1::ALLOCATION_ROLE_CO_MEDIATOR;
  return absl::FailedPreconditionError(
      absl::StrCat("every role of case ", ctx.c.id, " is already offered or filled"));
}

rules::CaseFacts CaseFactsOf(const CaseContext& ctx, const rules::DayRange& window) {
  rules::CaseFacts facts;
  facts.case_id = ctx.c.id;
  facts.organisation_id = ctx.org.id;
  facts.nation = ctx.org.nation;
  facts.window = window;
  for (const storage::PartyRecord& p : ctx.c.parties) {
    facts.parties.push_back({.id = p.id,
                             .keys = rules::KeysOf(p.contact.name, p.contact.email),
                             .profession = p.profession});
  }
  return facts;
}

// Facts about every mediator (or only those in `only`), for `ctx`'s case and `window`.
absl::StatusOr<std::vector<rules::MediatorFacts>> MediatorFactsFor(
    storage::Tx& tx, const CaseContext& ctx, const rules::CaseFacts& case_facts,
    const std::vector<int64_t>& only) {
  absl::StatusOr<std::unordered_map<int64_t, int>> open = storage::OpenAllocationCounts(tx);
  if (!open.ok()) return open.status();
  absl::StatusOr<std::vector<storage::LeaveRecord>> leave =
      storage::LeaveOverlapping(tx, case_facts.window.first, case_facts.window.last);
  if (!leave.ok()) return leave.status();
  // Conflicts are looked up by each party's address (without a +tag) and by every word of
  // their names (a surname in any position); rules::MatchPerson decides what matches.
  std::vector<std::string> emails, names;
  for (const rules::PartyFacts& p : case_facts.parties) {
    if (!p.keys.email_untagged.empty()) emails.push_back(p.keys.email_untagged);
    names.insert(names.end(), p.keys.name.begin(), p.keys.name.end());
  }
  absl::StatusOr<std::vector<storage::ConflictRecord>> conflicts =
      storage::ConflictsTouching(tx, ctx.org.id, ctx.c.id, emails, names);
  if (!conflicts.ok()) return conflicts.status();

  std::unordered_map<int64_t, size_t> index;
  std::vector<rules::MediatorFacts> facts;
  auto add = [&](storage::MediatorSummary&& s) {
    rules::MediatorFacts m;
    m.id = s.id;
    m.keys = CachedKeysOf(s.name, s.email);
    m.name = std::move(s.name);
    m.active = s.active;
    m.accreditation_expires = s.accreditation_expires;
    m.insurance_expires = s.insurance_expires;
    m.cpd_hours = s.cpd_hours;
    m.nations = s.nations;
    m.professions = s.professions;
    m.max_concurrent_cases = s.max_concurrent_cases;
    m.working_days = s.working_days;
    m.last_allocated_at = s.last_allocated_at;
    if (auto it = open->find(s.id); it != open->end()) m.current_cases = it->second;
    index[m.id] = facts.size();
    facts.push_back(std::move(m));
  };
  if (only.empty()) {
    if (absl::Status s = storage::VisitMediatorSummaries(tx, 0, add); !s.ok()) return s;
  } else {
    for (int64_t id : only) {
      if (index.contains(id)) continue;
      if (absl::Status s = storage::VisitMediatorSummaries(tx, id, add); !s.ok()) return s;
    }
  }
  for (const storage::LeaveRecord& l : *leave) {
    if (auto it = index.find(l.mediator_id); it != index.end()) {
      facts[it->second].leave.push_back({l.first_day, l.last_day});
    }
  }
  for (const storage::ConflictRecord& c : *conflicts) {
    if (auto it = index.find(c.mediator_id); it != index.end()) {
      facts[it->second].conflicts.push_back(
          {.id = c.id,
           .kind = c.kind,
           .organisation_id = c.organisation_id,
           .person = c.kind == v1::CONFLICT_KIND_PERSON
                         ? CachedKeysOf(c.person_name, c.person_email)
                         : rules::PersonKeys{},
           .person_name = c.person_name,
           .case_id = c.case_id});
    }
  }
  for (const storage::AllocationRecord& a : ctx.allocations) {
    if (auto it = index.find(a.mediator_id); it != index.end()) {
      rules::MediatorFacts& m = facts[it->second];
      if (a.state == v1::ALLOCATION_STATE_PENDING || a.state == v1::ALLOCATION_STATE_ACCEPTED) {
        m.on_case = true;
      } else if (a.state == v1::ALLOCATION_STATE_DECLINED) {
        m.declined_case = true;
      }
    }
  }
  return facts;
}

// Moves the case to MEDIATORS_ALLOCATED once every role it needs (LEAD, and CO_MEDIATOR when
// it needs two) is held by an accepted allocation. `ctx` reflects the changes made so far.
absl::Status MoveOnIfEveryRoleAccepted(storage::Tx& tx, CaseContext& ctx, CallContext& call) {
  auto accepted = [&](v1::AllocationRole role) {
    return std::any_of(ctx.allocations.begin(), ctx.allocations.end(), [&](const auto& a) {
      return a.role == role && a.state == v1::ALLOCATION_STATE_ACCEPTED;
    });
  };
  const bool two = ctx.c.mediators_required >= 2;
  if (!accepted(v1::ALLOCATION_ROLE_LEAD) || (two && !accepted(v1::ALLOCATION_ROLE_CO_MEDIATOR))) {
    return absl::OkStatus();
  }
  return MoveCase(tx, ctx.c,
                  {.to = v1::CASE_STATE_MEDIATORS_ALLOCATED,
                   .at = call.now(),
                   .token_id = call.principal().token_id,
                   .reason = two ? "the lead mediator and the co-mediator accepted"
                                 : "the lead mediator accepted"});
}

// The mediator holding the other role, if any.
const storage::AllocationRecord* Partner(const CaseContext& ctx, v1::AllocationRole role) {
  return ctx.OpenIn(role == v1::ALLOCATION_ROLE_LEAD ? v1::ALLOCATION_ROLE_CO_MEDIATOR
                                                     : v1::ALLOCATION_ROLE_LEAD);
}

absl::Status ProposeAllocation(CallContext& call, const v1::ProposeAllocationRequest& r,
                               v1::ProposeAllocationResponse& response) {
  Validator v;
  v.PositiveId("case_id", r.case_id());
  v.Enum("role", r.role(), v1::AllocationRole_IsValid, false);
  if (r.max_candidates() < 0 || r.max_candidates() > kMaxCandidates) {
    v.Fail("max_candidates",
           absl::StrCat("must be 1 to ", kMaxCandidates, " (0 for ", kDefaultCandidates, ")"));
  }
  if (!v.ok()) return v.status();
  call.AddObject("case", r.case_id());
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    return BuildProposal(tx, call.principal(), call.now(), r, response.mutable_proposal());
  });
}

absl::Status AllocateMediator(CallContext& call, const v1::AllocateMediatorRequest& r,
                              v1::AllocateMediatorResponse& response) {
  Validator v;
  v.PositiveId("case_id", r.case_id());
  v.PositiveId("mediator_id", r.mediator_id());
  v.Enum("role", r.role(), v1::AllocationRole_IsValid, true);
  if (!v.ok()) return v.status();
  absl::StatusOr<rules::DayRange> window =
      Window(call.now(), r.has_window_first_day(), r.window_first_day(), r.has_window_last_day(),
             r.window_last_day());
  if (!window.ok()) return window.status();
  call.AddObject("case", r.case_id());
  call.AddObject("mediator", r.mediator_id());

  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<CaseContext> ctx = LoadCaseContext(tx, call.principal(), r.case_id());
    if (!ctx.ok()) return ctx.status();
    if (absl::Status s = RequireSuitable(ctx->c); !s.ok()) return s;
    absl::StatusOr<v1::AllocationRole> role = RoleToFill(*ctx, r.role());
    if (!role.ok()) return role.status();

    rules::CaseFacts case_facts = CaseFactsOf(*ctx, *window);
    std::vector<int64_t> ids = {r.mediator_id()};
    const storage::AllocationRecord* partner = Partner(*ctx, *role);
    if (partner != nullptr) ids.push_back(partner->mediator_id);
    absl::StatusOr<std::vector<rules::MediatorFacts>> facts =
        MediatorFactsFor(tx, *ctx, case_facts, ids);
    if (!facts.ok()) return facts.status();
    const rules::MediatorFacts* candidate = nullptr;
    for (const rules::MediatorFacts& m : *facts) {
      if (m.id == r.mediator_id()) candidate = &m;
      if (partner != nullptr && m.id == partner->mediator_id) case_facts.partner = &m;
    }
    if (candidate == nullptr) {
      return FieldError("mediator_id", absl::StrCat("no mediator ", r.mediator_id()));
    }
    std::vector<rules::PossibleConflict> possible;
    const rules::Exclusion exclusion =
        rules::Exclude(case_facts, *candidate, /*first_available=*/nullptr, &possible);
    if (!exclusion.reasons.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("mediator ", r.mediator_id(),
                                                        " cannot take case ", r.case_id(), ": ",
                                                        absl::StrJoin(exclusion.details, "; ")));
    }
    // A possible conflict allocates only once a person has looked at it and confirmed there is
    // none: each by the party it may concern.
    std::vector<std::string> unconfirmed;
    for (const rules::PossibleConflict& p : possible) {
      if (std::find(r.confirmed_no_conflict_party_ids().begin(),
                    r.confirmed_no_conflict_party_ids().end(),
                    p.party_id) == r.confirmed_no_conflict_party_ids().end()) {
        unconfirmed.push_back(p.detail);
      }
    }
    if (!unconfirmed.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "mediator ", r.mediator_id(), " has a possible conflict of interest on case ",
          r.case_id(), ": ", absl::StrJoin(unconfirmed, "; "),
          ". Check with the mediator; if there is none, allocate again with the party's id in "
          "confirmed_no_conflict_party_ids"));
    }
    storage::AllocationRecord a{.case_id = r.case_id(),
                                .mediator_id = r.mediator_id(),
                                .role = *role,
                                .state = v1::ALLOCATION_STATE_PENDING,
                                .open = true,
                                .offered_at = call.now(),
                                .offered_by_token_id = call.principal().token_id,
                                .window_first_day = window->first,
                                .window_last_day = window->last};
    absl::StatusOr<storage::AllocationRecord> stored = storage::InsertAllocation(tx, a);
    if (!stored.ok()) return stored.status();
    call.AddObject("allocation", stored->id);
    ToProto(*stored, response.mutable_allocation());
    return absl::OkStatus();
  });
}

absl::Status RespondToAllocation(CallContext& call, const v1::RespondToAllocationRequest& r,
                                 v1::RespondToAllocationResponse& response) {
  const Principal& who = call.principal();
  Validator v;
  v.PositiveId("allocation_id", r.allocation_id());
  std::string note;
  if (r.accept()) {
    note = v.OptionalText("note", r.note(), 1000);
    if (r.decline_reason() != v1::DECLINE_REASON_UNSPECIFIED || r.conflict_party_id() != 0 ||
        r.conflict_with_organisation()) {
      v.Fail("decline_reason", "only when declining");
    }
  } else {
    v.Enum("decline_reason", r.decline_reason(), v1::DeclineReason_IsValid, true);
    note = v.RequiredText("note", r.note(), 1000);
    if (r.decline_reason() != v1::DECLINE_REASON_CONFLICT_OF_INTEREST &&
        (r.conflict_party_id() != 0 || r.conflict_with_organisation())) {
      v.Fail("conflict_party_id", "only with DECLINE_REASON_CONFLICT_OF_INTEREST");
    }
    if (r.conflict_party_id() != 0 && r.conflict_with_organisation()) {
      v.Fail("conflict_party_id", "give a party or the organisation, not both");
    }
  }
  if (!v.ok()) return v.status();
  call.AddObject("allocation", r.allocation_id());

  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::AllocationRecord> a = storage::GetAllocation(tx, r.allocation_id());
    // An allocation addressed to someone else reads as absent.
    if (absl::IsNotFound(a.status()) || (a.ok() && a->mediator_id != who.mediator_id)) {
      return absl::NotFoundError(absl::StrCat("allocation ", r.allocation_id(), " not found"));
    }
    if (!a.ok()) return a.status();
    call.AddObject("case", a->case_id);
    if (a->state != v1::ALLOCATION_STATE_PENDING) {
      return absl::FailedPreconditionError(absl::StrCat(
          "allocation ", a->id, " is ", v1::AllocationState_Name(a->state), ", not PENDING"));
    }
    absl::StatusOr<CaseContext> ctx = LoadCaseContext(tx, who, a->case_id);
    if (!ctx.ok()) return ctx.status();
    a->responded_at = call.now();
    a->responded_by_token_id = who.token_id;
    a->response_note = note;
    if (r.accept()) {
      if (absl::Status s = RequireSuitable(ctx->c); !s.ok()) return s;
      a->state = v1::ALLOCATION_STATE_ACCEPTED;
      a->open = true;
    } else {
      a->state = v1::ALLOCATION_STATE_DECLINED;
      a->open = false;
      a->decline_reason = r.decline_reason();
    }
    if (absl::Status s = storage::RecordAllocationResponse(tx, *a); !s.ok()) return s;

    if (!r.accept() && r.decline_reason() == v1::DECLINE_REASON_CONFLICT_OF_INTEREST) {
      storage::ConflictRecord conflict{.mediator_id = a->mediator_id,
                                       .source = v1::CONFLICT_SOURCE_DISCOVERED,
                                       // The mediator's own words stay with the allocation,
                                       // sealed with the case's key; the registry says where.
                                       .note = absl::StrCat("discovered on seeing allocation ",
                                                            a->id, " of case ", ctx->c.reference),
                                       .recorded_at = call.now(),
                                       .recorded_by_token_id = who.token_id};
      if (r.conflict_party_id() != 0) {
        const storage::PartyRecord* party = nullptr;
        for (const auto& p : ctx->c.parties) {
          if (p.id == r.conflict_party_id()) party = &p;
        }
        if (party == nullptr) {
          return FieldError(
              "conflict_party_id",
              absl::StrCat("party ", r.conflict_party_id(), " is not a party of case ", ctx->c.id));
        }
        conflict.kind = v1::CONFLICT_KIND_PERSON;
        conflict.source_case_id = ctx->c.id;
        conflict.person_name = party->contact.name;
        conflict.person_email = party->contact.email;
        SetIdentityKeys(conflict);
      } else if (r.conflict_with_organisation()) {
        conflict.kind = v1::CONFLICT_KIND_ORGANISATION;
        conflict.organisation_id = ctx->c.organisation_id;
      } else {
        conflict.kind = v1::CONFLICT_KIND_CASE;
        conflict.case_id = ctx->c.id;
      }
      absl::StatusOr<storage::ConflictRecord> stored = storage::InsertConflict(tx, conflict);
      if (!stored.ok()) return stored.status();
      call.AddObject("conflict", stored->id);
    }

    if (r.accept()) {
      for (auto& other : ctx->allocations) {
        if (other.id == a->id) other.state = v1::ALLOCATION_STATE_ACCEPTED;
      }
      if (absl::Status s = MoveOnIfEveryRoleAccepted(tx, *ctx, call); !s.ok()) return s;
    }
    ToProto(*a, response.mutable_allocation());
    response.set_case_state(ctx->c.state);
    return absl::OkStatus();
  });
}

absl::Status ListAllocations(CallContext& call, const v1::ListAllocationsRequest& r,
                             v1::ListAllocationsResponse& response) {
  const Principal& who = call.principal();
  int64_t mediator_id = r.mediator_id();
  if (who.role == v1::ROLE_MEDIATOR) mediator_id = who.mediator_id;
  Validator v;
  if (r.case_id() < 0 || r.mediator_id() < 0) v.Fail("case_id", "ids are positive");
  if (r.case_id() == 0 && mediator_id == 0) v.Fail("case_id", "give a case_id or a mediator_id");
  if (!v.ok()) return v.status();
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<storage::AllocationRecord>> list;
    if (r.case_id() != 0) {
      call.AddObject("case", r.case_id());
      absl::StatusOr<storage::CaseRecord> c = LoadCaseFor(tx, who, r.case_id());
      if (!c.ok()) return c.status();
      list = storage::ListAllocationsOfCase(tx, r.case_id(), r.include_closed());
    } else {
      list = storage::ListAllocationsOfMediator(tx, mediator_id, r.include_closed());
    }
    if (!list.ok()) return list.status();
    for (const auto& a : *list) {
      if (mediator_id != 0 && a.mediator_id != mediator_id) continue;
      ToProto(a, response.add_allocations());
    }
    return absl::OkStatus();
  });
}

absl::Status SetMediatorsRequired(CallContext& call, const v1::SetMediatorsRequiredRequest& r,
                                  v1::SetMediatorsRequiredResponse& response) {
  Validator v;
  v.PositiveId("case_id", r.case_id());
  if (r.count() != 1 && r.count() != 2) v.Fail("count", "must be 1 or 2");
  if (!v.ok()) return v.status();
  call.AddObject("case", r.case_id());
  return call.Write([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<CaseContext> ctx = LoadCaseContext(tx, call.principal(), r.case_id());
    if (!ctx.ok()) return ctx.status();
    if (absl::Status s = RequireSuitable(ctx->c); !s.ok()) return s;
    if (r.count() == 1 && ctx->OpenIn(v1::ALLOCATION_ROLE_CO_MEDIATOR) != nullptr) {
      return absl::FailedPreconditionError(
          "a co-mediator is already offered or allocated; that allocation must be declined "
          "first");
    }
    if (absl::Status s = storage::SetMediatorsRequired(tx, r.case_id(), r.count(), call.now());
        !s.ok()) {
      return s;
    }
    // Needing fewer mediators may mean the accepted ones already suffice.
    ctx->c.mediators_required = r.count();
    if (absl::Status s = MoveOnIfEveryRoleAccepted(tx, *ctx, call); !s.ok()) return s;
    response.set_count(r.count());
    return absl::OkStatus();
  });
}

}  // namespace

absl::Status BuildProposal(storage::Tx& tx, const Principal& who, absl::Time now,
                           const v1::ProposeAllocationRequest& r, v1::AllocationProposal* out) {
  absl::StatusOr<rules::DayRange> window =
      Window(now, r.has_window_first_day(), r.window_first_day(), r.has_window_last_day(),
             r.window_last_day());
  if (!window.ok()) return window.status();
  absl::StatusOr<CaseContext> ctx = LoadCaseContext(tx, who, r.case_id());
  if (!ctx.ok()) return ctx.status();
  if (absl::Status s = RequireSuitable(ctx->c); !s.ok()) return s;
  absl::StatusOr<v1::AllocationRole> role = RoleToFill(*ctx, r.role(), /*planning=*/true);
  if (!role.ok()) return role.status();
  if (const storage::AllocationRecord* offered = ctx->OpenIn(*role)) {
    out->set_pending_mediator_id(offered->mediator_id);
  }

  rules::CaseFacts case_facts = CaseFactsOf(*ctx, *window);
  absl::StatusOr<std::vector<rules::MediatorFacts>> facts =
      MediatorFactsFor(tx, *ctx, case_facts, {});
  if (!facts.ok()) return facts.status();
  if (const storage::AllocationRecord* partner = Partner(*ctx, *role)) {
    for (const rules::MediatorFacts& m : *facts) {
      if (m.id == partner->mediator_id) case_facts.partner = &m;
    }
  }
  const rules::Proposal proposal = rules::ProposeMediators(case_facts, *facts);

  out->set_case_id(ctx->c.id);
  out->set_role(*role);
  DayToProto(window->first, out->mutable_window_first_day());
  DayToProto(window->last, out->mutable_window_last_day());
  out->set_eligible_count(static_cast<int32_t>(proposal.ranked.size()));
  const size_t limit = r.max_candidates() == 0 ? kDefaultCandidates : r.max_candidates();
  for (size_t i = 0; i < proposal.ranked.size() && i < limit; ++i) {
    const rules::Candidate& c = proposal.ranked[i];
    v1::RankedMediator* m = out->add_ranked();
    m->set_rank(static_cast<int32_t>(i + 1));
    m->set_mediator_id(c.id);
    m->set_name(c.name);
    v1::ScoreComponents* score = m->mutable_score();
    score->set_current_cases(c.current_cases);
    DayToProto(c.first_available, score->mutable_first_available_day());
    score->set_relevant_professions(c.relevant_professions);
    if (c.last_allocated_at) ToProto(*c.last_allocated_at, score->mutable_last_allocated_at());
    for (const rules::PossibleConflict& p : c.possible_conflicts) {
      v1::PossibleConflict* x = m->add_possible_conflicts();
      x->set_conflict_id(p.conflict_id);
      x->set_party_id(p.party_id);
      x->set_detail(p.detail);
    }
  }
  for (const rules::Exclusion& e : proposal.excluded) {
    v1::ExcludedMediator* x = out->add_excluded();
    x->set_mediator_id(e.id);
    x->set_name(e.name);
    for (v1::ExclusionReason reason : e.reasons) x->add_reasons(reason);
    for (const std::string& d : e.details) x->add_details(d);
  }
  return absl::OkStatus();
}

MEDIATION_UNARY_RPC(AllocationService, ProposeAllocation)
MEDIATION_UNARY_RPC(AllocationService, AllocateMediator)
MEDIATION_UNARY_RPC(AllocationService, RespondToAllocation)
MEDIATION_UNARY_RPC(AllocationService, ListAllocations)
MEDIATION_UNARY_RPC(AllocationService, SetMediatorsRequired)

MEDIATION_SERVICE(AllocationService)

}  // namespace mediation
