"""Batch runs that a user (or an adversary) can get wrong, and that must not lose or mix anything
(issue 22, defects 1–8):

1. an existing Dask cluster whose workers run in another folder is sent absolute paths (inputs
   and manifests given relative to where the command runs); ``--resume`` analyses the files
   whose record is an error again, unless ``--skip-failed``;
2. ``--out`` never replaces a ``--manifest`` (an input);
3. an output belongs to one command: ``predict --resume`` never adds to a ``detect`` output, nor
   the reverse (JSON lines and Parquet; outputs written before records named their command too);
4. ``--out`` and a ``--timeline`` picture are never one file;
5. SIGTERM stops a batch as Ctrl-C does: the finished records are committed, the lock removed,
   exit 143 (serial, and with ``--workers``);
6. ``--out`` never replaces a file that is not a cryvideo output (a user's Parquet file, notes,
   a CSV), unless ``--force``;
7. ``--resume`` on a record that is not a cryvideo record is exit 2, naming the line;
8. ``--workers`` prints the records in input order, as ``--out`` holds them.

Everything refused is refused before any model loads, and leaves the files as they were.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import cli_without_models, one_error_line

from cryvideo.batch import read_records
from cryvideo.testing import faults
from cryvideo.testing.media import batch_folder

REPO = Path(__file__).resolve().parents[1]
#: A deadline for a hung run (a failure, never a timing condition of a test).
HUNG = 300


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    """A cry (WAV), a tone (MP4), a cry (MP4): 3 s each."""
    return batch_folder(tmp_path_factory.mktemp("trust") / "clips", 3, duration=3.0)


def _env(**extra) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("CRYVIDEO_DASK_SCHEDULER", None)
    # the command may run in another folder than the repository's
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env.update(extra)
    return env


def _face_off(argv) -> list:
    """``detect``/``predict`` with ``--face off``: these runs are about batches and files, not
    the face (the clips' test pattern has none; ``--face auto`` would load and run its
    models)."""
    argv = list(argv)
    return [argv[0], "--face", "off", *argv[1:]] if argv[0] in ("detect", "predict") else argv


def cli(*argv, env: dict | None = None, cwd=None,
        fault: str | None = None) -> subprocess.CompletedProcess:
    """``cryvideo ARGV``, with ``fault`` installed (:mod:`cryvideo.testing.faults`) if given
    (and ``--face off``: :func:`_face_off`)."""
    argv = _face_off(argv)
    program = (faults.command(fault, *argv) if fault else
               [sys.executable, "-m", "cryvideo", *map(str, argv)])
    return subprocess.run(program, capture_output=True, text=True, timeout=HUNG,
                          stdin=subprocess.DEVNULL, env=env or _env(), cwd=cwd)


def _refused(argv, *, says: str, victim: Path | None = None, cwd=None) -> str:
    """Run ``cryvideo ARGV``: it must be refused with exit 2 and one line saying ``says``
    (about ``victim``), before any model loads. The line."""
    rc, err, loaded = cli_without_models([str(a) for a in argv], cwd=cwd)
    assert rc == 2, err
    line = one_error_line(err)
    assert says in line, line
    if victim is not None:
        assert line.startswith(f"cryvideo: error: {victim}: "), line
    assert not loaded, "refused only after a model was loaded"
    return line


# -- 1. an existing cluster whose workers run elsewhere; --resume and failed files -----------
def test_existing_scheduler_gets_absolute_paths(clips, tmp_path, monkeypatch):
    """The third way to run a batch (a cluster started elsewhere, here in the test, and
    ``--scheduler`` or ``$CRYVIDEO_DASK_SCHEDULER``): the records are the serial run's, and the
    workers, started in another folder, are sent paths they can open."""
    from distributed import Client, LocalCluster

    here = clips[0].parent.parent          # where the command runs: clips/ is relative to it
    lists = here / "lists"
    lists.mkdir(exist_ok=True)
    (lists / "two.txt").write_text(f"../clips/{clips[1].name}\n../clips/{clips[2].name}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)           # the workers start here, not where the command runs
    out_a, out_b, serial = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "serial.jsonl"
    s = cli("detect", "--out", serial, "clips", cwd=here)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                      dashboard_address=":0", silence_logs=40) as cluster:
        with Client(cluster) as client:
            assert set(client.run(os.getcwd).values()) == {str(elsewhere)}
        address = cluster.scheduler_address
        a = cli("detect", "--scheduler", address, "--out", out_a, "clips", cwd=here)
        b = cli("detect", "--manifest", "lists/two.txt", "--out", out_b, cwd=here,
                env=_env(CRYVIDEO_DASK_SCHEDULER=address))
    assert s.returncode == 0, s.stderr
    assert a.returncode == 0, a.stderr
    assert b.returncode == 0, b.stderr
    # what the serial run gives, but the timings
    assert [_same_but_timings(r) for r in read_records(out_a)] == \
        [_same_but_timings(r) for r in read_records(serial)]
    # every file analysed, and named as it was given (relative to where the command ran)
    got = read_records(out_a)
    assert [r["path"] for r in got] == [f"clips/{c.name}" for c in clips]
    assert {r["status"] for r in got} == {"ok"}
    assert [r["crying"] for r in got] == ["_cry" in c.name for c in clips]
    assert [ln.split(": ")[0] for ln in a.stdout.splitlines() if not ln.startswith(" ")] == \
        [f"clips/{c.name}" for c in clips]
    got = read_records(out_b)
    assert [r["path"] for r in got] == [f"clips/{c.name}" for c in clips[1:]]  # as listed
    assert {r["status"] for r in got} == {"ok"}


def _same_but_timings(rec: dict) -> dict:
    """A record without what may differ between two runs of the same file: its timings."""
    return {k: v for k, v in rec.items() if k != "timings"}


def test_outcomes_name_files_as_given():
    """What a worker sends back about ``/abs/a.wav`` names ``a.wav``, as the user gave it."""
    import numpy as np

    from cryvideo.batch import DetectJob, FileOutcome
    from cryvideo.batch.jobs import as_given, error_outcome
    from cryvideo.detection.result import DetectionResult
    from cryvideo.errors import InputFileError

    failed = as_given(error_outcome(DetectJob(), 0, "/abs/a.wav",
                                    InputFileError("no such file", path="/abs/a.wav")), "a.wav")
    assert (failed.path, failed.record["path"], str(failed.error)) == \
        ("a.wav", "a.wav", "a.wav: no such file")
    res = DetectionResult(path="/abs/a.wav", probability=0.9, crying=True, threshold=0.5,
                          segments=[], duration=3.0, window_times=np.zeros(1),
                          window_probs=np.zeros(1))
    record = {"path": "/abs/a.wav", "media": {"path": "/abs/a.wav"}, "notes": ["/abs/a.wav.x"]}
    done = as_given(FileOutcome(0, "/abs/a.wav", "ok", (res, ["n"], {}), record), "a.wav")
    assert done.result[0].path == "a.wav" and done.result[1:] == (["n"], {})
    assert done.record == {"path": "a.wav", "media": {"path": "a.wav"}, "notes": ["/abs/a.wav.x"]}
    assert res.path == "/abs/a.wav" and record["path"] == "/abs/a.wav"   # copies, not edits


def test_resume_analyses_failed_files_again(clips, tmp_path):
    late = tmp_path / "late.wav"          # not there yet: the first run fails on it
    out = tmp_path / "r.jsonl"
    first = cli("detect", "--out", out, clips[0], late)
    assert first.returncode == 7, first.stderr
    recs = read_records(out)
    assert [r["status"] for r in recs] == ["ok", "error"]
    shutil.copyfile(clips[2], late)       # the file is there now
    text = out.read_text(encoding="utf-8")

    # asked to: the failed file stays failed, nothing is analysed
    kept = cli("detect", "--resume", "--skip-failed", "--out", out, clips[0], late)
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout == "" and out.read_text(encoding="utf-8") == text

    # by default: the failed file is analysed again, and its new record replaces the old one
    again = cli("detect", "--resume", "--out", out, clips[0], late)
    assert again.returncode == 0, again.stderr
    assert "analysing the other 1 (1 of them failed or were stopped before)" in again.stderr
    recs = read_records(out)
    assert [(r["path"], r["status"]) for r in recs] == [(str(clips[0]), "ok"), (str(late), "ok")]
    assert recs[1]["crying"] is True
    assert out.read_text(encoding="utf-8").splitlines()[0] == text.splitlines()[0]  # kept as is
    assert str(late) in again.stdout and str(clips[0]) not in again.stdout


def test_skip_failed_needs_resume(clips, tmp_path):
    _refused(["detect", "--skip-failed", "--out", tmp_path / "r.jsonl", clips[0]],
             says="--skip-failed goes with --resume")


# -- 2. the manifest is an input ------------------------------------------------------------
@pytest.mark.parametrize("name", ["list.txt", "list.csv"])
def test_out_never_replaces_the_manifest(clips, tmp_path, name):
    manifest = tmp_path / name
    manifest.write_text(("path\n" if name.endswith(".csv") else "") + f"{clips[0]}\n")
    before = manifest.read_bytes()
    _refused(["detect", "--manifest", manifest, "--out", manifest],
             says="is one of the input files", victim=manifest)
    assert manifest.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]   # no lock, no temporary file


# -- 3. one command per output ----------------------------------------------------------------
@pytest.fixture(scope="module")
def outputs(clips, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Real outputs of ``detect`` and ``predict`` on the first clip: ``{(command, fmt): path}``
    (written by the command line's ``main``, in this process: one model load per command
    instead of a fresh interpreter per file)."""
    from cryvideo.testing.fuzz import run_cli_inprocess

    d = tmp_path_factory.mktemp("outputs")
    made = {}
    for command in ("detect", "predict"):
        extra = ["--no-face"] if command == "predict" else []
        for fmt in ("jsonl", "parquet", "txt"):
            out = d / f"{command}.{fmt}"
            rc, _, err, _ = run_cli_inprocess(_face_off([command, *extra, "--out", str(out),
                                                         str(clips[0])]))
            assert rc == 0, err
            made[command, fmt] = out
    return made


