#!/usr/bin/env bash
# EXPLAIN ANALYZE of the seed queries of docs/database.md on a database of 100k invocations (~4.8M rows).
#
#   scripts/build && benchmarks/explain_queries.sh [INVOCATIONS]
#
# Loads a generated corpus with edpipe into a throwaway PostgreSQL, then prints, per query, its
# execution time and the indexes its plan uses.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${EDPIPE_BUILD_DIR:-$root/build}"
edpipe="$build/cli/edpipe"
n="${1:-100000}"
work="$build/bench-explain"
[ "$n" = 100000 ] || work="$build/bench-explain-$n"
corpus="$work/corpus-$n-i2"
mkdir -p "$work"
# Two invocations in flight: 100k invocations span ~17 hours, so that the queries' time windows
# select a part of the data, as they do in a database that keeps weeks of it.
[ -d "$corpus" ] || "$edpipe" gen --invocations "$n" --functions 6 --interleave 2 --files 8 -o "$corpus" 2>/dev/null
export $("$root/scripts/pg" fresh "$work/pg")
trap '"$root/scripts/pg" stop "$work/pg"' EXIT
"$edpipe" migrate up >/dev/null
/usr/bin/time -f "load: %e s" "$edpipe" load --quiet --progress never "$corpus" | grep -E "^  (lines|rows)"
psql -X -qc "VACUUM ANALYZE" >/dev/null

