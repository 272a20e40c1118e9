#include "view/request_gate.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace edpipe::view {
namespace {

bool is_loopback_address(const sockaddr* a) {
  if (a->sa_family == AF_INET) return (ntohl(reinterpret_cast<const sockaddr_in*>(a)->sin_addr.s_addr) >> 24) == 127;
  if (a->sa_family == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(a);
    if (IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) return a6->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

void ip_and_port(const sockaddr_storage& a, std::string& ip, int& port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    ::inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
    port = ntohs(v4->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
    port = ntohs(v6->sin6_port);
  }
  ip = buf;
}

// Content-Length of a head, or -1 when it has none; -2 for a value that is not a number.
long long content_length(const std::string& head) {
  static const char kName[] = "\r\ncontent-length:";
  std::string lower(head);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  const size_t at = lower.find(kName);
  if (at == std::string::npos) return -1;
  size_t i = at + sizeof kName - 1;
  while (i < lower.size() && lower[i] == ' ') ++i;
  long long n = 0;
  size_t digits = 0;
  for (; i < lower.size() && std::isdigit(static_cast<unsigned char>(lower[i])); ++i, ++digits) {
    if (n > (1LL << 40)) return -2;
    n = n * 10 + (lower[i] - '0');
  }
  return digits ? n : -2;
}

bool chunked(const std::string& head) {
  std::string lower(head);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return lower.find("\r\ntransfer-encoding:") != std::string::npos;
}

}  // namespace

std::string gate_response(int status, const char* reason, const std::string& headers) {
  const std::string body = std::to_string(status) + " " + reason + "\n";
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n" + headers +
         "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

RequestGate::RequestGate(GateLimits limits, std::function<void(ArrivedRequest&&)> answer, std::string security_headers)
    : limits_(limits), answer_(std::move(answer)), security_headers_(std::move(security_headers)) {
  if (::pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) wake_[0] = wake_[1] = -1;
}

RequestGate::~RequestGate() {
  stop();
  for (auto& p : pending_) ::close(p.fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  for (int fd : wake_)
    if (fd >= 0) ::close(fd);
}

bool RequestGate::bind(const std::string& host, int port, std::string& error) {
  addrinfo hints{}, *found = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    error = "cannot listen on " + host + ":" + service + ": " + ::gai_strerror(rc);
    return false;
  }
  for (addrinfo* a = found; a; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 512) == 0) {
      sockaddr_storage bound{};
      socklen_t len = sizeof bound;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
      std::string ip;
      ip_and_port(bound, ip, port_);
      loopback_ = is_loopback_address(reinterpret_cast<sockaddr*>(&bound));
      listen_fd_ = fd;
      break;
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) {
    error = "cannot listen on " + host + ":" + service + " (in use, or not an address of this machine)";
    return false;
  }
  return true;
}

void RequestGate::stop() {
  stopping_.store(true);
  if (wake_[1] >= 0) {
    const char c = 0;
    [[maybe_unused]] ssize_t n = ::write(wake_[1], &c, 1);
  }
  ready_.notify_all();
}

void RequestGate::reply_and_close(int fd, int status, const char* reason) {
  const std::string r = gate_response(status, reason, security_headers_);
  [[maybe_unused]] ssize_t n = ::send(fd, r.data(), r.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fd);
}

void RequestGate::accept_all() {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    Pending p{fd, {}, {}, {}, 0, 0, {}, std::chrono::steady_clock::now()};
    ip_and_port(peer, p.address, p.remote_port);
    sockaddr_storage local{};
    len = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    ip_and_port(local, p.local_ip, p.local_port);
    p.deadline = p.accepted + limits_.head_deadline;
    // One address holds at most pending_per_address requests still arriving: its oldest goes.
    size_t same = 0;
    auto oldest = pending_.end();
    for (auto it = pending_.begin(); it != pending_.end(); ++it)
      if (it->address == p.address) {
        ++same;
        if (oldest == pending_.end() || it->accepted < oldest->accepted) oldest = it;
      }
    if (same >= limits_.pending_per_address) {
      reply_and_close(oldest->fd, 408, "Request Timeout");
      pending_.erase(oldest);
    }
    if (pending_.size() >= limits_.max_pending) {
      reply_and_close(fd, 503, "Service Unavailable");
      continue;
    }
    pending_.push_back(std::move(p));
  }
}

bool RequestGate::read_some(Pending& p, bool& complete) {
  char buf[8192];
  for (;;) {
    const ssize_t n = ::recv(p.fd, buf, sizeof buf, 0);
    if (n == 0) return true;  // the client went away
    if (n < 0) return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    p.bytes.append(buf, size_t(n));
    const size_t end = p.bytes.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (p.bytes.size() > limits_.max_head_bytes) {
        reply_and_close(p.fd, 431, "Request Header Fields Too Large");
        p.fd = -1;
        return true;
      }
      continue;
    }
    if (end + 4 > limits_.max_head_bytes) {
      reply_and_close(p.fd, 431, "Request Header Fields Too Large");
      p.fd = -1;
      return true;
    }
    const std::string head = p.bytes.substr(0, end + 4);
    if (chunked(head)) {
      reply_and_close(p.fd, 411, "Length Required");
      p.fd = -1;
      return true;
    }
    const long long length = content_length(head);
    if (length == -2 || length > static_cast<long long>(limits_.max_body_bytes)) {
      reply_and_close(p.fd, 413, "Payload Too Large");
      p.fd = -1;
      return true;
    }
    const size_t want = end + 4 + size_t(std::max(0LL, length));
    if (p.bytes.size() >= want) {
      p.bytes.resize(want);  // one request per connection: what follows is not read
      complete = true;
      return true;
    }
  }
}

