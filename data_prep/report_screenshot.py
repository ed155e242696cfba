"""Render a ``predict`` HTML report and save a screenshot PNG with headless Chromium.

Usage::

    python data_prep/report_screenshot.py [CLIP] [--models DIR] [--out out/report]

Writes ``OUT.html`` and ``OUT.png`` (default ``out/report.*``; ``out/`` is git-ignored). Needs
``chromium`` (Debian: ``apt-get install chromium``). Look at the PNG to check the page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clip", nargs="?", default=str(REPO / "examples" / "demo.mp4"))
    ap.add_argument("--models", default=None, help="models folder (default: saved_models/)")
    ap.add_argument("--out", default=str(REPO / "out" / "report"))
    ap.add_argument("--fps", type=float, help="the face branch's rate (default: predict's)")
    args = ap.parse_args(argv)
    from cryvideo.pipeline import Predictor, PredictSettings
    from cryvideo.report import write_html_report
    from cryvideo.report.screenshot import find_chromium, screenshot

    given = {"fps": args.fps} if args.fps is not None else {}
    settings = PredictSettings(models_dir=args.models, keep_artifacts=True, **given)
    res = Predictor(settings).predict(args.clip)
    html = Path(args.out).with_suffix(".html")
    write_html_report(res, html)
    print(f"wrote {html}")
    if find_chromium() is None:
        print("chromium not found: no screenshot (apt-get install chromium)", file=sys.stderr)
        return 1
    png = screenshot(html, Path(args.out).with_suffix(".png"))
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
