// edpipe on a real Citus cluster (a coordinator and two workers on this machine, started by
// `scripts/citus fresh` for the `citus` CTest fixture): every table after a load, a replay, a
// load in halves and a prune equals the same work on plain PostgreSQL (the `postgres` fixture's
// server), `verify` is clean, and every command and dashboard page answers.
//
// The cluster holds one database ("edpipe"): each test empties it by migrating it all the way
// down (which makes the distributed tables local again) and up (which distributes them).
#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <random>
#include <thread>

#include "load/migrator.h"
#include "load/verifier.h"
#include "pg_test_support.h"
#include "view/web_server.h"

namespace edpipe::load {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The coordinator's settings, as key=value words, from the env file of scripts/citus.
std::string coordinator_conninfo() {
  std::ifstream env(std::string(EDPIPE_CITUS_DIR) + "/env");
  std::string line, out;
  std::getline(env, line);
  std::istringstream words(line);
  for (std::string kv; words >> kv;) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (key == "PGHOST") out += " host=" + value;
    if (key == "PGPORT") out += " port=" + value;
    if (key == "PGUSER") out += " user=" + value;
  }
  return out + " dbname=edpipe";
}

// The cluster's database, emptied and migrated (so distributed) for one test.
class CitusDatabase {
 public:
  CitusDatabase() : conninfo_(coordinator_conninfo()) {
    conn_ = std::make_unique<pqxx::connection>(conninfo_);
    EXPECT_TRUE(has_citus(*conn_));
    Migrator m(*conn_);
    m.down(latest_migration_version());
    m.up();
  }
  const std::string& conninfo() const { return conninfo_; }
  pqxx::connection& conn() {
    if (!conn_->is_open()) reconnect();
    return *conn_;
  }
  void reconnect() { conn_ = std::make_unique<pqxx::connection>(conninfo_); }  // after a crash
  // The same dump as TestDatabase's, read through the coordinator.
  std::string dump() { return testing::dump_tables(conn()); }

 private:
  std::string conninfo_;
  std::unique_ptr<pqxx::connection> conn_;
};

testing::CommandResult edpipe_on(const std::string& conninfo, const std::string& args) {
  return testing::run_edpipe(args + " --db '" + conninfo + "'");
}

TEST(Citus, TheDetailTablesAreDistributedAndCoLocated) {
  CitusDatabase db;
  pqxx::read_transaction tx(db.conn());
  const auto placed = tx.exec(
      "SELECT logicalrelid::text, column_to_column_name(logicalrelid, partkey), colocationid FROM pg_dist_partition p "
      "JOIN pg_class c ON c.oid = p.logicalrelid WHERE NOT c.relispartition ORDER BY 1");
  ASSERT_EQ(placed.size(), 4u);
  // Their day partitions (migration 016) are distributed with them, in the same group.
  EXPECT_EQ(tx.exec("SELECT count(*), count(DISTINCT colocationid) FROM pg_dist_partition p JOIN pg_class c "
                    "ON c.oid = p.logicalrelid WHERE c.relispartition")[0][0].as<int>(), 4);
  EXPECT_EQ(tx.exec("SELECT count(DISTINCT colocationid) FROM pg_dist_partition")[0][0].as<int>(), 1);
  std::map<std::string, std::string> column;
  std::set<int> groups;
  for (const auto& r : placed) {
    column[r[0].as<std::string>()] = r[1].as<std::string>();
    groups.insert(r[2].as<int>());
  }
  EXPECT_EQ(column["invocations"], "id");
  EXPECT_EQ(column["event_executions"], "invocation_id");
  EXPECT_EQ(column["job_executions"], "invocation_id");
  EXPECT_EQ(column["job_logs"], "invocation_id");
  EXPECT_EQ(groups.size(), 1u) << "the four tables are not co-located";
  // Shards on both workers.
  EXPECT_EQ(tx.exec("SELECT count(DISTINCT nodeport) FROM pg_dist_shard_placement")[0][0].as<int>(), 2);
}

