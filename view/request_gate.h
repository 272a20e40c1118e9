#pragma once
// The front door of `edpipe serve`: accepts connections and reads each request whole (its head,
// and a body up to a small limit) on one thread of its own, many sockets at once with poll(),
// before any worker sees it. cpp-httplib 0.11 gives a connection a worker thread from accept
// on, so a client that sends its header a byte a second (slowloris) holds that thread; here it
// holds only a socket and a few KB:
//   - the whole head must arrive within a deadline from accept (not per read);
//   - each client address has at most `pending_per_address` requests still arriving: one more
//     closes that address's oldest, so a client that finishes its request quickly is served
//     whatever number of slow ones share its address;
//   - the number of pending requests in all, and the head and body sizes, are bounded.
// A complete request goes to a bounded queue of workers; when it is full the gate answers 503.
// Answers the gate writes itself (408, 413, 431, 503) carry the same security headers as pages.
#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace edpipe::view {

struct GateLimits {
  std::chrono::milliseconds head_deadline{5000};  // accept to the end of the request
  size_t max_head_bytes = 16 * 1024;
  size_t max_body_bytes = 64 * 1024;
  size_t pending_per_address = 16;
  size_t max_pending = 1024;
  size_t workers = 8;
  size_t queued = 512;  // complete requests waiting for a worker (each at most a head and a body)
};

// One request read whole: the socket (owned: the handler closes it), its bytes, and its peer.
struct ArrivedRequest {
  int fd = -1;
  std::string bytes;
  std::string remote_ip, local_ip;
  int remote_port = 0, local_port = 0;
};

// "HTTP/1.1 <status>" with the given headers (each "Name: value\r\n"), a short text body, and
// Connection: close.
std::string gate_response(int status, const char* reason, const std::string& headers);

class RequestGate {
 public:
  // `answer` runs on a worker thread; `security_headers` go on the gate's own answers.
  RequestGate(GateLimits limits, std::function<void(ArrivedRequest&&)> answer, std::string security_headers);
  ~RequestGate();
  // Binds and listens on host:port (port 0: any free port); false with `error` said.
  bool bind(const std::string& host, int port, std::string& error);
  int port() const noexcept { return port_; }
  // The address bound, as numbers: what "loopback" is decided from.
  bool bound_to_loopback() const noexcept { return loopback_; }
  // Accepts and reads until stop(); then waits for the workers to finish what they hold.
  void run();
  void stop();

 private:
  struct Pending {
    int fd;
    std::string bytes, address;
    std::string local_ip;
    int remote_port, local_port;
    std::chrono::steady_clock::time_point deadline, accepted;
  };
  void accept_all();
  // Reads what arrived; true when the request is complete or the connection is done with.
  bool read_some(Pending& p, bool& complete);
  void reply_and_close(int fd, int status, const char* reason);
  void hand_off(Pending&& p);
  void work();

  GateLimits limits_;
  std::function<void(ArrivedRequest&&)> answer_;
  std::string security_headers_;
  int listen_fd_ = -1, wake_[2] = {-1, -1};
  int port_ = 0;
  bool loopback_ = false;
  std::atomic<bool> stopping_{false};
  std::vector<Pending> pending_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<ArrivedRequest> queue_;
  std::vector<std::thread> workers_;
};

}  // namespace edpipe::view
