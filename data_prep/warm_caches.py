"""Compile librosa's numba kernels once, at install time (``make install`` runs this).

numba caches what it compiles next to librosa in the virtual environment; without this step the
first ``cryvideo predict`` after an install spends ~10 s compiling before it says anything.
Nothing is downloaded and nothing outside the virtual environment is written.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> int:
    import numpy as np

    from cryvideo.audio import FeatureParams
    from cryvideo.audio.features import features_from_waveform
    from cryvideo.audio.logmel import logmel

    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    params = FeatureParams()
    features_from_waveform(rng.normal(size=params.sr).astype(np.float32) * 0.1, params)
    logmel(rng.normal(size=16000).astype(np.float32) * 0.1)
    print(f"warmed librosa/numba caches in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
