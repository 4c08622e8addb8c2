// mediationctl: the assisted-mediation server from a terminal or a script.
//
//   mediationctl <noun> <verb> [flags]    e.g. mediationctl case get --case-id=12
//   mediationctl --help                   every noun; `mediationctl <noun> --help` its verbs;
//                                         `mediationctl <noun> <verb> --help` its flags
//
// The request is built from flags named after its fields (see request_fields.h), optionally on
// top of a JSON request (`--json='{...}'`, `--json=@file.json`, `--json=-` for stdin). Answers
// are tables or `field: value` lines, or JSON with `--output=json`.
//
// Connection settings come from flags, else the environment (MEDIATION_ADDR, MEDIATION_TOKEN,
// MEDIATION_TOKEN_FILE, MEDIATION_TLS_CA), else a config file ($MEDIATION_CONFIG, default
// $XDG_CONFIG_HOME/mediationctl/config, or ~/.config/mediationctl/config when XDG_CONFIG_HOME is
// not set: `key = value` lines with the flag names as keys).
//
// Exit codes: 0 success; 1 the server refused the call, shown as `error: CODE: message` with the
// server's message as it is; 2 a usage error; 3 the server could not be reached (nothing
// listening, a TLS handshake refused, no answer before the deadline on a connection never made).
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "clients/cli/catalog.h"
#include "clients/cli/errors.h"
#include "clients/cli/mediator_import.h"
#include "clients/cli/render.h"
#include "clients/cli/request_fields.h"
#include "clients/cpp/connection.h"

namespace mediation::cli {
namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

// Options that belong to mediationctl itself, not to a request.
const std::vector<std::pair<std::string, std::string>>& GlobalOptions() {
  static const std::vector<std::pair<std::string, std::string>> options = {
      {"addr", "server address host:port (env MEDIATION_ADDR; default 127.0.0.1:50051)"},
      {"token", "bearer token (env MEDIATION_TOKEN)"},
      {"token-file", "file holding the token, e.g. var/admin.token (env MEDIATION_TOKEN_FILE)"},
      {"tls-ca",
       "PEM file of the CA that signed the server's certificate; enables TLS "
       "(env MEDIATION_TLS_CA)"},
      {"tls-cert", "this client's certificate (PEM), for mutual TLS"},
      {"tls-key", "this client's private key (PEM), for mutual TLS"},
      {"output", "table (default), json, or csv (for spreadsheets; formulas made inert)"},
      {"timeout", "seconds to wait for an answer (default 30)"},
      {"config",
       "config file (env MEDIATION_CONFIG; default $XDG_CONFIG_HOME/mediationctl/config, or "
       "~/.config/mediationctl/config without XDG_CONFIG_HOME)"},
      {"json", "the request as JSON, @file or - for stdin; flags are applied on top"},
  };
  return options;
}

std::string Canonical(std::string name) {
  absl::StrReplaceAll({{"_", "-"}}, &name);
  return name;
}

bool IsGlobal(const std::string& name) {
  const std::string c = Canonical(name);
  for (const auto& [option, help] : GlobalOptions()) {
    if (option == c) return true;
  }
  return false;
}

struct Flag {
  std::string name;
  std::string value;
  bool has_value = false;
};

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> globals;  // Canonical names.
  std::vector<Flag> flags;                     // For the request (or the command).
  bool help = false;
};

