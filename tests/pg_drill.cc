// The PostgreSQL drill's client: starts --instances mediation-server processes on --db, writes
// through all of them from --writers threads, runs --disrupt (a shell command that restarts the
// database, or stops the primary and promotes its standby) while they write, and then checks that
//   - while the database was away, calls failed UNAVAILABLE (or ran out of time), nothing else;
//   - every server took writes again within --recover_seconds of the command's end, without being
//     restarted, and went on taking them for --after_seconds;
//   - every write acknowledged OK, before, during or after, is in the database with exactly the
//     content it was sent with, nothing is half-written (tests/support/acked_writes.h), and each
//     server verifies the audit chain and reads back the last cases acknowledged.
// It prints what it saw (acknowledged writes, failed calls by code, each server's outage as its
// clients saw it) and exits 1 on any loss or problem.
//
// deploy/postgresql/failover-drill.sh sets up the clusters and runs it; CTest runs that script's
// short form. By hand, against a database of your own:
//   build/tests/pg_drill --db='postgresql://u@h1,h2/mediation?target_session_attrs=read-write' \
//       --disrupt='...' --work_dir=/tmp/drill
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ppa/mediation/v1/admin.grpc.pb.h"
#include "ppa/mediation/v1/events.grpc.pb.h"
#include "ppa/mediation/v1/organisation.grpc.pb.h"
#include "ppa/mediation/v1/referral.grpc.pb.h"
#include "tests/support/acked_writes.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

ABSL_FLAG(std::string, db, "", "The postgresql:// URI the servers use (required).");
ABSL_FLAG(std::string, disrupt, "", "The shell command that takes the database away (required).");
ABSL_FLAG(int, instances, 2, "Servers sharing the database.");
ABSL_FLAG(int, writers, 8, "Client threads writing, spread over the servers.");
ABSL_FLAG(int, server_workers, 8, "Each server's --workers.");
ABSL_FLAG(int, before_seconds, 3, "Seconds of writes before the disruption.");
ABSL_FLAG(int, recover_seconds, 60,
          "After the disruption command returns, each server must acknowledge a write within "
          "this many seconds.");
ABSL_FLAG(int, after_seconds, 3, "Seconds of writes once every server has recovered.");
ABSL_FLAG(std::string, work_dir, "",
          "Where the servers' logs and keys go (default: a temporary directory, removed after).");

namespace mediation {
namespace {

using ::mediation::testing::AckedWrite;
using ::mediation::testing::ServerProcess;

namespace v1 = ::ppa::mediation::v1;

using Clock = std::chrono::steady_clock;

double MsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

struct Instance {
  std::unique_ptr<ServerProcess> process;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::ReferralService::Stub> referrals;
  std::unique_ptr<v1::OrganisationService::Stub> organisations;
  // What its writers saw, under Drill::mu_.
  int64_t acked = 0;
  std::map<grpc::StatusCode, int64_t> failures;
  Clock::time_point first_failure{};
  Clock::time_point last_failure{};
  Clock::time_point first_ok_after_disruption{};
};

class Drill {
 public:
  explicit Drill(std::string dir) : dir_(std::move(dir)) {}

  int Run() {
    const int instances = std::max(1, absl::GetFlag(FLAGS_instances));
    servers_.resize(instances);
    for (int i = 0; i < instances; ++i) {
      if (!Start(i)) return Finish();
    }
    if (!SetUp()) return Finish();

    std::vector<std::thread> writers;
    for (int w = 0; w < absl::GetFlag(FLAGS_writers); ++w) {
      writers.emplace_back([this, w, instances] { Write(w, w % instances); });
    }
    std::this_thread::sleep_for(std::chrono::seconds(absl::GetFlag(FLAGS_before_seconds)));
    {
      std::lock_guard lock(mu_);
      phase_ = Phase::kDisrupted;
      disrupted_at_ = Clock::now();
    }
    std::cout << "pg_drill: " << Acked()
              << " write(s) acknowledged; running: " << absl::GetFlag(FLAGS_disrupt) << std::endl;
    const int disrupted = std::system(absl::GetFlag(FLAGS_disrupt).c_str());
    {
      std::lock_guard lock(mu_);
      phase_ = Phase::kRecovering;
      disruption_done_at_ = Clock::now();
    }
    if (disrupted != 0) Problem(absl::StrCat("the disruption command failed (", disrupted, ")"));
    std::cout << "pg_drill: the disruption command took "
              << static_cast<int>(MsBetween(disrupted_at_, disruption_done_at_)) << " ms"
              << std::endl;

    // Every server takes writes again, within the limit.
    const Clock::time_point limit =
        disruption_done_at_ + std::chrono::seconds(absl::GetFlag(FLAGS_recover_seconds));
    while (Clock::now() < limit && !AllRecovered()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!AllRecovered()) {
      Problem(absl::StrCat("not every server took a write within ",
                           absl::GetFlag(FLAGS_recover_seconds), " s of the disruption's end"));
    }
    std::this_thread::sleep_for(std::chrono::seconds(absl::GetFlag(FLAGS_after_seconds)));
    stop_ = true;
    for (std::thread& t : writers) t.join();

    Report();
    Count("", testing::CheckStored(absl::GetFlag(FLAGS_db), acked_));
    // Each server reads back the last cases acknowledged through any server.
    for (size_t i = 0; i < servers_.size(); ++i) {
      Count(absl::StrCat("server ", i, ": "),
            testing::CheckThroughServer(servers_[i].channel, writers_, acked_));
    }
    if (servers_.size() > 1) CheckEventsReachTheOtherServer();
    return Finish();
  }

