#include "services/server/grpc_acceptor.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/core/descriptor_reserve.h"
#include "services/core/host_port.h"

namespace mediation {
namespace {

void CloseAll(const std::vector<int>& fds) {
  for (const int fd : fds) ::close(fd);
}

absl::Status CannotListen(const std::string& listen, absl::string_view why) {
  return absl::UnavailableError(absl::StrCat("could not listen on ", listen, ": ", why,
                                             " (is another server using the port, or is the "
                                             "address wrong?)"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcAcceptor>> GrpcAcceptor::Bind(const std::string& listen,
                                                                 int max_connections,
                                                                 CallLog& log) {
  if (max_connections < 1) {
    return absl::InvalidArgumentError("--grpc_max_connections must be at least 1");
  }
  absl::StatusOr<HostPort> parsed = ParseHostPort(listen, "--listen");
  if (!parsed.ok()) return parsed.status();
  const std::string& host = parsed->host;
  int port = parsed->port;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc =
          ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    return CannotListen(listen, ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(found, ::freeaddrinfo);
  // Every address the name resolves to ("localhost": 127.0.0.1 and ::1), on one port: the
  // first bound fixes it when the port asked for is 0.
  std::vector<int> listeners;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    sockaddr_storage address{};
    std::memcpy(&address, a->ai_addr, a->ai_addrlen);
    if (a->ai_family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&address)->sin_port = htons(static_cast<uint16_t>(port));
    } else if (a->ai_family == AF_INET6) {
      reinterpret_cast<sockaddr_in6*>(&address)->sin6_port = htons(static_cast<uint16_t>(port));
    } else {
      continue;
    }
    const int fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      CloseAll(listeners);
      return CannotListen(listen, std::strerror(errno));
    }
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (a->ai_family == AF_INET6 && found->ai_next != nullptr) {
      // Several addresses: each socket takes only its own family.
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), a->ai_addrlen) != 0 ||
        ::listen(fd, SOMAXCONN) != 0) {
      const int error = errno;
      ::close(fd);
      // A second address of the same name may be missing (no IPv6): the first one is enough.
      if (!listeners.empty()) continue;
      CloseAll(listeners);
      return CannotListen(listen, std::strerror(error));
    }
    if (port == 0) {
      sockaddr_storage bound{};
      socklen_t length = sizeof(bound);
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
      port = bound.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port)
                                        : ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    }
    listeners.push_back(fd);
  }
  if (listeners.empty()) return CannotListen(listen, "no address to bind");
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    CloseAll(listeners);
    return CannotListen(listen, std::strerror(errno));
  }
  DescriptorReserve::Process();  // Takes its spare now, while descriptors are plenty.
  return std::unique_ptr<GrpcAcceptor>(
      new GrpcAcceptor(std::move(listeners), wake, port, max_connections, log));
}

GrpcAcceptor::GrpcAcceptor(std::vector<int> listeners, int wake_fd, int port, int max_connections,
                           CallLog& log)
    : listeners_(std::move(listeners)),
      port_(port),
      max_connections_(static_cast<size_t>(max_connections)),
      log_(log),
      wake_fd_(wake_fd) {}

GrpcAcceptor::~GrpcAcceptor() {
  Stop();
  ::close(wake_fd_);
}

void GrpcAcceptor::Start(std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> handoff) {
  handoff_ = std::move(handoff);
  thread_ = std::thread([this] { Run(); });
}

void GrpcAcceptor::Stop() {
  std::call_once(stop_once_, [this] {
    const uint64_t one = 1;
    if (thread_.joinable()) {
      (void)::write(wake_fd_, &one, sizeof(one));
      thread_.join();
    }
    CloseAll(listeners_);
  });
}

GrpcAcceptor::Stats GrpcAcceptor::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void GrpcAcceptor::Run() {
  std::vector<pollfd> polled;
  for (const int fd : listeners_) polled.push_back({.fd = fd, .events = POLLIN, .revents = 0});
  polled.push_back({.fd = wake_fd_, .events = POLLIN, .revents = 0});
  while (true) {
    const int ready = ::poll(polled.data(), polled.size(), 1000);
    if (ready < 0 && errno != EINTR) {
      log_.Error("grpc-accept", absl::StrCat("poll failed: ", std::strerror(errno)));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (polled.back().revents != 0) return;
    for (size_t i = 0; i + 1 < polled.size(); ++i) {
      if (polled[i].revents != 0) AcceptFrom(polled[i].fd);
    }
    if (absl::Now() - last_counted_ > absl::Seconds(1)) Count();
  }
}

void GrpcAcceptor::AcceptFrom(int listener) {
  // At most a listen queue's worth per wake-up, so one flooded address cannot starve another.
  for (int n = 0; n < SOMAXCONN; ++n) {
    const DescriptorReserve::Accepted accepted = DescriptorReserve::Process().Accept(listener);
    const int fd = accepted.fd;
    if (fd < 0) {
      const int error = accepted.error;
      if (error == EAGAIN || error == EWOULDBLOCK) return;
      if (error == EINTR || error == ECONNABORTED || error == EPROTO) continue;
      const bool out_of_descriptors = error == EMFILE || error == ENFILE;
      if (out_of_descriptors) {
        // What was waiting has been closed (its clients see their connections closed) rather
        // than left queued, with the listener readable, forever.
        std::lock_guard lock(mu_);
        stats_.drained += accepted.drained;
      }
      const absl::Time now = absl::Now();
      if (now - last_warning_ > absl::Seconds(10)) {
        last_warning_ = now;
        log_.Error("grpc-accept", absl::StrCat("accept failed: ", std::strerror(error),
                                               "; connections are being refused"));
      }
      // Nothing could be taken off the queue: wait rather than spin on a readable listener.
      if (!out_of_descriptors || accepted.drained == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      return;
    }
    // At the cap, count again (at most every 100 ms: it looks at every open connection).
    if (open_.size() >= max_connections_ && absl::Now() - last_counted_ > absl::Milliseconds(100)) {
      Count();
    }
    if (open_.size() >= max_connections_) {
      ::close(fd);
      std::lock_guard lock(mu_);
      ++stats_.refused_at_cap;
      const absl::Time now = absl::Now();
      if (now - last_warning_ > absl::Seconds(10)) {
        last_warning_ = now;
        log_.Error("grpc-accept",
                   absl::StrCat(max_connections_,
                                " gRPC connections are open (--grpc_max_connections): closing "
                                "new ones until some end"));
      }
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      continue;
    }
    {
      std::lock_guard lock(mu_);
      open_[fd] = st.st_ino;
      ++stats_.accepted;
      stats_.open = static_cast<int>(open_.size());
    }
    grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters handed;
    handed.listener_fd = listener;
    handed.fd = fd;
    handoff_->HandleNewConnection(&handed);
  }
}

void GrpcAcceptor::Count() {
  std::lock_guard lock(mu_);
  for (auto it = open_.begin(); it != open_.end();) {
    struct stat st {};
    const bool same = ::fstat(it->first, &st) == 0 && S_ISSOCK(st.st_mode) &&
                      static_cast<uint64_t>(st.st_ino) == it->second;
    it = same ? std::next(it) : open_.erase(it);
  }
  stats_.open = static_cast<int>(open_.size());
  last_counted_ = absl::Now();
}

}  // namespace mediation
