#include "services/notifications/smtp_mailer.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/core/host_port.h"

namespace mediation::notifications {
namespace {

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadMessage(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, upload->data->size() - upload->offset);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

// What the conversation was at: the last command sent and the last answer received.
struct Conversation {
  std::string command;  // "RCPT", "DATA", "MAIL", "AUTH", "EHLO"; empty before the first.
  std::string answer;
};

// Keeps the server's last answer line (what it said to the message's data, or the refusal),
// and the command it answered.
int Follow(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  auto* talk = static_cast<Conversation*>(user);
  std::string line(data, size);
  absl::StripTrailingAsciiWhitespace(&line);
  if (type == CURLINFO_HEADER_OUT) {
    // Never the QUIT that ends a refused transaction: its 221 is not the refusal.
    if (!absl::StartsWith(line, "QUIT")) talk->command = line.substr(0, line.find(' '));
    return 0;
  }
  if (type != CURLINFO_HEADER_IN) return 0;
  if (!line.empty() && !absl::StartsWith(line, "221")) talk->answer = line;
  return 0;
}

// Aborts the transfer when the server is stopping.
int Progress(void* cancel, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* flag = static_cast<const std::atomic<bool>*>(cancel);
  return flag != nullptr && flag->load() ? 1 : 0;
}

// "host:port" of "smtp://host:port/..." (port 25 when none is given).
std::string HostPortOf(absl::string_view url) {
  if (!absl::ConsumePrefix(&url, "smtps://")) absl::ConsumePrefix(&url, "smtp://");
  url = url.substr(0, url.find('/'));
  const size_t bracket = url.rfind(']');
  const size_t colon = url.rfind(':');
  if (colon == absl::string_view::npos || (bracket != absl::string_view::npos && colon < bracket)) {
    return absl::StrCat(url, ":25");
  }
  return std::string(url);
}

}  // namespace

absl::StatusOr<SmtpMailer> SmtpMailer::Create(SmtpSettings settings) {
  const bool smtps = absl::StartsWith(settings.url, "smtps://");
  if (!smtps && !absl::StartsWith(settings.url, "smtp://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--smtp_url: '", settings.url, "' is neither smtp://host:port nor smtps://host:port"));
  }
  if (settings.allow_plaintext && !smtps) {
    const std::string host = HostPortOf(settings.url);
    if (!IsLoopbackAddress(host)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--smtp_allow_plaintext: ", host,
                       " is not a loopback address; mail to another machine must use TLS"));
    }
  }
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (init != CURLE_OK) return absl::InternalError("libcurl could not be initialised");
  return SmtpMailer(std::move(settings));
}

absl::Status SmtpMailer::ReadCredentials(const std::string& path, SmtpSettings& settings) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--smtp_credentials_file: cannot read ", path, ": ", std::strerror(errno)));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--smtp_credentials_file: ", path, " can be read by others: chmod 600 it"));
  }
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  absl::StripTrailingAsciiWhitespace(&line);
  const size_t colon = line.find(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--smtp_credentials_file: ", path, " must hold one line, username:password"));
  }
  settings.username = line.substr(0, colon);
  settings.password = line.substr(colon + 1);
  return absl::OkStatus();
}

SendResult SmtpMailer::Send(const std::string& from, const std::string& to,
                            const std::string& message, const std::atomic<bool>* cancel) const {
  SendResult result;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    result.response = "libcurl could not start a transfer";
    return result;
  }
  Upload upload{&message};
  Conversation talk;
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* recipients = curl_slist_append(nullptr, to.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, settings_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_USE_SSL,
                   settings_.allow_plaintext ? CURLUSESSL_TRY : CURLUSESSL_ALL);
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadMessage);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(settings_.timeout)));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(settings_.timeout)));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, Follow);
  curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &talk);
  curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);  // Feeds Follow; nothing is printed.
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, Progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(cancel));
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  if (!settings_.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.password.c_str());
  }
  const CURLcode code = curl_easy_perform(curl);
  long smtp_code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &smtp_code);
  curl_slist_free_all(recipients);
  curl_easy_cleanup(curl);
  if (code == CURLE_OK) {
    result.sent = true;
    result.response = talk.answer.empty() ? std::string("250 accepted") : talk.answer;
    return result;
  }
  // A 5xx to this recipient or to this message is for good. One to the greeting, the login or
  // the sender (a relay's password expired, our sender refused) is the server's, not the
  // message's: tried again later, so that every email is not given up at once.
  const bool about_message = talk.command == "RCPT" || talk.command == "DATA";
  result.permanent = about_message && smtp_code >= 500 && smtp_code < 600;
  if (smtp_code >= 400 && !talk.answer.empty()) {
    result.response = talk.answer;
  } else {
    result.response = absl::StrCat(curl_easy_strerror(code), error[0] != '\0' ? ": " : "", error);
  }
  return result;
}

}  // namespace mediation::notifications
