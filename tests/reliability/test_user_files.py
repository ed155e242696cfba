"""What the user gives is never damaged or lost (issue 11).

The cases a new user (or an adversary) tries with the real command line:

- **overwrite attempts**: ``--out``/``--report`` naming an input, another media file, binary
  data, a text file given as ``--report``: refused with exit 2 and one line, before any model
  loads; the file is untouched;
- **absurd claimed durations**: a header that claims 200 hours or 31 years: memory follows what
  is decoded, and the result says how little was there;
- **same-stem reports**: ``day1/clip.mp3``, ``day2/clip.mp3`` and ``day2/clip.ogg`` get three
  pages, never one page for two inputs;
- **two concurrent runs on one --out**: the second refuses (a lock), the first keeps its records;
- **Ctrl-C after N finished files**: exit 130, and ``--out`` holds the N finished records;
- **a --report page that fails after the analysis** does not drop the file's printed result.

Interruptions and concurrency are deterministic: the run under test waits at a chosen file until
the test signals it (``cryvideo.testing.user_files.PausedRun``).
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from conftest import cli_without_models, one_error_line

from cryvideo.testing.fuzz import ffmpeg_processes, run_cli_inprocess
from cryvideo.testing.user_files import mkv_claiming


# -- 1. overwrite attempts --------------------------------------------------------------------
@pytest.fixture
def user_files(media_dir, tmp_path):
    """A user's folder: two recordings, a text file, a binary file, an earlier JSON-lines run."""
    d = tmp_path / "user"
    d.mkdir()
    shutil.copyfile(media_dir / "av.mp4", d / "baby1.mp4")
    shutil.copyfile(media_dir / "audio_only.wav", d / "baby2.wav")
    (d / "notes.txt").write_text("feeding times: 7:00, 10:30\n")
    (d / "photo.bin").write_bytes(bytes(range(256)) * 64)
    (d / "old.jsonl").write_text('{"path": "x", "label": "hungry"}\n')
    os.link(d / "baby2.wav", d / "baby2-link.wav")  # the same file under another name
    (d / "pages").mkdir()
    (d / "pages" / "baby2.html").write_bytes(bytes(range(256)))  # not a page
    return d


OVERWRITES = {
    # the case: the user meant two inputs, the first is taken as the output
    "out-is-other-media": (["predict", "--out", "baby1.mp4", "baby2.wav"], "baby1.mp4",
                           "is not a text or JSON-lines file"),
    "out-is-the-input": (["predict", "--out", "baby2.wav", "baby2.wav"], "baby2.wav",
                         "is one of the input files"),
    "out-is-a-link-to-the-input": (["predict", "--out", "baby2-link.wav", "baby2.wav"],
                                   "baby2-link.wav", "is one of the input files"),
    "out-is-binary": (["predict", "--out", "photo.bin", "baby2.wav"], "photo.bin",
                      "is not a text or JSON-lines file"),
    "report-is-the-input": (["predict", "--report", "baby2.wav", "baby2.wav"], "baby2.wav",
                            "is one of the input files"),
    "report-over-text": (["predict", "--report", "notes.txt", "baby2.wav"], "notes.txt",
                         "is not an HTML page"),
    "report-file-for-several-inputs": (["predict", "--report", "notes.txt", "baby1.mp4",
                                        "baby2.wav"], "notes.txt", "names a folder"),
    "report-page-over-binary": (["predict", "--report", "pages", "baby1.mp4", "baby2.wav"],
                                "pages/baby2.html", "is not an HTML page"),
    "detect-out-is-the-input": (["detect", "--out", "baby2.wav", "baby2.wav"], "baby2.wav",
                                "is one of the input files"),
    "detect-out-is-other-media": (["detect", "--out", "baby1.mp4", "baby2.wav"], "baby1.mp4",
                                  "is not a text or JSON-lines file"),
}


@pytest.mark.parametrize("case", sorted(OVERWRITES))
def test_overwrite_attempts_are_refused(case, user_files, monkeypatch):
    argv, victim, why = OVERWRITES[case]
    monkeypatch.chdir(user_files)
    before = {p: p.read_bytes() for p in user_files.rglob("*") if p.is_file()}
    rc, err, loaded = cli_without_models(argv)
    assert rc == 2, err
    line = one_error_line(err)
    assert why in line, line
    if victim is not None:
        assert line.startswith(f"cryvideo: error: {victim}: "), line
    assert not loaded, "the output was refused only after a model was loaded"
    after = {p: p.read_bytes() for p in user_files.rglob("*") if p.is_file()}
    assert after == before  # nothing changed, nothing added (no page, no temporary file)


