"""Record, then compare, the JSON that ``cryvideo predict`` and ``cryvideo detect`` print for
the demo clip and for a batch of real clips: a refactoring must leave it byte-identical except
``timings``.

The real clips are recordings from ``../shared/data`` (a home cry, an ESC-50 cry, a laughing
infant, speech, a Donateacry cry), each as the WAV itself and as an MP4 with a synthetic picture
(ffmpeg's ``testsrc2``), built once into a fixed folder so that two trees read the very same
files. Paths of the repository and of that folder are replaced by placeholders in the records.

Usage::

    python benchmarks/compare_outputs.py record BEFORE_DIR     # on the old tree
    python benchmarks/compare_outputs.py record AFTER_DIR      # on the new tree
    python benchmarks/compare_outputs.py compare BEFORE_DIR AFTER_DIR

``compare`` prints one line per command and exits 1 when any output differs (other than the
``timings`` of ``predict``, which measure the machine, not the code).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cryvideo.media.ffmpeg import ffmpeg_exe

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


SHARED = REPO.parent / "shared" / "data"
CLIPS_DIR = Path(tempfile.gettempdir()) / "cryvideo_compare_clips"
#: real recordings (relative to ../shared/data) that make the batch of real clips.
REAL_CLIPS = (
    "cry_detection/cry/esc50_cry_1-187207-A.ogg",
    "cry_detection/not_cry",            # the first file, sorted
    "vocal_negatives/not_cry/laughter",  # the first file, sorted
    "vocal_negatives/not_cry/music",     # the first file, sorted
    "donateacry",                       # the first WAV anywhere below, sorted
)


def _first(path: Path) -> Path | None:
    if path.is_file():
        return path
    if not path.is_dir():
        return None
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in {".wav", ".ogg", ".flac",
                                                                     ".mp3"})
    return files[0] if files else None


def real_clips() -> list[Path]:
    """The real clips (audio and MP4), built into :data:`CLIPS_DIR` on first use."""
    CLIPS_DIR.mkdir(parents=True, exist_ok=True)
    out = []
    for rel in REAL_CLIPS:
        src = _first(SHARED / rel)
        if src is None:
            continue
        audio = CLIPS_DIR / f"{src.stem}{src.suffix}"
        if not audio.exists():
            shutil.copyfile(src, audio)
        video = CLIPS_DIR / f"{src.stem}.mp4"
        if not video.exists():
            tmp = video.with_suffix(".tmp.mp4")
            subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-i", str(audio),
                            "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
                            "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                            "-c:a", "aac", str(tmp)], check=True, timeout=120)
            tmp.replace(video)
        out += [audio, video]
    return out


def commands() -> dict[str, list[str]]:
    """Name of the recorded file -> the command's arguments, demo first, then real clips."""
    cmds = dict(COMMANDS)
    for clip in real_clips():
        tag = f"{clip.stem}{clip.suffix.replace('.', '_')}"
        cmds[f"real_{tag}_predict.json"] = ["predict", "--json", str(clip)]
        cmds[f"real_{tag}_detect.json"] = ["detect", "--json", str(clip)]
    return cmds


def _placeheld(text: str) -> str:
    return text.replace(str(CLIPS_DIR), "<clips>").replace(str(REPO), "<repo>")


def _without_timings(obj):
    """The parsed output with every ``timings`` entry removed (at any depth)."""
    if isinstance(obj, dict):
        return {k: _without_timings(v) for k, v in obj.items() if k != "timings"}
    if isinstance(obj, list):
        return [_without_timings(v) for v in obj]
    return obj


def record(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, args in commands().items():
        res = subprocess.run([sys.executable, "-m", "cryvideo", *args], capture_output=True,
                             text=True, cwd=REPO, check=False)
        if res.returncode != 0:
            sys.exit(f"cryvideo {' '.join(args)} failed ({res.returncode}): {res.stderr}")
        (out_dir / name).write_text(_placeheld(res.stdout), encoding="utf-8")
        print(f"recorded {out_dir / name}")


def compare(before: Path, after: Path) -> int:
    bad = 0
    names = sorted(p.name for p in before.glob("*.json"))
    if names != sorted(p.name for p in after.glob("*.json")):
        print("the two folders hold different records")
        return 1
    for name in names:
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
