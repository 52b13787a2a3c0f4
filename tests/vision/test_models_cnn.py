"""zoo.vision.models CNNs (LeNet-5, ResNet, MobileNetV2, VGG): torchvision key names, outputs equal to a PyTorch
reference with the same names and weights (oracle tier), the builders' weights handling, and loading converted
checkpoints (torchvision, timm and Hugging Face names) through a registered entry and a local hub cache.

torchvision cannot be installed next to this environment's CPU build of PyTorch (the PyPI wheel needs another torch),
so the references are small PyTorch modules written here with torchvision's structure and parameter names.
"""
import hashlib

import numpy as np
import pytest
from helpers import add_snapshot, torch_run

import zoo
from zoo.vision import models
from zoo.vision.models import resnet as zresnet
from zoo.vision.models.vgg import VGG, make_layers
from zoo.weights import ChecksumError, Hub, UnknownWeightsError, WeightsEntry, register, unregister


# ---- helpers ---------------------------------------------------------------------------------------------------
def randomize(model, seed=0):
    """Random weights everywhere and BatchNorm statistics that are not the identity (so BN matters)."""
    rng = np.random.default_rng(seed)
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    for name, module in model.named_modules():
        prefix = name + "." if name else ""
        if isinstance(module, zoo.nn.BatchNorm2d):
            c = module.num_features
            state[prefix + "weight"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
            state[prefix + "bias"] = rng.uniform(-0.2, 0.2, c).astype(np.float32)
            state[prefix + "running_mean"] = rng.uniform(-0.2, 0.2, c).astype(np.float32)
            state[prefix + "running_var"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
        elif isinstance(module, (zoo.nn.Conv2d, zoo.nn.Linear)):
            shape = tuple(module.weight.shape)
            fan_in = int(np.prod(shape[1:]))
            state[prefix + "weight"] = rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in))
            if module.bias is not None:
                state[prefix + "bias"] = rng.uniform(-0.2, 0.2, shape[0]).astype(np.float32)
    model.load_state_dict({k: zoo.tensor(v) for k, v in state.items()})
    return model


def run(model, x):
    model.eval()
    with zoo.no_grad():
        return model(zoo.tensor(x)).numpy()


def to_torch(zoo_model, torch_model):
    import torch
    torch_model.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in zoo_model.state_dict().items()})
    return torch_model.eval()


def images(n=2, size=64, seed=1):
    return np.random.default_rng(seed).standard_normal((n, 3, size, size)).astype(np.float32)


