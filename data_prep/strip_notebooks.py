"""Strip outputs (and execution counts) from notebooks, so they are stored clean in git.

Usage::

    python data_prep/strip_notebooks.py notebooks/*.ipynb          # strip in place
    python data_prep/strip_notebooks.py --check notebooks/*.ipynb  # exit 1 if any has outputs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

#: Metadata keys that change on every run and are dropped.
VOLATILE_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def is_stripped(nb) -> bool:
    """True when no code cell has outputs or an execution count."""
    return all(not c.get("outputs") and c.get("execution_count") is None
               for c in nb.cells if c.cell_type == "code")


def strip(nb):
    """Remove outputs, execution counts and volatile metadata (in place); return ``nb``."""
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = []
            c.execution_count = None
        for k in VOLATILE_METADATA:
            c.metadata.pop(k, None)
    nb.metadata.pop("widgets", None)
    return nb


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--check", action="store_true", help="only report; exit 1 if not stripped")
    args = ap.parse_args(argv)
    dirty = []
    for p in args.paths:
        nb = nbformat.read(p, as_version=4)
        if is_stripped(nb):
            continue
        dirty.append(p)
        if not args.check:
            from cryvideo.io import write_text_atomic

            write_text_atomic(p, nbformat.writes(strip(nb)) + "\n")
    for p in dirty:
        print(f"{p}: {'has outputs' if args.check else 'stripped'}", file=sys.stderr)
    return 1 if (args.check and dirty) else 0


if __name__ == "__main__":
    sys.exit(main())
