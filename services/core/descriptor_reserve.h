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

  struct Accepted {
    int fd = -1;      // The connection's descriptor; -1 when none was accepted.
    int error = 0;    // accept4's errno when fd is -1.
    int drained = 0;  // Out of descriptors: how many waiting connections were closed.
  };
  // accept4(listener) with SOCK_NONBLOCK | SOCK_CLOEXEC on a non-blocking listening socket.
  // Out of descriptors (EMFILE, ENFILE) it closes up to a listen queue's worth of waiting
  // connections with the spare. When that closed none (something else took the freed
  // descriptor), the caller should wait a little before trying again rather than spin.
  Accepted Accept(int listener);

 private:
  // Accepts and closes up to SOMAXCONN connections waiting on `listener`, with the spare;
  // returns how many. Needs mu_.
  int DrainWaiting(int listener);

  DescriptorReserve();

  std::mutex mu_;
  int spare_ = -1;
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_CORE_DESCRIPTOR_RESERVE_H_
