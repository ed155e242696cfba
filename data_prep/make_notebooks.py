"""Write the notebooks in ``notebooks/`` from the cell sources below (outputs stripped).

The ``.ipynb`` files are committed; edit them in Jupyter or here, then run
``python data_prep/make_notebooks.py`` (and ``python data_prep/strip_notebooks.py
notebooks/*.ipynb`` after saving from Jupyter). Every notebook reads its size parameters from
environment variables, so ``tests/test_notebooks.py`` runs them on small data.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
NB_DIR = REPO / "notebooks"

SETUP = '''\
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# ../shared beside the repository (notebooks/ is one level down), or $CRYVIDEO_SHARED
SHARED = Path(os.environ.get("CRYVIDEO_SHARED") or Path.cwd().resolve().parents[1] / "shared")
assert SHARED.is_dir(), f"{SHARED} not found: set CRYVIDEO_SHARED to the shared data folder"
pd.set_option("display.precision", 3)
plt.rcParams["figure.dpi"] = 80'''

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

NOTEBOOKS["01_donateacry_explore"] = [
    ("md", """\
# 01 · The Donateacry corpus at a glance

What is in the corpus (classes, app installs, durations), why a *random* split leaks, and what a
cry looks like next to sounds that are not cries — waveform, spectrogram, MFCC and STFT images
as in Figure 1 of the papers.

