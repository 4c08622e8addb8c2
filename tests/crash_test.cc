// Crash survival: runs the real mediation-server binary on a temporary database, drives
// concurrent writes through gRPC, kills the server with SIGKILL at a random moment, restarts it
// and checks, round after round, that
//   - every write acknowledged OK is present with exactly the content it was sent with,
//   - nothing half-written is visible: every case has both its parties and its first state, and
//     every stored referral or organisation has its audit row (written in the same transaction),
//   - the audit chain verifies (AdminService.VerifyAuditChain), and on SQLite PRAGMA
//     integrity_check is ok.
//
// On PostgreSQL (MEDIATION_TEST_PG names a cluster, as for the *.pg tests; a fresh database is
// made on it) --instances servers share the database, the writers spread over them, and each
// round kills a random non-empty set of them: the writers on the others must go on being served
// until the round ends.
//
// CTest runs a few short rounds on each engine. Run it long on demand:
//   build/tests/crash_test --rounds=100 --writers=32 --server_workers=16 --seed=7
// It prints the rounds, acknowledged writes and lost writes, and exits 1 on any loss.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ppa/mediation/v1/organisation.grpc.pb.h"
#include "ppa/mediation/v1/referral.grpc.pb.h"
#include "storage/database.h"
#include "storage/sql.h"
#include "tests/support/acked_writes.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_database.h"

ABSL_FLAG(int, rounds, 5, "How many times servers are killed and restarted.");
ABSL_FLAG(int, writers, 8, "Client threads writing concurrently.");
ABSL_FLAG(int, server_workers, 8, "Each server's --workers.");
ABSL_FLAG(int, instances, 2, "Servers sharing the database on PostgreSQL (on SQLite, one).");
ABSL_FLAG(uint64_t, seed, 1, "Seeds the kill moments, the servers killed and the content.");
ABSL_FLAG(int, max_kill_ms, 600,
          "Each round kills within this many ms of its first acknowledged write.");
ABSL_FLAG(int, survivor_ms, 300,
          "On PostgreSQL, how long the servers left running keep taking writes after a kill.");
ABSL_FLAG(bool, sabotage, false,
          "Shows the checks can fail: after each kill, deletes the last acknowledged organisation "
          "behind the server's back (the run must then report lost writes and exit 1).");

namespace mediation {
namespace {

using ::mediation::testing::AckedWrite;
using ::mediation::testing::ServerProcess;

namespace v1 = ::ppa::mediation::v1;

struct Totals {
  int rounds = 0;
  int64_t acknowledged = 0;
  int64_t lost = 0;  // Acknowledged but missing or changed.
  int64_t unacknowledged = 0;
  int64_t problems = 0;  // Anything else wrong.
};

// One server process and what reaches it.
struct Instance {
  std::unique_ptr<ServerProcess> process;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::ReferralService::Stub> referrals;
  std::unique_ptr<v1::OrganisationService::Stub> organisations;
  std::atomic<bool> killed{false};
};

class CrashTest {
 public:
  CrashTest()
      : database_(dir_.File("mediation.db")),
        rng_(absl::GetFlag(FLAGS_seed)),
        workers_(absl::GetFlag(FLAGS_server_workers)),
        instances_(database_.postgres() ? std::max(1, absl::GetFlag(FLAGS_instances)) : 1) {}

  int Run() {
    const int rounds = absl::GetFlag(FLAGS_rounds);
    const int writers = absl::GetFlag(FLAGS_writers);
    for (int round = 1; round <= rounds; ++round) {
      if (!RunRound(round, writers)) {
        ++totals_.problems;
        break;
      }
      ++totals_.rounds;
    }
    std::cout << "crash_test: " << (database_.postgres() ? "PostgreSQL" : "SQLite") << ", "
              << instances_ << " server(s), " << totals_.rounds << " round(s), " << writers
              << " writer(s), " << workers_ << " worker(s) each, seed " << absl::GetFlag(FLAGS_seed)
              << ": " << totals_.acknowledged << " acknowledged write(s), " << totals_.lost
              << " lost, " << totals_.unacknowledged
              << " unacknowledged (in flight at a kill or refused), " << totals_.problems
              << " other problem(s)\n";
    return totals_.lost == 0 && totals_.problems == 0 ? 0 : 1;
  }