// A fresh load, a replay, and a load of half the files then all of them in small batches (every
// later batch merges into stored invocations): each equals plain PostgreSQL.
TEST(Citus, LoadsReplaysAndHalvesEqualPlainPostgres) {
  const fs::path corpus =
      testing::write_corpus("citus-load", testing::generated_lines({.seed = 51, .invocations = 1500, .abandon_rate = 0.03}), 6);
  testing::TestDatabase plain;
  auto r = edpipe_on(plain.conninfo(), "load --quiet " + corpus.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string truth = plain.dump();
  ASSERT_GT(plain.count("SELECT count(*) FROM invocations WHERE source_job_id IS NOT NULL"), 0) << "no job chain to link";
  {
    CitusDatabase db;
    r = edpipe_on(db.conninfo(), "load --quiet " + corpus.string());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(db.dump(), truth) << "fresh load";
    EXPECT_TRUE(verify_database(db.conn()).ok());
    r = edpipe_on(db.conninfo(), "load --json --quiet --batch-size 500 " + corpus.string());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("\"rows_inserted\":0,\"rows_updated\":0"), std::string::npos) << r.out;
    EXPECT_EQ(db.dump(), truth) << "replay";
  }
  {
    CitusDatabase db;
    std::string half;
    for (int f = 0; f < 6; f += 2) half += " " + (corpus / ("trace-" + std::to_string(f) + ".ndjson")).string();
    r = edpipe_on(db.conninfo(), "load --quiet --batch-size 400" + half);
    ASSERT_EQ(r.status, 0) << r.err;
    r = edpipe_on(db.conninfo(), "load --quiet --batch-size 400 " + corpus.string());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(db.dump(), truth) << "half, then all";
    EXPECT_TRUE(verify_database(db.conn()).ok());
  }
  fs::remove_all(corpus);
}

