"""``cryvideo listen``: latency to ``cry started``, CPU while listening, memory over an hour
of audio (pushed through as fast as it runs, not an hour of wall clock).

1. **Latency** from cry onset to the ``cry started`` event over N onsets (default 50), for the
   live smoothing window of 3 patches (the default, the card's) and of 2 and 1 patches
   (``--window``). The stream is fed fast, in 0.1 s blocks, to :class:`LiveDetector` in this
   process; a stream of blocks delivered in real time would give the same events. The latency
   of an onset is *stream time* — audio from the onset to the end of the block whose push
   emitted the event (what the detector had to hear) — *plus processing time*: the wall
   time of that push (model and front end, on this shared machine). Each onset follows 9–9.5 s
   of background (faint noise, babble, white noise, a tone, rotating) so the previous episode
   has stopped. Two kinds of cry: synthesized (``synth_cry``, no training clip of the detector)
   and recorded (the 40 ESC-50 "crying baby" clips of ``../shared/data/cry_detection``: the
   detector was trained on them, so their figures are optimistic). A recorded clip's onset is
   its first 10 ms frame within 20 dB of its loudest. Misses (no start by 3 s after the cry
   ended) and false starts (a start during background) are counted.
2. **False starts per hour** on ``../shared/data/vocal_negatives`` (668 clips of speech,
   laughter, coughing, music, adult crying …, one after another; also training negatives of
   the detector: optimistic) for each window.
3. **CPU share of one core** while listening in real time: the whole ``cryvideo listen
   --realtime FILE`` process tree (Python + ffmpeg) on a 150 s file with cries, CPU seconds
   over wall seconds between 20 s after the first audio and 10 s before the end; the real-time
   latency of its onsets (event wall time − wall time of the first audio − onset) is a
   cross-check of 1.
4. **Memory** of ``cryvideo listen - --record DIR --on-cry true`` fed an hour of audio (a
   one-minute pattern with one cry, 60 times) as fast as it runs: resident memory of the
   process (and of its ffmpeg) at every ``cry started`` event, i.e. once per stream minute.

Usage::

    nice -n 10 python benchmarks/bench_listen.py [--onsets 50] [--hours 1] [--cpu-seconds 150]

Writes ``benchmarks/results/listen.json`` and ``listen.md``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from common import REPO, RESULTS, loadavg, machine

from cryvideo.detection.live import LiveDetector
from cryvideo.detection.patch_detector import DEFAULT_DETECTOR_FILE, PatchDetector
from cryvideo.io import write_text_atomic
from cryvideo.studies.onsets import energy_onset
from cryvideo.testing.live_audio import SR, babble, synth_cry

SHARED = REPO.parent / "shared" / "data"
BLOCK = 1600                     # 0.1 s
WINDOWS = (3, 2, 1)
STOP_AFTER = 5.0                 # the default


def background(kind: int, seconds: float, rng) -> np.ndarray:
    n = int(round(seconds * SR))
    k = kind % 4
    if k == 0:
        return (0.001 * rng.standard_normal(n)).astype(np.float32)
    if k == 1:
        return babble(seconds)[:n]
    if k == 2:
        return (0.02 * rng.standard_normal(n)).astype(np.float32)
    t = np.arange(n) / SR
    return (0.1 * np.sin(2 * np.pi * rng.uniform(200, 2000) * t)).astype(np.float32)


def cry_clips(kind: str, n: int) -> list[tuple[np.ndarray, float]] | None:
    """``n`` (cry samples, onset seconds within them)."""
    if kind == "synthetic":
        clips = [synth_cry(6.0, SR, seed=i) for i in range(n)]
    else:
        files = sorted(glob.glob(str(SHARED / "cry_detection" / "cry" / "esc50_*")))
        if not files:
            return None
        from cryvideo.media import load_audio

        clips = [load_audio(files[i % len(files)], sr=SR) for i in range(n)]
    return [(c, energy_onset(c)) for c in clips]


def onset_stream(clips, seed: int = 0):
    """Background + cry, one after another: samples, onsets, (cry start, cry end) spans."""
    rng = np.random.default_rng(seed)
    parts, onsets, spans, t = [], [], [], 0.0
    for i, (c, on) in enumerate(clips):
        bg = background(i, 9.0 + rng.uniform(0, 0.48), rng)
        parts += [bg, c.astype(np.float32)]
        t += bg.size / SR
        onsets.append(t + on)
        spans.append((t, t + c.size / SR))
        t += c.size / SR
    parts.append(background(0, 9.0, rng))
    return np.concatenate(parts), onsets, spans


def run_live(det, y, window: int):
    """Events of a fast-fed stream, each with the wall time of the push that emitted it."""
    live = LiveDetector(det, window=window, stop_after=STOP_AFTER)
    out = []
    for a in range(0, y.size, BLOCK):
        t0 = time.perf_counter()
        evs = live.push(y[a:a + BLOCK])
        dt = time.perf_counter() - t0
        out += [(e, dt) for e in evs]
    return out + [(e, 0.0) for e in live.finish()]


def decision_floor(det, y, window: int, onsets, spans) -> list[float | None]:
    """For each onset, when the same decision rule fires on the whole recording at the
    earliest: the end of the first window (of ``window`` patches) whose score reaches the
    threshold, minus the onset. What the detector itself needs; the live path adds the block
    and the processing."""
    from cryvideo.detection.decisions import moving_mean

    f = det.frontend
    scores = moving_mean(det.patch_probabilities(y), window)
    ends = np.arange(scores.size) * f.hop_seconds + (window - 1) * f.hop_seconds + \
        f.patch_seconds
    out = []
    for on, (a, b) in zip(onsets, spans, strict=True):
        ok = np.flatnonzero((scores >= det.threshold) & (ends >= a - 0.5) & (ends <= b + 3.0))
        out.append(float(ends[ok[0]] - on) if ok.size else None)
    return out


def _pct(values, q) -> float:
    return round(float(np.percentile(np.asarray(values, float), q)), 3)


def latency(det, clips) -> list[dict]:
    y, onsets, spans = onset_stream(clips)
    rows = []
    for window in WINDOWS:
        events = run_live(det, y, window)
        starts = [(e, dt) for e, dt in events if e.event == "cry started"]
        stops = [e for e, _ in events if e.event == "cry stopped"]
        floor = decision_floor(det, y, window, onsets, spans)
        lat, stream_lat, proc, over, missed, still_open, false = [], [], [], [], 0, 0, 0
        used = set()
        for on, (a, b), fl in zip(onsets, spans, floor, strict=True):
            hit = [(e, dt) for e, dt in starts if a - 0.5 <= e.detected_at <= b + 3.0]
            if not hit:
                missed += 1
                # the previous episode had not stopped: no new start to report
                if any(s.start < a and s.detected_at > a for s in stops):
                    still_open += 1
                continue
            e, dt = hit[0]
            used.add(id(e))
            stream_lat.append(e.detected_at - on)
            proc.append(dt)
            lat.append(e.detected_at - on + dt)
            if fl is not None:
                over.append(e.detected_at - on - fl)
        for e, _ in starts:
            inside = any(a - 0.5 <= e.detected_at <= b + 3.0 for a, b in spans)
            if id(e) not in used and not inside:
                false += 1
        floors = [v for v in floor if v is not None]
        rows.append({"window": window, "onsets": len(onsets), "detected": len(lat),
                     "missed": missed, "missed_while_previous_episode_open": still_open,
                     "false_starts_in_background": false,
                     "background_minutes": round(9.0 * len(onsets) / 60, 1),
                     "latency_median_s": _pct(lat, 50), "latency_p95_s": _pct(lat, 95),
                     "latency_max_s": round(float(np.max(lat)), 3),
                     "stream_latency_median_s": _pct(stream_lat, 50),
                     "decision_floor_median_s": _pct(floors, 50),
                     "decision_floor_p95_s": _pct(floors, 95),
                     "live_overhead_median_s": _pct(over, 50),
                     "live_overhead_max_s": round(float(np.max(over)), 3),
                     "processing_median_ms": round(1000 * float(np.median(proc)), 2),
                     "processing_max_ms": round(1000 * float(np.max(proc)), 2)})
        print(rows[-1], flush=True)
    return rows


def false_starts_vocal(det) -> dict | None:
    root = SHARED / "vocal_negatives"
    files = sorted(glob.glob(str(root / "not_cry" / "**" / "*.*"), recursive=True))
    if not files:
        return None
    from cryvideo.media import load_audio

    ys = []
    for f in files:
        try:
            ys.append(load_audio(f, sr=SR))
        except Exception:  # noqa: BLE001 - a clip ffmpeg cannot read is left out, counted
            pass
    y = np.concatenate(ys)
    hours = y.size / SR / 3600
    out = {"clips": len(ys), "unreadable": len(files) - len(ys), "hours": round(hours, 3),
           "by_window": []}
    for window in WINDOWS:
        n = sum(1 for e, _ in run_live(det, y, window) if e.event == "cry started")
        out["by_window"].append({"window": window, "false_starts": n,
                                 "per_hour": round(n / hours, 1)})
        print(out["by_window"][-1], flush=True)
    return out


# -- whole processes ---------------------------------------------------------------------------
def _tree_cpu(proc) -> float:
    import psutil

    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _reader(stream, sink: list, marks: dict | None = None, proc=None):
    import psutil

    def run():
        for line in stream:
            rec = json.loads(line)
            rec["_wall"] = time.time()
            if marks is not None and rec["event"] == "cry started":
                try:
                    rss = proc.memory_info().rss
                    kids = sum(c.memory_info().rss for c in proc.children(recursive=True))
                except psutil.NoSuchProcess:
                    rss = kids = 0
                rec["_rss"], rec["_children_rss"] = rss, kids
            sink.append(rec)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def cpu_realtime(model: Path, seconds: float) -> dict:
    import psutil
    import soundfile as sf

    n = max(2, int(seconds // 15))
    clips = [(synth_cry(6.0, SR, seed=100 + i), 0.0) for i in range(n)]
    y, onsets, _ = onset_stream(clips, seed=3)
    y = y[: int(seconds * SR)]
    onsets = [o + energy_onset(c) for o, (c, _) in zip(onsets, clips, strict=True)
              if o + 8 < seconds]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "realtime.wav"
        sf.write(path, y, SR, subtype="PCM_16")
        proc = subprocess.Popen([sys.executable, "-m", "cryvideo", "listen", "--json",
                                 "--realtime", "--model", str(model), str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ps = psutil.Process(proc.pid)
        recs: list = []
        _reader(proc.stdout, recs)
        t_start = time.time()
        while not recs and proc.poll() is None:
            time.sleep(0.01)
        connected = recs[0]["_wall"]
        startup = connected - t_start
        time.sleep(max(0.0, connected + 20 - time.time()))
        w1, c1 = time.time(), _tree_cpu(ps)
        c1_main = sum(ps.cpu_times()[:2])
        time.sleep(max(0.0, connected + y.size / SR - 10 - time.time()))
        w2, c2 = time.time(), _tree_cpu(ps)
        c2_main = sum(ps.cpu_times()[:2])
        proc.wait(timeout=seconds + 120)
    starts = [r for r in recs if r["event"] == "cry started"]
    lat = []
    for on in onsets:
        hit = [r for r in starts if on - 0.5 <= r["detected_at"] <= on + 9]
        if hit:
            lat.append(hit[0]["_wall"] - connected + 0.1 - on)  # first audio = 0.1 s block
    return {"audio_seconds": round(y.size / SR, 1), "startup_seconds": round(startup, 2),
            "measured_wall_seconds": round(w2 - w1, 1),
            "cpu_share_of_one_core": round((c2 - c1) / (w2 - w1), 4),
            "cpu_share_python_only": round((c2_main - c1_main) / (w2 - w1), 4),
            "realtime_onsets": len(onsets), "realtime_detected": len(lat),
            "realtime_latency_median_s": round(float(np.median(lat)), 3) if lat else None,
            "realtime_latency_max_s": round(float(np.max(lat)), 3) if lat else None}


def memory_hour(model: Path, hours: float) -> dict:
    import psutil

    rng = np.random.default_rng(7)
    minutes = int(round(hours * 60))
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.Popen([sys.executable, "-m", "cryvideo", "listen", "--json", "-",
                                 "--model", str(model), "--record", str(Path(d) / "rec"),
                                 "--on-cry", "true", "--cooldown", "0"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=False)
        ps = psutil.Process(proc.pid)
        recs: list = []
        reader = _reader((ln.decode() for ln in proc.stdout), recs, marks={}, proc=ps)
        t0 = time.perf_counter()
        # a WAV header for a stream of unknown length, then the minutes
        import struct

        hdr = (b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVEfmt " +
               struct.pack("<IHHIIHH", 16, 1, 1, SR, SR * 2, 2, 16) + b"data" +
               struct.pack("<I", 0xFFFFFFFF))
        proc.stdin.write(hdr)
        for m in range(minutes):
            bg1 = background(m, 30.0, rng)
            cry = synth_cry(8.0, SR, seed=m)
            bg2 = background(m + 1, 22.0, rng)
            y = np.concatenate([bg1, cry, bg2])
            proc.stdin.write((np.clip(y, -1, 1) * 32767).astype("<i2").tobytes())
        proc.stdin.close()
        rc = proc.wait(timeout=hours * 3600)
        reader.join(timeout=60)
        wall = time.perf_counter() - t0
        n_rec = len(list((Path(d) / "rec").iterdir()))
    starts = [r for r in recs if r["event"] == "cry started"]
    series = [{"stream_minutes": round(r["detected_at"] / 60, 2),
               "rss_mb": round(r["_rss"] / 2**20, 1),
               "ffmpeg_rss_mb": round(r["_children_rss"] / 2**20, 1)} for r in starts]
    first = next((s for s in series if s["stream_minutes"] >= 1.0), series[0])
    last = series[-1]
    return {"returncode": rc, "stream_minutes": minutes, "wall_seconds": round(wall, 1),
            "episodes": len(starts), "recordings": n_rec,
            "first_sample_stream_minutes": first["stream_minutes"],
            "last_sample_stream_minutes": last["stream_minutes"],
            "rss_mb_after_1_min": first["rss_mb"], "rss_mb_at_end": last["rss_mb"],
            "rss_mb_max": max(s["rss_mb"] for s in series),
            "ffmpeg_rss_mb_after_1_min": first["ffmpeg_rss_mb"],
            "ffmpeg_rss_mb_at_end": last["ffmpeg_rss_mb"], "series": series,
            "psutil": psutil.__version__}


def _split_note(mem: dict) -> str:
    from collections import Counter

    per_minute = Counter(int(s["stream_minutes"]) for s in mem["series"])
    odd = sorted(m for m, n in per_minute.items() if n != 1)
    return f" (two starts in minute {', '.join(map(str, odd))})" if odd else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--onsets", type=int, default=50)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--cpu-seconds", type=float, default=150.0)
    ap.add_argument("--skip", nargs="*", default=[],
                    choices=["latency", "vocal", "cpu", "memory"])
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite listen.md from listen.json")
    args = ap.parse_args()
    if args.report_only:
        res = json.loads((RESULTS / "listen.json").read_text())
        write_text_atomic(RESULTS / "listen.md", report(res))
        print(report(res))
        return
    model = REPO / "saved_models" / DEFAULT_DETECTOR_FILE
    det = PatchDetector(model, batch=1)
    res: dict = {"machine": machine(frameworks=False), "load_before": loadavg(),
                 "model": {"file": model.name, "sha256": det.card.sha256,
                           "threshold": det.threshold, "window": det.window},
                 "block_seconds": BLOCK / SR, "stop_after": STOP_AFTER}
    if "latency" not in args.skip:
        res["latency"] = {}
        for kind in ("synthetic", "recorded"):
            clips = cry_clips(kind, args.onsets)
            if clips is None:
                res["latency"][kind] = None
                continue
            res["latency"][kind] = latency(det, clips)
    if "vocal" not in args.skip:
        res["vocal_negatives"] = false_starts_vocal(det)
    if "cpu" not in args.skip:
        res["cpu_realtime"] = cpu_realtime(model, args.cpu_seconds)
        print(res["cpu_realtime"], flush=True)
    if "memory" not in args.skip:
        res["memory"] = memory_hour(model, args.hours)
        print({k: v for k, v in res["memory"].items() if k != "series"}, flush=True)
    res["load_after"] = loadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_text_atomic(RESULTS / "listen.json", json.dumps(res, indent=2) + "\n")
    write_text_atomic(RESULTS / "listen.md", report(res))
    print(report(res))


def report(res: dict) -> str:
    m = res["machine"]
    lines = ["# `cryvideo listen`: latency, CPU, memory", "",
             f"{m['date']}, {m['cpu']}, {m['cores']} cores (shared: load average before "
             f"{res['load_before']}, after {res['load_after']}). Detector "
             f"`{res['model']['file']}` (threshold {res['model']['threshold']}), "
             f"stop after {res['stop_after']:g} s. "
             "`nice -n 10 python benchmarks/bench_listen.py`; method in the script's "
             "docstring.", ""]
    if res.get("latency"):
        lines += ["## Latency from cry onset to `cry started`", "",
                  "Latency = stream time from the onset to the end of the 0.1 s block whose "
                  "push emitted the event, plus that push's processing time. Target: ≤ 1.5 s "
                  "at the 95th percentile. The median, p95 and max are over the *detected* "
                  "onsets: a missed onset has no latency and is left out of them, so read them "
                  "beside *detected / onsets*.", "",
                  "| cry | window (patches) | detected / onsets | median | p95 | max | "
                  "detector floor: median, p95 | live overhead: median, max | "
                  "false starts in background |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for kind, rows in res["latency"].items():
            if rows is None:
                lines.append(f"| {kind} | — | ../shared absent | | | | | |")
                continue
            for r in rows:
                mark = " (default)" if r["window"] == res["model"]["window"] else ""
                lines.append(
                    f"| {kind} | {r['window']}{mark} | {r['detected']} / {r['onsets']} | "
                    f"{r['latency_median_s']:.2f} s | **{r['latency_p95_s']:.2f} s** | "
                    f"{r['latency_max_s']:.2f} s | {r['decision_floor_median_s']:.2f} s, "
                    f"{r['decision_floor_p95_s']:.2f} s | {r['live_overhead_median_s']:.2f} s, "
                    f"{r['live_overhead_max_s']:.2f} s | "
                    f"{r['false_starts_in_background']} in {r['background_minutes']} min |")
        lines += ["", "*Detector floor*: when the same rule fires at the earliest on the whole "
                  "recording (end of the first window reaching the threshold, minus the onset): "
                  "what the detector needs to hear. *Live overhead*: the live event's stream "
                  "latency minus that floor (the 0.1 s block; 0 means the live path fired as "
                  "early as possible). Processing of the push that emitted the event (model "
                  "and front end), median on this shared machine: "
                  + ", ".join(f"{k} {r['processing_median_ms']:.0f} ms" for k, rows in
                              res["latency"].items() if rows for r in rows[:1]) +
                  ". Missed onsets: " + "; ".join(
                      f"{k} window {r['window']}: {r['missed']} "
                      f"({r['missed_while_previous_episode_open']} while the previous episode "
                      "was still open)" for k, rows in res["latency"].items() if rows
                      for r in rows if r["missed"]) + ".", "",
                  "Recorded cries are training clips of the detector (optimistic); "
                  "synthesized cries are not, and the detector scores them lower.", ""]
    v = res.get("vocal_negatives")
    if v:
        lines += ["## False starts on vocal negatives", "",
                  f"{v['clips']} clips of `../shared/data/vocal_negatives` one after another "
                  f"({v['hours'] * 60:.0f} min; training negatives of the detector: "
                  "optimistic).", "", "| window | false starts | per hour |", "|---|---|---|"]
        lines += [f"| {r['window']} | {r['false_starts']} | {r['per_hour']:.0f} |"
                  for r in v["by_window"]]
        lines.append("")
    c = res.get("cpu_realtime")
    if c:
        lines += ["## CPU while listening in real time", "",
                  f"`cryvideo listen --realtime` on a {c['audio_seconds']:.0f} s file, measured "
                  f"over {c['measured_wall_seconds']:.0f} s of steady listening: **"
                  f"{100 * c['cpu_share_of_one_core']:.1f} % of one core** for the process "
                  f"tree (Python {100 * c['cpu_share_python_only']:.1f} %, the rest ffmpeg). "
                  f"Target ≤ 15 %. Start-up to the first audio: {c['startup_seconds']:.1f} s.",
                  "",
                  f"Real-time cross-check of the latency: {c['realtime_detected']} of "
                  f"{c['realtime_onsets']} onsets detected, median "
                  f"{c['realtime_latency_median_s']} s, max {c['realtime_latency_max_s']} s "
                  "(wall clock, ±0.1 s for the first block).", ""]
    mem = res.get("memory")
    if mem:
        lines += [f"## Memory over {mem['stream_minutes']} minutes of audio pushed through in "
                  f"{mem['wall_seconds']:.0f} s", "",
                  f"{mem['stream_minutes']} minutes of audio fed through standard input as fast "
                  f"as listen runs ({mem['wall_seconds']:.0f} s: this is {mem['stream_minutes']}"
                  " minutes of stream, not of running — slow growth over hours of wall clock "
                  "would not show here), one cry a minute, each recorded "
                  f"(`--record`: {mem['recordings']} files) and alerted (`--on-cry true`): "
                  f"{mem['episodes']} episodes for {mem['stream_minutes']} cries"
                  + _split_note(mem) + ".", "",
                  "Resident memory at the first `cry started` after 1 min of stream "
                  f"({mem['first_sample_stream_minutes']:.1f} min) and at the last "
                  f"({mem['last_sample_stream_minutes']:.1f} min); every minute's value is in "
                  "`listen.json`.", "",
                  "| | after 1 min of audio | at the end of the audio | max |",
                  "|---|---|---|---|",
                  f"| listen (RSS) | {mem['rss_mb_after_1_min']:.1f} MiB | "
                  f"{mem['rss_mb_at_end']:.1f} MiB | {mem['rss_mb_max']:.1f} MiB |",
                  f"| its ffmpeg (RSS) | {mem['ffmpeg_rss_mb_after_1_min']:.1f} MiB | "
                  f"{mem['ffmpeg_rss_mb_at_end']:.1f} MiB | |", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