 private:
  void Problem(const std::string& what) {
    ++totals_.problems;
    std::cerr << "crash_test: " << what << "\n";
  }

  // Starts server `index`; false (with the problem said) if it did not come up.
  bool Start(Instance& instance, int index, const std::string& run) {
    instance.process = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--listen=127.0.0.1:0", "--http_listen=", "--db=" + database_.db(),
                                 "--master_key_file=" + dir_.File("master.key"),
                                 "--admin_token_file=" + dir_.File("admin.token"),
                                 absl::StrCat("--workers=", workers_),
                                 "--maintenance_interval_seconds=3600"},
        dir_.File(absl::StrCat("server-", run, "-", index, ".log")));
    const int port = instance.process->WaitForPort();
    if (port == 0) {
      Problem(
          absl::StrCat("server ", index, " did not start (", run, "): ", instance.process->Log()));
      return false;
    }
    instance.channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
    instance.referrals = v1::ReferralService::NewStub(instance.channel);
    instance.organisations = v1::OrganisationService::NewStub(instance.channel);
    instance.killed = false;
    return true;
  }

  // Which servers a round kills: on one server, that one; otherwise a random non-empty set.
  std::vector<bool> ChooseKilled() {
    std::vector<bool> kill(instances_, true);
    if (instances_ == 1) return kill;
    std::uniform_int_distribution<uint64_t> mask(1, (uint64_t{1} << instances_) - 1);
    const uint64_t chosen = mask(rng_);
    for (int i = 0; i < instances_; ++i) kill[i] = (chosen >> i) & 1;
    return kill;
  }

