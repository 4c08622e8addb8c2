#include "services/core/descriptor_reserve.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace mediation {

DescriptorReserve& DescriptorReserve::Process() {
  static DescriptorReserve* const reserve = new DescriptorReserve();
  return *reserve;
}

DescriptorReserve::DescriptorReserve() : spare_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

DescriptorReserve::Accepted DescriptorReserve::Accept(int listener) {
  std::lock_guard lock(mu_);
  // Lost to some other use last time: take it back as soon as descriptors allow.
  if (spare_ < 0) spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  Accepted accepted;
  accepted.fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (accepted.fd >= 0) return accepted;
  accepted.error = errno;
  if (accepted.error == EMFILE || accepted.error == ENFILE) {
    accepted.drained = DrainWaiting(listener);
  }
  return accepted;
}

int DescriptorReserve::DrainWaiting(int listener) {
  if (spare_ >= 0) {
    ::close(spare_);
    spare_ = -1;
  }
  // Without the spare (something other than an accept took it last time) this still closes
  // whatever a freed descriptor lets it accept.
  int drained = 0;
  for (int fd; drained < SOMAXCONN &&
               (fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
    ::close(fd);
    ++drained;
  }
  spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  return drained;
}

}  // namespace mediation
