"""Record, then compare, the JSON that ``cryvideo predict`` and ``cryvideo detect`` print for
the demo clip: a refactoring must leave it byte-identical except ``timings``.

Usage::

    python benchmarks/compare_outputs.py record BEFORE_DIR     # on the old tree
    python benchmarks/compare_outputs.py record AFTER_DIR      # on the new tree
    python benchmarks/compare_outputs.py compare BEFORE_DIR AFTER_DIR

``compare`` prints one line per command and exits 1 when any output differs (other than the
``timings`` of ``predict``, which measure the machine, not the code).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo.mp4"
#: name of the recorded file -> the command's arguments after ``cryvideo``.
COMMANDS = {
    "predict.json": ["predict", "--json", str(DEMO)],
    "predict_no_gate.json": ["predict", "--json", "--cry-detector", "none", str(DEMO)],
    "predict_cnn10.json": ["predict", "--json", "--cry-detector", "cnn10", str(DEMO)],
    "detect.json": ["detect", "--json", str(DEMO)],
    "detect_cnn10.json": ["detect", "--json", "--backend", "cnn10", str(DEMO)],
}


def _without_timings(obj):
    """The parsed output with every ``timings`` entry removed (at any depth)."""
    if isinstance(obj, dict):
        return {k: _without_timings(v) for k, v in obj.items() if k != "timings"}
    if isinstance(obj, list):
        return [_without_timings(v) for v in obj]
    return obj


def record(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, args in COMMANDS.items():
        res = subprocess.run([sys.executable, "-m", "cryvideo", *args], capture_output=True,
                             text=True, cwd=REPO, check=False)
        if res.returncode != 0:
            sys.exit(f"cryvideo {' '.join(args)} failed ({res.returncode}): {res.stderr}")
        (out_dir / name).write_text(res.stdout, encoding="utf-8")
        print(f"recorded {out_dir / name}")


def compare(before: Path, after: Path) -> int:
    bad = 0
    for name in COMMANDS:
        a = json.loads((before / name).read_text(encoding="utf-8"))
        b = json.loads((after / name).read_text(encoding="utf-8"))
        a_s = json.dumps(_without_timings(a), indent=1, sort_keys=False)
        b_s = json.dumps(_without_timings(b), indent=1, sort_keys=False)
        same = a_s == b_s
        bad += not same
        print(f"{name}: {'identical except timings' if same else 'DIFFERENT'}")
        if not same:
            import difflib

            sys.stdout.writelines(difflib.unified_diff(
                a_s.splitlines(True), b_s.splitlines(True), str(before / name),
                str(after / name)))
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "record":
        record(Path(argv[1]))
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return compare(Path(argv[1]), Path(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
