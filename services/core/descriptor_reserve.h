// One descriptor held back for the listeners, for when the process runs out.
//
// When accept fails with EMFILE the waiting connection stays in the listen queue, the listener
// stays readable, and a loop that just retries spins while clients wait forever. The classic
// remedy: keep a descriptor open for nothing, and when out of them give it up, accept what is
// waiting, close it at once (the client sees its connection closed rather than hanging), and
// take the descriptor back. One reserve for the whole process, and every accept of both
// listeners under its lock, so neither listener's accept takes the descriptor the other freed
// (a concurrent accept would keep it as a connection, and the spare would be lost).
#ifndef MEDIATION_SERVICES_CORE_DESCRIPTOR_RESERVE_H_
#define MEDIATION_SERVICES_CORE_DESCRIPTOR_RESERVE_H_

#include <mutex>

namespace mediation {

class DescriptorReserve {
 public:
  // The process's reserve; the first call takes the spare descriptor, so make it at start-up.
  static DescriptorReserve& Process();

  // accept4(listener) with SOCK_NONBLOCK | SOCK_CLOEXEC on a non-blocking listening socket:
  // the connection's descriptor, or -1 with errno. Out of descriptors (EMFILE, ENFILE) it first
  // closes every connection waiting, so the queue is empty when it returns -1.
  int Accept(int listener);

 private:
  // Accepts and closes every connection waiting on `listener`, with the spare. Needs mu_.
  void DrainWaiting(int listener);

  DescriptorReserve();

  std::mutex mu_;
  int spare_ = -1;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_DESCRIPTOR_RESERVE_H_