 private:
  enum class Phase { kBefore, kDisrupted, kRecovering };

  void Problem(const std::string& what) {
    std::lock_guard lock(problem_mu_);
    ++problems_;
    std::cerr << "pg_drill: " << what << "\n";
  }

  int64_t Acked() {
    std::lock_guard lock(mu_);
    return static_cast<int64_t>(acked_.size());
  }

  bool AllRecovered() {
    std::lock_guard lock(mu_);
    for (const Instance& s : servers_) {
      if (s.first_ok_after_disruption == Clock::time_point{}) return false;
    }
    return true;
  }

  bool Start(int index) {
    Instance& s = servers_[index];
    s.process = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--listen=127.0.0.1:0",
                                 "--http_listen=", "--db=" + absl::GetFlag(FLAGS_db),
                                 "--master_key_file=" + dir_ + "/master.key",
                                 "--admin_token_file=" + dir_ + "/admin.token",
                                 absl::StrCat("--workers=", absl::GetFlag(FLAGS_server_workers))},
        absl::StrCat(dir_, "/server-", index, ".log"));
    const int port = s.process->WaitForPort();
    if (port == 0) {
      Problem(absl::StrCat("server ", index, " did not start: ", s.process->Log()));
      return false;
    }
    s.channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
    s.referrals = v1::ReferralService::NewStub(s.channel);
    s.organisations = v1::OrganisationService::NewStub(s.channel);
    return true;
  }

  // The tokens and the organisation the writers use, through the first server.
  bool SetUp() {
    absl::StatusOr<testing::Writers> writers =
        testing::SetUpWriters(servers_[0].channel, dir_ + "/admin.token");
    if (!writers.ok()) {
      Problem(std::string(writers.status().message()));
      return false;
    }
    writers_ = *std::move(writers);
    return true;
  }

