#pragma once
// `edpipe serve`: a read-only live dashboard over HTTP, server-rendered HTML + SVG (the report's
// look; the pages' pieces in web_pages.h) with one small plain script. Requests are read whole by the
// RequestGate (request_gate.h: slow clients hold sockets, not threads), then parsed, routed and
// answered by cpp-httplib (Debian's libcpp-httplib-dev) on the gate's workers.
//
// Safe by default: loopback unless told otherwise, and then only with a token; every query
// read-only, parameterized and under a statement timeout, over a bounded pool of connections;
// every value HTML-escaped; security headers on every response.
#include <atomic>
#include <memory>
#include <optional>
#include <string>

namespace edpipe::view {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                        // 0: any free port (bound_port() tells which)
  std::string conninfo;
  std::optional<std::string> auth_token;  // required unless host is a loopback address
  int refresh_seconds = 10;               // the list pages' auto-refresh period (the browser may choose another)
  int64_t stale_after_seconds = 15 * 60;  // the newest record older than this: the freshness badge turns amber
  size_t threads = 8;                     // requests served at once
  size_t connections = 4;                 // database connections (each request borrows one)
  int statement_timeout_ms = 5000;
  int client_timeout_seconds = 5;         // the whole request head within this; each write of the answer too
};

// Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool is_loopback(const std::string& host);
// Equal strings, in a time that does not depend on where they differ.
bool constant_time_equal(const std::string& a, const std::string& b);

class WebServer {
 public:
  explicit WebServer(ServeOptions options);
  ~WebServer();
  // Binds; false (with `error` said) when the address cannot be bound.
  bool bind(std::string& error);
  int bound_port() const;
  // Serves until stop() (from a signal handler's thread or another thread).
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edpipe::view
