"""What a person sees (issue 25): the answer and how far to trust it first, in text, JSON and
the report's title block; the report's one time axis; the no-crying page; a recording pooled
to the width of the page."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from cryvideo.cli import main as cli_main

#: A file of laughter, noise and silence: the shipped detector hears no crying in it.
NO_CRY_PARTS = ("home_laugh_laugh_1.m4a_0.flac", "esc50_noise_1-100032-A.ogg",
                "home_silence_silence_0.flac", "home_laugh_laugh_1.m4a_1.flac")


@pytest.fixture(scope="module")
def demo_result(demo_clip, shipped_detector):
    """predict's result on the demo clip (the face on: its second cry is vetoed), with what
    the report draws."""
    from cryvideo.pipeline import Predictor

    return Predictor(keep_artifacts=True).predict(demo_clip)


@pytest.fixture(scope="module")
def no_cry_file(cry_detection_dir, tmp_path_factory):
    from cryvideo.testing.media import concat_audio

    parts = [cry_detection_dir / "not_cry" / n for n in NO_CRY_PARTS]
    if not all(p.is_file() for p in parts):
        pytest.skip("the laughter, noise and silence clips are not in ../shared")
    return concat_audio(tmp_path_factory.mktemp("nocry") / "laugh_noise_silence.flac", parts)


def test_first_line_says_crying_reason_and_how_far_to_trust_it(demo_result):
    from cryvideo.cli.predict import format_result

    res = demo_result
    lines = format_result(res).splitlines()
    p = res.probabilities[res.label]
    assert lines[0] == (f"{res.path}: crying: yes (score {res.crying.probability:.2f}, "
                        f"threshold {res.crying.threshold:.2f}) · reason: {res.label} "
                        f"(probability {p:.2f}) — a weak hint: no better than chance on "
                        "held-out recordings")
    assert not any("p=" in ln for ln in lines[:2])      # a score, not a p-value
    # the JSON: a top-level field right after the label, with the same headline
    rec = res.to_dict()
    assert list(rec)[:3] == ["path", "label", "trust"]
    trust = rec["trust"]
    assert trust["headline"] == lines[0].split(": ", 1)[1]
    assert trust["level"] == "chance" and trust["chance"] == 0.2
    assert set(trust["held_out"]) == {"mfcc", "stft"}
    for b in rec["branches"]:
        if b["name"] in trust["held_out"]:
            assert trust["held_out"][b["name"]] == {
                "balanced_accuracy": b["details"]["held_out_balanced_accuracy"],
                "ci95": b["details"]["held_out_ci95"]}
            assert trust["held_out"][b["name"]]["ci95"][0] <= 0.2   # why it says chance


def test_report_title_block_holds_the_answer_and_its_trust(demo_result):
    from cryvideo.report.html import render_html

    page = render_html(demo_result)
    header = page.split("<header>", 1)[1].split("</header>", 1)[0]
    assert f"Reason: <b>{demo_result.label}</b>" in header and "Crying: <b>yes</b>" in header
    assert "no better than chance on held-out recordings" in header
    assert "UNTRAINED" not in page
    assert "p=" not in header
    title = page.split("<title>")[1].split("</title>")[0]
    assert "reason: " in title and "no better than chance" in title


def test_predict_help_says_the_reason_is_at_chance():
    from cryvideo.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    text = " ".join(sub.choices["predict"].format_help().split())
    assert "no better than chance" in text and "never a diagnosis" in text


def test_one_time_axis_over_score_face_waveform_spectrogram_mfcc(demo_result):
    """The at-a-glance figure: five panels, one x axis from 0 to the clip's end, aligned
    (the same left and right edges), the face's crops drawn, and the MFCC image not one flat
    block (coefficient 0 left out, each row scaled)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.image import AxesImage
    from matplotlib.offsetbox import AnnotationBbox

    from cryvideo.report.html import TIMELINE_THUMBS, timeline_figure

    fig, caption = timeline_figure(demo_result)
    FigureCanvasAgg(fig).draw()
    panels = [ax for ax in fig.axes if ax.get_ylabel() not in ("dB", "z")]   # not colourbars
    assert [ax.get_ylabel() for ax in panels] == ["cry score", "face", "waveform", "kHz",
                                                   "MFCC"]
    duration = demo_result.media["duration"]
    for ax in panels:
        assert ax.get_xlim() == pytest.approx((0.0, duration))
        box = ax.get_position()
        first = panels[0].get_position()
        assert (box.x0, box.x1) == pytest.approx((first.x0, first.x1), abs=1e-3)
    assert panels[-1].get_xlabel() == "time (s)" and len(caption) == 4
    score = panels[0]
    assert any(ln.get_label().startswith("threshold") for ln in score.get_lines())
    thumbs = [a for a in panels[1].artists if isinstance(a, AnnotationBbox)]
    assert 0 < len(thumbs) <= TIMELINE_THUMBS
    mfcc = next(a for a in panels[4].get_children() if isinstance(a, AxesImage)).get_array()
    assert mfcc.shape[0] == 39
    assert np.allclose(mfcc.mean(axis=1), 0.0, atol=1e-3)
    # a flat block would sit in one colour; this one uses both ends of its scale
    assert (mfcc > 1).mean() > 0.05 and (mfcc < -1).mean() > 0.05


