"""Progress bars: plain text (``tqdm.std``, never a notebook widget), hidden off a terminal
unless asked for, and kept on screen when a notebook asks (``leave``)."""

from __future__ import annotations

from cryvideo.progress import StageProgress, progress_bar


def _run(bar: StageProgress, stage: str = "fits", total: int = 3) -> None:
    for done in range(total + 1):
        bar(stage, done, total)
    bar.close()


def test_bars_are_plain_text():
    bar = progress_bar(total=2, disable=False)
    try:
        assert type(bar).__module__ == "tqdm.std"
    finally:
        bar.close()


def test_hidden_off_a_terminal(capsys, monkeypatch):
    monkeypatch.delenv("CRYVIDEO_PROGRESS", raising=False)
    _run(StageProgress())  # pytest's captured stderr is not a terminal
    assert capsys.readouterr().err == ""


def test_a_notebook_keeps_each_finished_bar(capsys):
    bar = StageProgress(unit="fit", disable=False, leave=True)
    _run(bar, "fits", 3)
    _run(bar, "permutations all5/grouped", 2)
    err = capsys.readouterr().err
    last = [line.rsplit("\r", 1)[-1] for line in err.splitlines() if line.strip()]
    assert any(s.startswith("fits: 100%") and "3/3" in s for s in last), err
    assert any(s.startswith("permutations all5/grouped: 100%") and "2/2" in s for s in last), err


def test_a_terminal_bar_is_cleared_by_default(capsys):
    _run(StageProgress(disable=False))
    err = capsys.readouterr().err
    assert "fits" in err  # it was drawn ...
    assert err.rsplit("\r", 1)[-1].strip() == ""  # ... and wiped when done
