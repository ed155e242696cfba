"""Benchmark: the full Donateacry feature-credibility run, timed cold and warm.

Runs ``cryvideo benchmark donateacry`` twice in fresh processes on the whole corpus (both
protocols, both class sets, every registered model on MFCC and STFT): first with an empty
feature cache (cold), then again with the cache it filled (warm). Records wall time and CPU
time (the child process and its ffmpeg children) of each, the machine and its load, and keeps
the report of the run in ``benchmarks/results/donateacry/``. The timing goes to
``benchmarks/results/donateacry_timing.{json,md}``.

Usage::

    python benchmarks/bench_donateacry.py [--data ../shared/data/donateacry] [-- EXTRA CLI ARGS]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryvideo.io import write_json_atomic, write_text_atomic  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
LIMITS = {"cold": 300.0, "warm": 60.0}  # seconds, from the definition of done


def machine() -> dict:
    """Where the numbers come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version()}


def timed_run(cmd: list[str], env: dict) -> dict:
    """Run ``cmd``; wall time, CPU time of the children, load before/after."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark command failed with exit code {proc.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "load_1min_before": round(load0, 2), "load_1min_after": round(os.getloadavg()[0], 2),
            "summary_line": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "donateacry"))
    ap.add_argument("--out", default=str(RESULTS / "donateacry"))
    ap.add_argument("extra", nargs="*", help="extra arguments for the CLI (after --)")
    args = ap.parse_args(argv)

    cache = Path(tempfile.mkdtemp(prefix="cryvideo-bench-cache-"))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    cmd = [sys.executable, "-m", "cryvideo", "benchmark", "donateacry", args.data,
           "--out", args.out, "--cache-dir", str(cache)]
    ae_dnn = RESULTS / "ae_dnn" / "ae_dnn_donateacry.json"
    if ae_dnn.is_file():  # the AE+DNN branches' own run, as rows of the same table
        cmd += ["--ae-dnn-results", str(ae_dnn)]
    cmd += args.extra
    try:
        runs = {}
        for phase in ("cold", "warm"):
            print(f"{phase} run ...", file=sys.stderr, flush=True)
            runs[phase] = timed_run(cmd, env)
            runs[phase]["limit_s"] = LIMITS[phase]
            print(f"  {runs[phase]}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    info = {
        "benchmark": "donateacry full run, cold then warm feature cache",
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["cryvideo", *cmd[3:]]).replace(str(cache), "<fresh temp dir>"),
        "machine": machine(),
        "runs": runs,
    }
    write_json_atomic(RESULTS / "donateacry_timing.json", info)
    m = info["machine"]
    lines = [
        "# Donateacry benchmark: run time, cold and warm feature cache", "",
        "`python benchmarks/bench_donateacry.py` — full run: both protocols, both class "
        "sets (paper4, all5), 6 classifiers x 2 features, permutation test.", "",
        f"Machine: {m['cpu']}, {m['cores']} cores, shared with other users "
        "(load average shown); date (UTC) " + info["date_utc"] + ".", "",
        "| run | wall time | CPU time | limit (wall) | load before → after |",
        "|---|---|---|---|---|",
    ]
    for phase, r in runs.items():
        lines.append(f"| {phase} | {r['wall_s']} s | {r['cpu_s']} s | {r['limit_s']:.0f} s | "
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
