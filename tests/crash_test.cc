// Crash survival: runs the real mediation-server binary on a temporary database, drives
// concurrent writes through gRPC, kills the server with SIGKILL at a random moment, restarts it
// and checks, round after round, that
//   - every write acknowledged OK is present with exactly the content it was sent with,
//   - nothing half-written is visible: every case has both its parties and its first state, and
//     every stored referral or organisation has its audit row (written in the same transaction),
//   - the audit chain verifies (AdminService.VerifyAuditChain) and PRAGMA integrity_check is ok.
//
// CTest runs a few short rounds. Run it long on demand:
//   build/tests/crash_test --rounds=100 --writers=32 --server_workers=16 --seed=7
// It prints the rounds, acknowledged writes and lost writes, and exits 1 on any loss.
#include <SQLiteCpp/SQLiteCpp.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ppa/mediation/v1/admin.grpc.pb.h"
#include "ppa/mediation/v1/organisation.grpc.pb.h"
#include "ppa/mediation/v1/referral.grpc.pb.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

ABSL_FLAG(int, rounds, 5, "How many times the server is killed and restarted.");
ABSL_FLAG(int, writers, 8, "Client threads writing concurrently.");
ABSL_FLAG(int, server_workers, 8, "The server's --workers.");
ABSL_FLAG(uint64_t, seed, 1, "Seeds the kill moments and the written content.");
ABSL_FLAG(int, max_kill_ms, 600,
          "Each round kills the server within this many ms of its first acknowledged write.");
ABSL_FLAG(bool, sabotage, false,
          "Shows the checks can fail: after each kill, deletes the last acknowledged organisation "
          "behind the server's back (the run must then report lost writes and exit 1).");

namespace mediation {
namespace {

using ::mediation::testing::ReadAll;
using ::mediation::testing::ServerProcess;

namespace v1 = ::ppa::mediation::v1;

std::unique_ptr<grpc::ClientContext> WithToken(const std::string& secret) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + secret);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

v1::Organisation MakeOrganisation(const std::string& name) {
  v1::Organisation o;
  o.set_name(name);
  o.set_kind(v1::ORGANISATION_KIND_NHS_TRUST);
  o.set_nation(v1::NATION_ENGLAND);
  o.set_care_setting(v1::CARE_SETTING_SECONDARY);
  o.set_sector(v1::SECTOR_PUBLIC);
  o.mutable_contact()->set_name("Priya Shah");
  o.mutable_contact()->set_email("priya.shah@example.nhs.uk");
  return o;
}

// The referrer's address, in plain text in the file (the summary is sealed), names the write.
std::string ReferrerEmail(const std::string& tag) {
  return absl::StrCat("sam.okafor+", absl::AsciiStrToLower(tag), "@example.nhs.uk");
}

v1::CreateReferralRequest MakeReferral(int64_t organisation_id, const std::string& tag) {
  v1::CreateReferralRequest r;
  r.set_organisation_id(organisation_id);
  r.mutable_referrer()->set_name("Sam Okafor");
  r.mutable_referrer()->set_email(ReferrerEmail(tag));
  r.set_summary(absl::StrCat("Crash test referral ", tag, ": a breakdown on the ward rota."));
  r.set_concern_level(v1::CONCERN_LEVEL_MID);
  r.set_concern_type(v1::CONCERN_TYPE_ACTIVE);
  for (const char* who : {"Alex", "Jo"}) {
    v1::Party* p = r.add_parties();
    p->mutable_contact()->set_name(absl::StrCat("Dr ", who, " ", tag));
    p->mutable_contact()->set_email(absl::StrCat(absl::AsciiStrToLower(who), "@example.nhs.uk"));
    p->set_profession(v1::PROFESSION_DOCTOR);
  }
  return r;
}

// One write the server acknowledged OK, with what identifies it.
struct Acknowledged {
  enum Kind { kReferral, kOrganisation } kind;
  int64_t id;
  std::string reference;  // Referrals.
  std::string text;       // The summary, or the organisation's name.
  std::string tag;        // In the parties' names.
};

struct Totals {
  int rounds = 0;
  int64_t acknowledged = 0;
  int64_t lost = 0;  // Acknowledged but missing or changed.
  int64_t unacknowledged = 0;
  int64_t problems = 0;  // Anything else wrong.
};

class CrashTest {
 public:
  CrashTest()
      : db_(dir_.File("mediation.db")),
        rng_(absl::GetFlag(FLAGS_seed)),
        workers_(absl::GetFlag(FLAGS_server_workers)) {}

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
    std::cout << "crash_test: " << totals_.rounds << " round(s), " << writers << " writer(s), "
              << workers_ << " server worker(s), seed " << absl::GetFlag(FLAGS_seed) << ": "
              << totals_.acknowledged << " acknowledged write(s), " << totals_.lost << " lost, "
              << totals_.unacknowledged << " unacknowledged (in flight at a kill or refused), "
              << totals_.problems << " other problem(s)\n";
    return totals_.lost == 0 && totals_.problems == 0 ? 0 : 1;
  }

