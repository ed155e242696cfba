"""The HTML report of a 30-minute recording: its memory and time.

Builds a 30-minute Opus recording (16 kHz mono: low noise, babble-like tones, synthesized cries
of 15–70 s planted every few minutes; ``bench_day_long.make_recording``), then runs

- ``cryvideo predict --json FILE`` and ``cryvideo predict --json --report PAGE FILE``: wall
  time, CPU time (cryvideo and its ffmpeg children) and the peak memory of the process tree
  (:func:`cryvideo.testing.measure.run_measured`); the report's cost is the difference;
- the same prediction in one process, timing the report's two parts: reading the recording
  into the page-sized overview (the record's ``timings.report_audio``) and drawing the page
  (:func:`cryvideo.report.render_html`).

Usage::

    python benchmarks/bench_report.py [--minutes 30] [--keep DIR]

Writes ``benchmarks/results/report.json`` and ``report.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import RESULTS, loadavg, machine

#: What the report's part must stay under (issue 25), on a 30-minute file.
TARGET_MB, TARGET_SECONDS = 500, 10

CHILD = """
import json, resource, sys, time
from cryvideo.audio.overview import audio_overview
from cryvideo.media import iter_audio_blocks
from cryvideo.pipeline import Predictor
from cryvideo.report import render_html

def cpu():
    return sum(getattr(resource.getrusage(w), f) for w in (resource.RUSAGE_SELF,
               resource.RUSAGE_CHILDREN) for f in ("ru_utime", "ru_stime"))

res = Predictor(keep_artifacts=True).predict(sys.argv[1])
t0, c0 = time.perf_counter(), cpu()     # the overview predict made, made again and timed
ov = audio_overview(iter_audio_blocks(sys.argv[1], sr=8000, block_seconds=60.0))
t1, c1 = time.perf_counter(), cpu()
page = render_html(res)
t2, c2 = time.perf_counter(), cpu()
print(json.dumps({"overview_seconds": round(t1 - t0, 3), "overview_cpu_seconds": round(c1 - c0, 3),
                  "render_seconds": round(t2 - t1, 3), "render_cpu_seconds": round(c2 - c1, 3),
                  "page_bytes": len(page.encode()), "columns": int(ov.lo.size),
                  "column_seconds": ov.column_seconds, "segments": len(res.crying.segments)}))
"""


def plant_cries(minutes: float, seed: int = 0) -> list[tuple[float, float]]:
    """Cries of 15–70 s, one to five minutes apart, from 45 s on."""
    rng = np.random.default_rng(seed)
    out, t = [], 45.0
    while t < minutes * 60 - 120:
        d = float(rng.uniform(15, 70))
        out.append((round(t, 1), round(t + d, 1)))
        t += d + float(rng.uniform(60, 300))
    return out


def long_recording(path: Path, minutes: float) -> list[tuple[float, float]]:
    """Make the recording (unless it is there); returns the planted cries."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_day_long import make_recording

    cries = plant_cries(minutes)
    if not path.is_file():
        make_recording(path, minutes / 60, cries)
    return cries


