// The Hasura metadata of schema/hasura, held against the migrated database without a Hasura
// server: every tracked table, column, relationship and computed field exists as the metadata
// says, and every GraphQL query of the README and docs/ asks only for what it exposes to the
// read-only role.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "pg_test_support.h"

namespace edpipe::load {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string str(simdjson::dom::element e) { return std::string(std::string_view(e)); }

struct Relationship {
  std::string target;
  bool array = false;
};
// What the metadata exposes of one table to the reader role.
struct TableMeta {
  std::set<std::string> columns, computed;
  std::map<std::string, Relationship> relationships;
  bool aggregations = false;
};
using Schema = std::map<std::string, TableMeta>;

const fs::path kMetadata = fs::path(EDPIPE_SOURCE_DIR) / "schema" / "hasura" / "metadata";

// databases.yaml is written in YAML's JSON form, so simdjson reads it.
simdjson::dom::element databases(simdjson::dom::parser& parser, std::string& text) {
  text = read_file(kMetadata / "databases" / "databases.yaml");
  return parser.parse(text);
}

Schema exposed_schema() {
  simdjson::dom::parser parser;
  std::string text;
  Schema schema;
  for (auto table : databases(parser, text).at(0)["tables"].get_array()) {
    TableMeta& t = schema[str(table["table"]["name"])];
    for (const char* kind : {"object_relationships", "array_relationships"}) {
      simdjson::dom::array rels;
      if (table[kind].get(rels)) continue;
      for (auto rel : rels) {
        Relationship r;
        r.array = std::string_view(kind) == "array_relationships";
        auto using_ = rel["using"];
        simdjson::dom::element manual, fk;
        if (!using_["manual_configuration"].get(manual)) r.target = str(manual["remote_table"]["name"]);
        else if (!using_["foreign_key_constraint_on"].get(fk))
          r.target = fk.is_string() ? "" : str(fk["table"]["name"]);  // "" : filled below
        t.relationships[str(rel["name"])] = r;
      }
    }
    simdjson::dom::array perms;
    if (!table["select_permissions"].get(perms))
      for (auto p : perms) {
        if (std::string_view(p["role"]) != "reader") continue;
        for (auto c : p["permission"]["columns"].get_array()) t.columns.insert(str(c));
        simdjson::dom::array computed;
        if (!p["permission"]["computed_fields"].get(computed))
          for (auto c : computed) t.computed.insert(str(c));
        bool agg = false;
        if (!p["permission"]["allow_aggregations"].get(agg)) t.aggregations = agg;
      }
  }
  // The one object relationship by foreign key: its target is the table the key references.
  schema["invocations"].relationships["source_job_execution"].target = "job_executions";
  return schema;
}

std::string column_type(pqxx::work& tx, const std::string& table, const std::string& column) {
  const auto r = tx.exec_params(
      "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 "
      "AND attnum > 0 AND NOT attisdropped",
      "public." + table, column);
  return r.empty() ? "" : r[0][0].as<std::string>();
}

TEST(HasuraMetadata, EveryTrackedObjectIsInTheMigratedDatabaseAsDescribed) {
  EXPECT_EQ(read_file(kMetadata / "version.yaml"), "version: 3\n");
  testing::TestDatabase db;
  pqxx::work tx(db.conn());
  simdjson::dom::parser parser;
  std::string text;
  const auto sources = databases(parser, text);
  ASSERT_EQ(sources.get_array().size(), 1u);
  std::set<std::string> tracked;
  for (auto table : sources.at(0)["tables"].get_array()) {
    const std::string name = str(table["table"]["name"]);
    tracked.insert(name);
    ASSERT_FALSE(tx.exec_params("SELECT to_regclass($1)", "public." + name)[0][0].is_null()) << name;

    simdjson::dom::array rels;
    for (const char* kind : {"object_relationships", "array_relationships"}) {
      if (table[kind].get(rels)) continue;
      for (auto rel : rels) {
        const std::string rel_name = str(rel["name"]);
        simdjson::dom::element manual, fk;
        if (!rel["using"]["manual_configuration"].get(manual)) {
          const std::string remote = str(manual["remote_table"]["name"]);
          for (auto [local, remote_col] : manual["column_mapping"].get_object()) {
            const std::string l(local), r(std::string_view(remote_col.get_string().value()));
            const std::string lt = column_type(tx, name, l), rt = column_type(tx, remote, r);
            EXPECT_FALSE(lt.empty()) << name << "." << rel_name << ": no column " << l;
            EXPECT_EQ(lt, rt) << name << "." << rel_name << ": " << l << " vs " << remote << "." << r;
          }
        } else {
          ASSERT_FALSE(rel["using"]["foreign_key_constraint_on"].get(fk)) << rel_name;
          // A key on this table's column (object), or on the other table's column referring here (array).
          const std::string on = fk.is_string() ? name : str(fk["table"]["name"]);
          const std::string column = fk.is_string() ? str(fk) : str(fk["column"]);
          const auto key = tx.exec_params(
              "SELECT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' AND conrelid = to_regclass($1) "
              "AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2)]",
              "public." + on, column);
          ASSERT_EQ(key.size(), 1u) << name << "." << rel_name << ": no foreign key on " << on << "." << column;
          if (!fk.is_string()) {
            EXPECT_EQ(key[0][0].as<std::string>(), name) << rel_name;
          }
        }
      }
    }

    simdjson::dom::array computed;
    std::set<std::string> computed_names;
    if (!table["computed_fields"].get(computed))
      for (auto c : computed) {
        computed_names.insert(str(c["name"]));
        const std::string fn = str(c["definition"]["function"]["name"]);
        const auto f = tx.exec_params(
            "SELECT p.provolatile, p.proretset, t.typtype, p.pronargs, p.proargtypes[0] = c.reltype "
            "FROM pg_proc p JOIN pg_type t ON t.oid = p.prorettype JOIN pg_class c ON c.oid = to_regclass($2) "
            "WHERE p.proname = $1",
            fn, "public." + name);
        ASSERT_EQ(f.size(), 1u) << fn;
        EXPECT_EQ(f[0][0].as<std::string>(), "s") << fn << " is STABLE";
        EXPECT_FALSE(f[0][1].as<bool>()) << fn << " returns one value";
        EXPECT_EQ(f[0][2].as<std::string>(), "b") << fn << " returns a scalar";
        EXPECT_EQ(f[0][3].as<int>(), 1) << fn;
        EXPECT_TRUE(f[0][4].as<bool>()) << fn << " takes a row of " << name;
      }

    simdjson::dom::array perms;
    if (!table["select_permissions"].get(perms))
      for (auto p : perms) {
        for (auto c : p["permission"]["columns"].get_array())
          EXPECT_FALSE(column_type(tx, name, str(c)).empty()) << name << "." << std::string_view(c);
        simdjson::dom::array fields;
        if (!p["permission"]["computed_fields"].get(fields))
          for (auto c : fields) {
            EXPECT_TRUE(computed_names.count(str(c))) << std::string_view(c);
          }
      }
  }
  // Every table and view edpipe creates is tracked.
  for (const auto& row : tx.exec("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                 "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition"))
    EXPECT_TRUE(tracked.count(row[0].as<std::string>())) << row[0].as<std::string>() << " is not tracked";
}

// A GraphQL query as a tree of field names (aliases and arguments dropped).
struct Field {
  std::string name;
  std::vector<Field> children;
};

class GraphqlReader {
 public:
  explicit GraphqlReader(std::string_view text) : s_(text) {}
  // The top-level selection set of one operation: `query Name($v: T) { ... }` or `{ ... }`.
  std::optional<std::vector<Field>> operation() {
    skip_space();
    if (at_ >= s_.size()) return std::nullopt;
    while (at_ < s_.size() && s_[at_] != '{') {
      if (s_[at_] == '(') skip_balanced('(', ')');
      else ++at_;
    }
    if (at_ >= s_.size()) return std::nullopt;
    return selection_set();
  }

 private:
  std::vector<Field> selection_set() {
    std::vector<Field> out;
    expect('{');
    for (skip_space(); at_ < s_.size() && s_[at_] != '}'; skip_space()) {
      Field f;
      f.name = name();
      skip_space();
      if (peek(':')) {  // an alias: the field is the name after it
        ++at_;
        skip_space();
        f.name = name();
        skip_space();
      }
      if (peek('(')) skip_balanced('(', ')');
      skip_space();
      if (peek('{')) f.children = selection_set();
      out.push_back(std::move(f));
    }
    expect('}');
    return out;
  }
  std::string name() {
    const size_t start = at_;
    while (at_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[at_])) || s_[at_] == '_')) ++at_;
    if (start == at_) throw std::runtime_error("a field name expected at " + std::to_string(at_));
    return std::string(s_.substr(start, at_ - start));
  }
  void skip_space() {
    while (at_ < s_.size()) {
      if (std::isspace(static_cast<unsigned char>(s_[at_])) || s_[at_] == ',') ++at_;
      else if (s_[at_] == '#') {
        while (at_ < s_.size() && s_[at_] != '\n') ++at_;
      } else break;
    }
  }
  void skip_balanced(char open, char close) {
    int depth = 0;
    for (; at_ < s_.size(); ++at_) {
      if (s_[at_] == '"') {
        for (++at_; at_ < s_.size() && s_[at_] != '"'; ++at_)
          if (s_[at_] == '\\') ++at_;
      } else if (s_[at_] == open) ++depth;
      else if (s_[at_] == close && --depth == 0) {
        ++at_;
        return;
      }
    }
  }
  bool peek(char c) const { return at_ < s_.size() && s_[at_] == c; }
  void expect(char c) {
    if (!peek(c)) throw std::runtime_error(std::string("'") + c + "' expected at " + std::to_string(at_));
    ++at_;
  }
  std::string_view s_;
  size_t at_ = 0;
};

