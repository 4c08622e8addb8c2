// Both listeners against connection floods, as an attacker without a token would try them, on
// the real server binary under a lowered descriptor limit: idle TCP connections far beyond the
// limit, silent connections that never finish a handshake, and descriptors running out while
// serving. After each, a new client must be served within a second (issue 16's "done when").
#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "ppa/mediation/v1/admin.grpc.pb.h"
#include "ppa/mediation/v1/referral.grpc.pb.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_server.h"

namespace mediation {
namespace {

namespace v1 = ::ppa::mediation::v1;
using ::mediation::testing::HttpCall;
using ::mediation::testing::ReadAll;
using ::mediation::testing::SendHttp;
using ::mediation::testing::ServerProcess;
using ::mediation::testing::TempDir;
using Clock = std::chrono::steady_clock;

// This process opens hundreds of sockets: take the whole of its hard limit.
void RaiseOwnDescriptorLimit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

// `n` TCP connections to 127.0.0.1:`port` that send nothing.
std::vector<int> OpenSilent(int port, int n) {
  std::vector<int> fds;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd);
      continue;
    }
    fds.push_back(fd);
  }
  return fds;
}

void CloseAll(std::vector<int>& fds) {
  for (const int fd : fds) ::close(fd);
  fds.clear();
}

// How many of `fds` the server closes (end of stream or reset) before `deadline`, reading and
// dropping whatever it sends first (gRPC's HTTP/2 settings).
int ClosedByServer(const std::vector<int>& fds, Clock::time_point deadline) {
  std::vector<bool> closed(fds.size(), false);
  int count = 0;
  char buffer[4096];
  while (count < static_cast<int>(fds.size()) && Clock::now() < deadline) {
    std::vector<pollfd> open;
    std::vector<size_t> index;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (closed[i]) continue;
      open.push_back({.fd = fds[i], .events = POLLIN, .revents = 0});
      index.push_back(i);
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (::poll(open.data(), open.size(), static_cast<int>(std::max<int64_t>(left.count(), 0))) <=
        0) {
      break;
    }
    for (size_t j = 0; j < open.size(); ++j) {
      if (open[j].revents == 0) continue;
      const ssize_t n = ::recv(open[j].fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        closed[index[j]] = true;
        ++count;
      }
    }
  }
  return count;
}

// A gRPC client that has never connected before: health check, then WhoAmI with the token,
// both with a one-second deadline.
grpc::Status GrpcServes(int port, const std::string& token) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // A connection of its own.
  // Should a first attempt meet a connection closed at the cap, try again well within the
  // second rather than after gRPC's default one-second backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 100);
  auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                           grpc::InsecureChannelCredentials(), args);
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(1);
  grpc::ClientContext health_context;
  health_context.set_deadline(deadline);
  health_context.set_wait_for_ready(true);
  grpc::health::v1::HealthCheckResponse health;
  grpc::Status status = grpc::health::v1::Health::NewStub(channel)->Check(
      &health_context, grpc::health::v1::HealthCheckRequest(), &health);
  if (!status.ok()) return status;
  if (health.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return grpc::Status(grpc::StatusCode::UNKNOWN, "not SERVING");
  }
  grpc::ClientContext context;
  context.set_deadline(deadline);
  context.AddMetadata("authorization", "Bearer " + token);
  v1::WhoAmIResponse me;
  return v1::IdentityService::NewStub(channel)->WhoAmI(&context, v1::WhoAmIRequest(), &me);
}

// A new HTTP client: GET /healthz, then WhoAmI over Connect JSON; the time both took.
struct HttpServed {
  int healthz = 0;
  int who_am_i = 0;
  Clock::duration took{};
};

HttpServed HttpServes(int port, const std::string& token) {
  HttpServed served;
  const Clock::time_point start = Clock::now();
  absl::StatusOr<testing::HttpReply> health =
      SendHttp(port, HttpCall{.method = "GET", .target = "/healthz"});
  served.healthz = health.ok() ? health->status : 0;
  served.who_am_i =
      testing::ConnectJson(port, "/ppa.mediation.v1.IdentityService/WhoAmI", "{}", token).status;
  served.took = Clock::now() - start;
  return served;
}

// A figure from /proc/<pid>/status ("VmHWM": the peak resident memory), in kB.
int64_t StatusKb(pid_t pid, const std::string& field) {
  const std::string status = ReadAll(absl::StrCat("/proc/", pid, "/status"));
  const size_t at = status.find(field + ":");
  return at == std::string::npos ? -1 : std::atoll(status.c_str() + at + field.size() + 1);
}

int OpenDescriptors(pid_t pid) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/fd"), ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

class FloodTest : public ::testing::Test {
 protected:
  void SetUp() override { RaiseOwnDescriptorLimit(); }

