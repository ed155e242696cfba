"""A self-contained HTML page for one prediction, read at a glance.

From the top: the answer and how far to trust it (one box); one picture on one time axis (the
cry score with its threshold and segments, the face channel of the cry verdict, the waveform,
the spectrogram and the MFCCs); a table of the crying segments; the reason's probabilities and
what each branch said; the face branch, when a trained one ran; notes and timings.

Every plot is pooled to the width of the page (:mod:`cryvideo.audio.overview`), so a long
recording costs no more to draw than a short one. Images are PNGs embedded as base64 ``data:``
URLs: the page needs no other file and no network.
"""

from __future__ import annotations

import base64
import html
import io
import os

import numpy as np

__all__ = ["render_html", "write_html_report", "timeline_figure", "MAX_THUMBS",
           "TIMELINE_THUMBS", "MAX_POINTS", "LONG_SECONDS"]

#: Face crops shown in the face branch's strip (evenly spread over the video).
MAX_THUMBS = 16
#: Face crops drawn along the time axis (evenly spread over the crying segments').
TIMELINE_THUMBS = 12
#: Most points of a curve drawn (a longer one is pooled, keeping each bin's highest value).
MAX_POINTS = 2000
#: From this length (seconds) times are written h:mm:ss and segments are not labelled one by
#: one on the plot.
LONG_SECONDS = 600.0
#: Figure width (inches) and resolution: 10.5 in at 100 dpi fills the page's 1050 pixels.
FIG_WIDTH, DPI = 10.5, 100

e = html.escape


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _clock(seconds: float, *, long: bool) -> str:
    """A moment of the recording: ``12.3 s``, or ``0:12:03`` in a long one."""
    from ..media.probe import format_clock

    return format_clock(seconds, tenths=False) if long else f"{seconds:.1f} s"


def _span(a: float, b: float, *, long: bool) -> str:
    if not long:
        return f"{a:.1f}–{b:.1f} s"
    return f"{_clock(a, long=True)}–{_clock(b, long=True)}"


def _peak_pool(t: np.ndarray, y: np.ndarray, n: int = MAX_POINTS):
    """At most ``n`` points of a curve: each bin's first time and highest value (a short
    burst over the threshold still shows)."""
    t, y = np.asarray(t, dtype=float), np.asarray(y, dtype=float)
    if t.size <= n:
        return t, y
    edges = np.linspace(0, t.size, n + 1).astype(int)[:-1]
    return t[edges], np.maximum.reduceat(y, edges)


def _time_axis(ax, duration: float) -> None:
    """Seconds for a short recording; moments as ``h:mm:ss`` for a long one (as ``detect``)."""
    from ..detection.summary import clock_axis

    if duration >= LONG_SECONDS:
        clock_axis(ax, duration)
        ax.set_xlabel("time (h:mm:ss)")
    else:
        ax.set_xlim(0, max(duration, 1e-9))
        ax.set_xlabel("time (s)")


