"""The notebooks in ``notebooks/`` are stored executed (their figures show where they are read),
their sources are the generator's, what they say of results files matches those files, and they
run top to bottom (on small data).

The stored notebooks are checked as they are; running them happens in memory (a stored file is
never rewritten). Each is executed with nbclient in a kernel that runs *this* Python (a kernel
spec written to a temporary folder, so a fresh ``.venv`` needs nothing registered). Size
parameters are passed as environment variables; notebooks that need ``../shared`` are skipped
with a reason without it.
"""

from __future__ import annotations

import ast
import os
import sys
import time
from pathlib import Path

import pytest
from conftest import shared_root

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

REPO = Path(__file__).resolve().parents[1]
NB_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
#: Per notebook: small-data parameters (environment variables it reads) and whether it needs
#: ``../shared`` (True), uses it when present ("optional"), or not at all (False).
NB_CONFIG = {
    "01_donateacry_explore": {"env": {"CRYVIDEO_NB_N": "30"}, "shared": True},
    # 50 clips: the notebook's smallest subset (10 of every class), fits and features for it
    "02_feature_credibility": {"env": {"CRYVIDEO_NB_N": "50", "CRYVIDEO_NB_REPEATS": "1",
                                       "CRYVIDEO_NB_PERMUTATIONS": "3"},
                               "shared": True},
    "03_video_pipeline": {"env": {"CRYVIDEO_NB_FPS": "5"}, "shared": True},
    "04_cry_detection": {"env": {"CRYVIDEO_NB_MINUTES": "2"}, "shared": True},
}
#: Seconds a cell may run in the test.
CELL_TIMEOUT = 300


def _data_prep(module: str):
    sys.path.insert(0, str(REPO / "data_prep"))
    try:
        return __import__(module)
    finally:
        sys.path.pop(0)


def _ids(p: Path) -> str:
    return p.stem


def test_there_are_notebooks():
    assert (NB_DIR / "01_donateacry_explore.ipynb").exists()
    assert {p.stem for p in NOTEBOOKS} == set(NB_CONFIG)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_is_stored_executed(path):
    """Stored with the outputs of one run, top to bottom: errors, widgets, raw progress-bar
    redraws, warnings and local paths refused; PNG figures; under 1 MB."""
    ex = _data_prep("execute_notebooks")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert ex.problems(nb, size=path.stat().st_size) == [], \
        f"{path.name}: run data_prep/execute_notebooks.py on it"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs for c in code[1:]), f"{path.name}: a code cell shows nothing"
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} shows no figure"


def test_problems_are_found():
    """The stored-notebook check refuses what it should (each case fails it)."""
    ex = _data_prep("execute_notebooks")
    ok = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1", execution_count=1),
                                         nbformat.v4.new_code_cell("2", execution_count=2)])
    assert ex.problems(ok, size=1000) == []

    def with_output(**out):
        nb = nbformat.from_dict(nbformat.v4.new_notebook(cells=ok.cells))
        nb.cells[1].outputs = [nbformat.from_dict(out)]
        return nb

    bad = {
        "not run": nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]),
        "error": with_output(output_type="error", ename="ValueError", evalue="", traceback=[]),
        "widget": with_output(output_type="display_data", metadata={}, data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "x"}}),
        "svg": with_output(output_type="display_data", metadata={},
                           data={"image/svg+xml": "<svg/>"}),
        "redraws": with_output(output_type="stream", name="stderr",
                               text="fits:  10%|#\rfits: 100%|##\n"),
        "tqdm warning": with_output(output_type="stream", name="stderr",
                                    text="TqdmWarning: IProgress not found\n"),
        "local path": with_output(output_type="stream", name="stdout",
                                  text="cache in /home/someone/.cache\n"),
    }
    for why, nb in bad.items():
        assert ex.problems(nb, size=1000), why
    assert ex.problems(ok, size=ex.MAX_BYTES + 1)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_sources_are_generated(path):
    """The stored cells are data_prep/make_notebooks.py's (edit there, then execute)."""
    make = _data_prep("make_notebooks")
    want = make.build(path.stem, make.NOTEBOOKS[path.stem])
    assert make.same_cells(nbformat.read(path, as_version=4), want), \
        f"{path.name} differs from data_prep/make_notebooks.py: regenerate and execute it"


def _results_cells():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for i, c in enumerate(nb.cells):
            if "from-results" in c.metadata.get("tags", []):
                yield pytest.param(path, i, id=f"{path.stem}-cell{i}")


@pytest.mark.parametrize(("path", "index"), list(_results_cells()))
def test_text_from_results_matches_the_results_files(path, index, monkeypatch):
    """A cell tagged ``from-results`` writes its text from committed results files only; the
    text stored in the notebook is what those files say now (a results file changed since the
    notebook ran fails here)."""
    pytest.importorskip("IPython")
    cell = nbformat.read(path, as_version=4).cells[index]
    stored = [o["data"]["text/markdown"] for o in cell.outputs
              if "text/markdown" in o.get("data", {})]
    assert len(stored) == 1, "the cell shows one Markdown text"
    tree = ast.parse(cell.source)
    last = tree.body.pop()
    assert isinstance(last, ast.Expr), "the cell ends with the text it shows"
    monkeypatch.chdir(NB_DIR)
    ns: dict = {}
    exec(compile(tree, f"{path.name} cell {index}", "exec"), ns)
    shown = eval(compile(ast.Expression(last.value), f"{path.name} cell {index}", "eval"), ns)
    assert shown._repr_markdown_() == stored[0]


def test_the_takeaways_cell_exists():
    """Notebook 04's take-aways are written from the results file (not typed by hand)."""
    assert [p for p in _results_cells() if p.values[0].stem == "04_cry_detection"]


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
    name = _data_prep("execute_notebooks").write_kernel_spec(root, "cryvideo-tests")
    monkeypatch_session.setenv("JUPYTER_PATH", os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("JUPYTER_PATH")])]))
    return name


@pytest.fixture(scope="session")
def monkeypatch_session():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_runs(path, kernel_name, monkeypatch, request):
    pytest.importorskip("ipykernel")
    ex = _data_prep("execute_notebooks")
    conf = NB_CONFIG.get(path.stem, {"env": {}, "shared": True})
    if conf["shared"] is True:
        shared_dir = request.getfixturevalue("shared_dir")  # skips with a reason if absent
        monkeypatch.setenv("CRYVIDEO_SHARED", str(shared_dir))
    elif conf["shared"] == "optional" and shared_root() is not None:
        monkeypatch.setenv("CRYVIDEO_SHARED", str(shared_root()))  # used when present
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # the kernel imports this checkout's cryvideo, installed or not
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]))
    for k, v in conf["env"].items():
        monkeypatch.setenv(k, v)
    nb = nbformat.read(path, as_version=4)  # in memory: the stored file is not touched
    t0 = time.perf_counter()
    ex.execute(nb, cwd=NB_DIR, kernel_name=kernel_name, timeout=CELL_TIMEOUT)
    took = time.perf_counter() - t0
    assert ex.problems(nb, paths=False) == []  # no error, widget or TqdmWarning; plain bars
    images = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                 if "image/png" in o.get("data", {}))
    assert images >= 1, "the notebook drew no figure"
    print(f"{path.name}: {took:.1f} s, {images} figures")
