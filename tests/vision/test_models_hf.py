"""Hugging Face ViT and ResNet classes and image processors: zoo's own round trips and behaviour, and (oracle tier)
tiny random models and processors saved by ``transformers`` giving the same logits and pixel_values in zoo, and
zoo's ``save_pretrained`` output loading back in ``transformers``."""
import json

import numpy as np
import pytest

import zoo
from zoo.vision.image_processing import AutoImageProcessor, ConvNextImageProcessor, ViTImageProcessor
from zoo.vision.models.hf_resnet import ResNetConfig, ResNetForImageClassification, ResNetModel
from zoo.vision.models.vit import ViTConfig, ViTForImageClassification
from zoo.weights.pretrained import from_pretrained

TINY_VIT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37, image_size=32,
                patch_size=8, num_labels=5)
TINY_RESNET = dict(embedding_size=8, hidden_sizes=[8, 16, 24, 32], depths=[1, 1, 2, 1], num_labels=4)


def pixels(n=2, size=32, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 3, size, size)).astype(np.float32)


def logits(model, x, **kwargs):
    with zoo.no_grad():
        return model(zoo.tensor(x), **kwargs).logits.numpy()


def random_batchnorm(model, seed=0):
    """Non-trivial BN statistics (zoo model), so a wrong BN mapping cannot go unnoticed."""
    rng = np.random.default_rng(seed)
    state = {}
    for key, value in model.state_dict().items():
        n = tuple(value.shape)
        if key.endswith("running_var") or (key.endswith("normalization.weight")):
            state[key] = zoo.tensor(rng.uniform(0.5, 1.5, n).astype(np.float32))
        elif key.endswith(("running_mean", "normalization.bias")):
            state[key] = zoo.tensor(rng.uniform(-0.3, 0.3, n).astype(np.float32))
    model.load_state_dict(state, strict=False)
    return model


# ---- zoo only ----------------------------------------------------------------------------------------------------
def test_vit_save_and_load_round_trip(tmp_path):
    model = ViTForImageClassification(ViTConfig(**TINY_VIT, id2label={i: f"c{i}" for i in range(5)})).eval()
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "vit" and config["architectures"] == ["ViTForImageClassification"]
    loaded = from_pretrained(tmp_path)
    assert isinstance(loaded, ViTForImageClassification) and loaded.config.id2label[4] == "c4"
    x = pixels()
    np.testing.assert_array_equal(logits(loaded, x), logits(model, x))
    names = list(model.state_dict())
    assert names[:3] == ["vit.embeddings.cls_token", "vit.embeddings.position_embeddings",
                         "vit.embeddings.patch_embeddings.projection.weight"]
    assert "vit.encoder.layer.1.attention.attention.query.weight" in names
    assert "vit.encoder.layer.0.attention.output.dense.bias" in names and names[-2:] == ["classifier.weight",
                                                                                       "classifier.bias"]
    with pytest.warns(UserWarning) as caught:  # a head checkpoint has no pooler, and a classifier ViTModel lacks
        bare = from_pretrained(tmp_path, architecture="ViTModel", strict=False)
    messages = " ".join(str(w.message) for w in caught)
    assert "not used when initializing ViTModel: classifier.weight" in messages
    assert "newly initialized: pooler.dense.weight" in messages
    with zoo.no_grad():
        out = bare(zoo.tensor(x))
    assert tuple(out.last_hidden_state.shape) == (2, 17, 32) and tuple(out.pooler_output.shape) == (2, 32)
    assert out[0] is out.last_hidden_state and out["pooler_output"] is out.pooler_output


def test_vit_input_checks_loss_and_outputs():
    model = ViTForImageClassification(ViTConfig(**TINY_VIT)).eval()
    with pytest.raises(ValueError, match="doesn't match model"):
        model(zoo.randn(1, 3, 48, 48))
    with pytest.raises(ValueError, match=r"\(batch, 3, height, width\)"):
        model(zoo.randn(1, 1, 32, 32))
    with zoo.no_grad():
        out = model(zoo.randn(1, 3, 48, 48), interpolate_pos_encoding=True)
        assert tuple(out.logits.shape) == (1, 5)
        full = model(zoo.randn(2, 3, 32, 32), output_hidden_states=True, output_attentions=True)
    assert len(full.hidden_states) == 3 and tuple(full.attentions[0].shape) == (2, 4, 17, 17)
    np.testing.assert_allclose(full.attentions[1].numpy().sum(-1), 1.0, rtol=1e-5)
    model.train()
    loss = model(zoo.randn(2, 3, 32, 32), labels=zoo.tensor([1, 3])).loss
    loss.backward()
    assert model.vit.embeddings.cls_token.grad is not None and loss.item() > 0
    assert isinstance(model(zoo.randn(1, 3, 32, 32), return_dict=False), tuple)


