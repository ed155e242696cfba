"""The crying spans are decoded once per sample rate and shared by the reason branches of that
rate: each branch's answer is the one it gives reading the spans on its own."""

from __future__ import annotations

import numpy as np
import pytest

from cryvideo.errors import ParameterError
from cryvideo.media import probe
from cryvideo.models.branches import default_audio_branches
from cryvideo.pipeline.spans import branch_probabilities, read_spans, shared_probabilities


def test_shared_pieces_give_each_branch_its_own_answer(demo_clip):
    branches = default_audio_branches(bundled_fallback=True)
    assert len({b.sr for b in branches}) == 1 and len(branches) >= 2
    info, spans, sr = probe(demo_clip), [(0.0, 2.9), (4.8, 7.7)], branches[0].sr
    shared = shared_probabilities(branches, read_spans(demo_clip, spans, sr=sr, info=info))
    for br, (p, seconds) in zip(branches, shared, strict=True):
        alone, alone_s = branch_probabilities(br, read_spans(demo_clip, spans, sr=sr, info=info))
        np.testing.assert_array_equal(p, alone)
        assert seconds == alone_s and 5.7 < seconds < 5.9


def test_branches_of_different_rates_are_not_shared():
    class Rate:
        def __init__(self, sr):
            self.sr = sr

    with pytest.raises(ParameterError, match="different sample rates"):
        shared_probabilities([Rate(8000), Rate(16000)], [])