// `tail` of files that grow while it runs, with edpipe killed with -9, the whole cluster killed
// with -9 (`scripts/citus crash`: every node at once, prepared transactions and all) and one
// worker killed alone (the coordinator then finishes or rolls back the two-phase commits it
// began): every table equals plain PostgreSQL's load of the finished files, and `verify` is
// clean.
TEST(Citus, TailWithKillsOfEdpipeTheClusterAndAWorkerLosesNothing) {
  const auto lines = testing::generated_lines({.seed = 53, .invocations = 1500});
  const fs::path full = testing::write_corpus("citus-tail-full", lines, 3);
  testing::TestDatabase plain;
  auto r = edpipe_on(plain.conninfo(), "load --quiet " + full.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string truth = plain.dump();
  CitusDatabase db;
  const fs::path dir = fs::temp_directory_path() / ("citus-tail-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string tail_cmd = std::string(EDPIPE_BINARY) +
                               " tail --quiet --flush-interval 150ms --batch-size 300 --rescan-interval 100ms --db '" +
                               db.conninfo() + "' '" + dir.string() + "/*.ndjson'";
  auto tail = std::make_unique<testing::BackgroundCommand>(tail_cmd);
  const std::string citus = std::string(EDPIPE_SOURCE_DIR) + "/scripts/citus ";
  std::mt19937 rng(53);
  testing::GrowingFiles files(full, 3, dir, rng, 100'000);
  int cluster_kills = 0, worker_kills = 0, tail_kills = 0;
  size_t calm_until = 0;
  // The lines tail has saved as loaded (-1 while the cluster does not answer).
  const auto saved_lines = [&]() -> int64_t {
    try {
      pqxx::connection c(db.conninfo());
      pqxx::read_transaction tx(c);
      return tx.exec1("SELECT coalesce(sum(line_number), 0) FROM edpipe_file_positions")[0].as<int64_t>();
    } catch (const std::exception&) {
      return -1;
    }
  };
  int64_t saved_at_last_kill = 0;
  for (size_t step = 0; files.write_step(); ++step) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 80)(rng)));
    // Every kind of kill comes at least once, at fixed steps, and more at random ones; after a
    // node's kill the cluster stays up for a few steps (a cluster that never recovers for long
    // is the bound's case, tested on one server), and a random kill waits until tail has
    // saved more lines since the kill before: on a slow machine, kills closer together could
    // meet one batch in more outages than a run's bound allows.
    const int random = std::uniform_int_distribution<int>(0, 39)(rng);
    int dice = step == 3 ? 0 : step == 12 ? 1 : step == 20 ? 2 : step < 20 || step < calm_until ? -1 : random;
    if (step > 20 && dice >= 0 && dice <= 2) {
      const int64_t saved = saved_lines();
      if (saved <= saved_at_last_kill) dice = -1;
      else saved_at_last_kill = saved;
    }
    if (dice == 0 || dice == 1) calm_until = step + 15;
    if (dice == 0) {
      auto k = testing::run_command(citus + "crash " EDPIPE_CITUS_DIR " && " + citus + "start " EDPIPE_CITUS_DIR);
      ASSERT_EQ(k.status, 0) << k.err;
      ++cluster_kills;
    } else if (dice == 1) {
      auto k = testing::run_command(std::string(EDPIPE_SOURCE_DIR) + "/scripts/pg crash " EDPIPE_CITUS_DIR "/worker-2 && " +
                                    citus + "start " EDPIPE_CITUS_DIR);
      ASSERT_EQ(k.status, 0) << k.err;
      ++worker_kills;
    } else if (dice == 2) {
      tail->signal(SIGKILL);
      EXPECT_EQ(tail->wait(), 128 + SIGKILL) << tail->output();
      ++tail_kills;
      tail = std::make_unique<testing::BackgroundCommand>(tail_cmd);
    }
  }
  files.close();
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(tail->running()) << tail->output();
  tail->signal(SIGTERM);
  EXPECT_EQ(tail->wait(), 0) << tail->output();
  r = testing::run_edpipe("tail --quiet --exit-on-eof --db '" + db.conninfo() + "' '" + dir.string() + "/*.ndjson'");
  EXPECT_EQ(r.status, 0) << r.err;
  db.reconnect();
  EXPECT_EQ(testing::dump_difference(db.dump(), truth), "");
  EXPECT_TRUE(verify_database(db.conn()).ok());
  EXPECT_GE(cluster_kills, 1);
  EXPECT_GE(worker_kills, 1);
  EXPECT_GE(tail_kills, 1);
  fs::remove_all(dir);
  fs::remove_all(full);
}