def _legacy(src: Path, dst: Path) -> Path:
    """A copy of a JSON-lines output as written before records named their command."""
    lines = [json.loads(ln) for ln in src.read_text(encoding="utf-8").splitlines()]
    for rec in lines:
        assert rec.pop("command") in ("detect", "predict")
    dst.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    return dst


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "legacy-jsonl"])
@pytest.mark.parametrize("first, second", [("detect", "predict"), ("predict", "detect")])
def test_an_output_belongs_to_one_command(outputs, clips, tmp_path, fmt, first, second):
    src = outputs[first, fmt.replace("legacy-", "")]
    out = tmp_path / f"mix{src.suffix}"
    if fmt.startswith("legacy"):
        _legacy(src, out)
    else:
        shutil.copyfile(src, out)
    before = out.read_bytes()
    _refused([second, "--resume", "--out", out, clips[1]],
             says=f"holds {first} records: {second} --resume will not add", victim=out)
    assert out.read_bytes() == before


def test_records_name_their_command(outputs):
    import pyarrow.parquet as pq

    for command in ("detect", "predict"):
        assert [r["command"] for r in read_records(outputs[command, "jsonl"])] == [command]
        assert [r["command"] for r in read_records(outputs[command, "parquet"])] == [command]
        meta = pq.read_schema(outputs[command, "parquet"]).metadata
        assert meta[b"cryvideo.command"] == command.encode()


