"""``listen``'s onset rule: one patch at or above ``onset_threshold`` starts an episode at once
(issue 23, "decide sooner"); the window rule still starts episodes and alone stops them.

The state machine is the subject: it runs on scripted patch probabilities
(:class:`listen_audio.ScriptedDetector`), so every time below is known exactly.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from listen_audio import SR, ScriptedDetector

from cryvideo.detection.frontend import YAMNET_FRONTEND
from cryvideo.detection.listen_settings import ListenSettings
from cryvideo.detection.listening import Listening, run_listener
from cryvideo.detection.live import STARTED, STOPPED, LiveDetector
from cryvideo.errors import ModelError, ParameterError

HOP = YAMNET_FRONTEND.hop_seconds
HOP_SAMPLES = int(round(HOP * SR))
PATCH = YAMNET_FRONTEND.patch_seconds          # 0.975 s of samples complete a patch
BLOCK = 1600


class OnsetDetector(ScriptedDetector):
    """A scripted detector whose card gives an onset threshold."""

    def __init__(self, probs, *, onset_threshold, **kw):
        super().__init__(probs, **kw)
        self.onset_threshold = onset_threshold


def run(det, seconds=30, block=BLOCK, **kw):
    live = LiveDetector(det, clock=lambda: 0.0, stop_after=3.0, **kw)
    y = np.zeros(int(seconds * SR), np.float32)
    events = []
    for a in range(0, y.size, block):
        events += live.push(y[a:a + block])
    return live, events + live.finish()


def key(events):
    return [(e.event, e.episode, round(e.stream_time, 6), round(e.detected_at, 6), e.rule,
             e.reason) for e in events]


def test_one_strong_patch_starts_an_episode_a_hop_before_the_window():
    p = np.zeros(80)
    p[10:20] = 0.95
    _, window = run(ScriptedDetector(p))
    _, onset = run(ScriptedDetector(p), onset_threshold=0.9)
    assert [e.event for e in window] == [e.event for e in onset] == [STARTED, STOPPED]
    w, o = window[0], onset[0]
    assert (w.rule, o.rule) == ("window", "onset")
    # the same onset (start of patch 10) …
    assert w.stream_time == o.stream_time == pytest.approx(10 * HOP)
    # … decided once patch 10 is complete instead of patch 11 (window 9-11 is the first >= 0.5)
    assert 10 * HOP + PATCH <= o.detected_at < 10 * HOP + PATCH + 0.1
    assert 11 * HOP + PATCH <= w.detected_at < 11 * HOP + PATCH + 0.1
    assert o.probability == pytest.approx(0.95) and w.probability == pytest.approx(0.95 * 2 / 3)
    # the stop rule is the window's: the same stop, now saying which rule started the episode
    assert key(window[1:])[0][:4] == key(onset[1:])[0][:4]
    assert (onset[1].rule, onset[1].reason, onset[1].start) == ("onset", "quiet", o.stream_time)
    assert json.loads(json.dumps(o.to_dict()))["rule"] == "onset"
    assert "one strong patch" in o.describe() and "one strong patch" not in w.describe()


def test_a_lone_spike_is_an_episode_only_for_the_onset_rule_and_it_stops():
    p = np.zeros(80)
    p[30] = 0.95                                   # window means stay below 0.33
    assert run(ScriptedDetector(p))[1] == []
    live, ev = run(ScriptedDetector(p), onset_threshold=0.9)
    assert [(e.event, e.rule) for e in ev] == [(STARTED, "onset"), (STOPPED, "onset")]
    start, stop = ev
    assert start.stream_time == pytest.approx(30 * HOP)
    assert stop.reason == "quiet" and stop.stream_time == pytest.approx(30 * HOP + PATCH)
    assert stop.peak == pytest.approx(0.95)
    # stopped stop_after seconds after the window ending at the spike, not at the input's end
    assert 3.0 <= stop.detected_at - (30 * HOP + PATCH) <= 3.0 + 2 * HOP + 0.1
    assert live.episodes == 1


def test_below_the_onset_threshold_nothing_changes():
    p = np.zeros(80)
    p[10:20] = 0.85
    p[40] = 0.89
    assert key(run(ScriptedDetector(p))[1]) == key(run(ScriptedDetector(p),
                                                       onset_threshold=0.9)[1])


def test_the_first_patches_of_a_stretch_are_looked_at():
    """Windows are scored only once 3 patches exist; the onset rule does not wait for them,
    neither at the start nor after a stream was lost."""
    p = np.zeros(200)
    p[0] = 0.95
    p[40] = 0.95                                   # the first patch after the interruption
    det = ScriptedDetector(p)
    live = LiveDetector(det, onset_threshold=0.9, stop_after=3.0)
    ev = []
    for _ in range(0, 12 * SR, BLOCK):
        ev += live.push(np.zeros(BLOCK, np.float32))
    assert [(e.event, e.rule) for e in ev] == [(STARTED, "onset"), (STOPPED, "onset")]
    assert ev[0].stream_time == 0.0 and ev[0].detected_at < PATCH + 0.1
    # patches 0-22 were scored in those 12 s; the next stretch's first patch gets p[40]
    assert live.interrupt("stream lost") == [] and det.seen == 23
    det.seen = 40
    ev = live.push(np.zeros(2 * SR, np.float32))
    assert [(e.event, e.rule) for e in ev] == [(STARTED, "onset")]
    assert ev[0].stream_time == pytest.approx(12.0)          # the new stretch's first patch


def test_block_size_does_not_matter():
    p = np.zeros(100)
    p[[5, 30, 31, 32, 60]] = [0.95, 0.2, 0.95, 0.7, 0.92]
    runs = [key(run(ScriptedDetector(p), seconds=45, block=b, onset_threshold=0.9)[1])
            for b in (160, 1600, HOP_SAMPLES, 48000)]
    assert [(e[0], e[4]) for e in runs[0]] == [(STARTED, "onset"), (STOPPED, "onset")] * 3
    # decisions come at the end of the block that completes the patch: compare the rest
    assert all([e[:3] + e[4:] for e in r] == [e[:3] + e[4:] for e in runs[0]] for r in runs)


def test_when_both_rules_fire_on_the_same_patch_the_window_rule_says_so():
    p = np.zeros(40)
    p[8:12] = [0.95, 0.95, 0.95, 0.95]
    _, ev = run(ScriptedDetector(p, window=1), onset_threshold=0.9)
    assert ev[0].rule == "window" and ev[0].stream_time == pytest.approx(8 * HOP)


def test_off_unless_the_card_or_the_caller_gives_it():
    p = np.zeros(60)
    p[10] = 1.0                                    # a probability of exactly 1
    assert LiveDetector(ScriptedDetector(p)).onset_threshold is None   # no card value
    assert run(OnsetDetector(p, onset_threshold=None))[1] == []
    # the card's value is the default; the caller overrides it; 1 turns the rule off
    assert LiveDetector(OnsetDetector(p, onset_threshold=0.8)).onset_threshold == 0.8
    assert LiveDetector(OnsetDetector(p, onset_threshold=0.8),
                        onset_threshold=0.6).onset_threshold == 0.6
    assert [e.rule for e in run(OnsetDetector(p, onset_threshold=0.8))[1]] == ["onset"] * 2
    assert run(OnsetDetector(p, onset_threshold=1.0))[1] == []
    assert run(OnsetDetector(p, onset_threshold=0.8), onset_threshold=1.0)[1] == []


@pytest.mark.parametrize("value", [1.5, -0.1, float("nan")])
def test_bad_onset_thresholds(value):
    with pytest.raises(ParameterError, match="onset_threshold must be in"):
        LiveDetector(ScriptedDetector([0.0]), onset_threshold=value)
    with pytest.raises(ParameterError, match="onset_threshold must be in"):
        LiveDetector(OnsetDetector([0.0], onset_threshold=value))


# -- settings, the loop, the card -------------------------------------------------------------
@pytest.mark.parametrize("value", [1.5, -0.1, float("nan"), "0.5"])
def test_settings_check_the_onset_threshold(value):
    with pytest.raises(ParameterError, match="^--onset-threshold must be a number in"):
        ListenSettings(source="night.wav", onset_threshold=value)
    assert ListenSettings(source="night.wav").onset_threshold is None


class _Source:
    name = "scripted"

    def __init__(self, y):
        self.y = y

    def __iter__(self):
        for a in range(0, self.y.size, BLOCK):
            yield self.y[a:a + BLOCK]


def test_run_listener_applies_the_settings_onset_threshold():
    p = np.zeros(60)
    p[10] = 0.95
    y = np.zeros(25 * SR, np.float32)
    items = []
    out = run_listener(ListenSettings(source="night.wav", onset_threshold=0.9, stop_after=3.0),
                       ScriptedDetector(p), _Source(y), output=items.append,
                       handle_signals=False)
    assert [(e.event, e.rule) for e in out.events] == [(STARTED, "onset"), (STOPPED, "onset")]
    first = items[0]
    assert isinstance(first, Listening) and first.onset_threshold == 0.9
    # unset: the detector's (here none), so the rule is off
    items = []
    out = run_listener(ListenSettings(source="night.wav"), ScriptedDetector(p), _Source(y),
                       output=items.append, handle_signals=False)
    assert out.events == () and items[0].onset_threshold is None


def _card_copy(shipped, tmp_path, **extra):
    from cryvideo.models.cards import card_path

    model = tmp_path / shipped.name
    shutil.copyfile(shipped, model)
    card = json.loads(card_path(shipped).read_text())
    card["extra"].update(extra)
    card_path(model).write_text(json.dumps(card))  # atomic-ok: a test input
    return model


def test_the_detector_gives_its_cards_onset_threshold(shipped_detector, tmp_path):
    from cryvideo.detection.patch_detector import PatchDetector

    assert PatchDetector(shipped_detector, batch=1).onset_threshold is None   # shipped: none
    det = PatchDetector(_card_copy(shipped_detector, tmp_path, onset_threshold=0.7), batch=1)
    assert det.onset_threshold == 0.7 and LiveDetector(det).onset_threshold == 0.7
    bad = tmp_path / "bad"
    bad.mkdir()
    with pytest.raises(ModelError, match="onset_threshold must be in"):
        PatchDetector(_card_copy(shipped_detector, bad, onset_threshold=3), batch=1)


def test_listen_says_its_onset_threshold(shipped_detector, tmp_path, capsys):
    from cryvideo.__main__ import main
    from cryvideo.testing.live_audio import write_wav

    wav = write_wav(tmp_path / "quiet.wav", np.zeros(2 * SR, np.float32))
    assert main(["listen", "--model", str(shipped_detector), "--onset-threshold", "0.6",
                 str(wav)]) == 0
    assert ", onset threshold 0.60, window 3 patches" in capsys.readouterr().err
