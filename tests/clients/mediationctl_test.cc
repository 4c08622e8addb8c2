// mediationctl, run as a program against the real server in-process: help at every level,
// JSON output, exit codes, settings from flags, environment and config file, CSV import.
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "ppa/mediation/v1/api_files.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

using ::mediation::testing::TestServer;
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

  TestServer server_;
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

}  // namespace
}  // namespace mediation