// Which fields of a query the metadata does not expose; empty when all are.
void check_selection(const Schema& schema, const std::string& table, const std::vector<Field>& fields,
                     const std::string& path, std::vector<std::string>& problems);

void check_aggregate(const Schema& schema, const std::string& table, const std::vector<Field>& fields,
                     const std::string& path, std::vector<std::string>& problems) {
  if (!schema.at(table).aggregations) problems.push_back(path + ": aggregations of " + table + " are not allowed");
  for (const auto& f : fields) {
    if (f.name == "nodes") check_selection(schema, table, f.children, path + ".nodes", problems);
    else if (f.name == "aggregate") {
      for (const auto& a : f.children) {
        if (a.name == "count" || a.name == "__typename") continue;
        for (const auto& c : a.children)
          if (!schema.at(table).columns.count(c.name)) problems.push_back(path + ".aggregate." + a.name + "." + c.name);
      }
    } else if (f.name != "__typename") problems.push_back(path + "." + f.name);
  }
}

void check_selection(const Schema& schema, const std::string& table, const std::vector<Field>& fields,
                     const std::string& path, std::vector<std::string>& problems) {
  const TableMeta& t = schema.at(table);
  for (const auto& f : fields) {
    const std::string here = path + "." + f.name;
    if (f.name == "__typename" || t.columns.count(f.name) || t.computed.count(f.name)) continue;
    if (auto r = t.relationships.find(f.name); r != t.relationships.end()) {
      check_selection(schema, r->second.target, f.children, here, problems);
      continue;
    }
    const std::string agg = "_aggregate";
    if (f.name.size() > agg.size() && f.name.ends_with(agg)) {
      auto r = t.relationships.find(f.name.substr(0, f.name.size() - agg.size()));
      if (r != t.relationships.end() && r->second.array) {
        check_aggregate(schema, r->second.target, f.children, here, problems);
        continue;
      }
    }
    problems.push_back(here);
  }
}

