"""Reading only parts of a recording for the reason branches: the crying spans the detector
found, decoded piece by piece (a day-long recording is never decoded whole)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from ..errors import InputFileError, ParameterError
from ..media import MediaInfo, load_audio

__all__ = ["SPAN_SECONDS", "read_spans", "branch_probabilities", "shared_probabilities"]

#: Longest piece of audio decoded at once for the reason branches (seconds): a day-long
#: recording is read span by span, never whole.
SPAN_SECONDS = 600.0


def read_spans(path, spans: Sequence[tuple[float, float]], *, sr: int, info: MediaInfo,
               max_seconds: float = SPAN_SECONDS) -> Iterator[np.ndarray]:
    """Decode only ``spans`` of a file, each in pieces of at most ``max_seconds``.

    Parameters
    ----------
    spans : sequence of (float, float)
        Start and end, seconds (the end may be ``inf``: to the end of the file).

    Yields
    ------
    np.ndarray [shape=(n,), dtype=float32]
        The samples of each piece, in order. A span ends early where the file does (a damaged
        file, or a header that claims more than it holds).
    """
    for a, b in spans:
        t = float(a)
        while t < b - 1e-6:
            d = min(float(b) - t, max_seconds)
            try:
                y = load_audio(path, sr=sr, offset=t, duration=d, info=info)
            except InputFileError:
                if t > a:          # past the end of what the file really holds
                    break
                raise
            if y.size:
                yield y
            if y.size < (d - 1.0) * sr:   # the file ended inside this piece
                break
            t += d


def branch_probabilities(br, pieces: Iterable[np.ndarray]) -> tuple[np.ndarray, float]:
    """A branch's probabilities over pieces of audio: the mean over all their analysis windows
    (a branch without windows: the mean of its answers, weighted by length).

    Returns
    -------
    p : np.ndarray [shape=(n_classes,), dtype=float32]
    seconds : float
        Seconds of audio read.
    """
    return shared_probabilities([br], pieces)[0]


def shared_probabilities(branches: Sequence, pieces: Iterable[np.ndarray]
                         ) -> list[tuple[np.ndarray, float]]:
    """:func:`branch_probabilities` of several branches that read audio at one sample rate,
    over the same pieces, decoded once and handed to each branch in turn.

    Returns
    -------
    list of (p, seconds)
        One per branch, in order.

    Examples
    --------
    >>> pieces = read_spans("clip.mp4", [(0.0, 2.9)], sr=8000, info=info)  # doctest: +SKIP
    >>> (p_mfcc, s), (p_stft, _) = shared_probabilities([mfcc, stft], pieces)  # doctest: +SKIP
    """
    rates = {br.sr for br in branches}
    if len(rates) > 1:
        raise ParameterError(f"branches read at different sample rates: {sorted(rates)}")
    windows = [[] for _ in branches]
    weighted = [[] for _ in branches]
    seconds = 0.0
    for y in pieces:
        seconds += y.size / branches[0].sr
        for i, br in enumerate(branches):
            if hasattr(br, "predict_windows"):
                windows[i].append(br.predict_windows(y))
            else:
                weighted[i].append((br.predict_proba(y), y.size))
    out = []
    for win, wei in zip(windows, weighted, strict=True):
        if win:
            p = np.concatenate(win).mean(axis=0)
        else:
            p = sum(q * n for q, n in wei) / max(1, sum(n for _, n in wei))
        p = np.asarray(p, dtype=np.float64)
        out.append(((p / p.sum()).astype(np.float32), seconds))
    return out
