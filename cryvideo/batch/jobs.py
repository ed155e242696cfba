"""The work a batch does to one file: :class:`PredictJob` (``predict``) and :class:`DetectJob`
(``detect``), each a small picklable description of the options, with the models loaded once
per process thread and kept between files (a Dask worker keeps them for its whole life)."""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

from ..errors import InputFileError, ParameterError
from ..progress import Progress
from ..version import __version__
from .settings import DetectSettings

if TYPE_CHECKING:
    from ..pipeline.settings import PredictSettings

__all__ = ["FileOutcome", "PredictJob", "DetectJob", "run_file", "partial_outcome",
           "error_outcome", "as_given", "FILE_HOOKS", "loaded_models", "forget_models"]

#: Callables run on each file, ``hook(path)``, just before it is analysed: here, and on the
#: workers of a Dask run (the hooks installed where the run starts are sent with each file).
#: Empty in normal use; the reliability tests install faults here (:mod:`cryvideo.testing.faults`:
#: a worker killed, a file that never finishes).
FILE_HOOKS: list[Callable[[str], None]] = []

_LOADED: dict[object, object] = {}
_LOCK = threading.Lock()


@dataclasses.dataclass
class FileOutcome:
    """What became of one file of a batch.

    Attributes
    ----------
    index : int
        Its position in the batch's input list.
    path : str
    status : {"ok", "error", "interrupted"}
        ``interrupted``: stopped part-way (Ctrl-C on a long file); its record holds what was
        found until then, and ``--resume`` analyses it again.
    result : object or None
        The job's result object (for the text output and the reports); None for an error.
    record : dict
        The file's JSON record: what ``--json`` prints and the outputs store.
    error : CryVideoError or None
    """

    index: int
    path: str
    status: str
    result: object
    record: dict
    error: Exception | None = None


def loaded_models(job, progress: Progress | None = None):
    """The job's loaded models, from this thread's cache (loaded on its first call).

    One copy per thread: a TFLite interpreter must not run two files at once, and a Dask worker
    with T threads runs T files at once (an embedded cluster's workers have one thread each).
    """
    key = (job, threading.get_ident())
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = job.load(progress=progress)
        return _LOADED[key]


def forget_models(job) -> None:
    """Drop this thread's loaded models of ``job`` (the next call loads them again)."""
    with _LOCK:
        _LOADED.pop((job, threading.get_ident()), None)


def _model_hashes(objs) -> dict[str, str]:
    """``{model file name: sha256}`` of the cards of the loaded models among ``objs``."""
    out = {}
    for obj in objs:
        out.update(getattr(obj, "face_models", {}))  # the audio-visual verdict's face models
        card = obj if hasattr(obj, "sha256") else getattr(obj, "card", None)
        sha, name = getattr(card, "sha256", None), getattr(card, "file", None)
        if sha and name:
            out[str(name)] = str(sha)
    return dict(sorted(out.items()))


def _stamp(record: dict, status: str, models: dict[str, str]) -> dict:
    record["status"] = status
    record["models"] = models
    record["cryvideo_version"] = __version__
    return record


def _default_settings() -> PredictSettings:
    from ..pipeline.settings import PredictSettings

    return PredictSettings()


@dataclasses.dataclass(frozen=True)
class PredictJob:
    """``cryvideo predict`` on one file.

    Parameters
    ----------
    settings : cryvideo.pipeline.PredictSettings
        Every setting of ``predict`` (default: all defaults).

    Examples
    --------
    >>> from cryvideo.batch import PredictJob, run_file
    >>> from cryvideo.pipeline import PredictSettings
    >>> job = PredictJob(PredictSettings(fps=10))
    >>> run_file(job, "clip.mp4", 0).record["label"]     # doctest: +SKIP
    """

    command: ClassVar[str] = "predict"
    settings: PredictSettings = dataclasses.field(default_factory=_default_settings)

    def load(self, *, progress: Progress | None = None):
        """``(predictor, model hashes)``."""
        from ..pipeline import Predictor

        p = Predictor(self.settings, progress=progress)
        fusion = [p.fusion_card] if p.fusion_card is not None else []
        return p, _model_hashes([p.cry_detector, *p.audio_branches, p.face_model, *fusion])

    def analyse(self, path: str, *, progress: Progress | None = None):
        """The :class:`~cryvideo.pipeline.PredictionResult` of one file."""
        from ..media import probe

        info = probe(path)  # probe-level problems surface before any model is loaded
        predictor, _ = loaded_models(self, progress)
        return predictor.predict(path, info=info)

    def record(self, result) -> dict:
        _, models = loaded_models(self)
        return _stamp(result.to_dict(), "ok", models)

    def error_record(self, path: str, exc) -> dict:
        return _stamp({"path": str(path), "error": exc.message, "exit_code": exc.exit_code},
                      "error", {})


