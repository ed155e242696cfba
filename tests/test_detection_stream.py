"""Streaming detection gives the whole waveform's patches, window scores and segments."""

from __future__ import annotations

import numpy as np
import pytest

from cryvideo.detection.decisions import merge_segments, moving_mean
from cryvideo.detection.frontend import log_mel, pad_waveform, patches
from cryvideo.detection.stream import PatchStream, WindowStream, iter_blocks

SR = 16000


def _signal(seconds, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    bursts = (np.sin(2 * np.pi * 0.15 * t) > 0.3).astype(np.float32)
    return (0.05 * rng.standard_normal(t.size) + 0.4 * bursts * np.sin(2 * np.pi * 440 * t)
            ).astype(np.float32)


def _fake_model(p):
    """A deterministic 'detector': patches louder than faint noise score high."""
    return 1 / (1 + np.exp(-10 * (p.mean(axis=(1, 2)) + 1.0)))


def _whole(y, window, threshold):
    pats = patches(log_mel(pad_waveform(y)))
    probs = _fake_model(pats)
    scores = moving_mean(probs, window)
    times = np.arange(len(scores)) * 0.48
    length = (window - 1) * 0.48 + 0.975
    dur = y.size / SR
    return pats, scores, merge_segments(times, scores, window=min(length, max(dur, 0.975)),
                                        threshold=threshold, duration=dur)


def _streamed(y, block, window, threshold):
    ps, ws = PatchStream(), WindowStream(window=window, threshold=threshold)
    all_p, scores, segs = [], [], []
    for b in iter_blocks(y, block):
        p = ps.push(b)
        all_p.append(p)
        if len(p):
            _, sc, closed = ws.push(_fake_model(p))
            scores.append(sc)
            segs += closed
    p = ps.finish()
    all_p.append(p)
    if len(p):
        _, sc, closed = ws.push(_fake_model(p))
        scores.append(sc)
        segs += closed
    _, sc, closed = ws.finish(y.size / SR)
    scores.append(sc)
    segs += closed
    dur = y.size / SR
    return (np.concatenate(all_p), np.concatenate(scores),
            [(a, min(b, dur)) for a, b in segs if a < dur])


@pytest.mark.parametrize("seconds", [0.6, 1.0, 2.3, 37.7])
@pytest.mark.parametrize("block", [997, 7680, 16000 * 5, 16000 * 60])
@pytest.mark.parametrize("window", [1, 3])
def test_stream_equals_whole_waveform(seconds, block, window):
    y = _signal(seconds)
    thr = 0.6
    p1, s1, g1 = _whole(y, window, thr)
    p2, s2, g2 = _streamed(y, block, window, thr)
    assert p2.shape == p1.shape
    np.testing.assert_allclose(p2, p1, atol=1e-4)
    np.testing.assert_allclose(s2, s1, atol=1e-6)
    assert len(g2) == len(g1)
    np.testing.assert_allclose(np.array(g2).reshape(-1, 2), np.array(g1).reshape(-1, 2),
                               atol=1e-9)


def test_block_boundaries_inside_a_cry_do_not_split_it():
    """A sustained loud stretch across many block edges stays one segment."""
    rng = np.random.default_rng(1)
    y = 0.01 * rng.standard_normal(SR * 30).astype(np.float32)
    y[SR * 8:SR * 20] += 0.5 * np.sin(2 * np.pi * 500 * np.arange(SR * 12) / SR)
    for block in (1234, 7680, SR):
        _, _, segs = _streamed(y, block, 3, 0.6)
        assert len(segs) == 1
        a, b = segs[0]
        assert 6.5 < a < 8.5 and 19.5 < b < 21.5


def test_memory_is_bounded():
    ps = PatchStream()
    for _ in range(20):                         # 20 minutes of one-minute blocks
        ps.push(np.zeros(SR * 60, np.float32))
        assert ps._buf.size < 15600 + SR * 60
    assert ps.seconds_in == 20 * 60
    # the end of a long stream allocates nothing of the stream's length (a 16-hour file once
    # peaked at 3.7 GB here: the padding was computed on a zero array of the whole length)
    import tracemalloc

    tracemalloc.start()
    ps.finish()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 2**20, peak             # 20 minutes of float32 would be 77 MB


@pytest.mark.parametrize("n", [0, 1, 15359, 15360, 15599, 15600, 15601, 23280, 23281,
                               16000 * 61 + 7])
def test_padded_length_is_pad_waveforms(n):
    from cryvideo.detection.frontend import padded_length

    assert padded_length(n) == pad_waveform(np.zeros(n, np.float32)).size


def test_pushing_after_finish_is_refused():
    ps = PatchStream()
    ps.push(np.zeros(SR, np.float32))
    ps.finish()
    with pytest.raises(RuntimeError):
        ps.push(np.zeros(10, np.float32))
