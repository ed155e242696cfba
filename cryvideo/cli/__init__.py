"""The ``cryvideo`` command line: one entry point, a sub-command per task.

``parse_args`` is separate from ``run`` so both can be tested; every sub-command lives in its own
module of this package exposing ``add_parser(subparsers)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Sequence

from .. import environment
from ..errors import CryVideoError, Terminated, first_line
from ..version import __version__

__all__ = ["main", "parse_args", "run", "build_parser", "COMMANDS"]

#: Sub-command modules, in the order ``--help`` lists them (modules not present are skipped).
COMMANDS = ("predict", "detect", "listen", "benchmark", "train_audio", "train", "export")


def _quiet_tensorflow() -> None:
    # TensorFlow prints start-up chatter on stderr; a CLI error must stay one line.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _command_modules():
    mods = []
    for name in COMMANDS:
        try:
            mods.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    return mods


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (all sub-commands)."""
    parser = argparse.ArgumentParser(
        prog="cryvideo",
        description="Why is the infant crying? Audio + face analysis of videos.",
        epilog="Run 'cryvideo COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"cryvideo {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show Python tracebacks for unexpected errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _command_modules():
        mod.add_parser(sub)
    parser.set_defaults(_subparsers=sub)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse command-line arguments (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        parser.exit(2)
    # A file whose name starts with "-" looks like an option to argparse; when such an
    # "option" is an existing file and the command takes files, treat it as one.
    if extra and hasattr(args, "paths"):
        files = [e for e in extra if os.path.exists(e)]
        if len(files) == len(extra):
            args.paths = list(args.paths or []) + files
            extra = []
    # a sub-command's bad option is that sub-command's mistake: show its usage, not the top's
    sub = args.__dict__.pop("_subparsers", None)
    if extra:
        target = sub.choices.get(args.command, parser) if sub is not None else parser
        target.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def error_line(exc: BaseException) -> str:
    """The single line printed for an error."""
    return f"cryvideo: error: {exc}"


def run(args: argparse.Namespace) -> int:
    """Run a parsed command; map errors to one stderr line and an exit code."""
    try:
        return int(args.func(args) or 0)
    except CryVideoError as exc:
        print(error_line(exc), file=sys.stderr)
        return exc.exit_code
    except Terminated:
        print("cryvideo: terminated (SIGTERM)", file=sys.stderr)
        return Terminated.exit_code
    except KeyboardInterrupt:
        print("cryvideo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one line, unless --debug
        if getattr(args, "debug", False) or environment.debug():
            raise
        print(f"cryvideo: internal error: {type(exc).__name__}: {first_line(str(exc))} "
              "(re-run with --debug for details; please report it)", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point."""
    _quiet_tensorflow()
    args = parse_args(argv)
    if getattr(args, "debug", False) or environment.debug():
        return run(args)
    with warnings.catch_warnings():
        # numpy/librosa warnings on odd data are not for the user: stderr holds one line
        warnings.simplefilter("ignore")
        return run(args)
