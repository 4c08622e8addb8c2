// Outbox crash survival: the real mediation-server binary sends its outbox to a real SMTP server on
// loopback (tests/support/smtp_sink.py, which records every message it accepts) while clients
// keep writing messages (CaseService.IssuePartySignInLink: one message each, holding the link),
// and is killed with SIGKILL at a random moment, round after round: either while messages are
// being written and sent, or once the writing stopped, while it works off what is waiting. After
// the last round it is started once more and left to send everything. Then:
//   - every message in the outbox is SENT and reached the mail server at least once;
//   - every link the server acknowledged reached the mail server (its message holds it);
//   - copies of a message (sent again after a kill: delivery is at least once) share its
//     Message-ID and are the same bytes, no message went out under two Message-IDs, and the
//     mail server holds nothing the outbox does not.
//
// CTest runs a few rounds. Run it long on demand:
//   build/tests/outbox_crash_test --rounds=50 --seed=7
// It prints the rounds, messages, deliveries, duplicates and lost messages, and exits 1 on any
// loss or other problem (--sabotage shows that it does).
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ppa/mediation/v1/admin.grpc.pb.h"
#include "ppa/mediation/v1/case.grpc.pb.h"
#include "ppa/mediation/v1/notification.grpc.pb.h"
#include "ppa/mediation/v1/organisation.grpc.pb.h"
#include "ppa/mediation/v1/referral.grpc.pb.h"
#include "tests/support/server_process.h"
#include "tests/support/smtp_sink.h"
#include "tests/support/temp_dir.h"

ABSL_FLAG(int, rounds, 5, "How many times the server is killed and restarted.");
ABSL_FLAG(uint64_t, seed, 1, "Seeds the kill moments.");
ABSL_FLAG(int, writers, 2, "Client threads writing messages concurrently.");
ABSL_FLAG(int, pause_ms, 4, "Each writer's pause between two writes.");
ABSL_FLAG(int, max_kill_ms, 600,
          "Each round kills the server within this many ms of its first acknowledged write (or "
          "of the end of the writing).");
ABSL_FLAG(int, drain_seconds, 120, "How long the last start may take to send what is waiting.");
ABSL_FLAG(bool, sabotage, false,
          "Shows the checks can fail: before the last check, deletes the mail server's only copy "
          "of one message (the run must then report it lost and exit 1).");

namespace mediation {
namespace {

namespace v1 = ::ppa::mediation::v1;
using ::mediation::testing::ReadAll;
using ::mediation::testing::ServerProcess;
using ::mediation::testing::SmtpSink;
using Json = nlohmann::json;

constexpr char kPublicUrl[] = "http://127.0.0.1:8080";

std::unique_ptr<grpc::ClientContext> WithToken(const std::string& secret) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + secret);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

// Deletes the record of the first message `sink` received only once.
void ForgetOne(const SmtpSink& sink) {
  std::map<std::string, std::vector<std::string>> files;
  for (const auto& entry : std::filesystem::directory_iterator(sink.dir())) {
    const std::string name = entry.path().filename().string();
    if (!absl::EndsWith(name, ".json") || name[0] == '.') continue;
    files[Json::parse(ReadAll(entry.path().string()))["message_id"]].push_back(
        entry.path().string());
  }
  for (const auto& [id, names] : files) {
    if (names.size() != 1) continue;
    std::filesystem::remove(names.front());
    std::cerr << "outbox_crash_test: sabotage: forgot the delivery of " << id << "\n";
    return;
  }
}

class OutboxCrashTest {
 public:
  OutboxCrashTest()
      : sink_(dir_.File("mail"), dir_.File("smtp_sink.log")), rng_(absl::GetFlag(FLAGS_seed)) {}

