"""Batch robustness: a folder where some files are broken.

``cryvideo predict FOLDER`` must process every good file, report each broken one (one line on
stderr naming it, and a JSON error record with ``--json``), and exit with 7 ("some failed").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from cryvideo.testing.fuzz import ffmpeg_processes


@pytest.mark.slow
def test_predict_folder_with_broken_files(fuzz_corpus, tmp_path):
    folder, _ = fuzz_corpus
    seeds = folder / "seeds"
    batch = tmp_path / "batch"
    batch.mkdir()
    good = ["av.mp4", "audio.wav", "audio.mp3"]
    for name in good:
        shutil.copyfile(seeds / name, batch / name)
    (batch / "empty.mp4").write_bytes(b"")
    (batch / "notes.mp4").write_text("not a video\n")
    data = (seeds / "av.mkv").read_bytes()
    (batch / "truncated.mkv").write_bytes(data[:200])
    (batch / "readme.txt").write_text("ignored: not a media extension\n")
    broken = ["empty.mp4", "notes.mp4", "truncated.mkv"]
    out = tmp_path / "results.jsonl"

    proc = subprocess.run(
        [sys.executable, "-m", "cryvideo", "predict", "--json", "--fps", "2", "--out", str(out),
         str(batch)],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))

    assert proc.returncode == 7, proc.stderr  # PartialFailure: "some failed"
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == len(broken) + 1, lines
    for name in broken:
        assert sum(str(batch / name) in ln for ln in lines) == 1, (name, lines)
    assert all(ln.startswith("cryvideo: error: ") for ln in lines)
    assert lines[-1] == "cryvideo: error: 3 of 6 files failed; the others were processed"

    records = [json.loads(ln) for ln in proc.stdout.strip().splitlines()]
    by_name = {os.path.basename(r["path"]): r for r in records}
    assert sorted(by_name) == sorted(good + broken)
    for name in good:
        rec = by_name[name]
        # processed: a full result (the cry gate may say "no crying" for a sine: label None)
        assert "error" not in rec and "label" in rec and rec["crying"] is not None, rec
        if rec["crying"]["detected"]:
            assert abs(sum(rec["probabilities"].values()) - 1) < 1e-3
            assert rec["label"] in rec["probabilities"]
        else:   # no crying: no reason; the probabilities are what the branches would answer
            assert rec["label"] is None
            assert abs(sum(rec["probabilities"].values()) - 1) < 1e-3
            assert rec["trust"]["headline"].endswith("no reason given")
    for name in broken:
        assert by_name[name]["exit_code"] == 3 and by_name[name]["error"]
    # --out holds the same records, written atomically at the end
    assert [json.loads(ln) for ln in out.read_text().strip().splitlines()] == records
    assert not ffmpeg_processes(str(batch))