# ---- PyTorch references with torchvision's structure and names -------------------------------------------------
def torch_refs():
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    class Basic(tnn.Module):
        expansion = 1

        def __init__(self, cin, planes, stride, downsample):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU()
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            idt = x if self.downsample is None else self.downsample(x)
            return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))) + idt)

    class Bottle(tnn.Module):
        expansion = 4

        def __init__(self, cin, planes, stride, downsample):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, planes, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.conv2 = tnn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.conv3 = tnn.Conv2d(planes, planes * 4, 1, bias=False)
            self.bn3 = tnn.BatchNorm2d(planes * 4)
            self.relu = tnn.ReLU()
            self.downsample = downsample

        def forward(self, x):
            idt = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            return self.relu(self.bn3(self.conv3(out)) + idt)

    class ResNet(tnn.Module):
        def __init__(self, block, layers, num_classes):
            super().__init__()
            self.inplanes = 64
            self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = tnn.BatchNorm2d(64)
            self.relu = tnn.ReLU()
            self.maxpool = tnn.MaxPool2d(3, 2, 1)
            for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
                setattr(self, f"layer{i + 1}", self._layer(block, planes, n, 1 if i == 0 else 2))
            self.avgpool = tnn.AdaptiveAvgPool2d(1)
            self.fc = tnn.Linear(512 * block.expansion, num_classes)

        def _layer(self, block, planes, n, stride):
            down = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                down = tnn.Sequential(tnn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                      tnn.BatchNorm2d(planes * block.expansion))
            blocks = [block(self.inplanes, planes, stride, down)]
            self.inplanes = planes * block.expansion
            blocks += [block(self.inplanes, planes, 1, None) for _ in range(n - 1)]
            return tnn.Sequential(*blocks)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    def cbr(cin, cout, k=3, stride=1, groups=1):
        return tnn.Sequential(tnn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                              tnn.BatchNorm2d(cout), tnn.ReLU6())

    class InvRes(tnn.Module):
        def __init__(self, cin, cout, stride, t):
            super().__init__()
            hidden = cin * t
            layers = [cbr(cin, hidden, 1)] if t != 1 else []
            layers += [cbr(hidden, hidden, 3, stride, hidden), tnn.Conv2d(hidden, cout, 1, bias=False),
                       tnn.BatchNorm2d(cout)]
            self.conv = tnn.Sequential(*layers)
            self.res = stride == 1 and cin == cout

        def forward(self, x):
            return x + self.conv(x) if self.res else self.conv(x)

    class MobileNetV2(tnn.Module):
        def __init__(self, num_classes):
            super().__init__()
            feats, cin = [cbr(3, 32, stride=2)], 32
            for t, c, n, s in [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1],
                               [6, 160, 3, 2], [6, 320, 1, 1]]:
                for i in range(n):
                    feats.append(InvRes(cin, c, s if i == 0 else 1, t))
                    cin = c
            feats.append(cbr(cin, 1280, 1))
            self.features = tnn.Sequential(*feats)
            self.classifier = tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(1280, num_classes))

        def forward(self, x):
            x = tnn.functional.adaptive_avg_pool2d(self.features(x), 1)
            return self.classifier(torch.flatten(x, 1))

    class VGG(tnn.Module):
        def __init__(self, cfg, hidden, num_classes, bn):
            super().__init__()
            layers, cin = [], 3
            for v in cfg:
                if v == "M":
                    layers.append(tnn.MaxPool2d(2, 2))
                else:
                    layers += [tnn.Conv2d(cin, v, 3, padding=1)] + ([tnn.BatchNorm2d(v)] if bn else []) + [tnn.ReLU()]
                    cin = v
            self.features = tnn.Sequential(*layers)
            self.avgpool = tnn.AdaptiveAvgPool2d((7, 7))
            self.classifier = tnn.Sequential(tnn.Linear(cin * 49, hidden), tnn.ReLU(), tnn.Dropout(),
                                             tnn.Linear(hidden, hidden), tnn.ReLU(), tnn.Dropout(),
                                             tnn.Linear(hidden, num_classes))

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    class LeNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = tnn.Conv2d(1, 6, 5), tnn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = tnn.Linear(400, 120), tnn.Linear(120, 84), tnn.Linear(84, 10)

        def forward(self, x):
            x = tnn.functional.avg_pool2d(torch.tanh(self.conv1(x)), 2)
            x = tnn.functional.avg_pool2d(torch.tanh(self.conv2(x)), 2).flatten(1)
            return self.fc3(torch.tanh(self.fc2(torch.tanh(self.fc1(x)))))

    return dict(Basic=Basic, Bottle=Bottle, ResNet=ResNet, MobileNetV2=MobileNetV2, VGG=VGG, LeNet=LeNet)


# ---- oracle: same outputs as the PyTorch references -------------------------------------------------------------
@pytest.mark.oracle
@pytest.mark.parametrize("block,layers", [("basic", [2, 2, 2, 2]), ("bottleneck", [1, 2, 1, 1])])
def test_resnet_matches_pytorch_reference(block, layers):
    refs = torch_refs()
    model = randomize(zresnet.ResNet(block, layers, num_classes=7))
    ref = to_torch(model, refs["ResNet"](refs["Basic" if block == "basic" else "Bottle"], layers, 7))
    x = images()
    np.testing.assert_allclose(run(model, x), torch_run(ref, x), rtol=1e-4, atol=1e-4)


@pytest.mark.oracle
def test_mobilenet_v2_matches_pytorch_reference():
    refs = torch_refs()
    model = randomize(models.mobilenet_v2(num_classes=6))
    ref = to_torch(model, refs["MobileNetV2"](6))
    x = images()
    np.testing.assert_allclose(run(model, x), torch_run(ref, x), rtol=1e-4, atol=1e-4)


@pytest.mark.oracle
@pytest.mark.parametrize("bn", [False, True])
def test_vgg_matches_pytorch_reference(bn):
    refs = torch_refs()
    cfg = [8, "M", 16, 16, "M", 24, "M"]
    model = randomize(VGG(make_layers(cfg, batch_norm=bn), num_classes=5, hidden_features=32))
    ref = to_torch(model, refs["VGG"](cfg, 32, 5, bn))
    for size in (32, 80):  # the adaptive pool upsamples (4x4 -> 7x7) and downsamples (10x10 -> 7x7)
        x = images(size=size)
        np.testing.assert_allclose(run(model, x), torch_run(ref, x), rtol=1e-4, atol=1e-4)


