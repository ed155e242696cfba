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


NOTEBOOKS["03_video_pipeline"] = [
    ("md", """\
# 03 · One clip through the pipeline, step by step

`cryvideo predict` in slow motion, on the bundled demo clip (a synthetic cry and a moving face)
or any clip you choose:

1. **demux** — ffmpeg probes the file, decodes the audio to mono float32 and streams RGB frames;
2. **audio features** — the paper's preprocessing, then MFCC and STFT images;
3. **face crops** — a face detector on every analysed frame, square crops for the backbone;
4. **per-frame predictions** and their **rolling average** (the paper's deque);
5. **fusion** of the branches into one answer.

Steps 1–3 call the building blocks directly; steps 4–5 run the real `Predictor` and look at what
it kept. Outputs of untrained models are labelled as such: they are not results.

Parameters (environment variables): `CRYVIDEO_NB_CLIP` (default `examples/demo.mp4`),
`CRYVIDEO_NB_FPS` (analysis frame rate, default 10)."""),
    ("code", """\
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
plt.rcParams["figure.dpi"] = 80
REPO = Path.cwd().resolve().parent
CLIP = Path(os.environ.get("CRYVIDEO_NB_CLIP") or REPO / "examples" / "demo.mp4")
FPS = float(os.environ.get("CRYVIDEO_NB_FPS", "10"))

from cryvideo.audio import FeatureParams
from cryvideo.audio.features import features_from_waveform
from cryvideo.media import iter_frames, load_audio, probe
from cryvideo.pipeline import Predictor
from cryvideo.vision import crop_face, detect_face"""),
    ("md", "## 1 · Demux\n\n`probe` reads the container header (no `ffprobe` needed)."),
    ("code", """\
info = probe(CLIP)
pd.Series(info.to_dict())"""),
    ("code", """\
params = FeatureParams()
y = load_audio(CLIP, sr=params.sr, info=info)
frames = list(iter_frames(CLIP, fps=FPS, max_side=320, info=info))
print(f"audio: {y.shape[0]} samples at {params.sr} Hz ({y.shape[0] / params.sr:.2f} s); "
      f"frames: {len(frames)} at {FPS:g} fps, {frames[0].image.shape}")
fig = plt.figure(figsize=(12, 4.8))
ax = fig.add_subplot(2, 1, 1)
ax.plot(np.arange(len(y)) / params.sr, y, lw=0.4)
ax.set_xlabel("s")
ax.set_title("audio track")
picks = np.linspace(0, len(frames) - 1, 6).astype(int)
for k, i in enumerate(picks):
    a = fig.add_subplot(2, 6, 7 + k)
    a.imshow(frames[i].image)
    a.set_title(f"t = {frames[i].time:.1f} s")
    a.axis("off")
plt.tight_layout()"""),
    ("md", "## 2 · Audio features\n\nStandard-scale, min-max to [0, 1], fixed 7 s window, then "
           "MFCC and log-magnitude STFT — the inputs of the two audio branches."),
    ("code", """\
feats = features_from_waveform(y, params)
fig, axes = plt.subplots(1, 2, figsize=(12, 3.2))
for ax, kind in zip(axes, ("mfcc", "stft")):
    im = ax.imshow(feats[kind], origin="lower", aspect="auto", cmap="viridis")
    ax.set_title(f"{kind.upper()} {feats[kind].shape}")
    fig.colorbar(im, ax=ax)
plt.tight_layout()"""),
    ("md", "## 3 · Face crops\n\nThe largest face per frame (or none: frames without a face "
           "are recorded, never guessed), cropped square with a margin."),
    ("code", """\
boxes = [detect_face(fr.image) for fr in frames]
found = [i for i, b in enumerate(boxes) if b is not None]
print(f"face found in {len(found)} of {len(frames)} frames ({len(found) / len(frames):.0%})")
show = found[:: max(1, len(found) // 8)][:8]
fig, axes = plt.subplots(1, max(1, len(show)), figsize=(2 * max(1, len(show)), 2.4),
                         squeeze=False)
for ax, i in zip(axes[0], show):
    ax.imshow(crop_face(frames[i].image, boxes[i]))
    ax.set_title(f"{frames[i].time:.1f} s")
    ax.axis("off")
plt.tight_layout()"""),
    ("md", """\
## 4 · Per-frame predictions and the rolling average; 5 · fusion

The real pipeline, as `cryvideo predict --fps FPS` runs it. Besides the answer, the result keeps
its intermediate arrays (`artifacts`): per-frame face-branch probabilities and their rolling
average."""),
    ("code", """\
res = Predictor(fps=FPS).predict(CLIP)
print(f"{res.label}  trained={res.trained}  fusion: {res.fusion}")
for n in res.notes:
    print("note:", n)
pd.DataFrame([{"branch": b.name, "used": b.used, "trained": b.trained, "label": b.label,
               "source": b.source, **(b.probabilities or {})} for b in res.branches])"""),
    ("code", """\
art = getattr(res, "artifacts", {}) or {}
if "face_probs" in art:
    per_frame, smoothed, labels = art["face_probs"]
    faces = art.get("faces")
    t = (faces.times[faces.has_face] if faces is not None
         else np.arange(len(per_frame)) / FPS)[: len(per_frame)]
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.2), sharey=True)
    for j, lab in enumerate(labels):
        axes[0].plot(t, per_frame[:, j], lw=0.8, label=lab)
        axes[1].plot(t, smoothed[:, j], lw=1.2, label=lab)
    axes[0].set_title("face branch: per-frame probabilities")
    axes[1].set_title("rolling average (deque of past frames)")
    for ax in axes:
        ax.set_xlabel("s")
    axes[1].legend(fontsize=8)
    plt.tight_layout()
else:
    print("this version of the pipeline keeps no per-frame face predictions")"""),
    ("code", """\
probs = pd.DataFrame({b.name: b.probabilities for b in res.branches if b.used})
probs["fused"] = pd.Series(res.probabilities)
ax = probs.plot.bar(figsize=(9, 3), title="what each branch said, and the fused answer")
ax.set_ylabel("probability")
plt.tight_layout()
res.timings"""),
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
