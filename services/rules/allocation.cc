#include "services/rules/allocation.h"

#include <date/date.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace mediation::rules {
namespace {

bool OnLeave(const MediatorFacts& m, Day day) {
  return std::any_of(m.leave.begin(), m.leave.end(),
                     [&](const DayRange& r) { return r.first <= day && day <= r.last; });
}

bool Works(const MediatorFacts& m, Day day) {
  return (m.working_days & (1u << (IsoWeekday(day) - 1))) != 0 && !OnLeave(m, day);
}

bool Covers(uint32_t mask, int value) { return (mask & (1u << value)) != 0; }

}  // namespace

std::string FormatDay(Day day) {
  // Not date::format: it goes through iostreams, and a proposal formats thousands of days.
  const date::year_month_day ymd{date::sys_days{date::days{day}}};
  return absl::StrFormat("%04d-%02u-%02u", static_cast<int>(ymd.year()),
                         static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

int IsoWeekday(Day day) {
  return static_cast<int>(date::weekday{date::sys_days{date::days{day}}}.iso_encoding());
}

std::optional<Day> FirstAvailableDay(const MediatorFacts& m, const DayRange& window,
                                     const MediatorFacts* partner) {
  if (m.working_days == 0) return std::nullopt;
  for (Day day = window.first; day <= window.last; ++day) {
    if (Works(m, day) && (partner == nullptr || Works(*partner, day))) return day;
  }
  return std::nullopt;
}

Exclusion Exclude(const CaseFacts& c, const MediatorFacts& m, std::optional<Day>* first_available,
                  std::vector<PossibleConflict>* possible) {
  Exclusion e{.id = m.id, .name = m.name};
  auto add = [&](v1::ExclusionReason reason, std::string detail) {
    e.reasons.push_back(reason);
    e.details.push_back(std::move(detail));
  };
  if (!m.active) add(v1::EXCLUSION_REASON_INACTIVE, "not active");
  if (m.accreditation_expires < c.window.last) {
    add(v1::EXCLUSION_REASON_ACCREDITATION_EXPIRES,
        absl::StrCat("accreditation expires ", FormatDay(m.accreditation_expires),
                     ", before the window ends on ", FormatDay(c.window.last)));
  }
  if (m.insurance_expires < c.window.last) {
    add(v1::EXCLUSION_REASON_INSURANCE_EXPIRES,
        absl::StrCat("indemnity insurance expires ", FormatDay(m.insurance_expires),
                     ", before the window ends on ", FormatDay(c.window.last)));
  }
  if (m.cpd_hours < kMinCpdHours) {
    add(v1::EXCLUSION_REASON_CPD_BELOW_MINIMUM,
        absl::StrCat(m.cpd_hours, " CPD hours in the last 12 months; the minimum is ",
                     kMinCpdHours));
  }
  if (!Covers(m.nations, c.nation)) {
    add(v1::EXCLUSION_REASON_NATION_NOT_COVERED,
        absl::StrCat("does not cover ", v1::Nation_Name(c.nation)));
  }

  bool organisation = false, party = false, this_case = false;
  std::string party_detail;
  for (const ConflictFacts& conflict : m.conflicts) {
    switch (conflict.kind) {
      case v1::CONFLICT_KIND_ORGANISATION:
        organisation = organisation || conflict.organisation_id == c.organisation_id;
        break;
      case v1::CONFLICT_KIND_CASE:
        this_case = this_case || conflict.case_id == c.case_id;
        break;
      case v1::CONFLICT_KIND_PERSON:
        for (const PartyFacts& p : c.parties) {
          const PersonMatch match = MatchPerson(conflict.person, p.keys);
          if (match.match == Match::kCertain && !party) {
            party = true;
            party_detail =
                absl::StrCat("declared conflict with party ", p.id, " (", match.why, ")");
          } else if (match.match == Match::kPossible && possible != nullptr) {
            possible->push_back(
                {.conflict_id = conflict.id,
                 .party_id = p.id,
                 .detail = absl::StrCat("declared conflict with \"", conflict.person_name,
                                        "\" may be party ", p.id, ": ", match.why)});
          }
        }
        break;
      default:
        break;
    }
  }
  if (organisation) {
    add(v1::EXCLUSION_REASON_CONFLICT_WITH_ORGANISATION,
        absl::StrCat("declared conflict with organisation ", c.organisation_id));
  }
  if (party) add(v1::EXCLUSION_REASON_CONFLICT_WITH_PARTY, party_detail);
  if (this_case) {
    add(v1::EXCLUSION_REASON_CONFLICT_WITH_CASE, "conflict of interest recorded for this case");
  }
  for (const PartyFacts& p : c.parties) {
    const PersonMatch match = MatchPerson(m.keys, p.keys);
    if (match.match == Match::kCertain) {
      add(v1::EXCLUSION_REASON_MEDIATOR_IS_PARTY,
          absl::StrCat("is party ", p.id, " (", match.why, ")"));
      break;
    }
    if (match.match == Match::kPossible && possible != nullptr) {
      possible->push_back(
          {.party_id = p.id, .detail = absl::StrCat("may be party ", p.id, ": ", match.why)});
    }
  }
  if (m.current_cases >= m.max_concurrent_cases) {
    add(v1::EXCLUSION_REASON_CAPACITY_FULL,
        absl::StrCat("capacity full: ", m.current_cases, " of ", m.max_concurrent_cases, " cases"));
  }
  const std::optional<Day> first = FirstAvailableDay(m, c.window, c.partner);
  if (first_available != nullptr) *first_available = first;
  if (!first.has_value()) {
    add(v1::EXCLUSION_REASON_NOT_AVAILABLE_IN_WINDOW,
        absl::StrCat("no working day free between ", FormatDay(c.window.first), " and ",
                     FormatDay(c.window.last),
                     c.partner != nullptr ? " shared with the mediator already allocated" : ""));
  }
  if (m.on_case) add(v1::EXCLUSION_REASON_ALREADY_ON_CASE, "already allocated to this case");
  if (m.declined_case) add(v1::EXCLUSION_REASON_DECLINED_CASE, "declined this case before");
  return e;
}

bool RanksBefore(const Candidate& a, const Candidate& b) {
  if (a.current_cases != b.current_cases) return a.current_cases < b.current_cases;
  if (a.first_available != b.first_available) return a.first_available < b.first_available;
  if (a.relevant_professions != b.relevant_professions) {
    return a.relevant_professions > b.relevant_professions;
  }
  if (a.last_allocated_at != b.last_allocated_at) {
    if (!a.last_allocated_at.has_value()) return true;  // Never allocated comes first.
    if (!b.last_allocated_at.has_value()) return false;
    return *a.last_allocated_at < *b.last_allocated_at;
  }
  return a.id < b.id;
}

Proposal ProposeMediators(const CaseFacts& c, const std::vector<MediatorFacts>& mediators) {
  uint32_t case_professions = 0;
  for (const PartyFacts& p : c.parties) case_professions |= 1u << p.profession;
  Proposal proposal;
  for (const MediatorFacts& m : mediators) {
    std::optional<Day> first;
    std::vector<PossibleConflict> possible;
    Exclusion e = Exclude(c, m, &first, &possible);
    if (!e.reasons.empty()) {
      proposal.excluded.push_back(std::move(e));
      continue;
    }
    proposal.ranked.push_back(
        {.id = m.id,
         .possible_conflicts = std::move(possible),
         .name = m.name,
         .current_cases = m.current_cases,
         .first_available = *first,
         .relevant_professions = __builtin_popcount(m.professions & case_professions),
         .last_allocated_at = m.last_allocated_at});
  }
  std::sort(proposal.ranked.begin(), proposal.ranked.end(), RanksBefore);
  return proposal;
}

}  // namespace mediation::rules