// A prune deletes the same rows on both, and clears the same source job links.
// Three ways a prune deletes, each equal to plain PostgreSQL: a day whose every invocation is
// behind the horizon dropped whole (its partitions, on every worker), a day the horizon cuts made
// again with the invocations it keeps, and the rows before a horizon early in a day one batch at
// a time.
TEST(Citus, PruneEqualsPlainPostgres) {
  const fs::path corpus = testing::write_corpus(
      "citus-prune", testing::generated_lines({.seed = 52, .invocations = 1200, .span = 44 * 3600 * kMicrosPerSecond}), 3);  // from 2026-11-20
  testing::TestDatabase plain;
  CitusDatabase db;
  for (const std::string& conninfo : {plain.conninfo(), db.conninfo()}) {
    auto r = edpipe_on(conninfo, "load --quiet " + corpus.string());
    ASSERT_EQ(r.status, 0) << r.err;
  }
  // 03:00 of the second day: the first goes whole, the second's first hours row by row; 18:00:
  // the rest of the second day is made again with what it keeps.
  for (const char* horizon : {"2026-11-21T03:00:00Z", "2026-11-21T18:00:00Z"}) {
    std::string said;
    for (const std::string& conninfo : {plain.conninfo(), db.conninfo()}) {
      auto r = edpipe_on(conninfo, std::string("prune --before '") + horizon + "'");
      ASSERT_EQ(r.status, 0) << r.out << r.err;
      if (!said.empty()) {
        EXPECT_EQ(r.out, said);
      }
      said = r.out;
    }
    EXPECT_NE(said.find("1 of them whole days"), std::string::npos) << said;
    EXPECT_EQ(testing::dump_difference(db.dump(), plain.dump()), "") << horizon;
    EXPECT_TRUE(verify_database(db.conn()).ok());
  }
  EXPECT_GT(plain.count("SELECT count(*) FROM edpipe_pruned"), 0) << "the prune deleted nothing";
  EXPECT_EQ(plain.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'invocations'::regclass"), 2)
      << "the second day and the undated one";
  fs::remove_all(corpus);
}

// show, report, verify, migrate status and every dashboard page answer on the cluster, and the
// pages equal those of plain PostgreSQL holding the same rows.
TEST(Citus, EveryCommandAndPageAnswers) {
  testing::TestDatabase plain;
  CitusDatabase db;
  for (const std::string& conninfo : {plain.conninfo(), db.conninfo()}) {
    auto r = edpipe_on(conninfo, "load --quiet " EDPIPE_SAMPLES_DIR);
    ASSERT_EQ(r.status, 0) << r.err;
  }
  const std::string first_id = [&] {
    pqxx::read_transaction tx(plain.conn());
    return tx.exec("SELECT id::text FROM invocations ORDER BY id LIMIT 1")[0][0].as<std::string>();
  }();
  const fs::path out_dir = fs::temp_directory_path() / ("citus-report-" + std::to_string(::getpid()));
  fs::create_directories(out_dir);
  const auto status = edpipe_on(db.conninfo(), "migrate status");
  EXPECT_EQ(status.status, 0) << status.err;
  EXPECT_NE(status.out.find("014  distributable                applied"), std::string::npos) << status.out;
  for (const std::string& args : {std::string("verify"), std::string("show --failed --since 30d"),
                                  std::string("show --failed --since 30d --json"), "show --logs " + first_id,
                                  "show --json " + first_id}) {
    const auto on_citus = edpipe_on(db.conninfo(), args);
    const auto on_plain = edpipe_on(plain.conninfo(), args);
    EXPECT_EQ(on_citus.status, 0) << args << ": " << on_citus.err;
    EXPECT_EQ(on_citus.status, on_plain.status) << args << ": " << on_citus.err;
    EXPECT_EQ(on_citus.out, on_plain.out) << args;
  }
  // Hasura's computed fields, called as Hasura calls them (with the row of a subquery over the
  // table), equal on both, and avg_job_duration equals the children's average.
  auto computed_fields = [](pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    const auto fields = tx.exec(
        "SELECT base.id::text, public.invocation_success_rate(base)::text, public.invocation_avg_job_duration(base)::text "
        "FROM (SELECT * FROM public.invocations WHERE ('true')) AS base ORDER BY base.id");
    const auto averages = tx.exec(
        "SELECT i.id::text, round(avg(j.duration_ms), 2)::text FROM invocations i "
        "LEFT JOIN job_executions j ON j.invocation_id = i.id GROUP BY i.id ORDER BY i.id");
    EXPECT_EQ(fields.size(), averages.size());
    std::string out;
    for (size_t i = 0; i < std::min(fields.size(), averages.size()); ++i) {
      EXPECT_EQ(std::string(fields[i][2].c_str()), averages[i][1].c_str()) << fields[i][0].c_str();
      out += std::string(fields[i][0].c_str()) + " " + fields[i][1].c_str() + " " + fields[i][2].c_str() + "\n";
    }
    for (const auto& r : tx.exec("SELECT base.id::text, public.event_job_success_rate(base)::text "
                                 "FROM (SELECT * FROM public.event_executions WHERE ('true')) AS base ORDER BY base.id"))
      out += std::string(r[0].c_str()) + " " + r[1].c_str() + "\n";
    return out;
  };
  const std::string fields = computed_fields(db.conn());
  EXPECT_NE(fields.find(".00"), std::string::npos) << "no computed value to compare";
  EXPECT_EQ(fields, computed_fields(plain.conn()));

  auto report = [&](const std::string& conninfo, const std::string& name) {
    const fs::path file = out_dir / name;
    const auto r = edpipe_on(conninfo, "report --since 30d -o " + file.string());
    EXPECT_EQ(r.status, 0) << r.err;
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  const std::string citus_report = report(db.conninfo(), "citus.html");
  EXPECT_GT(citus_report.size(), 1000u);
  EXPECT_EQ(citus_report, report(plain.conninfo(), "plain.html"));
  fs::remove_all(out_dir);
  std::vector<std::string> pages = {"/", "/?range=7d", "/invocations?range=7d", "/jobs?range=7d", "/events?range=7d",
                                    "/invocations?range=7d&q=failed-job%3AupdateAnalytics", "/errors?range=7d",
                                    "/analytics?range=7d", "/invocations?range=7d&sort=duration",
                                    "/invocations?range=7d&table=moves&operation=UPDATE"};
  {
    pqxx::read_transaction tx(plain.conn());
    for (const auto& row : tx.exec("SELECT id::text FROM invocations ORDER BY id")) pages.push_back("/invocation/" + row[0].as<std::string>());
  }
  auto bodies = [&](const std::string& conninfo) {
    view::ServeOptions o;
    o.port = 0;
    o.conninfo = conninfo;
    view::WebServer server(o);
    std::string error;
    EXPECT_TRUE(server.bind(error)) << error;
    std::thread thread([&] { server.run(); });
    httplib::Client client("127.0.0.1", server.bound_port());
    client.set_read_timeout(20, 0);
    std::vector<std::string> out;
    for (const auto& page : pages) {
      const auto res = client.Get(page.c_str());
      EXPECT_TRUE(res && res->status == 200) << conninfo << page << ": " << (res ? res->status : -1);
      out.push_back(res ? res->body : "");
    }
    server.stop();
    thread.join();
    return out;
  };
  const auto on_citus = bodies(db.conninfo()), on_plain = bodies(plain.conninfo());
  for (size_t i = 0; i < pages.size(); ++i) EXPECT_EQ(on_citus[i], on_plain[i]) << pages[i];
}


// scripts/hasura-citus writes the Hasura project for the cluster: a source of kind "citus"
// without computed fields and without the relationships Hasura cannot join on Citus (between
// distributed tables, only on both distribution columns). Each relationship it keeps, joined as
// Hasura joins it (a lateral subquery from each row), runs on the cluster and gives what it gives
// on plain PostgreSQL holding the same rows.
TEST(Citus, TheHasuraProjectForTheClusterJoinsOnlyCoLocated) {
  testing::TestDatabase plain;
  CitusDatabase db;
  for (const std::string& conninfo : {plain.conninfo(), db.conninfo()}) {
    auto r = edpipe_on(conninfo, "load --quiet " EDPIPE_SAMPLES_DIR);
    ASSERT_EQ(r.status, 0) << r.err;
  }
  const fs::path out = fs::temp_directory_path() / ("hasura-citus-" + std::to_string(::getpid()));
  const auto r = testing::run_command("env $(cat " EDPIPE_CITUS_DIR "/env) node " EDPIPE_SOURCE_DIR "/scripts/hasura-citus " +
                                      out.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "left out: invocations.source_job_execution\nleft out: invocations.correlated_invocations\n"
            "left out: job_executions.triggered_invocations\n");
  simdjson::dom::parser parser;
  const simdjson::dom::element sources = parser.load((out / "metadata/databases/databases.yaml").string());
  const simdjson::dom::element source = sources.at(0);
  EXPECT_EQ(std::string_view(source["kind"]), "citus");
  EXPECT_TRUE(fs::exists(out / "config.yaml"));
  struct Relationship {
    std::string table, name, remote;
    std::vector<std::pair<std::string, std::string>> mapping;
  };
  // Every relationship of a source's tables (each manual: edpipe's metadata has no foreign keys).
  auto relationships_of = [](simdjson::dom::element source) {
    std::vector<Relationship> out;
    for (simdjson::dom::element t : source["tables"].get_array())
      for (const char* kind : {"object_relationships", "array_relationships"}) {
        simdjson::dom::array rels;
        if (t[kind].get(rels)) continue;
        for (simdjson::dom::element rel : rels) {
          const auto m = rel["using"]["manual_configuration"];
          Relationship k{std::string(std::string_view(t["table"]["name"])), std::string(std::string_view(rel["name"])),
                         std::string(std::string_view(m["remote_table"]["name"])), {}};
          for (auto [from, to] : m["column_mapping"].get_object())
            k.mapping.emplace_back(std::string(from), std::string(std::string_view(to)));
          out.push_back(std::move(k));
        }
      }
    return out;
  };
  for (simdjson::dom::element t : source["tables"].get_array()) {
    const std::string table{std::string_view(t["table"]["name"])};
    EXPECT_TRUE(t["computed_fields"].error()) << table;
    simdjson::dom::array perms;
    if (!t["select_permissions"].get(perms)) {
      for (simdjson::dom::element p : perms) EXPECT_TRUE(p["permission"]["computed_fields"].error()) << table;
    }
  }
  const std::vector<Relationship> kept = relationships_of(source);
  ASSERT_EQ(kept.size(), 10u);
  auto joined = [&](pqxx::connection& conn, const Relationship& k) {
    std::string on;
    for (const auto& [from, to] : k.mapping) on += std::string(on.empty() ? "" : " AND ") + "base." + from + " = r." + to;
    const std::string key = k.table == "invocations" ? "id" : "invocation_id";
    pqxx::read_transaction tx(conn);
    std::string got;
    for (const auto& id : tx.exec("SELECT DISTINCT " + key + "::text FROM " + k.table + " ORDER BY 1"))
      for (const auto& row : tx.exec_params("SELECT base.id::text, rel.joined::text FROM (SELECT * FROM " + k.table + " WHERE " +
                                            key + " = $1::uuid) base LEFT OUTER JOIN LATERAL (SELECT coalesce(json_agg(r.id "
                                            "ORDER BY r.id), '[]') AS joined FROM (SELECT * FROM " + k.remote + " r WHERE " + on +
                                            ") r) rel ON true ORDER BY 1",
                                            id[0].as<std::string>()))
        got += row[0].as<std::string>() + " " + row[1].as<std::string>() + "\n";
    return got;
  };
  // The relationships left out, joined the same way: Citus refuses each.
  simdjson::dom::parser project_parser;
  const simdjson::dom::element project =
      project_parser.load(EDPIPE_SOURCE_DIR "/schema/hasura/metadata/databases/databases.yaml");
  int refused = 0;
  for (const auto& k : relationships_of(project.at(0))) {
    if (std::any_of(kept.begin(), kept.end(), [&](const auto& x) { return x.table == k.table && x.name == k.name; })) continue;
    try {
      joined(db.conn(), k);
      ADD_FAILURE() << k.table << "." << k.name << ": Citus joined it";
    } catch (const pqxx::sql_error& e) {
      EXPECT_NE(std::string(e.what()).find("co-located and joined on their distribution columns"), std::string::npos) << e.what();
      ++refused;
    }
  }
  EXPECT_EQ(refused, 3);
  for (const auto& k : kept) {
    std::string on_citus;
    EXPECT_NO_THROW(on_citus = joined(db.conn(), k)) << k.table << "." << k.name;
    EXPECT_EQ(on_citus, joined(plain.conn(), k)) << k.table << "." << k.name;
    EXPECT_NE(on_citus.find("[\""), std::string::npos) << k.table << "." << k.name << " joined nothing";
  }
  fs::remove_all(out);
}

}  // namespace
}  // namespace edpipe::load
