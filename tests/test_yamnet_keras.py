"""YAMNet rebuilt in Keras from ``yamnet.tflite``: every weight, the front end and the outputs
are checked against the file itself (skipped when ../shared/weights/yamnet is absent).

The file is a dynamic-range ("hybrid") model: int8 weights, and at run time its
fully-connected and 1×1 convolution kernels quantize their *input* activations to int8, row by
row, with an asymmetric scale (XNNPACK). A float model cannot give the file's outputs to 1e-3
end to end — a 1e-6 difference upstream flips a rounding somewhere and the file's own two
runtimes (XNNPACK and TFLite's reference kernels) differ by up to ~0.2 on a score — so each
layer is checked *given the file's own input to it*, with the same input quantization
(``emulate_tflite=True``), and the float model (the one that is trained) is checked to stay
within the file's quantization noise.
"""

from __future__ import annotations

import numpy as np
import pytest

from cryvideo.detection.frontend import YAMNET_FRONTEND, log_mel, mel_matrix

pytestmark = pytest.mark.shared

CLIPS = ("cry_detection/cry/esc50_cry_1-187207-A.ogg",
         "cry_detection/not_cry/esc50_noise_1-100032-A.ogg",
         "vocal_negatives/not_cry/laughter/deeplynv__3S0D_12_8_0_16_0_0_0.wav")


@pytest.fixture(scope="module")
def yamnet_file(shared_dir):
    p = shared_dir / "weights" / "yamnet" / "yamnet.tflite"
    if not p.is_file():
        pytest.skip("../shared/weights/yamnet/yamnet.tflite is not available")
    return p


@pytest.fixture(scope="module")
def windows(shared_dir):
    from cryvideo.media import load_audio

    out = []
    for rel in CLIPS:
        p = shared_dir / "data" / rel
        if not p.is_file():
            pytest.skip(f"{rel} not in ../shared/data")
        y = load_audio(p, sr=16000)
        out += [y[s:s + 15600] for s in range(0, y.size - 15600 + 1, 7680 * 3)]
    return out


@pytest.fixture(scope="module")
def reference(yamnet_file, windows):
    """The file's own tensors for each window (all intermediate tensors kept)."""
    from cryvideo.tflite import make_interpreter

    it = make_interpreter(model_path=yamnet_file, experimental_preserve_all_tensors=True)
    details = it.get_tensor_details()
    by_name = {d["name"]: d for d in details}

    def act(prefix):
        d = next(d for d in details if d["name"].startswith(prefix) and d["dtype"] == np.float32
                 and len(d["shape"]) == 4 and d["shape"][1] > 1)
        return it.get_tensor(d["index"]).copy()

    out = []
    for w in windows:
        it.set_tensor(it.get_input_details()[0]["index"], w[None].astype(np.float32))
        it.invoke()
        rec = {"logmel": it.get_tensor(by_name["Identity_1"]["index"]).copy(),
               "scores": it.get_tensor(by_name["Identity"]["index"])[0].copy(),
               "embedding": it.get_tensor(
                   by_name["yamnet_frames/global_average_pooling2d/Mean"]["index"])[0].copy(),
               "layer1": act("yamnet_frames/layer1/relu/Relu")}
        for i in range(2, 15):
            for part in ("depthwise", "pointwise"):
                rec[f"layer{i}_{part}"] = act(f"yamnet_frames/layer{i}/{part}_conv/relu/Relu")
        rec["dft_real"] = it.get_tensor(by_name["yamnet_frames/tf_op_layer_MatMul/MatMul"]
                                        ["index"]).astype(np.float32)
        rec["dft_scale"] = by_name["yamnet_frames/tf_op_layer_MatMul/MatMul"]["quantization"][0]
        rec["mel_q"] = it.get_tensor(by_name["yamnet_frames/tf_op_layer_MatMul_2/MatMul_2"]
                                     ["index"]).astype(np.float32)
        rec["mel_scale"] = by_name["yamnet_frames/tf_op_layer_MatMul_2/MatMul_2"][
            "quantization"][0]
        out.append(rec)
    return out


def _hybrid(x):
    """Row-wise asymmetric int8 quantization of activations, as the file's hybrid kernels."""
    lo = np.minimum(x.min(-1, keepdims=True), 0)
    hi = np.maximum(x.max(-1, keepdims=True), 0)
    scale = np.where(hi > lo, (hi - lo) / 255.0, 1.0)
    zero = np.round(-128 - lo / scale)
    return (np.clip(np.round(x / scale) + zero, -128, 127) - zero) * scale


def test_mel_matrix_is_the_files(reference):
    file_mel = reference[0]["mel_q"] * reference[0]["mel_scale"]          # (64, 257)
    # the file stores it as int8: equal within half a quantization step
    assert np.abs(file_mel.T - mel_matrix()).max() <= reference[0]["mel_scale"] / 2 + 1e-6


