"""What ``predict`` answers: :class:`PredictionResult` for one file, :class:`BranchResult` for
each branch in it, and the helpers that put numbers into them."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np

from ..detection.result import DetectionResult
from ..errors import ParameterError
from ..media import MediaInfo

__all__ = ["BranchResult", "CryVerdict", "PredictionResult", "FileRun", "probabilities",
           "held_out", "trust_note", "trust", "AT_CHANCE"]

#: What the answer says of a reason whose models are no better than chance on held-out data.
AT_CHANCE = "a weak hint: no better than chance on held-out recordings"


@dataclasses.dataclass(frozen=True)
class CryVerdict:
    """The cry gate's answer for one file: the detector's typed result, and how the output
    names the detector. It becomes the record's ``crying`` dict only at output time
    (:meth:`to_dict`).

    The properties are the values the output shows (rounded as written): the reason branches
    read :attr:`segments` as well, so they read exactly the spans the record names.

    Attributes
    ----------
    result : DetectionResult
    detector : str
        The backend's name, with the model file's name when one was loaded, e.g.
        ``"yamnet-cry (cry_detector_yamnet_int8.tflite)"``.
    """

    result: DetectionResult
    detector: str

    @property
    def detected(self) -> bool:
        return bool(self.result.crying)

    @property
    def probability(self) -> float:
        """The clip score, rounded to 4 decimals."""
        return round(float(self.result.probability), 4)

    @property
    def threshold(self) -> float:
        return round(float(self.result.threshold), 4)

    @property
    def segments(self) -> list[list[float]]:
        """``[[start, end], …]`` seconds, rounded to 0.01 s."""
        return [[round(a, 2), round(b, 2)] for a, b in self.result.segments]

    @property
    def vetoed(self) -> bool:
        """Whether the face vetoed every segment the sound heard (so: no crying)."""
        return not self.detected and any(v.decision == "veto"
                                         for v in self.result.face_verdicts)

    def says(self) -> str:
        """The verdict in words, with its score: ``yes (score 0.92, threshold 0.45)``."""
        what = ("yes" if self.detected else
                "no, the face vetoed the sound" if self.vetoed else "no")
        return f"{what} (score {self.probability:.2f}, threshold {self.threshold:.2f})"

    def to_dict(self) -> dict:
        """``detected``, ``probability``, ``threshold``, ``segments``, ``detector``, (when
        the result names it) ``model``: what answered, without its threshold, and (when the
        face took part in the verdict) ``face``: each audio segment's verdict."""
        d = {"detected": self.detected, "probability": self.probability,
             "threshold": self.threshold, "segments": self.segments, "detector": self.detector}
        if self.result.detector:
            d["model"] = {k: v for k, v in self.result.detector.items() if k != "threshold"}
        if self.result.face is not None:
            d["face"] = dict(self.result.face)
        return d


@dataclasses.dataclass
class BranchResult:
    """What one branch said about one file."""

    name: str
    used: bool
    #: Whether the model that answered is trained; None when the branch did not run.
    trained: bool | None = None
    probabilities: dict[str, float] | None = None
    source: str = ""
    note: str = ""
    details: dict = dataclasses.field(default_factory=dict)

    @property
    def label(self) -> str | None:
        if not self.probabilities:
            return None
        return max(self.probabilities, key=self.probabilities.get)


@dataclasses.dataclass
class PredictionResult:
    """The answer for one file.

    Attributes
    ----------
    path : str
    label : str or None
        Most likely reason (None if nothing could be analysed, or no crying was detected).
    probabilities : dict
        Probability of every class (with no crying: what the branches would answer if it were
        a cry).
    trained : bool
        False when the answer comes only from untrained placeholders: then it is not a result.
    modalities : list of str
        Branches that contributed (``mfcc``, ``stft``, ``face``).
    branches : list of BranchResult
    fusion : str
        How the branch outputs were combined.
    timings : dict
        Seconds per stage.
    notes : list of str
        Things the user should know (no audio track, no face found, …).
    media : dict
        Probe result.
    crying : CryVerdict or None
        The cry detector's verdict, asked before any reason is given (its typed
        :class:`~cryvideo.detection.DetectionResult`; :meth:`to_dict` writes it as ``detected``,
        ``probability``, ``threshold``, ``segments`` (seconds), ``detector`` and ``model``).
        ``None`` when the gate is off or there is no audio. When not ``detected``, ``label`` is
        None (the probabilities are still reported: what the reason branches would say if it
        were a cry).
    """

    path: str
    label: str | None
    probabilities: dict[str, float]
    trained: bool
    modalities: list[str]
    branches: list[BranchResult]
    fusion: str
    timings: dict[str, float]
    notes: list[str]
    media: dict
    crying: CryVerdict | None = None
    #: How far to trust the reason (:func:`trust`); written first after the label.
    trust: dict | None = None
    #: Arrays kept for reports (waveform, face thumbnails, per-frame predictions); not in JSON.
    artifacts: dict = dataclasses.field(default_factory=dict, repr=False)

    def headline(self) -> str:
        """The answer in one line, how far to trust it included: ``crying: yes (score 0.92,
        threshold 0.45) · reason: hungry (probability 0.56) — a weak hint: no better than
        chance on held-out recordings``."""
        cry = ("not asked (no cry detector)" if self.crying is None else self.crying.says())
        if self.label is None:
            return f"crying: {cry} · no reason given"
        reason = f"{self.label} (probability {self.probabilities[self.label]:.2f})"
        statement = (self.trust or {}).get("statement")
        return f"crying: {cry} · reason: {reason}" + (f" — {statement}" if statement else "")

    def to_dict(self) -> dict:
        """The JSON record (the verdict serialised here, in its place among the fields; the
        trust statement right after the label, with the headline)."""
        art, cry, self.artifacts, self.crying = self.artifacts, self.crying, {}, None
        try:
            d = dataclasses.asdict(self)
        finally:
            self.artifacts, self.crying = art, cry
        d.pop("artifacts", None)
        d["crying"] = None if cry is None else cry.to_dict()
        d.pop("trust")
        for b, br in zip(d["branches"], self.branches, strict=True):
            b["label"] = br.label
        out = {}
        for k, v in d.items():
            out[k] = v
            if k == "label":
                out["trust"] = {"headline": self.headline(), **(self.trust or {})}
        return out


