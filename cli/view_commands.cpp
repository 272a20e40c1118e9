#include "cli/view_commands.h"

#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <tuple>

#include "cli/arguments.h"
#include "core/json_text.h"
#include "load/migrator.h"
#include "load/pg_connection.h"
#include "view/html_report.h"
#include "view/terminal_view.h"
#include "view/view_queries.h"
#include "view/web_server.h"

namespace edpipe::cli {
namespace po = boost::program_options;

namespace {

// The terminal's width when stdout is one, else COLUMNS, else 100.
int output_width(bool tty) {
  winsize w{};
  if (tty && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col >= 40) return w.ws_col;
  if (const char* c = std::getenv("COLUMNS")) {
    const int n = std::atoi(c);
    if (n >= 40 && n <= 1000) return n;
  }
  return 100;
}

// Opens the database for reading: a connection, and the schema checked to be current.
std::unique_ptr<pqxx::connection> open_for_reading(const std::string& conninfo) {
  auto conn = load::open_connection(conninfo);
  load::require_latest_schema(*conn);
  return conn;
}

}  // namespace

// --from and --to, both or neither: the window [from, to).
std::optional<std::pair<Timestamp, Timestamp>> explicit_window(const po::variables_map& vm, const std::string& from,
                                                               const std::string& to, const std::string& command) {
  if (!vm.count("from") && !vm.count("to")) return std::nullopt;
  if (!vm.count("from") || !vm.count("to")) throw UsageError(command + ": give both --from and --to");
  if (!vm["since"].defaulted()) throw UsageError(command + ": give --since or --from/--to, not both");
  const Timestamp f = parse_time_arg(from, "from"), t = parse_time_arg(to, "to");
  if (t <= f) throw UsageError(command + ": --to must be after --from");
  return std::make_pair(f, t);
}

constexpr size_t kFlowInvocations = 200;  // of a chain `show --flow` draws

int run_show(const std::vector<std::string>& args) {
  std::string db, correlation, since_text = "1h", function, from_text, to_text;
  std::vector<std::string> ids;
  bool failed = false, all = false, logs = false, stacks = false, json = false, flow = false;
  uint32_t limit = 20;
  po::options_description visible(
      "Usage: edpipe show ID [OPTIONS]\n"
      "       edpipe show --correlation-id X [OPTIONS]\n"
      "       edpipe show --failed [--since 1h | --from T --to T] [--function F] [--limit 20]\n"
      "\n"
      "Show one invocation: its header (function, status, start, duration, source, user,\n"
      "correlation id, the job that caused it) and its waterfall: every detection, handler and job\n"
      "a bar on one time axis, with its duration and status. ID is a full invocation id or a\n"
      "unique prefix of one. --correlation-id shows every invocation of that chain in order;\n"
      "--failed lists the recent failed and abandoned invocations with their first error.\n"
      "Colours only on a terminal (never with NO_COLOR).\n"
      "\n"
      "Exit status: 0 shown, 1 unknown or ambiguous id (or the database could not be read), 2 bad usage.\n"
      "\n"
      "Options");
  visible.add_options()("help,h", "show this help and exit")("db", po::value(&db)->value_name("DB"), kDbOptionHelp)(
      "correlation-id", po::value(&correlation)->value_name("X"), "every invocation with this correlation id, oldest first")(
      "all", po::bool_switch(&all), "list the events that were not detected one by one (folded by default)")(
      "logs", po::bool_switch(&logs), "log lines under their job (level, offset from the start, message)")(
      "stacks", po::bool_switch(&stacks), "whole error stacks, not only each error's first line")(
      "json", po::bool_switch(&json), "the same tree as one JSON document")(
      "flow", po::bool_switch(&flow),
      "the flow of ID's chain instead: from the invocation that started it, each invocation's events, "
      "their jobs and the invocations those caused, as a tree")(
      "failed", po::bool_switch(&failed), "list recent failed and abandoned invocations, newest first")(
      "since", po::value(&since_text)->value_name("DURATION")->default_value("1h"),
      "--failed: how far back from the newest record loaded")(
      "from", po::value(&from_text)->value_name("T"), "--failed: or the window [T, --to) (RFC 3339), exactly")(
      "to", po::value(&to_text)->value_name("T"), "--failed: the end of the --from window (excluded)")(
      "function", po::value(&function)->value_name("F"), "--failed: only this source function")(
      "limit", number_option(limit, 1u, 10000u, "limit"), "--failed: at most this many (1-10000)");
  po::options_description hidden;
  hidden.add_options()("id", po::value(&ids));
  po::options_description every;
  every.add(visible).add(hidden);
  po::positional_options_description pos;
  pos.add("id", -1);
  const po::variables_map vm = parse_command("show", args, every, &pos);
  if (vm.count("help")) {
    std::cout << visible << "\nExamples:\n  edpipe show aaaaaaaa --logs\n  edpipe show aaaaaaaa --flow\n  edpipe show --failed --since 24h\n";
    return kExitOk;
  }
  const int ways = int(!ids.empty()) + int(!correlation.empty()) + int(failed);
  if (ways != 1) throw UsageError("show: give one of ID, --correlation-id or --failed");
  if (ids.size() > 1) throw UsageError("show: one ID at a time");
  if (flow && (ids.empty() || json)) throw UsageError("show: --flow takes an ID, without --json");
  const Timestamp since = parse_duration(since_text, "since");
  const auto given_window = explicit_window(vm, from_text, to_text, "show");

  const bool tty = ::isatty(STDOUT_FILENO);
  view::TerminalStyle style;
  style.width = output_width(tty);
  style.color = tty && !std::getenv("NO_COLOR");
  style.all = all;
  style.logs = logs;
  style.stacks = stacks;

  const std::string conninfo = load::resolve_conninfo(db);
  try {
    auto conn = open_for_reading(conninfo);
    view::ViewReader reader(*conn);
    if (failed) {
      const auto watermark = reader.watermark();
      if (!watermark) {
        std::cerr << "edpipe show: the database holds no invocation yet\n";
        return kExitOk;
      }
      // The window: [newest record − since, newest record], or [from, to) exactly.
      Timestamp from = *watermark - since, to = *watermark + 1;
      std::string window_text = "the " + since_text + " before " + format_rfc3339(*watermark);
      if (given_window) {
        std::tie(from, to) = *given_window;
        window_text = format_rfc3339(from) + " to " + format_rfc3339(to - 1);
      }
      const auto rows = reader.failed(from, function.empty() ? std::nullopt : std::optional(function), limit, to);
      if (json) {
        std::string o = "[";
        for (size_t i = 0; i < rows.size(); ++i) {
          o += (i ? "," : "") + std::string("{\"id\":") + json_string(rows[i].id) + ",\"function\":" +
               json_string(rows[i].function) + ",\"status\":" + json_string(rows[i].status) + ",\"created_at\":\"" +
               format_rfc3339(rows[i].created_at) + "\",\"duration_ms\":" +
               (rows[i].duration_ms ? std::to_string(*rows[i].duration_ms) : "null") +
               ",\"first_error\":" + (rows[i].first_error ? json_string(*rows[i].first_error) : "null") + "}";
        }
        std::cout << o << "]\n";
        return kExitOk;
      }
      std::cout << view::render_summaries(rows, style);
      // The count is of the whole window, not of the page: "20 of 422", and how to see more.
      const auto fn = function.empty() ? std::nullopt : std::optional(function);
      const int64_t total = rows.size() < limit ? int64_t(rows.size()) : reader.count_failed(from, fn, to);
      std::cerr << "edpipe show: " << (int64_t(rows.size()) < total ? std::to_string(rows.size()) + " of " : "") << total
                << " failed or abandoned invocation" << (total == 1 ? "" : "s") << " in " << window_text
                << (int64_t(rows.size()) < total ? " (the newest " + std::to_string(rows.size()) + "; --limit N for more)" : "")
                << "\n";
      return kExitOk;
    }

    std::vector<std::string> chain;
    if (!correlation.empty()) {
      chain = reader.correlated(correlation, 100);
      if (chain.empty()) {
        std::cerr << "edpipe show: no invocation has correlation id '" << view::printable(correlation, 80) << "'\n";
        return kExitInputError;
      }
    } else {
      const auto found = reader.find_ids(ids[0], 2);
      if (found.empty()) {
        std::cerr << "edpipe show: no invocation id starts with '" << view::printable(ids[0], 80) << "'\n";
        return kExitInputError;
      }
      if (found.size() > 1) {
        std::cerr << "edpipe show: '" << view::printable(ids[0], 80) << "' is ambiguous: " << found[0] << ", "
                  << found[1] << ", ...; give more of the id\n";
        return kExitInputError;
      }
      chain = found;
    }
    if (flow) {
      std::cout << view::flow_text(view::flow_tree(reader.chain(chain[0], kFlowInvocations)), style, chain[0]);
      return kExitOk;
    }
    std::string json_out = "[";
    for (size_t i = 0; i < chain.size(); ++i) {
      const auto v = reader.invocation(chain[i]);
      if (!v) continue;
      if (json) json_out += (i ? "," : "") + view::invocation_json(*v);
      else std::cout << (i ? "\n" : "") << view::render_invocation(*v, style);
    }
    if (json) std::cout << (correlation.empty() ? json_out.substr(1) : json_out + "]") << "\n";
  } catch (const load::SchemaError& e) {
    std::cerr << "edpipe: show: " << e.what() << "\n";
    return kExitInputError;
  } catch (const pqxx::failure& e) {
    std::cerr << "edpipe: show: " << load::mask_secrets(e.what(), conninfo) << "\n";
    return kExitInputError;
  }
  return kExitOk;
}

int run_report(const std::vector<std::string>& args) {
  std::string db, output, since_text = "24h", function, from_text, to_text;
  po::options_description visible(
      "Usage: edpipe report -o FILE.html [--since 24h | --from T --to T] [--function F] [--db DB]\n"
      "\n"
      "Write one self-contained HTML file (inline CSS and SVG, nothing fetched from anywhere) of the\n"
      "window that ends at the newest record loaded: cards against the window before, an hourly\n"
      "chart per function, top detected events, the most failing and the slowest jobs, and the\n"
      "recent failures and slowest invocations, each with its waterfall, errors and logs.\n"
      "It opens from disk, e-mails and hosts statically; cron can rewrite it.\n"
      "\n"
      "Options");
  visible.add_options()("help,h", "show this help and exit")("db", po::value(&db)->value_name("DB"), kDbOptionHelp)(
      "output,o", po::value(&output)->value_name("FILE"), "the HTML file to write (replaced whole)")(
      "since", po::value(&since_text)->value_name("DURATION")->default_value("24h"), "the window, back from the newest record")(
      "from", po::value(&from_text)->value_name("T"), "or the window [T, --to) (RFC 3339), exactly")(
      "to", po::value(&to_text)->value_name("T"), "the end of the --from window (excluded)")(
      "function", po::value(&function)->value_name("F"), "only this source function");
  const po::variables_map vm = parse_command("report", args, visible);
  if (vm.count("help")) {
    std::cout << visible << "\nExamples:\n  edpipe report -o /var/www/edpipe/index.html --since 7d\n"
                            "  edpipe report -o incident.html --from 2026-11-20T14:00:00Z --to 2026-11-20T16:30:00Z\n";
    return kExitOk;
  }
  if (output.empty()) throw UsageError("report: -o FILE.html is required");
  view::ReportOptions options;
  options.window_us = parse_duration(since_text, "since");
  if (options.window_us <= 0) throw UsageError("report: --since must be longer than 0");
  if (const auto w = explicit_window(vm, from_text, to_text, "report")) {
    options.since = w->first;
    options.until = w->second;
  }
  if (!function.empty()) options.function = function;

  const std::string conninfo = load::resolve_conninfo(db);
  try {
    auto conn = open_for_reading(conninfo);
    view::ViewReader reader(*conn);
    const std::string html = view::render_report(view::read_report(reader, options));
    // Written beside the target and renamed over it: a reader never sees half a report.
    const std::string tmp = output + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << html;
      if (!out.flush()) throw std::runtime_error(tmp + ": write failed");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, output, ec);
    if (ec) {
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error(output + ": " + ec.message());
    }
    std::cerr << "edpipe report: wrote " << output << " (" << html.size() / 1024 + 1 << " KB)\n";
  } catch (const load::SchemaError& e) {
    std::cerr << "edpipe: report: " << e.what() << "\n";
    return kExitInputError;
  } catch (const pqxx::failure& e) {
    std::cerr << "edpipe: report: " << load::mask_secrets(e.what(), conninfo) << "\n";
    return kExitInputError;
  } catch (const std::runtime_error& e) {
    std::cerr << "edpipe: report: " << e.what() << "\n";
    return kExitInputError;
  }
  return kExitOk;
}

