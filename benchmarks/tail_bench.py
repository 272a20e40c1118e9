#!/usr/bin/env python3
"""Tail benchmarks: how soon an appended line is in the database, and memory over a long tail.

    scripts/build && benchmarks/tail_bench.py latency [--samples 20] [--flush-interval 5s]
    scripts/build && benchmarks/tail_bench.py soak [--gigabytes 2.1] [--rotate-mb 200]

latency  `edpipe tail` follows a file with the default flush interval; an invocation.start line
         is appended at random moments and the database is polled every 10 ms until its row is
         there. Prints each delay and min / median / max against the target, flush interval + 1 s.
soak     a writer appends generated corpora (a new seed per chunk, ~215 MB each) to app.log at
         --write-mbps and rotates it by rename every --rotate-mb, keeping three rotated files
         (logrotate's `rotate 3`), until --gigabytes have gone by; `edpipe tail` follows app.log into the database. VmRSS of the tail is sampled
         twice a second; prints RSS at each tenth of the run, the peak (VmHWM), throughput, and
         checks the rows against the corpora (`edpipe verify`).
Each run uses a throwaway PostgreSQL (scripts/pg) in the build folder.
"""
import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("EDPIPE_BUILD_DIR", os.path.join(ROOT, "build"))
EDPIPE = os.path.join(BUILD, "cli", "edpipe")


def sh(cmd, env, capture=True):
    r = subprocess.run(cmd, shell=True, env=env, text=True, capture_output=capture)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {cmd}\n{r.stderr}")
    return r.stdout


def start_pg(name):
    pgdir = os.path.join(BUILD, name)
    env_line = sh(f"{ROOT}/scripts/pg fresh {pgdir}", dict(os.environ)).strip()
    env = dict(os.environ)
    env.update(kv.split("=", 1) for kv in env_line.split())
    env.pop("DATABASE_URL", None)
    sh(f"{EDPIPE} migrate up", env)
    return pgdir, env


def psql(env, sql):
    return sh(f"psql -X -Atq -c \"{sql}\"", env).strip()


