// rpc_bench: calls per second and latency of the project's real calls, each set against an empty
// echo on the same server build (the gRPC ceiling on this machine). Run on demand:
//   build/tests/rpc_bench [--seconds=5] [--concurrency=64] [--mediators=200]
// It starts the real server in-process on loopback ports, over SQLite files in temporary
// directories on one disk, with the benchmark-only echo service switched on:
//   - server A as deployed (group commit), for every call;
//   - server B with one commit per write, for the referral create only (the same-disk baseline).
// An asynchronous client keeps --concurrency calls in flight from two threads, each with its own
// completion queue, and records each call's latency in its own histogram. The first second of
// each scenario (--warmup_seconds) warms up and is not counted. It prints one table row per
// scenario: calls per second, p50 and p99 latency, and the rate as a share of the echo's. Every
// call must succeed; a failed call is counted and the first failure printed. The "_json"
// scenarios make the same calls over the Connect protocol with JSON on server A's HTTP listener
// (a client thread per call in flight, each with a kept-alive HTTP/1.1 connection).
//
// With MEDIATION_TEST_PG naming a PostgreSQL cluster (as for the *.pg tests), the same runs on a
// fresh database there, without the commit-per-call server (PostgreSQL commits each write), and
// with two more scenarios, "read_two" and "create_two": a second server on the same database and
// the calls spread over both in turn, as behind a load balancer.
#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "ppa/mediation/bench/v1/bench.grpc.pb.h"
#include "tests/bench/latency.h"
#include "tests/support/test_server.h"

ABSL_FLAG(int, seconds, 5, "Measured seconds per scenario.");
ABSL_FLAG(int, warmup_seconds, 1, "Seconds of calls before each scenario's measured period.");
ABSL_FLAG(int, concurrency, 64, "Calls kept in flight.");
ABSL_FLAG(int, mediators, 200, "Mediators on the roster that proposals rank.");
ABSL_FLAG(int, workers, 64, "The servers' worker threads (mediation-server's default).");
ABSL_FLAG(std::vector<std::string>, scenarios,
          std::vector<std::string>({"echo", "read", "read_json", "create", "create_json",
                                    "create_per_call", "slots", "proposal", "read_two",
                                    "create_two"}),
          "Which scenarios to run, in this order.");

namespace mediation {
namespace {

namespace v1 = ::ppa::mediation::v1;
namespace bench = ::ppa::mediation::bench::v1;
using Clock = std::chrono::steady_clock;

using testing::LatencyHistogram;

struct Result {
  std::string name;
  double calls_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  uint64_t failed = 0;
  std::string first_failure;
};

template <typename Request, typename Response>
using Prepare = std::function<std::unique_ptr<grpc::ClientAsyncResponseReader<Response>>(
    grpc::ClientContext*, const Request&, grpc::CompletionQueue*)>;

// One scenario's measured period (after the warm-up) and what the client threads saw in it:
// each thread notes its calls in a Part of its own and hands it over when done.
class Scenario {
 public:
  explicit Scenario(std::string name)
      : from_(Clock::now() + std::chrono::seconds(absl::GetFlag(FLAGS_warmup_seconds))),
        to_(from_ + std::chrono::seconds(absl::GetFlag(FLAGS_seconds))) {
    result_.name = std::move(name);
  }

  struct Part {
    LatencyHistogram latencies;
    uint64_t failed = 0;
    std::string first_failure;
  };

  // Whether calls should go on being made at `now`.
  bool Running(Clock::time_point now) const { return now < to_; }

  // Notes a call that started at `started` and ended at `now`: its latency when it succeeded
  // (`failure` empty), else the failure; only inside the measured period.
  void Note(Part& part, Clock::time_point started, Clock::time_point now,
            const std::function<std::string()>& failure) const {
    if (now < from_ || now >= to_) return;
    std::string why = failure();
    if (why.empty()) {
      part.latencies.Add(
          std::chrono::duration_cast<std::chrono::microseconds>(now - started).count());
      return;
    }
    ++part.failed;
    if (part.first_failure.empty()) part.first_failure = std::move(why);
  }

