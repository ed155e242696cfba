"""Runs the real ``cryvideo detect`` CLI (subprocess) with each grouped-CV fold's detector on
that fold's held-out clips: are the cries found, and are laughter, noise and silence left alone?

The fold models come from ``cryvideo benchmark panns DATA_DIR --fold-models DIR`` (each card
lists its held-out files).

Usage: python benchmarks/verify_detect_heldout.py FOLD_MODELS_DIR DATA_DIR
Writes benchmarks/results/panns_detect_heldout.md.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folds_dir")
    ap.add_argument("data_dir")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    args = ap.parse_args()

    from cryvideo.data import load_cry_detection
    from cryvideo.io import write_text_atomic
    from cryvideo.models.cards import read_card

    cat = {os.path.realpath(it.path): it.category
           for it in load_cry_detection(Path(args.data_dir) / "cry_detection")}
    by = collections.defaultdict(lambda: [0, 0, 0.0])
    per_fold = []
    for model in sorted(Path(args.folds_dir).glob("fold*/cry_detector.keras")):
        card = read_card(model)
        files = card.training["held_out"] + card.training["held_out_donateacry"]
        r = subprocess.run([sys.executable, "-m", "cryvideo", "detect", "--json", "--model",
                            str(model), *files], capture_output=True, text=True, cwd=REPO,
                           timeout=3600)
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            return r.returncode
        res = [json.loads(s) for s in r.stdout.splitlines()]
        assert [x["path"] for x in res] == files
        fold = collections.Counter()
        for x in res:
            c = cat.get(os.path.realpath(x["path"]), "donateacry cry")
            by[c][0] += 1
            by[c][1] += int(x["crying"])
            by[c][2] += sum(b - a for a, b in x["segments"])
            fold[(c, bool(x["crying"]))] += 1
        per_fold.append((model.parent.name, dict(fold)))
        print(model.parent.name, dict(fold), flush=True)
    md = ["`cryvideo detect --json --model foldK/cry_detector.keras` (the CLI, in a subprocess) "
          "on the held-out clips of each grouped CV fold; each fold's CNN10 was trained only "
          "on the other folds' groups (and UUIDs). Totals over all folds:", "",
          "| category | clips | called crying | seconds inside crying segments |",
          "|---|---|---|---|"]
    for c in sorted(by):
        n, k, s = by[c]
        md.append(f"| {c} | {n} | {k} ({100 * k / n:.1f} %) | {s:.1f} |")
    md += ["", "Per fold (category, called crying): "
           + "; ".join(f"{f}: " + ", ".join(f"{c}/{'cry' if v else 'no'} {n}"
                                              for (c, v), n in sorted(d.items()))
                       for f, d in per_fold)]
    text = "\n".join(md) + "\n"
    write_text_atomic(Path(args.out) / "panns_detect_heldout.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
