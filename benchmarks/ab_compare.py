#!/usr/bin/env python3
"""Two edpipe builds side by side: the one before a change (A) and the one after (B).

    benchmarks/ab_compare.py --before A/edpipe --after build/cli/edpipe \\
        [--dry-run CORPUS]... [--load CORPUS] [--rounds 3]

Runs alternate A, B, A, B, ... (a slow phase of this shared VM hits both alike). Every run is
timed by the kernel's own accounting of the child (wait4): wall time, CPU time (user + system)
and peak RSS. Prints each build's median and the ratio B / A.

  --dry-run CORPUS   `edpipe load --dry-run` on the file (repeatable): ingest, transform, tally
  --load CORPUS      `edpipe load` into a fresh database of a throwaway PostgreSQL (scripts/pg),
                     each run on a new database; edpipe's CPU is its own, the server's backends'
                     ("srv cpu") is what the postmaster reaped from them during the run
  --replay           with --load: load the corpus untimed first, then time the same load again
                     (every invocation stored: every batch merges, nothing is written)
  --pg-options OPTS  server options for that PostgreSQL, after scripts/pg's own (which turn
                     fsync off): "-c fsync=on -c full_page_writes=on" for a durable server
  --load-args ARGS   more arguments for both builds' `edpipe load` (e.g. "--batch-size 300")
  --after-sql SQL    with --load: SQL run on B's database after its `migrate up`, e.g. "DROP INDEX
                     job_executions_failed_idx" with the same build as A and B: what that index
                     costs a load

A copy of the build before a change: `git worktree add /tmp/before HEAD~1 && scripts/build`
there, or cp build/cli/edpipe aside before building the change.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_TIMEOUT_S = 3600  # a hung run must not hang the comparison


def run(cmd, env=None):
    """Runs cmd; returns (wall s, cpu s, peak RSS MiB) of the child itself."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = t + RUN_TIMEOUT_S
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            p.kill()
            sys.exit(f"timed out after {RUN_TIMEOUT_S} s: {' '.join(cmd)}")
        time.sleep(0.01)
    wall = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    if code != 0:
        sys.exit(f"failed ({code}): {' '.join(cmd)}\n{err}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def sh(cmd, env=None):
    r = subprocess.run(cmd, shell=True, env=env, text=True, capture_output=True, timeout=600)
    if r.returncode != 0:
        sys.exit(f"failed: {cmd}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def server_cpu(pgdir):
    """CPU seconds of the server's ended children (its backends): the postmaster's cutime + cstime."""
    with open(os.path.join(pgdir, "data", "postmaster.pid")) as f:
        pid = f.readline().strip()
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def timed_load(cmd, env, pgdir):
    """run(cmd) and the CPU its server backends spent, once they have ended and been reaped."""
    before = server_cpu(pgdir)
    wall, cpu, rss = run(cmd, env)
    time.sleep(0.2)
    return wall, cpu, rss, server_cpu(pgdir) - before


def report(title, mb, results):
    print(f"\n{title} ({mb:.0f} MB)")
    server = len(results["before"][0]) > 3
    print(f"  {'':8} {'wall s':>8} {'cpu s':>8} {'MB/s':>8} {'RSS MiB':>8}" + (f" {'srv cpu':>8}" if server else "")
          + "   runs (wall)")
    med = {}
    for name in ("before", "after"):
        rs = results[name]
        m = tuple(statistics.median(r[i] for r in rs) for i in range(len(rs[0])))
        med[name] = m
        walls = " ".join(f"{r[0]:.2f}" for r in rs)
        print(f"  {name:8} {m[0]:8.2f} {m[1]:8.2f} {mb / m[0]:8.0f} {m[2]:8.0f}" + (f" {m[3]:8.2f}" if server else "")
              + f"   {walls}")
    a, b = med["before"], med["after"]
    print(f"  {'after/before':8} {b[0] / a[0]:8.2f} {b[1] / a[1]:8.2f} {'':8} {b[2] / a[2]:8.2f}"
          + (f" {b[3] / a[3]:8.2f}" if server else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", default=os.path.join(ROOT, "build", "cli", "edpipe"))
    ap.add_argument("--dry-run", action="append", default=[], metavar="CORPUS")
    ap.add_argument("--load", metavar="CORPUS")
    ap.add_argument("--replay", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pg-options", default="")
    ap.add_argument("--load-args", default="")
    ap.add_argument("--after-sql", default="")
    a = ap.parse_args()
    if not 1 <= a.rounds <= 10:
        sys.exit("--rounds: 1 to 10")
    builds = {"before": a.before, "after": a.after}

    for corpus in a.dry_run:
        results = {"before": [], "after": []}
        for _ in range(a.rounds):
            for name, exe in builds.items():
                results[name].append(run([exe, "load", "--dry-run", "--quiet", "--progress", "never", corpus]))
        report(f"load --dry-run {corpus}", os.path.getsize(corpus) / 1e6, results)

    if a.load:
        work = tempfile.mkdtemp(prefix="edpipe-ab-")
        os.chmod(work, 0o755)  # the server may run as another OS user (scripts/pg)
        pgdir = os.path.join(work, "pg")
        env = dict(os.environ)
        env["EDPIPE_PG_OPTIONS"] = a.pg_options
        env_line = sh(f"{ROOT}/scripts/pg fresh {pgdir}", env).strip()
        env.update(kv.split("=", 1) for kv in env_line.split())
        env.pop("DATABASE_URL", None)
        try:
            results = {"before": [], "after": []}
            for _ in range(a.rounds):
                for name, exe in builds.items():
                    sh(f"dropdb --if-exists ab && createdb ab && {exe} migrate up --db dbname=ab", env)
                    if name == "after" and a.after_sql:
                        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "ab", "-c", a.after_sql],
                                       env=env, check=True, timeout=60)
                    load = [exe, "load", "--quiet", "--progress", "never", "--db", "dbname=ab", *a.load_args.split(), a.load]
                    if a.replay:
                        run(load, env)
                    sh("psql -X -q -d ab -c CHECKPOINT", env)
                    results[name].append(timed_load(load, env, pgdir))
                    sh(f"{exe} verify --db dbname=ab", env)
            report(f"{'replay' if a.replay else 'load'} into PostgreSQL {a.load} {a.load_args} (server: {a.pg_options or 'fsync off'})"
                   + (f"; B after: {a.after_sql}" if a.after_sql else ""), os.path.getsize(a.load) / 1e6, results)
        finally:
            sh(f"{ROOT}/scripts/pg stop {pgdir}")
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
