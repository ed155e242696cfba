"""Resampling a stream block by block, as :func:`scipy.signal.resample_poly` does a whole signal.

A microphone delivers samples at its own rate (44.1 or 48 kHz) in small blocks; the detector
needs 16 kHz. :class:`StreamResampler` gives the samples that ``resample_poly`` gives for the
whole signal (same Kaiser-windowed low-pass filter), each as soon as the input it depends on
has arrived (a delay of ``10 * max(up, down) / up`` input samples: under 1 ms at 48 kHz).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ParameterError

__all__ = ["StreamResampler"]


class StreamResampler:
    """Polyphase resampling from ``rate_in`` to ``rate_out`` Hz over consecutive blocks.

    Parameters
    ----------
    rate_in, rate_out : int
        Sample rates (Hz).

    Notes
    -----
    Output sample ``n`` is ``sum_j x[j] * h[n * down + half - j * up]`` with ``up / down`` the
    reduced ratio and ``h`` the filter of :func:`scipy.signal.resample_poly` (length
    ``2 * half + 1``, ``half = 10 * max(up, down)``); samples before the first are zeros, as
    there.
    """

    def __init__(self, rate_in: int, rate_out: int) -> None:
        if int(rate_in) <= 0 or int(rate_out) <= 0:
            raise ParameterError(f"sample rates must be positive, got {rate_in} and {rate_out}")
        import scipy.signal

        g = math.gcd(int(rate_in), int(rate_out))
        self.up, self.down = int(rate_out) // g, int(rate_in) // g
        self.half = 10 * max(self.up, self.down)
        h = np.zeros(1) if self.identity else scipy.signal.firwin(
            2 * self.half + 1, 1.0 / max(self.up, self.down), window=("kaiser", 5.0)) * self.up
        self._h = np.concatenate([h, [0.0]]).astype(np.float64)   # index 2*half+1: zero
        self.taps = 2 * self.half // self.up + 2                    # inputs per output, at most
        self._buf = np.zeros(0, np.float32)
        self._base = 0          # input index of _buf[0]
        self._n = 0             # next output index
        self._total = 0         # input samples pushed

    @property
    def identity(self) -> bool:
        return self.up == self.down == 1

    def push(self, x: np.ndarray) -> np.ndarray:
        """Add input samples; return the output samples now complete.

        Parameters
        ----------
        x : np.ndarray [shape=(n,)]

        Returns
        -------
        np.ndarray [shape=(m,), dtype=float32]
        """
        x = np.asarray(x, dtype=np.float32).reshape(-1)
        if self.identity:
            return x.copy()
        self._buf = np.concatenate([self._buf, x])
        self._total += x.size
        up, down, half = self.up, self.down, self.half
        # output n needs inputs up to floor((n * down + half) / up)
        last = (self._total * up - 1 - half) // down
        if last < self._n:
            return np.zeros(0, np.float32)
        n = np.arange(self._n, last + 1)
        lo = -((half - n * down) // up)                 # ceil((n * down - half) / up)
        j = lo[:, None] + np.arange(self.taps)[None, :]
        k = n[:, None] * down + half - j * up
        k = np.where((k >= 0) & (k <= 2 * half), k, 2 * half + 1)
        idx = j - self._base
        x_at = np.where(idx >= 0, self._buf[np.clip(idx, 0, len(self._buf) - 1)], 0.0)
        x_at = np.where(j < self._total, x_at, 0.0)
        y = np.einsum("ij,ij->i", x_at, self._h[k]).astype(np.float32)
        self._n = int(last) + 1
        keep_from = max(0, -((half - self._n * down) // up))   # first input the next output needs
        drop = keep_from - self._base
        if drop > 0:
            self._buf = self._buf[drop:]
            self._base = keep_from
        return y