def test_resnet_save_and_load_round_trip(tmp_path):
    model = random_batchnorm(ResNetForImageClassification(ResNetConfig(**TINY_RESNET))).eval()
    model.save_pretrained(tmp_path)
    loaded = from_pretrained(tmp_path)
    assert isinstance(loaded, ResNetForImageClassification)
    x = pixels(size=40)
    np.testing.assert_array_equal(logits(loaded, x), logits(model, x))
    names = set(model.state_dict())
    assert {"resnet.embedder.embedder.convolution.weight", "resnet.embedder.embedder.normalization.running_mean",
            "resnet.encoder.stages.1.layers.0.shortcut.convolution.weight",
            "resnet.encoder.stages.2.layers.1.layer.2.normalization.weight", "classifier.1.weight"} <= names
    bare = ResNetModel(ResNetConfig(**TINY_RESNET, layer_type="basic")).eval()
    with zoo.no_grad():
        out = bare(zoo.tensor(x))
    assert tuple(out.last_hidden_state.shape) == (2, 32, 2, 2) and tuple(out.pooler_output.shape) == (2, 32, 1, 1)


def test_hf_resnet_weights_load_into_the_torchvision_style_resnet():
    """The same network under two names: HF ResNet-style weights converted by zoo.weights.convert.hf_resnet."""
    from zoo.vision.models.resnet import ResNet
    hf = random_batchnorm(ResNetForImageClassification(ResNetConfig(
        embedding_size=64, hidden_sizes=[256, 512, 1024, 2048], depths=[1, 1, 1, 1], num_labels=3))).eval()
    tv = ResNet("bottleneck", [1, 1, 1, 1], num_classes=3)
    tv.load_state_dict(ResNet.convert_state_dict(hf.state_dict(), tv))
    x = pixels(1, 64)
    with zoo.no_grad():
        np.testing.assert_allclose(tv.eval()(zoo.tensor(x)).numpy(), logits(hf, x), rtol=1e-5, atol=1e-5)


def test_image_processor_settings_and_round_trip(tmp_path):
    vit = ViTImageProcessor(size=32)  # a legacy int size means a square for ViT
    assert vit.size == {"height": 32, "width": 32}
    conv = ConvNextImageProcessor(size=224, feature_extractor_type="ConvNextFeatureExtractor")
    assert conv.size == {"shortest_edge": 224} and conv.crop_pct == pytest.approx(0.875) and conv.resample == 3
    conv.save_pretrained(tmp_path)
    again = AutoImageProcessor.from_pretrained(tmp_path)
    assert type(again) is ConvNextImageProcessor and again.to_dict() == conv.to_dict()
    image = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    out = again(image, return_tensors="np")["pixel_values"]
    assert out.shape == (1, 3, 224, 224) and out.dtype == np.float32
    listed = again([image, image[:200]])["pixel_values"]
    assert isinstance(listed, list) and listed[1].shape == (3, 224, 224)
    tensor = again(image, return_tensors="zoo").pixel_values
    assert isinstance(tensor, zoo.Tensor) and tuple(tensor.shape) == (1, 3, 224, 224)
    with pytest.raises(TypeError, match="unknown option"):
        again(image, bogus=1)
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({"image_processor_type": "SiglipImageProcessor"}))
    with pytest.raises(ValueError, match="'SiglipImageProcessor' is not supported"):
        AutoImageProcessor.from_pretrained(tmp_path)


# ---- oracle: transformers -----------------------------------------------------------------------------------------
def _randomize_torch_bn(model, seed=0):
    import torch
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=g) - 0.5)
    return model


def _torch_logits(model, x):
    import torch
    with torch.no_grad():
        return model(torch.from_numpy(x)).logits.numpy()


