// PlanNationalVolume (tests/bench/scale_seed.h): what happened over ten years, decided without a
// database, so that every step written later is one the services would have allowed.
#include <algorithm>
#include <random>
#include <unordered_set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/rules/london.h"
#include "tests/bench/scale_seed.h"

namespace mediation::testing {
namespace {

constexpr int64_t kDay = 86400;
constexpr int kSlotMinutes[2] = {9 * 60 + 30, 13 * 60 + 30};  // London time.

const char* const kPlaces[] = {"Northshire",  "Eastmoor",  "Westvale",  "Southbury", "Kingsford",
                               "Riverside",   "Ashdown",   "Millbrook", "Harbour",   "Greenfield",
                               "Stonebridge", "Fairhaven", "Oakridge",  "Lakeside",  "Highcliff"};
const char* const kFirst[] = {"Alex", "Sam",   "Jo",    "Priya", "Tom",   "Aisha", "Rhys", "Niamh",
                              "Owen", "Grace", "Ravi",  "Ewan",  "Lucy",  "Kemi",  "Dan",  "Mei",
                              "Sian", "Omar",  "Clare", "Ben",   "Ffion", "Liam",  "Nia",  "Zara"};
const char* const kLast[] = {"Morgan", "Reed",   "Okafor", "Shah",  "Evans",   "Jones",
                             "Patel",  "Murphy", "Hughes", "Walsh", "Khan",    "Davies",
                             "Kelly",  "Price",  "Nolan",  "Chen",  "Bennett", "Lloyd"};

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  // Uniform in [lo, hi].
  int64_t Int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(engine_);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(engine_) < p; }
  double Fraction(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(engine_);
  }
  template <typename T, size_t N>
  const T& Pick(const T (&from)[N]) {
    return from[Int(0, N - 1)];
  }
  // A duration in [lo, hi], to the minute.
  absl::Duration Between(absl::Duration lo, absl::Duration hi) {
    return absl::Minutes(Int(absl::ToInt64Minutes(lo), absl::ToInt64Minutes(hi)));
  }

 private:
  std::mt19937_64 engine_;
};

int Weekday(int32_t day) { return static_cast<int>((day + 3) % 7) + 1; }  // 1970-01-01: Thu.

void PlanOrganisations(ScalePlan& plan, int count, Random& rnd) {
  constexpr v1::OrganisationKind kKinds[] = {v1::ORGANISATION_KIND_NHS_TRUST,
                                             v1::ORGANISATION_KIND_NHS_TRUST,
                                             v1::ORGANISATION_KIND_GP_PRACTICE,
                                             v1::ORGANISATION_KIND_GP_PRACTICE,
                                             v1::ORGANISATION_KIND_DENTAL_PRACTICE,
                                             v1::ORGANISATION_KIND_PHARMACY,
                                             v1::ORGANISATION_KIND_INDEPENDENT_PROVIDER,
                                             v1::ORGANISATION_KIND_HEALTH_BOARD};
  for (int i = 0; i < count; ++i) {
    OrganisationPlan o;
    o.kind = rnd.Pick(kKinds);
    const double nation = rnd.Fraction(0, 1);
    o.nation = nation < 0.85   ? v1::NATION_ENGLAND
               : nation < 0.95 ? v1::NATION_WALES
                               : v1::NATION_NORTHERN_IRELAND;
    const bool primary = o.kind == v1::ORGANISATION_KIND_GP_PRACTICE ||
                         o.kind == v1::ORGANISATION_KIND_DENTAL_PRACTICE ||
                         o.kind == v1::ORGANISATION_KIND_PHARMACY;
    o.care_setting = primary ? v1::CARE_SETTING_PRIMARY : v1::CARE_SETTING_SECONDARY;
    o.sector = o.kind == v1::ORGANISATION_KIND_INDEPENDENT_PROVIDER ? v1::SECTOR_INDEPENDENT
                                                                    : v1::SECTOR_PUBLIC;
    const char* suffix = "";
    switch (o.kind) {
      case v1::ORGANISATION_KIND_NHS_TRUST:
        suffix = "Hospitals NHS Trust";
        break;
      case v1::ORGANISATION_KIND_GP_PRACTICE:
        suffix = "Medical Practice";
        break;
      case v1::ORGANISATION_KIND_DENTAL_PRACTICE:
        suffix = "Dental Care";
        break;
      case v1::ORGANISATION_KIND_PHARMACY:
        suffix = "Pharmacy";
        break;
      case v1::ORGANISATION_KIND_HEALTH_BOARD:
        suffix = "Health Board";
        break;
      default:
        suffix = "Clinic Ltd";
        break;
    }
    o.name = absl::StrCat(rnd.Pick(kPlaces), " ", suffix, " ", i + 1);
    o.ods_code = absl::StrFormat("S%05d", i + 1);
    plan.organisations.push_back(std::move(o));
  }
}

