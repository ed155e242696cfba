"""A self-contained HTML page for one prediction: label, branches, waveform, MFCC and STFT
images, a strip of face crops, and the per-frame and smoothed face predictions over time.

Images are PNGs embedded as base64 ``data:`` URLs: the page needs no other file and no network.
"""

from __future__ import annotations

import base64
import html
import io
import os

import numpy as np

__all__ = ["render_html", "write_html_report", "MAX_THUMBS"]

#: Face crops shown in the strip (evenly spread over the video).
MAX_THUMBS = 16


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _audio_figures(y: np.ndarray, sr: int, *, segments=()) -> list[tuple[str, str]]:
    import librosa
    from matplotlib.figure import Figure  # no pyplot: leaves the caller's backend alone

    from ..audio.features import FeatureParams, features_from_waveform

    out = []
    t = np.arange(len(y)) / sr
    fig = Figure(figsize=(9, 2))
    ax = fig.subplots()
    step = max(1, len(y) // 20000)
    ax.plot(t[::step], y[::step], lw=0.5, color="#1f5f8b")
    for i, (a, b) in enumerate(segments):  # where the cry detector heard crying
        ax.axvspan(a, b, color="#e8a33d", alpha=0.25, lw=0, label="crying" if i == 0 else None)
    if len(segments):
        ax.legend(loc="upper right", fontsize=7)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    ax.set_xlim(0, t[-1] if len(t) else 1)
    out.append(("Waveform", _png(fig)))
    params = FeatureParams(sr=sr if sr in (8000, 16000) else 8000, duration=None)
    if params.sr != sr:
        y = librosa.resample(y, orig_sr=sr, target_sr=params.sr)
    feats = features_from_waveform(y, params)
    for kind, title, ylabel in (("mfcc", "MFCC", "coefficient"),
                                ("stft", "STFT (log magnitude, dB)", "frequency (Hz)")):
        f = feats[kind]
        fig = Figure(figsize=(9, 2.6))
        ax = fig.subplots()
        dur = len(y) / params.sr
        top = f.shape[0] if kind == "mfcc" else params.sr / 2
        im = ax.imshow(f, origin="lower", aspect="auto", extent=(0, dur, 0, top),
                       cmap="magma")
        ax.set_xlabel("time (s)")
        ax.set_ylabel(ylabel)
        fig.colorbar(im, ax=ax, pad=0.01)
        out.append((title, _png(fig)))
    return out


def _face_strip(faces) -> str | None:
    thumbs = faces.thumbs
    if len(thumbs) == 0:
        return None
    from matplotlib.figure import Figure  # no pyplot: leaves the caller's backend alone

    idx = np.unique(np.linspace(0, len(thumbs) - 1, min(MAX_THUMBS, len(thumbs))).astype(int))
    strip = np.concatenate([thumbs[i] for i in idx], axis=1)
    times = faces.times[faces.has_face][idx]
    fig = Figure(figsize=(min(16, 1.0 * len(idx) + 1), 1.4))
    ax = fig.subplots()
    ax.imshow(strip)
    th = thumbs.shape[1]
    ax.set_xticks([th * (k + 0.5) for k in range(len(idx))],
                  [f"{t:.1f}s" for t in times], fontsize=7)
    ax.set_yticks([])
    return _png(fig)


def _face_timeline(faces, probs) -> str:
    import matplotlib
    from matplotlib.figure import Figure  # no pyplot: leaves the caller's backend alone

    p_frames, smoothed, labels = probs
    t = faces.times[faces.has_face]
    fig = Figure(figsize=(9, 4))
    axes = fig.subplots(2, 1, sharex=True)
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, lab in enumerate(labels):
        c = colours[k % len(colours)]
        axes[0].plot(t, p_frames[:, k], ".-", lw=0.8, ms=3, color=c, label=lab)
        axes[1].plot(t, smoothed[:, k], "-", lw=1.5, color=c, label=lab)
    no_face = faces.times[~faces.has_face]
    for ax, title in zip(axes, ("per-frame face predictions", "smoothed (rolling average)"),
                         strict=True):
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("probability")
        ax.set_title(title, fontsize=9)
        if len(no_face):
            ax.plot(no_face, np.zeros(len(no_face)), "|", color="k", ms=8,
                    label="no face" if ax is axes[0] else None)
    axes[0].legend(fontsize=7, ncol=min(6, len(labels) + 1), loc="upper right")
    axes[1].set_xlabel("time (s)")
    return _png(fig)


def _verdict_timeline(det) -> str:
    """The cry verdict over the clip's time: the audio cry probability per window with each
    segment shaded by its decision, and (when the face took part) the child's expression over
    each segment with face thumbnails at their times."""
    from matplotlib.figure import Figure

    from ..detection.face_plot import draw_expressions, shade_verdicts

    with_face = bool(det.face_verdicts)
    fig = Figure(figsize=(10, 4.6 if with_face else 2.4), layout="constrained")
    axes = fig.subplots(2 if with_face else 1, 1, sharex=True, squeeze=False)[:, 0]
    ax = axes[0]
    ax.plot(det.window_times, det.window_probs, color="#444", lw=0.9,
            label="audio cry probability (at window starts)")
    ax.axhline(det.threshold, color="#c33", lw=0.8, ls="--",
               label=f"threshold {det.threshold:.2f}")
    if with_face:
        shade_verdicts(ax, det.face_verdicts)
    else:
        for i, (a, b) in enumerate(det.segments):
            ax.axvspan(a, b, color="#f4a", alpha=0.35, lw=0, label="crying" if i == 0 else None)
    ax.set_ylim(0, 1)
    ax.set_xlim(0, max(float(det.duration), 1e-9))
    ax.set_ylabel("cry probability")
    ax.legend(loc="upper right", fontsize=7)
    if with_face:
        draw_expressions(axes[1], det.face_spans, det.face_verdicts,
                         xlim=(0, max(float(det.duration), 1e-9)))
    axes[-1].set_xlabel("time (s)")
    return _png(fig)


def _verdict_rows(face: dict) -> str:
    """One table row per audio segment: its decision, evidence and reason."""
    e = html.escape
    rows = []
    for v in face.get("segments") or []:
        mean = v.get("mean_expression") or {}
        top = ", ".join(f"{k} {p:.2f}" for k, p in sorted(mean.items(), key=lambda kv: -kv[1])[:3])
        rows.append(f"<tr><td>{v['start']:.1f}–{v['end']:.1f} s</td><td><b>{e(v['decision'])}"
                    f"</b> ({e(v['decided_by'])})</td><td>{v['frames_with_face']} of "
                    f"{v['frames']}</td><td>{e(top)}</td><td>{e(v['reason'])}</td></tr>")
    return ("<table><tr><th>segment</th><th>decision</th><th>frames with the face</th>"
            "<th>mean expression</th><th>why</th></tr>" + "".join(rows) + "</table>")


def render_html(res) -> str:
    """The report page for a :class:`~cryvideo.pipeline.result.PredictionResult`.

    ``res.artifacts`` (kept by ``Predictor(keep_artifacts=True)``) supplies the waveform, face
    thumbnails and per-frame predictions; whatever is missing is said so on the page.
    """
    e = html.escape
    art = res.artifacts or {}
    rows = "".join(
        f"<tr><td>{e(k)}</td><td>{v:.3f}</td><td><div class=bar style='width:{300 * v:.0f}px'>"
        "</div></td></tr>" for k, v in sorted(res.probabilities.items(), key=lambda kv: -kv[1]))
    branch_rows = []
    for b in res.branches:
        if b.used:
            state = "trained" if b.trained else "UNTRAINED"
            probs = ", ".join(f"{k} {v:.2f}" for k, v in b.probabilities.items())
            what = f"{e(b.label)} ({state}) — {e(probs)}"
        else:
            what = f"not used: {e(b.note)}"
        share = ""
        if "face_share" in b.details:
            share = f"face in {100 * b.details['face_share']:.0f}% of {b.details['frames']} frames"
        branch_rows.append(f"<tr><td>{e(b.name)}</td><td>{what}</td><td>{e(share)}</td>"
                           f"<td class=src>{e(b.source)}</td></tr>")
    sections = []
    cry = res.crying
    if cry is not None and len(cry.result.window_times):
        face = cry.result.face
        sections.append("<h2>The cry verdict over time</h2>"
                        f"<img alt='cry verdict over time' src='{_verdict_timeline(cry.result)}'>")
        if face is not None and face.get("used"):
            sections.append(f"<p>{e(face['note'])}. Faces found by {e(face['face_finder'])}."
                            "</p>" + _verdict_rows(face))
        elif face is not None:
            sections.append(f"<p>The face took no part in the verdict: {e(face['why'])}.</p>")
    if "audio" in art:
        y, sr = art["audio"]
        segs = res.crying.segments if res.crying is not None else ()
        for title, src in _audio_figures(np.asarray(y, np.float32), sr, segments=segs):
            sections.append(f"<h2>{e(title)}</h2><img alt='{e(title)}' src='{src}'>")
    else:
        sections.append("<h2>Audio</h2><p>No audio track.</p>")
    faces = art.get("faces")
    if faces is not None and faces.n_faces:
        sections.append(f"<h2>Face crops</h2><img alt='face crops' src='{_face_strip(faces)}'>")
        if "face_probs" in art:
            src = _face_timeline(faces, art["face_probs"])
            sections.append("<h2>Face predictions over time</h2>"
                            f"<img alt='face predictions' src='{src}'>")
    else:
        face = next((b for b in res.branches if b.name == "face"), None)
        sections.append("<h2>Faces</h2><p>" + e(face.note if face else "no video") +
                        (f" (face in {100 * face.details['face_share']:.0f}% of frames)"
                         if face and "face_share" in face.details else "") + "</p>")
    notes = "".join(f"<li>{e(n)}</li>" for n in res.notes)
    timings = ", ".join(f"{e(k)} {v:.2f} s" for k, v in res.timings.items())
    warn = "" if res.trained else \
        "<p class=warn>UNTRAINED MODELS: these probabilities are not a result.</p>"
    headline = e(res.label) if res.label is not None else "no crying detected"
    cry_line = ""
    if cry is not None:
        segs = ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in cry.segments) or "none"
        cry_line = (f"<p>Crying: <b>{'yes' if cry.detected else 'no'}</b> "
                    f"(p={cry.probability:.2f}, threshold {cry.threshold:.2f}, "
                    f"{e(cry.detector)}; segments: {e(segs)})"
                    + ("" if cry.detected else
                       " — no reason given; the table shows what the branches would answer "
                       "if it were a cry") + "</p>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>cryvideo: {e(os.path.basename(res.path))}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1000px; color: #222; }}
h1 {{ font-size: 1.4em; }} h2 {{ font-size: 1.1em; margin-top: 1.5em; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 2px 8px; text-align: left; }}
.bar {{ background: #1f5f8b; height: 10px; }} .src {{ color: #777; font-size: 0.8em; }}
.warn {{ color: #b00; font-weight: bold; }} img {{ max-width: 100%; }}
</style></head><body>
<h1>{e(os.path.basename(res.path))}: {headline}</h1>
<p class=src>File: {e(res.path)}</p>
{warn}
{cry_line}
<table>{rows}</table>
<p>Fusion: {e(res.fusion)}<br>Branches used: {e(", ".join(res.modalities))}</p>
<h2>Branches</h2>
<table><tr><th>branch</th><th>output</th><th>faces</th><th>model</th></tr>
{"".join(branch_rows)}</table>
{"".join(sections)}
<h2>Notes</h2><ul>{notes}</ul>
<p class=src>Timings: {timings}</p>
</body></html>
"""


def write_html_report(res, path: str | os.PathLike) -> None:
    """Write :func:`render_html` to ``path`` atomically."""
    from ..io import write_text_atomic

    write_text_atomic(path, render_html(res))
