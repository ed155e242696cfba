"""Screenshots of ``predict --report`` pages for the docs, taken in headless Chromium.

Three pages, each the top of the report as a person first sees it:

- ``docs/img/report_crying.png``: ``examples/demo.mp4`` (a cry with no face in view, then a
  cry under a smiling face, which the face vetoes);
- ``docs/img/report_no_crying.png``: laughter, noise and silence (clips of
  ``../shared/data/cry_detection/not_cry``) joined into one file;
- ``docs/img/report_30min.png``: the 30-minute recording of ``benchmarks/bench_report.py``.

Usage::

    python data_prep/report_screenshots.py [--out docs/img] [--keep DIR]

Needs ``chromium`` (Debian: ``apt-get install chromium``) and ``../shared``. The PNGs are cut
below the part shown, scaled to ``--width`` pixels and reduced to 256 colours (small files).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for p in (REPO, REPO / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

#: The no-crying example: laughter, noise, silence, laughter (5 s each).
NO_CRY_PARTS = ("home_laugh_laugh_1.m4a_0.flac", "esc50_noise_1-100032-A.ogg",
                "home_silence_silence_0.flac", "home_laugh_laugh_1.m4a_1.flac")
#: Page height (CSS pixels) kept of each screenshot.
KEEP = {"report_crying": 1500, "report_no_crying": 1420, "report_30min": 1330}


def small_png(src: Path, dst: Path, *, keep: int, width: int) -> None:
    """The top ``keep`` pixels of a screenshot, scaled to ``width`` and cut to 256 colours."""
    from PIL import Image

    img = Image.open(src).convert("RGB")
    img = img.crop((0, 0, img.width, min(keep, img.height)))
    img = img.resize((width, round(img.height * width / img.width)), Image.LANCZOS)
    img.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(dst, optimize=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(REPO / "docs" / "img"))
    ap.add_argument("--keep", metavar="DIR", default=None,
                    help="write the inputs and pages to DIR and keep them")
    ap.add_argument("--width", type=int, default=900, help="width of the PNGs (pixels)")
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    args = ap.parse_args(argv)
    from bench_report import long_recording

    from cryvideo.pipeline import Predictor
    from cryvideo.report import write_html_report
    from cryvideo.report.screenshot import find_chromium, screenshot
    from cryvideo.testing.media import concat_audio

    if find_chromium() is None:
        print("chromium not found (apt-get install chromium)", file=sys.stderr)
        return 1
    not_cry = Path(args.shared) / "data" / "cry_detection" / "not_cry"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        work = Path(args.keep or d)
        work.mkdir(parents=True, exist_ok=True)
        concat_audio(work / "laugh_noise_silence.flac", [not_cry / n for n in NO_CRY_PARTS])
        long_recording(work / "recording_30min.opus", 30.0)
        # (folder, file as given): the page names the file as it was given
        inputs = {"report_crying": (REPO, "examples/demo.mp4"),
                  "report_no_crying": (work, "laugh_noise_silence.flac"),
                  "report_30min": (work, "recording_30min.opus")}
        pred = Predictor(keep_artifacts=True)
        for name, (folder, src) in inputs.items():
            page = work / f"{name}.html"
            with contextlib.chdir(folder):
                res = pred.predict(src)
            write_html_report(res, page)
            shot = screenshot(page, work / f"{name}_full.png", width=1100,
                              height=KEEP[name] + 40)
            small_png(shot, out / f"{name}.png", keep=KEEP[name], width=args.width)
            print(f"wrote {out / (name + '.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
