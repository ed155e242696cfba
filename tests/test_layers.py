"""The package is built in layers: a module imports only its own layer or lower ones, and the
imports between modules form no circle (imports inside functions count too)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cryvideo"

#: Lowest first. A module may import modules of its own layer or of a lower one.
LAYERS = (
    ("errors", "version", "environment", "io", "tflite", "weights", "progress", "machine"),
    ("media", "audio", "vision", "data", "evaluation"),
    ("models", "baselines"),
    ("detection", "pipeline"),
    ("training", "report", "batch"),
    ("studies",),
    ("cli", "testing", "__main__", "api"),
)
#: The package itself (``cryvideo/__init__.py``) is the public face: the version, the error base
#: and, on first use, :mod:`cryvideo.api`; no module of the package imports it.
TOP = len(LAYERS) - 1
LAYER_OF = {part: i for i, parts in enumerate(LAYERS) for part in parts}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every ``cryvideo`` module or name imported anywhere in the file, made absolute."""
    name = _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "cryvideo")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] == "cryvideo":
                # ``from PKG import name``: an edge to PKG.name when it is a module, else to
                # PKG (resolved in import_graph); never to PKG for a submodule's import
                out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports (a name imported from a module is an edge to
    that module; a submodule imported by name, to the submodule)."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for mod, path in files.items():
        targets = set()
        for imp in _imports(path):
            while imp and imp not in files:
                imp = imp.rpartition(".")[0]
            if imp and imp != mod:
                targets.add(imp)
        graph[mod] = targets
    return graph


def _layer(mod: str) -> int:
    parts = mod.split(".")
    if len(parts) == 1:          # the package itself: the public face (see TOP)
        return TOP
    part = parts[1]
    assert part in LAYER_OF, f"{mod}: put its package {part!r} into a layer in LAYERS"
    return LAYER_OF[part]


def test_no_import_reaches_a_higher_layer():
    bad = [f"{src} (layer {_layer(src)}) imports {dst} (layer {_layer(dst)})"
           for src, dsts in sorted(import_graph().items()) for dst in sorted(dsts)
           if _layer(dst) > _layer(src)]
    assert not bad, "imports reaching up:\n" + "\n".join(bad)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _without_package_reexports(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's ``__init__`` importing its own submodules (to re-export them) is how Python
    packages are made, not a circle between modules: drop those edges."""
    return {src: {dst for dst in dsts if not dst.startswith(src + ".")}
            for src, dsts in graph.items()}


def test_no_import_circle():
    cycles = _cycles(_without_package_reexports(import_graph()))
    assert not cycles, "import circles:\n" + "\n".join(" ↔ ".join(c) for c in cycles)


def test_every_package_has_a_layer():
    for mod in import_graph():
        _layer(mod)


def test_the_checker_sees_lazy_and_relative_imports():
    graph = import_graph()
    # ``from ..detection import load_detector`` inside a function of pipeline/loading.py
    assert "cryvideo.detection" in graph["cryvideo.pipeline.loading"]
    # ``from .store import ...`` at the top of models/branches.py
    assert "cryvideo.models.store" in graph["cryvideo.models.branches"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _layer("cryvideo.cli.main") > _layer("cryvideo.studies.panns") > _layer(
        "cryvideo.training.audio") > _layer("cryvideo.pipeline.predict") > _layer(
        "cryvideo.models.store") > _layer("cryvideo.media.probe") > _layer("cryvideo.errors")


def _readme_layers() -> list[set[str]]:
    """The package's modules and folders named in each numbered item of README's layer list
    (the list that follows "The package is built in layers")."""
    text = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    text = text[text.index("The package is built in layers"):]
    names = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir()
                                                      if (p / "__init__.py").is_file()}
    items, current = [], None
    for line in text.splitlines():
        if re.match(r"\d+\. \*\*", line):
            current = set()
            items.append(current)
        elif current is not None and not line.startswith("   "):
            if line.strip():
                current = None
                if len(items) == len(LAYERS):
                    break
            continue
        if current is not None:
            current.update(n for n in re.findall(r"`([a-z_]+)/?`", line) if n in names)
    return items


def test_readme_layer_list_the_folders_and_this_test_agree():
    listed = _readme_layers()
    assert listed == [set(layer) - {"__main__"} for layer in LAYERS], (
        "README's layer list and LAYERS differ")
    on_disk = ({p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}) | {
        p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert on_disk == set(LAYER_OF), "folders/modules not in LAYERS, or LAYERS naming none"
