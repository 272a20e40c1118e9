#!/usr/bin/env python3
"""Drives `edpipe serve` with concurrent clients and prints each page's latency.

    scripts/build && benchmarks/explain_queries.sh && benchmarks/serve_bench.py [--clients 4] [--rounds 20]
    benchmarks/explain_queries.sh 1000000 && benchmarks/serve_bench.py --invocations 1000000

Uses the database of --invocations (default 100k) that benchmarks/explain_queries.sh leaves in
build/bench-explain/pg (build/bench-explain-N/pg for another N; started here, stopped at the end). Every page of the dashboard is asked
--rounds times by each of --clients threads on loopback (bounded: at most 50 clients and 1000
rounds); the figures are the client-observed times, which on loopback are the server's time.
"""
import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.environ.get("EDPIPE_BUILD_DIR", os.path.join(root, "build"))
edpipe = os.path.join(build, "cli", "edpipe")


def psql(env, sql):
    return subprocess.check_output(["psql", "-X", "-Atc", sql], env=env, text=True).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--port", type=int, default=18765)
    ap.add_argument("--invocations", type=int, default=100000)
    a = ap.parse_args()
    pgdir = os.path.join(build, "bench-explain" if a.invocations == 100000 else f"bench-explain-{a.invocations}", "pg")
    clients, rounds = max(1, min(a.clients, 50)), max(1, min(a.rounds, 1000))
    if not os.path.isdir(pgdir):
        sys.exit("serve_bench: run benchmarks/explain_queries.sh first (it loads the 100k database)")
    out = subprocess.check_output([os.path.join(root, "scripts", "pg"), "start", pgdir], text=True)
    env = dict(os.environ)
    for kv in out.split():
        k, _, v = kv.partition("=")
        env[k] = v
    server = None
    try:
        inv = psql(env, "SELECT id FROM invocations WHERE total_jobs_run > 2 ORDER BY created_at DESC LIMIT 1")
        corr = psql(env, "SELECT correlation_id FROM invocations WHERE correlation_id IS NOT NULL ORDER BY created_at DESC LIMIT 1")
        email = psql(env, "SELECT source_user_email FROM invocations WHERE source_user_email IS NOT NULL ORDER BY created_at DESC LIMIT 1")
        job = psql(env, "SELECT job_name FROM job_executions ORDER BY created_at DESC LIMIT 1")
        event = psql(env, "SELECT event_name FROM event_executions WHERE detected ORDER BY created_at DESC LIMIT 1")
        fn = psql(env, "SELECT source_function FROM invocations ORDER BY created_at DESC LIMIT 1")
        server = subprocess.Popen([edpipe, "serve", "--listen", f"127.0.0.1:{a.port}"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{a.port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/static/app.js", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        q = urllib.parse.quote
        pages = {
            "overview 24h": "/?range=24h",
            "overview 7d": "/?range=7d",
            "invocations 24h": "/invocations?range=24h",
            "invocations failed": "/invocations?range=24h&status=failed",
            "invocations page 2": None,  # filled below from the first page's cursor
            "search correlation id": "/invocations?range=7d&q=" + q(corr),
            "search e-mail": "/invocations?range=7d&q=" + q(email),
            "search event name": "/invocations?range=24h&q=" + q(event),
            "search job name": "/invocations?range=24h&q=" + q(job),
            "search function": "/invocations?range=24h&q=" + q(fn),
            "search error text": "/invocations?range=24h&q=timeout",
            "invocation": "/invocation/" + inv,
            "jobs (24h, the default)": "/jobs",
            "events (24h, the default)": "/events",
            "jobs 1h": "/jobs?range=1h",
            "events 24h": "/events?range=24h",
            "jobs 7d": "/jobs?range=7d",
            "events 7d": "/events?range=7d",
            "errors 1h": "/errors?range=1h",
            "errors 24h": "/errors?range=24h",
            "analytics 1h": "/analytics?range=1h",
            "analytics 24h": "/analytics?range=24h",
            "invocations by duration": "/invocations?range=24h&sort=duration",
            "invocations table and operation": "/invocations?range=24h&table=moves&operation=UPDATE",
        }
        first = urllib.request.urlopen(base + pages["invocations 24h"], timeout=30).read().decode()
        at = first.find("before=")
        pages["invocations page 2"] = "/invocations?range=24h&" + first[at:first.find('"', at)].replace("&amp;", "&")
        times = {name: [] for name in pages}
        errors = []

        def worker():
            for _ in range(rounds):
                for name, path in pages.items():
                    t = time.perf_counter()
                    try:
                        r = urllib.request.urlopen(base + path, timeout=30)
                        r.read()
                        if r.status != 200:
                            errors.append(f"{name}: {r.status}")
                    except Exception as e:  # noqa: BLE001 - reported, not fatal
                        errors.append(f"{name}: {e}")
                    times[name].append((time.perf_counter() - t) * 1000)

        threads = [threading.Thread(target=worker) for _ in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        total = sum(len(v) for v in times.values())
        print(f"{clients} clients x {rounds} rounds x {len(pages)} pages: {total} requests in {wall:.1f} s "
              f"({total / wall:.0f} pages/s), {len(errors)} errors")
        print(f"{'page':24} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for name, v in times.items():
            v.sort()
            print(f"{name:24} {statistics.median(v):8.1f} {v[int(0.95 * (len(v) - 1))]:8.1f} {v[-1]:8.1f}")
        for e in errors[:5]:
            print("error:", e)
    finally:
        if server:
            server.terminate()
            server.wait(timeout=10)
        subprocess.run([os.path.join(root, "scripts", "pg"), "stop", pgdir], stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
