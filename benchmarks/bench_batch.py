"""Batch throughput: ``cryvideo predict`` over the same 40 clips, serial and on an embedded Dask
cluster of 1 and 2 workers, as whole processes; then the per-file cost of one-minute videos,
and from it an estimate of 100,000 one-minute videos on a cluster of K machines.

1. 40 synthetic clips of 10 s (:func:`cryvideo.testing.media.batch_folder`: a third cries
   (WAV), a third test-pattern videos with a tone, a third test-pattern videos with a cry),
   ``predict --out x.parquet`` serial, ``--workers 1`` and ``--workers 2``, each repeated:
   files/s (median), the scaling ratio against serial, CPU seconds, and the peak resident
   memory of each worker process and of the client.
2. 6 one-minute cry videos, serial and ``--workers 2``: seconds per file (wall, whole batch)
   and the per-file ``timings.total`` the records carry.
3. The estimate for 100,000 one-minute videos: measured seconds per file on one core of this
   machine, divided over K machines of C cores at the 2-worker efficiency measured here. It is
   an extrapolation (stated in the table), not a measurement: storage and network are assumed
   not to be the bottleneck.

Usage::

    python benchmarks/bench_batch.py [--repeats 2]

Writes ``benchmarks/results/batch.json`` and ``batch.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from common import REPO, RESULTS, loadavg, machine

from cryvideo.testing.measure import run_measured

N_CLIPS = 40
CLIP_SECONDS = 10.0
N_LONG = 6
LONG_SECONDS = 60.0
TARGET_FILES = 100_000


def _predict(folder: Path, out: Path, workers: int | None) -> dict:
    if out.exists():
        out.unlink()
    where = ["--workers", str(workers)] if workers else []
    argv = [sys.executable, "-m", "cryvideo", "predict", *where, "--out", str(out), str(folder)]
    m = run_measured(argv, timeout=3600, poll=0.05)
    if m.returncode != 0:
        raise SystemExit(f"predict failed ({m.returncode}): {m.stderr[-2000:]}")
    import pyarrow.parquet as pq

    rows = pq.read_table(out).to_pylist()
    workers_mb = [mb for cmd, mb in m.process_peaks.values()
                  if "spawn_main" in cmd and "resource_tracker" not in cmd]
    main_mb = max((mb for cmd, mb in m.process_peaks.values()
                   if "-m cryvideo predict" in cmd), default=None)
    totals = [dict(r["timings"])["total"] for r in rows if r["status"] == "ok"]
    return {"seconds": m.seconds, "cpu_seconds": m.cpu_seconds, "files": len(rows),
            "files_per_s": round(len(rows) / m.seconds, 3),
            "ok": sum(r["status"] == "ok" for r in rows),
            "worker_peak_mb": sorted(workers_mb), "client_peak_mb": main_mb,
            "tree_peak_mb": m.peak_tree_rss_mb,
            "mean_file_total_s": round(statistics.mean(totals), 3) if totals else None}


def _long_clips(folder: Path) -> Path:
    """``N_LONG`` one-minute test-pattern videos with a synthesized cry."""
    import soundfile as sf

    from cryvideo.testing.media import SR, ffmpeg, lavfi_video, synth_cry

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(N_LONG):
        wav = folder / f"cry{i}.wav"
        sf.write(wav, synth_cry(LONG_SECONDS, SR, seed=100 + i), SR, subtype="PCM_16")
        ffmpeg(*lavfi_video("640x360", 30, LONG_SECONDS), "-i", str(wav), "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
               str(folder / f"minute{i}.mp4"))
        wav.unlink()
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite batch.md from the committed batch.json")
    args = ap.parse_args()
    if args.report_only:
        result = json.loads((RESULTS / "batch.json").read_text())
        (RESULTS / "batch.md").write_text(report(result))
        return
    from cryvideo.testing.media import batch_folder

    load_before = loadavg()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        clips = d / "clips"
        batch_folder(clips, N_CLIPS, duration=CLIP_SECONDS)
        _predict(clips, d / "warm.parquet", None)   # warm the caches (backbone export, numba)
        runs: dict[str, list[dict]] = {"serial": [], "workers_1": [], "workers_2": []}
        for _ in range(args.repeats):
            for mode, w in (("serial", None), ("workers_1", 1), ("workers_2", 2)):
                runs[mode].append(_predict(clips, d / f"{mode}.parquet", w))
                print(mode, runs[mode][-1], flush=True)
        longs = _long_clips(d / "long")
        long_runs = {"serial": _predict(longs, d / "long_serial.parquet", None),
                     "workers_2": _predict(longs, d / "long_w2.parquet", 2)}
        print("long", long_runs, flush=True)

    def med(mode: str, key: str) -> float:
        return round(statistics.median(r[key] for r in runs[mode]), 3)

    summary = {m: {"files_per_s": med(m, "files_per_s"), "seconds": med(m, "seconds"),
                   "cpu_seconds": med(m, "cpu_seconds"),
                   "worker_peak_mb": max((x for r in runs[m] for x in r["worker_peak_mb"]),
                                         default=None),
                   "client_peak_mb": max(r["client_peak_mb"] or 0 for r in runs[m])}
               for m in runs}
    base = summary["serial"]["files_per_s"]
    for m in runs:
        summary[m]["vs_serial"] = round(summary[m]["files_per_s"] / base, 2)
    summary["workers_2"]["vs_1_worker"] = round(
        summary["workers_2"]["files_per_s"] / summary["workers_1"]["files_per_s"], 2)

    # per-file cost of one-minute videos, and the cluster estimate
    cores = machine(frameworks=False).get("cores") or 2
    s_per_file_serial = long_runs["serial"]["seconds"] / N_LONG
    s_per_file_w2 = long_runs["workers_2"]["seconds"] / N_LONG
    # core-seconds per file when every core is busy (2 workers on this machine's cores)
    core_s_per_file = s_per_file_w2 * cores
    estimate = []
    for per_machine in (2, 16):
        for k in (1, 10, 50, 100):
            hours = TARGET_FILES * core_s_per_file / (k * per_machine) / 3600
            estimate.append({"machines": k, "cores_per_machine": per_machine,
                             "hours": round(hours, 1)})
    result = {
        "benchmark": "batch", "machine": machine(), "load_before": load_before,
        "load_after": loadavg(),
        "clips": {"n": N_CLIPS, "seconds": CLIP_SECONDS,
                  "kinds": "cry WAV, test-pattern video + tone, test-pattern video + cry"},
        "repeats": args.repeats, "runs": runs, "summary": summary,
        "one_minute": {"n": N_LONG, "runs": long_runs,
                       "seconds_per_file_serial": round(s_per_file_serial, 2),
                       "seconds_per_file_2_workers": round(s_per_file_w2, 2),
                       "core_seconds_per_file": round(core_s_per_file, 2)},
        "estimate": {"files": TARGET_FILES, "file_seconds": LONG_SECONDS, "rows": estimate,
                     "assumes": "per-core throughput as measured here with every core busy "
                                "(2 workers on 2 cores); storage and network not the "
                                "bottleneck; an extrapolation, not a measurement"},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "batch.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "batch.md").write_text(report(result))
    print(report(result))


def report(r: dict) -> str:
    m, s = r["machine"], r["summary"]
    busy = s["serial"]["cpu_seconds"] / s["serial"]["seconds"]
    lines = [
        "# Batch throughput: serial, `--workers 1`, `--workers 2`",
        "",
        f"Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, "
        f"{m.get('ram_gb', '?')} GB; {m.get('date', '')}; load before "
        f"{r['load_before']}, after {r['load_after']}. Produced by "
        "`benchmarks/bench_batch.py`.",
        "",
        f"`cryvideo predict --out x.parquet` over the same {r['clips']['n']} clips of "
        f"{r['clips']['seconds']:.0f} s ({r['clips']['kinds']}), as whole processes (start-up, "
        f"cluster start and model loading included), median of {r['repeats']} runs:",
        "",
        "| how | files/s | wall (s) | CPU (s) | vs serial | peak memory per worker (MiB) "
        "| client peak (MiB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode, label in (("serial", "serial"), ("workers_1", "`--workers 1`"),
                        ("workers_2", "`--workers 2`")):
        x = s[mode]
        lines.append(f"| {label} | {x['files_per_s']:.2f} | {x['seconds']:.1f} | "
                     f"{x['cpu_seconds']:.1f} | {x['vs_serial']:.2f}× | "
                     f"{x['worker_peak_mb'] if x['worker_peak_mb'] is not None else '–'} | "
                     f"{x['client_peak_mb']} |")
    lines += [
        "",
        f"Scaling: 2 workers give {s['workers_2']['vs_serial']:.2f}× the serial files/s and "
        f"{s['workers_2']['vs_1_worker']:.2f}× one worker's, on {m.get('cores', '?')} "
        f"cores. The serial run already keeps {busy:.2f} "
        "cores busy (the face backbone's TFLite threads and ffmpeg's decoding run beside the "
        "models), so on this 2-core machine a second worker has little left to use. On a "
        "machine with more cores than one file keeps busy, workers should add throughput until "
        "the cores are full; that is not measured here. Memory grows by one worker's footprint "
        "(models loaded once per worker) per worker.",
        "",
        "## Per-file cost of one-minute videos",
        "",
        f"{r['one_minute']['n']} one-minute 640×360 30 fps videos with a synthesized cry: "
        f"{r['one_minute']['seconds_per_file_serial']:.2f} s per file serial, "
        f"{r['one_minute']['seconds_per_file_2_workers']:.2f} s per file with 2 workers "
        f"(whole batch), i.e. {r['one_minute']['core_seconds_per_file']:.2f} core-seconds "
        "per file with every core busy.",
        "",
        f"## Estimate: {r['estimate']['files']:,} one-minute videos on K machines",
        "",
        f"Assumes {r['estimate']['assumes']}.",
        "",
        "| machines | cores each | hours |",
        "|---|---|---|",
    ]
    lines += [f"| {e['machines']} | {e['cores_per_machine']} | {e['hours']:.1f} |"
              for e in r["estimate"]["rows"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