# -- 4. --out and --timeline ------------------------------------------------------------------
@pytest.mark.parametrize("case", ["same-name", "one-input-folder", "several-inputs-folder"])
def test_out_and_timeline_never_collide(clips, tmp_path, case):
    pics = tmp_path / "pics"
    pics.mkdir()
    if case == "same-name":
        out, argv = tmp_path / "r.png", ["--timeline", tmp_path / "r.png", clips[0]]
    elif case == "one-input-folder":
        out, argv = pics / f"{clips[0].stem}.png", ["--timeline", pics, clips[0]]
    else:
        out, argv = pics / f"{clips[1].stem}.png", ["--timeline", pics, clips[0], clips[1]]
    _refused(["detect", "--out", out, *argv], says="is both the --out file and a --timeline file",
             victim=out)
    assert not out.exists() and not any(pics.iterdir())


# -- 5. SIGTERM ---------------------------------------------------------------------------------
def test_sigterm_keeps_the_finished_records(clips, tmp_path):
    from cryvideo.testing.user_files import PausedRun

    out = tmp_path / "r.jsonl"
    # waits at the start of file 3 (files 1 and 2 are finished) until signalled
    run = PausedRun(_face_off(["detect", "--json", "--out", out, *clips]), pause_at=3,
                    workdir=tmp_path)
    try:
        run.proc.send_signal(signal.SIGTERM)   # what docker stop, Slurm and systemd send
        rc, stdout, stderr = run.wait()
    finally:
        run.kill()
    assert rc == 143, stderr
    assert stderr.strip().splitlines()[-1] == "cryvideo: terminated (SIGTERM)"
    assert "Traceback" not in stderr
    printed = [json.loads(ln) for ln in stdout.splitlines()]
    recs = read_records(out)
    assert recs == printed
    assert [r["path"] for r in recs[:2]] == [str(c) for c in clips[:2]]
    assert [r["status"] for r in recs[:2]] == ["ok", "ok"]
    # the file it was in keeps what was found so far, as on Ctrl-C (and --resume redoes it)
    assert [r["status"] for r in recs[2:]] in ([], ["interrupted"])
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".paused")) == \
        ["r.jsonl"]                       # no lock, no temporary file