def test_dft_is_the_files(reference):
    n = YAMNET_FRONTEND.n_fft
    k = np.arange(n // 2 + 1)[:, None]
    real = np.cos(2 * np.pi * k * np.arange(n)[None] / n)
    file_real = reference[0]["dft_real"] * reference[0]["dft_scale"]      # (257, 512)
    assert np.abs(file_real - real).max() <= reference[0]["dft_scale"] / 2 + 1e-6


def test_front_end_matches_the_file(windows, reference):
    """Our window, framing, FFT size, mel bands and log offset give the file's log-mel.

    Computed through the file's own int8 matrices with its input quantization, the result must
    match to 1e-3 (but for a rare rounding flip); computed in float (what the detector uses),
    it differs only where the mel energy is small next to the file's quantization steps."""
    f = YAMNET_FRONTEND
    mine, theirs = [], []
    for w, ref in zip(windows, reference, strict=True):
        frames = np.lib.stride_tricks.sliding_window_view(w, f.window)[::f.hop]
        win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(f.window) / f.window)
        x = np.pad(frames * win, ((0, 0), (56, 56)))
        real_q = ref["dft_real"] * ref["dft_scale"]
        n = f.n_fft
        k = np.arange(n // 2 + 1)[:, None]
        imag_q = np.round(np.sin(2 * np.pi * k * np.arange(n)[None] / n) / ref["dft_scale"]) \
            * ref["dft_scale"]
        xq = _hybrid(x)
        mag = np.sqrt((xq @ real_q.T) ** 2 + (xq @ imag_q.T) ** 2)
        emulated = np.log(_hybrid(mag) @ (ref["mel_q"] * ref["mel_scale"]).T + f.log_offset)
        err = np.abs(emulated - ref["logmel"])
        # all but the odd rounding flip of the int8 input quantization (float64 here)
        assert np.mean(err < 1e-3) > 0.99 and err.max() < 0.1
        ours = log_mel(w)
        assert ours.shape == ref["logmel"].shape == (96, 64)
        mine.append(ours)
        theirs.append(ref["logmel"])
    mine, theirs = np.stack(mine), np.stack(theirs)
    loud = theirs > np.log(0.1)
    assert loud.sum() > 1000
    assert np.median(np.abs(mine - theirs)[loud]) < 0.05
    assert np.corrcoef(mine[loud], theirs[loud])[0, 1] > 0.99


@pytest.fixture(scope="module")
def emulated(yamnet_file):
    from cryvideo.models.yamnet import load_yamnet

    return load_yamnet(yamnet_file, emulate_tflite=True)


def test_every_layer_matches_the_file_given_its_input(emulated, reference):
    """Each of the 28 weighted layers and the classifier, fed the file's own input tensor,
    gives the file's output tensor (max abs difference <= 1e-3)."""
    import keras

    names = ["layer1_conv"] + [f"layer{i}_{p}" for i in range(2, 15)
                               for p in ("depthwise", "pointwise")]
    worst = 0.0
    for ref in reference:
        prev = ref["logmel"][None, :, :, None]
        for name in names:
            layer_in = prev
            if name.endswith("_pointwise"):
                layer_in = _hybrid(prev)
            lay = emulated.get_layer(name)
            out = np.maximum(np.asarray(lay(keras.ops.convert_to_tensor(
                layer_in.astype(np.float32)))), 0)
            key = "layer1" if name == "layer1_conv" else name
            worst = max(worst, float(np.abs(out - ref[key]).max()))
            prev = ref[key]
        emb = prev.mean(axis=(1, 2))
        assert np.abs(emb[0] - ref["embedding"]).max() <= 1e-3
        dense = emulated.get_layer("logits")
        logits = np.clip(np.asarray(dense(_hybrid(ref["embedding"][None]))), -60, 60)
        scores = 1 / (1 + np.exp(-logits))
        assert np.abs(scores[0] - ref["scores"]).max() <= 1e-3
    assert worst <= 1e-3


def test_whole_model_on_the_files_logmel(emulated, yamnet_file, reference):
    """End to end, from the file's log-mel: the emulating model's 1024-d embeddings and 521
    scores follow the file's (rounding flips upstream move single values by up to a few
    hundredths, never the picture), and the float model stays within the file's own
    quantization noise."""
    from cryvideo.models.yamnet import load_yamnet

    x = np.stack([r["logmel"] for r in reference])
    s_file = np.stack([r["scores"] for r in reference])
    e_file = np.stack([r["embedding"] for r in reference])
    s_em, e_em = (np.asarray(a) for a in emulated.predict(x, verbose=0))
    s_fl, e_fl = (np.asarray(a) for a in load_yamnet(yamnet_file).predict(x, verbose=0))
    for s, e in ((s_em, e_em), (s_fl, e_fl)):
        assert np.median(np.abs(s - s_file)) < 1e-3
        assert np.abs(s - s_file).max() < 0.06
        assert all(np.corrcoef(a, b)[0, 1] > 0.99 for a, b in zip(e, e_file, strict=True))
        # the top class is the file's wherever the file is sure of it
        sure = s_file.max(1) > 0.5
        assert (s.argmax(1) == s_file.argmax(1))[sure].all()


def test_bad_file_is_a_model_error(tmp_path):
    from cryvideo.errors import ModelError
    from cryvideo.models.yamnet import tflite_weights

    bad = tmp_path / "yamnet.tflite"
    bad.write_bytes(b"not a flatbuffer")
    with pytest.raises(ModelError, match="yamnet.tflite"):
        tflite_weights(bad)
