"""Day-long recordings: ``detect`` and ``predict`` in constant memory.

Builds a 16-hour recording with ffmpeg (Opus, 16 kHz mono): low noise, a speech-like babble of
tones, and synthesized cries planted at known times (one every ~40 minutes, 20–90 s long). Then,
for the first 1, 4 and 16 hours (cut losslessly with ffmpeg ``-t``):

- ``cryvideo detect --json --summary`` in a process pinned to one core (``taskset -c 0``):
  wall time, × real time, and the peak memory of the process *plus* its ffmpeg child (the
  resident set sizes of the process tree, sampled every 0.2 s);
- on the 16-hour file, whether every planted cry was found at its time (a detected segment
  overlapping it) and how many detected minutes fall outside the planted cries;
- ``cryvideo predict --json`` on the 16-hour file: wall time and peak memory.

Usage::

    python benchmarks/bench_day_long.py [--hours 16]

Writes ``benchmarks/results/day_long.json`` and ``day_long.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import RESULTS, loadavg, machine

SR = 16000
CHUNK = 60            # seconds generated at a time


def plant_times(hours: float, seed: int = 0) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    out, t = [], 600.0
    while t < hours * 3600 - 200:
        d = float(rng.uniform(20, 90))
        out.append((t, t + d))
        t += float(rng.uniform(1800, 3000))
    return out


def make_recording(path: Path, hours: float, cries: list[tuple[float, float]]) -> None:
    """Write the recording through an ffmpeg pipe, a minute at a time (flat memory)."""
    from cryvideo.media import ffmpeg_exe
    from cryvideo.testing.media import synth_cry

    proc = subprocess.Popen(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "f32le", "-ar",
         str(SR), "-ac", "1", "-i", "pipe:", "-c:a", "libopus", "-b:a", "16k", str(path)],
        stdin=subprocess.PIPE)
    rng = np.random.default_rng(1)
    n_chunks = int(hours * 3600 / CHUNK)
    cry_audio = {i: synth_cry(b - a, SR, seed=i) for i, (a, b) in enumerate(cries)}
    for c in range(n_chunks):
        t0 = c * CHUNK
        t = t0 + np.arange(CHUNK * SR) / SR
        y = 0.01 * rng.standard_normal(t.size).astype(np.float32)
        if (c // 3) % 4 == 1:                                 # babble-like: gliding tones
            f = 180 + 60 * np.sin(2 * np.pi * 0.3 * t)
            y += (0.05 * np.sin(2 * np.pi * np.cumsum(f) / SR)
                  * (np.sin(2 * np.pi * 2.1 * t) > 0)).astype(np.float32)
        for i, (a, b) in enumerate(cries):
            lo, hi = max(a, t0), min(b, t0 + CHUNK)
            if lo < hi:
                src = cry_audio[i][int((lo - a) * SR):int((hi - a) * SR)]
                dst = slice(int((lo - t0) * SR), int((lo - t0) * SR) + src.size)
                y[dst] += 0.5 * src
        proc.stdin.write(y.astype("<f4").tobytes())
    proc.stdin.close()
    if proc.wait(timeout=3600) != 0:
        raise SystemExit("ffmpeg failed to write the recording")


def run_timed(cmd: list[str], *, pin: bool) -> dict:
    """Run ``cmd`` (pinned to core 0 when ``pin``): wall and CPU time, peak and trace of the
    process tree's resident memory (:func:`cryvideo.testing.measure.run_measured`)."""
    from cryvideo.testing.measure import run_measured

    pre = ["taskset", "-c", "0"] if pin and shutil.which("taskset") else []
    m = run_measured(pre + cmd, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
                     timeout=4 * 3600, poll=0.2)
    if m.returncode != 0:
        raise SystemExit(f"failed ({m.returncode}): {' '.join(cmd)}\n{m.stderr[-2000:]}")
    return {"seconds": round(m.seconds, 1), "cpu_seconds": round(m.cpu_seconds, 1),
            "peak_mb": m.peak_tree_rss_mb, "trace": m.tree_trace, "stdout": m.stdout}