# -- 3. headers that claim 200 hours or 31 years ----------------------------------------------
YEARS_31 = 31 * 365.25 * 86400


@pytest.fixture(scope="module")
def false_headers(tmp_path_factory):
    from cryvideo.testing.media import ffmpeg

    d = tmp_path_factory.mktemp("false_headers")
    sound = d / "sound.mkv"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=2",
           "-c:a", "libvorbis", str(sound))
    video = d / "video.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=2", "-f", "lavfi",
           "-i", "sine=frequency=440:sample_rate=16000:duration=2", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "libvorbis", "-t", "2",
           str(video))
    return {
        "200 h": mkv_claiming(sound, d / "claims_200h.mkv", 200 * 3600),
        "31 years": mkv_claiming(sound, d / "claims_31y.mkv", YEARS_31),
        "200 h (video)": mkv_claiming(video, d / "video_claims_200h.mkv", 200 * 3600),
    }


@pytest.mark.parametrize("claim", ["200 h", "31 years", "200 h (video)"])
def test_claimed_duration_does_not_size_memory(false_headers, claim):
    import tracemalloc

    from cryvideo.media import load_audio, probe
    from cryvideo.media.audio import MAX_PREALLOC_SECONDS

    path = false_headers[claim]
    declared = probe(path).duration
    assert declared >= 200 * 3600 - 1  # ffmpeg believes the header
    tracemalloc.start()
    try:
        y = load_audio(path, sr=16000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 1.9 * 16000 <= y.size <= 2.1 * 16000  # what the file really holds
    # the buffer follows the decoded samples, never the claim (200 h at 16 kHz: 46 GB)
    assert peak < 1.1 * MAX_PREALLOC_SECONDS * 16000 * 4 + 64e6, peak


@pytest.mark.slow
@pytest.mark.parametrize("claim", ["200 h", "31 years", "200 h (video)"])
def test_claimed_duration_is_analysed_for_what_it_holds(false_headers, claim):
    path = false_headers[claim]
    said = claim.split(" (")[0]
    rc, out, err, _ = run_cli_inprocess(["predict", "--json", "--fps", "5", str(path)])
    assert rc == 0, err
    res = json.loads(out)
    # the duration's note, wherever it stands (without YuNet's weights a note on the face
    # finder comes first)
    note = next((n for n in res["notes"] if n.startswith("only ")), res["notes"])
    assert note.startswith(f"only 2.0 s could be decoded of the {said} the file declares"), note
    face = next(b for b in res["branches"] if b["name"] == "face")
    assert face["details"].get("frames", 0) <= 11  # 2 s at 5 fps, not 200 h of frames
    rc, out, err, _ = run_cli_inprocess(["detect", "--json", str(path)])
    assert rc == 0, err
    det = json.loads(out)
    assert abs(det["duration"] - 2.0) < 0.1
    note = next((n for n in det["notes"] if n.startswith("only ")), det["notes"])
    assert note.startswith(f"only 2.0 s could be decoded of the {said}"), note


# -- 4. reports of inputs with the same stem --------------------------------------------------
@pytest.mark.slow
def test_same_stem_reports_get_their_own_pages(media_dir, tmp_path):
    from cryvideo.testing.media import ffmpeg

    src = media_dir / "audio_only.mp3"
    (tmp_path / "day1").mkdir()
    (tmp_path / "day2").mkdir()
    inputs = [tmp_path / "day1" / "clip.mp3", tmp_path / "day2" / "clip.mp3",
              tmp_path / "day2" / "clip.ogg"]
    shutil.copyfile(src, inputs[0])
    shutil.copyfile(src, inputs[1])
    ffmpeg("-i", str(src), "-c:a", "libvorbis", str(inputs[2]))
    report = tmp_path / "reports"
    out = tmp_path / "old.jsonl"
    out.write_text('{"path": "from an earlier run"}\n')  # an earlier run's records: replaced
    rc, stdout, err, _ = run_cli_inprocess(["predict", "--no-face", "--json", "--report",
                                            str(report), "--out", str(out),
                                            str(tmp_path / "day1"), str(tmp_path / "day2")])
    assert rc == 0, err
    pages = sorted(report.iterdir())
    assert len(pages) == 3, pages
    for inp in inputs:  # every input has exactly one page, and it is about that input
        mine = [p for p in pages if f"File: {inp}<" in p.read_text()]
        assert len(mine) == 1, (inp, [p.name for p in pages])
    assert [json.loads(ln)["path"] for ln in out.read_text().splitlines()] == \
        [str(p) for p in inputs]


def test_page_names_are_unique():
    from cryvideo.cli.common import _page_names

    names = _page_names(["day1/clip.mp3", "day2/clip.mp3", "day2/clip.ogg", "day2/other.wav",
                         "a/x/Clip.MP3", "b/x/clip.mp3", "day2/other.wav"])
    assert len({n.lower() for n in names}) == len(names)
    assert names[3] == "other" and names[6] == "other-2"  # one file given twice
    assert names[2] == "clip.ogg"
    assert names[0].endswith("day1__clip.mp3") and names[1].endswith("day2__clip.mp3")


# -- 6. Ctrl-C after N finished files; two runs on one --out; a page failing late ------------
@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """Four small distinct videos (the face branch streams their frames)."""
    from cryvideo.testing.media import make_video

    d = tmp_path_factory.mktemp("videos")
    return [make_video(d / f"v{i}.mp4", duration=1.5, size="160x120", freq=300 + 100 * i)
            for i in range(4)]


@pytest.mark.slow
def test_ctrl_c_after_n_finished_files_keeps_their_records(videos, tmp_path, paused_run):
    finished = 2  # (none finished: test_atomic_outputs.py::test_interrupted_predict_...)
    out = tmp_path / "results.jsonl"
    run = paused_run(["predict", "--json", "--fps", "2", "--out", out, *videos],
                     pause_at=finished + 1, workdir=tmp_path)
    run.interrupt()
    rc, stdout, stderr = run.wait()
    assert rc == 130, stderr
    assert stderr.strip().splitlines()[-1] == "cryvideo: interrupted" and "Traceback" not in stderr
    printed = [json.loads(ln) for ln in stdout.splitlines()]
    assert [r["path"] for r in printed] == [str(v) for v in videos[:finished]]
    assert all("label" in r for r in printed)
    assert [json.loads(ln) for ln in out.read_text().splitlines()] == printed
    # no lock, no temporary file left beside it
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".paused")) == \
        ["results.jsonl"]
    assert not ffmpeg_processes(str(videos[0].parent))