def rss_kb(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return None


def latency(args):
    pgdir, env = start_pg("bench-pg-tail-latency")
    work = os.path.join(BUILD, "bench-tail-latency")
    os.makedirs(work, exist_ok=True)
    log = os.path.join(work, "app.log")
    open(log, "w").close()
    tail = subprocess.Popen([EDPIPE, "tail", "-q", "--progress", "never", "--flush-interval", args.flush_interval, log],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    delays = []
    try:
        time.sleep(1)
        for i in range(args.samples):
            time.sleep(random.uniform(0.1, 3.0))
            inv = str(uuid.uuid4())
            line = ('{"type":"invocation.start","ts":"2026-11-20T10:00:00.000Z","invocation_id":"%s",'
                    '"source_function":"latency-probe"}\n' % inv)
            with open(log, "a") as f:
                f.write(line)
            t0 = time.monotonic()
            while psql(env, f"SELECT count(*) FROM invocations WHERE id = '{inv}'") != "1":
                time.sleep(0.01)
            delays.append(time.monotonic() - t0)
            print(f"  sample {i + 1:2d}: {delays[-1]:.2f} s", flush=True)
    finally:
        tail.send_signal(signal.SIGTERM)
        tail.wait()
        sh(f"{ROOT}/scripts/pg stop {pgdir}", dict(os.environ))
    flush_s = int(args.flush_interval.rstrip("s"))
    print(f"\nlatency over {len(delays)} lines (flush interval {args.flush_interval}): min {min(delays):.2f} s, "
          f"median {statistics.median(delays):.2f} s, max {max(delays):.2f} s; "
          f"target <= {flush_s + 1} s: {'met' if max(delays) <= flush_s + 1 else 'NOT met'}")


def soak(args):
    pgdir, env = start_pg("bench-pg-tail-soak")
    corpus = os.path.join(BUILD, "bench-soak-corpus")
    live = os.path.join(BUILD, "bench-soak-live")
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(live, exist_ok=True)
    for f in os.listdir(live):
        os.remove(os.path.join(live, f))
    chunks, total = [], 0
    seed = 100
    while total < args.gigabytes * 1e9:
        path = os.path.join(corpus, f"chunk{seed}-0001.ndjson")
        if not os.path.exists(path):
            # A new seed and a new day per chunk: different ids, hours spread out.
            day = 1 + (seed - 100)
            sh(f"{EDPIPE} gen --invocations 20000 --seed {seed} --start 2026-10-{day:02d}T00:00:00Z "
               f"-o {corpus} --prefix chunk{seed}", env)
        chunks.append(path)
        total += os.path.getsize(path)
        seed += 1
    print(f"corpus: {len(chunks)} chunks, {total / 1e9:.2f} GB", flush=True)

    log = os.path.join(live, "app.log")
    open(log, "w").close()
    tail = subprocess.Popen([EDPIPE, "tail", "-q", "--progress", "never", "--rotate-wait", "2s", log],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    samples = []  # (seconds, bytes written, rss kB)
    t0 = time.monotonic()
    written, since_rotate, rotations = 0, 0, 0
    rotate_bytes = args.rotate_mb * 1_000_000
    try:
        for path in chunks:
            with open(path, "rb") as src:
                while True:
                    block = src.read(8 << 20)
                    if not block:
                        break
                    with open(log, "ab") as out:
                        out.write(block)
                    written += len(block)
                    since_rotate += len(block)
                    # Rotate on a line boundary, as a logger would; the oldest of three goes.
                    if since_rotate >= rotate_bytes and block.endswith(b"\n"):
                        for k in (3, 2, 1):
                            src_name = log + (f".{k - 1}" if k > 1 else "")
                            if k == 3 and os.path.exists(log + ".3"):
                                os.remove(log + ".3")
                            if os.path.exists(src_name):
                                os.rename(src_name, log + f".{k}")
                        open(log, "w").close()
                        since_rotate = 0
                        rotations += 1
                    samples.append((time.monotonic() - t0, written, rss_kb(tail.pid)))
                    # A writer at a steady pace, not a burst of the whole corpus into the page cache.
                    time.sleep(len(block) / (args.write_mbps * 1e6))
        expected = 20000 * len(chunks)
        deadline = time.monotonic() + 600
        while int(psql(env, "SELECT count(*) FROM invocations")) < expected:
            if time.monotonic() > deadline:
                sys.exit(f"the tail did not catch up: {psql(env, 'SELECT count(*) FROM invocations')} of {expected}")
            samples.append((time.monotonic() - t0, written, rss_kb(tail.pid)))
            time.sleep(0.5)
        elapsed = time.monotonic() - t0
        hwm = rss_kb(tail.pid, "VmHWM")
    finally:
        tail.send_signal(signal.SIGTERM)
        tail.wait()
    sh(f"{EDPIPE} verify", env)
    invocations = int(psql(env, "SELECT count(*) FROM invocations"))
    sh(f"{ROOT}/scripts/pg stop {pgdir}", dict(os.environ))

    print(f"\ntailed {written / 1e9:.2f} GB through {rotations} rotations in {elapsed:.0f} s "
          f"({written / 1e6 / elapsed:.0f} MB/s end to end into PostgreSQL); {invocations} invocations, verify clean")
    print("RSS of edpipe tail at each tenth of the run:")
    rss = [s for s in samples if s[2] is not None]
    for k in range(1, 11):
        s = rss[min(len(rss) - 1, k * len(rss) // 10 - 1)]
        print(f"  {k * 10:3d}%  t={s[0]:6.1f} s  written {s[1] / 1e9:5.2f} GB  RSS {s[2] / 1024:6.1f} MiB")
    values = [s[2] for s in rss]
    print(f"RSS min {min(values) / 1024:.1f} MiB, median {statistics.median(values) / 1024:.1f} MiB, "
          f"max {max(values) / 1024:.1f} MiB; peak (VmHWM) {hwm / 1024:.1f} MiB")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    lat = sub.add_parser("latency")
    lat.add_argument("--samples", type=int, default=20)
    lat.add_argument("--flush-interval", default="5s")
    so = sub.add_parser("soak")
    so.add_argument("--gigabytes", type=float, default=2.1)
    so.add_argument("--rotate-mb", type=int, default=200)
    so.add_argument("--write-mbps", type=float, default=40, help="the writer's pace, MB/s")
    args = ap.parse_args()
    latency(args) if args.what == "latency" else soak(args)


if __name__ == "__main__":
    main()
