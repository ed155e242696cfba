"""Batch runs (``--workers``, ``--scheduler``, ``--out *.parquet``, ``--resume``, ``--manifest``)
on a folder of small synthetic clips: the same records as the serial path, each input exactly
once after a crash or a killed worker (the latter, and an existing cluster, in
test_batch_trust.py), the documented Parquet schema, clear errors."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import one_error_line

from cryvideo.batch import COLUMNS, arrow_schema, read_records
from cryvideo.testing import faults
from cryvideo.testing.media import batch_folder

REPO = Path(__file__).resolve().parents[1]
#: A cry (WAV), a tone (MP4), a cry (MP4), a cry (WAV): every kind, more files than workers.
N_CLIPS = 4
#: How long a CLI run may take before the test calls it hung (a failure deadline, not a timing
#: assertion: nothing here depends on how fast a run is).
HUNG = 300


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    return batch_folder(tmp_path_factory.mktemp("batch") / "clips", N_CLIPS, duration=3.0)


def _env(**extra) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("CRYVIDEO_DASK_SCHEDULER", None)
    env.update(extra)
    return env


def _face_off(argv) -> list:
    """``detect``/``predict`` with ``--face off``: these runs are about batches, not the face
    (the clips' test pattern has none; ``--face auto`` would load and run its models)."""
    argv = list(argv)
    return [argv[0], "--face", "off", *argv[1:]] if argv[0] in ("detect", "predict") else argv


def cli(*argv, env: dict | None = None, fault: str | None = None) -> subprocess.CompletedProcess:
    """``cryvideo ARGV``, with ``fault`` installed (:mod:`cryvideo.testing.faults`) if given
    (and ``--face off``: :func:`_face_off`)."""
    argv = _face_off(argv)
    program = (faults.command(fault, *argv) if fault else
               [sys.executable, "-m", "cryvideo", *map(str, argv)])
    return subprocess.run(program, capture_output=True, text=True, timeout=HUNG,
                          stdin=subprocess.DEVNULL, env=env or _env())


def _same_but_timings(rec: dict) -> dict:
    """A record without what may differ between two runs of the same file: its timings."""
    rec = json.loads(json.dumps(rec))
    rec.pop("timings", None)
    return rec


def assert_same(a, b, *, atol: float = 1e-5, where: str = "") -> None:
    """``a == b``, floats within ``atol``: serial runs use every core's threads, a worker one
    thread, and float sums in another order may move the 6th decimal of a probability."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{where}: {sorted(a)} != {sorted(b)}"
        for k in a:
            assert_same(a[k], b[k], atol=atol, where=f"{where}/{k}")
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        assert len(a) == len(b), f"{where}: {len(a)} != {len(b)} items"
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            assert_same(u, v, atol=atol, where=f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert abs(a - b) <= atol, f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def test_assert_same_tolerates_only_float_noise():
    assert_same({"p": [("a", 0.55241)], "n": 3}, {"p": [("a", 0.552411)], "n": 3})
    for other in ({"p": [("a", 0.56)], "n": 3}, {"p": [("b", 0.55241)], "n": 3},
                  {"p": [("a", 0.55241)], "n": 4}, {"p": [], "n": 3}):
        with pytest.raises(AssertionError):
            assert_same({"p": [("a", 0.55241)], "n": 3}, other)


def _by_path(records: list[dict]) -> dict[str, dict]:
    out = {}
    for r in records:
        assert r["path"] not in out, f"{r['path']} has two records"
        out[r["path"]] = r
    return out


def test_detect_on_two_workers_matches_serial(clips, tmp_path):
    folder = clips[0].parent
    serial, workers = tmp_path / "serial.jsonl", tmp_path / "workers.jsonl"
    a = cli("detect", "--out", serial, folder)
    b = cli("detect", "--workers", 2, "--out", workers, folder)
    assert a.returncode == 0, a.stderr
    assert b.returncode == 0, b.stderr
    ra, rb = read_records(serial), read_records(workers)
    assert [r["path"] for r in ra] == [str(c) for c in clips]   # input order, in both
    assert [r["path"] for r in rb] == [str(c) for c in clips]
    assert_same([_same_but_timings(r) for r in ra], [_same_but_timings(r) for r in rb])
    assert {r["status"] for r in rb} == {"ok"}
    crying = {Path(r["path"]).name: r["crying"] for r in rb}
    assert crying == {c.name: "_cry" in c.name for c in clips}, crying
    # the printed text is the same too, in input order whatever order the workers finished in
    assert a.stdout == b.stdout
    assert "Traceback" not in b.stderr


def test_predict_parquet_on_two_workers_matches_serial(clips, tmp_path):
    import pyarrow.parquet as pq

    folder = clips[0].parent
    serial, workers = tmp_path / "serial.parquet", tmp_path / "workers.parquet"
    a = cli("predict", "--fps", 2, "--out", serial, folder)
    b = cli("predict", "--fps", 2, "--workers", 2, "--out", workers, folder)
    assert a.returncode == 0, a.stderr
    assert b.returncode == 0, b.stderr
    ta, tb = pq.read_table(serial), pq.read_table(workers)
    assert ta.schema.equals(arrow_schema()) and tb.schema.equals(arrow_schema())
    assert ta.num_rows == tb.num_rows == N_CLIPS
    cols = [n for n, _, _ in COLUMNS if n not in ("timings", "record")]
    assert_same(ta.select(cols).to_pylist(), tb.select(cols).to_pylist())
    assert_same([_same_but_timings(json.loads(s)) for s in ta.column("record").to_pylist()],
                [_same_but_timings(json.loads(s)) for s in tb.column("record").to_pylist()])
    rows = tb.to_pylist()
    for row in rows:
        assert row["status"] == "ok" and row["command"] == "predict"
        assert row["crying"] == ("_cry" in row["path"])
        if row["crying"]:
            probs = dict(row["probabilities"])
            assert row["label"] == max(probs, key=probs.get)
            assert abs(sum(probs.values()) - 1) < 1e-3
            assert row["segments"] and all(s["end"] > s["start"] for s in row["segments"])
        else:
            assert row["label"] is None
        models = dict(row["models"])
        assert "cry_detector_yamnet_int8.tflite" in models
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in models.values())
        assert row["timings"] and dict(row["timings"])["total"] >= 0


def _documented_columns() -> list[tuple[str, str]]:
    """``(name, type)`` of the schema table in docs/batch.md."""
    text = (REPO / "docs" / "batch.md").read_text(encoding="utf-8")
    section = text.split("## The records", 1)[1]
    rows = re.findall(r"^\|\s*`([a-z_]+)`\s*\|\s*`([^`]+)`\s*\|", section, flags=re.M)
    assert rows, "no schema table in docs/batch.md"
    return rows


def test_parquet_schema_is_as_documented(clips, tmp_path):
    import pyarrow.parquet as pq

    assert _documented_columns() == [(n, t) for n, t, _ in COLUMNS]
    out = tmp_path / "r.parquet"
    bad = tmp_path / "not_media.mp4"
    bad.write_text("not a video\n")
    proc = cli("detect", "--out", out, clips[0], bad)
    assert proc.returncode == 7, proc.stderr   # one file failed: a row for it too
    schema = pq.read_schema(out)
    assert schema.equals(arrow_schema())
    assert [(f.name, str(f.type)) for f in schema][:3] == [
        ("path", "string"), ("command", "string"), ("status", "string")]
    assert schema.metadata[b"cryvideo.schema_version"] == b"1"
    rows = pq.read_table(out).to_pylist()
    assert [r["status"] for r in rows] == ["ok", "error"]
    assert rows[1]["error"].startswith("not a media file") and rows[1]["exit_code"] == 3
    assert rows[1]["crying"] is None and rows[1]["segments"] == []
    assert json.loads(rows[0]["record"])["path"] == str(clips[0])


def _wait_for_records(out: Path, n: int, proc: subprocess.Popen) -> list[dict]:
    """Poll the output until it holds ``n`` records (the run commits after every file)."""
    deadline = time.monotonic() + HUNG
    while time.monotonic() < deadline:
        if out.exists():
            try:
                recs = read_records(out)
            except Exception:  # noqa: BLE001 - only a finished rename is ever seen
                raise AssertionError(f"{out} was seen half-written") from None
            if len(recs) >= n:
                return recs
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else "run ended early"
        time.sleep(0.2)
    raise AssertionError(f"the run did not commit {n} records")


def _start(argv, fault: str) -> subprocess.Popen:
    return subprocess.Popen(faults.command(fault, *_face_off(argv)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, env=_env(), start_new_session=True)


@pytest.mark.parametrize("workers", [None, 2], ids=["serial", "two-workers"])
def test_resume_after_a_crash_gives_each_file_once(clips, tmp_path, workers):
    folder = clips[0].parent
    out = tmp_path / "r.jsonl"
    where = ["--workers", 2] if workers else []
    # the last file never finishes: the run is killed (the whole process group, workers too)
    # once every other file is committed
    proc = _start(["detect", *where, "--commit-every", 1, "--out", out, folder],
                  fault=f"hang:{clips[-1].name}")
    try:
        before = _wait_for_records(out, N_CLIPS - 1, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    lines_before = out.read_text(encoding="utf-8").splitlines()
    assert len(before) == N_CLIPS - 1
    assert str(clips[-1]) not in {r["path"] for r in before}

    again = cli("detect", *where, "--resume", "--out", out, folder)
    assert again.returncode == 0, again.stderr
    assert f"{N_CLIPS - 1} of {N_CLIPS} files already have a record" in again.stderr
    after = read_records(out)
    assert sorted(_by_path(after)) == sorted(str(c) for c in clips)   # each file once
    # the finished records were kept as they were (not recomputed: their timings too)
    assert out.read_text(encoding="utf-8").splitlines()[:N_CLIPS - 1] == lines_before
    # only the missing file was analysed (and printed)
    assert str(clips[-1]) in again.stdout
    assert not any(str(c) in again.stdout for c in clips[:-1])
    # nothing left to do: a third run analyses nothing and changes nothing
    text = out.read_text(encoding="utf-8")
    third = cli("detect", *where, "--resume", "--out", out, folder)
    assert third.returncode == 0, third.stderr
    assert third.stdout == "" and out.read_text(encoding="utf-8") == text


# A worker killed on a file (each input exactly once, the victim's record whole) and the
# third way, an existing cluster (--scheduler, $CRYVIDEO_DASK_SCHEDULER: the serial run's
# records): test_batch_trust.py's test_workers_print_in_input_order and
# test_existing_scheduler_gets_absolute_paths make those runs and check these too.


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "not an address",
                                     "http://localhost:8786"])
def test_bad_scheduler_address(clips, tmp_path, address):
    out = tmp_path / "r.jsonl"
    proc = cli("detect", "--scheduler", address, "--out", out, clips[0].parent,
               env=_env(CRYVIDEO_DASK_TIMEOUT="2"))
    assert proc.returncode == 2, proc.stderr
    line = one_error_line(proc.stderr)
    assert f"cannot reach the Dask scheduler at {address}" in line
    assert not out.exists()


@pytest.mark.parametrize("argv, says", [
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "not both"),
    (["--workers", "0"], "--workers must be"),
    (["--resume"], "--resume needs --out"),
    (["--resume", "--out", "{tmp}/r.txt"], "--resume needs --out"),
    (["--commit-every", "0", "--out", "{tmp}/r.jsonl"], "--commit-every must be"),
])
def test_batch_option_errors(clips, tmp_path, argv, says):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    proc = cli("detect", *argv, clips[0])
    assert proc.returncode == 2, proc.stderr
    assert says in one_error_line(proc.stderr)


def test_resume_refuses_a_file_that_is_not_an_output(clips, tmp_path):
    out = tmp_path / "notes.jsonl"
    out.write_text("my notes, not records\n")
    proc = cli("detect", "--resume", "--out", out, clips[0])
    assert proc.returncode == 2
    assert "cannot resume from it" in one_error_line(proc.stderr)
    assert out.read_text() == "my notes, not records\n"   # untouched


def test_manifest_text_and_csv(clips, tmp_path):
    sub = tmp_path / "lists"
    sub.mkdir()
    txt = sub / "files.txt"
    txt.write_text("# two clips\n" + os.path.relpath(clips[0], sub) + "\n\n"
                   + str(clips[1]) + "\n")
    csv = sub / "files.csv"
    csv.write_text("id,path\n1," + str(clips[3]) + "\n")
    out = tmp_path / "r.jsonl"
    proc = cli("detect", "--manifest", txt, "--manifest", csv, "--out", out)
    assert proc.returncode == 0, proc.stderr
    got = [os.path.realpath(r["path"]) for r in read_records(out)]
    assert got == [os.path.realpath(c) for c in (clips[0], clips[1], clips[3])]


def test_bad_manifest(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    proc = cli("detect", "--manifest", empty)
    assert proc.returncode == 3
    assert "lists no files" in one_error_line(proc.stderr)
    proc = cli("detect", "--manifest", tmp_path / "missing.csv")
    assert proc.returncode == 3
    assert "no such manifest file" in one_error_line(proc.stderr)


def test_broken_file_on_workers_gives_an_error_record(clips, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for c in clips[:2]:
        (folder / c.name).symlink_to(c)
    (folder / "broken.mp4").write_bytes(b"\x00\x01 not a video")
    out = tmp_path / "r.jsonl"
    proc = cli("detect", "--workers", 2, "--out", out, folder)
    assert proc.returncode == 7, proc.stderr      # some failed, the others were processed
    recs = _by_path(read_records(out))
    assert sorted(Path(p).name for p in recs) == sorted([c.name for c in clips[:2]]
                                                        + ["broken.mp4"])
    bad = recs[str(folder / "broken.mp4")]
    assert bad["status"] == "error" and bad["exit_code"] == 3 and "not a media file" in bad["error"]
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("cryvideo: error: ")]
    assert errors == [f"cryvideo: error: {folder / 'broken.mp4'}: {bad['error']}",
                      "cryvideo: error: 1 of 3 files failed; the others were processed"]


def test_run_records_from_python(clips, tmp_path):
    """The notebook way: records from Python, here and on two local workers."""
    from cryvideo.batch import DetectJob, DetectSettings, run_records, to_row

    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF nonsense")
    files = [clips[0], clips[1], bad]
    job = DetectJob(DetectSettings(face="off"))
    here = sorted(run_records(files, job), key=lambda r: r["path"])
    there = sorted(run_records(files, job, workers=2), key=lambda r: r["path"])
    assert [_same_but_timings(r) for r in here] == [_same_but_timings(r) for r in there]
    by_name = {Path(r["path"]).name: r for r in here}
    assert by_name["bad.wav"]["status"] == "error"
    assert by_name[clips[0].name]["crying"] is True and by_name[clips[1].name]["crying"] is False
    rows = [to_row(r, command="detect") for r in here]
    assert {r["status"] for r in rows} == {"ok", "error"}


def test_model_error_on_workers_is_one_line(clips, tmp_path):
    bad = tmp_path / "broken.tflite"
    bad.write_bytes(b"not a model")
    (tmp_path / "broken.json").write_text("{}")
    proc = cli("detect", "--workers", 2, "--model", bad, clips[0], clips[1])
    assert proc.returncode == 4, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("cryvideo: error: ")]
    assert len(errors) == 1 and "model card" in errors[0], proc.stderr
    assert all(ln.startswith("cryvideo: ") for ln in lines), proc.stderr   # no worker logs
    assert "Traceback" not in proc.stderr