  // Starts the servers, writes until the kill, restarts and checks everything so far.
  bool RunRound(int round, int writers) {
    std::vector<Instance> servers(instances_);
    for (int i = 0; i < instances_; ++i) {
      if (!Start(servers[i], i, absl::StrCat("r", round))) return false;
    }
    if (round == 1 && !SetUp(servers[0].channel)) return false;

    std::atomic<bool> stop{false};
    std::mutex mu;
    std::vector<AckedWrite> acked;
    std::atomic<int64_t> unacknowledged{0};
    std::atomic<int64_t> acked_count{0};
    std::vector<std::thread> threads;
    const uint64_t round_seed = rng_();
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        Instance& server = servers[w % instances_];
        for (int n = 0; !stop.load() && !server.killed.load(); ++n) {
          const std::string tag =
              absl::StrCat("r", round, "w", w, "n", n, "s", round_seed % 100000);
          AckedWrite a;
          const grpc::Status status =
              testing::WriteTagged(*server.referrals, *server.organisations, writers_.desk,
                                   writers_.organisation, n % 4 == 3, tag, a);
          if (status.ok()) {
            std::lock_guard lock(mu);
            acked.push_back(std::move(a));
            ++acked_count;
            continue;
          }
          ++unacknowledged;
          if (!server.killed.load()) {
            std::lock_guard lock(mu);
            Problem(absl::StrCat("round ", round, ": a write to server ", w % instances_,
                                 " failed while it was running: ", status.error_code(), " ",
                                 status.error_message()));
          }
          return;
        }
      });
    }
    std::uniform_int_distribution<int> kill_after(10,
                                                  std::max(10, absl::GetFlag(FLAGS_max_kill_ms)));
    // The kill comes at a random moment once writes are flowing.
    for (int i = 0; i < 1000 && acked_count.load() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after(rng_)));
    const std::vector<bool> kill = ChooseKilled();
    std::vector<int> killed;
    for (int i = 0; i < instances_; ++i) {
      if (!kill[i]) continue;
      servers[i].killed = true;
      servers[i].process->Kill();
      killed.push_back(i);
    }
    // The others go on serving: a killed server's open transaction and locks must not hold them.
    const int64_t acked_at_kill = acked_count.load();
    if (static_cast<int>(killed.size()) < instances_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(absl::GetFlag(FLAGS_survivor_ms)));
    }
    stop = true;
    for (std::thread& t : threads) t.join();
    if (static_cast<int>(killed.size()) < instances_ && acked_count.load() == acked_at_kill) {
      Problem(absl::StrCat("round ", round,
                           ": no write was acknowledged by the servers left "
                           "running after the kill"));
    }
    if (absl::GetFlag(FLAGS_sabotage)) Sabotage(acked);
    totals_.acknowledged += static_cast<int64_t>(acked.size());
    totals_.unacknowledged += unacknowledged.load();
    all_.insert(all_.end(), acked.begin(), acked.end());

    // Restart the killed servers (SQLite recovers from its write-ahead log; PostgreSQL rolled back
    // what their connections left open).
    for (int i : killed) {
      if (!Start(servers[i], i, absl::StrCat("r", round, "-restart"))) return false;
    }
    const int64_t problems_before = totals_.problems;
    Count(round, testing::CheckStored(database_.db(), all_));
    for (const Instance& server : servers) CheckThroughTheServer(round, server.channel, acked);
    // Between rounds too: a kill while idle must lose nothing either.
    for (Instance& server : servers) server.process->Kill();
    std::cout << "round " << round << ": killed server(s) " << absl::StrJoin(killed, ",") << " of "
              << instances_ << "; " << acked.size() << " acknowledged, " << unacknowledged.load()
              << " unacknowledged; " << all_.size() << " acknowledged so far, " << totals_.lost
              << " lost\n";
    return totals_.lost == 0 && totals_.problems == problems_before;
  }

  void Sabotage(const std::vector<AckedWrite>& acked) {
    for (auto it = acked.rbegin(); it != acked.rend(); ++it) {
      if (it->kind != AckedWrite::kOrganisation) continue;
      absl::StatusOr<std::unique_ptr<storage::EngineStore>> store =
          storage::OpenDatabase({.db = database_.db()});
      absl::Status erased = store.ok() ? (*store)->Write([&](storage::Tx& tx) {
        storage::Statement erase(tx, "DELETE FROM organisations WHERE id = ?");
        erase.bind(1, it->id);
        erase.exec();
        return absl::OkStatus();
      })
                                       : store.status();
      std::cerr << "crash_test: sabotage: deleted organisation " << it->id << ": " << erased
                << "\n";
      return;
    }
  }

  // First round: the tokens and the organisation the writers use.
  bool SetUp(const std::shared_ptr<grpc::Channel>& channel) {
    absl::StatusOr<testing::Writers> writers =
        testing::SetUpWriters(channel, dir_.File("admin.token"));
    if (!writers.ok()) {
      Problem(std::string(writers.status().message()));
      return false;
    }
    writers_ = *std::move(writers);
    return true;
  }

  // A restarted (or surviving) server serves what was acknowledged, and the audit chain holds.
  void CheckThroughTheServer(int round, const std::shared_ptr<grpc::Channel>& channel,
                             const std::vector<AckedWrite>& acked) {
    const testing::StoredCheck served = testing::CheckThroughServer(channel, writers_, acked);
    Count(round, served);
  }

  // Adds what a check found to the totals, and says it.
  void Count(int round, const testing::StoredCheck& check) {
    totals_.lost += check.lost;
    totals_.problems += static_cast<int64_t>(check.problems.size()) - check.lost;
    for (const std::string& problem : check.problems) {
      std::cerr << "crash_test: round " << round << ": " << problem << "\n";
    }
  }

  testing::TempDir dir_;
  testing::TestDatabase database_;
  std::mt19937_64 rng_;
  const int workers_;
  const int instances_;
  testing::Writers writers_;
  std::vector<AckedWrite> all_;
  Totals totals_;
};

}  // namespace
}  // namespace mediation

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return mediation::CrashTest().Run();
}