int Usage(const std::string& problem) {
  std::cerr << "mediationctl: " << problem << "\n";
  return kUsageError;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

// Splits argv into positional words, mediationctl's own options and request flags. A flag's
// value follows `=` or is the next word, except for a boolean request field (`bool_flag` says
// which), which may stand alone.
Args Parse(
    int argc, char** argv,
    const std::function<bool(const std::vector<std::string>&, const std::string&)>& bool_flag) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--help" || word == "-h" || word == "help") {
      args.help = true;
      continue;
    }
    if (word == "--") {
      for (++i; i < argc; ++i) args.positional.push_back(argv[i]);
      break;
    }
    if (!absl::StartsWith(word, "--") || word.size() == 2) {
      args.positional.push_back(word);
      continue;
    }
    Flag flag;
    word.erase(0, 2);
    const size_t eq = word.find('=');
    if (eq != std::string::npos) {
      flag.name = word.substr(0, eq);
      flag.value = word.substr(eq + 1);
      flag.has_value = true;
    } else {
      flag.name = word;
      const bool standalone = !IsGlobal(flag.name) && bool_flag(args.positional, flag.name);
      if (!standalone && i + 1 < argc && !absl::StartsWith(argv[i + 1], "--")) {
        flag.value = argv[++i];
        flag.has_value = true;
      }
    }
    if (IsGlobal(flag.name)) {
      args.globals[Canonical(flag.name)] = flag.value;
    } else {
      args.flags.push_back(flag);
    }
  }
  return args;
}

// mediationctl's own setting `name`: the flag, else the environment, else the config file.
class Settings {
 public:
  explicit Settings(const Args& args) : args_(args) {
    std::string path = Get("config", "MEDIATION_CONFIG", false);
    if (path.empty()) {
      const char* xdg = std::getenv("XDG_CONFIG_HOME");
      const char* home = std::getenv("HOME");
      if (xdg != nullptr && *xdg != '\0') {
        path = absl::StrCat(xdg, "/mediationctl/config");
      } else if (home != nullptr) {
        path = absl::StrCat(home, "/.config/mediationctl/config");
      }
      explicit_config_ = false;
    }
    config_path_ = path;
    std::string text;
    if (!path.empty() && ReadFile(path, &text)) {
      for (absl::string_view line : absl::StrSplit(text, '\n')) {
        line = absl::StripAsciiWhitespace(line);
        if (line.empty() || line[0] == '#') continue;
        const size_t sep = line.find_first_of("=:");
        if (sep == absl::string_view::npos) continue;
        config_[Canonical(std::string(absl::StripAsciiWhitespace(line.substr(0, sep))))] =
            std::string(absl::StripAsciiWhitespace(line.substr(sep + 1)));
      }
    } else if (explicit_config_) {
      missing_config_ = true;
    }
  }

  std::string Get(const std::string& name, const char* env, bool use_config = true) const {
    if (args_.globals.count(name) != 0) return FromFlag(name);
    if (env != nullptr && !FromEnv(env).empty()) return FromEnv(env);
    return use_config ? FromConfig(name) : "";
  }

  // The setting from one source only (empty if that source does not set it).
  std::string FromFlag(const std::string& name) const {
    auto flag = args_.globals.find(name);
    return flag == args_.globals.end() ? "" : flag->second;
  }
  static std::string FromEnv(const char* env) {
    const char* value = std::getenv(env);
    return value == nullptr ? "" : value;
  }
  std::string FromConfig(const std::string& name) const {
    auto c = config_.find(name);
    return c == config_.end() ? "" : c->second;
  }

  bool missing_config() const { return missing_config_; }
  const std::string& config_path() const { return config_path_; }

 private:
  const Args& args_;
  std::map<std::string, std::string> config_;
  std::string config_path_;
  bool explicit_config_ = true;
  bool missing_config_ = false;
};

