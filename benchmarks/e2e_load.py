#!/usr/bin/env python3
"""End-to-end load benchmark: edpipe against the plain-COPY floor and what a user would do instead.

    scripts/build && benchmarks/e2e_load.py [--invocations 20000] [--repeat 3] [--index-costs]

On a generated corpus, each method runs on a fresh database of a throwaway PostgreSQL
(scripts/pg), best of --repeat rounds of every method, and the script prints wall time, rows/s, input MB/s and each ratio to edpipe:

  edpipe      `edpipe load`, end to end (parse, merge, derive, rollups)
  floor       the same final rows, dumped with COPY ... TO, loaded into a fresh copy of the schema
              with plain COPY ... FROM (indexes and foreign keys present), in COPY's default text format
  floor, binary  the same in COPY's binary format, which edpipe sends
  raw-jsonb   (a) COPY the raw lines into a jsonb table, build the tables with INSERT ... SELECT ... GROUP BY
  insert-100  (b) the Node plugin's way: multi-row INSERT ... ON CONFLICT DO UPDATE, 100 rows a statement
  seed-floor  the floor again, into the schema with the data model's full set of indexes

--index-costs also times the floor once without each secondary index, and prints what each costs.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("EDPIPE_BUILD_DIR", os.path.join(ROOT, "build"))
EDPIPE = os.path.join(BUILD, "cli", "edpipe")
TABLES = ["invocations", "event_executions", "job_executions", "job_logs", "metrics_hourly", "edpipe_watermark"]

# The data model's index-heavy schema: an index on every foreign key, status, name and time column.
SEED_INDEXES = """
CREATE INDEX seed_inv_function ON invocations (source_function);
CREATE INDEX seed_inv_status ON invocations (status);
CREATE INDEX seed_inv_created ON invocations (created_at);
CREATE INDEX seed_inv_function_created ON invocations (source_function, created_at);
CREATE INDEX seed_inv_correlation ON invocations (correlation_id);
CREATE INDEX seed_inv_email ON invocations (source_user_email);
CREATE INDEX seed_inv_payload ON invocations USING gin (source_event_payload);
CREATE INDEX seed_ev_invocation ON event_executions (invocation_id);
CREATE INDEX seed_ev_name ON event_executions (event_name);
CREATE INDEX seed_ev_status ON event_executions (status);
CREATE INDEX seed_ev_detected ON event_executions (detected);
CREATE INDEX seed_ev_created ON event_executions (created_at);
CREATE INDEX seed_job_invocation ON job_executions (invocation_id);
CREATE INDEX seed_job_event ON job_executions (event_execution_id);
CREATE INDEX seed_job_name ON job_executions (job_name);
CREATE INDEX seed_job_status ON job_executions (status);
CREATE INDEX seed_job_created ON job_executions (created_at);
CREATE INDEX seed_job_duration ON job_executions (duration_ms);
CREATE INDEX seed_log_job ON job_logs (job_execution_id);
CREATE INDEX seed_log_level ON job_logs (level);
CREATE INDEX seed_log_created ON job_logs (created_at);
CREATE INDEX seed_metrics_hour ON metrics_hourly (hour_bucket);
"""

# (a): what a user might write instead: raw lines into jsonb, then one GROUP BY per table.
RAW_JSONB_BUILD = r"""
CREATE UNLOGGED TABLE raw (line jsonb);
\copy raw FROM '{corpus}' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
CREATE TEMP VIEW r AS
  SELECT line->>'type' AS type, (line->>'invocation_id')::uuid AS inv,
         CASE WHEN jsonb_typeof(line->'ts') = 'number' THEN to_timestamp((line->>'ts')::numeric / 1000)
              ELSE (line->>'ts')::timestamptz END AS ts, line FROM raw;
INSERT INTO invocations (id, source_function, source_system, source_table, source_operation, source_event_payload,
    source_user_email, source_user_role, source_job_ref, context_data, status, total_duration_ms, error_message,
    started_at, ended_at, end_status, first_record_at, last_record_at, created_at, correlation_id)
SELECT inv, coalesce(max(line->>'source_function') FILTER (WHERE type = 'invocation.start'), ''),
       max(line->>'source_system'), max(line->>'source_table'), max(line->>'source_operation'),
       (array_agg(line->'source_event_payload') FILTER (WHERE type = 'invocation.start'))[1],
       max(line->>'source_user_email'), max(line->>'source_user_role'), max(line->>'source_job_id')::uuid,
       (array_agg(line->'context') FILTER (WHERE type = 'invocation.start'))[1],
       coalesce(min(line->>'status') FILTER (WHERE type = 'invocation.end'), 'running'),
       min((line->>'duration_ms')::numeric) FILTER (WHERE type = 'invocation.end'),
       min(line->'error'->>'message') FILTER (WHERE type = 'invocation.end'),
       min(ts) FILTER (WHERE type = 'invocation.start'), min(ts) FILTER (WHERE type = 'invocation.end'),
       min(line->>'status') FILTER (WHERE type = 'invocation.end'), min(ts), max(ts),
       coalesce(min(ts) FILTER (WHERE type = 'invocation.start'), min(ts)), min(line->>'correlation_id')