void PlanMediators(ScalePlan& plan, int count, Random& rnd) {
  const int32_t today = rules::LondonDay(plan.now);
  const int32_t first_day = rules::LondonDay(plan.start);
  constexpr v1::Profession kProfessions[] = {v1::PROFESSION_DOCTOR, v1::PROFESSION_DENTIST,
                                             v1::PROFESSION_PHARMACIST};
  for (int i = 0; i < count; ++i) {
    MediatorPlan m;
    const char* first = rnd.Pick(kFirst);
    const char* last = rnd.Pick(kLast);
    m.name = absl::StrCat(first, " ", last);
    m.email =
        absl::AsciiStrToLower(absl::StrCat(first, ".", last, ".", i + 1, "@mediators.example"));
    m.active = !rnd.Chance(0.04);
    m.nations.push_back(v1::NATION_ENGLAND);
    if (rnd.Chance(0.2)) m.nations.push_back(v1::NATION_WALES);
    if (rnd.Chance(0.12)) m.nations.push_back(v1::NATION_NORTHERN_IRELAND);
    for (v1::Profession p : kProfessions) {
      if (rnd.Chance(0.6)) m.professions.push_back(p);
    }
    if (m.professions.empty()) m.professions.push_back(v1::PROFESSION_DOCTOR);
    // A few lapse soon (the proposal excludes them); the rest are good for years.
    m.accreditation_expires = rnd.Chance(0.03) ? today + static_cast<int32_t>(rnd.Int(1, 40))
                                               : today + static_cast<int32_t>(rnd.Int(200, 1500));
    m.insurance_expires = today + static_cast<int32_t>(rnd.Int(60, 700));
    m.cpd_hours = rnd.Chance(0.02) ? 3 : static_cast<int>(rnd.Int(6, 30));
    m.max_cases = static_cast<int>(rnd.Int(8, 30));
    const double pattern = rnd.Fraction(0, 1);
    m.working_days = pattern < 0.75  ? 0b0111110   // Monday to Friday.
                     : pattern < 0.9 ? 0b0011110   // Monday to Thursday.
                                     : 0b0011100;  // Tuesday to Thursday.
    for (int64_t k = rnd.Int(0, 6); k > 0; --k) {
      const int32_t from = static_cast<int32_t>(rnd.Int(first_day, today + 90));
      m.leave.emplace_back(from, from + static_cast<int32_t>(rnd.Int(4, 13)));
    }
    if (rnd.Chance(0.1)) {
      const int32_t from = today + static_cast<int32_t>(rnd.Int(1, 50));
      m.leave.emplace_back(from, from + static_cast<int32_t>(rnd.Int(4, 13)));
    }
    if (rnd.Chance(0.03) && !plan.organisations.empty()) {
      m.conflict_organisation =
          static_cast<int>(rnd.Int(0, static_cast<int64_t>(plan.organisations.size()) - 1));
    }
    plan.mediators.push_back(std::move(m));
  }
}

// The times a case's main path would reach each stage, and how it leaves it.
struct Path {
  absl::Time screen, decide, offer, accept[2], book;
  int withdraw_stage = -1;  // 0 REFERRED .. 5 IN_MEDIATION; -1: never withdrawn.
  bool booker = false;
};

constexpr int kWithdrawAfterBooking = 4;

// Whether the mediator could be offered a case of organisation `org_index`.
bool MayTake(const MediatorPlan& m, const OrganisationPlan& org, int org_index) {
  return m.active && m.conflict_organisation != org_index &&
         std::find(m.nations.begin(), m.nations.end(), org.nation) != m.nations.end();
}

bool OnLeave(const MediatorPlan& m, int32_t day) {
  return std::any_of(m.leave.begin(), m.leave.end(),
                     [&](const auto& l) { return day >= l.first && day <= l.second; });
}

class Calendar {
 public:
  explicit Calendar(int32_t first_day) : first_day_(first_day) {}
  bool Free(int mediator, int32_t day, int slot) const {
    return taken_.count(Key(mediator, day, slot)) == 0;
  }
  void Take(int mediator, int32_t day, int slot) { taken_.insert(Key(mediator, day, slot)); }

