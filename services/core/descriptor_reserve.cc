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

int DescriptorReserve::Accept(int listener) {
  std::lock_guard lock(mu_);
  const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0 || (errno != EMFILE && errno != ENFILE)) return fd;
  const int error = errno;
  DrainWaiting(listener);
  errno = error;
  return -1;
}

void DescriptorReserve::DrainWaiting(int listener) {
  if (spare_ >= 0) {
    ::close(spare_);
    spare_ = -1;
  }
  // Without the spare (something other than an accept took it last time) this still closes
  // whatever a freed descriptor lets it accept.
  for (int fd; (fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
    ::close(fd);
  }
  if (spare_ < 0) spare_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

}  // namespace mediation
