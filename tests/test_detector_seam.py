"""One seam for detectors: the ``Detector`` interface, the table of backends, and ``predict``
carrying the detector's typed answer until output time (its JSON unchanged)."""

from __future__ import annotations

import json

import pytest

from cryvideo.cli import main as cli_main

SILENCE = "not_cry/home_silence_silence_0.flac"


def _json_line(capsys, argv) -> str:
    assert cli_main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    return out[0]


def _crying_text(line: str) -> str:
    """The ``"crying":{…}`` part of a compact JSON line, as written."""
    d = json.loads(line)
    text = json.dumps(d["crying"], separators=(",", ":"), ensure_ascii=False)
    assert f'"crying":{text}' in line  # the same bytes, keys in the order written
    return text


def test_predict_crying_json_is_pinned(demo_clip, capsys):
    """predict's ``crying`` on the demo clip is exactly what the detector answered, in today's
    keys, order, rounding and place in the record."""
    det = json.loads(_json_line(capsys, ["detect", "--json", "--face", "off", str(demo_clip)]))
    line = _json_line(capsys, ["predict", "--json", "--no-face", str(demo_clip)])
    rec = json.loads(line)
    assert list(rec) == ["path", "label", "trust", "probabilities", "trained", "modalities",
                         "branches", "fusion", "timings", "notes", "media", "crying", "status",
                         "models", "cryvideo_version", "command"]
    model = {k: v for k, v in det["detector"].items() if k != "threshold"}
    want = {"detected": det["crying"], "probability": det["probability"],
            "threshold": round(det["threshold"], 4), "segments": det["segments"],
            "detector": "yamnet-cry (cry_detector_yamnet_int8.tflite)", "model": model}
    assert _crying_text(line) == json.dumps(want, separators=(",", ":"), ensure_ascii=False)
    assert list(model) == ["name", "file", "card", "sha256"] and model["name"] == "yamnet-cry"
    assert rec["crying"]["detected"] is True and rec["crying"]["segments"] == det["segments"] != []


def test_predict_crying_text_lines(demo_clip, capsys):
    """The text output's crying line reads the same verdict."""
    det = json.loads(_json_line(capsys, ["detect", "--json", "--face", "off", str(demo_clip)]))
    assert cli_main(["predict", "--no-face", str(demo_clip)]) == 0
    lines = capsys.readouterr().out.splitlines()
    segs = ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in det["segments"])
    assert lines[1] == (f"  crying: yes (score {det['probability']:.2f}, yamnet-cry "
                        f"(cry_detector_yamnet_int8.tflite); segments: {segs})")


def test_predict_no_crying_json(shared_dir, capsys):
    """No crying: ``detected`` false, no segments, the label null, same keys as a cry."""
    p = shared_dir / "data" / "cry_detection" / SILENCE
    if not p.is_file():
        pytest.skip(f"{SILENCE} not in ../shared/data/cry_detection")
    line = _json_line(capsys, ["predict", "--json", "--no-face", str(p)])
    cry = json.loads(line)["crying"]
    assert list(cry) == ["detected", "probability", "threshold", "segments", "detector", "model"]
    assert cry["detected"] is False and cry["segments"] == [] and json.loads(line)["label"] is None


# -- the Detector interface and the table of backends ------------------------------------------
def test_every_shipped_backend_is_a_detector(shipped_detector, demo_clip):
    """Each loaded backend declares name, threshold and streams_files (no getattr needed), and
    its results carry its name."""
    from cryvideo.detection import BACKENDS, Detector, load_detector

    for name in ("yamnet-cry", "cnn10"):
        det = load_detector(name)
        assert isinstance(det, Detector) and det.name == name == BACKENDS[name].name
        assert isinstance(det.streams_files, bool) and 0.0 <= det.threshold <= 1.0
        assert det.detect(str(demo_clip)).detector["name"] == name
    assert load_detector("yamnet-cry").streams_files is True
    assert load_detector("cnn10").streams_files is False
    for cls in ("patch_detector.PatchDetector", "cnn10.CNN10Detector",
                "zeroshot.YamnetZeroShotDetector"):
        mod, _, attr = cls.partition(".")
        klass = getattr(__import__(f"cryvideo.detection.{mod}", fromlist=[attr]), attr)
        assert {"name", "streams_files", "threshold"} <= set(klass.__annotations__), cls