@dataclasses.dataclass(frozen=True)
class DetectJob:
    """``cryvideo detect`` on one file.

    Parameters
    ----------
    settings : DetectSettings
        How each file is analysed (validated when made). A ``model`` given relative to where
        the job is made is kept absolute: the same file on a worker started elsewhere.

    Examples
    --------
    >>> from cryvideo.batch import DetectJob, DetectSettings
    >>> job = DetectJob(DetectSettings(threshold=0.7, summary=True))
    >>> job.settings.threshold
    0.7
    """

    command: ClassVar[str] = "detect"
    settings: DetectSettings = DetectSettings()

    def __post_init__(self) -> None:
        model = self.settings.model
        if model is not None and not os.path.isabs(model):
            object.__setattr__(self, "settings",
                               dataclasses.replace(self.settings, model=os.path.abspath(model)))

    def load(self, *, progress: Progress | None = None):
        """``(detector, notes about where its file came from, model hashes)``."""
        from ..detection import backend_spec, load_detector
        from ..models.store import find_model

        s = self.settings
        model, notes, spec = s.model, [], backend_spec(s.backend)
        if model is None and spec.takes_model_file:
            model, note = find_model(spec.files)
            notes += [note] if note else []
        det = load_detector(s.backend, model=model, threshold=s.threshold, hop=s.hop)
        if spec.wrappable:
            from ..detection.audiovisual import with_face

            det, face_notes = with_face(det, s.face)
            notes += face_notes
        return det, notes, _model_hashes([det])

    def analyse(self, path: str, *, progress: Progress | None = None):
        """``(DetectionResult, notes, timings)`` of one file. Ctrl-C part-way raises
        KeyboardInterrupt with ``partial``: the same triple for what was found until then."""
        from ..detection.result import MIN_DETECT_SECONDS
        from ..media import probe
        from ..media.probe import short_decode_note

        t0 = time.perf_counter()
        info = probe(path)  # file problems surface before the model loads
        if not info.has_audio:
            raise InputFileError("has no audio stream", path=path)
        if info.duration is not None and info.duration < MIN_DETECT_SECONDS:
            raise InputFileError(f"too short ({info.duration:.2f} s; need at least "
                                 f"{MIN_DETECT_SECONDS} s)", path=path)
        timings = {"probe": round(time.perf_counter() - t0, 3)}
        det, notes, _ = loaded_models(self, progress)
        t1 = time.perf_counter()
        try:
            from ..detection.base import takes_info

            reuse = {"info": info} if takes_info(det) else {}   # probed once
            res = det.detect(path, progress=progress, **reuse)
        except KeyboardInterrupt as exc:
            part = getattr(exc, "partial", None)
            if part is not None:   # kept as this file's record
                stop = ("an unknown length" if info.duration is None
                        else f"{info.duration:.1f} s")
                exc.partial = (part, notes + [
                    f"interrupted at {part.duration:.1f} s of {stop}: the segments found "
                    "until then are kept"], timings)
            raise
        timings["detect"] = round(time.perf_counter() - t1, 3)
        timings["total"] = round(time.perf_counter() - t0, 3)
        short = short_decode_note(res.duration, info.duration)
        return res, notes + ([short] if short else []), timings

    def record(self, result) -> dict:
        from ..detection.summary import summarize_segments

        res, notes, timings = result
        _, _, models = loaded_models(self)
        rec = dict(res.to_dict(scores=self.settings.scores), notes=list(notes),
                   timings=dict(timings))
        if self.settings.summary:
            rec["summary"] = summarize_segments(res.segments, res.duration)
        return _stamp(rec, "ok" if res.complete else "interrupted", models)

    def error_record(self, path: str, exc) -> dict:
        return _stamp({"path": str(path), "error": exc.message, "exit_code": exc.exit_code,
                       "detector": {"name": self.settings.backend}}, "error", {})


