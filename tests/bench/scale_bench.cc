// scale_bench: the API at ten years of national volume. Run on demand:
//   build/tests/scale_bench [--cases=20000] [--mediators=2000] [--sessions=200000]
//                           [--audit_rows=2000000] [--calls=200] [--concurrency=1]
// On SQLite (a file in a temporary directory) by default, on PostgreSQL when MEDIATION_TEST_PG
// names a cluster (tests/support/test_database.h).
//
// It starts the real server in-process on loopback (tests/support/test_server.h), then seeds its
// database on a connection of its own holding the server's master keys and audit key, through
// the project's typed storage operations in large write transactions (tests/bench/scale_seed.h:
// organisations, mediators, cases along the lifecycle, sessions, allocations, agreements and a
// valid audit chain; case events come from the schema's triggers). It checks what it seeded
// (counts of rows and of cases per state) and times the seed. On PostgreSQL it then ANALYZEs,
// as autovacuum would shortly after a bulk load. With --maintenance it runs the server's
// maintenance once, so that cases finished longer ago than the retention period are anonymised
// as they would be in a database ten years old (a decade of retention at once: minutes).
//
// Then, through generated stubs with real tokens, one call at a time unless --concurrency says
// otherwise, after a few unmeasured calls each: GetCase; ListCases filtered by state and
// organisation, first page and a later page (page tokens), and by state alone, first page and a
// deep page; FindSlots for allocated cases; ProposeAllocation over the whole roster;
// GetStatistics over all time and over the last twelve months. It prints calls, p50 and p99 and
// calls per second against the target (every interactive call under 50 ms at p99). The batch
// operations are timed whole: the case event stream from position 0 (time to the first event
// and to the end) and VerifyAuditChain.
//
// --reuse_db and --reuse_dir measure a database an earlier run seeded (kept by stopping that run
// with SIGKILL during its --pause_seconds) without seeding again; that server keeps personal
// data for a century, so that starting it does not run the decade's retention.
//
// Exit status 1 when any call fails, the chain is not intact, or what was seeded does not read
// back as planned (CTest's scale_bench_smoke runs a tiny volume of it on both engines).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "services/convert.h"
#include "services/rules/london.h"
#include "storage/data_keys.h"
#include "storage/database.h"
#include "storage/pg_connection.h"
#include "storage/sql.h"
#include "storage/tokens.h"
#include "tests/bench/latency.h"
#include "tests/bench/scale_seed.h"
#include "tests/support/test_server.h"

ABSL_FLAG(int, organisations, 0, "Organisations (0: a fiftieth of the cases, 3 to 300).");
ABSL_FLAG(int, mediators, 2000, "Mediators on the roster.");
ABSL_FLAG(int, cases, 20000, "Cases referred over ten years.");
ABSL_FLAG(int64_t, sessions, 200000, "Sessions booked.");
ABSL_FLAG(int64_t, audit_rows, 2000000, "Audit rows the seed appends.");
ABSL_FLAG(int, batch, 2000, "Audit rows (about) per seeding transaction.");
ABSL_FLAG(uint64_t, seed, 1, "The plan's random seed.");
ABSL_FLAG(int, calls, 200, "Measured calls per interactive call.");
ABSL_FLAG(int, warmup_calls, 5, "Unmeasured calls before each.");
ABSL_FLAG(int, concurrency, 1, "Calls in flight (client threads).");
ABSL_FLAG(int, batch_runs, 3, "Runs of the event stream and of VerifyAuditChain.");
ABSL_FLAG(int, workers, 64, "The server's worker threads (mediation-server's default).");
ABSL_FLAG(bool, maintenance, false,
          "Run the server's maintenance once after seeding: cases finished more than the "
          "retention period ago are anonymised (a decade's catch-up at once).");
ABSL_FLAG(std::string, reuse_db, "",
          "Measure a database seeded by an earlier run (its file or URI) instead of seeding one; "
          "with --reuse_dir.");
ABSL_FLAG(std::string, reuse_dir, "",
          "The earlier run's server directory (its master.key and admin.token).");
ABSL_FLAG(int, pause_seconds, 0,
          "Before stopping, keep the server and its database this long (to inspect them).");

