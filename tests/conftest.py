"""Shared fixtures: the ../shared folder, and small real media files made with ffmpeg."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CRYVIDEO_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".cache"
                                                / "cryvideo-tests"))

REPO = Path(__file__).resolve().parents[1]


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


def ffmpeg(*args: str, timeout: float = 60) -> None:
    from cryvideo.media import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args],
                   check=True, timeout=timeout, stdin=subprocess.DEVNULL)


def make_video(path: Path, *, duration: float = 2.0, size: str = "320x240", rate: int = 25,
               audio: bool = True, video: bool = True, freq: int = 440) -> Path:
    """A real H.264/AAC file from ffmpeg's lavfi sources (testsrc2 + sine)."""
    args: list[str] = []
    if video:
        args += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={duration}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=16000:"
                 f"duration={duration}"]
    if video:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac" if path.suffix in (".mp4", ".m4a", ".mov") else
                 ("pcm_s16le" if path.suffix == ".wav" else "libmp3lame")]
    ffmpeg(*args, "-t", str(duration), str(path))
    return path


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
    from cryvideo.detection.detector import DEFAULT_DETECTOR_FILE

    p = REPO / "saved_models" / DEFAULT_DETECTOR_FILE
    if not p.is_file():
        pytest.skip(f"{p} is not in the repository")
    return p