  // The binary under a 256-descriptor limit (soft and hard), with connection caps that fit it.
  void Start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--listen=127.0.0.1:0",
                                     "--http_listen=127.0.0.1:0",
                                     "--db=" + dir_.File("mediation.db"),
                                     "--workers=2",
                                     "--grpc_max_connections=64",
                                     "--http_max_connections=64",
                                     "--maintenance_interval_seconds=3600"};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(
        args, dir_.File("server.log"),
        std::vector<std::string>{"/usr/bin/prlimit", "--nofile=256:256", "--"});
    grpc_port_ = server_->WaitForPort();
    ASSERT_GT(grpc_port_, 0) << server_->Log();
    http_port_ = HttpPort();
    ASSERT_GT(http_port_, 0) << server_->Log();
    token_ = std::string(absl::StripTrailingAsciiWhitespace(ReadAll(dir_.File("admin.token"))));
    ASSERT_FALSE(token_.empty());
  }

  int HttpPort() const {
    const std::string log = server_->Log();
    const std::string marker = "serving HTTP (Connect) on port ";
    const size_t at = log.find(marker);
    return at == std::string::npos ? 0 : std::atoi(log.c_str() + at + marker.size());
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  int grpc_port_ = 0;
  int http_port_ = 0;
  std::string token_;
};

TEST_F(FloodTest, BothListenersServeANewClientAfterFourHundredIdleConnectionsEach) {
  Start();
  ASSERT_TRUE(GrpcServes(grpc_port_, token_).ok());

  std::vector<int> grpc_flood = OpenSilent(grpc_port_, 400);
  std::vector<int> http_flood = OpenSilent(http_port_, 400);
  ASSERT_EQ(grpc_flood.size(), 400u);
  ASSERT_EQ(http_flood.size(), 400u);
  // Everything beyond each cap of 64 is closed at once, never queued.
  EXPECT_GE(ClosedByServer(grpc_flood, Clock::now() + std::chrono::seconds(2)), 400 - 64);
  EXPECT_GE(ClosedByServer(http_flood, Clock::now() + std::chrono::seconds(2)), 400 - 64);
  EXPECT_FALSE(server_->Exited()) << server_->Log();

  CloseAll(grpc_flood);
  CloseAll(http_flood);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // The closes reach the server.
  const grpc::Status grpc_status = GrpcServes(grpc_port_, token_);
  EXPECT_TRUE(grpc_status.ok()) << grpc_status.error_code() << " " << grpc_status.error_message();
  const HttpServed http = HttpServes(http_port_, token_);
  EXPECT_EQ(http.healthz, 200);
  EXPECT_EQ(http.who_am_i, 200);
  EXPECT_LT(http.took, std::chrono::seconds(1));
  EXPECT_TRUE(server_->Log().find("gRPC connections are open (--grpc_max_connections)") !=
              std::string::npos);
  EXPECT_EQ(server_->SignalAndWait(SIGTERM), 0) << server_->Log();
}

TEST_F(FloodTest, SilentConnectionsAreClosedAtTheHandshakeAndIdleTimeouts) {
  Start({"--grpc_handshake_timeout_ms=500", "--http_idle_timeout_seconds=1"});
  std::vector<int> grpc_silent = OpenSilent(grpc_port_, 60);
  std::vector<int> http_silent = OpenSilent(http_port_, 60);
  // All of them fit under the caps; none sends a byte. The server closes every one: gRPC after
  // half a second without an HTTP/2 preface, HTTP after a second without a request.
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(5);
  EXPECT_EQ(ClosedByServer(grpc_silent, deadline), 60);
  EXPECT_EQ(ClosedByServer(http_silent, deadline), 60);
  CloseAll(grpc_silent);
  CloseAll(http_silent);
  // So the caps never fill with connections that do nothing: with 60 more silent ones open, a
  // client is served on each listener.
  std::vector<int> grpc_more = OpenSilent(grpc_port_, 60);
  std::vector<int> http_more = OpenSilent(http_port_, 60);
  const grpc::Status served = GrpcServes(grpc_port_, token_);
  EXPECT_TRUE(served.ok()) << served.error_code() << " " << served.error_message();
  EXPECT_EQ(HttpServes(http_port_, token_).who_am_i, 200);
  CloseAll(grpc_more);
  CloseAll(http_more);
}