def test_table_resolves_names_aliases_and_files():
    from cryvideo.detection import BACKENDS, backend_spec, shipped_file
    from cryvideo.detection.backends import backend_choices
    from cryvideo.errors import ParameterError
    from cryvideo.models import store

    assert list(BACKENDS) == ["yamnet-cry", "cnn10", "yamnet-zeroshot"]
    assert backend_spec("yamnet") is BACKENDS["yamnet-zeroshot"]
    assert backend_choices() == ("yamnet-cry", "cnn10", "yamnet-zeroshot", "yamnet")
    assert shipped_file("yamnet-cry") == store.DEFAULT_DETECTOR_FILE
    assert shipped_file("cnn10") == store.CNN10_DETECTOR_FILE
    assert BACKENDS["cnn10"].gate_names == (store.CNN10_GATE_FILE, store.CNN10_DETECTOR_FILE)
    assert all(s.wrappable for s in BACKENDS.values())
    with pytest.raises(ParameterError, match="has no model file"):
        shipped_file("yamnet-zeroshot")
    with pytest.raises(ParameterError, match=r"unknown detector 'x'; choose one of "
                       r"yamnet-cry, cnn10, yamnet-zeroshot"):
        backend_spec("x")


def test_cli_choices_come_from_the_table():
    """Every backend of the table (and its aliases) is a choice of detect and predict."""
    from cryvideo.cli import build_parser
    from cryvideo.detection.backends import backend_choices

    parser = build_parser()
    for name in backend_choices():
        assert parser.parse_args(["detect", "--backend", name, "a.wav"]).backend == name
        assert parser.parse_args(["predict", "--cry-detector", name, "a.wav"]).cry_detector \
            == name


class _Veto:
    """A wrapping detector, as an audio-visual verdict would be: it asks the audio detector,
    then silences every segment (a real detector underneath, nothing mocked)."""

    name = "veto"

    def __init__(self, audio) -> None:
        self.audio = audio
        self.threshold = audio.threshold
        self.streams_files = audio.streams_files
        self.asked: list = []

    def detect(self, source, *, sr=None, progress=None):
        import dataclasses

        self.asked.append(source)
        res = self.audio.detect(source, sr=sr, progress=progress)
        return dataclasses.replace(res, crying=False, segments=[],
                                   detector={**res.detector, "name": self.name})


def test_a_wrapped_detector_is_predicts_gate(shipped_detector, demo_clip):
    """A Detector wrapping a loaded backend plugs into predict's gate as is: it is handed the
    file (it streams, as what it wraps), and its verdict is the one the result carries."""
    from cryvideo.detection import Detector, load_detector
    from cryvideo.pipeline import Predictor

    wrapped = _Veto(load_detector("yamnet-cry"))
    assert isinstance(wrapped, Detector)
    res = Predictor(cry_detector=wrapped, use_face=False).predict(demo_clip)
    assert wrapped.asked == [demo_clip]                  # the path, not a decoded waveform
    assert res.crying.result.detector["name"] == "veto" and res.crying.detector == "_Veto"
    assert res.label is None and res.crying.to_dict()["detected"] is False
    assert res.to_dict()["crying"]["model"]["name"] == "veto"


def test_a_non_detector_is_refused(shipped_detector):
    from cryvideo.errors import ParameterError
    from cryvideo.pipeline import Predictor

    with pytest.raises(ParameterError, match="cry detector must be a Detector"):
        Predictor(cry_detector=object(), use_face=False)


def test_zero_shot_refuses_a_model_file(demo_clip, shipped_detector):
    """detect --backend yamnet-zeroshot --model F: one line, exit 2."""
    import subprocess
    import sys

    from conftest import one_error_line

    r = subprocess.run([sys.executable, "-m", "cryvideo", "detect", "--backend",
                        "yamnet-zeroshot", "--model", str(shipped_detector), str(demo_clip)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert one_error_line(r.stderr) == ("cryvideo: error: the zero-shot detector takes "
                                        "yamnet.tflite from $CRYVIDEO_WEIGHTS_DIR, not a model "
                                        "file")


def test_report_reads_the_typed_verdict(demo_clip, tmp_path, capsys):
    """The HTML report's crying line and its shaded spans come from the same verdict."""
    det = json.loads(_json_line(capsys, ["detect", "--json", "--face", "off", str(demo_clip)]))
    page = tmp_path / "r.html"
    assert cli_main(["predict", "--no-face", "--report", str(page), str(demo_clip)]) == 0
    segs = ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in det["segments"])
    text = page.read_text(encoding="utf-8")
    assert (f"Crying: <b>yes</b> (score {det['probability']:.2f}, threshold "
            f"{det['threshold']:.2f})") in text
    assert "cry detector yamnet-cry (cry_detector_yamnet_int8.tflite)" in text
    for i, (a, b) in enumerate(det["segments"], 1):   # the segment table
        assert f"<tr><td>{i}</td><td>{a:.1f}–{b:.1f} s</td>" in text
    assert segs not in text.split("</header>")[0]      # not strung out in the title