  int Run() {
    if (!sink_.Start()) {
      std::cerr << "outbox_crash_test: the SMTP sink did not start: "
                << ReadAll(dir_.File("smtp_sink.log")) << "\n";
      return 1;
    }
    const int rounds = absl::GetFlag(FLAGS_rounds);
    const absl::Time began = absl::Now();
    for (int round = 1; round <= rounds && problems_ == 0; ++round) {
      if (RunRound(round)) ++rounds_done_;
    }
    if (problems_ == 0) Check();
    std::cout << "outbox_crash_test: " << rounds_done_ << " round(s), seed "
              << absl::GetFlag(FLAGS_seed) << ", " << absl::ToInt64Seconds(absl::Now() - began)
              << " s: " << messages_ << " message(s) (" << acknowledged_.size()
              << " acknowledged), " << deliveries_ << " deliveries, " << duplicates_
              << " duplicate(s), " << lost_ << " lost (" << lost_links_
              << " acknowledged link(s) never delivered), " << problems_.load()
              << " other problem(s)\n";
    return lost_ == 0 && lost_links_ == 0 && problems_ == 0 ? 0 : 1;
  }

 private:
  void Problem(const std::string& what) {
    ++problems_;
    std::cerr << "outbox_crash_test: " << what << "\n";
  }

  std::unique_ptr<ServerProcess> Start(const std::string& name,
                                       std::shared_ptr<grpc::Channel>* channel) {
    auto server = std::make_unique<ServerProcess>(
        std::vector<std::string>{
            "--listen=127.0.0.1:0", "--http_listen=", "--db=" + dir_.File("mediation.db"),
            "--workers=4", "--maintenance_interval_seconds=3600",
            absl::StrCat("--smtp_url=smtp://127.0.0.1:", sink_.port()), "--smtp_allow_plaintext",
            "--smtp_from=mediation@ppa.test", absl::StrCat("--public_url=", kPublicUrl),
            "--smtp_retry_seconds=1", "--smtp_retry_max_seconds=2", "--smtp_max_attempts=1000",
            "--outbox_poll_seconds=1"},
        dir_.File(absl::StrCat("server-", name, ".log")));
    const int port = server->WaitForPort();
    if (port == 0) {
      Problem(absl::StrCat(name, ": the server did not start: ", server->Log()));
      return nullptr;
    }
    *channel =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
    return server;
  }

  // First round: a case support token and a referred case whose parties get the links.
  bool SetUp(const std::shared_ptr<grpc::Channel>& channel) {
    const std::string admin(absl::StripTrailingAsciiWhitespace(ReadAll(dir_.File("admin.token"))));
    v1::IssueTokenRequest issue;
    issue.set_role(v1::ROLE_CASE_SUPPORT);
    issue.set_label("outbox crash test");
    v1::IssueTokenResponse issued;
    grpc::Status s =
        v1::AdminService::NewStub(channel)->IssueToken(WithToken(admin).get(), issue, &issued);
    if (!s.ok()) {
      Problem("could not issue a token: " + s.error_message());
      return false;
    }
    desk_ = issued.secret();
    v1::RegisterOrganisationRequest org;
    v1::Organisation* o = org.mutable_organisation();
    o->set_name("Northshire Hospitals NHS Trust");
    o->set_kind(v1::ORGANISATION_KIND_NHS_TRUST);
    o->set_nation(v1::NATION_ENGLAND);
    o->set_care_setting(v1::CARE_SETTING_SECONDARY);
    o->set_sector(v1::SECTOR_PUBLIC);
    o->mutable_contact()->set_name("Priya Shah");
    o->mutable_contact()->set_email("priya.shah@example.nhs.uk");
    v1::RegisterOrganisationResponse registered;
    s = v1::OrganisationService::NewStub(channel)->RegisterOrganisation(WithToken(desk_).get(), org,
                                                                        &registered);
    if (!s.ok()) {
      Problem("could not register the organisation: " + s.error_message());
      return false;
    }
    v1::CreateReferralRequest referral;
    referral.set_organisation_id(registered.organisation().id());
    referral.mutable_referrer()->set_name("Sam Okafor");
    referral.mutable_referrer()->set_email("sam.okafor@example.nhs.uk");
    referral.set_summary("A breakdown in communication on the ward rota.");
    referral.set_concern_level(v1::CONCERN_LEVEL_MID);
    referral.set_concern_type(v1::CONCERN_TYPE_ACTIVE);
    for (const char* who : {"alex", "jo"}) {
      v1::Party* p = referral.add_parties();
      p->mutable_contact()->set_name(absl::StrCat("Dr ", who));
      p->mutable_contact()->set_email(absl::StrCat(who, "@example.nhs.uk"));
      p->set_profession(v1::PROFESSION_DOCTOR);
    }
    v1::CreateReferralResponse created;
    s = v1::ReferralService::NewStub(channel)->CreateReferral(WithToken(desk_).get(), referral,
                                                              &created);
    if (!s.ok()) {
      Problem("could not refer the case: " + s.error_message());
      return false;
    }
    case_id_ = created.case_().id();
    for (const v1::Party& p : created.case_().parties()) parties_.push_back(p.id());
    return true;
  }