@pytest.mark.oracle
def test_lenet5_matches_pytorch_reference():
    refs = torch_refs()
    model = randomize(models.lenet5())
    ref = to_torch(model, refs["LeNet"]())
    x = np.random.default_rng(2).standard_normal((3, 1, 32, 32)).astype(np.float32)
    np.testing.assert_allclose(run(model, x), torch_run(ref, x), rtol=1e-4, atol=1e-4)


# ---- structure: torchvision's key names and shapes ---------------------------------------------------------------
def test_resnet_key_names_are_torchvisions():
    keys = list(models.resnet18().state_dict())
    assert keys[:6] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                        "bn1.num_batches_tracked"]
    assert "layer2.0.downsample.0.weight" in keys and "layer1.1.conv2.weight" in keys
    assert "layer1.0.downsample.0.weight" not in keys  # ResNet-18's first stage keeps the shape
    assert keys[-2:] == ["fc.weight", "fc.bias"]
    state = zresnet.ResNet("bottleneck", [1, 1, 2, 1], num_classes=10).state_dict()  # ResNet-50's widths
    assert tuple(state["layer1.0.downsample.0.weight"].shape) == (256, 64, 1, 1)
    assert tuple(state["layer3.1.conv2.weight"].shape) == (256, 256, 3, 3)
    assert tuple(state["layer4.0.conv2.weight"].shape) == (512, 512, 3, 3)
    assert tuple(state["layer4.0.downsample.0.weight"].shape) == (2048, 1024, 1, 1)
    assert tuple(state["fc.weight"].shape) == (10, 2048)
    assert tuple(zresnet.ResNet("bottleneck", [1, 1, 2, 1]).layer4[0].conv2.stride) == (2, 2)  # v1.5


def test_builders_use_the_published_depths(monkeypatch):
    made = {}

    class Recorder:
        def __init__(self, block, layers, num_classes=1000, **kwargs):
            made.update(block=block, layers=list(layers), num_classes=num_classes, **kwargs)

    monkeypatch.setattr(zresnet, "ResNet", Recorder)
    expected = {"resnet18": ("BasicBlock", [2, 2, 2, 2]), "resnet34": ("BasicBlock", [3, 4, 6, 3]),
                "resnet50": ("Bottleneck", [3, 4, 6, 3]), "resnet101": ("Bottleneck", [3, 4, 23, 3]),
                "resnet152": ("Bottleneck", [3, 8, 36, 3])}
    for name, (block, layers) in expected.items():
        getattr(models, name)(num_classes=5)
        assert (made["block"].__name__, made["layers"], made["num_classes"]) == (block, layers, 5), name
    models.resnext50_32x4d()
    assert made["groups"] == 32 and made["width_per_group"] == 4


def test_mobilenet_v2_names():
    state = models.mobilenet_v2().state_dict()
    assert tuple(state["features.0.0.weight"].shape) == (32, 3, 3, 3)
    assert tuple(state["features.1.conv.0.0.weight"].shape) == (32, 1, 3, 3)     # depthwise, no expansion
    assert tuple(state["features.1.conv.1.weight"].shape) == (16, 32, 1, 1)
    assert tuple(state["features.2.conv.0.0.weight"].shape) == (96, 16, 1, 1)    # expansion
    assert tuple(state["features.17.conv.2.weight"].shape) == (320, 960, 1, 1)
    assert tuple(state["features.18.0.weight"].shape) == (1280, 320, 1, 1)
    assert tuple(state["classifier.1.weight"].shape) == (1000, 1280)


