"""CPU latency of the shipped cry detector (Keras float, TFLite float32 / dynamic / int8) on one
thread, per 10 s clip, log-mel included, and the real-time factor.

Usage: python benchmarks/bench_panns_latency.py [--models saved_models] [--repeats 20]
Writes benchmarks/results/panns_latency.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=str(REPO / "saved_models"))
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    args = ap.parse_args()

    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from cryvideo.detection.cnn10 import CNN10Detector
    from cryvideo.io import write_json_atomic, write_text_atomic
    from cryvideo.machine import machine
    from cryvideo.models.export import to_tflite
    from cryvideo.testing.media import synth_cry

    y = synth_cry(args.seconds, 16000, seed=1)
    d = Path(args.models)
    variants = {
        "keras float32": d / "cry_detector.keras",
        "tflite dynamic": d / "cry_detector_dynamic.tflite",
        "tflite int8": d / "cry_detector_int8.tflite",
    }
    rows = []
    for name, path in variants.items():
        det = CNN10Detector.load(path)
        if name == "keras float32":
            # TFLite float32 copy of the same model, for a like-for-like comparison
            import tempfile

            from cryvideo.models.cards import save_model_with_card

            blob = to_tflite(det.model, frames=det.window_frames)
            tmp = Path(tempfile.mkdtemp()) / "cry_detector_float32.tflite"
            card = det.card
            save_model_with_card(blob, tmp, type(card).from_dict(card.to_dict()))
            extra = [("tflite float32", tmp)]
        else:
            extra = []
        for nm, p in [(name, path), *extra]:
            det = CNN10Detector.load(p)
            det.detect(y)
            times = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                res = det.detect(y)
                times.append(time.perf_counter() - t)
            med = float(np.median(times))
            rows.append({"model": nm, "file": p.name, "bytes": p.stat().st_size,
                         "seconds_per_clip": med, "windows": int(len(res.window_probs)),
                         "realtime_factor": args.seconds / med})
            print(f"{nm:16s} {p.stat().st_size / 1024:8.0f} KiB  {1000 * med:7.1f} ms / "
                  f"{args.seconds:g} s clip  ×{args.seconds / med:.0f} real time", flush=True)
    meta = {**machine(), "threads": 1,
            "clip_seconds": args.seconds, "repeats": args.repeats,
            "note": "median wall time of CNN10Detector.detect on a waveform (log-mel + all 2 s "
            "windows at hop 0.5 s); the machine is shared, so times are upper bounds"}
    out = Path(args.out)
    write_json_atomic(out / "panns_latency.json", {**meta, "rows": rows})
    md = [f"Cry detector latency, one thread, {args.seconds:g} s clip, {meta['date']} "
          f"({meta['cpu']}, shared 2-core machine; median of {args.repeats}).", "",
          "| model | size KiB | ms per clip | × real time |", "|---|---|---|---|"]
    md += [f"| {r['model']} | {r['bytes'] / 1024:.0f} | {1000 * r['seconds_per_clip']:.1f} | "
           f"{r['realtime_factor']:.0f} |" for r in rows]
    write_text_atomic(out / "panns_latency.md", "\n".join(md) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
