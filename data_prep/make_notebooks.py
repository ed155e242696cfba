"""Write the notebooks in ``notebooks/`` from the cell sources below (without outputs).

The ``.ipynb`` files are committed *executed*, so they show their figures where they are read
(a code host renders the stored outputs). After editing a notebook here, write it and run it
once with its defaults::

    python data_prep/make_notebooks.py 04_cry_detection
    python data_prep/execute_notebooks.py notebooks/04_cry_detection.ipynb

``tests/test_notebooks.py`` checks that the stored sources are the ones below and that the
stored outputs are complete and small. Every notebook reads its size parameters from
environment variables, so the test also runs them on small data (in memory, never writing the
files).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
NB_DIR = REPO / "notebooks"
#: The kernel every stored notebook names.
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

SETUP = '''\
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# librosa imports pooch, which imports tqdm.auto: without ipywidgets that warns "IProgress not
# found". No bar here is a widget (cryvideo's progress bars are plain text).
warnings.filterwarnings("ignore", message="IProgress not found")
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
ax.set_xlabel("seconds")
plt.tight_layout()'''),
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
min-max to [0, 1]) on a fixed 7 s window: `features_from_waveform`. The MFCC images are drawn
without c0 (the loudness), which would otherwise set the colour scale."""),
    ("code", '''\
feats = {name: features_from_waveform(w, params) for name, w in waves.items()}
fig, axes = plt.subplots(2, len(feats), figsize=(4.2 * len(feats), 5.5))
for j, (name, f) in enumerate(feats.items()):
    for i, kind in enumerate(("mfcc", "stft")):
        img = f[kind][1:] if kind == "mfcc" else f[kind]
        im = axes[i, j].imshow(img, origin="lower", aspect="auto", cmap="viridis",
                               extent=[0, params.duration, 1 if kind == "mfcc" else 0,
                                       len(f[kind])])
        axes[i, j].set_title(f"{name}: {kind.upper()} {f[kind].shape}", fontsize=10)
        axes[i, j].set_ylabel("coefficient" if kind == "mfcc" else "frequency bin")
        fig.colorbar(im, ax=axes[i, j])
    axes[1, j].set_xlabel("s")
plt.tight_layout()
{name: {k: v.shape for k, v in f.items()} for name, f in feats.items()}'''),
    ("md", """\
**Take-aways.** The corpus is dominated by one class (*hungry*), so accuracy alone flatters any
model: report balanced accuracy and macro-F1 beside the majority baseline. Clips cluster by app
install, and a random split puts most test clips next to a clip of the same install in training:
only grouped splits measure generalisation to new babies."""),
]