TEST_F(FloodTest, RunningOutOfDescriptorsWhileServingNeverStopsAccepting) {
  Start();
  // Lower the running server's limit to a few descriptors above what it holds now: what the
  // start-up check cannot foresee (descriptors taken by something else in the process).
  const int held = OpenDescriptors(server_->pid());
  rlimit tight{.rlim_cur = static_cast<rlim_t>(held + 8), .rlim_max = 256};
  ASSERT_EQ(prlimit(server_->pid(), RLIMIT_NOFILE, &tight, nullptr), 0);

  std::vector<int> grpc_flood = OpenSilent(grpc_port_, 50);
  std::vector<int> http_flood = OpenSilent(http_port_, 50);
  // Those beyond the descriptors left are accepted with the spare descriptor and closed at once.
  EXPECT_GE(ClosedByServer(grpc_flood, Clock::now() + std::chrono::seconds(2)), 40);
  EXPECT_GE(ClosedByServer(http_flood, Clock::now() + std::chrono::seconds(2)), 40);
  EXPECT_FALSE(server_->Exited()) << server_->Log();
  CloseAll(grpc_flood);
  CloseAll(http_flood);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));

  // Still under the tight limit: both listeners serve a new client at once.
  const grpc::Status grpc_status = GrpcServes(grpc_port_, token_);
  EXPECT_TRUE(grpc_status.ok()) << grpc_status.error_code() << " " << grpc_status.error_message();
  const HttpServed http = HttpServes(http_port_, token_);
  EXPECT_EQ(http.healthz, 200);
  EXPECT_EQ(http.who_am_i, 200);
  EXPECT_LT(http.took, std::chrono::seconds(1));
  const std::string log = server_->Log();
  EXPECT_NE(log.find("accept failed: Too many open files"), std::string::npos) << log;
}

// The watchdog's probe (MediationServer::ProbeListeners) passes while the server is full: the
// listeners still take new connections off their queues (and close them at the caps), which is
// working as designed, so systemd must not restart it.
TEST(ProbeTest, AFullServerIsStillAcceptingAndPassesTheProbe) {
  RaiseOwnDescriptorLimit();
  testing::TestServer server([](ServerOptions& o) {
    o.http_listen = "127.0.0.1:0";
    o.grpc_max_connections = 4;
    o.http_max_connections = 4;
  });
  EXPECT_TRUE(server.server().ProbeListeners(absl::Seconds(2)).ok());
  // The acceptor learns that the probe's connections closed when it next counts (every second,
  // or at the cap every 100 ms): wait for that, so the four below are all taken.
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  std::vector<int> grpc_full = OpenSilent(server.server().port(), 4);
  std::vector<int> http_full = OpenSilent(server.server().http_port(), 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // All four taken on each.
  // A fifth is closed at once on each listener...
  std::vector<int> fifth = OpenSilent(server.server().port(), 1);
  EXPECT_EQ(ClosedByServer(fifth, Clock::now() + std::chrono::seconds(2)), 1);
  CloseAll(fifth);
  // ...and the probe passes.
  const absl::Status probed = server.server().ProbeListeners(absl::Seconds(2));
  EXPECT_TRUE(probed.ok()) << probed;
  EXPECT_FALSE(absl::StrContains(server.Log(), "not being served"));
  CloseAll(grpc_full);
  CloseAll(http_full);
}

// Two million empty parties: 4 MB on the wire, under the message limit, but about 115 MB once
// parsed. Sent without a token, eight at once, they must be refused before they are parsed.
TEST_F(FloodTest, EightHugeRequestsWithoutATokenAreRefusedBeforeTheyCostMemory) {
  Start();
  std::string wire;
  for (int i = 0; i < 2'000'000; ++i) wire += std::string("\x32\x00", 2);  // parties = 6, empty.
  v1::CreateReferralRequest huge;
  ASSERT_TRUE(huge.ParseFromString(wire));
  ASSERT_EQ(huge.parties_size(), 2'000'000);
  const int64_t before = StatusKb(server_->pid(), "VmHWM");
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                                     grpc::InsecureChannelCredentials());
  std::vector<std::thread> senders;
  std::vector<grpc::StatusCode> codes(8, grpc::StatusCode::OK);
  for (int i = 0; i < 8; ++i) {
    senders.emplace_back([&, i] {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      v1::CreateReferralResponse response;
      codes[i] = v1::ReferralService::NewStub(channel)
                     ->CreateReferral(&context, huge, &response)
                     .error_code();
    });
  }
  for (std::thread& t : senders) t.join();
  for (const grpc::StatusCode code : codes) EXPECT_EQ(code, grpc::StatusCode::UNAUTHENTICATED);
  const int64_t after = StatusKb(server_->pid(), "VmHWM");
  // The eight requests' bytes (32 MB) and gRPC's buffers; parsed, they would take about 900 MB.
  EXPECT_LT(after - before, 96 * 1024)
      << "peak resident memory grew from " << before << " kB to " << after << " kB";
  EXPECT_TRUE(GrpcServes(grpc_port_, token_).ok());

  // With a token (and a call it may make) the bytes are parsed: ones that are not a request of
  // the method's type are INVALID_ARGUMENT naming the type.
  grpc::GenericStub generic(channel);
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + token_);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const std::string garbage = "\x32\x05\x0a";  // A 5-byte field 6, cut short.
  grpc::Slice slice(garbage);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&context, "/ppa.mediation.v1.AdminService/IssueToken", grpc::StubOptions(),
                    &request, &response, [&](grpc::Status status) { done.set_value(status); });
  const grpc::Status status = done.get_future().get();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "the request is not a valid ppa.mediation.v1.IssueTokenRequest message");
}

}  // namespace
}  // namespace mediation
