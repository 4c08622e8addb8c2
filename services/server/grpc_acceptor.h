// The gRPC listener's accept loop, run by the server itself rather than by gRPC.
//
// Why: gRPC 1.51 (Debian 12) stops accepting for good once accept4 fails with EMFILE (it logs
// "Failed accept4: Too many open files" and never re-arms the listener), and it has no cap on
// concurrent connections, so 400 idle TCP connections under a 256-descriptor limit left a live
// server that no client could reach again. This loop binds the address, accepts with a cap on
// the connections it has handed over (closing any beyond it at once), recovers from running out
// of descriptors (services/core/descriptor_reserve.h), and hands
// every connection it keeps to gRPC through ServerBuilder's external connection acceptor, which
// runs TLS and HTTP/2 on it exactly as on a connection gRPC accepted itself.
//
// A handed-over connection belongs to gRPC, which closes it when the client goes, at its
// handshake deadline or after its idle timeout. The loop counts it as open while its descriptor
// still names the same socket (the socket's inode, which the kernel never reuses while the
// counter lasts), so it learns of closes without a hook into gRPC: every second, and at the cap
// at most every 100 ms (each count looks at every open connection). A connection that closed
// since the last count still counts against the cap until the next.
#ifndef MEDIATION_SERVICES_SERVER_GRPC_ACCEPTOR_H_
#define MEDIATION_SERVICES_SERVER_GRPC_ACCEPTOR_H_

#include <grpcpp/server_builder.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/call_log.h"

namespace mediation {

class GrpcAcceptor {
 public:
  struct Stats {
    int64_t accepted = 0;        // Handed to gRPC.
    int64_t refused_at_cap = 0;  // Closed at once: max_connections were open.
    int64_t drained = 0;         // Closed at once for want of descriptors (the spare descriptor).
    int open = 0;                // Handed over and not yet closed (as of the last count).

    // Connections taken off the listen queue, whatever became of them: the loop is accepting
    // while this grows.
    int64_t taken() const { return accepted + refused_at_cap + drained; }
  };

  // Binds every address `listen` (host:port; port 0 picks a free port) resolves to, all on
  // the same port. UNAVAILABLE naming the address if it cannot. Nothing is accepted before Start.
  static absl::StatusOr<std::unique_ptr<GrpcAcceptor>> Bind(const std::string& listen,
                                                            int max_connections, CallLog& log);
  ~GrpcAcceptor();
  GrpcAcceptor(const GrpcAcceptor&) = delete;
  GrpcAcceptor& operator=(const GrpcAcceptor&) = delete;

  int port() const { return port_; }

  // Starts accepting, handing connections to `handoff` (from a started grpc::Server's builder).
  void Start(std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> handoff);
  // Stops accepting and closes the listening sockets; open connections stay with gRPC. Call
  // before the gRPC server shuts down, which would otherwise leak connections handed to it.
  void Stop();

  Stats stats() const;

 private:
  GrpcAcceptor(std::vector<int> listeners, int wake_fd, int port, int max_connections,
               CallLog& log);
  void Run();
  // Accepts what is waiting on `listener`.
  void AcceptFrom(int listener);
  // Forgets the connections gRPC has closed.
  void Count();

  const std::vector<int> listeners_;
  const int port_;
  const size_t max_connections_;
  CallLog& log_;
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> handoff_;
  const int wake_fd_;  // An eventfd: Stop() wakes the loop with it.
  std::thread thread_;
  std::once_flag stop_once_;

  // Touched only by the loop's thread, except under mu_ for stats().
  mutable std::mutex mu_;
  std::map<int, uint64_t> open_;  // Descriptor to socket inode.
  Stats stats_;
  absl::Time last_counted_ = absl::InfinitePast();
  absl::Time last_warning_ = absl::InfinitePast();
};

}  // namespace mediation

#endif  // MEDIATION_SERVICES_SERVER_GRPC_ACCEPTOR_H_