def _legend(ax) -> None:
    """The panel's legend outside it, on the right (the curves stay visible)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=7, frameon=False,
                  borderaxespad=0)


def timeline_figure(res):
    """The at-a-glance figure: panels on one time axis (the cry score with its threshold and
    segments; the face channel of the cry verdict; the waveform; the spectrogram; MFCCs 1 to
    39, each scaled on its own), each present when the result has it.

    Returns
    -------
    fig : matplotlib.figure.Figure or None
        None when there is nothing to draw (no audio, no cry score).
    caption : list of str
        One HTML phrase per panel, saying what it shows.
    """
    from matplotlib.figure import Figure  # no pyplot: leaves the caller's backend alone

    from ..detection.face_plot import draw_expressions, shade_verdicts

    cry = res.crying
    det = cry.result if cry is not None else None
    ov = (res.artifacts or {}).get("overview")
    with_score = det is not None and len(det.window_times) > 0
    with_face = det is not None and bool(det.face_verdicts)
    duration = float(res.media.get("duration") or 0.0)
    for d in (det.duration if det is not None else None, ov.duration if ov else None):
        duration = max(duration, float(d or 0.0))
    panels = ([("score", 1.5)] if with_score else []) + ([("face", 1.7)] if with_face else []) \
        + ([("wave", 0.9), ("stft", 1.5), ("mfcc", 1.1)] if ov is not None else [])
    if not panels:
        return None, []
    long = duration >= LONG_SECONDS
    fig = Figure(figsize=(FIG_WIDTH, sum(h for _, h in panels) + 0.6), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": [h for _, h in panels]})[:, 0]
    ax_of = {name: ax for (name, _), ax in zip(panels, axes, strict=True)}
    caption = []
    if with_score:
        ax = ax_of["score"]
        t, p = _peak_pool(det.window_centres, det.window_probs)
        ax.plot(t, p, color="#333", lw=0.9, label="cry score")
        ax.axhline(det.threshold, color="#c33", lw=0.8, ls="--",
                   label=f"threshold {det.threshold:.2f}")
        if with_face:
            shade_verdicts(ax, det.face_verdicts)
        else:
            for i, (a, b) in enumerate(det.segments):
                ax.axvspan(a, b, color="#f4a", alpha=0.35, lw=0,
                           label="crying" if i == 0 else None)
        if res.label is None and res.probabilities and not cry.vetoed:
            for i, (a, b) in enumerate(_read_spans(res)):
                ax.axvspan(a, b, facecolor="none", edgecolor="#777", hatch="///", lw=0,
                           label="read for the would-be reason" if i == 0 else None)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("cry score")
        _legend(ax)
        centred = det.window_seconds is not None
        caption.append(f"<b>cry score</b>: the detector's score of each "
                       f"{'window (at its centre)' if centred else 'window (at its start)'}"
                       f"{', highest per pixel' if len(det.window_times) > MAX_POINTS else ''};"
                       " crying where it reaches the dashed threshold (shaded)")
    if with_face:
        ax = ax_of["face"]
        draw_expressions(ax, det.face_spans, det.face_verdicts, xlim=(0, duration),
                         max_thumbnails=TIMELINE_THUMBS, max_labels=None if not long else 0)
        ax.set_ylim(-0.03, 1.2)            # the curves below the segments' decisions
        ax.set_yticks([0, 0.5, 1])
        _legend(ax)
        caption.append("<b>face</b>: the child's expression over each crying segment of the "
                       "sound (P(happy), P(distress)) with face crops; green: the face vetoed "
                       "the sound")
    if ov is not None:
        t = ov.times + ov.column_seconds / 2
        ax = ax_of["wave"]
        ax.fill_between(t, ov.lo, ov.hi, color="#1f5f8b", lw=0.3, step="mid")
        top = float(max(np.abs(ov.lo).max(), np.abs(ov.hi).max(), 1e-6))
        ax.set_ylim(-1.05 * top, 1.05 * top)
        ax.set_ylabel("waveform")
        ax.set_yticks([])
        ax = ax_of["stft"]
        ext = (0.0, ov.duration, 0.0, ov.sr / 2000)
        im = ax.imshow(ov.stft_db, origin="lower", aspect="auto", extent=ext, cmap="magma",
                       interpolation="nearest")
        ax.set_ylabel("kHz")
        fig.colorbar(im, ax=ax, pad=0.005, aspect=12, label="dB")
        ax = ax_of["mfcc"]
        m = ov.mfcc()[1:]                       # c0 is the loudness: it would set the scale
        m = (m - m.mean(axis=1, keepdims=True)) / (m.std(axis=1, keepdims=True) + 1e-6)
        im = ax.imshow(m, origin="lower", aspect="auto", interpolation="nearest",
                       extent=(0.0, ov.duration, 0.5, m.shape[0] + 0.5), cmap="coolwarm",
                       vmin=-2.5, vmax=2.5)
        ax.set_ylabel("MFCC")
        fig.colorbar(im, ax=ax, pad=0.005, aspect=8, label="z")
        pooled = (f"; each pixel column pools {ov.column_seconds:.2f} s"
                  if ov.column_seconds > 2 * ov.params.hop_length / ov.sr else "")
        caption.append("<b>waveform</b>: lowest and highest sample")
        caption.append(f"<b>spectrogram</b> (kHz, dB) and <b>MFCC 1–{m.shape[0]}</b> "
                       f"(each coefficient scaled to its own mean and spread; coefficient 0, "
                       f"the loudness, left out): what the reason branches read, at "
                       f"{ov.sr // 1000} kHz{pooled}")
    _time_axis(axes[-1], duration)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    return fig, caption


def _segment_table(res) -> str:
    """One row per segment the sound heard as crying: its times, length, peak score and (when
    the face took part) the face's decision and why. Long lists scroll."""
    det = res.crying.result
    duration = float(det.duration)
    long = duration >= LONG_SECONDS
    verdicts = {(round(v.start, 2), round(v.end, 2)): v for v in det.face_verdicts}
    spans = ([(v.start, v.end) for v in det.face_verdicts] if det.face_verdicts
             else list(det.segments))
    if not spans:
        return "<p>No segment reached the threshold.</p>"
    rows = []
    for i, (a, b) in enumerate(spans, 1):
        peak = det.peak(a, b)
        v = verdicts.get((round(a, 2), round(b, 2)))
        face = ""
        if det.face_verdicts:
            if v is None:
                face = "<td></td><td></td><td></td>"
            else:
                mean = v.mean_expression or {}
                top = ", ".join(f"{k} {p:.2f}"
                                for k, p in sorted(mean.items(), key=lambda kv: -kv[1])[:2])
                kept = "crying" if v.decision == "audio" else "vetoed"
                face = (f"<td class={v.decision}><b>{kept}</b> ({e(v.decided_by)})</td>"
                        f"<td>{v.frames_with_face} of {v.frames}{', ' + e(top) if top else ''}"
                        f"</td><td class=why>{e(v.reason)}</td>")
        rows.append(f"<tr><td>{i}</td><td>{_span(a, b, long=long)}</td><td>{b - a:.1f} s</td>"
                    f"<td>{'' if peak is None else f'{peak:.2f}'}</td>{face}</tr>")
    head = ("<tr><th>#</th><th>when</th><th>length</th><th>peak score</th>"
            + ("<th>decision</th><th>frames with the face, its expression</th><th>why</th>"
               if det.face_verdicts else "") + "</tr>")
    from ..media.probe import format_duration

    kept = sum(b - a for a, b in det.segments)
    summary = (f"<p>{len(spans)} segment{'s' * (len(spans) != 1)} heard as crying"
               + (f", {len(det.segments)} kept after the face's vetoes"
                  if det.face_verdicts else "")
               + f": {format_duration(kept)} of crying in {format_duration(duration)}.</p>")
    return (summary + f"<div class=scroll><table class=segs>{head}{''.join(rows)}</table></div>")