// The connection the settings describe, or a usage problem.
absl::StatusOr<std::unique_ptr<client::Connection>> Connect(const Settings& s) {
  client::ConnectionOptions options;
  options.address = s.Get("addr", "MEDIATION_ADDR");
  if (options.address.empty()) options.address = "127.0.0.1:50051";
  // The token or token file of the first source that names either: flags, then the
  // environment, then the config file.
  const std::pair<std::string, std::string> sources[] = {
      {s.FromFlag("token"), s.FromFlag("token-file")},
      {Settings::FromEnv("MEDIATION_TOKEN"), Settings::FromEnv("MEDIATION_TOKEN_FILE")},
      {s.FromConfig("token"), s.FromConfig("token-file")},
  };
  for (const auto& [token, token_file] : sources) {
    if (token.empty() && token_file.empty()) continue;
    options.token = token;
    if (token.empty() && !ReadFile(token_file, &options.token)) {
      return absl::InvalidArgumentError(absl::StrCat("cannot read the token file ", token_file));
    }
    break;
  }
  options.token = std::string(absl::StripAsciiWhitespace(options.token));
  options.tls_ca_file = s.Get("tls-ca", "MEDIATION_TLS_CA");
  options.tls_cert_file = s.Get("tls-cert", nullptr);
  options.tls_key_file = s.Get("tls-key", nullptr);
  const std::string timeout = s.Get("timeout", nullptr);
  if (!timeout.empty()) {
    double seconds = 0;
    if (!absl::SimpleAtod(timeout, &seconds) || seconds <= 0) {
      return absl::InvalidArgumentError("--timeout: expected a number of seconds");
    }
    options.deadline = absl::Seconds(seconds);
  }
  return client::Connection::Open(options);
}

google::protobuf::DebugStringOptions WithComments() {
  google::protobuf::DebugStringOptions options;
  options.include_comments = true;
  return options;
}

std::string RandomKey() {
  std::random_device random;
  std::string key = "cli-";
  for (int i = 0; i < 4; ++i) absl::StrAppend(&key, absl::Hex(random(), absl::kZeroPad8));
  return key;
}

// --- Help -------------------------------------------------------------------------------------

std::string Indent(const std::string& text, const std::string& pad) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::StrAppend(&out, line.empty() ? "" : pad, line, "\n");
  }
  return out;
}

void PrintGlobalOptions(std::ostream& out) {
  out << "Options (anywhere on the line):\n";
  for (const auto& [name, help] : GlobalOptions()) {
    out << absl::StrFormat("  --%-12s %s\n", name, help);
  }
}

int MainHelp(std::ostream& out) {
  out << "mediationctl: the assisted-mediation server from a terminal or a script.\n\n"
         "Usage: mediationctl <noun> <verb> [flags]\n"
         "       mediationctl <noun> --help        the verbs of a noun\n"
         "       mediationctl <noun> <verb> --help the flags of a command\n\n"
         "Nouns:\n";
  for (const Noun& n : Catalog::Nouns()) out << absl::StrFormat("  %-13s %s\n", n.name, n.summary);
  out << "\nAlso:\n"
         "  commands                every command and the RPC it calls\n"
         "  services                every service and method of the API\n"
         "  describe <name>         a service, method, message or enum, as in the .proto\n"
         "  call <Service/Method> [json]  any RPC with a JSON request ('-' reads stdin)\n\n";
  PrintGlobalOptions(out);
  out << "\nExamples:\n"
         "  export MEDIATION_TOKEN_FILE=var/admin.token\n"
         "  mediationctl token issue --role=case-support --label=\"Case support desk\"\n"
         "  mediationctl case list --state=referred --output=json\n"
         "  mediationctl mediator import mediators.csv\n\n"
         "Exit codes: 0 success, 1 the server refused the call (its message is shown as is),\n"
         "2 a usage error, 3 the server could not be reached.\n";
  return kOk;
}

int NounHelp(Catalog& catalog, const std::string& noun, std::ostream& out) {
  const std::vector<Command> commands = Catalog::CommandsOf(noun);
  for (const Noun& n : Catalog::Nouns()) {
    if (noun == n.name) out << noun << ": " << n.summary << "\n\n";
  }
  out << "Usage: mediationctl " << noun << " <verb> [flags]\n\nVerbs:\n";
  for (const Command& c : commands) {
    const MethodDescriptor* m = catalog.FindMethod(c.method);
    out << absl::StrFormat("  %-22s %s\n", c.verb, Catalog::Summary(Catalog::Comment(m)));
  }
  if (noun == "mediator") {
    out << absl::StrFormat("  %-22s %s\n", "import",
                           "Registers every mediator in a CSV file; reports each row.");
  }
  out << "\nRun 'mediationctl " << noun << " <verb> --help' for a verb's flags.\n";
  return kOk;
}

