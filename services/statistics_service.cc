#include "services/statistics_service.h"

#include <algorithm>
#include <vector>

#include "services/convert.h"
#include "services/core/validation.h"
#include "services/rules/london.h"
#include "storage/statistics.h"

namespace mediation {
namespace {

void AddCounts(const storage::Counts& counts, google::protobuf::RepeatedPtrField<v1::Count>* out) {
  for (const auto& [key, count] : counts) {
    if (count == 0) continue;
    v1::Count* c = out->Add();
    c->set_key(key);
    c->set_count(count);
  }
}

// The median in days (the mean of the middle two for an even count); 0 for none.
double MedianDays(std::vector<absl::Duration> durations) {
  if (durations.empty()) return 0;
  std::sort(durations.begin(), durations.end());
  const size_t n = durations.size();
  const absl::Duration middle =
      n % 2 == 1 ? durations[n / 2] : (durations[n / 2 - 1] + durations[n / 2]) / 2;
  return absl::FDivDuration(middle, absl::Hours(24));
}

}  // namespace

absl::Status GetStatistics(CallContext& call, const v1::GetStatisticsRequest& r,
                           v1::GetStatisticsResponse& response) {
  Validator v;
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfiniteFuture();
  std::optional<int32_t> first, last;
  if (r.has_referred_from()) {
    first = DayFromProto(r.referred_from());
    if (!first) v.Fail("referred_from", "not a valid date");
  }
  if (r.has_referred_to()) {
    last = DayFromProto(r.referred_to());
    if (!last) v.Fail("referred_to", "not a valid date");
  }
  if (first && last && *last < *first) v.Fail("referred_to", "must not be before referred_from");
  if (!v.ok()) return v.status();
  if (first) from = rules::LondonDayStart(*first);
  if (last) to = rules::LondonDayStart(*last + 1);
  // Instants are stored in microseconds: keep the open ends within range.
  from = std::max(from, absl::FromUnixMicros(0));
  to = std::min(to, absl::FromUnixSeconds(int64_t{1} << 40));
  return call.Read([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<storage::CaseStatistics> s = storage::ComputeCaseStatistics(tx, from, to);
    if (!s.ok()) return s.status();
    ToProto(call.now(), response.mutable_generated_at());
    response.set_referrals(s->referrals);
    AddCounts(s->by_nation, response.mutable_referrals_by_nation());
    AddCounts(s->by_organisation_kind, response.mutable_referrals_by_organisation_kind());
    AddCounts(s->by_care_setting, response.mutable_referrals_by_care_setting());
    AddCounts(s->by_sector, response.mutable_referrals_by_sector());
    AddCounts(s->parties_by_profession, response.mutable_parties_by_profession());
    response.set_screened(s->screened);
    response.set_suitable(s->suitable);
    response.set_suitability_rate(
        s->screened == 0 ? 0 : static_cast<double>(s->suitable) / s->screened);
    AddCounts(s->failed_criteria, response.mutable_failed_criteria());
    response.set_allocated(static_cast<int64_t>(s->to_allocation.size()));
    response.set_median_days_to_allocation(MedianDays(s->to_allocation));
    response.set_with_sessions(static_cast<int64_t>(s->to_first_session.size()));
    response.set_median_days_to_first_session(MedianDays(s->to_first_session));
    AddCounts(s->outcomes, response.mutable_outcomes());
    AddCounts(s->by_state, response.mutable_by_state());
    return absl::OkStatus();
  });
}

MEDIATION_UNARY_RPC(StatisticsService, GetStatistics)

MEDIATION_SERVICE(StatisticsService)

}  // namespace mediation