  // Writes through server `index` until the drill ends; a failed call is retried as a new write
  // (the failed one was not acknowledged, so whether it landed does not matter).
  void Write(int writer, int index) {
    Instance& server = servers_[index];
    for (int n = 0; !stop_.load(); ++n) {
      const std::string tag = absl::StrCat("d", writer, "n", n, "p", ::getpid() % 100000);
      AckedWrite a;
      const grpc::Status status =
          testing::WriteTagged(*server.referrals, *server.organisations, writers_.desk,
                               writers_.organisation, n % 4 == 3, tag, a);
      std::unique_lock lock(mu_);
      if (status.ok()) {
        acked_.push_back(std::move(a));
        ++server.acked;
        if (phase_ == Phase::kRecovering &&
            server.first_ok_after_disruption == Clock::time_point{}) {
          server.first_ok_after_disruption = Clock::now();
        }
        continue;
      }
      const Clock::time_point now = Clock::now();
      ++server.failures[status.error_code()];
      if (server.first_failure == Clock::time_point{}) server.first_failure = now;
      server.last_failure = now;
      const bool expected = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                            status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
      const bool recovered = server.first_ok_after_disruption != Clock::time_point{};
      const Phase phase = phase_;
      lock.unlock();
      if (phase == Phase::kBefore || recovered || !expected) {
        Problem(absl::StrCat("server ", index, ": a write failed ",
                             phase == Phase::kBefore ? "before the disruption"
                             : recovered             ? "after the server had recovered"
                                                     : "with an unexpected code",
                             ": ", status.error_code(), " ", status.error_message()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  void Report() {
    std::lock_guard lock(mu_);
    std::cout << "pg_drill: " << acked_.size() << " write(s) acknowledged in all\n";
    for (size_t i = 0; i < servers_.size(); ++i) {
      const Instance& s = servers_[i];
      std::cout << "  server " << i << ": " << s.acked << " acknowledged";
      for (const auto& [code, n] : s.failures)
        std::cout << ", " << n << " failed (code " << code << ")";
      if (s.first_failure != Clock::time_point{}) {
        std::cout << "; calls failed from "
                  << static_cast<int>(MsBetween(disrupted_at_, s.first_failure)) << " ms to "
                  << static_cast<int>(MsBetween(disrupted_at_, s.last_failure))
                  << " ms after the disruption began";
      }
      if (s.first_ok_after_disruption != Clock::time_point{}) {
        std::cout << "; first write acknowledged after it ended: "
                  << static_cast<int>(MsBetween(disruption_done_at_, s.first_ok_after_disruption))
                  << " ms";
      }
      std::cout << "\n";
    }
  }

  // What the check found, added to the totals and said.
  void Count(const std::string& where, const testing::StoredCheck& check) {
    lost_ += check.lost;
    for (const std::string& problem : check.problems) {
      std::cerr << "pg_drill: " << where << problem << "\n";
    }
    std::lock_guard lock(problem_mu_);
    problems_ += static_cast<int64_t>(check.problems.size()) - check.lost;
  }

  // Each server's listener for other servers' commits (LISTEN) found the new database too: a
  // case created through the first server reaches a stream waiting on the last one.
  void CheckEventsReachTheOtherServer() {
    auto events = v1::CaseEventService::NewStub(servers_.back().channel);
    int64_t last = 0;
    {
      v1::StreamCaseEventsRequest request;
      request.set_stop_at_end(true);
      auto context = testing::WithToken(writers_.desk);
      context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      std::unique_ptr<grpc::ClientReader<v1::CaseEvent>> sofar =
          events->StreamCaseEvents(context.get(), request);
      for (v1::CaseEvent event; sofar->Read(&event);) last = event.position();
      if (const grpc::Status s = sofar->Finish(); !s.ok()) {
        Problem("reading the events so far: " + s.error_message());
        return;
      }
    }
    v1::StreamCaseEventsRequest request;
    request.set_after_position(last);
    auto context = testing::WithToken(writers_.desk);
    std::unique_ptr<grpc::ClientReader<v1::CaseEvent>> waiting =
        events->StreamCaseEvents(context.get(), request);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // The stream is waiting.
    AckedWrite created;
    const grpc::Status wrote =
        testing::WriteTagged(*servers_[0].referrals, *servers_[0].organisations, writers_.desk,
                             writers_.organisation, false, "events-after", created);
    if (!wrote.ok()) {
      Problem("a referral after the drill failed: " + wrote.error_message());
      return;
    }
    v1::CaseEvent event;
    if (!waiting->Read(&event) || event.case_id() != created.id) {
      Problem(
          absl::StrCat("the last server did not stream the case created through the first "
                       "(case ",
                       created.id, "; got case ", event.case_id(), ")"));
      return;
    }
    context->TryCancel();
    waiting->Finish();
    std::cout << "pg_drill: a case created through server 0 was streamed by server "
              << servers_.size() - 1 << " after the disruption\n";
  }

  int Finish() {
    for (Instance& s : servers_) {
      if (s.process != nullptr && s.process->SignalAndWait(SIGTERM) != 0) {
        Problem("a server did not stop cleanly on SIGTERM: " + s.process->Log());
      }
    }
    std::cout << "pg_drill: " << acked_.size() << " acknowledged, " << lost_ << " lost, "
              << problems_ << " other problem(s)" << std::endl;
    return lost_ == 0 && problems_ == 0 ? 0 : 1;
  }

  const std::string dir_;
  std::vector<Instance> servers_;
  testing::Writers writers_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;  // Guards what follows, and each Instance's counts.
  Phase phase_ = Phase::kBefore;
  Clock::time_point disrupted_at_{};
  Clock::time_point disruption_done_at_{};
  std::vector<AckedWrite> acked_;
  std::mutex problem_mu_;
  int64_t problems_ = 0;
  int64_t lost_ = 0;
};

}  // namespace
}  // namespace mediation

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_db).empty() || absl::GetFlag(FLAGS_disrupt).empty()) {
    std::cerr << "pg_drill: --db and --disrupt are required\n";
    return 2;
  }
  if (!absl::GetFlag(FLAGS_work_dir).empty()) {
    return mediation::Drill(absl::GetFlag(FLAGS_work_dir)).Run();
  }
  mediation::testing::TempDir dir;
  return mediation::Drill(dir.path().string()).Run();
}