 private:
  uint64_t Key(int mediator, int32_t day, int slot) const {
    return (static_cast<uint64_t>(mediator) << 24) |
           (static_cast<uint64_t>(day - first_day_ + 64) * 2 + static_cast<uint64_t>(slot));
  }
  int32_t first_day_;
  std::unordered_set<uint64_t> taken_;
};

// Books `count` sessions for the case from `first_day` on: individual meetings with each party,
// then a joint meeting, over and over, each on a day both mediators work and are not on leave,
// in a slot neither holds.
void PlanSessions(CasePlan& c, int64_t count, int32_t first_day, const ScalePlan& plan,
                  Calendar& calendar, Random& rnd) {
  const MediatorPlan& lead = plan.mediators[c.mediators[0]];
  const MediatorPlan& co = plan.mediators[c.mediators[1]];
  int32_t day = first_day;
  for (int64_t k = 0; k < count; ++k) {
    SessionPlan s;
    s.kind = k % 3 == 2 ? v1::SESSION_KIND_JOINT_MEETING : v1::SESSION_KIND_INDIVIDUAL_MEETING;
    s.party = k % 3 == 2 ? -1 : static_cast<int>(k % 3);
    for (;; ++day) {
      const int w = Weekday(day);
      if (w > 5 || !(lead.working_days & (1u << w)) || !(co.working_days & (1u << w))) continue;
      if (OnLeave(lead, day) || OnLeave(co, day)) continue;
      int slot = -1;
      for (int candidate : {0, 1}) {
        if (calendar.Free(c.mediators[0], day, candidate) &&
            calendar.Free(c.mediators[1], day, candidate)) {
          slot = candidate;
          break;
        }
      }
      if (slot < 0) continue;
      calendar.Take(c.mediators[0], day, slot);
      calendar.Take(c.mediators[1], day, slot);
      s.start = rules::LondonToUtc(day, kSlotMinutes[slot]);
      s.end = s.start + (s.kind == v1::SESSION_KIND_JOINT_MEETING ? 180 : 90) * 60;
      break;
    }
    c.sessions.push_back(s);
    day += static_cast<int32_t>(rnd.Int(1, 4));
  }
}

void Add(ScalePlan& plan, absl::Time at, int index, StepKind kind, int arg = 0) {
  if (at > plan.now) return;
  plan.steps.push_back({.at = absl::ToUnixMicros(at),
                        .case_index = index,
                        .kind = kind,
                        .arg = static_cast<int16_t>(arg)});
}

// The lifecycle a case's steps take it through; its state at the end.
v1::CaseState FinalState(const std::vector<StepPlan>& steps, const CasePlan& c) {
  v1::CaseState state = v1::CASE_STATE_UNSPECIFIED;
  int accepted = 0;
  for (const StepPlan& s : steps) {
    switch (s.kind) {
      case StepKind::kRefer:
        state = v1::CASE_STATE_REFERRED;
        break;
      case StepKind::kScreen:
        state = v1::CASE_STATE_SCREENING;
        break;
      case StepKind::kDecide:
        state = c.not_suitable ? v1::CASE_STATE_NOT_SUITABLE : v1::CASE_STATE_SUITABLE;
        break;
      case StepKind::kAccept:
        if (++accepted == 2) state = v1::CASE_STATE_MEDIATORS_ALLOCATED;
        break;
      case StepKind::kBook:
        state = std::max(state, v1::CASE_STATE_SESSIONS_SCHEDULED);
        break;
      case StepKind::kStart:
        state = v1::CASE_STATE_IN_MEDIATION;
        break;
      case StepKind::kOutcome:
        state = v1::CASE_STATE_OUTCOME_RECORDED;
        break;
      case StepKind::kFollowUp:
        state = v1::CASE_STATE_FOLLOW_UP;
        break;
      case StepKind::kClose:
        state = v1::CASE_STATE_CLOSED;
        break;
      case StepKind::kWithdraw:
        state = v1::CASE_STATE_WITHDRAWN;
        break;
      case StepKind::kHold:
        state = v1::CASE_STATE_ON_HOLD;
        break;
      case StepKind::kOffer:
        break;
    }
  }
  return state;
}

bool Terminal(v1::CaseState s) {
  return s == v1::CASE_STATE_CLOSED || s == v1::CASE_STATE_NOT_SUITABLE ||
         s == v1::CASE_STATE_WITHDRAWN;
}

}  // namespace