@pytest.mark.slow
def test_second_run_on_the_same_out_refuses(videos, tmp_path, paused_run):
    out = tmp_path / "results.jsonl"
    first = paused_run(["predict", "--json", "--fps", "2", "--out", out, *videos[:2]],
                       pause_at=2, workdir=tmp_path)  # holds the lock, one file done
    rc, err, loaded = cli_without_models(["predict", "--json", "--out", out, videos[2]])
    assert rc == 2, err
    line = one_error_line(err)
    assert line.startswith(f"cryvideo: error: {out}: another cryvideo run is writing this "
                           "output"), line
    assert not loaded
    first.resume()
    rc, stdout, stderr = first.wait()
    assert rc == 0, stderr
    records = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert [r["path"] for r in records] == [str(v) for v in videos[:2]]
    assert not (tmp_path / ".results.jsonl.lock").exists()
    # once the first run is done, the output is free again (this run takes the lock, then
    # fails on its input: exit 3, and the records of the first run stay)
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video\n")
    rc, err, _ = cli_without_models(["predict", "--out", out, bad])
    assert rc == 3 and "not a media file" in one_error_line(err), err
    assert [json.loads(ln)["path"] for ln in out.read_text().splitlines()] == \
        [str(v) for v in videos[:2]]


@pytest.mark.slow
def test_report_failing_late_keeps_the_printed_result(videos, tmp_path, paused_run):
    """The report folder disappears while the run is at file 2 (a disk unplugged, a folder
    removed): that page fails, but file 2's result is still printed and kept in --out."""
    report, out = tmp_path / "reports", tmp_path / "results.jsonl"
    run = paused_run(["predict", "--json", "--fps", "2", "--report", report, "--out", out,
                      *videos[:2]], pause_at=2, workdir=tmp_path)
    shutil.rmtree(report)
    report.write_text("not a folder any more\n")
    run.resume()
    rc, stdout, stderr = run.wait()
    assert rc == 7, stderr
    printed = [json.loads(ln) for ln in stdout.splitlines()]
    assert [r["path"] for r in printed] == [str(v) for v in videos[:2]]
    assert "label" in printed[1] and "error" not in printed[1]
    assert [json.loads(ln) for ln in out.read_text().splitlines()] == printed
    lines = stderr.strip().splitlines()
    assert len(lines) == 2 and str(report / "v1.html") in lines[0], lines
