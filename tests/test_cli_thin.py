"""The command line only parses and formats: every function of ``cryvideo/cli/`` is short, and
no ``argparse`` object reaches the library (the library takes settings dataclasses)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cryvideo"
#: The longest a function of cli/ may be, lines (signature and docstring included).
MAX_LINES = 40


def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def test_every_cli_function_is_short():
    long = [f"{p.name}:{fn.name} ({fn.end_lineno - fn.lineno + 1} lines)"
            for p in sorted((PACKAGE / "cli").glob("*.py")) for fn in _functions(p)
            if fn.end_lineno - fn.lineno + 1 > MAX_LINES]
    assert not long, f"cli functions over {MAX_LINES} lines: {long}"


def test_no_argparse_outside_the_cli():
    found = []
    for p in sorted(PACKAGE.rglob("*.py")):
        rel = p.relative_to(PACKAGE).as_posix()
        if rel.startswith("cli/"):
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] == "argparse" for n in names):
                found.append(rel)
            if isinstance(node, ast.Attribute) and node.attr == "Namespace" and \
                    isinstance(node.value, ast.Name) and node.value.id == "argparse":
                found.append(rel)
    assert not found, f"argparse used by the library: {sorted(set(found))}"


def test_the_checker_sees_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    f = tmp_path / "long.py"
    f.write_text(f"def f():\n{body}\n", encoding="utf-8")
    (fn,) = _functions(f)
    assert fn.end_lineno - fn.lineno + 1 == MAX_LINES + 1
