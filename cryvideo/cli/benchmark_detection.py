"""``cryvideo benchmark detection [DATA_DIR]``: grouped CV of the cry detectors, per recording.

Writes ``detection_cv.json`` (every out-of-fold score), ``detection.json`` (the metrics),
``detection.md`` (the report) and ``detection.png`` into ``--out`` (``--render-only`` rewrites
the last two from the first two, recomputing nothing); with ``--ship-to DIR`` it
then trains the shipped recipe on the whole corpus and writes the TFLite detectors and their
cards into ``DIR`` (``saved_models``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HELP = "cry detection: grouped CV per recording (YAMNet head vs zero-shot vs CNN10)"


def add_subparser(benchsub) -> None:
    """Register ``detection`` under ``cryvideo benchmark``."""
    p = benchsub.add_parser("detection", help=HELP, description=HELP)
    p.add_argument("data_dir", nargs="?", default=None, metavar="DATA_DIR",
                   help="folder with cry_detection/, vocal_negatives/ and donateacry/ "
                   "(default: ../shared/data beside the repository)")
    p.add_argument("--seeds", type=int, nargs="+", default=[10, 11, 12],
                   help="one fold assignment per seed (default: %(default)s)")
    p.add_argument("--folds", type=int, default=5, help="grouped folds (default: %(default)s)")
    p.add_argument("--recipes", nargs="+", default=None, metavar="RECIPE",
                   help="recipes of cryvideo.training.cry_detector.RECIPES (default: all)")
    p.add_argument("--no-cnn10", action="store_true", help="leave out the CNN10 peer")
    p.add_argument("--costly-seeds", type=int, default=1,
                   help="seeds on which the fine-tuning recipes and the fully integer TFLite "
                   "run (default: %(default)s)")
    p.add_argument("--tflite", nargs="+", default=None, metavar="KIND",
                   choices=["float32", "int8", "int8_full", "none"],
                   help="TFLite files of the shipped recipe to score on the costly seeds "
                   "(default: all three; none: no TFLite file)")
    p.add_argument("--checkpoint", metavar="DIR", default=None,
                   help="save each finished fold here; a rerun resumes from it")
    p.add_argument("--resume-from", metavar="FILE", default=None,
                   help="an earlier run's detection_cv.json: its folds go into --checkpoint "
                   "first, so only what it lacks is trained (e.g. --costly-seeds 3 after a "
                   "run with 1)")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples")
    p.add_argument("--out", default="benchmarks/results", metavar="DIR",
                   help="results folder (default: %(default)s)")
    p.add_argument("--report-only", action="store_true",
                   help="rewrite the report from --out/detection_cv.json")
    p.add_argument("--render-only", action="store_true",
                   help="rewrite detection.md and detection.png from the figures of "
                   "--out/detection.json, recomputing nothing (the run's facts and corpus "
                   "table from --out/detection_cv.json); needs no data")
    p.add_argument("--ship-to", metavar="DIR", default=None,
                   help="then train the shipped recipe on all data and save it into DIR")
    p.add_argument("--ship-seeds", nargs="+", default=None, metavar="SEED",
                   help="with --ship-to: epochs and threshold from these seeds' folds only "
                   "(default: every seed's)")
    p.add_argument("--refresh-cards", metavar="DIR", default=None,
                   help="rewrite the CV metrics in the cards of the detectors in DIR (trained "
                   "with the same recipe) from this run; the model files stay")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.detection import category_table, default_data_root, load_detection_corpus
    from ..errors import DatasetError, ParameterError
    from ..io import write_json_atomic, write_text_atomic
    from ..studies.detection import run_detection_cv, summarize_detection_cv
    from ..training.cry_detector import RECIPES

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ParameterError("--out must be a folder", path=out)
    if args.render_only:
        other = [f for f, v in (("--report-only", args.report_only), ("--ship-to", args.ship_to),
                                ("--refresh-cards", args.refresh_cards),
                                ("--resume-from", args.resume_from)) if v]
        if other:
            raise ParameterError(f"--render-only recomputes and writes nothing but the report; "
                                 f"drop {', '.join(other)}")
        return _render_only(out)
    if args.folds < 2:
        raise ParameterError(f"--folds must be at least 2, got {args.folds}")
    if args.n_boot < 100:
        raise ParameterError(f"--n-boot must be at least 100, got {args.n_boot}")
    recipes = tuple(RECIPES if args.recipes is None else args.recipes)
    bad = [r for r in recipes if r not in RECIPES]
    if bad:
        raise ParameterError(f"unknown recipe(s) {', '.join(bad)} (known: "
                             f"{', '.join(RECIPES)})")
    data = Path(args.data_dir) if args.data_dir is not None else default_data_root()
    if data is None or not data.is_dir():
        raise DatasetError("data folder not found (give DATA_DIR, e.g. ../shared/data)",
                           path="../shared/data" if args.data_dir is None else args.data_dir)
    raw = out / "detection_cv.json"
    if args.resume_from is not None and not args.report_only:
        if args.checkpoint is None:
            raise ParameterError("--resume-from needs --checkpoint DIR (where its folds go)")
        src = Path(args.resume_from)
        if not src.is_file():
            raise DatasetError("no such results file for --resume-from", path=src)
        try:
            earlier = json.loads(src.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            earlier = None
        if not (isinstance(earlier, dict) and "seeds" in earlier):
            raise DatasetError("not a detection_cv.json of `cryvideo benchmark detection`",
                               path=src)
        from ..studies.detection import checkpoint_from_result

        n = checkpoint_from_result(earlier, args.checkpoint, data_root=data)
        print(f"{n} finished fold(s) of {src} written into {args.checkpoint}", flush=True)
    if args.report_only:
        if not raw.is_file():
            raise DatasetError("no detection_cv.json to report from", path=raw)
        result = json.loads(raw.read_text(encoding="utf-8"))
    else:
        result = run_detection_cv(data, seeds=tuple(args.seeds), n_splits=args.folds,
                                  recipes=recipes, cnn10=not args.no_cnn10,
                                  costly_seeds=args.costly_seeds,
                                  checkpoint_dir=args.checkpoint,
                                  quantize=(True if args.tflite is None else
                                            False if "none" in args.tflite else
                                            tuple(args.tflite)),
                                  log=lambda m: print(m, flush=True))
        import datetime as dt
        import platform

        from ..machine import machine_line

        result["machine"] = machine_line()
        result["date"] = dt.date.today().isoformat()
        result["python"] = platform.python_version()
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(raw, json.dumps(result, separators=(",", ":")))
    summary = summarize_detection_cv(result, n_boot=args.n_boot)
    write_json_atomic(out / "detection.json", summary)
    table = category_table(load_detection_corpus(data))
    sizes = None
    if args.ship_to:
        from ..training.detector_ship import train_shipped_detector

        shipped = train_shipped_detector(data, args.ship_to, cv_result=result,
                                         cv_summary=summary, choice_seeds=args.ship_seeds,
                                         log=lambda m: print(m, flush=True))
        sizes = {f: (Path(args.ship_to) / f).stat().st_size for f in shipped["cards"]}
        write_json_atomic(out / "detection_shipped.json", shipped)
    elif args.refresh_cards:
        from ..training.detector_ship import refresh_card_metrics

        refresh_card_metrics(args.refresh_cards, result, summary)
        print(f"refreshed the CV metrics of the detector cards in {args.refresh_cards}")
    if not args.ship_to and (out / "detection_shipped.json").is_file():
        shipped = json.loads((out / "detection_shipped.json").read_text(encoding="utf-8"))
        sizes = shipped.get("sizes")
    if sizes and args.ship_to:
        shipped["sizes"] = sizes
        write_json_atomic(out / "detection_shipped.json", shipped)
    _write_report(out, summary, result, table, sizes)
    return 0


def _write_report(out: Path, summary: dict, result: dict, table: list[dict],
                  sizes: dict | None) -> None:
    from ..io import write_text_atomic
    from ..studies.detection_report import detection_figure, detection_markdown

    md = detection_markdown(summary, result_meta=result, corpus_table=table, sizes=sizes,
                            machine=result.get("machine"), generated=result.get("date"),
                            python=result.get("python"))
    write_text_atomic(out / "detection.md", md)
    detection_figure(summary, out / "detection.png")
    print(f"wrote {out / 'detection.md'}")


def _render_only(out: Path) -> int:
    """``--render-only``: the report again from the committed figures, nothing recomputed."""
    import datetime as dt

    from ..errors import DatasetError
    from ..io import write_text_atomic
    from ..studies.detection_report import detection_figure, report_from_results

    docs = {}
    for name in ("detection.json", "detection_cv.json"):
        f = out / name
        try:
            docs[name] = json.loads(f.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DatasetError(f"no {name} to render the report from", path=f) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise DatasetError(f"not a JSON file ({exc})", path=f) from None
    summary, result = docs["detection.json"], docs["detection_cv.json"]
    if not (isinstance(summary, dict) and "methods" in summary and isinstance(result, dict)
            and "clips" in result):
        raise DatasetError("not the results of `cryvideo benchmark detection`", path=out)
    old = out / "detection.md"
    shipped = out / "detection_shipped.json"
    sizes = (json.loads(shipped.read_text(encoding="utf-8")).get("sizes")
             if shipped.is_file() else None)
    md = report_from_results(summary, result, sizes=sizes,
                             previous=old.read_text(encoding="utf-8") if old.is_file() else "",
                             rendered=dt.date.today().isoformat())
    write_text_atomic(old, md)
    detection_figure(summary, out / "detection.png")
    print(f"wrote {old}")
    return 0
