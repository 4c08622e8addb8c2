// Measures an allocation proposal against a large roster: by default 10,000 mediators and
// 100,000 past allocations (MEDIATION_BENCH_MEDIATORS and MEDIATION_BENCH_ALLOCATIONS change
// them). Run on demand:
//   build/tests/allocation_bench
// It builds the database once in a temporary directory, then times:
//   BM_ProposalInStore  - the proposal as the handler builds it (storage reads and the rules);
//   BM_ProposalOverGrpc - the whole RPC through the in-process server, top 50 candidates;
//   BM_ProposalEveryCandidate - the whole RPC returning every eligible mediator.
#include <SQLiteCpp/SQLiteCpp.h>
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ppa/mediation/v1/admin.grpc.pb.h"
#include "ppa/mediation/v1/allocation.grpc.pb.h"
#include "services/allocation_service.h"
#include "services/rules/allocation.h"
#include "services/server/server.h"
#include "storage/mediators.h"
#include "storage/sqlite_store.h"
#include "tests/support/temp_dir.h"

namespace mediation {
namespace {

namespace v1 = ::ppa::mediation::v1;

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::atoi(value) : fallback;
}

struct Fixture {
  testing::TempDir dir;
  std::string db_path = dir.File("bench.db");
  std::unique_ptr<storage::SqliteStore> store;
  std::unique_ptr<MediationServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::string token;
  int64_t case_id = 0;
};

// Fills the database with raw SQL in one transaction: faster than the API, same schema.
void Populate(SQLite::Database& db, int mediators, int allocations, int64_t* case_id) {
  std::mt19937 rng(42);
  SQLite::Transaction tx(db);
  const int64_t now = absl::ToUnixMicros(absl::Now());
  const int kOrganisations = 500;
  for (int o = 1; o <= kOrganisations; ++o) {
    db.exec(absl::StrCat(
        "INSERT INTO organisations (name, kind, nation, care_setting, sector, ods_code, "
        "contact_name, contact_email, contact_phone, contact_job_title, created_at) VALUES ('Org ",
        o, "', 'ORGANISATION_KIND_NHS_TRUST', '", o % 5 == 0 ? "NATION_WALES" : "NATION_ENGLAND",
        "', 'CARE_SETTING_SECONDARY', 'SECTOR_PUBLIC', NULL, 'C', 'c@example.org', '', '', ", now,
        ")"));
  }
  // Cases: the allocations need them; the proposal is made for the last one.
  const int cases = std::max(allocations / 5, 1) + 1;
  SQLite::Statement c(db,
                      "INSERT INTO cases (organisation_id, state, referrer_name, referrer_email, "
                      "referrer_phone, referrer_job_title, summary, concern_level, concern_type, "
                      "created_at, updated_at, reference) VALUES (?, ?, 'R', 'r@example.org', '', "
                      "'', 'summary', 'CONCERN_LEVEL_MID', 'CONCERN_TYPE_ACTIVE', ?, ?, ?)");
  SQLite::Statement p(db,
                      "INSERT INTO parties (case_id, position, name, email, phone, job_title, "
                      "profession, accessibility_needs, bringing_companion) VALUES (?, ?, ?, ?, "
                      "'', '', ?, '', 0)");
  for (int i = 1; i <= cases; ++i) {
    c.reset();
    // The proposal's case belongs to organisation 1, in England.
    c.bind(1, static_cast<int64_t>(i == cases ? 1 : 1 + rng() % kOrganisations));
    c.bind(2, i == cases ? "CASE_STATE_SUITABLE" : "CASE_STATE_CLOSED");
    c.bind(3, now);
    c.bind(4, now);
    c.bind(5, absl::StrCat("AM-2026-", i));
    c.exec();
    for (int k = 1; k <= 2; ++k) {
      p.reset();
      p.bind(1, static_cast<int64_t>(i));
      p.bind(2, k);
      p.bind(3, absl::StrCat("Party ", i, "-", k));
      p.bind(4, absl::StrCat("party", i, "-", k, "@example.org"));
      p.bind(5, k == 1 ? "PROFESSION_DOCTOR" : "PROFESSION_PHARMACIST");
      p.exec();
    }
  }
  *case_id = cases;

  const int today = static_cast<int>(absl::ToUnixSeconds(absl::Now()) / 86400);
  SQLite::Statement m(db,
                      "INSERT INTO mediators (name, normalised_name, email, phone, job_title, "
                      "accreditation_body, accreditation_level, registration_number, "
                      "accreditation_expires, insurance_expires, cpd_hours, nations, languages, "
                      "max_concurrent_cases, active, professions, working_days, "
                      "last_allocated_at, created_at, updated_at) VALUES (?, ?, ?, '', '', "
                      "'ACCREDITATION_BODY_CIVIL_MEDIATION_COUNCIL', 'Registered', ?, ?, ?, ?, "
                      "?, 'English', 8, ?, ?, 31, ?, ?, ?)");
  SQLite::Statement leave(db,
                          "INSERT INTO mediator_leave (mediator_id, first_day, last_day, note) "
                          "VALUES (?, ?, ?, '')");
  SQLite::Statement conflict(db,
                             "INSERT INTO mediator_conflicts (mediator_id, kind, organisation_id, "
                             "person_name, normalised_name, person_email, case_id, source, note, "
                             "recorded_at) VALUES (?, ?, ?, ?, ?, ?, NULL, "
                             "'CONFLICT_SOURCE_DECLARED', '', ?)");
  for (int i = 1; i <= mediators; ++i) {
    m.reset();
    const std::string name = absl::StrCat("Mediator ", i);
    m.bind(1, name);
    m.bind(2, rules::NormaliseName(name));
    m.bind(3, absl::StrCat("mediator", i, "@example.org"));
    m.bind(4, absl::StrCat("CMC-", i));
    // About one in twenty lapses during the window; one in fifty is short of CPD.
    m.bind(5, today + (i % 20 == 0 ? 30 : 1000));
    m.bind(6, today + 900);
    m.bind(7, i % 50 == 0 ? 3 : 12);
    m.bind(8, static_cast<int64_t>(i % 7 == 0 ? (1 << 2) : (1 << 1) | (1 << 3)));
    m.bind(9, i % 40 == 0 ? 0 : 1);
    m.bind(10, static_cast<int64_t>(1 << (1 + i % 5)));
    m.bind(11, now - static_cast<int64_t>(rng() % 10'000'000'000LL));
    m.bind(12, now);
    m.bind(13, now);
    m.exec();
    leave.reset();
    leave.bind(1, i);
    leave.bind(2, today + static_cast<int>(rng() % 60));
    leave.bind(3, today + 60 + static_cast<int>(rng() % 30));
    leave.exec();
    for (int k = 0; k < 2; ++k) {
      conflict.reset();
      conflict.bind(1, i);
      if (k == 0) {
        conflict.bind(2, "CONFLICT_KIND_ORGANISATION");
        conflict.bind(3, static_cast<int64_t>(1 + rng() % kOrganisations));
        conflict.bind(4, "");
        conflict.bind(5, "");
        conflict.bind(6, "");
      } else {
        const int other = 1 + static_cast<int>(rng() % cases);
        conflict.bind(2, "CONFLICT_KIND_PERSON");
        conflict.bind(3);
        conflict.bind(4, absl::StrCat("Party ", other, "-1"));
        conflict.bind(5, rules::NormaliseName(absl::StrCat("Party ", other, "-1")));
        conflict.bind(6, absl::StrCat("party", other, "-1@example.org"));
      }
      conflict.bind(7, now);
      conflict.exec();
    }
  }
  SQLite::Statement a(db,
                      "INSERT INTO allocations (case_id, mediator_id, role, state, open, "
                      "offered_at) VALUES (?, ?, ?, ?, ?, ?)");
  for (int i = 0; i < allocations; ++i) {
    a.reset();
    const bool open = i % 25 == 0;  // 4% still open: about 0.4 cases per mediator.
    // An open allocation holds its case's role alone (a unique index says so).
    a.bind(1, static_cast<int64_t>(open ? 1 + (i / 25) % (cases - 1) : 1 + rng() % (cases - 1)));
    a.bind(2, static_cast<int64_t>(1 + rng() % mediators));
    a.bind(3, open || i % 2 == 0 ? "ALLOCATION_ROLE_LEAD" : "ALLOCATION_ROLE_CO_MEDIATOR");
    a.bind(4, open ? "ALLOCATION_STATE_ACCEPTED" : "ALLOCATION_STATE_DECLINED");
    a.bind(5, open ? 1 : 0);
    a.bind(6, now - static_cast<int64_t>(rng() % 10'000'000'000LL));
    a.exec();
  }
  tx.commit();
  db.exec("ANALYZE");
}

Fixture& Shared() {
  static Fixture* fixture = [] {
    auto* f = new Fixture();
    const int mediators = EnvInt("MEDIATION_BENCH_MEDIATORS", 10000);
    const int allocations = EnvInt("MEDIATION_BENCH_ALLOCATIONS", 100000);
    f->store = *storage::SqliteStore::Open({.path = f->db_path});
    if (!f->store->Migrate().ok()) std::abort();
    {
      SQLite::Database db(f->db_path, SQLite::OPEN_READWRITE);
      Populate(db, mediators, allocations, &f->case_id);
    }
    // A fresh connection, so its query planner sees ANALYZE's statistics like the server's do.
    f->store = *storage::SqliteStore::Open({.path = f->db_path});
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.db_path = f->db_path;
    options.workers = 2;
    options.log_stream = std::fopen("/dev/null", "w");
    f->server = *MediationServer::Start(options);
    std::ifstream admin(f->dir.File("admin.token"));
    std::string admin_secret;
    std::getline(admin, admin_secret);
    f->channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", f->server->port()),
                                     grpc::InsecureChannelCredentials());
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + admin_secret);
    v1::IssueTokenRequest issue;
    issue.set_role(v1::ROLE_CASE_SUPPORT);
    issue.set_label("bench");
    v1::IssueTokenResponse issued;
    if (!v1::AdminService::NewStub(f->channel)->IssueToken(&ctx, issue, &issued).ok()) std::abort();
    f->token = issued.secret();
    if (std::getenv("MEDIATION_BENCH_KEEP")) std::fprintf(stderr, "db %s\n", f->db_path.c_str());
    std::fprintf(stderr, "roster: %d mediators, %d past allocations, case %ld\n", mediators,
                 allocations, static_cast<long>(f->case_id));
    return f;
  }();
  return *fixture;
}

void BM_ProposalInStore(benchmark::State& state) {
  Fixture& f = Shared();
  v1::ProposeAllocationRequest request;
  request.set_case_id(f.case_id);
  const Principal who{.token_id = 1, .role = v1::ROLE_CASE_SUPPORT};
  int excluded = 0, eligible = 0;
  for (auto _ : state) {
    v1::AllocationProposal proposal;
    absl::Status s = f.store->Read(
        [&](storage::Tx& tx) { return BuildProposal(tx, who, absl::Now(), request, &proposal); });
    if (!s.ok()) state.SkipWithError(std::string(s.message()).c_str());
    excluded = proposal.excluded_size();
    eligible = proposal.eligible_count();
  }
  state.counters["eligible"] = eligible;
  state.counters["excluded"] = excluded;
}

// The storage reads the proposal makes, one at a time, to see where the time goes.
void BM_ReadRoster(benchmark::State& state) {
  Fixture& f = Shared();
  for (auto _ : state) {
    (void)f.store->Read([&](storage::Tx& tx) {
      int n = 0;
      absl::Status s = storage::VisitMediatorSummaries(
          tx, 0, [&](storage::MediatorSummary&& m) { n += m.active ? 1 : 0; });
      benchmark::DoNotOptimize(n);
      return s;
    });
  }
}

void BM_ReadCaseloadsLeaveAndConflicts(benchmark::State& state) {
  Fixture& f = Shared();
  const int today = static_cast<int>(absl::ToUnixSeconds(absl::Now()) / 86400);
  for (auto _ : state) {
    (void)f.store->Read([&](storage::Tx& tx) {
      benchmark::DoNotOptimize(storage::OpenAllocationCounts(tx));
      benchmark::DoNotOptimize(storage::LeaveOverlapping(tx, today, today + 90));
      benchmark::DoNotOptimize(
          storage::ConflictsTouching(tx, 1, f.case_id, {"a@example.org"}, {"party 1 1"}));
      return absl::OkStatus();
    });
  }
}

BENCHMARK(BM_ReadRoster)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadCaseloadsLeaveAndConflicts)->Unit(benchmark::kMillisecond);

void ProposeOverGrpc(benchmark::State& state, int max_candidates) {
  Fixture& f = Shared();
  auto stub = v1::AllocationService::NewStub(f.channel);
  v1::ProposeAllocationRequest request;
  request.set_case_id(f.case_id);
  request.set_max_candidates(max_candidates);
  size_t bytes = 0;
  for (auto _ : state) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + f.token);
    v1::ProposeAllocationResponse response;
    grpc::Status s = stub->ProposeAllocation(&ctx, request, &response);
    if (!s.ok()) state.SkipWithError(s.error_message().c_str());
    bytes = response.ByteSizeLong();
  }
  state.counters["response_bytes"] = static_cast<double>(bytes);
}

void BM_ProposalOverGrpc(benchmark::State& state) { ProposeOverGrpc(state, 50); }
void BM_ProposalEveryCandidate(benchmark::State& state) { ProposeOverGrpc(state, 10000); }

BENCHMARK(BM_ProposalInStore)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ProposalOverGrpc)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ProposalEveryCandidate)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mediation

int main(int argc, char** argv) {
  mediation::TuneProcessForServing();  // As mediation-server's main does.
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
