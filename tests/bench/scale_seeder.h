// The writer behind WritePlan (tests/bench/scale_seed.h), in two files: scale_seed.cc
// (transactions, the registry, audit rows) and scale_steps.cc (the lifecycle steps of cases).
// Internal to scale_bench.
#ifndef MEDIATION_TESTS_BENCH_SCALE_SEEDER_H_
#define MEDIATION_TESTS_BENCH_SCALE_SEEDER_H_

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "services/case_transitions.h"
#include "storage/records.h"
#include "storage/store.h"
#include "tests/bench/scale_seed.h"

namespace mediation::testing::scale {

// Whether a case with this outcome has a signed agreement.
inline bool HasAgreement(v1::Outcome o) {
  return o == v1::OUTCOME_FULL_AGREEMENT || o == v1::OUTCOME_PARTIAL_AGREEMENT;
}

// Not CLOSED, NOT_SUITABLE or WITHDRAWN.
inline bool Open(v1::CaseState s) {
  return s != v1::CASE_STATE_CLOSED && s != v1::CASE_STATE_NOT_SUITABLE &&
         s != v1::CASE_STATE_WITHDRAWN;
}

// Not thread-safe; one run.
class Seeder {
 public:
  Seeder(storage::Store& store, const ScalePlan& plan, const ScaleVolume& volume,
         const SeedTokens& tokens, int batch)
      : store_(store),
        plan_(plan),
        tokens_(tokens),
        batch_(std::max(batch, 10)),
        audit_left_(volume.audit_rows),
        cases_(plan.cases.size()),
        random_(20261207) {}

  absl::StatusOr<SeedReport> Run() {
    absl::Time t0 = absl::Now();
    if (absl::Status s = WriteRegistry(); !s.ok()) return s;
    report_.registry_time = absl::Now() - t0;
    t0 = absl::Now();
    if (absl::Status s = WriteSteps(); !s.ok()) return s;
    report_.cases_time = absl::Now() - t0;
    for (const Case& c : cases_) report_.case_ids_by_state[c.record.state].push_back(c.record.id);
    return std::move(report_);
  }

 private:
  struct Case {
    storage::CaseRecord record;  // Without its texts.
    int64_t allocations[2] = {0, 0};
    int accepted = 0;
  };

  // Runs `fn` in one write transaction; the seed's own bookkeeping cannot be undone, so a
  // transaction the store would run again (a lost serialisation race) is a failure.
  absl::Status Transaction(const storage::TxFn& fn) {
    int runs = 0;
    ++report_.transactions;
    return store_.Write([&](storage::Tx& tx) -> absl::Status {
      if (++runs > 1) {
        return absl::AbortedError("a seeding transaction was run twice: is anything else writing?");
      }
      return fn(tx);
    });
  }

  // Appends one audit row for a call of `method` (a method of ppa.mediation.v1, or "server: ..."
  // for the server's own work) until the requested number is reached.
  absl::Status Audit(storage::Tx& tx, absl::Time at, v1::Role role, absl::string_view method,
                     std::string objects, const char* outcome = "OK");

  absl::Status WriteRegistry();
  absl::Status WriteMediator(storage::Tx& tx, const MediatorPlan& m, absl::Time at);
  absl::Status WriteSteps();
  absl::Status OtherCalls(storage::Tx& tx, int64_t rows, absl::Time at);
  absl::Status Step(storage::Tx& tx, const StepPlan& step);
  absl::Status Refer(storage::Tx& tx, int index, absl::Time at);
  absl::Status Screen(storage::Tx& tx, int index, absl::Time at);
  absl::Status Decide(storage::Tx& tx, int index, absl::Time at);
  absl::Status Book(storage::Tx& tx, int index, int k, absl::Time at);
  absl::Status Outcome(storage::Tx& tx, int index, absl::Time at);
  absl::Status Move(storage::Tx& tx, Case& c, storage::StateChangeRecord change) {
    return MoveCase(tx, c.record, change);
  }

  storage::Store& store_;
  const ScalePlan& plan_;
  const SeedTokens tokens_;
  const int batch_;
  int64_t audit_left_;
  int64_t audit_in_tx_ = 0;
  uint64_t call_counter_ = 0;
  size_t reported_tenths_ = 0;
  int64_t last_case_id_ = 0;
  std::vector<Case> cases_;
  std::mt19937_64 random_;
  SeedReport report_;
};

}  // namespace mediation::testing::scale

#endif  // MEDIATION_TESTS_BENCH_SCALE_SEEDER_H_