namespace mediation {
namespace {

namespace v1 = ::ppa::mediation::v1;
using Clock = std::chrono::steady_clock;
using testing::LatencyHistogram;
using testing::WithToken;

constexpr double kTargetP99Millis = 50;

double MillisSince(Clock::time_point from) {
  return std::chrono::duration<double, std::milli>(Clock::now() - from).count();
}

std::unique_ptr<grpc::ClientContext> LongCall(const std::string& token) {
  auto context = WithToken(token);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(30));
  return context;
}

struct Row {
  std::string name;
  uint64_t calls = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double per_second = 0;
  uint64_t failed = 0;
  std::string first_failure;
};

// `calls` calls of `call(i)` from `concurrency` threads, after `warmup` unmeasured ones.
Row Measure(const std::string& name, const std::function<grpc::Status(int64_t)>& call) {
  const int calls = absl::GetFlag(FLAGS_calls);
  const int threads = std::max(1, absl::GetFlag(FLAGS_concurrency));
  for (int i = 0; i < absl::GetFlag(FLAGS_warmup_calls); ++i) (void)call(i);
  std::vector<LatencyHistogram> histograms(threads);
  std::vector<Row> parts(threads);
  std::atomic<int64_t> next{0};
  const Clock::time_point started = Clock::now();
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] {
      for (int64_t i = next++; i < calls; i = next++) {
        const Clock::time_point at = Clock::now();
        const grpc::Status status = call(i);
        const auto micros =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - at).count();
        if (status.ok()) {
          histograms[t].Add(static_cast<uint64_t>(micros));
        } else if (parts[t].failed++ == 0) {
          parts[t].first_failure = absl::StrCat(status.error_code(), " ", status.error_message());
        }
      }
    });
  }
  for (std::thread& t : running) t.join();
  const double seconds = MillisSince(started) / 1000;
  Row row{.name = name};
  LatencyHistogram all;
  for (int t = 0; t < threads; ++t) {
    all.Merge(histograms[t]);
    row.failed += parts[t].failed;
    if (row.first_failure.empty()) row.first_failure = parts[t].first_failure;
  }
  row.calls = all.total();
  row.p50_ms = all.QuantileMillis(0.50);
  row.p99_ms = all.QuantileMillis(0.99);
  row.per_second = seconds > 0 ? static_cast<double>(calls) / seconds : 0;
  return row;
}

struct Seeded {
  testing::ScalePlan plan;
  testing::SeedReport report;
  absl::Duration plan_time;
  bool counts_ok = true;
};

int64_t Count(testing::TestServer& server, const std::string& table) {
  return server.CountRows(table);
}