def test_sigterm_on_workers_keeps_the_finished_records(clips, tmp_path):
    out = tmp_path / "r.jsonl"
    # the last file never finishes: SIGTERM comes once the others are committed
    proc = subprocess.Popen(faults.command(f"hang:{clips[-1].name}",
                                           *_face_off(["detect", "--workers", 2,
                                                       "--commit-every", 1, "--out", out,
                                                       *clips])),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True, env=_env())
    try:
        deadline = time.monotonic() + HUNG
        while not (out.exists() and len(read_records(out)) == 2):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the run did not commit 2 records"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)   # to the command only, not its workers
        _, stderr = proc.communicate(timeout=HUNG)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
    assert proc.returncode == 143, stderr
    assert stderr.strip().splitlines()[-1] == "cryvideo: terminated (SIGTERM)", stderr
    assert [r["path"] for r in read_records(out)] == [str(c) for c in clips[:2]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.jsonl"]


# -- 6. a user's own files ----------------------------------------------------------------------
def _users_parquet(path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"baby": ["a", "b"], "minutes": [3.5, 7.0]}), path)
    return path


USER_FILES = {
    "mydata.parquet": _users_parquet,
    "notes.md": lambda p: p.write_text("# Night of 3 May\nwoke at 2:10, fed at 2:30\n"),
    "labels.csv": lambda p: p.write_text("file,label\nclip000_cry.wav,hungry\n"),
    "labels.jsonl": lambda p: p.write_text('{"file": "a.wav", "label": "hungry"}\n'),
    "config.json": lambda p: p.write_text('{\n  "threshold": 0.5\n}\n'),
}


@pytest.mark.parametrize("name", sorted(USER_FILES))
def test_out_never_replaces_a_users_file(clips, tmp_path, name):
    mine = tmp_path / name
    USER_FILES[name](mine)
    before = mine.read_bytes()
    _refused(["detect", "--out", mine, clips[0]], says="exists and is not a cryvideo output",
             victim=mine)
    assert mine.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_force_replaces_a_users_file(clips, tmp_path):
    mine = tmp_path / "notes.md"
    mine.write_text("my notes\n")
    proc = cli("detect", "--force", "--out", mine, clips[0])
    assert proc.returncode == 0, proc.stderr
    assert mine.read_text() == proc.stdout


@pytest.mark.parametrize("command, fmt", [("detect", "parquet"), ("predict", "jsonl"),
                                          ("predict", "txt")])
def test_a_cryvideo_output_is_replaced_without_force(outputs, clips, tmp_path, command, fmt):
    """A run replaces an earlier output (of either command; not --resume): the same command
    run again is the common case, and nothing of the user's is lost."""
    out = tmp_path / f"{command}.{fmt}"
    shutil.copyfile(outputs[command, fmt], out)
    proc = cli("detect", "--out", out, clips[1])
    assert proc.returncode == 0, proc.stderr
    if fmt != "txt":
        assert [(r["path"], r["command"]) for r in read_records(out)] == \
            [(str(clips[1]), "detect")]
    else:
        assert out.read_text() == proc.stdout


# -- 7. corrupt records -------------------------------------------------------------------------
@pytest.mark.parametrize("line, why", [
    ('{"path": 5, "status": "ok"}', "its path is 5, not a file name"),
    ('{"path": null}', "its path is null"),
    ('{"path": "a.wav", "status": "done"}', 'its status is "done"'),
    ('{"path": "a.wav", "command": "listen"}', 'its command is "listen"'),
    ('[1, 2]', "not a JSON object"),
    ('{"path": "a.wav", ', "is not JSON"),
])
def test_resume_names_a_corrupt_line(clips, tmp_path, line, why):
    out = tmp_path / "r.jsonl"
    good = json.dumps({"path": str(clips[0]), "status": "ok", "command": "detect"})
    out.write_text(f"{good}\n\n{line}\n")
    before = out.read_bytes()
    said = _refused(["detect", "--resume", "--out", out, clips[0]],
                    says="cannot resume from it: line 3 ", victim=out)
    assert why in said, said
    assert out.read_bytes() == before


