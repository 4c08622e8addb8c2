// Sends one message over SMTP with libcurl: smtp:// with STARTTLS required (plaintext only when
// allowed, and only to a loopback host), or smtps://. Used by the delivery worker alone.
//
// Thread-compatible: one Send at a time per mailer.
#ifndef MEDIATION_SERVICES_NOTIFICATIONS_SMTP_MAILER_H_
#define MEDIATION_SERVICES_NOTIFICATIONS_SMTP_MAILER_H_

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace mediation::notifications {

struct SmtpSettings {
  std::string url;  // "smtp://host:port" or "smtps://host:port".
  bool allow_plaintext = false;
  std::string username;  // Empty: no authentication.
  std::string password;
  absl::Duration timeout = absl::Seconds(30);
};

// What the mail server said.
struct SendResult {
  // Accepted (2xx to the message's data).
  bool sent = false;
  // Refused for good (a 5xx answer to the recipient or the message): trying again will not
  // help. A 5xx to the greeting, the login or the sender is not (see Send).
  bool permanent = false;
  // The server's last answer ("250 2.0.0 Ok: queued as 4F2"), or why it could not be reached.
  std::string response;
};

class SmtpMailer {
 public:
  // Checks the settings: INVALID_ARGUMENT naming the flag when the URL is not smtp:// or
  // smtps://, or plaintext is asked for a host that is not loopback.
  static absl::StatusOr<SmtpMailer> Create(SmtpSettings settings);

  // Reads "username:password" (one line) from `path`, which must be readable only by its owner.
  static absl::Status ReadCredentials(const std::string& path, SmtpSettings& settings);

  // Sends `message` (RFC 5322, CRLF line ends) from `from` to `to` alone. Gives up, not sent,
  // as soon as `*cancel` becomes true (the server is stopping).
  SendResult Send(const std::string& from, const std::string& to, const std::string& message,
                  const std::atomic<bool>* cancel) const;

 private:
  explicit SmtpMailer(SmtpSettings settings) : settings_(std::move(settings)) {}
  SmtpSettings settings_;
};

}  // namespace mediation::notifications

#endif  // MEDIATION_SERVICES_NOTIFICATIONS_SMTP_MAILER_H_