NOTEBOOKS["02_feature_credibility"] = [
    ("md", """\
# 02 · Do MFCC and STFT features tell *why* a baby cries?

The video paper's Table 2 reports 46–86 % accuracy for classic classifiers on MFCC and STFT
features of Donateacry, with a stratified **random** 70/30 split. On this corpus a random split
puts clips of one app install (one family, one phone) on both sides: it is *leaky*. This notebook
runs the package's benchmark (`cryvideo.studies.donateacry`, the code behind
`cryvideo benchmark donateacry`) under both protocols on the same features, models and seeds:

* **leaky** — the paper's stratified random 70/30 split, repeated over seeds;
* **grouped** — `StratifiedGroupKFold` by app-install UUID (no install on both sides).

The test predictions of all repeats are pooled; accuracy is reported beside **balanced
accuracy** and **macro-F1**, each with a 95 % group-bootstrap interval over app installs, with
the majority-class and stratified-random baselines evaluated on the same splits, and a
max-statistic permutation test over all grouped model/feature pairs (whole installs' labels
exchanged). Only the fast scikit-learn models are run here (the CLI adds the DNN).

**Quick by default.** `FULL = False` (the first code cell) runs every clip, class set, model and
feature, with 5 seeds of the random split and one repeat of the grouped 5-fold: about a minute
with the features cached, two to three on a first run that computes them (2 cores). The
permutation test refits everything on permuted labels hundreds of times (about half an hour), so
the quick run leaves it out and shows the one stored with the full benchmark
(`benchmarks/results/donateacry/donateacry_results.json`). `FULL = True` runs it all here:
3 repeats of the grouped 5-fold and 199 permutations. A progress bar shows each stage.

Parameters (environment variables, over either setting): `CRYVIDEO_NB_N` — number of clips
(default: all 457; a subset keeps at least 10 clips of every class), `CRYVIDEO_NB_REPEATS` —
repeats of both protocols, `CRYVIDEO_NB_PERMUTATIONS` — permutations (199 is the fewest that can
give p < 0.01; 0 shows the stored test)."""),
    ("code", SETUP + '''
import io
import tempfile

import json

from cryvideo.audio import FeatureParams
from cryvideo.data import load_donateacry
from cryvideo.progress import StageProgress
from cryvideo.studies.donateacry import (
    BASELINES,
    CLASS_SETS,
    BenchmarkConfig,
    load_dataset,
    run_benchmark,
)
from cryvideo.studies.donateacry_report import summary_csv

FULL = False  # True: the full run (3 grouped repeats, 199 permutations: about half an hour)
size = ({"paper_repeats": 5, "grouped_repeats": 3, "n_permutations": 199} if FULL else
        {"paper_repeats": 5, "grouped_repeats": 1, "n_permutations": 0})
if os.environ.get("CRYVIDEO_NB_REPEATS"):
    size["paper_repeats"] = size["grouped_repeats"] = int(os.environ["CRYVIDEO_NB_REPEATS"])
if os.environ.get("CRYVIDEO_NB_PERMUTATIONS"):
    size["n_permutations"] = int(os.environ["CRYVIDEO_NB_PERMUTATIONS"])
N = int(os.environ.get("CRYVIDEO_NB_N", "0")) or None
MODELS = ("SVM", "Naive Bayes", "Random Forest", "Decision Tree", "k-NN")  # scikit-learn only
DATA = SHARED / "data" / "donateacry"
STORED = Path.cwd().resolve().parent / "benchmarks" / "results" / "donateacry"
print(f"{'full' if FULL else 'quick'} run: {N or 'all'} clips, {size}")'''),
    ("md", """\
## The clips

With `CRYVIDEO_NB_N` set, a class-stratified subset is drawn (at least 10 clips of every class,
all of them when a class has fewer, the majority class *hungry* fills the rest) and linked into
a temporary folder that `load_dataset` reads like the corpus. Features are cached by file
content, so the links share the cache of the full corpus."""),
    ("code", '''\
df = pd.DataFrame([vars(it) for it in load_donateacry(DATA)])
root = DATA
if N is not None and N < len(df):
    counts = df.label.value_counts()
    quota = {c: min(n, max(10, round(N * n / len(df)))) for c, n in counts.items()}
    quota[counts.idxmax()] = max(0, N - sum(q for c, q in quota.items() if c != counts.idxmax()))
    df = pd.concat([g.sample(n=min(quota[c], len(g)), random_state=0)
                    for c, g in df.groupby("label")])
    subset_dir = tempfile.TemporaryDirectory(prefix="donateacry-subset-")
    root = Path(subset_dir.name)
    for path, label in zip(df.path, df.label):
        (root / label).mkdir(exist_ok=True)
        (root / label / Path(path).name).symlink_to(path)
data = load_dataset(root, params=FeatureParams(), features=("mfcc", "stft"),
                    progress=StageProgress(unit="clip", disable=False, leave=True))
print(f"{len(data)} clips from {len(set(data.groups))} app installs; features in "
      f"{data.seconds:.1f} s (cache hits {data.cache_stats['hits']}, "
      f"misses {data.cache_stats['misses']})")
pd.DataFrame({"clips": pd.Series(data.labels).value_counts(),
              "installs": pd.DataFrame({"l": data.labels, "g": data.groups})
              .groupby("l").g.nunique()}).rename_axis("class")'''),
    ("md", """\
## The benchmark

Three class sets: `paper4` — the paper's four classes read as belly pain, burping, discomfort,
tired (*hungry* left out) — `paper4h`, the other reading (13 random *hungry* clips instead of
burping; see `docs/benchmarks.md`), and `all5`, the five folders of the cleaned corpus. Every
model is fitted on the training clips of each split with fixed hyper-parameters (nothing is
tuned on test folds). The bar counts the fits (and, in the full run, each permutation test)."""),
    ("code", '''\
config = BenchmarkConfig(class_sets=dict(CLASS_SETS), models=MODELS, **size)
bar = StageProgress(disable=False, leave=True)
result = run_benchmark(data, config, progress=bar)
bar.close()
summary = pd.read_csv(io.StringIO(summary_csv(result)))
summary["name"] = [m if f == "-" else f"{m} ({f.upper()})"
                   for m, f in zip(summary.model, summary.feature)]
print(f"{len(result.records)} fits and predictions in {result.timing['benchmark_wall_s']:.0f} s")
summary.pivot_table(index="name", columns=["class_set", "protocol"],
                    values="balanced_accuracy", sort=False)'''),
    ("md", """\
## Leaky vs grouped

Pooled over repeats, with the 95 % group-bootstrap interval over app installs. Hatched bars are
the baselines; the dotted line is chance balanced accuracy (1 / number of classes). The paper's
own accuracies (4 classes, random split) are the black ticks."""),
    ("code", '''\
metrics = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy",
           "macro_f1": "macro-F1"}
colors = {"paper": "tab:orange", "grouped": "tab:blue"}
labels = {"paper": "leaky (random 70/30)", "grouped": "grouped by install"}
fig, axes = plt.subplots(len(config.class_sets), len(metrics), sharey=True,
                         figsize=(15, 4.2 * len(config.class_sets)), squeeze=False)
for i, cs in enumerate(config.class_sets):
    sub = summary[summary.class_set == cs]
    names = list(dict.fromkeys(sub.name))
    x = np.arange(len(names))
    for j, (m, title) in enumerate(metrics.items()):
        ax = axes[i, j]
        for k, proto in enumerate(config.protocols):
            rows = sub[sub.protocol == proto].set_index("name").reindex(names)
            err = np.vstack([rows[m] - rows[f"{m}_low"], rows[f"{m}_high"] - rows[m]])
            bars = ax.bar(x + (k - 0.5) * 0.4, rows[m], 0.4, yerr=err, capsize=2,
                          color=colors[proto])
            for b, model in zip(bars, rows.model):
                if model in BASELINES:
                    b.set_hatch("//")
                    b.set_alpha(0.6)
        if m == "accuracy" and cs == "paper4":
            paper = sub[sub.protocol == "paper"].set_index("name").reindex(names)
            ax.scatter(x, paper.paper_accuracy_pct / 100, marker="_", s=200, color="k",
                       zorder=3)
        if m == "balanced_accuracy":
            ax.axhline(1 / len(config.class_sets[cs]), color="k", ls=":", lw=1)
        ax.set_xticks(x, names, rotation=60, ha="right", fontsize=8)
        ax.set_title(f"{cs}: {title}")
        ax.set_ylim(0, 1)
handles = [plt.Rectangle((0, 0), 1, 1, color=colors[p], label=labels[p])
           for p in config.protocols]
handles += [plt.Rectangle((0, 0), 1, 1, fc="w", ec="k", hatch="//", label="baseline"),
            plt.Line2D([], [], color="k", ls=":", label="chance (balanced accuracy)"),
            plt.Line2D([], [], color="k", marker="_", ms=14, ls="", label="paper (Table 2)")]
fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=9)
plt.tight_layout(rect=(0, 0, 1, 0.96))'''),
    ("md", """\
## Confusion matrices

The model that looks best under the leaky split (highest balanced accuracy), and the same
model under the grouped protocol. Rows are the true class, normalised; the numbers are counts
summed over repeats."""),
    ("code", '''\
rows = {(s["class_set"], s["protocol"], s["model"], s["feature"]): s for s in result.summaries}
fig, axes = plt.subplots(len(config.class_sets), 2, figsize=(9, 4.4 * len(config.class_sets)),
                         squeeze=False)
for i, cs in enumerate(config.class_sets):
    leaky = [s for s in result.summaries if s["class_set"] == cs and s["protocol"] == "paper"
             and s["model"] not in BASELINES]
    best = max(leaky, key=lambda s: s["balanced_accuracy"]["estimate"])
    for j, proto in enumerate(("paper", "grouped")):
        s = rows[(cs, proto, best["model"], best["feature"])]
        cm = np.asarray(s["confusion"], dtype=float)
        norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        ax = axes[i, j]
        ax.imshow(norm, vmin=0, vmax=1, cmap="Blues")
        for a in range(cm.shape[0]):
            for b in range(cm.shape[1]):
                ax.text(b, a, int(cm[a, b]), ha="center", va="center", fontsize=8,
                        color="white" if norm[a, b] > 0.5 else "black")
        ticks = [c.replace("_", " ") for c in s["labels"]]
        ax.set_xticks(range(len(ticks)), ticks, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(ticks)), ticks, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_title(f"{cs}, {labels[proto]}\\n{best['model']} ({best['feature'].upper()}), "
                     f"bal. acc. {s['balanced_accuracy']['estimate']:.0%}", fontsize=9)
    axes[i, 0].set_ylabel("true")
plt.tight_layout()'''),
    ("md", """\
## Leakage and the permutation test

How many test clips have their app install in the training set, and whether the best grouped
model/feature pair scores better than the *best* of all pairs refitted on permuted labels
(whole installs' label blocks exchanged between installs of equal size, splits recomputed):
the family-wise p-value of the max-statistic test. The quick run (no permutations) shows the
test of the stored full benchmark instead: all 457 clips, the same pairs plus the DNN's."""),
    ("code", '''\
# share of test clips whose install is also in training
pd.DataFrame(result.leakage).T[["mean", "min", "max"]]'''),
    ("code", '''\
perm, perm_source = result.permutation, "this run"
if not perm:  # the quick run: the stored full benchmark's test
    stored = json.loads((STORED / "donateacry_results.json").read_text())
    perm = {k: v for k, v in stored["permutation"].items() if k.split("/")[0] in CLASS_SETS}
    perm_source = ("the stored full benchmark (donateacry_results.json: "
                   f"{stored['data']['n_clips']} clips, models "
                   f"{', '.join(stored['config']['models'])})")
print(f"permutation test: {perm_source}")
fig, axes = plt.subplots(1, max(1, len(perm)), figsize=(5.5 * max(1, len(perm)), 3),
                         squeeze=False)
for ax, (key, pm) in zip(axes[0], perm.items()):
    ax.hist(pm["permutation_max"], bins=20, color="tab:gray", label="best pair, permuted labels")
    ax.axvline(pm["score"], color="tab:blue", lw=2, label="best pair, true labels")
    ax.axvline(1 / len(result.class_sets[key.split("/")[0]]["classes"]), color="k", ls=":",
               label="chance")
    ax.set_title(f"{key}: {pm['model']} ({pm['feature'].upper()}), family-wise "
                 f"p = {pm['pvalue']:.3f} ({pm['n_permutations']} permutations)", fontsize=9)
    ax.set_xlabel("balanced accuracy")
    ax.legend(fontsize=8)
plt.tight_layout()'''),
    ("code", '''\
verdict = []
for cs, classes in config.class_sets.items():
    for proto in config.protocols:
        sub = summary[(summary.class_set == cs) & (summary.protocol == proto)]
        models = sub[~sub.model.isin(BASELINES)]
        best = models.loc[models.balanced_accuracy.idxmax()]
        majority = sub[sub.model == BASELINES[0]].iloc[0]
        verdict.append({
            "class set": cs, "protocol": labels[proto],
            "best model": best["name"], "bal. acc.": best.balanced_accuracy,
            "bal. acc. interval": f"[{best.balanced_accuracy_low:.2f}, "
                                  f"{best.balanced_accuracy_high:.2f}]",
            "chance": 1 / len(classes), "macro-F1": best.macro_f1,
            "majority acc.": majority.accuracy,
            "family-wise p": perm.get(f"{cs}/{proto}", {}).get("pvalue", np.nan)})
print(f"family-wise p: the permutation test of {perm_source}")
pd.DataFrame(verdict)'''),
    ("md", """\
**Take-aways.**

* **Grouped by app install, no model is significantly above chance.** Balanced accuracy and
  macro-F1 of every model sit within a few points of 1 / number of classes, their intervals
  cover chance or come close to it, and the max-statistic permutation test does not tell the
  best pair from the best of the same pairs refitted on permuted labels. With a few dozen
  installs per rare class the test has little power: this is absence of evidence, and on this
  corpus MFCC and STFT summaries do not *demonstrably* carry the reason for crying to a family
  the model has not heard.
* **The paper's numbers are not reproduced, not even with its leaky split.** The random 70/30
  split gains a little from clips of the same install on both sides (compare the leaky and
  grouped confusion matrices of one model), but its `paper4` accuracies stay far below
  Table 2's 46–86 %. On `all5`, accuracy is mostly the *hungry* majority: no model beats always
  answering *hungry* (about 84 %), which is why balanced accuracy and macro-F1 are the numbers
  to read.
* The quick run (`FULL = False`) has one repeat of the grouped 5-fold and takes its
  permutation test from the stored full benchmark; with `CRYVIDEO_NB_N` set it is also a subset
  run: the intervals are wider and the numbers noisier. The conclusions above are for the full
  corpus (`cryvideo benchmark donateacry`, with the DNN, writes the complete table to
  `benchmarks/results/donateacry/`)."""),
]


