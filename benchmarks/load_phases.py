#!/usr/bin/env python3
"""Where one `edpipe load` spends its time, lane by lane, by the server's own log.

    benchmarks/load_phases.py CORPUS [--edpipe build/cli/edpipe] [--top 12]

Starts a throwaway durable server (scripts/pg, fsync and full_page_writes on) that logs every
statement with its duration (parameters left out: a batch's arrays of ids would cost more to
log than to run), migrates a fresh database, loads CORPUS once and cuts each lane's session
into its phases by the log's timestamps:
  open        connecting, the loader mark, the schema check
  partitions  making a new day's partitions, or waiting for the lane that makes them
  before      the batch's statements before its COPYs (shard locks, lookups of stored ids;
              the run's summary at the end counts here too)
  copy        the COPYs
  serial      from the watermark's lock to the commit: its statements, the client's time
              between them, and the commit (the other lanes wait for this part)
Then the statements with the most server time in the serial end and before the COPYs. Every
run is bounded: the load by a timeout, the server stopped at the end.
"""
import argparse
import collections
import datetime
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOAD_TIMEOUT_S = 1800

ENTRY = re.compile(r"^(\S+ \S+) UTC \[(\d+)\] LOG:  duration: ([0-9.]+) ms  (statement|execute|bind|parse)[^:]*: (.*)$", re.S)


def entries(log_path):
    """The log's entries, continuation lines joined."""
    cur = None
    with open(log_path, errors="replace") as f:
        for line in f:
            if re.match(r"^\d{4}-\d\d-\d\d ", line):
                if cur:
                    yield cur
                cur = line.rstrip("\n")
            elif cur is not None:
                cur += " " + line.strip()
    if cur:
        yield cur


def phases(log_path, top):
    per_pid = collections.defaultdict(list)
    for e in entries(log_path):
        m = ENTRY.match(e)
        if not m:
            continue
        end = datetime.datetime.fromisoformat(m.group(1)).timestamp() * 1000
        per_pid[m.group(2)].append((end, float(m.group(3)), re.sub(r"\s+", " ", m.group(5)).strip()))
    statements = {"serial": collections.Counter(), "before": collections.Counter()}
    calls = {"serial": collections.Counter(), "before": collections.Counter()}
    lanes = 0
    load_pids = [pid for pid, st in per_pid.items() if any(q.startswith("COPY") for _, _, q in st)]
    t0 = min(per_pid[pid][0][0] - per_pid[pid][0][1] for pid in load_pids) if load_pids else 0.0
    for pid, st in sorted(per_pid.items()):
        if not any(q.startswith("COPY") for _, _, q in st):
            continue  # the summary's and the migration's sessions
        lanes += 1
        t = collections.Counter()
        state, last = "open", None
        for end, ms, q in st:
            gap = max(0.0, end - ms - last) if last is not None else 0.0
            if q.startswith("COPY"):
                state = "copy"
            elif "edpipe_watermark AS w" in q:
                state = "serial"
            elif "edpipe_add_day_partitions" in q or "pg_advisory_xact_lock(7321004" in q:
                state = "partitions"
            elif state in ("copy", "partitions") and q.startswith("SELECT 1, pg_advisory_xact_lock"):
                state = "before"
            elif state == "open" and q.startswith("SELECT 1, pg_advisory_xact_lock"):
                state = "before"
            if q.startswith("COMMIT") and state == "serial":
                t["serial: commit"] += ms
                state = "before"
            elif state == "serial":
                t["serial: statements"] += ms
                t["serial: client between"] += gap
                statements["serial"][q[:70]] += ms
                calls["serial"][q[:70]] += 1
            else:
                t[state] += ms
                if state == "before":
                    statements["before"][q[:70]] += ms
                    calls["before"][q[:70]] += 1
            last = end
        span = st[-1][0] - (st[0][0] - st[0][1])
        first = lambda pred: next((end - ms - t0 for end, ms, q in st if pred(q)), float("nan"))
        print(f"lane {lanes} (pid {pid}): session {span:.0f} ms; from the first lane's start: partitions at "
              f"{first(lambda q: 'edpipe_add_day_partitions' in q or 'pg_advisory_xact_lock(7321004' in q):.0f} ms, "
              f"first COPY at {first(lambda q: q.startswith('COPY')):.0f} ms")
        for k in ("open", "partitions", "before", "copy", "serial: statements", "serial: client between", "serial: commit"):
            print(f"  {k:24} {t[k]:8.1f} ms")
    for part in ("serial", "before"):
        print(f"\nserver time in the {part} part, all lanes (ms, calls counting parse/bind/execute apart):")
        for q, ms in statements[part].most_common(top):
            print(f"  {ms:8.1f} {calls[part][q]:5d}  {q}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("--edpipe", default=os.path.join(ROOT, "build", "cli", "edpipe"))
    ap.add_argument("--top", type=int, default=12)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="edpipe-phases-")
    os.chmod(work, 0o755)  # the server may run as another OS user (scripts/pg)
    pgdir = os.path.join(work, "pg")
    env = dict(os.environ, EDPIPE_PG_OPTIONS="-c fsync=on -c full_page_writes=on -c log_min_duration_statement=0 "
               "-c log_parameter_max_length=0 -c log_line_prefix='%m [%p] '")
    try:
        line = subprocess.run([f"{ROOT}/scripts/pg", "start", pgdir], env=env, check=True, capture_output=True,
                              text=True, timeout=120).stdout.strip()
        for kv in line.split():
            k, v = kv.split("=", 1)
            env[k] = v
        subprocess.run(f"createdb phases && {a.edpipe} migrate up --db dbname=phases", shell=True, env=env, check=True,
                       capture_output=True, timeout=300)
        log = os.path.join(pgdir, "server.log")
        start = os.path.getsize(log)
        subprocess.run([a.edpipe, "load", "--quiet", "--db", "dbname=phases", a.corpus], env=env, check=True,
                       stdout=subprocess.DEVNULL, timeout=LOAD_TIMEOUT_S)
        cut = os.path.join(work, "load.log")
        with open(log, "rb") as f, open(cut, "wb") as out:
            f.seek(start)
            out.write(f.read())
        phases(cut, a.top)
    finally:
        subprocess.run([f"{ROOT}/scripts/pg", "stop", pgdir], capture_output=True, timeout=120)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