def peak_by_fraction(trace, wall: float, fractions) -> list[float]:
    """Peak RSS (MiB) of the run up to each fraction of its wall time: the detector reads the
    file at a steady rate, so the first 1/16 of the time is the first hour of a 16-hour file."""
    out = []
    for f in fractions:
        vals = [r for t, r in trace if t <= f * wall]
        out.append(round(max(vals), 1) if vals else float("nan"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=16.0)
    ap.add_argument("--keep", metavar="DIR", default=None,
                    help="make the recording in DIR and keep it (reused when it is there)")
    ap.add_argument("--cuts", action="store_true",
                    help="also run detect on the first 1 and 4 hours cut as files (by "
                    "default the memory at 1 and 4 hours is read from the whole run)")
    args = ap.parse_args()
    from cryvideo.media import ffmpeg_exe

    py = sys.executable
    res: dict = {"machine": machine(frameworks=False), "load_before": loadavg(),
                 "hours": args.hours}
    cries = plant_times(args.hours)
    res["planted"] = [[round(a, 1), round(b, 1)] for a, b in cries]
    with tempfile.TemporaryDirectory() as d:
        full = Path(args.keep or d) / f"day_{args.hours:g}h.opus"
        full.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if not full.is_file():
            make_recording(full, args.hours, cries)
            res["make_seconds"] = round(time.perf_counter() - t0, 1)
        res["file_mb"] = round(full.stat().st_size / 2**20, 1)
        rows = []
        for h in sorted({1.0, 4.0, args.hours} if args.cuts else {args.hours}):
            if h > args.hours:
                continue
            f = full
            if h < args.hours:
                f = Path(d) / f"first_{h:g}h.opus"
                subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i",
                                str(full), "-t", str(h * 3600), "-c", "copy", str(f)],
                               check=True, timeout=600)
            m = run_timed([py, "-m", "cryvideo", "detect", "--json", "--summary", str(f)],
                             pin=True)
            rec = json.loads(m.pop("stdout").strip().splitlines()[-1])
            trace = m.pop("trace")
            res["detector"] = rec.get("detector")
            marks = [x for x in (1.0, 4.0) if x < h] + [h]
            row = {"hours": h, "detect_seconds": m["seconds"],
                   "peak_mb_by_hour": dict(zip([f"{x:g}" for x in marks], peak_by_fraction(
                       trace, m["seconds"], [x / h for x in marks]), strict=True)),
                   "realtime_factor": round(h * 3600 / m["seconds"], 1),
                   "cpu_seconds": m["cpu_seconds"],
                   "realtime_factor_cpu": round(h * 3600 / m["cpu_seconds"], 1),
                   "peak_mb": m["peak_mb"], "segments": len(rec["segments"]),
                   "crying_minutes": rec["summary"]["crying_minutes"],
                   "episodes": rec["summary"]["episodes"]}
            if h == args.hours:
                segs = rec["segments"]
                found = [any(a < pb and b > pa for a, b in segs) for pa, pb in cries]
                outside = sum(max(0.0, b - a) - sum(max(0.0, min(b, pb) - max(a, pa))
                                                    for pa, pb in cries) for a, b in segs)
                row.update(planted=len(cries), planted_found=int(sum(found)),
                           minutes_outside_planted=round(outside / 60, 2))
                res["summary_16h"] = rec["summary"]
            rows.append(row)
            print(row, flush=True)
        res["detect"] = rows
        m = run_timed([py, "-m", "cryvideo", "predict", "--json", str(full)], pin=False)
        m.pop("trace")
        rec = json.loads(m.pop("stdout").strip().splitlines()[-1])
        res["predict"] = {"seconds": m["seconds"], "cpu_seconds": m["cpu_seconds"],
                          "peak_mb": m["peak_mb"],
                          "label": rec.get("label"),
                          "seconds_read_by_branches": max(
                              (b["details"].get("seconds_used", 0) for b in rec["branches"]
                               if b["used"]), default=0)}
        print(res["predict"], flush=True)
    res["load_after"] = loadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "day_long.json").write_text(json.dumps(res, indent=2) + "\n")
    mc = res["machine"]
    lines = ["# Day-long recordings", "",
             f"{mc['date']}, {mc['cpu']}, {mc['cores']} cores, load average before "
             f"{res['load_before']}, after {res['load_after']}. "
             "`python benchmarks/bench_day_long.py`.", "",
             f"A {args.hours:g}-hour Opus recording ({res['file_mb']} MB; noise, babble-like "
             f"tones, {len(cries)} synthesized cries of 20–90 s planted at known times). "
             "Peak memory is the process tree (cryvideo + ffmpeg). Detector: "
             f"`{(res.get('detector') or {}).get('card')}` (sha256 "
             f"{str((res.get('detector') or {}).get('sha256'))[:12]}…).", "",
             "## `cryvideo detect --json --summary`, one core", "",
             "× real time: hours of audio per hour of wall time, and per hour of CPU time "
             "(user + system of cryvideo and its ffmpeg; on a shared machine the wall figure "
             "falls with the load, the CPU figure hardly does).", "",
             "| hours | seconds (wall) | CPU seconds | × real time (wall / CPU) | peak MB | "
             "episodes | minutes of crying |",
             "|---|---|---|---|---|---|---|"]
    for r in res["detect"]:
        lines.append(f"| {r['hours']:g} | {r['detect_seconds']} | {r['cpu_seconds']} | "
                     f"{r['realtime_factor']:.0f}× / {r['realtime_factor_cpu']:.0f}× | "
                     f"{r['peak_mb']} | {r['episodes']} | {r['crying_minutes']:.1f} |")
    last = res["detect"][-1]
    lines += ["", f"Peak memory of the {last['hours']:g}-hour run so far, after "
              + ", ".join(f"{k} h: {v} MB" for k, v in last["peak_mb_by_hour"].items())
              + " (read at that share of the run's wall time: the file is read at a steady "
              "rate).", ""]
    lines += ["", f"Planted cries found at their times: **{last['planted_found']} of "
              f"{last['planted']}**; detected minutes outside them: "
              f"{last['minutes_outside_planted']}.", "",
              f"## `cryvideo predict --json` on the {args.hours:g}-hour file", "",
              f"{res['predict']['seconds']} s ({res['predict']['cpu_seconds']} s CPU), peak "
              f"**{res['predict']['peak_mb']} MB** "
              "(the reason branches read "
              f"{res['predict']['seconds_read_by_branches']:.0f} s of crying, not the whole "
              "track).", ""]
    (RESULTS / "day_long.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