def test_vgg16_feature_indices():
    feats = make_layers([64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"])
    convs = [i for i, m in enumerate(feats) if isinstance(m, zoo.nn.Conv2d)]
    assert convs == [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]  # torchvision's vgg16 features.N


def test_lenet5_trains():
    model = models.lenet5()
    x = zoo.randn(8, 1, 32, 32)
    y = zoo.tensor(np.arange(8) % 10)
    opt = zoo.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = zoo.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    with pytest.raises(ValueError, match="32x32"):
        model(zoo.randn(1, 1, 28, 28))
    assert models.lenet5(padding=2)(zoo.randn(2, 1, 28, 28)).shape == (2, 10)


def test_forward_features_is_the_prepooling_map():
    model = randomize(zresnet.ResNet("basic", [1, 1, 1, 1], num_classes=4)).eval()
    x = zoo.tensor(images(1, 64))
    with zoo.no_grad():
        fmap = model.forward_features(x)
        assert tuple(fmap.shape) == (1, 512, 2, 2)
        np.testing.assert_allclose(model.fc(fmap.mean((2, 3))).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-5)


# ---- builders and weights ----------------------------------------------------------------------------------------
def test_builders_and_weight_arguments():
    assert {"resnet50", "mobilenet_v2", "vgg16", "lenet5", "efficientnet_lite0"} <= set(models.list_models())
    assert isinstance(models.get_model("resnet18", num_classes=3), zresnet.ResNet)
    with pytest.raises(ValueError, match="unknown vision model 'resnet5'.*resnet50"):
        models.get_model("resnet5")
    with pytest.raises(TypeError, match="weights='DEFAULT'"):
        models.resnet18(weights=True)
    with pytest.raises(UnknownWeightsError, match="no pretrained weights named"):
        models.resnet18(weights="resnet18.nope")
    with pytest.raises(ValueError, match="are for resnet50, not for resnet18"):
        models.resnet18(weights="resnet50.tv_in1k")
    with pytest.raises(ValueError, match="have 1000 classes but num_classes=10"):
        models.resnet18(weights="resnet18.tv_in1k", num_classes=10)
    assert [e.name for e in models.get_model_weights("resnet50")] == ["resnet50.tv_in1k"]
    entry = models.get_weight("resnet50.tv_in1k")
    assert entry.metrics["imagenet-1k/acc@1"] == pytest.approx(76.13)
    assert len(entry.get_labels()) == 1000 and entry.get_labels()[0] == "tench, Tinca tinca"


# The hub cache (conftest.hub_cache, filled by helpers.add_snapshot) is used offline: the builders' real loading path.
def _checkpoint_bytes(state, tmp_path):
    path = tmp_path / "ckpt.safetensors"
    zoo.save({k: zoo.tensor(np.array(v)) for k, v in state.items()}, str(path))
    return path.read_bytes()


@pytest.fixture
def fake_entry(hub_cache, tmp_path):
    """Register a test entry whose file sits in the local hub cache; unregistered afterwards."""
    made = []

    def make(architecture, state, labels):
        data = _checkpoint_bytes(state, tmp_path)
        repo = f"zoo-test/fake-{architecture}-{len(made)}"
        commit = f"{len(made) + 1:040x}"
        add_snapshot(hub_cache, repo, commit, {"model.safetensors": data})
        entry = WeightsEntry(name=f"test.{architecture}.{len(made)}", architecture=architecture,
                             task="image-classification",
                             files={"model.safetensors": (hashlib.sha256(data).hexdigest(), len(data))},
                             sources=[Hub(repo, revision=commit)], labels=labels,
                             transforms={"builder": "zoo.vision.models._presets:ImageClassificationEval"})
        made.append(register(entry))
        return entry
    yield make
    for entry in made:
        unregister(entry.name)


def _numpy_state(model):
    return {k: v.numpy() for k, v in model.state_dict().items()}


def _hf_resnet_name(key):
    """The Hugging Face ResNetForImageClassification name of a torchvision ResNet-50 key."""
    import re
    kind = {"conv": "convolution", "bn": "normalization"}
    m = re.fullmatch(r"(conv|bn)1\.(.+)", key)
    if m:
        return f"resnet.embedder.embedder.{kind[m[1]]}.{m[2]}"
    m = re.fullmatch(r"layer(\d)\.(\d+)\.(conv|bn)(\d)\.(.+)", key)
    if m:
        return f"resnet.encoder.stages.{int(m[1]) - 1}.layers.{m[2]}.layer.{int(m[4]) - 1}.{kind[m[3]]}.{m[5]}"
    m = re.fullmatch(r"layer(\d)\.(\d+)\.downsample\.([01])\.(.+)", key)
    if m:
        part = ["convolution", "normalization"][int(m[3])]
        return f"resnet.encoder.stages.{int(m[1]) - 1}.layers.{m[2]}.shortcut.{part}.{m[4]}"
    return key.replace("fc.", "classifier.1.")


@pytest.fixture(scope="module")
def resnet18_state():
    return _numpy_state(randomize(models.resnet18(num_classes=3), seed=3))


def assert_state_equal(model, expected):
    got = _numpy_state(model)
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(got[key], value, err_msg=key)


@pytest.mark.parametrize("naming", ["torchvision", "huggingface", "dataparallel"])
def test_resnet_loads_a_registered_checkpoint(fake_entry, resnet18_state, naming):
    state = resnet18_state
    if naming == "huggingface":
        state = {_hf_resnet_name(k): v for k, v in state.items() if not k.endswith("num_batches_tracked")}
        assert "resnet.encoder.stages.3.layers.0.shortcut.convolution.weight" in state
        assert "resnet.encoder.stages.0.layers.1.layer.1.normalization.running_var" in state
    elif naming == "dataparallel":  # old torchvision-era files: module. prefix, no BN counters
        state = {"module." + k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    entry = fake_entry("resnet18", state, ["a", "b", "c"])
    model = models.resnet18(weights=entry.name)
    assert model.weights_entry is entry and model.fc.out_features == 3
    assert_state_equal(model, resnet18_state)


def test_mobilenet_v2_loads_timm_names(fake_entry):
    source = randomize(models.mobilenet_v2(num_classes=4), seed=4)
    tv = _numpy_state(source)
    timm = {"conv_stem.weight": tv["features.0.0.weight"], "conv_head.weight": tv["features.18.0.weight"],
            "classifier.weight": tv["classifier.1.weight"], "classifier.bias": tv["classifier.1.bias"]}
    for stat in ("weight", "bias", "running_mean", "running_var"):
        timm[f"bn1.{stat}"] = tv[f"features.0.1.{stat}"]
        timm[f"bn2.{stat}"] = tv[f"features.18.1.{stat}"]
    n = 1
    for stage, repeats in enumerate([1, 2, 3, 4, 3, 3, 1]):
        for b in range(repeats):
            p, f = f"blocks.{stage}.{b}.", f"features.{n}.conv."
            if n == 1:
                pairs = {"conv_dw": "0.0", "bn1": "0.1", "conv_pw": "1", "bn2": "2"}
            else:
                pairs = {"conv_pw": "0.0", "bn1": "0.1", "conv_dw": "1.0", "bn2": "1.1", "conv_pwl": "2", "bn3": "3"}
            for t, v in pairs.items():
                for stat in (("weight",) if t.startswith("conv") else ("weight", "bias", "running_mean",
                                                                          "running_var")):
                    timm[p + t + "." + stat] = tv[f + v + "." + stat]
            n += 1
    assert len(timm) == len([k for k in tv if not k.endswith("num_batches_tracked")])
    model = models.mobilenet_v2(weights=fake_entry("mobilenet_v2", timm, list("wxyz")).name)
    x = images(1, 64)
    np.testing.assert_array_equal(run(model, x), run(source, x))


def test_vgg_loads_timm_names(fake_entry, monkeypatch):
    # a small VGG under the vgg11 builder: timm stores classifier.0 / .3 as (out, C, 7, 7) / (out, out, 1, 1) convs
    cfg = [8, "M", 16, "M"]
    monkeypatch.setattr("zoo.vision.models.vgg.CFGS", {"A": cfg})
    source = randomize(models.vgg11(num_classes=3, hidden_features=16), seed=5)
    tv = _numpy_state(source)
    timm = {k: v for k, v in tv.items() if k.startswith("features.")}
    timm["pre_logits.fc1.weight"] = tv["classifier.0.weight"].reshape(16, 16, 7, 7)
    timm["pre_logits.fc1.bias"] = tv["classifier.0.bias"]
    timm["pre_logits.fc2.weight"] = tv["classifier.3.weight"].reshape(16, 16, 1, 1)
    timm["pre_logits.fc2.bias"] = tv["classifier.3.bias"]
    timm["head.fc.weight"], timm["head.fc.bias"] = tv["classifier.6.weight"], tv["classifier.6.bias"]
    model = models.vgg11(weights=fake_entry("vgg11", timm, ["p", "q", "r"]).name, hidden_features=16)
    x = images(1, 32)
    np.testing.assert_array_equal(run(model, x), run(source, x))


def test_loading_errors_name_every_bad_key(fake_entry, resnet18_state):
    state = dict(resnet18_state)
    state["fc.weight"] = np.zeros((3, 99), np.float32)
    del state["layer1.0.conv1.weight"]
    state["extra.weight"] = np.zeros(3, np.float32)
    entry = fake_entry("resnet18", state, ["a", "b", "c"])
    with pytest.raises(RuntimeError) as info:
        models.resnet18(weights=entry.name)
    message = str(info.value)
    assert "missing keys (1): layer1.0.conv1.weight" in message
    assert "unexpected keys (1): extra.weight" in message
    assert "size mismatch for fc.weight: checkpoint (3, 99), model (3, 512)" in message


def test_registered_hub_entry_verifies_the_checksum(hub_cache, tmp_path):
    entry = models.get_weight("resnet18.tv_in1k")
    source = entry.sources[0]
    data = _checkpoint_bytes({"fc.bias": np.zeros(1000, np.float32)}, tmp_path)  # not the published file
    add_snapshot(hub_cache, source.repo_id, source.revision, {"model.safetensors": data})
    with pytest.raises(ChecksumError, match="694f673df6520a3158624e8a89af086f59923ee4cd7436fe5bc3bc71d295ad81"):
        models.resnet18(weights="DEFAULT")
