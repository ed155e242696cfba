"""Frozen-backbone throughput (frames/s at 224×224): Keras vs TFLite fp32 + XNNPACK.

ResNet-50 is measured with RANDOM initialisation: its ImageNet weights cannot be had on this
machine, and the speed of the network does not depend on the weights' values. The bound: ResNet-50
is ~8.2 GFLOP a frame; 2 AVX2+FMA cores peak near 190 GFLOP/s, so ~23 frames/s.

Usage::

    python benchmarks/bench_backbone.py [--frames 64] [--threads 2]

Writes ``benchmarks/results/backbone.json`` and ``backbone.md``.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from common import RESULTS, loadavg, machine

PEAK_GFLOPS_2_CORES = 190.0


def cpu_isa() -> str:
    """The widest vector FMA the CPU reports (the bound above assumes AVX2+FMA)."""
    try:
        flags = next((ln.split(":", 1)[1].split() for ln in open("/proc/cpuinfo")
                      if ln.startswith("flags")), [])
    except OSError:
        return "unknown"
    if "avx512f" in flags:
        return "AVX-512" + (" + AMX" if "amx_tile" in flags else "")
    return "AVX2+FMA" if "avx2" in flags and "fma" in flags else "pre-AVX2"


CPU = {}


def _rate(fn, batch: np.ndarray, n_frames: int, key: str = "") -> float:
    """Frames per wall-clock second; also records frames per CPU-second of this process in
    ``CPU[key]`` (on a shared machine, 2 × that estimates the rate with both cores to itself)."""
    fn(batch)  # warm-up (trace / allocate)
    done = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while done < n_frames:
        fn(batch)
        done += len(batch)
    CPU[key] = done / max(time.process_time() - c0, 1e-9)
    return done / (time.perf_counter() - t0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--backbones", default="resnet50,mobilenet")
    args = ap.parse_args(argv)

    import os

    os.environ.setdefault("CRYVIDEO_CACHE_DIR", str(RESULTS.parents[1] / ".cache" / "cryvideo"))
    from cryvideo.vision.backbones import BACKBONES, build_backbone, preprocess

    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, size=(args.batch, 224, 224, 3), dtype=np.uint8)
    info = machine()
    results = []
    for name in args.backbones.split(","):
        spec = BACKBONES[name]
        bound = PEAK_GFLOPS_2_CORES / spec.gflop_per_frame
        kb = build_backbone(name, weights="random", runtime="keras", batch_size=args.batch)
        load0 = loadavg()
        r_graph = _rate(kb.features, crops, args.frames, "graph")
        r_predict = _rate(lambda x, m=kb.model, s=spec: m.predict(
            preprocess(x, s.preprocessing), verbose=0, batch_size=args.batch), crops, args.frames)
        t0 = time.perf_counter()
        tb = build_backbone(name, weights="random", runtime="tflite", threads=args.threads,
                            batch_size=args.batch)
        t_convert = time.perf_counter() - t0
        r_tflite = _rate(tb.features, crops, args.frames, "tflite")
        row = {"backbone": name, "weights": "random init (speed only)",
               "gflop_per_frame": spec.gflop_per_frame,
               "bound_frames_per_s_2_cores": round(bound, 1),
               "keras_graph_frames_per_s": round(r_graph, 2),
               "keras_predict_frames_per_s": round(r_predict, 2),
               "tflite_xnnpack_frames_per_s": round(r_tflite, 2),
               "tflite_threads": args.threads,
               "keras_graph_frames_per_cpu_s": round(CPU["graph"], 2),
               "tflite_frames_per_cpu_s": round(CPU["tflite"], 2),
               "tflite_est_frames_per_s_2_free_cores": round(2 * CPU["tflite"], 1),
               "tflite_share_of_bound": round(r_tflite / bound, 3),
               "tflite_build_s (convert or load cached)": round(t_convert, 1),
               "loadavg_before": load0, "loadavg_after": loadavg()}
        results.append(row)
        print(row, flush=True)
    out = {"machine": info, "frames": args.frames, "batch": args.batch,
           "bound_frames_per_s": round(PEAK_GFLOPS_2_CORES / BACKBONES["resnet50"].gflop_per_frame,
                                       1),
           "note": "ResNet-50 with random weights (ImageNet weights unavailable here); same "
                   "network, same speed. The machine is shared: see loadavg.",
           "results": results}
    from cryvideo.io import write_json_atomic, write_text_atomic

    write_json_atomic(RESULTS / "backbone.json", out)
    isa = cpu_isa()
    lines = ["# Frozen backbone throughput (224×224 face crops)", "",
             f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores), TF "
             f"{info['tensorflow']}, Keras {info['keras']}. Load average at start "
             f"{info['loadavg_1_5_15']} (the machine is shared by several people).", "",
             "ResNet-50 uses **random initialisation**: its ImageNet weights are not obtainable "
             "here; the speed does not depend on the weight values. Bound: "
             f"{PEAK_GFLOPS_2_CORES:.0f} GFLOP/s (2 AVX2+FMA cores) / GFLOP per frame."
             + (f" **This CPU has {isa}**: twice the FMA width of AVX2, so its bound is "
                "about twice the one shown, and a share above 100 % is possible."
                if isa.startswith("AVX-512") else ""), "",
             "| backbone | GFLOP/frame | bound (fr/s) | Keras graph | Keras predict | "
             "TFLite XNNPACK | TFLite / bound | TFLite fr per CPU-s (×2: est. with 2 free "
             "cores) | load before → after |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['backbone']} | {r['gflop_per_frame']} | {r['bound_frames_per_s_2_cores']} | "
            f"{r['keras_graph_frames_per_s']} | {r['keras_predict_frames_per_s']} | "
            f"{r['tflite_xnnpack_frames_per_s']} ({r['tflite_threads']} threads) | "
            f"{100 * r['tflite_share_of_bound']:.0f}% | {r['tflite_frames_per_cpu_s']} "
            f"(≈ {r['tflite_est_frames_per_s_2_free_cores']}) | {r['loadavg_before']} → "
            f"{r['loadavg_after']} |")
    lines += ["", "Frame rates are wall-clock and were taken on a machine shared with other "
              "jobs (see the load): they are lower bounds. Frames per CPU-second of this "
              "process, ×2, estimates the rate with both cores free (an estimate: it assumes "
              "the 2 threads scale perfectly).", "",
              "Keras graph = the backbone's own traced call (`Backbone.features`, "
              "runtime keras); Keras predict = `model.predict`; TFLite = `runtime='tflite'` "
              "(the `predict` default), converted once and cached keyed by the weights.", ""]
    write_text_atomic(RESULTS / "backbone.md", "\n".join(lines))
    print(f"wrote {RESULTS / 'backbone.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