int run_serve(const std::vector<std::string>& args) {
  std::string db, listen = "127.0.0.1:8080", refresh_text = "10s", stale_text = "15m", token_file;
  po::options_description visible(
      "Usage: edpipe serve [--listen 127.0.0.1:8080] [--db DB] [--refresh 10s] [--stale-after 15m]\n"
      "                    [--auth-token-file FILE]\n"
      "\n"
      "A read-only live dashboard: an overview that refreshes itself (its cards exact over the window\n"
      "it prints; how old the newest record is), a search over invocations (an id or its prefix,\n"
      "correlation id, table:id, user e-mail, event, job or error text; prefixes such as job:,\n"
      "failed-job: or email: say which, and the page says what it searched), each invocation's\n"
      "waterfall, logs, errors and payload, per job and event name: counts, failure rate, p50/p95,\n"
      "the failures grouped by their message (ids, hex and numbers masked) with their trend, and\n"
      "analytics: failure rate per hour, durations per function, tables, operations, users, events.\n"
      "It listens on loopback unless --listen says otherwise; any other address needs\n"
      "--auth-token-file (a bearer token, or a sign-in form that sets a cookie). It speaks plain\n"
      "HTTP: off loopback, put a TLS reverse proxy in front that sets X-Forwarded-Proto: https (the\n"
      "cookie is then Secure). SIGTERM or SIGINT stops it.\n"
      "\n"
      "Options");
  visible.add_options()("help,h", "show this help and exit")("db", po::value(&db)->value_name("DB"), kDbOptionHelp)(
      "listen", po::value(&listen)->value_name("HOST:PORT")->default_value("127.0.0.1:8080"), "the address to listen on")(
      "refresh", po::value(&refresh_text)->value_name("DURATION")->default_value("10s"), "the list pages' auto-refresh period, unless the browser chose another")(
      "stale-after", po::value(&stale_text)->value_name("DURATION")->default_value("15m"),
      "the overview says how old the newest record loaded is; past this, in amber (loading may have stopped)")(
      "auth-token-file", po::value(&token_file)->value_name("FILE"), "a file holding the token clients must present (16+ characters)");
  const po::variables_map vm = parse_command("serve", args, visible);
  if (vm.count("help")) {
    std::cout << visible << "\nExample:\n  edpipe serve --listen 0.0.0.0:8080 --auth-token-file /etc/edpipe/token\n";
    return kExitOk;
  }
  view::ServeOptions o;
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) throw UsageError("--listen: expected HOST:PORT, got '" + listen + "'");
  o.host = listen.substr(0, colon);
  if (o.host.size() > 2 && o.host.front() == '[' && o.host.back() == ']') o.host = o.host.substr(1, o.host.size() - 2);
  o.port = parse_number(listen.substr(colon + 1), "listen port", 0, 65535);
  const Timestamp refresh = parse_duration(refresh_text, "refresh");
  if (refresh < kMicrosPerSecond || refresh > 3600 * kMicrosPerSecond) throw UsageError("--refresh: between 1s and 1h");
  o.refresh_seconds = int(refresh / kMicrosPerSecond);
  const Timestamp stale = parse_duration(stale_text, "stale-after");
  if (stale < kMicrosPerSecond || stale > 365 * 24 * 3600 * kMicrosPerSecond) throw UsageError("--stale-after: between 1s and 365d");
  o.stale_after_seconds = stale / kMicrosPerSecond;
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    std::string token;
    if (!in || !std::getline(in, token)) throw UsageError("--auth-token-file: cannot read " + token_file);
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
    if (token.size() < 16) throw UsageError("--auth-token-file: the token must have 16 characters or more");
    o.auth_token = token;
  }
  if (!view::is_loopback(o.host) && !o.auth_token)
    throw UsageError("serve: listening on " + o.host + " (not loopback) needs --auth-token-file");
  o.conninfo = load::resolve_conninfo(db);
  try {
    open_for_reading(o.conninfo);  // the database is there and migrated, before the first request
  } catch (const load::SchemaError& e) {
    std::cerr << "edpipe: serve: " << e.what() << "\n";
    return kExitInputError;
  }

  // SIGTERM and SIGINT are taken by one thread, which stops the server; the server's own
  // threads never see them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  view::WebServer server(o);
  std::string error;
  if (!server.bind(error)) {
    std::cerr << "edpipe: serve: " << error << "\n";
    return kExitInputError;
  }
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::cerr << "edpipe serve: stopping (" << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ")\n";
    server.stop();
  });
  std::cerr << "edpipe serve: http://" << (o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host) << ":"
            << server.bound_port() << "/" << (o.auth_token ? " (token required)" : "") << "\n";
  server.run();
  pthread_kill(stopper.native_handle(), SIGTERM);  // run() ended another way: release the stopper
  stopper.join();
  return kExitOk;
}

}  // namespace edpipe::cli
