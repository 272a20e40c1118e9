#!/usr/bin/env bash
# Prune speed, and what a prune costs a load running beside it.
#
#   scripts/build && benchmarks/prune_bench.sh
#   EDPIPE_PRUNE_ARGS="--rest 0" benchmarks/prune_bench.sh     # a prune that never rests beside the load
#
# Two days of generated traffic, 100k invocations each (the first is benchmarks/explain_queries.sh's
# corpus, the second the same generator a day later). Day 1 loaded, then:
#   1. day 2 loaded alone (the baseline);
#   2. day 1 loaded again into a fresh database, then day 2 loaded while `edpipe prune` deletes
#      day 1 beside it (the slowdown);
#   3. the prune's own time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${EDPIPE_BUILD_DIR:-$root/build}"
edpipe="$build/cli/edpipe"
work="$build/bench-prune"
day1="$build/bench-explain/corpus-100000-i2"
day2="$work/corpus-day2"
mkdir -p "$work"
[ -d "$day1" ] || "$edpipe" gen --invocations 100000 --functions 6 --interleave 2 --files 8 -o "$day1" 2>/dev/null
[ -d "$day2" ] || "$edpipe" gen --invocations 100000 --functions 6 --interleave 2 --files 8 --seed 2 \
                     --start 2026-11-21T00:00:00Z -o "$day2" 2>/dev/null
export $("$root/scripts/pg" fresh "$work/pg")
trap '"$root/scripts/pg" stop "$work/pg"' EXIT
fresh_db() {
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS edpipe WITH (FORCE)" -c "CREATE DATABASE edpipe"
  "$edpipe" migrate up >/dev/null
  "$edpipe" load --quiet --progress never "$day1" >/dev/null
  psql -X -qc "VACUUM ANALYZE" >/dev/null
}
secs() { local t0=$EPOCHREALTIME; "$@" >/dev/null; awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

fresh_db
alone=$(secs "$edpipe" load --quiet --progress never "$day2")
fresh_db
t0=$EPOCHREALTIME
"$edpipe" prune --before 2026-11-21T00:00:00Z ${EDPIPE_PRUNE_ARGS:-} > "$work/prune.out" &
ppid=$!
beside=$(secs "$edpipe" load --quiet --progress never "$day2")
wait $ppid
prune_total=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
cat "$work/prune.out"
# The prune alone, on a fresh copy of day 1 (and day 2).
fresh_db
"$edpipe" load --quiet --progress never "$day2" >/dev/null
prune_alone=$(secs "$edpipe" prune --before 2026-11-21T00:00:00Z)
"$edpipe" verify | tail -1
printf "\nload of day 2 alone:              %6.1f s\n" "$alone"
printf "load of day 2 beside the prune:   %6.1f s  (%+.0f %%)\n" "$beside" "$(awk -v a="$alone" -v b="$beside" 'BEGIN { print (b / a - 1) * 100 }')"
printf "prune of day 1 (100k invocations) alone: %6.1f s; beside the load: %6.1f s (start to end)\n" "$prune_alone" "$prune_total"
