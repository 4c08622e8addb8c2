// rotation_bench: how fast a master key rotation re-wraps data keys, on the real server
// in-process over a SQLite file with synchronous=FULL. Run on demand:
//   build/tests/rotation_bench [--cases=20000] [--batch=200] [--writers=4]
// It gives `--cases` cases their record and notes keys (written straight through storage/, 2 data
// keys a case), starts AdminService.RotateMasterKey, and polls GetKeyRotation until it completes,
// while `--writers` clients create referrals throughout (each a new case key). It prints the
// data keys re-wrapped, the seconds, keys a second, and the writers' referrals a second during
// the rotation, against the same writers for as long before it (so the cost to other calls
// shows).
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "storage/data_keys.h"
#include "storage/sqlite_store.h"
#include "tests/support/test_server.h"

ABSL_FLAG(int, cases, 20000, "Cases whose two keys the rotation re-wraps.");
ABSL_FLAG(int, batch, 200, "Data keys re-wrapped per transaction (--key_rotation_batch).");
ABSL_FLAG(int, writers, 4, "Clients creating referrals throughout.");

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
using ::mediation::testing::ValidReferral;
using ::mediation::testing::WithToken;

int Main() {
  const int cases = absl::GetFlag(FLAGS_cases);
  TestServer server([](ServerOptions& o) { o.key_rotation_batch = absl::GetFlag(FLAGS_batch); });
  const int64_t org = server.RegisterOrganisation("Northshire Hospitals NHS Trust");
  {
    // Keys for cases that need not exist as rows: the rotation re-wraps every data key.
    absl::StatusOr<std::unique_ptr<storage::SqliteStore>> store = storage::SqliteStore::Open(
        {.path = server.db_path(), .master_keys = server.server().master_keys()});
    if (!store.ok()) return std::fprintf(stderr, "%s\n", store.status().ToString().c_str()), 1;
    for (int first = 0; first < cases; first += 1000) {
      const absl::Status s = (*store)->Write([&](storage::Tx& tx) -> absl::Status {
        for (int c = first; c < std::min(cases, first + 1000); ++c) {
          for (auto purpose : {storage::KeyPurpose::kRecord, storage::KeyPurpose::kNotes}) {
            absl::StatusOr<std::string> k =
                storage::GetOrCreateDataKey(tx, purpose, 1000000 + c, absl::Now());
            if (!k.ok()) return k.status();
          }
        }
        return absl::OkStatus();
      });
      if (!s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
    }
  }

  const std::string desk = server.case_support();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> created{0}, failed{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < absl::GetFlag(FLAGS_writers); ++w) {
    writers.emplace_back([&] {
      while (!stop.load()) {
        v1::CreateReferralResponse out;
        if (server.referrals()
                .CreateReferral(WithToken(desk).get(), ValidReferral(org), &out)
                .ok()) {
          ++created;
        } else {
          ++failed;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const int64_t before = created.exchange(0);

  const absl::Time began = absl::Now();
  v1::RotateMasterKeyResponse rotating;
  const grpc::Status started =
      server.admin().RotateMasterKey(WithToken(server.admin_secret()).get(), {}, &rotating);
  if (!started.ok()) return std::fprintf(stderr, "%s\n", started.error_message().c_str()), 1;
  v1::GetKeyRotationResponse progress;
  for (;;) {
    if (!server.admin()
             .GetKeyRotation(WithToken(server.admin_secret()).get(), {}, &progress)
             .ok() ||
        progress.rotation().has_completed_at()) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - began);
  const int64_t during = created.exchange(0);
  stop = true;
  for (std::thread& t : writers) t.join();
  if (!progress.rotation().has_completed_at()) {
    std::fprintf(stderr, "the rotation did not complete\n");
    return 1;
  }
  std::printf(
      "rotation: %lld data keys re-wrapped in %.2f s: %.0f keys/s (batch %d)\n"
      "writers: %.0f referrals/s before, %.0f during the rotation; %lld failed\n",
      static_cast<long long>(progress.rotation().keys_rewrapped()), seconds,
      progress.rotation().keys_rewrapped() / seconds, absl::GetFlag(FLAGS_batch), before / 2.0,
      during / seconds, static_cast<long long>(failed.load()));
  return failed.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace mediation

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return mediation::Main();
}