def _worker_threads() -> int | None:
    """In a Dask worker running T tasks at once: cores/T, the model threads of each task (None
    outside a worker, or where ``$CRYVIDEO_THREADS`` says already)."""
    from .. import environment

    if environment.threads() is not None or "distributed" not in sys.modules:
        return None  # said already, or not in a Dask worker (importing Dask to ask costs 0.4 s)
    try:
        from distributed import get_worker

        nthreads = get_worker().state.nthreads
    except (ImportError, ValueError, AttributeError):
        return None  # not in a worker
    return max(1, (os.cpu_count() or 1) // max(1, nthreads))


def run_file(job, path: str, index: int, *, progress: Progress | None = None,
             threads: int | None = None,
             hooks: Sequence[Callable[[str], None]] | None = None) -> FileOutcome:
    """Run ``job`` on one file: the outcome, with a bad file (:class:`InputFileError`) as an
    error outcome. Any other :class:`~cryvideo.errors.CryVideoError` (a model problem) is
    raised: it would fail every file.

    This is the function a batch's workers run; it is also the serial path's.

    Parameters
    ----------
    threads : int, optional
        Threads of the models loaded for the file (:func:`cryvideo.tflite.thread_limit`);
        default: in a Dask worker running T files at once, cores/T, else the models' own.
    hooks : sequence of callable, optional
        Run on ``path`` first (default: :data:`FILE_HOOKS`).
    """
    from ..tflite import thread_limit

    if not isinstance(job, PredictJob | DetectJob):
        raise ParameterError(f"not a batch job: {type(job).__name__}")
    for hook in FILE_HOOKS if hooks is None else hooks:
        hook(path)
    with thread_limit(threads if threads is not None else _worker_threads()):
        try:
            result = job.analyse(path, progress=progress)
        except InputFileError as exc:
            return error_outcome(job, index, path, exc)
        rec = _tagged(job, job.record(result))
    return FileOutcome(index, str(path), rec["status"], result, rec)


def error_outcome(job, index: int, path: str, exc) -> FileOutcome:
    """The outcome of a file that failed with ``exc`` (a :class:`~cryvideo.errors.CryVideoError`),
    with its error record."""
    return FileOutcome(index, str(path), "error", None,
                       _tagged(job, job.error_record(path, exc)), exc)


def partial_outcome(job, path: str, index: int, exc: KeyboardInterrupt) -> FileOutcome | None:
    """The outcome of a file stopped part-way by Ctrl-C, when the job kept what it found."""
    part = getattr(exc, "partial", None)
    if part is None:
        return None
    rec = _tagged(job, job.record(part))
    rec["status"] = "interrupted"
    return FileOutcome(index, str(path), "interrupted", part, rec)


def _tagged(job, record: dict) -> dict:
    """``record`` saying which command made it (an output holds one command's records)."""
    record["command"] = job.command
    return record


def as_given(outcome: FileOutcome, path: str) -> FileOutcome:
    """The outcome of a file that was analysed under another name (its absolute path, for a
    worker that may run in another folder), renamed ``path``: the name the user gave.

    Every string equal to the name it was analysed under becomes ``path``: in the record, the
    result (its ``path``, the media's) and the error's file.
    """
    opened = outcome.path
    if opened == path:
        return outcome
    outcome.path = path
    outcome.record = _renamed(outcome.record, opened, path)
    outcome.result = _renamed(outcome.result, opened, path)
    if getattr(outcome.error, "path", None) == opened:
        outcome.error.path = path
    return outcome


def _renamed(obj, old: str, new: str):
    """``obj`` with every string equal to ``old`` replaced by ``new`` (in dicts, lists, tuples
    and dataclasses, copied where something changes; anything else as it is)."""
    if isinstance(obj, str):
        return new if obj == old else obj
    if type(obj) in (dict, list, tuple):
        items = obj.items() if isinstance(obj, dict) else enumerate(obj)
        changed = {k: r for k, v in items if (r := _renamed(v, old, new)) is not v}
        if not changed:
            return obj
        if isinstance(obj, dict):
            return {**obj, **changed}
        return type(obj)(changed.get(i, v) for i, v in enumerate(obj))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changed = {f.name: r for f in dataclasses.fields(obj) if f.init
                   and (r := _renamed(getattr(obj, f.name), old, new)) is not getattr(obj, f.name)}
        return dataclasses.replace(obj, **changed) if changed else obj
    return obj

