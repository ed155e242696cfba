"""Export of trained models: TFLite (float, dynamic-range, full-integer int8) and ONNX, each
written with its card (:func:`export_model`, what ``cryvideo export`` runs).

TFLite models take one fixed-length window ``(1, frames, n_mels)`` (the card says how many
frames) and keep float32 input and output; "int8" quantizes every weight and activation
(calibrated on a representative set of real log-mel windows), "dynamic" only the weights.

The converters talk a lot on stdout and stderr (absl log lines, deprecation notices, "Saved
artifact at …"): all of it is captured and handed to the ``log`` callable of each function
(dropped without one); a failed conversion is one :class:`~cryvideo.errors.ModelError`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ..errors import CryVideoError, ModelError, ParameterError, first_line

__all__ = ["QUANTIZATIONS", "EXPORT_FORMATS", "ExportSettings", "export_model",
           "calibration_windows", "to_tflite", "keras_to_tflite", "to_onnx",
           "tflite_interpreter", "run_tflite"]

QUANTIZATIONS = (None, "dynamic", "int8")
#: Export formats and the suffix of their files.
EXPORT_FORMATS = {"tflite": ".tflite", "onnx": ".onnx"}
#: Window length (frames) of a log-mel model whose card does not say it.
DEFAULT_WINDOW_FRAMES = 201


@dataclasses.dataclass(frozen=True)
class ExportSettings:
    """What ``cryvideo export`` writes, and where; every value and the output path are checked
    when the object is made (before TensorFlow loads).

    Attributes
    ----------
    model : str or os.PathLike
        The ``.keras`` model, with its JSON card beside it.
    format : {"tflite", "onnx"}
    quantize : {None, "dynamic", "int8"}
        TFLite only: int8 weights (``dynamic``) or full-integer (``int8``).
    calibration : tuple of str
        Audio/video files whose log-mel windows calibrate ``int8``.
    max_windows : int
        Calibration windows used at most.
    output : str or os.PathLike, optional
        Output file (default: beside ``model``, named ``MODEL_float32.tflite``,
        ``MODEL_dynamic.tflite``, ``MODEL_int8.tflite`` or ``MODEL.onnx``; never by default
        into the shipped models folder).

    Raises
    ------
    ParameterError
        A bad combination, an output of the wrong kind, one that would overwrite the model or
        its card, or a default output inside the shipped models folder.

    Examples
    --------
    >>> from cryvideo.models.export import ExportSettings
    >>> ExportSettings("my_models/cry_detector.keras", quantize="dynamic").target
    PosixPath('my_models/cry_detector_dynamic.tflite')
    """

    model: str
    format: str = "tflite"
    quantize: str | None = None
    calibration: tuple[str, ...] = ()
    max_windows: int = 300
    output: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "calibration", tuple(self.calibration))
        if self.format not in EXPORT_FORMATS:
            raise ParameterError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, got "
                                 f"{self.format!r}")
        if self.quantize not in QUANTIZATIONS:
            raise ParameterError(f"--quantize must be dynamic or int8, got {self.quantize!r}")
        if self.format == "onnx" and self.quantize:
            raise ParameterError("--quantize applies to --format tflite only")
        if self.quantize == "int8" and not self.calibration:
            raise ParameterError("--quantize int8 needs --calibration FILES/DIRS (real audio)")
        if self.max_windows < 1:
            raise ParameterError("--max-windows must be ≥ 1")
        self._check_target()

    @property
    def target(self) -> Path:
        """The file written."""
        src = Path(self.model)
        if self.output is not None:
            return Path(self.output)
        tag = f"_{self.quantize or 'float32'}" if self.format == "tflite" else ""
        return src.with_name(src.stem + tag + EXPORT_FORMATS[self.format])

    def _check_target(self) -> None:
        from .cards import card_path

        src, out = Path(self.model), self.target
        if out.suffix != EXPORT_FORMATS[self.format]:
            raise ParameterError(f"output must end in {EXPORT_FORMATS[self.format]}", path=out)
        if card_path(out).resolve() == card_path(src).resolve() or out.resolve() == src.resolve():
            raise ParameterError(f"{out.name} would overwrite {src.name} or its card: give "
                                 "another name with -o", path=out)
        if self.output is None and _in_bundled_folder(out):
            raise ParameterError("is in the shipped models folder: export writes there only "
                                 "when -o names the file (give -o PATH to write elsewhere, or "
                                 "this path to replace the shipped model on purpose)", path=out)


def _in_bundled_folder(path: Path) -> bool:
    """Whether ``path`` would be a file of the shipped models folder (``saved_models/``)."""
    from .store import bundled_models_dir

    try:
        return os.path.samefile(path.parent, bundled_models_dir())
    except OSError:             # a folder that does not exist (yet) is not that one
        return False


def calibration_windows(paths: Sequence[str | os.PathLike], *, frames: int,
                        max_windows: int = 300, seed: int = 0) -> np.ndarray:
    """Log-mel windows ``(n, frames, 64)`` of media files (16 kHz, half-overlapping), at most
    ``max_windows`` of them drawn at random: the representative set of an int8 conversion.

    Parameters
    ----------
    paths : sequence of path
        Audio or video files (a folder is expanded by the caller: ``cryvideo export`` takes
        every media file in it).
    frames : int
        Window length (the model's ``window_frames``).
    max_windows : int
    seed : int
        Seed of the random draw.

    Examples
    --------
    >>> from cryvideo.models.export import calibration_windows
    >>> calibration_windows(["clip.wav"], frames=201).shape     # doctest: +SKIP
    (9, 201, 64)
    """
    from ..audio.logmel import logmel
    from ..audio.windows import sliding_windows
    from ..media import load_audio

    wins = [sliding_windows(logmel(load_audio(p, sr=16000)), frames, frames // 2)[0]
            for p in paths]
    allw = np.concatenate(wins)
    rng = np.random.default_rng(seed)
    if len(allw) > max_windows:
        allw = allw[rng.choice(len(allw), max_windows, replace=False)]
    return allw


def export_model(settings: ExportSettings, *,
                 log: Callable[[str], None] | None = None) -> Path:
    """Convert ``settings.model`` and write it with its card (the source's, with the format,
    the quantization and the source file's name and hash added).

    A log-mel model takes one fixed window (its card's ``window_frames``); a reason branch
    (AE+DNN, vector input) its pooled feature vector, and exports to TFLite float32 or
    dynamic only.

    Parameters
    ----------
    settings : ExportSettings
    log : callable, optional
        Gets what the converter printed (default: dropped).

    Returns
    -------
    Path
        The file written (``settings.target``).

    Raises
    ------
    ModelError
        The model or its card cannot be loaded, or the conversion failed.
    ParameterError
        A reason branch asked for ONNX or int8.

    Examples
    --------
    >>> from cryvideo.models.export import ExportSettings, export_model
    >>> export_model(ExportSettings("saved_models/audio_mfcc.keras",
    ...                             output="/tmp/mfcc.tflite"))   # doctest: +SKIP
    PosixPath('/tmp/mfcc.tflite')
    """
    from . import panns as _panns  # noqa: F401  (registers the custom layers)
    from .cards import derived_card, load_model_with_card, save_model_with_card

    s, src = settings, Path(settings.model)
    model, card = load_model_with_card(src)
    vector_input = len(model.inputs[0].shape) == 2
    if vector_input and (s.format == "onnx" or s.quantize == "int8"):
        raise ParameterError("a reason branch exports to TFLite float32 or dynamic only",
                             path=src)
    frames = int((card.inputs or {}).get("window_frames", DEFAULT_WINDOW_FRAMES))
    if s.format == "onnx":
        blob = to_onnx(model, frames=frames, log=log)
    elif vector_input:
        blob = keras_to_tflite(model, quantize=s.quantize, log=log)
    else:
        rep = (calibration_windows(s.calibration, frames=frames, max_windows=s.max_windows)
               if s.quantize == "int8" else None)
        blob = to_tflite(model, frames=frames, quantize=s.quantize, representative=rep, log=log)
    new = derived_card(card, exported_from=src.name, source_sha256=card.sha256,
                       format=s.format, quantization=s.quantize or "none")
    save_model_with_card(blob, s.target, new)
    return s.target


@contextlib.contextmanager
def _converting(what: str, log: Callable[[str], None] | None) -> Iterator[None]:
    """Run a conversion with its chatter captured (given to ``log``, if any, even when it
    fails) and its failure turned into one :class:`ModelError` line."""
    from ..tflite import captured_output

    said: list[str] = []
    try:
        with warnings.catch_warnings(), captured_output() as said:
            warnings.simplefilter("ignore")
            yield
    except CryVideoError:
        raise
    except Exception as exc:  # noqa: BLE001 - the converters raise many kinds
        reason = first_line(str(exc)) or type(exc).__name__
        raise ModelError(f"the {what} conversion failed ({reason})") from exc
    finally:
        if log is not None and said and said[0].strip():
            log(said[0])


def _signature(model, shape: tuple):
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec(list(shape), tf.float32, name="logmel")])
    def serve(x):
        return model(x, training=False)

    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    # Freeze every variable (weights, BN statistics, RNG states of inactive augmentation
    # layers) into constants: the int8 calibrator cannot run READ_VARIABLE ops.
    return convert_variables_to_constants_v2(serve.get_concrete_function())


def to_tflite(model, *, frames: int, quantize: str | None = None,
              representative: np.ndarray | None = None, batch: int | None = 1,
              log: Callable[[str], None] | None = None) -> bytes:
    """Convert a Keras model (log-mel input) to a TFLite flatbuffer.

    Parameters
    ----------
    model : keras.Model
    frames : int
        Window length in frames (fixed in the TFLite model).
    quantize : {None, "dynamic", "int8"}
        None: float32; "dynamic": int8 weights, float activations; "int8": full-integer
        (weights and activations), float32 input/output.
    representative : np.ndarray [shape=(n, frames, n_mels)], optional
        Calibration windows, required for "int8" (a few hundred real windows).
    batch : int or None
        Batch size of the input (None: any, resized at run time).
    log : callable, optional
        ``log(text)`` gets what the converter printed (default: it is dropped).

    Returns
    -------
    bytes

    Raises
    ------
    ModelError
        The conversion failed (one line: the converter's reason).
    """
    n_mels = int(model.inputs[0].shape[-1])
    return keras_to_tflite(model, shape=(batch, frames, n_mels), quantize=quantize,
                           representative=representative, log=log)


def keras_to_tflite(model, *, shape: tuple | None = None, quantize: str | None = None,
                    representative: np.ndarray | None = None,
                    log: Callable[[str], None] | None = None) -> bytes:
    """Any one-input Keras model as a TFLite flatbuffer.

    Parameters
    ----------
    model : keras.Model
    shape : tuple, optional
        Input shape including the batch (None: any); default ``(None, *model input shape)``.
    quantize : {None, "dynamic", "int8"}
        As :func:`to_tflite`.
    representative : np.ndarray [shape=(n, *shape[1:])], optional
        Calibration inputs for "int8".
    log : callable, optional
        As :func:`to_tflite`.
    """
    import tensorflow as tf

    if shape is None:
        shape = (None, *(int(d) for d in model.inputs[0].shape[1:]))
    if quantize not in QUANTIZATIONS:
        raise ParameterError(f"quantize must be one of dynamic, int8 (got {quantize!r})")
    if quantize == "int8" and (representative is None or len(representative) == 0):
        raise ParameterError("int8 quantization needs representative (calibration) data")
    with _converting("TFLite", log):
        conv = tf.lite.TFLiteConverter.from_concrete_functions([_signature(model, shape)])
        if quantize is not None:
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "int8":
            rep = np.asarray(representative, dtype=np.float32)

            def gen() -> Iterable:
                for w in rep:
                    yield [w[None]]

            conv.representative_dataset = gen
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        return conv.convert()


def to_onnx(model, *, frames: int, log: Callable[[str], None] | None = None) -> bytes:
    """Convert to ONNX with tf2onnx (``pip install cryvideo[onnx]``); ``log`` as
    :func:`to_tflite`."""
    try:
        import tf2onnx
    except ImportError:
        raise ModelError("ONNX export needs tf2onnx: pip install 'cryvideo[onnx]'") from None
    import tensorflow as tf

    n_mels = int(model.inputs[0].shape[-1])
    spec = (tf.TensorSpec([1, frames, n_mels], tf.float32, name="logmel"),)
    with _converting("ONNX", log):
        proto, _ = tf2onnx.convert.from_function(_signature(model, (1, frames, n_mels)),
                                                 input_signature=spec)
    return proto.SerializeToString()


def tflite_interpreter(model, *, num_threads: int = 1):
    """A ready TFLite interpreter from a path or flatbuffer bytes."""
    from ..tflite import make_interpreter

    try:
        if isinstance(model, bytes | bytearray):
            it = make_interpreter(model_content=bytes(model), num_threads=num_threads)
        else:
            it = make_interpreter(model_path=model, num_threads=num_threads)
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"not a usable TFLite model ({first_line(str(exc))})",
                         path=None if isinstance(model, bytes | bytearray) else model) from None
    return it


def run_tflite(interpreter, x: np.ndarray) -> np.ndarray:
    """Run a one-window TFLite model over a batch: (n, frames, n_mels) → (n, outputs)."""
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    res = []
    for w in np.asarray(x, dtype=np.float32):
        interpreter.set_tensor(inp["index"], w[None])
        interpreter.invoke()
        res.append(interpreter.get_tensor(out["index"])[0].copy())
    return np.stack(res)