  // Starts the server, writes links until the kill (or stops writing first, then kills).
  bool RunRound(int round) {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<ServerProcess> server = Start(absl::StrCat(round), &channel);
    if (server == nullptr) return false;
    if (round == 1 && !SetUp(channel)) return false;
    auto cases = v1::CaseService::NewStub(channel);
    std::atomic<bool> stop{false};
    std::atomic<bool> killed{false};
    std::atomic<int> acked{0};
    std::mutex mu;
    std::vector<std::thread> writers;
    const int pause_ms = absl::GetFlag(FLAGS_pause_ms);
    for (int w = 0; w < absl::GetFlag(FLAGS_writers); ++w) {
      writers.emplace_back([&, w] {
        for (int n = 0; !stop.load(); ++n) {
          v1::IssuePartySignInLinkRequest r;
          r.set_case_id(case_id_);
          r.set_party_id(parties_[(w + n) % parties_.size()]);
          v1::IssuePartySignInLinkResponse out;
          grpc::Status s = cases->IssuePartySignInLink(WithToken(desk_).get(), r, &out);
          if (!s.ok()) {
            if (!killed.load()) {
              std::lock_guard lock(mu);
              Problem(absl::StrCat("round ", round, ": a write failed before the kill: ",
                                   s.error_code(), " ", s.error_message()));
            }
            return;
          }
          {
            std::lock_guard lock(mu);
            acknowledged_.push_back(out.path());
          }
          ++acked;
          std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
        }
      });
    }
    for (int i = 0; i < 2000 && acked.load() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::uniform_int_distribution<int> after(10, std::max(10, absl::GetFlag(FLAGS_max_kill_ms)));
    // Every other round on average, the writing stops first: the kill then comes while the
    // server sends what is waiting.
    const bool while_writing = std::bernoulli_distribution(0.5)(rng_);
    std::this_thread::sleep_for(std::chrono::milliseconds(after(rng_)));
    if (!while_writing) {
      stop = true;
      for (std::thread& t : writers) t.join();
      std::this_thread::sleep_for(std::chrono::milliseconds(after(rng_) / 4));
    }
    killed = true;
    server->Kill();
    stop = true;
    for (std::thread& t : writers) {
      if (t.joinable()) t.join();
    }
    std::cout << "round " << round << ": killed " << (while_writing ? "while writing" : "after")
              << ", " << acked.load() << " acknowledged; " << acknowledged_.size() << " so far, "
              << sink_.Messages().size() << " delivered so far" << std::endl;
    if (!sink_.Alive()) {
      Problem("the SMTP sink died: " + ReadAll(dir_.File("smtp_sink.log")));
      return false;
    }
    return problems_ == 0;
  }

  std::vector<v1::Notification> Outbox(v1::NotificationService::Stub& stub,
                                       v1::NotificationState state) {
    std::vector<v1::Notification> all;
    v1::ListNotificationsRequest r;
    r.set_page_size(500);
    r.set_state(state);
    do {
      v1::ListNotificationsResponse page;
      grpc::Status s = stub.ListNotifications(WithToken(desk_).get(), r, &page);
      if (!s.ok()) {
        Problem("ListNotifications: " + s.error_message());
        return {};
      }
      all.insert(all.end(), page.notifications().begin(), page.notifications().end());
      r.set_page_token(page.next_page_token());
    } while (!r.page_token().empty());
    return all;
  }

  // One more start, left to send everything; then the outbox against the mail server.
  void Check() {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<ServerProcess> server = Start("final", &channel);
    if (server == nullptr) return;
    auto stub = v1::NotificationService::NewStub(channel);
    const absl::Time end = absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_drain_seconds));
    size_t pending = 0;
    while (true) {
      pending = Outbox(*stub, v1::NOTIFICATION_STATE_PENDING).size();
      if (pending == 0 || problems_ != 0 || absl::Now() > end) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (pending != 0) {
      Problem(absl::StrCat(pending, " message(s) still PENDING after ",
                           absl::GetFlag(FLAGS_drain_seconds), " s"));
    }
    const std::vector<v1::Notification> outbox = Outbox(*stub, v1::NOTIFICATION_STATE_UNSPECIFIED);
    server->SignalAndWait(SIGTERM);
    messages_ = static_cast<int64_t>(outbox.size());

    // The mail server's copies, by Message-ID, and the Message-IDs each link went out under.
    std::map<std::string, std::vector<Json>> copies;
    std::map<std::string, std::set<std::string>> ids_of_link;
    const std::regex link_pattern("/app/join#([A-Za-z0-9_-]+)");
    if (absl::GetFlag(FLAGS_sabotage)) ForgetOne(sink_);
    const std::vector<Json> mail = sink_.Messages();
    deliveries_ = static_cast<int64_t>(mail.size());
    for (const Json& m : mail) {
      const std::string id = m["message_id"].get<std::string>();
      copies[id].push_back(m);
      const std::string text = m["text"].get<std::string>();
      std::smatch match;
      if (std::regex_search(text, match, link_pattern)) ids_of_link[match[0]].insert(id);
    }
    duplicates_ = deliveries_ - static_cast<int64_t>(copies.size());

    std::set<std::string> in_outbox;
    for (const v1::Notification& n : outbox) {
      in_outbox.insert(n.message_id());
      const bool received = copies.count(n.message_id()) != 0;
      if (n.state() != v1::NOTIFICATION_STATE_SENT || !received) {
        ++lost_;
        std::cerr << "outbox_crash_test: notification " << n.id() << " ("
                  << v1::NotificationKind_Name(n.kind()) << ") is "
                  << v1::NotificationState_Name(n.state())
                  << (received ? "" : " and never reached the mail server") << ": "
                  << n.last_response() << "\n";
      }
    }
    for (const std::string& path : acknowledged_) {
      if (ids_of_link.count(path) == 0) {
        ++lost_links_;
        std::cerr << "outbox_crash_test: the acknowledged link " << path
                  << " never reached the mail server\n";
      }
    }
    for (const auto& [id, same] : copies) {
      if (in_outbox.count(id) == 0) Problem("the mail server got " + id + ", not in the outbox");
      for (const Json& copy : same) {
        if (copy["raw"] != same.front()["raw"] || copy["rcpt_tos"] != same.front()["rcpt_tos"]) {
          Problem("two different messages share the Message-ID " + id);
        }
      }
    }
    for (const auto& [link, ids] : ids_of_link) {
      if (ids.size() != 1) {
        Problem(absl::StrCat("the link ", link, " went out under ", ids.size(), " Message-IDs"));
      }
    }
    if (messages_ < static_cast<int64_t>(acknowledged_.size())) {
      Problem(absl::StrCat("the outbox holds ", messages_, " messages for ", acknowledged_.size(),
                           " acknowledged links"));
    }
  }

  testing::TempDir dir_;
  SmtpSink sink_;
  std::mt19937_64 rng_;
  std::string desk_;
  int64_t case_id_ = 0;
  std::vector<int64_t> parties_;
  std::vector<std::string> acknowledged_;  // The acknowledged links' paths.
  int rounds_done_ = 0;
  int64_t messages_ = 0;
  int64_t deliveries_ = 0;
  int64_t duplicates_ = 0;
  int64_t lost_ = 0;                  // Outbox messages not SENT, or never received.
  int64_t lost_links_ = 0;            // Acknowledged links no received message holds.
  std::atomic<int64_t> problems_{0};  // Writers report theirs too.
};

}  // namespace
}  // namespace mediation

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return mediation::OutboxCrashTest().Run();
}