NOTEBOOKS["03_video_pipeline"] = [
    ("md", """\
# 03 · One clip through the pipeline, step by step

`cryvideo predict` in slow motion, on the bundled demo clip or any clip you choose:

1. **demux** — ffmpeg probes the file, decodes the audio to mono float32 and streams RGB frames;
2. **audio features** — the paper's preprocessing, then MFCC and STFT images;
3. **face crops** — a face detector on every analysed frame, square crops;
4. **is the baby crying?** — the cry verdict: the shipped cry detector listens, and the infant's
   face may veto each crying segment it finds (`cryvideo detect`, and the first step of
   `predict`);
5. **why?** — the reason branches on the crying only, and their **fusion** into one answer.

Steps 1–3 call the building blocks directly; steps 4–5 run the real detector and `Predictor`
and look at what they kept. Outputs of untrained models are labelled as such: they are not
results.

The demo clip (8 s) is made for this: 0–3 s a cry with no face in view, 3–5 s silence, 5–8 s a
cry under a smiling face.

Parameters (environment variables): `CRYVIDEO_NB_CLIP` (default `examples/demo.mp4`),
`CRYVIDEO_NB_FPS` (analysis frame rate, default 10). The models' weights (YAMNet, the face
finder, the expression model) come from `$CRYVIDEO_WEIGHTS_DIR`, else `../shared/weights`."""),
    ("code", """\
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# librosa imports pooch, which imports tqdm.auto: without ipywidgets that warns "IProgress not
# found". No bar here is a widget (cryvideo's progress bars are plain text).
warnings.filterwarnings("ignore", message="IProgress not found")
plt.rcParams["figure.dpi"] = 72  # photos and spectrograms: small PNGs
pd.set_option("display.precision", 3)
pd.set_option("display.max_colwidth", 120)
REPO = Path.cwd().resolve().parent
SHARED = Path(os.environ.get("CRYVIDEO_SHARED") or REPO.parent / "shared")
if (SHARED / "weights").is_dir():
    os.environ.setdefault("CRYVIDEO_WEIGHTS_DIR", str(SHARED / "weights"))
CLIP = Path(os.environ.get("CRYVIDEO_NB_CLIP") or REPO / "examples" / "demo.mp4")
FPS = float(os.environ.get("CRYVIDEO_NB_FPS", "10"))

from cryvideo.audio import FeatureParams
from cryvideo.audio.features import features_from_waveform
from cryvideo.detection import load_detector
from cryvideo.detection.audiovisual import with_face
from cryvideo.detection.face_plot import draw_expressions, shade_verdicts
from cryvideo.media import iter_frames, load_audio, probe
from cryvideo.pipeline import Predictor
from cryvideo.vision import crop_face, detect_face"""),
    ("md", "## 1 · Demux\n\n`probe` reads the container header (no `ffprobe` needed)."),
    ("code", """\
info = probe(CLIP)
pd.Series(info.to_dict()).drop("path").rename(CLIP.name)"""),
    ("code", """\
params = FeatureParams()
y = load_audio(CLIP, sr=params.sr, info=info)
frames = list(iter_frames(CLIP, fps=FPS, max_side=320, info=info))
print(f"audio: {y.shape[0]} samples at {params.sr} Hz ({y.shape[0] / params.sr:.2f} s); "
      f"frames: {len(frames)} at {FPS:g} fps, {frames[0].image.shape}")
fig = plt.figure(figsize=(10, 4))
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
           "MFCC and log-magnitude STFT — the inputs of the two audio branches. The MFCC image "
           "is drawn without c0 (the loudness), which would otherwise set the colour scale."),
    ("code", """\
feats = features_from_waveform(y, params)
fig, axes = plt.subplots(1, 2, figsize=(10, 2.8))
for ax, kind in zip(axes, ("mfcc", "stft")):
    img = feats[kind][1:] if kind == "mfcc" else feats[kind]
    im = ax.imshow(img, origin="lower", aspect="auto", cmap="viridis",
                   extent=[0, params.duration, 1 if kind == "mfcc" else 0, len(feats[kind])])
    ax.set_title(f"{kind.upper()} {feats[kind].shape}" + (", c1 up" if kind == "mfcc" else ""))
    ax.set_xlabel("s")
    ax.set_ylabel("coefficient" if kind == "mfcc" else "frequency bin")
    fig.colorbar(im, ax=ax)
plt.tight_layout()"""),
    ("md", "## 3 · Face crops\n\nThe largest face per frame (or none: frames without a face "
           "are recorded, never guessed), cropped square with a margin."),
    ("code", """\
boxes = [detect_face(fr.image) for fr in frames]
found = [i for i, b in enumerate(boxes) if b is not None]
print(f"face found in {len(found)} of {len(frames)} frames ({len(found) / len(frames):.0%})")
show = found[:: max(1, len(found) // 8)][:8]
fig, axes = plt.subplots(1, max(1, len(show)), figsize=(1.5 * max(1, len(show)), 1.8),
                         squeeze=False)
for ax, i in zip(axes[0], show):
    ax.imshow(crop_face(frames[i].image, boxes[i]))
    ax.set_title(f"{frames[i].time:.1f} s")
    ax.axis("off")
plt.tight_layout()"""),
    ("md", """\
## 4 · Is the baby crying? The cry verdict: the sound, then the face

What `cryvideo detect` answers, and what `predict` asks first. The shipped cry detector (YAMNet
with a trained cry head, `load_detector("yamnet-cry")`) scores overlapping windows of the sound;
windows at or above its threshold merge into crying segments. Then the **audio-visual verdict**
(`with_face`) looks at the infant's face over each segment: a face finder (YuNet, else OpenCV's
Haar cascade) and an expression model read the child's face, and a segment is **vetoed** only
when the face is visibly happy through it. With no face, too few face frames, or a face that is
not clearly happy, the sound decides alone.

The expression model was trained on adults' faces (FER-2013): for an infant it is a zero-shot
cue, not a measured classifier, so the rule is conservative and its constants are fixed in
`saved_models/face_verdict.json` (see `docs/face_fusion.md`)."""),
    ("code", """\
audio_detector = load_detector("yamnet-cry")
detector, notes = with_face(audio_detector, "auto")
det = detector.detect(CLIP)
for n in notes:
    print("note:", n)
face = det.face or {}
print(f"crying: {'yes' if det.crying else 'no'} (highest window score {det.probability:.2f}, "
      f"threshold {det.threshold:.2f}); segments kept: "
      + (", ".join(f"{a:.1f}–{b:.1f} s" for a, b in det.segments) or "none"))
print("face:", f"{face.get('face_finder')} faces; {face.get('note')}" if face.get("used")
      else f"not used ({face.get('why', 'not asked')})")
pd.DataFrame([{"segment": f"{v.start:.1f}–{v.end:.1f} s", "decided by": v.decided_by,
               "decision": v.decision, "face frames": f"{v.frames_with_face} of {v.frames}",
               "reason": v.reason} for v in det.face_verdicts])"""),
    ("md", """\
The timeline: the crying score of each window (at the window's centre) with the threshold, each
audio segment shaded by its decision, and below, on the same time axis, what the face showed
over each segment — the child's smoothed P(happy) and P(distress) (angry + disgust + fear +
sad) at the sampled frames, with a few face thumbnails."""),
    ("code", """\
win = getattr(audio_detector, "window_seconds", None) or audio_detector.window
fig, (ax, axf) = plt.subplots(2, 1, figsize=(12, 5.2), sharex=True,
                              height_ratios=[1.2, 1])
outside = {"loc": "upper left", "bbox_to_anchor": (1.01, 1), "fontsize": 8}
ax.plot(det.window_times + win / 2, det.window_probs, color="0.25", lw=1,
        label="crying score (window centre)")
ax.axhline(det.threshold, color="tab:red", ls="--", lw=0.8,
           label=f"threshold {det.threshold:.2f}")
if det.face_verdicts:
    shade_verdicts(ax, det.face_verdicts)
else:
    for a, b in det.segments:
        ax.axvspan(a, b, color="#f4a", alpha=0.35, lw=0)
ax.set_ylim(0, 1)
ax.set_ylabel("crying score")
ax.legend(**outside)
ax.set_title(f"{CLIP.name}: the sound finds crying, the face may veto it", fontsize=10)
draw_expressions(axf, det.face_spans, det.face_verdicts, xlim=(0, det.duration))
axf.set_ylim(-0.05, 1.25)  # a probability of 0 or 1 stays off the frame and the labels
axf.set_yticks([0, 0.5, 1])
if axf.get_legend() is not None:
    axf.legend(**outside)
axf.set_xlabel("time (s)")
plt.tight_layout()"""),
    ("md", """\
## 5 · Why? The reason branches and their fusion

The real pipeline, as `cryvideo predict --fps FPS` runs it: the same cry verdict first, then the
reason branches read **only the crying segments it kept**, and their answers are fused. Besides
the answer, the result keeps its intermediate arrays (`keep_artifacts=True`)."""),
    ("code", """\
res = Predictor(fps=FPS, keep_artifacts=True).predict(CLIP)
print(f"{res.label}  trained={res.trained}  fusion: {res.fusion}")
for n in res.notes:
    print("note:", n)
pd.DataFrame([{"branch": b.name, "used": b.used, "trained": b.trained, "label": b.label,
               "source": (b.source or "").replace(f"{REPO}{os.sep}", ""),
               **(b.probabilities or {})} for b in res.branches])"""),
    ("md", """\
**The face in the reason.** The face branch of the *reason* needs a trained face head
(`face_head.keras` in the models folder, made by `cryvideo train` on labelled videos). None is
bundled: there is no labelled infant-face data to train one on, so the face branch reports only
the share of frames with a face, and the reason comes from the audio branches. The face takes
part through the cry verdict of step 4 instead, zero-shot. With a trained head in the models
folder, the cell below draws its per-frame probabilities and their rolling average."""),
    ("code", """\
face_branch = next(b for b in res.branches if b.name == "face")
print(f"face branch: used={face_branch.used}"
      + (f" ({face_branch.note})" if face_branch.note else "")
      + "; " + ", ".join(f"{k} {face_branch.details[k]}"
                         for k in ("frames", "frames_with_face", "face_share")
                         if k in face_branch.details))
art = res.artifacts or {}
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
    plt.tight_layout()"""),
    ("code", """\
probs = pd.DataFrame({b.name: b.probabilities for b in res.branches if b.used})
if probs.empty:
    print("no branch ran: no crying was found, so no reason is asked")
else:
    probs["fused"] = pd.Series(res.probabilities)
    ax = probs.plot.bar(figsize=(9, 3), rot=0,
                        title="what each branch said, and the fused answer (read with "
                              "the trust note above)")
    ax.set_ylabel("probability")
    plt.tight_layout()
pd.Series(res.timings, name="seconds")"""),
]


NOTEBOOKS["04_cry_detection"] = [
    ("md", """\
# 04 · Is the baby crying? The cry detector on a long recording

Before the pipeline asks *why* a baby cries it asks *whether* it cries: `cryvideo detect` and
the first step of `cryvideo predict`. This notebook builds a long recording with known truth by
chaining clips of the cry-detection set (cry, laugh, noise, silence; ~5 s each, cries in
episodes of one to three clips) and runs on it

* the shipped detector, **YAMNet + a trained cry head + YAMNet's laughter/babbling gate**
  (`load_detector("yamnet-cry")`: the int8-weight TFLite file, and its float32 twin), 0.96 s
  patches every 0.48 s, a window = the mean of 3 patches;
* **YAMNet zero-shot** (`load_detector("yamnet-zeroshot")`: the AudioSet classes *Baby cry,
  infant cry* and *Crying, sobbing*, no training);
* the previous default, a small log-mel **CNN10** (`load_detector("cnn10")`), 2 s windows
  every 0.5 s.

Then what the grouped cross-validation of `cryvideo benchmark detection` says about the same
detectors on recordings they never heard, and the size of the shipped files.

The clips of the recording come from the set the trained detectors learnt from (see their
cards), so their timelines here are an illustration of the output, **not** a held-out score;
the honest numbers are the grouped cross-validation ones (last sections).

Parameters (environment variables): `CRYVIDEO_NB_MINUTES` — length of the recording in minutes
(default 5), `CRYVIDEO_NB_SEED` — which clips and in what order (default 0)."""),
    ("code", SETUP + '''
import json
import time

from IPython.display import Markdown

os.environ.setdefault("CRYVIDEO_WEIGHTS_DIR", str(SHARED / "weights"))  # yamnet/yamnet.tflite

from cryvideo.data import load_cry_detection
from cryvideo.detection import load_detector
from cryvideo.evaluation import interval_text
from cryvideo.media import load_audio
from cryvideo.models.cards import read_card
from cryvideo.models.store import default_models_dir

MINUTES = float(os.environ.get("CRYVIDEO_NB_MINUTES", "5"))
SEED = int(os.environ.get("CRYVIDEO_NB_SEED", "0"))
SR = 16000  # both detectors work on 16 kHz mono
REPO = Path.cwd().resolve().parent
MODELS_DIR = default_models_dir()
#: How the results file's methods are named in the paired differences.
COMPARED = {"yamnet_zeroshot": "YAMNet zero-shot",
            "yamnet_zeroshot_bestf1": "YAMNet zero-shot at its best-F1 threshold",
            "cnn10": "CNN10 (previous default)", "head": "YAMNet + head, no gate",
            "gated_tflite_float32": "its float32 TFLite file",
            "gated_tflite_int8": "its int8-weight TFLite file (shipped)",
            "gated_tflite_int8_full": "its fully integer TFLite file"}'''),
    ("md", """\
## A long recording with known truth

Runs of one to three cry clips alternate with runs of one to three other clips (laugh, noise or
silence), until the recording is `CRYVIDEO_NB_MINUTES` long; each clip is used at most once
(while the set lasts). Consecutive cry clips form one true crying span."""),
    ("code", '''\
clips = pd.DataFrame([vars(it) for it in load_cry_detection(SHARED / "data" / "cry_detection")])
rng = np.random.default_rng(SEED)
pools = {c: list(rng.permutation(g.path.to_numpy())) for c, g in clips.groupby("category")}
others = [c for c in pools if c != "cry"]


def draw(category):
    if not pools[category]:  # the set is used up: draw again from all its clips
        pools[category] = list(rng.permutation(clips.path[clips.category == category]))
    return pools[category].pop()


parts, rows, t, crying = [], [], 0.0, bool(rng.integers(2))
while t < MINUTES * 60:
    for _ in range(int(rng.integers(1, 4))):
        category = "cry" if crying else str(rng.choice(others))
        y = load_audio(draw(category), sr=SR)
        rows.append({"start": t, "end": t + len(y) / SR, "category": category})
        parts.append(y)
        t += len(y) / SR
    crying = not crying
audio = np.concatenate(parts)
truth = pd.DataFrame(rows)
# true crying spans: consecutive cry clips merged
cry_spans = []
for r in truth[truth.category == "cry"].itertuples():
    if cry_spans and abs(cry_spans[-1][1] - r.start) < 1e-6:
        cry_spans[-1][1] = r.end
    else:
        cry_spans.append([r.start, r.end])
print(f"{len(audio) / SR / 60:.1f} min, {len(truth)} clips, {len(cry_spans)} crying episodes "
      f"({truth[truth.category == 'cry'].pipe(lambda d: (d.end - d.start).sum()):.0f} s of "
      "crying)")
truth.assign(seconds=truth.end - truth.start).groupby("category").seconds.agg(["size", "sum"])'''),
    ("md", """\
## Run the detectors

Each `detect` call gets the whole waveform: the front end, every window scored, windows at
or above the threshold merged into segments."""),
    ("code", '''\
detectors = {
    "YAMNet + cry head (shipped, int8 TFLite)": load_detector("yamnet-cry"),
    "YAMNet + cry head, float32 TFLite": load_detector(
        "yamnet-cry", model=MODELS_DIR / "cry_detector_yamnet.tflite"),
    "YAMNet zero-shot": load_detector("yamnet-zeroshot"),
    "CNN10 (previous default)": load_detector("cnn10"),
}
results, timing = {}, []
for name, det in detectors.items():
    t0 = time.perf_counter()
    res = results[name] = det.detect(audio, sr=SR)
    secs = time.perf_counter() - t0
    timing.append({"detector": name, "threshold": res.threshold,
                   "windows": len(res.window_probs), "segments": len(res.segments),
                   "seconds": secs, "x real time": res.duration / secs})
pd.DataFrame(timing).set_index("detector")'''),
    ("md", """\
## Timeline

Window probability of crying (at the window's centre) against time, the decision threshold, the
detected segments (bars on top) and the true crying spans (shaded). The strip at the bottom
shows what each clip is."""),
    ("code", '''\
cat_colors = {"cry": "tab:red", "laugh": "tab:green", "noise": "tab:gray",
              "silence": "white"}
fig, axes = plt.subplots(len(results), 1, figsize=(13, 2.3 * len(results)), sharex=True)
for ax, (name, res) in zip(np.atleast_1d(axes), results.items()):
    det = detectors[name]
    win = getattr(det, "window_seconds", None) or getattr(det, "WINDOW", None) or det.window
    for a, b in cry_spans:
        ax.axvspan(a, b, color="tab:red", alpha=0.15, lw=0)
    ax.plot(res.window_times + win / 2, res.window_probs, lw=0.8, color="tab:blue",
            label="window probability (at its centre)")
    ax.axhline(res.threshold, color="k", ls="--", lw=0.8, label="its threshold")
    ax.broken_barh([(a, b - a) for a, b in res.segments], (1.04, 0.08), color="tab:purple",
                   label="detected")
    ax.broken_barh([(r.start, r.end - r.start) for r in truth.itertuples()], (-0.16, 0.08),
                   facecolors=[cat_colors[c] for c in truth.category], edgecolor="0.6", lw=0.3)
    ax.set_ylim(-0.2, 1.15)
    ax.set_ylabel("P(cry)")
    ax.set_title(f"{name}: threshold {res.threshold:g}", fontsize=10)
ax.set_xlabel("seconds")
ax.set_xlim(0, len(audio) / SR)
handles, names = np.atleast_1d(axes)[0].get_legend_handles_labels()
handles.append(plt.Rectangle((0, 0), 1, 1, color="tab:red", alpha=0.15))
names.append("true crying")
for c, colour in cat_colors.items():  # the strip at the bottom of each panel
    handles.append(plt.Rectangle((0, 0), 1, 1, fc=colour, ec="0.6", lw=0.5))
    names.append(f"clip: {c}")
fig.legend(handles, names, fontsize=8, ncol=4, loc="upper center")
plt.tight_layout(rect=(0, 0, 1, 0.95))'''),
    ("md", """\
## How well do the segments match?

On a 0.1 s grid: precision, recall and F1 of "crying" time, and the share of each kind of
sound that was flagged as crying (cry should be near 1, the others near 0)."""),
    ("code", '''\
grid = np.arange(0, len(audio) / SR, 0.1) + 0.05


def mask(spans):
    m = np.zeros(grid.shape, bool)
    for a, b in spans:
        m |= (grid >= a) & (grid < b)
    return m


true = mask(cry_spans)
kind = np.empty(grid.shape, object)
for r in truth.itertuples():
    kind[(grid >= r.start) & (grid < r.end)] = r.category
scores, flagged = [], {}
for name, res in results.items():
    det = mask(res.segments)
    tp = float(np.sum(det & true))
    p, r = tp / max(det.sum(), 1), tp / max(true.sum(), 1)
    scores.append({"detector": name, "precision": p, "recall": r,
                   "F1": 2 * p * r / max(p + r, 1e-9),
                   "episodes hit": sum(bool(np.any(det & mask([s]))) for s in cry_spans),
                   "false alarms": sum(not np.any(true & mask([s])) for s in res.segments)})
    flagged[name] = {c: float(det[kind == c].mean()) for c in cat_colors if np.any(kind == c)}
ax = (100 * pd.DataFrame(flagged)).plot.bar(figsize=(8, 3), rot=0,
                                            title="share of each sound flagged as crying")
ax.set_ylim(0, 100)
ax.set_ylabel("% of its time")
ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
pd.DataFrame(scores).set_index("detector")'''),
    ("md", """\
## On recordings they never heard: the grouped cross-validation

`cryvideo benchmark detection` (stored in `benchmarks/results/detection.json`): 5-fold CV
grouped by recording, three seeds, every figure **per recording** (a recording's clips share
one unit of weight) with a 95 % group-bootstrap interval over recordings. Recipe, epochs and
threshold were chosen inside the training folds. First F1, then the share of each negative
category's clips called crying, then the paired differences of F1."""),
    ("code", '''\
cv = json.loads((REPO / "benchmarks" / "results" / "detection.json").read_text())
names = {"yamnet_zeroshot": "YAMNet zero-shot", "cnn10": "CNN10 (previous default)",
         "head": "YAMNet + head, no gate", cv["ship"]: "YAMNet + head + gate (shipped)"}
ms = {names[m]: cv["methods"][m] for m in names if m in cv["methods"]}
f1 = pd.DataFrame({n: d["pooled"]["f1"] for n, d in ms.items()}).T
fig, ax = plt.subplots(figsize=(9, 2.4))
est, low, high = (100 * f1[k].astype(float) for k in ("estimate", "low", "high"))
ax.barh(f1.index, est, xerr=[est - low, high - est], capsize=3, color="tab:blue")
for i, n in enumerate(f1.index):
    ax.text(2, i, interval_text(ms[n]["pooled"]["f1"], unit="recording"), va="center",
            color="white", fontsize=9)
ax.set_xlim(0, 100)
ax.invert_yaxis()
ax.set_xlabel("F1 per recording (%)")
ax.set_title(f"F1 on held-out recordings ({int(f1.n_groups.iloc[0])} recordings; "
             "95 % group-bootstrap interval)", fontsize=10)
plt.tight_layout()'''),
    ("code", '''\
groups = {c: int(v["groups"]) for d in ms.values()
          for c, v in d["false_positive_by_category"].items()}
fp = pd.DataFrame({n: {f"{c.replace('_', ' ')} ({groups[c]} rec.)": 100 * v["estimate"]
                       for c, v in d["false_positive_by_category"].items()}
                   for n, d in ms.items()})
ax = fp.plot.barh(figsize=(9, 9), width=0.8)
ax.invert_yaxis()
ax.axvline(5, color="k", ls="--", lw=0.8, label="5 %")
ax.set_xlim(0, None)
ax.set_xlabel("clips called crying (% per recording)")
ax.set_title("false positives per negative category (number of recordings in brackets)",
             fontsize=10)
ax.legend(fontsize=8, loc="lower right")
plt.tight_layout()'''),
    ("code", '''\
pd.DataFrame([{"shipped recipe minus": COMPARED.get(m, m),
               "F1 difference (points)": interval_text(d["f1_difference"], signed=True)}
              for m, d in cv["comparison"].items()]).set_index("shipped recipe minus")'''),
    ("md", """\
## The shipped files

The cards beside `saved_models/cry_detector_yamnet*.tflite`: threshold, quantization, size and
the cross-validation figures they carry."""),
    ("code", '''\
cards = {p.stem: read_card(p) for p in sorted(MODELS_DIR.glob("cry_detector_yamnet*.json"))}
pd.DataFrame({name: {"file": c.file, "threshold": c.extra.get("threshold"),
                     "quantization": c.training.get("quantization"),
                     "MB": round((MODELS_DIR / c.file).stat().st_size / 1e6, 2),
                     "CV F1 (%)": interval_text(c.metrics["f1"], unit="recording")}
              for name, c in cards.items()}).T'''),
    ("md", """\
## Take-aways

Written by the two cells below: the first from this run, the second from
`benchmarks/results/detection.json` (nothing in them is typed by hand, and
`tests/test_notebooks.py` checks the stored text against the results file)."""),
    ("code", '''\
shipped = next(n for n in results if "shipped" in n)
f32 = next(n for n in results if "float32" in n)
gap = float(np.max(np.abs(results[shipped].window_probs - results[f32].window_probs)))
same = results[shipped].segments == results[f32].segments
hit = next(s["episodes hit"] for s in scores if s["detector"] == shipped)
Markdown(
    f"* On this chained recording the shipped detector hits {hit} of the {len(cry_spans)} "
    f"crying episodes; its int8 file's scores differ from the float32 file's by at most "
    f"{gap:.3f}, and {'the segments are the same' if same else 'the segments differ'}. The "
    "recording is built from the detectors' training clips, so read these curves as a picture "
    "of the output, not as a score.")'''),
    ("code", '''\
# Every figure below comes from the results file, with its interval.
import json
from pathlib import Path

from IPython.display import Markdown

from cryvideo.evaluation import interval_text

cv = json.loads((Path.cwd().resolve().parent / "benchmarks" / "results"
                 / "detection.json").read_text())
ship, ms, comp = cv["ship"], cv["methods"], cv["comparison"]


def pct(node):
    return interval_text(node, unit="recording") + " %"


def diff(other):
    iv = comp[other]["f1_difference"]
    where = ("above zero" if iv["low"] > 0 else "below zero" if iv["high"] < 0
             else "covering zero")
    return f"{interval_text(iv, signed=True)} points (interval {where})"


def fpr(m):
    return ms[m]["pooled"]["false_positive_rate"]


def laugh(m):
    return ms[m]["false_positive_by_category"]["infant_laughter"]


f1 = ms[ship]["pooled"]["f1"]
fewer = "fewer" if fpr(ship)["estimate"] < fpr("cnn10")["estimate"] else "more"
weak = sorted(((c, v) for c, v in ms[ship]["false_positive_by_category"].items()
               if v["estimate"] > 0.05 and int(v["groups"]) > 1),
              key=lambda cv_: -cv_[1]["estimate"])
Markdown("\\n".join([
    f"* **Held out**, the shipped recipe (YAMNet + cry head + gate) scores F1 {pct(f1)} per "
    f"recording ({f1['n_groups']} recordings, {len(cv['seeds'])} seeds).",
    f"* Its F1 minus YAMNet's own cry classes': {diff('yamnet_zeroshot')}; minus the CNN10's "
    f"(the previous default): {diff('cnn10')}, with {fewer} false alarms: it calls "
    f"{pct(fpr(ship))} of negative clips crying, the CNN10 {pct(fpr('cnn10'))}.",
    f"* The gate (YAMNet's own laughter and babbling classes) "
    f"{'cuts' if laugh(ship)['estimate'] < laugh('head')['estimate'] else 'does not cut'} "
    f"the infant laughter called crying: {pct(laugh('head'))} with the head alone, "
    f"{pct(laugh(ship))} with the gate; F1 with the "
    f"gate minus without: {diff('head')}. Infant laughter comes from "
    f"{laugh(ship)['groups']} recordings in all, so these figures rest on very few.",
    "* Where it still errs (over 5 % of a category's clips called crying, categories of more "
    "than one recording): " + "; ".join(
        f"{c.replace('_', ' ')} {pct(v)} ({v['groups']} recordings)" for c, v in weak)
    + ("." if weak else "none."),
    f"* The shipped file holds int8 weights: the recipe's F1 minus that file's is "
    f"{diff(ship + '_tflite_int8')}; minus the fully integer file's (not shipped): "
    f"{diff(ship + '_tflite_int8_full')}.",
]))''', {"tags": ["from-results"]}),
]


def build(name: str, cells: list[tuple]):
    """The notebook ``name`` from its cells: ``(kind, source)`` or ``(kind, source,
    metadata)``, kind ``"md"`` or ``"code"`` (no outputs)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for kind, src, *meta in cells:
        cell = (nbformat.v4.new_markdown_cell(src) if kind == "md"
                else nbformat.v4.new_code_cell(src))
        if meta:
            cell.metadata.update(meta[0])
        nb.cells.append(cell)
    for i, c in enumerate(nb.cells):
        c["id"] = f"{name[:2]}-{i:02d}"  # stable ids: no churn in git
    return nb


def same_cells(a, b) -> bool:
    """Whether two notebooks have the same cells (kind, source, id and tags; outputs aside)."""
    def cells(nb):
        return [(c.cell_type, c.source, c.get("id"), c.metadata.get("tags")) for c in nb.cells]

    return cells(a) == cells(b)


def main(argv=None) -> int:
    """Write the named notebooks (default: all) whose cells changed; a notebook whose cells are
    unchanged keeps its stored outputs."""
    names = list(argv if argv is not None else sys.argv[1:]) or list(NOTEBOOKS)
    NB_DIR.mkdir(exist_ok=True)
    for name in names:
        nb = build(name, NOTEBOOKS[name])
        nbformat.validate(nb)
        path = NB_DIR / f"{name}.ipynb"
        if path.exists() and same_cells(nbformat.read(path, as_version=4), nb):
            print(f"{path}: unchanged")
            continue
        path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        print(f"{path}: written without outputs (run data_prep/execute_notebooks.py on it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
