"""What a person sees of ``detect`` (issue 25, items 3 and 4): the timeline (scores at window
centres, one time axis with a legend, no empty panel), a text output that stays short and
writes every moment one way, and the exports: an Audacity label track, a CSV of the segments,
the window scores and each segment's peak in the JSON record."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest
import soundfile as sf
from conftest import cli_without_models, one_error_line

from cryvideo.testing.fuzz import run_cli_inprocess

SR = 16000
#: A moment as detect writes it (h:mm:ss.s).
CLOCK = r"\d+:\d\d:\d\d\.\d"


@pytest.fixture(scope="module")
def shipped(shipped_detector):
    return shipped_detector


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Real audio: many short cries (more segments than the text lists), and noise."""
    from cryvideo.testing.media import synth_cry

    d = tmp_path_factory.mktemp("exports")
    rng = np.random.default_rng(0)
    y = 0.02 * rng.standard_normal(SR * 62).astype(np.float32)
    for k in range(2, 58, 6):                         # 10 cries of 3 s, 3 s apart
        y[SR * k:SR * (k + 3)] += 0.6 * synth_cry(3.0, SR, seed=k)
    sf.write(d / "many.wav", y, SR)
    sf.write(d / "quiet.wav", 0.02 * rng.standard_normal(SR * 130).astype(np.float32), SR)
    return d


def _detect(*argv) -> tuple[str, str]:
    rc, out, err, _ = run_cli_inprocess(["detect", *map(str, argv)])
    assert rc == 0, err
    return out, err


def _result(path):
    from cryvideo.batch import DetectJob
    from cryvideo.batch.jobs import forget_models

    job = DetectJob()
    try:
        res, _, _ = job.analyse(str(path))
    finally:
        forget_models(job)
    return res


# -- item 3: the timeline ----------------------------------------------------------------------
def test_scores_are_drawn_at_window_centres(shipped, files):
    from cryvideo.detection.patch_detector import PatchDetector
    from cryvideo.detection.summary import timeline_figure

    res = _result(files / "many.wav")
    want = PatchDetector(shipped).window_seconds           # 3 patches: 1.935 s
    assert res.window_seconds == pytest.approx(want)
    fig = timeline_figure(res)
    score = next(ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("score"))
    x = np.asarray(score.get_xdata())
    t = np.asarray(res.window_times)
    # the middle of the audio each window spans (the last ones end with the recording)
    assert x == pytest.approx((t + np.minimum(t + want, res.duration)) / 2)
    assert x[0] == pytest.approx(want / 2)                 # not at 0: a window's middle


def test_every_detector_says_its_window(files):
    """A detector built from windows carries its window length too: zero-shot YAMNet here
    (CNN10 takes the same path, ``DetectionResult.from_windows``; importing TensorFlow would
    make this test slow); the audio-visual wrapper keeps it (see the timeline test)."""
    from cryvideo.detection.zeroshot import YamnetZeroShotDetector
    from cryvideo.errors import WeightsNotFoundError

    try:
        zs = YamnetZeroShotDetector()
    except WeightsNotFoundError as exc:
        pytest.skip(f"YAMNet's weights are not here: {exc}")
    res = zs.detect(str(files / "many.wav"))
    assert res.window_seconds == pytest.approx(YamnetZeroShotDetector.WINDOW)
    assert res.window_centres[0] == pytest.approx(YamnetZeroShotDetector.WINDOW / 2)


def test_timeline_panels_share_one_time_axis_with_a_legend(shipped, files, demo_clip):
    from cryvideo.detection.summary import timeline_figure

    res = _result(files / "many.wav")
    fig = timeline_figure(res, title="many.wav")
    score, bars = fig.axes                              # 62 s: seconds of crying per minute
    assert score.get_shared_x_axes().joined(score, bars)
    assert score.get_xlim() == bars.get_xlim() == pytest.approx((0, res.duration))
    fig.canvas.draw()
    ticks = [t.get_text() for t in bars.get_xticklabels() if 0 <= t.get_position()[0] <= 62]
    assert ticks and all(re.fullmatch(r"\d+:\d\d:\d\d", t) for t in ticks), ticks
    legend = [t.get_text() for t in score.get_legend().get_texts()]
    assert "crying segment" in legend and any(t.startswith("threshold") for t in legend)
    # a video: the face panel between, its decisions in the legend, on the same axis
    vid = _result(demo_clip)
    assert vid.window_seconds == res.window_seconds     # through the audio-visual wrapper
    if not vid.face_verdicts:
        pytest.skip("the face-expression model is not available")
    fig = timeline_figure(vid)
    assert len(fig.axes) == 2                           # 8 s: no per-minute panel
    assert fig.axes[0].get_shared_x_axes().joined(*fig.axes)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert {"crying (sound decided)", "vetoed by the face (happy)"} <= set(legend)


