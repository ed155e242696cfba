"""The Donateacry corpus: file-name parsing and folder loading.

File names follow the published convention
``<app-install uuid (36 chars)>-<unix time>-<app version>-<gender>-<age>-<reason>.<ext>``;
iOS uploads (``.caf``) give the time in seconds, Android ones (``.3gp``) in milliseconds.
The app-install UUID is the *group* for every honest split: one install = one family/device.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from pathlib import Path

from ..errors import DatasetError

__all__ = [
    "DONATEACRY_CLASSES",
    "REASON_CODES",
    "FOLDER_CLASSES",
    "DonateacryItem",
    "parse_donateacry_name",
    "load_donateacry",
]

#: Reason codes of the file names.
REASON_CODES = {
    "hu": "hungry",
    "bu": "burping",
    "bp": "belly_pain",
    "dc": "discomfort",
    "ti": "tired",
    "lo": "lonely",
    "ch": "cold_hot",
    "sc": "scared",
    "dk": "dont_know",
}
#: The five classes of the cleaned corpus (folder names), in a fixed order.
DONATEACRY_CLASSES = ("belly_pain", "burping", "discomfort", "hungry", "tired")
#: Folder names of the cleaned corpus.
FOLDER_CLASSES = frozenset(DONATEACRY_CLASSES)
GENDERS = {"m": "male", "f": "female"}
AGES = {"04": "0-4 weeks", "48": "4-8 weeks", "26": "2-6 months", "72": "7 months-2 years",
        "22": "over 2 years"}
AUDIO_EXTENSIONS = (".wav", ".caf", ".3gp", ".mp3", ".ogg", ".flac", ".m4a")

_NAME = re.compile(
    r"^(?P<uuid>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})"
    r"-(?P<time>\d{9,13})-(?P<version>\d+(?:\.\d+)*)-(?P<gender>[a-z])-(?P<age>\d{2})"
    r"-(?P<reason>[a-z]{2})$"
)


@dataclasses.dataclass(frozen=True)
class DonateacryItem:
    """One recording and the fields of its file name.

    Attributes
    ----------
    path : str
    uuid : str
        App-install id (lower case): the grouping key.
    timestamp : float
        Unix time in seconds.
    app_version, gender, age : str
    reason : str
        Reason from the file name (long form, e.g. ``"hungry"``).
    label : str
        Class used for training: the folder name in the cleaned corpus (which merges
        cold/hot into discomfort), else ``reason``.
    """

    path: str
    uuid: str
    timestamp: float
    app_version: str
    gender: str
    age: str
    reason: str
    label: str


def parse_donateacry_name(name: str | os.PathLike) -> dict:
    """Parse a Donateacry file name.

    Parameters
    ----------
    name : str or os.PathLike
        File name or path (only the last component is read).

    Returns
    -------
    dict
        ``uuid`` (lower case), ``timestamp`` (seconds), ``app_version``, ``gender``, ``age``,
        ``reason`` (long form).

    Raises
    ------
    DatasetError
        If the name does not follow the convention.
    """
    base = os.path.basename(os.fspath(name))
    stem = base.rsplit(".", 1)[0] if "." in base else base
    m = _NAME.match(stem)
    if not m:
        raise DatasetError(
            "file name does not follow the Donateacry convention "
            "'<uuid>-<unix time>-<app version>-<m|f>-<age>-<reason>.<ext>'",
            path=base,
        )
    g = m.groupdict()
    if g["gender"] not in GENDERS:
        raise DatasetError(f"unknown gender code {g['gender']!r}", path=base)
    if g["age"] not in AGES:
        raise DatasetError(f"unknown age code {g['age']!r}", path=base)
    if g["reason"] not in REASON_CODES:
        raise DatasetError(f"unknown reason code {g['reason']!r}", path=base)
    t = int(g["time"])
    timestamp = t / 1000.0 if len(g["time"]) >= 12 else float(t)  # Android: milliseconds
    return {
        "uuid": g["uuid"].lower(),
        "timestamp": timestamp,
        "app_version": g["version"],
        "gender": GENDERS[g["gender"]],
        "age": AGES[g["age"]],
        "reason": REASON_CODES[g["reason"]],
    }


def load_donateacry(
    root: str | os.PathLike,
    *,
    classes: Sequence[str] | None = None,
    strict: bool = True,
) -> list[DonateacryItem]:
    """List the recordings of a Donateacry folder.

    Two layouts are understood: the cleaned corpus (one folder per class, e.g.
    ``donateacry_corpus_cleaned_and_updated_data/hungry/*.wav``; the folder is the label) and the
    raw upload buckets (any folders of ``.caf``/``.3gp`` files; the reason code is the label).
    ``root`` may be the corpus folder itself or a folder above it.

    Parameters
    ----------
    root : str or os.PathLike
    classes : sequence of str, optional
        Keep only these labels.
    strict : bool
        Raise on a malformed file name (else skip it).

    Returns
    -------
    list of DonateacryItem
        Sorted by path.

    Raises
    ------
    DatasetError
        Missing folder, no audio files, or (``strict``) a malformed name.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError("not a folder (expected the Donateacry corpus)", path=root)
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS
                   and p.is_file())
    if not files:
        raise DatasetError("no audio files (.wav/.caf/.3gp) found under this folder", path=root)
    items = []
    for p in files:
        try:
            f = parse_donateacry_name(p.name)
        except DatasetError as exc:
            if strict:
                raise DatasetError(exc.message, path=p) from None
            continue
        folder = p.parent.name
        label = folder if folder in FOLDER_CLASSES else f["reason"]
        items.append(DonateacryItem(path=os.fspath(p), label=label, **f))
    if classes is not None:
        unknown = set(classes) - {it.label for it in items}
        if unknown:
            raise DatasetError(f"no recordings of class(es) {sorted(unknown)}", path=root)
        items = [it for it in items if it.label in set(classes)]
    return items
