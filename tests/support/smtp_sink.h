// tests/support/smtp_sink.py as a child process: a real SMTP server on 127.0.0.1 (Debian's
// python3-aiosmtpd) that writes each message it accepts to <dir>/NNNNNN.json, and refuses on
// demand. Used by the email tests against the server binary.
#ifndef MEDIATION_TESTS_SUPPORT_SMTP_SINK_H_
#define MEDIATION_TESTS_SUPPORT_SMTP_SINK_H_

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mediation::testing {

class SmtpSink {
 public:
  // Records into `dir` (created); the sink's own output goes to `log_path`.
  SmtpSink(std::string dir, std::string log_path);
  ~SmtpSink() { Stop(); }
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  // Starts it on `port` (0: a free one); false if it did not say it was ready within 20 s.
  bool Start(int port = 0);
  // SIGTERM, then waits for it (SIGKILL after 10 s).
  void Stop();
  // Whether it still runs.
  bool Alive() const;
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

  // From now on DATA (or RCPT) is answered with `reply` and nothing is recorded.
  void Refuse(const std::string& reply, bool at_rcpt = false);
  // Refuses the sender (MAIL FROM) with `reply`: the mail server's problem, not the message's.
  void RefuseSender(const std::string& reply);
  void Accept();

  // Every message accepted so far, in the order received (smtp_sink.py's records).
  std::vector<nlohmann::json> Messages() const;

 private:
  const std::string dir_;
  const std::string log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace mediation::testing

#endif  // MEDIATION_TESTS_SUPPORT_SMTP_SINK_H_