def _trust_html(res) -> str:
    t = res.trust or {}
    level = t.get("level")
    held = t.get("held_out") or {}
    figs = ", ".join(f"{k} {v['balanced_accuracy']:.2f}" for k, v in held.items())
    detail = (f" (balanced accuracy {figs} against chance {t['chance']:.2f}, grouped "
              "cross-validation)" if figs else "")
    if level == "untrained":
        return ("<p class='trust warn'>UNTRAINED MODELS: these probabilities are not a "
                "result.</p>")
    if level in (None, "none"):
        return ""
    what = "the reason" if res.label is not None else "what the reason branches would answer"
    words = {"chance": "a weak hint: no better than chance on held-out recordings, never a "
                       "diagnosis"}.get(level, t.get("statement") or "")
    return f"<p class='trust {e(level.replace(' ', '-'))}'>How far to trust {what}: " \
           f"<b>{e(words)}</b>{detail}.</p>"


def _headline(res) -> str:
    """The title block: the file, the answer and how far to trust it, in one box."""
    from ..media.probe import format_duration

    cry = res.crying
    name = e(os.path.basename(res.path))
    if cry is None:
        crying = "<b>not asked</b> (no cry detector)"
    else:
        crying = f"<b>{'yes' if cry.detected else 'no'}</b>" + (
            ", the face vetoed the sound" if cry.vetoed else "") + \
            f" (score {cry.probability:.2f}, threshold {cry.threshold:.2f})"
    if res.label is not None:
        reason = (f"Reason: <b>{e(res.label)}</b> (probability "
                  f"{res.probabilities[res.label]:.2f})")
    else:
        reason = "No reason given"
    media = res.media or {}
    bits = [format_duration(float(media["duration"]))] if media.get("duration") else []
    if media.get("has_video"):
        bits.append(f"video {media.get('width')}×{media.get('height')}")
    bits.append("audio" if media.get("has_audio") else "no audio")
    if cry is not None:
        bits.append(f"cry detector {e(cry.detector)}")
    return (f"<header><h1>{name}</h1>"
            f"<p class=answer>Crying: {crying} · {reason}</p>{_trust_html(res)}"
            f"<p class=src>File: {e(res.path)}<br>{' · '.join(bits)}</p></header>")