  void Merge(const Part& part) {
    absl::MutexLock lock(&mu_);
    all_.Merge(part.latencies);
    result_.failed += part.failed;
    if (result_.first_failure.empty()) result_.first_failure = part.first_failure;
  }

  Result Finish() {
    absl::MutexLock lock(&mu_);
    result_.calls_per_second =
        static_cast<double>(all_.total()) / static_cast<double>(absl::GetFlag(FLAGS_seconds));
    result_.p50_ms = all_.QuantileMillis(0.50);
    result_.p99_ms = all_.QuantileMillis(0.99);
    return result_;
  }

 private:
  const Clock::time_point from_;
  const Clock::time_point to_;
  absl::Mutex mu_;
  LatencyHistogram all_;
  Result result_;
};

// Keeps `concurrency` calls in flight for one warm-up second plus `seconds`, counting the calls
// that finish inside the measured period.
template <typename Request, typename Response>
Result Measure(const std::string& name, const std::string& token,
               Prepare<Request, Response> prepare, std::function<Request(int64_t)> request) {
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  std::atomic<int64_t> sequence{0};
  Scenario scenario(name);

  auto drive = [&](int calls) {
    struct Call {
      std::unique_ptr<grpc::ClientContext> context;
      Response response;
      grpc::Status status;
      std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
      Clock::time_point started;
    };
    grpc::CompletionQueue cq;
    std::vector<Call> slots(calls);
    auto start = [&](Call& call) {
      call.context = std::make_unique<grpc::ClientContext>();
      if (!token.empty()) call.context->AddMetadata("authorization", "Bearer " + token);
      call.context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      call.response.Clear();
      call.started = Clock::now();
      call.reader = prepare(call.context.get(), request(sequence.fetch_add(1)), &cq);
      call.reader->StartCall();
      call.reader->Finish(&call.response, &call.status, &call);
    };
    for (Call& call : slots) start(call);
    Scenario::Part mine;
    int outstanding = calls;
    void* tag = nullptr;
    bool ok = false;
    while (outstanding > 0 && cq.Next(&tag, &ok)) {
      Call& call = *static_cast<Call*>(tag);
      const auto now = Clock::now();
      scenario.Note(mine, call.started, now, [&]() -> std::string {
        if (call.status.ok()) return "";
        return absl::StrCat(call.status.error_code(), " ", call.status.error_message());
      });
      if (scenario.Running(now)) {
        start(call);
      } else {
        --outstanding;
      }
    }
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
    scenario.Merge(mine);
  };
  std::thread second(drive, concurrency / 2);
  drive(concurrency - concurrency / 2);
  second.join();
  return scenario.Finish();
}

// The same over the Connect protocol with JSON, on the server's HTTP listener: `concurrency`
// client threads, each with its own kept-alive HTTP/1.1 connection, POST `body(i)` to `path`
// and read the answer, which must be 200.
Result MeasureConnectJson(const std::string& name, int port, const std::string& path,
                          const std::string& token, std::function<std::string(int64_t)> body) {
  namespace beast = boost::beast;
  namespace bhttp = boost::beast::http;
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  std::atomic<int64_t> sequence{0};
  Scenario scenario(name);
  auto drive = [&] {
    boost::asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    beast::error_code ec;
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                  static_cast<unsigned short>(port)),
                   ec);
    Scenario::Part mine;
    if (ec) {  // Never connected: a failure, not a quiet zero.
      ++mine.failed;
      mine.first_failure = ec.message();
    }
    beast::flat_buffer buffer;
    while (!ec) {
      bhttp::request<bhttp::string_body> request{bhttp::verb::post, path, 11};
      request.set(bhttp::field::host, absl::StrCat("127.0.0.1:", port));
      request.set(bhttp::field::content_type, "application/json");
      request.set("Connect-Protocol-Version", "1");
      request.set(bhttp::field::authorization, "Bearer " + token);
      request.body() = body(sequence.fetch_add(1));
      request.prepare_payload();
      const Clock::time_point started = Clock::now();
      bhttp::write(stream, request, ec);
      bhttp::response<bhttp::string_body> response;
      if (!ec) bhttp::read(stream, buffer, response, ec);
      const Clock::time_point now = Clock::now();
      scenario.Note(mine, started, now, [&]() -> std::string {
        if (ec) return ec.message();
        if (response.result_int() == 200) return "";
        return absl::StrCat(response.result_int(), " ", response.body());
      });
      if (!scenario.Running(now)) break;
    }
    scenario.Merge(mine);
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < concurrency; ++i) threads.emplace_back(drive);
  for (std::thread& t : threads) t.join();
  return scenario.Finish();
}