FROM r GROUP BY inv;
INSERT INTO event_executions (id, invocation_id, event_name, detected, detection_duration_ms, detection_error,
    handler_duration_ms, handler_error, status, first_record_at, last_record_at, created_at)
SELECT (line->>'event_execution_id')::uuid, min(inv::text)::uuid, min(line->>'event_name'),
       coalesce(bool_or((line->>'detected')::boolean) FILTER (WHERE type = 'event.detection.end'), false),
       min((line->>'duration_ms')::numeric) FILTER (WHERE type = 'event.detection.end'),
       min(line->'error'->>'message') FILTER (WHERE type = 'event.detection.end'),
       min((line->>'duration_ms')::numeric) FILTER (WHERE type = 'event.handler.end'),
       min(line->'error'->>'message') FILTER (WHERE type = 'event.handler.end'),
       CASE WHEN count(*) FILTER (WHERE type = 'event.handler.end') > 0 THEN 'completed'
            WHEN bool_or((line->>'detected')::boolean) THEN 'handling' ELSE 'not_detected' END,
       min(ts), max(ts), min(ts)
FROM r WHERE type LIKE 'event.%' GROUP BY 1;
INSERT INTO job_executions (id, invocation_id, event_execution_id, job_name, job_options, status, duration_ms,
    result, error_message, first_record_at, last_record_at, created_at)
SELECT (line->>'job_execution_id')::uuid, min(inv::text)::uuid, min(line->>'event_execution_id')::uuid,
       min(line->>'job_name'), (array_agg(line->'job_options') FILTER (WHERE type = 'job.start'))[1],
       coalesce(min(line->>'status') FILTER (WHERE type = 'job.end'), 'running'),
       min((line->>'duration_ms')::numeric) FILTER (WHERE type = 'job.end'),
       (array_agg(line->'result') FILTER (WHERE type = 'job.end'))[1],
       min(line->'error'->>'message') FILTER (WHERE type = 'job.end'), min(ts), max(ts), min(ts)
FROM r WHERE type IN ('job.start', 'job.end') GROUP BY 1;
INSERT INTO job_logs (id, invocation_id, job_execution_id, level, message, data, source, created_at)
SELECT gen_random_uuid(), inv, (line->>'job_execution_id')::uuid, line->>'level', line->>'message', line->'data',
       line->>'source', ts FROM r WHERE type = 'job.log';
UPDATE invocations i SET events_detected_count = c.ed, total_jobs_run = c.jr, total_jobs_succeeded = c.js,
       total_jobs_failed = c.jf
FROM (SELECT i2.id, (SELECT count(*) FROM event_executions e WHERE e.invocation_id = i2.id AND e.detected) ed,
             (SELECT count(*) FROM job_executions j WHERE j.invocation_id = i2.id) jr,
             (SELECT count(*) FROM job_executions j WHERE j.invocation_id = i2.id AND j.status = 'completed') js,
             (SELECT count(*) FROM job_executions j WHERE j.invocation_id = i2.id AND j.status = 'failed') jf
      FROM invocations i2) c WHERE c.id = i.id;
INSERT INTO metrics_hourly (hour_bucket, source_function, total_invocations, successful_invocations,
    failed_invocations, total_events_detected, total_jobs_run, total_jobs_succeeded, total_jobs_failed,
    avg_duration_ms, min_duration_ms, max_duration_ms, p50_duration_ms, p95_duration_ms, p99_duration_ms)
SELECT date_trunc('hour', created_at), source_function, count(*), count(*) FILTER (WHERE status = 'completed'),
       count(*) FILTER (WHERE status IN ('failed', 'abandoned')), sum(events_detected_count), sum(total_jobs_run),
       sum(total_jobs_succeeded), sum(total_jobs_failed), avg(total_duration_ms), min(total_duration_ms),
       max(total_duration_ms), percentile_cont(0.5) WITHIN GROUP (ORDER BY total_duration_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY total_duration_ms),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY total_duration_ms)