def _read_spans(res) -> list:
    """The spans the reason branches read (``[]``: the whole track, or none ran)."""
    return next((b.details["segments_used"] for b in res.branches
                 if b.used and isinstance(b.details.get("segments_used"), list)), [])


def _reason_section(res) -> str:
    """The reason's probabilities (with no crying: what the branches would answer if it were
    a cry), the fusion and each branch."""
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
    if res.label is not None:
        title, intro = "The reason", ""
    else:
        read = _read_spans(res)
        where = (" from " + ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in read[:6])
                 + (" …" if len(read) > 6 else "")) if read else ""
        title = "What the reason branches would answer if it were a cry"
        intro = (f"<p>No reason is given: the detector heard no crying. The table shows what "
                 f"the reason branches would answer if it were a cry{where}.</p>")
    used = ", ".join(res.modalities) or "none"
    if res.label is None and res.modalities:
        used += " (for what they would answer)"
    return (f"<h2>{title}</h2>{intro}"
            + (f"<table>{rows}</table>" if rows else "")
            + f"<p>Fusion: {e(res.fusion)}<br>Branches used: {e(used)}</p>"
            "<table><tr><th>branch</th><th>output</th><th>faces</th><th>model</th></tr>"
            + "".join(branch_rows) + "</table>")


def _face_strip(faces) -> str | None:
    thumbs = faces.thumbs
    if len(thumbs) == 0:
        return None
    from matplotlib.figure import Figure  # no pyplot: leaves the caller's backend alone

    idx = np.unique(np.linspace(0, len(thumbs) - 1, min(MAX_THUMBS, len(thumbs))).astype(int))
    strip = np.concatenate([thumbs[i] for i in idx], axis=1)
    times = faces.times[faces.has_face][idx]
    fig = Figure(figsize=(min(FIG_WIDTH, 0.65 * len(idx) + 0.5), 1.1), layout="constrained")
    ax = fig.subplots()
    ax.imshow(strip)
    th = thumbs.shape[1]
    ax.set_xticks([th * (k + 0.5) for k in range(len(idx))],
                  [f"{t:.1f}s" for t in times], fontsize=7)
    ax.set_yticks([])
    return _png(fig)


