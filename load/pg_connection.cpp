#include "load/pg_connection.h"

#include <cstdlib>
#include <regex>

namespace edpipe::load {

std::string resolve_conninfo(const std::string& db_option) {
  if (!db_option.empty()) return db_option;
  if (const char* url = std::getenv("DATABASE_URL"); url && *url) return url;
  return "";
}

namespace {
// postgresql://user:secret@host/db: the password field of a URI, wherever one stands.
const std::regex& uri_password() {
  static const std::regex re(R"((postgres(?:ql)?://[^:/@\s"']*:)([^@\s"']*)(@))");
  return re;
}
// password=secret, password = 'se cret': the password of a key=value string.
const std::regex& kv_password() {
  static const std::regex re(R"(((?:^|\s)password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]*))", std::regex::icase);
  return re;
}

std::string password_in(const std::string& conninfo) {
  std::smatch m;
  if (std::regex_search(conninfo, m, uri_password())) return m[2];
  if (std::regex_search(conninfo, m, kv_password())) {
    std::string p = m[2];
    if (p.size() >= 2 && p.front() == '\'') p = p.substr(1, p.size() - 2);
    return p;
  }
  return "";
}

// libpq quotes what it echoes back of a connection string (missing "=" after "secret"): a
// password it echoes is a whole quoted token. Only that is masked, and not where the token names
// a user, role or database (for user "bob"), so a password that is also a word of the message (a
// user name, a digit of the address) leaves the message readable and tells nothing.
void mask_quoted(std::string& text, const std::string& secret) {
  if (secret.empty()) return;
  const std::string quoted = "\"" + secret + "\"";
  for (size_t p = 0; (p = text.find(quoted, p)) != std::string::npos;) {
    const std::string before = text.substr(p >= 9 ? p - 9 : 0, p >= 9 ? 9 : p);
    const bool names = before.ends_with("user ") || before.ends_with("role ") || before.ends_with("database ");
    if (names) {
      p += quoted.size();
      continue;
    }
    text.replace(p, quoted.size(), "\"****\"");
    p += 6;
  }
}
}  // namespace

std::string mask_password(const std::string& text) {
  std::string out = std::regex_replace(text, uri_password(), "$1****$3");
  return std::regex_replace(out, kv_password(), "$1****");
}

std::string mask_secrets(std::string text, const std::string& conninfo) {
  text = mask_password(text);
  mask_quoted(text, password_in(conninfo));
  if (const char* env = std::getenv("PGPASSWORD"); env && *env) mask_quoted(text, env);
  return text;
}

std::unique_ptr<pqxx::connection> open_connection(const std::string& conninfo) {
  try {
    return std::make_unique<pqxx::connection>(conninfo);
  } catch (const std::exception& e) {
    std::string why = mask_secrets(e.what(), conninfo);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    for (auto& c : why)
      if (c == '\n') c = ' ';
    const std::string target = conninfo.empty() ? "the database named by the PG* environment" : mask_password(conninfo);
    throw ConnectionError("cannot connect to " + target + ": " + why);
  }
}

bool is_transient(const std::string& s) {
  if (s.size() != 5) return false;
  const std::string cls = s.substr(0, 2);
  // Connection lost, out of resources, server shutting down or restarting, serialization
  // failure, deadlock, statement or lock timeout (a lock held elsewhere for a while).
  return cls == "08" || cls == "53" || s == "57P01" || s == "57P02" || s == "57P03" || s == "40001" || s == "40P01" ||
         s == "57014" || s == "55P03";
}

}  // namespace edpipe::load
