"""Tools for testing cryvideo (and code built on it) against hostile input.

:mod:`cryvideo.testing.fuzz` builds a corpus of broken media files from small real ones and runs
them through the public API and the command line, recording what happened to each.
"""

from .fuzz import (
    FuzzCase,
    Outcome,
    build_corpus,
    ffmpeg_processes,
    make_seed_files,
    run_api_case,
    summarize,
)

__all__ = [
    "FuzzCase",
    "Outcome",
    "build_corpus",
    "ffmpeg_processes",
    "make_seed_files",
    "run_api_case",
    "summarize",
]
