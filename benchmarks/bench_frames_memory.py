"""Benchmark: peak memory while streaming a long 1080p video through ``iter_frames``.

Builds (once, cached in ``--work``) a synthetic 10-minute 1920×1080 video with ffmpeg's lavfi
``testsrc2`` + ``sine`` sources, streams every frame at the analysis rate through
:func:`cryvideo.media.iter_frames`, and records the peak resident memory of this Python process
and of the ffmpeg child, the frames read and the throughput. The result is written to
``benchmarks/results/frames_memory.{json,md}``.

Usage::

    python benchmarks/bench_frames_memory.py [--minutes 10] [--fps 30] [--max-side 480]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryvideo.io import write_json_atomic, write_text_atomic  # noqa: E402
from cryvideo.machine import machine  # noqa: E402
from cryvideo.media import ffmpeg_exe, iter_frames, probe  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"


def make_video(path: Path, minutes: float) -> None:
    if path.exists():
        return
    secs = int(minutes * 60)
    tmp = path.with_suffix(".part.mp4")
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={secs}",
           "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={secs}",
           "-c:v", "libx264", "-preset", "ultrafast", "-crf", "35", "-g", "300",
           "-c:a", "aac", "-b:a", "64k", "-shortest", str(tmp)]
    subprocess.run(cmd, check=True, timeout=3600)
    tmp.rename(path)


def measure(video: Path, fps: float, max_side: int) -> int:
    """Stream every frame; print frames, time and peak RSS (self, children) as JSON."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    n = checksum = 0
    for fr in iter_frames(video, fps=fps, max_side=max_side):
        n += 1
        checksum += int(fr.image[::64, ::64].sum())  # touch the pixels
    secs = time.perf_counter() - t0
    print(json.dumps({
        "frames": n, "seconds": secs, "before_mb": before,
        "self_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "child_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--max-side", type=int, default=480)
    ap.add_argument("--work", type=Path, default=REPO / ".cache" / "bench")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        return measure(args.measure, args.fps, args.max_side)
    args.work.mkdir(parents=True, exist_ok=True)
    video = args.work / f"testsrc2_1080p_{args.minutes:g}min.mp4"
    t0 = time.perf_counter()
    make_video(video, args.minutes)
    t_make = time.perf_counter() - t0
    info = probe(video)

    # Measure in a fresh process so that its children are only the decoding ffmpeg
    # (the encoder that built the video would otherwise dominate RUSAGE_CHILDREN).
    out = subprocess.run([sys.executable, __file__, "--measure", str(video), "--fps",
                          str(args.fps), "--max-side", str(args.max_side)],
                         check=True, capture_output=True, text=True, timeout=3600)
    m = json.loads(out.stdout)
    n, secs = m["frames"], m["seconds"]
    self_peak, child_peak, rss_before = m["self_peak_mb"], m["child_peak_mb"], m["before_mb"]
    result = {
        "benchmark": "frames_memory",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "video": {"duration_s": info.duration, "size": f"{info.width}x{info.height}",
                  "source_fps": info.fps, "file_mb": round(video.stat().st_size / 1e6, 1)},
        "analysis_fps": args.fps,
        "max_side": args.max_side,
        "frames_read": n,
        "seconds": round(secs, 1),
        "frames_per_s": round(n / secs, 1),
        "python_peak_rss_mb": round(self_peak, 1),
        "python_rss_before_mb": round(rss_before, 1),
        "ffmpeg_peak_rss_mb": round(child_peak, 1),
        "combined_peak_mb_upper_bound": round(self_peak + child_peak, 1),
        "limit_mb": 500,
        "video_build_s": round(t_make, 1),
    }
    result["passed"] = result["combined_peak_mb_upper_bound"] < result["limit_mb"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json_atomic(RESULTS / "frames_memory.json", result)
    mach = result["machine"]
    verdict = "pass" if result["passed"] else "FAIL"
    md = f"""# Frame streaming memory benchmark

`python benchmarks/bench_frames_memory.py --minutes {args.minutes:g} --fps {args.fps:g}`

| what | value |
|---|---|
| date (UTC) | {result['date']} |
| machine | {mach['cpu']}, {mach['cores']} cores, load {mach['loadavg_1_5_15'][0]:.1f} |
| input | synthetic {info.duration:.0f} s {info.width}×{info.height} H.264 (lavfi testsrc2 + sine) |
| analysis | {args.fps:g} fps, frames downscaled by ffmpeg to ≤ {args.max_side} px |
| frames read | {n} |
| time | {secs:.1f} s ({n / secs:.1f} frames/s) |
| peak RSS, Python | {self_peak:.0f} MB |
| peak RSS, ffmpeg child | {child_peak:.0f} MB |
| peak, both (upper bound) | **{self_peak + child_peak:.0f} MB** (limit 500 MB: {verdict}) |

Memory does not grow with video length: one frame is held in Python at a time and ffmpeg
decodes in a stream (its peak is the decoder's own buffers for 1080p).
"""
    write_text_atomic(RESULTS / "frames_memory.md", md)
    print(json.dumps(result, indent=2))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
