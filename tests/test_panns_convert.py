"""The PANNs checkpoint converter, checked against a PyTorch reference of the same network.

The reference below is PANNs' Cnn10/Cnn14 from the log-mel on (``bn0`` → conv blocks → mean over
mel → max+mean over time → fc1 → fc_audioset), written here with random weights and random
batch-norm statistics; the real checkpoints are not obtainable offline.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch not installed (pip install 'cryvideo[panns]')")
nn = torch.nn
F = torch.nn.functional

from cryvideo.errors import ModelError  # noqa: E402
from cryvideo.models.panns import build_model  # noqa: E402
from cryvideo.models.panns_convert import (  # noqa: E402
    convert_state_dict,
    infer_architecture,
    load_panns,
)


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1, bias=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x, pool_size=(2, 2)):
        x = F.relu_(self.bn1(self.conv1(x)))
        x = F.relu_(self.bn2(self.conv2(x)))
        return F.avg_pool2d(x, kernel_size=pool_size) if pool_size != (1, 1) else x


class PannsRef(nn.Module):
    """PANNs Cnn10 (4 blocks) / Cnn14 (6 blocks) after the log-mel extractor."""

    def __init__(self, chans, classes=527, mel_bins=64):
        super().__init__()
        self.bn0 = nn.BatchNorm2d(mel_bins)
        cin = 1
        for i, c in enumerate(chans, 1):
            setattr(self, f"conv_block{i}", ConvBlock(cin, c))
            cin = c
        self.n = len(chans)
        self.fc1 = nn.Linear(cin, cin, bias=True)
        self.fc_audioset = nn.Linear(cin, classes, bias=True)

    def forward(self, logmel):                      # (batch, time, mel)
        x = logmel[:, None]                         # (batch, 1, time, mel)
        x = self.bn0(x.transpose(1, 3)).transpose(1, 3)
        for i in range(1, self.n + 1):
            pool = (1, 1) if (self.n == 6 and i == 6) else (2, 2)
            x = getattr(self, f"conv_block{i}")(x, pool_size=pool)
        x = torch.mean(x, dim=3)
        x = torch.max(x, dim=2)[0] + torch.mean(x, dim=2)
        x = F.relu_(self.fc1(x))
        return torch.sigmoid(self.fc_audioset(x))


def _randomize_bn(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.1)


@pytest.mark.parametrize("arch,chans", [
    ("cnn10", [8, 16, 32, 64]),                 # width 1/8
    ("cnn14", [4, 8, 16, 32, 64, 128]),         # width 1/16
])
def test_converted_model_matches_pytorch(arch, chans, tmp_path, rng):
    gen = torch.Generator().manual_seed(0)
    ref = PannsRef(chans, classes=10)
    _randomize_bn(ref, gen)
    ref.eval()
    path = tmp_path / "ckpt.pth"
    torch.save({"model": ref.state_dict(), "iteration": 0}, path)

    state = {k: v.numpy() for k, v in ref.state_dict().items()}
    assert infer_architecture(state) == (arch, chans[0] / 64, 10)
    model = load_panns(str(path))
    x = (rng.normal(size=(3, 157, 64)) * 10 - 40).astype("float32")  # dB-like log-mels
    with torch.no_grad():
        want = ref(torch.from_numpy(x)).numpy()
    got = np.asarray(model(x, training=False))
    assert got.shape == want.shape == (3, 10)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5)
    # a model that was not converted disagrees (the test can fail)
    fresh = build_model(arch, width=chans[0] / 64, n_classes=10)
    assert not np.allclose(np.asarray(fresh(x, training=False)), want, atol=1e-3)


def test_mismatched_checkpoint_is_refused():
    ref = PannsRef([8, 16, 32, 64], classes=10)
    state = {k: v.numpy() for k, v in ref.state_dict().items()}
    wrong = build_model("cnn10", width=1 / 4, n_classes=10)
    with pytest.raises(ModelError, match="shape mismatch"):
        convert_state_dict(state, wrong)
    del state["fc1.weight"]
    with pytest.raises(ModelError, match="fc1.weight"):
        convert_state_dict(state, build_model("cnn10", width=1 / 8, n_classes=10))


def test_not_a_checkpoint(tmp_path):
    bad = tmp_path / "x.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="not a readable PyTorch checkpoint"):
        load_panns(str(bad))
