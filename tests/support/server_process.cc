#include "tests/support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace mediation::testing {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

ServerProcess::ServerProcess(const std::vector<std::string>& args, std::string log_path,
                             const std::vector<std::string>& launcher)
    : log_path_(std::move(log_path)) {
  std::vector<std::string> copies = launcher;
  copies.push_back(MEDIATION_SERVER_PATH);
  copies.insert(copies.end(), args.begin(), args.end());
  std::string binary = copies.front();
  std::vector<char*> argv;
  for (std::string& a : copies) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  if (posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
}

ServerProcess::~ServerProcess() { Kill(); }

int ServerProcess::WaitForPort() {
  const std::regex serving("serving ppa\\.mediation\\.v1 on port ([0-9]+)");
  for (int i = 0; i < 400 && !Exited(); ++i) {
    std::smatch m;
    const std::string log = Log();
    if (std::regex_search(log, m, serving)) return std::stoi(m[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

bool ServerProcess::Exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  if (exit_code_ < 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return exit_code_ >= 0;
}

int ServerProcess::SignalAndWait(int signal) {
  if (!Exited()) ::kill(pid_, signal);
  return WaitForExit();
}

int ServerProcess::WaitForExit() {
  for (int i = 0; i < 300 && !Exited(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return exit_code_;
}

void ServerProcess::Kill() {
  if (Exited()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  exit_code_ = 128 + SIGKILL;
}

}  // namespace mediation::testing
