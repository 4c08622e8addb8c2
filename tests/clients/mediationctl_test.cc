// mediationctl, run as a program against the real server in-process: help at every level,
// JSON output, exit codes, settings from flags, environment and config file, CSV import,
// calendar files, times printed by one command given to another, and the email commands.
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>
#include <libical/ical.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "ppa/mediation/v1/api_files.h"
#include "tests/support/faulty_store.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::FaultPlan;
using ::mediation::testing::FaultyStores;
using ::mediation::testing::SqliteFailure;
using ::mediation::testing::TestServer;
using ::mediation::testing::ValidMediator;
using Json = nlohmann::json;

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class MediationctlTest : public ::testing::Test {
 protected:
  // Runs mediationctl with `args`, the environment `env` (and nothing from the user's own).
  Result Run(const std::vector<std::string>& args,
             const std::map<std::string, std::string>& env = {}) {
    std::string command =
        "env -u MEDIATION_ADDR -u MEDIATION_TOKEN -u MEDIATION_TOKEN_FILE "
        "-u MEDIATION_OUTPUT MEDIATION_CONFIG=/dev/null";
    for (const auto& [k, v] : env) absl::StrAppend(&command, " ", k, "=", Quote(v));
    absl::StrAppend(&command, " ", MEDIATIONCTL_PATH);
    for (const std::string& a : args) absl::StrAppend(&command, " ", Quote(a));
    const std::string err_path = server_.dir().File("stderr.txt");
    absl::StrAppend(&command, " 2>", err_path);
    Result r;
    FILE* pipe = popen(command.c_str(), "r");
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) r.out.append(buffer, n);
    const int status = pclose(pipe);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = Slurp(err_path);
    return r;
  }

  // As the case support desk, on this server.
  Result Desk(std::vector<std::string> args) {
    args.push_back(absl::StrCat("--addr=127.0.0.1:", server_.server().port()));
    args.push_back("--token=" + server_.case_support());
    return Run(args);
  }

  Json ParseJson(const Result& r) {
    EXPECT_EQ(r.code, 0) << r.err;
    try {
      return Json::parse(r.out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not JSON (" << e.what() << "): " << r.out;
      return Json();
    }
  }

  // Waits until the delivery worker has dealt with every message due (with no mail server it
  // marks them NOT_SENT, a write of its own); a test that plans a fault for the next write does
  // this first.
  void AwaitOutbox() {
    for (int i = 0; i < 200; ++i) {
      if (server_.CountRows("outbox", "state = 'NOTIFICATION_STATE_PENDING' AND due_at <= " +
                                          std::to_string(absl::ToUnixMicros(absl::Now()))) == 0) {
        return;
      }
      usleep(25'000);
    }
    ADD_FAILURE() << "messages still due after 5 seconds";
  }

  // Transparent until a test plans a fault.
  std::shared_ptr<FaultPlan> plan_ = std::make_shared<FaultPlan>();
  TestServer server_{[this](ServerOptions& o) { o.store_wrapper = FaultyStores(plan_); }};
};

TEST_F(MediationctlTest, HelpExplainsEveryNounVerbAndFlag) {
  const Result top = Run({"--help"});
  ASSERT_EQ(top.code, 0) << top.err;
  const Result commands = Run({"commands"});
  ASSERT_EQ(commands.code, 0);
  std::set<std::string> nouns;
  for (absl::string_view line : absl::StrSplit(commands.out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    ASSERT_GE(words.size(), 3u) << line;
    nouns.insert(words[0]);
    const Result help = Run({words[0], words[1], "--help"});
    EXPECT_EQ(help.code, 0) << line << ": " << help.err;
    EXPECT_NE(help.out.find("Usage: mediationctl " + words[0] + " " + words[1]), std::string::npos)
        << help.out;
    if (words[1] == "import") continue;
    // Every field of the request has its flag, with its documentation.
    const auto* method = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
        "ppa.mediation.v1." + absl::StrReplaceAll(words[2], {{"/", "."}}));
    ASSERT_NE(method, nullptr) << words[2];
    for (int i = 0; i < method->input_type()->field_count(); ++i) {
      const std::string flag =
          "--" + absl::StrReplaceAll(method->input_type()->field(i)->name(), {{"_", "-"}});
      EXPECT_NE(help.out.find(flag), std::string::npos) << line << " lacks " << flag;
    }
  }
  for (const std::string& noun : nouns) {
    EXPECT_NE(top.out.find("  " + noun + " "), std::string::npos) << noun;
    const Result help = Run({noun, "--help"});
    EXPECT_EQ(help.code, 0) << noun;
    EXPECT_NE(help.out.find("Verbs:"), std::string::npos) << help.out;
  }
}

TEST_F(MediationctlTest, EveryRpcOfTheApiHasACommand) {
  const Result commands = Run({"commands"});
  std::set<std::string> covered;
  for (absl::string_view line : absl::StrSplit(commands.out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    covered.insert(words[2]);
  }
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  (void)v1::GetCaseRequest::descriptor();
  int methods = 0;
  for (const char* file : v1::kApiProtoFiles) {
    const auto* f = pool->FindFileByName(file);
    ASSERT_NE(f, nullptr) << file;
    for (int s = 0; s < f->service_count(); ++s) {
      for (int m = 0; m < f->service(s)->method_count(); ++m) {
        ++methods;
        const std::string name =
            absl::StrCat(f->service(s)->name(), "/", f->service(s)->method(m)->name());
        EXPECT_TRUE(covered.count(name)) << name << " has no mediationctl command";
      }
    }
  }
  EXPECT_GT(methods, 60);
}

TEST_F(MediationctlTest, ExitCodesTellUsageErrorsFromServerErrors) {
  Result r = Desk({"nonsense"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "mediationctl: unknown command 'nonsense'; 'mediationctl --help' lists them\n");
  r = Desk({"case", "fly"});
  EXPECT_EQ(r.code, 2);
  r = Desk({"case", "get", "--case-idd=1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "mediationctl: --case-idd: no such field; --help lists the flags\n");
  r = Desk({"case", "list", "--state=sleeping"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--state: one of: referred, screening"), std::string::npos) << r.err;
  // A tail of several values' names is not enough.
  r = Desk({"case", "list", "--state=red"});
  EXPECT_EQ(r.code, 2);
  r = Desk({"case", "get", "--case-id=999999"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: NOT_FOUND: case 999999 not found\n");
  EXPECT_EQ(r.out, "");
  r = Run(
      {"case", "get", "--case-id=1", absl::StrCat("--addr=127.0.0.1:", server_.server().port())});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("error: UNAUTHENTICATED: "), std::string::npos) << r.err;
}

TEST_F(MediationctlTest, DatabaseBackupWritesTheFileItDescribes) {
  const std::string addr = absl::StrCat("--addr=127.0.0.1:", server_.server().port());
  const Json j = ParseJson(Run({"database", "backup", "--label=before upgrade", addr,
                                "--token=" + server_.admin_secret(), "--output=json"}));
  const std::string name = j["file_name"];
  EXPECT_EQ(name.rfind("mediation-", 0), 0u) << name;
  EXPECT_EQ(name.substr(name.size() - 18), "-before-upgrade.db") << name;
  EXPECT_EQ(j["path"], server_.dir().File("backups/" + name));
  EXPECT_EQ(std::stoll(j["size_bytes"].get<std::string>()),
            static_cast<int64_t>(Slurp(server_.dir().File("backups/" + name)).size()));
  EXPECT_EQ(j["sha256"].get<std::string>().size(), 64u);

  // The table form names the file too; other roles are refused by the server (exit code 1).
  const Result table = Run({"database", "backup", addr, "--token=" + server_.admin_secret()});
  EXPECT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("file_name: mediation-"), std::string::npos) << table.out;
  const Result refused = Desk({"database", "backup"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(refused.err.rfind("error: PERMISSION_DENIED: ", 0), 0u) << refused.err;
}

TEST_F(MediationctlTest, JsonOutputParsesAndTablesAreReadable) {
  const int64_t org = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
  const v1::Case c = server_.CreateReferral(org);
  Json j = ParseJson(Desk({"case", "get", absl::StrCat("--case-id=", c.id()), "--output=json"}));
  EXPECT_EQ(j["case"]["reference"], c.reference());
  EXPECT_EQ(j["case"]["state"], "CASE_STATE_REFERRED");

  j = ParseJson(Desk({"case", "list", "--state=referred", "--output", "json"}));
  ASSERT_EQ(j["cases"].size(), 1u);
  j = ParseJson(Desk({"organisation", "list", "--output=json"}));
  EXPECT_EQ(j["organisations"][0]["name"], "Northshire Hospitals NHS Trust");
  j = ParseJson(Desk({"event", "stream", "--stop-at-end", "--output=json"}));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["kind"], "CASE_EVENT_KIND_STATE_CHANGED");
  j = ParseJson(Desk({"statistics", "show", "--output=json"}));
  EXPECT_EQ(j["referrals"], "1");
  j = ParseJson(Desk({"session", "list", absl::StrCat("--case-id=", c.id()), "--output=json"}));
  EXPECT_TRUE(j.is_object());

  // The same list as a table: a header and one row.
  const Result table = Desk({"case", "list"});
  ASSERT_EQ(table.code, 0) << table.err;
  std::vector<std::string> lines = absl::StrSplit(table.out, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 2u) << table.out;
  EXPECT_EQ(lines[0].rfind("ID", 0), 0u) << lines[0];
  EXPECT_NE(lines[1].find(c.reference()), std::string::npos);
  EXPECT_NE(lines[1].find("REFERRED"), std::string::npos);
}

TEST_F(MediationctlTest, CsvOutputMakesFormulasInertAndTextNeverDrivesTheTerminal) {
  const int64_t org = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
  const v1::Case c = server_.CreateReferral(org, [](v1::CreateReferralRequest& r) {
    r.set_summary("=HYPERLINK(\"http://evil.example\",\"click\")");
    r.mutable_parties(0)->mutable_contact()->set_name("@Alex Morgan");
  });
  const Result csv = Desk({"case", "get", absl::StrCat("--case-id=", c.id()), "--output=csv"});
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("field,value\r\n", 0), 0u) << csv.out;
  EXPECT_TRUE(absl::StrContains(
      csv.out, "case.summary,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\"\r\n"))
      << csv.out;
  EXPECT_TRUE(absl::StrContains(csv.out, ",'@Alex Morgan\r\n")) << csv.out;
  // A list: a header row, then a row per item.
  const Result list = Desk({"case", "list", "--output=csv"});
  ASSERT_EQ(list.code, 0) << list.err;
  std::vector<std::string> lines = absl::StrSplit(list.out, "\r\n", absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << list.out;
  EXPECT_EQ(lines[0].rfind("id,reference,", 0), 0u) << lines[0];

  // A C1 control character stored before it was refused (written behind the server's back) is
  // printed as U+FFFD, not sent to the terminal.
  server_.OpenDbForTampering()->exec(
      absl::StrCat("UPDATE cases SET referrer_name = 'Sam\xC2\x9B"
                   "31mOkafor' WHERE id = ",
                   c.id()));
  const Result text = Desk({"case", "get", absl::StrCat("--case-id=", c.id())});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_TRUE(absl::StrContains(text.out,
                                "Sam\xEF\xBF\xBD"
                                "31mOkafor"))
      << text.out;
  EXPECT_FALSE(absl::StrContains(text.out, "\xC2\x9B"));

  // Today the server refuses it: C1 controls are refused in every text field, as C0 ones are.
  v1::RegisterMediatorRequest m;
  *m.mutable_mediator() = testing::ValidMediator("Kim\xC2\x9BKnows", "kim@mediators.example");
  v1::RegisterMediatorResponse registered;
  const grpc::Status refused = server_.mediators().RegisterMediator(
      testing::WithToken(server_.admin_secret()).get(), m, &registered);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(),
            "mediator.contact.name: must be a single line without control characters");
}

TEST_F(MediationctlTest, SettingsComeFromFlagsEnvironmentOrAConfigFile) {
  const std::string addr = absl::StrCat("127.0.0.1:", server_.server().port());
  Result r = Run({"whoami", "show", "--output=json"},
                 {{"MEDIATION_ADDR", addr}, {"MEDIATION_TOKEN", server_.case_support()}});
  EXPECT_EQ(ParseJson(r)["token"]["role"], "ROLE_CASE_SUPPORT");

  const std::string config = server_.dir().File("mediationctl.conf");
  {
    std::ofstream out(config);
    out << "# mediationctl settings\naddr = " << addr << "\ntoken = " << server_.admin_secret()
        << "\noutput = json\n";
  }
  r = Run({"whoami", "show", "--config=" + config});
  EXPECT_EQ(ParseJson(r)["token"]["role"], "ROLE_ADMIN");
  // A flag beats the environment, which beats the file.
  r = Run({"whoami", "show", "--config=" + config}, {{"MEDIATION_TOKEN", server_.case_support()}});
  EXPECT_EQ(ParseJson(r)["token"]["role"], "ROLE_CASE_SUPPORT");
  const std::string token_file = server_.dir().File("admin.token.copy");
  {
    std::ofstream out(token_file);
    out << server_.admin_secret() << "\n";
  }
  r = Run({"whoami", "show", "--config=" + config, "--token-file=" + token_file},
          {{"MEDIATION_TOKEN", server_.case_support()}});
  EXPECT_EQ(ParseJson(r)["token"]["role"], "ROLE_ADMIN");
  r = Run({"whoami", "show", "--config=/nonexistent/conf"});
  EXPECT_EQ(r.code, 2);
}

TEST_F(MediationctlTest, TheConfigFileFollowsXdgConfigHomeElseHome) {
  const std::string addr = absl::StrCat("127.0.0.1:", server_.server().port());
  auto write_config = [&](const std::string& dir, const std::string& token) {
    ASSERT_EQ(system(("mkdir -p " + Quote(dir + "/mediationctl")).c_str()), 0);
    std::ofstream out(dir + "/mediationctl/config");
    out << "addr = " << addr << "\ntoken = " << token << "\noutput = json\n";
  };
  write_config(server_.dir().File("xdg"), server_.admin_secret());
  write_config(server_.dir().File("home/.config"), server_.case_support());
  // MEDIATION_CONFIG empty: the default place.
  Result r = Run({"whoami", "show"}, {{"MEDIATION_CONFIG", ""},
                                      {"XDG_CONFIG_HOME", server_.dir().File("xdg")},
                                      {"HOME", server_.dir().File("home")}});
  EXPECT_EQ(ParseJson(r)["token"]["role"], "ROLE_ADMIN");
  r = Run(
      {"whoami", "show"},
      {{"MEDIATION_CONFIG", ""}, {"XDG_CONFIG_HOME", ""}, {"HOME", server_.dir().File("home")}});
  EXPECT_EQ(ParseJson(r)["token"]["role"], "ROLE_CASE_SUPPORT");
}

TEST_F(MediationctlTest, ImportRegistersTheGoodRowsAndReportsEachBadOne) {
  const std::string csv = server_.dir().File("mediators.csv");
  {
    std::ofstream out(csv);
    out << "contact.name,contact.email,accreditation.body,accreditation.level,"
           "accreditation.registration_number,"
           "accreditation.expires_on,insurance_expires_on,cpd_hours_last_12_months,nations,"
           "languages,max_concurrent_cases\n"
           "Morgan "
           "Ellis,morgan.ellis@example.org,civil-mediation-council,Registered,CMC-1,2030-12-31,"
           "2030-06-30,12,england;wales,English,4\n"
           "\"Shaw, Kit\",kit.shaw@example.org,civil-mediation-council,Registered,CMC-2,2030-12-31,"
           "2030-06-30,10,england,\"English;Welsh\",3\n"
           "Rowan Hale,rowan.hale@example.org,civil-mediation-council,Registered,CMC-3,2030-13-31,"
           "2030-06-30,10,england,English,3\n"
           "Sam "
           "Lee,,civil-mediation-council,Registered,CMC-4,2030-12-31,2030-06-30,10,england,English,"
           "3\n";
  }
  const std::string addr = absl::StrCat("--addr=127.0.0.1:", server_.server().port());
  const std::string token = "--token=" + server_.admin_secret();
  Result r = Run({"mediator", "import", csv, addr, token, "--output=json"});
  EXPECT_EQ(r.code, 1) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["rows"], 4);
  EXPECT_EQ(j["imported"], 2);
  EXPECT_EQ(j["failed"], 2);
  EXPECT_EQ(j["results"][1]["name"], "Shaw, Kit");
  EXPECT_EQ(j["results"][2]["error"],
            "INVALID_ARGUMENT: --mediator.accreditation.expires_on: expected a date as "
            "YYYY-MM-DD, not '2030-13-31'");
  EXPECT_EQ(j["results"][3]["error"].get<std::string>().rfind("INVALID_ARGUMENT: ", 0), 0u);
  EXPECT_NE(r.err.find("4/4 rows, 2 imported, 2 failed"), std::string::npos) << r.err;
  EXPECT_EQ(server_.CountRows("mediators"), 2);

  // Again: the same rows are the same calls, answered with the first results.
  Result again = Run({"mediator", "import", csv, addr, token, "--output=json"});
  Json k = Json::parse(again.out);
  EXPECT_EQ(k["results"][0]["mediator_id"], j["results"][0]["mediator_id"]);
  EXPECT_EQ(k["results"][1]["mediator_id"], j["results"][1]["mediator_id"]);
  EXPECT_EQ(server_.CountRows("mediators"), 2);

  // A header that names no field is a usage error, and nothing is imported.
  {
    std::ofstream out(csv);
    out << "contact.name,shoe_size\nAnn Bell,9\n";
  }
  r = Run({"mediator", "import", csv, addr, token});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("column 'shoe_size'"), std::string::npos) << r.err;
  EXPECT_EQ(server_.CountRows("mediators"), 2);
}

// The cells of a table row: columns are separated by two or more spaces.
std::vector<std::string> Cells(absl::string_view row) {
  std::vector<std::string> cells;
  for (absl::string_view cell : absl::StrSplit(row, "  ", absl::SkipEmpty())) {
    cell = absl::StripAsciiWhitespace(cell);
    if (!cell.empty()) cells.emplace_back(cell);
  }
  return cells;
}

// A case whose two mediators (Monday to Friday, 09:00-17:00) have accepted, ready to book.
class MediationctlSchedulingTest : public MediationctlTest {
 protected:
  void SetUp() override {
    const int64_t org = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
    lead_ = server_.RegisterMediator(ValidMediator("Ana Mediator", "ana@mediators.example"));
    const int64_t co =
        server_.RegisterMediator(ValidMediator("Ben Mediator", "ben@mediators.example"));
    lead_token_ = server_.IssueToken(v1::ROLE_MEDIATOR, lead_);
    case_ = server_.AllocatedCase(org, lead_, lead_token_, co,
                                  server_.IssueToken(v1::ROLE_MEDIATOR, co));
  }

  std::vector<std::string> Book(const std::string& start) {
    return {"session",
            "book",
            absl::StrCat("--case-id=", case_.id()),
            "--kind=joint-meeting",
            "--mode=video",
            "--video-link=https://video.example/joint",
            "--start=" + start,
            "--duration-minutes=120",
            "--output=json"};
  }

  int64_t lead_ = 0;
  std::string lead_token_;
  v1::Case case_;
};

TEST_F(MediationctlSchedulingTest, ATimePrintedByFindSlotsIsAcceptedByBook) {
  const std::vector<std::string> find = {"session",
                                         "find-slots",
                                         absl::StrCat("--case-id=", case_.id()),
                                         "--kind=joint-meeting",
                                         "--mode=video",
                                         "--duration-minutes=120",
                                         "--max-slots=3"};
  // The table: a header, then one row per slot, START first ("2026-12-10 09:30 GMT").
  const Result table = Desk(find);
  ASSERT_EQ(table.code, 0) << table.err;
  std::vector<std::string> lines = absl::StrSplit(table.out, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 2u) << table.out;
  EXPECT_EQ(Cells(lines[0])[0], "START") << table.out;
  const std::string printed = Cells(lines[1])[0];
  EXPECT_TRUE(absl::EndsWith(printed, " GMT") || absl::EndsWith(printed, " BST")) << printed;
  std::vector<std::string> json_find = find;
  json_find.push_back("--output=json");
  const Json slots = ParseJson(Desk(json_find));

  const Json booked = ParseJson(Desk(Book(printed)));
  EXPECT_EQ(booked["session"]["start"], slots["slots"][0]["start"]) << printed;

  // The JSON form of the next free slot, given back as it was printed.
  const Json next = ParseJson(Desk(json_find));
  const std::string rfc3339 = next["slots"][0]["start"];
  EXPECT_NE(rfc3339, slots["slots"][0]["start"]);
  const Json second = ParseJson(Desk(Book(rfc3339)));
  EXPECT_EQ(second["session"]["start"], rfc3339);
  // And the server's own local text (`local_start`), as `session get` prints it.
  const Result got =
      Desk({"session", "get",
            absl::StrCat("--session-id=", second["session"]["id"].get<std::string>())});
  ASSERT_EQ(got.code, 0) << got.err;
  EXPECT_NE(got.out.find("local_start: " + next["slots"][0]["local_start"].get<std::string>()),
            std::string::npos)
      << got.out;
}

TEST_F(MediationctlSchedulingTest, CalendarExportsAreICalendarFilesThatParse) {
  const Json slots = ParseJson(
      Desk({"session", "find-slots", absl::StrCat("--case-id=", case_.id()), "--kind=joint-meeting",
            "--mode=video", "--duration-minutes=120", "--output=json"}));
  const Json booked = ParseJson(Desk(Book(slots["slots"][0]["start"])));
  const std::string session = booked["session"]["id"];
  const std::string addr = absl::StrCat("--addr=127.0.0.1:", server_.server().port());

  const Result by_session = Desk({"calendar", "session", "--session-id=" + session});
  const Result by_mediator = Run({"calendar", "mediator", absl::StrCat("--mediator-id=", lead_),
                                  addr, "--token=" + lead_token_});
  for (const Result* r : {&by_session, &by_mediator}) {
    ASSERT_EQ(r->code, 0) << r->err;
    // The file itself: nothing before BEGIN, nothing after END.
    EXPECT_EQ(r->out.rfind("BEGIN:VCALENDAR\r\n", 0), 0u) << r->out.substr(0, 80);
    EXPECT_TRUE(absl::EndsWith(r->out, "END:VCALENDAR\r\n")) << r->out;
    const std::string file = server_.dir().File(r == &by_session ? "x.ics" : "y.ics");
    {
      std::ofstream out(file, std::ios::binary);
      out << r->out;
    }
    icalcomponent* calendar = icalparser_parse_string(Slurp(file).c_str());
    ASSERT_NE(calendar, nullptr) << r->out;
    EXPECT_EQ(icalcomponent_isa(calendar), ICAL_VCALENDAR_COMPONENT);
    icalrestriction_check(calendar);
    EXPECT_EQ(icalcomponent_count_errors(calendar), 0) << icalcomponent_as_ical_string(calendar);
    EXPECT_NE(icalcomponent_get_first_component(calendar, ICAL_VTIMEZONE_COMPONENT), nullptr);
    icalcomponent* event = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
    ASSERT_NE(event, nullptr);
    const icaltimetype start =
        icaltime_convert_to_zone(icalcomponent_get_dtstart(event), icaltimezone_get_utc_timezone());
    absl::Time want;
    std::string error;
    ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, booked["session"]["start"].get<std::string>(),
                                &want, &error));
    EXPECT_EQ(icaltime_as_timet(start), absl::ToTimeT(want));
    icalcomponent_free(calendar);
  }
}

TEST_F(MediationctlTest, NotificationCommandsListReadAndResendAMessageNotSent) {
  const int64_t org = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
  const v1::Case c = server_.CreateReferral(org);
  // The referral's message to the organisation: NOT_SENT (no mail server) once the worker saw it.
  AwaitOutbox();
  const Json listed = ParseJson(Desk({"notification", "list", "--state=not-sent",
                                      absl::StrCat("--case-id=", c.id()), "--output=json"}));
  ASSERT_EQ(listed["notifications"].size(), 1u) << listed;
  const Json& m = listed["notifications"][0];
  EXPECT_EQ(m["kind"], "NOTIFICATION_KIND_CASE_STATE_CHANGED");
  EXPECT_EQ(m["recipient_email"], "priya.shah@example.nhs.uk");
  EXPECT_EQ(m["last_response"], "not sent: no mail server configured");
  const std::string id = m["id"];
  // Enum values are written as help spells them; a tail of a name is not one.
  EXPECT_EQ(ParseJson(Desk({"notification", "list", "--state=dead-letter", "--output=json"})),
            Json::object());
  Result r = Desk({"notification", "list", "--state=dead"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--state: one of: pending, sent, dead-letter, not-sent"), std::string::npos)
      << r.err;

  r = Desk({"notification", "get", "--notification-id=" + id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("notification.state: NOT_SENT\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("notification.subject: " + c.reference() + ": referred"), std::string::npos)
      << r.out;

  // Sent again: PENDING, no tries, the same Message-ID; then NOT_SENT again.
  const Json resent =
      ParseJson(Desk({"notification", "resend", "--notification-id=" + id, "--output=json"}));
  EXPECT_EQ(resent["notification"]["state"], "NOTIFICATION_STATE_PENDING");
  EXPECT_EQ(resent["notification"]["message_id"], m["message_id"]);
  EXPECT_FALSE(resent["notification"].contains("attempts")) << resent;
  EXPECT_EQ(resent["notification"]["last_response"], "resent");
  AwaitOutbox();
  const Json again =
      ParseJson(Desk({"notification", "get", "--notification-id=" + id, "--output=json"}));
  EXPECT_EQ(again["notification"]["state"], "NOTIFICATION_STATE_NOT_SENT");
  EXPECT_EQ(again["notification"]["last_response"], "not sent: no mail server configured");
}

TEST_F(MediationctlTest, RemindersAreSetAndReadAsYesOrNo) {
  const int64_t mediator =
      server_.RegisterMediator(ValidMediator("Ana Mediator", "ana@mediators.example"));
  const std::string addr = absl::StrCat("--addr=127.0.0.1:", server_.server().port());
  const std::string own = "--token=" + server_.IssueToken(v1::ROLE_MEDIATOR, mediator);
  // The mediator's own preference (no --email); a false answer is printed, not left out.
  Result r = Run({"reminders", "get", addr, own});
  EXPECT_EQ(r.out, "reminders: yes\n") << r.err;
  r = Run({"reminders", "set", "--reminders=false", addr, own});
  EXPECT_EQ(r.out, "reminders: no\n") << r.err;
  // Case support reads and sets anyone's, by address.
  r = Desk({"reminders", "get", "--email=ana@mediators.example"});
  EXPECT_EQ(r.out, "reminders: no\n") << r.err;
  r = Desk({"reminders", "set", "--reminders", "--email=ana@mediators.example"});
  EXPECT_EQ(r.out, "reminders: yes\n") << r.err;
  r = Run({"reminders", "get", addr, own});
  EXPECT_EQ(r.out, "reminders: yes\n") << r.err;
  r = Desk({"reminders", "get"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: INVALID_ARGUMENT: email: required\n");
}

TEST_F(MediationctlSchedulingTest, AReminderNotYetDueCannotBeResent) {
  const Json slots = ParseJson(
      Desk({"session", "find-slots", absl::StrCat("--case-id=", case_.id()), "--kind=joint-meeting",
            "--mode=video", "--duration-minutes=120", "--output=json"}));
  ParseJson(Desk(Book(slots["slots"][0]["start"])));
  AwaitOutbox();
  // Each attendee's reminders wait for their time (48 and 2 hours before the session); the
  // latest is days away.
  const Json pending = ParseJson(Desk({"notification", "list", "--state=pending",
                                       absl::StrCat("--case-id=", case_.id()), "--output=json"}));
  ASSERT_GE(pending["notifications"].size(), 1u) << pending;
  std::string latest;
  std::string latest_due;
  for (const Json& m : pending["notifications"]) {
    EXPECT_EQ(m["kind"], "NOTIFICATION_KIND_SESSION_REMINDER");
    if (m["due_at"].get<std::string>() > latest_due) {
      latest_due = m["due_at"];
      latest = m["id"];
    }
  }
  const Result r = Desk({"notification", "resend", "--notification-id=" + latest});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: FAILED_PRECONDITION: notification " + latest +
                       " is NOTIFICATION_STATE_PENDING: only a DEAD_LETTER or NOT_SENT message "
                       "can be resent\n");
}

TEST_F(MediationctlTest, NoServerToReachIsExitCodeThreeNotARefusal) {
  // A port with nothing listening: bound, then closed.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string addr = absl::StrCat("127.0.0.1:", ntohs(address.sin_port));
  close(fd);

  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"whoami", "show"},
        std::vector<std::string>{"organisation", "register", "--name=Northshire",
                                 "--kind=nhs-trust", "--nation=england"}}) {
    std::vector<std::string> args = command;
    args.push_back("--addr=" + addr);
    args.push_back("--token=" + server_.case_support());
    args.push_back("--timeout=5");
    const Result r = Run(args);
    EXPECT_EQ(r.code, 3) << r.err;
    EXPECT_EQ(r.err.rfind("error: cannot reach the server at " + addr + " (UNAVAILABLE: ", 0), 0u)
        << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(MediationctlTest, TheServersOwnUnavailableIsARefusalNotUnreachable) {
  const int64_t org = server_.RegisterOrganisation("Northshire Hospitals NHS Trust");
  const v1::Case c = server_.CreateReferral(org);
  AwaitOutbox();  // The delivery worker's write would take the fault.
  // Not retried (no idempotency key): the server's UNAVAILABLE reaches the user.
  plan_->FailWrite(1, SqliteFailure(SQLITE_BUSY, "database is locked"));
  const Result r =
      Desk({"case", "hold", absl::StrCat("--case-id=", c.id()), "--reason=Off sick until May"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: UNAVAILABLE: ", 0), 0u) << r.err;
}

}  // namespace
}  // namespace mediation