int CommandHelp(Catalog& catalog, const Command& c, std::ostream& out) {
  const MethodDescriptor* m = catalog.FindMethod(c.method);
  out << "Usage: mediationctl " << c.noun << " " << c.verb << " [flags]\n\n"
      << Indent(Catalog::Comment(m), "  ") << "\n  (RPC " << m->service()->name() << "/"
      << m->name() << ")\n\nFlags:\n";
  for (const FieldFlag& f : FlagsOf(m->input_type())) {
    const std::string flag = absl::StrCat("--", absl::StrReplaceAll(f.path, {{"_", "-"}}));
    out << "  " << flag << " <" << f.type << ">\n";
    std::string comment = Catalog::Comment(f.field);
    if (f.path == "idempotency_key") {
      comment += "\nmediationctl chooses one when you do not, so its own retries are safe.";
    }
    if (!comment.empty()) out << Indent(comment, "      ");
  }
  if (m->server_streaming()) {
    out << "\nThe answer is a stream: one line per message (with --output=json, a JSON array "
           "when the stream ends by itself, else one JSON object per line).\n";
  }
  out << "\n";
  PrintGlobalOptions(out);
  return kOk;
}

// --- Calls ------------------------------------------------------------------------------------

// The request for `method` from --json and the flags; a usage problem otherwise.
absl::Status BuildRequest(const Args& args, const Settings& settings, Message* request) {
  const std::string json = settings.Get("json", nullptr, false);
  if (!json.empty()) {
    std::string text = json;
    if (json == "-") {
      std::stringstream in;
      in << std::cin.rdbuf();
      text = in.str();
    } else if (absl::StartsWith(json, "@") && !ReadFile(json.substr(1), &text)) {
      return absl::InvalidArgumentError(absl::StrCat("--json: cannot read ", json.substr(1)));
    }
    const auto parsed = google::protobuf::util::JsonStringToMessage(text, request);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--json: not a valid ",
                                                     request->GetDescriptor()->name(), ": ",
                                                     parsed.message().as_string()));
    }
  }
  for (const Flag& flag : args.flags) {
    absl::Status set = SetField(request, flag.name, flag.value, flag.has_value);
    if (!set.ok()) return set;
  }
  const auto* key = request->GetDescriptor()->FindFieldByName("idempotency_key");
  if (key != nullptr && request->GetReflection()->GetString(*request, key).empty()) {
    request->GetReflection()->SetString(request, key, RandomKey());
  }
  return absl::OkStatus();
}

enum class Output { kTable, kJson, kCsv };

// How answers are printed (--output); a usage problem when it is not table, json or csv.
absl::StatusOr<Output> OutputFormat(const Settings& settings) {
  const std::string output = settings.Get("output", "MEDIATION_OUTPUT");
  if (output.empty() || output == "table") return Output::kTable;
  if (output == "json") return Output::kJson;
  if (output == "csv") return Output::kCsv;
  return absl::InvalidArgumentError("--output: table, json or csv, not '" + output + "'");
}

