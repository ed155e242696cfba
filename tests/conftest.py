"""Shared fixtures: the ../shared folder, and small real media files made with ffmpeg."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from cryvideo.testing.media import make_video

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CRYVIDEO_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".cache"
                                                / "cryvideo-tests"))

REPO = Path(__file__).resolve().parents[1]

#: Property tests (hypothesis) in CI: derandomized (each test's examples drawn from a fixed seed
#: derived from the test), no example database (nothing carried over from an earlier run), no
#: deadline and no health check that depends on timing: the same examples on every machine and
#: every run, so CI cannot flip. Locally (``CI`` unset) hypothesis explores at random as usual.
settings.register_profile("ci", derandomize=True, database=None, deadline=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])


def hypothesis_profile(environ=os.environ) -> str:
    """The hypothesis profile of a run: ``$HYPOTHESIS_PROFILE`` if set, else ``ci`` when
    ``$CI`` is set to anything but ``0``/``false``/``no`` (``.ci/run`` sets ``CI=true``),
    else hypothesis's ``default``."""
    if environ.get("HYPOTHESIS_PROFILE"):
        return environ["HYPOTHESIS_PROFILE"]
    ci = environ.get("CI", "").strip().lower()
    return "ci" if ci not in ("", "0", "false", "no") else "default"


settings.load_profile(hypothesis_profile())


def shared_root() -> Path | None:
    """``$CRYVIDEO_SHARED`` or ``../shared`` beside the repository, if it exists."""
    env = os.environ.get("CRYVIDEO_SHARED")
    p = Path(env) if env else REPO.parent / "shared"
    return p if p.is_dir() else None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    p = shared_root()
    if p is None:
        pytest.skip("../shared (data and weights) is not available beside the repository")
    return p


@pytest.fixture(scope="session")
def donateacry_dir(shared_dir) -> Path:
    p = shared_dir / "data" / "donateacry"
    if not p.is_dir():
        pytest.skip("../shared/data/donateacry is not available")
    return p


@pytest.fixture(scope="session")
def cry_detection_dir(shared_dir) -> Path:
    p = shared_dir / "data" / "cry_detection"
    if not p.is_dir():
        pytest.skip("../shared/data/cry_detection is not available")
    return p


def one_error_line(err: str) -> str:
    """The single ``cryvideo: error: …`` line a failed run must print (asserted)."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    assert lines[0].startswith("cryvideo: error: ") and "Traceback" not in err
    return lines[0]


def cli_without_models(argv, *, env: dict | None = None, cwd=None) -> tuple[int, str, bool]:
    """Run ``cryvideo ARGV`` in a fresh interpreter: exit code, stderr, and whether
    TensorFlow/Keras was imported (False proves no model was loaded)."""
    from cryvideo.testing.user_files import run_cli_fresh

    rc, _, err, loaded = run_cli_fresh(argv, env=env, cwd=cwd)
    return rc, err, loaded


def copy_models(dst: Path, *names: str) -> Path:
    """A models folder ``dst`` holding only the named bundled models of ``saved_models/`` (each
    with its JSON card)."""
    import shutil

    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = REPO / "saved_models" / name
        shutil.copyfile(src, dst / name)
        shutil.copyfile(src.with_suffix(".json"), dst / src.with_suffix(".json").name)
    return dst


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    """A folder of small real media files, made once per test session."""
    d = tmp_path_factory.mktemp("media")
    make_video(d / "av.mp4", duration=2.0)
    make_video(d / "video_only.mp4", duration=2.0, audio=False)
    make_video(d / "audio_only.wav", duration=2.0, video=False)
    make_video(d / "audio_only.mp3", duration=2.0, video=False)
    make_video(d / "short.mp4", duration=0.3)
    return d


@pytest.fixture(scope="session")
def demo_clip() -> Path:
    p = REPO / "examples" / "demo.mp4"
    if not p.exists():
        pytest.skip("examples/demo.mp4 missing (run data_prep/make_demo_clip.py)")
    return p


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def shipped_detector() -> Path:
    """The default cry detector of saved_models/ (skipped when the repository lacks it)."""
    from cryvideo.detection.patch_detector import DEFAULT_DETECTOR_FILE

    p = REPO / "saved_models" / DEFAULT_DETECTOR_FILE
    if not p.is_file():
        pytest.skip(f"{p} is not in the repository")
    return p
