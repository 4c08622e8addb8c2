// Wakes the case-event streams waiting for something new. Every committed write that can add
// case events calls Notify; a stream that found nothing new waits with WaitAfter, passing the
// version it saw before it looked, so a write committed while it was looking is never missed.
//
// Thread-safe. Callbacks run on the thread that calls Notify or Close, without the hub's lock.
#ifndef MEDIATION_SERVICES_CORE_EVENT_HUB_H_
#define MEDIATION_SERVICES_CORE_EVENT_HUB_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace mediation {

class EventHub {
 public:
  // Increases with every Notify.
  uint64_t version() const;

  // Arranges for `wake` to be called once, on the next Notify or Close, and returns a ticket
  // for Cancel. Returns 0 without keeping `wake` when there is no need to wait: Notify was
  // called since version `seen`, or the hub is closed.
  uint64_t WaitAfter(uint64_t seen, std::function<void()> wake);

  // Forgets the wait; false when its `wake` has already been taken to run.
  bool Cancel(uint64_t ticket);

  void Notify();

  // Wakes every waiter, and every later one at once: the server is stopping.
  void Close();
  bool closed() const;

 private:
  std::map<uint64_t, std::function<void()>> TakeWaiters();

  mutable std::mutex mu_;
  uint64_t version_ = 0;
  uint64_t next_ticket_ = 1;
  bool closed_ = false;
  std::map<uint64_t, std::function<void()>> waiters_;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_EVENT_HUB_H_
