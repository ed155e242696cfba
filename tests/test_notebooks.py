"""The notebooks in ``notebooks/`` run top to bottom (on small data), and are stored clean.

Each is executed with nbclient in a kernel that runs *this* Python (a kernel spec written to a
temporary folder, so a fresh ``.venv`` needs nothing registered). Size parameters are passed as
environment variables; notebooks that need ``../shared`` are skipped with a reason without it.
"""

from __future__ import annotations

import ast
import json
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO = Path(__file__).resolve().parents[1]
NB_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
#: Per notebook: small-data parameters (environment variables it reads) and whether it needs
#: ``../shared``.
NB_CONFIG = {
    "01_donateacry_explore": {"env": {"CRYVIDEO_NB_N": "30"}, "shared": True},
    "02_feature_credibility": {"env": {"CRYVIDEO_NB_N": "120", "CRYVIDEO_NB_REPEATS": "1",
                                       "CRYVIDEO_NB_PERMUTATIONS": "19"},
                               "shared": True},
    "03_video_pipeline": {"env": {"CRYVIDEO_NB_FPS": "5"}, "shared": False},
    "04_cry_detection": {"env": {"CRYVIDEO_NB_MINUTES": "2"}, "shared": True},
}
#: Seconds a cell may run in the test.
CELL_TIMEOUT = 300


def _ids(p: Path) -> str:
    return p.stem


def test_there_are_notebooks():
    assert (NB_DIR / "01_donateacry_explore.ipynb").exists()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_is_stored_stripped(path):
    sys.path.insert(0, str(REPO / "data_prep"))
    try:
        from strip_notebooks import is_stripped
    finally:
        sys.path.pop(0)
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert is_stripped(nb), f"{path.name} has outputs: run data_prep/strip_notebooks.py on it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_uses_public_api_only(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cryvideo"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports private names {private}"
                assert not any(part.startswith("_") for part in node.module.split(".")), \
                    node.module


@pytest.fixture(scope="session")
def kernel_name(tmp_path_factory, monkeypatch_session):
    """A kernel spec for the running interpreter, found through ``JUPYTER_PATH``."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "cryvideo-tests"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "cryvideo tests", "language": "python"}))
    import os

    monkeypatch_session.setenv("JUPYTER_PATH", os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("JUPYTER_PATH")])]))
    return "cryvideo-tests"


@pytest.fixture(scope="session")
def monkeypatch_session():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_runs(path, kernel_name, monkeypatch, request):
    pytest.importorskip("ipykernel")
    conf = NB_CONFIG.get(path.stem, {"env": {}, "shared": True})
    if conf["shared"]:
        shared_dir = request.getfixturevalue("shared_dir")  # skips with a reason if absent
        monkeypatch.setenv("CRYVIDEO_SHARED", str(shared_dir))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # the kernel imports this checkout's cryvideo, installed or not
    import os

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
    for k, v in conf["env"].items():
        monkeypatch.setenv(k, v)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=kernel_name, timeout=CELL_TIMEOUT,
                                     resources={"metadata": {"path": str(NB_DIR)}})
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError with the cell and traceback on failure
    took = time.perf_counter() - t0
    images = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                 if "image/png" in o.get("data", {}))
    assert images >= 1, "the notebook drew no figure"
    print(f"{path.name}: {took:.1f} s, {images} figures")