std::vector<std::string> check_query(const Schema& schema, const std::vector<Field>& roots) {
  std::vector<std::string> problems;
  for (const auto& root : roots) {
    std::string table = root.name;
    bool aggregate = false;
    for (const std::string suffix : {"_by_pk", "_aggregate"})
      if (table.size() > suffix.size() && table.ends_with(suffix) && schema.count(table.substr(0, table.size() - suffix.size()))) {
        aggregate = suffix == "_aggregate";
        table = table.substr(0, table.size() - suffix.size());
      }
    if (!schema.count(table) || schema.at(table).columns.empty()) {
      problems.push_back(root.name + ": no such root field for the reader");
      continue;
    }
    if (aggregate) check_aggregate(schema, table, root.children, root.name, problems);
    else check_selection(schema, table, root.children, root.name, problems);
  }
  return problems;
}

std::vector<std::string> documented_queries() {
  std::vector<fs::path> documents = {fs::path(EDPIPE_SOURCE_DIR) / "README.md"};
  for (const auto& f : fs::directory_iterator(fs::path(EDPIPE_SOURCE_DIR) / "docs"))
    if (f.path().extension() == ".md") documents.push_back(f.path());
  std::vector<std::string> out;
  for (const auto& doc : documents) {
    const std::string text = read_file(doc);
    for (size_t at = text.find("```graphql\n"); at != std::string::npos; at = text.find("```graphql\n", at)) {
      const size_t start = at + 11, end = text.find("```", start);
      out.push_back(text.substr(start, end - start));
      at = end;
    }
  }
  return out;
}

TEST(HasuraMetadata, EveryDocumentedGraphqlQueryUsesOnlyWhatTheReaderSees) {
  const Schema schema = exposed_schema();
  size_t operations = 0;
  for (const auto& block : documented_queries()) {
    GraphqlReader reader(block);
    while (auto roots = reader.operation()) {
      ++operations;
      const auto problems = check_query(schema, *roots);
      EXPECT_TRUE(problems.empty()) << "not exposed: " << problems.front() << "\nin:\n" << block;
    }
  }
  // The seeds' recent activity, the dashboard's overview, invocation tree, list and failed jobs.
  EXPECT_GE(operations, 5u);
}

TEST(HasuraMetadata, TheQueryCheckRefusesWhatIsNotExposed) {
  const Schema schema = exposed_schema();
  auto problems_of = [&](const char* q) {
    GraphqlReader reader(q);
    return check_query(schema, *reader.operation());
  };
  EXPECT_TRUE(problems_of("{ invocations(limit: 1) { id success_rate event_executions { job_executions { logs { message } } } } }").empty());
  EXPECT_EQ(problems_of("{ invocations { id no_such_column } }"), std::vector<std::string>{"invocations.no_such_column"});
  EXPECT_EQ(problems_of("{ invocations { start_rank } }"), std::vector<std::string>{"invocations.start_rank"});  // internal
  EXPECT_EQ(problems_of("{ job_executions { logs { seq nope } } }"), std::vector<std::string>{"job_executions.logs.nope"});
  EXPECT_EQ(problems_of("{ edpipe_file_positions { path } }").size(), 1u);  // not for the reader
  EXPECT_TRUE(problems_of("{ job_executions_aggregate(where: {status: {_eq: \"failed\"}}) { aggregate { count max { duration_ms } } } }").empty());
}

}  // namespace
}  // namespace edpipe::load