absl::StatusOr<ScalePlan> PlanNationalVolume(const ScaleVolume& volume, absl::Time now,
                                             uint64_t seed) {
  if (absl::Status s = rules::CheckLondonTimeZone(); !s.ok()) return s;
  if (volume.organisations < 1 || volume.mediators < 2 || volume.cases < 1 || volume.sessions < 0 ||
      volume.audit_rows < 0) {
    return absl::InvalidArgumentError("need at least one organisation, two mediators and one case");
  }
  Random rnd(seed);
  ScalePlan plan;
  plan.now = now;
  plan.start = now - absl::Hours(24 * 3652);
  PlanOrganisations(plan, volume.organisations, rnd);
  PlanMediators(plan, volume.mediators, rnd);

  // The main path of every case, referred evenly over the decade (the last a day ago).
  const absl::Duration span = (now - absl::Hours(24)) - plan.start;
  std::vector<Path> paths(volume.cases);
  int64_t bookers = 0;
  for (int i = 0; i < volume.cases; ++i) {
    CasePlan c;
    c.created = plan.start + span * (static_cast<double>(i) / volume.cases) +
                rnd.Between(absl::ZeroDuration(), absl::Hours(8));
    c.organisation = static_cast<int>(rnd.Int(0, volume.organisations - 1));
    const double level = rnd.Fraction(0, 1);
    c.concern_level = level < 0.3    ? v1::CONCERN_LEVEL_LOW
                      : level < 0.85 ? v1::CONCERN_LEVEL_MID
                                     : v1::CONCERN_LEVEL_HIGH;
    const double type = rnd.Fraction(0, 1);
    c.concern_type = type < 0.6    ? v1::CONCERN_TYPE_ACTIVE
                     : type < 0.85 ? v1::CONCERN_TYPE_PASSIVE
                                   : v1::CONCERN_TYPE_BYSTANDER;
    constexpr v1::Profession kFirstParty[] = {v1::PROFESSION_DOCTOR, v1::PROFESSION_DOCTOR,
                                              v1::PROFESSION_DENTIST, v1::PROFESSION_PHARMACIST};
    constexpr v1::Profession kSecondParty[] = {
        v1::PROFESSION_DOCTOR, v1::PROFESSION_DENTIST, v1::PROFESSION_PHARMACIST,
        v1::PROFESSION_OTHER_HEALTHCARE_STAFF, v1::PROFESSION_MANAGER};
    c.professions[0] = rnd.Pick(kFirstParty);
    c.professions[1] = rnd.Pick(kSecondParty);
    c.not_suitable = rnd.Chance(0.12);
    const double outcome = rnd.Fraction(0, 1);
    c.outcome = outcome < 0.55   ? v1::OUTCOME_FULL_AGREEMENT
                : outcome < 0.65 ? v1::OUTCOME_PARTIAL_AGREEMENT
                : outcome < 0.9  ? v1::OUTCOME_NO_AGREEMENT
                                 : v1::OUTCOME_ENDED_BY_MEDIATOR;
    Path& p = paths[i];
    p.screen = c.created + rnd.Between(absl::Hours(1), absl::Hours(72));
    p.decide = p.screen + rnd.Between(absl::Hours(48), absl::Hours(192));
    p.offer = p.decide + rnd.Between(absl::Hours(4), absl::Hours(96));
    p.accept[0] = p.offer + rnd.Between(absl::Hours(1), absl::Hours(48));
    p.accept[1] = p.offer + rnd.Between(absl::Hours(1), absl::Hours(72));
    p.book = std::max(p.accept[0], p.accept[1]) + rnd.Between(absl::Hours(24), absl::Hours(120));
    if (rnd.Chance(0.08)) p.withdraw_stage = static_cast<int>(rnd.Int(0, 5));
    p.booker = !c.not_suitable && p.book <= now &&
               (p.withdraw_stage < 0 || p.withdraw_stage >= kWithdrawAfterBooking);
    bookers += p.booker ? 1 : 0;
    plan.cases.push_back(std::move(c));
  }
  if (volume.sessions > 0 && bookers == 0) {
    return absl::InvalidArgumentError("no case reaches booking; plan more cases");
  }

  // Mediators in turn among those who may take the case; sessions on their calendars.
  Calendar calendar(rules::LondonDay(plan.start));
  size_t next_mediator = 0;
  int64_t booker_index = 0;
  for (int i = 0; i < volume.cases; ++i) {
    CasePlan& c = plan.cases[i];
    const Path& p = paths[i];
    const absl::Time refused_at = p.decide;
    Add(plan, c.created, i, StepKind::kRefer);
    auto withdraw = [&](absl::Time at) { Add(plan, at, i, StepKind::kWithdraw); };
    const absl::Duration pause = rnd.Between(absl::Hours(24), absl::Hours(480));
    if (p.withdraw_stage == 0) {
      withdraw(std::min(c.created + pause, p.screen));
      continue;
    }
    Add(plan, p.screen, i, StepKind::kScreen);
    if (p.withdraw_stage == 1) {
      withdraw(std::min(p.screen + pause, refused_at));
      continue;
    }
    Add(plan, p.decide, i, StepKind::kDecide);
    if (c.not_suitable) continue;
    if (p.withdraw_stage == 2) {
      withdraw(std::min(p.decide + pause, p.offer));
      continue;
    }
    if (p.offer > now) continue;
    const OrganisationPlan& org = plan.organisations[c.organisation];
    for (int role = 0; role < 2; ++role) {
      for (size_t tries = 0; tries < plan.mediators.size() * 2; ++tries) {
        const int m = static_cast<int>(next_mediator++ % plan.mediators.size());
        if (m != c.mediators[0] && MayTake(plan.mediators[m], org, c.organisation)) {
          c.mediators[role] = m;
          break;
        }
      }
      if (c.mediators[role] < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("no mediator may take case ", i, " (too few mediators for its nation)"));
      }
    }
    Add(plan, p.offer, i, StepKind::kOffer, 0);
    Add(plan, p.offer + absl::Seconds(1), i, StepKind::kOffer, 1);
    Add(plan, p.accept[0], i, StepKind::kAccept, 0);
    Add(plan, p.accept[1], i, StepKind::kAccept, 1);
    if (p.withdraw_stage == 3) {
      withdraw(std::max(p.accept[0], p.accept[1]) + pause);
      continue;
    }
    if (!p.booker) continue;
    const int64_t quota = volume.sessions / bookers + (booker_index < volume.sessions % bookers);
    ++booker_index;
    PlanSessions(c, quota, rules::LondonDay(p.book) + static_cast<int32_t>(rnd.Int(5, 10)), plan,
                 calendar, rnd);
    plan.sessions += quota;
    for (int64_t k = 0; k < quota; ++k) {
      Add(plan, p.book + absl::Seconds(k), i, StepKind::kBook, static_cast<int>(k));
    }
    if (c.sessions.empty()) continue;
    const absl::Time first = absl::FromUnixSeconds(c.sessions.front().start);
    const absl::Time last = absl::FromUnixSeconds(c.sessions.back().end);
    if (p.withdraw_stage == 4) {
      withdraw(p.book + (first - p.book) * rnd.Fraction(0.2, 0.8));
      continue;
    }
    Add(plan, first, i, StepKind::kStart);
    if (p.withdraw_stage == 5) {
      withdraw(first + (last - first) * rnd.Fraction(0.2, 0.8));
      continue;
    }
    const absl::Time outcome = last + rnd.Between(absl::Hours(24), absl::Hours(120));
    Add(plan, outcome, i, StepKind::kOutcome);
    const absl::Time follow_up = outcome + rnd.Between(absl::Hours(24), absl::Hours(168));
    c.review_day = rules::LondonDay(outcome) + 90;
    Add(plan, follow_up, i, StepKind::kFollowUp);
    Add(plan, rules::LondonDayStart(c.review_day) + rnd.Between(absl::Hours(10), absl::Hours(240)),
        i, StepKind::kClose);
  }
  if (plan.sessions != volume.sessions) {
    return absl::InternalError(
        absl::StrCat("planned ", plan.sessions, " sessions, not ", volume.sessions));
  }

  // A few open cases are on hold now; then every case's final state.
  std::vector<std::vector<StepPlan>> by_case(volume.cases);
  for (const StepPlan& s : plan.steps) by_case[s.case_index].push_back(s);
  for (int i = 0; i < volume.cases; ++i) {
    CasePlan& c = plan.cases[i];
    c.final_state = FinalState(by_case[i], c);
    if (!Terminal(c.final_state) && rnd.Chance(0.04)) {
      const absl::Time at = now - rnd.Between(absl::Hours(24), absl::Hours(720));
      if (absl::ToUnixMicros(at) > by_case[i].back().at) {
        Add(plan, at, i, StepKind::kHold);
        c.final_state = v1::CASE_STATE_ON_HOLD;
      }
    }
    ++plan.cases_by_state[c.final_state];
  }
  std::stable_sort(plan.steps.begin(), plan.steps.end(), [](const StepPlan& a, const StepPlan& b) {
    if (a.at != b.at) return a.at < b.at;
    return a.case_index < b.case_index;
  });
  return plan;
}

}  // namespace mediation::testing
