"""Issue 25 (install): an installed cryvideo finds its bundled models.

The repository keeps them in ``saved_models/`` at its top; a wheel holds their model files and
cards as package data (``cryvideo/saved_models/``). The slow tests build the wheel from the
repository's files (those a clean clone holds), install it into a fresh virtualenv outside the
repository and run ``cryvideo predict`` there. Everything is offline: the wheel is built with the
setuptools and wheel of the running environment (no build isolation), and the new virtualenv
reaches the dependencies already installed here through a ``.pth`` file (``--no-deps``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import one_error_line

from cryvideo.errors import ModelError
from cryvideo.models.store import (
    BUNDLED_DIR_NAME,
    MODEL_SUFFIXES,
    MODELS_DIR_ENV,
    UNSHIPPED_FILES,
    bundled_models_dir,
    check_models_dir,
)

REPO = Path(__file__).resolve().parents[1]
#: A wheel heavier than this carries something it should not (it is ~4.6 MB: the models).
MAX_WHEEL_BYTES = 8_000_000
#: Left out of a copy of the repository when git cannot say which files a clone holds.
_NOT_IN_A_CLONE = (".git", ".venv", ".cache", "build", "dist", "*.egg-info", "__pycache__",
                   ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "out", ".whl")


def _expected_models() -> set[str]:
    """The files of ``saved_models/`` an install must hold: model files and cards."""
    return {p.name for p in (REPO / BUNDLED_DIR_NAME).iterdir()
            if p.is_file() and p.suffix in (*MODEL_SUFFIXES, ".json")} - set(UNSHIPPED_FILES)


def _run(cmd: list, *, cwd: Path, env: dict | None = None,
         timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _check(proc: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def _clone_files(dst: Path) -> Path:
    """Copy the files a clone of the repository would hold (tracked, or untracked but not
    ignored) into ``dst``: the build then writes its ``build/`` and ``*.egg-info`` there."""
    git = shutil.which("git")
    listed = None
    if git and (REPO / ".git").exists():
        proc = _run([git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                    cwd=REPO)
        if proc.returncode == 0:
            listed = [name for name in proc.stdout.split("\0") if name]
    if listed is None:
        shutil.copytree(REPO, dst, ignore=shutil.ignore_patterns(*_NOT_IN_A_CLONE))
        return dst
    for name in listed:
        src = REPO / name
        if src.is_file():  # a tracked file deleted in the working tree is not copied
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / name)
    return dst


def _user_env() -> dict:
    """The environment of a user of the installed package: not this checkout's code on the
    path, and no models folder of their own."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", MODELS_DIR_ENV)}
    return dict(env, TF_CPP_MIN_LOG_LEVEL="3", PIP_DISABLE_PIP_VERSION_CHECK="1")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """The wheel and sdist built from a copy of the repository's files."""
    root = tmp_path_factory.mktemp("install")
    src = _clone_files(root / "src")
    dist = root / "dist"
    env = _user_env()
    _check(_run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "--no-index", "-w", dist, src], cwd=root, env=env), "pip wheel")
    _check(_run([sys.executable, "setup.py", "-q", "sdist", "-d", dist], cwd=src, env=env),
           "setup.py sdist")
    (wheel,) = dist.glob("cryvideo-*.whl")
    (sdist,) = dist.glob("cryvideo-*.tar.gz")
    return {"root": root, "wheel": wheel, "sdist": sdist}


@pytest.fixture(scope="module")
def venv(built) -> dict:
    """A fresh virtualenv outside the repository with the wheel installed; it reaches the
    dependencies installed here by a ``.pth`` file, and a folder beside it holds
    ``examples/demo.mp4`` to run on."""
    root = built["root"]
    v = root / "venv"
    env = _user_env()
    _check(_run([sys.executable, "-m", "venv", "--without-pip", v], cwd=root, env=env), "venv")
    python = v / "bin" / "python"
    _check(_run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
                 "--no-index", built["wheel"]], cwd=root, env=env), "pip install")
    site = Path(_check(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                                           "['purelib'])"], cwd=root, env=env),
                       "venv site-packages").stdout.strip())
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "_cryvideo_test_deps.pth").write_text("".join(f"{d}\n" for d in deps))
    work = root / "work"
    (work / "examples").mkdir(parents=True)
    shutil.copyfile(REPO / "examples" / "demo.mp4", work / "examples" / "demo.mp4")
    return {"cryvideo": v / "bin" / "cryvideo", "models": site / "cryvideo" / BUNDLED_DIR_NAME,
            "cwd": work, "env": env}


