#include "pg_connection.h"

#include <cstdlib>
#include <regex>

namespace edpipe {

std::string resolve_conninfo(const std::string& db_option) {
  if (!db_option.empty()) return db_option;
  if (const char* url = std::getenv("DATABASE_URL"); url && *url) return url;
  return "";
}

std::string mask_password(const std::string& conninfo) {
  // postgresql://user:secret@host/db  ->  postgresql://user:****@host/db
  static const std::regex uri(R"(^(postgres(?:ql)?://[^:/@]*:)([^@]*)(@))");
  // password=secret / password = 'se cret'  ->  password=****
  static const std::regex kv(R"((password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s]*))", std::regex::icase);
  std::string out = std::regex_replace(conninfo, uri, "$1****$3");
  out = std::regex_replace(out, kv, "$1****");
  return out;
}

namespace {
std::string password_in(const std::string& conninfo) {
  static const std::regex uri(R"(^postgres(?:ql)?://[^:/@]*:([^@]*)@)");
  static const std::regex kv(R"(password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s]*))", std::regex::icase);
  std::smatch m;
  if (std::regex_search(conninfo, m, uri)) return m[1];
  if (std::regex_search(conninfo, m, kv)) {
    std::string p = m[1];
    if (p.size() >= 2 && p.front() == '\'') p = p.substr(1, p.size() - 2);
    return p;
  }
  return "";
}
}  // namespace

std::string mask_secrets(std::string text, const std::string& conninfo) {
  const std::string pw = password_in(conninfo);
  if (pw.size() >= 1)
    for (size_t p = 0; (p = text.find(pw, p)) != std::string::npos;) text.replace(p, pw.size(), "****");
  if (const char* env = std::getenv("PGPASSWORD"); env && *env) {
    const std::string e = env;
    for (size_t p = 0; (p = text.find(e, p)) != std::string::npos;) text.replace(p, e.size(), "****");
  }
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

std::string sqlstate_of(const std::exception& e) {
  if (auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) return sql->sqlstate();
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) return "08006";
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e)) return "08007";
  return "";
}

}  // namespace edpipe