def _measured(cmd: list[str], *, env: dict | None = None) -> dict:
    from cryvideo.testing.measure import run_measured

    m = run_measured(cmd, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {})),
                     timeout=3600, poll=0.1)
    if m.returncode != 0:
        raise SystemExit(f"failed ({m.returncode}): {' '.join(cmd)}\n{m.stderr[-2000:]}")
    rec = json.loads(m.stdout.strip().splitlines()[-1])
    top = sorted(m.process_peaks.values(), key=lambda cm: -cm[1])[:3]
    return {"seconds": m.seconds, "cpu_seconds": m.cpu_seconds,
            "peak_mb": m.peak_tree_rss_mb, "peak_python_mb": m.peak_rss_mb,
            "largest_processes": [[" ".join(c.split()[:4])[:80], mb] for c, mb in top],
            "timings": rec["timings"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--keep", metavar="DIR", default=None,
                    help="make the recording and the page in DIR and keep them")
    ap.add_argument("--compare", metavar="REPO", default=None,
                    help="also run `predict --report` with the cryvideo of another checkout "
                    "(e.g. the version before the report was pooled), for the record")
    args = ap.parse_args()
    py = sys.executable
    res: dict = {"machine": machine(frameworks=False), "load_before": loadavg(),
                 "minutes": args.minutes, "target_mb": TARGET_MB,
                 "target_seconds": TARGET_SECONDS}
    with tempfile.TemporaryDirectory() as d:
        where = Path(args.keep or d)
        where.mkdir(parents=True, exist_ok=True)
        rec = where / f"recording_{args.minutes:g}min.opus"
        t0 = time.perf_counter()
        res["planted"] = long_recording(rec, args.minutes)
        res["make_seconds"] = round(time.perf_counter() - t0, 1)
        res["file_mb"] = round(rec.stat().st_size / 2**20, 1)
        page = where / "report.html"
        res["predict"] = _measured([py, "-m", "cryvideo", "predict", "--json", str(rec)])
        print("predict", res["predict"], flush=True)
        res["predict_report"] = _measured([py, "-m", "cryvideo", "predict", "--json",
                                           "--report", str(page), str(rec)])
        res["page_bytes"] = page.stat().st_size
        print("predict --report", res["predict_report"], flush=True)
        out = subprocess.run([py, "-c", CHILD, str(rec)], capture_output=True, text=True,
                             check=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        res["parts"] = json.loads(out.stdout.strip().splitlines()[-1])
        print("parts", res["parts"], flush=True)
        if args.compare:
            other = Path(args.compare).resolve()
            commit = subprocess.run(["git", "-C", str(other), "rev-parse", "HEAD"],
                                    capture_output=True, text=True).stdout.strip()
            # -P: the other checkout's cryvideo, not the one in the current folder
            res["compared"] = {"repo": other.name, "commit": commit, **_measured(
                [py, "-P", "-m", "cryvideo", "predict", "--json", "--report",
                 str(where / "report_compared.html"), str(rec)],
                env={"PYTHONPATH": str(other)})}
            print("compared", res["compared"], flush=True)
    a, b = res["predict"], res["predict_report"]
    p = res["parts"]
    res["report"] = {"seconds": round(p["overview_seconds"] + p["render_seconds"], 1),
                     "cpu_seconds": round(p["overview_cpu_seconds"] + p["render_cpu_seconds"],
                                          1),
                     "extra_wall_seconds": round(b["seconds"] - a["seconds"], 1),
                     "extra_cpu_seconds": round(b["cpu_seconds"] - a["cpu_seconds"], 1),
                     "extra_peak_mb": round(b["peak_mb"] - a["peak_mb"], 1),
                     "peak_mb": b["peak_mb"]}
    res["load_after"] = loadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "report.json").write_text(json.dumps(res, indent=2) + "\n")
    (RESULTS / "report.md").write_text(markdown(res))
    print(markdown(res))


def markdown(res: dict) -> str:
    mc, a, b, p, r = (res["machine"], res["predict"], res["predict_report"], res["parts"],
                      res["report"])
    m = res["minutes"]
    return "\n".join([
        f"# The report of a {m:g}-minute recording", "",
        f"{mc['date']}, {mc['cpu']}, {mc['cores']} cores, load average before "
        f"{res['load_before']}, after {res['load_after']}. `python benchmarks/bench_report.py`.",
        "",
        f"A {m:g}-minute Opus recording ({res['file_mb']} MB; noise, babble-like tones, "
        f"{len(res['planted'])} synthesized cries of 15–70 s); the detector found "
        f"{p['segments']} segments. Peak memory is the process tree (cryvideo + ffmpeg). "
        f"Target: the report under {res['target_mb']} MB and {res['target_seconds']} s.", "",
        "| run | seconds (wall) | CPU seconds | peak MB |", "|---|---|---|---|",
        f"| `predict --json` | {a['seconds']} | {a['cpu_seconds']} | {a['peak_mb']} |",
        f"| `predict --json --report` | {b['seconds']} | {b['cpu_seconds']} | "
        f"{b['peak_mb']} |", "",
        f"With the report, the run peaks at **{r['peak_mb']} MB** ({r['extra_peak_mb']:+} MB) "
        f"and takes {r['extra_wall_seconds']:+} s of wall time ({r['extra_cpu_seconds']:+} s "
        "of CPU; on a shared machine the wall figures move with the load).", "",
        f"The report's two parts, timed alone in one process: **{r['seconds']} s** "
        f"({r['cpu_seconds']} s of CPU, ffmpeg's included) = reading the recording into "
        f"{p['columns']} columns of {p['column_seconds']:.2f} s each ({p['overview_seconds']} "
        f"s, {p['overview_cpu_seconds']} s CPU, mostly ffmpeg decoding it) + drawing the page "
        f"({p['render_seconds']} s, {p['render_cpu_seconds']} s CPU, importing matplotlib "
        f"included). The page is {res['page_bytes'] / 1e6:.2f} MB.", ""]
        + ([f"For the record, the same `predict --json --report` with {c['repo']} at "
            f"{c['commit'][:10]}: {c['seconds']} s ({c['cpu_seconds']} s CPU), peak "
            f"**{c['peak_mb']} MB**.", ""] if (c := res.get("compared")) else []))


if __name__ == "__main__":
    main()
