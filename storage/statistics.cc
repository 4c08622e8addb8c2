#include "storage/statistics.h"

#include <map>

#include "absl/strings/str_split.h"
#include "storage/sql_util.h"

namespace mediation::storage {
namespace {

// Runs `sql` (which selects a key and a count, with ?1 and ?2 the period's bounds).
Counts Grouped(Tx& tx, const std::string& sql, int64_t from, int64_t to) {
  Statement st(tx, sql);
  st.bind(1, from);
  st.bind(2, to);
  Counts out;
  while (st.executeStep()) {
    out.emplace_back(st.getColumn(0).getString(), st.getColumn(1).getInt64());
  }
  return out;
}

Counts ByOrganisation(Tx& tx, const std::string& column, int64_t from, int64_t to) {
  return Grouped(tx,
                 "SELECT o." + column +
                     ", COUNT(*) FROM cases c JOIN organisations o ON o.id = c.organisation_id "
                     "WHERE c.created_at >= ?1 AND c.created_at < ?2 GROUP BY o." +
                     column + " ORDER BY o." + column,
                 from, to);
}

}  // namespace

absl::StatusOr<CaseStatistics> ComputeCaseStatistics(Tx& tx, absl::Time from_time,
                                                     absl::Time to_time) {
  return Guard("compute statistics", [&]() -> absl::StatusOr<CaseStatistics> {
    const int64_t from = ToMicros(from_time);
    const int64_t to = ToMicros(to_time);
    CaseStatistics s;
    {
      Statement st(tx, "SELECT COUNT(*) FROM cases WHERE created_at >= ?1 AND created_at < ?2");
      st.bind(1, from);
      st.bind(2, to);
      st.executeStep();
      s.referrals = st.getColumn(0).getInt64();
    }
    s.by_nation = ByOrganisation(tx, "nation", from, to);
    s.by_organisation_kind = ByOrganisation(tx, "kind", from, to);
    s.by_care_setting = ByOrganisation(tx, "care_setting", from, to);
    s.by_sector = ByOrganisation(tx, "sector", from, to);
    s.parties_by_profession =
        Grouped(tx,
                "SELECT p.profession, COUNT(*) FROM parties p JOIN cases c ON c.id = p.case_id "
                "WHERE c.created_at >= ?1 AND c.created_at < ?2 GROUP BY p.profession ORDER BY 1",
                from, to);
    {
      Statement st(
          tx,
          "SELECT d.decision, d.failed_criteria FROM screening_decisions d "
          "JOIN cases c ON c.id = d.case_id WHERE c.created_at >= ?1 AND c.created_at < ?2 "
          "AND d.id = (SELECT MAX(id) FROM screening_decisions WHERE case_id = d.case_id)");
      st.bind(1, from);
      st.bind(2, to);
      std::map<std::string, int64_t> failed;
      while (st.executeStep()) {
        ++s.screened;
        const std::string decision = st.getColumn(0).getString();
        if (decision == "SUITABILITY_SUITABLE") ++s.suitable;
        if (decision != "SUITABILITY_NOT_SUITABLE") continue;
        const std::string criteria = st.getColumn(1).getString();
        for (absl::string_view c : absl::StrSplit(criteria, ' ', absl::SkipEmpty())) {
          ++failed[std::string(c)];
        }
      }
      s.failed_criteria.assign(failed.begin(), failed.end());
    }
    {
      Statement st(tx,
                   "SELECT c.created_at, MIN(h.at) FROM cases c JOIN case_state_history h "
                   "ON h.case_id = c.id AND h.to_state = 'CASE_STATE_MEDIATORS_ALLOCATED' "
                   "WHERE c.created_at >= ?1 AND c.created_at < ?2 GROUP BY c.id");
      st.bind(1, from);
      st.bind(2, to);
      while (st.executeStep()) {
        s.to_allocation.push_back(FromMicros(st.getColumn(1).getInt64()) -
                                  FromMicros(st.getColumn(0).getInt64()));
      }
    }
    {
      Statement st(tx,
                   "SELECT c.created_at, MIN(s.start_at) FROM cases c JOIN sessions s "
                   "ON s.case_id = c.id AND s.state <> 'SESSION_STATE_CANCELLED' "
                   "WHERE c.created_at >= ?1 AND c.created_at < ?2 GROUP BY c.id");
      st.bind(1, from);
      st.bind(2, to);
      while (st.executeStep()) {
        s.to_first_session.push_back(absl::FromUnixSeconds(st.getColumn(1).getInt64()) -
                                     FromMicros(st.getColumn(0).getInt64()));
      }
    }
    s.outcomes = Grouped(tx,
                         "SELECT outcome, COUNT(*) FROM cases WHERE created_at >= ?1 AND "
                         "created_at < ?2 AND outcome <> 'OUTCOME_UNSPECIFIED' GROUP BY outcome "
                         "ORDER BY outcome",
                         from, to);
    s.by_state = Grouped(tx,
                         "SELECT state, COUNT(*) FROM cases WHERE created_at >= ?1 AND "
                         "created_at < ?2 GROUP BY state ORDER BY state",
                         from, to);
    return s;
  });
}

}  // namespace mediation::storage