// Seeds the server's database (see the file's header) and checks what reads back.
absl::StatusOr<Seeded> Seed(testing::TestServer& server, const testing::ScaleVolume& volume) {
  testing::SeedTokens tokens;
  std::string audit_key;
  absl::Status read = server.ReadStore([&](storage::Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<storage::TokenRecord>> listed =
        storage::ListTokens(tx, false, absl::Now(), {.limit = 100});
    if (!listed.ok()) return listed.status();
    for (const storage::TokenRecord& t : *listed) {
      if (t.role == v1::ROLE_ADMIN) tokens.admin = t.id;
      if (t.role == v1::ROLE_CASE_SUPPORT) tokens.case_support = t.id;
      if (t.role == v1::ROLE_SENIOR_ADVISER) tokens.senior_adviser = t.id;
    }
    absl::StatusOr<storage::DataKey> key = storage::GetDataKey(tx, storage::KeyPurpose::kAudit, 0);
    if (!key.ok()) return key.status();
    audit_key = key->key;
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  absl::StatusOr<std::unique_ptr<storage::EngineStore>> store =
      storage::OpenDatabase({.db = server.db_path(),
                             .audit_key = audit_key,
                             .master_keys = server.server().master_keys()});
  if (!store.ok()) return store.status();

  Seeded seeded;
  absl::Time t0 = absl::Now();
  absl::StatusOr<testing::ScalePlan> plan =
      testing::PlanNationalVolume(volume, absl::Now(), absl::GetFlag(FLAGS_seed));
  if (!plan.ok()) return plan.status();
  seeded.plan = *std::move(plan);
  seeded.plan_time = absl::Now() - t0;
  std::fprintf(stderr, "scale_bench: planned %zu steps in %.1f s; seeding\n",
               seeded.plan.steps.size(), absl::ToDoubleSeconds(seeded.plan_time));
  const int64_t audit_before = Count(server, "audit_events");
  absl::StatusOr<testing::SeedReport> report =
      testing::WritePlan(**store, seeded.plan, volume, tokens, absl::GetFlag(FLAGS_batch));
  if (!report.ok()) return report.status();
  seeded.report = *std::move(report);

  auto expect = [&](const std::string& what, int64_t got, int64_t want) {
    if (got == want) return;
    std::printf("SEEDED COUNT WRONG: %s: %lld, expected %lld\n", what.c_str(),
                static_cast<long long>(got), static_cast<long long>(want));
    seeded.counts_ok = false;
  };
  expect("organisations", Count(server, "organisations"), volume.organisations);
  expect("mediators", Count(server, "mediators"), volume.mediators);
  expect("cases", Count(server, "cases"), volume.cases);
  expect("sessions", Count(server, "sessions"), volume.sessions);
  expect("audit rows appended", Count(server, "audit_events") - audit_before, volume.audit_rows);
  for (const auto& [state, n] : seeded.plan.cases_by_state) {
    expect(absl::StrCat("cases ", v1::CaseState_Name(state)),
           server.CountRows("cases", absl::StrCat("state = '", v1::CaseState_Name(state), "'")), n);
  }
  return seeded;
}

void PrintSeed(testing::TestServer& server, const Seeded& s, absl::Duration analyze,
               absl::Duration maintenance, int changed) {
  const double total =
      absl::ToDoubleSeconds(s.plan_time + s.report.registry_time + s.report.cases_time);
  std::printf(
      "Seeded on %s in %.1f s: plan %.1f s, organisations and mediators %.1f s, cases "
      "and audit %.1f s (%lld transactions)\n",
      server.on_postgres() ? "PostgreSQL" : "SQLite", total, absl::ToDoubleSeconds(s.plan_time),
      absl::ToDoubleSeconds(s.report.registry_time), absl::ToDoubleSeconds(s.report.cases_time),
      static_cast<long long>(s.report.transactions));
  std::printf("Rows:");
  for (const char* table :
       {"organisations", "mediators", "working_hours", "mediator_leave", "cases", "parties",
        "case_state_history", "screening_answers", "allocations", "party_availability", "sessions",
        "bookings", "agreement_versions", "case_events", "audit_events"}) {
    std::printf(" %s %lld,", table, static_cast<long long>(Count(server, table)));
  }
  std::printf("\nCases by state:");
  for (const auto& [state, n] : s.plan.cases_by_state) {
    std::printf(" %s %lld,", v1::CaseState_Name(state).c_str() + 11, static_cast<long long>(n));
  }
  std::printf("\n");
  if (server.on_postgres()) std::printf("ANALYZE: %.1f s\n", absl::ToDoubleSeconds(analyze));
  if (changed >= 0) {
    std::printf("Maintenance (retention) once: %.1f s, %d cases changed\n",
                absl::ToDoubleSeconds(maintenance), changed);
  }
}

// What the calls are made on, read from the database: every case by state, and the
// organisation with the most CLOSED cases (the filtered listing).
struct Targets {
  std::map<v1::CaseState, std::vector<int64_t>> cases;
  int64_t busiest_organisation = 0;
  int64_t mediators = 0;
};

absl::StatusOr<Targets> ReadTargets(testing::TestServer& server) {
  // The server's database (with --reuse_db, not the TestServer's own).
  absl::StatusOr<std::unique_ptr<storage::EngineStore>> store = storage::OpenDatabase(
      {.db = server.server().options().db_path, .master_keys = server.server().master_keys()});
  if (!store.ok()) return store.status();
  Targets t;
  absl::Status read = (*store)->Read([&](storage::Tx& tx) -> absl::Status {
    storage::Statement cases(tx, "SELECT id, state FROM cases ORDER BY id");
    while (cases.executeStep()) {
      v1::CaseState state = v1::CASE_STATE_UNSPECIFIED;
      v1::CaseState_Parse(cases.getColumn(1).getString(), &state);
      t.cases[state].push_back(cases.getColumn(0).getInt64());
    }
    storage::Statement busiest(tx,
                               "SELECT organisation_id FROM cases WHERE state = "
                               "'CASE_STATE_CLOSED' GROUP BY organisation_id ORDER BY COUNT(*) "
                               "DESC, organisation_id LIMIT 1");
    if (busiest.executeStep()) t.busiest_organisation = busiest.getColumn(0).getInt64();
    t.mediators = storage::SelectInt64(tx, "SELECT COUNT(*) FROM mediators");
    return absl::OkStatus();
  });
  if (!read.ok()) return read;
  if (t.cases.empty() || t.busiest_organisation == 0) {
    return absl::FailedPreconditionError("the database has no cases, or none CLOSED");
  }
  return t;
}

// Seeds the server's database, checks it and prepares it as the file's header says; false after
// printing what went wrong.
bool SeedAndPrepare(testing::TestServer& server) {
  testing::ScaleVolume volume{.mediators = absl::GetFlag(FLAGS_mediators),
                              .cases = absl::GetFlag(FLAGS_cases),
                              .sessions = absl::GetFlag(FLAGS_sessions),
                              .audit_rows = absl::GetFlag(FLAGS_audit_rows)};
  volume.organisations = absl::GetFlag(FLAGS_organisations) > 0
                             ? absl::GetFlag(FLAGS_organisations)
                             : std::clamp(volume.cases / 50, 3, 300);
  absl::StatusOr<Seeded> seeded = Seed(server, volume);
  if (!seeded.ok()) {
    std::printf("seeding failed: %s\n", seeded.status().ToString().c_str());
    return false;
  }
  absl::Duration analyze;
  if (server.on_postgres()) {
    const absl::Time t0 = absl::Now();
    storage::PgConnection(server.db_path()).Run("ANALYZE");
    analyze = absl::Now() - t0;
  }
  absl::Duration maintenance;
  int changed = -1;
  if (absl::GetFlag(FLAGS_maintenance)) {
    const absl::Time t0 = absl::Now();
    absl::StatusOr<int> ran = server.server().RunMaintenance();
    maintenance = absl::Now() - t0;
    if (!ran.ok()) {
      std::printf("maintenance failed: %s\n", ran.status().ToString().c_str());
      return false;
    }
    changed = *ran;
  }
  PrintSeed(server, *seeded, analyze, maintenance, changed);
  return seeded->counts_ok;
}

int Run() {
  const bool reuse = !absl::GetFlag(FLAGS_reuse_db).empty();
  testing::TestServer server([&](ServerOptions& o) {
    o.workers = absl::GetFlag(FLAGS_workers);
    o.maintenance_interval = absl::Hours(24 * 365);  // Run once, if at all: not during the calls.
    if (reuse) {
      o.db_path = absl::GetFlag(FLAGS_reuse_db);
      o.master_key_path = absl::StrCat(absl::GetFlag(FLAGS_reuse_dir), "/master.key");
      o.admin_token_path = absl::StrCat(absl::GetFlag(FLAGS_reuse_dir), "/admin.token");
      // The server runs maintenance as it starts: on a seeded database that would be the
      // decade's retention at once (see --maintenance), not what is measured here.
      o.settings.personal_data_retention = absl::Hours(24 * 365 * 100);
    }
  });
  const std::string& staff = server.case_support();
  (void)server.senior_adviser();
  const std::string& admin = server.admin_secret();
  bool failed = false;
  if (reuse) {
    std::printf("Measuring %s (seeded earlier)\n", absl::GetFlag(FLAGS_reuse_db).c_str());
  } else if (!SeedAndPrepare(server)) {
    failed = true;
  }
  absl::StatusOr<Targets> targets = ReadTargets(server);
  if (!targets.ok()) {
    std::printf("reading what to call: %s\n", targets.status().ToString().c_str());
    return 1;
  }
  auto ids = [&](std::initializer_list<v1::CaseState> states) {
    std::vector<int64_t> out;
    for (v1::CaseState s : states) {
      auto it = targets->cases.find(s);
      if (it != targets->cases.end()) out.insert(out.end(), it->second.begin(), it->second.end());
    }
    return out;
  };
  std::vector<int64_t> all_cases;
  for (const auto& [state, list] : targets->cases) {
    all_cases.insert(all_cases.end(), list.begin(), list.end());
  }
  std::vector<int64_t> bookable =
      ids({v1::CASE_STATE_MEDIATORS_ALLOCATED, v1::CASE_STATE_SESSIONS_SCHEDULED,
           v1::CASE_STATE_IN_MEDIATION});
  std::vector<int64_t> suitable = ids({v1::CASE_STATE_SUITABLE});
  const int64_t org = targets->busiest_organisation;
  if (suitable.empty()) {  // A tiny volume may have none: refer one through the API.
    const v1::Case c = server.CreateReferral(org);
    server.MakeSuitable(c);
    suitable.push_back(c.id());
  }
  std::mt19937_64 pick(7);
  std::vector<int64_t> random_cases;
  for (int i = 0; i < absl::GetFlag(FLAGS_calls) + absl::GetFlag(FLAGS_warmup_calls); ++i) {
    random_cases.push_back(all_cases[pick() % all_cases.size()]);
  }

  // A page token `pages` pages into a listing (or the last page's, when there are fewer).
  auto list = [&](v1::ListCasesRequest r, int pages) {
    for (int p = 1; p < pages; ++p) {
      v1::ListCasesResponse out;
      if (!server.referrals().ListCases(WithToken(staff).get(), r, &out).ok()) break;
      if (out.next_page_token().empty()) break;
      r.set_page_token(out.next_page_token());
    }
    return r;
  };
  v1::ListCasesRequest by_org;
  by_org.set_state(v1::CASE_STATE_CLOSED);
  by_org.set_organisation_id(org);
  by_org.set_page_size(10);
  v1::ListCasesRequest by_state;
  by_state.set_state(v1::CASE_STATE_CLOSED);
  by_state.set_page_size(50);
  auto list_call = [&](const v1::ListCasesRequest& r) {
    return [&, r](int64_t) {
      v1::ListCasesResponse out;
      return server.referrals().ListCases(WithToken(staff).get(), r, &out);
    };
  };

  std::vector<Row> rows;
  rows.push_back(Measure("GetCase", [&](int64_t i) {
    v1::GetCaseRequest r;
    r.set_case_id(random_cases[i % random_cases.size()]);
    v1::GetCaseResponse out;
    return server.referrals().GetCase(WithToken(staff).get(), r, &out);
  }));
  rows.push_back(Measure("ListCases state+org, page 1 (10)", list_call(by_org)));
  rows.push_back(Measure("ListCases state+org, page 3 (token)", list_call(list(by_org, 3))));
  rows.push_back(Measure("ListCases state, page 1 (50)", list_call(by_state)));
  rows.push_back(Measure("ListCases state, page 20 (token)", list_call(list(by_state, 20))));
  if (!bookable.empty()) {
    rows.push_back(Measure("FindSlots (joint, video, 28 days)", [&](int64_t i) {
      v1::FindSlotsRequest r;
      r.set_case_id(bookable[(i * 7919) % bookable.size()]);
      r.set_kind(v1::SESSION_KIND_JOINT_MEETING);
      r.set_mode(v1::SESSION_MODE_VIDEO);
      r.set_duration_minutes(180);
      v1::FindSlotsResponse out;
      return server.scheduling().FindSlots(WithToken(staff).get(), r, &out);
    }));
  }
  rows.push_back(Measure(
      absl::StrCat("ProposeAllocation (", targets->mediators, " mediators)"), [&](int64_t i) {
        v1::ProposeAllocationRequest r;
        r.set_case_id(suitable[i % suitable.size()]);
        v1::ProposeAllocationResponse out;
        return server.allocation().ProposeAllocation(WithToken(staff).get(), r, &out);
      }));
  rows.push_back(Measure("GetStatistics (all time)", [&](int64_t) {
    v1::GetStatisticsRequest r;
    v1::GetStatisticsResponse out;
    return server.statistics().GetStatistics(WithToken(staff).get(), r, &out);
  }));
  rows.push_back(Measure("GetStatistics (last 12 months)", [&](int64_t) {
    v1::GetStatisticsRequest r;
    DayToProto(rules::LondonDay(absl::Now()) - 365, r.mutable_referred_from());
    v1::GetStatisticsResponse out;
    return server.statistics().GetStatistics(WithToken(staff).get(), r, &out);
  }));

  std::printf("\n%-38s %6s %9s %9s %9s  %s\n", "call", "calls", "p50 ms", "p99 ms", "calls/s",
              "p99 < 50 ms");
  for (const Row& r : rows) {
    std::printf("%-38s %6llu %9.2f %9.2f %9.1f  %s\n", r.name.c_str(),
                static_cast<unsigned long long>(r.calls), r.p50_ms, r.p99_ms, r.per_second,
                r.p99_ms < kTargetP99Millis ? "met" : "MISSED");
    if (r.failed > 0) {
      failed = true;
      std::printf("  %llu call(s) failed, first: %s\n", static_cast<unsigned long long>(r.failed),
                  r.first_failure.c_str());
    }
  }

  // The batch operations, timed whole.
  std::printf("\n%-38s %6s %12s %12s\n", "batch operation", "runs", "first ms", "total ms");
  for (int run = 0; run < absl::GetFlag(FLAGS_batch_runs); ++run) {
    v1::StreamCaseEventsRequest r;
    r.set_stop_at_end(true);
    auto context = LongCall(staff);
    const Clock::time_point started = Clock::now();
    std::unique_ptr<grpc::ClientReader<v1::CaseEvent>> reader =
        server.events().StreamCaseEvents(context.get(), r);
    v1::CaseEvent event;
    int64_t events = 0;
    double first = 0;
    while (reader->Read(&event)) {
      if (events++ == 0) first = MillisSince(started);
    }
    const grpc::Status status = reader->Finish();
    std::printf("%-38s %6d %12.1f %12.1f\n",
                absl::StrCat("event stream from 0 (", events, " events)").c_str(), run + 1, first,
                MillisSince(started));
    if (!status.ok() || events == 0) {
      failed = true;
      std::printf("  stream failed: %d %s (%lld events)\n", status.error_code(),
                  status.error_message().c_str(), static_cast<long long>(events));
    }
  }
  for (int run = 0; run < absl::GetFlag(FLAGS_batch_runs); ++run) {
    v1::VerifyAuditChainResponse out;
    const Clock::time_point started = Clock::now();
    const grpc::Status status =
        server.admin().VerifyAuditChain(LongCall(admin).get(), v1::VerifyAuditChainRequest(), &out);
    std::printf("%-38s %6d %12s %12.1f\n",
                absl::StrCat("VerifyAuditChain (", out.rows_checked(), " rows)").c_str(), run + 1,
                "-", MillisSince(started));
    if (!status.ok() || !out.intact()) {
      failed = true;
      std::printf("  chain check failed: %d %s; intact=%d, %s\n", status.error_code(),
                  status.error_message().c_str(), out.intact(), out.problem().c_str());
    }
  }
  std::printf(
      "\n%d call(s) in flight, %d measured calls each after %d unmeasured, %d workers, "
      "%u hardware threads.\n",
      absl::GetFlag(FLAGS_concurrency), absl::GetFlag(FLAGS_calls),
      absl::GetFlag(FLAGS_warmup_calls), absl::GetFlag(FLAGS_workers),
      std::thread::hardware_concurrency());
  if (absl::GetFlag(FLAGS_pause_seconds) > 0) {
    std::printf("Database: %s; pausing %d s.\n", server.db_path().c_str(),
                absl::GetFlag(FLAGS_pause_seconds));
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(absl::GetFlag(FLAGS_pause_seconds)));
  }
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace mediation

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // Each line as it is measured.
  mediation::TuneProcessForServing();        // As mediation-server does.
  return mediation::Run();
}