int Run(Catalog& catalog, const MethodDescriptor& method, const Args& args,
        const Settings& settings) {
  const absl::StatusOr<Output> output = OutputFormat(settings);
  if (!output.ok()) return Usage(std::string(output.status().message()));
  const bool json = *output == Output::kJson;
  std::unique_ptr<Message> request = catalog.New(method.input_type());
  absl::Status built = BuildRequest(args, settings, request.get());
  if (!built.ok()) return Usage(std::string(built.message()));
  absl::StatusOr<std::unique_ptr<client::Connection>> connection = Connect(settings);
  if (!connection.ok()) return Usage(std::string(connection.status().message()));
  std::unique_ptr<Message> response = catalog.New(method.output_type());
  // The call is made whatever this says (the server may be starting up), but a failure is
  // reported as "unreachable" only when no connection was ever made.
  const absl::Status connected = (*connection)->Connect();

  if (!method.server_streaming()) {
    absl::Status status = (*connection)->CallMethod(method, *request, response.get());
    if (!status.ok()) return ReportCallError(**connection, connected, status);
    std::cout << (json                      ? RenderJson(*response)
                  : *output == Output::kCsv ? RenderCsv(*response)
                                            : RenderText(*response));
    return kOk;
  }
  // A stream that ends by itself is printed as one JSON array; a followed one line by line.
  const auto* stop = method.input_type()->FindFieldByName("stop_at_end");
  const bool ends = stop != nullptr && request->GetReflection()->GetBool(*request, stop);
  bool first = true;
  if (json && ends) std::cout << "[";
  // A stream that ends by itself has the call deadline; a followed one only with --timeout.
  const absl::Duration timeout = ends || !settings.Get("timeout", nullptr).empty()
                                     ? absl::ZeroDuration()
                                     : absl::InfiniteDuration();
  absl::Status status = (*connection)
                            ->StreamMethod(
                                method, *request, response.get(),
                                [&](const Message& m) {
                                  if (json && ends) {
                                    std::cout << (first ? "\n" : ",\n") << RenderJson(m, false);
                                  } else if (json) {
                                    std::cout << RenderJson(m, false) << "\n";
                                  } else {
                                    std::string line = RenderText(m);
                                    absl::StrReplaceAll({{"\n", "  "}}, &line);
                                    std::cout << absl::StripTrailingAsciiWhitespace(line) << "\n";
                                  }
                                  first = false;
                                  std::cout.flush();
                                  return true;
                                },
                                timeout);
  if (json && ends) std::cout << (first ? "]\n" : "\n]\n");
  if (!status.ok()) return ReportCallError(**connection, connected, status);
  return kOk;
}

