#!/usr/bin/env bash
# Retention soak: 14 simulated days of traffic (each day's invocations spread over its 24 hours)
# loaded day by day, `edpipe prune --keep 3d --vacuum` after
# each. Prints the five tables' total relation size per day, then holds the rollups of all 14
# days against one load of every day without prune, and runs `edpipe verify`.
#
#   scripts/build && benchmarks/soak_retention.sh [INVOCATIONS_PER_DAY]     # default 5000
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${EDPIPE_BUILD_DIR:-$root/build}"
edpipe="$build/cli/edpipe"
per_day="${1:-5000}"
[ "$per_day" -ge 100 ] && [ "$per_day" -le 200000 ] || { echo "per day: 100 to 200000" >&2; exit 2; }
work="$build/bench-soak"
mkdir -p "$work"
for d in $(seq 1 14); do
  day=$(printf "2026-11-%02d" "$d")
  [ -d "$work/$per_day-span24h/$day" ] || "$edpipe" gen --invocations "$per_day" --functions 4 --interleave 2 --seed "$d" \
    --start "${day}T00:00:00Z" --span 24h -o "$work/$per_day-span24h/$day" 2>/dev/null
done
export $("$root/scripts/pg" fresh "$work/pg")
trap '"$root/scripts/pg" stop "$work/pg"' EXIT
size() {
  psql -X -Atc "SELECT sum(pg_total_relation_size(t)) FROM unnest(ARRAY['invocations', 'event_executions',
                'job_executions', 'job_logs', 'metrics_hourly']::regclass[]) t"
}
rollups() {
  psql -X -Atc "SELECT hour_bucket, source_function, total_invocations, successful_invocations, failed_invocations,
                running_invocations, total_events_detected, total_jobs_run, total_jobs_succeeded, total_jobs_failed,
                duration_count, duration_sum_ms, min_duration_ms, max_duration_ms, p50_duration_ms, p95_duration_ms,
                detected_event_counts, failed_job_counts FROM metrics_hourly ORDER BY 1, 2" -d "$1"
  psql -X -Atc "SELECT * FROM name_metrics_hourly ORDER BY kind, hour_bucket, source_function, name" -d "$1"
}
"$edpipe" migrate up >/dev/null
printf "%-12s %10s %12s %10s\n" day invocations "size (MB)" "prune s"
declare -A sizes
for d in $(seq 1 14); do
  day=$(printf "2026-11-%02d" "$d")
  "$edpipe" load --quiet --progress never "$work/$per_day-span24h/$day" >/dev/null
  t0=$EPOCHREALTIME
  "$edpipe" prune --keep 3d --vacuum >/dev/null
  secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  sizes[$d]=$(size)
  printf "%-12s %10s %12.1f %10s\n" "$day" "$(psql -X -Atc 'SELECT count(*) FROM invocations')" \
    "$(awk -v s="${sizes[$d]}" 'BEGIN { print s / 1048576 }')" "$secs"
done
"$edpipe" verify | tail -1
# The same 14 days in one load, without prune: the rollups must be the same, hour by hour.
psql -X -q -d postgres -c "CREATE DATABASE nopruned"
PGDATABASE=nopruned "$edpipe" migrate up >/dev/null
PGDATABASE=nopruned "$edpipe" load --quiet --progress never "$work/$per_day-span24h" >/dev/null
if diff <(rollups edpipe) <(rollups nopruned) >/dev/null; then
  echo "rollups of all 14 days: identical to one load without prune ($(rollups edpipe | wc -l) hourly and per-name rows)"
else
  echo "rollups of all 14 days: DIFFERENT from one load without prune"
  diff <(rollups edpipe) <(rollups nopruned) | head -5
fi
awk -v a="${sizes[4]}" -v b="${sizes[14]}" 'BEGIN { printf "size at day 14 / day 4: %.3f (target: within 10 %%)\n", b / a }'
