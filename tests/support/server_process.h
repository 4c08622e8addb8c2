// The built mediation-server binary, run as a separate process by the tests that reach it only
// over the network (server_binary_test, crash_test, transport_tests' example configuration).
#ifndef MEDIATION_TESTS_SUPPORT_SERVER_PROCESS_H_
#define MEDIATION_TESTS_SUPPORT_SERVER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace mediation::testing {

// Everything in a file (empty if it cannot be read).
std::string ReadAll(const std::string& path);

class ServerProcess {
 public:
  // Starts the binary with `args`, its stdout and stderr going to `log_path` (mode 0600). With
  // `launcher` (say {"/usr/bin/prlimit", "--nofile=256:256", "--"}) the binary is started by it.
  ServerProcess(const std::vector<std::string>& args, std::string log_path,
                const std::vector<std::string>& launcher = {});
  // Kills it with SIGKILL if it is still running.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // The port from its "serving ... on port N" line; 0 if it exited or took over 20 s.
  int WaitForPort();
  // Whether it has exited (reaping it if so).
  bool Exited();
  // Sends `signal` and waits up to 15 s for its exit code (128 + signal if a signal ended it;
  // -1 if it did not exit).
  int SignalAndWait(int signal);
  // Waits up to 15 s for its exit code (-1 if it did not exit).
  int WaitForExit();
  // SIGKILL: no shutdown, no flush, no checkpoint. Waits until it is gone.
  void Kill();

  std::string Log() const { return ReadAll(log_path_); }
  // Its process id (a launcher such as prlimit execs the binary in place).
  pid_t pid() const { return pid_; }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  int exit_code_ = -1;  // Set once it has exited.
};

}  // namespace mediation::testing

#endif  // MEDIATION_TESTS_SUPPORT_SERVER_PROCESS_H_