# -- fast: the source checkout and the error that names $CRYVIDEO_MODELS_DIR -------------------

def test_source_checkout_uses_the_top_level_folder():
    assert bundled_models_dir() == REPO / BUNDLED_DIR_NAME
    assert not (REPO / "cryvideo" / BUNDLED_DIR_NAME).exists()  # only an install has that one


def test_missing_models_folder_names_the_variable(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    monkeypatch.delenv(MODELS_DIR_ENV, raising=False)
    with pytest.raises(ModelError) as err:  # --models DIR
        check_models_dir(missing)
    assert err.value.path == str(missing) and MODELS_DIR_ENV in err.value.message
    monkeypatch.setenv(MODELS_DIR_ENV, str(missing))
    with pytest.raises(ModelError) as err:
        check_models_dir(missing)
    assert f"named by ${MODELS_DIR_ENV}; unset it" in err.value.message


# -- slow: the wheel, installed ------------------------------------------------------------------

@pytest.mark.slow
def test_wheel_and_sdist_hold_the_models_and_their_cards_only(built):
    expected = _expected_models()
    assert "face_verdict.json" in expected  # the audio-visual verdict's card ships too
    with zipfile.ZipFile(built["wheel"]) as z:
        names = z.namelist()
    in_wheel = {n.rsplit("/", 1)[1] for n in names
                if n.startswith(f"cryvideo/{BUNDLED_DIR_NAME}/")}
    assert in_wheel == expected
    assert "cryvideo/py.typed" in names
    tops = {n.split("/")[0] for n in names}  # the package and its metadata: no examples/ etc.
    assert tops - {"cryvideo"} == {t for t in tops if t.endswith(".dist-info")}, tops
    assert built["wheel"].stat().st_size < MAX_WHEEL_BYTES
    with tarfile.open(built["sdist"]) as t:
        in_sdist = {Path(n).name for n in t.getnames()
                    if Path(n).parent.name == BUNDLED_DIR_NAME}
    assert in_sdist == expected


@pytest.mark.slow
def test_installed_wheel_predicts_with_its_bundled_models(venv):
    argv = [venv["cryvideo"], "predict", "examples/demo.mp4"]
    proc = _check(_run(argv, cwd=venv["cwd"], env=venv["env"]), "cryvideo predict")
    assert "demo.mp4" in proc.stdout and "Traceback" not in proc.stderr, proc.stdout
    proc = _check(_run([*argv, "--json"], cwd=venv["cwd"], env=venv["env"]),
                  "cryvideo predict --json")
    record = json.loads(proc.stdout)
    assert record["path"] == "examples/demo.mp4" and record["status"] == "ok"
    # every model came out of the installed package, none out of this checkout
    assert f"{venv['models']}{os.sep}" in proc.stdout
    assert str(REPO) not in proc.stdout


@pytest.mark.slow
def test_install_without_its_models_names_the_variable(venv):
    """The failure the issue saw (``…/site-packages/saved_models: models folder does not
    exist``, no hint) now names the folder and ``$CRYVIDEO_MODELS_DIR``, on one line."""
    hidden = venv["models"].with_name("hidden_models")
    venv["models"].rename(hidden)
    try:
        proc = _run([venv["cryvideo"], "predict", "examples/demo.mp4"], cwd=venv["cwd"],
                    env=venv["env"])
    finally:
        hidden.rename(venv["models"])
    assert proc.returncode == 4, proc.stderr
    line = one_error_line(proc.stderr)
    assert line.startswith(f"cryvideo: error: {venv['models']}: models folder does not exist")
    assert f"${MODELS_DIR_ENV}" in line
