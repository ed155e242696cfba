"""Export of trained PANNs-path models: TFLite (float, dynamic-range, full-integer int8) and ONNX.

TFLite models take one fixed-length window ``(1, frames, n_mels)`` (the card says how many
frames) and keep float32 input and output; "int8" quantizes every weight and activation
(calibrated on a representative set of real log-mel windows), "dynamic" only the weights.

The converters talk a lot on stdout and stderr (absl log lines, deprecation notices, "Saved
artifact at …"): all of it is captured and handed to the ``log`` callable of each function
(dropped without one); a failed conversion is one :class:`~cryvideo.errors.ModelError`.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from ..errors import CryVideoError, ModelError, ParameterError, first_line

__all__ = ["QUANTIZATIONS", "to_tflite", "keras_to_tflite", "to_onnx", "tflite_interpreter",
           "run_tflite"]

QUANTIZATIONS = (None, "dynamic", "int8")


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