def _face_timeline(faces, probs, duration: float) -> str:
    import matplotlib
    from matplotlib.figure import Figure  # no pyplot: leaves the caller's backend alone

    p_frames, smoothed, labels = probs
    t = faces.times[faces.has_face]
    fig = Figure(figsize=(FIG_WIDTH, 3.2), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    colours = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, lab in enumerate(labels):
        c = colours[k % len(colours)]
        tt, pf = _peak_pool(t, p_frames[:, k])
        axes[0].plot(tt, pf, ".-", lw=0.8, ms=3, color=c, label=lab)
        tt, ps = _peak_pool(t, smoothed[:, k])
        axes[1].plot(tt, ps, "-", lw=1.5, color=c, label=lab)
    no_face = faces.times[~faces.has_face]
    for ax, title in zip(axes, ("per-frame face predictions", "smoothed (rolling average)"),
                         strict=True):
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("probability")
        ax.set_title(title, fontsize=9, loc="left")
        if len(no_face):
            ax.plot(no_face, np.zeros(len(no_face)), "|", color="k", ms=8,
                    label="no face" if ax is axes[0] else None)
    _legend(axes[0])
    _time_axis(axes[1], duration)
    return _png(fig)


STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1060px; padding: 0 1em;
       color: #222; }
header { border: 2px solid #888; border-radius: 6px; padding: 0.6em 1em; margin-bottom: 1em; }
header h1 { font-size: 1.3em; margin: 0 0 0.3em 0; }
.answer { font-size: 1.25em; margin: 0.2em 0; }
.trust { margin: 0.3em 0; } .trust.chance b, .warn { color: #a40; }
.warn { font-weight: bold; color: #b00; }
h2 { font-size: 1.1em; margin-top: 1.4em; }
table { border-collapse: collapse; } td, th { padding: 2px 8px; text-align: left;
  vertical-align: top; }
table.segs tr:nth-child(even) { background: #f4f4f4; } table.segs td { white-space: nowrap; }
table.segs td.why { white-space: normal; }
td.veto { color: #372; } td.audio { color: #a15; } td.why { font-size: 0.85em; color: #555; }
.scroll { max-height: 22em; overflow-y: auto; border: 1px solid #ddd; display: inline-block; }
.bar { background: #1f5f8b; height: 10px; } .src { color: #777; font-size: 0.8em; }
.caption { font-size: 0.85em; color: #444; margin-top: 0.2em; }
img { max-width: 100%; }
"""


def render_html(res) -> str:
    """The report page for a :class:`~cryvideo.pipeline.result.PredictionResult`.

    ``res.artifacts`` (kept by ``Predictor(keep_artifacts=True)``) supplies the recording's
    overview (waveform, spectrogram, MFCCs), face thumbnails and per-frame predictions; whatever
    is missing is said so on the page.
    """
    art = res.artifacts or {}
    cry = res.crying
    duration = float((res.media or {}).get("duration") or 0.0)
    sections = []
    fig, caption = timeline_figure(res)
    if fig is not None:
        sections.append("<h2>At a glance</h2><img alt='the recording over time: cry score, face, "
                        f"waveform, spectrogram, MFCC' src='{_png(fig)}'><p class=caption>"
                        + "; ".join(caption) + ".</p>")
    if "overview" not in art:
        sections.append("<p>No audio track: nothing to draw of the sound.</p>"
                        if not (res.media or {}).get("has_audio") else "")
    if cry is not None:
        face = cry.result.face
        sections.append("<h2>Crying segments</h2>" + _segment_table(res))
        if face is not None and face.get("used"):
            sections.append(f"<p class=caption>{e(face['note'])}. Faces found by "
                            f"{e(face['face_finder'])}.</p>")
        elif face is not None:
            sections.append(f"<p class=caption>The face took no part in the cry verdict: "
                            f"{e(face['why'])}.</p>")
    sections.append(_reason_section(res))
    faces = art.get("faces")
    if faces is not None and faces.n_faces:
        sections.append("<h2>The face branch</h2><p>Face crops along the video:</p>"
                        f"<img alt='face crops' src='{_face_strip(faces)}'>")
        if "face_probs" in art:
            sections.append("<img alt='face predictions' "
                            f"src='{_face_timeline(faces, art['face_probs'], duration)}'>")
    notes = "".join(f"<li>{e(n)}</li>" for n in res.notes)
    timings = ", ".join(f"{e(k)} {v:.2f} s" for k, v in res.timings.items())
    title = f"{os.path.basename(res.path)}: {res.headline()}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>cryvideo: {e(title)}</title>
<style>{STYLE}</style></head><body>
{_headline(res)}
{"".join(sections)}
<h2>Notes</h2><ul>{notes}</ul>
<p class=src>Timings: {timings}</p>
</body></html>
"""


def write_html_report(res, path: str | os.PathLike) -> None:
    """Write :func:`render_html` to ``path`` atomically."""
    from ..io import write_text_atomic

    write_text_atomic(path, render_html(res))
