#include "services/core/event_hub.h"

#include <utility>

namespace mediation {

uint64_t EventHub::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

uint64_t EventHub::WaitAfter(uint64_t seen, std::function<void()> wake) {
  std::lock_guard lock(mu_);
  if (closed_ || version_ != seen) return 0;
  const uint64_t ticket = next_ticket_++;
  waiters_.emplace(ticket, std::move(wake));
  return ticket;
}

bool EventHub::Cancel(uint64_t ticket) {
  std::lock_guard lock(mu_);
  return waiters_.erase(ticket) > 0;
}

std::map<uint64_t, std::function<void()>> EventHub::TakeWaiters() {
  std::map<uint64_t, std::function<void()>> taken;
  taken.swap(waiters_);
  return taken;
}

void EventHub::Notify() {
  std::map<uint64_t, std::function<void()>> woken;
  {
    std::lock_guard lock(mu_);
    ++version_;
    woken = TakeWaiters();
  }
  for (auto& [ticket, wake] : woken) wake();
}

void EventHub::Close() {
  std::map<uint64_t, std::function<void()>> woken;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    ++version_;
    woken = TakeWaiters();
  }
  for (auto& [ticket, wake] : woken) wake();
}

bool EventHub::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

}  // namespace mediation
