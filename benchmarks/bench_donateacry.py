"""Benchmark: the full Donateacry feature-credibility run, timed cold and warm, then the
permutation test.

Runs ``cryvideo benchmark donateacry`` in fresh processes on the whole corpus (both protocols,
every class set, every registered model on MFCC and STFT): first the table without the
permutation test with an empty feature cache (cold), then again with the cache it filled
(warm), then the full run with ``--permutations N`` (the max-statistic test, which refits every
model/feature pair N times per class set). Records wall time and CPU time (the child process
and its ffmpeg children) of each, the machine and its load, and keeps the report of the full
run in ``benchmarks/results/donateacry/``. The timing goes to
``benchmarks/results/donateacry_timing.{json,md}``.

Usage::

    python benchmarks/bench_donateacry.py [--data ../shared/data/donateacry] [--permutations 499]
        [-- EXTRA CLI ARGS]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryvideo.io import write_json_atomic, write_text_atomic  # noqa: E402
from cryvideo.machine import machine  # noqa: E402
from cryvideo.testing.measure import children_cpu_seconds  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
LIMITS = {"cold": 300.0, "warm": 60.0}  # seconds, from the definition of done (table
# without the permutation test)


def timed_run(cmd: list[str], env: dict) -> dict:
    """Run ``cmd``; wall time, CPU time of the children, load before/after."""
    before = children_cpu_seconds()
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    cpu = children_cpu_seconds() - before
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark command failed with exit code {proc.returncode}")
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "load_1min_before": round(load0, 2), "load_1min_after": round(os.getloadavg()[0], 2),
            "summary_line": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "donateacry"))
    ap.add_argument("--out", default=str(RESULTS / "donateacry"))
    ap.add_argument("--permutations", type=int, default=499,
                    help="permutations of the full run (default: 499)")
    ap.add_argument("extra", nargs="*", help="extra arguments for the CLI (after --)")
    args = ap.parse_args(argv)

    cache = Path(tempfile.mkdtemp(prefix="cryvideo-bench-cache-"))
    scratch = Path(tempfile.mkdtemp(prefix="cryvideo-bench-out-"))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    base = [sys.executable, "-m", "cryvideo", "benchmark", "donateacry", args.data,
            "--cache-dir", str(cache)]
    ae_dnn = RESULTS / "ae_dnn" / "ae_dnn_donateacry.json"
    if ae_dnn.is_file():  # the AE+DNN branches' own run, as rows of the same table
        from cryvideo.errors import CryVideoError
        from cryvideo.studies.donateacry_report import load_ae_dnn_rows

        try:
            load_ae_dnn_rows(ae_dnn)
            base += ["--ae-dnn-results", str(ae_dnn)]
        except CryVideoError as exc:  # e.g. an older format: the table goes without them
            print(f"AE+DNN rows left out: {exc}", file=sys.stderr)
    base += args.extra
    timing_cmd = base + ["--out", str(scratch), "--permutations", "0"]
    cmd = base + ["--out", args.out, "--permutations", str(args.permutations)]
    try:
        runs = {}
        for phase in ("cold", "warm", "full"):
            print(f"{phase} run ...", file=sys.stderr, flush=True)
            runs[phase] = timed_run(cmd if phase == "full" else timing_cmd, env)
            runs[phase]["limit_s"] = LIMITS.get(phase)
            print(f"  {runs[phase]}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)

    info = {
        "benchmark": "donateacry full run, cold then warm feature cache",
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["cryvideo", *cmd[3:]]).replace(str(cache), "<fresh temp dir>"),
        "timing_command": " ".join(["cryvideo", *timing_cmd[3:]]).replace(
            str(cache), "<fresh temp dir>").replace(str(scratch), "<temp dir>"),
        "machine": machine(),
        "runs": runs,
    }
    write_json_atomic(RESULTS / "donateacry_timing.json", info)
    m = info["machine"]
    lines = [
        "# Donateacry benchmark: run time, cold and warm feature cache", "",
        "`python benchmarks/bench_donateacry.py` — both protocols, every class set (paper4, "
        "paper4h, all5), 6 classifiers x 2 features. *cold* and *warm*: the table without "
        "the permutation test (`--permutations 0`), with an empty and then a filled feature "
        f"cache; *full*: with the max-statistic permutation test ({args.permutations} "
        "permutations per class set, every model/feature pair refitted each time), warm "
        "cache; its report is the committed one.", "",
        f"Machine: {m['cpu']}, {m['cores']} cores, shared with other users "
        "(load average shown); date (UTC) " + info["date_utc"] + ".", "",
        "| run | wall time | CPU time | limit (wall) | load before → after |",
        "|---|---|---|---|---|",
    ]
    for phase, r in runs.items():
        limit = "—" if r["limit_s"] is None else f"{r['limit_s']:.0f} s"
        lines.append(f"| {phase} | {r['wall_s']} s | {r['cpu_s']} s | {limit} | "
                     f"{r['load_1min_before']} → {r['load_1min_after']} |")
    lines += ["", "CPU time is that of the benchmark process and its ffmpeg children; on a "
              "machine shared with other jobs wall time is inflated by the load, CPU time is "
              "not (the run is single-threaded by design: BLAS and TensorFlow are limited to "
              "one thread).", ""]
    write_text_atomic(RESULTS / "donateacry_timing.md", "\n".join(lines))
    print(RESULTS / "donateacry_timing.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