FROM invocations GROUP BY 1, 2;
"""


def sh(cmd, env=None, capture=True):
    r = subprocess.run(cmd, shell=True, env=env, text=True, capture_output=capture)
    if r.returncode != 0:
        sys.exit(f"failed: {cmd}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def psql(db, sql=None, file=None, env=None):
    args = f"psql -X -q -v ON_ERROR_STOP=1 -d {db}"
    if file:
        return sh(f"{args} -f {file}", env)
    return sh(f"{args} -Atc {shlex_quote(sql)}", env)


def shlex_quote(s):
    return "'" + s.replace("'", "'\"'\"'") + "'"


def fresh_db(name, env, seed_indexes=False):
    sh(f"dropdb --if-exists {name} && createdb {name}", env)
    sh(f"{EDPIPE} migrate up --db dbname={name}", env)
    if seed_indexes:
        psql(name, SEED_INDEXES, env=env)


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def count_rows(db, env):
    return sum(int(psql(db, f"SELECT count(*) FROM {t}", env=env)) for t in TABLES)


def copy_text_to_sql(value):
    """One field of COPY text format to an SQL literal."""
    if value == r"\N":
        return "NULL"
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            n = value[i + 1]
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "'" + "".join(out).replace("'", "''") + "'"


def write_insert_100(dump_dir, columns, out_path):
    """The Node plugin's statements: 100 rows per INSERT ... ON CONFLICT DO UPDATE."""
    with open(out_path, "w") as out:
        for table in TABLES:
            cols = columns[table]
            key = "hour_bucket, source_function" if table == "metrics_hourly" else "id"
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c not in ("id", "hour_bucket", "source_function"))
            rows = []

            def flush():
                if rows:
                    out.write(f"INSERT INTO {table} ({', '.join(cols)}) VALUES\n" + ",\n".join(rows) +
                              f"\nON CONFLICT ({key}) DO UPDATE SET {updates};\n")
                    rows.clear()

            link = cols.index("source_job_id") if "source_job_id" in cols else -1
            with open(os.path.join(dump_dir, table + ".copy")) as f:
                for line in f:
                    fields = line.rstrip("\n").split("\t")
                    if link >= 0:
                        fields[link] = r"\N"  # linked below, once the jobs are in
                    rows.append("(" + ", ".join(copy_text_to_sql(v) for v in fields) + ")")
                    if len(rows) == 100:
                        flush()
            flush()
        out.write("UPDATE invocations i SET source_job_id = i.source_job_ref FROM job_executions j WHERE j.id = i.source_job_ref;\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--invocations", type=int, default=20000)
    ap.add_argument("--payload-columns", type=int, default=60, help="Hasura row size: 60 gives ~0.5 GB for 20k invocations")
    ap.add_argument("--index-costs", action="store_true")
    ap.add_argument("--repeat", type=int, default=3,
                    help="rounds of every method, each run on a fresh database; each method's best wall time counts "
                         "(this VM varies by +-20 %%)")
    ap.add_argument("--work", default=os.path.join(BUILD, "bench-e2e"))
    a = ap.parse_args()

    work = a.work
    os.makedirs(work, exist_ok=True)
    corpus_dir = os.path.join(work, f"corpus-{a.invocations}-{a.payload_columns}")
    corpus = os.path.join(corpus_dir, "trace-0001.ndjson")
    if not os.path.exists(corpus):
        sh(f"{EDPIPE} gen --invocations {a.invocations} --functions 6 --interleave 16 --console-rate 0 "
           f"--malformed-rate 0 --payload-columns {a.payload_columns} -o {corpus_dir}")
    mb = os.path.getsize(corpus) / 1e6

    pgdir = os.path.join(work, "pg")
    env_line = sh(f"{ROOT}/scripts/pg fresh {pgdir}").strip()
    env = dict(os.environ)
    env.update(kv.split("=", 1) for kv in env_line.split())
    env.pop("DATABASE_URL", None)
    try:
        def edpipe_load():
            fresh_db("e2e_edpipe", env)
            psql("e2e_edpipe", "CHECKPOINT", env=env)
            return timed(lambda: sh(f"{EDPIPE} load --quiet --progress never --db dbname=e2e_edpipe {corpus}", env))
        times = {"edpipe": [edpipe_load()]}
        rows = count_rows("e2e_edpipe", env)
        sh(f"{EDPIPE} verify --db dbname=e2e_edpipe", env)

        # The final rows, dumped once: the floor's input.
        dump_dir = os.path.join(work, "dump")
        shutil.rmtree(dump_dir, ignore_errors=True)
        os.makedirs(dump_dir)
        columns = {}
        for t in TABLES:
            cols = psql("e2e_edpipe", f"SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns "
                                      f"WHERE table_name = '{t}' AND column_name NOT IN ('updated_at')", env=env).strip().split(",")
            columns[t] = cols
            for ext, opt in (("copy", ""), ("bin", " (FORMAT binary)")):
                sh(f"psql -X -q -d e2e_edpipe -c \"\\copy (SELECT {', '.join(cols)} FROM {t}) TO '{dump_dir}/{t}.{ext}'{opt}\"", env)
        # The floor in COPY's default text format, as a user would dump and load; and in binary,
        # the format edpipe sends.
        copy_scripts = {}
        for ext, opt in (("copy", ""), ("bin", " (FORMAT binary)")):
            copy_scripts[ext] = os.path.join(work, f"floor-{ext}.sql")
            with open(copy_scripts[ext], "w") as f:
                f.write("BEGIN;\nSET CONSTRAINTS ALL DEFERRED;\n")
                for t in TABLES:
                    f.write(f"\\copy {t} ({', '.join(columns[t])}) FROM '{dump_dir}/{t}.{ext}'{opt}\n")
                f.write("COMMIT;\n")

        def floor(db, seed_indexes=False, drop=None, fmt="copy"):
            fresh_db(db, env, seed_indexes)
            if drop:
                psql(db, f"DROP INDEX {drop}", env=env)
            psql(db, "CHECKPOINT", env=env)  # the previous run's writes do not land in this one
            return timed(lambda: psql(db, file=copy_scripts[fmt], env=env))

        raw_sql = os.path.join(work, "raw_jsonb.sql")
        with open(raw_sql, "w") as f:
            f.write(RAW_JSONB_BUILD.replace("{corpus}", corpus))
        inserts = os.path.join(work, "insert_100.sql")
        write_insert_100(dump_dir, columns, inserts)

        def script(db, path):
            fresh_db(db, env)
            psql(db, "CHECKPOINT", env=env)
            return timed(lambda: psql(db, file=path, env=env))
        # Rounds of every method, each method's best counts: a VM that slows down for a while
        # slows every method, not the one that happened to run then.
        methods = {
            "edpipe": edpipe_load,
            "floor": lambda: floor("e2e_floor"),
            "floor, binary": lambda: floor("e2e_floor_bin", fmt="bin"),
            "seed-floor": lambda: floor("e2e_seed_floor", seed_indexes=True),
            "raw-jsonb (a)": lambda: script("e2e_raw", raw_sql),
            "insert-100 (b)": lambda: script("e2e_insert", inserts),
        }
        for round_ in range(a.repeat):
            for name, run in methods.items():
                if round_ == 0 and name == "edpipe":
                    continue  # ran above, for the dump
                times.setdefault(name, []).append(run())
        results = {name: min(t) for name, t in times.items()}

        base = results["edpipe"]
        print(f"\ncorpus: {a.invocations} invocations, {mb:.0f} MB, {rows} rows; PostgreSQL 15, a fresh database per run, "
              f"best of {a.repeat} rounds of every method\n")
        print(f"{'method':<16} {'wall s':>8} {'rows/s':>10} {'input MB/s':>11} {'÷ edpipe':>9}")
        for name in ["edpipe", "floor", "floor, binary", "raw-jsonb (a)", "insert-100 (b)", "seed-floor"]:
            t = results[name]
            print(f"{name:<16} {t:>8.2f} {rows / t:>10.0f} {mb / t:>11.1f} {t / base:>9.2f}")
        print(f"\nedpipe / floor = {base / results['floor']:.2f} (target ≤ 1.5); (a) / edpipe = "
              f"{results['raw-jsonb (a)'] / base:.2f} (target ≥ 2); (b) / edpipe = {results['insert-100 (b)'] / base:.2f} "
              f"(target ≥ 3); seed floor / floor = {results['seed-floor'] / results['floor']:.2f} (target ≥ 2); "
              f"edpipe / binary floor = {base / results['floor, binary']:.2f}")

        if a.index_costs:
            # Warm runs only, best of three: the first floor above also paid for a cold cache.
            def best(**kw):
                return min(floor("e2e_ix", **kw) for _ in range(3))
            all_ix = best()
            indexes = psql("e2e_floor", "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%pkey' "
                                        "AND indexname NOT LIKE '%key' AND indexname <> 'dashboard_summary_24h_function_idx' ORDER BY 1", env=env).split()
            print(f"\nindex cost: floor without that index, best of 3 warm runs (with all of them: {all_ix:.2f} s)")
            for ix in indexes:
                t = best(drop=ix)
                print(f"  {ix:<45} {t:>6.2f} s   costs {all_ix - t:>+6.2f} s ({100 * (all_ix - t) / all_ix:>+5.1f} %)")
    finally:
        sh(f"{ROOT}/scripts/pg stop {pgdir}")


if __name__ == "__main__":
    main()
