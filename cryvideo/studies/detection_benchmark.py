"""``cryvideo benchmark detection``, callable from Python: the grouped CV of the cry detectors
(:mod:`cryvideo.studies.detection_cv`), its results files and report, and shipping its recipe.

Into ``out`` go ``detection_cv.json`` (every out-of-fold score), ``detection.json`` (the
metrics), ``detection.md`` (the report) and ``detection.png``. With ``ship_to`` the shipped
recipe is then trained on the whole corpus and saved as TFLite with cards
(:func:`cryvideo.training.detector_ship.train_shipped_detector`); with ``refresh_cards`` the
cards of detectors already there get this run's CV figures. :func:`render_detection_report`
rewrites the report from the committed figures alone, recomputing nothing.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

from ..errors import DatasetError, ParameterError

__all__ = ["DetectionBenchmarkSettings", "run_detection_benchmark",
           "render_detection_report", "TFLITE_CHOICES"]

#: What ``tflite`` may name: the TFLite files of the shipped recipe, or ``none``.
TFLITE_CHOICES = ("float32", "int8", "int8_full", "none")

Log = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class DetectionBenchmarkSettings:
    """What ``benchmark detection`` runs; every value is checked when the object is made
    (before any data or model loads).

    Attributes
    ----------
    data_dir : str or os.PathLike, optional
        Folder with ``cry_detection/``, ``vocal_negatives/`` and ``donateacry/`` (default:
        ``../shared/data`` beside the repository).
    seeds : tuple of int
        One fold assignment per seed.
    folds : int
        Grouped folds (at least 2).
    recipes : tuple of str, optional
        Recipes of :data:`cryvideo.training.yamnet_cry.RECIPES` (default: all).
    cnn10 : bool
        Also retrain and score the CNN10 peer.
    costly_seeds : int
        Seeds on which the fine-tuning recipes and the fully integer TFLite run.
    tflite : tuple of str, optional
        Among :data:`TFLITE_CHOICES`: the TFLite files of the shipped recipe to score on the
        costly seeds (default: all three; ``("none",)``: none).
    checkpoint : str or os.PathLike, optional
        Folder keeping each finished fold; a rerun resumes from it.
    resume_from : str or os.PathLike, optional
        An earlier run's ``detection_cv.json``: its folds go into ``checkpoint`` first.
    n_boot : int
        Bootstrap resamples (at least 100).
    out : str or os.PathLike
        Results folder.
    report_only : bool
        Rewrite the report from ``out/detection_cv.json`` instead of running the CV.
    ship_to : str or os.PathLike, optional
        Then train the shipped recipe on all data and save it into this folder.
    ship_seeds : tuple of str, optional
        With ``ship_to``: epochs and threshold from these seeds' folds only.
    refresh_cards : str or os.PathLike, optional
        Rewrite the CV metrics in the cards of the detectors in this folder.

    Examples
    --------
    >>> from cryvideo.studies.detection_benchmark import DetectionBenchmarkSettings
    >>> s = DetectionBenchmarkSettings(seeds=(10,), folds=3, recipes=("gated",), cnn10=False)
    >>> s.quantize
    True
    """

    data_dir: str | None = None
    seeds: tuple[int, ...] = (10, 11, 12)
    folds: int = 5
    recipes: tuple[str, ...] | None = None
    ship: str = "gated"
    cnn10: bool = True
    costly_seeds: int = 1
    tflite: tuple[str, ...] | None = None
    checkpoint: str | None = None
    resume_from: str | None = None
    n_boot: int = 2000
    out: str = "benchmarks/results"
    report_only: bool = False
    ship_to: str | None = None
    ship_seeds: tuple[str, ...] | None = None
    refresh_cards: str | None = None

    def __post_init__(self) -> None:
        from ..training.yamnet_cry import RECIPES

        out = Path(self.out)
        if out.exists() and not out.is_dir():
            raise ParameterError("--out must be a folder", path=out)
        if self.folds < 2:
            raise ParameterError(f"--folds must be at least 2, got {self.folds}")
        if self.n_boot < 100:
            raise ParameterError(f"--n-boot must be at least 100, got {self.n_boot}")
        if not self.seeds:
            raise ParameterError("--seeds: give at least one seed")
        bad = [r for r in (*(self.recipes or ()), self.ship) if r not in RECIPES]
        if bad:
            raise ParameterError(f"unknown recipe(s) {', '.join(bad)} (known: "
                                 f"{', '.join(RECIPES)})")
        bad = [k for k in self.tflite or () if k not in TFLITE_CHOICES]
        if bad:
            raise ParameterError(f"--tflite: unknown kind(s) {', '.join(bad)} (known: "
                                 f"{', '.join(TFLITE_CHOICES)})")
        if self.resume_from is not None and not self.report_only and self.checkpoint is None:
            raise ParameterError("--resume-from needs --checkpoint DIR (where its folds go)")

    @property
    def quantize(self) -> bool | tuple[str, ...]:
        """The ``quantize`` argument of :func:`~cryvideo.studies.detection_cv.run_detection_cv`."""
        if self.tflite is None:
            return True
        return False if "none" in self.tflite else tuple(self.tflite)

    def data_root(self) -> Path:
        """The data folder, checked to exist (:class:`~cryvideo.errors.DatasetError`)."""
        from ..data.cry_corpus import default_data_root

        data = Path(self.data_dir) if self.data_dir is not None else default_data_root()
        if data is None or not data.is_dir():
            raise DatasetError("data folder not found (give DATA_DIR, e.g. ../shared/data)",
                               path="../shared/data" if self.data_dir is None else self.data_dir)
        return data


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"no {what}", path=path) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DatasetError(f"not a JSON file ({exc})", path=path) from None


def _seed_checkpoint(s: DetectionBenchmarkSettings, data: Path, log: Log) -> None:
    """``resume_from``: the earlier run's finished folds go into ``s.checkpoint``."""
    from .detection_cv import checkpoint_from_result

    src = Path(s.resume_from)
    if not src.is_file():
        raise DatasetError("no such results file for --resume-from", path=src)
    try:
        earlier = json.loads(src.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        earlier = None
    if not (isinstance(earlier, dict) and "seeds" in earlier):
        raise DatasetError("not a detection_cv.json of `cryvideo benchmark detection`",
                           path=src)
    n = checkpoint_from_result(earlier, s.checkpoint, data_root=data)
    log(f"{n} finished fold(s) of {src} written into {s.checkpoint}")


def _cv_result(s: DetectionBenchmarkSettings, data: Path, log: Log) -> dict:
    """The CV's raw result: run (and written to ``detection_cv.json``), or read from it."""
    import datetime as dt
    import platform

    from ..io import write_text_atomic
    from ..machine import machine_line
    from ..training.yamnet_cry import RECIPES
    from .detection_cv import run_detection_cv

    raw = Path(s.out) / "detection_cv.json"
    if s.report_only:
        if not raw.is_file():
            raise DatasetError("no detection_cv.json to report from", path=raw)
        return json.loads(raw.read_text(encoding="utf-8"))
    result = run_detection_cv(data, seeds=tuple(s.seeds), n_splits=s.folds,
                              recipes=tuple(s.recipes or RECIPES), ship=s.ship,
                              cnn10=s.cnn10,
                              costly_seeds=s.costly_seeds, checkpoint_dir=s.checkpoint,
                              quantize=s.quantize, log=log)
    result["machine"] = machine_line()
    result["date"] = dt.date.today().isoformat()
    result["python"] = platform.python_version()
    raw.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(raw, json.dumps(result, separators=(",", ":")))
    return result


def _ship_or_refresh(s: DetectionBenchmarkSettings, data: Path, result: dict, summary: dict,
                     log: Log) -> dict | None:
    """Ship the recipe or refresh the cards as asked; the model file sizes for the report."""
    from ..io import write_json_atomic

    shipped_json = Path(s.out) / "detection_shipped.json"
    if s.ship_to:
        from ..training.detector_ship import train_shipped_detector

        shipped = train_shipped_detector(data, s.ship_to, cv_result=result, cv_summary=summary,
                                         choice_seeds=s.ship_seeds, log=log)
        sizes = {f: (Path(s.ship_to) / f).stat().st_size for f in shipped["cards"]}
        write_json_atomic(shipped_json, {**shipped, "sizes": sizes} if sizes else shipped)
        return sizes
    if s.refresh_cards:
        from ..training.detector_ship import refresh_card_metrics

        refresh_card_metrics(s.refresh_cards, result, summary)
        log(f"refreshed the CV metrics of the detector cards in {s.refresh_cards}")
    if shipped_json.is_file():
        return json.loads(shipped_json.read_text(encoding="utf-8")).get("sizes")
    return None


def run_detection_benchmark(settings: DetectionBenchmarkSettings, *,
                            log: Log = print) -> Path:
    """Run (or, with ``report_only``, re-read) the grouped CV, write its results and report,
    then ship or refresh cards as the settings ask.

    Parameters
    ----------
    settings : DetectionBenchmarkSettings
    log : callable
        Progress lines.

    Returns
    -------
    Path
        The report written (``out/detection.md``).

    Raises
    ------
    DatasetError
        No data folder; a ``resume_from`` file that is not a CV result; no
        ``detection_cv.json`` to report from.

    Examples
    --------
    >>> from cryvideo.studies.detection_benchmark import (DetectionBenchmarkSettings,
    ...                                                   run_detection_benchmark)
    >>> s = DetectionBenchmarkSettings("../shared/data", seeds=(10,), folds=2,
    ...                                recipes=("gated",), cnn10=False, out="/tmp/det")
    >>> run_detection_benchmark(s)                          # doctest: +SKIP
    PosixPath('/tmp/det/detection.md')
    """
    from ..data.cry_corpus import category_table, load_detection_corpus
    from ..io import write_json_atomic
    from .detection_cv import summarize_detection_cv

    data = settings.data_root()
    if settings.resume_from is not None and not settings.report_only:
        _seed_checkpoint(settings, data, log)
    result = _cv_result(settings, data, log)
    summary = summarize_detection_cv(result, n_boot=settings.n_boot)
    out = Path(settings.out)
    write_json_atomic(out / "detection.json", summary)
    table = category_table(load_detection_corpus(data))
    sizes = _ship_or_refresh(settings, data, result, summary, log)
    return _write_report(out, summary, result, table, sizes)


def _write_report(out: Path, summary: dict, result: dict, table: list[dict],
                  sizes: dict | None) -> Path:
    from ..io import write_text_atomic
    from .detection_cv_report import detection_figure, detection_markdown

    md = detection_markdown(summary, result_meta=result, corpus_table=table, sizes=sizes,
                            machine=result.get("machine"), generated=result.get("date"),
                            python=result.get("python"))
    write_text_atomic(out / "detection.md", md)
    detection_figure(summary, out / "detection.png")
    return out / "detection.md"


def render_detection_report(out="benchmarks/results") -> Path:
    """Rewrite ``detection.md`` and ``detection.png`` in ``out`` from the figures of
    ``detection.json`` (the run's facts and corpus table from ``detection_cv.json``),
    recomputing nothing; needs no data.

    Returns
    -------
    Path
        The report written.

    Raises
    ------
    ParameterError
        ``out`` is a file.
    DatasetError
        A results file is missing or is not that of ``benchmark detection``.

    Examples
    --------
    >>> from cryvideo.studies.detection_benchmark import render_detection_report
    >>> render_detection_report("benchmarks/results")        # doctest: +SKIP
    PosixPath('benchmarks/results/detection.md')
    """
    import datetime as dt

    from ..io import write_text_atomic
    from .detection_cv_report import detection_figure, report_from_results

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError("--out must be a folder", path=out)
    summary = _read_json(out / "detection.json", "detection.json to render the report from")
    result = _read_json(out / "detection_cv.json",
                        "detection_cv.json to render the report from")
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
    return old