def test_resume_names_a_corrupt_parquet_row(outputs, clips, tmp_path):
    import pyarrow.parquet as pq

    table = pq.read_table(outputs["detect", "parquet"])
    rows = table.to_pylist()
    rows.append(dict(rows[0], record='{"path": 5, "status": "ok"}'))
    out = tmp_path / "r.parquet"
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), out)
    before = out.read_bytes()
    said = _refused(["detect", "--resume", "--out", out, clips[0]],
                    says="cannot resume from it: row 2 is not a cryvideo record", victim=out)
    assert "its path is 5" in said
    assert out.read_bytes() == before


# -- 8. input order on workers ------------------------------------------------------------------
def test_workers_print_in_input_order(clips, tmp_path):
    """The first file's worker is killed once: it finishes after the others (rescheduled), and
    is still printed first. The killed worker loses nothing: each input has exactly one
    record, the victim's a whole one (the run test_batch_runs.py's killed worker made too)."""
    out, marker = tmp_path / "r.jsonl", tmp_path / "killed-once"
    proc = cli("detect", "--workers", 2, "--json", "--out", out, *clips,
               fault=f"kill:{clips[0].name}:{marker}")
    assert marker.exists(), "the worker was never killed"
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    printed = [json.loads(ln) for ln in proc.stdout.splitlines()]
    assert [r["path"] for r in printed] == [str(c) for c in clips]   # each once, in order
    assert read_records(out) == printed
    assert {r["status"] for r in printed} == {"ok"}
    assert printed[0]["crying"] is True                  # the victim, analysed to the end


def test_input_order_puts_outcomes_back_in_line():
    from cryvideo.batch import FileOutcome
    from cryvideo.batch.runner import InputOrder

    def outcome(i):
        return FileOutcome(i, f"f{i}", "ok", None, {"path": f"f{i}"})

    order = InputOrder([4, 0, 2, 3])           # e.g. what --resume leaves, in input order
    assert order.arrived(outcome(2)) == []
    assert order.arrived(outcome(0)) == []
    got = order.arrived(outcome(4))
    assert [o.index for o in got] == [4, 0, 2]
    assert order.rest() == []
    assert [o.index for o in order.arrived(outcome(3))] == [3]
    # a stop: what arrived is handed out in input order, once
    order = InputOrder([0, 1, 2, 3])
    for i in (3, 1):
        assert order.arrived(outcome(i)) == []
    assert [o.index for o in order.rest()] == [1, 3]
    assert order.rest() == []


# -- the text outputs are recognised ------------------------------------------------------------
def test_text_outputs_of_both_commands_are_recognised(outputs, tmp_path):
    from cryvideo.batch.outputs import output_command
    from cryvideo.errors import InputFileError

    for command in ("detect", "predict"):
        assert output_command(outputs[command, "txt"], "text") is None
        first = outputs[command, "txt"].read_text(encoding="utf-8").splitlines()[0]
        assert "(score " in first and "p=" not in first      # a score, not a p-value
        assert output_command(outputs[command, "jsonl"], "jsonl") == command
        assert output_command(outputs[command, "parquet"], "parquet") == command
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(outputs["detect", "jsonl"].read_text()
                     + outputs["predict", "jsonl"].read_text())
    with pytest.raises(InputFileError, match="several commands: detect, predict"):
        output_command(mixed, "jsonl")
    old = tmp_path / "old.txt"    # text outputs written when scores were "p=" are still ours
    old.write_text("a.wav: hungry (p=0.56)\n  crying: yes (p=0.92, yamnet-cry; segments: "
                   "0.0–2.9 s)\nb.mp4: CRYING (p=0.97, threshold 0.45, 8.0 s)\n"
                   "c.wav: no crying detected (p=0.12, threshold 0.45): no reason given\n"
                   "d.wav: crying: not asked (no cry detector) · reason: tired (probability "
                   "0.31) — a weak hint: no better than chance on held-out recordings\n",
                   encoding="utf-8")
    assert output_command(old, "text") is None
    rows = tmp_path / "rows.csv"
    with open(rows, "w", newline="") as fh:   # a CSV of the user's, quoted fields and all
        csv.writer(fh).writerows([["path", "note"], ["a.wav", "cried (p=0.90, said mum)"]])
    with pytest.raises(InputFileError, match="line 1 is not a result"):
        output_command(rows, "text")
