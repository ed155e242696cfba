"""Outputs are written atomically: an interrupted run never leaves a half-written file.

Three checks: the :mod:`cryvideo.io` primitive under exceptions and ``SIGKILL``; a ``predict --out``
run interrupted with Ctrl-C; and a scan of the package source for file writes that bypass it
(so code merged later is held to the same rule).
"""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cryvideo.io import atomic_path, write_json_atomic, write_text_atomic
from cryvideo.testing.fuzz import ffmpeg_processes

PACKAGE = Path(__file__).resolve().parents[2] / "cryvideo"


def test_atomic_path_keeps_old_file_on_error(tmp_path):
    target = tmp_path / "result.json"
    write_json_atomic(target, {"version": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text('{"version": 2, "half')
            raise RuntimeError("interrupted mid-write")
    assert json.loads(target.read_text()) == {"version": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]  # no temp file left


def test_atomic_write_survives_sigkill(tmp_path):
    """Kill -9 a process that keeps rewriting a 4 MB JSON file: whenever it dies, the file is
    absent or a complete, parseable version, never a torn one."""
    target = tmp_path / "big.json"
    script = textwrap.dedent(f"""
        from cryvideo.io import write_json_atomic
        i = 0
        while True:
            write_json_atomic({str(target)!r}, {{"version": i, "rows": [[i] * 100] * 2000}})
            i += 1
    """)
    seen_versions = set()
    for delay in (0.0, 0.05, 0.2, 0.4, 0.8):
        target.unlink(missing_ok=True)
        proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.DEVNULL)
        # kill it at different moments after its first complete file (however busy the
        # machine is, the file check below always has something to check)
        deadline = time.monotonic() + 120
        while not target.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if target.exists():
            obj = json.loads(target.read_text())  # raises on a torn file
            assert len(obj["rows"]) == 2000 and all(r == [obj["version"]] * 100
                                                    for r in obj["rows"])
            seen_versions.add(obj["version"])
    assert seen_versions, "the writer never completed a file: the test proved nothing"


@pytest.mark.slow
def test_interrupted_predict_leaves_no_output(demo_clip, tmp_path, paused_run):
    """Ctrl-C during ``predict --out`` (in the first file, while its frames stream from
    ffmpeg): exit 130, one line, no output file (nothing was finished), no ffmpeg left.

    Deterministic: the run waits at the first frame of the first file until the signal comes
    (``cryvideo.testing.user_files.PausedRun``); it cannot finish first, however busy the
    machine is."""
    out = tmp_path / "out.jsonl"
    run = paused_run(["predict", "--json", "--fps", "30", "--out", out, demo_clip, demo_clip],
                     pause_at=1, workdir=tmp_path)
    # the frame stream of the face branch is running
    import psutil

    cmds = [" ".join(k.cmdline()) for k in psutil.Process(run.pid).children()]
    assert any("rawvideo" in c for c in cmds), cmds
    run.interrupt()
    rc, stdout, stderr = run.wait()
    assert rc == 130, stderr
    assert stderr.strip().splitlines()[-1] == "cryvideo: interrupted"
    assert "Traceback" not in stderr
    assert stdout == ""
    assert not out.exists()
    assert not list(tmp_path.glob(".out.part-*")) and not list(tmp_path.glob(".out.jsonl.lock"))
    assert not ffmpeg_processes(str(demo_clip))


# -- static check: every file the package writes goes through cryvideo.io ----------------------
#: Calls that write a file given a path (attribute name → receivers it applies to; None: any).
WRITERS = {
    "write_text": None, "write_bytes": None, "savefig": None, "save": None, "savez": None,
    "savez_compressed": None, "to_csv": None, "to_parquet": None, "to_pickle": None,
    "imwrite": None, "dump": {"joblib", "pickle"}, "write": {"sf", "soundfile", "wavfile"},
    "copyfile": {"shutil"}, "copy": {"shutil"}, "copy2": {"shutil"},
}
#: Modules allowed to write directly: the atomic primitive itself, and test tooling that
#: writes fuzz files into a scratch folder.
EXEMPT = {"io.py", "testing/fuzz.py"}


def _in_memory_names(tree: ast.AST) -> set[str]:
    """Names assigned an in-memory buffer (``buf = io.BytesIO()``): writing to them is fine."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            f = node.value.func
            fname = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if fname in ("BytesIO", "StringIO"):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        if isinstance(node, ast.With):
            for item in node.items:
                c = item.context_expr
                if isinstance(c, ast.Call) and isinstance(item.optional_vars, ast.Name):
                    f = c.func
                    fname = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                    if fname in ("BytesIO", "StringIO"):
                        names.add(item.optional_vars.id)
    return names


def _writes_outside_atomic(tree: ast.AST) -> list[tuple[int, str]]:
    bad: list[tuple[int, str]] = []
    in_memory = _in_memory_names(tree)

    def is_atomic_with(node: ast.With) -> bool:
        for item in node.items:
            call = item.context_expr
            if isinstance(call, ast.Call):
                f = call.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if name in ("atomic_path", "TemporaryDirectory", "NamedTemporaryFile"):
                    return True
        return False

    def visit(node: ast.AST, safe: bool) -> None:
        if isinstance(node, ast.With | ast.AsyncWith) and is_atomic_with(node):
            safe = True
        if isinstance(node, ast.Call) and not safe:
            f = node.func
            if isinstance(f, ast.Name) and f.id == "open":
                mode = node.args[1] if len(node.args) > 1 else next(
                    (k.value for k in node.keywords if k.arg == "mode"), None)
                if isinstance(mode, ast.Constant) and any(c in str(mode.value) for c in "wax+"):
                    bad.append((node.lineno, "open(..., 'w')"))
            elif isinstance(f, ast.Attribute) and f.attr in WRITERS:
                recv = WRITERS[f.attr]
                rname = f.value.id if isinstance(f.value, ast.Name) else None
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Name) and first.id in in_memory:
                    pass  # into a BytesIO/StringIO, not a file
                elif recv is None or rname in recv:
                    bad.append((node.lineno, f".{f.attr}(...)"))
        for child in ast.iter_child_nodes(node):
            visit(child, safe)

    visit(tree, False)
    return bad


def test_static_scan_finds_a_plain_write():
    tree = ast.parse("import json\ndef f(p, obj):\n    with open(p, 'w') as fh:\n"
                     "        json.dump(obj, fh)\n    fig.savefig(p)\n")
    assert [ln for ln, _ in _writes_outside_atomic(tree)] == [3, 5]
    ok = ast.parse("def f(p):\n    with atomic_path(p) as tmp:\n        tmp.write_text('x')\n"
                   "def g(fig):\n    buf = io.BytesIO()\n    fig.savefig(buf, format='png')\n")
    assert _writes_outside_atomic(ok) == []


def test_package_writes_files_only_atomically():
    offenders = []
    for py in sorted(PACKAGE.rglob("*.py")):
        rel = py.relative_to(PACKAGE).as_posix()
        if rel in EXEMPT:
            continue
        lines = py.read_text(encoding="utf-8").splitlines()
        for lineno, what in _writes_outside_atomic(ast.parse(py.read_text(encoding="utf-8"))):
            if "# atomic-ok" in lines[lineno - 1]:
                continue  # a reviewed exception (e.g. writing into a fresh temporary folder)
            offenders.append(f"cryvideo/{rel}:{lineno}: {what}")
    assert not offenders, ("file writes outside cryvideo.io.atomic_path (use write_text_atomic/"
                           "write_json_atomic/atomic_path):\n" + "\n".join(offenders))


def test_write_text_atomic_replaces_whole_file(tmp_path):
    target = tmp_path / "report.html"
    write_text_atomic(target, "<html>" + "x" * 100000 + "</html>")
    write_text_atomic(target, "<html>short</html>")
    assert target.read_text() == "<html>short</html>"


@pytest.mark.parametrize("option,where", [
    ("--out", "dir"), ("--out", "under_a_file"), ("--out", "proc"), ("--out", "read_only_dir"),
    ("--report", "under_a_file"), ("--report", "proc"), ("--report", "read_only_dir")])
def test_unwritable_output_is_a_clean_error(where, option, fuzz_corpus, tmp_path):
    """``--out``/``--report`` pointing somewhere unwritable: one line naming it, exit 2, not a
    traceback, and before any model is loaded (not after all the work)."""
    from conftest import cli_without_models

    folder, _ = fuzz_corpus
    if where == "read_only_dir" and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders: nothing to refuse")
    ro = tmp_path / "ro"
    ro.mkdir()
    target = {"dir": tmp_path, "under_a_file": tmp_path / "f.txt" / "out.json",
              "proc": Path("/proc/cryvideo-out.json"), "read_only_dir": ro / "out.json"}[where]
    (tmp_path / "f.txt").write_text("x")
    ro.chmod(0o555)
    try:
        rc, err, loaded = cli_without_models(["predict", "--no-face", option, target,
                                              folder / "seeds" / "audio.wav"])
    finally:
        ro.chmod(0o755)
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"cryvideo: error: {target}: "), lines
    assert not loaded, "the output was checked only after a model was loaded"