@pytest.mark.oracle
@pytest.mark.parametrize("kind", ["vit", "resnet", "resnet-basic"])
def test_transformers_checkpoints_give_the_same_logits(tmp_path, kind):
    transformers = pytest.importorskip("transformers")
    import torch
    torch.manual_seed(0)
    if kind == "vit":
        hf = transformers.ViTForImageClassification(transformers.ViTConfig(**TINY_VIT))
        x, zoo_class = pixels(), ViTForImageClassification
    else:
        extra = {"layer_type": "basic"} if kind == "resnet-basic" else {}
        hf = _randomize_torch_bn(transformers.ResNetForImageClassification(
            transformers.ResNetConfig(**TINY_RESNET, **extra)))
        x, zoo_class = pixels(size=40), ResNetForImageClassification
    hf.eval().save_pretrained(tmp_path / "hf")
    model = from_pretrained(tmp_path / "hf")
    assert type(model) is zoo_class
    expected = _torch_logits(hf, x)
    np.testing.assert_allclose(logits(model, x), expected, rtol=0, atol=1e-4)
    model.save_pretrained(tmp_path / "zoo")  # and back: transformers loads zoo's files
    again = type(hf).from_pretrained(tmp_path / "zoo").eval()
    np.testing.assert_allclose(_torch_logits(again, x), expected, rtol=0, atol=1e-6)


def _pil_processor(name):
    pytest.importorskip("transformers")
    if name == "vit":
        from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil as cls
    else:
        from transformers.models.convnext.image_processing_pil_convnext import ConvNextImageProcessorPil as cls
    return cls


def _test_images():
    from PIL import Image
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)),
            Image.fromarray(rng.integers(0, 256, (90, 41, 3), dtype=np.uint8)),
            rng.integers(0, 256, (30, 30, 3), dtype=np.uint8),               # HWC uint8
            rng.random((3, 20, 24)).astype(np.float32),                      # CHW float in [0, 1]
            Image.fromarray(rng.integers(0, 256, (33, 31), dtype=np.uint8)).convert("RGB")]


@pytest.mark.oracle
@pytest.mark.parametrize("name,settings", [
    ("vit", {"size": {"height": 32, "width": 32}}),
    ("vit", {"size": {"height": 24, "width": 40}, "resample": 3, "image_mean": [0.4, 0.5, 0.6]}),
    ("convnext", {"size": {"shortest_edge": 32}, "crop_pct": 0.875, "image_mean": [0.485, 0.456, 0.406],
                  "image_std": [0.229, 0.224, 0.225]}),
    ("convnext", {"size": {"shortest_edge": 384}}),
])
def test_image_processors_match_transformers(tmp_path, name, settings):
    hf = _pil_processor(name)(**settings)
    hf.save_pretrained(tmp_path)
    ours = AutoImageProcessor.from_pretrained(tmp_path)
    assert type(ours) is (ViTImageProcessor if name == "vit" else ConvNextImageProcessor)
    images = _test_images()
    if "384" in json.dumps(settings):
        images = images[:2]
    expected = hf(images, return_tensors="np")["pixel_values"]
    got = ours(images, return_tensors="np")["pixel_values"]
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.oracle
def test_legacy_feature_extractor_config_matches_transformers(tmp_path):
    """microsoft/resnet-50's preprocessor_config.json: a ConvNextFeatureExtractor with an int size."""
    cls = _pil_processor("convnext")
    legacy = {"crop_pct": 0.875, "do_normalize": True, "do_resize": True,
              "feature_extractor_type": "ConvNextFeatureExtractor", "image_mean": [0.485, 0.456, 0.406],
              "image_std": [0.229, 0.224, 0.225], "resample": 3, "size": 48}
    (tmp_path / "preprocessor_config.json").write_text(json.dumps(legacy))
    ours = AutoImageProcessor.from_pretrained(tmp_path)
    assert type(ours) is ConvNextImageProcessor and ours.size == {"shortest_edge": 48}
    hf = cls.from_pretrained(tmp_path)
    images = _test_images()
    np.testing.assert_array_equal(ours(images, return_tensors="np")["pixel_values"],
                                  hf(images, return_tensors="np")["pixel_values"])
