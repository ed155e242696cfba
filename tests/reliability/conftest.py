"""Fixtures of the reliability suite: the fuzz corpus (short or long profile)."""

from __future__ import annotations

import os

import pytest

#: ``CRYVIDEO_LONG_TESTS=1`` selects the long profile (hundreds of files, the 60-minute video).
LONG = os.environ.get("CRYVIDEO_LONG_TESTS", "") not in ("", "0")
PROFILE = "long" if LONG else "short"


@pytest.fixture(scope="session")
def fuzz_corpus(tmp_path_factory):
    """``(folder, cases)``: the mutated media files, made once per session."""
    from cryvideo.testing.fuzz import build_corpus

    d = tmp_path_factory.mktemp("fuzz")
    cases = build_corpus(d, profile=PROFILE, seed=0)
    return d, cases


@pytest.fixture(scope="session")
def long_profile() -> bool:
    """True when ``CRYVIDEO_LONG_TESTS=1`` (the long profile) is selected."""
    return LONG



@pytest.fixture
def paused_run():
    """Start a :class:`cryvideo.testing.user_files.PausedRun` (a real ``cryvideo`` run that
    waits at a chosen file for the test's Ctrl-C or go-ahead); runs still alive at the end of
    the test are killed."""
    from cryvideo.testing.user_files import PausedRun

    runs: list[PausedRun] = []

    def start(argv, *, pause_at: int, workdir) -> PausedRun:
        run = PausedRun(argv, pause_at=pause_at, workdir=workdir)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.kill()
