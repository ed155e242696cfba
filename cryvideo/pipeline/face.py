"""The face branch of ``predict``: frames → faces → backbone → head → rolling average, or,
without a trained head, only the share of frames with a face."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..media import Frame, iter_frames
from ..media.frames import FrameSpan
from ..models.store import FACE_HEAD_FILE
from ..progress import Progress
from .result import BranchResult, FileRun, probabilities
from .settings import PredictSettings

__all__ = ["FaceStage", "NO_FACE_MODEL"]

#: What the face branch says when no trained face head is available.
NO_FACE_MODEL = "no trained face model: face branch reports face share only"


class FaceStage:
    """Runs the face branch on one file's run, adding its :class:`BranchResult`, notes and
    timings.

    Parameters
    ----------
    face_model : cryvideo.models.face_head.FaceModel or None
        The trained face head; without one the stage reports the share of frames with a face.
    settings : PredictSettings
        ``fps``, ``max_side``, ``use_face`` and ``keep_artifacts`` are read from it.
    window : int
        Rolling-average window, frames (the settings' or the face head card's).
    models_dir : path
        Where the face head was looked for (named when there is none).
    progress : callable, optional
        ``progress("frames", done, total)``.
    """

    def __init__(self, face_model, settings: PredictSettings, *, window: int,
                 models_dir: str | os.PathLike, progress: Progress | None = None) -> None:
        self.face_model = face_model
        self.fps, self.max_side, self.window = settings.fps, settings.max_side, window
        self.use_face, self.keep_artifacts = settings.use_face, settings.keep_artifacts
        self.progress = progress
        self.models_dir = Path(models_dir)

    def _skipped(self, info) -> str | None:
        """Why the stage does not look at this file's frames (None when it does)."""
        why = ("no video stream" if not info.has_video else
               "face branch switched off" if not self.use_face else None)
        if why is None and info.duration and info.duration * self.fps < 0.5:
            # ffmpeg's fps filter samples round(duration × fps) frames: none here. Say so
            # rather than report "no video frames could be decoded" about a good file.
            why = (f"at {self.fps:g} fps no frame falls within this {info.duration:.1f} s video "
                   f"(needs fps >= {0.5 / info.duration:.2g})")
        return why

    def frame_span(self, info) -> FrameSpan | None:
        """What the stage decodes of a file (None: nothing), for a caller that decodes it
        together with other needs."""
        if self._skipped(info) is not None:
            return None
        return FrameSpan(fps=self.fps, max_side=self.max_side)

    def __call__(self, run: FileRun, frames: Iterable[Frame] | None = None) -> None:
        """Run the branch on ``run``'s file (``frames``: its frames as :meth:`frame_span`
        describes them, when the caller decodes them; default: decoded here)."""
        why = self._skipped(run.info)
        if why is not None:
            if why != "face branch switched off":
                run.notes.append(f"{why}: face branch skipped")
            run.results.append(BranchResult("face", used=False, note=why))
            return
        t0 = time.perf_counter()
        if self.face_model is None:
            self._face_share_only(run, frames)
        else:
            self._face_head(run, frames)
        run.timings["face"] = round(time.perf_counter() - t0, 3)

    def _face_head(self, run: FileRun, frames) -> None:
        from ..models.smoothing import smooth_predictions
        from ..vision.embeddings import embed_video

        fm = self.face_model
        vf = embed_video(run.path, fm.backbone, fps=self.fps, max_side=self.max_side,
                         info=run.info, cache=False, progress=self.progress, frames=frames)
        run.timings["face_detect"] = vf.timings.get("detect", 0.0)
        run.timings["face_backbone"] = vf.timings.get("backbone", 0.0)
        details = {"frames": vf.n_frames, "frames_with_face": vf.n_faces,
                   "face_share": round(vf.face_share, 4), "fps": self.fps,
                   "backbone": fm.backbone.name, "runtime": fm.backbone.runtime,
                   "window": self.window}
        if self.keep_artifacts:
            run.art["faces"] = vf
        if vf.n_faces == 0:
            run.notes.append("no face found in any frame: face branch skipped")
            run.results.append(BranchResult("face", used=False, note="no face found",
                                            source=fm.source, details=details))
            return
        t1 = time.perf_counter()
        p_frames = fm.frame_probabilities(vf.features)
        smoothed, p_video = smooth_predictions(p_frames, self.window)
        run.timings["face_head"] = round(time.perf_counter() - t1, 3)
        details["frame_times"] = [round(float(t), 3) for t in vf.times[vf.has_face]]
        details["smoothed_labels"] = np.asarray(fm.labels)[smoothed.argmax(axis=1)].tolist()
        if self.keep_artifacts:
            run.art["face_probs"] = (p_frames, smoothed, list(fm.labels))
        run.results.append(BranchResult("face", used=True, trained=fm.trained,
                                        probabilities=probabilities(fm.labels, p_video),
                                        source=fm.source, details=details))

    def _face_share_only(self, run: FileRun, frames) -> None:
        from ..vision import FaceTracker

        tracker = FaceTracker()
        n = n_face = 0
        total = int(run.info.duration * self.fps) + 1 if run.info.duration else None
        if frames is None:
            frames = iter_frames(run.path, fps=self.fps, max_side=self.max_side, info=run.info)
        for fr in frames:
            n += 1
            if tracker.update(fr.image) is not None:
                n_face += 1
            if self.progress:
                self.progress("frames", n, total)
        details = {"frames": n, "frames_with_face": n_face,
                   "face_share": round(n_face / n if n else 0.0, 4), "fps": self.fps}
        run.notes.append(NO_FACE_MODEL)
        run.results.append(BranchResult("face", used=False, note=NO_FACE_MODEL, details=details,
                                        source=f"no {self.models_dir / FACE_HEAD_FILE}"))
