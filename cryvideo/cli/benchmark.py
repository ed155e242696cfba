"""``cryvideo benchmark NAME ...``: one command, one sub-command per benchmark.

Each benchmark lives in its own module ``cryvideo/cli/benchmark_<name>.py`` exposing
``add_subparser(benchsub)``, which adds its parser to ``benchsub`` (the sub-parsers of
``benchmark``) and sets ``func`` on it. Modules are found by name, so adding a benchmark needs no
edit here; ``BENCHMARKS`` only fixes the order of the known ones in ``--help``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

__all__ = ["BENCHMARKS", "add_parser", "benchmark_modules"]

#: Known benchmark modules, in the order ``--help`` lists them (missing ones are skipped);
#: any other ``benchmark_*`` module of this package is appended in name order.
BENCHMARKS = ("donateacry", "panns")

_PACKAGE = __name__.rsplit(".", 1)[0]


def benchmark_modules() -> list:
    """The importable ``benchmark_*`` modules of the CLI package."""
    from . import __path__ as cli_path

    found = {m.name[len("benchmark_"):] for m in pkgutil.iter_modules(cli_path)
             if m.name.startswith("benchmark_")}
    names = [n for n in BENCHMARKS if n in found] + sorted(found - set(BENCHMARKS))
    mods = []
    for name in names:
        modname = f"{_PACKAGE}.benchmark_{name}"
        try:
            mods.append(importlib.import_module(modname))
        except ModuleNotFoundError as exc:
            if exc.name != modname:
                raise
    return mods


def add_parser(sub) -> argparse.ArgumentParser:
    """Add ``benchmark`` and its sub-commands to the top-level sub-parsers."""
    p = sub.add_parser(
        "benchmark",
        help="run a benchmark (Donateacry feature credibility, ...) and write its report",
        description="Reproducible benchmarks; each writes Markdown/CSV/JSON/PNG results.",
    )
    benchsub = p.add_subparsers(dest="benchmark", metavar="BENCHMARK")
    for mod in benchmark_modules():
        mod.add_subparser(benchsub)

    def _missing(args) -> int:
        p.print_help(sys.stderr)
        return 2

    p.set_defaults(func=_missing)
    return p


def run(args: argparse.Namespace) -> int:
    """Dispatch to the chosen benchmark (``args.func`` set by its sub-parser)."""
    return int(args.func(args) or 0)