def test_no_crying_draws_no_empty_panel(shipped, files, tmp_path):
    from cryvideo.detection.summary import timeline_figure

    res = _result(files / "quiet.wav")                  # over two minutes, no crying
    assert not res.segments
    fig = timeline_figure(res, title="quiet.wav")
    assert len(fig.axes) == 1
    assert fig.axes[0].get_title(loc="left").startswith("quiet.wav: no crying (highest score")
    png = tmp_path / "q.png"
    _detect("--timeline", png, files / "quiet.wav")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_long_text_is_summarised_with_one_time_format(shipped, files, tmp_path):
    from cryvideo.detection.summary import SHOWN_SEGMENTS

    table = tmp_path / "s.csv"
    out, _ = _detect("--summary", "--csv", table, files / "many.wav")
    n = len(list(csv.DictReader(table.open())))
    assert n > SHOWN_SEGMENTS
    seg = next(ln for ln in out.splitlines() if ln.startswith("  segments: "))
    assert len(re.findall(f"{CLOCK}–{CLOCK}", seg)) == SHOWN_SEGMENTS
    assert seg.endswith(f", … {n - SHOWN_SEGMENTS} more (see --json, --csv or --labels)")
    longest = next(ln for ln in out.splitlines() if ln.startswith("  longest: "))
    assert re.fullmatch(rf"  longest: {CLOCK}–{CLOCK} \(\d+\.\d s\)(, {CLOCK}–{CLOCK} "
                        r"\((\d+\.\d s|\d+ min \d+ s)\))*", longest), longest
    assert not re.search(r"\d–\d+\.\d+ s\b", out)       # the old "1.0–3.9 s"
    assert not re.search(r"\d\.\d+ min", out)           # "0.1 min of crying in 0.1 min"


# -- item 4: the exports -----------------------------------------------------------------------
def _audacity_labels(text: str) -> list[tuple[float, float, str]]:
    """An Audacity label track read by its format's rules: one label a line, start<TAB>end<TAB>
    label, times in seconds with a decimal point; every line ends with a newline."""
    assert text == "" or text.endswith("\n")
    out = []
    for line in text.splitlines():
        start, end, label = line.split("\t")
        assert re.fullmatch(r"\d+\.\d+", start) and re.fullmatch(r"\d+\.\d+", end), line
        assert float(start) <= float(end) and label and "\t" not in label
        out.append((float(start), float(end), label))
    return out


def test_labels_are_an_audacity_label_track(shipped, files, tmp_path):
    track = tmp_path / "many.txt"
    out, _ = _detect("--json", "--labels", track, files / "many.wav")
    rec = json.loads(out)
    labels = _audacity_labels(track.read_text(encoding="utf-8"))
    assert len(labels) == len(rec["segments"]) > 1
    for (a, b, label), (sa, sb) in zip(labels, rec["segments"], strict=True):
        assert label == "crying"
        assert a == pytest.approx(sa, abs=0.006) and b == pytest.approx(sb, abs=0.006)
    # several inputs: a folder, one track each; no crying: an empty track
    folder = tmp_path / "tracks"
    _detect("--labels", folder, files / "many.wav", files / "quiet.wav")
    assert sorted(p.name for p in folder.iterdir()) == ["many.txt", "quiet.txt"]
    assert (folder / "many.txt").read_text() == track.read_text()
    assert _audacity_labels((folder / "quiet.txt").read_text()) == []
    # an earlier label track is replaced, as any output of its kind
    _detect("--labels", track, files / "quiet.wav")
    assert track.read_text() == ""


