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
cannot pass. Then `edpipe serve` on each target's loaded database: the invocation page of the
50 invocations with the most jobs, and the overview, invocations, jobs and events pages over
24 hours, 20 times each (one client): p50 and p95 per page.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

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


def page_times(db, pages, repeat):
    """`edpipe serve` on db: each page's p50 and p95 (ms) over `repeat` gets of each path."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([EDPIPE, "serve", "--listen", f"127.0.0.1:{port}", "--db", db],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/static/app.js", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        out = {}
        for name, paths in pages.items():
            times = []
            for _ in range(repeat):
                for path in paths:
                    t = time.perf_counter()
                    r = urllib.request.urlopen(base + path, timeout=30)
                    r.read()
                    if r.status != 200:
                        sys.exit(f"{path}: {r.status}")
                    times.append((time.perf_counter() - t) * 1000)
            times.sort()
            out[name] = (statistics.median(times), times[int(0.95 * (len(times) - 1))])
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)


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
        ids = sh(f"psql -XAt -d '{targets['plain']}' -c "
                 f"\"SELECT id FROM invocations ORDER BY total_jobs_run DESC, id LIMIT 50\"").split()
        pages = {"invocation (50 ids)": [f"/invocation/{i}" for i in ids], "overview 24h": ["/?range=24h"],
                 "invocations 24h": ["/invocations?range=24h"], "jobs 24h": ["/jobs?range=24h"],
                 "events 24h": ["/events?range=24h"]}
        served = {target: page_times(db, pages, 20) for target, db in targets.items()}
        print(f"{a.invocations} invocations, {rows} rows; median of {a.rounds} rounds, alternating")
        print(f"{'':8} {'plain s':>9} {'citus s':>9} {'citus/plain':>12} {'citus rows/s':>13}")
        for kind in ("fresh", "replay"):
            p = statistics.median(times[("plain", kind)])
            c = statistics.median(times[("citus", kind)])
            print(f"{kind:8} {p:9.2f} {c:9.2f} {c / p:11.2f}× {rows / c:13,.0f}")
        print(f"\n{'page':22} {'plain p50':>10} {'p95':>7} {'citus p50':>10} {'p95':>7}  (ms)")
        for name in pages:
            (pp50, pp95), (cp50, cp95) = served["plain"][name], served["citus"][name]
            print(f"{name:22} {pp50:10.1f} {pp95:7.1f} {cp50:10.1f} {cp95:7.1f}")
    finally:
        if not a.keep:
            sh(f"'{ROOT}/scripts/pg' stop '{plain_dir}'; '{ROOT}/scripts/citus' stop '{citus_dir}'")
            shutil.rmtree(corpus, ignore_errors=True)
            shutil.rmtree(plain_dir, ignore_errors=True)
            shutil.rmtree(citus_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
