#!/bin/bash
# Tries the deployment samples as written: the systemd unit (checked by systemd-analyze, then its
# ExecStart run and stopped the way systemd stops it) and the cron line (its command run by sh,
# with cron's % escapes undone). Paths of the samples are mapped into a temporary folder.
# Usage: try_samples.sh EDPIPE_BINARY SOURCE_DIR PG_DIR
set -euo pipefail
edpipe=$1 src=$2 pgdir=$3
set -a; . "$pgdir/env"; set +a
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=edpipe_deploy_$$
psql -q -d postgres -c "CREATE DATABASE $db" >/dev/null
trap 'psql -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null; rm -rf "$work"' EXIT
export PGDATABASE=$db
"$edpipe" migrate up >/dev/null
fail() { echo "FAIL: $*" >&2; exit 1; }
count() { psql -Atq -c "$1"; }

# --- systemd ---------------------------------------------------------------------------------
unit=$src/samples/systemd/edpipe-tail.service
mkdir -p "$work/log/event-detector" "$work/lib/edpipe"
mapped() {  # the unit's paths, moved into $work
  sed -e "s#/usr/local/bin/edpipe#$edpipe#g" -e "s#/var/log/event-detector#$work/log/event-detector#g" \
      -e "s#/var/lib/edpipe#$work/lib/edpipe#g" -e "s#/etc/edpipe/tail.env#$work/tail.env#g" "$1"
}
mapped "$unit" > "$work/edpipe-tail.service"
if command -v systemd-analyze >/dev/null; then
  touch "$work/tail.env"
  # Only the unit's own syntax counts here: the edpipe user does not exist on a build machine.
  out=$(systemd-analyze verify "$work/edpipe-tail.service" 2>&1 | grep -v -e "User=edpipe" -e "Group=edpipe" -e "^$" || true)
  [ -z "$out" ] || fail "systemd-analyze verify: $out"
else
  fail "systemd-analyze is missing (scripts/bootstrap installs systemd)"
fi
# ExecStart with its continuation lines joined, run as systemd would run it, then stopped.
exec_start=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$work/edpipe-tail.service" | sed -e 's/^ExecStart=//' -e 's/\\$//' | tr '\n' ' ')
"$edpipe" gen --invocations 50 --seed 3 --malformed-rate 0.02 -o "$work/log/event-detector" --prefix app >/dev/null
eval "exec $exec_start" >"$work/service.out" 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; psql -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  [ "$(count 'SELECT count(*) FROM edpipe_file_positions')" -gt 0 ] && break
  sleep 0.1
done
kill -TERM $pid
wait $pid || fail "the service's edpipe did not exit 0 on SIGTERM: $(cat "$work/service.out")"
[ "$(count 'SELECT count(*) FROM invocations')" = 50 ] || fail "service: expected 50 invocations"
[ -s "$work/lib/edpipe/rejected.ndjson" ] || fail "service: no dead letters written"
grep -q '"reason"' "$work/lib/edpipe/rejected.ndjson" || fail "service: dead-letter file unreadable"
echo "systemd unit: verified, ran, stopped cleanly; 50 invocations loaded"

# The dashboard's unit: verified, then its ExecStart run on a free loopback port with a token.
serve_unit=$work/edpipe-serve.service
sed -e "s#/usr/local/bin/edpipe#$edpipe#g" -e "s#/etc/edpipe/serve.env#$work/serve.env#g" \
    -e "s#/etc/edpipe/serve-token#$work/serve-token#g" -e "s#/etc/edpipe#$work#g" \
    "$src/samples/systemd/edpipe-serve.service" > "$serve_unit"
touch "$work/serve.env"
out=$(systemd-analyze verify "$serve_unit" 2>&1 | grep -v -e "User=edpipe" -e "Group=edpipe" -e "^$" || true)
[ -z "$out" ] || fail "systemd-analyze verify (serve): $out"
echo "0123456789abcdef0123456789abcdef" > "$work/serve-token"
serve_cmd=$(sed -n 's/^ExecStart=//p' "$serve_unit" | sed -e 's#0.0.0.0:8080#127.0.0.2:0#')
eval "exec $serve_cmd" >"$work/serve.out" 2>&1 &
spid=$!
for _ in $(seq 100); do grep -q "edpipe serve: http://" "$work/serve.out" && break; sleep 0.1; done
grep -q "(token required)" "$work/serve.out" || fail "serve unit: not started with its token: $(cat "$work/serve.out")"
kill -TERM $spid
wait $spid || fail "serve unit: edpipe did not exit 0 on SIGTERM: $(cat "$work/serve.out")"
echo "systemd unit (serve): verified, ran with its token, stopped cleanly"

# The prune service and its timer: verified, and the service's command run.
sed -e "s#/usr/local/bin/edpipe#$edpipe#g" -e "s#/etc/edpipe/prune.env#$work/prune.env#g" \
    "$src/samples/systemd/edpipe-prune.service" > "$work/edpipe-prune.service"
cp "$src/samples/systemd/edpipe-prune.timer" "$work/edpipe-prune.timer"
touch "$work/prune.env"
out=$(systemd-analyze verify "$work/edpipe-prune.service" "$work/edpipe-prune.timer" 2>&1 | grep -v -e "User=edpipe" -e "Group=edpipe" -e "^$" || true)
[ -z "$out" ] || fail "systemd-analyze verify (prune): $out"
prune_cmd=$(sed -n 's/^ExecStart=//p' "$work/edpipe-prune.service")
eval "$prune_cmd" >"$work/prune.out" 2>&1 || fail "prune unit: $(cat "$work/prune.out")"
grep -q "^edpipe prune: horizon" "$work/prune.out" || fail "prune unit: $(cat "$work/prune.out")"
echo "systemd units (prune, timer): verified, the service's command ran"

# --- cron ------------------------------------------------------------------------------------
cron=$src/samples/cron/edpipe-replay
day=$(date -u -d yesterday +%Y-%m-%d)
mkdir -p "$work/archive/$day"
"$edpipe" gen --invocations 30 --seed 4 --gzip -o "$work/archive/$day" --prefix fn >/dev/null
line=$(grep -E '^[0-9*]' "$cron")
# Fields 1-5 are the schedule, 6 the user; cron turns \% into %.
cmd=$(echo "$line" | cut -d' ' -f7- | sed -e 's/\\%/%/g' \
      -e "s#/srv/archive/event-detector#$work/archive#g" -e "s#/var/lib/edpipe#$work/lib/edpipe#g")
for run in 1 2; do  # twice: the second replay changes nothing
  sh -c "PATH=$(dirname "$edpipe"):\$PATH; $cmd" || fail "cron command failed: $(cat "$work/lib/edpipe/replay.err")"
done
[ "$(wc -l < "$work/lib/edpipe/replay.jsonl")" = 2 ] || fail "cron: expected two JSON summaries"
[ "$(count 'SELECT count(*) FROM invocations')" = 80 ] || fail "cron: expected 80 invocations"
"$edpipe" verify >/dev/null || fail "verify after the replays"
echo "cron line: ran twice; 30 invocations replayed, nothing doubled; verify clean"
