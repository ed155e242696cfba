"""docs/json.md documents every field of the JSON records of ``detect`` and ``predict``: every
key of real records (a video with the face verdict, an audio file, a file with no crying, a
missing file; ``--summary`` and ``--scores``) has its row (issue 25, item 4)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cryvideo.testing.fuzz import run_cli_inprocess

DOC = Path(__file__).resolve().parents[1] / "docs" / "json.md"
#: The sections (by the start of their heading) that document each command's records (the
#: face's serves both).
TABLES = {"detect": ("Common to both", "`detect`", "The face in the verdict"),
          "predict": ("Common to both", "`predict`", "The face in the verdict")}
#: Where a command's record holds the face table's ``face``.
FACE_AT = {"detect": "face", "predict": "crying.face"}


def documented() -> dict[str, set[str]]:
    """The fields of docs/json.md, by its section headings."""
    sections: dict[str, set[str]] = {}
    heading = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            sections[heading] = set()
        m = re.match(r"\| `([^`]+)` \|", line)
        if m and heading:
            sections[heading].add(m.group(1))
    return sections


def fields(value, prefix: str, maps: set[str]) -> set[str]:
    """Every field path of a record: ``a.b``, ``a[].b``, and ``a.<x>`` for the keys of an
    object documented as a map (``maps``: its paths)."""
    out = set()
    if isinstance(value, dict):
        for k, v in value.items():
            key = next((m for m in maps if m.rsplit(".", 1)[0] == prefix), None)
            path = key if key is not None else (f"{prefix}.{k}" if prefix else k)
            out.add(path)
            out |= fields(v, path, maps)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                out |= fields(item, f"{prefix}[]", maps)
    return out


def undocumented(records: list[dict], command: str) -> set[str]:
    docs = documented()
    names = set().union(*(fs for h in TABLES[command] for head, fs in docs.items()
                          if head.startswith(h)))
    at = FACE_AT[command]
    names |= {at + n[len("face"):] for n in names if n.startswith("face.")}
    maps = {n for n in names if n.endswith(">")}
    found = set().union(*(fields(r, "", maps) for r in records))
    return found - names


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, demo_clip):
    from cryvideo.testing.media import synth_cry

    d = tmp_path_factory.mktemp("json")
    sr = 16000
    rng = np.random.default_rng(0)
    y = 0.02 * rng.standard_normal(sr * 6).astype(np.float32)
    y[sr:sr * 4] += 0.6 * synth_cry(3.0, sr, seed=1)
    sf.write(d / "cry.wav", y, sr)
    sf.write(d / "quiet.wav", 0.02 * rng.standard_normal(sr * 3).astype(np.float32), sr)
    return [str(demo_clip), str(d / "cry.wav"), str(d / "quiet.wav"), str(d / "missing.wav")]


def _records(*argv) -> list[dict]:
    rc, out, err, _ = run_cli_inprocess(list(argv))
    assert rc == 7, err                               # the missing file failed, the others not
    return [json.loads(x) for x in out.splitlines()]


def test_every_field_of_detect_is_documented(shipped_detector, inputs):
    recs = _records("detect", "--json", "--summary", "--scores", *inputs)
    assert [r["status"] for r in recs] == ["ok", "ok", "ok", "error"]
    assert undocumented(recs, "detect") == set()
    # (the fields above are there: a record documented only in part would not test much)
    assert {"segment_peaks", "scores", "summary", "detector"} <= set(recs[0])


def test_every_field_of_predict_is_documented(shipped_detector, inputs):
    recs = _records("predict", "--json", *inputs)
    assert [r["status"] for r in recs] == ["ok", "ok", "ok", "error"]
    assert undocumented(recs, "predict") == set()
    assert {"branches", "media", "crying"} <= set(recs[0])


def test_an_undocumented_field_is_found():
    """The check is not blind: a key the page does not name is reported, under a map too."""
    rec = {"path": "a", "crying": True, "segments": [], "colour": "red",
           "face": {"segments": [{"mean_expression": {"happy": 1.0}, "pixels": 3}]},
           "timings": {"anything": 1.0}}
    assert undocumented([rec], "detect") == {"colour", "face.segments[].pixels"}