def test_segments_are_a_table_not_the_title(demo_result):
    from cryvideo.report.html import render_html

    page = render_html(demo_result)
    header = page.split("</header>", 1)[0]
    det = demo_result.crying.result
    assert len(det.face_verdicts) == 2
    for i, v in enumerate(det.face_verdicts, 1):
        span = f"{v.start:.1f}–{v.end:.1f} s"
        assert span not in header
        kept = "crying" if v.decision == "audio" else "vetoed"
        assert re.search(f"<tr><td>{i}</td><td>{span}</td>.*?<b>{kept}</b>", page)


def test_no_crying_page_is_correct(no_cry_file, tmp_path, capsys):
    """Laughter, noise and silence: no crying, no reason; the page shows no untrained-model
    warning for trained models, shows the table of what the branches would answer (as README
    says), names the branches used, and the JSON leaves ``trained`` unset (null) on the branch
    that did not run."""
    page = tmp_path / "n.html"
    assert cli_main(["predict", "--json", "--report", str(page), str(no_cry_file)]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["label"] is None and rec["crying"]["detected"] is False
    assert rec["trust"]["headline"].startswith("crying: no (score ")
    assert rec["trust"]["headline"].endswith("· no reason given")
    assert rec["trained"] is True and rec["modalities"] == ["mfcc", "stft"]
    assert set(rec["probabilities"]) == {"belly_pain", "burping", "discomfort", "hungry",
                                         "tired"}
    by_name = {b["name"]: b for b in rec["branches"]}
    assert by_name["face"]["used"] is False and by_name["face"]["trained"] is None
    for name in ("mfcc", "stft"):
        b = by_name[name]
        assert b["used"] and b["trained"] is True
        (a, z), = b["details"]["segments_used"]       # the 7 s around the highest score
        assert z - a == pytest.approx(7.0) and 0 <= a and z <= rec["media"]["duration"]
    text = page.read_text(encoding="utf-8")
    assert "UNTRAINED" not in text
    assert "Crying: <b>no</b>" in text and "No reason given" in text
    assert "What the reason branches would answer if it were a cry" in text
    for label, p in rec["probabilities"].items():
        assert f"<tr><td>{label}</td><td>{p:.3f}</td>" in text
    assert "Branches used: mfcc, stft" in text


def test_branches_that_did_not_run_are_not_called_untrained(demo_clip, capsys):
    rc = cli_main(["predict", "--json", "--no-face", str(demo_clip)])
    assert rc == 0
    face = next(b for b in json.loads(capsys.readouterr().out)["branches"]
                if b["name"] == "face")
    assert face["used"] is False and face["trained"] is None


def test_overview_pools_any_length_into_the_page(rng):
    """The recording drawn to the page: every STFT frame (as the branches') lands whole in a
    column, columns stay under twice MAX_COLUMNS however long the recording, and the pooled
    spectrum is the mean of its frames, whatever the blocks' sizes."""
    from cryvideo.audio.features import _stft_magnitude
    from cryvideo.audio.overview import MAX_COLUMNS, OVERVIEW_PARAMS, audio_overview

    sr, hop = OVERVIEW_PARAMS.sr, OVERVIEW_PARAMS.hop_length
    y = rng.standard_normal(sr * 30).astype(np.float32) * np.linspace(0, 1, sr * 30,
                                                                     dtype=np.float32)
    frames = _stft_magnitude(y, OVERVIEW_PARAMS.n_fft, hop) ** 2
    for block in (sr * 30, 4001, 777):
        ov = audio_overview(y[i:i + block] for i in range(0, y.size, block))
        assert ov.column_seconds == hop / sr and ov.power.shape == frames.shape
        np.testing.assert_allclose(ov.power, frames, rtol=1e-4, atol=1e-6 * frames.max())
        assert ov.lo.min() == y.min() and ov.hi.max() == y.max()
    ov = audio_overview((y[i:i + 999] for i in range(0, y.size, 999)), max_columns=50)
    k = round(ov.column_seconds * sr / hop)
    assert 50 < ov.power.shape[1] <= 100 and k == 16
    n = frames.shape[1] // k
    pooled = frames[:, :n * k].reshape(frames.shape[0], n, k).mean(axis=2)
    np.testing.assert_allclose(ov.power[:, :n], pooled, rtol=1e-4, atol=1e-6 * pooled.max())
    assert ov.duration == pytest.approx(30.0) and ov.mfcc().shape == (40, ov.power.shape[1])
    # an hour is pooled into as few columns, block by block
    hour = (np.full(sr * 60, 0.1, np.float32) for _ in range(60))
    ov = audio_overview(hour)
    assert ov.duration == 3600 and ov.lo.size <= 2 * MAX_COLUMNS
    assert ov.power.shape[1] == ov.lo.size