Everything goes through the package's public API: `cryvideo.data` (readers), `cryvideo.media`
(ffmpeg decoding), `cryvideo.audio` (the paper's preprocessing and features) and
`cryvideo.evaluation` (splits).

Parameters (environment variables): `CRYVIDEO_NB_N` — how many clips to probe for durations
(default: all)."""),
    ("code", SETUP + '''

from cryvideo.audio import FeatureParams, stft_logmag
from cryvideo.audio.features import features_from_waveform
from cryvideo.data import load_cry_detection, load_donateacry
from cryvideo.evaluation import grouped_splits, leakage, paper_splits
from cryvideo.media import load_audio, probe

N = int(os.environ.get("CRYVIDEO_NB_N", "0")) or None'''),
    ("md", "## Classes and app installs\n\nThe first field of every file name is the UUID of "
           "the app install that recorded it: the grouping key for honest splits."),
    ("code", '''\
items = load_donateacry(SHARED / "data" / "donateacry")
df = pd.DataFrame([vars(it) for it in items])
per_class = df.groupby("label").agg(clips=("path", "size"), installs=("uuid", "nunique"))
per_class["share"] = per_class.clips / per_class.clips.sum()
print(f"{len(df)} clips from {df.uuid.nunique()} app installs")
per_class'''),
    ("code", '''\
clips_per_uuid = df.groupby("uuid").size()
fig, ax = plt.subplots(1, 2, figsize=(11, 3.2))
per_class.clips.plot.bar(ax=ax[0], color="tab:blue", title="clips per class")
ax[0].set_ylabel("clips")
clips_per_uuid.value_counts().sort_index().plot.bar(ax=ax[1], color="tab:gray",
                                                    title="clips per app install")
ax[1].set_xlabel("clips from one install")
ax[1].set_ylabel("installs")
plt.tight_layout()
print(f"majority class: {per_class.share.idxmax()} ({per_class.share.max():.1%} of clips) "
      "-- the accuracy of always answering it")'''),
    ("md", "## Durations\n\nProbed with ffmpeg through `cryvideo.media.probe`."),
    ("code", '''\
sample = df if N is None else df.sample(n=min(N, len(df)), random_state=0)
sample = sample.assign(duration=[probe(p).duration for p in sample.path])
print(sample.duration.describe().to_string())
ax = sample.duration.plot.hist(bins=30, figsize=(6, 2.8), title="clip duration (s)")
ax.set_xlabel("seconds")'''),
    ("md", """\
## Leakage of random splits

Share of *test* clips whose app install also has clips in *training*: the paper's stratified
random 70/30 split (`paper_splits`) against splits grouped by install (`grouped_splits`)."""),
    ("code", '''\
y, groups = df.label.to_numpy(), df.uuid.to_numpy()
rows = [{"split": "random 70/30 (paper, leaky)", "repeat": r, "leakage": leakage(tr, te, groups)}
        for r, tr, te in paper_splits(y, test_size=0.3, n_repeats=5)]
rows += [{"split": "grouped by install (5-fold)", "repeat": r, "leakage": leakage(tr, te, groups)}
         for r, tr, te in grouped_splits(y, groups, n_splits=5)]
leak = pd.DataFrame(rows).groupby("split").leakage.agg(["mean", "min", "max"])
leak'''),
    ("code", '''\
ax = leak["mean"].plot.barh(figsize=(6, 2), xlim=(0, 1), color=["tab:green", "tab:red"])
ax.set_xlabel("share of test clips with their install in training")
assert leak.loc["grouped by install (5-fold)", "max"] == 0.0'''),
    ("md", """\
## A cry next to sounds that are not cries (Figure 1)

A Donateacry cry, a baby laughing and a noise clip from the cry-detection set, decoded at the
features' 8 kHz: waveform and log-magnitude spectrogram."""),
    ("code", '''\
params = FeatureParams()
det = load_cry_detection(SHARED / "data" / "cry_detection")
clips = {
    "cry (Donateacry, hungry)": df[df.label == "hungry"].path.iloc[0],
    "laughter": next(it.path for it in det if it.category == "laugh"),
    "noise": next(it.path for it in det if it.category == "noise"),
}
waves = {name: load_audio(p, sr=params.sr, duration=params.duration) for name, p in clips.items()}
fig, axes = plt.subplots(2, len(waves), figsize=(4.2 * len(waves), 5.5))
for j, (name, w) in enumerate(waves.items()):
    t = np.arange(len(w)) / params.sr
    axes[0, j].plot(t, w, lw=0.4)
    axes[0, j].set_title(name)
    axes[0, j].set_xlabel("s")
    spec = stft_logmag(w, params)
    axes[1, j].imshow(spec, origin="lower", aspect="auto", cmap="magma",
                      extent=[0, len(w) / params.sr, 0, params.sr / 2])
    axes[1, j].set_xlabel("s")
    axes[1, j].set_ylabel("Hz")
plt.tight_layout()'''),
    ("md", """\
## MFCC and STFT images

The two inputs of the audio branches, after the paper's preprocessing (standard-scale, then
min-max to [0, 1]) on a fixed 7 s window: `features_from_waveform`."""),
    ("code", '''\
feats = {name: features_from_waveform(w, params) for name, w in waves.items()}
fig, axes = plt.subplots(2, len(feats), figsize=(4.2 * len(feats), 5.5))
for j, (name, f) in enumerate(feats.items()):
    for i, kind in enumerate(("mfcc", "stft")):
        im = axes[i, j].imshow(f[kind], origin="lower", aspect="auto", cmap="viridis")
        axes[i, j].set_title(f"{name}: {kind.upper()} {f[kind].shape}")
        fig.colorbar(im, ax=axes[i, j])
plt.tight_layout()
{name: {k: v.shape for k, v in f.items()} for name, f in feats.items()}'''),
    ("md", """\
**Take-aways.** The corpus is dominated by one class (*hungry*), so accuracy alone flatters any
model: report balanced accuracy and macro-F1 beside the majority baseline. Clips cluster by app
install, and a random split puts most test clips next to a clip of the same install in training:
only grouped splits measure generalisation to new babies."""),
]


def build(name: str, cells: list[tuple[str, str]]):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, src in cells:
        nb.cells.append(nbformat.v4.new_markdown_cell(src) if kind == "md"
                        else nbformat.v4.new_code_cell(src))
    for i, c in enumerate(nb.cells):
        c["id"] = f"{name[:2]}-{i:02d}"  # stable ids: no churn in git
    return nb


def main(argv=None) -> int:
    names = list(argv if argv is not None else sys.argv[1:]) or list(NOTEBOOKS)
    NB_DIR.mkdir(exist_ok=True)
    for name in names:
        nb = build(name, NOTEBOOKS[name])
        nbformat.validate(nb)
        (NB_DIR / f"{name}.ipynb").write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        print(NB_DIR / f"{name}.ipynb")
    return 0


if __name__ == "__main__":
    sys.exit(main())