def probabilities(labels: Sequence[str], p: np.ndarray) -> dict[str, float]:
    """``{label: probability}``, rounded to 6 decimals, for the output."""
    p = np.asarray(p, dtype=float).reshape(-1)
    if p.shape[0] != len(labels):
        raise ParameterError(f"branch returned {p.shape[0]} probabilities for {len(labels)} labels")
    return {str(lab): round(float(v), 6) for lab, v in zip(labels, p, strict=True)}


def held_out(card) -> dict:
    """A branch card's held-out (grouped CV) balanced accuracy, for the output: ``{}`` when
    the card records none."""
    try:
        m = card.metrics["balanced_accuracy"]
        if "estimate" in m:  # pooled out-of-fold estimate with its group-bootstrap interval
            value, ci = m["estimate"], (m["low"], m["high"])
        else:  # mean over folds with its interval (a card from train-audio's own CV)
            value, ci = m["mean"], m["ci95"]
        return {"held_out_balanced_accuracy": round(float(value), 3),
                "held_out_ci95": [round(float(x), 3) for x in ci],
                "held_out_protocol": str(card.metrics.get("protocol", "grouped CV"))}
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        return {}


def _at_chance(known: Sequence[BranchResult], chance: float) -> bool:
    """Whether every branch's held-out interval reaches down to chance."""
    return all(b.details["held_out_ci95"][0] <= chance for b in known)


def trust(branches: Sequence[BranchResult], n_classes: int) -> dict:
    """How far to trust the reason the answering ``branches`` give, from their cards.

    Returns
    -------
    dict
        ``level``: ``"chance"`` (every held-out interval reaches chance), ``"above chance"``,
        ``"unknown"`` (no card records a held-out score), ``"untrained"`` or ``"none"`` (no
        branch answered); ``statement``: the words the outputs put beside the reason;
        ``chance``: one over the number of classes; ``held_out``: each branch's held-out
        balanced accuracy and its 95 % interval; ``protocol``: how they were measured.
    """
    chance = round(1.0 / max(1, n_classes), 4)
    if not branches:
        return {"level": "none", "statement": None, "chance": chance, "held_out": {}}
    trained = [b for b in branches if b.trained]
    if not trained:
        return {"level": "untrained", "statement": "UNTRAINED MODELS: not a result",
                "chance": chance, "held_out": {}}
    known = [b for b in trained if "held_out_balanced_accuracy" in b.details]
    held = {b.name: {"balanced_accuracy": b.details["held_out_balanced_accuracy"],
                     "ci95": list(b.details["held_out_ci95"])} for b in known}
    out = {"chance": chance, "held_out": held}
    if known:
        out["protocol"] = known[0].details.get("held_out_protocol", "grouped CV")
    if not known:
        return {"level": "unknown", "statement": "how far to trust it is unknown: the models' "
                "cards record no held-out score", **out}
    if _at_chance(known, chance):
        return {"level": "chance", "statement": AT_CHANCE, **out}
    figs = ", ".join(f"{b.name} {b.details['held_out_balanced_accuracy']:.2f}" for b in known)
    return {"level": "above chance", "statement": f"held-out balanced accuracy {figs} "
            f"(chance {chance:.2f})", **out}


def trust_note(branches: Sequence[BranchResult], n_classes: int) -> str | None:
    """One line saying how well the answering branches did on held-out data, against chance."""
    known = [b for b in branches if "held_out_balanced_accuracy" in b.details]
    if not known:
        return None
    chance = 1.0 / max(1, n_classes)
    at_chance = _at_chance(known, chance)
    figs = ", ".join(f"{b.name} {b.details['held_out_balanced_accuracy']:.2f}" for b in known)
    return (f"how far to trust the reason: on held-out recordings (grouped CV) these models "
            f"score balanced accuracy {figs}; chance is {chance:.2f}"
            + (" -- no better than chance: a weak hint at best, never a diagnosis"
               if at_chance else ""))


@dataclasses.dataclass
class FileRun:
    """What the stages of ``predict`` collect about one file, on the way to its
    :class:`PredictionResult`."""

    path: str | os.PathLike
    info: MediaInfo
    notes: list[str]
    timings: dict[str, float]
    results: list[BranchResult] = dataclasses.field(default_factory=list)
    art: dict = dataclasses.field(default_factory=dict)

    def add(self, other: FileRun) -> None:
        """Add what another run of the same file collected (a stage run on its own) after
        what this one holds."""
        self.notes += other.notes
        self.timings.update(other.timings)
        self.results += other.results
        self.art.update(other.art)
