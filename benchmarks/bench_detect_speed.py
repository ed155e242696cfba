"""Speed of the shipped cry detector and of ``predict`` on the demo, as whole processes.

1. ``detect`` real-time factor on ONE core: a synthesized 10-minute recording (cries, speech-
   like babble, noise) scored by the shipped TFLite detector (int8 weights and float32), in a
   process pinned to one core (``taskset -c 0``), TFLite with one thread: seconds of audio
   per second of wall time, for the model alone and for the whole ``cryvideo detect`` process
   (start-up and decoding included).
2. ``cryvideo predict examples/demo.mp4`` timed as a whole process, repeated: median and worst,
   and whether TensorFlow was imported.

Usage::

    python benchmarks/bench_detect_speed.py [--repeats 10]

Writes ``benchmarks/results/detect_speed.json`` and ``detect_speed.md``. Run it on a quiet
machine: the load average before and after is recorded.
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
from common import REPO, RESULTS, loadavg, machine

from cryvideo.testing.measure import children_cpu_seconds

SR = 16000
MINUTES = 10.0


def make_recording(path: Path) -> float:
    """A long test recording: noise, babble-like tones and synthesized cries, as FLAC."""
    import soundfile as sf

    from cryvideo.testing.media import synth_cry

    rng = np.random.default_rng(0)
    n = int(MINUTES * 60 * SR)
    y = 0.02 * rng.standard_normal(n).astype(np.float32)
    for k in range(0, n - 8 * SR, 45 * SR):
        y[k:k + 8 * SR] += 0.5 * synth_cry(8.0, SR, seed=k // SR)
    sf.write(path, y, SR, format="FLAC")
    return n / SR


def _run(cmd, *, env=None, pin=True) -> tuple[float, str, float]:
    """Run ``cmd``: wall seconds, stdout, and CPU seconds of the process and its children
    (user + system; on a shared machine the wall time grows with the load, the CPU time
    hardly does)."""
    pre = ["taskset", "-c", "0"] if pin and shutil.which("taskset") else []
    c0, t0 = children_cpu_seconds(), time.perf_counter()
    out = subprocess.run(pre + cmd, capture_output=True, text=True, env=env, timeout=1800)
    dt, cpu = time.perf_counter() - t0, children_cpu_seconds() - c0
    if out.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    return dt, out.stdout, cpu


MODEL_ONLY = """
import json, sys, time
import numpy as np
from cryvideo.detection.patch_detector import PatchDetector
from cryvideo.media import load_audio
y = load_audio(sys.argv[2], sr=16000)
det = PatchDetector(sys.argv[1], num_threads=1)
det.detect(y[:16000 * 10], sr=16000)                  # warm up
t0, c0 = time.perf_counter(), time.process_time()
res = det.detect(y, sr=16000)
dt, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"seconds": dt, "cpu_seconds": cpu, "audio_seconds": y.size / 16000,
                  "tensorflow_imported": "tensorflow" in sys.modules,
                  "segments": len(res.segments)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    py = sys.executable
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    res: dict = {"machine": machine(frameworks=False), "load_before": loadavg()}
    models = REPO / "saved_models"
    with tempfile.TemporaryDirectory() as d:
        rec = Path(d) / "ten_minutes.flac"
        seconds = make_recording(rec)
        res["recording_seconds"] = seconds
        rows = []
        for fname in ("cry_detector_yamnet_int8.tflite", "cry_detector_yamnet.tflite"):
            _, out, _ = _run([py, "-c", MODEL_ONLY, str(models / fname), str(rec)], env=env)
            m = json.loads(out.strip().splitlines()[-1])
            wall, _, cpu = _run([py, "-m", "cryvideo", "detect", "--model",
                                 str(models / fname), str(rec)], env=env)
            rows.append({"model": fname, "size_bytes": (models / fname).stat().st_size,
                         "model_seconds": round(m["seconds"], 3),
                         "model_realtime_factor": round(seconds / m["seconds"], 1),
                         "model_cpu_seconds": round(m["cpu_seconds"], 3),
                         "model_realtime_factor_cpu": round(seconds / m["cpu_seconds"], 1),
                         "process_seconds": round(wall, 3),
                         "process_realtime_factor": round(seconds / wall, 1),
                         "process_cpu_seconds": round(cpu, 3),
                         "process_realtime_factor_cpu": round(seconds / cpu, 1),
                         "tensorflow_imported": m["tensorflow_imported"]})
            print(rows[-1], flush=True)
        res["detect_one_core"] = rows
    demo = REPO / "examples" / "demo.mp4"
    times, cpus = [], []
    for _ in range(args.repeats):
        wall, _, cpu = _run([py, "-m", "cryvideo", "predict", str(demo)], env=env, pin=False)
        times.append(round(wall, 3))
        cpus.append(round(cpu, 3))
    probe = ("import sys\nfrom cryvideo.cli import main\n"
             f"main(['predict', {str(demo)!r}])\n"
             "print('TF', 'tensorflow' in sys.modules)")
    _, out, _ = _run([py, "-c", probe], env=env, pin=False)
    res["predict_demo"] = {"repeats": args.repeats, "seconds": times,
                           "median": float(np.median(times)), "max": max(times),
                           "min": min(times), "cpu_seconds": cpus,
                           "cpu_median": float(np.median(cpus)),
                           "tensorflow_imported": out.strip().endswith("TF True")}
    res["load_after"] = loadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "detect_speed.json").write_text(json.dumps(res, indent=2) + "\n")
    m = res["machine"]
    lines = ["# Detector and predict speed", "",
             f"{m['date']}, {m['cpu']}, {m['cores']} cores, load average before "
             f"{res['load_before']}, after {res['load_after']}. "
             "`python benchmarks/bench_detect_speed.py`.", "",
             f"## `detect` on one core ({seconds / 60:.0f}-minute recording, "
             "`taskset -c 0`, TFLite 1 thread)", "",
             "× real time = seconds of audio per second of wall time, and per CPU second "
             "(user + system, children included; on a shared machine the wall figure falls "
             "with the load, the CPU figure hardly does).", "",
             "| model | size | model only: × real time (wall / CPU) | whole `cryvideo detect` "
             "process: seconds, × real time (wall / CPU) | TensorFlow imported |",
             "|---|---|---|---|---|"]
    for r in res["detect_one_core"]:
        lines.append(f"| `{r['model']}` | {r['size_bytes'] / 1e6:.2f} MB | "
                     f"{r['model_realtime_factor']:.0f}× / {r['model_realtime_factor_cpu']:.0f}× | "
                     f"{r['process_seconds']:.1f} s, {r['process_realtime_factor']:.0f}× / "
                     f"{r['process_realtime_factor_cpu']:.0f}× | {r['tensorflow_imported']} |")
    p = res["predict_demo"]
    lines += ["", "## `cryvideo predict examples/demo.mp4`, whole process", "",
              f"{p['repeats']} runs: median **{p['median']:.2f} s**, min {p['min']:.2f} s, "
              f"max {p['max']:.2f} s (CPU time, median: {p['cpu_median']:.2f} s); TensorFlow "
              f"imported: {p['tensorflow_imported']}.", ""]
    (RESULTS / "detect_speed.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