// fsyncs per second of a 4 KiB append on the disk that holds the databases: the ceiling of one
// commit per write with synchronous=FULL (a WAL commit is one fsync).
double FsyncsPerSecond(const std::string& dir) {
  const std::string path = dir + "/fsync.probe";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  const std::string page(4096, 'x');
  int n = 0;
  const auto until = Clock::now() + std::chrono::seconds(1);
  while (Clock::now() < until) {
    if (::write(fd, page.data(), page.size()) != static_cast<ssize_t>(page.size())) break;
    if (::fsync(fd) != 0) break;
    ++n;
  }
  ::close(fd);
  ::unlink(path.c_str());
  return n;
}

struct CommitGroupStats {
  storage::CommitGroup::Stats before;
  storage::CommitGroup::Stats after;
};

void ConfigureFor(ServerOptions& o, bool group_commit) {
  o.workers = absl::GetFlag(FLAGS_workers);
  o.group_commit = group_commit;
  o.benchmark_service = true;
  o.http_listen = "127.0.0.1:0";
}

int Run() {
  testing::TestServer server([](ServerOptions& o) { ConfigureFor(o, /*group_commit=*/true); });
  testing::TestServer baseline([](ServerOptions& o) { ConfigureFor(o, /*group_commit=*/false); });
  // On PostgreSQL, a second server process's worth (its own workers, connections and listener)
  // on the first one's database: the "_two" scenarios spread their calls over both.
  std::unique_ptr<testing::TestServer> other;
  if (server.on_postgres()) {
    other = std::make_unique<testing::TestServer>([&](ServerOptions& o) {
      ConfigureFor(o, /*group_commit=*/true);
      testing::ShareDatabaseOf(server, o);
    });
  }
  std::fprintf(stderr, "rpc_bench: on %s\n",
               server.on_postgres() ? "PostgreSQL (MEDIATION_TEST_PG)" : "SQLite");
  std::fprintf(stderr, "rpc_bench: setting up (%d mediators)\n", absl::GetFlag(FLAGS_mediators));

  // A roster, a SUITABLE case to propose for, an allocated case to find slots for, and cases to
  // read.
  const int64_t org = server.RegisterOrganisation("Northshire Hospitals NHS Trust");
  std::vector<int64_t> mediators;
  for (int i = 0; i < absl::GetFlag(FLAGS_mediators); ++i) {
    mediators.push_back(server.RegisterMediator(testing::ValidMediator(
        absl::StrCat("Mediator ", i), absl::StrCat("mediator", i, "@mediators.example"))));
  }
  const v1::Case suitable = server.CreateReferral(org);
  server.MakeSuitable(suitable);
  const std::string lead = server.IssueToken(v1::ROLE_MEDIATOR, mediators[0]);
  const std::string co = server.IssueToken(v1::ROLE_MEDIATOR, mediators[1]);
  const v1::Case allocated = server.AllocatedCase(org, mediators[0], lead, mediators[1], co);
  std::vector<int64_t> cases;
  for (int i = 0; i < 100; ++i) cases.push_back(server.CreateReferral(org).id());
  const int64_t baseline_org = baseline.RegisterOrganisation("Northshire Hospitals NHS Trust");
  const std::string& staff = server.case_support();

  auto echo = bench::BenchmarkService::NewStub(server.channel());
  // The server of the `i`th call of a "_two" scenario: the two instances in turn.
  std::atomic<uint64_t> turn{0};
  auto either = [&]() -> testing::TestServer& {
    return (turn.fetch_add(1) % 2 == 0 || other == nullptr) ? server : *other;
  };
  CommitGroupStats commits;
  const std::map<std::string, std::function<Result()>> scenarios = {
      {"echo",
       [&] {
         return Measure<bench::EchoRequest, bench::EchoResponse>(
             "echo (the gRPC ceiling)", "",
             [&](grpc::ClientContext* c, const bench::EchoRequest& r, grpc::CompletionQueue* cq) {
               return echo->PrepareAsyncEcho(c, r, cq);
             },
             [](int64_t) { return bench::EchoRequest(); });
       }},
      {"read",
       [&] {
         return Measure<v1::GetCaseRequest, v1::GetCaseResponse>(
             "case read (GetCase)", staff,
             [&](grpc::ClientContext* c, const v1::GetCaseRequest& r, grpc::CompletionQueue* cq) {
               return server.referrals().PrepareAsyncGetCase(c, r, cq);
             },
             [&](int64_t i) {
               v1::GetCaseRequest r;
               r.set_case_id(cases[i % cases.size()]);
               return r;
             });
       }},
      {"read_json",
       [&] {
         std::vector<std::string> bodies;
         for (const int64_t id : cases)
           bodies.push_back(absl::StrCat(R"({"caseId":")", id, R"("})"));
         return MeasureConnectJson("case read (GetCase), Connect JSON", server.server().http_port(),
                                   "/ppa.mediation.v1.ReferralService/GetCase", staff,
                                   [&](int64_t i) { return bodies[i % bodies.size()]; });
       }},
      {"create_json",
       [&] {
         v1::CreateReferralRequest referral = testing::ValidReferral(org);
         std::string json;
         (void)google::protobuf::util::MessageToJsonString(referral, &json);
         return MeasureConnectJson(
             server.on_postgres() ? "referral create, Connect JSON"
                                  : "referral create, group commit, Connect JSON",
             server.server().http_port(), "/ppa.mediation.v1.ReferralService/CreateReferral", staff,
             [&](int64_t) { return json; });
       }},
      {"create",
       [&] {
         commits.before = server.server().commit_stats();
         Result r = Measure<v1::CreateReferralRequest, v1::CreateReferralResponse>(
             server.on_postgres() ? "referral create" : "referral create, group commit", staff,
             [&](grpc::ClientContext* c, const v1::CreateReferralRequest& r,
                 grpc::CompletionQueue* cq) {
               return server.referrals().PrepareAsyncCreateReferral(c, r, cq);
             },
             [&](int64_t) { return testing::ValidReferral(org); });
         commits.after = server.server().commit_stats();
         return r;
       }},
      {"create_per_call",
       [&] {
         return Measure<v1::CreateReferralRequest, v1::CreateReferralResponse>(
             "referral create, commit per call", baseline.case_support(),
             [&](grpc::ClientContext* c, const v1::CreateReferralRequest& r,
                 grpc::CompletionQueue* cq) {
               return baseline.referrals().PrepareAsyncCreateReferral(c, r, cq);
             },
             [&](int64_t) { return testing::ValidReferral(baseline_org); });
       }},
      {"slots",
       [&] {
         return Measure<v1::FindSlotsRequest, v1::FindSlotsResponse>(
             "slot search (FindSlots, joint, 28 days)", staff,
             [&](grpc::ClientContext* c, const v1::FindSlotsRequest& r, grpc::CompletionQueue* cq) {
               return server.scheduling().PrepareAsyncFindSlots(c, r, cq);
             },
             [&](int64_t) {
               v1::FindSlotsRequest r;
               r.set_case_id(allocated.id());
               r.set_kind(v1::SESSION_KIND_JOINT_MEETING);
               r.set_mode(v1::SESSION_MODE_VIDEO);
               r.set_duration_minutes(180);
               return r;
             });
       }},
      {"proposal",
       [&] {
         return Measure<v1::ProposeAllocationRequest, v1::ProposeAllocationResponse>(
             absl::StrCat("allocation proposal (", mediators.size(), " mediators)"), staff,
             [&](grpc::ClientContext* c, const v1::ProposeAllocationRequest& r,
                 grpc::CompletionQueue* cq) {
               return server.allocation().PrepareAsyncProposeAllocation(c, r, cq);
             },
             [&](int64_t) {
               v1::ProposeAllocationRequest r;
               r.set_case_id(suitable.id());
               return r;
             });
       }},
      {"read_two",
       [&] {
         return Measure<v1::GetCaseRequest, v1::GetCaseResponse>(
             "case read (GetCase), two instances", staff,
             [&](grpc::ClientContext* c, const v1::GetCaseRequest& r, grpc::CompletionQueue* cq) {
               return either().referrals().PrepareAsyncGetCase(c, r, cq);
             },
             [&](int64_t i) {
               v1::GetCaseRequest r;
               r.set_case_id(cases[i % cases.size()]);
               return r;
             });
       }},
      {"create_two",
       [&] {
         return Measure<v1::CreateReferralRequest, v1::CreateReferralResponse>(
             "referral create, two instances", staff,
             [&](grpc::ClientContext* c, const v1::CreateReferralRequest& r,
                 grpc::CompletionQueue* cq) {
               return either().referrals().PrepareAsyncCreateReferral(c, r, cq);
             },
             [&](int64_t) { return testing::ValidReferral(org); });
       }},
  };
  std::map<std::string, Result> results;
  std::vector<std::string> order;
  for (const std::string& name : absl::GetFlag(FLAGS_scenarios)) {
    auto it = scenarios.find(name);
    if (it == scenarios.end()) {
      std::fprintf(stderr, "rpc_bench: no scenario '%s'\n", name.c_str());
      return 2;
    }
    if (absl::EndsWith(name, "_two") && other == nullptr) continue;   // One process per file.
    if (name == "create_per_call" && server.on_postgres()) continue;  // No group commit there.
    results[name] = it->second();
    order.push_back(name);
  }

  const double echo_rate = results.count("echo") > 0 ? results["echo"].calls_per_second : 0.0;
  std::printf("%-42s %10s %9s %9s %8s\n", "call", "calls/s", "p50 ms", "p99 ms", "of echo");
  bool failures = false;
  for (const std::string& name : order) {
    const Result& r = results[name];
    std::printf(
        "%-42s %10.0f %9.2f %9.2f %8s\n", r.name.c_str(), r.calls_per_second, r.p50_ms, r.p99_ms,
        echo_rate > 0 ? absl::StrFormat("%.2f", r.calls_per_second / echo_rate).c_str() : "-");
    if (r.failed > 0) {
      failures = true;
      std::printf("  %llu call(s) failed, first: %s\n", static_cast<unsigned long long>(r.failed),
                  r.first_failure.c_str());
    }
  }
  std::printf("\n%d calls in flight, %d s each after %d s of warm-up, %d workers.\n",
              absl::GetFlag(FLAGS_concurrency), absl::GetFlag(FLAGS_seconds),
              absl::GetFlag(FLAGS_warmup_seconds), absl::GetFlag(FLAGS_workers));
  if (results.count("create") > 0 && !server.on_postgres()) {
    const uint64_t writes = commits.after.writes - commits.before.writes;
    const uint64_t batches = commits.after.batches - commits.before.batches;
    std::printf(
        "Group commit during the create: %llu writes in %llu commits (%.1f per commit, at "
        "most %llu).\n",
        static_cast<unsigned long long>(writes), static_cast<unsigned long long>(batches),
        batches > 0 ? static_cast<double>(writes) / static_cast<double>(batches) : 0.0,
        static_cast<unsigned long long>(commits.after.largest));
  }
  if (results.count("create") > 0 && results.count("create_per_call") > 0 &&
      results["create_per_call"].calls_per_second > 0) {
    std::printf("Referral create, group commit / commit per call: %.1fx.\n",
                results["create"].calls_per_second / results["create_per_call"].calls_per_second);
  }
  std::printf("This disk: %.0f fsyncs/s (4 KiB appends).\n",
              FsyncsPerSecond(server.dir().path().string()));
  return failures ? 1 : 0;
}

}  // namespace
}  // namespace mediation

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  mediation::TuneProcessForServing();  // As mediation-server does.
  return mediation::Run();
}