def test_csv_and_json_give_each_segment_its_peak(shipped, files, tmp_path):
    from cryvideo.detection.patch_detector import PatchDetector

    table = tmp_path / "segments.csv"
    out, _ = _detect("--json", "--scores", "--csv", table, files / "many.wav",
                     files / "quiet.wav")
    many, quiet = (json.loads(x) for x in out.splitlines())
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert list(rows[0]) == ["path", "start", "end", "duration", "crying", "peak_score",
                             "decision", "decided_by"]
    assert [r["path"] for r in rows] == [str(files / "many.wav")] * len(many["segments"])
    assert len(many["segment_peaks"]) == len(many["segments"]) and quiet["segment_peaks"] == []
    s = many["scores"]
    times, values = np.array(s["times"]), np.array(s["values"])
    w = PatchDetector(shipped).window_seconds
    assert len(times) == len(values) and s["window_seconds"] == pytest.approx(w, abs=1e-4)
    assert times[0] == pytest.approx(w / 2, abs=1e-3)          # centres, 0.48 s apart
    assert np.diff(times)[:-1] == pytest.approx(0.48, abs=2e-3)
    assert values.max() == pytest.approx(many["probability"], abs=1e-4)
    for row, (a, b), peak in zip(rows, many["segments"], many["segment_peaks"], strict=True):
        assert float(row["start"]) == pytest.approx(a, abs=0.006)
        assert float(row["end"]) == pytest.approx(b, abs=0.006)
        assert float(row["duration"]) == pytest.approx(b - a, abs=0.011)
        assert float(row["peak_score"]) == pytest.approx(peak, abs=1e-4)
        assert row["crying"] == "true" and row["decision"] == row["decided_by"] == ""
        # the peak is the highest score of the windows inside the segment
        # the windows' starts (the last ones end with the recording: their centre is earlier)
        starts = np.where(times + w / 2 <= many["duration"], times - w / 2,
                          2 * times - many["duration"])
        inside = (starts >= a - 0.006) & (starts <= b + 0.006)
        assert peak == pytest.approx(values[inside].max(), abs=1e-4)
        assert many["threshold"] <= peak <= many["probability"]
    assert max(many["segment_peaks"]) == pytest.approx(many["probability"], abs=1e-4)
    assert "scores" not in json.loads(_detect("--json", files / "quiet.wav")[0])


def test_csv_says_what_the_face_decided(shipped, demo_clip, tmp_path):
    table = tmp_path / "demo.csv"
    out, _ = _detect("--json", "--csv", table, demo_clip)
    rec = json.loads(out)
    if not (rec.get("face") or {}).get("used"):
        pytest.skip("the face-expression model is not available")
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    verdicts = rec["face"]["segments"]
    assert len(rows) == len(verdicts) == 2
    for row, v in zip(rows, verdicts, strict=True):
        assert (row["decision"], row["decided_by"]) == (v["decision"], v["decided_by"])
        assert row["crying"] == ("false" if v["decision"] == "veto" else "true")
        assert float(row["start"]) == pytest.approx(v["start"], abs=0.006)
    assert [r["decision"] for r in rows] == ["audio", "veto"]   # demo.mp4: see conftest
    kept = [r for r in rows if r["crying"] == "true"]
    assert [float(r["peak_score"]) for r in kept] == pytest.approx(rec["segment_peaks"],
                                                                   abs=1e-4)


@pytest.mark.parametrize("case", ["labels-input", "csv-input", "labels-notes", "csv-notes",
                                  "csv-is-out", "labels-is-timeline", "scores-text",
                                  "csv-resume"])
def test_export_paths_are_checked_before_any_model(files, tmp_path, case):
    wav = files / "quiet.wav"
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")                      # atomic-ok: a test input
    argv, says = {
        "labels-input": (["--labels", wav], "is one of the input files"),
        "csv-input": (["--csv", wav], "is one of the input files"),
        "labels-notes": (["--labels", notes], "exists and is not an Audacity label track"),
        "csv-notes": (["--csv", notes], "exists and is not a segments CSV"),
        "csv-is-out": (["--out", tmp_path / "r.jsonl", "--json", "--csv", tmp_path / "r.jsonl"],
                       "is both the --out file and the --csv file"),
        "labels-is-timeline": (["--timeline", tmp_path / "x.png", "--labels", tmp_path / "x.png"],
                               "is both a --timeline file and a --labels file"),
        "scores-text": (["--scores"], "--scores adds the window scores to the JSON records"),
        "csv-resume": (["--resume", "--out", tmp_path / "r.jsonl", "--csv", tmp_path / "c.csv"],
                       "--csv is written from the files analysed in this run"),
    }[case]
    rc, err, loaded = cli_without_models(["detect", *argv, wav])
    assert rc == 2 and says in one_error_line(err), err
    assert not loaded
    assert notes.read_text() == "my notes\n" and wav.stat().st_size > 0
    assert not (tmp_path / "c.csv").exists() and not (tmp_path / "x.png").exists()
