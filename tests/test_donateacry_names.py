"""Donateacry file names: the real ones parse, malformed ones are rejected clearly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cryvideo.data import DONATEACRY_CLASSES, load_donateacry, parse_donateacry_name
from cryvideo.errors import DatasetError


def test_parses_the_published_examples():
    ios = parse_donateacry_name("0D1AD73E-4C5E-45F3-85C4-9A3CB71E8856-1430742197-1.0-m-04-hu.caf")
    assert ios == {"uuid": "0d1ad73e-4c5e-45f3-85c4-9a3cb71e8856", "timestamp": 1430742197.0,
                   "app_version": "1.0", "gender": "male", "age": "0-4 weeks",
                   "reason": "hungry"}
    android = parse_donateacry_name(
        "/x/y/0c8f14a9-6999-485b-97a2-913c1cbf099c-1431028888092-1.7-f-26-sc.3gp")
    assert android["timestamp"] == pytest.approx(1431028888.092)  # milliseconds → seconds
    assert (android["gender"], android["age"], android["reason"]) == ("female", "2-6 months",
                                                                      "scared")


@pytest.mark.parametrize("name, why", [
    ("0D1AD73E-4C5E-45F3-85C4-9A3CB71E885-1430742197-1.0-m-04-hu.caf", "convention"),
    ("0D1AD73E-4C5E-45F3-85C4-9A3CB71E8856-1430742197-1.0-m-04.caf", "convention"),
    ("0D1AD73E-4C5E-45F3-85C4-9A3CB71E8856-14307-1.0-m-04-hu.caf", "convention"),
    ("0D1AD73E-4C5E-45F3-85C4-9A3CB71E8856-1430742197-1.0-x-04-hu.caf", "gender"),
    ("0D1AD73E-4C5E-45F3-85C4-9A3CB71E8856-1430742197-1.0-m-99-hu.caf", "age"),
    ("0D1AD73E-4C5E-45F3-85C4-9A3CB71E8856-1430742197-1.0-m-04-zz.caf", "reason"),
    ("ZZZZZZZZ-4C5E-45F3-85C4-9A3CB71E8856-1430742197-1.0-m-04-hu.caf", "convention"),
    ("baby_crying.wav", "convention"),
    ("", "convention"),
])
def test_rejects_malformed_names(name, why):
    with pytest.raises(DatasetError) as exc:
        parse_donateacry_name(name)
    msg = str(exc.value)
    assert why in msg
    assert "\n" not in msg
    if name:
        assert msg.startswith(os.path.basename(name))


@pytest.mark.shared
def test_accepts_every_real_name(donateacry_dir):
    files = sorted(p for p in Path(donateacry_dir).rglob("*.wav"))
    assert len(files) == 457
    for f in files:
        fields = parse_donateacry_name(f.name)
        assert len(fields["uuid"]) == 36
        assert 1.4e9 < fields["timestamp"] < 1.6e9  # 2014-2020: seconds, never milliseconds
    items = load_donateacry(donateacry_dir)
    counts = {c: sum(it.label == c for it in items) for c in DONATEACRY_CLASSES}
    assert counts == {"belly_pain": 16, "burping": 8, "discomfort": 27, "hungry": 382,
                      "tired": 24}
    assert len({it.uuid for it in items}) == 221
    # the cleaned corpus merged cold/hot into discomfort: folder wins over the name's code
    assert {it.reason for it in items if it.label == "discomfort"} == {"discomfort", "cold_hot"}
    sub = load_donateacry(donateacry_dir, classes=["burping", "tired"])
    assert {it.label for it in sub} == {"burping", "tired"} and len(sub) == 32


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_raw_upload_buckets_use_the_reason_code(tmp_path):
    _touch(tmp_path / "ios" / "0D1AD73E-4C5E-45F3-85C4-9A3CB71E8856-1430742197-1.0-m-04-hu.caf")
    _touch(tmp_path / "android" / "0c8f14a9-6999-485b-97a2-913c1cbf099c-1431028888092-1.7-m-26-"
           "lo.3gp")
    _touch(tmp_path / "android" / "README.txt")  # not audio: ignored
    items = load_donateacry(tmp_path)
    assert [it.label for it in items] == ["lonely", "hungry"]  # sorted by path
    assert items[1].uuid == "0d1ad73e-4c5e-45f3-85c4-9a3cb71e8856"


def test_loader_rejects_a_malformed_name_with_its_path(tmp_path):
    _touch(tmp_path / "hungry" / "0D1AD73E-4C5E-45F3-85C4-9A3CB71E8856-1430742197-1.0-m-04-hu.wav")
    bad = _touch(tmp_path / "hungry" / "recording-2015.wav")
    with pytest.raises(DatasetError) as exc:
        load_donateacry(tmp_path)
    assert str(bad) in str(exc.value)
    assert len(load_donateacry(tmp_path, strict=False)) == 1


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_loader_rejects_missing_or_empty_folders(tmp_path, make):
    root = tmp_path / "nope"
    if make == "empty":
        root.mkdir()
    with pytest.raises(DatasetError):
        load_donateacry(root)


def test_loader_rejects_unknown_class(tmp_path):
    _touch(tmp_path / "hungry" / "0D1AD73E-4C5E-45F3-85C4-9A3CB71E8856-1430742197-1.0-m-04-hu.wav")
    with pytest.raises(DatasetError, match="tired"):
        load_donateacry(tmp_path, classes=["tired"])
