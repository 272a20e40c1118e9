#!/usr/bin/env python3
"""Loads N days of traffic one after another into one database: does a day cost the same on day 8?

    scripts/build && benchmarks/days_load.py [--days 8] [--invocations 100000] [--statements]
    benchmarks/days_load.py --days 8 --pg-options "-c max_wal_size=4GB -c wal_compression=on"

A fresh throwaway cluster (build/bench-days/pg, deleted and recreated) with PostgreSQL's durable
defaults (fsync, full_page_writes, synchronous_commit on; shared_buffers 128 MB, max_wal_size
1 GB) unless --pg-options says otherwise. Each day is `edpipe gen --invocations N --span 24h`
with its own seed and start (day k starts k days after --start), written to a folder, loaded
with `edpipe load`, then deleted (the disk holds one day's corpus at a time). Per day: the load's
wall time and its ratio to day 1, the rows and the database's size after it, the WAL it wrote
and how many full-page images that WAL holds (pg_stat_wal).

--statements loads pg_stat_statements and prints, per day, the load's statements that took the
most time: what grows with the tables.

--prune K then prunes the oldest K days, one `edpipe prune --before` (the next day's midnight) at
a time, and prints each prune's time; then loads the other days, alone, into a second database of
the same cluster and compares sizes: the detail tables (with their indexes and TOAST) and the
whole database, pruned against never held. At the end every table is compared with the truth the
generator printed for each day (`edpipe gen --truth`, summed): any difference is exit status 1.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("EDPIPE_BUILD_DIR", os.path.join(ROOT, "build"))
EDPIPE = os.path.join(BUILD, "cli", "edpipe")
DURABLE = "-c fsync=on -c full_page_writes=on"
DAY_US = 24 * 3600 * 1000000


def run(cmd, env, capture=True):
    r = subprocess.run(cmd, env=env, text=True, stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None)
    if r.returncode != 0:
        sys.exit(f"days_load: {' '.join(cmd)} failed ({r.returncode}): {(r.stderr or '')[-2000:]}")
    return r.stdout if capture else ""


def psql(env, sql, strip=True):
    out = run(["psql", "-X", "-Atq", "-c", sql], env)
    return out.strip() if strip else out.rstrip("\n")


def iso(day_start_s):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(day_start_s))


def load_day(a, env, day, per_day, start_s, corpus):
    shutil.rmtree(corpus, ignore_errors=True)
    gen = run([EDPIPE, "gen", "--invocations", str(per_day), "--span", "24h", "--seed", str(1000 + day),
               "--start", iso(start_s + (day - 1) * 86400), "--files", "4", "-o", corpus, "--truth"] + a.gen_args.split(),
              env)
    return json.loads(gen.strip().splitlines()[-1])


# The four detail tables with their partitions, indexes and TOAST (a table that is not partitioned
# is its own tree).
DETAIL_SIZE = ("SELECT sum(pg_total_relation_size(relid)) FROM (SELECT relid FROM pg_partition_tree('invocations') "
               "UNION ALL SELECT relid FROM pg_partition_tree('event_executions') UNION ALL SELECT relid FROM "
               "pg_partition_tree('job_executions') UNION ALL SELECT relid FROM pg_partition_tree('job_logs')) t")


def prune_and_compare(a, env, days, per_day, start_s, corpus):
    print(f"prune, a day at a time: {'day':>3} {'prune s':>8} {'invocations left':>17}")
    for day in range(1, min(a.prune, days - 1) + 1):
        t0 = time.monotonic()
        out = run([EDPIPE, "prune", "--before", iso(start_s + day * 86400)], env)
        took = time.monotonic() - t0
        left = int(psql(env, "SELECT count(*) FROM invocations"))
        print(f"{'':>22} {day:>3} {took:>8.2f} {left:>17,}   {out.strip()}", flush=True)
    psql(env, "CHECKPOINT")
    pruned_detail, pruned_db = int(psql(env, DETAIL_SIZE)), int(psql(env, "SELECT pg_database_size(current_database())"))
    other = dict(env)
    other["PGDATABASE"] = "never_held"
    psql(env, "CREATE DATABASE never_held")
    run([EDPIPE, "migrate", "up"], other)
    for day in range(a.prune + 1, days + 1):
        load_day(a, other, day, per_day, start_s, corpus)
        run([EDPIPE, "load", "--quiet"] + a.load_args.split() + [corpus], other)
    shutil.rmtree(corpus, ignore_errors=True)
    psql(other, "CHECKPOINT")
    never_detail, never_db = int(psql(other, DETAIL_SIZE)), int(psql(other, "SELECT pg_database_size(current_database())"))
    print(f"days {a.prune + 1}-{days}, after pruning days 1-{a.prune} / loaded alone: detail tables "
          f"{pruned_detail / 1e6:.1f} / {never_detail / 1e6:.1f} MB ({pruned_detail / never_detail:.3f}), database "
          f"{pruned_db / 1e6:.1f} / {never_db / 1e6:.1f} MB ({pruned_db / never_db:.3f})")
    # The pruned one also keeps day K's invocations whose last record is past its midnight.
    print(f"invocations: {int(psql(env, 'SELECT count(*) FROM invocations')):,} after the prunes, "
          f"{int(psql(other, 'SELECT count(*) FROM invocations')):,} loaded alone")
    verify = subprocess.run([EDPIPE, "verify"], env=other, text=True, capture_output=True)
    if verify.returncode != 0:
        print("days_load: edpipe verify of the database loaded alone:\n" + verify.stdout[-3000:], file=sys.stderr)
    return verify.returncode != 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=8)
    ap.add_argument("--invocations", type=int, default=100000, help="per day")
    ap.add_argument("--start", default="2026-10-01T00:00:00Z", help="day 1's start (UTC midnight)")
    ap.add_argument("--pg-options", default="", help="server options after the durable defaults")
    ap.add_argument("--load-args", default="", help="extra `edpipe load` options")
    ap.add_argument("--gen-args", default="", help="extra `edpipe gen` options, e.g. --random-ids (UUIDv4 ids, as emitters that use randomUUID() write)")
    ap.add_argument("--statements", action="store_true", help="the top statements per day (pg_stat_statements)")
    ap.add_argument("--prune", type=int, default=0, metavar="K", help="then prune the oldest K days, and compare sizes")
    ap.add_argument("--work", default=os.path.join(BUILD, "bench-days"))
    ap.add_argument("--keep", action="store_true", help="leave the cluster (stopped) in --work")
    a = ap.parse_args()
    days, per_day = max(1, min(a.days, 60)), max(100, min(a.invocations, 2000000))
    start_s = int(time.mktime(time.strptime(a.start, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone)

    pgdir = os.path.join(a.work, "pg")
    corpus = os.path.join(a.work, "day")
    os.makedirs(a.work, exist_ok=True)
    env = dict(os.environ)
    options = DURABLE + (" -c shared_preload_libraries=pg_stat_statements" if a.statements else "") + " " + a.pg_options
    env["EDPIPE_PG_OPTIONS"] = options
    line = run([os.path.join(ROOT, "scripts", "pg"), "fresh", pgdir], env)
    for kv in line.split():
        k, _, v = kv.partition("=")
        env[k] = v
    print(f"server: {options.strip()}")
    print("settings: " + psql(env, "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name) "
                                   "FROM pg_settings WHERE name IN ('shared_buffers', 'max_wal_size', 'checkpoint_timeout', "
                                   "'wal_compression', 'full_page_writes', 'fsync', 'synchronous_commit')"))
    truth = {}
    failed = False
    try:
        run([EDPIPE, "migrate", "up"], env)
        if a.statements:
            psql(env, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        print(f"{'day':>3} {'load s':>8} {'x day 1':>8} {'rows after':>11} {'db GB':>7} {'WAL MB':>8} {'FPI':>9} "
              f"{'FPI MB':>8} {'inputs MB':>9}")
        first = None
        for day in range(1, days + 1):
            for k, v in load_day(a, env, day, per_day, start_s, corpus).items():
                truth[k] = truth.get(k, 0) + v
            inputs_mb = sum(os.path.getsize(os.path.join(corpus, f)) for f in os.listdir(corpus)) / 1e6
            if a.statements:
                psql(env, "SELECT pg_stat_statements_reset()")
            before = psql(env, "SELECT pg_current_wal_insert_lsn() || ' ' || wal_fpi || ' ' || wal_bytes FROM pg_stat_wal")
            lsn0, fpi0, bytes0 = before.split()
            t0 = time.monotonic()
            run([EDPIPE, "load", "--quiet"] + a.load_args.split() + [corpus], env)
            took = time.monotonic() - t0
            after = psql(env, "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '" + lsn0 + "')::bigint || ' ' || "
                              "(wal_fpi - " + fpi0 + ") FROM pg_stat_wal")
            wal, fpi = (int(x) for x in after.split())
            rows = int(psql(env, "SELECT (SELECT count(*) FROM invocations) + (SELECT count(*) FROM event_executions) + "
                                 "(SELECT count(*) FROM job_executions) + (SELECT count(*) FROM job_logs)"))
            size = int(psql(env, "SELECT pg_database_size(current_database())"))
            # The full-page images' share: FPI count × 8 kB at most (before compression).
            first = first or took
            print(f"{day:>3} {took:>8.1f} {took / first:>8.2f} {rows:>11,} {size / 1e9:>7.2f} {wal / 1e6:>8.0f} {fpi:>9,} "
                  f"{fpi * 8192 / 1e6:>8.0f} {inputs_mb:>9.0f}", flush=True)
            if a.statements:
                top = psql(env, "SELECT string_agg(format('    %s ms  %s calls  %s', round(total_exec_time)::bigint, calls, "
                                "left(regexp_replace(query, '\\s+', ' ', 'g'), 110)), E'\\n' ORDER BY total_exec_time DESC) "
                                "FROM (SELECT * FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat%' "
                                "ORDER BY total_exec_time DESC LIMIT 8) s", strip=False)
                print(top, flush=True)
        shutil.rmtree(corpus, ignore_errors=True)
        if a.prune:
            failed = prune_and_compare(a, env, days, per_day, start_s, corpus) or failed
        # Every table against the generator's truth, summed over the days.
        got = json.loads(psql(env, "SELECT json_build_object("
                                   "'invocations', (SELECT count(*) FROM invocations), "
                                   "'event_executions', (SELECT count(*) FROM event_executions), "
                                   "'job_executions', (SELECT count(*) FROM job_executions), "
                                   "'distinct_job_logs', (SELECT count(*) FROM job_logs), "
                                   "'jobs_failed', (SELECT count(*) FROM job_executions WHERE status = 'failed'), "
                                   "'events_detected', (SELECT count(*) FROM event_executions WHERE detected), "
                                   "'invocations_failed', (SELECT count(*) FROM invocations WHERE status = 'failed'))"))
        for k, v in got.items():
            if a.prune:
                break  # the pruned days are gone: verify still checks what stays
            if truth.get(k) != v:
                failed = True
                print(f"days_load: {k} is {v}, the generator made {truth.get(k)}", file=sys.stderr)
        verify = subprocess.run([EDPIPE, "verify"], env=env, text=True, capture_output=True)
        if verify.returncode != 0:
            failed = True
            print("days_load: edpipe verify:\n" + verify.stdout[-3000:] + verify.stderr[-2000:], file=sys.stderr)
        print("tables equal to the truth, verify clean" if not failed else "DIFFERENCES (above)")
    finally:
        subprocess.run([os.path.join(ROOT, "scripts", "pg"), "stop", pgdir], stdout=subprocess.DEVNULL)
        if not a.keep:
            shutil.rmtree(a.work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