void RequestGate::hand_off(Pending&& p) {
  ArrivedRequest r{p.fd, std::move(p.bytes), std::move(p.address), std::move(p.local_ip), p.remote_port, p.local_port};
  std::unique_lock lock(mu_);
  if (queue_.size() >= limits_.queued) {
    lock.unlock();
    reply_and_close(r.fd, 503, "Service Unavailable");
    return;
  }
  queue_.push_back(std::move(r));
  ready_.notify_one();
}

void RequestGate::work() {
  for (;;) {
    ArrivedRequest r;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [&] { return stopping_.load() || !queue_.empty(); });
      if (queue_.empty()) return;
      r = std::move(queue_.front());
      queue_.pop_front();
    }
    const int fd = r.fd;
    try {
      answer_(std::move(r));
    } catch (...) {
    }
    ::close(fd);
  }
}

void RequestGate::run() {
  for (size_t i = 0; i < limits_.workers; ++i) workers_.emplace_back([this] { work(); });
  std::vector<pollfd> fds;
  while (!stopping_.load()) {
    fds.clear();
    fds.push_back({listen_fd_, POLLIN, 0});
    fds.push_back({wake_[0], POLLIN, 0});
    for (const auto& p : pending_) fds.push_back({p.fd, POLLIN, 0});
    auto now = std::chrono::steady_clock::now();
    auto next = now + std::chrono::seconds(1);
    for (const auto& p : pending_) next = std::min(next, p.deadline);
    const int wait_ms = int(std::max<long long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1));
    if (::poll(fds.data(), fds.size(), wait_ms) < 0 && errno != EINTR) break;
    if (stopping_.load()) break;
    // Those with data first (fds[i + 2] is pending_[i]), then the deadlines, then new ones.
    std::vector<Pending> still;
    still.reserve(pending_.size());
    now = std::chrono::steady_clock::now();
    for (size_t i = 0; i < pending_.size(); ++i) {
      Pending& p = pending_[i];
      bool done = false, complete = false;
      if (fds[i + 2].revents & (POLLIN | POLLHUP | POLLERR)) done = read_some(p, complete);
      if (complete) {
        hand_off(std::move(p));
      } else if (done) {
        if (p.fd >= 0) ::close(p.fd);
      } else if (now >= p.deadline) {
        reply_and_close(p.fd, 408, "Request Timeout");
      } else {
        still.push_back(std::move(p));
      }
    }
    pending_ = std::move(still);
    if (fds[0].revents & POLLIN) accept_all();
  }
  stopping_.store(true);
  ready_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
}

}  // namespace edpipe::view
