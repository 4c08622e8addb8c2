#include <date/date.h>
#include <gtest/gtest.h>

#include <map>

#include "services/rules/allocation.h"

namespace mediation::rules {
namespace {

Day D(int y, unsigned m, unsigned d) {
  return static_cast<Day>(
      date::sys_days{date::year{y} / date::month{m} / date::day{d}}.time_since_epoch().count());
}

constexpr uint32_t kWeekdays = 0b0011111;  // Monday to Friday.

// A mediator nobody could object to, for a case in England in spring 2027.
MediatorFacts Good(int64_t id) {
  MediatorFacts m;
  m.id = id;
  m.name = "Mediator " + std::to_string(id);
  m.keys = KeysOf(m.name, "m" + std::to_string(id) + "@example.org");
  m.active = true;
  m.accreditation_expires = D(2030, 1, 1);
  m.insurance_expires = D(2030, 1, 1);
  m.cpd_hours = 10;
  m.nations = 1u << v1::NATION_ENGLAND;
  m.professions = 1u << v1::PROFESSION_DOCTOR;
  m.max_concurrent_cases = 5;
  m.working_days = kWeekdays;
  return m;
}

CaseFacts Case() {
  CaseFacts c;
  c.case_id = 40;
  c.organisation_id = 7;
  c.nation = v1::NATION_ENGLAND;
  c.parties = {{.id = 100,
                .keys = KeysOf("Alex Morgan", "alex.morgan@trust.example"),
                .profession = v1::PROFESSION_DOCTOR},
               {.id = 101,
                .keys = KeysOf("Jo Reed", "jo.reed@trust.example"),
                .profession = v1::PROFESSION_PHARMACIST}};
  c.window = {D(2027, 3, 1), D(2027, 5, 31)};  // Monday 1 March to 31 May.
  return c;
}

std::vector<v1::ExclusionReason> Reasons(const CaseFacts& c, const MediatorFacts& m) {
  return Exclude(c, m).reasons;
}

TEST(AllocationRulesTest, AGoodMediatorIsEligible) {
  EXPECT_TRUE(Reasons(Case(), Good(1)).empty());
}

struct Alone {
  const char* name;
  void (*spoil)(MediatorFacts&);
  v1::ExclusionReason reason;
};

class EachExclusionAlone : public ::testing::TestWithParam<Alone> {};

TEST_P(EachExclusionAlone, ExcludesWithExactlyThatReason) {
  MediatorFacts m = Good(1);
  GetParam().spoil(m);
  const Exclusion e = Exclude(Case(), m);
  ASSERT_EQ(e.reasons, std::vector<v1::ExclusionReason>{GetParam().reason});
  ASSERT_EQ(e.details.size(), 1u);
  EXPECT_FALSE(e.details[0].empty());
}

INSTANTIATE_TEST_SUITE_P(
    Reasons, EachExclusionAlone,
    ::testing::Values(
        Alone{"Inactive", [](MediatorFacts& m) { m.active = false; },
              v1::EXCLUSION_REASON_INACTIVE},
        Alone{"AccreditationExpiresInWindow",
              [](MediatorFacts& m) { m.accreditation_expires = D(2027, 5, 30); },
              v1::EXCLUSION_REASON_ACCREDITATION_EXPIRES},
        Alone{"InsuranceExpiresInWindow",
              [](MediatorFacts& m) { m.insurance_expires = D(2027, 4, 1); },
              v1::EXCLUSION_REASON_INSURANCE_EXPIRES},
        Alone{"CpdBelowMinimum", [](MediatorFacts& m) { m.cpd_hours = 5; },
              v1::EXCLUSION_REASON_CPD_BELOW_MINIMUM},
        Alone{"NationNotCovered", [](MediatorFacts& m) { m.nations = 1u << v1::NATION_WALES; },
              v1::EXCLUSION_REASON_NATION_NOT_COVERED},
        Alone{"ConflictWithOrganisation",
              [](MediatorFacts& m) {
                m.conflicts.push_back(
                    {.kind = v1::CONFLICT_KIND_ORGANISATION, .organisation_id = 7});
              },
              v1::EXCLUSION_REASON_CONFLICT_WITH_ORGANISATION},
        Alone{"ConflictWithPartyByEmail",
              [](MediatorFacts& m) {
                m.conflicts.push_back({.kind = v1::CONFLICT_KIND_PERSON,
                                       .person = KeysOf("", "jo.reed@trust.example")});
              },
              v1::EXCLUSION_REASON_CONFLICT_WITH_PARTY},
        Alone{"ConflictWithPartyByName",
              [](MediatorFacts& m) {
                m.conflicts.push_back(
                    {.kind = v1::CONFLICT_KIND_PERSON, .person = KeysOf("Dr. ALEX  Morgan", "")});
              },
              v1::EXCLUSION_REASON_CONFLICT_WITH_PARTY},
        Alone{"ConflictWithCase",
              [](MediatorFacts& m) {
                m.conflicts.push_back({.kind = v1::CONFLICT_KIND_CASE, .case_id = 40});
              },
              v1::EXCLUSION_REASON_CONFLICT_WITH_CASE},
        Alone{"MediatorIsAParty",
              [](MediatorFacts& m) { m.keys = KeysOf(m.name, "jo.reed@trust.example"); },
              v1::EXCLUSION_REASON_MEDIATOR_IS_PARTY},
        Alone{"CapacityFull", [](MediatorFacts& m) { m.current_cases = 5; },
              v1::EXCLUSION_REASON_CAPACITY_FULL},
        Alone{"NotAvailableInWindow",
              [](MediatorFacts& m) {
                m.leave.push_back({D(2027, 2, 20), D(2027, 6, 10)});
              },
              v1::EXCLUSION_REASON_NOT_AVAILABLE_IN_WINDOW},
        Alone{"AlreadyOnCase", [](MediatorFacts& m) { m.on_case = true; },
              v1::EXCLUSION_REASON_ALREADY_ON_CASE},
        Alone{"DeclinedCase", [](MediatorFacts& m) { m.declined_case = true; },
              v1::EXCLUSION_REASON_DECLINED_CASE}),
    [](const ::testing::TestParamInfo<Alone>& info) { return std::string(info.param.name); });

TEST(AllocationRulesTest, EveryReasonIsReportedTogether) {
  MediatorFacts m = Good(1);
  m.active = false;
  m.cpd_hours = 0;
  m.current_cases = 9;
  m.conflicts.push_back({.kind = v1::CONFLICT_KIND_ORGANISATION, .organisation_id = 7});
  EXPECT_EQ(
      Reasons(Case(), m),
      (std::vector<v1::ExclusionReason>{
          v1::EXCLUSION_REASON_INACTIVE, v1::EXCLUSION_REASON_CPD_BELOW_MINIMUM,
          v1::EXCLUSION_REASON_CONFLICT_WITH_ORGANISATION, v1::EXCLUSION_REASON_CAPACITY_FULL}));
}

TEST(AllocationRulesTest, ConflictsWithOtherPeopleOrOrganisationsDoNotCount) {
  MediatorFacts m = Good(1);
  m.conflicts.push_back({.kind = v1::CONFLICT_KIND_ORGANISATION, .organisation_id = 8});
  m.conflicts.push_back({.kind = v1::CONFLICT_KIND_PERSON, .person = KeysOf("Sam Patel", "")});
  m.conflicts.push_back({.kind = v1::CONFLICT_KIND_CASE, .case_id = 41});
  EXPECT_TRUE(Reasons(Case(), m).empty());
}

TEST(AllocationRulesTest, AccreditationValidThroughTheLastDayIsEnough) {
  MediatorFacts m = Good(1);
  m.accreditation_expires = D(2027, 5, 31);
  EXPECT_TRUE(Reasons(Case(), m).empty());
}

TEST(AllocationRulesTest, NamesAreNormalisedForMatching) {
  EXPECT_EQ(NormaliseName("Dr. Jo  REED"), "jo reed");
  EXPECT_EQ(NormaliseName("Prof Sian O'Neill-Jones"), "sian oneill jones");
  EXPECT_EQ(NormaliseName("Miss"), "miss");  // A lone word is a name, not a title.
  EXPECT_EQ(NormaliseName("Morgan, Alex"), "alex morgan");
  EXPECT_EQ(NormaliseName("ALEX\u00A0MOR\u0301GAN\u200B"), "alex morgan");
}

TEST(AllocationRulesTest, FirstAvailableDaySkipsWeekendsLeaveAndThePartnersLeave) {
  MediatorFacts m = Good(1);
  const DayRange window{D(2027, 3, 6), D(2027, 3, 31)};  // Starts on a Saturday.
  EXPECT_EQ(FirstAvailableDay(m, window, nullptr), D(2027, 3, 8));
  m.leave.push_back({D(2027, 3, 8), D(2027, 3, 9)});
  EXPECT_EQ(FirstAvailableDay(m, window, nullptr), D(2027, 3, 10));
  MediatorFacts partner = Good(2);
  partner.working_days = 1u << 3;  // Thursdays only.
  EXPECT_EQ(FirstAvailableDay(m, window, &partner), D(2027, 3, 11));
  EXPECT_EQ(IsoWeekday(D(2027, 3, 11)), 4);
}

TEST(AllocationRulesTest, RankingFollowsCaseloadThenAvailabilityThenExperienceThenRecency) {
  CaseFacts c = Case();
  MediatorFacts busy = Good(1);
  busy.current_cases = 2;
  MediatorFacts later = Good(2);
  later.leave.push_back({D(2027, 3, 1), D(2027, 3, 3)});
  MediatorFacts inexperienced = Good(3);
  inexperienced.professions = 0;
  MediatorFacts recent = Good(4);
  recent.last_allocated_at = absl::FromUnixSeconds(2000);
  MediatorFacts older = Good(5);
  older.last_allocated_at = absl::FromUnixSeconds(1000);
  MediatorFacts never = Good(6);
  MediatorFacts pharmacist = Good(7);
  pharmacist.professions |= 1u << v1::PROFESSION_PHARMACIST;

  const Proposal p =
      ProposeMediators(c, {busy, later, inexperienced, recent, older, never, pharmacist});
  std::vector<int64_t> order;
  for (const Candidate& cand : p.ranked) order.push_back(cand.id);
  EXPECT_EQ(order, (std::vector<int64_t>{7, 6, 5, 4, 3, 2, 1}));
  EXPECT_TRUE(p.excluded.empty());
  EXPECT_EQ(p.ranked[0].relevant_professions, 2);
  EXPECT_EQ(p.ranked[5].first_available, D(2027, 3, 4));
}

TEST(AllocationRulesTest, TiesAreBrokenByIdWhateverTheInputOrder) {
  const CaseFacts c = Case();
  std::vector<MediatorFacts> forwards = {Good(3), Good(1), Good(2)};
  std::vector<MediatorFacts> backwards = {Good(2), Good(1), Good(3)};
  auto ids = [&](const std::vector<MediatorFacts>& ms) {
    std::vector<int64_t> out;
    for (const Candidate& cand : ProposeMediators(c, ms).ranked) out.push_back(cand.id);
    return out;
  };
  EXPECT_EQ(ids(forwards), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(ids(backwards), ids(forwards));
}

TEST(AllocationRulesTest, AllocationsSpreadEvenlyAmongEqualMediators) {
  // 100 cases, one after another, each offered to the top candidate, among 7 equal mediators;
  // cases finish, so caseload stays level and rotation comes from least-recent allocation.
  std::vector<MediatorFacts> mediators;
  for (int64_t id = 1; id <= 7; ++id) mediators.push_back(Good(id));
  std::map<int64_t, int> count;
  for (int i = 0; i < 100; ++i) {
    const Proposal p = ProposeMediators(Case(), mediators);
    ASSERT_FALSE(p.ranked.empty());
    const int64_t chosen = p.ranked[0].id;
    ++count[chosen];
    for (MediatorFacts& m : mediators) {
      if (m.id == chosen) m.last_allocated_at = absl::FromUnixSeconds(1000 + i);
    }
  }
  int lo = 1000, hi = 0;
  for (int64_t id = 1; id <= 7; ++id) {
    lo = std::min(lo, count[id]);
    hi = std::max(hi, count[id]);
  }
  EXPECT_LE(hi - lo, 1);
  EXPECT_EQ(lo, 14);  // 100 = 2 x 15 + 5 x 14.
  EXPECT_EQ(hi, 15);
}

TEST(AllocationRulesTest, AllocationsSpreadEvenlyWhileCasesStayOpen) {
  std::vector<MediatorFacts> mediators;
  for (int64_t id = 1; id <= 10; ++id) {
    mediators.push_back(Good(id));
    mediators.back().max_concurrent_cases = 20;
  }
  std::map<int64_t, int> count;
  for (int i = 0; i < 100; ++i) {
    const Proposal p = ProposeMediators(Case(), mediators);
    const int64_t chosen = p.ranked[0].id;
    ++count[chosen];
    for (MediatorFacts& m : mediators) {
      if (m.id == chosen) {
        ++m.current_cases;
        m.last_allocated_at = absl::FromUnixSeconds(1000 + i);
      }
    }
  }
  for (int64_t id = 1; id <= 10; ++id) EXPECT_EQ(count[id], 10) << id;
}

}  // namespace
}  // namespace mediation::rules
