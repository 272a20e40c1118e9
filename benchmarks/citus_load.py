#!/usr/bin/env python3
"""edpipe on plain PostgreSQL and on Citus, side by side, on this machine.

    benchmarks/citus_load.py [--invocations 5000] [--rounds 3] [--keep]

One corpus (`edpipe gen`), two targets started here: a plain server (scripts/pg, in
build/bench-plain) and a Citus cluster of a coordinator and two workers (scripts/citus, in
build/bench-citus; `scripts/citus build` first). Both run with the same server options
(scripts/pg's: fsync off, a throwaway cluster), so the ratio is Citus's own cost. Each round,
alternating plain and Citus (a slow phase of this shared VM hits both alike):
  fresh    `edpipe load` into an emptied database (migrate down to 0, then up)
  replay   the same load again: every invocation is stored, every batch merges
Prints each target's median wall time and rows/s, and the ratio Citus / plain. Each run's
tables are checked against the other target's (row counts per table) so a fast wrong load
cannot pass.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EDPIPE = os.path.join(ROOT, "build", "cli", "edpipe")
RUN_TIMEOUT_S = 1800  # a hung run must not hang the benchmark
TABLES = ["invocations", "event_executions", "job_executions", "job_logs", "metrics_hourly"]


def sh(cmd, env=None, timeout=RUN_TIMEOUT_S):
    r = subprocess.run(cmd, shell=True, env=env, text=True, capture_output=True, timeout=timeout)
    if r.returncode != 0:
        sys.exit(f"failed: {cmd}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def conninfo(env_file):
    words = dict(w.split("=", 1) for w in open(env_file).read().split())
    return f"host={words['PGHOST']} port={words['PGPORT']} user={words['PGUSER']} dbname=edpipe"


def counts(db):
    sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in TABLES)
    return sorted(sh(f"psql -XAt -d '{db}' -c \"{sql}\"").split())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--invocations", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="leave both clusters and the corpus in place")
    a = ap.parse_args()
    if not 1 <= a.invocations <= 2_000_000 or not 1 <= a.rounds <= 20:
        sys.exit("--invocations 1..2000000, --rounds 1..20")

    plain_dir = os.path.join(ROOT, "build", "bench-plain")
    citus_dir = os.path.join(ROOT, "build", "bench-citus")
    corpus = tempfile.mkdtemp(prefix="edpipe-citus-bench-")
    sh(f"'{EDPIPE}' gen -o '{corpus}' --invocations {a.invocations} --files 4 --seed 61")
    sh(f"'{ROOT}/scripts/pg' fresh '{plain_dir}'")
    sh(f"'{ROOT}/scripts/citus' build && '{ROOT}/scripts/citus' fresh '{citus_dir}'")
    targets = {"plain": conninfo(os.path.join(plain_dir, "env")), "citus": conninfo(os.path.join(citus_dir, "env"))}
    times = {(t, k): [] for t in targets for k in ("fresh", "replay")}
    rows = 0
    try:
        for r in range(a.rounds):
            seen = {}
            for target, db in targets.items():
                if r > 0:  # emptied: every migration reverted, then applied again
                    applied = sh(f"'{EDPIPE}' migrate status --db '{db}'").count(" applied ")
                    sh(f"'{EDPIPE}' migrate down {applied} --yes --db '{db}'")
                sh(f"'{EDPIPE}' migrate up --db '{db}'")
                for kind in ("fresh", "replay"):
                    t = time.perf_counter()
                    out = sh(f"'{EDPIPE}' load --json --quiet --db '{db}' '{corpus}'")
                    times[(target, kind)].append(time.perf_counter() - t)
                    if kind == "fresh":
                        rows = sum(json.loads(out)["rows"].values())
                seen[target] = counts(db)
                print(f"round {r + 1} {target}: fresh {times[(target, 'fresh')][-1]:.2f} s, "
                      f"replay {times[(target, 'replay')][-1]:.2f} s", file=sys.stderr)
            if seen["plain"] != seen["citus"]:
                sys.exit(f"the tables differ:\nplain\n{seen['plain']}\ncitus\n{seen['citus']}")
        print(f"{a.invocations} invocations, {rows} rows; median of {a.rounds} rounds, alternating")
        print(f"{'':8} {'plain s':>9} {'citus s':>9} {'citus/plain':>12} {'citus rows/s':>13}")
        for kind in ("fresh", "replay"):
            p = statistics.median(times[("plain", kind)])
            c = statistics.median(times[("citus", kind)])
            print(f"{kind:8} {p:9.2f} {c:9.2f} {c / p:11.2f}× {rows / c:13,.0f}")
    finally:
        if not a.keep:
            sh(f"'{ROOT}/scripts/pg' stop '{plain_dir}'; '{ROOT}/scripts/citus' stop '{citus_dir}'")
            shutil.rmtree(corpus, ignore_errors=True)
            shutil.rmtree(plain_dir, ignore_errors=True)
            shutil.rmtree(citus_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
