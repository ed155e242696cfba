"""The batch loop as a library (issue 24): a notebook plans, runs, resumes and stops a batch with
plain values (paths, a job), no command line; ``detect``'s settings are one validated object;
a worker's model threads are a value, not an environment variable."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from cryvideo.batch import (
    BatchRunner,
    DetectJob,
    DetectSettings,
    jobs,
    plan_batch,
    read_records,
    run_batch,
)
from cryvideo.errors import InputFileError, ModelError, ParameterError, PartialFailure
from cryvideo.testing.media import batch_folder


@pytest.fixture(scope="module")
def clips(tmp_path_factory, shipped_detector) -> list[Path]:
    """A cry (WAV) and a tone (MP4), 3 s each."""
    return batch_folder(tmp_path_factory.mktemp("runner") / "clips", 2, duration=3.0)


@contextlib.contextmanager
def file_hook(hook):
    """``hook`` among the per-file hooks (the seam the fault tests use) for the block."""
    jobs.FILE_HOOKS.append(hook)
    try:
        yield
    finally:
        jobs.FILE_HOOKS.remove(hook)


def _leftovers(folder: Path, keep: str) -> list[str]:
    """The files in ``folder`` other than ``keep`` (a lock or a temporary file left behind)."""
    return sorted(p.name for p in folder.iterdir() if p.name != keep)


def test_two_file_batch_from_python_and_resume(clips, tmp_path, capsys):
    late = tmp_path / "late.mp4"           # not there yet: the first run fails on it
    out = tmp_path / "r.jsonl"
    files = [clips[0], late]
    first = run_batch(plan_batch(files, command="detect", out=out), DetectJob(), echo=False)
    assert [(r["path"], r["status"]) for r in first.records] == [(str(clips[0]), "ok"),
                                                                 (str(late), "error")]
    assert first.records[0]["crying"] is True
    assert read_records(out) == first.records
    assert (first.total, first.skipped, len(first.failures)) == (2, 0, 1)
    with pytest.raises(PartialFailure):
        first.raise_for_failures()
    assert capsys.readouterr().out == ""   # echo=False: nothing printed on stdout

    shutil.copyfile(clips[1], late)        # the file is there now: a resumed run analyses it
    again = run_batch(plan_batch(files, command="detect", out=out, resume=True), DetectJob(),
                      echo=False)
    assert (again.total, again.skipped, again.failures) == (2, 1, [])
    assert [(r["path"], r["status"], r["crying"]) for r in again.records] == \
        [(str(late), "ok", False)]
    kept = read_records(out)
    assert kept == [first.records[0], again.records[0]]   # the first record kept as it was
    assert "resuming: 1 of 2 files already have a record" in capsys.readouterr().err

    text = out.read_text(encoding="utf-8")   # nothing left to do: nothing changes
    third = run_batch(plan_batch(files, command="detect", out=out, resume=True), DetectJob(),
                      echo=False)
    assert (third.records, third.skipped) == ([], 2)
    assert out.read_text(encoding="utf-8") == text
    assert _leftovers(tmp_path, "r.jsonl") == ["late.mp4"]


def test_a_stop_keeps_the_finished_records(clips, tmp_path):
    """Ctrl-C on the second file (a per-file hook raises it there): the first file's record is
    committed, the lock removed, and a resumed run analyses the second only."""
    out = tmp_path / "r.parquet"

    def ctrl_c(path: str) -> None:
        if path == str(clips[1]):
            raise KeyboardInterrupt

    plan = plan_batch(clips, command="detect", out=out, commit_every=100)
    with file_hook(ctrl_c), pytest.raises(KeyboardInterrupt):
        BatchRunner(plan, DetectJob(), echo=False).run()
    assert [(r["path"], r["status"]) for r in read_records(out)] == [(str(clips[0]), "ok")]
    assert _leftovers(tmp_path, "r.parquet") == []

    report = run_batch(dataclasses.replace(plan, resume=True), DetectJob(), echo=False)
    assert [r["path"] for r in report.records] == [str(clips[1])]
    assert [r["path"] for r in read_records(out)] == [str(c) for c in clips]


def test_runner_renders_and_prints_in_input_order(clips, tmp_path, capsys):
    out = tmp_path / "r.txt"
    plan = plan_batch(clips, command="detect", out=out)
    report = BatchRunner(plan, DetectJob(), render=lambda o: f"{o.path}: {o.status}").run()
    printed = capsys.readouterr().out
    assert printed == "".join(f"{c}: ok\n" for c in clips)
    assert out.read_text(encoding="utf-8") == printed    # a text output holds what is printed
    assert [r["path"] for r in report.records] == [str(c) for c in clips]


def test_a_single_file_raises_its_own_error(tmp_path):
    with pytest.raises(InputFileError, match="gone.wav"):
        run_batch(plan_batch([tmp_path / "gone.wav"], command="detect"), DetectJob(), echo=False)


def test_plan_refuses_before_any_work(tmp_path):
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"")
    for kw, says in [({"resume": True}, "--resume needs --out"),
                     ({"out": wav}, "is one of the input files"),
                     ({"workers": 2, "scheduler": "tcp://x:1"}, "--workers or --scheduler"),
                     ({"commit_every": 0}, "--commit-every must be a number")]:
        with pytest.raises(ParameterError, match=says):
            plan_batch([wav], command="detect", **kw)
    with pytest.raises(ParameterError, match="no input files given"):
        plan_batch([], command="detect")


# -- detect's settings ---------------------------------------------------------------------------
def test_detect_settings_are_validated_once():
    s = DetectSettings(backend="yamnet", threshold=0.7)
    assert (s.backend, s.threshold) == ("yamnet-zeroshot", 0.7)     # the alias, resolved
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.threshold = 0.2
    for kw, says in [({"threshold": 1.5}, "--threshold must be a number in [0, 1]"),
                     ({"threshold": float("nan")}, "--threshold must be a number"),
                     ({"hop": 0.5}, "--hop applies to --backend cnn10 only"),
                     ({"backend": "cnn10", "hop": 0}, "--hop must be a number in (0, 60]"),
                     ({"face": "maybe"}, "--face must be one of auto, on, off"),
                     ({"backend": "nope"}, "unknown detector 'nope'")]:
        with pytest.raises(ParameterError, match=says.replace("(", r"\(").replace("[", r"\[")):
            DetectSettings(**kw)


def test_the_command_line_builds_the_same_settings(tmp_path, monkeypatch):
    from cryvideo.cli import parse_args
    from cryvideo.cli.detect import settings_from_args

    assert settings_from_args(parse_args(["detect", "a.wav"])) == DetectSettings()
    args = parse_args(["detect", "--backend", "cnn10", "--hop", "0.25", "--threshold", "0.6",
                       "--summary", "--face", "off", "--scores", "--model", "m.keras", "a.wav"])
    assert settings_from_args(args) == DetectSettings(
        backend="cnn10", hop=0.25, threshold=0.6, summary=True, face="off", scores=True,
        model="m.keras")
    monkeypatch.chdir(tmp_path)             # a job names its model absolutely (for workers)
    job = DetectJob(settings_from_args(args))
    assert job.settings.model == str(tmp_path / "m.keras")
    with pytest.raises(ModelError, match="m.keras: no such model file"):
        settings_from_args(args).check_models()


# -- threads as a value --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _ThreadsSeen(DetectJob):
    """A job that only says how many threads its models would get."""

    def analyse(self, path, *, progress=None):
        from cryvideo.tflite import default_threads

        raise InputFileError(f"threads {default_threads()}", path=path)


def test_a_file_gets_its_threads_as_a_value(monkeypatch):
    from cryvideo.tflite import THREADS_ENV, default_threads, thread_limit

    monkeypatch.setenv(THREADS_ENV, "5")
    with thread_limit(3):
        assert default_threads() == 3
    assert default_threads() == 5
    outcome = jobs.run_file(_ThreadsSeen(), "a.wav", 0, threads=2)
    assert outcome.record["error"] == "threads 2"
    assert jobs.run_file(_ThreadsSeen(), "a.wav", 0).record["error"] == "threads 5"
    assert os.environ[THREADS_ENV] == "5"    # nothing written to the environment