 private:
  void Problem(const std::string& what) {
    ++totals_.problems;
    std::cerr << "crash_test: " << what << "\n";
  }

  std::unique_ptr<ServerProcess> Start(int round, int* port) {
    auto server = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--listen=127.0.0.1:0", "--http_listen=", "--db=" + db_,
                                 absl::StrCat("--workers=", workers_),
                                 "--maintenance_interval_seconds=3600"},
        dir_.File(absl::StrCat("server-", round, ".log")));
    *port = server->WaitForPort();
    return server;
  }

  // Starts the server, writes until the kill, restarts and checks everything so far.
  bool RunRound(int round, int writers) {
    int port = 0;
    std::unique_ptr<ServerProcess> server = Start(round, &port);
    if (port == 0) {
      Problem(absl::StrCat("round ", round, ": the server did not start: ", server->Log()));
      return false;
    }
    auto channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
    if (round == 1 && !SetUp(channel)) return false;

    auto referrals = v1::ReferralService::NewStub(channel);
    auto organisations = v1::OrganisationService::NewStub(channel);
    std::atomic<bool> killed{false};
    std::mutex mu;
    std::vector<Acknowledged> acked;
    std::atomic<int64_t> unacknowledged{0};
    std::atomic<int64_t> acked_count{0};
    std::vector<std::thread> threads;
    const uint64_t round_seed = rng_();
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        for (int n = 0; !killed.load(); ++n) {
          const std::string tag =
              absl::StrCat("r", round, "w", w, "n", n, "s", round_seed % 100000);
          Acknowledged a{};
          grpc::Status status;
          if (n % 4 == 3) {
            v1::RegisterOrganisationRequest request;
            *request.mutable_organisation() = MakeOrganisation("Trust " + tag);
            v1::RegisterOrganisationResponse response;
            status =
                organisations->RegisterOrganisation(WithToken(desk_).get(), request, &response);
            a = {Acknowledged::kOrganisation, response.organisation().id(), "",
                 request.organisation().name(), tag};
          } else {
            const v1::CreateReferralRequest request = MakeReferral(organisation_, tag);
            v1::CreateReferralResponse response;
            status = referrals->CreateReferral(WithToken(desk_).get(), request, &response);
            a = {Acknowledged::kReferral, response.case_().id(), response.case_().reference(),
                 request.summary(), tag};
          }
          if (status.ok()) {
            std::lock_guard lock(mu);
            acked.push_back(std::move(a));
            ++acked_count;
            continue;
          }
          ++unacknowledged;
          if (!killed.load()) {
            std::lock_guard lock(mu);
            Problem(absl::StrCat("round ", round, ": a write failed before the kill: ",
                                 status.error_code(), " ", status.error_message()));
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
    killed = true;
    server->Kill();
    for (std::thread& t : threads) t.join();
    if (absl::GetFlag(FLAGS_sabotage)) Sabotage(acked);
    totals_.acknowledged += static_cast<int64_t>(acked.size());
    totals_.unacknowledged += unacknowledged.load();
    all_.insert(all_.end(), acked.begin(), acked.end());

    // Restart on the same files: SQLite recovers from its write-ahead log.
    server = Start(round * 1000, &port);
    if (port == 0) {
      Problem(absl::StrCat("round ", round, ": the server did not restart: ", server->Log()));
      return false;
    }
    channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
    const int64_t problems_before = totals_.problems;
    CheckStoredRows(round);
    CheckThroughTheServer(round, channel, acked);
    server->Kill();  // Between rounds too: a kill while idle must lose nothing either.
    std::cout << "round " << round << ": " << acked.size() << " acknowledged, "
              << unacknowledged.load() << " unacknowledged; " << all_.size()
              << " acknowledged so far, " << totals_.lost << " lost\n";
    return totals_.lost == 0 && totals_.problems == problems_before;
  }

  void Sabotage(const std::vector<Acknowledged>& acked) {
    for (auto it = acked.rbegin(); it != acked.rend(); ++it) {
      if (it->kind != Acknowledged::kOrganisation) continue;
      SQLite::Database db(db_, SQLite::OPEN_READWRITE);
      SQLite::Statement erase(db, "DELETE FROM organisations WHERE id = ?");
      erase.bind(1, static_cast<int64_t>(it->id));
      erase.exec();
      std::cerr << "crash_test: sabotage: deleted organisation " << it->id << "\n";
      return;
    }
  }

  // First round: a case support token and an organisation to refer for.
  bool SetUp(const std::shared_ptr<grpc::Channel>& channel) {
    admin_ = ReadAll(dir_.File("admin.token"));
    while (!admin_.empty() && (admin_.back() == '\n' || admin_.back() == '\r')) admin_.pop_back();
    auto admin = v1::AdminService::NewStub(channel);
    v1::IssueTokenRequest issue;
    issue.set_role(v1::ROLE_CASE_SUPPORT);
    issue.set_label("crash test desk");
    v1::IssueTokenResponse issued;
    grpc::Status s = admin->IssueToken(WithToken(admin_).get(), issue, &issued);
    if (!s.ok()) {
      Problem("could not issue a token: " + s.error_message());
      return false;
    }
    desk_ = issued.secret();
    v1::RegisterOrganisationRequest org;
    *org.mutable_organisation() = MakeOrganisation("Northshire Hospitals NHS Trust");
    v1::RegisterOrganisationResponse registered;
    s = v1::OrganisationService::NewStub(channel)->RegisterOrganisation(WithToken(desk_).get(), org,
                                                                        &registered);
    if (!s.ok()) {
      Problem("could not register the organisation: " + s.error_message());
      return false;
    }
    organisation_ = registered.organisation().id();
    return true;
  }

  // Every acknowledged write so far, read directly from the file, and the invariants.
  void CheckStoredRows(int round) {
    SQLite::Database db(db_, SQLite::OPEN_READONLY);
    const std::string integrity = db.execAndGet("PRAGMA integrity_check").getString();
    if (integrity != "ok") Problem(absl::StrCat("round ", round, ": integrity_check: ", integrity));
    SQLite::Statement get_case(db, "SELECT reference, referrer_email FROM cases WHERE id = ?");
    SQLite::Statement get_parties(db,
                                  "SELECT name FROM parties WHERE case_id = ? ORDER BY position");
    SQLite::Statement get_org(db, "SELECT name FROM organisations WHERE id = ?");
    for (const Acknowledged& a : all_) {
      bool same = false;
      if (a.kind == Acknowledged::kReferral) {
        get_case.reset();
        get_case.bind(1, static_cast<int64_t>(a.id));
        get_parties.reset();
        get_parties.bind(1, static_cast<int64_t>(a.id));
        std::vector<std::string> parties;
        while (get_parties.executeStep()) parties.push_back(get_parties.getColumn(0).getString());
        same = get_case.executeStep() && get_case.getColumn(0).getString() == a.reference &&
               get_case.getColumn(1).getString() == ReferrerEmail(a.tag) &&
               parties == std::vector<std::string>{"Dr Alex " + a.tag, "Dr Jo " + a.tag};
      } else {
        get_org.reset();
        get_org.bind(1, static_cast<int64_t>(a.id));
        same = get_org.executeStep() && get_org.getColumn(0).getString() == a.text;
      }
      if (!same) {
        ++totals_.lost;
        std::cerr << "crash_test: round " << round << ": acknowledged write " << a.tag << " ("
                  << (a.kind == Acknowledged::kReferral ? "case " : "organisation ") << a.id
                  << ") is missing or changed\n";
      }
    }
    auto count = [&](const char* sql) { return db.execAndGet(sql).getInt64(); };
    if (const int64_t n = count("SELECT COUNT(*) FROM cases c WHERE (SELECT COUNT(*) FROM parties "
                                "p WHERE p.case_id = c.id) <> 2");
        n != 0) {
      Problem(absl::StrCat("round ", round, ": ", n, " case(s) without both parties"));
    }
    if (const int64_t n = count("SELECT COUNT(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM "
                                "case_state_history h WHERE h.case_id = c.id)");
        n != 0) {
      Problem(absl::StrCat("round ", round, ": ", n, " case(s) without their first state"));
    }
    const int64_t cases = count("SELECT COUNT(*) FROM cases");
    const int64_t audited_cases = count(
        "SELECT COUNT(*) FROM audit_events WHERE method = "
        "'/ppa.mediation.v1.ReferralService/CreateReferral' AND outcome = 'OK'");
    if (cases != audited_cases) {
      Problem(absl::StrCat("round ", round, ": ", cases, " cases but ", audited_cases,
                           " audited referrals"));
    }
    const int64_t orgs = count("SELECT COUNT(*) FROM organisations");
    const int64_t audited_orgs = count(
        "SELECT COUNT(*) FROM audit_events WHERE method = "
        "'/ppa.mediation.v1.OrganisationService/RegisterOrganisation' AND outcome = 'OK'");
    if (orgs != audited_orgs) {
      Problem(absl::StrCat("round ", round, ": ", orgs, " organisations but ", audited_orgs,
                           " audited registrations"));
    }
  }

  // The restarted server serves what it acknowledged, and its audit chain holds.
  void CheckThroughTheServer(int round, const std::shared_ptr<grpc::Channel>& channel,
                             const std::vector<Acknowledged>& acked) {
    v1::VerifyAuditChainResponse chain;
    grpc::Status s =
        v1::AdminService::NewStub(channel)->VerifyAuditChain(WithToken(admin_).get(), {}, &chain);
    if (!s.ok() || !chain.intact()) {
      Problem(absl::StrCat("round ", round, ": audit chain: ", s.error_message(), chain.problem()));
    }
    auto referrals = v1::ReferralService::NewStub(channel);
    int checked = 0;
    for (auto it = acked.rbegin(); it != acked.rend() && checked < 5; ++it) {
      if (it->kind != Acknowledged::kReferral) continue;
      ++checked;
      v1::GetCaseRequest get;
      get.set_case_id(it->id);
      v1::GetCaseResponse got;
      s = referrals->GetCase(WithToken(desk_).get(), get, &got);
      if (!s.ok() || got.case_().summary() != it->text || got.case_().parties_size() != 2) {
        ++totals_.lost;
        std::cerr << "crash_test: round " << round << ": case " << it->id
                  << " does not read back through the server: " << s.error_message() << "\n";
      }
    }
  }

  testing::TempDir dir_;
  const std::string db_;
  std::mt19937_64 rng_;
  const int workers_;
  std::string admin_;
  std::string desk_;
  int64_t organisation_ = 0;
  std::vector<Acknowledged> all_;
  Totals totals_;
};

}  // namespace
}  // namespace mediation

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return mediation::CrashTest().Run();
}