int Main(int argc, char** argv) {
  Catalog catalog;
  // Which flags are boolean depends on the command, known from the first two words.
  auto bool_flag = [&catalog](const std::vector<std::string>& words, const std::string& name) {
    if (words.size() < 2) return false;
    for (const Command& c : Catalog::Commands()) {
      if (words[0] == c.noun && words[1] == c.verb) {
        return IsBoolField(catalog.FindMethod(c.method)->input_type(), name);
      }
    }
    return false;
  };
  const Args args = Parse(argc, argv, bool_flag);
  const Settings settings(args);
  if (settings.missing_config()) {
    return Usage(absl::StrCat("cannot read the config file ", settings.config_path()));
  }
  const std::vector<std::string>& words = args.positional;
  if (words.empty()) {
    if (args.help) return MainHelp(std::cout);
    MainHelp(std::cerr);
    return kUsageError;
  }
  const std::string& noun = words[0];

  if (noun == "commands") {
    for (const Command& c : Catalog::Commands()) {
      std::cout << absl::StrFormat("%-12s %-22s %s\n", c.noun, c.verb, c.method);
    }
    std::cout << absl::StrFormat("%-12s %-22s %s\n", "mediator", "import",
                                 "MediatorService/RegisterMediator (per CSV row)");
    return kOk;
  }
  if (noun == "services") {
    for (const auto* service : catalog.Services()) {
      std::cout << service->full_name() << "\n";
      for (int i = 0; i < service->method_count(); ++i) {
        const MethodDescriptor* m = service->method(i);
        std::cout << "  " << m->name() << "(" << m->input_type()->name() << ") returns ("
                  << (m->server_streaming() ? "stream " : "") << m->output_type()->name() << ")\n";
      }
    }
    return kOk;
  }
  if (noun == "describe") {
    if (words.size() != 2) return Usage("describe takes one name, e.g. describe GetCaseRequest");
    std::string name = words[1];
    if (name.find('.') == std::string::npos) name = "ppa.mediation.v1." + name;
    absl::StrReplaceAll({{"/", "."}}, &name);
    const auto& pool = catalog.pool();
    if (const auto* s = pool.FindServiceByName(name)) {
      std::cout << s->DebugStringWithOptions(WithComments());
    } else if (const auto* m = pool.FindMethodByName(name)) {
      std::cout << m->DebugStringWithOptions(WithComments()) << "\n"
                << m->input_type()->DebugStringWithOptions(WithComments()) << "\n"
                << m->output_type()->DebugStringWithOptions(WithComments());
    } else if (const auto* t = pool.FindMessageTypeByName(name)) {
      std::cout << t->DebugStringWithOptions(WithComments());
    } else if (const auto* e = pool.FindEnumTypeByName(name)) {
      std::cout << e->DebugStringWithOptions(WithComments());
    } else {
      return Usage("no service, method, message or enum called " + name);
    }
    return kOk;
  }
  if (noun == "call") {
    if (words.size() < 2 || words.size() > 3) {
      return Usage("call takes a method and optionally a JSON request");
    }
    const MethodDescriptor* method = catalog.FindMethod(words[1]);
    if (method == nullptr) {
      return Usage("no method " + words[1] + "; 'mediationctl services' lists them");
    }
    if (args.help) {
      std::cout << method->DebugStringWithOptions(WithComments()) << "\n"
                << method->input_type()->DebugStringWithOptions(WithComments());
      return kOk;
    }
    Args call_args = args;
    if (words.size() == 3) call_args.globals["json"] = words[2];
    // `call` answers in JSON unless told otherwise.
    if (call_args.globals.count("output") == 0) call_args.globals["output"] = "json";
    const Settings call_settings(call_args);
    return Run(catalog, *method, call_args, call_settings);
  }

  const std::vector<Command> commands = Catalog::CommandsOf(noun);
  if (commands.empty()) {
    return Usage(absl::StrCat("unknown command '", noun, "'; 'mediationctl --help' lists them"));
  }
  if (words.size() == 1) {
    if (args.help) return NounHelp(catalog, noun, std::cout);
    NounHelp(catalog, noun, std::cerr);
    return kUsageError;
  }
  const std::string& verb = words[1];
  if (noun == "mediator" && verb == "import") {
    if (args.help) return ImportHelp(std::cout);
    const absl::StatusOr<Output> output = OutputFormat(settings);
    if (!output.ok()) return Usage(std::string(output.status().message()));
    if (*output == Output::kCsv) return Usage("mediator import reports as a table or JSON");
    absl::StatusOr<std::unique_ptr<client::Connection>> connection = Connect(settings);
    if (!connection.ok()) return Usage(std::string(connection.status().message()));
    std::string file;
    if (words.size() == 3) file = words[2];
    for (const Flag& f : args.flags) {
      if (Canonical(f.name) == "file") {
        file = f.value;
      } else {
        return Usage("mediator import takes a CSV file name and no other flags; --help explains");
      }
    }
    if (file.empty()) return Usage("mediator import: name the CSV file");
    if (absl::Status connected = (*connection)->Connect(); !connected.ok()) {
      return ReportCallError(**connection, connected, connected);
    }
    return ImportMediators(catalog, **connection, file, *output == Output::kJson);
  }
  for (const Command& c : commands) {
    if (verb != c.verb) continue;
    if (args.help) return CommandHelp(catalog, c, std::cout);
    if (words.size() > 2) {
      return Usage(absl::StrCat("unexpected '", words[2], "'; flags start with --"));
    }
    return Run(catalog, *catalog.FindMethod(c.method), args, settings);
  }
  return Usage(absl::StrCat("'", noun, "' has no verb '", verb, "'; 'mediationctl ", noun,
                            " --help' lists them"));
}

}  // namespace
}  // namespace mediation::cli

int main(int argc, char** argv) { return mediation::cli::Main(argc, argv); }
