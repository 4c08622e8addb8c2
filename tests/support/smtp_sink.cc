#include "tests/support/smtp_sink.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/support/server_process.h"

extern char** environ;

namespace mediation::testing {
namespace {

// Whether the sink's output holds its whole "ready" line, after the port's.
bool ReadyLine(const std::string& said) {
  const size_t ready = said.find("\nready");
  return ready != std::string::npos && said.find('\n', ready + 1) != std::string::npos;
}

}  // namespace

SmtpSink::SmtpSink(std::string dir, std::string log_path)
    : dir_(std::move(dir)), log_path_(std::move(log_path)) {
  std::filesystem::create_directories(dir_);
}

bool SmtpSink::Start(int port) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return false;
  std::vector<std::string> args = {"/usr/bin/python3",   SMTP_SINK_PATH, "--port",
                                   std::to_string(port), "--dir",        dir_};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0600);
  const int spawned = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (spawned != 0) {
    pid_ = -1;
    ::close(out[0]);
    return false;
  }
  // "<port>\n" then "ready...\n".
  std::string said;
  const absl::Time end = absl::Now() + absl::Seconds(20);
  while (!ReadyLine(said) && absl::Now() < end) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buffer[256];
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    said.append(buffer, static_cast<size_t>(n));
  }
  ::close(out[0]);
  if (!ReadyLine(said)) {
    Stop();
    return false;
  }
  port_ = std::stoi(said.substr(0, said.find('\n')));
  return true;
}

void SmtpSink::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  const absl::Time end = absl::Now() + absl::Seconds(10);
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > end) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
}

bool SmtpSink::Alive() const {
  int status = 0;
  return pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == 0;
}

void SmtpSink::Refuse(const std::string& reply, bool at_rcpt) {
  std::ofstream(absl::StrCat(dir_, at_rcpt ? "/refuse_rcpt" : "/refuse")) << reply << "\n";
}

void SmtpSink::RefuseSender(const std::string& reply) {
  std::ofstream(absl::StrCat(dir_, "/refuse_mail")) << reply << "\n";
}

void SmtpSink::Accept() {
  for (const char* fault : {"/refuse", "/refuse_rcpt", "/refuse_mail"}) {
    std::filesystem::remove(dir_ + fault);
  }
}

std::vector<nlohmann::json> SmtpSink::Messages() const {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    if (absl::EndsWith(name, ".json") && name[0] != '.') names.push_back(entry.path().string());
  }
  std::sort(names.begin(), names.end());
  std::vector<nlohmann::json> messages;
  for (const std::string& name : names) messages.push_back(nlohmann::json::parse(ReadAll(name)));
  return messages;
}

}  // namespace mediation::testing