# A real invocation with jobs, and "now" just after the corpus, for the time-windowed queries.
inv=$(psql -X -Atc "SELECT id FROM invocations WHERE total_jobs_run > 2 ORDER BY created_at DESC LIMIT 1")
now=$(psql -X -Atc "SELECT watermark FROM edpipe_watermark")
corr=$(psql -X -Atc "SELECT correlation_id FROM invocations WHERE correlation_id IS NOT NULL ORDER BY created_at DESC LIMIT 1")
declare -A queries=(
  [dashboard_overview]="SELECT i.id, i.source_function, i.created_at, i.total_duration_ms, invocation_success_rate(i),
      e.event_name, e.detected, j.job_name, j.status, j.duration_ms
    FROM invocations i LEFT JOIN event_executions e ON e.invocation_id = i.id
    LEFT JOIN job_executions j ON j.event_execution_id = e.id
    WHERE i.id IN (SELECT id FROM invocations WHERE created_at >= TIMESTAMPTZ '$now' - interval '24 hours'
                   ORDER BY created_at DESC LIMIT 10)
    ORDER BY i.created_at DESC, e.created_at, j.created_at"
  [slowest_jobs]="SELECT je.job_name, AVG(je.duration_ms) AS avg_duration, COUNT(*), COUNT(*) FILTER (WHERE je.status = 'failed'),
      i.source_function
    FROM job_executions je JOIN invocations i ON je.invocation_id = i.id
    WHERE je.created_at >= TIMESTAMPTZ '$now' - INTERVAL '1 hour'
    GROUP BY je.job_name, i.source_function ORDER BY avg_duration DESC LIMIT 10"
  [debug_invocation]="SELECT i.source_function, i.total_duration_ms, ee.event_name, ee.detected, je.job_name, je.status,
      je.duration_ms, je.error_message, jl.level, jl.message
    FROM invocations i LEFT JOIN event_executions ee ON i.id = ee.invocation_id
    LEFT JOIN job_executions je ON ee.id = je.event_execution_id
    LEFT JOIN job_logs jl ON je.id = jl.job_execution_id
    WHERE i.id = '$inv' ORDER BY ee.created_at, je.created_at, jl.created_at"
  [job_chains]="SELECT i1.source_function, source_job.job_name, i2.source_function, i2.created_at, i2.status
    FROM invocations i2 JOIN job_executions source_job ON i2.source_job_id = source_job.id
    JOIN invocations i1 ON source_job.invocation_id = i1.id
    WHERE i2.created_at >= TIMESTAMPTZ '$now' - INTERVAL '1 hour' ORDER BY i2.created_at DESC"
  [chain_tree]="WITH RECURSIVE job_chain AS (
      SELECT id, source_function, source_job_id, created_at, 0 AS depth FROM invocations
      WHERE source_job_id IS NULL AND created_at >= TIMESTAMPTZ '$now' - INTERVAL '1 hour'
      UNION ALL
      SELECT i.id, i.source_function, i.source_job_id, i.created_at, jc.depth + 1 FROM invocations i
      JOIN job_executions je ON i.source_job_id = je.id JOIN job_chain jc ON je.invocation_id = jc.id
      WHERE jc.depth < 10)
    SELECT REPEAT('  ', depth) || source_function, created_at, depth FROM job_chain ORDER BY created_at, depth"
  [failed_by_time]="SELECT id, source_function, error_message FROM invocations
    WHERE status = 'failed' AND created_at >= TIMESTAMPTZ '$now' - INTERVAL '6 hours' ORDER BY created_at DESC LIMIT 50"
  [by_event_name]="SELECT status, count(*) FROM event_executions
    WHERE event_name = 'moves.pickup.successful' AND created_at >= TIMESTAMPTZ '$now' - INTERVAL '6 hours' GROUP BY status"
  # The view library's own queries (view/view_queries.cpp): `edpipe show`, `edpipe report`.
  [show_id_prefix]="SELECT id::text FROM invocations WHERE id BETWEEN '${inv:0:4}0000-0000-0000-0000-000000000000'::uuid
    AND '${inv:0:4}ffff-ffff-ffff-ffff-ffffffffffff'::uuid ORDER BY id LIMIT 2"
  [show_logs]="SELECT job_execution_id::text, level, message, created_at FROM (
    SELECT * FROM job_logs WHERE job_execution_id = ANY(ARRAY(SELECT id FROM job_executions WHERE invocation_id = '$inv'))
    UNION ALL SELECT * FROM job_logs WHERE invocation_id = '$inv' AND job_execution_id IS NULL) l
    ORDER BY created_at, seq NULLS LAST, id LIMIT 2001"
  [show_correlated]="SELECT id::text FROM invocations WHERE correlation_id = '$corr' ORDER BY created_at, id LIMIT 100"
  [show_triggered]="SELECT id::text, source_job_id::text FROM invocations WHERE source_job_id = ANY(ARRAY(
    SELECT id FROM job_executions WHERE invocation_id = '$inv')) ORDER BY created_at LIMIT 200"
  [show_failed]="SELECT i.id, i.source_function, i.status, i.created_at FROM invocations i
    WHERE i.status IN ('failed', 'abandoned') AND i.created_at >= TIMESTAMPTZ '$now' - INTERVAL '1 hour'
    ORDER BY i.created_at DESC, i.id LIMIT 20"
  [report_slowest_jobs]="SELECT j.job_name, count(*), percentile_cont(0.95) WITHIN GROUP (ORDER BY j.duration_ms)
    FROM job_executions j WHERE j.created_at >= TIMESTAMPTZ '$now' - INTERVAL '24 hours' AND j.duration_ms IS NOT NULL
    GROUP BY j.job_name ORDER BY 3 DESC LIMIT 10"
)
# "first": the first run after the load; "warm": the best of three more, as a dashboard that
# repeats its queries sees them.
printf "\n%-20s %9s %9s  %s\n" "query" "first ms" "warm ms" "indexes used"
for q in dashboard_overview slowest_jobs debug_invocation job_chains chain_tree failed_by_time by_event_name \
         show_id_prefix show_logs show_correlated show_triggered show_failed report_slowest_jobs; do
  plan=$(psql -X -Atc "EXPLAIN (ANALYZE, BUFFERS) ${queries[$q]}" 2>&1) || { printf "%-20s failed: %s\n" "$q" "$plan"; continue; }
  ms=$(echo "$plan" | sed -n 's/^Execution Time: \([0-9.]*\) ms/\1/p')
  warm=$(for _ in 1 2 3; do psql -X -Atc "EXPLAIN (ANALYZE) ${queries[$q]}" | sed -n 's/^Execution Time: \([0-9.]*\) ms/\1/p'; done | sort -n | head -1)
  ix=$( (echo "$plan" | grep -oE "(Index|Index Only|Bitmap Index) Scan( Backward)? (using|on) [a-z_0-9]+" || true) | awk '{print $NF}' | sort -u | tr '\n' ' ')
  seq=$( (echo "$plan" | grep -oE "Seq Scan on [a-z_]+" || true) | awk '{print $NF}' | sort -u | tr '\n' ' ')
  printf "%-20s %9s %9s  %s%s\n" "$q" "$ms" "$warm" "$ix" "${seq:+ (seq scan: $seq)}"
done

# The commands a person runs, end to end (connect, queries, render): best of three.
best() { for _ in 1 2 3; do /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; done | sort -n | head -1; }
printf "\n%-44s %8s\n" "command" "best s"
printf "%-44s %8s\n" "edpipe show ${inv:0:8}" "$(best "$edpipe" show "${inv:0:8}")"
printf "%-44s %8s\n" "edpipe show ${inv:0:8} --logs --json" "$(best "$edpipe" show "${inv:0:8}" --logs --json)"
printf "%-44s %8s\n" "edpipe show --failed --since 24h" "$(best "$edpipe" show --failed --since 24h)"
printf "%-44s %8s\n" "edpipe show --correlation-id $corr" "$(best "$edpipe" show --correlation-id "$corr")"
printf "%-44s %8s\n" "edpipe report --since 24h" "$(best "$edpipe" report -o "$work/report.html" --since 24h)"
printf "%-44s %8s\n" "edpipe report --since 7d" "$(best "$edpipe" report -o "$work/report.html" --since 7d)"
ls -l "$work/report.html" | awk '{printf "report size: %d KB\n", $5 / 1024}'
