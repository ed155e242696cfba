"""Model files from elsewhere: loading one never runs code from it.

``.keras`` files are loaded with Keras ``safe_mode=True`` after a sha256 check against the card;
nothing a user may be sent is unpickled (a scan of the package enforces it: pickle-like loaders
are allowed only in functions that take an explicit ``trust`` parameter).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from cryvideo.errors import CryVideoError, ModelError

PACKAGE = Path(__file__).resolve().parents[2] / "cryvideo"


def _lambda_model(marker: Path):
    import keras

    inp = keras.Input((4,))
    # the payload: runs when the layer is rebuilt from the file
    # (the path is a constant of the compiled function, which Keras marshals into the file)
    payload = eval(  # noqa: S307 - our own test payload
        f"lambda x: (__import__('pathlib').Path({str(marker)!r}).write_text('code ran'), x)[1]")
    out = keras.layers.Lambda(payload)(inp)
    return keras.Model(inp, keras.layers.Dense(2)(out))


@pytest.mark.slow
def test_keras_file_with_code_is_refused(tmp_path):
    import keras

    from cryvideo.models.cards import ModelCard, load_model_with_card, save_model_with_card

    marker = tmp_path / "pwned.txt"
    path = tmp_path / "sent_to_me.keras"
    # an attacker ships the model AND a matching card (sha256 included)
    save_model_with_card(_lambda_model(marker), path,
                         ModelCard(name="evil", kind="reason-classifier", labels=["a", "b"]))
    marker.unlink(missing_ok=True)  # building the model above ran the lambda once

    with pytest.raises(ModelError) as ei:
        load_model_with_card(path)
    assert str(path) in str(ei.value) and "\n" not in str(ei.value)
    assert not marker.exists(), "code from the model file was executed"

    # the payload is real: an unsafe load would have run it
    keras.config.enable_unsafe_deserialization()
    try:
        keras.saving.load_model(path, safe_mode=False, compile=False)
    finally:
        keras.config.disable_unsafe_deserialization() if hasattr(
            keras.config, "disable_unsafe_deserialization") else None
    assert marker.exists()


@pytest.mark.slow
def test_corrupt_model_files_give_clean_errors(tmp_path, rng):
    import keras

    from cryvideo.models.cards import (
        ModelCard,
        card_path,
        load_model_with_card,
        save_model_with_card,
    )

    inp = keras.Input((4,))
    good = tmp_path / "good.keras"
    card = save_model_with_card(keras.Model(inp, keras.layers.Dense(2)(inp)), good,
                                ModelCard(name="tiny", kind="test", labels=["a", "b"]))
    data = good.read_bytes()
    variants = {
        "truncated": data[: len(data) // 2],
        "random": rng.bytes(len(data)),
        "bitflip": bytes(b ^ (0xFF if i % 97 == 0 else 0) for i, b in enumerate(data)),
        "empty": b"",
        "text": b"def evil(): pass\n",
    }
    from cryvideo.io import file_sha256

    for name, blob in variants.items():
        p = tmp_path / f"{name}.keras"
        p.write_bytes(blob)
        # with the original card (sha mismatch) and with a forged card that matches
        card_path(p).write_text(json.dumps(dict(card.to_dict(), file=p.name)))
        with pytest.raises(ModelError):
            load_model_with_card(p)
        card_path(p).write_text(json.dumps(dict(card.to_dict(), file=p.name,
                                                sha256=file_sha256(p))))
        with pytest.raises(CryVideoError) as ei:
            load_model_with_card(p)
        assert str(p) in str(ei.value), name
    model, _ = load_model_with_card(good)
    assert model.predict(np.zeros((1, 4)), verbose=0).shape == (1, 2)


# -- static check: no unpickling of anything a user may be sent -----------------------------------
#: Calls that can execute code from the data they load.
UNSAFE = {("pickle", "load"), ("pickle", "loads"), ("joblib", "load"), ("dill", "load"),
          ("cloudpickle", "load"), ("torch", "load"), ("np", "load"), ("numpy", "load"),
          (None, "eval"), (None, "exec"), (None, "load_model")}


def _unsafe_calls(tree: ast.AST) -> list[tuple[int, str]]:
    bad = []

    def kw(call: ast.Call, name: str):
        for k in call.keywords:
            if k.arg == name and isinstance(k.value, ast.Constant):
                return k.value.value
        return None

    def visit(node: ast.AST, trusted: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            names = {a.arg for a in args.args + args.kwonlyargs}
            trusted = trusted or "trust" in names
        if isinstance(node, ast.Call) and not trusted:
            f = node.func
            if isinstance(f, ast.Attribute):
                mod = f.value.id if isinstance(f.value, ast.Name) else None
                key = (mod, f.attr)
            else:
                key = (None, getattr(f, "id", ""))
            if key in UNSAFE or (None, key[1]) in UNSAFE and key[1] == "load_model":
                what = ".".join(k for k in key if k)
                if key[1] == "load" and key[0] in ("np", "numpy"):
                    if kw(node, "allow_pickle") is True:
                        bad.append((node.lineno, "np.load(allow_pickle=True)"))
                elif key == ("torch", "load"):
                    if kw(node, "weights_only") is not True:
                        bad.append((node.lineno, "torch.load without weights_only=True"))
                elif key[1] == "load_model":
                    if kw(node, "safe_mode") is not True:
                        bad.append((node.lineno, f"{what} without safe_mode=True"))
                else:
                    bad.append((node.lineno, what))
        for child in ast.iter_child_nodes(node):
            visit(child, trusted)

    visit(tree, False)
    return bad


def test_static_scan_finds_unsafe_loads():
    src = ("import pickle, torch, keras\n"
           "def a(p):\n    return pickle.load(open(p, 'rb'))\n"
           "def b(p):\n    return torch.load(p)\n"
           "def c(p):\n    return keras.saving.load_model(p)\n"
           "def d(p, *, trust=False):\n    return pickle.load(open(p, 'rb'))\n"
           "def e(p):\n    return torch.load(p, weights_only=True)\n")
    assert [ln for ln, _ in _unsafe_calls(ast.parse(src))] == [3, 5, 7]


def test_package_never_unpickles_untrusted_files():
    offenders = []
    for py in sorted(PACKAGE.rglob("*.py")):
        for lineno, what in _unsafe_calls(ast.parse(py.read_text(encoding="utf-8"))):
            offenders.append(f"cryvideo/{py.relative_to(PACKAGE).as_posix()}:{lineno}: {what}")
    assert not offenders, ("loaders that can run code from a file (use safe formats, or put "
                           "them behind an explicit trust=True / --trust):\n"
                           + "\n".join(offenders))
