"""Run notebooks once with their defaults and store them with their outputs, small and clean,
so that they show their figures where they are read (a code host renders stored outputs).

Usage::

    python data_prep/execute_notebooks.py notebooks/*.ipynb          # run, then store
    python data_prep/execute_notebooks.py --check notebooks/*.ipynb  # exit 1 if one is unfit

Each notebook runs in a kernel of this Python (a kernel spec in a temporary folder: nothing to
register), in ``notebooks/``, with this checkout first on ``PYTHONPATH``. Stream outputs are
coalesced (a progress bar's redraws become its last state) and timing metadata is dropped. A
notebook is written only when it ran to the end and passes :func:`problems`. Notebooks are
CPU-heavy: run each once, after changing its cells (``data_prep/make_notebooks.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
#: A stored notebook larger than this is refused (figures are PNGs at 80 dpi).
MAX_BYTES = 1_000_000
#: Cell metadata that changes on every run and is dropped.
VOLATILE_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")
#: Seconds one cell may run.
CELL_TIMEOUT = 900
#: Name of the kernel spec :func:`write_kernel_spec` writes.
KERNEL_NAME = "cryvideo-notebooks"
#: Text a stored output must not hold: a warning shown to every reader ...
_UNFIT_TEXT = re.compile(r"TqdmWarning|IProgress not found|Traceback")
#: ... or a path of the machine that ran it.
_LOCAL_PATH = re.compile(r"(?<![\w.])/(?:work|home|root|tmp|Users)/")


def write_kernel_spec(root: Path, name: str = KERNEL_NAME) -> str:
    """Write a kernel spec running this Python under ``root/kernels/``; return its name (put
    ``root`` on ``JUPYTER_PATH`` for Jupyter to find it)."""
    spec = root / "kernels" / name
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "cryvideo notebooks", "language": "python"}))
    return name


def clean(nb):
    """Drop volatile cell metadata and widget state (in place); return ``nb``."""
    for c in nb.cells:
        for k in VOLATILE_METADATA:
            c.metadata.pop(k, None)
    nb.metadata.pop("widgets", None)
    return nb


def problems(nb, *, size: int | None = None, paths: bool = True) -> list[str]:
    """Why a notebook with outputs is not fit to show (an empty list: it is).

    Every code cell ran once, in order, in one kernel; no output is an error, a widget, an image
    other than PNG, a progress bar's raw redraws, a warning about widgets or a local path; and
    the file (``size`` bytes, when given) is at most :data:`MAX_BYTES`. ``paths`` False: local
    paths are not looked for (a run that is not stored).
    """
    found = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.get("execution_count") for c in code]
    if counts != list(range(1, len(code) + 1)):
        found.append(f"not run top to bottom in one kernel (execution counts {counts})")
    for i, c in enumerate(code, 1):
        for o in c.get("outputs", []):
            if o.get("output_type") == "error":
                found.append(f"code cell {i} stored an error ({o.get('ename')})")
            data = o.get("data", {})
            if any("widget" in k for k in data):
                found.append(f"code cell {i} stored a widget")
            if any(k.startswith("image/") and k != "image/png" for k in data):
                found.append(f"code cell {i} stored an image that is not a PNG")
            text = o.get("text", "") + "".join(
                v if isinstance(v, str) else "".join(v)
                for k, v in data.items() if k.startswith("text/"))
            if o.get("output_type") == "stream" and "\r" in text:
                found.append(f"code cell {i} stored a progress bar's raw redraws")
            for pattern in (_UNFIT_TEXT, _LOCAL_PATH) if paths else (_UNFIT_TEXT,):
                hit = pattern.search(text)
                if hit:
                    found.append(f"code cell {i} shows {hit.group(0)!r}")
    if "widgets" in nb.metadata:
        found.append("the notebook stores widget state")
    if size is not None and size > MAX_BYTES:
        found.append(f"{size} bytes, over {MAX_BYTES}")
    return found


def execute(nb, *, cwd: Path, kernel_name: str, timeout: int = CELL_TIMEOUT):
    """Run ``nb`` (in place) in ``cwd``; outputs coalesced, as they are stored."""
    import nbclient

    client = nbclient.NotebookClient(nb, kernel_name=kernel_name, timeout=timeout,
                                     resources={"metadata": {"path": str(cwd)}},
                                     coalesce_streams=True, record_timing=False)
    client.execute()  # raises CellExecutionError with the cell and traceback on failure
    return clean(nb)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--check", action="store_true",
                    help="only check the stored notebooks; exit 1 if one is unfit to show")
    args = ap.parse_args(argv)
    if args.check:
        bad = 0
        for p in args.paths:
            for why in problems(nbformat.read(p, as_version=4), size=p.stat().st_size):
                print(f"{p}: {why}", file=sys.stderr)
                bad += 1
        return 1 if bad else 0
    from cryvideo.io import write_text_atomic

    with tempfile.TemporaryDirectory(prefix="cryvideo-kernel-") as tmp:
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            [tmp, *filter(None, [os.environ.get("JUPYTER_PATH")])])
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        kernel = write_kernel_spec(Path(tmp))
        failed = 0
        for p in args.paths:
            nb = nbformat.read(p, as_version=4)
            t0 = time.perf_counter()
            execute(nb, cwd=p.resolve().parent, kernel_name=kernel)
            text = nbformat.writes(nb) + "\n"
            why = problems(nb, size=len(text.encode("utf-8")))
            took = time.perf_counter() - t0
            if why:
                failed += 1
                seen = Path(tempfile.gettempdir()) / f"unfit-{p.name}"
                seen.write_text(text, encoding="utf-8")
                print(f"{p}: not stored ({'; '.join(why)}); the run is in {seen}",
                      file=sys.stderr)
                continue
            write_text_atomic(p, text)
            print(f"{p}: ran in {took:.0f} s, {len(text.encode('utf-8')) / 1e3:.0f} kB")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
